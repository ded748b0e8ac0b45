from django import forms
from django.utils.translation import gettext_lazy as _


class RedeemForm(forms.Form):
    code = forms.CharField(
        label=_("兑换码"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "placeholder": "XXXX-XXXX-XXXX"}
        ),
        help_text=_("12 位字母和数字，大小写和短横线均可"),
    )
