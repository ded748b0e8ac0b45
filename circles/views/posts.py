"""Post pages: writing a post (or an answer), a post with its comments and answers, likes,
comments, and the manager's pin / feature (精华) / delete buttons."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circles.forms import (
    AnsweredQuestionForm,
    CommentForm,
    PostComposeForm,
    PostFlagForm,
    PostScheduleForm,
    first_error,
)
from circles.models import CircleSettings, Comment, PaidQuestion, Post
from circles.selectors import access as access_selectors
from circles.selectors import comments as comment_selectors
from circles.selectors import posts as post_selectors
from circles.services import comments as comment_services
from circles.services import posts as post_services
from circles.services import scheduling
from circles.views.circles import rules_first
from core.errors import ApplicationError
from core.http import redirect_to_next

COMMENTS_PER_PAGE = 30  # top-level comments per page; their replies come with them


@login_required
def post_compose(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    access = access_selectors.circle_access(request.user, circle)
    if not access.can_read:
        raise Http404
    if access.rules_pending:
        messages.info(request, _("发帖前请先阅读并同意社群公约"))
        return rules_first(circle.pk, back_to=request.path)
    form = PostComposeForm(request.POST) if request.method == "POST" else PostComposeForm()
    # the question answered: ?question= of the page, or the form's hidden field
    reference = AnsweredQuestionForm(request.GET)
    reference.is_valid()
    question_id = reference.cleaned_data.get("question")
    if request.method == "POST" and not question_id:
        form.is_valid()
        question_id = form.cleaned_data.get("question")
    question = None
    if question_id:
        question = Post.objects.filter(pk=question_id, circle=circle, kind=Post.Kind.QUESTION).first()
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, first_error(form))
        else:
            data = form.cleaned_data
            try:
                post = post_services.post_create(
                    circle=circle,
                    author=request.user,
                    kind=data["kind"] if question is None else Post.Kind.ANSWER,
                    title=data["title"],
                    body=data["body"],
                    tags=data["tags"],
                    images=request.FILES.getlist("images"),
                    question=question,
                    publish_at=data["publish_at"] if question is None else None,
                    pinned=data["pinned"] if question is None else False,
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                if post.status == Post.Status.SCHEDULED:
                    messages.success(
                        request,
                        _("已设置定时发布：%(when)s")
                        % {"when": date_format(localtime(post.publish_at), "Y-m-d H:i")},
                    )
                elif post.status == Post.Status.REVIEW:
                    messages.info(request, _("内容已提交，审核通过后可见"))
                else:
                    messages.success(request, _("发布成功"))
                return redirect("circles:post", post_id=post.pk)
    kinds = [(k, label) for k, label in Post.Kind.choices if k != Post.Kind.ANSWER]
    return render(
        request,
        "circles/compose.html",
        {"circle": circle, "access": access, "kinds": kinds, "question": question, "form": form},
    )


def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404
    post, access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
    paid_question = PaidQuestion.objects.filter(post=post).select_related("guest").first()
    comments = Paginator(
        comment_selectors.comments_for_post(post=post, user=request.user), COMMENTS_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "circles/post.html",
        {
            "post": post,
            "circle": post.circle,
            "access": access,
            "comments": comment_selectors.with_replies(
                cast(QuerySet[Comment], comments.object_list), user=request.user
            ),
            "page": comments,
            "answers": (
                post_selectors.answers_for_question(post=post, user=request.user)
                if post.kind == Post.Kind.QUESTION
                else []
            ),
            "paid_question": paid_question,
            "tip_conf": CircleSettings.current(),
        },
    )


def _back_to_post(post_id: int) -> HttpResponse:
    return redirect("circles:post", post_id=post_id)


@login_required
@require_POST
def post_like_toggle(request: HttpRequest, post_id: int) -> HttpResponse:
    post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
    try:
        if getattr(post, "liked_by_me", False):  # annotated by post_get_for_reader
            post_services.post_unlike(post=post, user=request.user)
        else:
            post_services.post_like(post=post, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    if getattr(request, "htmx", False):  # django-htmx's middleware sets it
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        return render(request, "circles/_like.html", {"post": post})
    return redirect_to_next(request, reverse("circles:post", args=[post.pk]))


@login_required
@require_POST
def comment_add(request: HttpRequest, post_id: int) -> HttpResponse:
    post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back_to_post(post.pk)
    parent = None
    if form.cleaned_data["parent"]:
        parent = Comment.objects.filter(pk=form.cleaned_data["parent"], post=post).first()
    try:
        comment = comment_services.comment_create(
            post=post, author=request.user, body=form.cleaned_data["body"], parent=parent
        )
        if comment.status == Comment.Status.REVIEW:
            messages.info(request, _("评论已提交，审核通过后可见"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if exc.code == "rules_not_accepted":
            return rules_first(post.circle_id, back_to=request.path)
        return _back_to_post(post.pk)
    # Back to the page that shows the new comment (the last one, or the parent's), scrolled to it.
    page = comment_selectors.comment_page_number(
        comment=comment, user=request.user, per_page=COMMENTS_PER_PAGE
    )
    return redirect(f"{reverse('circles:post', args=[post.pk])}?{urlencode({'page': page})}#c{comment.pk}")


@login_required
@require_POST
def comment_delete(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = get_object_or_404(
        Comment.objects.select_related("post").exclude(status=Comment.Status.DELETED), pk=comment_id
    )
    post, _access = post_selectors.post_get_for_reader(post_id=comment.post_id, user=request.user)
    comment.post = post
    try:
        comment_services.comment_delete(comment=comment, actor=request.user)
        messages.success(request, _("评论已删除"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back_to_post(post.pk)


@login_required
@require_POST
def post_flags(request: HttpRequest, post_id: int) -> HttpResponse:
    post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
    form = PostFlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back_to_post(post.pk)
    flag, value = form.cleaned_data["flag"], form.cleaned_data["value"]
    try:
        if flag == "pinned":
            post_services.post_set_flags(post=post, actor=request.user, pinned=value)
        elif flag == "featured":
            post_services.post_set_flags(post=post, actor=request.user, featured=value)
        else:
            post_services.post_delete(post=post, actor=request.user)
            messages.success(request, _("已删除"))
            return redirect("circles:detail", circle_id=post.circle_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back_to_post(post.pk)


@login_required
def post_schedule(request: HttpRequest, post_id: int) -> HttpResponse:
    """The author edits a post before its publish time (text, tags, time) or publishes it at once;
    cancelling is deleting it (the post page's delete button)."""
    post, access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
    if (
        post.author_id != request.user.pk
        or post.status not in scheduling.UNPUBLISHED
        or post.publish_at is None
    ):
        raise Http404
    form = PostScheduleForm(request.POST) if request.method == "POST" else PostScheduleForm()
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, first_error(form))
        else:
            data = form.cleaned_data
            try:
                if data["action"] == "publish_now":
                    scheduling.post_publish_now(post=post, actor=request.user)
                    messages.success(request, _("已发布"))
                else:
                    scheduling.post_reschedule(
                        post=post,
                        actor=request.user,
                        publish_at=data["publish_at"],
                        title=data["title"],
                        body=data["body"],
                        tags=data["tags"],
                    )
                    messages.success(request, _("定时发布已更新"))
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                return _back_to_post(post.pk)
    return render(
        request,
        "circles/schedule.html",
        {
            "post": post,
            "circle": post.circle,
            "access": access,
            "form": form,
            "publish_at_value": localtime(post.publish_at).strftime("%Y-%m-%dT%H:%M"),
        },
    )
