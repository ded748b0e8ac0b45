"""Share-link capture: `/r/<code>/` and `?ref=<code>` on any page put the code in the session
(`request.session["referral_code"]`, read by the members sign-up hook and by checkout) and count
one visit per session, code and channel."""

from __future__ import annotations

from django.http import HttpRequest

from referrals import codes
from referrals.models import LinkChannel

SKIP_PREFIXES = ("/api/", "/admin/", "/static/", "/media/", "/payments/wechatpay/", "/healthz")
_SEEN_LIMIT = 30


def capture(request: HttpRequest, raw_code: str, *, channel: str = ""):
    """Remember a valid code for this visitor; returns its owner (or None for an unknown code)."""
    token = codes.parse_ref(raw_code)
    if token is None:
        return None
    if channel:
        token = codes.parse_ref(f"{token.code}.{channel}") or token
    referrer = codes.user_for_code(token.code)
    if referrer is None:
        return None
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False) and user.pk == referrer.pk:
        return referrer  # opening one's own link: nothing to remember or count
    session = request.session
    session[codes.SESSION_KEY] = str(token)
    seen = list(session.get(codes.SESSION_SEEN_KEY, []))
    key = f"{token.code}.{token.channel}"
    if key not in seen:
        codes.link_visit_record(referrer=referrer, channel=token.channel)
        session[codes.SESSION_SEEN_KEY] = (seen + [key])[-_SEEN_LIMIT:]
    return referrer


class ReferralCaptureMiddleware:
    """`?ref=<code>` (optionally `&c=<channel>`) on any page GET does what `/r/<code>/` does."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and "ref" in request.GET and not request.path.startswith(SKIP_PREFIXES):
            channel = request.GET.get("c", "")
            capture(
                request, request.GET.get("ref", ""), channel=channel if channel in LinkChannel.values else ""
            )
        return self.get_response(request)
