"""The role × action matrix: only a money operator can cause a refund, a payout or a month close, by any
path — admin actions, admin pages, periodic tasks, management commands — and each records who did it.

Generated, so it cannot go stale silently:

- every admin action and custom admin URL on `admin.site` (each ModelAdmin's `get_actions` and
  `get_urls`) is classified MONEY or PLAIN in `ADMIN_OPERATIONS`, one table; a new action or page that
  nobody classified fails `test_every_admin_action_and_page_is_classified`;
- every management command of our apps is classified in `COMMANDS`; a money command must be a
  `core.management.money.MoneyCommand` (it requires `--operator`);
- every Celery task the apps register is money or not by `settings.MONEY_TASKS`, checked against
  `TASKS_WITH_MONEY_EFFECTS` below.

Then, for each staff role `manage.py setup_roles` creates (and a superuser, and staff without a role):
money actions are offered to money roles only; money pages refuse everyone else with 403; and a
non-money role that POSTs a money action anyway moves nothing (no refund, no ledger transaction, no
month close, no withdrawal or order state change) — while the same POST by 财务 does move money, so
the check can fail. The probe of issue 15 (an operator adds a beat task `courses.tasks.refund_order`
aimed at any order and runs it) is replayed and refused at each step.
"""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib import admin
from django.core.management import get_commands, load_command_class
from django.test import TestCase
from django.urls import reverse

from tests.insights import admin_world
from tests.insights.admin_world import client_for
from tests.project_apps import PROJECT_APPS

MONEY, PLAIN = "money", "plain"

# ---- the one table of admin operations -------------------------------------------------------------------
# (admin label, "action" | "url", name) -> MONEY (moves money, or runs something that can) or PLAIN.
# Django's own per-admin pages (changelist, add, change, delete, history, autocomplete) are not listed:
# their rights are the model permissions, and money records refuse add/change/delete
# (tests/insights/test_admin_polish.py).
ADMIN_OPERATIONS = {
    ("*", "action", "delete_selected"): PLAIN,  # money records offer no delete at all
    # payments
    ("payments.Order", "action", "refund_full"): MONEY,
    ("payments.Order", "url", "refund"): MONEY,
    ("payments.Withdrawal", "action", "approve_selected"): MONEY,
    ("payments.Withdrawal", "action", "sync_selected"): MONEY,  # records WeChat's outcome of a payout
    ("payments.Withdrawal", "action", "cancel_unconfirmed_selected"): MONEY,
    ("payments.Withdrawal", "url", "approve"): MONEY,
    ("payments.Withdrawal", "url", "reject"): MONEY,  # returns the amount to available
    ("payments.Withdrawal", "url", "mark_paid"): MONEY,
    ("payments.LedgerCheckRun", "url", "run"): MONEY,  # finance's: writes the check operators act on
    # referrals
    ("referrals.GroupBuy", "action", "run_sweep"): MONEY,  # refunds failed groups
    ("referrals.StaffShareMonth", "url", "close"): MONEY,
    ("referrals.Promoter", "action", "block"): PLAIN,
    ("referrals.Promoter", "action", "unblock"): PLAIN,
    ("referrals.PromoterAgreement", "action", "publish"): PLAIN,
    ("referrals.ReferralBinding", "action", "end_bindings"): PLAIN,
    ("referrals.SalesLead", "action", "end_leads"): PLAIN,  # ends a rep assignment; moves no money
    ("core.Brand", "url", "poster_preview"): PLAIN,
    # growth: redeem codes give items without a payment (a company paid offline), like operators'
    # membership grants: benefits, not money; making and revoking batches is audited
    ("growth.RedeemCodeBatch", "action", "export_csv"): PLAIN,
    ("growth.RedeemCodeBatch", "action", "revoke_selected"): PLAIN,
    ("growth.RedeemCode", "action", "revoke_selected"): PLAIN,
    # growth: tags, segments and campaigns move no money (messages and labels)
    ("growth.Tag", "action", "recompute_selected"): PLAIN,
    ("growth.MemberTag", "action", "remove_selected"): PLAIN,
    ("growth.Campaign", "action", "schedule_selected"): PLAIN,
    ("growth.Campaign", "action", "unschedule_selected"): PLAIN,
    ("growth.Campaign", "action", "cancel_selected"): PLAIN,
    ("members.User", "action", "tag_members"): PLAIN,
    ("members.User", "action", "untag_members"): PLAIN,
    # coupons: a discount given at checkout (priced on the server); revoking and issuing move no money
    ("growth.MemberCoupon", "action", "revoke_selected"): PLAIN,
    ("members.User", "action", "issue_coupon"): PLAIN,
    # beat: running a periodic task by hand can run a money task; toggling refuses money rows for
    # non-superusers (test_the_probe_* below)
    ("django_celery_beat.PeriodicTask", "action", "run_tasks"): MONEY,
    ("django_celery_beat.PeriodicTask", "action", "enable_tasks"): PLAIN,
    ("django_celery_beat.PeriodicTask", "action", "disable_tasks"): PLAIN,
    ("django_celery_beat.PeriodicTask", "action", "toggle_tasks"): PLAIN,
    # circles: a refund when a circle's owner removes a member (see DELEGATED)
    ("circles.CircleMembership", "action", "remove_with_refund"): MONEY,
    ("circles.CircleMembership", "action", "remove_without_refund"): PLAIN,
    ("circles.CircleMembership", "action", "promote_guest"): PLAIN,
    ("circles.CircleMembership", "action", "allow_rejoin"): PLAIN,
    ("circles.Post", "action", "approve"): PLAIN,
    ("circles.Post", "action", "reject"): PLAIN,
    ("circles.Post", "action", "feature"): PLAIN,
    ("circles.Post", "action", "unfeature"): PLAIN,
    ("circles.Post", "action", "pin"): PLAIN,
    ("circles.Post", "action", "unpin"): PLAIN,
    ("circles.Post", "action", "publish_now"): PLAIN,
    ("circles.Post", "action", "cancel_schedule"): PLAIN,
    ("circles.Comment", "action", "approve"): PLAIN,
    ("circles.Comment", "action", "reject"): PLAIN,
    # courses
    ("courses.CheckIn", "action", "approve"): PLAIN,
    ("courses.CheckIn", "action", "reject"): PLAIN,
    ("courses.CheckInModeration", "action", "approve"): PLAIN,
    ("courses.CheckInModeration", "action", "reject"): PLAIN,
    ("courses.HomeworkSubmission", "action", "approve"): PLAIN,
    ("courses.Event", "action", "export_attendance"): PLAIN,
    ("courses.MediaAsset", "action", "transcode_again"): PLAIN,
    ("courses.EventRegistration", "action", "check_in"): PLAIN,
    # members: benefits and points, not money (no refund, payout, close or ledger posting)
    ("members.User", "action", "grant_membership"): PLAIN,
    ("members.User", "url", "auth_user_password_change"): PLAIN,
    ("members.Membership", "action", "extend_memberships"): PLAIN,
    ("members.MembershipGrant", "action", "revoke_grants"): PLAIN,
    ("members.PointsAccount", "action", "adjust_points"): PLAIN,
    ("members.Onboarding", "action", "reassign_reps"): PLAIN,
    ("members.Onboarding", "action", "mark_service_group"): PLAIN,
    ("members.Onboarding", "action", "mark_big_group"): PLAIN,
    ("members.Onboarding", "url", "funnel"): PLAIN,
    # third-party admins
    ("account.EmailAddress", "action", "make_verified"): PLAIN,
}
# A money operation a non-money role may take, with the reason. Empty: a circle's owner removing a
# member with a refund was the one such rule, and it now needs the owner to be a money operator too.
DELEGATED: dict[tuple[str, str, str], set[str]] = {}
# Money actions shown only to the managers of some circle (and then only to money operators).
CIRCLE_MANAGERS_ONLY = {("circles.CircleMembership", "action", "remove_with_refund")}
STANDARD_URLS = {"changelist", "add", "history", "delete", "change", "autocomplete"}
SITE_URLS = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
}

# ---- the management commands of our apps -----------------------------------------------------------------
COMMANDS = {
    "page_screenshots": PLAIN,  # phone screenshots of the key pages for docs/
    "lighthouse": PLAIN,  # Lighthouse on the same pages of a running demo site, for docs/quality.md
    "staff_share_close": MONEY,
    "ledger_check": PLAIN,  # a check: reads the ledger, records the result
    "seed_demo": PLAIN,
    "redeem_codes_create": PLAIN,  # a batch of codes for an item (benefits, audited), like admin's  # demo data (refuses nothing: it builds an empty demo database)
    "seed_periodic_tasks": PLAIN,
    "setup_roles": PLAIN,
    "dashboard_screenshots": PLAIN,
}
OUR_APPS = set(PROJECT_APPS)

# ---- Celery tasks with money effects (must all be in settings.MONEY_TASKS) -------------------------------
TASKS_WITH_MONEY_EFFECTS = {
    "payments.tasks.orders_sweep",
    "payments.tasks.settle_earnings",
    "payments.tasks.withdrawals_sweep",
    "payments.tasks.withdrawal_submit",
    "payments.tasks.refund_submit",
    "payments.tasks.refund_auto_start",
    "referrals.tasks.expire_group_buys",
    "referrals.tasks.group_buy_refund_seat",
    "referrals.tasks.close_staff_share_month",
    "referrals.tasks.release_commission_points",
    "courses.tasks.refund_order",
    "circles.tasks.circles_sweep",
}
# On the money queue and in the list, without moving money themselves.
MONEY_QUEUE_CHECKS = {"payments.tasks.ledger_check", "payments.tasks.reconcile_bills"}

ROLES = ["superuser", "finance", "operator", "teacher", "owner", "sales", "service", "staff_no_role"]
MONEY_ROLES = {"superuser", "finance"}


# ---- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker, tmp_path_factory):
    """tests/insights/admin_world.py: a row behind every admin, two of each staff role."""
    with admin_world.built_for_module(django_db_blocker, tmp_path_factory) as world:
        yield world


@pytest.fixture(autouse=True)
def _sandbox_on(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"


def _request(user):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _url_suffix(model, name: str) -> str:
    return name.split(f"{model._meta.app_label}_{model._meta.model_name}_", 1)[-1]


def money_state() -> dict:
    """Everything a money action would change."""
    from payments.models import Earning, Order, Refund, Transaction, Withdrawal
    from referrals.models import GroupBuy, StaffShareMonth

    return {
        "refunds": Refund.objects.count(),
        "ledger_transactions": Transaction.objects.count(),
        "earnings": sorted(Earning.objects.values_list("pk", "status")),
        "staff_share_months": StaffShareMonth.objects.count(),
        "withdrawals": sorted(Withdrawal.objects.values_list("pk", "status")),
        "orders": sorted(Order.objects.values_list("pk", "status", "refunded_fen")),
        "group_buys": sorted(GroupBuy.objects.values_list("pk", "status")),
    }


# ---- the matrix is complete --------------------------------------------------------------------------------


def _admin_operations(superuser) -> set[tuple[str, str, str]]:
    request = _request(superuser)
    found = set()
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        declared = {a if isinstance(a, str) else a.__name__ for a in (model_admin.actions or ())}
        for name in declared | set(model_admin.get_actions(request)):
            found.add(("*", "action", name) if name == "delete_selected" else (label, "action", name))
        for pattern in model_admin.get_urls():
            suffix = _url_suffix(model, getattr(pattern, "name", "") or "")
            if suffix and suffix not in STANDARD_URLS:
                found.add((label, "url", suffix))
    return found


def test_every_admin_action_and_page_is_classified(shop, db):
    found = _admin_operations(shop.staff["superuser"])
    assert found == set(ADMIN_OPERATIONS), {
        "unclassified (add to ADMIN_OPERATIONS)": sorted(found - set(ADMIN_OPERATIONS)),
        "stale (gone from the admin)": sorted(set(ADMIN_OPERATIONS) - found),
    }
    site_names = {getattr(p, "name", None) for p in admin.site.get_urls()} - {None}
    assert site_names <= SITE_URLS, site_names - SITE_URLS  # no custom site-level page
    assert set(DELEGATED) | CIRCLE_MANAGERS_ONLY <= {
        key for key, kind in ADMIN_OPERATIONS.items() if kind == MONEY
    }


def test_every_management_command_of_our_apps_is_classified_and_money_ones_require_an_operator():
    from core.management.money import MoneyCommand

    ours = {name: app for name, app in get_commands().items() if app in OUR_APPS}
    assert set(ours) == set(COMMANDS), {
        "unclassified": set(ours) - set(COMMANDS),
        "stale": set(COMMANDS) - set(ours),
    }
    for name, kind in COMMANDS.items():
        command = load_command_class(ours[name], name)
        assert isinstance(command, MoneyCommand) == (kind == MONEY), name


def test_every_celery_task_with_money_effects_is_a_money_task(settings):
    from config.celery import app

    app.loader.import_default_modules()
    registered = {name for name in app.tasks if not name.startswith("celery.")}
    money = set(settings.MONEY_TASKS)
    assert money <= registered, money - registered  # no stale names
    assert money == TASKS_WITH_MONEY_EFFECTS | MONEY_QUEUE_CHECKS
    # and nothing else an app registers looks like money
    looks_like_money = {
        n
        for n in registered
        if any(w in n for w in ("refund", "settle", "withdraw", "payout", "ledger", "staff_share"))
    }
    assert looks_like_money <= money, looks_like_money - money


# ---- who is offered what -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_money_actions_are_offered_to_money_roles_only(shop, db, who):
    from core.roles import is_money_operator

    user = shop.staff[who]
    request = _request(user)
    role_names = set(user.groups.values_list("name", flat=True))
    assert is_money_operator(user) == (who in MONEY_ROLES)
    offered = set()
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.get_actions(request):
            key = ("*", "action", name) if name == "delete_selected" else (model._meta.label, "action", name)
            if ADMIN_OPERATIONS.get(key) == MONEY:
                offered.add(key)
    allowed = {key for key, kind in ADMIN_OPERATIONS.items() if kind == MONEY and key[1] == "action"}
    if who not in MONEY_ROLES:
        allowed = {key for key in allowed if DELEGATED.get(key, set()) & role_names}
    assert offered <= allowed, sorted(offered - allowed)
    if who == "superuser":  # all of them, but the circle members' (shown to a circle's managers only)
        assert offered == allowed - CIRCLE_MANAGERS_ONLY
    if who == "finance":
        assert {
            ("payments.Order", "action", "refund_full"),
            ("payments.Withdrawal", "action", "approve_selected"),
            ("referrals.GroupBuy", "action", "run_sweep"),
        } <= offered


def _money_pages(shop) -> list[tuple[str, str]]:
    """(key, url) of every MONEY admin page, its object argument filled with a real row."""
    pages = []
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", "") or ""
            key = (model._meta.label, "url", _url_suffix(model, name))
            if ADMIN_OPERATIONS.get(key) != MONEY:
                continue
            kwargs = {}
            for arg in getattr(pattern.pattern, "converters", {}):
                obj = model._default_manager.order_by("pk").first()
                assert obj is not None, key
                kwargs[arg] = obj.pk
            pages.append((key, reverse(f"admin:{name}", kwargs=kwargs)))
    return sorted(pages)


@pytest.mark.parametrize("who", [w for w in ROLES if w not in MONEY_ROLES])
def test_money_pages_refuse_every_other_role_and_move_nothing(shop, db, who):
    client = client_for(shop.staff[who])
    pages = _money_pages(shop)
    assert len(pages) == sum(1 for k, kind in ADMIN_OPERATIONS.items() if kind == MONEY and k[1] == "url")
    before = money_state()
    for key, url in pages:
        with TestCase.captureOnCommitCallbacks(execute=True):
            got = client.get(url).status_code
            posted = client.post(url, {"reason": "探针", "amount_yuan": "", "note": "探针"}).status_code
        assert got in (302, 403) and posted == 403, (key, got, posted)  # 302: a POST-only page
    assert money_state() == before


def test_money_pages_open_for_finance(shop, db):
    client = client_for(shop.staff["finance"])
    for key, url in _money_pages(shop):
        assert client.get(url).status_code in (200, 302, 405), key


# ---- a non-money role that posts a money action anyway -----------------------------------------------------


def _post_action(client, model_label: str, action: str, pks) -> int:
    app_label, model_name = model_label.lower().split(".")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse(f"admin:{app_label}_{model_name}_changelist"),
            {"action": action, "_selected_action": [str(pk) for pk in pks], "index": 0},
        )
    return response.status_code


def _money_posts(shop):
    from django_celery_beat.models import PeriodicTask

    from referrals.models import GroupBuy

    o = shop.objects
    aimed = PeriodicTask.objects.create(
        name="探针：退款任意订单",
        task="courses.tasks.refund_order",
        args=json.dumps([o["vip_order"].order_no, "probe"]),
        interval=PeriodicTask.objects.get(name="admin-world").interval,
    )
    return [
        ("payments.Order", "refund_full", [o["vip_order"].pk]),
        ("payments.Withdrawal", "approve_selected", [o["withdrawal"].pk]),
        ("payments.Withdrawal", "cancel_unconfirmed_selected", [o["withdrawal"].pk]),
        ("referrals.GroupBuy", "run_sweep", list(GroupBuy.objects.values_list("pk", flat=True)[:1])),
        ("django_celery_beat.PeriodicTask", "run_tasks", [aimed.pk]),
    ]


@pytest.mark.parametrize("who", [w for w in ROLES if w not in MONEY_ROLES])
def test_a_non_money_role_posting_money_actions_moves_nothing(shop, db, who):
    client = client_for(shop.staff[who])
    posts = _money_posts(shop)
    before = money_state()
    for label, action, pks in posts:
        assert pks, (label, action)
        assert _post_action(client, label, action, pks) in (200, 302, 403), (label, action)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(reverse("admin:referrals_staffsharemonth_close")).status_code == 403
    assert money_state() == before


def test_the_same_refund_post_by_finance_does_refund(shop, db):
    """The control of the test above: the POST it sends is one that moves money for a money role."""
    from payments.models import Refund

    order = shop.objects["vip_order"]
    before = money_state()
    assert _post_action(client_for(shop.staff["finance"]), "payments.Order", "refund_full", [order.pk]) == 302
    refund = Refund.objects.get(order=order)
    assert refund.kind == Refund.Kind.OPERATOR and refund.requested_by == shop.staff["finance"]
    assert money_state()["refunds"] == before["refunds"] + 1


# ---- the probe: a periodic task aimed at an order ----------------------------------------------------------


def test_the_probe_an_operator_cannot_create_a_refund_task(shop, db):
    from django_celery_beat.models import PeriodicTask

    client = client_for(shop.staff["operator"])
    add = reverse("admin:django_celery_beat_periodictask_add")
    count = PeriodicTask.objects.count()
    assert client.get(add).status_code == 403
    posted = client.post(
        add,
        {
            "name": "探针",
            "task": "courses.tasks.refund_order",
            "args": json.dumps([shop.objects["vip_order"].order_no, "x"]),
            "kwargs": "{}",
            "enabled": "on",
            "interval": PeriodicTask.objects.get(name="admin-world").interval_id,
        },
    )
    assert posted.status_code == 403 and PeriodicTask.objects.count() == count


def test_the_probe_an_operator_cannot_run_change_or_toggle_a_money_task(shop, db):
    from django_celery_beat.models import PeriodicTask

    client = client_for(shop.staff["operator"])
    aimed = _money_posts(shop)[-1][2][0]
    task = PeriodicTask.objects.get(pk=aimed)
    before = money_state()
    _post_action(client, "django_celery_beat.PeriodicTask", "run_tasks", [task.pk])
    _post_action(client, "django_celery_beat.PeriodicTask", "toggle_tasks", [task.pk])
    change = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    assert client.get(change).status_code == 200  # they may look at it
    posted = client.post(change, {"enabled": "", "interval": task.interval_id})
    assert posted.status_code == 403
    task.refresh_from_db()
    assert task.enabled and task.task == "courses.tasks.refund_order"
    assert (
        client.post(
            reverse("admin:django_celery_beat_periodictask_delete", args=[task.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert PeriodicTask.objects.filter(pk=task.pk).exists()
    assert money_state() == before


def test_an_operator_may_pick_the_schedule_of_a_plain_task_and_nothing_else(shop, db):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    plain = PeriodicTask.objects.get(name="admin-world")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    client = client_for(shop.staff["operator"])
    change = reverse("admin:django_celery_beat_periodictask_change", args=[plain.pk])
    response = client.post(
        change,
        {
            "enabled": "",
            "interval": hourly.pk,
            "task": "courses.tasks.refund_order",  # ignored: not a field they may edit
            "args": json.dumps([shop.objects["vip_order"].order_no, "x"]),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    plain.refresh_from_db()
    assert (plain.enabled, plain.interval_id, plain.task, plain.args) == (False, hourly.pk, "noop", "[]")
    # switching it back on works from the list too
    _post_action(client, "django_celery_beat.PeriodicTask", "enable_tasks", [plain.pk])
    plain.refresh_from_db()
    assert plain.enabled
    # but a selection holding a money task changes nothing
    aimed = _money_posts(shop)[-1][2][0]
    _post_action(client, "django_celery_beat.PeriodicTask", "disable_tasks", [plain.pk, aimed])
    assert PeriodicTask.objects.get(pk=plain.pk).enabled and PeriodicTask.objects.get(pk=aimed).enabled


def test_a_superuser_running_refund_order_for_an_unmarked_order_refunds_nothing(shop, db, caplog):
    from core.models import AuditLog
    from payments.models import Order

    order = shop.objects["vip_order"]
    aimed = _money_posts(shop)[-1][2][0]
    before = money_state()
    # on the logger itself: beat's admin imports the task modules, and Celery's Django fixup may
    # re-apply LOGGING on the way, replacing the root handlers pytest's caplog listens on
    services_logger = logging.getLogger("payments.orders.refunds")
    services_logger.addHandler(caplog.handler)
    try:
        _post_action(
            client_for(shop.staff["superuser"]), "django_celery_beat.PeriodicTask", "run_tasks", [aimed]
        )
    finally:
        services_logger.removeHandler(caplog.handler)
    assert money_state() == before
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert any(
        "never marked" in r.getMessage() and order.order_no in r.getMessage() for r in caplog.records
    ), [(r.name, r.getMessage()) for r in caplog.records]
    run = AuditLog.objects.get(action="periodic_task_run")
    assert run.actor == shop.staff["superuser"] and run.details["task"] == "courses.tasks.refund_order"


def test_refund_order_refunds_an_order_the_system_marked_and_says_so(shop, db):
    from courses import tasks
    from payments.models import Order, Refund
    from payments.orders.refunds import order_auto_refund_mark

    order = shop.objects["vip_order"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert order_auto_refund_mark(order_no=order.order_no, reason="名额已满，报名费原路退回")
        tasks.refund_order(order.order_no, "任意文字")  # the stored reason wins
    refund = Refund.objects.get(order=order)
    assert (refund.kind, refund.requested_by, refund.reason) == (
        Refund.Kind.SYSTEM,
        None,
        "名额已满，报名费原路退回",
    )
    event = Order.objects.get(pk=order.pk).events.get(reason="refund_requested")
    assert event.details["by"] == "system:auto_refund_due"
    # shown to operators on the order page
    page = client_for(shop.staff["finance"]).get(reverse("admin:payments_order_change", args=[order.pk]))
    assert "名额已满，报名费原路退回" in page.content.decode()
    # and running it again changes nothing
    with TestCase.captureOnCommitCallbacks(execute=True):
        tasks.refund_order(order.order_no, "x")
    assert Refund.objects.filter(order=order).count() == 1
