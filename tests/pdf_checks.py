"""The machine-checkable part of PDF/UA-1, checked with pikepdf (and the `pdfua` package where it can run).

`pdf_ua_failures(data, lang)` returns what fails (an empty list when the PDF passes):
- the catalog: /MarkInfo /Marked true, a structure tree, /Lang, /DisplayDocTitle, a title, pdfuaid:part 1 in XMP;
- every /Figure has an alternative text (/Alt) that gives figures (a digit);
- every /Table has header cells (/TH), each with its /Scope, and every data cell (/TD) names its /Headers;
- every heading (/H1.../H6) marks some content (it is not empty);
- no untagged content: every text, image and path painted on a page lies inside a marked-content sequence that
  is either an /Artifact or carries an MCID the page's /StructParents entry of the parent tree maps to an element.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pikepdf

PAINT = {"Tj", "TJ", "'", '"', "Do", "f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "sh", "BI"}


def _kids(node: pikepdf.Object) -> list:
    k = node.get("/K") if isinstance(node, pikepdf.Dictionary) else None
    if k is None:
        return []
    return list(k) if isinstance(k, pikepdf.Array) else [k]


def struct_elements(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    stack = _kids(pdf.Root.StructTreeRoot)
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Dictionary) and "/S" in node:
            yield node
            stack.extend(_kids(node))


def _marks_content(node: pikepdf.Object) -> bool:
    for kid in _kids(node):
        if isinstance(kid, int) or (isinstance(kid, pikepdf.Object) and kid._type_code == pikepdf.ObjectType.integer):
            return True
        if isinstance(kid, pikepdf.Dictionary) and ("/MCID" in kid or _marks_content(kid)):
            return True
    return False


def _parent_tree(pdf: pikepdf.Pdf) -> dict[int, list]:
    out: dict[int, list] = {}
    stack = [pdf.Root.StructTreeRoot.ParentTree]
    while stack:
        node = stack.pop()
        nums = node.get("/Nums")
        if nums is not None:
            for i in range(0, len(nums), 2):
                value = nums[i + 1]
                out[int(nums[i])] = list(value) if isinstance(value, pikepdf.Array) else [value]
        stack.extend(node.get("/Kids", []))
    return out


def _untagged(pdf: pikepdf.Pdf) -> list[str]:
    tree = _parent_tree(pdf)
    bad: list[str] = []
    for number, page in enumerate(pdf.pages, start=1):
        mapped = tree.get(int(page.obj.get("/StructParents", -1)), [])
        stack: list[tuple[str, int | None]] = []
        unmarked = 0
        for operands, op in pikepdf.parse_content_stream(page):
            name = str(op)
            if name in ("BDC", "BMC"):
                tag = str(operands[0])
                mcid = None
                if name == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/MCID" in operands[1]:
                    mcid = int(operands[1].MCID)
                stack.append((tag, mcid))
            elif name == "EMC":
                if stack:
                    stack.pop()
            elif name in PAINT:
                if not stack:
                    unmarked += 1
                    continue
                if any(tag == "/Artifact" for tag, _ in stack):
                    continue
                mcid = next((m for _, m in reversed(stack) if m is not None), None)
                if mcid is None or mcid >= len(mapped) or mapped[mcid] is None or not isinstance(mapped[mcid], pikepdf.Dictionary):
                    unmarked += 1
        if unmarked:
            bad.append(f"page {number}: {unmarked} painting operators outside tagged content")
    return bad


def pdf_ua_failures(data: bytes, lang: str) -> list[str]:
    fails: list[str] = []
    pdf = pikepdf.open(io.BytesIO(data))
    root = pdf.Root
    if not (root.get("/MarkInfo") and bool(root.MarkInfo.get("/Marked"))):
        fails.append("catalog: /MarkInfo /Marked is not true")
    if "/StructTreeRoot" not in root:
        return fails + ["catalog: no structure tree"]
    if str(root.get("/Lang", "")) != lang:
        fails.append(f"catalog: /Lang is {root.get('/Lang')!r}, not {lang!r}")
    if not (root.get("/ViewerPreferences") and bool(root.ViewerPreferences.get("/DisplayDocTitle"))):
        fails.append("catalog: /DisplayDocTitle is not true")
    if not str(pdf.docinfo.get("/Title", "")).strip():
        fails.append("no document title")
    if b'pdfuaid:part="1"' not in root.Metadata.read_bytes() and b"<pdfuaid:part>1<" not in root.Metadata.read_bytes():
        fails.append("XMP: no pdfuaid:part 1")
    tables = 0
    for el in struct_elements(pdf):
        role = str(el.S)
        if role == "/Figure":
            alt = str(el.get("/Alt", "")).strip()
            if not alt or not any(c.isdigit() for c in alt):
                fails.append(f"figure without an alternative text giving its figures: {alt[:60]!r}")
        elif role == "/Table":
            tables += 1
            cells = [c for c in struct_elements_under(el) if str(c.S) in ("/TH", "/TD")]
            if not any(str(c.S) == "/TH" for c in cells):
                fails.append("table without header cells")
            for c in cells:
                attrs = c.get("/A")
                if str(c.S) == "/TH" and not (attrs is not None and "/Scope" in attrs):
                    fails.append("table header cell without /Scope")
                if str(c.S) == "/TD" and not (attrs is not None and "/Headers" in attrs):
                    fails.append("table data cell without /Headers")
        elif len(role) == 3 and role.startswith("/H") and role[2].isdigit() and not _marks_content(el):
            fails.append(f"empty heading {role}")
    if not tables:
        fails.append("no table tagged")
    fails += _untagged(pdf)
    return sorted(set(fails))


def struct_elements_under(node: pikepdf.Dictionary) -> Iterator[pikepdf.Dictionary]:
    stack = _kids(node)
    while stack:
        kid = stack.pop()
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            stack.extend(_kids(kid))
