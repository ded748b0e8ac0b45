"""/api/v1 URLs of the referrals app."""

from django.urls import path

from referrals import apis

urlpatterns = [
    path("referrals/me/", apis.ReferralMeApi.as_view(), name="referrals-api-me"),
    path("referrals/links/", apis.ReferralLinksApi.as_view(), name="referrals-api-links"),
    path("referrals/invited/", apis.ReferralInvitedApi.as_view(), name="referrals-api-invited"),
    path("referrals/commissions/", apis.ReferralCommissionsApi.as_view(), name="referrals-api-commissions"),
    path("referrals/earnings/", apis.ReferralEarningsApi.as_view(), name="referrals-api-earnings"),
    path("referrals/leaderboard/", apis.ReferralLeaderboardApi.as_view(), name="referrals-api-leaderboard"),
    path("referrals/agreement/", apis.ReferralAgreementApi.as_view(), name="referrals-api-agreement"),
    path(
        "referrals/agreement/accept/",
        apis.ReferralAgreementAcceptApi.as_view(),
        name="referrals-api-agreement-accept",
    ),
    path("referrals/poster/", apis.ReferralPosterApi.as_view(), name="referrals-api-poster"),
    path("referrals/group-buys/offers/", apis.GroupBuyOffersApi.as_view(), name="group-buys-api-offers"),
    path(
        "referrals/group-buys/offers/<int:offer_id>/",
        apis.GroupBuyOfferDetailApi.as_view(),
        name="group-buys-api-offer",
    ),
    path(
        "referrals/group-buys/offers/<int:offer_id>/open/",
        apis.GroupBuyOpenApi.as_view(),
        name="group-buys-api-open",
    ),
    path("referrals/group-buys/mine/", apis.MyGroupBuysApi.as_view(), name="group-buys-api-mine"),
    path(
        "referrals/group-buys/<int:group_id>/", apis.GroupBuyDetailApi.as_view(), name="group-buys-api-detail"
    ),
    path(
        "referrals/group-buys/<int:group_id>/join/",
        apis.GroupBuyJoinApi.as_view(),
        name="group-buys-api-join",
    ),
]
