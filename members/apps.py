from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("会员")

    def ready(self) -> None:
        from members import services
        from members.items import register_all
        from payments import items

        register_all()
        items.on_paid(services.points_for_order_paid)
        items.on_refunded(services.points_for_order_refunded)
