"""`make lighthouse`: the demo's settings, with static files served the way production serves them.

Whitenoise serves collectstatic's compressed, hashed files (as in `prod.py`), so Lighthouse measures
what a member downloads; sandbox payments stay on so `seed_demo` can buy the personas' memberships.
`scripts/lighthouse.sh` sets `VAR_DIR` to a throwaway folder first.
"""

from .demo import *  # noqa: F403

DEBUG = False
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
