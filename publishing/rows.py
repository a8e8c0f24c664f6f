"""Updating many rows, each with values of its own, in one round trip.

Django's `bulk_update` builds one `CASE WHEN pk = … THEN …` per field and row, and
building those expressions costs more than the whole statement takes to run: about
5 ms a row on the machine the benchmarks ran on (bench/README.md). Here every row is
the same short parametrised UPDATE, sent with `executemany`: psycopg 3 pipelines the
statements into one round trip to PostgreSQL, and SQLite runs them in-process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
