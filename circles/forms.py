"""The forms of the circle pages: what a posted form may carry, checked before any service runs.

Forms check shape only — ids are numbers a row can have, choices are known, text has no NUL — and
leave the rules (who may post, how long a body may be, …) to the services, which the API calls too.
Bad input gets a clear message and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from circles.models import Post
from circles.text import plain_text
from core.money import MoneyError, yuan_to_fen
from members.models import User

# The largest primary key PostgreSQL's bigint holds: a larger posted id names no row.
MAX_ID = 2**63 - 1


class PlainTextField(forms.CharField):
    """Member text as `circles.text.plain_text` cleans it: trimmed, NUL characters dropped (so a post
    carrying one is published without it instead of being refused)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value) -> str:
        return plain_text(super().to_python(value))


class ObjectIdField(forms.IntegerField):
    """The id of a row posted by a form: a positive number a primary key can hold."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


def first_error(form: forms.Form) -> str:
    """The first message of an invalid form, for `messages.error`."""
    for errors in form.errors.values():
        return str(errors[0])
    return str(_("请求参数无效"))


# ---- circles and rules ----------------------------------------------------------------------------


class RulesAcceptForm(forms.Form):
    """Accepting the rules: the version read must still be the current one, and the box ticked."""

    version = forms.IntegerField(min_value=0, max_value=MAX_ID)
    agree = forms.BooleanField(error_messages={"required": _("请勾选同意社群公约")})

    def __init__(self, *args, rules_version: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules_version = rules_version
        self.fields["version"].error_messages["invalid"] = _("公约已更新，请阅读最新版本")

    def clean_version(self) -> int:
        version = self.cleaned_data["version"]
        if version != self.rules_version:
            raise forms.ValidationError(_("公约已更新，请阅读最新版本"), code="rules_changed")
        return version

    @property
    def rules_changed(self) -> bool:
        return self.has_error("version")


# ---- posts and comments ---------------------------------------------------------------------------


class AnsweredQuestionForm(forms.Form):
    """The question a post answers (`?question=` on the compose page, a hidden field when posting)."""

    question = ObjectIdField()


# What <input type="datetime-local"> posts (with or without seconds), read in the site's time zone.
LOCAL_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class PublishTimeField(forms.DateTimeField):
    """定时发布: the moment a circle manager's post appears; empty = now."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("input_formats", LOCAL_DATETIME_FORMATS)
        kwargs.setdefault("error_messages", {"invalid": _("请选择正确的发布时间")})
        super().__init__(**kwargs)


class PostComposeForm(AnsweredQuestionForm):
    kind = forms.ChoiceField(
        choices=[(k, label) for k, label in Post.Kind.choices if k != Post.Kind.ANSWER], required=False
    )
    title = PlainTextField()
    body = PlainTextField()
    tags = PlainTextField(help_text="comma-separated")
    publish_at = PublishTimeField()
    pinned = forms.BooleanField(required=False)

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or Post.Kind.TALK


class PostScheduleForm(forms.Form):
    """Editing a post before its publish time; `action` publish_now publishes it at once."""

    action = forms.ChoiceField(choices=[("save", "save"), ("publish_now", "publish_now")], required=False)
    title = PlainTextField()
    body = PlainTextField()
    tags = PlainTextField(help_text="comma-separated")
    publish_at = PublishTimeField()


class CommentForm(forms.Form):
    body = PlainTextField()
    parent = ObjectIdField()


class PostFlagForm(forms.Form):
    flag = forms.ChoiceField(choices=[("pinned", "pinned"), ("featured", "featured"), ("delete", "delete")])
    value = forms.BooleanField(required=False)


# ---- tips -----------------------------------------------------------------------------------------


class TipTargetForm(forms.Form):
    """The comment a tip is for (`?comment=` on the tip page, a hidden field when paying); none: the post."""

    comment = ObjectIdField()


class TipForm(TipTargetForm):
    """A preset or a custom amount in yuan (the custom one wins), and an optional message."""

    preset_yuan = forms.CharField(required=False)
    custom_yuan = forms.CharField(required=False)
    message = PlainTextField()

    def clean(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        raw = cleaned.get("custom_yuan") or cleaned.get("preset_yuan") or ""
        try:
            cleaned["amount_fen"] = yuan_to_fen(raw)
        except (MoneyError, ArithmeticError):  # also "Infinity", "sNaN": no amount a tip can have
            raise forms.ValidationError(_("请输入正确的金额"), code="amount") from None
        return cleaned


# ---- paid questions -------------------------------------------------------------------------------


class AskForm(forms.Form):
    guest = forms.ModelChoiceField(
        queryset=User.objects.all(),
        error_messages={"required": _("请选择嘉宾"), "invalid_choice": _("请选择嘉宾")},
    )
    body = PlainTextField()


class AnswerForm(forms.Form):
    body = PlainTextField()


# ---- owner tools ----------------------------------------------------------------------------------


class OwnerActionForm(forms.Form):
    """One action of the owner tools page. `id` names the post, comment or membership it acts on."""

    POST_ACTIONS = ("approve_post", "reject_post")
    COMMENT_ACTIONS = ("approve_comment", "reject_comment")
    MEMBER_ACTIONS = ("role", "remove", "remove_refund", "allow_rejoin")
    # actions on a row: a missing or malformed id names no row (404)
    ROW_ACTIONS = (*POST_ACTIONS, *COMMENT_ACTIONS, *MEMBER_ACTIONS)

    action = forms.ChoiceField(choices=[(a, a) for a in (*ROW_ACTIONS, "rules")])
    id = ObjectIdField()
    role = forms.CharField(required=False)
    reason = PlainTextField()
    body = PlainTextField()
