"""Page forms of the referrals app: what a member's POST may carry, validated before a service sees it."""

from __future__ import annotations

from django import forms


class AgreementAcceptForm(forms.Form):
    """Accepting the promoter agreement: the version the page showed (an outdated one is refused by the
    view, so a member never accepts text they did not see)."""

    version = forms.IntegerField(min_value=1)
