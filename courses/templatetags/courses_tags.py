"""Template helpers of the courses pages."""

from django import template
from django.core.files.storage import default_storage

register = template.Library()


@register.filter
def storage_url(name: str) -> str:
    """The public URL of a stored upload (check-in images keep storage names, not URLs)."""
    return default_storage.url(name) if name else ""
