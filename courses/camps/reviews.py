"""After a check-in is submitted: moderation of check-ins the content check held (approve or reject)
and the teacher's review (点评: a comment and a 1–5 score, once; points follow the score)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from courses.camps import selectors as camp_selectors
from courses.camps.checkins import checkin_became_visible, lock_seat, seat_recompute
from courses.camps.seats import term_url
from courses.member_actions import award_points, notify
from courses.models import CheckIn


def checkin_moderate(*, checkin: CheckIn, actor, approve: bool, note: str = "") -> CheckIn:
    """Approve or reject a check-in held by the content check (camp reviewers, operators)."""
    term = camp_selectors.term_get(term_id=checkin.term_id)
    if not camp_selectors.camp_can_review(actor, term.camp):
        raise ApplicationError("permission_denied", _("你不能审核该训练营的打卡"), status_code=403)
    with transaction.atomic():
        seat = lock_seat(checkin.seat_id)
        locked = (
            CheckIn.objects.select_for_update(of=("self",)).select_related("task", "user").get(pk=checkin.pk)
        )
        if locked.status != CheckIn.Status.REVIEW:
            return locked
        locked.status = CheckIn.Status.VISIBLE if approve else CheckIn.Status.REJECTED
        locked.moderation_note = (note or "")[:200]
        locked.save(update_fields=["status", "moderation_note", "updated_at"])
        seat.term = term
        if approve:
            checkin_became_visible(locked, seat)
        else:
            notify(
                user=locked.user,
                kind="checkin_rejected",
                title=_("你的打卡未通过审核"),
                body=note or _("请修改内容后重新提交"),
                url=term_url(term),
            )
    return locked


def checkin_review(*, checkin: CheckIn, reviewer, comment: str, score: int) -> CheckIn:
    """点评: the teacher's comment and 1–5 score on a visible check-in, once; points follow the score."""
    term = camp_selectors.term_get(term_id=checkin.term_id)
    camp = term.camp
    if not camp_selectors.camp_can_review(reviewer, camp):
        raise ApplicationError("permission_denied", _("你不能点评该训练营的打卡"), status_code=403)
    comment = (comment or "").strip()
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not comment:
        raise ApplicationError("invalid", _("请写下点评"), fields={"comment": [_("必填")]})
    if not 1 <= score <= 5:
        raise ApplicationError("invalid", _("评分为 1 到 5 分"), fields={"score": [_("1–5")]})
    with transaction.atomic():
        seat = lock_seat(checkin.seat_id)
        locked = (
            CheckIn.objects.select_for_update(of=("self",)).select_related("task", "user").get(pk=checkin.pk)
        )
        if locked.status != CheckIn.Status.VISIBLE:
            raise ApplicationError("not_reviewable", _("该打卡尚未通过审核"), status_code=409)
        if locked.reviewed_at is not None:
            raise ApplicationError("already_reviewed", _("该打卡已经点评过了"), status_code=409)
        locked.reviewed_by = reviewer
        locked.reviewed_at = timezone.now()
        locked.review_comment = comment[:2000]
        locked.review_score = score
        locked.review_points = camp.points_per_review * score // 5
        locked.save(
            update_fields=[
                "reviewed_by",
                "reviewed_at",
                "review_comment",
                "review_score",
                "review_points",
                "updated_at",
            ]
        )
        award_points(
            user=locked.user,
            amount=locked.review_points,
            reason=_("训练营作业获点评：%(camp)s 第%(day)s天") % {"camp": camp.title, "day": locked.task.day},
            key=f"courses:review:{locked.pk}",
        )
        seat.term = term
        seat_recompute(seat)
        notify(
            user=locked.user,
            kind="checkin_reviewed",
            title=_("%(teacher)s 点评了你的打卡") % {"teacher": reviewer.display_name},
            body=comment[:100],
            url=term_url(term),
        )
    return locked
