"""Check-in reminders: exactly the right members, at most once per member/term/day, a subscribe message
while an opt-in is left (consumed once) else in-site, days counted in Asia/Shanghai across midnight, and
the selection is one indexed statement."""

from __future__ import annotations

from datetime import date, time, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import WeChatIdentity
from courses.camps import checkins as camp_checkins
from courses.camps import reminders as camp_reminders
from courses.camps import seats as camp_seats
from courses.camps import tasks
from courses.models import CheckIn, CheckinReminder, TermSeat
from members.models import Notification, SubscribeOptIn, SubscribeTemplate
from members.notifications.opt_ins import subscribe_optin_record
from tests.courses import factories as f
from tests.courses.conftest import run_on_commit
from tests.factories import UserFactory

START = date(2026, 3, 1)
TEMPLATE_ID = "tmpl-checkin-reminder"


def at(day: int, hour: int, minute: int = 0, second: int = 0):
    moment = START + timedelta(days=day - 1)
    return f.shanghai(moment.year, moment.month, moment.day, hour, minute, second)


def check_in(user, term, day, *, now):
    task = term.camp.tasks.get(day=day)
    return camp_checkins.checkin_submit(user=user, term=term, task=task, text="打卡", now=now)


def sweep(now):
    """The beat sweep at `now`; its batches run at once, on a worker whose clock also says `now`."""

    def worker(seat_ids, day):
        return camp_reminders.checkin_reminders_send(seat_ids=seat_ids, day=day, now=now)

    with mock.patch.object(tasks.send_checkin_reminders, "delay", worker), run_on_commit():
        return camp_reminders.checkin_reminders_sweep(now=now)


def reminded(term, day) -> set[int]:
    return set(
        CheckinReminder.objects.filter(term=term, day=START + timedelta(days=day - 1)).values_list(
            "user_id", flat=True
        )
    )


@pytest.fixture
def world(ka):
    camp, term = f.make_camp(tiers=[ka], price_fen=9_900, days=7, today=START, started_days_ago=0)
    people = {
        name: UserFactory(nickname=name) for name in ("due", "done", "left", "lapsed", "tier", "madeup")
    }
    for name in ("due", "done", "left", "madeup"):
        camp_seats.seat_grant(term=term, user=people[name], source="purchase")
    for name in ("lapsed", "tier"):
        f.give_tier(people[name], ka, now=at(1, 9))
        camp_seats.seat_grant(term=term, user=people[name], source="tier")
    f.give_tier(people["lapsed"], ka, now=at(3, 9), expired=True)  # their KA ended after they joined
    TermSeat.objects.filter(user=people["left"]).update(status="revoked")
    # another camp whose term is over, and one not published: nobody there is reminded
    _old_camp, old_term = f.make_camp(price_fen=0, days=3, today=START, started_days_ago=10)
    camp_seats.seat_grant(term=old_term, user=UserFactory(), source="free")
    _hidden_camp, hidden_term = f.make_camp(price_fen=0, days=7, today=START, started_days_ago=0)
    hidden_term.is_published = False
    hidden_term.save()
    camp_seats.seat_grant(term=hidden_term, user=UserFactory(), source="free")
    return camp, term, people


@pytest.mark.django_db
def test_exactly_the_members_who_have_not_checked_in_are_reminded_after_the_reminder_time(world):
    _camp, term, p = world
    check_in(p["done"], term, 3, now=at(3, 12))
    check_in(p["madeup"], term, 2, now=at(3, 12))  # a make-up for yesterday is not today's check-in

    assert sweep(at(3, 19, 59, 59)) == {"due": 0, "batches": 0}
    result = sweep(at(3, 20, 0, 1))
    assert result == {"due": 3, "batches": 1}
    assert reminded(term, 3) == {p["due"].pk, p["tier"].pk, p["madeup"].pk}
    notes = Notification.objects.filter(kind="checkin_reminder")
    assert {n.user_id for n in notes} == {p["due"].pk, p["tier"].pk, p["madeup"].pk}
    note = notes.get(user=p["due"])
    assert note.title == "今天还没打卡哦：21天写作训练营" and note.body == "第3天任务：任务3"
    assert note.url == f"/courses/camps/terms/{term.pk}/"
    assert set(CheckinReminder.objects.values_list("channel", flat=True)) == {"insite"}


@pytest.mark.django_db
def test_never_twice_a_day_even_when_sweeps_repeat_or_tasks_are_redelivered(world):
    _camp, term, p = world
    seat_ids = camp_reminders.checkin_reminders_due(now=at(3, 20, 5))
    sweep(at(3, 20, 5))
    assert sweep(at(3, 20, 10)) == {"due": 0, "batches": 0}
    assert sweep(at(3, 23, 55)) == {"due": 0, "batches": 0}
    # the same batch delivered again (Redis redelivery, or two sweeps that overlapped) sends nothing more
    again = camp_reminders.checkin_reminders_send(seat_ids=seat_ids, day="2026-03-03", now=at(3, 20, 11))
    assert again == {"claimed": 0, "subscribe": 0, "insite": 0, "stale": 0}
    assert Notification.objects.filter(kind="checkin_reminder", user=p["due"]).count() == 1
    assert CheckinReminder.objects.filter(term=term).count() == 4


@pytest.mark.django_db
def test_days_follow_asia_shanghai_across_midnight(world):
    camp, term, p = world
    camp.reminder_time = time(0, 0)
    camp.save()
    sweep(at(3, 23, 58))
    assert reminded(term, 3) == {p["due"].pk, p["done"].pk, p["tier"].pk, p["madeup"].pk}
    check_in(p["done"], term, 3, now=at(3, 23, 59))  # counts for day 3 …
    # 00:02 in Shanghai is still 16:02 the previous day in UTC: a new day here, so new reminders
    after_midnight = at(4, 0, 2)
    assert after_midnight.astimezone(tz=__import__("datetime").UTC).date() == START + timedelta(days=2)
    assert sweep(after_midnight)["due"] == 4
    assert reminded(term, 4) == {p["due"].pk, p["done"].pk, p["tier"].pk, p["madeup"].pk}
    # … and checking in at 00:05 on day 4 counts for day 4, not day 3
    late = check_in(p["due"], term, 4, now=at(4, 0, 5))
    assert late.day == START + timedelta(days=3) and not late.is_makeup
    assert Notification.objects.filter(kind="checkin_reminder", user=p["due"]).count() == 2


@pytest.mark.django_db
def test_no_reminders_outside_the_term(world):
    _camp, term, _p = world
    assert sweep(at(0, 21))["due"] == 0  # the day before it starts
    assert sweep(at(8, 21))["due"] == 0  # the day after it ends
    assert sweep(at(7, 21))["due"] == 4  # the last day


@pytest.mark.django_db
def test_a_member_who_checks_in_between_the_sweep_and_the_worker_is_not_reminded(world):
    _camp, term, p = world
    seat_ids = camp_reminders.checkin_reminders_due(now=at(3, 20, 1))
    assert len(seat_ids) == 4
    check_in(p["due"], term, 3, now=at(3, 20, 2))
    counts = camp_reminders.checkin_reminders_send(seat_ids=seat_ids, day="2026-03-03", now=at(3, 20, 3))
    assert counts == {"claimed": 3, "subscribe": 0, "insite": 3, "stale": 0}
    assert not Notification.objects.filter(kind="checkin_reminder", user=p["due"]).exists()
    assert not CheckinReminder.objects.filter(user=p["due"]).exists()


@pytest.mark.django_db
def test_a_batch_picked_up_after_midnight_is_dropped(world):
    _camp, _term, _p = world
    seat_ids = camp_reminders.checkin_reminders_due(now=at(3, 23, 59, 30))
    counts = camp_reminders.checkin_reminders_send(seat_ids=seat_ids, day="2026-03-03", now=at(4, 0, 0, 30))
    assert counts == {"claimed": 0, "subscribe": 0, "insite": 0, "stale": 4}
    assert not CheckinReminder.objects.exists()
    assert not Notification.objects.filter(kind="checkin_reminder").exists()


@pytest.mark.django_db
def test_subscribe_message_while_an_opt_in_is_left_consumed_once_then_in_site(world, fake_wechat):
    from tests.fakes.wechat_members import MembersWeChat

    mp_wechat = MembersWeChat(fake=fake_wechat).install()
    camp, term, p = world
    member = p["due"]
    WeChatIdentity.objects.create(
        user=member, kind="miniprogram", appid="wx_test_miniprogram", openid="o_due"
    )
    SubscribeTemplate.objects.create(
        key=camp.subscribe_template, name="打卡提醒", template_id=TEMPLATE_ID, fields="thing1,thing2,date3"
    )
    mp_wechat.template(TEMPLATE_ID, ["thing1", "thing2", "date3"])
    mp_wechat.accept("o_due", TEMPLATE_ID, times=1)
    subscribe_optin_record(user=member, template_key=camp.subscribe_template, count=1)

    sweep(at(3, 20, 1))
    assert len(mp_wechat.sent) == 1
    sent = mp_wechat.sent[0]
    assert sent["touser"] == "o_due" and sent["template_id"] == TEMPLATE_ID
    assert sent["data"] == {
        "thing1": {"value": "21天写作训练营"},
        "thing2": {"value": "任务3"},
        "date3": {"value": "2026-03-03"},
    }
    assert SubscribeOptIn.objects.get(user=member).remaining == 0
    assert CheckinReminder.objects.get(user=member).channel == "subscribe"
    assert Notification.objects.get(user=member, kind="checkin_reminder").push_status == "sent"
    # other members had no opt-in: in-site only
    assert CheckinReminder.objects.get(user=p["tier"]).channel == "insite"

    sweep(at(4, 20, 1))  # the next day: the opt-in is used up, so in-site only
    assert len(mp_wechat.sent) == 1
    day_four = CheckinReminder.objects.get(user=member, day=START + timedelta(days=3))
    assert day_four.channel == "insite"
    assert SubscribeOptIn.objects.get(user=member).remaining == 0


@pytest.mark.django_db
def test_the_selection_is_one_statement_served_by_indexes(world):
    _camp, _term, _p = world
    with CaptureQueriesContext(connection) as captured:
        seat_ids = camp_reminders.checkin_reminders_due(now=at(3, 20, 1))
    assert len(seat_ids) == 4 and len(captured.captured_queries) == 1
    with CaptureQueriesContext(connection) as claiming:
        claimed = camp_reminders.checkin_reminders_claim(
            seat_ids=seat_ids, day=START + timedelta(days=2), now=at(3, 20, 1)
        )
    assert len(claimed) == 4 and len(claiming.captured_queries) == 1
    assert claiming.captured_queries[0]["sql"].startswith("INSERT INTO")
    if connection.vendor != "postgresql":
        return
    sql, params = camp_reminders.reminder_candidates(now=at(4, 20, 1)).values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for table in ("courses_termseat", "courses_checkin", "courses_checkinreminder"):
        assert f"Seq Scan on {table}" not in plan, plan


@pytest.mark.django_db
def test_the_beat_task_runs_the_sweep_once_at_a_time(world, monkeypatch):
    from django.core.cache import cache

    calls = []
    monkeypatch.setattr(camp_reminders, "checkin_reminders_sweep", lambda: calls.append(1) or {"due": 0})
    assert tasks.checkin_reminders() == {"due": 0}
    cache.add(tasks.REMINDER_SWEEP_LOCK, 1, timeout=60)
    assert tasks.checkin_reminders() == {"skipped": 1}
    assert calls == [1]
    from core.discovery import default_schedules

    job = next(j for j in default_schedules() if j.task == "courses.tasks.checkin_reminders")
    assert job.every_seconds == 300


@pytest.mark.django_db
def test_checked_in_members_reminders_are_not_even_claimed(world):
    _camp, term, p = world
    for name in ("due", "done", "tier", "madeup"):
        check_in(p[name], term, 3, now=at(3, 9))
    assert sweep(at(3, 21)) == {"due": 0, "batches": 0}
    assert CheckIn.objects.filter(term=term).count() == 4
