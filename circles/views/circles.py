"""Circle pages: the list, the member's own circles, a circle's page (the feed for members, the intro
and join box for everyone else), the free trial, leaving, accepting the rules and the contributor leaderboard."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circles.forms import RulesAcceptForm, first_error
from circles.selectors import access as access_selectors
from circles.selectors import members as member_selectors
from circles.selectors import mine as mine_selectors
from circles.selectors import posts as post_selectors
from circles.selectors import stats as stats_selectors
from circles.services import circles as circle_services
from circles.services import memberships as membership_services
from circles.services import pricing as circle_pricing
from core.errors import ApplicationError
from core.http import redirect_to_next


def checkout_path(item_type: str, item_id) -> str:
    """The checkout page for one item of circles (a circle period, a tip, a paid question)."""
    return reverse("payments:checkout") + "?" + urlencode({"item_type": item_type, "item_id": item_id})


def rules_first(circle_id: int, *, back_to: str) -> HttpResponse:
    """To the rules page, and back to `back_to` once they are accepted."""
    return redirect(reverse("circles:rules", args=[circle_id]) + "?" + urlencode({"next": back_to}))


def circle_list(request: HttpRequest) -> HttpResponse:
    return render(request, "circles/list.html", {"circles": access_selectors.circles_listed()})


@login_required
def my_circles(request: HttpRequest) -> HttpResponse:
    """我的圈子: the circles the member owns, may read, and whose membership ran out (to renew)."""
    return render(request, "circles/mine.html", {"groups": mine_selectors.my_circles(user=request.user)})


def circle_detail(request: HttpRequest, circle_id: int) -> HttpResponse:
    """Members see the feed; everyone else sees the intro, a preview (titles only) and the join button."""
    circle = access_selectors.circle_get(circle_id=circle_id)
    access = access_selectors.circle_access(request.user, circle)
    context = {"circle": circle, "access": access}
    if access.can_read:
        feed = request.GET.get("feed", "newest")
        feed = feed if feed in post_selectors.FEEDS else "newest"
        try:
            page = post_selectors.feed_page_number(request.GET.get("page", 1))
        except ValueError:
            page = 1
        q = post_selectors.search_term(request.GET.get("q", ""), max_chars=50)
        tag = post_selectors.search_term(request.GET.get("tag", ""), max_chars=20)
        posts, count = post_selectors.feed_page(
            circle=circle, user=request.user, feed=feed, page=page, tag=tag, q=q
        )
        context.update(
            posts=posts,
            count=count,
            feed=feed,
            q=q,
            tag=tag,
            page=page,
            has_next=page * post_selectors.FEED_PAGE_SIZE < count,
            guests=member_selectors.guests_of(circle=circle),
            scheduled=post_selectors.scheduled_posts_of_author(circle=circle, user=request.user)
            if access.can_manage
            else [],
        )
    else:
        context["preview"] = post_selectors.preview_posts(circle=circle)
        context["rules"] = access_selectors.current_rules(circle)
        try:
            context["price"] = circle_pricing.circle_price(
                circle=circle, user=request.user, membership=access.membership
            )
            context["checkout_url"] = checkout_path("circle", circle.pk)
        except ApplicationError as exc:
            context["price_error"] = exc.message
    if (
        access.can_read
        and not access.via_tier
        and circle_pricing.renewal_due(circle=circle, membership=access.membership)
    ):
        try:
            context["renew_price"] = circle_pricing.circle_price(
                circle=circle, user=request.user, membership=access.membership
            )
            context["checkout_url"] = checkout_path("circle", circle.pk)
        except ApplicationError:
            pass
    return render(request, "circles/detail.html", context)


@login_required
@require_POST
def circle_trial(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    try:
        membership_services.circle_trial_start(circle=circle, user=request.user)
        messages.success(request, _("试用已开始，欢迎加入！"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("circles:detail", circle_id=circle.pk)


@login_required
@require_POST
def circle_leave(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    try:
        membership_services.circle_leave(circle=circle, user=request.user)
        messages.success(request, _("你已退出该圈子"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("circles:detail", circle_id=circle.pk)


@login_required
def circle_rules(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    access = access_selectors.circle_access(request.user, circle)
    if not access.can_read:
        raise Http404
    if request.method == "POST":
        form = RulesAcceptForm(request.POST, rules_version=circle.rules_version)
        if form.is_valid():
            try:
                circle_services.circle_rules_accept(circle=circle, user=request.user)
                messages.success(request, _("已同意社群公约"))
                return redirect_to_next(request, reverse("circles:compose", args=[circle.pk]))
            except ApplicationError as exc:
                messages.error(request, exc.message)
        elif form.rules_changed:
            messages.warning(request, _("公约已更新，请阅读最新版本"))
        else:
            messages.error(request, first_error(form))
    return render(
        request,
        "circles/rules.html",
        {
            "circle": circle,
            "access": access,
            "rules": access_selectors.current_rules(circle),
            "next": request.GET.get("next", ""),
        },
    )


@login_required
def leaderboard(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    access = access_selectors.circle_access(request.user, circle)
    if not access.can_read:
        raise Http404
    period = request.GET.get("period", "7d")
    period = period if period in stats_selectors.PERIODS else "7d"
    rows = stats_selectors.leaderboard(circle=circle, period=period)
    return render(
        request,
        "circles/leaderboard.html",
        {"circle": circle, "access": access, "rows": rows, "period": period},
    )
