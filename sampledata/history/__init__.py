"""Months of plausible activity for the demo and the dashboard benchmark: `generate.generate` plans it and
writes people, orders and payments; one module per subject writes the rest (memberships, learning,
circles, referrals, ledger earnings)."""
