from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = pgettext_lazy("membership", "会员")  # the product ("Membership"), not a person

    def ready(self) -> None:
        # the app registry is not ready at import time (these modules import models)
        from members import funding
        from members.auth.services import on_user_signed_up
        from members.items import register_all
        from members.notifications.services import withdrawal_outcome_notify
        from members.points.services import points_for_order_paid, points_for_signup
        from payments import items
        from payments.wallet import withdrawals

        register_all()
        items.on_paid(points_for_order_paid)
        on_user_signed_up(points_for_signup)
        funding.connect()
        withdrawals.on_outcome(withdrawal_outcome_notify)
