"""The owner tools page of a circle (owners and admins): members by role and expiry, expiring soon,
the moderation queue, the rules, the stats — and the actions posted from it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from circles.forms import OwnerActionForm, first_error
from circles.models import Circle, CircleMembership, Comment, Post
from circles.selectors import access as access_selectors
from circles.selectors import members as member_selectors
from circles.selectors import moderation as moderation_selectors
from circles.selectors import stats as stats_selectors
from circles.services import circles as circle_services
from circles.services import moderation as moderation_services
from circles.services import owner_tools
from core.errors import ApplicationError
from core.roles import is_money_operator


def _run_action(request: HttpRequest, circle: Circle, form: OwnerActionForm) -> None:
    """Carry out one valid owner action; a refusal raises ApplicationError, a missing row Http404."""
    action, row_id = form.cleaned_data["action"], form.cleaned_data["id"]
    if action in OwnerActionForm.ROW_ACTIONS and row_id is None:
        raise Http404
    if action in OwnerActionForm.POST_ACTIONS:
        post = get_object_or_404(Post, pk=row_id, circle=circle)
        moderation_services.post_moderate(post=post, actor=request.user, approve=action == "approve_post")
    elif action in OwnerActionForm.COMMENT_ACTIONS:
        comment = get_object_or_404(Comment, pk=row_id, post__circle=circle)
        moderation_services.comment_moderate(
            comment=comment, actor=request.user, approve=action == "approve_comment"
        )
    elif action in OwnerActionForm.MEMBER_ACTIONS:
        membership = get_object_or_404(CircleMembership, pk=row_id, circle=circle)
        if action == "role":
            owner_tools.circle_member_set_role(
                circle=circle, membership=membership, role=form.cleaned_data["role"], actor=request.user
            )
        elif action == "allow_rejoin":
            owner_tools.circle_member_allow_rejoin(circle=circle, membership=membership, actor=request.user)
        else:
            owner_tools.circle_member_remove(
                circle=circle,
                membership=membership,
                actor=request.user,
                refund=action == "remove_refund",
                reason=form.cleaned_data["reason"],
            )
    else:  # "rules"
        circle_services.circle_rules_publish(
            circle=circle, body=form.cleaned_data["body"], actor=request.user
        )


@login_required
def manage(request: HttpRequest, circle_id: int) -> HttpResponse:
    """Owner/admin tools: members by role and expiry, expiring soon, moderation queue, stats."""
    circle, access = access_selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
    if request.method == "POST":
        form = OwnerActionForm(request.POST)
        if not form.is_valid():
            if form.has_error("id"):  # a malformed id names no row
                raise Http404
            messages.error(request, first_error(form))
        else:
            try:
                _run_action(request, circle, form)
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
