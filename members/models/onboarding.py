"""Four-layer onboarding (四层沉淀): service and big WeChat groups with their staff, the reps'
round-robin cursor and each member's onboarding steps."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from core.models import TimeStampedModel
from members.models.memberships import MembershipTier
from members.models.users import User

# validate_qr_image is named by migration 0003 as members.models.validate_qr_image.
__all__ = [
    "QR_IMAGE_FORMATS",
    "Onboarding",
    "RepCursor",
    "ServiceGroup",
    "ServiceGroupStaff",
    "validate_qr_image",
]

QR_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")


def validate_qr_image(upload) -> None:
    """A QR code picture: a real JPEG/PNG/WebP (checked by content, not name) within the size limit."""
    limit = getattr(settings, "UPLOAD_IMAGE_MAX_BYTES", 5 * 1024 * 1024)
    if upload.size > limit:
        raise ValidationError(_("图片不能超过 %(mb)s MB") % {"mb": limit // (1024 * 1024)}, code="too_large")
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(_("请上传 JPG、PNG 或 WebP 格式的二维码图片"), code="invalid_image") from exc
    finally:
        upload.seek(position)
    if fmt not in QR_IMAGE_FORMATS:
        raise ValidationError(_("请上传 JPG、PNG 或 WebP 格式的二维码图片"), code="invalid_image")


class ServiceGroup(TimeStampedModel):
    """A WeChat group: a member's 对接群 (service group, staff with roles) or a 大群 (big group)."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("对接群")
        BIG = "big", _("大群")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.SERVICE)
    name = models.CharField(_("群名称"), max_length=64)
    qr_image = models.ImageField(
        _("群二维码"),
        upload_to="service_groups/%Y/%m/",
        blank=True,
        validators=[validate_qr_image],
        help_text=_("JPG/PNG/WebP；微信群二维码 7 天有效，请及时更新"),
    )
    qr_expires_at = models.DateTimeField(_("二维码有效期至"), null=True, blank=True)
    tier = models.ForeignKey(
        MembershipTier,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="big_groups",
        verbose_name=_("适用等级"),
        help_text=_("大群：该等级及以上会员加入；留空表示所有会员"),
    )
    notes = models.TextField(_("备注"), blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)
    staff: "models.ManyToManyField[User, ServiceGroupStaff]" = models.ManyToManyField(
        User,
        through="ServiceGroupStaff",
        related_name="staffed_groups",
        blank=True,
        verbose_name=_("服务人员"),
    )

    class Meta:
        verbose_name = _("服务群")
        verbose_name_plural = _("服务群")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def qr_valid(self) -> bool:
        return bool(self.qr_image) and (self.qr_expires_at is None or self.qr_expires_at > timezone.now())


class ServiceGroupStaff(models.Model):
    class Role(models.TextChoices):
        SALES = "sales", _("销售顾问")
        SERVICE = "service", _("客服")
        TEACHER = "teacher", _("讲师")
        ASSISTANT = "assistant", _("助教")
        OWNER = "owner", _("群主")

    group = models.ForeignKey(
        ServiceGroup, on_delete=models.CASCADE, related_name="staff_roles", verbose_name=_("服务群")
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="service_group_roles", verbose_name=_("服务人员")
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("群内工作人员")
        verbose_name_plural = _("群内工作人员")
        constraints = [
            models.UniqueConstraint(fields=["group", "user", "role"], name="uniq_group_staff_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class RepCursor(models.Model):
    """Round-robin position per staff role: the last rep a new member was assigned to."""

    role = models.CharField(_("角色"), max_length=32, unique=True)
    last_user_id = models.BigIntegerField(_("上次分配的人员编号"), null=True, blank=True)

    class Meta:
        verbose_name = _("轮流分配位置")
        verbose_name_plural = _("轮流分配位置")

    def __str__(self) -> str:
        return f"{self.role} → {self.last_user_id}"


class Onboarding(TimeStampedModel):
    """A paying member's four layers: reps assigned → service group joined → self-introduction →
    big group joined. Each step keeps its time; `stage` is the first step not done, `stage_since`
    when the member reached it (what the stuck list measures)."""

    class Stage(models.TextChoices):
        REPS = "reps", _("待分配顾问")
        SERVICE_GROUP = "service_group", _("待加入对接群")
        INTRO = "intro", _("待提交自我介绍")
        BIG_GROUP = "big_group", _("待加入大群")
        DONE = "done", _("已完成")

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="onboarding", verbose_name=_("用户")
    )
    tier = models.ForeignKey(
        MembershipTier, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("会员等级")
    )
    started_at = models.DateTimeField(_("开始时间"))
    sales_rep = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales_onboardings",
        verbose_name=_("销售顾问"),
    )
    service_rep = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_onboardings",
        verbose_name=_("客服"),
    )
    reps_assigned_at = models.DateTimeField(_("顾问分配时间"), null=True, blank=True)
    service_group = models.ForeignKey(
        ServiceGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_onboardings",
        verbose_name=_("对接群"),
    )
    service_group_joined_at = models.DateTimeField(_("加入对接群时间"), null=True, blank=True)
    intro_submitted_at = models.DateTimeField(_("自我介绍时间"), null=True, blank=True)
    big_group = models.ForeignKey(
        ServiceGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="big_onboardings",
        verbose_name=_("大群"),
    )
    big_group_joined_at = models.DateTimeField(_("加入大群时间"), null=True, blank=True)
    stage = models.CharField(_("当前步骤"), max_length=16, choices=Stage.choices, default=Stage.REPS)
    stage_since = models.DateTimeField(_("进入当前步骤时间"))
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("入会引导")
        verbose_name_plural = _("入会引导")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["stage", "stage_since"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_stage_display()}"
