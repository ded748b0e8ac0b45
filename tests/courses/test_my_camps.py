"""训练营与证书 (/courses/mine/camps/): the member's terms (running first, with today's task), and the
certificates `certificate_seat` says they hold — the same rule as the certificate page and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.camps import checkins as camp_checkins
from courses.camps import seats as camp_seats
from courses.models import TermSeat
from members.cache_versions import member_bump
from members.models import Membership
from tests.courses import factories as f
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/courses/mine/camps/"


def _group(page: str, name: str) -> str:
    return page.split(f'data-group="{name}"', 1)[1].split("</section>", 1)[0]


def _row(page: str, term) -> str:
    return page.split(f'data-term="{term.pk}"', 1)[1].split("</li>", 1)[0]


def _complete(user, term, days: int) -> None:
    """Check in on the first `days` days of `term`, each on its own day (the real service)."""
    for day in range(1, days + 1):
        on = term.date_of_day(day)
        camp_checkins.checkin_submit(
            user=user,
            term=term,
            task=term.camp.tasks.get(day=day),
            text="今天写了 300 字",
            images=(),
            now=f.shanghai(on.year, on.month, on.day, 21),
        )


def test_running_terms_first_with_todays_task_then_upcoming_then_ended(client, member):
    _camp, running = f.make_camp(title="写作营", price_fen=9_900, days=7, started_days_ago=2)
    f.buy(member, "camp", running.pk)
    _camp, upcoming = f.make_camp(title="早起营", price_fen=0, started_days_ago=-3)
    camp_seats.seat_grant(term=upcoming, user=member, source="free")
    _camp, ended = f.make_camp(title="读书营", price_fen=0, days=3, started_days_ago=20)
    camp_seats.seat_grant(term=ended, user=member, source="free")
    client.force_login(member)
    page = client.get(URL).content.decode()

    terms = _group(page, "terms")
    assert terms.index("写作营") < terms.index("早起营") < terms.index("读书营")
    row = _row(page, running)
    assert 'data-term-phase="running"' in row and "进行中" in row and "第 3 天 / 共 7 天" in row
    assert "今日任务：任务3" in row and "去打卡" in row
    assert f'href="/courses/camps/terms/{running.pk}/"' in row
    assert 'data-term-phase="upcoming"' in _row(page, upcoming) and "未开营" in _row(page, upcoming)
    assert 'data-term-phase="ended"' in _row(page, ended) and "已结营" in _row(page, ended)
    assert "今日任务" not in _row(page, ended)

    camp_checkins.checkin_submit(
        user=member, term=running, task=running.camp.tasks.get(day=3), text="今天写了 300 字", images=()
    )
    row = _row(client.get(URL).content.decode(), running)
    assert "今日已打卡" in row and "已打卡 1 / 7 天" in row and "连续 1 天" in row


def test_a_completed_term_lists_its_certificate_with_the_pages_that_show_it(client, member):
    camp, term = f.make_camp(title="读书营", price_fen=0, days=3, started_days_ago=10)
    camp.certificate_days = 2
    camp.save()
    camp_seats.seat_grant(term=term, user=member, source="free")
    _camp, unfinished = f.make_camp(title="未完成营", price_fen=0, days=3, started_days_ago=10)
    camp_seats.seat_grant(term=unfinished, user=member, source="free")
    _complete(member, unfinished, 1)
    _complete(member, term, 2)
    seat = TermSeat.objects.get(user=member, term=term)
    client.force_login(member)
    page = client.get(URL).content.decode()

    certificates = _group(page, "certificates")
    assert f'data-certificate="{term.pk}"' in certificates and seat.certificate_no in certificates
    assert f'href="/courses/camps/terms/{term.pk}/certificate/"' in certificates
    assert f'href="/courses/camps/terms/{term.pk}/certificate.png"' in certificates
    assert f'data-certificate="{unfinished.pk}"' not in certificates
    assert "已打卡 1 / 3 天" in _row(page, unfinished)
    # the links open: the same rule decides there
    assert client.get(f"/courses/camps/terms/{term.pk}/certificate.png").status_code == 200
    assert client.get(f"/courses/camps/terms/{unfinished.pk}/certificate.png").status_code == 404


def test_a_tier_seat_whose_membership_ended_keeps_no_certificate(client, member, vip):
    camp, term = f.make_camp(tiers=[vip], price_fen=0, days=3, started_days_ago=10)
    camp.certificate_days = 1
    camp.save()
    f.give_tier(member, vip)
    camp_seats.seat_grant(term=term, user=member, source="tier")
    _complete(member, term, 1)
    client.force_login(member)
    assert f'data-certificate="{term.pk}"' in client.get(URL).content.decode()

    Membership.objects.filter(user=member).update(ends_at=timezone.now() - timedelta(days=1))
    member_bump(member.pk)
    page = client.get(URL).content.decode()
    assert 'data-term-access="membership_expired"' in _row(page, term)
    assert "你的会员已到期" in _row(page, term)
    assert f'data-certificate="{term.pk}"' not in page
    assert client.get(f"/courses/camps/terms/{term.pk}/certificate.png").status_code == 404


def test_a_refunded_seat_and_another_members_terms_never_show(client, member):
    _camp, refunded = f.make_camp(title="退款营", price_fen=9_900, started_days_ago=-3)
    f.refund(f.buy(member, "camp", refunded.pk))
    _camp, theirs = f.make_camp(title="别人的营", price_fen=0, days=3, started_days_ago=10)
    other = UserFactory()
    camp_seats.seat_grant(term=theirs, user=other, source="free")
    theirs.camp.certificate_days = 1
    theirs.camp.save()
    _complete(other, theirs, 1)
    client.force_login(member)
    page = client.get(URL).content.decode()
    assert "退款营" not in page and "别人的营" not in page
    assert 'data-empty="terms"' in page and 'data-empty="certificates"' in page


def test_a_member_without_camps_is_sent_to_the_camps(client, member):
    client.force_login(member)
    page = client.get(URL).content.decode()
    assert "还没有加入训练营" in page and 'href="/courses/camps/"' in page
    assert "还没有证书" in page


def test_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/courses/mine/camps/")
