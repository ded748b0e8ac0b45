"""The daily check-in reminders: which seats are due (ONE indexed statement), the sweep that hands
them to workers in batches, and the worker that claims each reminder once (INSERT … ON CONFLICT on
the DB-unique reminder log) and sends it."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.camps.seats import term_url
from courses.member_actions import notify
from courses.models import (
    CampTask,
    CheckIn,
    CheckinReminder,
    Source,
    TermSeat,
)
from members.models import Membership, MembershipTier, Notification, SubscribeOptIn

REMINDER_BATCH = 500


def checkin_reminders_due(*, now: datetime | None = None) -> list[int]:
    """Ids of the seats due a reminder now: ONE indexed statement (see reminder_candidates)."""
    return list(reminder_candidates(now=now).values_list("id", flat=True))


def checkin_reminders_sweep(*, now: datetime | None = None, batch: int = REMINDER_BATCH) -> dict[str, int]:
    """Every 5 minutes: select the due seats and hand them to the workers in batches.

    The sweep writes nothing: each worker claims its batch (the DB-unique reminder log) and sends, so a
    slow day never holds a long transaction here, and a batch enqueued twice (overlapping sweeps, a
    redelivered task) still reminds each member at most once per term and day.
    """
    from courses.camps import tasks  # cycle: courses.camps.tasks imports courses.camps.reminders

    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    seat_ids = checkin_reminders_due(now=now)
    batches = 0
    for i in range(0, len(seat_ids), batch):
        tasks.send_checkin_reminders.delay(seat_ids[i : i + batch], day)
        batches += 1
    return {"due": len(seat_ids), "batches": batches}


def checkin_reminders_claim(*, seat_ids: list[int], day, now: datetime | None = None) -> list[int]:
    """Claim the reminder log rows of `day` for these seats (still active, not checked in that day) in
    one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id: a row is claimed by one caller only."""
    now = now or timezone.now()
    select_sql, params = (
        TermSeat.objects.filter(pk__in=list(seat_ids), status=TermSeat.Status.ACTIVE)
        .exclude(pk__in=CheckIn.objects.filter(seat_id__in=list(seat_ids), day=day).values("seat_id"))
        .values("user_id", "term_id", "id")
        .query.sql_with_params()
    )
    table = connection.ops.quote_name(CheckinReminder._meta.db_table)
    sql = (
        f"INSERT INTO {table} (user_id, term_id, seat_id, day, channel, created_at) "
        f"SELECT due.user_id, due.term_id, due.id, %s, '', %s FROM ({select_sql}) due WHERE true "
        "ON CONFLICT (term_id, day, user_id) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, now, *params])
        return [row[0] for row in cursor.fetchall()]


def checkin_reminders_send(*, seat_ids: list[int], day, now: datetime | None = None) -> dict[str, int]:
    """Worker side of the sweep: claim the batch, then notify each claimed member — all in one transaction,
    so a failure claims and sends nothing and the redelivered task does it again; a second delivery after
    success finds every row claimed and sends nothing.

    members' notification_send writes the in-site notification and, when the member has an opt-in left
    for the camp's template and a mini-program openid, queues the subscribe message that consumes exactly
    one opt-in (after commit). A batch picked up after midnight is dropped: "not checked in today" no
    longer holds.
    """
    now = now or timezone.now()
    day = date_type.fromisoformat(day) if isinstance(day, str) else day
    counts = {"claimed": 0, "subscribe": 0, "insite": 0, "stale": 0}
    if timezone.localdate(now) != day:
        counts["stale"] = len(seat_ids)
        return counts
    with transaction.atomic():
        claimed = checkin_reminders_claim(seat_ids=seat_ids, day=day, now=now)
        counts["claimed"] = len(claimed)
        if not claimed:
            return counts
        reminders = list(
            CheckinReminder.objects.filter(pk__in=claimed)
            .select_related("user", "term", "term__camp")
            .order_by("pk")
        )
        terms = {r.term_id: r.term for r in reminders}
        tasks_by_camp_day = {
            (t.camp_id, t.day): t
            for t in CampTask.objects.filter(
                camp_id__in={term.camp_id for term in terms.values()},
                day__in={term.day_number(day) for term in terms.values()},
            )
        }
        # Only members with an opt-in left are offered to the subscribe path (one read for the batch);
        # notification_send re-checks everything and consumes the opt-in itself.
        with_optins = set(
            SubscribeOptIn.objects.filter(
                user_id__in=[r.user_id for r in reminders],
                template_key__in={
                    t.camp.subscribe_template for t in terms.values() if t.camp.subscribe_template
                },
                remaining__gt=0,
            ).values_list("user_id", "template_key")
        )
        for reminder in reminders:
            term, camp = reminder.term, reminder.term.camp
            day_number = term.day_number(day)
            task = tasks_by_camp_day.get((camp.pk, day_number))
            task_title = task.title if task else _("今日任务")
            template = (
                camp.subscribe_template if (reminder.user_id, camp.subscribe_template) in with_optins else ""
            )
            notification = notify(
                user=reminder.user,
                kind="checkin_reminder",
                title=_("今天还没打卡哦：%(camp)s") % {"camp": camp.title},
                body=_("第%(day)s天任务：%(task)s") % {"day": day_number, "task": task_title},
                url=term_url(term),
                subscribe_template=template,
                # Values in the order of the template's keyword fields (operators configure them).
                subscribe_data=[camp.title, task_title, f"{day:%Y-%m-%d}"] if template else None,
            )
            queued = notification.push_status == Notification.Push.QUEUED
            reminder.channel = CheckinReminder.Channel.SUBSCRIBE if queued else CheckinReminder.Channel.INSITE
            reminder.notification_id = notification.pk
            reminder.sent_at = now
            counts["subscribe" if queued else "insite"] += 1
        CheckinReminder.objects.bulk_update(
            reminders, ["channel", "notification_id", "sent_at"], batch_size=500
        )
    return counts


def reminder_candidates(*, now: datetime | None = None) -> QuerySet[TermSeat]:
    """Seats due a check-in reminder now (ONE statement, indexed; the sweep inserts from it).

    Active seats of published running terms whose camp's reminder time has passed today (Asia/Shanghai),
    with no check-in for today and no reminder claimed today; a tier seat only while a tier including
    the camp is active. "Not reminded" is a NOT IN (a hashed subplan over today's reminder rows) on
    purpose: as NOT EXISTS, planned from stale statistics (today's rows are always fresh), it became a
    quadratic merge anti-join (0.7 s at 5,000 members). The claim's ON CONFLICT is the real guarantee.
    """
    now = now or timezone.now()
    local = timezone.localtime(now)
    today = local.date()
    camp_min_rank = Subquery(
        MembershipTier.objects.filter(camps=OuterRef("term__camp_id")).order_by("rank").values("rank")[:1]
    )
    tier_still_active = Exists(
        Membership.objects.filter(
            user_id=OuterRef("user_id"),
            starts_at__lte=now,
            ends_at__gt=now,
            tier__rank__gte=OuterRef("camp_min_rank"),
        )
    )
    return (
        TermSeat.objects.filter(
            status=TermSeat.Status.ACTIVE,
            term__is_published=True,
            term__start_date__lte=today,
            term__end_date__gte=today,
            term__camp__is_published=True,
            term__camp__reminder_time__lte=local.time().replace(tzinfo=None),
        )
        .annotate(camp_min_rank=camp_min_rank)
        .filter(~Q(source=Source.TIER) | tier_still_active)
        .filter(~Exists(CheckIn.objects.filter(seat_id=OuterRef("pk"), day=today)))
        .exclude(pk__in=CheckinReminder.objects.filter(day=today).values("seat_id"))
    )
