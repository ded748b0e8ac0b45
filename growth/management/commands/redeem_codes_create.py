"""`python manage.py redeem_codes_create --item-type membership --item-id VIP --count 50 --batch "某某公司"`
prints the new batch as CSV (a `code` column first) on stdout, for scripting a company order."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import ApplicationError
from growth.redeem_codes import services


class Command(BaseCommand):
    help = "Create a batch of redeem codes for one item and print it as CSV (code, batch, item, …)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--item-type", required=True, choices=services.REDEEMABLE_ITEM_TYPES)
        parser.add_argument("--item-id", required=True)
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--batch", required=True, help="the batch's name, e.g. the buyer's")
        parser.add_argument("--days", type=int, default=90, help="days until the codes expire (default 90)")
        parser.add_argument("--note", default="")
        parser.add_argument(
            "--operator", default="", help="username recorded as the batch's maker (audit log)"
        )

    def handle(self, *args, **options) -> None:
        operator = None
        if options["operator"]:
            operator = get_user_model().objects.filter(username=options["operator"]).first()
            if operator is None:
                raise CommandError(f"no user {options['operator']!r}")
        if options["days"] <= 0:
            raise CommandError("--days must be positive")
        try:
            batch = services.batch_create(
                name=options["batch"],
                item_type=options["item_type"],
                item_id=options["item_id"],
                size=options["count"],
                expires_at=timezone.now() + timedelta(days=options["days"]),
                created_by=operator,
                note=options["note"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        self.stdout.write(services.batch_csv(batch), ending="")
