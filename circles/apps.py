from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CirclesConfig(AppConfig):
    name = "circles"
    verbose_name = _("圈子")

    def ready(self) -> None:
        # app loading, not style: circles.items imports circles.models, which Django can import only
        # once every app is registered, i.e. here in ready(), never at the top of apps.py
        from circles.items import register_all

        register_all()
