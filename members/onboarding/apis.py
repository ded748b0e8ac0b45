"""/api/v1 onboarding: the member's four-layer checklist and confirming a step done on WeChat.

One APIView per operation with its own small Input/Output serializers (CONVENTIONS.md).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from members.onboarding import selectors, services


class ChecklistStepSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OnboardingStep"

    key = serializers.CharField()
    title = serializers.CharField()
    done = serializers.BooleanField()
    done_at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()


class StaffSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OnboardingStaff"

    name = serializers.CharField()
    role = serializers.CharField()


class GroupSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OnboardingGroup"

    name = serializers.CharField()
    qr_url = serializers.CharField(allow_null=True)
    staff = StaffSerializer(many=True)


class OnboardingApi(APIView):
    """The member's four-layer checklist (404 before the first membership)."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Onboarding"

        stage = serializers.CharField()
        steps = ChecklistStepSerializer(many=True)
        service_group = GroupSerializer(allow_null=True)
        big_group = GroupSerializer(allow_null=True, help_text="QR shown after the self-introduction")
        suggested_nickname = serializers.CharField()

    @extend_schema(
        operation_id="onboarding_retrieve",
        tags=["onboarding"],
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request):
        checklist = selectors.onboarding_checklist(request.user)
        if checklist is None:
            raise NotFound(_("开通会员后才有入会引导"))
        return Response(self.OutputSerializer(checklist_payload(request, checklist)).data)


def checklist_payload(request, checklist) -> dict:
    def group(value):
        if value is None:
            return None
        return {
            "name": value["name"],
            "qr_url": request.build_absolute_uri(value["qr_url"]) if value["qr_url"] else None,
            "staff": value["staff"],
        }

    return {
        "stage": checklist["stage"],
        "steps": checklist["steps"],
        "service_group": group(checklist["service_group"]),
        "big_group": group(checklist["big_group"]),
        "suggested_nickname": checklist["suggested_nickname"],
    }


class OnboardingStepConfirmApi(APIView):
    """The member confirms a step done on WeChat: `service_group` or `big_group` (the big group only
    after the self-introduction: `400 intro_required`)."""

    @extend_schema(
        operation_id="onboarding_step_confirm",
        tags=["onboarding"],
        request=None,
        responses={200: OnboardingApi.OutputSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request, step: str):
        if step == "service_group":
            services.onboarding_confirm_service_group(user=request.user)
        elif step == "big_group":
            services.onboarding_confirm_big_group(user=request.user)
        else:
            raise NotFound()
        checklist = selectors.onboarding_checklist(request.user)
        return Response(OnboardingApi.OutputSerializer(checklist_payload(request, checklist)).data)
