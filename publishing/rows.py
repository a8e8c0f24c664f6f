"""Writing many rows in one round trip, where Django's bulk methods cost more in
Python than the statements take to run.

* `rows_update`: Django's `bulk_update` builds one `CASE WHEN pk = … THEN …` per
  field and row, about 5 ms a row on the machine the benchmarks ran on
  (bench/README.md). Here every row is the same short parametrised UPDATE, sent with
  `executemany`: psycopg 3 pipelines the statements into one round trip to
  PostgreSQL, and SQLite runs them in-process.
* `rows_upsert`: `bulk_create(update_conflicts=True)` prepares every field of
  every row through the query compiler; here each row is one parametrised
  `INSERT … ON CONFLICT … DO UPDATE`, sent with `executemany` like `rows_update`.
* `rows_insert_from_select`: rows whose values the database already holds are
  made by one `INSERT … SELECT`, with no Python per row at all, instead of being
  read, built as model instances and written back by `bulk_create` (which prepares
  every field of every row in Python).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models


def rows_update(
    *,
    model: type[models.Model],
    rows: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
) -> int:
    """For each (values, match) pair, `UPDATE … SET values WHERE match`; return how many
    rows changed in all. Every pair names the same fields, in the same order.

    `match` is a compare-and-set as much as a look-up: a row whose status or claim
    token moved on matches nothing and is left alone.
    """
    if not rows:
        return 0
    first_values, first_match = rows[0]
    field = model._meta.get_field
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field(name).column)} = %s" for name in first_values)
    conditions = " AND ".join(f"{quote(field(name).column)} = %s" for name in first_match)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {conditions}"
    params = [
        [field(name).get_db_prep_save(value, connection) for name, value in values.items()]
        + [field(name).get_db_prep_value(value, connection) for name, value in match.items()]
        for values, match in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return cursor.rowcount


def rows_upsert(
    *,
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    unique: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert each row (every field named, in the same order), or where one with the
    same `unique` fields exists, set its `update` fields from the new row."""
    if not rows:
        return
    field = model._meta.get_field
    quote = connection.ops.quote_name
    names = list(rows[0])
    columns = ", ".join(quote(field(name).column) for name in names)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT ({', '.join(quote(field(name).column) for name in unique)}) DO UPDATE SET "
        + ", ".join(
            f"{quote(field(name).column)} = excluded.{quote(field(name).column)}" for name in update
        )
    )
    params = [
        [field(name).get_db_prep_save(row[name], connection) for name in names] for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def rows_insert_from_select(
    *,
    model: type[models.Model],
    select: Mapping[str, str],
    source: str,
    params: Sequence[Any],
    now: datetime,
    constants: Mapping[str, Any] | None = None,
) -> int:
    """`INSERT INTO model (…) SELECT … source ON CONFLICT DO NOTHING`; return the rows made.

    `select` gives the SQL expression of each field that comes from `source` (a FROM
    clause with its WHERE, using `params`); `constants` the value of fields that are
    the same on every row; every other field takes its default, as a new instance
    would (timestamps that default to creation take `now`). A row that would break a
    unique constraint is skipped: inserting twice makes nothing twice.
    """
    constants = constants or {}
    quote = connection.ops.quote_name
    columns, expressions, values = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        if field.name in select:
            expressions.append(select[field.name])
            continue
        if field.name in constants:
            value = constants[field.name]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        expressions.append("%s")
        values.append(field.get_db_prep_save(value, connection))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} {source} ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *params])
        return cursor.rowcount
