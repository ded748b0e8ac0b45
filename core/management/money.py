"""The base of every management command that moves money (refunds, payouts, settlement, month closes,
ledger adjustments): it runs only as a named money operator and records that person as the actor.

`--operator USERNAME` must name an active user who passes `core.roles.is_money_operator` (财务 or a
superuser); otherwise the command stops with a CommandError before doing anything. The command body
reads the person from `self.operator`. Read-only commands (checks, reports) stay plain BaseCommands.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError

from core.roles import is_money_operator


class MoneyCommand(BaseCommand):
    operator: AbstractBaseUser | None = None

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> ArgumentParser:  # type: ignore[override]  # django-stubs: CommandParser
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--operator",
            metavar="USERNAME",
            help="the money operator (财务 or superuser) this action is recorded as; required",
        )
        return parser

    def execute(self, *args: Any, **options: Any) -> str | None:
        self.operator = money_operator_named(options.get("operator"))
        return super().execute(*args, **options)


def money_operator_named(username: str | None) -> AbstractBaseUser:
    if not username:
        raise CommandError("this command moves money: name the money operator with --operator USERNAME")
    user: AbstractBaseUser | None = get_user_model().objects.filter(username=username).first()
    if user is None or not user.is_active:
        raise CommandError(f"--operator {username}: no active user with this username")
    if not is_money_operator(user):
        raise CommandError(f"--operator {username}: not a money operator (财务 role or superuser)")
    return user


__all__ = ["MoneyCommand", "money_operator_named"]
