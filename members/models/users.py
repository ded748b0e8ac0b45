"""The custom user: nickname, avatar, encrypted phone, member number and referral code.

The custom user is in the first migration on purpose: swapping AUTH_USER_MODEL later is painful.
Phone numbers are encrypted at rest; `phone_hash` (a keyed HMAC) is the lookup key.
"""

import secrets
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField, keyed_hash, mask_phone, normalize_phone

# generate_referral_code and ZhiquanUserManager are named by migration 0001 as members.models.<name>.
__all__ = ["REFERRAL_CODE_ALPHABET", "User", "ZhiquanUserManager", "generate_referral_code"]

# No 0/O/1/I/L: people read referral codes off posters and type them in.
REFERRAL_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def generate_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_CODE_ALPHABET) for _ in range(8))


def _phone_hash(raw: str) -> str:
    return keyed_hash(normalize_phone(raw), purpose="phone")


class ZhiquanUserManager(UserManager):
    def get_by_phone(self, raw_phone: str):
        return self.get(phone_hash=_phone_hash(raw_phone))

    def filter_by_phone(self, raw_phone: str):
        return self.filter(phone_hash=_phone_hash(raw_phone))

    def generate_username(self, prefix: str = "u") -> str:
        return f"{prefix}_{secrets.token_hex(6)}"


class User(AbstractUser):
    nickname = models.CharField(_("昵称"), max_length=64, blank=True, default="")
    avatar_url = models.URLField(_("头像"), max_length=500, blank=True, default="")
    phone = EncryptedTextField(_("手机号"), blank=True, default="", help_text=_("加密存储"))
    phone_hash = models.CharField(
        _("手机号摘要"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    phone_verified = models.BooleanField(_("手机号已验证"), default=False)
    member_no = models.CharField(_("会员编号"), max_length=32, unique=True, null=True, blank=True)
    # Every user can share from day one (becoming a promoter never requires a purchase). The
    # referrals app owns what a code does (binding, attribution); members only owns the identifier.
    referral_code = models.CharField(
        _("推荐码"), max_length=16, unique=True, default=generate_referral_code, editable=False
    )

    objects: ClassVar[ZhiquanUserManager] = ZhiquanUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.nickname or self.member_no or self.username

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def set_phone(self, raw_phone: str, *, verified: bool = False) -> None:
        """Store a phone number encrypted, with its lookup hash. Caller saves."""
        if raw_phone:
            self.phone = normalize_phone(raw_phone)
            self.phone_hash = _phone_hash(raw_phone)
        else:
            self.phone, self.phone_hash = "", None
        self.phone_verified = verified and bool(raw_phone)
