"""Page input of the money path, through Django forms like every other page (the API uses serializers).

The checkout page is reached by links (`?item_type=…&item_id=…&ref=…`) and posts the same fields plus
the payment method, so one form reads either; the referral code a visitor arrived with (the session's)
is the fallback, as on the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class CheckoutForm(forms.Form):
    item_type = forms.CharField(max_length=32, required=False)
    item_id = forms.CharField(max_length=64, required=False)
    referral_code = forms.CharField(max_length=32, required=False)
    coupon_code = forms.CharField(max_length=32, required=False)
    channel = forms.ChoiceField(
        choices=(), required=False, error_messages={"invalid_choice": _("请选择支付方式")}
    )

    def __init__(
        self, data: Any, *, channels: list[tuple[str, str]], session_referral_code: str = ""
    ) -> None:
        super().__init__(data)
        channel = self.fields["channel"]
        assert isinstance(channel, forms.ChoiceField)  # declared above
        channel.choices = channels
        self.session_referral_code = session_referral_code

    @classmethod
    def for_request(cls, request: Any, *, channels: list[tuple[str, str]]) -> CheckoutForm:
        """GET: the link's fields (`ref` is the share links' name for the code); POST: the posted form."""
        if request.method == "POST":
            data = request.POST
        else:
            data = {
                "item_type": request.GET.get("item_type", ""),
                "item_id": request.GET.get("item_id", ""),
                "referral_code": request.GET.get("ref", ""),
                "coupon_code": request.GET.get("coupon", ""),
            }
        return cls(data, channels=channels, session_referral_code=request.session.get("referral_code") or "")

    def item(self) -> tuple[str, str, str]:
        """(item type, item id, referral code) as typed, blank when absent or unusable."""
        cleaned = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        referral_code = (cleaned.get("referral_code") or "").strip() or str(
            self.session_referral_code
        ).strip()
        return (cleaned.get("item_type") or "").strip(), (cleaned.get("item_id") or "").strip(), referral_code

    def chosen_coupon(self) -> str:
        """The coupon the buyer chose (blank: none)."""
        cleaned = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return (cleaned.get("coupon_code") or "").strip()

    def clean_channel(self) -> str:
        channel: str = self.cleaned_data.get("channel") or ""
        if self.data.get("channel") is not None and not channel:
            raise forms.ValidationError(_("请选择支付方式"))
        return channel


class RefundRequestForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False, strip=True)

    def clean_reason(self) -> str:
        return (self.cleaned_data.get("reason") or "")[:200]
