"""What a member tells the community about themselves (自我介绍)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from members.models.users import User

__all__ = ["MemberProfile"]


class MemberProfile(TimeStampedModel):
    """What a member tells the community about themselves (自我介绍) and the house nickname parts."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="profile", verbose_name=_("用户")
    )
    real_name = models.CharField(_("姓名/称呼"), max_length=20, blank=True, default="")
    city = models.CharField(_("城市"), max_length=20, blank=True, default="")
    industry = models.CharField(_("行业"), max_length=20, blank=True, default="")
    company = models.CharField(_("公司/职位"), max_length=64, blank=True, default="")
    self_introduction = models.TextField(_("自我介绍"), blank=True, default="")

    class Meta:
        verbose_name = _("会员资料")
        verbose_name_plural = _("会员资料")

    def __str__(self) -> str:
        return f"{self.user} {self.real_name}"
