"""Server-rendered circle pages (thin: selectors read, services write, messages show refusals)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from circles.models import CircleMembership, CircleSettings, Comment, PaidQuestion, Post
from circles.selectors import access as access_selectors
from circles.selectors import comments as comment_selectors
from circles.selectors import members as member_selectors
from circles.selectors import moderation as moderation_selectors
from circles.selectors import posts as post_selectors
from circles.selectors import stats as stats_selectors
from circles.services import circles as circle_services
from circles.services import comments as comment_services
from circles.services import memberships as membership_services
from circles.services import moderation as moderation_services
from circles.services import owner_tools
from circles.services import posts as post_services
from circles.services import pricing as circle_pricing
from circles.services import questions as question_services
from circles.services import tips as tip_services
from core.errors import ApplicationError
from core.http import redirect_to_next
from core.money import MoneyError, yuan_to_fen
from core.roles import is_money_operator


def _checkout(item_type: str, item_id) -> str:
    return reverse("payments:checkout") + "?" + urlencode({"item_type": item_type, "item_id": item_id})


def _posted_int(request: HttpRequest, name: str) -> int:
    """An id posted by a form; anything that is not a number is a missing object (404), not a crash."""
    raw = request.POST.get(name, "")
    if not raw.isdigit():
        raise Http404
    return int(raw)


def circle_list(request: HttpRequest) -> HttpResponse:
    return render(request, "circles/list.html", {"circles": access_selectors.circles_listed()})


def circle_detail(request: HttpRequest, circle_id: int) -> HttpResponse:
    """Members see the feed; everyone else sees the intro, a preview (titles only) and the join button."""
    circle = access_selectors.circle_get(circle_id=circle_id)
    access = access_selectors.circle_access(request.user, circle)
    context = {"circle": circle, "access": access}
    if access.can_read:
        feed = request.GET.get("feed", "newest")
        feed = feed if feed in post_selectors.FEEDS else "newest"
        try:
            page = post_selectors.feed_page_number(request.GET.get("page", 1))
        except ValueError:
            page = 1
        q = post_selectors.search_term(request.GET.get("q", ""), max_chars=50)
        tag = post_selectors.search_term(request.GET.get("tag", ""), max_chars=20)
        posts, count = post_selectors.feed_page(
            circle=circle, user=request.user, feed=feed, page=page, tag=tag, q=q
        )
        context.update(
            posts=posts,
            count=count,
            feed=feed,
            q=q,
            tag=tag,
            page=page,
            has_next=page * post_selectors.FEED_PAGE_SIZE < count,
            guests=member_selectors.guests_of(circle=circle),
        )
    else:
        context["preview"] = post_selectors.preview_posts(circle=circle)
        context["rules"] = access_selectors.current_rules(circle)
        try:
            context["price"] = circle_pricing.circle_price(
                circle=circle, user=request.user, membership=access.membership
            )
            context["checkout_url"] = _checkout("circle", circle.pk)
        except ApplicationError as exc:
            context["price_error"] = exc.message
    if access.can_read and access.role in ("member", "trial", "expired") and not access.via_tier:
        try:
            context["renew_price"] = circle_pricing.circle_price(
                circle=circle, user=request.user, membership=access.membership
            )
            context["checkout_url"] = _checkout("circle", circle.pk)
        except ApplicationError:
            pass
    return render(request, "circles/detail.html", context)


@login_required
@require_POST
def circle_trial(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    try:
        membership_services.circle_trial_start(circle=circle, user=request.user)
        messages.success(request, _("试用已开始，欢迎加入！"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("circles:detail", circle_id=circle.pk)


@login_required
@require_POST
def circle_leave(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    try:
        membership_services.circle_leave(circle=circle, user=request.user)
        messages.success(request, _("你已退出该圈子"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("circles:detail", circle_id=circle.pk)


@login_required
def circle_rules(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    access = access_selectors.circle_access(request.user, circle)
    if not access.can_read:
        raise Http404
    if request.method == "POST":
        if str(circle.rules_version) != request.POST.get("version"):
            messages.warning(request, _("公约已更新，请阅读最新版本"))
        elif request.POST.get("agree") != "1":
            messages.error(request, _("请勾选同意社群公约"))
        else:
            try:
                circle_services.circle_rules_accept(circle=circle, user=request.user)
                messages.success(request, _("已同意社群公约"))
                return redirect_to_next(request, reverse("circles:compose", args=[circle.pk]))
            except ApplicationError as exc:
                messages.error(request, exc.message)
    return render(
        request,
        "circles/rules.html",
        {
            "circle": circle,
            "access": access,
            "rules": access_selectors.current_rules(circle),
            "next": request.GET.get("next", ""),
        },
    )


@login_required
def post_compose(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    access = access_selectors.circle_access(request.user, circle)
    if not access.can_read:
        raise Http404
    if access.rules_pending:
        messages.info(request, _("发帖前请先阅读并同意社群公约"))
        return redirect(reverse("circles:rules", args=[circle.pk]) + "?" + urlencode({"next": request.path}))
    question = None
    question_id = request.GET.get("question") or request.POST.get("question")
    if question_id and str(question_id).isdigit():
        question = Post.objects.filter(pk=question_id, circle=circle, kind=Post.Kind.QUESTION).first()
    if request.method == "POST":
        try:
            post = post_services.post_create(
                circle=circle,
                author=request.user,
                kind=request.POST.get("kind", Post.Kind.TALK) if question is None else Post.Kind.ANSWER,
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                tags=request.POST.get("tags", ""),
                images=request.FILES.getlist("images"),
                question=question,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            if post.status == Post.Status.REVIEW:
                messages.info(request, _("内容已提交，审核通过后可见"))
            else:
                messages.success(request, _("发布成功"))
            return redirect("circles:post", post_id=post.pk)
    kinds = [(k, label) for k, label in Post.Kind.choices if k != Post.Kind.ANSWER]
    return render(
        request,
        "circles/compose.html",
        {"circle": circle, "access": access, "kinds": kinds, "question": question, "form": request.POST},
    )


COMMENTS_PER_PAGE = 30  # top-level comments per page; their replies come with them


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
            "comments": comment_selectors.with_replies(comments.object_list, user=request.user),
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
        if post.liked_by_me:
            post_services.post_unlike(post=post, user=request.user)
        else:
            post_services.post_like(post=post, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    if request.htmx:
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        return render(request, "circles/_like.html", {"post": post})
    return redirect_to_next(request, reverse("circles:post", args=[post.pk]))


@login_required
@require_POST
def comment_add(request: HttpRequest, post_id: int) -> HttpResponse:
    post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
    parent = None
    if request.POST.get("parent", "").isdigit():
        parent = Comment.objects.filter(pk=request.POST["parent"], post=post).first()
    try:
        comment = comment_services.comment_create(
            post=post, author=request.user, body=request.POST.get("body", ""), parent=parent
        )
        if comment.status == Comment.Status.REVIEW:
            messages.info(request, _("评论已提交，审核通过后可见"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if exc.code == "rules_not_accepted":
            return redirect(
                reverse("circles:rules", args=[post.circle_id]) + "?" + urlencode({"next": request.path})
            )
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
    flag, value = request.POST.get("flag"), request.POST.get("value") == "1"
    try:
        if flag == "pinned":
            post_services.post_set_flags(post=post, actor=request.user, pinned=value)
        elif flag == "featured":
            post_services.post_set_flags(post=post, actor=request.user, featured=value)
        elif flag == "delete":
            post_services.post_delete(post=post, actor=request.user)
            messages.success(request, _("已删除"))
            return redirect("circles:detail", circle_id=post.circle_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back_to_post(post.pk)


@login_required
def tip(request: HttpRequest, post_id: int) -> HttpResponse:
    """Choose an amount (presets or custom within limits) → a TipIntent → the ordinary checkout."""
    post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
    comment = None
    if (request.GET.get("comment") or request.POST.get("comment") or "").isdigit():
        comment = get_object_or_404(
            Comment, pk=request.GET.get("comment") or request.POST.get("comment"), post=post, status="visible"
        )
    conf = CircleSettings.current()
    if request.method == "POST":
        raw = request.POST.get("custom_yuan", "").strip() or request.POST.get("preset_yuan", "").strip()
        try:
            amount_fen = yuan_to_fen(raw)
        except MoneyError:
            messages.error(request, _("请输入正确的金额"))
        else:
            try:
                intent = tip_services.tip_intent_create(
                    user=request.user,
                    amount_fen=amount_fen,
                    post=None if comment else post,
                    comment=comment,
                    message=request.POST.get("message", ""),
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                return redirect(_checkout("tip", intent.pk))
    return render(
        request,
        "circles/tip.html",
        {"post": post, "comment": comment, "conf": conf, "presets": [p // 100 for p in conf.preset_fen]},
    )


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
        from members.models import User

        raw_guest = request.POST.get("guest", "")
        guest = User.objects.filter(pk=int(raw_guest)).first() if raw_guest.isdigit() else None
        try:
            if guest is None:
                raise ApplicationError("invalid", _("请选择嘉宾"))
            question = question_services.paid_question_create(
                circle=circle, asker=request.user, guest=guest, body=request.POST.get("body", "")
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            if exc.code == "rules_not_accepted":
                return redirect(
                    reverse("circles:rules", args=[circle.pk]) + "?" + urlencode({"next": request.path})
                )
        else:
            return redirect(_checkout("circle_question", question.pk))
    return render(request, "circles/ask.html", {"circle": circle, "access": access, "guests": guests})


@login_required
@require_POST
def answer(request: HttpRequest, question_id: int) -> HttpResponse:
    question = get_object_or_404(
        PaidQuestion.objects.select_related("circle"), pk=question_id, guest=request.user
    )
    try:
        question_services.paid_question_answer(
            question=question, user=request.user, body=request.POST.get("body", "")
        )
        messages.success(request, _("回答已发布，问答费用已计入你的收益"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return (
        redirect("circles:post", post_id=question.post_id) if question.post_id else redirect("circles:list")
    )


@login_required
def leaderboard(request: HttpRequest, circle_id: int) -> HttpResponse:
    circle = access_selectors.circle_get(circle_id=circle_id)
    access = access_selectors.circle_access(request.user, circle)
    if not access.can_read:
        raise Http404
    period = request.GET.get("period", "7d")
    period = period if period in stats_selectors.PERIODS else "7d"
    rows = stats_selectors.leaderboard(circle=circle, period=period)
    return render(
        request,
        "circles/leaderboard.html",
        {"circle": circle, "access": access, "rows": rows, "period": period},
    )


@login_required
def manage(request: HttpRequest, circle_id: int) -> HttpResponse:
    """Owner/admin tools: members by role and expiry, expiring soon, moderation queue, stats."""
    circle, access = access_selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("approve_post", "reject_post"):
                post = get_object_or_404(Post, pk=_posted_int(request, "id"), circle=circle)
                moderation_services.post_moderate(
                    post=post, actor=request.user, approve=action == "approve_post"
                )
            elif action in ("approve_comment", "reject_comment"):
                comment = get_object_or_404(Comment, pk=_posted_int(request, "id"), post__circle=circle)
                moderation_services.comment_moderate(
                    comment=comment, actor=request.user, approve=action == "approve_comment"
                )
            elif action in ("role", "remove", "remove_refund", "allow_rejoin"):
                membership = get_object_or_404(CircleMembership, pk=_posted_int(request, "id"), circle=circle)
                if action == "role":
                    owner_tools.circle_member_set_role(
                        circle=circle,
                        membership=membership,
                        role=request.POST.get("role", ""),
                        actor=request.user,
                    )
                elif action == "allow_rejoin":
                    owner_tools.circle_member_allow_rejoin(
                        circle=circle, membership=membership, actor=request.user
                    )
                else:
                    owner_tools.circle_member_remove(
                        circle=circle,
                        membership=membership,
                        actor=request.user,
                        refund=action == "remove_refund",
                        reason=request.POST.get("reason", ""),
                    )
            elif action == "rules":
                circle_services.circle_rules_publish(
                    circle=circle, body=request.POST.get("body", ""), actor=request.user
                )
            messages.success(request, _("已完成"))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(request.get_full_path())
    role = request.GET.get("role", "")
    status = request.GET.get("status", "")
    members = member_selectors.members_for_managers(circle=circle, role=role, status=status)
    paginator = Paginator(members, 50)
    posts, comments = moderation_selectors.moderation_queue(circle=circle)
    return render(
        request,
        "circles/manage.html",
        {
            "circle": circle,
            "access": access,
            "members": paginator.get_page(request.GET.get("page")),
            "role": role,
            "roles": CircleMembership.Role.choices,
            "status": status,
            "statuses": CircleMembership.Status.choices,
            "expiring": member_selectors.expiring_soon(circle=circle)[:100],
            "queue_posts": posts[:50],
            "queue_comments": comments[:50],
            "stats": stats_selectors.circle_stats(circle=circle),
            # removing with a refund moves money: offered to managers who are money operators
            "can_refund": is_money_operator(request.user),
            "rules": access_selectors.current_rules(circle),
        },
    )
