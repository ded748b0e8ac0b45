"""What referrals contributes to the home page (`core.discovery.app_modules("home")`): who invited
this visitor, from the share link they arrived through (`/r/<code>/` keeps the code in the session)."""

from __future__ import annotations

from referrals import codes


def request_panel(request) -> dict:
    """{"inviter": user} while the visitor's session holds someone's referral code. ≤ 1 statement."""
    raw = request.session.get(codes.SESSION_KEY) if hasattr(request, "session") else None
    token = codes.parse_ref(raw) if raw else None
    if token is None:
        return {}
    inviter = codes.user_for_code(token.code)
    user = getattr(request, "user", None)
    if inviter is None or (
        user is not None and getattr(user, "is_authenticated", False) and user.pk == inviter.pk
    ):
        return {}
    return {"inviter": inviter}
