"""Admin screens (operators see everything, teachers their own) and the demo data, walked through as
the issue's "done when": a VIP member learns, joins the camp, checks in, is reviewed, gets the poster."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from core.roles import TEACHER
from courses.camps import checkins as camp_checkins
from courses.camps import seats as camp_seats
from courses.events import registrations as event_registrations
from courses.models import Camp, CheckIn, Course, Event, EventRegistration, LessonProgress, Term, TermSeat
from tests.courses import factories as f
from tests.courses.conftest import api_for
from tests.factories import UserFactory

ADMIN_PAGES = [
    "course",
    "lesson",
    "courseenrolment",
    "event",
    "eventregistration",
    "tiereventquota",
    "camp",
    "term",
    "termseat",
    "checkin",
    "checkinmoderation",
    "checkinreminder",
]


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.mark.django_db
def test_operator_admin_pages_render(operator, client, vip):
    course = f.make_course(tiers=[vip])
    event = f.make_event(tiers=[vip])
    camp, term = f.make_camp(tiers=[vip])
    member = UserFactory()
    event_registrations.event_register(user=member, event=f.make_event(price_fen=0))
    client.force_login(operator)
    for name in ADMIN_PAGES:
        if name == "lesson":
            continue  # lessons are edited inline on their course
        assert client.get(f"/admin/courses/{name}/").status_code == 200, name
    for obj, name in ((course, "course"), (event, "event"), (camp, "camp"), (term, "term")):
        assert client.get(f"/admin/courses/{name}/{obj.pk}/change/").status_code == 200, name
    export = client.post(
        "/admin/courses/event/",
        {"action": "export_attendance", "_selected_action": [e.pk for e in Event.objects.all()]},
    )
    assert export.status_code == 200 and "票码" in export.content.decode("utf-8-sig")


@pytest.mark.django_db
def test_teachers_see_only_their_own_courses_and_camps_in_admin(client):
    teacher = UserFactory(is_staff=True)
    teacher.groups.add(Group.objects.get_or_create(name=TEACHER)[0])
    from django.contrib.auth.models import Permission

    teacher.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="courses", codename__startswith="view_")
    )
    mine = f.make_course(teacher=teacher, title="我的课")
    f.make_course(title="别人的课")
    own_camp, _term = f.make_camp(teacher=teacher, title="我的营")
    f.make_camp(title="别人的营")
    client.force_login(teacher)
    courses = client.get("/admin/courses/course/").content.decode()
    assert "我的课" in courses and "别人的课" not in courses
    camps = client.get("/admin/courses/camp/").content.decode()
    assert "我的营" in camps and "别人的营" not in camps
    assert client.get(f"/admin/courses/course/{mine.pk}/change/").status_code == 200
    assert own_camp.pk


@pytest.mark.django_db
def test_moderation_queue_admin_action_approves_through_the_service(operator, client):
    camp, term = f.make_camp(price_fen=0)
    member = UserFactory()
    camp_seats.term_join(user=member, term=term)
    from core.models import WeChatIdentity

    WeChatIdentity.objects.create(user=member, kind="miniprogram", appid="wx_test_miniprogram", openid="o_x")
    task = camp.tasks.get(day=3)
    held = camp_checkins.checkin_submit(user=member, term=term, task=task, text="待审核内容")
    assert held.status == "review"
    client.force_login(operator)
    assert "待审核内容" in client.get("/admin/courses/checkinmoderation/").content.decode()
    client.post("/admin/courses/checkinmoderation/", {"action": "approve", "_selected_action": [held.pk]})
    held.refresh_from_db()
    assert held.status == "visible" and held.points_awarded == 10
    assert TermSeat.objects.get(user=member).checkin_days == 1


@pytest.mark.django_db
def test_demo_data_is_idempotent_and_a_member_learns_joins_the_camp_and_checks_in(client, settings):
    from io import StringIO

    from members.models import Membership, MembershipTier

    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    assert Course.objects.count() == 3 and Event.objects.count() == 1 and Camp.objects.count() == 1
    assert Term.objects.count() == 1 and TermSeat.objects.filter(source="grant").count() == 3
    vip = MembershipTier.objects.get(code="VIP")
    vip_course = Course.objects.get(included_in_tiers=vip)
    assert vip_course.lessons.filter(is_preview=False).exists()
    assert Course.objects.filter(included_in_tiers__code="KA", price_fen=0).exists()
    assert Course.objects.filter(included_in_tiers=None, price_fen__gt=0).exists()
    term = Term.objects.get()
    assert term.start_date <= timezone.localdate() <= term.end_date

    # a non-member sees locks and a buy button
    visitor = UserFactory()
    client.force_login(visitor)
    page = client.get(f"/courses/{vip_course.pk}/").content.decode()
    assert 'data-course-access="locked"' in page and "buy-button" in page

    # a VIP member opens the included course and a paid lesson; progress is saved
    member = UserFactory()
    f.give_tier(member, vip)
    api = api_for(member)
    lesson = vip_course.lessons.filter(is_preview=False).order_by("position").first()
    assert api.get(f"/api/v1/lessons/{lesson.pk}/").status_code == 200
    # …and learned once the player's heartbeats covered 90% of its 20 seconds in real time
    with time_machine.travel(timezone.now(), tick=False) as clock:
        session = api.post(f"/api/v1/lessons/{lesson.pk}/playback/", {}, format="json").json()["session_id"]
        for position in (5, 10, 15, 20):
            clock.shift(5)
            api.post(
                f"/api/v1/lessons/{lesson.pk}/heartbeat/",
                {"session_id": session, "position_seconds": position},
                format="json",
            )
    assert LessonProgress.objects.get(user=member, lesson=lesson).completed
    # joins the camp (VIP benefit), checks in, is reviewed by the demo teacher, downloads the poster
    assert api.post(f"/api/v1/camps/terms/{term.pk}/join/").status_code == 201
    today = api.get(f"/api/v1/camps/terms/{term.pk}/").json()["today_task"]
    checked = api.post(
        f"/api/v1/camps/terms/{term.pk}/checkins/",
        {"task_id": today["id"], "text": "第一次打卡"},
        format="json",
    )
    assert checked.status_code == 201
    teacher = term.camp.teacher
    queue = api_for(teacher).get("/api/v1/camps/reviews/").json()
    assert checked.json()["id"] in [row["checkin"]["id"] for row in queue["results"]]
    api_for(teacher).post(
        f"/api/v1/camps/checkins/{checked.json()['id']}/review/",
        {"comment": "很好", "score": 5},
        format="json",
    )
    assert CheckIn.objects.get(pk=checked.json()["id"]).review_score == 5
    poster = api.get(f"/api/v1/camps/terms/{term.pk}/poster.png")
    assert Image.open(io.BytesIO(poster.content)).format == "PNG"
    # the VIP's free offline class
    event = Event.objects.get()
    assert api.post(f"/api/v1/events/{event.pk}/register/").json()["status"] == "confirmed"
    assert EventRegistration.objects.get(user=member).source == "tier"
    assert Membership.objects.filter(user=member).exists()


def _event_form(event: Event, **changes) -> dict:
    """The event change form as the admin posts it (the read-only registrations inline included)."""
    starts, ends = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    form = {
        "title": event.title,
        "summary": event.summary,
        "description": event.description,
        "is_published": "on" if event.is_published else "",
        "starts_at_0": f"{starts:%Y-%m-%d}",
        "starts_at_1": f"{starts:%H:%M:%S}",
        "ends_at_0": f"{ends:%Y-%m-%d}",
        "ends_at_1": f"{ends:%H:%M:%S}",
        "city": event.city,
        "venue": event.venue,
        "address": event.address,
        "capacity": event.capacity,
        "price_fen": event.price_fen,
        "registration_closes_at_0": "",
        "registration_closes_at_1": "",
        "refund_cutoff_hours": event.refund_cutoff_hours,
        "organizer": event.organizer_id,
        "registrations-TOTAL_FORMS": "0",
        "registrations-INITIAL_FORMS": "0",
        "registrations-MIN_NUM_FORMS": "0",
        "registrations-MAX_NUM_FORMS": "1000",
    }
    form.update(changes)
    return form


@pytest.mark.django_db
def test_more_seats_from_the_event_editor_go_to_the_waitlist_at_once(operator, client, ka):
    # given a full event (one seat) with a KA member and a payer waiting, in that order
    event = f.make_event(tiers=[ka], price_fen=29_900, capacity=1)
    event_registrations.event_register(user=f.give_tier(UserFactory(), ka).user, event=event)
    member_waiting, payer_waiting, still_waiting = UserFactory(), UserFactory(), UserFactory()
    f.give_tier(member_waiting, ka)
    for user in (member_waiting, payer_waiting, still_waiting):
        assert event_registrations.event_register(user=user, event=event).status == "waitlisted"

    # when an operator raises the capacity to three
    client.force_login(operator)
    response = client.post(f"/admin/courses/event/{event.pk}/change/", _event_form(event, capacity=3))
    assert response.status_code == 302, response.context["adminform"].form.errors

    # then the first two in line move up at once: the member gets a ticket, the payer a held seat
    status = dict(EventRegistration.objects.filter(event=event).values_list("user_id", "status"))
    assert status[member_waiting.pk] == "confirmed"
    assert status[payer_waiting.pk] == "pending"
    assert status[still_waiting.pk] == "waitlisted"
    shown = client.get(response["Location"]).content.decode()
    assert "已为候补名单中的 2 人分配名额" in shown

    # and saving again without a capacity change moves nobody
    client.post(f"/admin/courses/event/{event.pk}/change/", _event_form(event, capacity=3))
    assert EventRegistration.objects.get(event=event, user=still_waiting).status == "waitlisted"
