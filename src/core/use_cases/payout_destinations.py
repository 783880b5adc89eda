"""Use cases of payout destinations: a member names an account, the provider resolves its
holder's name, the member confirms it, and the provider registers it as a recipient."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from core.domain.identity import Principal, ensure_may_read, ensure_may_write
from core.domain.payouts import (
    AccountDetails,
    AccountNameMismatch,
    DestinationNotFound,
    PayoutDestination,
    ResolvedAccount,
    same_account_name,
)
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.payouts import PayoutGateways
from core.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class ResolvePayoutAccount:
    """Step one: the account holder's name as the provider knows it, for the member to
    confirm. Nothing is saved. Members only (suspended and banned members cannot)."""

    gateways: PayoutGateways

    async def __call__(self, principal: Principal, details: AccountDetails) -> ResolvedAccount:
        ensure_may_write(principal.require_member())
        return await self.gateways.for_kind(details.kind).resolve_account(details)


@dataclass(frozen=True, slots=True)
class AddPayoutDestination:
    """Step two: save a destination whose holder's name the member confirmed.

    Rules: the provider resolves the name again and it must be the name the member confirmed
    (case and spacing aside; 422 ``account_name_mismatch`` otherwise); then the provider
    registers the recipient. Only the recipient code, bank or operator name, resolved name
    and last four digits are kept. The member's first destination in a currency is its
    default; ``make_default`` makes a later one the default (one default per currency).
    Nothing is saved when the provider refuses.
    """

    uow_factory: Callable[[], UnitOfWork]
    gateways: PayoutGateways
    clock: Clock
    ids: IdGenerator

    async def __call__(
        self,
        principal: Principal,
        details: AccountDetails,
        *,
        confirmed_account_name: str,
        make_default: bool = False,
    ) -> PayoutDestination:
        member = principal.require_member()
        ensure_may_write(member)
        gateway = self.gateways.for_kind(details.kind)
        resolved = await gateway.resolve_account(details)
        if not same_account_name(resolved.account_name, confirmed_account_name):
            raise AccountNameMismatch(
                "The confirmed name is not the account holder's name the provider gave."
            )
        recipient = await gateway.create_recipient(details, resolved.account_name)
        async with self.uow_factory() as uow:
            current = await uow.payout_destinations.default_for(member.id, details.currency)
            destination = PayoutDestination(
                id=self.ids.new_id(),
                profile_id=member.id,
                kind=details.kind,
                currency=details.currency,
                provider=recipient.provider,
                recipient_code=recipient.recipient_code,
                bank_code=details.bank_code,
                bank_name=recipient.bank_name,
                account_name=resolved.account_name,
                last4=details.last4,
                is_default=make_default or current is None,
                created_at=self.clock.now(),
            )
            await uow.payout_destinations.add(destination)
            await uow.commit()
        return destination


@dataclass(frozen=True, slots=True)
class ListMyPayoutDestinations:
    """The caller's own destinations, newest first."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal) -> Sequence[PayoutDestination]:
        member = principal.require_member()
        ensure_may_read(member)
        async with self.uow_factory() as uow:
            return await uow.payout_destinations.list_for_member(member.id)


@dataclass(frozen=True, slots=True)
class RemovePayoutDestination:
    """Remove one of the caller's own destinations (someone else's is "not found"). Payouts
    already sent there are unaffected; new ones need another destination."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(self, principal: Principal, destination_id: UUID) -> None:
        member = principal.require_member()
        ensure_may_write(member)
        async with self.uow_factory() as uow:
            destination = await uow.payout_destinations.get(destination_id)
            if destination is None or destination.profile_id != member.id:
                raise DestinationNotFound("No such payout destination.")
            if destination.is_usable:
                await uow.payout_destinations.remove(destination_id, self.clock.now())
                await uow.commit()
