"""Development and `make demo`: embedded defaults, sandbox payments on."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
PAYMENTS_SANDBOX_ENABLED = env.bool("PAYMENTS_SANDBOX_ENABLED", default=True)
WECHAT_SANDBOX_LOGIN = env.bool("WECHAT_SANDBOX_LOGIN", default=True)
