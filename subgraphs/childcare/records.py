"""Reading and writing a child's records: vaccinations, checkup attendance, learning records.

Writers validate everything before touching the database and authorize before writing, so a bad or
forbidden request stores nothing (and a refusal's audit record never waits on this transaction's lock).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.childcare.access import authorize_child, check_id, load_child
from subgraphs.childcare.checkups import CheckupDue, checkup_schedule, load_checkup_kinds
from subgraphs.childcare.models import CheckupAttendance, Child, Guardianship, LearningRecord, VaccinationRecord
from subgraphs.childcare.schedule import load_schedule
from subgraphs.childcare.vaccination import DueDose, GivenDose, next_due_doses
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import BadUserInput, Conflict
from subgraphs.common.municipality import InvalidMunicipalityCode, normalize_code
from subgraphs.common.my_number_guard import refuse_my_number

MAX_LOT_NUMBER = 32
MAX_GUARDIANS = 4
CHILD_AGE_LIMIT_YEARS = 18
ISO_5218 = (0, 1, 2, 9)
MAX_NOTE = 400
LEARNING_SUBJECTS = ("国語", "算数", "数学", "理科", "社会", "英語", "生活", "音楽", "図画工作", "体育", "道徳", "総合")


async def vaccinations_of(session: AsyncSession, child_id: str) -> list[VaccinationRecord]:
    rows = await session.execute(select(VaccinationRecord).where(VaccinationRecord.child_id == child_id)
                                 .order_by(VaccinationRecord.given_on, VaccinationRecord.id))
    return list(rows.scalars())


async def attendance_of(session: AsyncSession, child_id: str) -> dict[str, date]:
    rows = await session.execute(select(CheckupAttendance).where(CheckupAttendance.child_id == child_id))
    return {row.checkup_code: row.attended_on for row in rows.scalars()}


async def learning_records_of(session: AsyncSession, child_id: str) -> list[LearningRecord]:
    rows = await session.execute(select(LearningRecord).where(LearningRecord.child_id == child_id)
                                 .order_by(LearningRecord.school_year, LearningRecord.id))
    return list(rows.scalars())


async def next_vaccinations(session: AsyncSession, child: Child, today: date) -> list[DueDose]:
    given = [GivenDose(r.vaccine_code, r.given_on) for r in await vaccinations_of(session, child.id)]
    return next_due_doses(load_schedule(), child.birth_date, child.sex, given, today)


async def checkups(session: AsyncSession, child: Child, today: date) -> list[CheckupDue]:
    return checkup_schedule(load_checkup_kinds(), child.birth_date, await attendance_of(session, child.id), today)


def _check_day(value: date, child: Child, today: date, field: str) -> date:
    if value < child.birth_date:
        raise BadUserInput(f"{field}: before the child's birth date", field=field)
    if value > today:
        raise BadUserInput(f"{field}: in the future", field=field)
    return value


async def record_vaccination(ctx: RequestContext, session: AsyncSession, *, child_id: str, vaccine_code: str,
                             given_on: date, lot_number: str | None, today: date) -> VaccinationRecord:
    """A guardian (from the 母子健康手帳) or staff with childcare:write records a dose."""
    if load_schedule().vaccine(vaccine_code) is None:
        raise BadUserInput(f"vaccineCode: unknown vaccine {vaccine_code!r}", field="vaccineCode")
    if lot_number is not None and (not lot_number.strip() or len(lot_number) > MAX_LOT_NUMBER
                                   or not lot_number.isprintable()):
        raise BadUserInput(f"lotNumber: 1–{MAX_LOT_NUMBER} printable characters", field="lotNumber")
    refuse_my_number(lot_number, "lotNumber")
    child = await load_child(ctx, session, child_id)
    _check_day(given_on, child, today, "givenOn")
    duplicate = await session.scalar(select(VaccinationRecord.id).where(
        VaccinationRecord.child_id == child.id, VaccinationRecord.vaccine_code == vaccine_code,
        VaccinationRecord.given_on == given_on))
    await authorize_child(ctx, session, child, fields=("vaccinations",), purpose="record vaccination", write=True,
                          allow=("guardian", "staff"))
    if duplicate is not None:
        raise Conflict("this dose is already recorded", field="givenOn")
    record = VaccinationRecord(child_id=child.id, vaccine_code=vaccine_code, given_on=given_on,
                               lot_number=lot_number, recorded_by=ctx.principal.subject)
    session.add(record)
    await session.flush()
    return record


async def record_checkup(ctx: RequestContext, session: AsyncSession, *, child_id: str, checkup_code: str,
                         attended_on: date, today: date) -> CheckupDue:
    """Staff with childcare:write record attendance at a checkup (once per checkup)."""
    if checkup_code not in {k.code for k in load_checkup_kinds()}:
        raise BadUserInput(f"checkupCode: unknown checkup {checkup_code!r}", field="checkupCode")
    child = await load_child(ctx, session, child_id)
    _check_day(attended_on, child, today, "attendedOn")
    existing = await session.scalar(select(CheckupAttendance.id).where(
        CheckupAttendance.child_id == child.id, CheckupAttendance.checkup_code == checkup_code))
    await authorize_child(ctx, session, child, fields=("checkups",), purpose="record checkup attendance",
                          write=True, allow=("staff",))
    if existing is not None:
        raise Conflict("attendance at this checkup is already recorded", field="checkupCode")
    session.add(CheckupAttendance(child_id=child.id, checkup_code=checkup_code, attended_on=attended_on,
                                  recorded_by=ctx.principal.subject))
    await session.flush()
    return next(c for c in await checkups(session, child, today) if c.kind.code == checkup_code)


async def add_learning_record(ctx: RequestContext, session: AsyncSession, *, child_id: str, school_year: int,
                              subject: str, note: str, today: date) -> LearningRecord:
    """Staff with childcare:write add a short entry to a pupil's learning record."""
    if subject not in LEARNING_SUBJECTS:
        raise BadUserInput(f"subject: one of {', '.join(LEARNING_SUBJECTS)}", field="subject")
    if not note.strip() or len(note) > MAX_NOTE:
        raise BadUserInput(f"note: 1–{MAX_NOTE} characters", field="note")
    refuse_my_number(note, "note")
    if not 2000 <= school_year <= today.year + 1:
        raise BadUserInput("schoolYear: not a plausible school year", field="schoolYear")
    child = await load_child(ctx, session, child_id)
    await authorize_child(ctx, session, child, fields=("learningRecords",), purpose="add learning record",
                          write=True, allow=("staff",))
    record = LearningRecord(child_id=child.id, school_year=school_year, subject=subject, note=note.strip(),
                            recorded_on=today, recorded_by=ctx.principal.subject)
    session.add(record)
    await session.flush()
    return record


async def register_child(ctx: RequestContext, session: AsyncSession, *, child_id: str, municipality_code: str,
                         birth_date: date, sex: int, guardian_ids: list[str], today: date) -> Child:
    """Staff with childcare:write of the child's municipality put a child (by resident id) on the platform."""
    child_id = check_id(child_id)
    try:
        code = normalize_code(municipality_code)
    except InvalidMunicipalityCode as error:
        raise BadUserInput(f"municipalityCode: {error}", field="municipalityCode") from None
    if birth_date > today or birth_date.year < today.year - CHILD_AGE_LIMIT_YEARS - 1:
        raise BadUserInput("birthDate: not the birth date of a child", field="birthDate")
    if sex not in ISO_5218:
        raise BadUserInput("sex: ISO 5218 code 0, 1, 2 or 9", field="sex")
    guardians = [check_id(g, "guardianIds") for g in dict.fromkeys(guardian_ids)]
    if not 1 <= len(guardians) <= MAX_GUARDIANS or child_id in guardians:
        raise BadUserInput(f"guardianIds: 1–{MAX_GUARDIANS} guardians other than the child", field="guardianIds")
    child = Child(id=child_id, municipality_code=code, birth_date=birth_date, sex=sex)
    await authorize_child(ctx, session, child, fields=("registration",), purpose="register child", write=True,
                          allow=("staff",))
    if await session.get(Child, child_id) is not None:
        raise Conflict("this child is already on the platform", field="childId")
    session.add(child)
    await session.flush()
    for guardian_id in guardians:
        session.add(Guardianship(child_id=child_id, guardian_id=guardian_id))
    await session.flush()
    return child
