"""Sign-in writes: the sign-up hook, mini-program login (code2session, the development sandbox), the
JWT pair and binding the phone number WeChat vouches for.

Contracts other apps code against: `on_user_signed_up` (referrals binds a new user's referrer) and
`user_signed_up` (the web sign-up adapters call it)."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework_simplejwt.tokens import RefreshToken
from wechatpy.exceptions import WeChatException

from core.content_check import SANDBOX_OPENID_PREFIX
from core.errors import ApplicationError
from core.models import WeChatIdentity
from core.wechat import miniprogram_client
from members.models import User

logger = logging.getLogger(__name__)


# ---- sign-up hook ---------------------------------------------------------------------------------------

SignUpListener = Callable[..., None]
_signup_listeners: list[SignUpListener] = []


def on_user_signed_up(listener: SignUpListener) -> None:
    """Register `listener(*, user, referral_code: str, source: str)`, called once per new user."""
    if listener not in _signup_listeners:
        _signup_listeners.append(listener)


def user_signed_up(*, user: User, referral_code: str = "", source: str) -> None:
    """Tell the listeners a user was just created (mini-program login or web sign-up).

    Each listener runs in its own savepoint: a failing listener (e.g. a bad referral code) is logged
    and never blocks the sign-up itself.
    """
    for listener in list(_signup_listeners):
        try:
            with transaction.atomic():
                listener(user=user, referral_code=(referral_code or "").strip(), source=source)
        except Exception:  # noqa: BLE001 - a listener's bug must not lose the new user's login
            logger.exception("sign-up listener %r failed for user %s", listener, user.pk)


# ---- mini-program login and phone binding ----------------------------------------------------------


class WeChatLoginFailed(ApplicationError):
    def __init__(self, message: str | None = None):
        super().__init__("wechat_login_failed", message or _("微信登录失败，请重试"))


def _wechat_call(call):
    """Run one wechatpy call; any WeChat error, timeout or garbage answer becomes (None, reason)."""
    try:
        result = call()
    except WeChatException as exc:
        return None, f"errcode {getattr(exc, 'errcode', '?')}"
    except Exception as exc:  # noqa: BLE001 - timeouts, garbage, token store down: a 400, never a 500
        return None, exc.__class__.__name__
    if not isinstance(result, dict):
        return None, "unexpected answer"
    return result, ""


SANDBOX_LOGIN_PREFIX = "sandbox:"
_SANDBOX_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def sandbox_code2session(code: str) -> dict:
    """Development only (`WECHAT_SANDBOX_LOGIN`): `sandbox:<name>` stands for a wx.login code.

    The same name always gives the same fake openid (`o_sandbox_<name>`), so a developer can log in
    as a stable user against `make demo`, where code2session cannot reach WeChat. Refused (like any
    bad code) when the setting is off, which production settings force.
    """
    name = code[len(SANDBOX_LOGIN_PREFIX) :]
    if not settings.WECHAT_SANDBOX_LOGIN or not _SANDBOX_NAME.match(name):
        raise WeChatLoginFailed()
    return {"openid": f"{SANDBOX_OPENID_PREFIX}{name}", "session_key": secrets.token_hex(12)}


def miniprogram_login(*, code: str, referral_code: str = "") -> tuple[User, bool]:
    """`wx.login` code → code2session → our user (by appid+openid, else linked by unionid, else new).

    The session_key is stored encrypted and never returned. A new user triggers the sign-up hook
    (with `referral_code`) once, inside the transaction that creates them.
    """
    code = (code or "").strip()
    if not code or len(code) > 128:
        raise WeChatLoginFailed(_("登录凭证无效"))
    if code.startswith(SANDBOX_LOGIN_PREFIX):
        session, problem = sandbox_code2session(code), ""
    else:
        session, problem = _wechat_call(lambda: miniprogram_client().wxa.code_to_session(code))
    openid = str((session or {}).get("openid") or "")
    if not openid:
        logger.info("code2session failed: %s", problem or "no openid")
        raise WeChatLoginFailed()
    unionid = str(session.get("unionid") or "")
    session_key = str(session.get("session_key") or "")
    appid = settings.WECHAT_MINIPROGRAM_APPID
    for attempt in range(2):
        try:
            with transaction.atomic():
                identity = (
                    WeChatIdentity.objects.select_for_update(of=("self",))
                    .select_related("user")
                    .filter(appid=appid, openid=openid)
                    .first()
                )
                if identity is not None:
                    identity.session_key = session_key
                    if unionid and not identity.unionid:
                        identity.unionid = unionid
                    identity.save(update_fields=["session_key", "unionid", "updated_at"])
                    user, created = identity.user, False
                else:
                    linked = (
                        WeChatIdentity.objects.select_related("user")
                        .filter(unionid=unionid)
                        .order_by("id")
                        .first()
                        if unionid
                        else None
                    )
                    created = linked is None
                    if created:
                        user = User(username=User.objects.generate_username("mp"), nickname=_("微信用户"))
                        user.set_unusable_password()
                        user.save()
                    else:
                        assert linked is not None  # not created: a linked identity was found
                        user = linked.user
                    WeChatIdentity.objects.create(
                        user=user,
                        kind=WeChatIdentity.Kind.MINIPROGRAM,
                        appid=appid,
                        openid=openid,
                        unionid=unionid,
                        session_key=session_key,
                    )
                    if created:
                        user_signed_up(user=user, referral_code=referral_code, source="miniprogram")
                break
        except IntegrityError:
            if attempt:  # the same openid logged in twice at once: the other request created it
                raise
    if not user.is_active:
        raise ApplicationError("account_disabled", _("账号已停用，请联系客服"), status_code=403)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user, created


def jwt_pair(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def miniprogram_phone_bind(*, user: User, code: str) -> User:
    """`getPhoneNumber` code → getuserphonenumber → the user's verified phone (encrypted)."""
    code = (code or "").strip()
    if not code or len(code) > 128:
        raise ApplicationError("wechat_phone_failed", _("获取手机号失败，请重试"))
    result, problem = _wechat_call(lambda: miniprogram_client().wxa.get_phone_number(code))
    info = (result or {}).get("phone_info") or {}
    phone = str(info.get("purePhoneNumber") or info.get("phoneNumber") or "")
    watermark_appid = (info.get("watermark") or {}).get("appid")
    if not phone or (watermark_appid and watermark_appid != settings.WECHAT_MINIPROGRAM_APPID):
        logger.info("getuserphonenumber failed: %s", problem or "no phone / foreign watermark")
        raise ApplicationError("wechat_phone_failed", _("获取手机号失败，请重试"))
    country = str(info.get("countryCode") or "86")
    full = phone if phone.startswith("+") else (f"+{country}{phone}" if country != "86" else phone)
    if User.objects.filter_by_phone(full).exclude(pk=user.pk).exists():
        raise ApplicationError(
            "phone_in_use", _("该手机号已绑定其他账号，请用手机号登录或联系客服合并"), status_code=409
        )
    user.set_phone(full, verified=True)
    try:
        with transaction.atomic():
            user.save(update_fields=["phone", "phone_hash", "phone_verified"])
    except IntegrityError:
        raise ApplicationError(
            "phone_in_use", _("该手机号已绑定其他账号，请用手机号登录或联系客服合并"), status_code=409
        ) from None
    return user
