"""The camps' achievement APIs: the poster a member shares and the completion certificate (JSON and
PNG, for token clients that cannot use the web pages' images)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.errors import ApplicationError
from courses.camps import posters
from courses.camps import selectors as camp_selectors
from courses.camps.apis import TAG_CAMPS, viewable_term


class PosterApi(APIView):
    @extend_schema(
        tags=TAG_CAMPS,
        summary="Achievement poster (PNG) with my streak and a QR code of my referral link",
        operation_id="camps_term_poster",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, term_id: int):
        term = camp_selectors.term_get(term_id=term_id)
        png = posters.term_poster_png(user=request.user, term=term)
        response = HttpResponse(png, content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="poster-{term.pk}.png"'
        response["Cache-Control"] = "private, max-age=300"
        return response


def certified_seat(request, term_id: int):
    """The term and the member's certified seat (`certificate_seat`, the one rule), or 404 until the
    term is completed: the certificate's JSON and its PNG answer alike."""
    term, access = viewable_term(request, term_id)
    seat = camp_selectors.certificate_seat(access)
    if seat is None:
        raise ApplicationError("not_completed", _("完成结营要求后才能获得证书"), status_code=404)
    return term, seat


class CertificateApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampCertificateOutput"

        certificate_no = serializers.CharField()
        completed_at = serializers.DateTimeField()
        image_url = serializers.CharField(help_text="the web page's image (session login)")
        image_api_url = serializers.CharField(
            help_text="the same PNG for API clients (Bearer token): camps_term_certificate_png"
        )

    @extend_schema(
        tags=TAG_CAMPS,
        summary="My completion certificate (404 until the term is completed)",
        operation_id="camps_term_certificate",
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, term_id: int):
        term, seat = certified_seat(request, term_id)
        return Response(
            self.OutputSerializer(
                {
                    "certificate_no": seat.certificate_no,
                    "completed_at": seat.completed_at,
                    "image_url": reverse("courses:certificate_png", args=[term.pk]),
                    "image_api_url": reverse("camps-api-certificate-png", args=[term.pk]),
                }
            ).data
        )


class CertificatePngApi(APIView):
    @extend_schema(
        tags=TAG_CAMPS,
        summary="My completion certificate as a PNG (404 until the term is completed)",
        operation_id="camps_term_certificate_png",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, term_id: int):
        term, seat = certified_seat(request, term_id)
        seat.term = term
        response = HttpResponse(posters.certificate_png(seat=seat), content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="certificate-{seat.certificate_no}.png"'
        response["Cache-Control"] = "private, max-age=300"
        return response
