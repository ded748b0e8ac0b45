"""Where protected media is kept: the originals in a private storage (`media_sources`), the encrypted HLS
renditions in a published one (`media_hls`, filesystem under MEDIA_ROOT by default, object storage
behind a CDN by configuration: settings.STORAGES, env MEDIA_HLS_STORAGE_BACKEND / _OPTIONS)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.functional import cached_property


class PrivateFileSystemStorage(FileSystemStorage):
    """Files with no public URL, under settings.MEDIA_PRIVATE_ROOT (read when first used, so tests and
    workers that point it elsewhere are followed, as FileSystemStorage follows MEDIA_ROOT)."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.MEDIA_PRIVATE_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "MEDIA_PRIVATE_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("private files have no public URL")


def hls_storage() -> Storage:
    return storages["media_hls"]
