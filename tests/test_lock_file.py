"""requirements/lock.txt is what `make install` and CI install (with --require-hashes): every dependency
pyproject.toml names is pinned there, inside its range, with hashes; and pyproject gives every one a range."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]


def _pins() -> dict[str, tuple[str, list[str]]]:
    pins: dict[str, tuple[str, list[str]]] = {}
    current = None
    for raw in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        line = raw.strip().rstrip("\\").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            assert current is not None, raw
            pins[current][1].append(line.removeprefix("--hash="))
            continue
        name, _, version = line.partition("==")
        assert version, f"not an exact pin: {raw}"
        current = canonicalize_name(Requirement(name).name)
        pins[current] = (version.split(";")[0].strip(), [])
    return pins


def test_every_declared_dependency_is_pinned_inside_its_range_with_hashes() -> None:
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements/lock.txt: run `make lock`"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), f"{name}=={version} is outside {requirement}"
        assert hashes and all(h.startswith("sha256:") for h in hashes), name


def test_every_pin_has_hashes() -> None:
    assert all(hashes for _, hashes in _pins().values())


def test_every_declared_dependency_has_a_range_with_an_upper_bound() -> None:
    unbounded = [str(r) for r in _declared()
                 if not any(spec.operator in ("<", "<=", "==", "~=") for spec in r.specifier)
                 and canonicalize_name(r.name) != "tzdata"]   # tzdata's versions are dates: newer is always right
    assert unbounded == []
