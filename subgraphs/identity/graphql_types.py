"""identity's GraphQL types. Personal types are built only after the access rule allowed the read."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime
from typing import Any, Optional

import strawberry
from strawberry.federation.schema_directives import Cost, Key, ListSize, Tag
from strawberry.federation.types import FieldSet
from sqlalchemy import select
from strawberry.types import Info

from subgraphs.common.audit_entry import audit_entry_type
from subgraphs.common.errors import KyodoError
from subgraphs.common.facility_id import facility_id_argument
from subgraphs.common.municipality import InvalidMunicipalityCode, MUNICIPALITIES, normalize_code

from . import applications, shelters, voting
from .clock import as_utc
from .models import Application as ApplicationRow
from .models import CardLink as CardLinkRow
from .models import CurrencyGrantRequest as GrantRow
from .models import Election as ElectionRow
from .models import Household as HouseholdRow
from .models import Resident as ResidentRow
from .models import ShelterStay as StayRow
from .models import SignIn as SignInRow
from .occupancy_loader import occupancy_of
from .personal_fields import Personal, is_refusal, personal




@strawberry.federation.type(keys=["code"], description="A municipality by its 6-digit 全国地方公共団体コード")
class Municipality:
    code: strawberry.ID
    name: str = strawberry.field(description="地方公共団体名")
    name_kana: str
    prefecture: str

    @classmethod
    def from_code(cls, code: str) -> Optional[Municipality]:
        try:
            known = MUNICIPALITIES.get(normalize_code(code))
        except InvalidMunicipalityCode:
            return None
        if known is None:
            return None
        return cls(code=strawberry.ID(known.code), name=known.name, name_kana=known.name_kana,
                   prefecture=known.prefecture)

    @classmethod
    def resolve_reference(cls, code: strawberry.ID, **_: Any) -> Optional[Municipality]:
        return cls.from_code(str(code))


@strawberry.type(description="Live counts of people checked in (no identities)")
class ShelterOccupancy:
    persons: int
    households: int
    persons_with_care_needs: int = strawberry.field(description="要配慮者")
    pets: int


@strawberry.federation.type(keys=["id"], description="指定避難所; safety owns its open-data fields")
class Shelter:
    id: strawberry.ID

    # a live count per shelter, resolved through federation for every shelter of a list
    @strawberry.field(description="people checked in by card tap right now", directives=[Cost(weight=5)])
    async def occupancy(self, info: Info) -> ShelterOccupancy:
        counts = await occupancy_of(info.context, str(self.id))   # batched over the request, briefly cached
        return ShelterOccupancy(persons=counts.persons, households=counts.households,
                                persons_with_care_needs=counts.care_needs, pets=counts.pets)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Shelter:
        # identity cannot know which shelters exist (safety's data), only refuse ids that cannot be one
        return cls(id=strawberry.ID(facility_id_argument(id, field="id")))


@strawberry.type(description="A check-in by card tap. identity records the shelter id it was given; whether safety "
                             "holds that shelter (or has it open) is safety's to say", directives=[Tag(name="personal")])
class ShelterStay:
    resident_id: strawberry.ID
    household_id: strawberry.ID
    shelter_id: strawberry.ID = strawberry.field(description='"{municipality code}:{local id}" as tapped')
    shelter: Optional[Shelter] = strawberry.field(
        description="the shelter; null (with a NOT_FOUND error from safety) if safety holds no shelter of that id")
    checked_in_at: datetime
    checked_out_at: Optional[datetime]
    checkout_reason: Optional[str] = strawberry.field(description="left, or moved (checked in elsewhere)")
    care_needs: list[str]
    pets: int

    @classmethod
    def from_row(cls, row: StayRow) -> ShelterStay:
        return cls(resident_id=strawberry.ID(row.resident_id), household_id=strawberry.ID(row.household_id),
                   shelter_id=strawberry.ID(row.shelter_id), shelter=Shelter(id=strawberry.ID(row.shelter_id)), checked_in_at=as_utc(row.checked_in_at),
                   checked_out_at=as_utc(row.checked_out_at), checkout_reason=row.checkout_reason,
                   care_needs=json.loads(row.care_needs or "[]"), pets=row.pets)


@strawberry.type(description="世帯", directives=[Tag(name="personal")])
class Household:
    id: strawberry.ID
    municipality: Optional[Municipality]
    address: str = strawberry.field(description="町字 (no house number)")
    pets: list[str]

    @classmethod
    def from_row(cls, row: HouseholdRow) -> Household:
        return cls(id=strawberry.ID(row.id), municipality=Municipality.from_code(row.municipality_code),
                   address=row.address, pets=json.loads(row.pets or "[]"))


@strawberry.type(description="A linked My Number Card (its serial is never shown or stored raw)", directives=[Tag(name="personal")])
class CardLink:
    linked_at: datetime
    active: bool
    revoked_at: Optional[datetime]
    revoked_reason: Optional[str]

    @classmethod
    def from_row(cls, row: CardLinkRow) -> CardLink:
        return cls(linked_at=as_utc(row.linked_at), active=row.revoked_at is None,
                   revoked_at=as_utc(row.revoked_at), revoked_reason=row.revoked_reason)


@strawberry.type(directives=[Tag(name="personal")])
class SignInRecord:
    resident_id: strawberry.ID
    at: datetime
    method: str = strawberry.field(description="card-tap (no PIN) or card-pin")
    level: int = strawberry.field(description="assurance: 1 tap, 2 tap + PIN")

    @classmethod
    def from_row(cls, row: SignInRow) -> SignInRecord:
        return cls(resident_id=strawberry.ID(row.resident_id), at=as_utc(row.at), method=row.method, level=row.level)


@strawberry.type(description="A grant the currency platform is asked to make (an outbox row the grant relay "
                                "hands to currency); the amount is currency's answer, never identity's", directives=[Tag(name="internal")])
class CurrencyGrantRequest:
    idempotency_key: str
    resident_id: strawberry.ID
    application_id: strawberry.ID
    activity: str = strawberry.field(description="the activity named to currency's earning rules")
    status: str = strawberry.field(description="pending, granted, refused (with reason), failed (parked)")
    points: Optional[int] = strawberry.field(description="points currency granted; null until it answered")
    attempts: int = strawberry.field(description="relay attempts that got no answer from currency")
    reason_code: Optional[str] = strawberry.field(description="currency's error code when refused, e.g. CAP_REACHED")
    reason: Optional[str]
    relayed_at: Optional[datetime]

    @classmethod
    def from_row(cls, row: GrantRow) -> CurrencyGrantRequest:
        return cls(idempotency_key=row.idempotency_key, resident_id=strawberry.ID(row.resident_id),
                   application_id=strawberry.ID(row.application_id), activity=row.activity, status=row.status,
                   points=row.points, attempts=row.attempts, reason_code=row.reason_code, reason=row.reason,
                   relayed_at=as_utc(row.relayed_at))


ApplicationKind = strawberry.enum(
    enum.Enum("ApplicationKind", {k.upper().replace("-", "_"): k for k in applications.APPLICATION_KINDS}),
    description="one-stop online application kinds",
)


@strawberry.type(description="ワンストップ online application", directives=[Tag(name="personal")])
class OnlineApplication:
    id: strawberry.ID
    kind: ApplicationKind  # type: ignore[valid-type]
    status: str
    submitted_at: datetime
    completed_at: Optional[datetime]

    @strawberry.field
    async def currency_grant(self, info: Info) -> Optional[CurrencyGrantRequest]:
        async with info.context.transaction() as session:
            row = await applications.grant_request_for(session, str(self.id))
        return CurrencyGrantRequest.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: ApplicationRow) -> OnlineApplication:
        return cls(id=strawberry.ID(row.id), kind=ApplicationKind(row.kind), status=row.status,
                   submitted_at=as_utc(row.submitted_at), completed_at=as_utc(row.completed_at))


VotingReason = strawberry.enum(
    enum.Enum("VotingReason", {r.upper(): r for r in voting.REASONS}),
    description="期日前投票の事由",
)


@strawberry.type(description="期日前投票宣誓 pilot election")
class Election:
    id: strawberry.ID
    name: str
    municipality: Optional[Municipality]
    announced_on: date = strawberry.field(description="公示日/告示日")
    election_day: date
    window_start: date
    window_end: date
    open: bool

    @classmethod
    def from_row(cls, row: ElectionRow) -> Election:
        start, end = voting.window(row)
        return cls(id=strawberry.ID(row.id), name=row.name, municipality=Municipality.from_code(row.municipality_code),
                   announced_on=row.announced_on, election_day=row.election_day, window_start=start,
                   window_end=end, open=voting.is_open(row))


@strawberry.type(description="Proof of a declaration: which election and when; never the reason", directives=[Tag(name="personal")])
class EarlyVotingReceipt:
    election_id: strawberry.ID
    declared_on: date


@strawberry.type
class ReasonCount:
    reason: VotingReason  # type: ignore[valid-type]
    count: int


@strawberry.type
class EarlyVotingTally:
    election_id: strawberry.ID
    total: int
    by_reason: list[ReasonCount]


IdentityAuditEntry = audit_entry_type("IdentityAuditEntry", "One record of identity's audit log")


# every Resident read is authorized and audited: demand control weighs it as 10 plain objects (the key is
# spelled out so that it prints before @cost, as `@key(fields: "id")`)
@strawberry.federation.type(description="A resident; identity issues the pseudonymous id",
                            directives=[Key(fields=FieldSet("id"), resolvable=strawberry.UNSET), Cost(weight=10), Tag(name="personal")])
class Resident:
    """Every field but `id` is personal and nullable: where the rule refuses this caller, each asked field is
    null with the refusal at its path (`personal_fields`), and nothing above it is lost."""

    id: strawberry.ID
    municipal_id: Optional[str] = personal(description="the municipality's resident number", default=None)
    name: Optional[str] = personal(default=None)
    name_kana: Optional[str] = personal(default=None)
    family_name: Optional[str] = personal(default=None)
    given_name: Optional[str] = personal(default=None)
    family_name_kana: Optional[str] = personal(default=None)
    given_name_kana: Optional[str] = personal(default=None)
    birth_date: Optional[date] = personal(default=None)
    sex: Optional[int] = personal(description="ISO 5218: 0 unknown, 1 male, 2 female, 9 not applicable",
                                  default=None)
    municipality: Optional[Municipality] = personal(default=None)
    household_id: strawberry.Private[Optional[str]] = None
    refusal: strawberry.Private[Optional[KyodoError]] = None   # why this caller may not see the fields

    @strawberry.field(extensions=[Personal()])
    async def household(self, info: Info) -> Optional[Household]:
        async with info.context.transaction() as session:
            row = await session.get(HouseholdRow, self.household_id)
        return Household.from_row(row) if row else None

    @strawberry.field(description="the shelter stay this person is checked in to, if any", extensions=[Personal()])
    async def current_shelter_stay(self, info: Info) -> Optional[ShelterStay]:
        async with info.context.transaction() as session:
            row = await shelters.current_stay(session, str(self.id))
        return ShelterStay.from_row(row) if row else None

    @strawberry.field(extensions=[Personal()])
    async def card_links(self, info: Info) -> Optional[list[CardLink]]:
        async with info.context.transaction() as session:
            rows = await session.execute(select(CardLinkRow).where(CardLinkRow.resident_id == str(self.id))
                                         .order_by(CardLinkRow.linked_at, CardLinkRow.id))
            return [CardLink.from_row(r) for r in rows.scalars()]

    @strawberry.field(extensions=[Personal()])
    async def applications(self, info: Info) -> Optional[list[OnlineApplication]]:
        async with info.context.transaction() as session:
            rows = await session.execute(select(ApplicationRow).where(ApplicationRow.resident_id == str(self.id))
                                         .order_by(ApplicationRow.submitted_at))
            return [OnlineApplication.from_row(r) for r in rows.scalars()]

    @strawberry.field(description="recent card sign-ins, newest first", extensions=[Personal()],
                      directives=[ListSize(slicing_arguments=["limit"])])
    async def sign_ins(self, info: Info, limit: int = 10) -> Optional[list[SignInRecord]]:
        async with info.context.transaction() as session:
            rows = await session.execute(select(SignInRow).where(SignInRow.resident_id == str(self.id))
                                         .order_by(SignInRow.at.desc()).limit(max(1, min(limit, 100))))
            return [SignInRecord.from_row(r) for r in rows.scalars()]

    @classmethod
    def from_row(cls, row: ResidentRow) -> Resident:
        return cls(id=strawberry.ID(row.id), municipal_id=row.municipal_id,
                   name=f"{row.family_name} {row.given_name}", name_kana=f"{row.family_kana} {row.given_kana}",
                   family_name=row.family_name, given_name=row.given_name, family_name_kana=row.family_kana,
                   given_name_kana=row.given_kana, birth_date=row.birth_date, sex=row.sex,
                   municipality=Municipality.from_code(row.municipality_code), household_id=row.household_id)

    @classmethod
    def refused(cls, resident_id: str, refusal: KyodoError) -> Resident:
        """The id alone, carrying the refusal every personal field answers with."""
        return cls(id=strawberry.ID(resident_id), refusal=refusal)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> Resident:
        from .resolvers import read_resident

        try:
            return await read_resident(info, str(id), purpose="federated resident lookup")
        except KyodoError as error:   # refused (already audited): only the personal fields go null
            if not is_refusal(error):
                raise
            return cls.refused(str(id), error)
