from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import brand
from core.apis import BrandApi
from core.lockout import admin_login_form
from core.views import brand_css, favicon, healthz
from referrals.views import share as referral_share

# The admin's titles follow the creator's brand (evaluated per page, so a rename shows at once).
admin.site.site_header = lazy(lambda: _("%(name)s运营后台") % {"name": brand.current().site_name}, str)()
admin.site.site_title = lazy(lambda: brand.current().site_name, str)()
admin.site.index_title = gettext_lazy("运营")
admin.site.login_form = admin_login_form()  # "too many attempts" once locked (core/lockout.py)

api_v1: list[URLPattern | URLResolver] = [
    path("brand/", BrandApi.as_view(), name="brand-api"),
    path("", include("members.api_urls")),
    path("", include("payments.api_urls")),
    path("", include("courses.api_urls")),
    path("", include("circles.api_urls")),
    path("", include("referrals.api_urls")),
    path("", include("growth.api_urls")),
    path("", include("insights.api_urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("brand.css", brand_css, name="brand-css"),
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
    path("growth/", include("growth.urls")),
    path("ops/", include("insights.urls")),
    path("r/<str:code>/", referral_share, name="referral-share"),  # share links: referrals.views.share
    path("", include("members.urls")),
]
if getattr(settings, "BENCHMARK_ENDPOINTS", False):
    from core.apis import BenchFloorApi

    urlpatterns.insert(0, path("api/v1/_bench/floor/", BenchFloorApi.as_view()))
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
elif getattr(settings, "SERVE_MEDIA_FROM_DJANGO", False):
    # `make demo` and `make lighthouse` (config/settings/demo.py): uploads as a front server or CDN
    # would serve them, with DEBUG off so visitors meet the branded error pages.
    from django.urls import re_path
    from django.views.static import serve

    urlpatterns.append(re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}))

handler400 = "core.views.bad_request"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
