"""Pages of the operators' console under /ops/: the dashboard, CSV exports, stored operations reports.

Staff only, and each page checks its permission (granted to roles by `manage.py setup_roles`):
`insights.view_dashboard` for the dashboard and reports, `insights.export_reports` for dashboard tables,
orders and members, `insights.export_finance` for commissions and withdrawals.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from insights import exports, selectors
from insights.models import OperationsReport
from insights.periods import PRESETS, PeriodError, default_period, parse_period

VIEW = "insights.view_dashboard"
EXPORT = "insights.export_reports"
EXPORT_FINANCE = "insights.export_finance"


def staff_permission(perm: str):
    """Anonymous → login; logged-in without staff status or the permission → 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), "/admin/login/")
            if not (user.is_active and user.is_staff and user.has_perm(perm)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _period(request):
    try:
        return parse_period(request.GET), ""
    except PeriodError as exc:
        return default_period(), str(exc)


def _export_period(request):
    """The export's period, or a 400 answer: a file of the wrong 30 days would pass for the one asked for."""
    try:
        return parse_period(request.GET), None
    except PeriodError as exc:
        return None, HttpResponseBadRequest(
            _("无法导出：%(error)s") % {"error": exc}, content_type="text/plain; charset=utf-8"
        )


@require_GET
@staff_permission(VIEW)
def dashboard(request):
    period, error = _period(request)
    board = selectors.dashboard(period)
    user = request.user
    return render(
        request,
        "insights/dashboard.html",
        {
            "board": board,
            "period_error": error,
            "presets": PRESETS,
            # The chip of the preset shown (none for custom dates); no parameters means the last 30 days.
            "active_range": "" if error or request.GET.get("start") else request.GET.get("range") or "30d",
            "can_export": user.has_perm(EXPORT),
            "can_export_finance": user.has_perm(EXPORT_FINANCE),
        },
    )


@require_GET
@staff_permission(EXPORT)
def export_table(request, key: str):
    period, refused = _export_period(request)
    if refused:
        return refused
    table = selectors.dashboard_table(key, period)
    if table is None:
        raise Http404(_("没有这个表格"))
    return exports.table_csv(table, period)


@require_GET
@staff_permission(EXPORT)
def export_orders(request):
    period, refused = _export_period(request)
    if refused:
        return refused
    return exports.orders_csv(period)


@require_GET
@staff_permission(EXPORT)
def export_members(request):
    if request.GET.get("all"):
        return exports.members_csv(None)
    period, refused = _export_period(request)
    if refused:
        return refused
    return exports.members_csv(period)


@require_GET
@staff_permission(EXPORT_FINANCE)
def export_commissions(request):
    period, refused = _export_period(request)
    if refused:
        return refused
    return exports.commissions_csv(period)


@require_GET
@staff_permission(EXPORT_FINANCE)
def export_withdrawals(request):
    period, refused = _export_period(request)
    if refused:
        return refused
    return exports.withdrawals_csv(period)


@require_GET
@staff_permission(VIEW)
def report_list(request):
    reports = OperationsReport.objects.order_by("-period_start", "kind")[:120]
    return render(request, "insights/report_list.html", {"reports": reports})


@require_GET
@staff_permission(VIEW)
def report_detail(request, pk: int):
    report = get_object_or_404(OperationsReport, pk=pk)
    return render(request, "insights/report_detail.html", {"report": report})
