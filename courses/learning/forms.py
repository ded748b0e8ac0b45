"""The learning pages' input, validated by Django forms before any service runs: a quiz answer sheet
(built from the quiz, so an option that is not in it is refused here as in the API), homework and a
homework review. The rules themselves stay in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from courses.camps.forms import MultipleImageField
from courses.learning.homework import MAX_HOMEWORK_CHARS
from courses.models import Quiz, QuizQuestion


class QuizForm(forms.Form):
    """One field per question (`q<id>`): radio buttons for single choice, checkboxes for multiple."""

    def __init__(self, *args, quiz: Quiz, **kwargs):
        super().__init__(*args, **kwargs)
        self.quiz = quiz
        for question in quiz.questions.all():
            choices = [(str(option.pk), option.text) for option in question.options.all()]
            messages = {"required": _("请回答全部题目后再提交"), "invalid_choice": _("答案中有不存在的选项")}
            if question.kind == QuizQuestion.Kind.MULTIPLE:
                field: forms.Field = forms.MultipleChoiceField(
                    choices=choices, widget=forms.CheckboxSelectMultiple, error_messages=messages
                )
            else:
                field = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, error_messages=messages)
            field.label = question.text
            field.question = question  # type: ignore[attr-defined]  # the template shows its kind
            self.fields[f"q{question.pk}"] = field

    def answers(self) -> dict[int, list[int]]:
        result = {}
        for name, value in self.cleaned_data.items():
            values = value if isinstance(value, list) else [value]
            result[int(name[1:])] = [int(v) for v in values]
        return result


class HomeworkForm(forms.Form):
    # empty text is refused by the service with its own message (the API shares it)
    text = forms.CharField(required=False, max_length=MAX_HOMEWORK_CHARS, strip=False)
    # how many and which kind of images: checked by the service (`validate_images`), as for the API
    images = MultipleImageField(required=False)


class HomeworkReviewForm(forms.Form):
    """The same shape as the API's review input (`HomeworkReviewApi.InputSerializer`)."""

    approve = forms.TypedChoiceField(
        choices=[("1", _("通过")), ("0", _("退回修改"))],
        coerce=lambda value: value == "1",
        error_messages={"required": _("请选择通过或退回"), "invalid_choice": _("请选择通过或退回")},
    )
    comment = forms.CharField(required=False, max_length=2000)
