"""Resolve the names under which a supergraph `@link`s the join, inaccessible and tag specs.

`@link(url: "https://specs.apollo.dev/join/v0.3", as: "j")` makes `@join__type` spelled `@j__type`;
a spec's own-name directive (`@inaccessible`, `@tag`) takes the `as` name, or an `import` rename.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graphql import DirectiveNode, DocumentNode, SchemaDefinitionNode, SchemaExtensionNode, value_from_ast_untyped


@dataclass(frozen=True)
class LinkNames:
    join: str = "join"  # prefix of join__type, join__field, ...
    link: str = "link"
    inaccessible: str = "inaccessible"
    tag: str = "tag"
    join_version: str = ""  # e.g. "v0.3"; empty when no @link/@core names the join spec

    def join_directive(self, local: str) -> str:
        return f"{self.join}__{local}"

    def machinery_prefixes(self) -> tuple[str, ...]:
        return (f"{self.join}__", f"{self.link}__")


def _spec_name(url: str) -> str:
    parts = [p for p in url.rstrip("/").split("/") if p]
    if len(parts) >= 2 and parts[-1].startswith("v"):
        return parts[-2]
    return parts[-1] if parts else ""


def linked_names(link_directives: Iterable[DirectiveNode], specs: Iterable[str]) -> dict[str, str]:
    """The local name of each spec in `specs` (its own name unless a `@link`/`@core` renames it)."""
    names = {spec: spec for spec in specs}
    for directive in link_directives:
        if directive.name.value not in ("link", "core"):
            continue
        args = {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}
        url = args.get("url") or args.get("feature") or ""
        spec = _spec_name(str(url))
        if spec not in names:
            continue
        if args.get("as"):
            names[spec] = str(args["as"])
        for imported in args.get("import") or ():
            # import: ["@inaccessible"] or [{name: "@inaccessible", as: "@hidden"}]
            if isinstance(imported, dict) and imported.get("name") == f"@{spec}" and imported.get("as"):
                names[spec] = str(imported["as"]).lstrip("@")
    return names


def linked_version(link_directives: Iterable[DirectiveNode], spec: str) -> str:
    """The version (`v0.3`) of the spec a `@link`/`@core` URL names, or "" when none does."""
    for directive in link_directives:
        if directive.name.value not in ("link", "core"):
            continue
        args = {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}
        parts = [p for p in str(args.get("url") or args.get("feature") or "").rstrip("/").split("/") if p]
        if len(parts) >= 2 and parts[-2] == spec and parts[-1].startswith("v"):
            return parts[-1]
    return ""


def read_link_names(document: DocumentNode) -> LinkNames:
    directives = [
        directive
        for definition in document.definitions
        if isinstance(definition, (SchemaDefinitionNode, SchemaExtensionNode))
        for directive in definition.directives or ()
    ]
    return LinkNames(**linked_names(directives, ("join", "link", "inaccessible", "tag")),
                     join_version=linked_version(directives, "join"))
