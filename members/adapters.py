"""django-allauth adapters.

- Phone numbers live encrypted on our User; codes go through SMS_SENDER.
- Every web sign-up (phone, email, WeChat) calls the members sign-up hook once, with the referral
  code the referrals app captured into `request.session["referral_code"]`.
- WeChat web logins (`weixin` provider) are recorded as WeChatIdentity rows and linked to an existing
  user (e.g. from the mini-program) by unionid.
"""

import logging
import re
import secrets

from allauth.account import stages
from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.fields import PhoneField
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.utils.translation import gettext_lazy as _

from core import brand
from core.crypto import mask_phone, normalize_phone
from core.ip import client_ip
from core.lockout import LOCKED_MESSAGE
from core.models import WeChatIdentity
from members.auth.services import user_signed_up
from members.models import User
from members.sms import sms_sender

logger = logging.getLogger(__name__)

DEMO_CODE_SESSION_KEY = "demo_sms_code"
_SOURCE_ATTR = "_zhiquan_signup_source"
_DONE_ATTR = "_zhiquan_signed_up"


def _signed_up(request, user, default_source: str) -> None:
    if request is None or getattr(request, _DONE_ATTR, False):
        return
    setattr(request, _DONE_ATTR, True)
    session = getattr(request, "session", None)
    referral_code = session.get("referral_code", "") if session is not None else ""
    user_signed_up(
        user=user,
        referral_code=str(referral_code or ""),
        source=getattr(request, _SOURCE_ATTR, default_source),
    )


def user_display(user) -> str:
    """How sign-in messages name the member (settings.ACCOUNT_USER_DISPLAY): the nickname, else the
    masked phone, else the member number, else "" (the message then names no one) — never the
    generated `web_…` username a member never chose."""
    phone = getattr(user, "phone", "")
    return getattr(user, "nickname", "") or (mask_phone(phone) if phone else "") or user.member_no or ""


class LoginForm(AllauthLoginForm):
    """The one login box accepts a phone number, a user name (staff and the demo's logins) or an
    e-mail; it is labelled by the first two, which is what people here sign in with."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["login"]
        field.label = _("手机号或用户名")
        field.widget.attrs.update({"placeholder": _("手机号或用户名"), "autocomplete": "username"})


MAINLAND_MOBILE = re.compile(r"^\+861[3-9]\d{9}$")


class MainlandPhoneField(PhoneField):
    """People in China type 13800138000, not +8613800138000: normalise to E.164 before allauth's
    E.164 validator runs (a number starting with + keeps its country code)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"placeholder": _("手机号"), "autocomplete": "tel", "type": "tel", "inputmode": "tel"}
            ),
        )
        kwargs.setdefault("label", _("手机号"))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_phone(value) if value else value


class PhoneVerificationStage(stages.PhoneVerificationStage):
    """allauth aborts the login of an existing account that has no phone at all, because the phone is a
    required sign-up field: the visitor is bounced back to the login form without a word. Accounts
    without a phone are legitimate here — staff that operators create (teachers, reps) and mini-program
    members signing in on the web by WeChat, linked by unionid (they bind a phone only if they choose).
    The phone stays required at sign-up, and a phone that is on file but unverified is still verified."""

    def handle(self):
        user = self.login.user
        if user is not None and user.pk and get_adapter(self.request).get_phone(user) is None:
            return None, True
        return super().handle()


_ALLAUTH_PHONE_STAGE = "allauth.account.stages.PhoneVerificationStage"


class AccountAdapter(DefaultAccountAdapter):
    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is None and getattr(request, "_zhiquan_login_locked", False):
            raise forms.ValidationError(LOCKED_MESSAGE, code="locked")
        return user

    def get_client_ip(self, request) -> str:
        """allauth's rate limits key on this; the one client-address rule (core/ip.py)."""
        return client_ip(request)

    def get_login_stages(self) -> list[str]:
        return [
            f"{__name__}.PhoneVerificationStage" if path == _ALLAUTH_PHONE_STAGE else path
            for path in super().get_login_stages()
        ]

    # Six digits, as every Chinese app sends (allauth's default is "ABCD-EFGH"); allauth limits
    # attempts per code, so the smaller space is safe.
    def generate_login_code(self) -> str:
        return f"{secrets.randbelow(10**6):06d}"

    def generate_phone_verification_code(self, *, user, phone: str) -> str:
        return f"{secrets.randbelow(10**6):06d}"

    def phone_form_field(self, **kwargs):
        return MainlandPhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        phone = normalize_phone(phone)
        if phone.startswith("+86") and not MAINLAND_MOBILE.match(phone):
            raise forms.ValidationError(_("请输入正确的 11 位手机号"), code="invalid_phone")
        return phone

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        sender = sms_sender()
        sender.send(normalize_phone(phone), code)
        # The console sender is the demo's: no SMS leaves the machine, so the page shows the code
        # (marked 演示) instead of sending the visitor to the server console.
        if getattr(sender, "shows_code_on_page", False) and getattr(self, "request", None) is not None:
            self.request.session[DEMO_CODE_SESSION_KEY] = code

    def login(self, request, user):
        # The demo's code has done its job: it is not shown again on later pages of the session.
        request.session.pop(DEMO_CODE_SESSION_KEY, None)
        return super().login(request, user)

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        sms_sender().send(
            normalize_phone(phone), _("（该手机号尚未注册%(site)s）") % {"site": brand.current().site_name}
        )

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.set_phone(phone, verified=verified)
        if user.pk:
            user.save(update_fields=["phone", "phone_hash", "phone_verified"])

    def get_phone(self, user) -> tuple[str, bool] | None:
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user, phone: str) -> None:
        user.phone_verified = True
        user.save(update_fields=["phone_verified"])

    def get_user_by_phone(self, phone: str):
        return User.objects.filter_by_phone(phone).first()

    def populate_username(self, request, user) -> None:
        if not user.username:
            user.username = User.objects.generate_username("web")

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit and user.pk and not user.nickname:
            # Shown beside posts, check-ins and on leaderboards: never the generated username.
            phone = (form.cleaned_data.get("phone") or "") if form is not None else ""
            email = user.email or ""
            user.nickname = (
                _("%(site)s用户%(tail)s") % {"site": brand.current().short_name, "tail": phone[-4:]}
                if phone
                else (email.split("@")[0][:20] or _("%(site)s用户") % {"site": brand.current().short_name})
            )
            user.save(update_fields=["nickname"])
        if commit and user.pk:
            _signed_up(request, user, "web")
        return user


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """WeChat web login: link by unionid, record the identity, run the sign-up hook for new users."""

    def pre_social_login(self, request, sociallogin) -> None:
        if sociallogin.is_existing or sociallogin.account.provider != "weixin":
            return
        unionid = str((sociallogin.account.extra_data or {}).get("unionid") or "")
        if not unionid:
            return
        known = WeChatIdentity.objects.select_related("user").filter(unionid=unionid).order_by("id").first()
        if known is not None and known.user.is_active:
            sociallogin.connect(request, known.user)
            self._record_identity(sociallogin)

    def save_user(self, request, sociallogin, form=None):
        if request is not None:
            setattr(request, _SOURCE_ATTR, "web_wechat")
        user = super().save_user(request, sociallogin, form)
        self._record_identity(sociallogin)
        _signed_up(request, user, "web_wechat")
        return user

    @staticmethod
    def _record_identity(sociallogin) -> None:
        account = sociallogin.account
        if account.provider != "weixin" or not account.uid or not account.user_id:
            return
        app = getattr(sociallogin, "app", None) or getattr(account, "get_provider", lambda: None)()
        appid = (
            getattr(app, "client_id", "") or getattr(getattr(app, "app", None), "client_id", "") or "weixin"
        )
        WeChatIdentity.objects.get_or_create(
            appid=appid,
            openid=account.uid,
            defaults={
                "user_id": account.user_id,
                "kind": WeChatIdentity.Kind.WEBSITE,
                "unionid": str((account.extra_data or {}).get("unionid") or ""),
            },
        )
