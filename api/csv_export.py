"""Reports as CSV: `Accept: text/csv` or `?format=csv` on any `/v1/reports/*` route (A188).

One row per item of the answer's `data`, one column per field in the Struct's order (the union
of the fields present, so fields a row omits are empty cells; every field when there is no
row); a nested value is written as its JSON text. A spreadsheet's formula characters at the
start of a text cell are escaped with a leading apostrophe, so a name such as
`=HYPERLINK(...)` stays text (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
from litestar import Request
from litestar import Response as HttpResponse

Format = Literal["json", "csv"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(request: Request, format_: Format | None) -> bool:
    if format_ is not None:
        return format_ == "csv"
    accept = request.headers.get("accept", "")
    return any(part.split(";", 1)[0].strip().lower() == "text/csv" for part in accept.split(","))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return msgspec.json.encode(value).decode()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(rows: Sequence[msgspec.Struct], columns: Sequence[str]) -> str:
    """`rows` as CSV text with a header of `columns` (the Struct's field names)."""
    builtins = msgspec.to_builtins(list(rows))
    present = [name for name in columns if any(name in row for row in builtins)] if builtins else list(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(present)
    for row in builtins:
        writer.writerow([_cell(row.get(name)) for name in present])
    return out.getvalue()


def csv_response(rows: Sequence[msgspec.Struct], row_type: type[msgspec.Struct], filename: str) -> HttpResponse[str]:
    return HttpResponse(
        content=to_csv(rows, row_type.__struct_fields__),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )
