"""Representations of flat keys (`__typename` plus scalar key and @requires fields), built fast.

Most entity fetches need only a few top-level fields of each object. Compiled once per Fetch, this
reads them with one `itemgetter` call, checks the key fields, and uses the value tuple itself to send
each distinct entity once; the representation dict is built only for the first object of each.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import orjson

from gateway.planner import Fetch

JsonObject = dict[str, Any]

_PARTIAL = object()  # marks the token of an object missing some representation field


class FlatRepresentation:
    __slots__ = ("keys", "names", "getter", "typename_at", "required_at", "accepted", "entity_type")

    def __init__(self, flat: tuple[tuple[str, str], ...], fetch: Fetch) -> None:
        self.keys = tuple(key for key, _ in flat)
        self.names = tuple(name for _, name in flat)
        self.getter = itemgetter(*self.keys)
        self.typename_at = self.names.index("__typename")
        self.required_at = tuple(self.names.index(k) for k in sorted(fetch.key_fields))
        self.accepted = fetch.accepted_types
        self.entity_type = fetch.entity_type

    @classmethod
    def of(cls, fetch: Fetch) -> FlatRepresentation | None:
        """The compiled form, or None when the general path is needed (nested or fragment @requires,
        a fixed __typename for interface objects, a key field outside the representation)."""
        flat = fetch.requires.flat() if fetch.requires is not None else None
        if flat is None or fetch.representation_typename is not None or len(flat) < 2:
            return None
        names = [name for _, name in flat]
        if "__typename" not in names or any(k not in names for k in fetch.key_fields):
            return None
        return cls(flat, fetch)

    def collect(self, found: list[JsonObject]) -> tuple[list[JsonObject], list[list[JsonObject]]]:
        """(representations, for each the objects it stands for), in the order objects were found."""
        representations: list[JsonObject] = []
        targets: list[list[JsonObject]] = []
        index: dict[Any, int] = {}
        rep: JsonObject | None
        token: Any
        getter, names, accepted = self.getter, self.names, self.accepted
        typename_at, required_at = self.typename_at, self.required_at
        # one key field (the usual `@key(fields: "id")`): checked without a loop
        only_required = required_at[0] if len(required_at) == 1 else -1
        claim = index.setdefault  # one dict operation tells a new entity from one already sent
        for obj in found:
            try:
                values = getter(obj)
            except KeyError:
                rep, token = self._partial(obj)
                if rep is None:
                    continue
            else:
                if accepted:
                    typename = values[typename_at]
                    if typename is not None and typename not in accepted:
                        continue
                if only_required >= 0:
                    if values[only_required] is None:
                        continue  # an entity without its key cannot be fetched
                elif any(values[i] is None for i in required_at):
                    continue
                rep, token = None, values
            count = len(representations)
            try:
                at = claim(token, count)
            except TypeError:  # a list or object among the values: compare by JSON text
                rep = rep if rep is not None else dict(zip(names, values))
                token = orjson.dumps(rep, option=orjson.OPT_SORT_KEYS)
                at = claim(token, count)
            if at == count:
                representations.append(rep if rep is not None else dict(zip(names, values)))
                targets.append([obj])
            else:
                targets[at].append(obj)
        return representations, targets

    def _partial(self, obj: JsonObject) -> tuple[JsonObject | None, object]:
        """An object lacking some field: send what it has (its __typename defaulting to the entity's)."""
        typename = obj.get("__typename")
        if self.accepted and typename is not None and typename not in self.accepted:
            return None, None
        rep = {name: obj[key] for key, name in zip(self.keys, self.names) if key in obj}
        if "__typename" not in rep:
            rep["__typename"] = self.entity_type
        if any(rep.get(self.names[i]) is None for i in self.required_at):
            return None, None
        return rep, (_PARTIAL, *rep.items())
