"""Admin for operators and circle owners: owners see only their own circles' members and posts, find
the expiring-soon members, and remove members with a refund; operators moderate every circle."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from circles.models import Circle, CircleMembership, Post
from core import roles
from insights.roles import roles_setup
from payments.models import Order
from tests.circles import factories as f
from tests.circles.conftest import mini_program_user
from tests.factories import UserFactory


def staff_in(role: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def creator(db):
    roles_setup()
    return staff_in(roles.CIRCLE_OWNER)


@pytest.mark.django_db
def test_a_circle_owner_sees_only_their_members_and_the_expiring_soon_ones(creator, client):
    mine = f.make_circle(owner=creator)
    theirs = f.make_circle()
    soon = f.make_member(circle=mine, user=UserFactory(nickname="快到期的甲"))
    f.make_member(circle=mine, user=UserFactory(nickname="还早的乙"))
    CircleMembership.objects.filter(circle=mine, user=soon).update(
        expires_at=timezone.now() + timedelta(days=6)
    )
    stranger = f.make_member(circle=theirs, user=UserFactory(nickname="别人的丙"))
    client.force_login(creator)
    url = reverse("admin:circles_circlemembership_changelist")
    listing = client.get(url).content.decode()
    assert "快到期的甲" in listing and "还早的乙" in listing
    assert "别人的丙" not in listing
    expiring = client.get(url + "?expiring=7").content.decode()
    assert "快到期的甲" in expiring and "还早的乙" not in expiring
    other = CircleMembership.objects.get(circle=theirs, user=stranger)
    change = client.get(reverse("admin:circles_circlemembership_change", args=[other.pk]))
    assert change.status_code in (302, 404)


@pytest.mark.django_db
def test_a_circle_owner_without_the_money_role_is_not_offered_the_refund(creator, client):
    circle = f.make_circle(owner=creator)
    user = f.make_member(circle=circle)
    membership = CircleMembership.objects.get(circle=circle, user=user)
    client.force_login(creator)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            reverse("admin:circles_circlemembership_changelist"),
            {"action": "remove_with_refund", "_selected_action": [membership.pk]},
        )
    membership.refresh_from_db()
    assert membership.status == "active"
    assert Order.objects.get(user=user, item_type="circle").status == "paid"


@pytest.mark.django_db
def test_a_circle_owner_who_is_a_money_operator_removes_a_member_with_a_refund(creator, client):
    circle = f.make_circle(owner=creator)
    user = f.make_member(circle=circle)
    membership = CircleMembership.objects.get(circle=circle, user=user)
    f.make_money_operator(creator)
    client.force_login(creator)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            reverse("admin:circles_circlemembership_changelist"),
            {"action": "remove_with_refund", "_selected_action": [membership.pk]},
        )
    membership.refresh_from_db()
    assert membership.status == "removed" and membership.removed_with_refund and not membership.rejoin_allowed
    assert Order.objects.get(user=user, item_type="circle").status == "refunded"


@pytest.mark.django_db
def test_an_operator_approves_a_post_held_for_review_in_any_circle(creator, client, settings, msg_check):
    operator = staff_in(roles.OPERATOR)
    circle = f.make_circle()
    author = mini_program_user(f.make_member(circle=circle), settings)
    msg_check.verdicts["私聊"] = "review"
    from circles.services import posts as post_services

    post = post_services.post_create(circle=circle, author=author, body="私聊领资料")
    client.force_login(operator)
    queue = client.get(reverse("admin:circles_post_changelist") + "?status__exact=review").content.decode()
    assert "私聊领资料" in queue
    client.post(
        reverse("admin:circles_post_changelist"), {"action": "approve", "_selected_action": [post.pk]}
    )
    assert Post.objects.get(pk=post.pk).status == "visible"
    # a circle owner does not even see another owner's post
    client.force_login(creator)
    assert "私聊领资料" not in client.get(reverse("admin:circles_post_changelist")).content.decode()


@pytest.mark.django_db
def test_a_cover_upload_is_checked_by_content_and_size(creator, client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.circles.test_content import png_bytes

    circle = f.make_circle(owner=creator)
    client.force_login(creator)
    url = reverse("admin:circles_circle_change", args=[circle.pk])
    form = {
        "name": circle.name,
        "intro": circle.intro,
        "is_published": "on",
        "pricing_mode": "duration",
        "price_fen": circle.price_fen,
        "duration_days": 365,
        "late_join": "full",
        "trial_days": 3,
        "renew_window_days": 30,
        "renew_early_bp": 8000,
        "renew_window_bp": 9000,
        "renew_late_bp": 10000,
        "qa_enabled": "on",
        "qa_price_fen": 990,
        "qa_answer_days": 3,
        "rules-TOTAL_FORMS": 0,
        "rules-INITIAL_FORMS": 0,
    }
    fake = SimpleUploadedFile("cover.png", b"<?php echo 1; ?>", content_type="image/png")
    refused = client.post(url, {**form, "cover": fake})
    assert refused.status_code == 200 and not Circle.objects.get(pk=circle.pk).cover
    settings.UPLOAD_IMAGE_MAX_BYTES = 10
    big = SimpleUploadedFile("cover.png", png_bytes(), content_type="image/png")
    assert client.post(url, {**form, "cover": big}).status_code == 200
    settings.UPLOAD_IMAGE_MAX_BYTES = 5 * 1024 * 1024
    good = SimpleUploadedFile("cover.png", png_bytes(), content_type="image/png")
    saved = client.post(url, {**form, "cover": good})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert Circle.objects.get(pk=circle.pk).cover


@pytest.mark.django_db
def test_an_operator_publishes_now_or_cancels_a_scheduled_post_in_admin(creator, client):
    operator = staff_in(roles.OPERATOR)
    circle = f.make_circle()
    member = f.make_member(circle=circle)
    from circles.services import posts as post_services

    soon = timezone.now() + timedelta(hours=5)
    first = post_services.post_create(
        circle=circle, author=circle.owner, body="运营代发的公告", publish_at=soon
    )
    second = post_services.post_create(circle=circle, author=circle.owner, body="取消的公告", publish_at=soon)
    client.force_login(operator)
    changelist = reverse("admin:circles_post_changelist")
    assert "运营代发的公告" in client.get(changelist + "?status__exact=scheduled").content.decode()
    client.post(changelist, {"action": "publish_now", "_selected_action": [first.pk]})
    client.post(changelist, {"action": "cancel_schedule", "_selected_action": [second.pk]})
    assert Post.objects.get(pk=first.pk).status == "visible"
    assert Post.objects.get(pk=second.pk).status == "deleted"
    assert member.notifications.filter(kind="circle_post_published").count() == 1
    assert Circle.objects.get(pk=circle.pk).visible_post_count == 1
