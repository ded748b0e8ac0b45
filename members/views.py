"""Member-facing pages (thin: selectors in, services for writes, template out)."""

import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from core.http import local_path
from core.sessions import log_out_everywhere
from members import selectors, services
from members.models import MembershipTier
from payments.wallet import ledger


def home(request):
    """A home that knows who is looking: a visitor sees what the community is, proof and the tiers
    with what each really includes; a member sees where to continue, today's camp task, what is new
    in their circles, their next ticket, and a renewal only near the end. Fixed statement count."""
    from core.discovery import app_modules

    context = selectors.home_context(request.user)
    if context["active"] is None:  # a visitor who came through a share link sees who invited them
        for module in app_modules("home"):
            if hasattr(module, "request_panel"):
                context.update(module.request_panel(request))
    return render(request, "members/home.html", context)


# ---- notifications ------------------------------------------------------------------------------------


@login_required
def notifications(request):
    page = Paginator(selectors.notifications_for_user(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "members/notifications.html",
        {
            "page": page,
            "notifications": page.object_list,
            "unread_count": selectors.unread_notifications_count(request.user),
        },
    )


@login_required
@require_POST
def notification_open(request, notification_id: int):
    """Mark read, then follow the notification's link (same-site links only)."""
    try:
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
    except ApplicationError as exc:
        if exc.status_code == 404:  # someone else's notification: as if it did not exist
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("members:notifications")
    target = local_path(request, notification.url)
    return HttpResponseRedirect(target) if target else redirect("members:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    marked = services.notifications_mark_all_read(user=request.user)
    if marked:
        messages.success(request, _("已全部标为已读"))
    return redirect("members:notifications")


# ---- tiers and purchase ----------------------------------------------------------------------------------------


def tiers(request):
    """Tier comparison: every tier's benefits side by side, with what buying it means for this user."""
    rows = selectors.tier_comparison(request.user)
    benefits = selectors.tier_benefit_lines([row["tier"] for row in rows])
    for row in rows:
        row["benefits"] = benefits[row["tier"].pk]
    return render(
        request,
        "members/tiers.html",
        {"rows": rows, "membership": selectors.active_membership(request.user)},
    )


def tier_detail(request, code: str):
    """One tier and what it costs this user now (start, renew from the end, or upgrade with credit)."""
    from payments import items

    tier = get_object_or_404(MembershipTier, code=code, is_active=True)
    quote, refusal = None, ""
    if request.user.is_authenticated:
        try:
            quote = items.quote(user=request.user, item_type="membership", item_id=tier.code)
        except ApplicationError as exc:
            refusal = exc.message
    checkout_url = (
        reverse("payments:checkout") + "?" + urlencode({"item_type": "membership", "item_id": tier.code})
    )
    return render(
        request,
        "members/tier_detail.html",
        {
            "tier": tier,
            "benefits": selectors.tier_benefit_lines([tier])[tier.pk],
            "quote": quote,
            "refusal": refusal,
            "checkout_url": checkout_url,
            "membership": selectors.active_membership(request.user),
        },
    )


# ---- my account -------------------------------------------------------------------------------------------------


@login_required
@require_POST
def logout_everywhere(request):
    """End every web session and every mini-program login of the member, this one included."""
    log_out_everywhere(request, user=request.user)
    messages.success(request, _("已在所有设备上退出登录"))
    return redirect("account_login")


@login_required
def account(request):
    membership = selectors.membership_for_user(request.user)
    active = selectors.active_membership(request.user)
    return render(
        request,
        "members/account.html",
        {
            "membership": membership,
            "active": active,
            "days_left": selectors.days_left(membership),
            "offers": selectors.membership_offers(request.user),
            "checklist": selectors.onboarding_checklist(request.user),
            "points": selectors.points_balance(request.user),
            "wallet": ledger.balances(request.user),
            "unread_count": selectors.unread_notifications_count(request.user),
            "grants": list(selectors.membership_grants(membership)[:10]) if membership else [],
        },
    )


@login_required
def onboarding(request):
    checklist = selectors.onboarding_checklist(request.user)
    if checklist is None:
        messages.info(request, _("开通会员后即可开始入会引导"))
        return redirect("members:tiers")
    return render(request, "members/onboarding.html", {"checklist": checklist})


@login_required
@require_POST
def onboarding_confirm(request, step: str):
    try:
        if step == "service_group":
            services.onboarding_confirm_service_group(user=request.user)
        elif step == "big_group":
            services.onboarding_confirm_big_group(user=request.user)
        else:
            raise Http404
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已记录，谢谢！"))
    return redirect("members:onboarding")


class ProfileForm(forms.Form):
    real_name = forms.CharField(label=gettext_lazy("姓名/称呼"), max_length=20, required=False)
    city = forms.CharField(label=gettext_lazy("城市"), max_length=20, required=False)
    industry = forms.CharField(label=gettext_lazy("行业"), max_length=20, required=False)
    company = forms.CharField(label=gettext_lazy("公司/职位"), max_length=64, required=False)
    self_introduction = forms.CharField(
        label=gettext_lazy("自我介绍"),
        max_length=services.INTRO_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("20–1000 字：做什么、在哪里、希望在社群里收获什么。提交后即可加入会员大群。"),
    )
    use_house_nickname = forms.BooleanField(label=gettext_lazy("使用社群统一昵称"), required=False)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    current = selectors.profile_for_user(request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.profile_update(user=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("资料已保存"))
                return redirect("members:profile")
    else:
        form = ProfileForm(
            initial={
                "real_name": current.real_name,
                "city": current.city,
                "industry": current.industry,
                "company": current.company,
                "self_introduction": current.self_introduction,
            }
        )
    suggested = services.house_nickname(
        user=request.user,
        real_name=form["real_name"].value() or "",
        city=form["city"].value() or "",
        industry=form["industry"].value() or "",
    )
    return render(request, "members/profile.html", {"form": form, "suggested_nickname": suggested})


# ---- points and mall -----------------------------------------------------------------------------------------


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
    try:
        redemption = services.points_redeem(
            user=request.user, reward_id=reward_id, idempotency_key=request.POST.get("idempotency_key", "")
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
