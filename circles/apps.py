from django.apps import AppConfig


class CirclesConfig(AppConfig):
    name = "circles"
    verbose_name = "圈子 Circles"

    def ready(self) -> None:
        from circles.items import register_all

        register_all()
