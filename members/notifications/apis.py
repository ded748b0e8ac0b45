"""/api/v1 notifications: the member's notifications, marking them read and the subscribe-message
opt-ins.

One APIView per operation with its own small Input/Output serializers (CONVENTIONS.md).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses
from core.errors import ApplicationError
from members.models import SubscribeTemplate
from members.notifications import opt_ins, selectors, services


class NotificationOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Notification"

    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    read = serializers.BooleanField(source="is_read")
    created_at = serializers.DateTimeField()


class NotificationPagination(Pagination):
    """The usual envelope plus `unread_count` (for the badge on the mini-program's tab)."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread_count"] = self.unread_count
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["unread_count"] = {"type": "integer"}
        return schema


class NotificationsApi(APIView):
    """The caller's notifications, newest first, with the unread count."""

    pagination_class = NotificationPagination

    @extend_schema(
        operation_id="notifications_list",
        tags=["notifications"],
        responses={200: NotificationOutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        paginator = NotificationPagination()
        paginator.unread_count = selectors.unread_notifications_count(request.user)
        page = paginator.paginate_queryset(selectors.notifications_for_user(request.user), request, view=self)
        return paginator.get_paginated_response(NotificationOutputSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    """Mark one of the caller's notifications read (404 for anyone else's)."""

    @extend_schema(
        operation_id="notifications_read",
        tags=["notifications"],
        request=None,
        responses={200: NotificationOutputSerializer, **error_responses(401, 404)},
    )
    def post(self, request, notification_id: int):
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
        return Response(NotificationOutputSerializer(notification).data)


class NotificationsReadAllApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "NotificationsReadAll"

        marked = serializers.IntegerField()
        unread_count = serializers.IntegerField()

    @extend_schema(
        operation_id="notifications_read_all",
        tags=["notifications"],
        request=None,
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def post(self, request):
        marked = services.notifications_mark_all_read(user=request.user)
        return Response({"marked": marked, "unread_count": 0})


class SubscribeOptInsApi(APIView):
    """Subscribe-message opt-ins (one-time: each accepted prompt allows one message).

    GET lists the configured templates with the caller's opt-ins left — the template ids to pass to
    `wx.requestSubscribeMessage`. POST records its result: `{"results": {"<template id or key>":
    "accept" | "reject" | "ban" | "filter"}}` (the object WeChat's success callback returns).
    """

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SubscribeOptInInput"

        results = serializers.DictField(
            child=serializers.CharField(max_length=16),
            allow_empty=False,
            help_text="wx.requestSubscribeMessage result: template id (or key) → accept/reject/ban/filter",
        )

    class OptInSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SubscribeOptIn"

        template_key = serializers.CharField()
        template_id = serializers.CharField()
        name = serializers.CharField()
        remaining = serializers.IntegerField()

    OutputSerializer = inline_serializer(
        name="SubscribeOptIns",
        fields={
            "opt_ins": OptInSerializer(many=True),
            "ignored": serializers.ListField(child=serializers.CharField()),
        },
    )

    @extend_schema(
        operation_id="notifications_opt_ins_list",
        tags=["notifications"],
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response({"opt_ins": selectors.subscribe_optins_for_user(request.user), "ignored": []})

    @extend_schema(
        operation_id="notifications_opt_ins_record",
        tags=["notifications"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = data.validated_data["results"]
        if len(results) > 20:
            raise ApplicationError(
                "invalid", _("一次最多记录 20 个模板"), fields={"results": [_("太多模板")]}
            )
        templates = SubscribeTemplate.objects.filter(is_active=True).exclude(template_id="")
        by_id = {t.template_id: t for t in templates}
        by_key = {t.key: t for t in templates}
        ignored, known = [], 0
        for name, answer in results.items():
            template = by_id.get(name) or by_key.get(name)
            if template is None:
                ignored.append(name)
                continue
            known += 1
            if answer == "accept":
                opt_ins.subscribe_optin_record(user=request.user, template_key=template.key, count=1)
        if not known:
            raise ApplicationError(
                "unknown_template", _("未知的订阅消息模板"), fields={"results": [_("没有可识别的模板")]}
            )
        return Response({"opt_ins": selectors.subscribe_optins_for_user(request.user), "ignored": ignored})
