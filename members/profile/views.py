"""The profile page: profile and self-introduction, with the suggested house nickname (thin: selectors in,
services for writes, template out)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from members.profile import selectors, services
from members.profile.forms import ProfileForm


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
    suggested = selectors.house_nickname(
        user=request.user,
        real_name=form["real_name"].value() or "",
        city=form["city"].value() or "",
        industry=form["industry"].value() or "",
    )
    return render(request, "members/profile.html", {"form": form, "suggested_nickname": suggested})
