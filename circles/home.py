"""What circles contributes to the home page (found by `core.discovery.app_modules("home")`)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import Circle, CircleMembership, PaidQuestion, Post, TipIntent


def tier_benefits(tiers) -> dict[int, list[str]]:
    """For each tier id, the published circles it (or a lower rank) includes. 1 statement."""
    rows = list(
        Circle.included_in_tiers.through.objects.filter(circle__is_published=True)
        .order_by("circle__id")
        .values_list("membershiptier__rank", "circle__name")
    )
    benefits = {}
    for tier in tiers:
        names = list(dict.fromkeys(name for rank, name in rows if rank <= tier.rank))
        benefits[tier.pk] = (
            [
                _("付费圈子免费加入：%(names)s")
                % {"names": _("、").join(_("「%(name)s」") % {"name": n} for n in names[:3])}
            ]
            if names
            else []
        )
    return benefits


def visitor_panel() -> dict:
    """Featured (精华) posts of published circles, as proof of a living community. 1 statement."""
    posts = list(
        Post.objects.filter(circle__is_published=True, status=Post.Status.VISIBLE, is_featured=True)
        .select_related("author", "circle")
        .order_by("-featured_at", "-id")[:3]
    )
    return {"featured_posts": posts}


def member_panel(user) -> dict:
    """The newest posts by others in the circles the member is in. 1 statement."""
    now = timezone.now()
    mine = CircleMembership.objects.filter(user=user, status=CircleMembership.Status.ACTIVE).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    posts = list(
        Post.objects.filter(circle__in=mine.values("circle"), status=Post.Status.VISIBLE)
        .exclude(author=user)
        .select_related("author", "circle")
        .order_by("-created_at")[:3]
    )
    return {"circle_posts": posts}


def order_destination(order) -> tuple[str, str] | None:
    """Where a paid order of circles sends the member: the circle, or the post they tipped."""
    if order.item_type == "circle":
        return reverse("circles:detail", args=[order.item_id]), _("进入圈子")
    if order.item_type == "tip":
        tip = TipIntent.objects.filter(pk=order.item_id).only("post_id", "circle_id").first()
        if tip is not None and tip.post_id:
            return reverse("circles:post", args=[tip.post_id]), _("回到帖子")
        if tip is not None:
            return reverse("circles:detail", args=[tip.circle_id]), _("回到圈子")
    if order.item_type == "circle_question":
        question = PaidQuestion.objects.filter(pk=order.item_id).only("circle_id").first()
        if question is not None:
            return reverse("circles:detail", args=[question.circle_id]), _("回到圈子")
    return None
