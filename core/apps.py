from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        # the app registry is not ready at import time
        from django.contrib import admin

        from core import lockout  # noqa: F401 - connects the failed-login counters
        from core.admin_groups import install

        install(admin.site)
