"""Pages of the growth app."""

from django.urls import path

from growth.campaigns import views as campaign_views
from growth.coupons import views as coupon_views
from growth.redeem_codes import views as redeem_views

app_name = "growth"
urlpatterns = [
    path("redeem/", redeem_views.redeem, name="redeem"),
    path("messages/", campaign_views.marketing_settings, name="marketing_settings"),
    path("coupons/", coupon_views.my_coupons, name="my_coupons"),
    path("coupons/claim/<str:token>/", coupon_views.claim, name="coupon_claim"),
]
