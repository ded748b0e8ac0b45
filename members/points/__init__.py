"""Points (积分): the points ledger, earning points for purchases, and the points mall (积分商城)."""
