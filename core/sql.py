"""Hand-written INSERTs the money paths keep, each a single statement where the ORM needs more.

`insert_unless_conflict`: a row that may already exist under its unique key.

The ORM's way to insert "unless the key is taken" is a savepoint, an INSERT and a rollback to the
savepoint when it raises IntegrityError (three round trips), or a look-up before the insert (a race
without the savepoint). PostgreSQL and SQLite both answer it in one statement:
`INSERT … ON CONFLICT (key) DO NOTHING RETURNING id`. A fresh WeChat Pay notification runs this on its
critical path (a member's purchase points), where cutting those round trips took the fresh-delivery
figure from 20 to 11 statements (docs/benchmarks.md, "Payment notifications"); so the statement lives
here once, and callers keep using model instances.

`insert_values` and `as_saved`: an instance's columns and parameters as `save()` would write them, and
the instance as `save()` leaves it after such a statement stored it. Their other caller is the WeChat
Pay notification store (`payments/orders/notifications.py`), whose INSERT works out its own dedup
verdict.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connections, models
from django.db.models.fields import AutoFieldMixin

ModelT = TypeVar("ModelT", bound=models.Model)


def insert_unless_conflict(
    instance: ModelT, *, conflict_on: tuple[str, ...], using: str = "default"
) -> ModelT | None:
    """Insert `instance` unless a row with the same values of `conflict_on` exists.

    Returns the saved instance (its primary key set, `_state` as after `save()`), or None when the
    unique key was taken and nothing was written. Fields with `db_default` or an auto primary key are
    left to the database; every other concrete field is written as the instance holds it (call
    `full_clean()` first if the values come from outside)."""
    meta = instance._meta
    connection = connections[using]
    quote = connection.ops.quote_name
    columns, params = insert_values(instance, using=using)
    placeholders = ", ".join(["%s"] * len(params))
    by_name = {f.name: f for f in meta.concrete_fields}
    conflict = ", ".join(quote(by_name[name].column) for name in conflict_on)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608 - names are quoted model metadata
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return as_saved(instance, pk=row[0], using=using)


def insert_values(
    instance: models.Model, *, using: str = "default", leave_out: tuple[str, ...] = ()
) -> tuple[str, list[Any]]:
    """The quoted column list and the parameters of an INSERT of `instance`, as `save()` would write
    them: auto primary keys left to the database, auto_now / auto_now_add stamped on the instance.
    `leave_out`: fields the caller's statement writes itself."""
    connection = connections[using]
    fields = [
        f
        for f in instance._meta.concrete_fields
        if not (f.primary_key and isinstance(f, AutoFieldMixin)) and f.name not in leave_out
    ]
    for field in fields:
        if getattr(field, "auto_now", False) or (
            getattr(field, "auto_now_add", False) and instance._state.adding
        ):
            field.pre_save(instance, add=True)  # auto_now / auto_now_add stamp the instance as save() would
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    return columns, [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in fields]


def as_saved(instance: ModelT, *, pk: object, using: str) -> ModelT:
    """`instance` as `save()` leaves it after a hand-written INSERT stored it under `pk` (so a later
    `save()` updates that row instead of inserting another)."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = using
    return instance
