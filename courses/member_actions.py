"""What courses asks the members app to do for a member: send a notice (in-site, plus a subscribe
message while an opt-in is left) and award points. members owns both; courses only calls them."""

from __future__ import annotations

from members.notifications.services import notification_send
from members.points.services import points_award


def notify(
    *,
    user,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    subscribe_template: str = "",
    subscribe_data: dict | list | None = None,
):
    """In-site notification (+ a subscribe message when the member has an opt-in left): members owns it."""
    return notification_send(
        user=user,
        kind=kind,
        title=title,
        body=body,
        url=url,
        subscribe_template=subscribe_template,
        subscribe_data=subscribe_data,
    )


def award_points(*, user, amount: int, reason: str, key: str) -> None:
    if amount <= 0:
        return

    points_award(user=user, amount=amount, reason=reason, idempotency_key=key)
