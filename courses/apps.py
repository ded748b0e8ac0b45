from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "课程 Courses"

    def ready(self) -> None:
        from courses import cache
        from courses.items import register_all

        register_all()
        cache.connect()
