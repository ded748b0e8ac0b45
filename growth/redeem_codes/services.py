"""Redeem codes (兑换码): making a batch, redeeming a code, revoking what was not used.

A batch is N single-use codes for one item, sold offline (a company buying VIP for its staff). A
member redeems a code through a zero-amount order (`payments.orders.checkout.order_create_free`,
channel `redeem_code`), so the item's own fulfilment, revocation and every report treat it as any
other order. The rules:

- codes are 12 characters drawn at random (`secrets`) from 31 letters and digits that cannot be
  misread (no 0/O, 1/I/L): about 59 bits, so guessing one is hopeless, and the API is throttled;
- an unknown, used, revoked or expired code gets the same answer (`redeem_code_invalid`), so the
  answer tells a guesser nothing about which codes exist;
- the code's row is locked while it is redeemed: sent by many members at once, it makes one order;
- a member redeems at most one code of a batch (a database constraint); the next code is for a
  colleague;
- revoking ends the codes not yet redeemed; a redeemed code's item stays, as a sold item does.
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from growth.models import RedeemCode, RedeemCodeBatch
from payments import items
from payments.orders.checkout import order_create_free

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
MAX_BATCH_SIZE = 10_000
# What a code can be for: things a person holds. Not tips, paid questions or group-buy seats, whose
# price or counterpart is decided at the moment of buying.
REDEEMABLE_ITEM_TYPES = ("membership", "membership_days", "course", "event", "camp", "circle")
CHANNEL = "redeem_code"


def invalid_code() -> ApplicationError:
    return ApplicationError(
        "redeem_code_invalid", _("兑换码无效：请检查是否输入正确，或已被使用、作废、过期"), status_code=400
    )


def normalize_code(raw: str) -> str:
    """What a person typed, as stored: spaces and dashes dropped, upper case; "" when it cannot be a code."""
    code = "".join(str(raw or "").split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return ""
    return code


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _i in range(CODE_LENGTH))


def item_title_for(*, item_type: str, item_id: str, operator) -> str:
    """The item's name as a buyer would see it; raises ApplicationError for an item that cannot be had."""
    if item_type not in REDEEMABLE_ITEM_TYPES:
        raise ApplicationError(
            "item_not_redeemable",
            _("兑换码只能用于会员、会员天数、课程、线下活动、训练营和圈子"),
            fields={"item_type": [_("不支持的商品类型")]},
        )
    kind = items.get(item_type)
    try:
        return kind.quote(user=AnonymousUser(), item_id=item_id, free_grant=True).title
    except items.ItemUnavailable as exc:
        raise ApplicationError(exc.code, exc.message, fields={"item_id": [exc.message]}) from None
    except (ApplicationError, AttributeError, TypeError):
        # Quoted for a signed-in person only (a circle's period …): ask as the operator.
        return kind.quote(user=operator, item_id=item_id, free_grant=True).title


def batch_check(*, name: str, item_type: str, item_id: str, size: int, expires_at: datetime, operator) -> str:
    """Whether a batch may be made, as making it would decide (the admin form asks first): the item's
    title, or an ApplicationError naming the field (`fields`)."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("batch_name_required", _("请填写批次名称"), fields={"name": [_("必填")]})
    if not 1 <= int(size) <= MAX_BATCH_SIZE:
        raise ApplicationError(
            "batch_size_invalid",
            _("数量须在 1 到 %(max)s 之间") % {"max": MAX_BATCH_SIZE},
            fields={"size": [_("数量须在 1 到 %(max)s 之间") % {"max": MAX_BATCH_SIZE}]},
        )
    if expires_at <= timezone.now():
        raise ApplicationError(
            "batch_expiry_past", _("兑换截止时间须晚于现在"), fields={"expires_at": [_("须晚于现在")]}
        )
    return item_title_for(item_type=item_type, item_id=str(item_id).strip(), operator=operator)


def batch_create(
    *,
    name: str,
    item_type: str,
    item_id: str,
    size: int,
    expires_at: datetime,
    created_by,
    note: str = "",
) -> RedeemCodeBatch:
    """A batch of `size` fresh codes for the item, recorded in the audit log."""
    title = batch_check(
        name=name, item_type=item_type, item_id=item_id, size=size, expires_at=expires_at, operator=created_by
    )
    name, item_id = name.strip(), str(item_id).strip()
    with transaction.atomic():
        batch = RedeemCodeBatch.objects.create(
            name=name[:64],
            item_type=item_type,
            item_id=item_id,
            item_title=title[:200],
            size=size,
            expires_at=expires_at,
            note=(note or "").strip()[:200],
            created_by=created_by if getattr(created_by, "pk", None) else None,
        )
        _add_codes(batch, size)
        audit_record(
            actor=created_by,
            action="growth.redeem_batch_create",
            target=batch,
            summary=f"兑换码批次「{batch.name}」{size} 个：{title}",
            item_type=item_type,
            item_id=item_id,
            size=size,
        )
    return batch


def _add_codes(batch: RedeemCodeBatch, size: int) -> None:
    """`size` codes no other batch has. A collision (one in 10^17 per pair) is drawn again."""
    codes: set[str] = set()
    while len(codes) < size:
        wanted = {new_code() for _i in range(size - len(codes))} - codes
        taken = set(RedeemCode.objects.filter(code__in=wanted).values_list("code", flat=True))
        codes |= wanted - taken
    try:
        with transaction.atomic():
            RedeemCode.objects.bulk_create([RedeemCode(batch=batch, code=code) for code in codes])
    except IntegrityError:  # another batch took one of them meanwhile
        _add_codes(batch, size)


def code_redeem(*, user, raw_code: str) -> RedeemCode:
    """Redeem a code for `user`: its item through a zero-amount order. Raises `redeem_code_invalid`
    (400) for an unknown, used, revoked or expired code, alike; `redeem_code_batch_used` when this
    member already redeemed a code of the batch; the item's own refusal (a lower tier while a higher
    one is active, a course already held …) leaves the code unused. The member's retry of their own
    redemption answers with it again."""
    code = normalize_code(raw_code)
    if not code:
        raise invalid_code()
    with transaction.atomic():
        row = (
            RedeemCode.objects.select_for_update(of=("self",))
            .select_related("batch", "order")
            .filter(code=code)
            .first()
        )
        if row is None:
            raise invalid_code()
        if row.redeemed_by_id is not None and row.redeemed_by_id == user.pk:
            return row  # a retry after the answer was lost: the same redemption
        now = timezone.now()
        if row.state_at(now) != RedeemCode.State.UNUSED:
            raise invalid_code()
        batch = row.batch
        if RedeemCode.objects.filter(batch=batch, redeemed_by=user).exists():
            raise ApplicationError(
                "redeem_code_batch_used",
                _("你已兑换过「%(batch)s」的兑换码，每人限兑一个") % {"batch": batch.name},
                status_code=409,
            )
        order = order_create_free(
            user=user,
            item_type=batch.item_type,
            item_id=batch.item_id,
            reason=_("兑换码 %(code)s") % {"code": row.display},
            channel=CHANNEL,
        )
        row.redeemed_by, row.redeemed_at, row.order = user, now, order
        row.save(update_fields=["redeemed_by", "redeemed_at", "order"])
    return row


def batch_revoke(*, batch: RedeemCodeBatch, operator, reason: str = "") -> int:
    """End the batch: its codes not yet redeemed can no longer be. Returns how many were ended."""
    with transaction.atomic():
        batch = RedeemCodeBatch.objects.select_for_update().get(pk=batch.pk)
        now = timezone.now()
        ended = RedeemCode.objects.filter(
            batch=batch, redeemed_by__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        if batch.revoked_at is None:
            batch.revoked_at, batch.revoked_by = now, operator if getattr(operator, "pk", None) else None
            batch.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=operator,
            action="growth.redeem_batch_revoke",
            target=batch,
            summary=f"作废兑换码批次「{batch.name}」未兑换的 {ended} 个" + (f"：{reason}" if reason else ""),
            ended=ended,
        )
    return ended


def code_revoke(*, code: RedeemCode, operator, reason: str = "") -> bool:
    """End one unused code (lost, sent to the wrong person). False when it was already redeemed or ended."""
    with transaction.atomic():
        ended = RedeemCode.objects.filter(
            pk=code.pk, redeemed_by__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if ended:
            audit_record(
                actor=operator,
                action="growth.redeem_code_revoke",
                target=code,
                summary=f"作废兑换码 {code.display}" + (f"：{reason}" if reason else ""),
            )
    return bool(ended)


# Column names stay plain ASCII for scripts (API.md: "a CSV with a `code` column"); values are for people.
CSV_COLUMNS = ("code", "batch", "item", "expires_at", "state", "redeemed_at")


def batch_csv(batch: RedeemCodeBatch) -> str:
    """The batch's codes for the buyer (a `code` column first; codes printed in groups of four)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    now = timezone.now()
    expires = timezone.localtime(batch.expires_at).strftime("%Y-%m-%d %H:%M")
    states = dict(RedeemCode.State.choices)  # 未兑换 / 已兑换 … for the buyer reading the sheet
    for row in batch.codes.select_related("batch").order_by("id"):
        redeemed = timezone.localtime(row.redeemed_at).strftime("%Y-%m-%d %H:%M") if row.redeemed_at else ""
        writer.writerow(
            [row.display, batch.name, batch.item_title, expires, states[row.state_at(now)], redeemed]
        )
    return out.getvalue()
