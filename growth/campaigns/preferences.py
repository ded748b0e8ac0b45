"""Members' marketing preferences: marketing SMS only after the member ticks it (off by default), and
unsubscribing from marketing messages altogether. Each change records its time; campaigns read both
(`growth.campaigns.delivery`)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from growth.models import MarketingPreference
from members.models import User


def preference_for(user: User) -> MarketingPreference:
    """The member's preferences; the defaults (no SMS, subscribed) when they never changed them."""
    found = MarketingPreference.objects.filter(user=user).first()
    return found or MarketingPreference(user=user)


def preference_update(
    *, user: User, sms_consent: bool | None = None, unsubscribed: bool | None = None
) -> MarketingPreference:
    """Change what the member chose; a value that does not change keeps its recorded time."""
    now = timezone.now()
    with transaction.atomic():
        preference, _created = MarketingPreference.objects.select_for_update().get_or_create(user=user)
        changed = []
        if sms_consent is not None and sms_consent != preference.sms_consent:
            preference.sms_consent, preference.sms_consent_changed_at = sms_consent, now
            changed += ["sms_consent", "sms_consent_changed_at"]
        if unsubscribed is not None and unsubscribed != preference.unsubscribed:
            preference.unsubscribed, preference.unsubscribed_changed_at = unsubscribed, now
            changed += ["unsubscribed", "unsubscribed_changed_at"]
        if changed:
            preference.save(update_fields=changed)
    return preference
