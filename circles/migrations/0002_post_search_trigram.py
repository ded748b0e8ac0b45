"""Search within a circle on PostgreSQL: trigram GIN indexes serve the `UPPER(col) LIKE UPPER('%q%')`
that Django's icontains produces. Other databases (SQLite) skip this; so does a PostgreSQL role that
may not create the pg_trgm extension (search still works, just without the index)."""

import logging

from django.db import migrations

logger = logging.getLogger(__name__)

INDEXES = {
    "circle_post_body_trgm": 'CREATE INDEX IF NOT EXISTS circle_post_body_trgm ON circles_post USING gin (UPPER("body") gin_trgm_ops)',
    "circle_post_title_trgm": 'CREATE INDEX IF NOT EXISTS circle_post_title_trgm ON circles_post USING gin (UPPER("title") gin_trgm_ops)',
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for sql in INDEXES.values():
                schema_editor.execute(sql)
    except DatabaseError as exc:  # pragma: no cover - depends on the role's rights
        logger.warning("circles: trigram search indexes not created (%s)", exc)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("circles", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
