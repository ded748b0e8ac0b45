from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("课程")

    def ready(self) -> None:
        from courses import cache
        from courses.items import register_all

        register_all()
        cache.connect()
