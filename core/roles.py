"""Staff roles (Django groups). Permissions are seeded by insights (`manage.py setup_roles`).

Object-level limits are enforced where the objects live: a teacher sees only their own camps'
check-ins, a circle owner only their own circles, a sales rep only members assigned to them.
"""

from typing import Any

OPERATOR = "运营"  # everything except money actions
FINANCE = "财务"  # refunds, withdrawals, ledger
TEACHER = "讲师"  # review queue, own camps and courses
CIRCLE_OWNER = "圈主"  # own circles
SALES = "销售"  # own assigned members
CUSTOMER_SERVICE = "客服"  # own assigned members' onboarding (对接群, big-group join)

ALL_ROLES = (OPERATOR, FINANCE, TEACHER, CIRCLE_OWNER, SALES, CUSTOMER_SERVICE)


def has_role(user: Any, role: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return bool(user.groups.filter(name=role).exists())


def is_money_operator(user: Any) -> bool:
    return has_role(user, FINANCE)
