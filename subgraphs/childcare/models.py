"""Tables of the childcare subgraph (sqlmodel). Every table name starts with `childcare_` because all
subgraphs' tables share SQLModel's process-wide metadata (subgraphs/common/db.py).

Children are keyed by their resident id (identity's pseudonymous id, as in subgraphs/common/roster.py).
Checkup attendance and vaccination records are 要配慮個人情報: resolvers reach them only through the
personal-data rule (subgraphs/childcare/access.py). Facilities are open data keyed "{code}:{localId}".
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class Child(SQLModel, table=True):
    __tablename__ = "childcare_child"

    id: str = Field(primary_key=True, max_length=64)           # resident id
    municipality_code: str = Field(index=True, max_length=6)    # where the child is registered
    birth_date: date
    sex: int = 0                                                # ISO 5218: 0 unknown, 1 male, 2 female, 9 other


class Guardianship(SQLModel, table=True):
    __tablename__ = "childcare_guardianship"

    child_id: str = Field(primary_key=True, max_length=64, foreign_key="childcare_child.id")
    guardian_id: str = Field(primary_key=True, max_length=64, index=True)   # resident id of the guardian


class CheckupAttendance(SQLModel, table=True):
    __tablename__ = "childcare_checkup_attendance"
    __table_args__ = (sa.UniqueConstraint("child_id", "checkup_code"),)

    id: int | None = Field(default=None, primary_key=True)
    child_id: str = Field(max_length=64, index=True, foreign_key="childcare_child.id")
    checkup_code: str = Field(max_length=16)    # data/checkups.toml code, e.g. MONTH_18
    attended_on: date
    recorded_by: str = Field(max_length=128)    # principal subject who recorded it


class VaccinationRecord(SQLModel, table=True):
    __tablename__ = "childcare_vaccination"
    __table_args__ = (sa.UniqueConstraint("child_id", "vaccine_code", "given_on"),)

    id: int | None = Field(default=None, primary_key=True)
    child_id: str = Field(max_length=64, index=True, foreign_key="childcare_child.id")
    vaccine_code: str = Field(max_length=16)    # data/vaccine_schedule.toml code, e.g. MR
    given_on: date
    lot_number: str | None = Field(default=None, max_length=32)
    recorded_by: str = Field(max_length=128)


class LearningRecord(SQLModel, table=True):
    """A pupil's learning record entry (学習記録): small by design — subject, term, a short note."""

    __tablename__ = "childcare_learning_record"

    id: int | None = Field(default=None, primary_key=True)
    child_id: str = Field(max_length=64, index=True, foreign_key="childcare_child.id")
    school_year: int                                # the April-to-March year, e.g. 2025
    subject: str = Field(max_length=32)
    note: str = Field(max_length=400)
    recorded_on: date
    recorded_by: str = Field(max_length=128)


class ChildcareFacility(SQLModel, table=True):
    """子育て施設 (preschool) open data: the common facility columns plus the dataset's own."""

    __tablename__ = "childcare_facility"

    id: str = Field(primary_key=True, max_length=80)             # "{code}:{localId}"
    municipality_code: str = Field(index=True, max_length=6)      # 全国地方公共団体コード
    local_id: str = Field(max_length=72)                          # ID (older files: NO)
    municipality_name: str | None = None                          # 地方公共団体名
    name: str                                                     # 名称
    name_kana: str | None = None                                  # 名称_カナ
    name_en: str | None = None                                    # 名称_英字
    kind: str | None = Field(default=None, index=True)            # 種別 (保育所, 認定こども園, 児童館…)
    address: str | None = None                                    # 所在地_連結表記 (older: 住所)
    address_prefecture: str | None = None                         # 所在地_都道府県
    address_city: str | None = None                               # 所在地_市区町村
    address_town: str | None = None                               # 所在地_町字
    address_block: str | None = None                              # 所在地_番地以下
    building: str | None = None                                   # 建物名等(方書)
    latitude: float | None = None                                 # 緯度
    longitude: float | None = None                                # 経度
    phone: str | None = None                                      # 電話番号
    extension: str | None = None                                  # 内線番号
    email: str | None = None                                      # 連絡先メールアドレス
    postal_code: str | None = None                                # 郵便番号
    capacity: int | None = None                                   # 収容定員 (older: 定員)
    accepted_ages: str | None = None                              # 受入年齢
    available_days: str | None = None                             # 利用可能曜日
    start_time: str | None = None                                 # 開始時間 HH:MM
    end_time: str | None = None                                   # 終了時間 HH:MM
    temporary_care: bool | None = None                            # 一時預かりの有無
    sick_child_care: bool | None = None                           # 病児保育の有無
    nursing_room: bool | None = None                              # 授乳室
    diaper_station: bool | None = None                            # おむつ替えコーナー
    url: str | None = None                                        # URL
    note: str | None = None                                       # 備考
