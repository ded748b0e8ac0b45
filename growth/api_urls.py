"""/api/v1 URLs of the growth app."""

from django.urls import path

from growth.campaigns import apis as campaign_apis
from growth.coupons import apis as coupon_apis
from growth.flash_sales import apis as flash_apis
from growth.redeem_codes import apis as redeem_apis

urlpatterns = [
    path("redeem-codes/redeem/", redeem_apis.RedeemCodeRedeemApi.as_view(), name="redeem-codes-api-redeem"),
    path(
        "marketing-preferences/",
        campaign_apis.MarketingPreferenceApi.as_view(),
        name="marketing-preferences-api",
    ),
    path("flash-sales/", flash_apis.FlashSaleListApi.as_view(), name="flash-sales-api-list"),
    path("coupons/mine/", coupon_apis.CouponsMineApi.as_view(), name="coupons-api-mine"),
    path("coupons/claim/", coupon_apis.CouponClaimApi.as_view(), name="coupons-api-claim"),
    path("coupons/usable/", coupon_apis.CouponsUsableApi.as_view(), name="coupons-api-usable"),
]
