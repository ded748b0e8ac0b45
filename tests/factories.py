"""factory_boy factories shared across the suite. Each app's tests add theirs here or beside them."""

import factory

from members.models import MembershipTier, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    nickname = factory.Sequence(lambda n: f"会员{n}")
    password = factory.django.Password("pass-1234-word")


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MembershipTier
        django_get_or_create = ("code",)

    code = "VIP"
    name = "VIP会员"
    price_fen = 360000
    duration_days = 365
    rank = 1
    member_no_prefix = "VIP"
