"""identity's tables. Timestamps are aware UTC datetimes (sqlmodel stores them as UTC on every backend)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class Household(SQLModel, table=True):
    __tablename__ = "identity_household"

    id: str = Field(primary_key=True, max_length=64)
    municipality_code: str = Field(max_length=6, index=True)
    address: str = Field(max_length=200)       # 町字; no house numbers in this system
    pets: str = Field(default="[]")            # JSON list of companion animals


class Resident(SQLModel, table=True):
    __tablename__ = "identity_resident"

    id: str = Field(primary_key=True, max_length=64)            # pseudonymous id, the principal's `sub`
    municipal_id: str = Field(max_length=32, unique=True)       # the city's resident number (やっぷるID style)
    family_name: str = Field(max_length=64)
    given_name: str = Field(max_length=64)
    family_kana: str = Field(max_length=64)
    given_kana: str = Field(max_length=64)
    birth_date: date
    sex: int                                                     # ISO 5218
    municipality_code: str = Field(max_length=6, index=True)
    household_id: str = Field(foreign_key="identity_household.id", max_length=64, index=True)
    care_needs: str = Field(default="[]")                       # JSON list (要配慮: 高齢, 乳幼児, …)


class Guardianship(SQLModel, table=True):
    __tablename__ = "identity_guardianship"

    child_id: str = Field(foreign_key="identity_resident.id", primary_key=True, max_length=64)
    guardian_id: str = Field(foreign_key="identity_resident.id", primary_key=True, max_length=64)


class CardLink(SQLModel, table=True):
    """A My Number Card's certificate, known only by `hash_serial` of its serial. Never the My Number."""

    __tablename__ = "identity_card_link"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: str = Field(foreign_key="identity_resident.id", max_length=64, index=True)
    serial_hash: str = Field(max_length=64, unique=True)
    linked_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(default=None, max_length=32)   # renewed, lost, …


class SignIn(SQLModel, table=True):
    __tablename__ = "identity_sign_in"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: str = Field(foreign_key="identity_resident.id", max_length=64, index=True)
    at: datetime
    method: str = Field(max_length=16)           # card-tap, card-pin
    level: int                                   # 1 tap, 2 tap + PIN
    terminal: str = Field(max_length=128)        # the reader's principal subject


class ShelterStay(SQLModel, table=True):
    __tablename__ = "identity_shelter_stay"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: str = Field(foreign_key="identity_resident.id", max_length=64, index=True)
    household_id: str = Field(max_length=64, index=True)
    shelter_id: str = Field(max_length=80, index=True)         # "{code}:{localId}" of safety's Shelter
    checked_in_at: datetime
    checked_out_at: datetime | None = Field(default=None, index=True)
    checkout_reason: str | None = Field(default=None, max_length=32)   # left, moved (checked in elsewhere)
    care_needs: str = Field(default="[]")
    pets: int = 0


class Application(SQLModel, table=True):
    __tablename__ = "identity_application"
    __table_args__ = (UniqueConstraint("resident_id", "idempotency_key"),)

    id: str = Field(primary_key=True, max_length=40)
    resident_id: str = Field(foreign_key="identity_resident.id", max_length=64, index=True)
    kind: str = Field(max_length=40)
    status: str = Field(max_length=16)           # submitted, completed
    idempotency_key: str = Field(max_length=128)
    submitted_at: datetime
    completed_at: datetime | None = None


class CurrencyGrantRequest(SQLModel, table=True):
    """Outbox row: a grant for the currency platform to make. The relay (subgraphs/grant_relay) asks currency
    and writes its answer back here; the amount is currency's (its earning rules), never identity's."""

    __tablename__ = "identity_currency_grant_request"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    resident_id: str = Field(foreign_key="identity_resident.id", max_length=64, index=True)
    application_id: str = Field(foreign_key="identity_application.id", max_length=40)
    activity: str = Field(max_length=40)
    points: int | None = None                    # what currency granted (null until it answered)
    status: str = Field(max_length=16)           # pending, granted, refused, failed
    created_at: datetime
    attempts: int = 0                            # relay attempts that ended without an answer
    reason_code: str | None = Field(default=None, max_length=40)   # currency's extensions.code when refused
    reason: str | None = Field(default=None, max_length=300)
    currency_entry_id: str | None = Field(default=None, max_length=40)
    relayed_at: datetime | None = None


class Election(SQLModel, table=True):
    __tablename__ = "identity_election"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    municipality_code: str = Field(max_length=6)
    announced_on: date                            # 公示日/告示日
    election_day: date


class VotingParticipation(SQLModel, table=True):
    """Who declared (one per person and election). Holds no reason and no link to the declaration row."""

    __tablename__ = "identity_voting_participation"

    election_id: str = Field(foreign_key="identity_election.id", primary_key=True, max_length=40)
    resident_id: str = Field(foreign_key="identity_resident.id", primary_key=True, max_length=64)
    declared_on: date


class VotingDeclaration(SQLModel, table=True):
    """What was declared (the reason), under a random id, with no resident and only the date."""

    __tablename__ = "identity_voting_declaration"

    id: str = Field(primary_key=True, max_length=40)
    election_id: str = Field(foreign_key="identity_election.id", max_length=40, index=True)
    reason: str = Field(max_length=32)
    declared_on: date
