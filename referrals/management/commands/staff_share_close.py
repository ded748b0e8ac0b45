"""`manage.py staff_share_close --operator USERNAME [--month YYYY-MM]`: the staff profit-share month close
from the command line (what the monthly schedule and the admin's button do), as a named money operator."""

from datetime import date

from django.core.management.base import CommandError
from django.utils import timezone

from core.errors import ApplicationError
from core.management.money import MoneyCommand
from referrals import staff_share


class Command(MoneyCommand):
    help = (
        "Close every finished staff-share month still open (or only --month YYYY-MM), recorded as closed "
        "by --operator (a money operator: 财务 or superuser)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="close this month only (YYYY-MM)")

    def handle(self, *args, **options):
        try:
            if options["month"]:
                try:
                    month = date.fromisoformat(f"{options['month']}-01")
                except ValueError:
                    raise CommandError("--month must look like 2026-11") from None
                closed = [
                    staff_share.staff_share_close_month(month=month, actor=self.operator, trigger="command")
                ]
            else:
                closed = staff_share.staff_share_close_due(
                    actor=self.operator, now=timezone.now(), trigger="command"
                )
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from None
        if not closed:
            self.stdout.write("no month to close")
        for month in closed:
            by = month.closed_by.username if month.closed_by else "-"
            self.stdout.write(f"closed {month} (by {by}): share {month.share_fen} fen")
