"""Paid question pages (付费问答): asking a circle's guest (then paying at checkout), and the guest's answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circles.forms import AnswerForm, AskForm, first_error
from circles.models import PaidQuestion
from circles.selectors import access as access_selectors
from circles.selectors import members as member_selectors
from circles.services import questions as question_services
from circles.views.circles import checkout_path, rules_first
from core.errors import ApplicationError


@login_required
def ask(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    access = access_selectors.circle_access(request.user, circle)
    if not access.can_read:
        raise Http404
    guests = [g for g in member_selectors.guests_of(circle=circle) if g.pk != request.user.pk]
    if circle.owner_id != request.user.pk and circle.owner not in guests:
        guests.insert(0, circle.owner)
    if request.method == "POST":
        form = AskForm(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
        else:
            try:
                question = question_services.paid_question_create(
                    circle=circle,
                    asker=request.user,
                    guest=form.cleaned_data["guest"],
                    body=form.cleaned_data["body"],
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
                if exc.code == "rules_not_accepted":
                    return rules_first(circle.pk, back_to=request.path)
            else:
                return redirect(checkout_path("circle_question", question.pk))
    return render(request, "circles/ask.html", {"circle": circle, "access": access, "guests": guests})


@login_required
@require_POST
def answer(request: HttpRequest, question_id: int) -> HttpResponse:
    question = get_object_or_404(
        PaidQuestion.objects.select_related("circle"), pk=question_id, guest=request.user
    )
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
    else:
        try:
            question_services.paid_question_answer(
                question=question, user=request.user, body=form.cleaned_data["body"]
            )
            messages.success(request, _("回答已发布，问答费用已计入你的收益"))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return (
        redirect("circles:post", post_id=question.post_id) if question.post_id else redirect("circles:list")
    )
