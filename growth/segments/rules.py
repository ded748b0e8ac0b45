"""Segment rules: the JSON a segment or a rule tag keeps, validated field by field and turned into one
User queryset. Never SQL typed by a person: each condition is a known type with checked fields.

    {"conditions": [
        {"type": "membership", "tier": "VIP", "state": "ends_within", "days": 30},
        {"type": "purchase", "item_type": "course", "min_total_fen": 0, "days": 90},
        {"type": "activity", "visited": false, "days": 30},
        {"type": "channel", "channel": "poster"},
        {"type": "promoter", "is_promoter": true},
        {"type": "camp", "camp_id": 3, "progress": "checkins", "min_checkins": 7},
        {"type": "tags", "match": "any", "tag_ids": [1, 2]}
    ]}

Every condition must hold (AND); no condition means every member. Members are active, non-staff
accounts. The definitions are the project's own, so a segment counts what the dashboard counts:

- membership — active is `starts_at ≤ now < ends_at` (members.memberships.selectors.active_membership);
  `ends_within` N days: active and ending within N days; `expired_within` N days: ended within the last
  N days (0: ended at any time); `never`: no membership was ever granted. `tier` is an exact tier code.
- purchase — a valid purchase as the dashboard counts it (insights: paid, amount > 0, not fully
  refunded), of `item_type` if given, paid in the last `days` (0: ever); with `min_total_fen` > 0, what
  those purchases kept after refunds adds up to at least that.
- activity — the last visit is `User.last_login`, what the project records of visits (web sign-in and
  every mini-program login set it); `visited: false` includes members who never came back.
- channel — how the member was acquired: the channel of their first referral binding, or `direct`
  (referrals.selectors.acquisition_channel, the dashboard's definition).
- promoter — holds a promoter profile that is not blocked (referrals.models.Promoter).
- camp — holds an active seat in a term (of `camp_id`, or any camp); `checkins`: at least
  `min_checkins` check-in days; `graduated`: completed the term (结营, TermSeat.completed_at).
- tags — carries any / all / none of the tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from core.errors import ApplicationError
from courses.models import Camp, TermSeat
from growth.models import MemberTag, Tag
from members.models import Membership, MembershipTier, User
from payments import items
from payments.models import Order
from referrals.models import LinkChannel, Promoter
from referrals.selectors import DIRECT, acquisition_channel

MAX_CONDITIONS = 20
MAX_DAYS = 3650


class _Days(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_DAYS)
        kwargs.setdefault("default", 0)
        super().__init__(**kwargs)


class MembershipCondition(serializers.Serializer):
    STATES = ("active", "ends_within", "expired_within", "never")
    tier = serializers.CharField(required=False, allow_blank=True, default="", max_length=16)
    state = serializers.ChoiceField(choices=STATES)
    days = _Days()

    def validate_tier(self, value: str) -> str:
        if value and not MembershipTier.objects.filter(code=value).exists():
            raise serializers.ValidationError(_("没有代码为 %(code)s 的会员等级") % {"code": value})
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["state"] == "never" and attrs.get("tier"):
            raise serializers.ValidationError({"tier": _("「从未开通」不能再限定等级")})
        if attrs["state"] == "ends_within" and attrs["days"] < 1:
            raise serializers.ValidationError({"days": _("请填写天数（至少 1 天）")})
        return attrs


class PurchaseCondition(serializers.Serializer):
    item_type = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    min_total_fen = serializers.IntegerField(required=False, default=0, min_value=0)
    days = _Days()

    def validate_item_type(self, value: str) -> str:
        if value and value not in items.registered():
            raise serializers.ValidationError(_("未知的商品类型 %(code)s") % {"code": value})
        return value


class ActivityCondition(serializers.Serializer):
    visited = serializers.BooleanField()
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS)


class ChannelCondition(serializers.Serializer):
    channel = serializers.ChoiceField(choices=[DIRECT, *LinkChannel.values])


class PromoterCondition(serializers.Serializer):
    is_promoter = serializers.BooleanField(default=True)


class CampCondition(serializers.Serializer):
    camp_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    progress = serializers.ChoiceField(choices=("enrolled", "checkins", "graduated"), default="enrolled")
    min_checkins = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_DAYS)

    def validate_camp_id(self, value: int | None) -> int | None:
        if value is not None and not Camp.objects.filter(pk=value).exists():
            raise serializers.ValidationError(_("没有编号为 %(id)s 的训练营") % {"id": value})
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["progress"] == "checkins" and attrs["min_checkins"] < 1:
            raise serializers.ValidationError({"min_checkins": _("请填写打卡天数（至少 1 天）")})
        return attrs


class TagsCondition(serializers.Serializer):
    match = serializers.ChoiceField(choices=("any", "all", "none"), default="any")
    tag_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=50)

    def validate_tag_ids(self, value: list[int]) -> list[int]:
        wanted = sorted(set(value))
        found = set(Tag.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        if missing := [pk for pk in wanted if pk not in found]:
            raise serializers.ValidationError(
                _("没有编号为 %(ids)s 的标签") % {"ids": ", ".join(map(str, missing))}
            )
        return wanted


CONDITIONS: dict[str, type[serializers.Serializer]] = {
    "membership": MembershipCondition,
    "purchase": PurchaseCondition,
    "activity": ActivityCondition,
    "channel": ChannelCondition,
    "promoter": PromoterCondition,
    "camp": CampCondition,
    "tags": TagsCondition,
}
CONDITION_LABELS = {
    "membership": gettext_lazy("会员等级与状态"),
    "purchase": gettext_lazy("购买"),
    "activity": gettext_lazy("最近访问"),
    "channel": gettext_lazy("获客渠道"),
    "promoter": gettext_lazy("推广员"),
    "camp": gettext_lazy("训练营进度"),
    "tags": gettext_lazy("标签"),
}


def rule_validate(rule: Any) -> dict:
    """The rule, normalised (defaults filled in), or ApplicationError naming each bad condition
    (`fields` = {"rule": ["第 2 个条件 · days：…"]}). Nothing is queried but the ids it names."""
    if rule in (None, "", {}):
        return {"conditions": []}
    if (
        not isinstance(rule, dict)
        or set(rule) - {"conditions"}
        or not isinstance(rule.get("conditions"), list)
    ):
        raise _invalid([_('规则须为 {"conditions": [条件, …]}')])
    conditions = rule["conditions"]
    if len(conditions) > MAX_CONDITIONS:
        raise _invalid([_("条件最多 %(n)s 个") % {"n": MAX_CONDITIONS}])
    errors, normalised = [], []
    for position, condition in enumerate(conditions, start=1):
        kind = condition.get("type") if isinstance(condition, dict) else None
        serializer_class = CONDITIONS.get(kind) if isinstance(kind, str) else None
        if serializer_class is None:
            errors.append(
                _("第 %(n)s 个条件：type 须为 %(types)s 之一")
                % {"n": position, "types": ", ".join(CONDITIONS)}
            )
            continue
        data = {key: value for key, value in condition.items() if key != "type"}
        unknown = set(data) - set(serializer_class().fields)
        serializer = serializer_class(data=data)
        if unknown:
            errors.append(
                _("第 %(n)s 个条件：不认识的字段 %(fields)s")
                % {"n": position, "fields": ", ".join(sorted(unknown))}
            )
        elif not serializer.is_valid():
            for field, messages in serializer.errors.items():
                for message in messages:
                    errors.append(
                        _("第 %(n)s 个条件 · %(field)s：%(message)s")
                        % {"n": position, "field": field, "message": message}
                    )
        else:
            normalised.append({"type": kind, **serializer.validated_data})
    if errors:
        raise _invalid(errors)
    return {"conditions": normalised}


def _invalid(messages: list[str]) -> ApplicationError:
    return ApplicationError("segment_rule_invalid", "；".join(messages), fields={"rule": messages})


def audience() -> QuerySet[User]:
    """Who any segment is drawn from: active accounts that are not staff."""
    return User.objects.filter(is_active=True, is_staff=False)


def rule_queryset(rule: Any, *, now: datetime | None = None) -> QuerySet[User]:
    """The members matching every condition of a (valid) rule, as one statement."""
    now = now or timezone.now()
    queryset = audience()
    for condition in rule_validate(rule)["conditions"]:
        queryset = queryset.filter(_condition_filter(condition, now))
    return queryset


def _condition_filter(condition: dict, now: datetime) -> Any:
    kind = condition["type"]
    if kind == "membership":
        return _membership(condition, now)
    if kind == "purchase":
        return _purchase(condition, now)
    if kind == "activity":
        since = now - timedelta(days=condition["days"])
        return (
            Q(last_login__gte=since)
            if condition["visited"]
            else Q(last_login__isnull=True) | Q(last_login__lt=since)
        )
    if kind == "channel":
        return Exact(acquisition_channel(), condition["channel"])
    if kind == "promoter":
        found = Exists(Promoter.objects.filter(user=OuterRef("pk"), is_blocked=False))
        return found if condition["is_promoter"] else ~found
    if kind == "camp":
        seats = TermSeat.objects.filter(user=OuterRef("pk"), status=TermSeat.Status.ACTIVE)
        if condition["camp_id"] is not None:
            seats = seats.filter(term__camp_id=condition["camp_id"])
        if condition["progress"] == "checkins":
            seats = seats.filter(checkin_days__gte=condition["min_checkins"])
        elif condition["progress"] == "graduated":
            seats = seats.filter(completed_at__isnull=False)
        return Exists(seats)
    if kind == "tags":

        def carries(tag_id: int) -> Exists:
            return Exists(MemberTag.objects.filter(user=OuterRef("pk"), tag_id=tag_id))

        if condition["match"] == "all":
            combined = Q()
            for tag_id in condition["tag_ids"]:
                combined &= Q(carries(tag_id))
            return combined
        anyone = Exists(MemberTag.objects.filter(user=OuterRef("pk"), tag_id__in=condition["tag_ids"]))
        return ~anyone if condition["match"] == "none" else anyone
    raise AssertionError(kind)  # rule_validate admits only the kinds above


def _membership(condition: dict, now: datetime) -> Any:
    memberships = Membership.objects.filter(user=OuterRef("pk"))
    state = condition["state"]
    if state == "never":
        return ~Exists(memberships)
    if condition["tier"]:
        memberships = memberships.filter(tier__code=condition["tier"])
    if state == "active":
        memberships = memberships.filter(starts_at__lte=now, ends_at__gt=now)
    elif state == "ends_within":
        memberships = memberships.filter(
            starts_at__lte=now, ends_at__gt=now, ends_at__lte=now + timedelta(days=condition["days"])
        )
    else:  # expired_within
        memberships = memberships.filter(ends_at__lte=now)
        if condition["days"]:
            memberships = memberships.filter(ends_at__gt=now - timedelta(days=condition["days"]))
    return Exists(memberships)


def valid_purchases() -> QuerySet[Order]:
    """The dashboard's valid purchase: paid, more than zero, not fully refunded."""
    return Order.objects.filter(paid_at__isnull=False, amount_fen__gt=0).exclude(status=Order.Status.REFUNDED)


def _purchase(condition: dict, now: datetime) -> Any:
    orders = valid_purchases().filter(user=OuterRef("pk"))
    if condition["item_type"]:
        orders = orders.filter(item_type=condition["item_type"])
    if condition["days"]:
        orders = orders.filter(paid_at__gte=now - timedelta(days=condition["days"]))
    if not condition["min_total_fen"]:
        return Exists(orders)
    kept = orders.values("user").annotate(total=Sum(F("amount_fen") - F("refunded_fen"))).values("total")[:1]
    return GreaterThanOrEqual(Coalesce(Subquery(kept), 0), condition["min_total_fen"])


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[User]


PREVIEW_SAMPLE = 10


def rule_preview(rule: Any, *, sample: int = PREVIEW_SAMPLE, now: datetime | None = None) -> Preview:
    """How many members a rule matches and the most recent few of them: two statements (a count and a
    sample with its tier), whatever the rule and the audience size."""
    queryset = rule_queryset(rule, now=now)
    members = list(queryset.select_related("membership__tier").order_by("-date_joined", "-pk")[:sample])
    count = len(members) if len(members) < sample else queryset.count()
    return Preview(count=count, sample=members)


def rule_summary(rule: Any) -> str:
    """The rule in words for lists ("会员等级与状态 · 购买"); the JSON itself is on the page."""
    conditions = (rule or {}).get("conditions", []) if isinstance(rule, dict) else []
    if not conditions:
        return _("全部会员")
    return " · ".join(str(CONDITION_LABELS.get(c.get("type"), c.get("type"))) for c in conditions)
