"""The tip (打赏) page: choose an amount for a post or comment, then pay it at the ordinary checkout."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from circles.forms import TipForm, TipTargetForm, first_error
from circles.models import CircleSettings, Comment
from circles.selectors import posts as post_selectors
from circles.services import tips as tip_services
from circles.views.circles import checkout_path
from core.errors import ApplicationError


@login_required
def tip(request: HttpRequest, post_id: int) -> HttpResponse:
    """Choose an amount (presets or custom within limits) → a TipIntent → the ordinary checkout."""
    post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
    form = TipForm(request.POST) if request.method == "POST" else None
    # the comment tipped: ?comment= of the page, or the form's hidden field; none: the post
    target = TipTargetForm(request.GET)
    target.is_valid()
    comment_id = target.cleaned_data.get("comment")
    if form is not None and not comment_id:
        form.is_valid()
        comment_id = form.cleaned_data.get("comment")
    comment = None
    if comment_id:
        comment = get_object_or_404(Comment, pk=comment_id, post=post, status=Comment.Status.VISIBLE)
    conf = CircleSettings.current()
    if form is not None:
        if not form.is_valid():
            messages.error(request, first_error(form))
        else:
            try:
                intent = tip_services.tip_intent_create(
                    user=request.user,
                    amount_fen=form.cleaned_data["amount_fen"],
                    post=None if comment else post,
                    comment=comment,
                    message=form.cleaned_data["message"],
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                return redirect(checkout_path("tip", intent.pk))
    return render(
        request,
        "circles/tip.html",
        {"post": post, "comment": comment, "conf": conf, "presets": [p // 100 for p in conf.preset_fen]},
    )
