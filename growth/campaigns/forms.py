from django import forms
from django.utils.translation import gettext_lazy as _


class MarketingPreferenceForm(forms.Form):
    """The member's marketing choices. Both boxes say what ticking them does; SMS starts unticked."""

    sms_consent = forms.BooleanField(
        label=_("同意接收营销短信"),
        required=False,
        help_text=_("勾选后，活动、优惠等消息可能通过短信发到你绑定的手机号；随时可以取消。"),
    )
    unsubscribed = forms.BooleanField(
        label=_("不再接收营销消息"),
        required=False,
        help_text=_("勾选后不再收到群发活动的站内通知、订阅消息和短信；订单、会员到期等服务通知不受影响。"),
    )
