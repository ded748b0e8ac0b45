"""GET/PATCH /api/v1/marketing-preferences/: the member's marketing choices in the mini-program, the
same as the /growth/messages/ page (growth.campaigns.preferences)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from growth.campaigns.preferences import preference_for, preference_update


class MarketingPreferenceOutput(serializers.Serializer):
    class Meta:
        ref_name = "MarketingPreference"

    sms_consent = serializers.BooleanField(
        help_text="agreed to marketing SMS (off until the member ticks it)"
    )
    sms_consent_changed_at = serializers.DateTimeField(allow_null=True)
    unsubscribed = serializers.BooleanField(help_text="no campaign messages at all (in-site, subscribe, SMS)")
    unsubscribed_changed_at = serializers.DateTimeField(allow_null=True)


class MarketingPreferenceApi(APIView):
    """Read or change whether the member receives marketing SMS and campaign messages. Each change
    records its time; a value sent unchanged keeps it."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MarketingPreferenceInput"

        sms_consent = serializers.BooleanField(required=False)
        unsubscribed = serializers.BooleanField(required=False)

    @extend_schema(
        operation_id="marketing_preferences_get",
        tags=["marketing"],
        responses={200: MarketingPreferenceOutput, **error_responses(401)},
    )
    def get(self, request):
        return Response(MarketingPreferenceOutput(preference_for(request.user)).data)

    @extend_schema(
        operation_id="marketing_preferences_update",
        tags=["marketing"],
        request=InputSerializer,
        responses={200: MarketingPreferenceOutput, **error_responses(400, 401)},
    )
    def patch(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference = preference_update(user=request.user, **data.validated_data)
        return Response(MarketingPreferenceOutput(preference).data)
