"""reconcile_bills: WeChat's daily trade bill (gzip CSV, yuan) against our payments."""

from __future__ import annotations

import pytest
from django.utils import timezone

from payments.models import ReconciliationMismatch, ReconciliationRun
from payments.orders import tasks as order_tasks
from payments.orders.reconciliation import reconcile_bills
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order, refund_order

pytestmark = pytest.mark.django_db


def test_matching_bill_records_ok_run(buyer, fake_wechat):
    create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native", fake=fake_wechat)
    create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="B", channel="wechat_native", fake=fake_wechat)

    result = order_tasks.reconcile_bills(timezone.localdate().isoformat())

    assert result["status"] == "ok" and result["mismatches"] == 0
    run = ReconciliationRun.objects.get()
    assert run.bill_rows == 2 and run.matched_rows == 2
    assert any(path == "/v3/billdownload/file" for _m, path in fake_wechat.calls)


def test_mismatches_are_listed_for_operators(buyer, fake_wechat):
    ok = create_paid_order(
        user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native", fake=fake_wechat
    )
    wrong_amount = create_paid_order(
        user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native", fake=fake_wechat
    )
    not_billed = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native")
    fake_wechat.transactions[wrong_amount.payments.get().out_trade_no]["amount"]["total"] = 9800
    fake_wechat.extra_bill_rows.append(
        {"微信订单号": "4200999", "商户订单号": "STRANGER01", "交易状态": "SUCCESS", "应结订单金额": "12.34"}
    )

    run = reconcile_bills(bill_date=timezone.localdate())

    assert run.status == ReconciliationRun.Status.MISMATCH
    found = {(m.kind, m.out_trade_no): m for m in run.mismatches.all()}
    K = ReconciliationMismatch.Kind
    assert set(found) == {
        (K.AMOUNT, wrong_amount.payments.get().out_trade_no),
        (K.MISSING_BILL, not_billed.payments.get().out_trade_no),
        (K.MISSING_LOCAL, "STRANGER01"),
    }
    assert found[(K.AMOUNT, wrong_amount.payments.get().out_trade_no)].bill_amount_fen == 9800
    assert found[(K.MISSING_LOCAL, "STRANGER01")].bill_amount_fen == 1234
    assert ok.payments.get().out_trade_no not in {m.out_trade_no for m in run.mismatches.all()}


def test_refund_rows_are_checked(buyer, fake_wechat):
    order = create_paid_order(
        user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native", fake=fake_wechat
    )
    refund = refund_order(order=order, amount_fen=900)
    fake_wechat.complete_refund(refund.out_refund_no)

    run = reconcile_bills(bill_date=timezone.localdate())

    assert run.status == ReconciliationRun.Status.OK, list(run.mismatches.values())


def test_rerun_replaces_previous_result_and_download_failure_is_recorded(buyer, fake_wechat):
    fake_wechat.pay_failures.append((500, {"code": "SYSTEM_ERROR", "message": "账单未生成"}))
    failed = reconcile_bills(bill_date=timezone.localdate())
    assert failed.status == ReconciliationRun.Status.FAILED and "SYSTEM_ERROR" in failed.error

    again = reconcile_bills(bill_date=timezone.localdate())
    assert again.pk == failed.pk and again.status == ReconciliationRun.Status.OK
