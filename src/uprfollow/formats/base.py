"""What every reader returns: plain records with their position in the file.

Readers turn one kind of file into `Record`s. They never touch the store and never
normalise through the vocabularies: values are kept as written (stripped of
surrounding spaces and HTML entities), so the importer can report the raw value and
suggest a fix. Positions (`row`, `columns`) let errors name the cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Record:
    """One recommendation (or voluntary pledge) as read from a file, values raw."""

    sur: str | None                    # State under review, as written (name or code)
    text: str | None                   # recommendation text (paragraph number removed)
    rs: list[str] = field(default_factory=list)  # recommending State(s), as written
    response: str | None = None        # raw response / position
    action: str | None = None          # raw action category ("5", "5.0")
    issues: list[str] = field(default_factory=list)  # UPR Info issues, as written
    themes: list[str] = field(default_factory=list)  # OHCHR/UHRI themes ("A12 Acceptance of ...")
    sdgs: list[str] = field(default_factory=list)    # Sustainable Development Goals as written ("16 - PEACE, JUSTICE ...")
    groups: list[str] = field(default_factory=list)  # affected persons / groups of persons ("children", "Public officials")
    year: str | None = None            # raw year, where a list gives a year and no session
    session: str | None = None         # raw UPR session ("12", "12.0", "36th Session")
    paragraph: str | None = None       # paragraph number ("28.212") where the file has one
    document: str | None = None        # document symbol / source of position
    comment: str | None = None         # assessment / comment column of a matrix, if any
    row: int = 0                       # 1-based row in the file (or table row for .docx)
    sheet: str | None = None
    # field name -> column label as shown to users (e.g. "H (Response)"), for error messages
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class ReadResult:
    """A reader's output: the detected format and an iterator of records."""

    format: str                        # e.g. "upr-info-csv", "upr-info-xls", "ohchr-matrix", "uhri", "table"
    records: Iterator[Record]
    total: int | None = None           # number of data rows when known up front (for progress bars)
    defaults: dict[str, str] = field(default_factory=dict)  # file-level values (sur, session) found in titles
    skipped: dict[str, int] = field(default_factory=dict)   # rows left out on purpose, by reason (reported, not errors)
