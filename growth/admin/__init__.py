"""Admin of the growth app, one module per tool."""

from growth.admin import coupons, redeem_codes  # noqa: F401
