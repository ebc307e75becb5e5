"""Reports as CSV: columns in the Struct's order, omitted fields as empty cells, nested values as
JSON, formula-looking text kept as text and negative numbers left alone."""

from __future__ import annotations

import csv
import io

import msgspec

from api.csv_export import to_csv


class Row(msgspec.Struct, omit_defaults=True):
    name: str
    amount: str
    tags: list[str] = msgspec.field(default_factory=list)
    note: str | None = None


def test_rows_round_trip_through_csv():
    rows = [Row('a, "quoted"', "-3.50", ["x"]), Row("=1+1", "@sum", note="+call")]
    text = to_csv(rows, Row.__struct_fields__)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["name", "amount", "tags", "note"]
    assert parsed[1] == ['a, "quoted"', "-3.50", '["x"]', ""]
    assert parsed[2] == ["'=1+1", "'@sum", "", "'+call"]


def test_a_column_no_row_has_is_left_out():
    assert to_csv([Row("a", "1")], Row.__struct_fields__) == "name,amount\r\na,1\r\n"
    assert to_csv([], Row.__struct_fields__) == "name,amount,tags,note\r\n"  # an empty report keeps its header
