"""`manage.py ledger_check`: prove the ledger balances; exit 1 naming the first discrepancy otherwise."""

from django.core.management.base import BaseCommand, CommandError

from payments.models import LedgerCheckRun
from payments.wallet import ledger_check


class Command(BaseCommand):
    help = (
        "Check that every ledger transaction sums to zero and every cached balance equals the sum of its "
        "entries (and pending = held earnings, withdrawing = open withdrawals). Exits non-zero on a discrepancy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-record", action="store_true", help="do not store the result for admin")

    def handle(self, *args, **options):
        if options["no_record"]:
            result = ledger_check.ledger_check()
            ok, problems = result.ok, result.problems
            counts = (result.transactions, result.entries, result.accounts)
        else:
            run = ledger_check.ledger_check_record(trigger=LedgerCheckRun.Trigger.COMMAND)
            ok, problems = run.ok, run.problems
            counts = (run.transactions_checked, run.entries_checked, run.accounts_checked)
        summary = f"{counts[0]} transactions, {counts[1]} entries, {counts[2]} accounts"
        if ok:
            self.stdout.write(self.style.SUCCESS(f"ledger OK: {summary}"))
            return
        for problem in problems[1:]:
            self.stderr.write(f"  also: {problem}")
        raise CommandError(f"ledger check FAILED ({len(problems)} problem(s); {summary}): {problems[0]}")
