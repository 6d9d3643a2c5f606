"""Writing checked contact rows to the database in bulk.

Building a Django model instance per row costs more than parsing and
checking the row, so an upload writes plain tuples: with COPY on PostgreSQL
and one prepared INSERT run per row (``executemany``) elsewhere. Columns the
upload does not fill get their model default, prepared once per chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from dynassign.campaigns.models import Contact

# The values an upload gives each contact, in the order of its row tuples.
ROW_FIELDS = (
    "campaign",
    "first_name",
    "last_name",
    "cell",
    "zip",
    "external_id",
    "custom_fields",
    "timezone",
    "is_opted_out",
)


class ContactWriter:
    """Insert contact rows given as tuples in ROW_FIELDS order; custom_fields as JSON text."""

    def __init__(self) -> None:
        fields = [field for field in Contact._meta.concrete_fields if not field.primary_key]
        by_name = {field.name: field for field in fields}
        self._row_columns = [by_name[name].column for name in ROW_FIELDS]
        self._other_fields = [field for field in fields if field.name not in ROW_FIELDS]
        self._columns = self._row_columns + [field.column for field in self._other_fields]
        self._table = Contact._meta.db_table

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` in the current transaction; a duplicate cell raises IntegrityError."""
        if not rows:
            return
        constants = tuple(self._constant(field) for field in self._other_fields)
        with connection.cursor() as cursor, connection.wrap_database_errors:
            if connection.vendor == "postgresql":
                self._copy(cursor, rows, constants)
            else:
                self._execute_many(cursor, rows, constants)

    def _constant(self, field: Any) -> Any:
        # auto_now fields (updated_at) take the time of the chunk, as a save would.
        is_automatic_time = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        value = timezone.now() if is_automatic_time else field.get_default()
        return field.get_db_prep_save(value, connection)

    def _copy(self, cursor: Any, rows: Sequence[tuple[Any, ...]], constants: tuple[Any, ...]) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in self._columns)
        with cursor.copy(f"COPY {quote(self._table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + constants)

    def _execute_many(self, cursor: Any, rows: Sequence[tuple[Any, ...]], constants: tuple[Any, ...]) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in self._columns)
        placeholders = ", ".join(["%s"] * len(self._columns))
        cursor.executemany(
            f"INSERT INTO {quote(self._table)} ({columns}) VALUES ({placeholders})",
            [row + constants for row in rows],
        )


def cells_among(model: type[Model], scope_column: str, scope_id: int, cells: Sequence[str]) -> set[str]:
    """Return the values of ``cells`` stored in ``model`` for the row group ``scope_column = scope_id``.

    On PostgreSQL each cell is one probe of the unique (scope, cell) index
    through a LATERAL subquery with LIMIT 1, which the planner cannot turn
    into a scan. The plain ``scope = $1 AND cell = ANY($2)`` let it scan the
    scope's rows and test each against the array whenever the statistics
    said the scope was small, as they do for a campaign an import is still
    filling: measured with 5,000 cells against 500,000 rows, 42 s against
    18 ms for the probes.
    """
    if connection.vendor != "postgresql":
        query = model._default_manager.filter(**{scope_column: scope_id, "cell__in": cells})
        return set(query.values_list("cell", flat=True))
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column = quote(model._meta.get_field(scope_column).column)
    sql = (
        f"SELECT wanted.cell FROM unnest(%s::text[]) AS wanted(cell) "
        f"CROSS JOIN LATERAL (SELECT 1 FROM {table} AS stored "
        f"WHERE stored.{column} = %s AND stored.cell = wanted.cell LIMIT 1) AS hit"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(cells), scope_id])
        return {row[0] for row in cursor.fetchall()}
    return set(queryset.extra(where=["cell = ANY(%s)"], params=[list(cells)]).values_list("cell", flat=True))
