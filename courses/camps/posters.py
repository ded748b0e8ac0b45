"""Shareable images of a camp: the achievement poster (成就分享, with the member's referral QR or
mini-program code) and the completion certificate (结营证书)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core import brand
from core import posters as core_posters
from core.errors import NotEntitled
from core.wxacode import miniprogram_code_png, referral_scene
from courses.camps import selectors as camp_selectors
from courses.models import (
    Term,
    TermSeat,
)

logger = logging.getLogger(__name__)


def share_url(user) -> str:
    """The member's referral link (the referrals app owns /r/<code>/)."""
    return f"{settings.SITE_URL}/r/{user.referral_code}/"


def term_poster_png(*, user, term: Term, now: datetime | None = None) -> bytes:
    """成就分享: camp name, streak/days/points and a QR code carrying the member's referral link."""
    access = camp_selectors.term_access(user, term)
    if not access.joined:
        raise NotEntitled(access.state_text or None)
    seat = access.seat
    assert seat is not None  # a "joined" access carries its seat
    today = timezone.localdate(now or timezone.now())
    page = settings.WECHAT_MINIPROGRAM_POSTER_PAGE
    code_png = miniprogram_code_png(scene=referral_scene(user.referral_code), page=page) if page else None
    camp = term.camp
    benefits = [
        _("%(days)s 天每日任务，按时打卡得积分") % {"days": term.days},
        _("%(teacher)s点评作业") % {"teacher": camp.teacher.display_name},
        _("打卡满 %(days)s 天获得结营证书") % {"days": camp_selectors.certificate_days_needed(term)},
    ]
    if camp.summary:
        benefits.insert(0, camp.summary)
    return core_posters.render_poster(
        title=f"{camp.title} · {term.name}",
        subtitle=_("%(name)s 在%(site)s训练营坚持打卡")
        % {"name": user.display_name, "site": brand.current().site_name},
        stats=[
            (str(seat.current_streak(today)), _("连续打卡天数")),
            (str(seat.checkin_days), _("累计打卡天数")),
            (str(seat.points), _("本期积分")),
        ],
        benefits=benefits,
        benefits_title=_("和我一起打卡"),
        qr_payload=share_url(user),
        qr_png_bytes=code_png,
        footer=_("推荐码 %(code)s") % {"code": user.referral_code},
    )


def certificate_png(*, seat: TermSeat) -> bytes:
    """The completion certificate (结营证书) as a landscape PNG with a CJK font."""
    term = seat.term
    completed = timezone.localtime(seat.completed_at) if seat.completed_at else timezone.localtime()
    return core_posters.render_certificate(
        heading=str(_("结营证书")),
        name=seat.user.display_name,
        lines=[
            str(_("完成了「%(camp)s」%(term)s") % {"camp": term.camp.title, "term": term.name}),
            str(
                _("共打卡 %(days)s 天，最长连续 %(streak)s 天，获得 %(points)s 积分")
                % {"days": seat.checkin_days, "streak": seat.best_streak, "points": seat.points}
            ),
        ],
        signature=str(_("主讲老师：%(teacher)s")) % {"teacher": term.camp.teacher.display_name},
        date=f"{completed:%Y-%m-%d}",
        number=str(_("证书编号 %(no)s")) % {"no": seat.certificate_no or ""},
    )
