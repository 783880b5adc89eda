"""A member's money over HTTP (SPEC §6): balance and history of one's own, and the admin's
reward rates."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.cursors import decode_cursor, encode_cursor
from entrypoints.http.openapi import problems
from entrypoints.http.schemas.money import (
    BalanceOut,
    HistoryPage,
    LedgerEntryOut,
    RateIn,
    RateList,
    RateOut,
    RewardKindName,
)
from entrypoints.http.schemas.wire import CurrencyQuery, CursorQuery


class MoneyController(Controller):
    path = "/monetization"
    tags = ["money"]
    security = BEARER_SECURITY

    @get(
        "/balance",
        summary="My balance",
        description=(
            "The caller's own balance in minor units: `available` (withdrawable), `pending` "
            "(inside the holding period), `onHold` (reserved for a payout in flight) and "
            "`lifetimeEarned` (earned minus reversed). In the reward currency unless "
            "`currency` asks for another."
        ),
        responses=problems(422),
    )
    async def balance(
        self, request: Request[Any, Any, Any], principal: Caller, currency: CurrencyQuery = None
    ) -> BalanceOut:
        balance = await container_of(request).my_balance()(principal, currency)
        return BalanceOut.of(balance)

    @get(
        "/transactions",
        summary="My ledger history, newest first",
        description=(
            "Every movement of the caller's own money with what it was for; pass `nextCursor` "
            "back as `cursor` for the next page."
        ),
        responses=problems(422),
    )
    async def transactions(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        cursor: CursorQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> HistoryPage:
        entries = await container_of(request).my_transactions()(
            principal, before=decode_cursor(cursor), limit=limit
        )
        last = entries[-1].transaction if len(entries) == limit else None
        return HistoryPage(
            items=[LedgerEntryOut.of(entry) for entry in entries],
            next_cursor=encode_cursor(last.occurred_at, last.id) if last else None,
        )


class RewardRatesController(Controller):
    path = "/monetization/rates"
    tags = ["admin"]
    security = BEARER_SECURITY

    @get(
        summary="Reward rates, latest start first (admin)",
        description="A page at a time: pass `nextCursor` back as `cursor` for the next one.",
        responses=problems(422),
    )
    async def list_rates(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        currency: CurrencyQuery = None,
        kind: FromQuery[RewardKindName | None] = None,
        cursor: CursorQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> RateList:
        page = await container_of(request).list_reward_rates()(
            principal, currency=currency, kind=kind, cursor=cursor, limit=limit
        )
        return RateList(
            items=[RateOut.of(record) for record in page.items], next_cursor=page.next_cursor
        )

    @post(
        summary="Add a reward rate (admin)",
        description=(
            "Rates are never edited: a new rate takes effect from `validFrom` (now if omitted, "
            "never in the past), and the rate in force when a clip is decided applies — a "
            "language-specific rate before a generic one, then the latest `validFrom`. Clip "
            "decisions pay in the platform's reward currency (`CHORUS_REWARD_CURRENCY`); "
            "rates in other currencies are kept but not used."
        ),
        status_code=201,
        responses=problems(409, 422),
    )
    async def add_rate(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[RateIn]
    ) -> RateOut:
        record = await container_of(request).add_reward_rate()(principal, data.to_command())
        return RateOut.of(record)
