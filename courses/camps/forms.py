"""The camp pages' input, validated by Django forms before any service runs: a check-in (打卡 or a
make-up 补卡), a teacher's review (点评) and a moderation decision. The business rules (which day may be
checked in, make-up limits, who may review) stay in the services; a form only refuses input of the wrong
shape, with a message the page shows, and then nothing changes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from courses.camps.checkins import MAX_CHECKIN_CHARS


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several uploaded files under one name (Django's documented pattern); the images' content is
    checked by the check-in service (`core.images.validate_images`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class CheckInForm(forms.Form):
    task_id = forms.IntegerField(
        min_value=1, error_messages={"required": _("请选择任务"), "invalid": _("请选择任务")}
    )
    # Empty text is refused by the service with its own message (the API shares it).
    text = forms.CharField(required=False, max_length=MAX_CHECKIN_CHARS, strip=False)
    # How many and which kind of images: checked by the service (`validate_images`), as for the API.
    images = MultipleImageField(required=False)


class ReviewForm(forms.Form):
    """The same shape as the API's review input (`CheckInReviewApi.InputSerializer`)."""

    comment = forms.CharField(max_length=2000, error_messages={"required": _("请写下点评")})
    score = forms.IntegerField(
        min_value=1,
        max_value=5,
        error_messages={
            "required": _("评分为 1 到 5 分"),
            "invalid": _("评分为 1 到 5 分"),
            "min_value": _("评分为 1 到 5 分"),
            "max_value": _("评分为 1 到 5 分"),
        },
    )


class ModerationForm(forms.Form):
    approve = forms.TypedChoiceField(
        choices=[("1", _("通过")), ("0", _("驳回"))],
        coerce=lambda value: value == "1",
        error_messages={"required": _("请选择通过或驳回"), "invalid_choice": _("请选择通过或驳回")},
    )
    note = forms.CharField(required=False, max_length=200)


def first_error(form: forms.Form) -> str:
    """The first message of an invalid form, for `messages.error` on a page that redirects."""
    for errors in form.errors.values():
        return str(errors[0])
    return str(_("输入有误"))
