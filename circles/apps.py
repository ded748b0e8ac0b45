from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CirclesConfig(AppConfig):
    name = "circles"
    verbose_name = _("圈子")

    def ready(self) -> None:
        from circles.items import register_all

        register_all()
