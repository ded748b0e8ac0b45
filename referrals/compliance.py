"""Compliance view of the referral programme (docs/architecture.md §2, 《禁止传销条例》).

- Referral trees from the current bindings: depth counted *including* the top person (A→B→C is 3,
  as criminal cases count levels), size, and each participant's fees paid (net of refunds).
- Warnings when the configuration drifts toward the prohibited patterns: paying uplines on downline
  sales (level 2), a purchase as the condition to earn (entry fee), unusually high rates, and trees
  that reach the prosecution thresholds (≥ 3 levels and ≥ 30 people).
Reads only; a constant number of queries whatever the number of members.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import csvsafe
from members.models import User
from payments.models import Order
from referrals.models import Commission, CommissionRule, PromoterLevel, ReferralBinding, ReferralSettings

PROSECUTION_LEVELS = 3  # 组织、领导传销活动：层级三级以上
PROSECUTION_PEOPLE = 30  # 且人员三十人以上
HIGH_RATE_BP = 3000  # combined commission above 30% of the price reads as a recruitment scheme


@dataclass
class Participant:
    user_id: int
    name: str
    member_no: str
    referrer_id: int | None
    depth: int  # 1 = the top of the tree
    fees_paid_fen: int = 0
    commission_fen: int = 0
    bound_at: datetime | None = None


@dataclass
class Tree:
    root_id: int
    root_name: str
    depth: int
    size: int
    fees_paid_fen: int
    commission_fen: int
    participants: list[Participant] = field(default_factory=list)


@dataclass(frozen=True)
class Warning:
    severity: str  # "danger" | "warn" | "info"
    code: str
    message: str


def referral_trees(*, with_participants: bool = True) -> list[Tree]:
    """Every tree of the current (open, unexpired) bindings, largest first."""
    now = timezone.now()
    edges = list(
        ReferralBinding.objects.filter(ended_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("user_id", "referrer_id", "bound_at")
    )
    if not edges:
        return []
    parent = {child: (ref, bound) for child, ref, bound in edges}
    children: dict[int, list[int]] = defaultdict(list)
    for child, ref, _bound in edges:
        children[ref].append(child)
    people = set(parent) | set(children)
    roots = sorted(p for p in people if p not in parent)
    fees = dict(
        Order.objects.filter(
            user_id__in=people,
            amount_fen__gt=0,
            status__in=[
                Order.Status.PAID,
                Order.Status.PARTIALLY_REFUNDED,
                Order.Status.REFUNDING,
                Order.Status.REFUNDED,
            ],
        )
        .values("user_id")
        .annotate(total=Sum(F("amount_fen") - F("refunded_fen")))
        .values_list("user_id", "total")
    )
    earned = dict(
        Commission.objects.filter(beneficiary_id__in=people)
        .exclude(status=Commission.Status.SKIPPED)
        .values("beneficiary_id")
        .annotate(total=Sum(F("amount_fen") - F("reversed_fen")))
        .values_list("beneficiary_id", "total")
    )
    users = {
        row[0]: row[1:]
        for row in User.objects.filter(pk__in=people).values_list("pk", "nickname", "username", "member_no")
    }
    trees: list[Tree] = []
    for root in roots:
        participants: list[Participant] = []
        stack = [(root, 1)]
        while stack:
            person, depth = stack.pop()
            nickname, username, member_no = users.get(person, ("", "", ""))
            participants.append(
                Participant(
                    user_id=person,
                    name=nickname or username or str(person),
                    member_no=member_no or "",
                    referrer_id=parent.get(person, (None, None))[0],
                    depth=depth,
                    fees_paid_fen=int(fees.get(person, 0) or 0),
                    commission_fen=int(earned.get(person, 0) or 0),
                    bound_at=parent.get(person, (None, None))[1],
                )
            )
            for child in sorted(children.get(person, []), reverse=True):
                stack.append((child, depth + 1))
        trees.append(
            Tree(
                root_id=root,
                root_name=participants[0].name,
                depth=max(p.depth for p in participants),
                size=len(participants),
                fees_paid_fen=sum(p.fees_paid_fen for p in participants),
                commission_fen=sum(p.commission_fen for p in participants),
                participants=participants if with_participants else [],
            )
        )
    trees.sort(key=lambda t: (-t.depth, -t.size, t.root_id))
    return trees


def configuration_warnings(conf: ReferralSettings | None = None) -> list[Warning]:
    """Warnings about the settings and rules themselves (shown in admin next to the editors)."""
    conf = conf or ReferralSettings.current()
    warnings: list[Warning] = []
    if conf.commission_depth >= 2:
        warnings.append(
            Warning(
                "danger",
                "level2_enabled",
                _(
                    "已开启二级分佣：上级从下级的销售中获利，连同付款人共三级，接近《禁止传销条例》第七条所禁止的模式。"
                    "除非有明确的法律意见，请改回仅一级。"
                ),
            )
        )
    if conf.earning_requires_membership:
        warnings.append(
            Warning(
                "danger",
                "purchase_required",
                _(
                    "获得佣金须先购买会员：以购买作为推广资格的条件，有“缴纳入门费”之嫌。推广资格不应要求购买。"
                ),
            )
        )
    if PromoterLevel.objects.filter(is_default=True).count() == 0 and PromoterLevel.objects.exists():
        warnings.append(
            Warning("warn", "no_default_level", _("没有默认推广员级别：新用户将按通用佣金规则计算。"))
        )
    rules = CommissionRule.objects.filter(is_active=True)
    level1: dict[tuple[str, str], int] = defaultdict(int)
    level2: dict[tuple[str, str], int] = defaultdict(int)
    for rule in rules:
        target = (rule.item_type, rule.item_id)
        bucket = level1 if rule.level == 1 else level2
        bucket[target] = max(bucket[target], rule.rate_bp)
        if rule.level == 2 and conf.commission_depth < 2:
            warnings.append(
                Warning(
                    "info",
                    "level2_rule_inactive",
                    _("规则「%(rule)s」为二级分佣，当前未开启二级，不会生效。") % {"rule": str(rule)},
                )
            )
    top_level_rate = max([lvl.commission_rate_bp or 0 for lvl in PromoterLevel.objects.all()] or [0])
    for target in set(level1) | set(level2):
        direct = level1.get(target)
        combined = max(direct, top_level_rate) if direct is not None else 0
        if conf.commission_depth >= 2:
            combined += level2.get(target, 0)
        if combined > HIGH_RATE_BP:
            warnings.append(
                Warning(
                    "warn",
                    "high_rate",
                    _("「%(target)s」合计佣金比例可达 %(pct)s%%：过高的佣金使收入主要来自拉人而非商品本身。")
                    % {"target": ":".join(filter(None, target)), "pct": f"{combined / 100:g}"},
                )
            )
    return warnings


def tree_warnings(trees: list[Tree], conf: ReferralSettings | None = None) -> list[Warning]:
    conf = conf or ReferralSettings.current()
    warnings: list[Warning] = []
    risky = [t for t in trees if t.depth >= PROSECUTION_LEVELS and t.size >= PROSECUTION_PEOPLE]
    if risky:
        warnings.append(
            Warning(
                "danger",
                "tree_thresholds",
                _("%(n)s 个推荐树达到三级以上且三十人以上（刑事立案标准），请核查并确认未按层级分佣。")
                % {"n": len(risky)},
            )
        )
    if conf.commission_depth >= 2:
        deep = [t for t in trees if t.depth >= PROSECUTION_LEVELS]
        if deep:
            warnings.append(
                Warning(
                    "danger",
                    "level2_paid_in_deep_trees",
                    _("%(n)s 个三级以上的推荐树在二级分佣开启期间成交。") % {"n": len(deep)},
                )
            )
    return warnings


def compliance_report() -> dict:
    conf = ReferralSettings.current()
    trees = referral_trees()
    return {
        "settings": conf,
        "trees": trees,
        "warnings": configuration_warnings(conf) + tree_warnings(trees, conf),
        "max_depth": max((t.depth for t in trees), default=0),
        "people": sum(t.size for t in trees),
    }


CSV_HEADER = [
    "tree_root_id",
    "tree_depth",
    "tree_size",
    "user_id",
    "member_no",
    "name",
    "depth_in_tree",
    "referrer_id",
    "bound_at",
    "fees_paid_fen",
    "commission_earned_fen",
]


def compliance_csv_lines() -> Iterator[str]:
    """The export operators hand to counsel: one row per participant of every tree."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(CSV_HEADER)
    yield "\ufeff" + flush()  # BOM: Excel opens UTF-8 Chinese names correctly
    for tree in referral_trees():
        for p in tree.participants:
            writer.writerow(
                [
                    tree.root_id,
                    tree.depth,
                    tree.size,
                    p.user_id,
                    p.member_no,
                    p.name,
                    p.depth,
                    p.referrer_id or "",
                    timezone.localtime(p.bound_at).isoformat() if p.bound_at else "",
                    p.fees_paid_fen,
                    p.commission_fen,
                ]
            )
        yield flush()
