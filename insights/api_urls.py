"""/api/v1 URLs of the insights app."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
