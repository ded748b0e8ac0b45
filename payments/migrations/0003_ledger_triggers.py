"""Database-level ledger invariants (see payments/models/ledger.py).

PostgreSQL:
- `ledger_entries_balanced`: AFTER INSERT ... FOR EACH STATEMENT with a transition table. After every
  statement that inserts entries, every ledger transaction it touched must sum to zero, or the
  statement fails. (A constraint trigger could be deferred, but PostgreSQL allows those only FOR EACH
  ROW: one check per entry row would cost the 1,000,000-earning settlement several seconds; one set-based
  check per statement costs milliseconds. It is also stricter: each insert must leave its
  transactions balanced, so every committed transaction is balanced.)
- `ledger_append_only`: BEFORE UPDATE OR DELETE on entries and transactions raises.
SQLite (the embedded demo): the append-only triggers; the zero sum is enforced by the Python path,
which checks every transaction before it writes it.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION payments_ledger_entries_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad_id bigint;
    bad_sum numeric;
BEGIN
    SELECT e.transaction_id, SUM(e.amount_fen) INTO bad_id, bad_sum
    FROM payments_entry e
    WHERE e.transaction_id IN (SELECT DISTINCT transaction_id FROM inserted_entries)
    GROUP BY e.transaction_id
    HAVING SUM(e.amount_fen) <> 0
    LIMIT 1;
    IF bad_id IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero (sum %)', bad_id, bad_sum
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ledger_entries_balanced
    AFTER INSERT ON payments_entry
    REFERENCING NEW TABLE AS inserted_entries
    FOR EACH STATEMENT EXECUTE FUNCTION payments_ledger_entries_balanced();

CREATE OR REPLACE FUNCTION payments_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger table % is append-only (% refused): post a correcting transaction instead',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON payments_entry
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_append_only();

CREATE TRIGGER ledger_transaction_append_only
    BEFORE UPDATE OR DELETE ON payments_transaction
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_append_only();
"""

PG_REVERSE = """
DROP TRIGGER IF EXISTS ledger_transaction_append_only ON payments_transaction;
DROP TRIGGER IF EXISTS ledger_entry_append_only ON payments_entry;
DROP FUNCTION IF EXISTS payments_ledger_append_only();
DROP TRIGGER IF EXISTS ledger_entries_balanced ON payments_entry;
DROP FUNCTION IF EXISTS payments_ledger_entries_balanced();
"""

SQLITE_FORWARD = [
    f"""CREATE TRIGGER IF NOT EXISTS ledger_{table}_no_{op.lower()}
        BEFORE {op} ON payments_{table}
        BEGIN SELECT RAISE(ABORT, 'ledger table payments_{table} is append-only ({op} refused)'); END;"""
    for table in ("entry", "transaction")
    for op in ("UPDATE", "DELETE")
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS ledger_{table}_no_{op.lower()};"
    for table in ("entry", "transaction")
    for op in ("update", "delete")
]


def _run(schema_editor, statements: list[str]) -> None:
    # A plain cursor: the SQL holds '%' placeholders of RAISE, which must not be parameter-interpolated.
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_FORWARD])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_FORWARD)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_REVERSE])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("payments", "0002_ledger_withdrawals")]

    operations = [migrations.RunPython(forward, reverse)]
