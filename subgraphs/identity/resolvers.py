"""Root fields of the identity subgraph: each opens one transaction, applies the rule, audits."""

from __future__ import annotations

from typing import Optional

import strawberry
from sqlalchemy import select
from strawberry.federation.schema_directives import Authenticated, Inaccessible
from strawberry.types import Info

from subgraphs.common.audit_entry import read_audit_log
from subgraphs.common.edge_rules import requires_any_scope
from subgraphs.common.selection import selected_field_names
from subgraphs.common.errors import BadUserInput, Forbidden, NotFound, PlatformNotJoined, Unauthenticated
from subgraphs.common.municipality import MUNICIPALITIES, InvalidMunicipalityCode, normalize_code
from subgraphs.common.list_sizes import SIZED_BY_LIMIT

from . import applications, cards, grant_outbox, shelters, voting
from .access import REFUSAL, check_id, require_principal
from .graphql_types import (
    ApplicationKind, CardLink, CurrencyGrantRequest, EarlyVotingReceipt, EarlyVotingTally, Election, IdentityAuditEntry, Municipality,
    OnlineApplication, ReasonCount, Resident, ShelterStay, SignInRecord, VotingReason,
)
from .models import Election as ElectionRow
from .not_joined import not_joined_resident
from .resident_loader import load_resident_for_read

# Also enforced by the gateway before planning (@authenticated); the subgraph checks again regardless.
AUTHENTICATED = [Authenticated()]


async def read_resident(info: Info, resident_id: str, purpose: str, *, missing_ok: bool = False) -> Resident | None:
    """Load, authorize (audited) and build one Resident; batched with every other resident read of the request.

    A caller the rule allows whose resident's municipality has not joined identity gets the id alone: only
    identity's own fields answer PLATFORM_NOT_JOINED, so the platforms that municipality did join still
    resolve their fields of this Resident through the gateway (`not_joined_resident`)."""
    try:
        row = await load_resident_for_read(info.context, check_id(resident_id), purpose, selected_field_names(info))
    except NotFound:
        if missing_ok:
            return None
        # an id identity does not hold is refused exactly as a forbidden one (issue 10, finding 6)
        if info.context.principal is None:
            raise Unauthenticated("personal data needs a caller vouched for by the gateway") from None
        raise Forbidden(REFUSAL) from None
    except PlatformNotJoined as refusal:   # already audited as "not-joined"
        return not_joined_resident(resident_id, refusal)
    return Resident.from_row(row)


# The grant relay's operations are @inaccessible: in no API schema, no introspection, not plannable by the
# gateway. The relay calls identity directly with its own access token (subgraphs/common/service_callers.py).
RELAY_ONLY = Inaccessible()


@strawberry.input(description="currency's answer to one grant request, as the grant relay saw it",
                  directives=[RELAY_ONLY])
class CurrencyGrantOutcomeInput:
    idempotency_key: str
    outcome: str = strawberry.field(description="granted, refused (currency said no, final) or failed (no answer)")
    points: Optional[int] = strawberry.field(default=None, description="granted: the amount currency booked")
    entry_id: Optional[str] = strawberry.field(default=None, description="granted: currency's ledger entry id")
    reason_code: Optional[str] = strawberry.field(default=None, description="refused/failed: e.g. CAP_REACHED")
    reason: Optional[str] = None


@strawberry.input(description="A tap at a shelter's reader")
class ShelterCheckInInput:
    shelter_id: strawberry.ID = strawberry.field(description='"{municipality code}:{local id}" of the shelter')
    certificate_serial: str = strawberry.field(description="the card's certificate serial, as the reader read it")
    companion_ids: list[strawberry.ID] = strawberry.field(default_factory=list,
                                                          description="household members checking in together")
    pets: int = 0
    care_needs: list[str] = strawberry.field(default_factory=list, description="要配慮 categories of the card holder")


@strawberry.type
class Query:
    @strawberry.field(description="the signed-in resident (null for callers who are not residents)", directives=AUTHENTICATED)
    async def me(self, info: Info) -> Optional[Resident]:
        principal = require_principal(info.context)
        if "resident" not in principal.roles and "guardian" not in principal.roles:
            return None
        return await read_resident(info, principal.subject, purpose="own record", missing_ok=True)

    @strawberry.field(description="a resident, for themselves, their guardian or staff of their municipality", directives=AUTHENTICATED)
    async def resident(self, info: Info, id: strawberry.ID) -> Optional[Resident]:
        return await read_resident(info, str(id), purpose="resident lookup")

    @strawberry.field
    def municipality(self, code: str) -> Optional[Municipality]:
        try:
            normalize_code(code)
        except InvalidMunicipalityCode as error:
            raise BadUserInput(str(error), field="code") from None
        return Municipality.from_code(code)

    @strawberry.field
    def municipalities(self) -> list[Municipality]:
        return [Municipality.from_code(code) for code in MUNICIPALITIES]

    @strawberry.field(description="early-voting declaration pilot elections (public)")
    async def elections(self, info: Info) -> list[Election]:
        async with info.context.transaction() as session:
            rows = await session.execute(select(ElectionRow).order_by(ElectionRow.election_day))
            return [Election.from_row(r) for r in rows.scalars()]

    @strawberry.field(description="declaration counts per reason, for the election administration",
                      directives=requires_any_scope("voting:admin"))
    async def early_voting_tally(self, info: Info, election_id: strawberry.ID) -> EarlyVotingTally:
        async with info.context.transaction() as session:
            result = await voting.tally(info.context, session, str(election_id))
        return EarlyVotingTally(election_id=strawberry.ID(result.election_id), total=result.total,
                                by_reason=[ReasonCount(reason=VotingReason(r), count=c)
                                           for r, c in sorted(result.by_reason.items())])

    @strawberry.field(description="identity's audit log for the caller's own municipality (staff, audit:read)", directives=[*AUTHENTICATED, SIZED_BY_LIMIT])
    async def identity_audit_log(self, info: Info, subject: Optional[strawberry.ID] = None,
                                 limit: int = 100) -> list[IdentityAuditEntry]:
        subject_id = check_id(str(subject), "subject") if subject is not None else None
        return await read_audit_log(info, IdentityAuditEntry, subject_id, limit)

    @strawberry.field(description="currency grant requests not yet answered (the grant relay only)",
                      directives=[RELAY_ONLY, *requires_any_scope("identity:grant-relay"), SIZED_BY_LIMIT])
    async def pending_currency_grants(self, info: Info, limit: int = 50) -> list[CurrencyGrantRequest]:
        async with info.context.transaction() as session:
            rows = await grant_outbox.pending(info.context, session, limit)
        return [CurrencyGrantRequest.from_row(r) for r in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="link a My Number Card to a resident; a renewed card replaces the old link", directives=AUTHENTICATED)
    async def link_card(self, info: Info, resident_id: strawberry.ID, certificate_serial: str) -> CardLink:
        async with info.context.transaction() as session:
            row = await cards.link_card(info.context, session, str(resident_id), certificate_serial)
        return CardLink.from_row(row)

    @strawberry.mutation(description="a card reader reports a tap; signs the linked resident in", directives=AUTHENTICATED)
    async def card_tap_sign_in(self, info: Info, certificate_serial: str, pin_verified: bool = False) -> SignInRecord:
        async with info.context.transaction() as session:
            row = await cards.tap_sign_in(info.context, session, certificate_serial, pin_verified)
        return SignInRecord.from_row(row)

    @strawberry.mutation(description="check the card holder (and companions) in to a shelter", directives=AUTHENTICATED)
    async def shelter_check_in(self, info: Info, input: ShelterCheckInInput) -> list[ShelterStay]:
        async with info.context.transaction() as session:
            rows = await shelters.check_in(info.context, session, str(input.shelter_id), input.certificate_serial,
                                           companion_ids=[str(c) for c in input.companion_ids], pets=input.pets,
                                           care_needs=list(input.care_needs))
        return [ShelterStay.from_row(r) for r in rows]

    @strawberry.mutation(description="check the card holder's household out of a shelter", directives=AUTHENTICATED)
    async def shelter_check_out(self, info: Info, shelter_id: strawberry.ID, certificate_serial: str) -> list[ShelterStay]:
        async with info.context.transaction() as session:
            rows = await shelters.check_out(info.context, session, str(shelter_id), certificate_serial)
        return [ShelterStay.from_row(r) for r in rows]

    @strawberry.mutation(description="submit a one-stop online application (idempotent per key)", directives=AUTHENTICATED)
    async def submit_application(self, info: Info, kind: ApplicationKind,  # type: ignore[valid-type]
                                 idempotency_key: str) -> OnlineApplication:
        async with info.context.transaction() as session:
            row = await applications.submit(info.context, session, kind.value, idempotency_key)
        return OnlineApplication.from_row(row)

    @strawberry.mutation(description="staff complete an application; this requests the currency grant once", directives=AUTHENTICATED)
    async def complete_application(self, info: Info, application_id: strawberry.ID) -> OnlineApplication:
        async with info.context.transaction() as session:
            row = await applications.complete(info.context, session, str(application_id))
        return OnlineApplication.from_row(row)

    @strawberry.mutation(description="期日前投票宣誓: only inside the window, once per eligible voter", directives=AUTHENTICATED)
    async def declare_early_voting(self, info: Info, election_id: strawberry.ID,
                                   reason: VotingReason) -> EarlyVotingReceipt:  # type: ignore[valid-type]
        async with info.context.transaction() as session:
            receipt = await voting.declare(info.context, session, str(election_id), reason.value)
        return EarlyVotingReceipt(election_id=strawberry.ID(receipt.election_id), declared_on=receipt.declared_on)

    @strawberry.mutation(description="the grant relay records currency's answer to one grant request",
                         directives=[RELAY_ONLY, *requires_any_scope("identity:grant-relay")])
    async def record_currency_grant_outcome(self, info: Info,
                                            input: CurrencyGrantOutcomeInput) -> CurrencyGrantRequest:
        outcome = grant_outbox.Outcome(kind=input.outcome, points=input.points, entry_id=input.entry_id,
                                       reason_code=input.reason_code, reason=input.reason)
        async with info.context.transaction() as session:
            row = await grant_outbox.record(info.context, session, input.idempotency_key, outcome)
        return CurrencyGrantRequest.from_row(row)
