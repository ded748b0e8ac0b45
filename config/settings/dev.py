"""Development and `make demo`: embedded defaults, sandbox payments on."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
PAYMENTS_SANDBOX_ENABLED = env.bool("PAYMENTS_SANDBOX_ENABLED", default=True)
WECHAT_SANDBOX_LOGIN = env.bool("WECHAT_SANDBOX_LOGIN", default=True)
# The demo's newcomer (`member`, 陈思远) shows the 新人礼包 on the points page: 1,000 points, enough for
# the points mall's 7-day VIP trial.
POINTS_SIGNUP_BONUS = env.int("POINTS_SIGNUP_BONUS", default=1000)
