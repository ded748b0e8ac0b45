"""Operators: the admin index is grouped by job with Chinese labels, every model still reachable;
item types show as words; admin and /ops/ link to each other."""

import re

import pytest
from django.contrib import admin

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

JOBS = ["销售与订单", "会员", "内容", "社群", "推广与分佣", "财务", "系统"]


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
    from tests.courses.factories import make_course
    from tests.payments.helpers import create_paid_order

    course = make_course()
    create_paid_order(user=UserFactory(), item_type="course", item_id=str(course.pk))
    page = operator_client.get("/admin/payments/order/").content.decode()
    assert '<td class="field-item_type_column">课程</td>' in page
    assert "?item_type=course" in page  # the filter lists codes by their labels
