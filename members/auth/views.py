"""Sign-in pages members owns: logging out everywhere (the sign-in pages themselves are allauth's)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.sessions import log_out_everywhere


@login_required
@require_POST
def logout_everywhere(request):
    """End every web session and every mini-program login of the member, this one included."""
    log_out_everywhere(request, user=request.user)
    messages.success(request, _("已在所有设备上退出登录"))
    return redirect("account_login")
