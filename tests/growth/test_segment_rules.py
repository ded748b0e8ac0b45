"""Segment rules: each condition picks the members it says (and not the others), conditions combine
with AND, a bad rule is a clear error naming the condition, and a preview costs two statements."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from courses.camps import checkins as camp_checkins
from courses.camps import seats as camp_seats
from growth.models import Tag
from growth.segments.rules import rule_preview, rule_queryset, rule_validate
from growth.segments.tags import tag_add
from members.models import Membership
from referrals.agreements import agreement_accept
from referrals.models import PromoterAgreement, ReferralBinding
from referrals.promoters import promoter_block
from tests.courses import factories as f
from tests.factories import UserFactory
from tests.payments.helpers import create_paid_order, refund_order

pytestmark = pytest.mark.django_db


def members_of(*conditions, now=None) -> set[str]:
    return set(rule_queryset({"conditions": list(conditions)}, now=now).values_list("username", flat=True))


def member(name: str, **fields):
    return UserFactory(username=name, **fields)


def window(user, tier, *, starts_days_ago: int, ends_in_days: int) -> Membership:
    now = timezone.now()
    membership, _created = Membership.objects.update_or_create(
        user=user,
        defaults={
            "tier": tier,
            "starts_at": now - timedelta(days=starts_days_ago),
            "ends_at": now + timedelta(days=ends_in_days),
        },
    )
    return membership


def test_membership_tier_and_state():
    vip, ka = f.vip_tier(), f.ka_tier()
    window(member("vip_ending"), vip, starts_days_ago=340, ends_in_days=25)
    window(member("vip_later"), vip, starts_days_ago=10, ends_in_days=355)
    window(member("ka_ending"), ka, starts_days_ago=340, ends_in_days=20)
    window(member("vip_lapsed"), vip, starts_days_ago=400, ends_in_days=-5)
    window(member("vip_long_gone"), vip, starts_days_ago=800, ends_in_days=-400)
    member("never")
    UserFactory(username="staff", is_staff=True)  # staff are never in a segment

    assert members_of({"type": "membership", "tier": "VIP", "state": "ends_within", "days": 30}) == {
        "vip_ending"
    }
    assert members_of({"type": "membership", "state": "ends_within", "days": 30}) == {
        "vip_ending",
        "ka_ending",
    }
    assert members_of({"type": "membership", "tier": "VIP", "state": "active"}) == {"vip_ending", "vip_later"}
    assert members_of({"type": "membership", "state": "expired_within", "days": 30}) == {"vip_lapsed"}
    assert members_of({"type": "membership", "state": "expired_within"}) == {"vip_lapsed", "vip_long_gone"}
    assert members_of({"type": "membership", "state": "never"}) == {"never"}


def test_purchases_of_an_item_type_and_a_total_in_the_last_days():
    course = f.make_course(price_fen=19_900)
    cheap = f.make_course(price_fen=5_000, title="入门课")
    buyer, small, refunded = member("buyer"), member("small"), member("refunded")
    create_paid_order(user=buyer, item_type="course", item_id=str(course.pk), channel="wechat_jsapi")
    create_paid_order(user=small, item_type="course", item_id=str(cheap.pk), channel="wechat_jsapi")
    gone = create_paid_order(
        user=refunded, item_type="course", item_id=str(course.pk), channel="wechat_jsapi"
    )
    refund_order(order=gone)
    member("nothing")

    assert members_of({"type": "purchase", "item_type": "course", "days": 30}) == {"buyer", "small"}
    assert members_of({"type": "purchase", "min_total_fen": 10_000, "days": 30}) == {"buyer"}
    assert members_of({"type": "purchase", "item_type": "membership"}) == set()
    # paid "now" is inside the last day but not before it
    later = timezone.now() + timedelta(days=3)
    assert members_of({"type": "purchase", "days": 1}, now=later) == set()


def test_last_visit_within_or_not_within_days():
    now = timezone.now()
    member("recent", last_login=now - timedelta(days=2))
    member("idle", last_login=now - timedelta(days=45))
    member("never_back")
    assert members_of({"type": "activity", "visited": True, "days": 30}) == {"recent"}
    assert members_of({"type": "activity", "visited": False, "days": 30}) == {"idle", "never_back"}


def test_acquisition_channel_is_the_first_bindings_or_direct():
    promoter = member("promoter")
    poster_user, chat_user = member("poster_user"), member("chat_user")
    now = timezone.now()
    for user, channel in ((poster_user, "poster"), (chat_user, "chat")):
        ReferralBinding.objects.create(
            user=user, referrer=promoter, channel=channel, source="signup", protected_until=now
        )
    assert members_of({"type": "channel", "channel": "poster"}) == {"poster_user"}
    assert members_of({"type": "channel", "channel": "direct"}) == {"promoter"}


def test_promoters_are_those_not_blocked():
    agreement = PromoterAgreement.objects.create(
        version=1, title="推广协议", body="…", published_at=timezone.now()
    )
    active, blocked = member("active"), member("blocked")
    member("plain")
    for user in (active, blocked):
        agreement_accept(user=user, agreement=agreement)
    promoter_block(user=blocked, blocked=True, actor=None, reason="违规")
    assert members_of({"type": "promoter", "is_promoter": True}) == {"active"}
    assert members_of({"type": "promoter", "is_promoter": False}) == {"blocked", "plain"}


def test_camp_enrolled_checkins_and_graduated():
    start = date(2026, 3, 1)
    camp, term = f.make_camp(price_fen=0, days=3, today=start, started_days_ago=0)
    other_camp, _other_term = f.make_camp(
        price_fen=0, days=3, today=start, started_days_ago=0, title="另一个营"
    )
    enrolled, steady, graduate = member("enrolled"), member("steady"), member("graduate")
    for user in (enrolled, steady, graduate):
        camp_seats.seat_grant(term=term, user=user, source="free")
    for user, days in ((steady, 2), (graduate, 3)):
        for day in range(1, days + 1):
            moment = f.shanghai(2026, 3, day, 21)
            camp_checkins.checkin_submit(
                user=user, term=term, task=camp.tasks.get(day=day), text="今天写了 300 字", now=moment
            )
    member("outsider")

    assert members_of({"type": "camp", "camp_id": camp.pk}) == {"enrolled", "steady", "graduate"}
    assert members_of({"type": "camp", "camp_id": camp.pk, "progress": "checkins", "min_checkins": 2}) == {
        "steady",
        "graduate",
    }
    assert members_of({"type": "camp", "progress": "graduated"}) == {"graduate"}
    assert members_of({"type": "camp", "camp_id": other_camp.pk}) == set()


def test_tags_any_all_none():
    a, b = Tag.objects.create(name="A"), Tag.objects.create(name="B")
    both, only_a = member("both"), member("only_a")
    member("neither")
    tag_add(tag=a, users=[both, only_a], operator=None)
    tag_add(tag=b, users=[both], operator=None)
    assert members_of({"type": "tags", "match": "any", "tag_ids": [a.pk, b.pk]}) == {"both", "only_a"}
    assert members_of({"type": "tags", "match": "all", "tag_ids": [a.pk, b.pk]}) == {"both"}
    assert members_of({"type": "tags", "match": "none", "tag_ids": [a.pk]}) == {"neither"}


def test_conditions_combine_with_and():
    vip = f.vip_tier()
    now = timezone.now()
    window(member("vip_idle", last_login=now - timedelta(days=60)), vip, starts_days_ago=340, ends_in_days=10)
    window(member("vip_active", last_login=now), vip, starts_days_ago=340, ends_in_days=10)
    member("idle_only", last_login=now - timedelta(days=60))
    assert members_of(
        {"type": "membership", "tier": "VIP", "state": "ends_within", "days": 30},
        {"type": "activity", "visited": False, "days": 30},
    ) == {"vip_idle"}


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ({"conditions": [{"type": "sql", "where": "1=1"}]}, "type"),
        ({"conditions": [{"type": "membership", "state": "ends_within"}]}, "days"),
        ({"conditions": [{"type": "membership", "tier": "NOPE", "state": "active"}]}, "NOPE"),
        ({"conditions": [{"type": "purchase", "item_type": "spaceship"}]}, "spaceship"),
        ({"conditions": [{"type": "tags", "tag_ids": [999999]}]}, "999999"),
        ({"conditions": [{"type": "activity", "visited": True, "days": 30, "extra": 1}]}, "extra"),
        ({"where": "1=1"}, "conditions"),
        ([1, 2], "conditions"),
    ],
)
def test_a_bad_rule_is_refused_naming_what_is_wrong(rule, says):
    with pytest.raises(ApplicationError) as refused:
        rule_validate(rule)
    assert refused.value.code == "segment_rule_invalid"
    assert says in refused.value.message


def test_preview_counts_and_samples_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    vip = f.vip_tier()
    for i in range(15):
        window(member(f"vip{i}"), vip, starts_days_ago=340, ends_in_days=20)
    member("other")
    rule = rule_validate(
        {"conditions": [{"type": "membership", "tier": "VIP", "state": "ends_within", "days": 30}]}
    )
    with django_assert_max_num_queries(3):  # the tier named by the rule, the sample, the count
        preview = rule_preview(rule)
    assert preview.count == 15
    assert len(preview.sample) == 10
    assert {u.membership.tier.code for u in preview.sample} == {"VIP"}
