"""The points mall's form: a redemption's idempotency key (one per rendered page, so a double submit
redeems once)."""

from django import forms
from django.utils.translation import gettext_lazy as _

MISSING_KEY = _("缺少兑换编号")


class RedeemForm(forms.Form):
    idempotency_key = forms.CharField(
        max_length=64, error_messages={"required": MISSING_KEY, "max_length": MISSING_KEY}
    )
