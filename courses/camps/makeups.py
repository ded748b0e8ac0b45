"""Make-up check-ins (补卡): checking in for a past day of a term. The camp decides how many days back
a make-up may go (`Camp.makeup_days`, 0 = none) and how many a member may use per term
(`Camp.makeup_limit`, counted on `TermSeat.makeups_used`). `courses.camps.checkins.checkin_submit` asks
these rules before it writes; a make-up earns `Camp.points_per_makeup`."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from core.errors import ApplicationError
from courses.models import Camp, TermSeat


def makeup_is_needed(*, camp: Camp, task_date: date, today: date) -> bool:
    """False for today's task; True for a past day inside the make-up window; refused otherwise
    (task_not_today when the camp has no make-ups, makeup_window_closed when too far back)."""
    if task_date >= today:
        return False
    if not camp.makeup_days:
        raise ApplicationError("task_not_today", _("只能为今天的任务打卡（本营不支持补卡）"), status_code=409)
    if (today - task_date).days > camp.makeup_days:
        raise ApplicationError(
            "makeup_window_closed",
            _("只能补最近 %(n)s 天的卡") % {"n": camp.makeup_days},
            status_code=409,
        )
    return True


def makeup_limit_check(*, camp: Camp, seat: TermSeat) -> None:
    """Refuse a make-up when the member has used the term's make-ups (makeup_limit_reached)."""
    if seat.makeups_used >= camp.makeup_limit:
        raise ApplicationError(
            "makeup_limit_reached",
            _("本期补卡次数已用完（最多 %(n)s 次）") % {"n": camp.makeup_limit},
            status_code=409,
        )
