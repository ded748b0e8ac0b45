"""Checkout → pay → result pages, my orders and self-service refund, as a buyer clicks through them."""

from __future__ import annotations

import pytest
from django.test import Client

from payments.models import Order, Payment
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order

pytestmark = pytest.mark.django_db

DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0"
MOBILE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
WECHAT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0.47"


@pytest.fixture
def browser(buyer) -> Client:
    client = Client(HTTP_USER_AGENT=DESKTOP)
    client.force_login(buyer)
    return client


def test_checkout_shows_price_breakdown_and_channels(browser):
    page = browser.get("/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "B"}).content.decode()

    assert "测试商品 B" in page and "会员折扣" in page
    assert "¥3,600" in page and "-¥360" in page and "¥3,240" in page
    assert 'value="wechat_native"' in page and 'value="sandbox"' in page


def test_checkout_of_unknown_item_says_so(browser):
    response = browser.get("/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "OFF"})

    assert response.status_code == 400
    assert "该商品不存在或暂不可购买" in response.content.decode()


def test_checkout_requires_login():
    response = Client().get("/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "A"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_sandbox_purchase_in_the_browser(browser, test_items):
    response = browser.post(
        "/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "sandbox"}, follow=True
    )
    order = Order.objects.get()
    payment = Payment.objects.get()
    assert response.redirect_chain[-1][0] == f"/payments/sandbox/{payment.out_trade_no}/"
    assert "确认支付" in response.content.decode()

    result = browser.post(f"/payments/sandbox/{payment.out_trade_no}/", follow=True)

    # an item with no page of its own: the order page, told it was just paid
    assert result.redirect_chain[-1][0] == f"/payments/orders/{order.order_no}/?from=pay"
    assert "支付成功" in result.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and test_items.fulfilled == [order.order_no]


def test_desktop_wechat_pay_shows_native_qr_and_result_polls(browser, fake_wechat, test_items):
    browser.post("/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_native"})
    order = Order.objects.get()

    page = browser.get(f"/payments/orders/{order.order_no}/pay/").content.decode()
    assert 'src="data:image/png;base64,' in page
    status = browser.get(f"/payments/orders/{order.order_no}/status/").content.decode()
    assert 'hx-trigger="every 2s"' in status and "待支付" in status
    assert browser.get(f"/payments/orders/{order.order_no}/qr.png")["Content-Type"] == "image/png"

    fake_wechat.pay(Payment.objects.get().out_trade_no)  # the buyer scans and pays
    from django.core.cache import cache

    cache.clear()  # the 5-second query throttle
    status = browser.get(f"/payments/orders/{order.order_no}/status/").content.decode()
    assert "支付成功" in status and "hx-trigger" not in status


def test_mobile_browser_is_redirected_to_h5_url(buyer, fake_wechat):
    client = Client(HTTP_USER_AGENT=MOBILE)
    client.force_login(buyer)
    page = client.get("/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "A"}).content.decode()
    assert 'value="wechat_h5"' in page and 'value="wechat_native"' not in page

    client.post("/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_h5"})
    response = client.get(f"/payments/orders/{Order.objects.get().order_no}/pay/")

    assert response.status_code == 302
    assert (
        response["Location"].startswith("https://wx.tenpay.com/") and "redirect_url=" in response["Location"]
    )


def test_inside_wechat_browser_jsapi_params_are_rendered(buyer, fake_wechat, settings):
    from core.models import WeChatIdentity

    settings.WECHAT_MP_APPID = "wx_test_mp"
    WeChatIdentity.objects.create(user=buyer, kind="mp", appid="wx_test_mp", openid="o_mp_buyer")
    client = Client(HTTP_USER_AGENT=WECHAT)
    client.force_login(buyer)

    client.post("/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_jsapi"})
    page = client.get(f"/payments/orders/{Order.objects.get().order_no}/pay/").content.decode()

    assert "js-wechat-pay" in page and 'data-app-id="wx_test_mp"' in page and "prepay_id=wx" in page
    trx = next(iter(fake_wechat.transactions.values()))
    assert trx["payer"] == {"openid": "o_mp_buyer"} and trx["appid"] == "wx_test_mp"


def test_my_orders_lists_status_with_fixed_queries(browser, buyer, django_assert_max_num_queries):
    for item in ("A", "B", "A"):
        create_paid_order(user=buyer, item_type=TEST_ITEM, item_id=item)

    with django_assert_max_num_queries(8):
        page = browser.get("/payments/orders/").content.decode()

    assert page.count("order-row") == 3 and "已支付" in page


def test_self_service_refund_button(browser, buyer, test_items, django_capture_on_commit_callbacks):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    assert "申请退款" in browser.get(f"/payments/orders/{order.order_no}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        page = browser.post(f"/payments/orders/{order.order_no}/refund/", {"reason": "重复购买"}, follow=True)

    assert "已提交退款申请" in page.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and len(test_items.revoked) == 1
    assert "申请退款" not in browser.get(f"/payments/orders/{order.order_no}/").content.decode()


@pytest.mark.parametrize(
    ("posted_next", "lands_on"),
    [
        ("/payments/orders/", "/payments/orders/"),  # a path on this site: followed
        ("https://evil.example/phish", None),  # another host: never (open redirect)
        ("//evil.example/x", None),
        ("payments:wallet", None),  # a bare word or URL name is not a path
        ("abc", None),
    ],
)
def test_the_refund_form_returns_only_to_a_path_on_this_site(
    browser, buyer, test_items, django_capture_on_commit_callbacks, posted_next, lands_on
):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            f"/payments/orders/{order.order_no}/refund/", {"reason": "x", "next": posted_next}
        )
    assert response.status_code == 302
    assert response["Location"] == (lands_on or f"/payments/orders/{order.order_no}/")


def test_other_users_order_pages_are_404(buyer, other_user):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    client = Client()
    client.force_login(other_user)

    for path in ("", "pay/", "status/", "qr.png"):
        assert client.get(f"/payments/orders/{order.order_no}/{path}").status_code == 404
    assert client.post(f"/payments/orders/{order.order_no}/refund/").status_code == 404
    payment = order.payments.get()
    assert client.get(f"/payments/sandbox/{payment.out_trade_no}/").status_code == 404


def test_sandbox_cashier_is_404_when_sandbox_disabled(browser, buyer, settings):
    from payments.orders.checkout import order_create
    from payments.orders.payment_attempts import payment_start

    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="sandbox")
    payment = payment_start(order=order)
    settings.PAYMENTS_SANDBOX_ENABLED = False

    assert browser.get(f"/payments/sandbox/{payment.out_trade_no}/").status_code == 404
    assert browser.post(f"/payments/sandbox/{payment.out_trade_no}/").status_code == 404


@pytest.mark.parametrize("channel", ["", "alipay", "wechat_h5", "x" * 500])  # H5 is for phones only
def test_checkout_with_a_payment_method_not_offered_says_so_and_creates_nothing(browser, channel):
    response = browser.post(
        "/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "A", "channel": channel}, follow=True
    )
    assert response.status_code == 200
    assert "请选择支付方式" in response.content.decode()
    assert not Order.objects.exists() and not Payment.objects.exists()


def test_checkout_with_an_over_long_item_id_is_unavailable_not_an_error(browser):
    response = browser.post(
        "/payments/checkout/", {"item_type": TEST_ITEM, "item_id": "A" * 500, "channel": "sandbox"}
    )
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_an_over_long_refund_reason_falls_back_to_the_default(
    browser, buyer, test_items, django_capture_on_commit_callbacks
):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(f"/payments/orders/{order.order_no}/refund/", {"reason": "长" * 5_000})
    refund = order.refunds.get()
    assert refund.reason == "用户自助退款"
