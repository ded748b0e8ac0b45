"""The operators' console: permission matrix (dashboard, exports, money actions), fixed query count,
CSV exports (BOM, masked personal data, 100,000 orders streamed), operations reports, setup_roles."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import roles
from insights import services
from insights.models import LinkVisitDay, OperationsReport
from insights.periods import Period
from payments.models import Order, Withdrawal
from referrals.models import ReferralLinkStat
from tests.insights import builders as b
from tests.insights.conftest import client_for

pytestmark = pytest.mark.django_db

DASHBOARD = "/ops/"
TABLE_CSV = "/ops/export/table/revenue_by_item_type.csv"
ORDERS_CSV = "/ops/export/orders.csv"
MEMBERS_CSV = "/ops/export/members.csv"
COMMISSIONS_CSV = "/ops/export/commissions.csv"
WITHDRAWALS_CSV = "/ops/export/withdrawals.csv"
REPORTS = "/ops/reports/"

# who → the pages they may open (everything else: 403; anonymous: redirect to login)
ALLOWED = {
    "superuser": {DASHBOARD, TABLE_CSV, ORDERS_CSV, MEMBERS_CSV, COMMISSIONS_CSV, WITHDRAWALS_CSV, REPORTS},
    "finance": {DASHBOARD, TABLE_CSV, ORDERS_CSV, MEMBERS_CSV, COMMISSIONS_CSV, WITHDRAWALS_CSV, REPORTS},
    "operator": {DASHBOARD, TABLE_CSV, ORDERS_CSV, MEMBERS_CSV, REPORTS},
    "teacher": set(),
    "circle_owner": set(),
    "sales": set(),
    "customer_service": set(),
    "staff_no_role": set(),
    "member": set(),
}
PAGES = [DASHBOARD, TABLE_CSV, ORDERS_CSV, MEMBERS_CSV, COMMISSIONS_CSV, WITHDRAWALS_CSV, REPORTS]


@pytest.mark.parametrize("who", list(ALLOWED))
def test_permission_matrix_for_dashboard_and_exports(staff, who):
    client = client_for(staff[who])
    for page in PAGES:
        response = client.get(page)
        expected = 200 if page in ALLOWED[who] else 403
        assert response.status_code == expected, (who, page, response.status_code)


def test_anonymous_visitors_are_sent_to_log_in(db):
    for page in PAGES:
        response = client_for(None).get(page)
        assert response.status_code == 302 and "/login/" in response["Location"], page


def _paid_order_and_withdrawal():
    buyer = b.user()
    order = b.order(user=buyer, amount_fen=19_900, paid_at=timezone.now(), channel="sandbox")
    withdrawal = Withdrawal.objects.create(user=buyer, amount_fen=1_000, method="bank", out_bill_no="WTEST1")
    return order, withdrawal


# money actions in admin: refund (payments.change_order) and the withdrawal queue (finance group)
MONEY_ALLOWED = {"superuser", "finance"}


@pytest.mark.parametrize("who", list(ALLOWED))
def test_permission_matrix_for_money_actions_in_admin(staff, who):
    order, withdrawal = _paid_order_and_withdrawal()
    client = client_for(staff[who])
    pages = [
        reverse("admin:payments_order_refund", args=[order.pk]),
        reverse("admin:payments_withdrawal_approve", args=[withdrawal.pk]),
        reverse("admin:payments_withdrawal_reject", args=[withdrawal.pk]),
    ]
    for page in pages:
        status = client.get(page).status_code
        if who == "member":
            assert status == 302, page  # not staff: admin sends them to its login
        elif who in MONEY_ALLOWED:
            assert status == 200, (who, page)
        else:
            assert status == 403, (who, page, status)


def test_operator_cannot_refund_or_approve_by_posting(staff):
    order, withdrawal = _paid_order_and_withdrawal()
    client = client_for(staff["operator"])
    response = client.post(reverse("admin:payments_order_refund", args=[order.pk]), {"reason": "试试"})
    assert response.status_code == 403
    changelist = client.get(reverse("admin:payments_order_changelist"))
    assert "refund_full" not in changelist.content.decode()  # the bulk refund is not offered to operators
    response = client.post(
        reverse("admin:payments_order_changelist"), {"action": "refund_full", "_selected_action": [order.pk]}
    )
    assert response.status_code in (200, 302)  # an action they do not have: nothing runs
    response = client.post(reverse("admin:payments_withdrawal_approve", args=[withdrawal.pk]))
    assert response.status_code == 403
    order.refresh_from_db()
    withdrawal.refresh_from_db()
    assert order.refunded_fen == 0 and order.refunds.count() == 0
    assert withdrawal.status == Withdrawal.Status.PENDING_REVIEW and withdrawal.first_approved_by is None


def test_operator_reads_money_records_but_does_not_change_them(staff):
    order, _w = _paid_order_and_withdrawal()
    client = client_for(staff["operator"])
    assert client.get(reverse("admin:payments_order_changelist")).status_code == 200
    operator = staff["operator"]
    assert operator.has_perm("payments.view_order") and not operator.has_perm("payments.change_order")
    assert not operator.has_perm("payments.change_withdrawal")
    assert staff["finance"].has_perm("payments.change_order")
    assert staff["teacher"].has_perm("courses.change_checkin") and not staff["teacher"].has_perm(
        "payments.view_order"
    )
    assert staff["circle_owner"].has_perm("circles.change_post")
    assert staff["sales"].has_perm("members.change_onboarding")
    assert not staff["sales"].has_perm("members.change_membership")


def test_setup_roles_command_is_idempotent_and_resets_role_groups(db):
    call_command("setup_roles", stdout=io.StringIO())
    operator = Group.objects.get(name=roles.OPERATOR)
    count = operator.permissions.count()
    operator.permissions.add(*Group.objects.get(name=roles.FINANCE).permissions.all())
    call_command("setup_roles", stdout=io.StringIO())
    assert operator.permissions.count() == count
    assert set(Group.objects.filter(name__in=roles.ALL_ROLES).values_list("name", flat=True)) == set(
        roles.ALL_ROLES
    )


# ---- the dashboard page ------------------------------------------------------------------------------------


def test_dashboard_query_count_does_not_grow_with_data(staff, settings):
    settings.INSIGHTS_COHORT_CACHE_SECONDS = 0  # count the cold path on both requests
    client = client_for(staff["operator"])
    b.dashboard_activity(2)
    client.get("/brand.css")  # the site-wide brand is cached once, not per dashboard request
    with CaptureQueriesContext(connection) as small:
        assert client.get(DASHBOARD).status_code == 200
    small_count = len(small.captured_queries)
    b.dashboard_activity(25, start=100)
    with CaptureQueriesContext(connection) as large:
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert len(large.captured_queries) == small_count
    # The 增长活动 section reads each kind of promotion with five grouped statements (the list and
    # four figures): 4 kinds, 20 of these.
    assert 20 <= small_count <= 80


def test_cohort_tables_are_cached_between_requests(staff):
    b.dashboard_activity(2)
    client = client_for(staff["operator"])
    with CaptureQueriesContext(connection) as cold:
        client.get(DASHBOARD)
    cold_count = len(cold.captured_queries)
    with CaptureQueriesContext(connection) as warm:
        response = client.get(DASHBOARD)
    assert 0 < len(warm.captured_queries) < cold_count
    assert "累计数据每 10 分钟更新一次" in response.content.decode()


def test_dashboard_shows_every_section_with_charts_tables_and_definitions(staff):
    b.dashboard_activity(3)
    response = client_for(staff["operator"]).get(DASHBOARD + "?range=30d")
    html = response.content.decode()
    for text in [
        "GMV",
        "付费率",
        "复购率",
        "会员续费率",
        "退群率",
        "完课率",
        "打卡率",
        "点评中位时长",
        "推广收入占比",
        "佣金冻结中",
    ]:
        assert text in html, text
    for key in [
        "revenue_over_time",
        "funnel_by_channel",
        "circle_churn",
        "checkin_by_day",
        "top_promoters",
        "cohort_by_channel",
    ]:
        assert f'id="t-{key}"' in html, key
        assert f'<script id="chart-{key}" type="application/json">' in html, key
    assert "<script>" not in html  # CSP: no inline script, chart data travels in json_script
    assert "/static/vendor/chartjs/chart.umd.js" in html and "/static/js/insights.js" in html
    assert "定义" in html
    # The table under the revenue chart carries the same number as the KPI card.
    assert html.count("¥597") >= 2


def test_bad_period_falls_back_to_the_last_30_days_with_a_message(staff):
    response = client_for(staff["operator"]).get(DASHBOARD + "?start=2025-13-01&end=x")
    assert response.status_code == 200
    assert "日期格式应为 YYYY-MM-DD" in response.content.decode()
    response = client_for(staff["operator"]).get(DASHBOARD + "?start=2025-03-10&end=2025-03-01")
    assert "开始日期不能晚于结束日期" in response.content.decode()


@pytest.mark.parametrize(
    "query", ["?end=0001-01-01", "?start=0001-01-01&end=0001-01-05", "?start=1999-12-31"]
)
def test_a_date_from_before_2000_is_refused_not_a_server_error(staff, query):
    """Year-1 dates overflowed the previous period's arithmetic (a 500); they are typos and refused."""
    client = client_for(staff["finance"])
    response = client.get(DASHBOARD + query)
    assert response.status_code == 200
    assert "日期不能早于 2000-01-01" in response.content.decode()
    response = client.get(ORDERS_CSV + query)
    assert response.status_code == 400 and "日期不能早于 2000-01-01" in response.content.decode()
    assert client.get(DASHBOARD + "?start=2000-01-01&end=2000-01-31").status_code == 200


def test_an_export_with_a_bad_period_is_refused_not_replaced_by_the_last_30_days(staff):
    """A hand-edited export link with a broken date gets a 400 saying why, never a file of other days."""
    client = client_for(staff["finance"])
    urls = [
        "/ops/export/orders.csv",
        "/ops/export/members.csv",
        "/ops/export/commissions.csv",
        "/ops/export/withdrawals.csv",
        "/ops/export/table/revenue_by_item_type.csv",
    ]
    for url in urls:
        for query, message in [
            ("?start=2025-13-01&end=2025-12-31", "日期格式应为 YYYY-MM-DD"),
            ("?start=2025-03-10&end=2025-03-01", "开始日期不能晚于结束日期"),
            ("?range=12y", "未知的时间范围"),
        ]:
            response = client.get(url + query)
            assert response.status_code == 400, (url, query)
            assert response["Content-Type"] == "text/plain; charset=utf-8"
            assert message in response.content.decode(), (url, query)
        assert client.get(url + "?start=2025-03-01&end=2025-03-10").status_code == 200, url
    # The whole member list takes no period, so it cannot be refused for one.
    assert client.get("/ops/export/members.csv?all=1&start=bad").status_code == 200


# ---- CSV exports ---------------------------------------------------------------------------------------


def _read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_every_dashboard_table_exports_as_csv_with_a_bom(staff):
    from insights.selectors import TABLE_SECTIONS

    b.dashboard_activity(2)
    client = client_for(staff["finance"])
    for key in TABLE_SECTIONS:
        response = client.get(f"/ops/export/table/{key}.csv?range=30d")
        assert response.status_code == 200, key
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = _read_csv(response)
        assert rows[0], key
    assert client.get("/ops/export/table/nope.csv").status_code == 404
    rows = _read_csv(client.get("/ops/export/table/revenue_by_item_type.csv?range=30d"))
    assert rows[0][:3] == ["名称", "订单数", "GMV（元）"]
    assert rows[1][:3] == ["会员", "2", "398.00"]


def test_members_export_masks_phone_numbers(staff):
    member = b.user(nickname="张三")
    member.set_phone("13812345678")
    member.save()
    rows = _read_csv(client_for(staff["operator"]).get(MEMBERS_CSV + "?all=1"))
    line = next(r for r in rows if "张三" in r)
    assert "138****5678" in line and "13812345678" not in ",".join(line)


def test_withdrawals_export_masks_payee_names(staff):
    Withdrawal.objects.create(
        user=b.user(), amount_fen=12_345, method="bank", out_bill_no="WX1", real_name="王小明"
    )
    rows = _read_csv(client_for(staff["finance"]).get(WITHDRAWALS_CSV))
    assert rows[1][4] == "123.45"
    assert "王小明" not in ",".join(rows[1])


def _resident_kib(field: str) -> int:
    """A line of /proc/self/status in KiB: VmRSS (resident now) or VmHWM (the peak since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


@pytest.mark.postgres
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's peak-RSS reset")
def test_export_of_100000_orders_streams_without_loading_them_all(staff):
    user = b.user()
    now = timezone.now()
    template = Order.objects.create(
        order_no="BULK0000000000",
        user=user,
        item_type="course",
        item_id="1",
        title="批量订单",
        list_price_fen=19_900,
        amount_fen=19_900,
        status="paid",
        channel="wechat_miniprogram",
        paid_at=now,
        expires_at=now,
    )
    # 99,999 copies of that row in one statement (building 100,000 model instances took 16 s; this ~1 s).
    columns = [f.column for f in Order._meta.concrete_fields if not f.primary_key]
    copied = ", ".join(
        "'BULK' || lpad(g::text, 10, '0')" if column == "order_no" else connection.ops.quote_name(column)
        for column in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Order._meta.db_table} ({', '.join(map(connection.ops.quote_name, columns))}) "
            f"SELECT {copied} FROM {Order._meta.db_table}, generate_series(1, 99999) AS g WHERE id = %s",
            [template.pk],
        )
    client = client_for(staff["operator"])
    response = client.get(ORDERS_CSV + "?range=7d")
    assert response.status_code == 200
    assert response.streaming  # a StreamingHttpResponse: nothing rendered yet
    # Peak resident memory while every row is read, from Linux's own counter (tracemalloc made the
    # read 6x slower): writing 5 to clear_refs resets VmHWM to what is resident now.
    Path("/proc/self/clear_refs").write_text("5")
    before_kib = _resident_kib("VmRSS")
    lines = 0
    first = None
    for chunk in response.streaming_content:
        if first is None:
            first = chunk
        lines += chunk.count(b"\n")
    grown_kib = _resident_kib("VmHWM") - before_kib
    assert first.startswith("\ufeff".encode())
    assert lines == 100_001
    # 100,000 orders held at once take a few hundred MB of model instances; streaming holds one chunk.
    assert grown_kib < 40 * 1024, f"peak grew {grown_kib} KiB while streaming"


def test_orders_export_reads_rows_with_a_chunked_iterator(monkeypatch, staff):
    from django.db.models.query import QuerySet

    seen = {}
    real = QuerySet.iterator

    def spy(self, chunk_size=None):
        seen["chunk_size"] = chunk_size
        return real(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    b.order(user=b.user(), amount_fen=100, paid_at=timezone.now())
    rows = _read_csv(client_for(staff["operator"]).get(ORDERS_CSV))
    assert seen["chunk_size"] == 2000 and len(rows) == 2


# ---- operations reports ------------------------------------------------------------------------------


def test_daily_report_is_stored_and_emailed_once(staff, settings):
    settings.OPERATIONS_REPORT_RECIPIENTS = ["ops@example.com"]
    yesterday = timezone.localdate() - timedelta(days=1)
    b.order(user=b.user(), amount_fen=36_000, paid_at=b.days_ago(1))
    from insights import tasks

    first = tasks.daily_report.delay().get()
    again = tasks.daily_report.delay().get()
    assert first == again
    report = OperationsReport.objects.get()
    assert (report.kind, report.period_start, report.period_end) == ("daily", yesterday, yesterday)
    headline = {k["key"]: k for k in report.headline}
    assert headline["gmv"]["value"] == 36_000 and headline["gmv"]["value_text"] == "¥360"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com"] and "日报" in message.subject
    assert message.from_email == "知圈 <noreply@zhiquan.local>"  # the brand's name before a bare address
    assert "GMV：¥360" in message.body
    page = client_for(staff["operator"]).get(f"/ops/reports/{report.pk}/")
    assert page.status_code == 200 and "¥360" in page.content.decode()
    assert client_for(staff["teacher"]).get(f"/ops/reports/{report.pk}/").status_code == 403


class _MailServerDownThenUp:
    """An e-mail backend whose first `failures` sends fail as a refused SMTP connection would."""

    failures = 0

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self._locmem = EmailBackend(*args, **kwargs)

    def send_messages(self, messages):
        if _MailServerDownThenUp.failures:
            _MailServerDownThenUp.failures -= 1
            raise ConnectionRefusedError("mail server down")
        return self._locmem.send_messages(messages)


def test_a_report_whose_email_fails_is_retried_and_sent_once(settings):
    """The mail server is down at 08:00: the e-mail task is retried and sends once the server is back.

    Celery runs an eager task's retry at once (a worker waits for the back-off first).
    """
    settings.OPERATIONS_REPORT_RECIPIENTS = ["ops@example.com"]
    settings.EMAIL_BACKEND = f"{__name__}._MailServerDownThenUp"
    _MailServerDownThenUp.failures = 1
    from insights import tasks

    report = services.report_build(kind="daily")
    result = tasks.report_email.apply(args=[report.pk], throw=False)
    assert _MailServerDownThenUp.failures == 0  # the failed attempt happened and was retried past
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@example.com"], result.state
    report.refresh_from_db()
    assert report.emailed_at is not None and report.recipients == ["ops@example.com"]
    # Delivered: a redelivered task sends nothing more.
    assert tasks.report_email.apply(args=[report.pk]).get() is False
    assert len(mail.outbox) == 1


def test_a_report_email_that_keeps_failing_stops_after_its_retries_and_stays_unsent(settings):
    settings.OPERATIONS_REPORT_RECIPIENTS = ["ops@example.com"]
    settings.EMAIL_BACKEND = f"{__name__}._MailServerDownThenUp"
    _MailServerDownThenUp.failures = 1
    from insights import tasks

    report = services.report_build(kind="daily")
    last = tasks.report_email.apply(args=[report.pk], retries=tasks.report_email.max_retries, throw=False)
    assert last.state == "FAILURE" and isinstance(last.result, ConnectionRefusedError)
    report.refresh_from_db()
    assert report.emailed_at is None and mail.outbox == []  # never marked as sent while it was not


def test_weekly_report_covers_the_last_full_week():
    period = services.report_period("weekly", today=date(2026, 11, 25))  # a Wednesday
    assert period == Period(date(2026, 11, 16), date(2026, 11, 22))
    report = services.report_build(kind="weekly", today=date(2026, 11, 25))
    assert report.period_start == date(2026, 11, 16)
    assert services.report_send(report=report) is False  # no recipients configured: nothing sent


def test_link_visit_snapshot_records_daily_increments_once(db):
    promoter = b.user()
    stat = ReferralLinkStat.objects.create(user=promoter, channel="poster", visits=10, signups=2)
    day1 = date(2026, 11, 20)
    assert services.link_visits_snapshot(day=day1) == 1
    assert services.link_visits_snapshot(day=day1) == 0
    ReferralLinkStat.objects.filter(pk=stat.pk).update(visits=15, signups=3)
    assert services.link_visits_snapshot(day=day1 + timedelta(days=1)) == 1
    rows = list(LinkVisitDay.objects.order_by("day").values_list("day", "visits", "signups"))
    assert rows == [(day1, 10, 2), (day1 + timedelta(days=1), 5, 1)]


def test_finance_refunds_an_order_and_approves_a_withdrawal_in_admin_and_both_are_audited(staff):
    from core.models import AuditLog
    from payments.wallet import earnings, settlement, withdrawals

    finance = staff["finance"]
    order = b.order(user=b.user(), amount_fen=19_900, paid_at=timezone.now(), channel="sandbox")
    promoter = b.user()
    earnings.earning_accrue(
        user=promoter, amount_fen=5_000, source="commission", idempotency_key="k1", hold_until=timezone.now()
    )
    settlement.settle_due(now=timezone.now() + timedelta(seconds=1))
    withdrawal = withdrawals.withdrawal_request(
        user=promoter,
        amount_fen=3_000,
        method="bank",
        real_name="李四",
        bank_name="招商银行",
        bank_account="6225880000001234",
    )
    client = client_for(finance)

    response = client.post(reverse("admin:payments_order_refund", args=[order.pk]), {"reason": "客户申请"})
    assert response.status_code == 302
    response = client.post(reverse("admin:payments_withdrawal_approve", args=[withdrawal.pk]))
    assert response.status_code == 302

    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.APPROVED and withdrawal.first_approved_by == finance
    assert order.refunds.get().amount_fen == 19_900
    actions = set(AuditLog.objects.filter(actor=finance).values_list("action", flat=True))
    assert {"order_refund", "withdrawal_approve"} <= actions


def test_cohorts_refresh_task_fills_the_cache_the_dashboard_reads(staff):
    from django.core.cache import cache

    from insights import tasks
    from insights.selectors import COHORT_CACHE_KEY

    b.dashboard_activity(2)
    assert tasks.cohorts_refresh.delay().get() == 2
    assert cache.get(COHORT_CACHE_KEY.format(language="zh-hans")) is not None
    with CaptureQueriesContext(connection) as captured:
        client_for(staff["operator"]).get(DASHBOARD)
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "cp.started" not in sql  # the cohort statement did not run: the page used the cache


def test_commissions_export_lists_each_commission_with_net_amount(staff):
    from referrals.models import Commission

    promoter, buyer = b.user(nickname="推广王"), b.user()
    order = b.order(
        user=buyer, amount_fen=360_000, paid_at=timezone.now(), referrer=promoter, item_type="membership"
    )
    Commission.objects.create(
        order=order,
        level=1,
        beneficiary=promoter,
        buyer=buyer,
        item_type="membership",
        base_fen=360_000,
        rate_bp=1000,
        amount_fen=36_000,
        reversed_fen=6_000,
        reward_kind="cash",
        status="partially_reversed",
        hold_until=timezone.now(),
        idempotency_key="export-1",
    )
    rows = _read_csv(client_for(staff["finance"]).get(COMMISSIONS_CSV))
    assert rows[0][:4] == ["计提时间", "订单号", "层级", "推广员ID"]
    (line,) = rows[1:]
    assert line[1] == order.order_no and line[4] == "推广王"
    assert line[7:12] == ["3600.00", "10.00%", "360.00", "60.00", "300.00"]
    assert line[6] == "会员" and line[12] == "现金佣金"  # codes as words
    assert line[13] == "部分冲回"


def test_exports_neutralise_spreadsheet_formulas_but_keep_negative_numbers():
    from insights.exports import safe_cell

    assert safe_cell('=HYPERLINK("http://x","点我")') == '\'=HYPERLINK("http://x","点我")'
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-12.50") == "-12.50"
    assert safe_cell("王小明") == "王小明" and safe_cell(3) == 3
