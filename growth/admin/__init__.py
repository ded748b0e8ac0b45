"""Admin of the growth app, one module per tool."""

from growth.admin import flash_sales, redeem_codes  # noqa: F401
