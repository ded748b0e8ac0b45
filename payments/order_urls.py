"""Page URLs of orders: checkout, cashier, result, my orders, sandbox cashier, WeChat Pay notify.

The notify path is fixed at /payments/wechatpay/notify/ (the default of WECHATPAY_NOTIFY_URL).
"""

from django.urls import path

from payments import order_views

urlpatterns = [
    path("checkout/", order_views.checkout, name="checkout"),
    path("orders/", order_views.my_orders, name="my_orders"),
    path("orders/<str:order_no>/", order_views.order_detail, name="order_detail"),
    path("orders/<str:order_no>/pay/", order_views.order_pay, name="order_pay"),
    path("orders/<str:order_no>/status/", order_views.order_status, name="order_status"),
    path("orders/<str:order_no>/refund/", order_views.order_refund, name="order_refund"),
    path("orders/<str:order_no>/qr.png", order_views.order_qr, name="order_qr"),
    path("sandbox/<str:out_trade_no>/", order_views.sandbox_cashier, name="sandbox_cashier"),
    path("wechatpay/notify/", order_views.wechatpay_notify, name="wechatpay_notify"),
]
