"""Access control an interface inherits from its implementations.

`@authenticated`, `@requiresScopes` and `@policy` on an object type (or on a field of it, or of an
@interfaceObject) also apply to the interfaces it implements, so that asking through the interface
cannot bypass them. Composition merges them in as additional sources.
"""

from __future__ import annotations

from gateway.composition.federation_facts import FederationFacts
from gateway.composition.model import Applied
from gateway.composition.subgraph import Subgraph
from gateway.composition.supergraph_model import SupergraphModel

ACCESS_CONTROL = ("authenticated", "requiresScopes", "policy")


def collect_access_control(subgraphs: list[Subgraph], facts: list[FederationFacts],
                       model: SupergraphModel) -> dict[str, list[list[Applied]]]:
    """Keys "Interface_directive" and "Type.field_directive" -> directive lists to merge in as extra sources."""
    itf_to_impl: dict[str, set[str]] = {}
    impl_to_itf: dict[str, set[str]] = {}
    for t in model.types.values():
        if t.kind == "OBJECT":
            for itf in t.interfaces:
                itf_to_impl.setdefault(itf, set()).add(t.name)
                impl_to_itf.setdefault(t.name, set()).add(itf)
    found: dict[str, list[list[Applied]]] = {}

    def add(key: str, directive: Applied) -> None:
        found.setdefault(key, []).append([directive])

    for i, sg in enumerate(subgraphs):
        for t in sg.types.values():
            if t.kind != "OBJECT":
                continue
            for d in t.directives:
                if d.fed in ACCESS_CONTROL:
                    for itf in impl_to_itf.get(t.name, ()):
                        add(f"{itf}_{d.fed}", d)
            for f in t.fields.values():
                if facts[i].is_external(t, f):
                    continue
                for d in f.directives:
                    if d.fed not in ACCESS_CONTROL:
                        continue
                    if sg.is_interface_object(t):
                        others: set[str] = set()
                        for impl in itf_to_impl.get(t.name, ()):
                            add(f"{impl}.{f.name}_{d.fed}", d)
                            others |= impl_to_itf.get(impl, set()) - {t.name}
                        for itf in others:
                            add(f"{itf}.{f.name}_{d.fed}", d)
                    else:
                        for itf in impl_to_itf.get(t.name, ()):
                            add(f"{itf}.{f.name}_{d.fed}", d)
    return found
