"""`make lighthouse`: the demo's embedded defaults, served the way production serves pages.

DEBUG off and whitenoise serving collectstatic's compressed, hashed files (as in `prod.py`), so
Lighthouse measures what a member downloads; sandbox payments stay on so `seed_demo` can buy the
personas' memberships. `scripts/lighthouse.sh` sets `VAR_DIR` to a throwaway folder first.
"""

from .dev import *  # noqa: F403

DEBUG = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Production leaves uploads to a front server or CDN (docs/scaling.md); here Django serves them.
LIGHTHOUSE_SERVE_MEDIA = True
