"""Admin for ledger accounts, transactions, earnings and the withdrawal queue."""
