"""Staff progressive profit share (分润递进): month-end close, ledger posting, later-refund corrections.

Who earns what on a member's orders (the staff chain):
- the **teacher** (讲师) in the member's service group teaches and reviews; no share of sales;
- the **sales rep** (销售顾问) earns on the net volume (paid − refunded) of the orders credited to them,
  by progressive brackets, like income tax: with 0–100k 5%, 100k–500k 8%, above 10%, a month of
  ¥200,000 earns 100k×5% + 100k×8%. An order is credited to its rep of record (`Order.sales_rep`,
  captured at checkout from the rep's own link or an operator-assigned lead: `referrals.sales_credit`)
  — so the sale that makes someone a member counts — else to the member's assigned sales rep
  (`members.Onboarding.sales_rep`) for orders paid after the assignment;
- the **supervisor** (主管) of a rep's team (`SalesTeam`) earns the team's override: `override_bp` of the
  team's net volume of the month (the members of the team at the close), floored once
  (`StaffShareOverride`).
Months follow the Asia/Shanghai calendar.

`staff_share_close_month` locks a month: it counts each order once (`StaffShareLine`, unique per
order), posts each rep's share and each supervisor's override to the ledger (`earning_accrue`, source
`staff_share`, one idempotency key per month and person) and never changes afterwards. A refund
completed after a month's end lowers that month's share and override; the difference is deducted in
the month it happens (`earning_deduct`), recorded as a `StaffShareAdjustment` /
`StaffShareOverrideAdjustment` (the refund "rolled forward"). Months close in order (so every refund
is seen by exactly one close).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from payments.models import Order, Refund
from payments.wallet import earnings
from referrals.models import (
    SalesTeam,
    StaffShareAdjustment,
    StaffShareBracket,
    StaffShareLine,
    StaffShareMonth,
    StaffShareOverride,
    StaffShareOverrideAdjustment,
    StaffShareStatement,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bracket:
    lower_fen: int
    rate_bp: int


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant, first instant of next month) in the current time zone (Asia/Shanghai)."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(month_start(month), time.min, tzinfo=tz)
    end = datetime.combine(next_month(month_start(month)), time.min, tzinfo=tz)
    return start, end


def current_brackets() -> list[Bracket]:
    return [Bracket(b.lower_fen, b.rate_bp) for b in StaffShareBracket.objects.order_by("lower_fen")]


def progressive_share(volume_fen: int, brackets: list[Bracket]) -> int:
    """Σ (part of the volume inside each bracket × its rate), floored once at the end."""
    if volume_fen <= 0 or not brackets:
        return 0
    ordered = sorted(brackets, key=lambda b: b.lower_fen)
    total_fen_bp = 0
    for index, bracket in enumerate(ordered):
        upper = ordered[index + 1].lower_fen if index + 1 < len(ordered) else None
        if volume_fen <= bracket.lower_fen:
            break
        portion = (min(volume_fen, upper) if upper is not None else volume_fen) - bracket.lower_fen
        total_fen_bp += portion * bracket.rate_bp
    return total_fen_bp // 10_000


def bracket_reached(volume_fen: int, brackets: list[Bracket]) -> Bracket | None:
    """The highest bracket a volume reaches (its rate is the marginal rate), None for no volume."""
    if volume_fen <= 0:
        return None
    reached = [b for b in brackets if b.lower_fen < volume_fen]
    return max(reached, key=lambda b: b.lower_fen) if reached else None


def statement_bracket(statement: StaffShareStatement) -> Bracket | None:
    """The bracket a closed statement's net volume reached, under the month's bracket snapshot."""
    return bracket_reached(statement.net_fen, _brackets_from_json(statement.month.brackets))


def override_share(volume_fen: int, rate_bp: int) -> int:
    """A supervisor's override on the team's net volume, floored."""
    return max(0, volume_fen) * rate_bp // 10_000


def _brackets_from_json(rows: list[dict]) -> list[Bracket]:
    return [Bracket(int(r["lower_fen"]), int(r["rate_bp"])) for r in rows]


class MonthNotClosable(ApplicationError):
    def __init__(self, code: str, message: str):
        super().__init__(code, message, status_code=409)


def staff_share_close_month(
    *, month: date, actor=None, now: datetime | None = None, trigger: str = ""
) -> StaffShareMonth:
    """Close `month` once: statements, ledger postings, deductions for earlier months' refunds.

    `actor` is the money operator who closed it (none when the schedule did); `trigger` says by what
    path (`admin`, `command`, `operator`, `schedule:<periodic task>`) and goes into the audit row."""
    now = now or timezone.now()
    month = month_start(month)
    start, end = month_bounds(month)
    if end > now:
        raise MonthNotClosable("month_not_over", _("该月尚未结束，不能结算"))
    existing = StaffShareMonth.objects.filter(month=month).first()
    if existing is not None:
        return existing
    last = StaffShareMonth.objects.order_by("-month").first()
    if last is not None and last.month > month:
        raise MonthNotClosable("month_before_last_close", _("不能结算已结算月份之前的月份"))
    if last is not None and last.month != previous_month(month):
        raise MonthNotClosable(
            "earlier_month_open",
            _("请先结算 %(month)s") % {"month": next_month(last.month).strftime("%Y-%m")},
        )
    brackets = current_brackets()
    try:
        with transaction.atomic():
            closed = StaffShareMonth.objects.create(
                month=month,
                closed_by=actor if getattr(actor, "pk", None) else None,
                brackets=[{"lower_fen": b.lower_fen, "rate_bp": b.rate_bp} for b in brackets],
            )
            statements = _close_statements(closed=closed, brackets=brackets, start=start, end=end)
            label = month.strftime("%Y-%m")
            for statement in statements:
                _post_to_ledger(
                    statement,
                    person=statement.rep,
                    key=f"staff-share:{label}:{statement.rep_id}",
                    now=now,
                    description=_("%(month)s 销售分润") % {"month": label},
                    deduction_reason=_("%(month)s 扣回往月退款对应的分润") % {"month": label},
                )
            overrides = _close_overrides(closed=closed, statements=statements, start=start, end=end)
            for override in overrides:
                _post_to_ledger(
                    override,
                    person=override.supervisor,
                    key=f"staff-share-override:{label}:{override.supervisor_id}",
                    now=now,
                    description=_("%(month)s 团队管理分润") % {"month": label},
                    deduction_reason=_("%(month)s 扣回往月退款对应的团队管理分润") % {"month": label},
                )
            closed.volume_fen = sum(s.net_fen for s in statements)
            closed.share_fen = sum(s.share_fen for s in statements)
            closed.override_fen = sum(o.share_fen for o in overrides)
            closed.adjustment_fen = sum(s.adjustment_fen for s in statements) + sum(
                o.adjustment_fen for o in overrides
            )
            closed.save(update_fields=["volume_fen", "share_fen", "override_fen", "adjustment_fen"])
            audit_record(
                actor=actor,
                action="referrals.staff_share_close",
                target=closed,
                summary=f"分润月结 {label}",
                trigger=trigger or ("operator" if getattr(actor, "pk", None) else "system"),
                reps=len(statements),
                supervisors=len(overrides),
                share_fen=closed.share_fen,
                override_fen=closed.override_fen,
                adjustment_fen=closed.adjustment_fen,
            )
    except IntegrityError:
        # Closed concurrently by another worker: that close is the answer.
        existing = StaffShareMonth.objects.filter(month=month).first()
        if existing is None:
            raise
        return existing
    return closed


def _post_to_ledger(
    row: StaffShareStatement | StaffShareOverride,
    *,
    person,
    key: str,
    now: datetime,
    description: str,
    deduction_reason: str,
) -> None:
    """Post one closed row (a rep's statement or a supervisor's override) to the ledger: its share as an
    earning available at once (idempotency key `key`), then its deduction for earlier months' refunds
    (the same key's kind with `-adjust`)."""
    if row.share_fen > 0:
        row.earning = earnings.earning_accrue(
            user=person,
            amount_fen=row.share_fen,
            source="staff_share",
            idempotency_key=key,
            hold_until=now,
            description=description,
        )
        row.save(update_fields=["earning"])
    if row.adjustment_fen > 0:
        kind, _sep, rest = key.partition(":")
        earnings.earning_deduct(
            user=person,
            amount_fen=row.adjustment_fen,
            idempotency_key=f"{kind}-adjust:{rest}",
            reason=deduction_reason,
        )


def _close_statements(
    *, closed: StaffShareMonth, brackets: list[Bracket], start: datetime, end: datetime
) -> list[StaffShareStatement]:
    # Credited: a rep of record on the order, or a member with an assigned sales rep.
    credited = Q(sales_rep__isnull=False) | Q(user__onboarding__sales_rep__isnull=False)
    orders = (
        Order.objects.filter(
            credited,
            paid_at__gte=start,
            paid_at__lt=end,
            amount_fen__gt=0,
            staff_share_line__isnull=True,
        )
        .exclude(status__in=[Order.Status.PENDING, Order.Status.CLOSED])
        .values(
            "pk",
            "user_id",
            "amount_fen",
            "paid_at",
            "sales_rep_id",
            "user__onboarding__sales_rep_id",
            "user__onboarding__reps_assigned_at",
        )
    )
    refunded = dict(
        Refund.objects.filter(
            Q(order__sales_rep__isnull=False) | Q(order__user__onboarding__sales_rep__isnull=False),
            order__paid_at__gte=start,
            order__paid_at__lt=end,
            status=Refund.Status.SUCCEEDED,
            completed_at__lt=end,
        )
        .exclude(kind=Refund.Kind.AUTO)
        .values("order_id")
        .annotate(total=Sum("amount_fen"))
        .values_list("order_id", "total")
    )
    lines_by_rep: dict[int, list[StaffShareLine]] = defaultdict(list)
    for row in orders:
        rep_id = row["sales_rep_id"]
        if rep_id is None:
            rep_id, assigned_at = (
                row["user__onboarding__sales_rep_id"],
                row["user__onboarding__reps_assigned_at"],
            )
            if assigned_at is not None and row["paid_at"] < assigned_at:
                continue  # sold before the member was assigned to this rep (and not by them)
        lines_by_rep[rep_id].append(
            StaffShareLine(
                order_id=row["pk"],
                member_id=row["user_id"],
                amount_fen=row["amount_fen"],
                refunded_at_close_fen=int(refunded.get(row["pk"], 0)),
            )
        )
    adjustments = _adjustments_due(start=start, end=end)
    statements: list[StaffShareStatement] = []
    for rep_id in sorted(set(lines_by_rep) | set(adjustments)):
        lines = lines_by_rep.get(rep_id, [])
        gross = sum(line.amount_fen for line in lines)
        refunds = sum(line.refunded_at_close_fen for line in lines)
        net = gross - refunds
        statement = StaffShareStatement.objects.create(
            month=closed,
            rep_id=rep_id,
            gross_fen=gross,
            refunded_fen=refunds,
            net_fen=net,
            share_fen=progressive_share(net, brackets),
            orders_count=len(lines),
        )
        for line in lines:
            line.statement = statement
        StaffShareLine.objects.bulk_create(lines)
        total_adjustment = 0
        for source_id, (newly_refunded, amount) in adjustments.get(rep_id, {}).items():
            StaffShareAdjustment.objects.create(
                statement=statement, source_id=source_id, refunded_fen=newly_refunded, amount_fen=amount
            )
            total_adjustment += amount
        if total_adjustment:
            statement.adjustment_fen = total_adjustment
            statement.save(update_fields=["adjustment_fen"])
        statements.append(statement)
    return statements


def _adjustments_due(*, start: datetime, end: datetime) -> dict[int, dict[int, tuple[int, int]]]:
    """{rep: {source statement: (refunds newly completed in [start, end), share to take back)}}."""
    newly = (
        Refund.objects.filter(
            status=Refund.Status.SUCCEEDED,
            completed_at__gte=start,
            completed_at__lt=end,
            order__staff_share_line__isnull=False,
        )
        .exclude(kind=Refund.Kind.AUTO)
        .values("order__staff_share_line__statement_id")
        .annotate(total=Sum("amount_fen"))
        .values_list("order__staff_share_line__statement_id", "total")
    )
    per_source = {source_id: int(total) for source_id, total in newly}
    if not per_source:
        return {}
    result: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    sources = StaffShareStatement.objects.select_related("month").filter(pk__in=list(per_source))
    for source in sources:
        earlier = source.adjusted_by.aggregate(refunded=Sum("refunded_fen"), taken=Sum("amount_fen"))
        refunded_before = int(earlier["refunded"] or 0)
        taken_before = int(earlier["taken"] or 0)
        recognized = source.share_fen - taken_before
        net_now = max(0, source.net_fen - refunded_before - per_source[source.pk])
        share_now = progressive_share(net_now, _brackets_from_json(source.month.brackets))
        result[source.rep_id][source.pk] = (per_source[source.pk], max(0, recognized - share_now))
    return result


def _close_overrides(
    *, closed: StaffShareMonth, statements: list[StaffShareStatement], start: datetime, end: datetime
) -> list[StaffShareOverride]:
    """Each active team's override on its reps' net volume of the month, plus deductions for refunds
    (completed this month) of orders counted in earlier months' overrides."""
    teams = list(
        SalesTeam.objects.filter(is_active=True, override_bp__gt=0, supervisor__is_active=True)
        .select_related("supervisor")
        .prefetch_related("members")
    )
    team_of_rep = {member.rep_id: team for team in teams for member in team.members.all()}
    statements_by_supervisor: dict[int, list[StaffShareStatement]] = defaultdict(list)
    team_of_supervisor = {team.supervisor_id: team for team in teams}
    for statement in statements:
        team = team_of_rep.get(statement.rep_id)
        if team is not None and statement.net_fen > 0:
            statements_by_supervisor[team.supervisor_id].append(statement)
    adjustments = _override_adjustments_due(month=closed.month, start=start, end=end)
    overrides: list[StaffShareOverride] = []
    for supervisor_id in sorted(set(statements_by_supervisor) | set(adjustments)):
        team = team_of_supervisor.get(supervisor_id)
        counted = statements_by_supervisor.get(supervisor_id, [])
        volume = sum(statement.net_fen for statement in counted)
        rate = team.override_bp if team is not None else 0
        override = StaffShareOverride.objects.create(
            month=closed,
            supervisor_id=supervisor_id,
            team=team,
            team_name=team.name if team is not None else "",
            rate_bp=rate,
            volume_fen=volume,
            share_fen=override_share(volume, rate),
        )
        StaffShareStatement.objects.filter(pk__in=[statement.pk for statement in counted]).update(
            override=override
        )
        total_adjustment = 0
        for source_id, (newly_refunded, amount) in adjustments.get(supervisor_id, {}).items():
            StaffShareOverrideAdjustment.objects.create(
                override=override, source_id=source_id, refunded_fen=newly_refunded, amount_fen=amount
            )
            total_adjustment += amount
        if total_adjustment:
            override.adjustment_fen = total_adjustment
            override.save(update_fields=["adjustment_fen"])
        overrides.append(override)
    return overrides


def _override_adjustments_due(
    *, month: date, start: datetime, end: datetime
) -> dict[int, dict[int, tuple[int, int]]]:
    """{supervisor: {source override: (refunds newly completed in [start, end), override to take back)}}."""
    source_field = "order__staff_share_line__statement__override_id"
    newly = (
        Refund.objects.filter(
            status=Refund.Status.SUCCEEDED,
            completed_at__gte=start,
            completed_at__lt=end,
            order__staff_share_line__statement__override__isnull=False,
            order__staff_share_line__statement__month__month__lt=month,
        )
        .exclude(kind=Refund.Kind.AUTO)
        .values(source_field)
        .annotate(total=Sum("amount_fen"))
        .values_list(source_field, "total")
    )
    per_source = {source_id: int(total) for source_id, total in newly}
    if not per_source:
        return {}
    result: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for source in StaffShareOverride.objects.filter(pk__in=list(per_source)):
        earlier = source.adjusted_by.aggregate(refunded=Sum("refunded_fen"), taken=Sum("amount_fen"))
        refunded_before = int(earlier["refunded"] or 0)
        recognized = source.share_fen - int(earlier["taken"] or 0)
        share_now = override_share(
            source.volume_fen - refunded_before - per_source[source.pk], source.rate_bp
        )
        result[source.supervisor_id][source.pk] = (per_source[source.pk], max(0, recognized - share_now))
    return result


def staff_share_close_due(
    *, now: datetime | None = None, actor=None, trigger: str = ""
) -> list[StaffShareMonth]:
    """Close every finished month not closed yet, oldest first (the first close ever: last month only)."""
    now = now or timezone.now()
    last_finished = previous_month(month_start(timezone.localtime(now).date()))
    last = StaffShareMonth.objects.order_by("-month").first()
    month = next_month(last.month) if last is not None else last_finished
    closed = []
    while month <= last_finished:
        closed.append(staff_share_close_month(month=month, actor=actor, now=now, trigger=trigger))
        month = next_month(month)
    return closed


def bracket_replace(*, brackets: list[tuple[int, int]], actor) -> list[StaffShareBracket]:
    """Replace the bracket table (closed months keep the snapshot they were closed with)."""
    lowers = [lower for lower, _rate in brackets]
    if not brackets or 0 not in lowers or len(set(lowers)) != len(lowers):
        raise ApplicationError("invalid_brackets", _("阶梯须从 0 开始且起点不重复"))
    with transaction.atomic():
        StaffShareBracket.objects.all().delete()
        rows = StaffShareBracket.objects.bulk_create(
            [StaffShareBracket(lower_fen=lower, rate_bp=rate) for lower, rate in sorted(brackets)]
        )
        audit_record(
            actor=actor,
            action="referrals.staff_brackets",
            target=rows[0],
            summary="更新分润阶梯",
            brackets=brackets,
        )
    return rows
