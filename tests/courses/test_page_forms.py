"""The camp and event pages read their input through Django forms (`courses.camps.forms`,
`courses.events.forms`): input of the wrong shape gets a clear message and changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from courses.camps import checkins as camp_checkins
from courses.camps import seats as camp_seats
from courses.models import CheckIn, EventRegistration
from tests.courses import factories as f
from tests.factories import UserFactory


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_a_check_in_without_a_task_is_refused_with_a_message(member, client):
    camp, term = f.make_camp(price_fen=0)
    camp_seats.seat_grant(term=term, user=member, source="free")
    client.force_login(member)
    response = client.post(f"/courses/camps/terms/{term.pk}/checkin/", {"task_id": "day-3", "text": "打卡"})
    assert response.status_code == 302 and response.url == f"/courses/camps/terms/{term.pk}/"
    assert _messages(response) == ["请选择任务"]
    assert not CheckIn.objects.exists()


@pytest.mark.django_db
def test_a_review_score_out_of_range_is_refused_and_nothing_is_reviewed(member, client):
    camp, term = f.make_camp(price_fen=0)
    camp_seats.seat_grant(term=term, user=member, source="free")
    checkin = camp_checkins.checkin_submit(user=member, term=term, task=camp.tasks.get(day=3), text="三百字")
    client.force_login(camp.teacher)
    response = client.post(f"/courses/camps/checkins/{checkin.pk}/review/", {"comment": "好", "score": "9"})
    assert response.status_code == 302 and _messages(response) == ["评分为 1 到 5 分"]
    checkin.refresh_from_db()
    assert checkin.reviewed_at is None and checkin.review_points == 0
    response = client.post(f"/courses/camps/checkins/{checkin.pk}/review/", {"comment": "好", "score": "4"})
    assert _messages(response)[-1] == "点评已发送"  # the refused attempt's message was never shown
    checkin.refresh_from_db()
    assert checkin.review_score == 4


@pytest.mark.django_db
def test_a_moderation_without_a_decision_is_refused_and_the_check_in_stays_held(member, client):
    camp, term = f.make_camp(price_fen=0)
    camp_seats.seat_grant(term=term, user=member, source="free")
    checkin = camp_checkins.checkin_submit(user=member, term=term, task=camp.tasks.get(day=3), text="三百字")
    CheckIn.objects.filter(pk=checkin.pk).update(status=CheckIn.Status.REVIEW)
    client.force_login(camp.teacher)
    response = client.post(f"/courses/camps/checkins/{checkin.pk}/moderate/", {"approve": "maybe"})
    assert response.status_code == 302 and _messages(response) == ["请选择通过或驳回"]
    assert CheckIn.objects.get(pk=checkin.pk).status == CheckIn.Status.REVIEW


@pytest.mark.django_db
def test_an_over_long_ticket_code_is_refused_at_the_door_and_nothing_is_checked_in(client):
    event = f.make_event(price_fen=0)
    holder = UserFactory()
    registration = EventRegistration.objects.create(
        event=event,
        user=holder,
        status=EventRegistration.Status.CONFIRMED,
        source="free",
        ticket_code="ABCDEFGH23",
    )
    client.force_login(event.organizer)
    response = client.post(f"/courses/events/{event.pk}/check-in/", {"code": "A" * 501})
    assert response.status_code == 200
    assert len(_messages(response)) == 1
    registration.refresh_from_db()
    assert registration.checked_in_at is None
