"""/api/v1/wallet: the member's earnings wallet for the mini-program.

- `GET  wallet/`                            balances (held / available / withdrawing / withdrawn / owed) + limits
- `GET  wallet/earnings/`                   earnings history, each with the order it came from
- `GET  wallet/withdrawals/`                withdrawal requests and their status
- `POST wallet/withdrawals/`                request a withdrawal (throttle scope `withdrawal`)
- `GET  wallet/withdrawals/{id}/`           one withdrawal (another member's id → 404)
- `POST wallet/withdrawals/{id}/cancel/`    withdraw a request still waiting for review
- `GET  wallet/withdrawals/{id}/confirm/`   arguments of wx.requestMerchantTransfer (confirm receipt)
- `POST wallet/withdrawals/{id}/confirm/`   after the mini-program's confirm: ask WeChat, return the status
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from core.api import PAGE_PARAMETERS, Pagination, error_responses, paginated
from payments.models import Earning, PayoutMethod, Withdrawal
from payments.wallet import selectors, withdrawal_payouts, withdrawals


class WithdrawalOutputSerializer(serializers.Serializer[Any]):  # Any: also serialises pages (many=True)
    class Meta:
        ref_name = "WalletWithdrawal"

    id = serializers.IntegerField()
    amount_fen = serializers.IntegerField()
    method = serializers.ChoiceField(choices=PayoutMethod.values)
    method_display = serializers.CharField(source="get_method_display")
    status = serializers.ChoiceField(choices=Withdrawal.Status.values)
    status_display = serializers.CharField(source="get_status_display")
    out_bill_no = serializers.CharField()
    needs_confirmation = serializers.SerializerMethodField(
        help_text="true while the member must confirm receipt in the mini-program (see …/confirm/)"
    )
    confirm_deadline = serializers.DateTimeField(allow_null=True)
    reject_reason = serializers.CharField()
    fail_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_needs_confirmation(self, obj: Withdrawal) -> bool:
        return obj.status == Withdrawal.Status.WAIT_USER_CONFIRM and bool(obj.package_info)


class WalletApi(APIView):
    """Balances and withdrawal limits of the caller."""

    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "Wallet"

        pending_fen = serializers.IntegerField(help_text="held: still inside the refund window")
        available_fen = serializers.IntegerField()
        withdrawing_fen = serializers.IntegerField()
        withdrawn_fen = serializers.IntegerField()
        owed_fen = serializers.IntegerField(help_text="clawed back after a refund; blocks withdrawals")
        min_amount_fen = serializers.IntegerField()
        max_amount_fen = serializers.IntegerField()
        daily_count_limit = serializers.IntegerField()
        withdrawals_left_today = serializers.IntegerField()
        real_name_required_from_fen = serializers.IntegerField()
        methods = serializers.ListField(child=serializers.ChoiceField(choices=PayoutMethod.values))
        can_withdraw = serializers.BooleanField()

    @extend_schema(operation_id="wallet_retrieve", responses={200: OutputSerializer, **error_responses(401)})
    def get(self, request: Request) -> Response:
        summary = selectors.wallet_summary(request.user)
        b = summary.balances
        body = {
            "pending_fen": b.pending_fen,
            "available_fen": b.available_fen,
            "withdrawing_fen": b.withdrawing_fen,
            "withdrawn_fen": b.withdrawn_fen,
            "owed_fen": b.owed_fen,
            "min_amount_fen": summary.min_amount_fen,
            "max_amount_fen": summary.max_amount_fen,
            "daily_count_limit": summary.daily_count_limit,
            "withdrawals_left_today": summary.withdrawals_left_today,
            "real_name_required_from_fen": summary.real_name_required_from_fen,
            "methods": summary.methods,
            "can_withdraw": summary.can_withdraw,
        }
        return Response(self.OutputSerializer(body).data)


class EarningsApi(APIView):
    """The caller's earnings, newest first, each with the order it came from (if any)."""

    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "WalletEarning"

        class OrderSerializer(serializers.Serializer[Any]):
            class Meta:
                ref_name = "WalletEarningOrder"

            order_no = serializers.CharField()
            title = serializers.CharField()
            item_type = serializers.CharField()
            amount_fen = serializers.IntegerField()
            paid_at = serializers.DateTimeField(allow_null=True)

        id = serializers.IntegerField()
        # A field named `source` shadows Field.source (a string) in the stubs; DRF itself allows it.
        source = serializers.CharField()  # type: ignore[assignment]
        source_display = serializers.CharField(source="source_label")
        amount_fen = serializers.IntegerField()
        reversed_fen = serializers.IntegerField()
        status = serializers.ChoiceField(choices=Earning.Status.values)
        status_display = serializers.CharField(source="get_status_display")
        description = serializers.CharField()
        hold_until = serializers.DateTimeField()
        settled_at = serializers.DateTimeField(allow_null=True)
        created_at = serializers.DateTimeField()
        order = OrderSerializer(allow_null=True)

    @extend_schema(
        operation_id="wallet_earnings_list",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(OutputSerializer, name="WalletEarningList"), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.earnings_for_user(request.user), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class WithdrawalsApi(APIView):
    """GET: the caller's withdrawals. POST: request one (available → withdrawing at once)."""

    throttle_scope = "withdrawal"

    class InputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "WithdrawalRequestInput"

        amount_fen = serializers.IntegerField(help_text="integer fen, > 0")
        method = serializers.ChoiceField(
            choices=PayoutMethod.values,
            required=False,
            help_text="one of `methods` from GET wallet/; the first of them when omitted",
        )
        real_name = serializers.CharField(
            max_length=64,
            required=False,
            allow_blank=True,
            default="",
            help_text="required from real_name_required_from_fen (WeChat), and for bank",
        )
        bank_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        bank_account = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
        request_id = serializers.CharField(
            max_length=64,
            required=False,
            allow_blank=True,
            default="",
            help_text="client-chosen idempotency key: repeating it returns the first request",
        )

    def get_throttles(self) -> list[BaseThrottle]:
        # Only requesting money is throttled; reading the list is not.
        throttles = super().get_throttles()
        if self.request.method == "POST":
            return throttles
        return [t for t in throttles if not isinstance(t, ScopedRateThrottle)]

    @extend_schema(
        operation_id="wallet_withdrawals_list",
        parameters=PAGE_PARAMETERS,
        responses={
            200: paginated(WithdrawalOutputSerializer, name="WalletWithdrawalList"),
            **error_responses(401),
        },
    )
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.withdrawals_for_user(request.user), request, view=self)
        return paginator.get_paginated_response(WithdrawalOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="wallet_withdrawals_create",
        request=InputSerializer,
        responses={
            201: WithdrawalOutputSerializer,
            400: OpenApiResponse(
                description="invalid_amount, below_minimum, above_maximum, insufficient_balance, "
                "real_name_required, bank_details_required, payout_method_unavailable, openid_required"
            ),
            409: OpenApiResponse(description="withdrawal_blocked_owed, daily_limit_reached"),
            **error_responses(401, 429),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["method"] = values.get("method") or withdrawals.payout_methods()[0]
        withdrawal = withdrawals.withdrawal_request(user=request.user, **values)
        return Response(WithdrawalOutputSerializer(withdrawal).data, status=status.HTTP_201_CREATED)


class WithdrawalDetailApi(APIView):
    @extend_schema(
        operation_id="wallet_withdrawals_retrieve",
        responses={200: WithdrawalOutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, withdrawal_id: int) -> Response:
        withdrawal = selectors.withdrawal_get_for_user(user=request.user, withdrawal_id=withdrawal_id)
        return Response(WithdrawalOutputSerializer(withdrawal).data)


class WithdrawalCancelApi(APIView):
    @extend_schema(
        operation_id="wallet_withdrawals_cancel",
        request=None,
        responses={200: WithdrawalOutputSerializer, **error_responses(401, 404, 409)},
    )
    def post(self, request: Request, withdrawal_id: int) -> Response:
        withdrawal = selectors.withdrawal_get_for_user(user=request.user, withdrawal_id=withdrawal_id)
        withdrawal = withdrawals.withdrawal_cancel(withdrawal=withdrawal, user=request.user)
        return Response(WithdrawalOutputSerializer(withdrawal).data)


class WithdrawalConfirmApi(APIView):
    """The confirm-receipt step of 商家转账: GET the arguments of `wx.requestMerchantTransfer`; after its
    success callback, POST so the server asks WeChat and returns the withdrawal's status."""

    class ParamsSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "WithdrawalConfirmParams"

        mch_id = serializers.CharField(help_text="wx.requestMerchantTransfer mchId")
        app_id = serializers.CharField(help_text="wx.requestMerchantTransfer appId")
        package_info = serializers.CharField(help_text="wx.requestMerchantTransfer package")
        confirm_deadline = serializers.DateTimeField(allow_null=True)

    @extend_schema(
        operation_id="wallet_withdrawals_confirm_params",
        responses={
            200: ParamsSerializer,
            409: OpenApiResponse(description="not_awaiting_confirmation"),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, withdrawal_id: int) -> Response:
        withdrawal = selectors.withdrawal_get_for_user(user=request.user, withdrawal_id=withdrawal_id)
        params = withdrawal_payouts.confirm_params(withdrawal=withdrawal)
        body = {
            "mch_id": params["mchId"],
            "app_id": params["appId"],
            "package_info": params["package"],
            "confirm_deadline": withdrawal.confirm_deadline,
        }
        return Response(self.ParamsSerializer(body).data)

    @extend_schema(
        operation_id="wallet_withdrawals_confirm_done",
        request=None,
        responses={200: WithdrawalOutputSerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, withdrawal_id: int) -> Response:
        withdrawal = selectors.withdrawal_get_for_user(user=request.user, withdrawal_id=withdrawal_id)
        withdrawal_payouts.withdrawal_sync(withdrawal=withdrawal)
        withdrawal.refresh_from_db()
        return Response(WithdrawalOutputSerializer(withdrawal).data)
