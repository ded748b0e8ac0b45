"""Ledger tasks: settlement, ledger check, withdrawals sweep (names: payments.tasks.*)."""

__all__: list[str] = []
