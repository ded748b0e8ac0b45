"""Page URLs of orders: checkout, cashier, result, my orders, WeChat Pay notify.

The sandbox cashier (development only) is routed by payments/sandbox/urls.py.

The notify path is fixed at /payments/wechatpay/notify/ (the default of WECHATPAY_NOTIFY_URL).
"""

from django.urls import path

from payments.orders import views

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.my_orders, name="my_orders"),
    path("orders/<str:order_no>/", views.order_detail, name="order_detail"),
    path("orders/<str:order_no>/pay/", views.order_pay, name="order_pay"),
    path("orders/<str:order_no>/status/", views.order_status, name="order_status"),
    path("orders/<str:order_no>/refund/", views.order_refund, name="order_refund"),
    path("orders/<str:order_no>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<str:order_no>/qr.png", views.order_qr, name="order_qr"),
    path("wechatpay/notify/", views.wechatpay_notify, name="wechatpay_notify"),
]
