"""Root fields of the childcare subgraph: each opens one transaction, applies the rule, audits."""

from __future__ import annotations

from datetime import date
from typing import Optional

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from subgraphs.childcare import records
from subgraphs.common.audit_entry import read_audit_log
from subgraphs.childcare.access import guardian_ids
from subgraphs.childcare.clock import today_in_japan
from subgraphs.childcare.graphql_types import (
    ChildcareAuditEntry,
    Checkup, Child, ChildcareFacility, LearningRecord, Vaccination, VaccineInfo, read_child,
)
from subgraphs.childcare.models import ChildcareFacility as FacilityRow
from subgraphs.childcare.schedule import load_schedule
from subgraphs.common.edge_rules import requires_any_scope
from subgraphs.common.errors import BadUserInput
from subgraphs.common.municipality import InvalidMunicipalityCode, normalize_code
from subgraphs.common.list_sizes import SIZED_BY_LIMIT

MAX_PAGE = 500


def facility_id(value: str) -> str:
    """Normalise "{code}:{localId}" (5- or 6-digit code); BAD_USER_INPUT if malformed."""
    code, sep, local = str(value).partition(":")
    if not sep or not local or len(local) > 72 or any(c.isspace() for c in local):
        raise BadUserInput("id: expected '{municipality code}:{local id}'", field="id")
    try:
        return f"{normalize_code(code)}:{local}"
    except InvalidMunicipalityCode as error:
        raise BadUserInput(f"id: {error}", field="id") from None


@strawberry.input
class RecordVaccinationInput:
    child_id: strawberry.ID
    vaccine_code: str = strawberry.field(description="a code from `vaccines`, e.g. MR, DPT_IPV_HIB")
    given_on: date
    lot_number: Optional[str] = None


@strawberry.input(description="Put a child on the platform by their resident id (staff with childcare:write)")
class RegisterChildInput:
    child_id: strawberry.ID
    municipality_code: str
    birth_date: date
    sex: int = strawberry.field(description="ISO 5218: 0 unknown, 1 male, 2 female, 9 not applicable")
    guardian_ids: list[strawberry.ID]


@strawberry.input
class RecordCheckupInput:
    child_id: strawberry.ID
    checkup_code: str = strawberry.field(description="MONTH_1, MONTH_4, MONTH_10, MONTH_18 or YEAR_3")
    attended_on: date


@strawberry.input
class LearningRecordInput:
    child_id: strawberry.ID
    school_year: int
    subject: str
    note: str


@strawberry.type
class Query:
    @strawberry.field(description="a child, for the child, a guardian, or staff of the child's municipality")
    async def child(self, info: Info, id: strawberry.ID) -> Optional[Child]:
        return await read_child(info, str(id), purpose="child lookup")

    @strawberry.field(description="子育て施設 open data (public)", directives=[SIZED_BY_LIMIT])
    async def childcare_facilities(self, info: Info, municipality_code: Optional[str] = None,
                                   kind: Optional[str] = None, limit: int = 100,
                                   offset: int = 0) -> list[ChildcareFacility]:
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise BadUserInput(f"limit must be 1..{MAX_PAGE} and offset >= 0", field="limit")
        statement = select(FacilityRow)
        if municipality_code is not None:
            try:
                statement = statement.where(FacilityRow.municipality_code == normalize_code(municipality_code))
            except InvalidMunicipalityCode as error:
                raise BadUserInput(str(error), field="municipalityCode") from None
        if kind is not None:
            statement = statement.where(FacilityRow.kind == kind)
        async with info.context.transaction() as session:
            rows = await session.execute(statement.order_by(FacilityRow.id).limit(limit).offset(offset))
            return [ChildcareFacility.from_row(r) for r in rows.scalars()]

    @strawberry.field(description="one 子育て施設 by \"{code}:{ID}\" (public)")
    async def childcare_facility(self, info: Info, id: strawberry.ID) -> Optional[ChildcareFacility]:
        key = facility_id(str(id))
        async with info.context.transaction() as session:
            row = await session.get(FacilityRow, key)
        return ChildcareFacility.from_row(row) if row else None

    @strawberry.field(description="childcare's audit log for the caller's own municipality (staff, audit:read)", directives=[SIZED_BY_LIMIT])
    async def childcare_audit_log(self, info: Info, subject: Optional[strawberry.ID] = None,
                                  limit: int = 100) -> list[ChildcareAuditEntry]:
        return await read_audit_log(info, ChildcareAuditEntry, subject, limit)

    @strawberry.field(description="vaccines in the routine schedule (configuration, public)")
    def vaccines(self) -> list[VaccineInfo]:
        schedule = load_schedule()
        return [VaccineInfo(code=v.code, name=v.name, routine=v.routine, injectable_live=v.code in schedule.injectable_live)
                for v in schedule.vaccines]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="register a child and their guardians (staff with childcare:write)",
                         directives=requires_any_scope("childcare:write"))
    async def register_child(self, info: Info, input: RegisterChildInput) -> Child:
        async with info.context.transaction() as session:
            row = await records.register_child(info.context, session, child_id=str(input.child_id),
                                               municipality_code=input.municipality_code,
                                               birth_date=input.birth_date, sex=input.sex,
                                               guardian_ids=[str(g) for g in input.guardian_ids],
                                               today=today_in_japan())
            return Child.from_row(row, await guardian_ids(session, row.id))

    @strawberry.mutation(description="record a dose (guardian, or staff with childcare:write)")
    async def record_vaccination(self, info: Info, input: RecordVaccinationInput) -> Vaccination:
        async with info.context.transaction() as session:
            row = await records.record_vaccination(info.context, session, child_id=str(input.child_id),
                                                   vaccine_code=input.vaccine_code, given_on=input.given_on,
                                                   lot_number=input.lot_number, today=today_in_japan())
        return Vaccination.from_row(row)

    @strawberry.mutation(description="record attendance at a checkup (staff with childcare:write)",
                         directives=requires_any_scope("childcare:write"))
    async def record_checkup_attendance(self, info: Info, input: RecordCheckupInput) -> Checkup:
        async with info.context.transaction() as session:
            due = await records.record_checkup(info.context, session, child_id=str(input.child_id),
                                               checkup_code=input.checkup_code, attended_on=input.attended_on,
                                               today=today_in_japan())
        return Checkup.from_due(due)

    @strawberry.mutation(description="add a learning record entry (staff with childcare:write)",
                         directives=requires_any_scope("childcare:write"))
    async def add_learning_record(self, info: Info, input: LearningRecordInput) -> LearningRecord:
        async with info.context.transaction() as session:
            row = await records.add_learning_record(info.context, session, child_id=str(input.child_id),
                                                    school_year=input.school_year, subject=input.subject,
                                                    note=input.note, today=today_in_japan())
        return LearningRecord.from_row(row)
