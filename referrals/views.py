"""Referral pages (thin: selectors read, services write, messages show refusals).

Referral center, invited people, commissions, agreement, posters, the share route `/r/<code>/`,
group-buy pages and the operators' compliance report.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from core.http import local_path
from core.ip import client_ip
from core.roles import FINANCE, OPERATOR, has_role
from members.models import User
from payments import items
from referrals import agreements, capture, codes, compliance, group_buys, posters, promoters, selectors
from referrals.forms import AgreementAcceptForm
from referrals.models import Commission, GroupBuy, GroupBuyMember, PromoterPrice, StaffShareStatement

PAGE_SIZE = 20


def _signed_in_member(request: HttpRequest) -> User:
    """The member of a @login_required view (the decorator let no anonymous visitor through)."""
    user = request.user
    assert isinstance(user, User)
    return user


def _checkout_url(item_type: str, item_id) -> str:
    return reverse("payments:checkout") + "?" + urlencode({"item_type": item_type, "item_id": item_id})


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


# ---- the share route -----------------------------------------------------------------------------------


def share(request: HttpRequest, code: str) -> HttpResponse:
    """`/r/<code>/?c=<channel>&next=<path>|item=<type>:<id>`: remember the code, count, redirect."""
    capture.capture(request, code, channel=request.GET.get("c", ""))
    target = "/"
    item = request.GET.get("item", "")
    next_url = request.GET.get("next", "")
    if item and ":" in item:
        item_type, _sep, item_id = item.partition(":")
        if item_type in items.registered() and item_id:
            target = _checkout_url(item_type, item_id)
    elif local_path(request, next_url):
        target = next_url
    # a path, never a URL name: `redirect("abc")` would try to reverse it and fail the share link
    return HttpResponseRedirect(target)


# ---- referral center -------------------------------------------------------------------------------------


@login_required
def center(request: HttpRequest) -> HttpResponse:
    user = _signed_in_member(request)
    level = promoters.promoter_level_of(user)
    context = {
        "code": user.referral_code,
        "share_url": codes.share_url(user),
        "moments_url": codes.share_url(user, channel="moments"),
        "miniprogram_path": codes.miniprogram_path(user),
        "level": level,
        "agreement": agreements.agreement_current(),
        "agreement_ok": agreements.agreement_accepted(user),
        "earnings": selectors.earnings_by_state(user),
        "invited": list(selectors.invited_bindings(user)[:5]),
        "invited_count": selectors.invited_count(user),
        "commissions": list(selectors.commissions_of(user)[:5]),
        "leaderboard": selectors.leaderboard(),
        "link_stats": selectors.link_stats(user),
        # (price, what it is for in words: "会员 · VIP", not the stored item type code)
        "prices": [
            (price, f"{items.label_of(price.item_type)} · {price.item_id}")
            for price in (
                PromoterPrice.objects.filter(level=level).order_by("item_type", "item_id") if level else []
            )
        ],
        "seats": list(selectors.seats_of(user)[:5]),
        "is_rep": StaffShareStatement.objects.filter(rep=user).exists(),
    }
    return render(request, "referrals/center.html", context)


@login_required
def invited(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.invited_bindings(request.user), PAGE_SIZE).get_page(_page_number(request))
    return render(request, "referrals/invited.html", {"page": page})


@login_required
def commissions(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.commissions_of(request.user), PAGE_SIZE).get_page(_page_number(request))
    return render(
        request,
        "referrals/commissions.html",
        {"page": page, "earnings": selectors.earnings_by_state(request.user), "Status": Commission.Status},
    )


@login_required
def leaderboard(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/leaderboard.html", {"rows": selectors.leaderboard()})


@login_required
@require_http_methods(["GET", "POST"])
def agreement(request: HttpRequest) -> HttpResponse:
    current = agreements.agreement_current()
    if request.method == "POST":
        form = AgreementAcceptForm(request.POST)
        if current is None or not form.is_valid() or form.cleaned_data["version"] != current.version:
            messages.error(request, _("协议已更新，请阅读最新版本后再确认"))
        else:
            agreements.agreement_accept(
                user=_signed_in_member(request),
                agreement=current,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
            messages.success(request, _("已同意推广员协议，推广成交后即可获得佣金"))
            return redirect("referrals:center")
    return render(
        request,
        "referrals/agreement.html",
        {"agreement": current, "accepted": agreements.agreement_accepted(_signed_in_member(request))},
    )


@login_required
def poster(request: HttpRequest) -> HttpResponse:
    item_type = request.GET.get("item_type", "").strip()
    item_id = request.GET.get("item_id", "").strip()
    group_id = request.GET.get("group_id", "").strip()
    try:
        if group_id.isdigit():
            png = posters.group_poster_png(user=request.user, group=selectors.group_get(int(group_id)))
        else:
            png = posters.referral_poster_png(user=request.user, item_type=item_type, item_id=item_id)
    except ApplicationError as exc:
        raise Http404(exc.message) from None
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=600"
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="poster-{_signed_in_member(request).referral_code}.png"'
        )
    return response


@login_required
def staff_share(request: HttpRequest) -> HttpResponse:
    """A sales rep's own monthly statements."""
    statements = (
        StaffShareStatement.objects.filter(rep=_signed_in_member(request))
        .select_related("month")
        .order_by("-month__month")[:24]
    )
    return render(request, "referrals/staff_share.html", {"statements": statements})


# ---- group buys -----------------------------------------------------------------------------------------


def group_buy_list(request: HttpRequest) -> HttpResponse:
    offers = list(selectors.offers_listed())
    return render(
        request,
        "referrals/group_buy_list.html",
        {
            "offers": offers,
            "seats": list(selectors.seats_of(request.user)[:10]) if request.user.is_authenticated else [],
        },
    )


def group_buy_offer(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = selectors.offer_get(offer_id)
    return render(
        request,
        "referrals/group_buy_offer.html",
        {
            "offer": offer,
            "groups": selectors.open_groups_of_offer(offer),
            "list_price": _list_price(offer, request.user),
        },
    )


def _list_price(offer, user) -> int | None:
    """The item's own price, shown struck through next to the group price."""
    try:
        return posters.item_quote_for_visitor(
            user=user, item_type=offer.item_type, item_id=offer.item_id
        ).list_price_fen
    except (ApplicationError, AttributeError, TypeError):
        return None


@login_required
@require_POST
def group_buy_open(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = selectors.offer_get(offer_id)
    try:
        seat = group_buys.group_buy_open(user=request.user, offer=offer)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("referrals:group_buy_offer", offer_id=offer.pk)
    return redirect(_checkout_url(group_buys.ITEM_TYPE, seat.pk))


def group_buy_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.group_get(group_id)
    seat = None
    if request.user.is_authenticated:
        seat = group.members.filter(user=request.user).exclude(status=GroupBuyMember.Status.CANCELLED).first()
    now = timezone.now()
    joinable = group.status == GroupBuy.Status.FORMING and group.expires_at and group.expires_at > now
    share_url = request.build_absolute_uri(reverse("referrals:group_buy", args=[group.pk]))
    if isinstance(request.user, User):  # signed in
        share_url += "?" + urlencode({"ref": request.user.referral_code, "c": "group_buy"})
    return render(
        request,
        "referrals/group_buy_detail.html",
        {
            "group": group,
            "offer": group.offer,
            "members": selectors.group_paid_members(group),
            "empty_places": range(group.places_left if group.status == GroupBuy.Status.FORMING else 0),
            "seat": seat,
            "joinable": joinable,
            "seconds_left": max(0, int((group.expires_at - now).total_seconds()))
            if joinable and group.expires_at is not None
            else 0,
            "share_url": share_url,
            "list_price": _list_price(group.offer, request.user),
        },
    )


@login_required
@require_POST
def group_buy_join(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.group_get(group_id)
    try:
        seat = group_buys.group_buy_join(user=request.user, group_id=group.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("referrals:group_buy", group_id=group.pk)
    if seat.status == GroupBuyMember.Status.PAID:
        messages.info(request, _("你已在这个团里"))
        return redirect("referrals:group_buy", group_id=group.pk)
    return redirect(_checkout_url(group_buys.ITEM_TYPE, seat.pk))


# ---- operators -------------------------------------------------------------------------------------------


def _operator_or_404(request: HttpRequest) -> None:
    user = request.user
    if not (
        user.is_authenticated and user.is_staff and (has_role(user, OPERATOR) or has_role(user, FINANCE))
    ):
        raise Http404


@login_required
def compliance_report(request: HttpRequest) -> HttpResponse:
    _operator_or_404(request)
    report = compliance.compliance_report()
    page = Paginator(report["trees"], PAGE_SIZE).get_page(_page_number(request))
    return render(request, "referrals/compliance.html", {**report, "page": page})


@login_required
def compliance_csv(request: HttpRequest) -> StreamingHttpResponse:
    _operator_or_404(request)
    response = StreamingHttpResponse(
        compliance.compliance_csv_lines(), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="referral-trees-{stamp}.csv"'
    return response
