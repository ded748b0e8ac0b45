"""Flash sales as members and operators see them: the API list, the box with its countdown on every
item page and at checkout (zh-hans and English), and the admin that sets a sale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from core.models import AuditLog
from growth.models import FlashSale
from tests.circles.factories import make_circle
from tests.courses.factories import make_camp, make_course, make_event, vip_tier
from tests.factories import UserFactory
from tests.growth.flash_helpers import buy, make_sale, open_order

pytestmark = pytest.mark.django_db


# ---- API --------------------------------------------------------------------------------------------------


def test_the_api_lists_running_and_upcoming_sales_with_units_left_and_the_server_time():
    running_course = make_course(price_fen=19_900, title="私域增长实战")
    running = make_sale(item_id=running_course.pk, stock=3)
    open_order(user=UserFactory(), item_id=running_course.pk)
    upcoming = make_sale(
        item_id=make_course(title="下周").pk, starts_in=timedelta(days=2), lasts=timedelta(days=1)
    )
    make_sale(item_id=make_course(title="已结束").pk, starts_in=timedelta(hours=-5), lasts=timedelta(hours=1))
    stopped = make_sale(item_id=make_course(title="停用").pk)
    FlashSale.objects.filter(pk=stopped.pk).update(is_active=False)

    response = APIClient().get("/api/v1/flash-sales/")  # public: no sign-in
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"} and body["count"] == 2
    first, second = body["results"]
    assert [first["id"], second["id"]] == [running.pk, upcoming.pk]  # ending soonest first
    assert set(first) == {
        "id", "name", "item_type", "item_id", "item_title", "list_price_fen", "sale_price_fen",
        "starts_at", "ends_at", "running", "stock", "left", "per_member_limit", "server_time",
    }  # fmt: skip
    assert first["item_type"] == "course" and first["item_id"] == str(running_course.pk)
    assert first["item_title"] == "课程「私域增长实战」"
    assert (first["list_price_fen"], first["sale_price_fen"]) == (19_900, 9_900)
    assert (first["stock"], first["left"], first["running"]) == (3, 2, True)
    assert second["running"] is False and second["left"] == second["stock"] == 10
    assert first["ends_at"].endswith("+08:00")
    assert abs(parse_datetime(first["server_time"]) - timezone.now()) < timedelta(minutes=1)


def test_the_api_list_is_in_the_schema():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/flash-sales/"]["get"]
    assert operation["operationId"] == "flash_sales_list"
    assert "FlashSale" in schema["components"]["schemas"]


# ---- pages ------------------------------------------------------------------------------------------------


def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def test_the_course_page_shows_the_sale_with_its_countdown_in_chinese_and_english(client):
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=5)
    client.force_login(UserFactory())
    page = client.get(f"/courses/{course.pk}/").content.decode()
    ends = timezone.localtime(sale.ends_at)
    assert "限时特价" in page and "¥99" in page and "剩余 5 件" in page and "每人限购 1 件" in page
    assert f'datetime="{ends.isoformat()}"' in page and "js/countdown.js" in page
    assert f"{ends:%Y-%m-%d %H:%M} 结束" in page  # said without JavaScript
    page_en = english(client).get(f"/courses/{course.pk}/").content.decode()
    assert "Flash sale" in page_en and "5 left" in page_en and "Ends" in page_en
    assert "限时特价" not in page_en and "剩余" not in page_en


def test_every_item_page_shows_its_sale(client):
    vip_tier()
    circle = make_circle(price_fen=19_900)
    event = make_event(price_fen=29_900)
    _camp, term = make_camp(price_fen=9_900, started_days_ago=-3)
    sales = {
        "/membership/VIP/": make_sale(item_type="membership", item_id="VIP", sale_price_fen=200_000),
        f"/circles/{circle.pk}/": make_sale(item_type="circle", item_id=circle.pk, sale_price_fen=9_900),
        f"/courses/events/{event.pk}/": make_sale(item_type="event", item_id=event.pk, sale_price_fen=19_900),
        f"/courses/camps/terms/{term.pk}/": make_sale(
            item_type="camp", item_id=term.pk, sale_price_fen=4_900
        ),
    }
    client.force_login(UserFactory())
    for path, sale in sales.items():
        page = client.get(path).content.decode()
        assert "flash-sale" in page and sale.name in page, path
        assert timezone.localtime(sale.ends_at).isoformat() in page, path


def test_an_upcoming_sale_counts_down_to_its_start_and_a_used_limit_is_said(client):
    course = make_course(price_fen=19_900)
    later = make_sale(item_id=course.pk, starts_in=timedelta(days=1))
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert "距开始" in page and timezone.localtime(later.starts_at).isoformat() in page
    other = make_course(price_fen=19_900, title="另一门")
    make_sale(item_id=other.pk)
    member = UserFactory()
    open_order(user=member, item_id=other.pk)
    client.force_login(member)
    assert "你已享受本次特价" in client.get(f"/courses/{other.pk}/").content.decode()


def test_the_checkout_shows_the_sale_line_and_countdown(client):
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk)
    client.force_login(UserFactory())
    page = client.get("/payments/checkout/", {"item_type": "course", "item_id": course.pk}).content.decode()
    assert "<dt>限时特价</dt><dd>-¥100</dd>" in page
    assert timezone.localtime(sale.ends_at).isoformat() in page
    assert "确认支付 ¥99" in page


def test_the_sale_box_costs_a_visitor_one_statement_with_or_without_a_sale(client):
    """Counted on growth's tables only: the rest of the page (its caches) is the course page's business."""
    course = make_course(price_fen=19_900)

    def growth_statements() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(f"/courses/{course.pk}/").content.decode()
        return sum('"growth_' in query["sql"] for query in captured.captured_queries), page

    without, page = growth_statements()
    assert without == 1 and "flash-sale" not in page
    make_sale(item_id=course.pk)
    with_sale, page = growth_statements()
    assert with_sale == 1 and "flash-sale" in page  # a visitor: the sale's row, no per-member count


# ---- admin ------------------------------------------------------------------------------------------------


@pytest.fixture
def operator():
    return UserFactory(is_staff=True, is_superuser=True)


def admin_form(**fields):
    starts = timezone.localtime() - timedelta(minutes=5)
    ends = starts + timedelta(days=1)
    return {
        "name": "双十一",
        "item_type": "course",
        "item_id": "",
        "sale_price_fen": "9900",
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d"),
        "ends_at_1": ends.strftime("%H:%M:%S"),
        "stock": "20",
        "per_member_limit": "1",
        "is_active": "on",
        **fields,
    }


def test_an_operator_sets_a_sale_in_admin_and_sees_its_figures(client, operator):
    course = make_course(price_fen=19_900, title="私域增长实战")
    client.force_login(operator)
    assert client.get("/admin/growth/flashsale/add/").status_code == 200
    response = client.post("/admin/growth/flashsale/add/", admin_form(item_id=str(course.pk)))
    assert response.status_code == 302, response.content.decode()[:3000]
    sale = FlashSale.objects.get()
    assert (sale.item_title, sale.list_price_fen, sale.created_by) == (
        "课程「私域增长实战」",
        19_900,
        operator,
    )
    assert AuditLog.objects.filter(action="growth.flash_sale_create", actor=operator).exists()
    # the admin's own log names the sale (its message said 成功添加了 限时特价“” before)
    assert LogEntry.objects.get(object_id=str(sale.pk)).object_repr == sale.name
    buy(user=UserFactory(), item_id=course.pk)
    open_order(user=UserFactory(), item_id=course.pk)
    listing = client.get("/admin/growth/flashsale/").content.decode()
    assert "私域增长实战" in listing
    detail = client.get(f"/admin/growth/flashsale/{sale.pk}/change/").content.decode()
    assert "待支付占用 1" in detail and "已售 1" in detail and "剩余 18" in detail


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"item_id": "999999"}, "该商品不存在或暂不可购买"),
        ({"item_type": "tip", "item_id": "1"}, "选择一个有效的选项"),
        ({"sale_price_fen": "19900"}, "特价须低于原价"),
        ({"sale_price_fen": "0"}, "特价至少 1 分"),
        ({"stock": "0"}, "库存至少为 1"),
        ({"ends_at_0": "2000-01-01"}, "结束时间须晚于开始时间"),
    ],
)
def test_the_admin_refuses_a_sale_that_cannot_be_and_makes_nothing(client, operator, fields, message):
    course = make_course(price_fen=19_900)
    client.force_login(operator)
    response = client.post(
        "/admin/growth/flashsale/add/", admin_form(**{"item_id": str(course.pk), **fields})
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not FlashSale.objects.exists()


def test_the_admin_refuses_a_second_sale_over_the_same_window_and_a_stock_below_what_is_taken(
    client, operator
):
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=3)
    open_order(user=UserFactory(), item_id=course.pk)
    buy(user=UserFactory(), item_id=course.pk)
    client.force_login(operator)
    overlapping = client.post("/admin/growth/flashsale/add/", admin_form(item_id=str(course.pk)))
    assert overlapping.status_code == 200 and "已有限时特价" in overlapping.content.decode()
    change = admin_form(stock="1")
    del change["item_type"], change["item_id"]
    shrunk = client.post(f"/admin/growth/flashsale/{sale.pk}/change/", change)
    assert shrunk.status_code == 200 and "库存至少为 2" in shrunk.content.decode()
    sale.refresh_from_db()
    assert sale.stock == 3
    change["stock"] = "2"
    change.pop("is_active")  # stopping the sale
    assert client.post(f"/admin/growth/flashsale/{sale.pk}/change/", change).status_code == 302
    sale.refresh_from_db()
    assert (sale.stock, sale.is_active) == (2, False)


def test_staff_who_may_only_view_sales_cannot_set_one(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_flashsale", "view_flashsalehold"])
    )
    client.force_login(viewer)
    assert client.get("/admin/growth/flashsale/").status_code == 200
    assert client.get("/admin/growth/flashsale/add/").status_code == 403
