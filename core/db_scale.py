"""Reads that stay cheap on tables of millions of rows.

`estimated_count`: PostgreSQL's planner estimate of a query's rows (no scan), for the admin's
changelist counts. `distinct_values`: a column's distinct values found by skipping through
its index (a recursive query of one index probe per value) instead of a DISTINCT, which
reads every row. Both work on SQLite too, where tables stay small: the count is exact there.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Model, QuerySet
from django.utils.functional import cached_property

# Below this many rows (as estimated) the exact count is cheap enough to run.
EXACT_COUNT_UP_TO = 20_000


def estimated_count(queryset: QuerySet) -> int | None:
    """The planner's row estimate for `queryset`, or None where the database gives none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Exact counts for small results; above EXACT_COUNT_UP_TO, PostgreSQL's estimate (a
    count of a million rows is a scan of a million rows, for a number shown as "about")."""

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            estimate = estimated_count(object_list)
            if estimate is not None and estimate > EXACT_COUNT_UP_TO:
                return estimate
        return super().count


def distinct_values(model: type[Model], field_name: str, *, limit: int = 200) -> list:
    """Up to `limit` distinct non-null values of an indexed column, in order."""
    field = model._meta.get_field(field_name)
    table, column = model._meta.db_table, field.column
    connection = connections["default"]
    q = connection.ops.quote_name
    # Names from the model's own metadata, quoted; the one value is a parameter.
    sql = (
        f"WITH RECURSIVE skip(v, n) AS ("  # noqa: S608
        f" SELECT MIN({q(column)}), 1 FROM {q(table)}"
        f" UNION ALL"
        f" SELECT (SELECT MIN({q(column)}) FROM {q(table)} WHERE {q(column)} > skip.v), n + 1"
        f" FROM skip WHERE skip.v IS NOT NULL AND n < %s"
        f") SELECT v FROM skip WHERE v IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]
