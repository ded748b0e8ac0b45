"""Attribution matrix: who an order and a new user are bound to — and every way it is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import WeChatIdentity
from members.auth.services import user_signed_up
from members.models import User
from payments.models import Order
from payments.orders.checkout import order_create
from payments.wallet import ledger
from referrals import attribution, promoters
from referrals.models import BindingRefusal, Commission, ReferralBinding, ReferralLinkStat
from tests.factories import UserFactory
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.referrals import factories as f

pytestmark = pytest.mark.django_db


def referrer_of(user) -> User | None:
    binding = attribution.active_binding(user)
    return binding.referrer if binding else None


def test_signup_with_code_binds_once_counts_the_channel_and_rewards_nothing(alice):
    # given a rule paying 10% on sales
    f.rule(rate_bp=1000)
    # when Bob signs up through Alice's poster
    bob = UserFactory()
    user_signed_up(user=bob, referral_code=f"{alice.referral_code}.poster", source="web")
    # then Bob is bound to Alice, the sign-up is counted for the poster channel …
    binding = ReferralBinding.objects.get(user=bob)
    assert binding.referrer == alice and binding.source == "signup" and binding.channel == "poster"
    assert ReferralLinkStat.objects.get(user=alice, channel="poster").signups == 1
    # … and nobody earns anything for a sign-up alone
    assert Commission.objects.count() == 0
    assert ledger.balances(alice).pending_fen == 0
    # and a second code later never rebinds
    carol = UserFactory()
    user_signed_up(user=bob, referral_code=carol.referral_code, source="web")
    assert referrer_of(bob) == alice


def test_lowercase_code_with_spaces_still_binds(alice):
    bob = UserFactory()
    user_signed_up(user=bob, referral_code=f"  {alice.referral_code.lower()} ", source="miniprogram")
    assert referrer_of(bob) == alice


def test_unknown_code_is_recorded_and_binds_nothing():
    bob = UserFactory()
    user_signed_up(user=bob, referral_code="ZZZZ9999", source="web")
    assert referrer_of(bob) is None
    assert BindingRefusal.objects.get(user=bob).reason == "invalid_code"


def test_self_referral_is_refused_for_binding_and_for_orders(alice):
    # binding oneself
    with pytest.raises(attribution.BindingRefused) as exc:
        attribution.binding_create(user=alice, referrer=alice, source="signup")
    assert exc.value.code == "referral_self"
    # buying with one's own code: no referrer on the order, no commission
    f.rule()
    order = create_paid_order(user=alice, item_type=TEST_ITEM, item_id="A", referral_code=alice.referral_code)
    assert order.referrer_id is None
    assert Commission.objects.count() == 0
    assert referrer_of(alice) is None


def test_cycle_a_b_is_refused(alice, bob):
    # given Bob was brought by Alice
    f.bind(bob, alice)
    # when Alice tries to bind to Bob (or buys with Bob's code)
    with pytest.raises(attribution.BindingRefused) as exc:
        attribution.binding_create(user=alice, referrer=bob, source="signup")
    assert exc.value.reason == "cycle"
    f.rule()
    order = create_paid_order(user=alice, item_type=TEST_ITEM, item_id="A", referral_code=bob.referral_code)
    # then nothing binds and nobody earns
    assert order.referrer_id is None and referrer_of(alice) is None
    assert Commission.objects.count() == 0
    assert (
        BindingRefusal.objects.filter(user=alice, reason="cycle").exists() is False
    )  # order: no binding tried


def test_longer_cycle_is_refused(alice, bob, carol):
    f.bind(bob, alice)
    f.bind(carol, bob)
    with pytest.raises(attribution.BindingRefused) as exc:
        attribution.binding_create(user=alice, referrer=carol, source="signup")
    assert exc.value.reason == "cycle"


def test_same_wechat_unionid_is_refused(alice):
    bob = UserFactory()
    WeChatIdentity.objects.create(user=alice, kind="miniprogram", appid="wx1", openid="o-a", unionid="U-1")
    WeChatIdentity.objects.create(user=bob, kind="mp", appid="wx2", openid="o-b", unionid="U-1")
    user_signed_up(user=bob, referral_code=alice.referral_code, source="miniprogram")
    assert referrer_of(bob) is None
    assert BindingRefusal.objects.get(user=bob).reason == "same_wechat"
    assert ReferralLinkStat.objects.filter(user=alice, signups__gt=0).exists() is False


def test_same_phone_is_refused():
    # phone_hash is unique per account; the rule still guards identities compared before a merge
    a, b = User(pk=10**9, username="a"), User(pk=10**9 + 1, username="b")
    a.set_phone("13800138000")
    b.set_phone("13800138000")
    a.is_active = b.is_active = True
    assert attribution.referral_block_reason(user=b, referrer=a) == "same_phone"


def test_bound_referrer_wins_over_a_share_link_by_default(alice, bob, carol):
    # given Bob is bound to Alice and the operator kept the default (no override)
    f.bind(bob, alice)
    f.rule()
    # when Bob buys through Carol's share link
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A", referral_code=carol.referral_code)
    # then the order belongs to Alice
    assert order.referrer == alice
    assert Commission.objects.get().beneficiary == alice


def test_share_link_wins_when_enabled_outside_protection(alice, bob, carol):
    f.configure(share_link_overrides_binding=True, protection_days=30)
    f.bind(bob, alice)
    ReferralBinding.objects.filter(user=bob).update(protected_until=timezone.now() - timedelta(seconds=1))
    f.rule()
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A", referral_code=carol.referral_code)
    assert order.referrer == carol
    assert Commission.objects.get().beneficiary == carol
    # the binding itself stays with Alice
    assert referrer_of(bob) == alice


def test_poaching_inside_protection_is_refused(alice, bob, carol):
    # given the override is enabled but Bob's binding is inside its protection period
    f.configure(share_link_overrides_binding=True, protection_days=30)
    f.bind(bob, alice)
    f.rule()
    # when Carol's link is used, and when Carol's code tries to rebind Bob
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A", referral_code=carol.referral_code)
    with pytest.raises(attribution.BindingRefused) as exc:
        attribution.binding_create(user=bob, referrer=carol, source="purchase")
    # then Alice keeps her customer
    assert order.referrer == alice
    assert exc.value.reason == "already_bound"
    captured = attribution.attribution_for_order(user=bob, referral_code=carol.referral_code)
    assert captured.referrer == alice and captured.refused == "protected"


def test_expired_binding_attributes_nothing_and_a_new_code_rebinds(alice, bob, carol):
    # given Bob's binding to Alice has expired
    f.configure(binding_validity_days=30, protection_days=7)
    f.bind(bob, alice)
    ReferralBinding.objects.filter(user=bob).update(
        bound_at=timezone.now() - timedelta(days=31), expires_at=timezone.now() - timedelta(days=1)
    )
    f.rule()
    # when Bob buys without a code, nobody earns
    first = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    assert first.referrer_id is None
    # when he buys through Carol's link, Carol earns and becomes his referrer
    second = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A", referral_code=carol.referral_code)
    assert second.referrer == carol
    assert referrer_of(bob) == carol
    old = ReferralBinding.objects.get(user=bob, referrer=alice)
    assert old.ended_at is not None and old.end_reason == "expired"


def test_first_paid_purchase_binds_an_unbound_buyer_but_an_unpaid_order_does_not(alice, bob):
    f.rule()
    pending = order_create(
        user=bob, item_type=TEST_ITEM, item_id="A", channel="sandbox", referral_code=alice.referral_code
    )
    assert pending.referrer == alice and pending.status == Order.Status.PENDING
    assert referrer_of(bob) is None
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A", referral_code=f"{alice.referral_code}.chat")
    binding = ReferralBinding.objects.get(user=bob)
    assert binding.referrer == alice and binding.source == "purchase" and binding.channel == "chat"


def test_blocked_promoter_cannot_bind_new_people(alice):
    promoters.promoter_block(user=alice, blocked=True, actor=None, reason="违规宣传")
    bob = UserFactory()
    user_signed_up(user=bob, referral_code=alice.referral_code, source="web")
    assert referrer_of(bob) is None
    assert BindingRefusal.objects.get(user=bob).reason == "blocked"


# ---- links ---------------------------------------------------------------------------------------------


def test_share_route_remembers_code_counts_one_visit_per_session_and_redirects(client, alice):
    response = client.get(f"/r/{alice.referral_code}/?c=moments&next=/circles/")
    assert response.status_code == 302 and response["Location"] == "/circles/"
    assert client.session["referral_code"] == f"{alice.referral_code}.moments"
    client.get(f"/r/{alice.referral_code}/?c=moments")
    stat = ReferralLinkStat.objects.get(user=alice, channel="moments")
    assert stat.visits == 1
    # an open redirect is refused
    response = client.get(f"/r/{alice.referral_code}/?next=https://evil.example.com/")
    assert response["Location"] == "/"


def test_share_route_with_a_mangled_next_still_lands_on_the_site(client, alice):
    # a share link whose `next` lost its slash or was cut by a chat app still counts and lands home,
    # and a view name never resolves into a page
    for mangled in ("circles", "payments:wallet", "-1", "\\\\evil.example", "/\\evil.example"):
        response = client.get(f"/r/{alice.referral_code}/?c=moments&next={mangled}")
        assert response.status_code == 302 and response["Location"] == "/", mangled
    # a control character in a query string is refused at the door (issue 16), before any redirect
    assert client.get(f"/r/{alice.referral_code}/?c=moments&next=%00").status_code == 400
    assert client.session["referral_code"] == f"{alice.referral_code}.moments"
    assert ReferralLinkStat.objects.get(user=alice, channel="moments").visits == 1


def test_share_route_to_an_item_goes_to_its_checkout(client, alice):
    response = client.get(f"/r/{alice.referral_code}/?item={TEST_ITEM}:A&c=poster")
    assert response.status_code == 302
    assert response["Location"] == f"/payments/checkout/?item_type={TEST_ITEM}&item_id=A"


def test_ref_parameter_on_any_page_is_captured(client, alice):
    response = client.get(f"/?ref={alice.referral_code}")
    assert response.status_code == 200
    assert client.session["referral_code"] == alice.referral_code
    assert ReferralLinkStat.objects.get(user=alice, channel="link").visits == 1


def test_unknown_code_in_link_is_ignored(client):
    response = client.get("/r/NOPE2345/")
    assert response.status_code == 302
    assert "referral_code" not in client.session
    assert ReferralLinkStat.objects.count() == 0


def test_own_link_is_not_counted(client, alice):
    client.force_login(alice)
    client.get(f"/r/{alice.referral_code}/")
    assert "referral_code" not in client.session
    assert ReferralLinkStat.objects.count() == 0


def test_checkout_uses_the_captured_code(client, alice, bob):
    f.rule()
    client.get(f"/r/{alice.referral_code}/")
    client.force_login(bob)
    response = client.post(
        "/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "sandbox"}
    )
    assert response.status_code == 302
    order = Order.objects.get(user=bob)
    assert order.referrer == alice and order.referral_code == alice.referral_code


# ---- mini-program login (API.md row 1) --------------------------------------------------------------------


def test_miniprogram_login_with_referral_code_binds_the_new_user_once(fake_wechat, alice, carol):
    from rest_framework.test import APIClient

    code = fake_wechat.login_code(openid="oREFopenid00000000000000000001", unionid="uREF1")
    response = APIClient().post(
        "/api/v1/auth/wechat/miniprogram/",
        {"code": code, "referral_code": f"{alice.referral_code}.miniprogram"},
        format="json",
    )
    assert response.status_code == 200
    bob = User.objects.get(pk=response.json()["user"]["id"])
    assert referrer_of(bob) == alice
    assert ReferralLinkStat.objects.get(user=alice, channel="miniprogram").signups == 1
    # logging in again with another code changes nothing (existing users are never rebound)
    again = fake_wechat.login_code(openid="oREFopenid00000000000000000001", unionid="uREF1")
    APIClient().post(
        "/api/v1/auth/wechat/miniprogram/",
        {"code": again, "referral_code": carol.referral_code},
        format="json",
    )
    assert referrer_of(bob) == alice


def test_miniprogram_login_sharing_the_referrers_unionid_is_refused(fake_wechat, alice):
    from rest_framework.test import APIClient

    WeChatIdentity.objects.create(user=alice, kind="mp", appid="wx_mp", openid="o-alice-mp", unionid="uSAME")
    # the same person logs in to the mini-program with their own code on a second account
    code = fake_wechat.login_code(openid="oSAMEperson000000000000000001", unionid="uSAME")
    response = APIClient().post(
        "/api/v1/auth/wechat/miniprogram/",
        {"code": code, "referral_code": alice.referral_code},
        format="json",
    )
    assert response.status_code == 200
    # unionid links to Alice's existing account: no new user, so no binding at all
    assert response.json()["user"]["id"] == alice.pk
    assert ReferralBinding.objects.count() == 0
