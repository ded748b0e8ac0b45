"""Load the demo data (API.md): each app's `demo.seed()` in INSTALLED_APPS order. Idempotent."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from core.discovery import app_modules


class Command(BaseCommand):
    help = "Load demo data: tiers, courses, a camp, a circle, promoters, an operator login. Safe to re-run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--history", action="store_true", help="also generate months of demo activity")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("seed_periodic_tasks", stdout=self.stdout)
        for module in app_modules("demo"):
            seed = getattr(module, "seed", None)
            if seed is not None:
                seed(stdout=self.stdout, history=options["history"])
        # Second pass, for demo data that needs rows other apps' seeds created (the demo member's wallet).
        for module in app_modules("demo"):
            seed_late = getattr(module, "seed_late", None)
            if seed_late is not None:
                seed_late(stdout=self.stdout, history=options["history"])
        self.stdout.write(self.style.SUCCESS("demo data ready"))
