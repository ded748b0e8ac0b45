"""Paid Q&A: a member pays to ask a guest; the answer releases the fee to the guest (ledger qa_fee);
no answer within N days refunds the asker through the payments refund service (sweep)."""

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from circles.models import PaidQuestion, Post
from circles.services import sweep
from payments.models import Earning, Order
from payments.wallet import ledger
from tests.circles import factories as f
from tests.circles.conftest import api_for
from tests.payments.helpers import create_paid_order


@pytest.fixture
def guest(circle):
    return f.make_guest(circle=circle)


def ask(circle, asker, guest):
    response = api_for(asker).post(
        f"/api/v1/circles/{circle.pk}/questions/",
        {"guest_id": guest.pk, "body": "如何设计会员权益？"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    order = create_paid_order(user=asker, item_type="circle_question", item_id=str(response.json()["id"]))
    return PaidQuestion.objects.get(pk=response.json()["id"]), order


@pytest.mark.django_db
def test_answered_question_pays_the_guest(circle, guest):
    asker = f.make_member(circle=circle)
    question, order = ask(circle, asker, guest)
    assert order.amount_fen == circle.qa_price_fen == 990
    assert question.status == "open" and question.post.kind == "question"
    unanswered = api_for(asker).get(f"/api/v1/circles/{circle.pk}/posts/?feed=unanswered").json()
    assert [p["id"] for p in unanswered["results"]] == [question.post_id]
    # someone else cannot answer
    other = api_for(f.make_member(circle=circle)).post(
        f"/api/v1/circles/questions/{question.pk}/answer/", {"body": "我来"}, format="json"
    )
    assert other.status_code == 404
    # when the guest answers
    response = api_for(guest).post(
        f"/api/v1/circles/questions/{question.pk}/answer/", {"body": "先想清楚用户分层"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "answered"
    # then the fee (less 10% platform fee) is the guest's earning, and the question leaves the unanswered feed
    earning = Earning.objects.get(user=guest, source="qa_fee")
    assert earning.amount_fen == 891 and earning.order_id == order.pk
    assert ledger.balances(guest).pending_fen == 891
    assert Post.objects.get(pk=question.post_id).is_answered
    assert api_for(asker).get(f"/api/v1/circles/{circle.pk}/posts/?feed=unanswered").json()["results"] == []
    # the sweep leaves answered questions alone
    sweep.circles_sweep(now=timezone.now() + timedelta(days=10))
    assert Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.django_db
def test_unanswered_question_is_refunded_after_the_deadline(circle, guest):
    asker = f.make_member(circle=circle)
    question, order = ask(circle, asker, guest)
    # before the deadline nothing happens
    assert sweep.circles_sweep()["questions_refunded"] == 0
    # after N days the sweep refunds the asker in full
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = sweep.circles_sweep(now=question.deadline + timedelta(seconds=1))
    assert result["questions_refunded"] == 1
    order.refresh_from_db()
    question.refresh_from_db()
    assert order.status == "refunded" and order.refunded_fen == 990
    assert question.status == "refunded"
    assert not Earning.objects.filter(user=guest).exists()
    # and a late answer is refused
    late = api_for(guest).post(
        f"/api/v1/circles/questions/{question.pk}/answer/", {"body": "晚了"}, format="json"
    )
    assert late.status_code == 409 and late.json()["code"] == "question_expired"


@pytest.mark.django_db
def test_only_guests_can_be_asked(circle):
    asker, plain = f.make_member(circle=circle), f.make_member(circle=circle)
    response = api_for(asker).post(
        f"/api/v1/circles/{circle.pk}/questions/", {"guest_id": plain.pk, "body": "问题"}, format="json"
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_paid_question_is_answered_only_through_the_guest_answer(circle, guest):
    asker = f.make_member(circle=circle)
    question, _order = ask(circle, asker, guest)
    for user in (f.make_member(circle=circle), guest):
        response = api_for(user).post(
            f"/api/v1/circles/{circle.pk}/posts/",
            {"kind": "answer", "body": "我来回答", "question_id": question.post_id},
            format="json",
        )
        assert response.status_code == 400 and response.json()["code"] == "paid_question"
    assert not Post.objects.get(pk=question.post_id).is_answered
    assert PaidQuestion.objects.get(pk=question.pk).status == "open"


@pytest.mark.django_db
def test_the_hourly_beat_job_runs_the_sweep_that_refunds(circle, guest):
    from circles import tasks
    from circles.schedules import DEFAULT_SCHEDULES

    assert [job.task for job in DEFAULT_SCHEDULES] == [
        "circles.tasks.circles_sweep",
        "circles.tasks.posts_publish_due",  # scheduled posts (tests/circles/test_scheduled_posts.py)
    ]
    asker = f.make_member(circle=circle)
    question, order = ask(circle, asker, guest)
    PaidQuestion.objects.filter(pk=question.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = tasks.circles_sweep.delay().get()
    assert result["questions_refunded"] == 1
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert tasks.circles_sweep.delay().get()["questions_refunded"] == 0  # safe to run twice
