"""Generate hostile and broken input files (fictional content) into a folder, at test time.

Nothing here is committed as a big file: every case is built from a few lines of code.
`python tests/hostile/make_corpus.py OUT_DIR` writes the whole corpus and prints it.

Also home of `upr_info_csv()`, the generator of valid UPR Info CSV exports used by the
crash, overlap and benchmark tests (fictional texts, real vocabularies).
"""

from __future__ import annotations

import csv
import io
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

UPR_INFO_HEADER = ["To", "To-Rgrp", "To-Org", "Text", "From", "From-Rgrp", "From-Org", "Response", "Action", "Issue", "Session"]
STATES = ["Haiti", "Norway", "Brazil", "Kenya", "Viet Nam", "Cote d'Ivoire", "Bolivia", "France", "Japan", "Ghana", "Peru", "Tunisia"]
ISSUES = ["Death penalty", "Torture and other CID treatment", "Women's rights", "Right to education", "Justice", "Detention",
          "Rights of the Child", "Human rights defenders", "Elections", "Labour"]
VERBS = ["Ensure", "Adopt", "Continue", "Consider", "Ratify", "Strengthen", "Establish", "Promote", "Investigate"]
OBJECTS = ["a national plan of action", "the independence of the judiciary", "access to education for girls",
           "the protection of journalists", "prison conditions", "birth registration", "the national human rights institution"]


def upr_info_rows(n: int, *, seed: int = 0, tag: str = "", sur: str | None = None) -> list[list[str]]:
    """`n` distinct, valid UPR Info rows (fictional texts), to random States or all to `sur`."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        to, rs = rnd.sample(STATES, 2)
        if sur is not None:
            to = sur
            rs = rnd.choice([s for s in STATES if s != sur])
        issues = ", ".join(rnd.sample(ISSUES, rnd.randint(1, 3)))
        text = f"{rnd.choice(VERBS)} {rnd.choice(OBJECTS)} (item {tag}{i})"
        rows.append([to, "", "", text, rs, "", "", rnd.choice(["Accepted", "Noted"]), str(rnd.randint(1, 5)), issues,
                     str(rnd.randint(1, 13))])
    return rows


def upr_info_csv(path: Path, n: int, *, seed: int = 0, tag: str = "", sur: str | None = None) -> Path:
    """Write a UPR Info CSV export of `n` rows (UTF-8, LF)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(UPR_INFO_HEADER)
        w.writerows(upr_info_rows(n, seed=seed, tag=tag, sur=sur))
    return path


LEVEL_WORDS = ("Fully implemented", "Partially implemented", "Not implemented", "No data")


def filled_sheet_csv(path: Path, ids: list[str], *, seed: int = 0, comment: str = "comment") -> Path:
    """A filled response sheet as CSV: one level and comment per recommendation ID."""
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ID", "Level of implementation", "Comment"])
        for i in ids:
            w.writerow([i, rnd.choice(LEVEL_WORDS), f"{comment} {rnd.randint(0, 10**6)}"])
    return path


# --- building .xlsx / .docx files by hand --------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _cell(ref: str, value: str) -> str:
    esc = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{esc}</t></is></c>'


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def sheet_xml(rows: list[list[str]], *, prolog: str = "", extra_rows: str = "") -> str:
    body = "".join(
        f'<row r="{r + 1}">' + "".join(_cell(f"{_col(c)}{r + 1}", v) for c, v in enumerate(row) if v != "") + "</row>"
        for r, row in enumerate(rows)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet {SHEET_NS}><sheetData>{body}{extra_rows}</sheetData></worksheet>'


def write_xlsx(path: Path, sheet: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


def xml_bomb_xlsx(path: Path) -> Path:
    """Entity expansion: 10^9 'lol's if a parser expands the entities."""
    rows = [UPR_INFO_HEADER, ["Haiti", "", "", "&lol9;", "Norway", "", "", "Accepted", "4", "Justice", "12"]]
    xml = sheet_xml(rows, prolog=BILLION_LAUGHS).replace("&amp;lol9;", "&lol9;")
    return write_xlsx(path, xml)


def xxe_xlsx(path: Path) -> Path:
    """External entity: tries to pull /etc/passwd into a cell."""
    rows = [UPR_INFO_HEADER, ["Haiti", "", "", "&xxe;", "Norway", "", "", "Accepted", "4", "Justice", "12"]]
    xml = sheet_xml(rows, prolog='<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace("&amp;xxe;", "&xxe;")
    return write_xlsx(path, xml)


def xml_bomb_docx(path: Path) -> Path:
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?>' + BILLION_LAUGHS
        + '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
        "<w:t>Source of position &lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES.replace("spreadsheetml.sheet.main", "wordprocessingml.document.main"))
        z.writestr("_rels/.rels", RELS.replace("xl/workbook.xml", "word/document.xml"))
        z.writestr("word/document.xml", doc)
    return path


def _raw_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip from pre-compressed members: (name, deflated bytes, crc32, unpacked size, method)."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size, method in members:
        offset = out.tell()
        n = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(n), 0) + n)
        out.write(data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), size,
                                   len(n), 0, 0, 0, 0, 0, offset) + n)
    cd_start = out.tell()
    for c in central:
        out.write(c)
    cd_size = out.tell() - cd_start
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), cd_size, cd_start, 0))
    path.write_bytes(out.getvalue())
    return path


def _deflated(text: str) -> tuple[str, bytes, int, int, int]:
    raw = text.encode()
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return ("", c.compress(raw) + c.flush(), zlib.crc32(raw), len(raw), 8)


def zip_bomb_xlsx(path: Path, gigabytes: float = 2.0) -> Path:
    """A valid .xlsx of ~2 MB whose sheet unpacks to `gigabytes` GB of spaces (honest sizes and CRC)."""
    chunk = b" " * (16 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)  # self-contained, byte-aligned: repeatable
    count = int(gigabytes * (1 << 30)) // len(chunk)
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    c2 = zlib.compressobj(9, zlib.DEFLATED, -15)
    head_block = c2.compress(head) + c2.flush(zlib.Z_FULL_FLUSH)
    tail = b"</sheetData></worksheet>"
    c3 = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail_block = c3.compress(tail) + c3.flush()
    data = head_block + block * count + tail_block
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + count * len(chunk) + len(tail)
    members = [("[Content_Types].xml", *_deflated(CONTENT_TYPES)[1:]), ("_rels/.rels", *_deflated(RELS)[1:]),
               ("xl/workbook.xml", *_deflated(WORKBOOK)[1:]), ("xl/_rels/workbook.xml.rels", *_deflated(WORKBOOK_RELS)[1:]),
               ("xl/worksheets/sheet1.xml", data, crc, size, 8)]
    return _raw_zip(path, members)


def lying_zip_xlsx(path: Path) -> Path:
    """A sheet whose header claims 1 KB but which unpacks to 50 MB (sizes lie; CRC of the real data)."""
    real = b'<?xml version="1.0"?><worksheet>' + b" " * (50 << 20) + b"</worksheet>"
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = c.compress(real) + c.flush()
    members = [("[Content_Types].xml", *_deflated(CONTENT_TYPES)[1:]), ("_rels/.rels", *_deflated(RELS)[1:]),
               ("xl/workbook.xml", *_deflated(WORKBOOK)[1:]), ("xl/_rels/workbook.xml.rels", *_deflated(WORKBOOK_RELS)[1:]),
               ("xl/worksheets/sheet1.xml", data, zlib.crc32(real), 1024, 8)]
    return _raw_zip(path, members)


def formula_xlsx(path: Path) -> Path:
    """Every cell a formula without a cached value (what a generator or attacker writes)."""
    def row(r: int) -> str:
        cells = "".join(f'<c r="{_col(c)}{r}"><f>HYPERLINK("http://example.invalid/?{r}{c}","x")</f></c>' for c in range(11))
        return f'<row r="{r}">{cells}</row>'

    xml = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {SHEET_NS}><sheetData>' + "".join(row(r) for r in range(1, 51))
    return write_xlsx(path, xml + "</sheetData></worksheet>")


def blank_rows_xlsx(path: Path) -> Path:
    """A header, then a single space at row 1,000,000: a million blank rows in between."""
    extra = f'<row r="1000000">{_cell("A1000000", " ")}</row>'
    return write_xlsx(path, sheet_xml([UPR_INFO_HEADER], extra_rows=extra))


# --- the corpus ------------------------------------------------------------------------------

@dataclass
class Case:
    name: str                     # file name in the corpus
    build: Callable[[Path], Path]
    expected: str                 # a substring of the error message
    args: tuple[str, ...] = ()    # extra arguments to `upr import`
    max_rss_mb: float = 400.0      # peak RSS of the `upr import` process; no time limit (see test_hostile)
    exit_code: int = 1             # 2 when an option value is refused (a usage error)


def _bytes(data: bytes) -> Callable[[Path], Path]:
    def build(p: Path) -> Path:
        p.write_bytes(data)
        return p

    return build


def _csv_text(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def _garbage(n: int, seed: int = 7, prefix: bytes = b"") -> bytes:
    rnd = random.Random(seed)
    return prefix + bytes(rnd.getrandbits(8) for _ in range(n))


GOOD = upr_info_rows(3, seed=1)
MIXED = (
    _csv_text([UPR_INFO_HEADER, ["Côte d'Ivoire", "", "", "Améliorer la justice", "Norway", "", "", "Accepted", "4", "Justice", "12"]])
    + _csv_text([["Haiti", "", "", "Protéger les défenseurs", "France", "", "", "Accepted", "4", "Justice", "12"]], "cp1252")
)
NUL_LATE = _csv_text([UPR_INFO_HEADER, *upr_info_rows(300, seed=2)]) + b"Haiti,,,Ensure\x00justice,Norway,,,Accepted,4,Justice,12\n"
LONG_CELL = _csv_text([UPR_INFO_HEADER, ["Haiti", "", "", "Ensure justice", "Norway", "", "", "Accepted", "4", "Justice", "x" * 100_000]])
BLANK_ROWS = _csv_text([UPR_INFO_HEADER]) + b",,,,,,,,,,\n" * 1_000_000
FORMULAS = _csv_text([UPR_INFO_HEADER] + [["=HYPERLINK(\"http://example.invalid\",\"x\")"] * 11 for _ in range(20)])
ETC_STATE = _csv_text([UPR_INFO_HEADER, ["../../etc", "", "", "Ensure justice", "Norway", "", "", "Accepted", "4", "Justice", "12"]])

CASES: list[Case] = [
    Case("xml-bomb.xlsx", xml_bomb_xlsx, "declares a DOCTYPE or ENTITY"),
    Case("xxe.xlsx", xxe_xlsx, "declares a DOCTYPE or ENTITY"),
    Case("xml-bomb.docx", xml_bomb_docx, "declares a DOCTYPE or ENTITY"),
    Case("zip-bomb.xlsx", zip_bomb_xlsx, "would unpack to 2.0 GB", max_rss_mb=200),
    Case("lying-sizes.xlsx", lying_zip_xlsx, "damaged or truncated", max_rss_mb=200),
    Case("garbage.csv", _bytes(_garbage(20_000)), "not a spreadsheet, CSV or Word file"),
    Case("garbage.xlsx", _bytes(_garbage(20_000, prefix=b"PK\x03\x04")), "damaged or truncated"),
    Case("garbage.xls", _bytes(_garbage(20_000, prefix=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")), "cannot read the spreadsheet"),
    Case("utf16-no-bom.csv", _bytes(_csv_text([UPR_INFO_HEADER, *GOOD], "utf-16-le")), "not a spreadsheet, CSV or Word file"),
    Case("wrong-encoding.csv", _bytes(_csv_text([UPR_INFO_HEADER, ["Côte d'Ivoire", *GOOD[0][1:]]], "cp1252")),
         "cannot decode the file as utf-8", args=("--encoding", "utf-8")),
    Case("unknown-encoding.csv", _bytes(_csv_text([UPR_INFO_HEADER, *GOOD])), "cannot decode the file as klingon",
         args=("--encoding", "klingon")),
    Case("mixed-encoding.csv", _bytes(MIXED), "mixes encodings"),
    Case("nul-early.csv", _bytes(b"To,To-Rgrp\x00,To-Org\n" + b"x" * 100), "not a spreadsheet, CSV or Word file"),
    Case("nul-late.csv", _bytes(NUL_LATE), "holds NUL bytes"),
    Case("long-cell.csv", _bytes(LONG_CELL), "is not a UPR session number"),
    Case("blank-rows.csv", _bytes(BLANK_ROWS), "no recommendation rows"),
    Case("blank-rows.xlsx", blank_rows_xlsx, "no recommendation rows", max_rss_mb=800),
    Case("formulas.csv", _bytes(FORMULAS), "unknown State under review"),
    Case("formulas.xlsx", formula_xlsx, "the header matches no known format"),
    Case("etc-state.csv", _bytes(ETC_STATE), "unknown State under review '../../etc'"),
    Case("etc-sur-option.csv", _bytes(_csv_text([["Recommendation"], ["Ensure justice"]])), "unknown State '../../etc' for --sur",
         args=("--sur", "../../etc"), exit_code=2),
]


def build_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {c.name: c.build(folder / c.name) for c in CASES}


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    for name, p in build_all(out).items():
        print(f"{p.stat().st_size:>12,}  {name}")
