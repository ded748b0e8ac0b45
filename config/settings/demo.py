"""`make demo`: the dev settings' embedded defaults, shown the way a visitor meets the product.

DEBUG is off so a wrong address gets the site's own branded 404 instead of Django's debug page
(engineers who want debug pages run `manage.py runserver` on `config.settings.dev`). Static files
come from the app folders through whitenoise's finders (no collectstatic step), and Django serves
uploads, which production leaves to a front server (docs/scaling.md).
"""

from .dev import *  # noqa: F403
from .dev import env

DEBUG = env.bool("DEBUG", default=False)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
SERVE_MEDIA_FROM_DJANGO = True
