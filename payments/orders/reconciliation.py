"""Bill reconciliation: WeChat's trade bill of a day against our payments and refunds.

Nightly (`payments.tasks.reconcile_bills`); mismatches are listed for operators in admin.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from payments.gateways.base import GatewayError
from payments.gateways.wechatpay import WeChatPayGateway
from payments.models import Channel, Payment, ReconciliationMismatch, ReconciliationRun, Refund

WECHAT_CHANNELS = {
    Channel.WECHAT_MINIPROGRAM,
    Channel.WECHAT_JSAPI,
    Channel.WECHAT_NATIVE,
    Channel.WECHAT_H5,
}


def reconcile_bills(*, bill_date: date | None = None) -> ReconciliationRun:
    """Download WeChat's trade bill for a day (default yesterday) and list mismatches for operators."""
    bill_date = bill_date or (timezone.localdate() - timedelta(days=1))
    try:
        rows = WeChatPayGateway().trade_bill(bill_date)
    except GatewayError as exc:
        run, _created = ReconciliationRun.objects.update_or_create(
            bill_date=bill_date,
            defaults={"status": ReconciliationRun.Status.FAILED, "error": str(exc)[:2000]},
        )
        return run
    tz = timezone.get_current_timezone()
    start = datetime.combine(bill_date, datetime.min.time(), tzinfo=tz)
    local = {
        p.out_trade_no: p
        for p in Payment.objects.filter(
            channel__in=WECHAT_CHANNELS, paid_at__gte=start, paid_at__lt=start + timedelta(days=1)
        )
    }
    billed_payments = {}
    mismatches: list[ReconciliationMismatch] = []
    K = ReconciliationMismatch.Kind
    for row in rows:
        if row.trade_state == "REFUND":
            refund = (
                Refund.objects.filter(out_refund_no=row.out_refund_no).first() if row.out_refund_no else None
            )
            if refund is None or refund.amount_fen != row.refund_fen:
                mismatches.append(
                    ReconciliationMismatch(
                        kind=K.REFUND,
                        out_trade_no=row.out_trade_no,
                        transaction_id=row.transaction_id,
                        bill_amount_fen=row.refund_fen,
                        local_amount_fen=refund.amount_fen if refund else None,
                        detail=f"退款单 {row.out_refund_no}",
                    )
                )
            continue
        billed_payments[row.out_trade_no] = row
        payment = local.get(row.out_trade_no) or Payment.objects.filter(out_trade_no=row.out_trade_no).first()
        if payment is None or payment.status != Payment.Status.SUCCEEDED:
            mismatches.append(
                ReconciliationMismatch(
                    kind=K.MISSING_LOCAL,
                    out_trade_no=row.out_trade_no,
                    transaction_id=row.transaction_id,
                    bill_amount_fen=row.amount_fen,
                    local_amount_fen=payment.amount_fen if payment else None,
                    detail=_("账单有此交易，本地未记为已支付"),
                )
            )
        elif payment.amount_fen != row.amount_fen:
            mismatches.append(
                ReconciliationMismatch(
                    kind=K.AMOUNT,
                    out_trade_no=row.out_trade_no,
                    transaction_id=row.transaction_id,
                    bill_amount_fen=row.amount_fen,
                    local_amount_fen=payment.amount_fen,
                    detail=_("金额不一致"),
                )
            )
    for out_trade_no, payment in local.items():
        if payment.status == Payment.Status.SUCCEEDED and out_trade_no not in billed_payments:
            mismatches.append(
                ReconciliationMismatch(
                    kind=K.MISSING_BILL,
                    out_trade_no=out_trade_no,
                    transaction_id=payment.transaction_id or "",
                    local_amount_fen=payment.amount_fen,
                    detail=_("本地已支付，账单无此交易"),
                )
            )
    with transaction.atomic():
        run, _created = ReconciliationRun.objects.update_or_create(
            bill_date=bill_date,
            defaults={
                "status": ReconciliationRun.Status.MISMATCH if mismatches else ReconciliationRun.Status.OK,
                "bill_rows": len(rows),
                "matched_rows": len(billed_payments)
                - sum(1 for m in mismatches if m.kind in (K.MISSING_LOCAL, K.AMOUNT)),
                "mismatch_count": len(mismatches),
                "error": "",
            },
        )
        run.mismatches.all().delete()
        for mismatch in mismatches:
            mismatch.run = run
        ReconciliationMismatch.objects.bulk_create(mismatches)
    return run
