"""WeChat Pay notifications: every bad input is stored, answered 4xx/5xx FAIL, and changes nothing."""

from __future__ import annotations

import json
import time

import pytest

from payments.gateways import protocol
from payments.models import Order, Payment, PaymentNotification
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import order_close, payment_start
from tests.payments.catalog import TEST_ITEM
from tests.payments.wechat_support import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(buyer, fake_wechat):
    """A pending Native order with its prepaid attempt at the fake."""
    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native")
    payment = payment_start(order=order)
    return order, payment


def assert_nothing_changed(order, test_items):
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.paid_at is None
    assert Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).count() == 0
    assert test_items.fulfilled == [] and test_items.paid_listener == []


def test_valid_notification_pays_once_and_redelivery_is_acknowledged(pending, fake_wechat, test_items):
    order, payment = pending
    headers, body = fake_wechat.pay(payment.out_trade_no)

    first, second = deliver(headers, body), deliver(headers, body)

    assert first.status_code == 204 and second.status_code in (200, 204)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    payment.refresh_from_db()
    assert payment.transaction_id == fake_wechat.transactions[payment.out_trade_no]["transaction_id"]
    assert test_items.fulfilled == [order.order_no] and test_items.paid_listener == [order.order_no]
    outcomes = sorted(PaymentNotification.objects.values_list("outcome", flat=True))
    assert outcomes == ["duplicate", "processed"]


def test_forged_signature_is_rejected(pending, fake_wechat, test_items):
    order, payment = pending
    _headers, body = fake_wechat.pay(payment.out_trade_no)
    forger = protocol.generate_keypair()
    headers = protocol.signed_headers(
        body=body.decode(),
        platform_private_pem=forger.private_pem,
        public_key_id=fake_wechat.keys.public_key_id,
    )

    response = deliver(headers, body)

    assert response.status_code == 401 and response.json()["code"] == "FAIL"
    assert_nothing_changed(order, test_items)
    note = PaymentNotification.objects.get()
    assert note.outcome == "rejected" and not note.verified and note.raw_body == body.decode()


def test_tampered_body_with_valid_signature_is_rejected(pending, fake_wechat, test_items):
    order, payment = pending
    headers, body = fake_wechat.pay(payment.out_trade_no)
    data = json.loads(body)
    data["event_type"] = "TRANSACTION.SUCCESS "
    tampered = json.dumps(data, ensure_ascii=False).encode()

    response = deliver(headers, tampered)

    assert response.status_code == 401 and response.json()["code"] == "FAIL"
    assert_nothing_changed(order, test_items)


def test_timestamp_older_than_five_minutes_is_rejected(pending, fake_wechat, test_items):
    order, payment = pending
    headers, body = fake_wechat.pay(payment.out_trade_no, timestamp=int(time.time()) - 301)

    response = deliver(headers, body)

    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert_nothing_changed(order, test_items)
    assert PaymentNotification.objects.get().error.startswith("stale_timestamp")


def test_unknown_out_trade_no_changes_nothing(pending, fake_wechat, test_items):
    order, payment = pending
    resource = {
        "out_trade_no": "NO_SUCH_TRADE_123",
        "transaction_id": "4200000000",
        "trade_state": "SUCCESS",
        "amount": {"total": 9900, "payer_total": 9900},
    }
    headers, body = fake_wechat.notification("TRANSACTION.SUCCESS", resource)

    response = deliver(headers, body)

    assert response.status_code == 404 and response.json()["code"] == "FAIL"
    assert_nothing_changed(order, test_items)
    assert PaymentNotification.objects.get().outcome == "error"


def test_amount_mismatch_is_recorded_as_alert_and_changes_nothing(pending, fake_wechat, test_items):
    order, payment = pending
    headers, body = fake_wechat.pay(payment.out_trade_no, amount_fen=1)

    response = deliver(headers, body)

    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert_nothing_changed(order, test_items)
    note = PaymentNotification.objects.get()
    assert note.outcome == PaymentNotification.Outcome.ALERT and note.verified
    assert "amount_mismatch" in note.error and note.out_trade_no == payment.out_trade_no


def test_malformed_json_with_valid_signature_is_rejected(pending, fake_wechat, test_items):
    order, _payment = pending
    body = b'{"id": "EV-1", "resource": '
    headers = protocol.signed_headers(
        body=body.decode(),
        platform_private_pem=fake_wechat.keys.platform.private_pem,
        public_key_id=fake_wechat.keys.public_key_id,
    )

    response = deliver(headers, body)

    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert_nothing_changed(order, test_items)


def test_garbage_without_headers_is_rejected(pending, test_items):
    order, _payment = pending

    response = deliver({}, b"not json at all")

    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert_nothing_changed(order, test_items)
    assert PaymentNotification.objects.get().raw_body == "not json at all"


def test_unknown_public_key_serial_is_rejected_without_fetching_certificates(
    pending, fake_wechat, test_items
):
    order, payment = pending
    headers, body = fake_wechat.pay(payment.out_trade_no)
    headers["Wechatpay-Serial"] = "PUB_KEY_ID_SOMEONE_ELSE"

    response = deliver(headers, body)

    assert response.status_code == 401
    assert ("GET", "/v3/certificates") not in fake_wechat.calls
    assert_nothing_changed(order, test_items)


def test_wrong_apiv3_key_ciphertext_is_rejected(pending, fake_wechat, test_items):
    order, payment = pending
    trx = fake_wechat.transactions[payment.out_trade_no]
    trx.update(trade_state="SUCCESS", transaction_id="4200abc")
    headers, body = protocol.build_notification(
        event_type="TRANSACTION.SUCCESS",
        resource={**trx, "amount": {"total": 9900}},
        apiv3_key="x" * 32,
        platform_private_pem=fake_wechat.keys.platform.private_pem,
        public_key_id=fake_wechat.keys.public_key_id,
    )

    response = deliver(headers, body)

    assert response.status_code in (400, 401)
    assert_nothing_changed(order, test_items)


def test_payment_for_closed_order_is_refunded_automatically(
    pending, fake_wechat, test_items, django_capture_on_commit_callbacks
):
    order, payment = pending
    order_close(order=order)  # WeChat closes it…
    order.refresh_from_db()
    assert order.status == Order.Status.CLOSED
    headers, body = fake_wechat.pay(payment.out_trade_no)  # …yet a payment arrives (WeChat-side race)

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(headers, body)

    assert response.status_code == 204
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.CLOSED and test_items.fulfilled == []
    assert payment.status == Payment.Status.SUCCEEDED and payment.needs_auto_refund
    refund = payment.refunds.get()
    assert refund.kind == "auto" and refund.amount_fen == 9900
    assert fake_wechat.refunds[refund.out_refund_no]["amount"]["refund"] == 9900

    headers, body = fake_wechat.complete_refund(refund.out_refund_no)
    assert deliver(headers, body).status_code == 204
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == "succeeded" and order.status == Order.Status.CLOSED
    assert test_items.revoked == []


def test_sandbox_signed_notification_is_refused_when_sandbox_is_disabled(buyer, settings, test_items):
    from payments.gateways import sandbox

    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="sandbox")
    payment = payment_start(order=order)
    keys = sandbox.sandbox_keys()
    headers, body = protocol.build_notification(
        event_type="TRANSACTION.SUCCESS",
        resource={
            "out_trade_no": payment.out_trade_no,
            "transaction_id": "SB1",
            "trade_state": "SUCCESS",
            "amount": {"total": 9900, "payer_total": 9900},
        },
        apiv3_key=keys.apiv3_key,
        platform_private_pem=keys.platform.private_pem,
        public_key_id=keys.public_key_id,
    )
    settings.PAYMENTS_SANDBOX_ENABLED = False  # production

    response = deliver(headers, body)

    assert response.status_code == 401
    assert_nothing_changed(order, test_items)


def test_sandbox_keys_are_generated_once(settings, tmp_path):
    from payments.gateways import sandbox

    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path / "keys"
    first = sandbox.sandbox_keys()
    second = sandbox.sandbox_keys()

    assert first == second and (tmp_path / "keys" / "platform_private.pem").exists()
    assert first.public_key_id.startswith("PUB_KEY_ID_SANDBOX_") and len(first.apiv3_key) == 32


def test_fulfil_failure_rolls_back_payment_and_asks_wechat_to_retry(
    pending, fake_wechat, test_items, monkeypatch
):
    from payments import items

    order, payment = pending
    headers, body = fake_wechat.pay(payment.out_trade_no)
    kind = items.get(TEST_ITEM)

    def broken(*, order):
        raise RuntimeError("membership service down")

    monkeypatch.setattr(kind, "fulfill", broken)
    response = deliver(headers, body)

    assert response.status_code == 500 and response.json()["code"] == "FAIL"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.PENDING and payment.status == Payment.Status.PREPAID
    assert PaymentNotification.objects.get().outcome == "error"

    monkeypatch.undo()
    assert deliver(headers, body).status_code == 204  # WeChat's retry succeeds
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and test_items.fulfilled == [order.order_no]
