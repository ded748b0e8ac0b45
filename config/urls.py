from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.lockout import admin_login_form
from core.views import healthz
from referrals.views import share as referral_share

admin.site.site_header = _("知圈运营后台")
admin.site.site_title = _("知圈")
admin.site.index_title = _("运营")
admin.site.login_form = admin_login_form()  # "too many attempts" once locked (core/lockout.py)

api_v1 = [
    path("", include("members.api_urls")),
    path("", include("payments.api_urls")),
    path("", include("courses.api_urls")),
    path("", include("circles.api_urls")),
    path("", include("referrals.api_urls")),
    path("", include("insights.api_urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's script as a file, so the CSP needs no 'unsafe-inline'.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include(api_v1)),
    path("payments/", include("payments.urls")),
    path("courses/", include("courses.urls")),
    path("circles/", include("circles.urls")),
    path("referrals/", include("referrals.urls")),
    path("ops/", include("insights.urls")),
    path("r/<str:code>/", referral_share, name="referral-share"),  # share links: referrals.views.share
    path("", include("members.urls")),
]
if getattr(settings, "BENCHMARK_ENDPOINTS", False):
    from core.apis import BenchFloorApi

    urlpatterns.insert(0, path("api/v1/_bench/floor/", BenchFloorApi.as_view()))
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
