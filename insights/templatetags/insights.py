"""Formatting of dashboard numbers: `{{ value|cell:kind }}` and `{{ kpi|change_text }}`."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _

from core.money import fen_to_yuan_text
from insights.metrics.base import FEN, INT, RATE, SECONDS

register = template.Library()


def duration_text(seconds: float) -> str:
    seconds = float(seconds)
    if seconds < 3600:
        return _("%(m)s 分钟") % {"m": max(0, round(seconds / 60))}
    if seconds < 48 * 3600:
        return _("%(h).1f 小时") % {"h": seconds / 3600}
    return _("%(d).1f 天") % {"d": seconds / 86400}


@register.filter
def cell(value, kind: str) -> str:
    if value is None or value == "":
        return "—"
    if kind == FEN:
        return fen_to_yuan_text(int(value))
    if kind == RATE:
        return f"{value * 100:.1f}%"
    if kind == SECONDS:
        return duration_text(value)
    if kind == INT and isinstance(value, int):
        return intcomma(value)
    return str(value)


@register.filter
def change_text(kpi) -> str:
    change = kpi.change
    if change is None:
        return ""
    if kpi.kind == RATE:
        return _("%(sign)s%(pts).1f 个百分点") % {
            "sign": "+" if change >= 0 else "−",
            "pts": abs(change) * 100,
        }
    return f"{'+' if change >= 0 else '−'}{abs(change) * 100:.1f}%"


@register.filter
def change_class(kpi) -> str:
    change = kpi.change
    if change is None or abs(change) < 1e-9:
        return "flat"
    # Refunds, churn and review time going up is bad news.
    worse_when_up = kpi.key in {"refunds", "churn_rate", "review_median"}
    return "down" if (change > 0) == worse_when_up else "up"


@register.filter
def numeric(kind: str) -> bool:
    return kind != "text"
