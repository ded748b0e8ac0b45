"""Choice sets the growth API exposes, by stable name (settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]):
the serializers use `.values`, so these are the same value lists."""

from growth.models import Coupon, MemberCoupon

COUPON_KIND = Coupon.Kind.values
MEMBER_COUPON_STATE = MemberCoupon.State.values
