"""The points mall with the real items this app sells: a course, an event seat and a camp seat are
redeemed through the same item types as purchases — the member gets exactly what a buyer gets, and a
reward the item cannot honour (a full event) costs no points."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError
from courses.camps import selectors as camp_selectors
from courses.events import selectors as event_selectors
from courses.models import EventRegistration
from members.models import Reward
from members.points.mall import points_redeem
from members.points.selectors import points_balance
from members.points.services import points_award
from tests.courses import factories as f
from tests.courses.conftest import api_for
from tests.factories import UserFactory


def rich(user, points=1_000):
    points_award(user=user, amount=points, reason="测试积分", idempotency_key=f"seed:{user.pk}:{points}")
    return user


@pytest.mark.django_db
def test_a_course_reward_opens_its_paid_lessons(member):
    course = f.make_course(price_fen=19_900)
    lesson = f.paid_lesson(course)
    reward = Reward.objects.create(
        title="兑换课程", item_type="course", item_id=str(course.pk), points_price=300
    )
    assert api_for(rich(member)).get(f"/api/v1/lessons/{lesson.pk}/").status_code == 403

    redeemed = api_for(member).post(
        f"/api/v1/points/rewards/{reward.pk}/redeem/", {"idempotency_key": "tap-course"}, format="json"
    )

    assert redeemed.status_code == 201, redeemed.json()
    assert points_balance(member) == 700
    assert api_for(member).get(f"/api/v1/lessons/{lesson.pk}/").status_code == 200


@pytest.mark.django_db
def test_an_event_seat_reward_issues_a_ticket(member):
    event = f.make_event(price_fen=29_900, capacity=5)
    reward = Reward.objects.create(
        title="线下课名额", item_type="event", item_id=str(event.pk), points_price=800
    )

    points_redeem(user=rich(member), reward_id=reward.pk, idempotency_key="tap-event")

    registration = EventRegistration.objects.get(event=event, user=member)
    assert registration.status == EventRegistration.Status.CONFIRMED and registration.ticket_code
    assert event_selectors.event_access(member, event).state == "registered"
    assert points_balance(member) == 200


@pytest.mark.django_db
def test_an_event_seat_reward_for_a_full_event_is_refused_and_costs_nothing(member):
    event = f.make_event(price_fen=29_900, capacity=1)
    f.buy(UserFactory(), "event", event.pk)  # the last seat went to a buyer
    reward = Reward.objects.create(
        title="线下课名额", item_type="event", item_id=str(event.pk), points_price=800
    )

    with pytest.raises(ApplicationError):
        points_redeem(user=rich(member), reward_id=reward.pk, idempotency_key="tap-full")

    assert points_balance(member) == 1_000
    assert not EventRegistration.objects.filter(
        event=event, user=member, status=EventRegistration.Status.CONFIRMED
    ).exists()
    reward.refresh_from_db()
    assert reward.redeemed_count == 0


@pytest.mark.django_db
def test_a_camp_seat_reward_joins_the_term(member):
    _camp, term = f.make_camp(price_fen=9_900)
    reward = Reward.objects.create(
        title="训练营名额", item_type="camp", item_id=str(term.pk), points_price=500
    )

    points_redeem(user=rich(member), reward_id=reward.pk, idempotency_key="tap-camp")

    assert camp_selectors.term_access(member, term).joined
    assert api_for(member).get(f"/api/v1/camps/terms/{term.pk}/calendar/").status_code == 200
