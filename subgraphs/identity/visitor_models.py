"""identity's tables for people checked in at a shelter who have no municipal id in identity (visitors).

A visitor stay holds the card's basic information (基本4情報: name, address, birth date, sex) as the shelter's
reader delivered it, and nothing else about the card: no My Number, no certificate serial, not even a hash of
it. Rows are deleted `retention` days after the shelter's closure (`visitor_retention`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel


class VisitorStay(SQLModel, table=True):
    __tablename__ = "identity_visitor_stay"

    id: str = Field(primary_key=True, max_length=32)
    shelter_id: str = Field(max_length=80, index=True)             # "{code}:{localId}" as tapped
    shelter_municipality: str = Field(max_length=6, index=True)    # whose staff may see the row
    party_id: str = Field(max_length=32, index=True)               # people who arrived together (a 世帯 stand-in)
    visitor_key: str = Field(max_length=64, index=True)            # sha256 of the basic information: a re-tap is
    name: str = Field(max_length=100)                              # the same person, without keeping any card id
    address: str = Field(max_length=200)
    birth_date: date
    sex: int                                                       # ISO 5218
    card_holder: bool                                              # tapped a card (False: a child listed by one)
    checked_in_at: datetime
    checked_out_at: datetime | None = Field(default=None, index=True)
    checkout_reason: str | None = Field(default=None, max_length=32)   # left, moved, closed
    care_needs: str = Field(default="[]")
    pets: int = 0
    recorded_by: str = Field(max_length=128)                       # the reader's or staff member's subject


class ShelterClosure(SQLModel, table=True):
    """A shelter's check-in desk closed (the on-close step): the retention clock for its visitors starts here."""

    __tablename__ = "identity_shelter_closure"

    id: int | None = Field(default=None, primary_key=True)
    shelter_id: str = Field(max_length=80, index=True)
    shelter_municipality: str = Field(max_length=6)
    closed_at: datetime = Field(index=True)
    closed_by: str = Field(max_length=128)
