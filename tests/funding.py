"""The funding invariant (docs/architecture.md §4): no member holds a benefit whose funding chain contains a
refunded payment it did not replace.

`funding_violations()` reads the database and lists every benefit that breaks it. The money chaos
driver calls it after every step (`strict=True`); tests/conftest.py calls it after every test that
wrote an order (the checks that hold whatever state a test builds by hand).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone


def funding_violations(*, strict: bool = False) -> list[str]:
    from courses.models import CourseEnrolment, EventRegistration, TermSeat
    from members import funding
    from members.models import MembershipGrant
    from payments.models import Order, Refund

    problems: list[str] = []
    refunded = Order.objects.filter(status=Order.Status.REFUNDED)
    refunded_nos = refunded.values("order_no")

    # Membership days of a fully refunded order (or of a gift whose paid seat was refunded).
    for grant in MembershipGrant.objects.filter(
        Q(order__status=Order.Status.REFUNDED) | Q(order__funded_by__status=Order.Status.REFUNDED),
        revoked_at__isnull=True,
    ).select_related("order"):
        problems.append(f"membership grant {grant.pk} of refunded order {grant.order.order_no} still stands")

    # Upgrade credit: money refunded from an order after its value became an upgrade's credit.
    for grant in MembershipGrant.objects.filter(
        credit_consumed_by__isnull=False, credit_consumed_by__revoked_at__isnull=True, order__isnull=False
    ).select_related("order", "credit_consumed_by"):
        if Refund.objects.filter(
            order=grant.order,
            status=Refund.Status.SUCCEEDED,
            completed_at__gt=grant.credit_consumed_by.created_at,
        ).exists():
            problems.append(f"order {grant.order.order_no} was refunded while its credit pays an upgrade")

    # Enrolments, seats and tickets bought by a refunded order.
    for model, active in (
        (CourseEnrolment, Q(status=CourseEnrolment.Status.ACTIVE)),
        (TermSeat, Q(status=TermSeat.Status.ACTIVE)),
        (EventRegistration, Q(status=EventRegistration.Status.CONFIRMED)),
    ):
        for row in model.objects.filter(active, order_no__in=refunded_nos):
            problems.append(f"{model.__name__} {row.pk} of refunded order {row.order_no} is still active")

    # Points a refunded order earned that were never taken back (spent instead).
    for order in refunded.filter(amount_fen__gte=100).exclude(item_type="group_buy"):
        left = funding.points_outstanding(order)
        if left:
            problems.append(f"refunded order {order.order_no} left {left} earned points with the member")

    if strict:
        problems += _strict_violations()
    return problems


def _strict_violations() -> list[str]:
    """Checks for a world built only through services (hand-made memberships would trip them)."""
    from courses.events import selectors as event_selectors
    from courses.models import EventRegistration
    from members.models import Membership, MembershipGrant

    problems = []
    now = timezone.now()
    # The membership window is no longer than the unrevoked grants in it pay for.
    for membership in Membership.objects.filter(ends_at__gt=now):
        days = (
            MembershipGrant.objects.filter(
                membership=membership, revoked_at__isnull=True, starts_after__gte=membership.starts_at
            ).aggregate(days=Sum("days"))["days"]
            or 0
        )
        if membership.ends_at - membership.starts_at > timedelta(days=days, seconds=1):
            problems.append(f"membership {membership.pk} runs past the {days} days its grants paid for")
    # Two paid orders for one course or camp seat (the second must have been refunded).
    from payments.models import Order

    for row in (
        Order.objects.filter(item_type__in=["course", "camp"], status=Order.Status.PAID, amount_fen__gt=0)
        .values("user_id", "item_type", "item_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    ):
        problems.append(
            f"user {row['user_id']} keeps {row['n']} paid orders for {row['item_type']} {row['item_id']}"
        )

    # The other direction: a paid seat of a group that succeeded holds its gift or is being refunded.
    from referrals.models import GroupBuy, GroupBuyMember

    for seat in GroupBuyMember.objects.filter(
        group__status=GroupBuy.Status.SUCCEEDED, status=GroupBuyMember.Status.PAID, granted_order__isnull=True
    ):
        problems.append(f"group-buy seat {seat.pk} paid for a gift it never got ({seat.grant_error})")
    # Tier tickets for events ahead rest on an active tier that includes the event.
    for ticket in EventRegistration.objects.filter(
        source="tier", status=EventRegistration.Status.CONFIRMED, event__ends_at__gt=now
    ).select_related("user", "event"):
        if not event_selectors.tier_ticket_covered(ticket.user, ticket.event):
            problems.append(f"tier ticket {ticket.pk} outlived the membership that included it")
    return problems
