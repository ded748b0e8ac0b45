"""The history's learning: lesson progress of course buyers and VIP members (most stop early), camp
terms every four weeks with seats, daily check-ins, teachers' reviews and streaks.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta

from django.utils import timezone

from courses.models import CampTask, CheckIn, Lesson, LessonProgress, Term, TermSeat
from members.models import User
from sampledata.history.bulk import BATCH


def write_learning(rng, plan, refunded, now, today, tz, tag, courses, vip_courses, camp) -> int:
    lessons = {
        c.pk: list(Lesson.objects.filter(course=c, is_published=True).order_by("position", "id"))
        for c in courses
    }
    for c in vip_courses:
        lessons.setdefault(
            c.pk, list(Lesson.objects.filter(course=c, is_published=True).order_by("position", "id"))
        )
    learners: list[tuple[User, int, datetime]] = []
    for o in plan.orders:
        if o.order_no in refunded:
            continue
        if o.item_type == "course":
            learners.append((o.user, int(o.item_id), o.paid_at))
        elif o.item_type == "membership" and vip_courses:
            for c in vip_courses:
                if rng.random() < 0.7:
                    learners.append((o.user, c.pk, o.paid_at))
    rows, seen = [], set()
    for user, course_id, since in learners:
        course_lessons = lessons.get(course_id) or []
        if not course_lessons or (user.pk, course_id) in seen:
            continue
        seen.add((user.pk, course_id))
        # Most learners stop early: the well-known low completion of courses.
        reached = min(len(course_lessons), int(rng.expovariate(1 / 1.6)) + 1)
        when = since
        for lesson in course_lessons[:reached]:
            when = when + timedelta(hours=rng.uniform(2, 96))
            done = when < now and (lesson is not course_lessons[reached - 1] or rng.random() < 0.8)
            rows.append(
                LessonProgress(
                    user=user,
                    lesson=lesson,
                    course_id=course_id,
                    position_seconds=lesson.duration_seconds if done else lesson.duration_seconds // 2,
                    completed=done,
                    completed_at=when if done else None,
                )
            )
    LessonProgress.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)

    if camp is None:
        return 0
    tasks = {t.day: t for t in CampTask.objects.filter(camp=camp)}
    if not tasks:
        return 0
    # A term every 4 weeks through the history; the last may still be running.
    first = min((o.paid_at for o in plan.orders if o.item_type == "camp"), default=None)
    if first is None:
        return 0
    term_days = camp.days
    terms, starts = [], timezone.localtime(first).date() + timedelta(days=3)
    n = Term.objects.filter(camp=camp).count()
    while starts <= today:
        n += 1
        terms.append(
            Term(
                camp=camp,
                name=f"第{n}期",  # the tag stays out of what members read
                start_date=starts,
                days=term_days,
                end_date=starts + timedelta(days=term_days - 1),
                created_at=now,
                updated_at=now,
            )
        )
        starts += timedelta(days=28)
    Term.objects.bulk_create(terms)
    if terms and terms[0].pk is None:
        ids = dict(Term.objects.filter(camp=camp, name__in=[t.name for t in terms]).values_list("name", "id"))
        for t in terms:
            t.pk = t.id = ids[t.name]
    seats, seat_users = [], set()
    for o in plan.orders:
        if o.item_type != "camp" or o.order_no in refunded:
            continue
        day = timezone.localtime(o.paid_at).date()
        term = next((t for t in terms if t.start_date >= day - timedelta(days=2)), terms[-1])
        if (term.pk, o.user.pk) in seat_users:
            continue
        seat_users.add((term.pk, o.user.pk))
        seats.append(
            TermSeat(
                term=term,
                user=o.user,
                source="purchase",
                order_no=o.order_no,
                created_at=o.paid_at,
                updated_at=o.paid_at,
            )
        )
    TermSeat.objects.bulk_create(seats, batch_size=BATCH)
    if seats and seats[0].pk is None:
        ids = dict(
            TermSeat.objects.filter(order_no__in=[s.order_no for s in seats]).values_list("order_no", "id")
        )
        for s in seats:
            s.pk = s.id = ids[s.order_no]
    checkins = []
    for s in seats:
        diligence = rng.uniform(0.55, 1.0)
        done_days = 0
        streak = best = 0
        last = None
        for day_no in range(1, s.term.days + 1):
            day = s.term.start_date + timedelta(days=day_no - 1)
            if day > today or day_no not in tasks:
                break
            if rng.random() > diligence * 0.93 * (0.975 ** (day_no - 1)):
                streak = 0
                continue
            created = datetime.combine(day, time(19), tzinfo=tz) + timedelta(minutes=rng.randint(0, 239))
            if created >= now:
                continue
            delay = timedelta(hours=rng.lognormvariate(math.log(5), 0.8))
            # Teachers review nearly everything; the last three days still have a queue.
            recent = created > now - timedelta(days=3)
            reviewed = (
                created + delay if (created + delay < now and (not recent or rng.random() < 0.6)) else None
            )
            checkins.append(
                CheckIn(
                    seat=s,
                    term=s.term,
                    user=s.user,
                    task=tasks[day_no],
                    day=day,
                    text=f"第{day_no}天打卡：完成了「{tasks[day_no].title}」。",
                    status=CheckIn.Status.VISIBLE,
                    points_awarded=camp.points_per_checkin,
                    created_at=created,
                    updated_at=reviewed or created,
                    reviewed_at=reviewed,
                    review_comment="写得很好，继续保持！" if reviewed else "",
                    review_score=rng.randint(3, 5) if reviewed else None,
                )
            )
            done_days += 1
            streak += 1
            best = max(best, streak)
            last = day
        s.checkin_days, s.streak, s.best_streak, s.streak_last_day = done_days, streak, best, last
        s.points = done_days * camp.points_per_checkin
        if s.term.end_date < today and done_days >= (camp.certificate_days or s.term.days):
            s.completed_at = datetime.combine(s.term.end_date, time(23), tzinfo=tz)
    CheckIn.objects.bulk_create(checkins, batch_size=BATCH)
    TermSeat.objects.bulk_update(
        seats,
        ["checkin_days", "streak", "best_streak", "streak_last_day", "points", "completed_at"],
        batch_size=BATCH,
    )
    return len(checkins)
