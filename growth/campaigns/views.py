"""/growth/messages/: a member's marketing message settings (SMS consent, unsubscribe); every campaign
notification links here."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from growth.campaigns.forms import MarketingPreferenceForm
from growth.campaigns.preferences import preference_for, preference_update
from members.models import User


@login_required
@require_http_methods(["GET", "POST"])
def marketing_settings(request: HttpRequest) -> HttpResponse:
    member = cast(User, request.user)  # login_required
    current = preference_for(member)
    form = MarketingPreferenceForm(
        request.POST or None,
        initial={"sms_consent": current.sms_consent, "unsubscribed": current.unsubscribed},
    )
    if request.method == "POST" and form.is_valid():
        preference_update(user=member, **form.cleaned_data)
        messages.success(request, _("消息设置已保存"))
        return redirect("growth:marketing_settings")
    return render(request, "growth/marketing_settings.html", {"form": form, "preference": current})
