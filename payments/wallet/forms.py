"""Forms of the wallet pages: what a member may post, checked before any money moves.

The form checks the shape of the input (an amount in yuan with at most two decimals, lengths); the
withdrawal service checks everything that depends on the member and the operator's settings
(balance, limits, payout method, bank details), so the page and the API refuse the same things.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import MoneyError, yuan_to_fen

AMOUNT_ERROR = _("请输入正确的金额（元），最多两位小数")


class WithdrawalRequestForm(forms.Form):
    """The wallet page's withdrawal form (its fields are the page's inputs, labelled as there);
    `cleaned_data["amount_yuan"]` is the amount in fen."""

    amount_yuan = forms.CharField(
        label=_("提现金额（元）"),
        max_length=20,
        error_messages={"required": AMOUNT_ERROR, "max_length": AMOUNT_ERROR},
    )
    method = forms.CharField(label=_("到账方式"), max_length=16, required=False)
    real_name = forms.CharField(
        label=_("真实姓名（满 2000 元或银行卡提现必填）"), max_length=64, required=False
    )
    bank_name = forms.CharField(label=_("开户银行"), max_length=64, required=False)
    bank_account = forms.CharField(label=_("银行卡号"), max_length=40, required=False)
    request_id = forms.CharField(max_length=64, required=False)

    def clean_amount_yuan(self) -> int:
        try:
            return yuan_to_fen(self.cleaned_data["amount_yuan"])
        except (MoneyError, ArithmeticError, ValueError):  # also "NaN" / "Infinity", which Decimal parses
            raise forms.ValidationError(AMOUNT_ERROR, code="invalid_amount") from None

    def first_error(self) -> str:
        """The first problem as one line for a flash message: the amount's own text, else "label：error"."""
        for name, errors in self.errors.items():
            if name == "amount_yuan" or name not in self.fields:
                return str(errors[0])
            return f"{self.fields[name].label or name}：{errors[0]}"
        return ""
