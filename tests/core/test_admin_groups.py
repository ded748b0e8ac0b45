"""Operators: the admin index is grouped by job with Chinese labels, every model still reachable;
item types show as words; admin and /ops/ link to each other."""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.utils import translation

from core.admin_vendor import VENDOR_LABELS
from members.models import Notification
from members.notifications.selectors import notification_kind_labels
from payments.models import Earning, Order, OrderEvent, Withdrawal
from payments.orders.admin import OrderEventInline
from payments.wallet.admin_ledger import EarningAdmin
from payments.wallet.admin_withdrawals import WithdrawalAdmin
from referrals.admin.attribution import BindingRefusalAdmin, ReferralBindingAdmin
from referrals.models import BindingRefusal, ReferralBinding
from tests.courses.factories import make_course
from tests.factories import UserFactory
from tests.payments.helpers import create_paid_order, refund_order
from tests.project_apps import PROJECT_APPS

pytestmark = pytest.mark.django_db

JOBS = ["销售与订单", "会员", "内容", "社群", "推广与分佣", "增长工具", "财务", "系统"]


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_index_is_grouped_by_job_and_hides_no_model(operator_client):
    page = operator_client.get("/admin/").content.decode()
    captions = re.findall(r"<caption>\s*<a[^>]*>([^<]+)</a>|<caption>\s*([^<\s][^<]*)</caption>", page)
    shown = [a or b for a, b in captions]
    assert [c.strip() for c in shown][: len(JOBS)] == JOBS
    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert url in page, url
    assert "data-ops-link" in page and 'href="/ops/"' in page


def test_order_list_shows_item_types_as_words(operator_client):
    course = make_course()
    create_paid_order(user=UserFactory(), item_type="course", item_id=str(course.pk))
    page = operator_client.get("/admin/payments/order/").content.decode()
    assert '<td class="field-item_type_column">课程</td>' in page
    assert "?item_type=course" in page  # the filter lists codes by their labels


# ---- Chinese labels throughout: fields, columns, filters, codes ---------------------------------------

OUR_APPS = set(PROJECT_APPS)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _label_of_filter(model, spec) -> str:
    if isinstance(spec, tuple):
        spec = spec[0]
    if isinstance(spec, str):
        field = model._meta.get_field(spec.split("__")[0])
        if "__" in spec:
            field = field.related_model._meta.get_field(spec.split("__")[1])
        return str(field.verbose_name)
    return str(spec.title)


def test_every_field_column_and_filter_of_our_admin_has_a_chinese_label():
    missing = []
    with translation.override("zh-hans"):
        for model in apps.get_models():
            if model._meta.app_label not in OUR_APPS:
                continue
            missing += [
                f"{model._meta.label}.{f.name}"
                for f in model._meta.local_fields + list(model._meta.local_many_to_many)
                if f.name != "id" and not CJK.search(str(f.verbose_name))
            ]
        for model, model_admin in admin.site._registry.items():
            if model._meta.app_label not in OUR_APPS:
                continue
            for column in model_admin.list_display:
                label = str(label_for_field(column, model, model_admin))
                if column not in ("id", "__str__") and not CJK.search(label):
                    missing.append(f"{model._meta.label} column {column}: {label}")
            for spec in model_admin.list_filter:
                label = _label_of_filter(model, spec)
                if not CJK.search(label):
                    missing.append(f"{model._meta.label} filter {spec}: {label}")
    assert missing == []


def test_refund_list_reads_chinese_column_and_filter_names(operator_client):
    order = create_paid_order(user=UserFactory(), item_type="course", item_id=str(make_course().pk))
    refund_order(order=order)
    page = operator_client.get("/admin/payments/refund/").content.decode()
    for heading in ("订单", "退款类型", "状态", "申请人", "申请时间", "完成时间", "运营退款"):
        assert heading in page, heading
    for english in (">order<", ">kind<", ">status<", "requested by", "completed at"):
        assert english not in page.lower(), english
    # Filter headings read as an operator says them ("按状态"), not Django's literal "以 状态".
    assert "按状态" in page and "以 " not in page


def test_codes_show_as_words_in_admin_lists(operator_client):
    earning = Earning(source="commission")
    binding = ReferralBinding(channel="poster")
    refusal = BindingRefusal(reason="self", context="signup")
    assert EarningAdmin(Earning, admin.site).source_display(earning) == "推广佣金"
    assert ReferralBindingAdmin(ReferralBinding, admin.site).channel_display(binding) == "海报"
    refusals = BindingRefusalAdmin(BindingRefusal, admin.site)
    assert refusals.reason_display(refusal) == "不能绑定自己为推荐人"
    assert refusals.context_display(refusal) == "注册"
    assert (
        WithdrawalAdmin(Withdrawal, admin.site).transfer_state_display(
            Withdrawal(transfer_state="WAIT_USER_CONFIRM")
        )
        == "待用户确认收款"
    )
    assert OrderEvent(from_status="pending", to_status="paid", reason="free:sandbox").reason_label == (
        "免费领取（sandbox）"
    )
    event = OrderEventInline(Order, admin.site)
    assert event.to_display(OrderEvent(to_status="paid")) == "已支付"
    assert str(Order(platform="ios").get_platform_display()) == "iOS 小程序"
    page = operator_client.get("/admin/payments/earning/").content.decode()
    assert "?source=commission" in page and "推广佣金" in page  # the filter offers labels


def test_the_packages_admins_read_chinese_too(operator_client):
    """Token blacklist, web sessions and social accounts: Chinese in the index, headings and titles."""
    with translation.override("zh-hans"):
        for model in VENDOR_LABELS:
            model_admin = admin.site._registry[model]
            for column in model_admin.list_display:
                label = str(label_for_field(column, model, model_admin))
                assert CJK.search(label), f"{model._meta.label} column {column}: {label}"
    index = operator_client.get("/admin/").content.decode()
    for name in ("已签发的登录令牌", "已作废的登录令牌", "网页登录会话"):
        assert name in index, name
    assert "Outstanding Tokens" not in index and "User sessions" not in index
    sessions = operator_client.get("/admin/usersessions/usersession/").content.decode()
    assert "<title>网页登录会话" in sessions


def test_the_packages_change_pages_read_chinese(operator_client):
    """A login token's page (read-only fields) and a social account's form: Chinese field labels."""
    import re

    from allauth.socialaccount.models import SocialAccount
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    from tests.factories import UserFactory

    user = UserFactory()
    RefreshToken.for_user(user)
    token = OutstandingToken.objects.get(user=user)
    account = SocialAccount.objects.create(user=user, provider="weixin", uid="o_admin_labels")
    for url in (
        f"/admin/token_blacklist/outstandingtoken/{token.pk}/change/",
        f"/admin/socialaccount/socialaccount/{account.pk}/change/",
    ):
        page = operator_client.get(url).content.decode()
        labels = [label.strip() for label in re.findall(r"<label[^>]*>([^<]+)</label>", page)]
        assert labels and all(CJK.search(label) for label in labels), (url, labels)


def _notification_kinds_sent() -> set[str]:
    """Every literal `kind=` of a call that also passes a `title=` (the notification senders)."""
    root = Path(__file__).resolve().parents[2]
    kinds = set()
    for package in PROJECT_APPS[1:]:  # all but core
        for path in root.joinpath(package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                keywords = {k.arg: k.value for k in node.keywords}
                kind = keywords.get("kind")
                if "title" in keywords and isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                    kinds.add(kind.value)
    return kinds


def test_every_notification_kind_has_a_name_in_the_admin(operator_client):
    sent = _notification_kinds_sent()
    assert len(sent) > 25  # the walk finds the senders
    with translation.override("zh-hans"):
        labels = notification_kind_labels()
    assert sorted(sent - set(labels)) == []
    assert all(CJK.search(label) for label in labels.values())
    Notification.objects.create(user=UserFactory(), kind="renewal_reminder", title="会员即将到期")
    page = operator_client.get("/admin/members/notification/").content.decode()
    assert "续费提醒" in page and "?kind=renewal_reminder" in page
