"""Check-ins (打卡) for a day's task: today's, or a past day under the make-up rules
(`courses.camps.makeups`); the content check, points, and the seat's days, streaks and completion
recomputed under the seat lock."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import content_check
from core.errors import ApplicationError, NotEntitled
from core.images import store_images, validate_images
from core.models import WeChatIdentity
from courses.camps import selectors as camp_selectors
from courses.camps.completion_hooks import term_completed
from courses.camps.makeups import makeup_is_needed, makeup_limit_check
from courses.member_actions import award_points, notify
from courses.models import (
    CampTask,
    CheckIn,
    Term,
    TermSeat,
)

MAX_CHECKIN_CHARS = 5000
MAX_CHECKIN_IMAGES = 9


def _openid_for(user) -> str:
    identity = (
        WeChatIdentity.objects.filter(user=user, kind=WeChatIdentity.Kind.MINIPROGRAM).order_by("-id").first()
    )
    return identity.openid if identity else ""


def lock_seat(seat_id: int) -> TermSeat:
    return TermSeat.objects.select_for_update(of=("self",)).get(pk=seat_id)


def _content_status(*, user, text: str) -> str:
    verdict = content_check.check_text(text, openid=_openid_for(user), scene=4)
    if verdict.suggest == content_check.RISKY:
        raise ApplicationError(
            "content_rejected",
            _("打卡内容包含违规信息，未能提交，请修改后重试"),
            fields={"text": [_("内容未通过安全检查")]},
        )
    return CheckIn.Status.VISIBLE if verdict.suggest == content_check.PASS else CheckIn.Status.REVIEW


def seat_recompute(seat: TermSeat, *, now: datetime | None = None) -> TermSeat:
    """Inside the seat lock: days, streaks, points and completion from the seat's visible check-ins."""
    term = seat.term
    camp = term.camp
    rows = list(
        CheckIn.objects.filter(seat_id=seat.pk, status=CheckIn.Status.VISIBLE)
        .order_by("day")
        .values_list("day", "points_awarded", "review_points")
    )
    days = [row[0] for row in rows]
    best = run = 0
    previous = None
    for day in days:
        run = run + 1 if previous is not None and (day - previous).days == 1 else 1
        best = max(best, run)
        previous = day
    seat.checkin_days = len(days)
    seat.streak = run if days else 0
    seat.streak_last_day = days[-1] if days else None
    seat.best_streak = best
    seat.points = sum(row[1] + row[2] for row in rows)
    fields = ["checkin_days", "streak", "streak_last_day", "best_streak", "points", "updated_at"]
    needed = camp_selectors.certificate_days_needed(term)
    newly_completed = seat.completed_at is None and seat.checkin_days >= needed
    if newly_completed:
        seat.completed_at = now or timezone.now()
        seat.certificate_no = f"ZQ{term.start_date:%y%m}{term.pk:04d}{seat.pk:06d}"
        fields += ["completed_at", "certificate_no"]
    seat.save(update_fields=fields)
    if newly_completed:
        notify(
            user=seat.user,
            kind="camp_completed",
            title=_("恭喜结营：「%(camp)s」") % {"camp": camp.title},
            body=_("你已完成 %(n)s 天打卡，结营证书已生成。") % {"n": seat.checkin_days},
            url=reverse("courses:certificate", args=[term.pk]),
        )
        term_completed(seat)  # other apps' listeners (graduation coupons), once per seat
    return seat


def checkin_became_visible(checkin: CheckIn, seat: TermSeat) -> None:
    camp = seat.term.camp
    points = camp.points_per_makeup if checkin.is_makeup else camp.points_per_checkin
    if points and not checkin.points_awarded:
        checkin.points_awarded = points
        checkin.save(update_fields=["points_awarded", "updated_at"])
        award_points(
            user=checkin.user,
            amount=points,
            reason=_("训练营打卡：%(camp)s 第%(day)s天") % {"camp": camp.title, "day": checkin.task.day},
            key=f"courses:checkin:{checkin.pk}",
        )
    seat_recompute(seat)


def checkin_submit(
    *, user, term: Term, task: CampTask, text: str, images=(), now: datetime | None = None
) -> CheckIn:
    """打卡 for one day's task: today's, or a past day inside the make-up (补卡) rules.

    Refused: a future task (task_locked), a past task when make-ups are off (task_not_today), outside the
    make-up window (makeup_window_closed), over the make-up limit (makeup_limit_reached), a second check-in
    for the same day (already_checked_in), risky text (content_rejected). Doubtful text waits in the
    moderation queue. A check-in that moderation rejected may be submitted again.
    """
    now = now or timezone.now()
    access = camp_selectors.term_access(user, term, now=now)
    if not access.joined:
        raise NotEntitled(access.state_text or None)
    camp = term.camp
    if task.camp_id != camp.pk or task.day > term.days:
        raise ApplicationError("not_found", _("任务不存在"), status_code=404)
    today = timezone.localdate(now)
    task_date = term.date_of_day(task.day)
    if task_date > today:
        raise ApplicationError(
            "task_locked",
            _("该任务将于 %(date)s 解锁") % {"date": f"{task_date:%m-%d}"},
            status_code=409,
        )
    is_makeup = makeup_is_needed(camp=camp, task_date=task_date, today=today)
    text = (text or "").strip()
    if not text:
        raise ApplicationError("invalid", _("请写下今天的打卡内容"), fields={"text": [_("必填")]})
    if len(text) > MAX_CHECKIN_CHARS:
        raise ApplicationError(
            "invalid", _("打卡内容过长"), fields={"text": [_("最多 %(n)s 字") % {"n": MAX_CHECKIN_CHARS}]}
        )
    checked = validate_images(images, max_count=MAX_CHECKIN_IMAGES)
    if task.requires_image and not checked:
        raise ApplicationError("image_required", _("该任务需要上传图片"), fields={"images": [_("必填")]})
    seat = access.seat
    assert seat is not None  # a "joined" access carries its seat
    existing = CheckIn.objects.filter(seat_id=seat.pk, day=task_date).first()
    if existing is not None and existing.status != CheckIn.Status.REJECTED:
        raise ApplicationError("already_checked_in", _("这一天已经打过卡了"), status_code=409)
    if is_makeup and existing is None:
        makeup_limit_check(camp=camp, seat=seat)
    status = _content_status(user=user, text=text)
    names = store_images(checked, folder="courses/checkins")
    with transaction.atomic():
        seat = lock_seat(seat.pk)
        existing = (
            CheckIn.objects.select_for_update(of=("self",)).filter(seat_id=seat.pk, day=task_date).first()
        )
        if existing is not None and existing.status != CheckIn.Status.REJECTED:
            raise ApplicationError("already_checked_in", _("这一天已经打过卡了"), status_code=409)
        if existing is None:
            if is_makeup:
                makeup_limit_check(camp=camp, seat=seat)  # again under the seat lock
                seat.makeups_used += 1
                seat.save(update_fields=["makeups_used", "updated_at"])
            try:
                with transaction.atomic():
                    checkin = CheckIn.objects.create(
                        seat=seat,
                        term=term,
                        user=user,
                        task=task,
                        day=task_date,
                        text=text,
                        images=names,
                        status=status,
                        is_makeup=is_makeup,
                    )
            except IntegrityError:
                raise ApplicationError(
                    "already_checked_in", _("这一天已经打过卡了"), status_code=409
                ) from None
        else:
            checkin = existing
            checkin.text, checkin.images, checkin.status = text, names, status
            checkin.moderation_note = ""
            checkin.save(update_fields=["text", "images", "status", "moderation_note", "updated_at"])
        seat.term = term
        if status == CheckIn.Status.VISIBLE:
            checkin_became_visible(checkin, seat)
    return checkin
