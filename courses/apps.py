from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("课程")

    def ready(self) -> None:
        # the app registry is not ready at import time (these modules import models)
        from courses import cache
        from courses.events import tier_tickets as event_tier_tickets
        from courses.items import register_all
        from payments import items

        register_all()
        # Tickets a membership included end with it (docs/architecture.md §4, benefits and what funds them).
        items.on_refunded(event_tier_tickets.tier_tickets_end_for_refund)
        items.add_refund_terms(event_tier_tickets.tier_ticket_refund_terms)
        cache.connect()
