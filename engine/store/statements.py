"""Hot-path statements whose SQL text is built once and cached.

Posting an event runs many small statements, and building each through peewee's query builder
costs more than executing it. These helpers keep peewee's column names and value conversion
(`Field.db_value`, `Field.python_value`) but cache the SQL text and the converters by shape, so
a statement costs its execution.

    insert(Posting, [{"id": ..., "entry": entry_id, ...}, ...])      # one multi-row INSERT
    update(Account, account.id, balance=Decimal("12.50"), updated_at=now)
    fetch(Participant, "id IN ({p}, {p}) ORDER BY id", ids, for_update=True)
    fetch_joined(EventRecord, "JOIN ledger_head AS h ON ...", ("h.sequence",), "t.id = {p}", [event_id])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import peewee

from engine.store.db import database_proxy, is_postgres

M = TypeVar("M", bound=peewee.Model)
Convert = Callable[[Any], Any]

# Each cache is keyed by a statement's shape: the model, the columns named, the database kind.
_SQL: dict[tuple, str] = {}
_WRITERS: dict[tuple, tuple[tuple[str, Convert], ...]] = {}
_READERS: dict[type[peewee.Model], tuple[tuple[str, ...], tuple[Convert, ...]]] = {}


def _quote(name: str) -> str:
    return f'"{name}"'


def insert(model: type[peewee.Model], rows: list[dict[str, Any]], *, ignore_conflicts: bool = False) -> int:
    """Insert `rows` (dicts with the same keys, every column the table needs) in one statement;
    returns the number of rows inserted (conflicting rows are skipped with `ignore_conflicts`)."""
    if not rows:
        return 0
    return _execute_insert(model, rows, ignore_conflicts, ()).rowcount


def insert_returning(
    model: type[peewee.Model], rows: list[dict[str, Any]], columns: tuple[str, ...], types: tuple[Convert, ...]
) -> Callable[[], list[tuple]]:
    """`insert`, the database answering with `columns` of each row as it stored them (`RETURNING`),
    read later as `sent_rows` reads: inside a `pipelining.pipelined` block, from an `after_sync`
    check."""
    cursor = _execute_insert(model, rows, False, columns)
    return _rows_of(cursor, types)


def _execute_insert(
    model: type[peewee.Model], rows: list[dict[str, Any]], ignore_conflicts: bool, returning: tuple[str, ...]
) -> Any:
    names = tuple(rows[0])
    keys = rows[0].keys()
    if any(row.keys() != keys for row in rows):
        raise ValueError(f"rows inserted together into {model._meta.table_name} must name the same columns")
    postgres = is_postgres()
    fields = [model._meta.fields[name] for name in names]
    arrays = _array_types(fields) if postgres and len(rows) > 1 else None
    key = ("insert", model, names, None if arrays else len(rows), ignore_conflicts, returning, postgres)
    sql = _SQL.get(key)
    if sql is None:
        mark = database_proxy.obj.param
        columns = ", ".join(_quote(field.column_name) for field in fields)
        if arrays:  # one parameter per column, whatever the number of rows: one statement text
            # `%b`: psycopg sends the arrays in binary, without escaping each element as text
            values = "SELECT * FROM unnest(" + ", ".join(f"%b::{array}" for array in arrays) + ")"
        else:
            values = "VALUES " + ", ".join(["(" + ", ".join([mark] * len(fields)) + ")"] * len(rows))
        verb = "INSERT OR IGNORE INTO" if ignore_conflicts and not postgres else "INSERT INTO"
        suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts and postgres else ""
        if returning:
            suffix += " RETURNING " + ", ".join(_quote(model._meta.fields[name].column_name) for name in returning)
        sql = _SQL[key] = f"{verb} {_quote(model._meta.table_name)} ({columns}) {values}{suffix}"
    writers = _writers(model, names)
    if arrays:
        params: list[Any] = [[convert(row[name]) for row in rows] for name, convert in writers]
    else:
        params = [convert(row[name]) for row in rows for name, convert in writers]
    return database_proxy.obj.execute_sql(sql, params)


# PostgreSQL array types of the columns a multi-row insert sends as arrays (`unnest`), by field
# type. A statement of many rows as VALUES has as many parameters as cells: its text differs with
# every row count, so the driver parses it anew each time (it caches statements of up to 50
# parameters) and the server plans it anew; as arrays, one text serves every row count.
_ARRAY_TYPES = {
    "VARCHAR": "varchar[]",
    "TEXT": "text[]",
    "SMALLINT": "smallint[]",
    "INT": "integer[]",
    "BIGINT": "bigint[]",
    "AMOUNT": "numeric[]",
    "DATETIME": "timestamp[]",
    "JSON": "text[]",
    "BOOL": "boolean[]",
}


def _array_types(fields: list[peewee.Field]) -> list[str] | None:
    """Each field's array type, or None when one has a type not listed (then VALUES it is)."""
    types = [_ARRAY_TYPES.get(field.field_type) for field in fields]
    return None if None in types else cast(list[str], types)


def insert_each(model: type[peewee.Model], rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) with one single-row statement executed for every
    row at once (`executemany`: one pipeline on PostgreSQL). For batches of any size: the SQL
    text is one per set of columns, where `insert` builds one per row count. A column the rows
    leave out gets its field's default, as the query builder's inserts do.

    >>> insert_each(RequestLog, [{"id": ..., "organisation": org_id, ...}, ...])
    """
    if not rows:
        return
    keys = rows[0].keys()
    if any(row.keys() != keys for row in rows):
        raise ValueError(f"rows inserted together into {model._meta.table_name} must name the same columns")
    defaults = {
        name: field.default
        for name, field in model._meta.fields.items()
        if name not in keys and field.default is not None
    }
    if defaults:
        rows = [{**row, **{n: d() if callable(d) else d for n, d in defaults.items()}} for row in rows]
    names = tuple(rows[0])
    key = ("insert", model, names, 1, False, is_postgres())
    sql = _SQL.get(key)
    if sql is None:
        fields = [model._meta.fields[name] for name in names]
        columns = ", ".join(_quote(field.column_name) for field in fields)
        marks = ", ".join([database_proxy.obj.param] * len(fields))
        sql = _SQL[key] = f"INSERT INTO {_quote(model._meta.table_name)} ({columns}) VALUES ({marks})"
    writers = _writers(model, names)
    database_proxy.obj.cursor().executemany(sql, [[convert(row[name]) for name, convert in writers] for row in rows])


def _writers(model: type[peewee.Model], names: tuple[str, ...]) -> tuple[tuple[str, Convert], ...]:
    """(field name, the field's `db_value`) for each named column, looked up once per shape."""
    key = (model, names)
    cached = _WRITERS.get(key)
    if cached is None:
        cached = _WRITERS[key] = tuple((name, _writer(model._meta.fields[name])) for name in names)
    return cached


# Fields whose column holds the Python value as it is: text and integers, and foreign keys to
# them. Their `db_value` passes a str (an int) through unchanged after two or three calls; the
# writers below pass it through at once and leave every other value to the field.
_PLAIN_TYPES: dict[type[peewee.Field], type] = {
    peewee.CharField: str,
    peewee.TextField: str,
    peewee.IntegerField: int,
}


def _short_cut(field: peewee.Field, convert: Convert) -> Convert:
    """`convert` (the field's `db_value` or `python_value`), passing a value that is already of
    the column's plain type (str, int) through at once."""
    target = field.rel_field if isinstance(field, peewee.ForeignKeyField) else field
    plain = _PLAIN_TYPES.get(type(target))
    if plain is None:
        return convert
    return lambda value: value if value.__class__ is plain else convert(value)


def _writer(field: peewee.Field) -> Convert:
    return _short_cut(field, field.db_value)


def _reader(field: peewee.Field) -> Convert:
    return _short_cut(field, field.python_value)


def update(model: type[peewee.Model], row_id: Any, **values: Any) -> int:
    """UPDATE one row by primary key; returns the number of rows changed."""
    names = tuple(values)
    sql = _update_sql(model, names)
    params = [convert(values[name]) for name, convert in _writers(model, names)]
    params.append(_primary_key(model).db_value(row_id))
    return database_proxy.obj.execute_sql(sql, params).rowcount


def update_many(model: type[peewee.Model], changes: list[tuple[Any, dict[str, Any]]]) -> int:
    """UPDATE several rows by primary key, each with its own values: one prepared statement per
    set of columns, executed for every row at once (`executemany`: one pipeline on PostgreSQL).
    Returns the number of rows changed.

    >>> update_many(LotRecord, [(lot_id, {"remaining": Decimal(0), "status": "EXPIRED"}), ...])
    """
    shapes: dict[tuple[str, ...], list[tuple[Any, dict[str, Any]]]] = {}
    for row_id, values in changes:
        shapes.setdefault(tuple(values), []).append((row_id, values))
    changed = 0
    for names, rows in shapes.items():
        if len(rows) == 1:
            changed += update(model, rows[0][0], **rows[0][1])
            continue
        sql = _update_sql(model, names)
        writers = _writers(model, names)
        key_value = _primary_key(model).db_value
        params = [[convert(values[name]) for name, convert in writers] + [key_value(row_id)] for row_id, values in rows]
        cursor = database_proxy.obj.cursor()
        cursor.executemany(sql, params)
        changed += cursor.rowcount
    return changed


def _update_sql(model: type[peewee.Model], names: tuple[str, ...]) -> str:
    key = ("update", model, names, is_postgres())
    sql = _SQL.get(key)
    if sql is None:
        fields = [model._meta.fields[name] for name in names]
        mark = database_proxy.obj.param
        assignments = ", ".join(f"{_quote(field.column_name)} = {mark}" for field in fields)
        where = f"{_quote(_primary_key(model).column_name)} = {mark}"
        sql = _SQL[key] = f"UPDATE {_quote(model._meta.table_name)} SET {assignments} WHERE {where}"
    return sql


def _primary_key(model: type[peewee.Model]) -> peewee.Field[Any]:
    """The primary key field; peewee types it `Field | False` for tables without one, and every
    table here has one (`BaseModel.id`)."""
    return cast("peewee.Field[Any]", model._meta.primary_key)


def fetch(model: type[M], where: str, params: list[Any], *, for_update: bool = False) -> list[M]:
    """Rows of `model` matching `where`, SQL written with column names and `{p}` placeholders:

        fetch(Account, "entity_id = {p} AND asset_id = {p}", [owner_id, asset_id], for_update=True)

    FOR UPDATE applies on PostgreSQL only (SQLite's write transaction already holds the lock).
    Values come back converted by the fields (`python_value`), as model instances."""
    postgres = is_postgres()
    key = ("fetch", model, where, for_update and postgres, postgres)
    cached = _SQL.get(key)
    if cached is None:
        fields = model._meta.sorted_fields
        columns = ", ".join(_quote(field.column_name) for field in fields)
        clause = where.format(p=database_proxy.obj.param)
        lock = " FOR UPDATE" if for_update and postgres else ""
        cached = _SQL[key] = f"SELECT {columns} FROM {_quote(model._meta.table_name)} WHERE {clause}{lock}"
    rows = database_proxy.obj.execute_sql(cached, params).fetchall()
    names, converters = _readers(model)
    # A row has one value per field by construction of the SELECT: no length check per row.
    return [
        built(
            model,
            {
                name: None if value is None else convert(value)
                for name, convert, value in zip(names, converters, row, strict=False)
            },
        )
        for row in rows
    ]


def fetch_joined(
    model: type[M],
    join: str,
    extra: tuple[str, ...],
    where: str,
    params: list[Any],
    *,
    for_update: bool = False,
) -> list[tuple[M, tuple]]:
    """Rows of `model` (aliased `t`) joined with another table, each with the `extra` columns:
    one statement where a caller would otherwise lock or read two rows in turn.

        fetch_joined(EventRecord, "JOIN ledger_head AS h ON h.id = t.organisation_id",
                     ("h.sequence", "h.last_hash"), "t.id = {p}", [event_id], for_update=True)
        -> [(EventRecord(...), (41, 'ab12...'))]

    FOR UPDATE (PostgreSQL only) locks the joined rows of both tables. Extra columns come back
    as the driver gives them."""
    postgres = is_postgres()
    key = ("joined", model, join, extra, where, for_update and postgres, postgres)
    cached = _SQL.get(key)
    if cached is None:
        columns = ", ".join(f"t.{_quote(field.column_name)}" for field in model._meta.sorted_fields)
        clause = where.format(p=database_proxy.obj.param)
        lock = " FOR UPDATE" if for_update and postgres else ""
        cached = _SQL[key] = (
            f"SELECT {columns}, {', '.join(extra)} FROM {_quote(model._meta.table_name)} AS t "
            f"{join} WHERE {clause}{lock}"
        )
    names, converters = _readers(model)
    width = len(names)
    # A row holds the model's fields, then the extra columns: zip stops at the fields.
    return [
        (
            built(
                model,
                {
                    name: None if value is None else convert(value)
                    for name, convert, value in zip(names, converters, row, strict=False)
                },
            ),
            tuple(row[width:]),
        )
        for row in database_proxy.obj.execute_sql(cached, params).fetchall()
    ]


def built(model: type[M], data: dict[str, Any]) -> M:
    """A model instance holding `data` (field name -> Python value) as if read from the table,
    without `Model.__init__`'s per-field `setattr`, a large part of what reading a row costs."""
    instance = model.__new__(model)
    instance.__data__, instance.__rel__ = data, {}
    instance._dirty = set()  # type: ignore[attr-defined]  # peewee's stubs leave out Model._dirty
    return instance


def _readers(model: type[peewee.Model]) -> tuple[tuple[str, ...], tuple[Convert, ...]]:
    cached = _READERS.get(model)
    if cached is None:
        fields = model._meta.sorted_fields
        cached = _READERS[model] = (
            tuple(field.name for field in fields),
            tuple(_reader(field) for field in fields),
        )
    return cached


def marks(count: int) -> str:
    """`count` placeholders for an IN list in the `{p}` notation of these helpers.

    >>> fetch(Participant, f"id IN ({marks(2)})", ids)
    """
    return ", ".join(["{p}"] * count)


def rows(sql: str, params: list[Any], types: tuple[Convert, ...]) -> list[tuple]:
    """Run a SELECT written with `{p}` placeholders; convert each column with `types` (exact
    `Decimal`s from SQLite's text and PostgreSQL's NUMERIC alike).

    >>> rows("SELECT id, balance FROM account WHERE id = {p}", [account_id], (str, Decimal))
    [('0190...', Decimal('12.50'))]
    """
    return _converted(raw_rows(sql, params), types)


def _converted(fetched: list[tuple], types: tuple[Convert, ...]) -> list[tuple]:
    # `types` names one converter per selected column; rows are not length-checked one by one.
    return [
        tuple(None if value is None else convert(value) for convert, value in zip(types, row, strict=False))
        for row in fetched
    ]


def sent_rows(sql: str, params: list[Any], types: tuple[Convert, ...]) -> Callable[[], list[tuple]]:
    """`rows`, sent now and read later: call the result for the rows, converted as `rows`
    converts them. Inside a `pipelining.pipelined` block, call it from an `after_sync` check, once the
    results have arrived (calling it earlier waits for them, a round trip)."""
    return _rows_of(database_proxy.obj.execute_sql(_driver_text(sql), params), types)


def _rows_of(cursor: Any, types: tuple[Convert, ...]) -> Callable[[], list[tuple]]:
    """The rows of `cursor`, converted with `types`, fetched on the first call and kept."""
    fetched: list[list[tuple]] = []

    def read() -> list[tuple]:
        if not fetched:
            fetched.append(_converted(cursor.fetchall(), types))
        return fetched[0]

    return read


def raw_rows(sql: str, params: list[Any]) -> list[tuple]:
    """`rows` without the conversion: each column as the driver gives it (text columns as `str`
    on both databases), for a reader that converts only the columns that need it, row by row."""
    return database_proxy.obj.execute_sql(_driver_text(sql), params).fetchall()


def _driver_text(sql: str) -> str:
    """`sql` with its `{p}` placeholders in the driver's notation, built once per database kind."""
    key = ("rows", sql, is_postgres())
    text = _SQL.get(key)
    if text is None:
        text = _SQL[key] = sql.format(p=database_proxy.obj.param)
    return text
