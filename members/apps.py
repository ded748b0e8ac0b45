from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "会员 Members"

    def ready(self) -> None:
        from members import services
        from members.items import register_all
        from payments import items

        register_all()
        items.on_paid(services.points_for_order_paid)
        items.on_refunded(services.points_for_order_refunded)
