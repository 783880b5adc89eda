"""Payouts over HTTP (SPEC §6): destinations, payout requests and history, the admins' list,
and the providers' signed webhooks and Paystack's transfer approval."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from core.domain.payouts import PayoutStatus
from core.use_cases.payout_destinations import AddPayoutDestination, ResolvePayoutAccount
from core.use_cases.payout_transfers import ApproveTransfer, HandleTransferWebhook
from core.use_cases.payouts import RequestPayout
from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.controllers.live import rules_of
from entrypoints.http.cursors import decode_cursor, encode_cursor
from entrypoints.http.openapi import problems, requiring_headers
from entrypoints.http.schemas.payouts import (
    AccountIn,
    AdminPayoutOut,
    AdminPayoutPage,
    ApprovalOut,
    DestinationIn,
    DestinationList,
    DestinationOut,
    PayoutIn,
    PayoutOut,
    PayoutPage,
    PayoutStatusName,
    ResolvedAccountOut,
    WebhookReceipt,
)

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=1,
        max_length=255,
        description="A key of the client's choosing, unique per payout (≤ 255 "
        "characters); retrying with the same key and body answers the same payout.",
    ),
]
PageLimit = Annotated[int, QueryParameter(ge=1, le=100)]


class PayoutsController(Controller):
    path = "/monetization"
    tags = ["payouts"]
    security = BEARER_SECURITY

    @post(
        "/payout",
        summary="Withdraw part of my available balance",
        description=rules_of(RequestPayout),
        status_code=201,
        responses=problems(403, 404, 409, 422),
        operation_class=requiring_headers("Idempotency-Key"),
    )
    async def request_payout(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        data: JSONBody[PayoutIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PayoutOut]:
        receipt = await container_of(request).request_payout()(
            principal, data.to_request(), idempotency_key
        )
        headers = {"Idempotent-Replayed": "true"} if receipt.replayed else {}
        return Response(PayoutOut.of(receipt.payout), status_code=201, headers=headers)

    @get("/payouts", summary="My payouts, newest first", responses=problems(422))
    async def my_payouts(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        cursor: FromQuery[str | None] = None,
        limit: PageLimit = 20,
    ) -> PayoutPage:
        items = await container_of(request).list_my_payouts()(
            principal, before=decode_cursor(cursor), limit=limit
        )
        last = items[-1] if len(items) == limit else None
        return PayoutPage(
            items=[PayoutOut.of(item) for item in items],
            next_cursor=encode_cursor(last.requested_at, last.id) if last else None,
        )

    @get("/payouts/{payout_id:uuid}", summary="One of my payouts", responses=problems(404))
    async def my_payout(
        self, request: Request[Any, Any, Any], principal: Caller, payout_id: FromPath[UUID]
    ) -> PayoutOut:
        return PayoutOut.of(await container_of(request).get_my_payout()(principal, payout_id))

    @post(
        "/payout-destinations/resolve",
        summary="The account holder's name, as the provider knows it (nothing is saved)",
        description=rules_of(ResolvePayoutAccount),
        status_code=200,
        responses=problems(422),
    )
    async def resolve(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[AccountIn]
    ) -> ResolvedAccountOut:
        resolved = await container_of(request).resolve_payout_account()(
            principal, data.to_details()
        )
        return ResolvedAccountOut.of(resolved)

    @post(
        "/payout-destinations",
        summary="Add a payout destination whose holder's name I confirm",
        description=rules_of(AddPayoutDestination),
        status_code=201,
        responses=problems(422),
    )
    async def add_destination(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[DestinationIn]
    ) -> DestinationOut:
        destination = await container_of(request).add_payout_destination()(
            principal,
            data.to_details(),
            confirmed_account_name=data.account_name,
            make_default=data.make_default,
        )
        return DestinationOut.of(destination)

    @get("/payout-destinations", summary="My payout destinations", responses=problems())
    async def destinations(
        self, request: Request[Any, Any, Any], principal: Caller
    ) -> DestinationList:
        found = await container_of(request).list_payout_destinations()(principal)
        return DestinationList(items=[DestinationOut.of(d) for d in found])

    @delete(
        "/payout-destinations/{destination_id:uuid}",
        summary="Remove one of my payout destinations",
        responses=problems(404),
    )
    async def remove_destination(
        self, request: Request[Any, Any, Any], principal: Caller, destination_id: FromPath[UUID]
    ) -> None:
        await container_of(request).remove_payout_destination()(principal, destination_id)


class AdminPayoutsController(Controller):
    path = "/admin/payouts"
    tags = ["admin"]
    security = BEARER_SECURITY

    @get(summary="Everyone's payouts, newest first (admin)", responses=problems(422))
    async def list_payouts(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        status: FromQuery[PayoutStatusName | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: PageLimit = 50,
    ) -> AdminPayoutPage:
        items = await container_of(request).list_payouts()(
            principal,
            status=PayoutStatus(status) if status else None,
            before=decode_cursor(cursor),
            limit=limit,
        )
        last = items[-1] if len(items) == limit else None
        return AdminPayoutPage(
            items=[AdminPayoutOut.of_admin(item) for item in items],
            next_cursor=encode_cursor(last.requested_at, last.id) if last else None,
        )


class PayoutWebhooksController(Controller):
    """The providers call these; they authenticate with signatures, not bearer tokens. The
    signature covers the exact bytes sent, so the raw body is checked before parsing."""

    path = "/monetization/webhooks"
    tags = ["payouts"]

    @post(
        "/paystack",
        summary="Paystack's signed transfer webhooks",
        description=rules_of(HandleTransferWebhook),
        status_code=200,
        security=[],
        responses=problems(401, 422),
    )
    async def paystack(self, request: Request[Any, Any, Any]) -> WebhookReceipt:
        outcomes = await container_of(request).handle_paystack_webhook()(
            await request.body(), request.headers.get("x-paystack-signature", "")
        )
        return WebhookReceipt(outcomes=[outcome.value for outcome in outcomes])

    @post(
        "/stripe",
        summary="Stripe's signed transfer webhooks",
        description=rules_of(HandleTransferWebhook),
        status_code=200,
        security=[],
        responses=problems(401, 422),
    )
    async def stripe(self, request: Request[Any, Any, Any]) -> WebhookReceipt:
        outcomes = await container_of(request).handle_stripe_webhook()(
            await request.body(), request.headers.get("stripe-signature", "")
        )
        return WebhookReceipt(outcomes=[outcome.value for outcome in outcomes])

    @post(
        "/paystack/approval",
        summary="Paystack's transfer approval: 200 approves, 400 refuses",
        description=rules_of(ApproveTransfer),
        status_code=200,
        security=[],
        responses=problems(401, 422),
    )
    async def approval(self, request: Request[Any, Any, Any]) -> ApprovalOut:
        approved = await container_of(request).approve_paystack_transfer()(
            await request.body(), request.headers.get("x-paystack-signature", "")
        )
        return ApprovalOut(approved=approved)
