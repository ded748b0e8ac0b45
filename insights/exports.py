"""CSV exports: every dashboard table, and orders, members, commissions and withdrawals of a period.

UTF-8 with a byte-order mark so Excel opens Chinese text correctly. Large exports stream: rows come
from `values_list(...).iterator(chunk_size=...)` and go out through a StreamingHttpResponse one chunk at
a time, so 100,000 orders never sit in memory together. Personal data is masked (phones, payee names).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.crypto import mask_name, mask_phone
from core.csvsafe import safe_cell
from insights.metrics.base import FEN, RATE, SECONDS, Table
from insights.metrics.funnel import acquisition_channel, acquisition_referrer, channel_name
from insights.metrics.revenue import channel_label, item_type_label
from insights.periods import Period
from members.models import Membership, Onboarding, User
from payments.models import Order, PayoutMethod, Withdrawal
from referrals.models import Commission, RewardKind

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

BOM = "\ufeff"
CHUNK_SIZE = 2000


class _Echo:
    """A file-like object whose write() returns the line, so csv.writer produces strings to stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[StrOrPromise], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(v) for v in row])


def csv_response(
    filename: str, header: Sequence[StrOrPromise], rows: Iterable[Iterable]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def yuan(fen) -> str:
    if fen is None:
        return ""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


def local(dt: datetime | None) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S") if dt else ""


def cell(kind: str, value) -> str:
    if value is None:
        return ""
    if kind == FEN:
        return yuan(value)
    if kind == RATE:
        return f"{value * 100:.2f}%"
    if kind == SECONDS:
        return f"{value / 3600:.2f}"
    return str(value)


def table_rows(table: Table) -> list[list[str]]:
    return [[cell(c.kind, row.get(c.key)) for c in table.columns] for row in table.rows]


def table_header(table: Table) -> list[str]:
    return [
        _("%(label)s（小时）") % {"label": c.label}
        if c.kind == SECONDS
        else (_("%(label)s（元）") % {"label": c.label} if c.kind == FEN else str(c.label))
        for c in table.columns
    ]


def table_csv(table: Table, period: Period) -> StreamingHttpResponse:
    return csv_response(
        f"{table.key}_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv", table_header(table), table_rows(table)
    )


# ---- record exports ------------------------------------------------------------------------------------


def orders_queryset(period: Period):
    return (
        Order.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
        .order_by("created_at", "id")
        .values_list(
            "order_no",
            "created_at",
            "paid_at",
            "status",
            "item_type",
            "item_id",
            "title",
            "list_price_fen",
            "discount_fen",
            "amount_fen",
            "refunded_fen",
            "channel",
            "user_id",
            "user__member_no",
            "user__nickname",
            "referrer_id",
            "referrer__nickname",
            "referral_code",
        )
    )


def orders_rows(period: Period) -> Iterator[list]:
    statuses = dict(Order.Status.choices)
    for (
        order_no,
        created_at,
        paid_at,
        status,
        item_type,
        item_id,
        title,
        list_price,
        discount,
        amount,
        refunded,
        channel,
        user_id,
        member_no,
        nickname,
        referrer_id,
        referrer_nickname,
        referral_code,
    ) in orders_queryset(period).iterator(chunk_size=CHUNK_SIZE):
        yield [
            order_no,
            local(created_at),
            local(paid_at),
            statuses.get(status, status),
            item_type_label(item_type),
            item_id,
            title,
            yuan(list_price),
            yuan(discount),
            yuan(amount),
            yuan(refunded),
            yuan(amount - refunded),
            channel_label(channel),
            user_id,
            member_no or "",
            nickname,
            referrer_id or "",
            referrer_nickname or "",
            referral_code,
        ]


ORDER_HEADER = [
    gettext_lazy("订单号"),
    gettext_lazy("下单时间"),
    gettext_lazy("支付时间"),
    gettext_lazy("状态"),
    gettext_lazy("商品类型"),
    gettext_lazy("商品ID"),
    gettext_lazy("商品名称"),
    gettext_lazy("原价（元）"),
    gettext_lazy("优惠（元）"),
    gettext_lazy("实付（元）"),
    gettext_lazy("已退款（元）"),
    gettext_lazy("净收入（元）"),
    gettext_lazy("支付渠道"),
    gettext_lazy("用户ID"),
    gettext_lazy("会员编号"),
    gettext_lazy("昵称"),
    gettext_lazy("推荐人ID"),
    gettext_lazy("推荐人"),
    gettext_lazy("推荐码"),
]


def orders_csv(period: Period) -> StreamingHttpResponse:
    return csv_response(
        f"orders_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv", ORDER_HEADER, orders_rows(period)
    )


def members_rows(period: Period | None) -> Iterator[list]:
    membership = Membership.objects.filter(user=OuterRef("pk"))
    onboarding = Onboarding.objects.filter(user=OuterRef("pk"))
    paid = (
        Order.objects.filter(user=OuterRef("pk"), paid_at__isnull=False)
        .order_by()
        .values("user")
        .annotate(total=Sum(F("amount_fen") - F("refunded_fen")))
        .values("total")
    )
    qs = User.objects.filter(is_staff=False)
    if period is not None:
        qs = qs.filter(date_joined__gte=period.start_at, date_joined__lt=period.end_at)
    qs = (
        qs.annotate(
            tier=Subquery(membership.values("tier__code")[:1]),
            ends_at=Subquery(membership.values("ends_at")[:1]),
            stage=Subquery(onboarding.values("stage")[:1]),
            sales=Subquery(onboarding.values("sales_rep__nickname")[:1]),
            acq=acquisition_channel(),
            acq_referrer=acquisition_referrer(),
            paid_total=Coalesce(Subquery(paid), 0),
        )
        .order_by("id")
        .values_list(
            "id",
            "member_no",
            "nickname",
            "phone",
            "date_joined",
            "tier",
            "ends_at",
            "stage",
            "sales",
            "acq",
            "acq_referrer",
            "paid_total",
        )
    )
    stages = dict(Onboarding.Stage.choices)
    now = timezone.now()
    for (
        uid,
        member_no,
        nickname,
        phone,
        joined,
        tier,
        ends_at,
        stage,
        sales,
        acq,
        referrer,
        paid_total,
    ) in qs.iterator(chunk_size=CHUNK_SIZE):
        yield [
            uid,
            member_no or "",
            nickname,
            mask_phone(phone) if phone else "",
            local(joined),
            tier or "",
            local(ends_at),
            (_("有效") if ends_at > now else _("已过期")) if ends_at else "",
            stages.get(stage, stage or ""),
            sales or "",
            channel_name(acq),
            referrer or "",
            yuan(paid_total),
        ]


MEMBER_HEADER = [
    gettext_lazy("用户ID"),
    gettext_lazy("会员编号"),
    gettext_lazy("昵称"),
    gettext_lazy("手机号（脱敏）"),
    gettext_lazy("注册时间"),
    gettext_lazy("会员等级"),
    gettext_lazy("到期时间"),
    gettext_lazy("会员状态"),
    gettext_lazy("入会引导步骤"),
    gettext_lazy("销售顾问"),
    gettext_lazy("获客渠道"),
    gettext_lazy("推荐人ID"),
    gettext_lazy("累计实付（扣退款，元）"),
]


def members_csv(period: Period | None) -> StreamingHttpResponse:
    name = f"members_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv" if period else "members_all.csv"
    return csv_response(name, MEMBER_HEADER, members_rows(period))


def commissions_rows(period: Period) -> Iterator[list]:
    statuses = dict(Commission.Status.choices)
    skip = dict(Commission.SkipReason.choices)
    rewards = dict(RewardKind.choices)
    qs = (
        Commission.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
        .order_by("created_at", "id")
        .values_list(
            "created_at",
            "order__order_no",
            "level",
            "beneficiary_id",
            "beneficiary__nickname",
            "buyer_id",
            "item_type",
            "base_fen",
            "rate_bp",
            "amount_fen",
            "reversed_fen",
            "reward_kind",
            "status",
            "skip_reason",
            "hold_until",
        )
    )
    for (
        created,
        order_no,
        level,
        bid,
        bname,
        buyer,
        item_type,
        base,
        rate_bp,
        amount,
        reversed_,
        kind,
        status,
        reason,
        hold,
    ) in qs.iterator(chunk_size=CHUNK_SIZE):
        yield [
            local(created),
            order_no,
            level,
            bid,
            bname,
            buyer,
            item_type_label(item_type),
            yuan(base),
            f"{rate_bp / 100:.2f}%",
            yuan(amount),
            yuan(reversed_),
            yuan(amount - reversed_),
            rewards.get(kind, kind),
            statuses.get(status, status),
            skip.get(reason, reason) if reason else "",
            local(hold),
        ]


COMMISSION_HEADER = [
    gettext_lazy("计提时间"),
    gettext_lazy("订单号"),
    gettext_lazy("层级"),
    gettext_lazy("推广员ID"),
    gettext_lazy("推广员"),
    gettext_lazy("购买人ID"),
    gettext_lazy("商品类型"),
    gettext_lazy("计佣金额（元）"),
    gettext_lazy("比例"),
    gettext_lazy("佣金（元）"),
    gettext_lazy("已冲回（元）"),
    gettext_lazy("净佣金（元）"),
    gettext_lazy("奖励方式"),
    gettext_lazy("状态"),
    gettext_lazy("未发放原因"),
    gettext_lazy("结算时间"),
]


def commissions_csv(period: Period) -> StreamingHttpResponse:
    return csv_response(
        f"commissions_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv",
        COMMISSION_HEADER,
        commissions_rows(period),
    )


def withdrawals_rows(period: Period) -> Iterator[list]:
    statuses = dict(Withdrawal.Status.choices)
    methods = {code: str(label) for code, label in PayoutMethod.choices}
    qs = (
        Withdrawal.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
        .order_by("created_at", "id")
        .values_list(
            "id",
            "created_at",
            "user_id",
            "user__nickname",
            "amount_fen",
            "method",
            "status",
            "real_name",
            "out_bill_no",
            "transfer_bill_no",
            "bank_reference",
            "first_approved_by__username",
            "second_approved_by__username",
            "paid_at",
            "reject_reason",
            "fail_reason",
        )
    )
    for (
        wid,
        created,
        uid,
        nickname,
        amount,
        method,
        status,
        real_name,
        bill,
        transfer,
        bank_ref,
        first,
        second,
        paid_at,
        reject,
        fail,
    ) in qs.iterator(chunk_size=CHUNK_SIZE):
        yield [
            wid,
            local(created),
            uid,
            nickname,
            yuan(amount),
            methods.get(method, method),
            statuses.get(status, status),
            mask_name(real_name) if real_name else "",
            bill,
            transfer or "",
            bank_ref,
            first or "",
            second or "",
            local(paid_at),
            reject,
            fail,
        ]


WITHDRAWAL_HEADER = [
    gettext_lazy("提现ID"),
    gettext_lazy("申请时间"),
    gettext_lazy("会员ID"),
    gettext_lazy("昵称"),
    gettext_lazy("金额（元）"),
    gettext_lazy("方式"),
    gettext_lazy("状态"),
    gettext_lazy("收款人（脱敏）"),
    gettext_lazy("商户单号"),
    gettext_lazy("微信转账单号"),
    gettext_lazy("银行流水号"),
    gettext_lazy("初审"),
    gettext_lazy("复核"),
    gettext_lazy("到账时间"),
    gettext_lazy("驳回原因"),
    gettext_lazy("失败原因"),
]


def withdrawals_csv(period: Period) -> StreamingHttpResponse:
    return csv_response(
        f"withdrawals_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv",
        WITHDRAWAL_HEADER,
        withdrawals_rows(period),
    )
