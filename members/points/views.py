"""Points pages: the balance and history, the points mall and redeeming a reward (thin: selectors in,
services for writes, template out)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from members.points import mall as mall_services
from members.points import selectors
from members.points.forms import RedeemForm


@login_required
def points(request):
    page = Paginator(selectors.points_history(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "members/points.html",
        {
            "page": page,
            "entries": page.object_list,
            "balance": selectors.points_balance(request.user),
            "redemptions": selectors.redemptions_for_user(request.user)[:10],
            "signup_bonus": selectors.points_signup_bonus(),
        },
    )


@login_required
def mall(request):
    return render(
        request,
        "members/mall.html",
        {
            "rewards": selectors.rewards_for_user(request.user),
            "balance": selectors.points_balance(request.user),
            # One key per rendered page: a double submit of the same form redeems once.
            "tap_key": uuid.uuid4().hex,
        },
    )


@login_required
@require_POST
def mall_redeem(request, reward_id: int):
    form = RedeemForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(form.errors["idempotency_key"][0]))
        return redirect("members:mall")
    try:
        redemption = mall_services.points_redeem(
            user=request.user, reward_id=reward_id, idempotency_key=form.cleaned_data["idempotency_key"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("兑换成功：%(title)s，消耗 %(points)s 积分")
            % {"title": redemption.reward.title, "points": redemption.points},
        )
    return redirect("members:mall")
