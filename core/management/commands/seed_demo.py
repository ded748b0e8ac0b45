"""Load the demo data (API.md): `sampledata.demo.load`, every app's demo data in layer order. Idempotent."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from sampledata.demo.load import load_demo_data


class Command(BaseCommand):
    help = "Load demo data: tiers, courses, a camp, a circle, promoters, an operator login. Safe to re-run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--history", action="store_true", help="also generate months of demo activity")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("seed_periodic_tasks", stdout=self.stdout)
        load_demo_data(stdout=self.stdout, history=options["history"])
        self.stdout.write(self.style.SUCCESS("demo data ready"))
