"""payments: ledger models."""

__all__: list[str] = []
