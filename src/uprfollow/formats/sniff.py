"""Container detection and text decoding shared by the readers.

Detection is by content (magic bytes, zip members), never only by extension.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEAD_BYTES = 8192



def container(path: Path) -> str:
    """'zip-xlsx', 'zip-docx', 'zip-ods', 'zip', 'ole2', 'pdf', 'text' or 'binary'."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: file not found", hint="check the path and spelling") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the file: {e.strerror or e}", hint="check the path and its permissions") from None
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device or socket"
        raise InputError(f"{path}: {kind}, not a regular file", hint="save the data to a file and pass that file")
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found", hint="check the path and spelling") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file", hint="pass the files inside it") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied", hint="check the file's permissions") from None
    if not head:
        raise InputError(f"{path}: the file is empty", hint="export the data again; an empty file holds no recommendations")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
                check_zip(z, path)
                if "xl/workbook.xml" in names:
                    check_sheet_area(z, path)
        except zlib.error:
            raise InputError(f"cannot read {path}: damaged zip (its packed data does not unpack)",
                             hint="save the file again from its application, or re-download it") from None
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as e:
            raise InputError(
                f"{path}: the file looks like an Excel/Word file (zip) but is damaged or truncated ({e})",
                hint="save the file again from its application, or re-download it",
            ) from None
        if "xl/workbook.xml" in names:
            return "zip-xlsx"
        if "word/document.xml" in names:
            return "zip-docx"
        if "content.xml" in names and "mimetype" in names:
            return "zip-ods"
        return "zip"
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    if head.startswith(b"%PDF"):
        return "pdf"
    if b"\x00" in head and not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff")):
        return "binary"
    return "text"


# Guards for zip containers (.xlsx, .docx, .ods), checked before any reader unpacks them.
# A real UPR Info or UHRI workbook of 60,000 rows unpacks to well under 100 MB.
MAX_ZIP_MEMBERS = 10_000
MAX_UNPACKED_TOTAL = 1 << 30            # 1 GiB in all
MAX_MEMBER_RATIO = 200                  # unpacked / packed, for members over RATIO_FLOOR
RATIO_FLOOR = 20 << 20                  # small members may compress as well as they like
_XML_DECLS = tuple(
    marker.encode(enc) for marker in ("<!DOCTYPE", "<!ENTITY", "<!doctype", "<!entity") for enc in ("utf-8", "utf-16-le", "utf-16-be")
)
_SCAN_CHUNK = 1 << 20


def _size(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / (1 << 20):.1f} MB"


def check_zip(z: zipfile.ZipFile, path: Path) -> None:
    """Refuse zip bombs and XML bombs before calamine, openpyxl or python-docx unpack anything.

    Checks the declared sizes and compression ratios of every member, then streams every
    XML member (bounded memory; Python stops at the declared size and checks the CRC, so a
    member lying about its size is caught) looking for DOCTYPE or ENTITY declarations, which
    Excel, LibreOffice and Word never write and which entity-expansion bombs need.
    """
    infos = z.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputError(
            f"{path}: refused: the file holds {len(infos):,} packed parts, more than any workbook or document",
            hint="save the file again from Excel, LibreOffice or Word",
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_TOTAL:
        raise InputError(
            f"{path}: refused: the file would unpack to {_size(total)} (a zip bomb?); upr reads at most {_size(MAX_UNPACKED_TOTAL)}",
            hint="if this is a real export, split it into several files or save it as .csv",
        )
    for i in infos:
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_MEMBER_RATIO * max(i.compress_size, 1):
            raise InputError(
                f"{path}: refused: the part {i.filename} would unpack to {_size(i.file_size)}, "
                f"{i.file_size // max(i.compress_size, 1):,} times its packed size (a zip bomb?)",
                hint="if this is a real export, save it again from Excel or LibreOffice, or as .csv",
            )
    for i in infos:
        if not i.filename.lower().endswith((".xml", ".rels", ".vml")) or i.is_dir():
            continue
        tail = b""
        with z.open(i) as member:
            while chunk := member.read(_SCAN_CHUNK):
                window = tail + chunk
                if any(marker in window for marker in _XML_DECLS):
                    raise InputError(
                        f"{path}: refused: the part {i.filename} declares a DOCTYPE or ENTITY, which Excel and Word never "
                        "write (an XML bomb?)",
                        hint="open the file in Excel, LibreOffice or Word and save it again",
                    )
                tail = window[-32:]


# A sheet is read as a grid from A1 to its last populated cell: calamine allocates every cell of it.
# One stray cell at XFD1048576 would make 17 billion. 20 million cells is 20 times the largest
# UPR Info export (60,000 rows of 14 columns) and 19 columns of a full 1,048,576-row sheet.
MAX_SHEET_CELLS = 20_000_000
_CELL_COLUMN = re.compile(rb'\sr="([A-Z]{1,3})[0-9]')
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="([0-9]{1,9})"')


def _column_number(letters: bytes) -> int:
    n = 0
    for b in letters:
        n = n * 26 + (b - 64)
    return n


def check_sheet_area(z: zipfile.ZipFile, path: Path) -> None:
    """Refuse an .xlsx sheet whose populated area (A1 to its last cell) exceeds MAX_SHEET_CELLS, before calamine reads it.

    The area is bounded by the cells actually present (the `r` references of rows and cells),
    streamed from the packed XML; the sheet's own `<dimension>` claim is not trusted.
    """
    for info in z.infolist():
        name = info.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        max_row, columns, tail = 0, set(), b""
        with z.open(info) as member:
            while chunk := member.read(_SCAN_CHUNK):
                window = tail + chunk
                rows = _ROW_NUMBER.findall(window)
                if rows:
                    max_row = max(max_row, max(map(int, rows)))
                columns.update(_CELL_COLUMN.findall(window))
                tail = window[-64:]
        max_col = max((_column_number(c) for c in columns), default=0)
        if max_row * max_col > MAX_SHEET_CELLS:
            last = f"{column_letter(max_col - 1)}{max_row}"
            raise InputError(
                f"{path}: refused: the sheet {name.rsplit('/', 1)[-1].removesuffix('.xml')} has cells up to {last}, "
                f"an area of {max_row * max_col:,} cells (upr reads at most {MAX_SHEET_CELLS:,})",
                hint="delete the stray cells far below or right of the data (Ctrl+End shows the last one) and save again, "
                     "or save the sheet as .csv",
            )


_ASCII = bytes(range(0x80))
_CANDIDATES = ("cp1252", "mac_roman")
_TYPOGRAPHIC = set("’‘“”–—…«»•·°€£§©®™¿¡ªº")
_NON_ASCII_RUN = re.compile(rb"[\x00-\x7f]{0,2}[\x80-\xff]+[\x00-\x7f]{0,2}")
_UTF8_SEQ = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
SAMPLE_RUNS = 50_000  # runs of non-ASCII bytes judged per candidate (a file of French text has millions)


def _char_score(prev: str, c: str, nxt: str) -> int:
    """How plausible one decoded non-ASCII character is in its place: > 0 plausible, < 0 a sign of the wrong encoding."""
    if 0x80 <= ord(c) < 0xA0 or c == "\ufffd":
        return -5  # C1 control characters never occur in real text
    if c.isalpha():
        name = unicodedata.name(c, "")
        if "LATIN" not in name:
            return -3  # Greek, Armenian, ... letters in a list written in a Latin script
        if c.isupper() and prev.isalpha() and prev.islower():
            return -3  # "ChildrenÕs": a capital inside a lower-case word
        return 1
    if c in _TYPOGRAPHIC:
        return 2 if c in "’'" and prev.isalpha() and nxt.isalpha() else 1
    if c.isspace():
        return 0
    return -1  # symbols: "√", "∂", "¬", "≈" read from letters of another encoding (rare in real text, not a proof)


_NON_ASCII = re.compile(rb"[\x80-\xff]+")


def non_ascii_runs(data: bytes, limit: int = SAMPLE_RUNS) -> list[bytes]:
    """The first `limit` runs of non-ASCII bytes, each with up to two ASCII bytes of context on either side.

    Found once for every candidate encoding (they agree on ASCII). ASCII stretches are skipped a block at a
    time (`bytes.isascii` is far faster than a regular expression): a 220 MB file is searched in well under a second."""
    out: list[bytes] = []
    n, pos, step = len(data), 0, 512
    while len(out) < limit:
        while pos < n and data[pos : pos + step].isascii():
            pos += step
        if pos >= n:
            break
        m = _NON_ASCII.search(data, pos)
        if m is None:  # pragma: no cover - the block holds a non-ASCII byte
            break
        a, b = m.span()
        lo = a - 1 if a >= 1 else a
        lo = lo - 1 if lo >= 1 and data[lo - 1] < 0x80 else lo
        hi = b + 1 if b < n else b
        hi = hi + 1 if hi < n and data[hi] < 0x80 else hi
        out.append(data[lo:hi])
        pos = b
    return out


def plausibility(data: bytes, encoding: str, runs: list[bytes] | None = None) -> tuple[int, int, int] | None:
    """(score, implausible characters, characters judged) of `data` read in a single-byte encoding; None if it cannot be.

    Only runs of non-ASCII bytes are judged (`runs`, from `non_ascii_runs`), with the ASCII characters around them.
    """
    try:
        data.translate(None, _ASCII).decode(encoding)
    except UnicodeDecodeError:
        return None
    score = bad = judged = 0
    for run in non_ascii_runs(data) if runs is None else runs:
        text = run.decode(encoding)
        for i, c in enumerate(text):
            if ord(c) < 0x80:
                continue
            value = _char_score(text[i - 1] if i else " ", c, text[i + 1] if i + 1 < len(text) else " ")
            score += value
            bad += value <= -3  # strong signs only: control characters, foreign letters, capitals inside words
            judged += 1
    return score, bad, judged


def utf8_error(data: bytes, chunk: int = 1 << 22) -> UnicodeDecodeError | None:
    """The first UTF-8 decoding error of `data`, or None: checked in pieces, never holding the whole text decoded."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), chunk):
        try:
            decoder.decode(data[start : start + chunk], final=start + chunk >= len(data))
        except UnicodeDecodeError as e:
            pos = start + e.start - len(decoder.getstate()[0]) if e.start >= 0 else start
            pos = max(pos, 0)
            return UnicodeDecodeError("utf-8", data, pos, pos + 1, e.reason)
    return None


def _plausible(result: tuple[int, int, int]) -> bool:
    """At most one character in 200 judged shows a strong sign of the wrong encoding (none in a short text)."""
    _score, bad, judged = result
    return bad <= judged // 200


def detect_encoding(data: bytes, encoding: str | None = None) -> str:
    """The encoding `decode` would use: BOMs, UTF-8, else the single-byte encoding whose text reads most plausibly.

    MacRoman (Excel for Mac) and Windows-1252 are judged by the characters they make in context
    ("Children’s" against "ChildrenÕs"), for CR, LF and CRLF line endings alike. A text is refused as
    mixing encodings only when no single encoding reads it plausibly and parts of it are UTF-8.
    Measured on the shared 14-17.csv (MacRoman, CR): MacRoman with every character plausible;
    charset-normalizer 3.4 names cp775 for the same file (CR, LF or CRLF), so it is not used.
    """
    if encoding:
        return encoding
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return "utf-16"
    error = utf8_error(data)
    if error is None:
        return "utf-8"
    runs = non_ascii_runs(data)
    scored = [(r, enc) for enc in _CANDIDATES if (r := plausibility(data, enc, runs)) is not None]
    plausible = [(r, enc) for r, enc in scored if _plausible(r)]
    if not plausible:
        _refuse_mixed(data, error)
    pool = plausible or scored
    if not pool:
        return "latin-1"
    # the best score; on a tie, MacRoman when the file has Excel for Mac's CR-only line endings
    cr_only = b"\r" in data and b"\n" not in data
    pool.sort(key=lambda c: (c[0][0], c[1] == "mac_roman" if cr_only else c[1] == "cp1252"), reverse=True)
    return pool[0][1]


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text file: BOMs, UTF-8, else the single-byte encoding that reads most plausibly."""
    enc = detect_encoding(data, encoding)
    if enc == "utf-8-sig" and not encoding:
        return data[3:].decode("utf-8"), enc
    return data.decode(enc), enc


def _refuse_mixed(data: bytes, error: UnicodeDecodeError) -> None:
    """A text that no single encoding reads plausibly and that holds UTF-8 letters would import as mojibake: refuse it.

    Byte pairs that happen to be valid UTF-8 in a MacRoman text ("’é" is D5 8E, an Armenian letter
    in UTF-8) are not UTF-8 letters and do not count.
    """
    utf8_letters = 0
    for n, m in enumerate(_UTF8_SEQ.finditer(data)):
        if n >= SAMPLE_RUNS:
            break
        c = m.group(0).decode("utf-8", errors="replace")
        if c and (c in _TYPOGRAPHIC or (c.isalpha() and "LATIN" in unicodedata.name(c[0], ""))):
            utf8_letters += 1
    if not utf8_letters:
        return
    line = data.count(b"\n", 0, error.start) + 1 if b"\n" in data else data.count(b"\r", 0, error.start) + 1
    raise InputError(
        f"the file mixes encodings: it holds UTF-8 text, but line {line} is not UTF-8 "
        f"(byte 0x{data[error.start]:02X} at position {error.start:,}), and no single encoding reads it all plausibly",
        hint="save the file again as UTF-8 (Excel: 'CSV UTF-8'), or pass --encoding to read it all in one encoding",
    )


MAX_LINE_BYTES = 1 << 20  # 1 MiB: a row of a real export is a few thousand characters


def check_lines(data: bytes, path: Path) -> None:
    """Refuse a text whose lines are far too long for a table (a 50 MB file with no line break), before parsing it."""
    if len(data) <= MAX_LINE_BYTES:
        return
    sep = b"\n" if b"\n" in data else b"\r"
    start = 0  # always the start of a line; jumps to the last line start within reach (a few steps per file)
    while len(data) - start > MAX_LINE_BYTES:
        last = data.rfind(sep, start, start + MAX_LINE_BYTES + 1)
        if last < 0:
            end = data.find(sep, start)
            size = (len(data) if end < 0 else end) - start
            raise InputError(
                f"{path}: row {data.count(sep, 0, start) + 1}: refused: a line of {size:,} bytes "
                f"(upr reads lines of at most {MAX_LINE_BYTES:,}); not a CSV table",
                hint="check that this is the right file; export the table again as .csv or .xlsx",
            )
        start = last + 1


def line_of(data: bytes | str, position: int) -> int:
    """The 1-based line (row of a CSV without multi-line cells) holding `position`; LF, CRLF or CR line ends."""
    nl = "\n" if isinstance(data, str) else b"\n"
    cr = "\r" if isinstance(data, str) else b"\r"
    sep = nl if nl in data else cr
    return data.count(sep, 0, position) + 1  # type: ignore[arg-type]


def refuse_nul(data: bytes | str, path: Path) -> None:
    """NUL bytes mean a damaged file or not a text at all: refused, naming the first row that holds one."""
    pos = data.find(b"\x00" if isinstance(data, bytes) else "\x00")  # type: ignore[arg-type]
    if pos >= 0:
        raise InputError(f"{path}: row {line_of(data, pos)}: the text holds NUL bytes",
                         hint="the file is damaged or not a CSV; export it again")


def with_path(e: InputError, path: Path) -> InputError:
    """The same error, its message starting with the file it is about."""
    if not e.message.startswith(str(path)):
        e.message = f"{path}: {e.message}"
        e.args = (e.message,)
    return e


def csv_delimiter(sample: str) -> str:
    """The delimiter of a CSV text among , ; and tab, judged on its first line."""
    first = sample.replace("\r\n", "\n").replace("\r", "\n").split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def csv_rows(text: str) -> list[list[str]]:
    """Rows of a CSV text, any line ending (CR, LF, CRLF), delimiter sniffed among , ; tab."""
    delimiter = csv_delimiter(text[:20000])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as e:
        raise InputError(f"row {len(rows) + 1} (line {reader.line_num}): not a readable CSV file: {e}",
                         hint="check the quotes of this row; a cell can hold at most 131,072 characters") from None
    return rows


def iter_csv_file(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """Rows of a CSV file read as a stream (bounded memory), as `csv_rows` would give them.

    The encoding must be one `detect_encoding` checked on the whole file; errors that only
    show while reading (a field over the csv module's size limit) become InputError.
    """
    with open(path, encoding="utf-8-sig" if encoding == "utf-8-sig" else encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter, strict=False)
        rows = 0
        try:
            for row in reader:
                rows += 1
                yield row
        except csv.Error as e:
            raise InputError(f"{path}: row {rows + 1} (line {reader.line_num}): not a readable CSV file: {e}",
                             hint="check the quotes of this row; a cell can hold at most 131,072 characters") from None
        except UnicodeDecodeError as e:
            raise InputError(f"{path}: cannot decode the file as {encoding}: {e}", hint="try another --encoding") from None


def cell_text(value: object) -> str:
    """A cell as text: floats that are integers lose their '.0', None becomes ''."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def sheet_rows(path: Path) -> tuple[str, list[list[object]]]:
    """First non-empty sheet of a spreadsheet (.xls, .xlsx, .ods), read with python-calamine."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own error types for damaged files
        raise InputError(
            f"{path}: cannot read the spreadsheet ({e})",
            hint="open it in Excel or LibreOffice and save it again as .xlsx",
        ) from None
    first: tuple[str, list[list[object]]] | None = None
    for name in wb.sheet_names:
        try:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as e:
            raise InputError(f"{path}: cannot read sheet {name!r} ({e})", hint="save the file again as .xlsx") from None
        if first is None:
            first = (name, rows)
        if any(any(cell_text(c).strip() for c in r) for r in rows[:50]):
            return name, rows
    return first or ("", [])
