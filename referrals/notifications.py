"""How the referrals app tells a member something (commission, level up, group-buy outcome): one
in-site notification, plus a WeChat subscribe message where configured."""

from __future__ import annotations

from members.notifications.services import notification_send


def notify_member(
    *, user, kind: str, title: str, body: str = "", url: str = "", subscribe_template: str = ""
) -> None:
    """In-site notification; also a WeChat subscribe message when the operator configured
    `subscribe_template` (e.g. "referral_commission") and the member has an opt-in left."""
    notification_send(
        user=user, kind=kind, title=title[:200], body=body, url=url, subscribe_template=subscribe_template
    )
