"""The profile page's form (the API validates the same fields with its serializer)."""

from django import forms
from django.utils.translation import gettext_lazy

from members.profile.services import INTRO_MAX_CHARS


class ProfileForm(forms.Form):
    real_name = forms.CharField(label=gettext_lazy("姓名/称呼"), max_length=20, required=False)
    city = forms.CharField(label=gettext_lazy("城市"), max_length=20, required=False)
    industry = forms.CharField(label=gettext_lazy("行业"), max_length=20, required=False)
    company = forms.CharField(label=gettext_lazy("公司/职位"), max_length=64, required=False)
    self_introduction = forms.CharField(
        label=gettext_lazy("自我介绍"),
        max_length=INTRO_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("20–1000 字：做什么、在哪里、希望在社群里收获什么。提交后即可加入会员大群。"),
    )
    use_house_nickname = forms.BooleanField(label=gettext_lazy("使用社群统一昵称"), required=False)
