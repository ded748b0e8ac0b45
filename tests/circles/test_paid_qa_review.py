"""Paid Q&A where the content check holds text for review: the fee moves only with a visible answer,
the paid transaction never calls WeChat, and the asker cannot take the money back after an answer."""

from datetime import timedelta

import pytest
from django.test import TestCase

from circles.models import PaidQuestion, Post
from circles.services import moderation as moderation_services
from circles.services import sweep
from members.models import Notification
from payments.models import Earning, Order
from payments.wallet import ledger
from tests.circles import factories as f
from tests.circles.conftest import api_for, mini_program_user
from tests.payments.helpers import create_paid_order


@pytest.fixture
def guest(circle, settings):
    return mini_program_user(f.make_guest(circle=circle), settings)


@pytest.fixture
def asker(circle, settings):
    return mini_program_user(f.make_member(circle=circle), settings)


def ask_and_pay(circle, asker, guest, body="如何设计会员权益？"):
    response = api_for(asker).post(
        f"/api/v1/circles/{circle.pk}/questions/", {"guest_id": guest.pk, "body": body}, format="json"
    )
    assert response.status_code == 201, response.json()
    order = create_paid_order(user=asker, item_type="circle_question", item_id=str(response.json()["id"]))
    return PaidQuestion.objects.get(pk=response.json()["id"]), order


@pytest.mark.django_db
def test_an_answer_held_for_review_releases_the_fee_only_when_approved(circle, asker, guest, msg_check):
    msg_check.verdicts["私信我"] = "review"
    question, order = ask_and_pay(circle, asker, guest)
    assert Notification.objects.filter(user=guest, kind="circle_question").count() == 1

    # when the guest's answer is held for review
    response = api_for(guest).post(
        f"/api/v1/circles/questions/{question.pk}/answer/", {"body": "细节私信我"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "answer_review"
    # then nothing is paid yet, the question still counts as unanswered, and answering twice is refused
    assert not Earning.objects.filter(user=guest).exists()
    assert not Post.objects.get(pk=question.post_id).is_answered
    again = api_for(guest).post(
        f"/api/v1/circles/questions/{question.pk}/answer/", {"body": "再答一次"}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    # and the sweep does not refund a question whose answer waits for a moderator
    assert sweep.circles_sweep(now=question.deadline + timedelta(hours=1))["questions_refunded"] == 0

    # when the owner approves the answer from the moderation queue
    queue = api_for(circle.owner).get(f"/api/v1/circles/{circle.pk}/moderation/").json()
    answer_id = queue["posts"][0]["id"]
    assert queue["posts_count"] == 1
    approved = api_for(circle.owner).post(
        f"/api/v1/circles/posts/{answer_id}/moderate/", {"approve": True}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "visible"
    # then the guest earns the fee less 10% (held), and the asker is told
    question.refresh_from_db()
    assert question.status == "answered"
    assert Earning.objects.get(user=guest, source="qa_fee").amount_fen == 891
    assert ledger.balances(guest).pending_fen == 891
    assert Post.objects.get(pk=question.post_id).is_answered
    answered = Notification.objects.get(user=asker, kind="circle_answer")
    assert answered.subscribe_template == "circle_answer"
    assert order.order_no == question.order_no


@pytest.mark.django_db
def test_a_rejected_answer_reopens_the_question_and_silence_then_refunds(circle, asker, guest, msg_check):
    msg_check.verdicts["加微信"] = "review"
    question, order = ask_and_pay(circle, asker, guest)
    api_for(guest).post(
        f"/api/v1/circles/questions/{question.pk}/answer/", {"body": "加微信细聊"}, format="json"
    )
    answer = Post.objects.get(kind="answer", author=guest)
    moderation_services.post_moderate(post=answer, actor=circle.owner, approve=False, note="请在圈内回答")
    question.refresh_from_db()
    assert question.status == "open" and question.answer_post is None
    assert Notification.objects.filter(user=guest, kind="circle_answer_rejected").exists()
    assert not Earning.objects.filter(user=guest).exists()
    # the guest lets the deadline pass: the asker is refunded in full
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = sweep.circles_sweep(now=question.deadline + timedelta(minutes=1))
    assert result["questions_refunded"] == 1
    order.refresh_from_db()
    question.refresh_from_db()
    assert order.status == "refunded" and question.status == "refunded"
    refund_note = Notification.objects.get(user=asker, kind="circle_question_refund")
    assert refund_note.subscribe_template == "circle_question_refund"


@pytest.mark.django_db
def test_a_question_held_for_review_is_published_to_the_queue_without_calling_wechat_at_payment(
    circle, asker, guest, msg_check
):
    msg_check.verdicts["竞品"] = "review"
    response = api_for(asker).post(
        f"/api/v1/circles/{circle.pk}/questions/",
        {"guest_id": guest.pk, "body": "竞品怎么看？"},
        format="json",
    )
    checks_before_payment = len(msg_check.checked)
    create_paid_order(user=asker, item_type="circle_question", item_id=str(response.json()["id"]))
    assert len(msg_check.checked) == checks_before_payment  # no WeChat call inside the paid transaction
    question = PaidQuestion.objects.get(pk=response.json()["id"])
    assert question.status == "open" and question.post.status == "review"
    reader = f.make_member(circle=circle)
    assert api_for(reader).get(f"/api/v1/circles/posts/{question.post_id}/").status_code == 404


@pytest.mark.django_db
def test_the_asker_may_refund_themselves_only_until_the_guest_answers(circle, asker, guest, msg_check):
    question, order = ask_and_pay(circle, asker, guest)
    other_question, other_order = ask_and_pay(circle, asker, guest, body="第二个问题")
    api_for(guest).post(f"/api/v1/circles/questions/{question.pk}/answer/", {"body": "先分层"}, format="json")

    after_answer = api_for(asker).post(f"/api/v1/orders/{order.order_no}/refund/", {"reason": "不满意"})
    assert after_answer.status_code == 400 and after_answer.json()["code"] == "refund_window_closed"
    before_answer = api_for(asker).post(
        f"/api/v1/orders/{other_order.order_no}/refund/", {"reason": "问错了"}
    )
    assert before_answer.status_code == 202
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Earning.objects.get(user=guest).amount_fen == 891
