"""Admin of the growth app, one module per tool."""

from growth.admin import campaigns, coupons, flash_sales, redeem_codes, segments  # noqa: F401
