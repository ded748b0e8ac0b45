"""Onboarding pages: the member's four-step checklist and confirming a step (thin: selectors in, services
for writes, template out)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from members.onboarding import selectors, services


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
