"""Notifications the circles app sends to members (in-site, and WeChat subscribe messages)."""

from __future__ import annotations

from members.notifications.services import notification_send


def notify_member(
    *, user, kind: str, title: str, body: str = "", url: str = "", subscribe: bool = False
) -> None:
    """In-site notification through members; `subscribe` also sends the WeChat subscribe message of
    the same key (`circle_tip`, `circle_question`, …) when the member has an opt-in left for it."""
    notification_send(
        user=user,
        kind=kind,
        title=title,
        body=body,
        url=url,
        subscribe_template=kind if subscribe else "",
    )
