"""The home knows who is looking: a visitor sees proof and tiers whose benefits come from what each
tier really includes; a member sees where to continue, today's camp task, circle news, the next
ticket, and a renewal only near the end — in a fixed number of statements."""

from datetime import timedelta

import pytest
from django.utils import timezone

from circles.models import CircleMembership, Post
from courses.models import EventRegistration, LessonProgress, TermSeat
from tests.circles.factories import make_circle
from tests.courses.factories import give_tier, ka_tier, make_camp, make_course, make_event, vip_tier
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _world(n: int = 1):
    vip, ka = vip_tier(), ka_tier()
    vip.benefits = "专属顾问一对一入会引导"
    vip.save()
    courses = [make_course(title=f"VIP课{i}", tiers=[vip]) for i in range(n)]
    make_course(title="KA专享课", tiers=[ka], price_fen=0)
    make_course(title="单卖课", tiers=[])
    camp, term = make_camp(tiers=[vip], title="写作营")
    event = make_event(tiers=[vip], title="上海私董会")
    circle = make_circle()
    circle.included_in_tiers.add(ka)
    return vip, ka, courses, term, event, circle


def _member_with_everything(vip, courses, term, event, circle, n: int = 1):
    user = UserFactory(nickname="林小雨")
    give_tier(user, vip)
    for course in courses:
        lesson = course.lessons.order_by("position").first()
        LessonProgress.objects.create(user=user, lesson=lesson, course=course, completed=True)
    TermSeat.objects.create(term=term, user=user, source="tier")
    EventRegistration.objects.create(
        event=event,
        user=user,
        status=EventRegistration.Status.CONFIRMED,
        source="tier",
        ticket_code="T123456",
    )
    CircleMembership.objects.create(circle=circle, user=user, joined_at=timezone.now())
    other = UserFactory(nickname="周敏")
    for i in range(n):
        Post.objects.create(circle=circle, author=other, body=f"第{i}条新帖子")
    return user


def test_visitor_sees_proof_and_tier_benefits_from_real_inclusions(client):
    vip, ka, *_ = _world()
    page = client.get("/").content.decode()
    assert 'data-home="visitor"' in page
    assert "VIP课0" in page and "上海私董会" in page  # featured courses, upcoming events
    vip_card = page.split('data-tier="VIP"')[1].split("</article>")[0]
    ka_card = page.split('data-tier="KA"')[1].split("</article>")[0]
    assert "1 门课程免费学" in vip_card and "《VIP课0》" in vip_card and "KA专享课" not in vip_card
    assert "写作营" in vip_card and "增长圈" not in vip_card  # the circle is KA's, not VIP's
    assert "专属顾问一对一入会引导" in vip_card  # the tier's own service lines follow
    assert "2 门课程免费学" in ka_card and "「增长圈」" in ka_card  # rank-inclusive
    assert "单卖课" not in vip_card + ka_card


def test_member_sees_their_day_not_an_offer_of_their_own_tier(client):
    vip, ka, courses, term, event, circle = _world()
    user = _member_with_everything(vip, courses, term, event, circle)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert 'data-home="member"' in page and "林小雨" in page
    assert 'data-panel="continue"' in page and "VIP课0" in page and "第2课" in page  # next lesson
    assert 'data-panel="camp"' in page and "任务3" in page  # day 3 of a term started 2 days ago
    assert 'data-panel="ticket"' in page and "/courses/tickets/T123456/" in page
    assert "第0条新帖子" in page
    assert "立即开通" not in page and 'data-tier="VIP"' not in page
    assert 'data-panel="upgrade"' in page  # KA is above VIP
    assert "data-renewal" not in page  # 355 days left: no renewal nag


def test_renewal_is_offered_only_near_the_end(client):
    vip, *_ = _world()
    user = UserFactory()
    membership = give_tier(user, vip)
    membership.ends_at = timezone.now() + timedelta(days=12)
    membership.save()
    client.force_login(user)
    page = client.get("/").content.decode()
    assert "data-renewal" in page and "/membership/VIP/" in page


def test_a_member_with_nothing_yet_gets_next_steps(client):
    vip, *_ = _world()
    user = UserFactory()
    give_tier(user, vip)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert "/courses/" in page and "还没有开始学习" in page


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_home_runs_a_fixed_number_of_statements(client, django_assert_max_num_queries, who):
    vip, ka, courses, term, event, circle = _world(n=4)
    if who == "member":
        client.force_login(_member_with_everything(vip, courses, term, event, circle, n=5))
    client.get("/")  # first-use caches (brand, content types, session) are not the page's cost
    with django_assert_max_num_queries(16 if who == "member" else 12):
        response = client.get("/")
    assert response.status_code == 200


def test_my_page_offers_the_upgrade_always_and_the_renewal_only_near_the_end(client):
    vip, *_ = _world()
    user = UserFactory()
    membership = give_tier(user, vip)
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert 'data-offer="upgrade"' in page and 'data-offer="renew"' not in page
    membership.ends_at = timezone.now() + timedelta(days=12)
    membership.save()
    page = client.get("/account/").content.decode()
    assert 'data-offer="renew"' in page and 'data-offer="upgrade"' in page


def test_my_page_leads_with_the_entry_tier_for_a_newcomer_and_the_renewal_when_due(client):
    vip, *_ = _world()
    user = UserFactory()
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert 'class="btn primary" data-offer="start" href="/membership/VIP/"' in page  # not the KA
    membership = give_tier(user, vip)
    membership.ends_at = timezone.now() + timedelta(days=12)
    membership.save()
    page = client.get("/account/").content.decode()
    assert 'class="btn primary" data-offer="renew"' in page
