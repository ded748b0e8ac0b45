"""The demo personas agree with themselves on every page: what `vip` holds was bought through real
orders, the promoter's commission comes from that purchase, and the newcomer `member` has no invented
earnings."""

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings, tmp_path):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent


def test_the_vip_persona_a_month_in_agrees_on_every_page(seeded, client):
    from circles.models import Post
    from courses.models import CheckIn, EventRegistration, LessonProgress
    from members.models import Membership, User
    from payments.models import Order
    from payments.wallet import ledger
    from referrals.models import Commission

    vip = User.objects.get(username="vip")
    membership = Membership.objects.get(user=vip)
    assert membership.tier.code == "VIP"
    order = Order.objects.get(user=vip, item_type="membership", status="paid")
    assert (membership.ends_at - membership.starts_at).days == 365 and 330 <= (
        membership.ends_at - order.paid_at
    ).days
    assert LessonProgress.objects.filter(user=vip, completed=True).count() == 2
    assert CheckIn.objects.filter(user=vip).count() == 3
    assert EventRegistration.objects.filter(user=vip, status="confirmed").exists()
    assert Post.objects.filter(author=vip).count() == 1
    assert Order.objects.filter(user=vip, item_type="circle", status="paid").count() == 1

    promoter = User.objects.get(username="promoter")
    assert Commission.objects.filter(beneficiary=promoter, order=order).exists()
    earned = sum(Commission.objects.filter(beneficiary=promoter).values_list("amount_fen", flat=True))
    assert ledger.balances(promoter).pending_fen == earned > 0  # the wallet agrees with the referral centre

    member = User.objects.get(username="member")
    assert (
        ledger.balances(member).total_earned_fen == 0 and not Membership.objects.filter(user=member).exists()
    )

    client.force_login(vip)
    home = client.get("/").content.decode()
    assert "林晓雨" in home and 'data-panel="camp"' in home and 'data-panel="ticket"' in home
    assert "已学 50%" in home
    assert "VIP-" in client.get("/account/").content.decode()


def test_demo_items_have_generated_covers_and_no_seed_artefacts(seeded, client):
    from courses.models import Course, Term

    assert all(course.cover for course in Course.objects.all())
    assert not Term.objects.filter(name__startswith="H").exists()
    page = client.get(f"/courses/{Course.objects.order_by('sort_order').first().pk}/").content.decode()
    assert "讲师老张" not in page
