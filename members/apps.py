from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = pgettext_lazy("membership", "会员")  # the product ("Membership"), not a person

    def ready(self) -> None:
        from members import funding, services
        from members.items import register_all
        from payments import items
        from payments.wallet import withdrawals

        register_all()
        items.on_paid(services.points_for_order_paid)
        items.on_refunded(services.points_for_order_refunded)
        funding.connect()
        withdrawals.on_outcome(services.withdrawal_outcome_notify)
