"""childcare's GraphQL types. A `Child` is built only after the access rule allowed (and audited) the read,
so its fields need no second check."""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

import strawberry
from strawberry.federation.schema_directives import Cost, ListSize, Tag
from strawberry.types import Info

from subgraphs.childcare import records
from subgraphs.childcare.access import PLATFORM, check_id, guardians_of_children, require_self_or_staff
from subgraphs.childcare.child_loader import load_child_for_read
from subgraphs.childcare.checkups import CheckupDue
from subgraphs.childcare.checkups import CheckupStatus as CheckupStatusEnum
from subgraphs.childcare.clock import today_in_japan
from subgraphs.childcare.models import Child as ChildRow
from subgraphs.childcare.models import ChildcareFacility as FacilityRow
from subgraphs.childcare.models import Guardianship
from subgraphs.childcare.models import LearningRecord as LearningRow
from subgraphs.childcare.models import VaccinationRecord as VaccinationRow
from subgraphs.childcare.schedule import load_schedule
from subgraphs.childcare.vaccination import DoseStatus as DoseStatusEnum
from subgraphs.childcare.vaccination import DueDose
from subgraphs.common.audit_entry import audit_entry_type
from subgraphs.common.request_loaders import load_row
from subgraphs.common.municipality_entity import MunicipalityReference, platform_joined
from subgraphs.common.selection import selected_field_names
from subgraphs.common.context import SubjectRef, decide_personal
from subgraphs.common.errors import KyodoError, is_refusal

ChildcareAuditEntry = audit_entry_type("ChildcareAuditEntry", "One record of this subgraph's hash-chained audit log")

DoseStatus = strawberry.enum(DoseStatusEnum, description="UPCOMING, DUE, or MISSED (routine eligibility over)")
CheckupStatus = strawberry.enum(CheckupStatusEnum, description="UPCOMING, DUE, ATTENDED or MISSED")


@strawberry.federation.type(keys=["code"], description="A municipality by its 6-digit 全国地方公共団体コード")
class Municipality(MunicipalityReference):
    code: strawberry.ID

    @strawberry.field(description="whether this municipality has joined Himeji's childcare platform (共同利用)")
    async def childcare_joined(self, info: Info) -> bool:
        return await platform_joined(info, PLATFORM, str(self.code))


@strawberry.type(description="A dose given (要配慮個人情報)", directives=[Tag(name="personal")])
class Vaccination:
    vaccine_code: str
    vaccine_name: str
    given_on: date
    lot_number: Optional[str]

    @classmethod
    def from_row(cls, row: VaccinationRow) -> Vaccination:
        vaccine = load_schedule().vaccine(row.vaccine_code)
        return cls(vaccine_code=row.vaccine_code, vaccine_name=vaccine.name if vaccine else row.vaccine_code,
                   given_on=row.given_on, lot_number=row.lot_number)


@strawberry.type(description="The next dose of a routine vaccination (定期接種) and when it may be given", directives=[Tag(name="personal")])
class DueVaccination:
    vaccine_code: str
    vaccine_name: str
    dose_number: int
    label: str = strawberry.field(description="e.g. 1期初回2回目, 追加, 2期")
    earliest: date = strawberry.field(description="first day every rule allows (age, intervals, live spacing)")
    deadline: Optional[date] = strawberry.field(description="last day of routine (publicly funded) eligibility")
    standard_from: Optional[date]
    standard_until: Optional[date]
    status: DoseStatus  # type: ignore[valid-type]
    reason: str = strawberry.field(description="which rule set `earliest`")

    @classmethod
    def from_due(cls, due: DueDose) -> DueVaccination:
        return cls(vaccine_code=due.vaccine_code, vaccine_name=due.vaccine_name, dose_number=due.dose_number,
                   label=due.label, earliest=due.earliest, deadline=due.deadline, standard_from=due.standard_from,
                   standard_until=due.standard_until, status=due.status, reason=due.reason)


@strawberry.type(description="An infant checkup (乳幼児健診) with its due window and attendance", directives=[Tag(name="personal")])
class Checkup:
    code: str
    name: str
    mandatory: bool = strawberry.field(description="1歳6か月 and 3歳 are required by law")
    due_from: date
    due_until: date
    attended_on: Optional[date]
    status: CheckupStatus  # type: ignore[valid-type]
    subsidy_max_yen: Optional[int] = strawberry.field(
        description="the municipal subsidy for this child's checkup (yen, at most), if eligible; valid until dueUntil")

    @classmethod
    def from_due(cls, due: CheckupDue) -> Checkup:
        return cls(code=due.kind.code, name=due.kind.name, mandatory=due.kind.mandatory, due_from=due.due_from,
                   due_until=due.due_until, attended_on=due.attended_on, status=due.status,
                   subsidy_max_yen=due.subsidy_max_yen)


@strawberry.type(description="A pupil's learning record entry (学習記録)", directives=[Tag(name="personal")])
class LearningRecord:
    id: strawberry.ID
    school_year: int
    subject: str
    note: str
    recorded_on: date

    @classmethod
    def from_row(cls, row: LearningRow) -> LearningRecord:
        return cls(id=strawberry.ID(str(row.id)), school_year=row.school_year, subject=row.subject, note=row.note,
                   recorded_on=row.recorded_on)


@strawberry.federation.type(keys=["id"], description="A resident; identity issues the pseudonymous id")
class Resident:
    id: strawberry.ID

    @strawberry.field(description="children this resident is guardian of (the guardian, or staff of the child's "
                                  "city); null when the caller may not list them, and a child the caller may not "
                                  "see is left out (its refusal is audited), so the list tells nobody how many "
                                  "children there are",
                      directives=[ListSize(assumed_size=5)])
    async def children(self, info: Info) -> Optional[list[Optional[Child]]]:
        ctx = info.context
        require_self_or_staff(ctx, str(self.id))
        fields = selected_field_names(info)
        built: list[Child] = []
        async with ctx.transaction() as session:
            rows = list((await session.execute(select_children_of(str(self.id)))).scalars())
            guardians = await guardians_of_children(session, [row.id for row in rows])
            subjects = [SubjectRef(row.id, row.municipality_code, guardians[row.id]) for row in rows]
            # one decision per child, refusals audited with the rest of the request; a child the caller may
            # not see is left out, not null: a null would still count a child the caller may not see
            decisions = await decide_personal(ctx, session, subjects, PLATFORM, fields=fields,
                                              purpose="guardian's children")
            for row, decision in zip(rows, decisions):
                if isinstance(decision, KyodoError):
                    if not is_refusal(decision):
                        raise decision
                    continue
                built.append(Child.from_row(row, guardians[row.id]))
        return built  # type: ignore[return-value]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Resident:
        return cls(id=id)


def select_children_of(guardian_id: str):  # noqa: ANN201 - a Select
    from sqlalchemy import select

    return (select(ChildRow).join(Guardianship, Guardianship.child_id == ChildRow.id)
            .where(Guardianship.guardian_id == guardian_id).order_by(ChildRow.birth_date, ChildRow.id))


# every Child read is authorized and audited: demand control weighs it as 10 plain objects
@strawberry.federation.type(keys=["id"], description="A child on Himeji's childcare platform; id = resident id",
                            directives=[Cost(weight=10), Tag(name="personal")])
class Child:
    id: strawberry.ID
    birth_date: date
    sex: int = strawberry.field(description="ISO 5218: 0 unknown, 1 male, 2 female, 9 not applicable")
    municipality: Municipality
    guardians: list[Optional[Resident]] = strawberry.field(
        description="the child's guardians as identity's Residents; one the caller may not see is null there",
        directives=[ListSize(assumed_size=2)])
    row: strawberry.Private[ChildRow]

    @strawberry.field(description="the child as identity's Resident (name, household…); null if refused")
    def resident(self) -> Optional[Resident]:
        return Resident(id=self.id)

    @strawberry.field(description="doses given (要配慮個人情報)")
    async def vaccinations(self, info: Info) -> list[Vaccination]:
        async with info.context.transaction() as session:
            return [Vaccination.from_row(r) for r in await records.vaccinations_of(session, self.row.id)]

    @strawberry.field(description="next routine doses; `asOf` defaults to today in Japan")
    async def next_vaccinations(self, info: Info, as_of: Optional[date] = None,
                                include_missed: bool = True) -> list[DueVaccination]:
        async with info.context.transaction() as session:
            due = await records.next_vaccinations(session, self.row, as_of or today_in_japan())
        return [DueVaccination.from_due(d) for d in due if include_missed or d.status is not DoseStatusEnum.MISSED]

    @strawberry.field(description="infant checkups with due windows and attendance")
    async def checkups(self, info: Info, as_of: Optional[date] = None) -> list[Checkup]:
        async with info.context.transaction() as session:
            due = await records.checkups(session, self.row, as_of or today_in_japan())
        return [Checkup.from_due(d) for d in due]

    @strawberry.field(description="learning record entries (学習記録)")
    async def learning_records(self, info: Info) -> list[LearningRecord]:
        async with info.context.transaction() as session:
            return [LearningRecord.from_row(r) for r in await records.learning_records_of(session, self.row.id)]

    @classmethod
    def from_row(cls, row: ChildRow, guardians: tuple[str, ...]) -> Child:
        return cls(id=strawberry.ID(row.id), birth_date=row.birth_date, sex=row.sex,
                   municipality=Municipality(code=strawberry.ID(row.municipality_code)),
                   guardians=[Resident(id=strawberry.ID(g)) for g in guardians], row=row)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> Child:
        return await read_child(info, str(id), purpose="federated child lookup")


async def read_child(info: Info, child_id: str, purpose: str) -> Child:
    """One child, authorized and audited; batched with every other child read of the request."""
    row, guardians = await load_child_for_read(info.context, check_id(child_id), purpose, selected_field_names(info))
    return Child.from_row(row, guardians)


@strawberry.federation.type(keys=["id"], description="子育て施設 (open data); id = \"{code}:{ID}\"")
class ChildcareFacility:
    id: strawberry.ID
    municipality: Municipality
    local_id: str = strawberry.field(description="ID")
    municipality_name: Optional[str] = strawberry.field(description="地方公共団体名")
    name: str = strawberry.field(description="名称")
    name_kana: Optional[str] = strawberry.field(description="名称_カナ")
    name_en: Optional[str] = strawberry.field(description="名称_英字")
    kind: Optional[str] = strawberry.field(description="種別 (保育所, 認定こども園, 児童館, 地域子育て支援拠点…)")
    address: Optional[str] = strawberry.field(description="所在地_連結表記")
    address_prefecture: Optional[str] = strawberry.field(description="所在地_都道府県")
    address_city: Optional[str] = strawberry.field(description="所在地_市区町村")
    address_town: Optional[str] = strawberry.field(description="所在地_町字")
    address_block: Optional[str] = strawberry.field(description="所在地_番地以下")
    building: Optional[str] = strawberry.field(description="建物名等(方書)")
    latitude: Optional[float] = strawberry.field(description="緯度")
    longitude: Optional[float] = strawberry.field(description="経度")
    phone: Optional[str] = strawberry.field(description="電話番号")
    extension: Optional[str] = strawberry.field(description="内線番号")
    email: Optional[str] = strawberry.field(description="連絡先メールアドレス")
    postal_code: Optional[str] = strawberry.field(description="郵便番号")
    capacity: Optional[int] = strawberry.field(description="収容定員")
    accepted_ages: Optional[str] = strawberry.field(description="受入年齢")
    available_days: Optional[str] = strawberry.field(description="利用可能曜日")
    start_time: Optional[str] = strawberry.field(description="開始時間 (HH:MM)")
    end_time: Optional[str] = strawberry.field(description="終了時間 (HH:MM)")
    temporary_care: Optional[bool] = strawberry.field(description="一時預かりの有無")
    sick_child_care: Optional[bool] = strawberry.field(description="病児保育の有無")
    nursing_room: Optional[bool] = strawberry.field(description="授乳室")
    diaper_station: Optional[bool] = strawberry.field(description="おむつ替えコーナー")
    url: Optional[str] = strawberry.field(description="URL")
    note: Optional[str] = strawberry.field(description="備考")

    @classmethod
    def from_row(cls, row: FacilityRow) -> ChildcareFacility:
        values = row.model_dump()
        values.pop("municipality_code")
        return cls(**{**values, "id": strawberry.ID(row.id),
                      "municipality": Municipality(code=strawberry.ID(row.municipality_code))})

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> Optional[ChildcareFacility]:
        row = await load_row(info.context, FacilityRow, id)   # one query for the whole `_entities` batch
        return cls.from_row(row) if row else None


@strawberry.type(description="A vaccine the schedule knows (configuration)")
class VaccineInfo:
    code: str
    name: str
    routine: bool = strawberry.field(description="定期接種 (publicly funded) or voluntary")
    injectable_live: bool = strawberry.field(description="27 days must pass before another injectable live vaccine")
