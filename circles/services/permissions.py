"""Guards of the circles services: who may read, post, manage or moderate in a circle.

Every check goes through `circles.selectors.access.circle_access`, the one answer used by pages,
the API and services alike.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from circles.models import Circle
from circles.selectors.access import circle_access
from core.errors import ApplicationError, NotEntitled
from core.roles import OPERATOR, has_role


def require_reader(user, circle: Circle):
    access = circle_access(user, circle)
    if not access.can_read:
        raise NotEntitled(access.reason_text or None)
    return access


def require_poster(user, circle: Circle):
    access = require_reader(user, circle)
    if access.rules_pending:
        raise ApplicationError(
            "rules_not_accepted",
            _("请先阅读并同意最新的社群公约"),
            status_code=403,
            extra={"rules_version": circle.rules_version},
        )
    return access


def require_manager(user, circle: Circle):
    access = circle_access(user, circle)
    if not access.can_manage:
        raise ApplicationError("permission_denied", _("只有圈主或管理员可以操作"), status_code=403)
    return access


def require_moderator(actor, circle: Circle) -> None:
    """Circle owners and admins moderate their circle; platform operators moderate every circle."""
    if has_role(actor, OPERATOR):
        return
    require_manager(actor, circle)
