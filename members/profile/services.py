"""Profile writes: the nickname and avatar (mini-program "me"), and the profile with the
self-introduction (自我介绍) that completes that onboarding step."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import content_check
from core.errors import ApplicationError
from members.auth.selectors import miniprogram_openid
from members.cache_versions import shown_facts_bump
from members.models import MemberProfile, Onboarding, User
from members.onboarding.services import onboarding_refresh_stage
from members.profile.selectors import house_nickname

INTRO_MIN_CHARS, INTRO_MAX_CHARS = 20, 1000


def profile_update(
    *,
    user: User,
    real_name: str,
    city: str,
    industry: str,
    company: str = "",
    self_introduction: str = "",
    use_house_nickname: bool = False,
    nickname: str | None = None,
    now=None,
) -> MemberProfile:
    """Save the profile. A self-introduction (20–1,000 characters, content-checked) completes that
    onboarding step; `use_house_nickname` sets the nickname to 编号-姓名-城市-行业."""
    now = now or timezone.now()
    values = {
        "real_name": (real_name or "").strip(),
        "city": (city or "").strip(),
        "industry": (industry or "").strip(),
        "company": (company or "").strip(),
        "self_introduction": (self_introduction or "").strip(),
    }
    limits = {
        "real_name": 20,
        "city": 20,
        "industry": 20,
        "company": 64,
        "self_introduction": INTRO_MAX_CHARS,
    }
    errors = {
        name: [_("最多 %(n)s 个字") % {"n": limit}]
        for name, limit in limits.items()
        if len(values[name]) > limit
    }
    intro = values["self_introduction"]
    if intro and len(intro) < INTRO_MIN_CHARS:
        errors["self_introduction"] = [_("自我介绍至少 %(n)s 个字") % {"n": INTRO_MIN_CHARS}]
    if intro and not all(values[name] for name in ("real_name", "city", "industry")):
        for name in ("real_name", "city", "industry"):
            if not values[name]:
                errors[name] = [_("提交自我介绍时必填")]
    if nickname is not None and len(nickname.strip()) > 64:
        errors["nickname"] = [_("最多 64 个字")]
    if errors:
        raise ApplicationError("invalid", _("提交的内容有误"), fields=errors)
    text = "\n".join(v for v in values.values() if v) + ("\n" + nickname if nickname else "")
    verdict = content_check.check_text(text, openid=miniprogram_openid(user), scene=1)
    if verdict.suggest == content_check.RISKY:
        raise ApplicationError("content_rejected", _("内容包含不允许发布的信息，请修改后再提交"))
    with transaction.atomic():
        profile, _created = MemberProfile.objects.get_or_create(user=user)
        for name, value in values.items():
            setattr(profile, name, value)
        profile.save()
        user_fields = []
        # The number may have been assigned since this user object was loaded (a payment meanwhile).
        user.member_no = User.objects.filter(pk=user.pk).values_list("member_no", flat=True).first()
        if use_house_nickname:
            user.nickname = house_nickname(
                user=user, **{k: values[k] for k in ("real_name", "city", "industry")}
            )
            user_fields.append("nickname")
        elif nickname is not None and nickname.strip():
            user.nickname = nickname.strip()
            user_fields.append("nickname")
        if user_fields:
            User.objects.filter(pk=user.pk).update(nickname=user.nickname)
            shown_facts_bump()  # a teacher's name shows on cached course pages
        if intro:
            onboarding = Onboarding.objects.select_for_update(of=("self",)).filter(user=user).first()
            if onboarding is not None and onboarding.intro_submitted_at is None:
                onboarding.intro_submitted_at = now
                onboarding.save(
                    update_fields=[
                        "intro_submitted_at",
                        *onboarding_refresh_stage(onboarding, now=now),
                        "updated_at",
                    ]
                )
    return profile


def me_update(*, user: User, nickname: str | None = None, avatar_url: str | None = None) -> User:
    """Change the nickname (content-checked) or avatar URL from the mini-program."""
    fields = []
    if nickname is not None:
        nickname = nickname.strip()
        if not nickname:
            raise ApplicationError("invalid", _("昵称不能为空"), fields={"nickname": [_("必填")]})
        if (
            content_check.check_text(nickname, openid=miniprogram_openid(user), scene=1).suggest
            == content_check.RISKY
        ):
            raise ApplicationError("content_rejected", _("昵称包含不允许使用的内容"))
        user.nickname = nickname[:64]
        fields.append("nickname")
    if avatar_url is not None:
        user.avatar_url = avatar_url
        fields.append("avatar_url")
    if fields:
        user.save(update_fields=fields)
        shown_facts_bump()  # a teacher's name and avatar show on cached course pages
    return user
