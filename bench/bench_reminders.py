"""Check-in reminder sweep for one term of 100,000 members, half already checked in today, on PostgreSQL.

    .venv/bin/python -m bench.bench_reminders [--scale 0.1] [--rounds 3]

Subject: the sweep `courses.camps.reminders.checkin_reminders_sweep` — ONE ORM-built statement selects the due
seats (active seat of a running term, reminder time passed, no check-in today, not reminded today, tier
seats only while the tier is active), then `send_checkin_reminders` tasks are enqueued in batches of 500
onto the real broker (Redis when REDIS_URL is set). Floor: a hand-written bare SELECT of the same due
seats, fetched to the client. Both run in the same process on the same data (the term is on its day 7,
with the earlier days' check-ins too). The worker side — claiming the DB-unique reminder rows and writing
the notifications — is measured per batch and reported separately: it runs on the workers, in parallel.
"""

from __future__ import annotations

import os
import statistics
import sys
import time as clock
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import django_setup, int_arg, md_table, scale_arg  # noqa: E402

BENCH_CAMP = "bench: reminders"
USER_PREFIX = "bench-rem-"
WORKER_BATCHES = 4


def _cleanup(title: str) -> None:
    from courses.models import Camp, Term

    # Terms first: check-ins protect their tasks, and go with their term's seats.
    Term.objects.filter(camp__title=title).delete()
    Camp.objects.filter(title=title).delete()


def main() -> None:
    # The sweep enqueues real tasks: do not run them inline.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django_setup()

    from datetime import time, timedelta

    from django.conf import settings
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from config.celery import app
    from courses.camps import reminders as camp_reminders
    from courses.camps import tasks
    from courses.models import Camp, CampTask, CheckIn, CheckinReminder, Term, TermSeat
    from members.models import Notification, User

    members = max(1000, int(100_000 * scale_arg()))
    rounds = int_arg("--rounds", 3)
    app.conf.task_always_eager = False
    batch_size = camp_reminders.REMINDER_BATCH

    # --- data: users (kept between runs); a fresh camp and term on its day 7; seats; check-ins ---------------
    seed_started = clock.perf_counter()
    _cleanup(BENCH_CAMP)  # leftovers of an interrupted run
    have = User.objects.filter(username__startswith=USER_PREFIX).count()
    if have < members:
        User.objects.bulk_create(
            [
                User(username=f"{USER_PREFIX}{i:06d}", nickname=f"学员{i}", password="!")
                for i in range(have, members)
            ],
            batch_size=5000,
        )
    user_ids = list(
        User.objects.filter(username__startswith=USER_PREFIX)
        .order_by("username")
        .values_list("id", flat=True)[:members]
    )
    today = timezone.localdate()
    started = today - timedelta(days=6)
    camp = Camp.objects.create(
        title=BENCH_CAMP, teacher_id=user_ids[0], price_fen=0, days=21, reminder_time=time(0, 0)
    )
    camp_tasks = CampTask.objects.bulk_create(
        [CampTask(camp=camp, day=d, title=f"任务{d}") for d in range(1, 22)]
    )
    term = Term.objects.create(camp=camp, name="bench", start_date=started, days=21)
    now = timezone.now()
    seats, checkins = TermSeat._meta.db_table, CheckIn._meta.db_table
    insert_checkins = (
        f"INSERT INTO {checkins} (seat_id, term_id, user_id, task_id, day, text, images, status, is_makeup, "
        "points_awarded, moderation_note, created_at, updated_at, review_comment, review_points) "
        "SELECT s.id, s.term_id, s.user_id, %s, %s, '打卡', '[]'::jsonb, 'visible', false, 10, '', %s, %s, '', 0 "
        f"FROM {seats} s WHERE s.term_id = %s AND "
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {seats} (term_id, user_id, source, status, points, checkin_days, streak, "
            "best_streak, makeups_used, created_at, updated_at) "
            "SELECT %s, u, 'purchase', 'active', 0, 0, 0, 0, 0, %s, %s FROM unnest(%s::bigint[]) AS u",
            [term.pk, now, now, user_ids],
        )
        for day in range(1, 7):  # the six earlier days: about 70% checked in each day
            cursor.execute(
                insert_checkins + "(s.id * 7 + %s) %% 10 < 7",
                [camp_tasks[day - 1].pk, started + timedelta(days=day - 1), now, now, term.pk, day],
            )
        cursor.execute(  # today: exactly half
            insert_checkins + "s.id %% 2 = 0", [camp_tasks[6].pk, today, now, now, term.pk]
        )
        for model in (TermSeat, CheckIn, CheckinReminder):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    history = CheckIn.objects.filter(term=term).exclude(day=today).count()
    checked_in = CheckIn.objects.filter(term=term, day=today).count()
    due = members - checked_in
    seed_seconds = clock.perf_counter() - seed_started

    bare_sql = (
        f"SELECT s.id FROM {seats} s JOIN {Term._meta.db_table} t ON t.id = s.term_id "
        f"JOIN {Camp._meta.db_table} c ON c.id = t.camp_id "
        "WHERE s.status = 'active' AND t.is_published AND c.is_published AND t.start_date <= %s "
        "AND t.end_date >= %s AND c.reminder_time <= %s AND s.source <> 'tier' "
        f"AND NOT EXISTS (SELECT 1 FROM {checkins} k WHERE k.seat_id = s.id AND k.day = %s) "
        f"AND s.id NOT IN (SELECT r.seat_id FROM {CheckinReminder._meta.db_table} r WHERE r.day = %s)"
    )

    def bare() -> int:
        with connection.cursor() as cursor:
            cursor.execute(bare_sql, [today, today, timezone.localtime().time(), today, today])
            return len(cursor.fetchall())

    def purge() -> int:
        with app.connection_for_write() as conn:
            return conn.default_channel.queue_purge(app.conf.task_default_queue) or 0

    assert bare() == due, (bare(), due)  # warm-up and sanity
    bare_times, select_times, enqueue_times, sweep_times = [], [], [], []
    purged = 0
    day_text = today.isoformat()
    seat_ids: list[int] = []
    for _round in range(rounds):
        start = clock.perf_counter()
        assert bare() == due
        bare_times.append(clock.perf_counter() - start)

        start = clock.perf_counter()
        seat_ids = camp_reminders.checkin_reminders_due()
        select_times.append(clock.perf_counter() - start)
        assert len(seat_ids) == due, (len(seat_ids), due)

        start = clock.perf_counter()
        for i in range(0, len(seat_ids), batch_size):
            tasks.send_checkin_reminders.delay(seat_ids[i : i + batch_size], day_text)
        enqueue_times.append(clock.perf_counter() - start)
        purged += purge()

        start = clock.perf_counter()
        result = camp_reminders.checkin_reminders_sweep()  # the beat task's work: select + enqueue
        sweep_times.append(clock.perf_counter() - start)
        assert result["due"] == due, result
        purged += purge()

    # Worker side: a few batches claimed and sent in-process (in-site notifications; no opt-ins here).
    batch_times = []
    for i in range(WORKER_BATCHES):
        batch = seat_ids[i * batch_size : (i + 1) * batch_size]
        start = clock.perf_counter()
        counts = camp_reminders.checkin_reminders_send(seat_ids=batch, day=day_text)
        batch_times.append(clock.perf_counter() - start)
        assert counts["claimed"] == counts["insite"] == len(batch), counts
    # Claim the rest (as the workers would); the next sweep that day then finds nobody left to remind.
    rest = seat_ids[WORKER_BATCHES * batch_size :]
    for i in range(0, len(rest), 5000):
        with transaction.atomic():
            camp_reminders.checkin_reminders_claim(seat_ids=rest[i : i + 5000], day=today)
    assert CheckinReminder.objects.filter(term=term, day=today).count() == due
    start = clock.perf_counter()
    again = camp_reminders.checkin_reminders_sweep()
    repeat_seconds = clock.perf_counter() - start
    assert again["due"] == 0, again

    with connection.cursor() as cursor:
        select_sql, params = (
            camp_reminders.reminder_candidates(now=timezone.now()).values("id").query.sql_with_params()
        )
        cursor.execute("EXPLAIN " + select_sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    scans = sorted(
        {
            line.strip().removeprefix("->").strip().split("  (")[0]
            for line in plan
            if " on courses_" in line and "Scan" in line
        }
    )

    # Clean up (the bench database is shared by all benchmarks); users stay for the next run.
    Notification.objects.filter(kind="checkin_reminder", user_id__in=user_ids).delete()
    _cleanup(BENCH_CAMP)

    bare_s = statistics.median(bare_times)
    select_s = statistics.median(select_times)
    enqueue_s = statistics.median(enqueue_times)
    sweep_s = statistics.median(sweep_times)
    batch_s = statistics.median(batch_times)
    rate = batch_size / batch_s
    db = connections["default"].settings_dict
    broker = "Redis" if settings.REDIS_URL else "filesystem"
    batches = -(-due // batch_size)
    print("## Check-in reminders\n")
    print(
        f"One term of {members:,} members on its day 7 ({history:,} check-ins of the earlier days), "
        f"{checked_in:,} already checked in today, {due:,} due; PostgreSQL `{db.get('HOST')}/{db.get('NAME')}`, "
        f"{broker} broker; median of {rounds} rounds, in-process. Seeding (bulk SQL) took {seed_seconds:.1f} s.\n"
    )
    print(
        md_table(
            ["step", "seconds", "vs bare SELECT"],
            [
                ["bare SELECT of the due seats, fetched (floor)", f"{bare_s:.3f}", "1.00×"],
                [
                    f"select: `checkin_reminders_due` (1 statement, {due:,} ids)",
                    f"{select_s:.3f}",
                    f"{select_s / bare_s:.2f}×",
                ],
                [f"enqueue {batches} send tasks of ≤ {batch_size} seats", f"{enqueue_s:.3f}", "—"],
                [
                    "whole sweep (`checkin_reminders_sweep`: select + enqueue)",
                    f"{sweep_s:.3f}",
                    f"{sweep_s / bare_s:.2f}×",
                ],
                ["the next sweep that day, everyone reminded (selects 0)", f"{repeat_seconds:.3f}", "—"],
            ],
        )
    )
    print(
        f"\nAim: select ≤ 1 s ({'met' if select_s <= 1 else 'NOT met'}: {select_s:.2f} s), total ≤ 10 s "
        f"({'met' if sweep_s <= 10 else 'NOT met'}: {sweep_s:.2f} s). The selection's plan reads "
        f"{'; '.join(scans)}. Worker side, per task: claim {batch_size} DB-unique reminder rows (one "
        f"INSERT … ON CONFLICT DO NOTHING) and write their in-site notifications in one transaction, "
        f"{batch_s:.2f} s per batch ({rate:,.0f} reminders/s per worker process, median of {WORKER_BATCHES}); "
        f"the {due:,} reminders go out in about {due / rate:.0f} s on one worker, {due / rate / 4:.0f} s on "
        f"four. {purged:,} enqueued bench tasks were purged from the broker."
    )


if __name__ == "__main__":
    main()
