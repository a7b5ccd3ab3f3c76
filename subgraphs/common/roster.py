"""The one deterministic synthetic roster every seed and the dev IdP read, so ids match across subgraphs.

Everyone here is invented: common Japanese names, real municipality codes and place names, no real person.
Ids are pseudonymous (a hash of a fixed label, not of any personal data) and stable across runs. Birth
dates are fixed, chosen so that in late 2026 there are infants, toddlers, a child in the year before school,
an 11-year-old and a 13-year-old girl (vaccination and checkup cases), adults and elderly people.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from subgraphs.common.municipality import (
    HARIMA, HIMEJI, KAKOGAWA, KASAI, KATO, MIKI, ONO, SANDA, TAKA, YABU,
)

SEX_MALE, SEX_FEMALE = 1, 2   # ISO 5218 (0 unknown, 9 not applicable)


def pseudonymous_id(prefix: str, label: str) -> str:
    """`r-1a2b3c4d5e6f` from a fixed label such as "himeji-1/taro"; never derived from personal data."""
    return f"{prefix}-{hashlib.sha256(f'kyodo-roster/v1/{label}'.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class Person:
    id: str
    family_name: str
    given_name: str
    family_kana: str
    given_kana: str
    birth_date: date
    sex: int
    municipality_code: str
    household_id: str
    guardian_ids: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def name_kana(self) -> str:
        return f"{self.family_kana} {self.given_kana}"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


@dataclass(frozen=True)
class Household:
    id: str
    municipality_code: str
    address: str                 # 町字 in the municipality; no house numbers
    member_ids: tuple[str, ...]
    pets: tuple[str, ...] = ()   # companion animals (ペット同行避難)


@dataclass(frozen=True)
class StaffMember:
    id: str
    name: str
    municipality_code: str
    scopes: tuple[str, ...]
    section: str = ""


# (label, municipality, 町字, pets, members); a member is (key, family, given, family kana, given kana,
# birth date, sex, is_child). Children's guardians are the household's adults.
_HOUSEHOLDS = (
    ("himeji-1", HIMEJI, "白浜町", ("犬",), (
        ("taro", "山田", "太郎", "ヤマダ", "タロウ", date(1988, 5, 12), SEX_MALE, False),
        ("hanako", "山田", "花子", "ヤマダ", "ハナコ", date(1990, 9, 3), SEX_FEMALE, False),
        ("haruto", "山田", "陽翔", "ヤマダ", "ハルト", date(2026, 8, 20), SEX_MALE, True),
        ("yui", "山田", "結衣", "ヤマダ", "ユイ", date(2024, 6, 15), SEX_FEMALE, True),
    )),
    ("himeji-2", HIMEJI, "飾磨区今在家", (), (
        ("takeshi", "佐藤", "健", "サトウ", "タケシ", date(1985, 3, 2), SEX_MALE, False),
        ("misaki", "佐藤", "美咲", "サトウ", "ミサキ", date(1987, 11, 21), SEX_FEMALE, False),
        ("ren", "佐藤", "蓮", "サトウ", "レン", date(2025, 11, 2), SEX_MALE, True),
        ("sakura", "佐藤", "さくら", "サトウ", "サクラ", date(2013, 9, 10), SEX_FEMALE, True),
    )),
    ("himeji-3", HIMEJI, "網干区新在家", (), (
        ("masao", "井上", "正雄", "イノウエ", "マサオ", date(1948, 1, 20), SEX_MALE, False),
    )),
    ("kakogawa-1", KAKOGAWA, "加古川町寺家町", ("猫",), (
        ("makoto", "高橋", "誠", "タカハシ", "マコト", date(1982, 7, 7), SEX_MALE, False),
        ("megumi", "高橋", "恵", "タカハシ", "メグミ", date(1984, 12, 12), SEX_FEMALE, False),
        ("minato", "高橋", "湊", "タカハシ", "ミナト", date(2023, 3, 30), SEX_MALE, True),
        ("aoi", "高橋", "葵", "タカハシ", "アオイ", date(2015, 2, 14), SEX_FEMALE, True),
    )),
    ("kakogawa-2", KAKOGAWA, "尾上町口里", (), (
        ("kazuko", "中村", "和子", "ナカムラ", "カズコ", date(1941, 4, 4), SEX_FEMALE, False),
    )),
    ("kasai-1", KASAI, "北条町北条", (), (
        ("daisuke", "伊藤", "大輔", "イトウ", "ダイスケ", date(1979, 10, 10), SEX_MALE, False),
        ("yumi", "伊藤", "由美", "イトウ", "ユミ", date(1981, 1, 25), SEX_FEMALE, False),
        ("yuma", "伊藤", "悠真", "イトウ", "ユウマ", date(2020, 4, 18), SEX_MALE, True),
    )),
    ("kasai-2", KASAI, "北条町古坂", (), (
        ("shota", "渡辺", "翔太", "ワタナベ", "ショウタ", date(1995, 6, 30), SEX_MALE, False),
    )),
    ("yabu-1", YABU, "八鹿町八鹿", ("犬",), (
        ("osamu", "小林", "修", "コバヤシ", "オサム", date(1975, 8, 8), SEX_MALE, False),
        ("naomi", "小林", "直美", "コバヤシ", "ナオミ", date(1977, 2, 28), SEX_FEMALE, False),
        ("mei", "小林", "芽依", "コバヤシ", "メイ", date(2026, 5, 1), SEX_FEMALE, True),
    )),
    ("yabu-2", YABU, "養父市場", (), (
        ("chiyo", "加藤", "千代", "カトウ", "チヨ", date(1940, 3, 3), SEX_FEMALE, False),
    )),
    ("ono-1", ONO, "王子町", (), (
        ("takuya", "吉田", "拓也", "ヨシダ", "タクヤ", date(1990, 2, 2), SEX_MALE, False),
        ("aya", "吉田", "彩", "ヨシダ", "アヤ", date(1992, 4, 22), SEX_FEMALE, False),
        ("kaede", "吉田", "楓", "ヨシダ", "カエデ", date(2022, 1, 5), SEX_FEMALE, True),
    )),
    ("sanda-1", SANDA, "三輪", (), (
        ("koji", "山本", "浩二", "ヤマモト", "コウジ", date(1970, 12, 1), SEX_MALE, False),
    )),
    ("kato-1", KATO, "社", (), (
        ("rina", "松本", "里奈", "マツモト", "リナ", date(1998, 7, 15), SEX_FEMALE, False),
    )),
    ("harima-1", HARIMA, "東本荘", (), (
        ("isamu", "木村", "勇", "キムラ", "イサム", date(1965, 9, 9), SEX_MALE, False),
    )),
    ("miki-1", MIKI, "志染町", (), (
        ("keiko", "清水", "恵子", "シミズ", "ケイコ", date(1960, 10, 10), SEX_FEMALE, False),
    )),
    # 多可町 has joined no platform: its residents exist so that refusals can be shown.
    ("taka-1", TAKA, "中区中村町", (), (
        ("kenichi", "林", "健一", "ハヤシ", "ケンイチ", date(1983, 5, 5), SEX_MALE, False),
        ("mai", "林", "舞", "ハヤシ", "マイ", date(1986, 8, 18), SEX_FEMALE, False),
        ("sota", "林", "颯太", "ハヤシ", "ソウタ", date(2025, 1, 9), SEX_MALE, True),
    )),
)


def _build() -> tuple[tuple[Person, ...], tuple[Household, ...]]:
    people: list[Person] = []
    households: list[Household] = []
    for label, code, address, pets, members in _HOUSEHOLDS:
        household_id = pseudonymous_id("h", label)
        adults = tuple(pseudonymous_id("r", f"{label}/{m[0]}") for m in members if not m[7])
        ids = []
        for key, family, given, family_kana, given_kana, born, sex, is_child in members:
            person_id = pseudonymous_id("r", f"{label}/{key}")
            ids.append(person_id)
            people.append(Person(person_id, family, given, family_kana, given_kana, born, sex, code,
                                 household_id, adults if is_child else ()))
        households.append(Household(household_id, code, address, tuple(ids), pets))
    return tuple(people), tuple(households)


ROSTER, HOUSEHOLDS = _build()
PEOPLE_BY_ID: dict[str, Person] = {p.id: p for p in ROSTER}
HOUSEHOLDS_BY_ID: dict[str, Household] = {h.id: h for h in HOUSEHOLDS}


def _staff(label: str, name: str, code: str, section: str, *scopes: str) -> StaffMember:
    return StaffMember(pseudonymous_id("s", label), name, code, tuple(scopes), section)


STAFF: tuple[StaffMember, ...] = (
    _staff("himeji/childcare", "前田 奈央", HIMEJI, "こども支援課", "childcare:read", "childcare:write", "audit:read",
           "childcare:audit", "childcare:co-use"),
    _staff("himeji/identity", "藤原 健太", HIMEJI, "市民課", "identity:read", "identity:audit"),
    _staff("kakogawa/safety", "岡田 浩", KAKOGAWA, "防災部", "safety:read", "safety:write", "audit:read",
           "safety:audit", "safety:co-use"),
    _staff("kakogawa/childcare", "森 由紀", KAKOGAWA, "こども部", "childcare:read"),
    _staff("kasai/currency", "藤井 亮", KASAI, "ふるさと創造部", "currency:read", "currency:write", "audit:read",
           "currency:audit", "currency:co-use"),
    _staff("yabu/identity", "西村 真理", YABU, "市民生活課", "identity:read", "identity:write", "audit:read",
           "identity:audit", "identity:co-use"),
    _staff("yabu/elections", "池田 誠一", YABU, "選挙管理委員会", "identity:read", "voting:admin", "audit:read",
           "identity:audit"),
    _staff("taka/general", "岩崎 玲子", TAKA, "住民課", "identity:read", "childcare:read", "safety:read",
           "currency:read"),
)
STAFF_BY_ID: dict[str, StaffMember] = {s.id: s for s in STAFF}


def person(person_id: str) -> Person | None:
    return PEOPLE_BY_ID.get(person_id)


def children_of(guardian_id: str) -> tuple[Person, ...]:
    return tuple(p for p in ROSTER if guardian_id in p.guardian_ids)


def by_label(label: str) -> Person:
    """The person with roster label "household/key", e.g. "himeji-1/taro" (for tests and demos)."""
    return PEOPLE_BY_ID[pseudonymous_id("r", label)]


def demo_card_serial(person_id: str, generation: int = 1) -> str:
    """The certificate serial (hex) of a person's simulated My Number Card; `generation` 2 is the renewed card.

    Only the dev IdP's card reader and the seeds use it; what any store keeps is `hash_serial` of it.
    """
    return hashlib.sha256(f"kyodo-demo-card/{generation}/{person_id}".encode()).hexdigest()[:16]


def has_demo_card(person: Person, on: date = date(2026, 4, 1)) -> bool:
    """Adults and school-age children hold a linked card in the demo data; infants do not."""
    return person.age_on(on) >= 6


def demo_card_pin(person_id: str) -> str:
    """The 4-digit 利用者証明用 PIN of a person's simulated card (dev IdP's card + PIN sign-in only).

    Deterministic so a developer can type it (`kyodo token --list` does not show it; this function does).
    """
    digest = hashlib.sha256(f"kyodo-demo-card-pin/{person_id}".encode()).hexdigest()
    return f"{int(digest[:8], 16) % 10000:04d}"
