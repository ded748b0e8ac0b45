"""payments: withdrawals models."""

__all__: list[str] = []
