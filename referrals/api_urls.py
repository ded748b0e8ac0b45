"""/api/v1 URLs of the referrals app."""

from django.urls import path

from referrals.apis import group_buys, referral_center

urlpatterns = [
    path("referrals/me/", referral_center.ReferralMeApi.as_view(), name="referrals-api-me"),
    path("referrals/links/", referral_center.ReferralLinksApi.as_view(), name="referrals-api-links"),
    path("referrals/invited/", referral_center.ReferralInvitedApi.as_view(), name="referrals-api-invited"),
    path(
        "referrals/commissions/",
        referral_center.ReferralCommissionsApi.as_view(),
        name="referrals-api-commissions",
    ),
    path("referrals/earnings/", referral_center.ReferralEarningsApi.as_view(), name="referrals-api-earnings"),
    path(
        "referrals/leaderboard/",
        referral_center.ReferralLeaderboardApi.as_view(),
        name="referrals-api-leaderboard",
    ),
    path(
        "referrals/agreement/", referral_center.ReferralAgreementApi.as_view(), name="referrals-api-agreement"
    ),
    path(
        "referrals/agreement/accept/",
        referral_center.ReferralAgreementAcceptApi.as_view(),
        name="referrals-api-agreement-accept",
    ),
    path("referrals/poster/", referral_center.ReferralPosterApi.as_view(), name="referrals-api-poster"),
    path(
        "referrals/group-buys/offers/", group_buys.GroupBuyOffersApi.as_view(), name="group-buys-api-offers"
    ),
    path(
        "referrals/group-buys/offers/<int:offer_id>/",
        group_buys.GroupBuyOfferDetailApi.as_view(),
        name="group-buys-api-offer",
    ),
    path(
        "referrals/group-buys/offers/<int:offer_id>/open/",
        group_buys.GroupBuyOpenApi.as_view(),
        name="group-buys-api-open",
    ),
    path("referrals/group-buys/mine/", group_buys.MyGroupBuysApi.as_view(), name="group-buys-api-mine"),
    path(
        "referrals/group-buys/<int:group_id>/",
        group_buys.GroupBuyDetailApi.as_view(),
        name="group-buys-api-detail",
    ),
    path(
        "referrals/group-buys/<int:group_id>/join/",
        group_buys.GroupBuyJoinApi.as_view(),
        name="group-buys-api-join",
    ),
]
