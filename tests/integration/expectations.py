"""Expected answers, derived from the roster, the seeds' inputs and the domain modules' pure functions.

Nothing here copies a response: vaccinations come from the 定期接種 schedule and `next_due_doses`, the point
balance from replaying the seeded grants through the earning rules, the shelter from the safety seed's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from subgraphs.common.municipality import MUNICIPALITIES
from subgraphs.common.roster import Person, children_of


def expected_children(guardian: Person, as_of: date) -> dict[str, dict]:
    """child id -> the child as the query asks for it (next-due doses in schedule order)."""
    from subgraphs.childcare.schedule import load_schedule
    from subgraphs.childcare.seed import SEED_DAY, diligent_doses
    from subgraphs.childcare.vaccination import next_due_doses

    schedule = load_schedule()
    expected = {}
    for child in children_of(guardian.id):
        given = diligent_doses(schedule, child, SEED_DAY)   # what the childcare seed recorded
        doses = next_due_doses(schedule, child.birth_date, child.sex, given, as_of)
        expected[child.id] = {
            "id": child.id,
            "birthDate": child.birth_date.isoformat(),
            "resident": {"name": child.name},
            "nextVaccinations": [{
                "vaccineCode": d.vaccine_code, "doseNumber": d.dose_number, "label": d.label,
                "earliest": d.earliest.isoformat(),
                "deadline": d.deadline.isoformat() if d.deadline else None,
                "status": d.status.value,
            } for d in doses],
        }
    return expected


def expected_balance(person: Person) -> int:
    """Replay the currency seed's grants under the earning rules; count the points not yet expired today."""
    from subgraphs.currency import clock
    from subgraphs.currency.ledger import CapUsage, capped_points, expiry_date, fiscal_year_start
    from subgraphs.currency.rules import current_rules
    from subgraphs.currency.seed import ADULT_GRANTS, OPENED_ON

    if person.age_on(OPENED_ON) < 18:
        return 0
    rules = current_rules()
    today = clock.today(rules)
    granted: list[tuple[str, date, int, date]] = []   # (activity, day, points, expires on)
    for activity, day in ADULT_GRANTS:
        rule = rules.activities[activity]
        year_from = fiscal_year_start(day, rules.fiscal_year_start_month)
        in_year = [g for g in granted if g[1] >= year_from]
        used = CapUsage(
            activity_today=sum(g[2] for g in granted if g[0] == activity and g[1] == day),
            activity_this_year=sum(g[2] for g in in_year if g[0] == activity),
            all_this_year=sum(g[2] for g in in_year),
        )
        points, _ = capped_points(rule, rules, used)
        granted.append((activity, day, points, expiry_date(rule.expiry, day, rules.fiscal_year_start_month)))
    return sum(points for _, _, points, expires_on in granted if expires_on >= today)


@dataclass(frozen=True)
class SeededShelter:
    id: str
    name: str
    municipality_name: str
    is_open: bool
    hazards: dict        # the GraphQL `Hazards` object


def _hazards_of(row) -> dict:  # noqa: ANN001 - a safety Shelter row
    from subgraphs.safety.hazards import HazardFlags

    flags = HazardFlags(**{name: getattr(row, f"hazard_{name}") for name in HazardFlags.__dataclass_fields__})
    camel = {"storm_surge": "stormSurge", "large_fire": "largeFire", "inland_flood": "inlandFlood"}
    hazards = {camel.get(name, name): getattr(flags, name) for name in HazardFlags.__dataclass_fields__}
    hazards["designated"] = [name.upper() for name in flags.designated()]
    return hazards


def seeded_shelters() -> dict[str, SeededShelter]:
    from subgraphs.safety.seed import SEED_TIME, shelters

    return {row.id: SeededShelter(row.id, row.name, MUNICIPALITIES[row.municipality_code].name, row.is_open,
                                  _hazards_of(row))
            for row in shelters(SEED_TIME)}


def expected_occupancy(members: list[Person], holder_care_needs: list[str], pets: int) -> dict:
    """A household that checked in together, nobody else there: counts as identity computes them."""
    from subgraphs.identity.seed import care_needs_of

    with_needs = sum(1 for i, m in enumerate(members) if care_needs_of(m) or (i == 0 and holder_care_needs))
    return {"persons": len(members), "households": len({m.household_id for m in members}),
            "personsWithCareNeeds": with_needs, "pets": pets}
