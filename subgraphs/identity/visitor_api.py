"""GraphQL fields of non-resident shelter check-in (`visitors`), merged into identity's Query and Mutation."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Optional

import strawberry
from strawberry.federation.schema_directives import Authenticated, Tag
from strawberry.types import Info

from . import visitors
from .clock import as_utc
from .visitor_models import VisitorStay as VisitorStayRow

AUTHENTICATED = [Authenticated()]


@strawberry.input(description="基本4情報 as the card reader delivers them (read without PIN)")
class CardBasicInfoInput:
    name: str = strawberry.field(description="氏名 as printed")
    address: str = strawberry.field(description="住所 as printed")
    birth_date: date
    sex: int = strawberry.field(description="ISO 5218: 0 unknown, 1 male, 2 female, 9 not applicable")


@strawberry.input(description="a child under 18 checked in by the adult who tapped (adults tap their own card)")
class VisitorChildInput:
    name: str
    birth_date: date
    sex: int


@strawberry.input(description="A card tap at a shelter by someone who has no municipal id in identity")
class VisitorCheckInInput:
    shelter_id: strawberry.ID = strawberry.field(description='"{municipality code}:{local id}" of the shelter')
    certificate_serial: str = strawberry.field(
        description="read only to check the card is not linked to a resident; never stored, not even hashed")
    holder: CardBasicInfoInput
    children: list[VisitorChildInput] = strawberry.field(default_factory=list)
    party_id: Optional[strawberry.ID] = strawberry.field(
        default=None, description="join the party of an adult already checked in here (this is your own tap)")
    pets: int = 0
    care_needs: list[str] = strawberry.field(default_factory=list, description="要配慮 categories of the holder")


@strawberry.type(description="A visitor's stay at a shelter (shelter's municipality staff only)", directives=[Tag(name="personal")])
class VisitorStay:
    id: strawberry.ID
    shelter_id: strawberry.ID
    party_id: strawberry.ID = strawberry.field(description="people who arrived together")
    name: str
    address: str
    birth_date: date
    sex: int
    card_holder: bool = strawberry.field(description="tapped a card themselves (false: a child listed by one)")
    checked_in_at: datetime
    checked_out_at: Optional[datetime]
    checkout_reason: Optional[str] = strawberry.field(description="left, moved or closed")
    care_needs: list[str]
    pets: int

    @classmethod
    def from_row(cls, row: VisitorStayRow) -> VisitorStay:
        return cls(id=strawberry.ID(row.id), shelter_id=strawberry.ID(row.shelter_id),
                   party_id=strawberry.ID(row.party_id), name=row.name, address=row.address,
                   birth_date=row.birth_date, sex=row.sex, card_holder=row.card_holder,
                   checked_in_at=as_utc(row.checked_in_at), checked_out_at=as_utc(row.checked_out_at),
                   checkout_reason=row.checkout_reason, care_needs=json.loads(row.care_needs or "[]"),
                   pets=row.pets)


@strawberry.type(description="the end of a shelter's check-in: everyone left, the visitors' retention clock started")
class ShelterClosure:
    shelter_id: strawberry.ID
    closed_at: datetime


def _basic(info: CardBasicInfoInput | VisitorChildInput, address: str = "") -> visitors.BasicInfo:
    return visitors.BasicInfo(name=info.name, address=getattr(info, "address", address),
                              birth_date=info.birth_date, sex=info.sex)


@strawberry.type
class VisitorQuery:
    @strawberry.field(description="visitors checked in at a shelter (staff of its municipality, safety:read)",
                      directives=AUTHENTICATED)
    async def shelter_visitors(self, info: Info, shelter_id: strawberry.ID,
                               include_checked_out: bool = False) -> list[VisitorStay]:
        async with info.context.transaction() as session:
            rows = await visitors.visitors_at(info.context, session, str(shelter_id),
                                              include_checked_out=include_checked_out)
        return [VisitorStay.from_row(r) for r in rows]


@strawberry.type
class VisitorMutation:
    @strawberry.mutation(description="check in a card holder with no municipal id in identity, from the card's "
                                     "basic information (the shelter's reader or staff)", directives=AUTHENTICATED)
    async def shelter_visitor_check_in(self, info: Info, input: VisitorCheckInInput) -> list[VisitorStay]:
        request = visitors.VisitorCheckIn(
            shelter_id=str(input.shelter_id), certificate_serial=input.certificate_serial,
            holder=_basic(input.holder), children=[_basic(c) for c in input.children],
            party_id=str(input.party_id) if input.party_id is not None else None, pets=input.pets,
            care_needs=list(input.care_needs))
        async with info.context.transaction() as session:
            rows = await visitors.check_in(info.context, session, request)
        return [VisitorStay.from_row(r) for r in rows]

    @strawberry.mutation(description="close a shelter's check-in: everyone is checked out and visitors' basic "
                                     "information is deleted after the retention period (staff, safety:write)",
                         directives=AUTHENTICATED)
    async def close_shelter_check_in(self, info: Info, shelter_id: strawberry.ID) -> ShelterClosure:
        async with info.context.transaction() as session:
            closure = await visitors.close_shelter(info.context, session, str(shelter_id))
        return ShelterClosure(shelter_id=strawberry.ID(closure.shelter_id), closed_at=as_utc(closure.closed_at))
