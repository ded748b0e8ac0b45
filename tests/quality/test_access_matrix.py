"""Object-level access: what one member owns, another member cannot see or touch (404, never 403).

Generated from the URL conf: every route with a path parameter must be classified below, so a new
endpoint that nobody thought about fails `test_every_parameterised_route_is_classified` until it is.

- OWNED routes address an object one member owns (order, payment, withdrawal, membership, ticket,
  notification). For each: the owner gets 200 on GET; another member gets 404 on every method the
  route answers, and the object is unchanged.
- VIEWER_SCOPED routes take a shared id but only ever show the requesting member's own data (their
  calendar, certificate, onboarding step) — there is no one else's object to reach.
- CONTENT routes are paid content or community objects whose visibility is an entitlement, decided by
  one selector per app and asserted cell by cell in the apps' own entitlement matrices
  (tests/courses/test_entitlement_matrix.py, tests/circles/test_access_matrix.py, …).
- STAFF routes are for operators, teachers or circle owners; a plain member is refused.
- PUBLIC routes are meant to be opened by anyone (share links, tier pages, group-buy invitations).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.quality.routes import walk_routes

OWNED = {
    "api-order-detail": "order",
    "api-order-refund": "order",
    "api-order-close": "order",
    "api-order-sandbox-pay": "order",
    "payments:order_detail": "order",
    "payments:order_pay": "order",
    "payments:order_status": "order",
    "payments:order_refund": "order",
    "payments:order_cancel": "order",
    "payments:order_qr": "order",
    "payments:sandbox_cashier": "payment",
    "api-wallet-withdrawal": "withdrawal",
    "api-wallet-withdrawal-cancel": "withdrawal",
    "api-wallet-withdrawal-confirm": "withdrawal",
    "payments:withdrawal_detail": "withdrawal",
    "payments:withdrawal_cancel": "withdrawal",
    "payments:withdrawal_confirm": "withdrawal",
    "api-membership-detail": "membership",
    "api-notification-read": "notification",
    "members:notification_open": "notification",
    "courses:ticket": "ticket",
    "courses:ticket_qr": "ticket",
    "events-api-ticket-qr": "ticket",
}
VIEWER_SCOPED = {
    "api-onboarding-step-confirm",
    "members:onboarding_confirm",
    "camps-api-calendar",
    "camps-api-certificate",
    "camps-api-poster",
    "camps-api-certificate-png",
    "courses:calendar",
    "courses:certificate",
    "courses:certificate_png",
    "courses:poster",
    "api-points-redeem",
    "members:mall_redeem",
    "courses-api-progress",
    "courses-api-playback",
    "courses-api-heartbeat",
    "courses-api-quiz",
    "courses-api-quiz-attempt",
    "courses-api-homework",
    "courses-api-completion",
    "courses-api-certificate-png",
    "courses:quiz_submit",
    "courses:homework_submit",
    "courses:course_certificate",
    "courses:course_certificate_png",
}
CONTENT = {
    "courses-api-detail",
    "courses-api-lesson",
    "events-api-detail",
    "events-api-register",
    "events-api-cancel",
    "camps-api-detail",
    "camps-api-term",
    "camps-api-join",
    "camps-api-checkins",
    "camps-api-leaderboard",
    "courses:course",
    "courses:lesson",
    # signed playback of a lesson's media: the signature binds the member, and every request asks
    # lesson_access again (tests/courses/test_media.py refuses the other member, the expired and the
    # tampered URL)
    "courses:media_master",
    "courses:media_rendition",
    "courses:media_key",
    "courses:event",
    "courses:event_register",
    "courses:event_cancel",
    "courses:camp",
    "courses:term",
    "courses:term_join",
    "courses:checkin",
    "courses:leaderboard",
    "circles-api-detail",
    "circles-api-trial",
    "circles-api-leave",
    "circles-api-rules-accept",
    "circles-api-feed",
    "circles-api-question",
    "circles-api-leaderboard",
    "circles-api-post",
    "circles-api-comment",
    "circles-api-comment-delete",
    "circles-api-like",
    "circles-api-flags",
    "circles-api-question-answer",
    "circles-api-scheduled",  # the caller's own scheduled posts in a circle they may read
    "circles-api-post-schedule",  # the author's post before its time: 404 to anyone else
    "circles-api-post-publish",
    "circles:schedule",
    "circles:detail",
    "circles:trial",
    "circles:leave",
    "circles:rules",
    "circles:compose",
    "circles:ask",
    "circles:leaderboard",
    "circles:post",
    "circles:like",
    "circles:comment",
    "circles:comment_delete",
    "circles:flags",
    "circles:tip",
    "circles:answer",
    "group-buys-api-open",
    "group-buys-api-join",
    "referrals:group_buy_open",
    "referrals:group_buy_join",
}
STAFF = {
    "events-api-check-in",
    "events-api-attendance",
    "camps-api-review",
    "camps-api-moderate",
    "courses-api-homework-review",
    "courses:homework_review",
    "courses:event_checkin",
    "courses:review",
    "courses:moderate",
    "circles-api-moderate",
    "circles-api-comment-moderate",
    "circles-api-members",
    "circles-api-member-role",
    "circles-api-member-remove",
    "circles-api-member-allow-rejoin",
    "circles-api-stats",
    "circles-api-moderation",
    "circles:manage",
    "insights:export_table",
    "insights:report",
}
PUBLIC = {
    "referral-share",
    "members:tier_detail",
    "group-buys-api-offer",
    "group-buys-api-detail",
    "referrals:group_buy_offer",
    "referrals:group_buy",
    "growth:coupon_claim",  # a coupon's claim link, shared by the operator (sign-in to claim)
}
# Framework routes with parameters that are not ours to classify.
IGNORED_PREFIXES = ("admin/", "accounts/", "i18n/", "media/", "static/", "api/schema", "api/docs")


def parameterised_routes() -> dict[str, str]:
    return {
        name: route
        for route, name in walk_routes()
        if "<" in route and not route.startswith(IGNORED_PREFIXES)
    }


def test_every_parameterised_route_is_classified():
    classified = set(OWNED) | VIEWER_SCOPED | CONTENT | STAFF | PUBLIC
    routes = parameterised_routes()
    unnamed = [route for name, route in routes.items() if not name]
    assert not unnamed, f"routes need a name to be classified: {unnamed}"
    missing = sorted(set(routes) - classified)
    assert not missing, f"classify these routes in tests/quality/test_access_matrix.py: {missing}"
    stale = sorted(classified - set(routes))
    assert not stale, f"these classified routes no longer exist: {stale}"


@dataclass
class Owned:
    order: object
    payment: object
    withdrawal: object
    membership: object
    notification: object
    ticket: object

    def kwargs(self, kind: str, route: str) -> dict:
        if kind == "order":
            return {"order_no": self.order.order_no}
        if kind == "payment":
            return {"out_trade_no": self.payment.out_trade_no}
        if kind == "withdrawal":
            return {"withdrawal_id": self.withdrawal.pk}
        if kind == "membership":
            return {"membership_id": self.membership.pk}
        if kind == "notification":
            return {"notification_id": self.notification.pk}
        if kind == "ticket":
            return {"code": self.ticket.ticket_code}
        raise AssertionError(kind)


@pytest.fixture
def owned(db, world, settings):
    """One object of each owned kind, all belonging to world.member."""
    from courses.events.registrations import event_register
    from courses.models import Event
    from members.memberships.selectors import active_membership
    from members.notifications.services import notification_send
    from payments.models import Channel
    from payments.orders.checkout import order_create
    from payments.orders.payment_attempts import payment_start
    from payments.wallet import earnings, settlement, withdrawals
    from tests.payments.helpers import create_paid_order

    owner = world.member
    order = create_paid_order(user=owner, item_type="membership", item_id="VIP")
    pending = order_create(user=owner, item_type="course", item_id=_any_paid_course_id(), channel="sandbox")
    payment = payment_start(order=pending, channel=Channel.SANDBOX)
    earnings.earning_accrue(
        user=owner,
        amount_fen=5_000,
        source="commission",
        idempotency_key=f"access-matrix:{order.order_no}",
        hold_until=timezone.now() - timedelta(seconds=1),
        order=order,
    )
    settlement.settle_due(now=timezone.now())
    withdrawal = withdrawals.withdrawal_request(user=owner, amount_fen=1_000, method="sandbox")
    notification = notification_send(user=owner, kind="test", title="只给你看的通知")
    event = Event.objects.filter(included_in_tiers__code="VIP").first()
    ticket = event_register(user=owner, event=event)
    return Owned(
        order=order,
        payment=payment,
        withdrawal=withdrawal,
        membership=active_membership(owner),
        notification=notification,
        ticket=ticket,
    )


def _any_paid_course_id() -> str:
    from courses.models import Course

    return str(Course.objects.filter(price_fen__gt=0, included_in_tiers__isnull=True).first().pk)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _snapshot(obj) -> dict:
    obj.refresh_from_db()
    return {
        f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname != "updated_at"
    }


@pytest.mark.parametrize("route_name", sorted(OWNED))
def test_another_member_gets_404_and_changes_nothing(route_name, world, owned, db):
    kind = OWNED[route_name]
    url = reverse(route_name, kwargs=owned.kwargs(kind, route_name))
    target = getattr(owned, kind)
    before = _snapshot(target)
    intruder = _client_for(world.other)
    for method in ("get", "post"):
        response = getattr(intruder, method)(url, content_type="application/json", data={})
        assert response.status_code in (404, 405), (route_name, method, response.status_code)
        if response.status_code == 405:
            continue
        assert response.status_code == 404
    assert _snapshot(target) == before, route_name


@pytest.mark.parametrize(
    "route_name",
    # Actions (POST-only) and the Native-pay QR (only while an order awaits a desktop scan) are left out.
    sorted(
        name
        for name in OWNED
        if not name.endswith(
            ("refund", "cancel", "close", "confirm", "_pay", "-pay", "-read", "_open", "_qr")
        )
    ),
)
def test_owner_sees_their_own_object(route_name, world, owned, db):
    kind = OWNED[route_name]
    url = reverse(route_name, kwargs=owned.kwargs(kind, route_name))
    response = _client_for(world.member).get(url)
    assert response.status_code == 200, (route_name, response.status_code)


@pytest.mark.parametrize("route_name", sorted(STAFF))
def test_a_plain_member_cannot_use_staff_routes(route_name, world, owned, db):
    from django.urls import NoReverseMatch

    route = parameterised_routes()[route_name]
    kwargs = {}
    for part in route.split("<")[1:]:
        converter_and_name = part.split(">")[0]
        name = converter_and_name.split(":")[-1]
        kwargs[name] = "orders" if "slug" in converter_and_name else 1
    try:
        url = reverse(route_name, kwargs=kwargs)
    except NoReverseMatch:  # pragma: no cover - a route whose parameters need other shapes
        pytest.fail(f"cannot build a URL for {route_name} from {kwargs}")
    client = _client_for(world.other)
    for method in ("get", "post"):
        response = getattr(client, method)(url, content_type="application/json", data={})
        assert response.status_code in (302, 403, 404, 405), (route_name, method, response.status_code)
        if response.status_code == 302:
            assert "login" in response["Location"], (route_name, response["Location"])


LIST_OF_OWN = [
    ("/api/v1/orders/", "order"),
    ("/payments/orders/", "order"),
    ("/api/v1/wallet/withdrawals/", "withdrawal"),
    ("/payments/wallet/", "withdrawal"),
    ("/api/v1/notifications/", "notification"),
    ("/account/notifications/", "notification"),
]


@pytest.mark.parametrize(("url", "kind"), LIST_OF_OWN)
def test_lists_show_only_the_members_own_objects(url, kind, world, owned, db):
    marker = {
        "order": owned.order.order_no,
        "withdrawal": f'"id":{owned.withdrawal.pk},'
        if url.startswith("/api/")
        else f"withdrawals/{owned.withdrawal.pk}/",
        "notification": "只给你看的通知",
    }[kind]
    own = _client_for(world.member).get(url)
    other = _client_for(world.other).get(url)
    assert own.status_code == 200 and other.status_code == 200
    assert marker in own.content.decode(), (url, "owner should see it")
    assert marker not in other.content.decode(), (url, "another member must not")
