"""The one CSV writer: every file Academy writes for a spreadsheet goes through it.

UTF-8 with a byte-order mark (Excel opens Thai only with it), rows streamed (a report of a
whole city stays constant-memory), and every text cell guarded: Excel and LibreOffice run a
cell that starts with = + - @ (or a tab or carriage return before one) as a formula, and names
come from people and CSV imports, so `=HYPERLINK(...)` would run in an admin's spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

from flask import Response, stream_with_context

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def safe_cell(value: Any) -> Any:
    """A text that a spreadsheet would read as a formula gets a leading apostrophe (shown as
    text, OWASP's advice); numbers and empty cells are left as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The file as text chunks: the BOM, the header, then the rows a few hundred at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield BOM
    writer.writerow([safe_cell(v) for v in header])
    yield flush()
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(v) for v in row])
        if count % ROWS_PER_CHUNK == 0:
            yield flush()
    yield flush()


def csv_response(filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Response:
    """A streamed download named `filename` (with its .csv)."""
    return Response(
        stream_with_context(csv_lines(header, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def write_csv(out: IO[str], header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> None:
    """The same file into an open text file (the command line); open it with newline=""."""
    for chunk in csv_lines(header, rows):
        out.write(chunk)
