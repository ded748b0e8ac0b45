"""/growth/redeem/: a member types a redeem code and lands on what it gave them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from growth.models import RedeemCode
from growth.redeem_codes import services
from growth.redeem_codes.forms import RedeemForm
from payments.orders.selectors import purchase_destination


@login_required
def redeem(request: HttpRequest) -> HttpResponse:
    form = RedeemForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["code"]
        # Their own code again (a double tap, a second visit): the same redemption, said as such.
        again = RedeemCode.objects.filter(
            code=services.normalize_code(raw), redeemed_by_id=request.user.pk
        ).exists()
        try:
            code = services.code_redeem(user=request.user, raw_code=raw)
        except ApplicationError as exc:
            form.add_error("code", exc.message)
        else:
            order = code.order
            assert order is not None  # a redeemed code has its order (database constraint)
            if again:
                messages.info(request, _("这个兑换码你已兑换过：%(title)s") % {"title": order.title})
            else:
                messages.success(request, _("兑换成功：%(title)s") % {"title": order.title})
            destination = purchase_destination(order)
            return redirect(
                destination[0] if destination else reverse("payments:order_detail", args=[order.order_no])
            )
    return render(request, "growth/redeem.html", {"form": form}, status=400 if form.errors else 200)
