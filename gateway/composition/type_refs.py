"""Type references written as GraphQL text ("[String!]!") and the subtyping rules composition uses."""

from __future__ import annotations

from collections.abc import Callable


def named_type(type_ref: str) -> str:
    return type_ref.replace("[", "").replace("]", "").replace("!", "")


def is_non_null(type_ref: str) -> bool:
    return type_ref.endswith("!")


def is_list(type_ref: str) -> bool:
    return type_ref.startswith("[")


def inner(type_ref: str) -> str:
    """Strip one wrapper: a non-null marker, else one list level."""
    if type_ref.endswith("!"):
        return type_ref[:-1]
    if type_ref.startswith("["):
        return type_ref[1:-1]
    return type_ref


# is_direct_subtype(super_named, sub_named) -> bool : union membership or interface implementation
DirectSubtype = Callable[[str, str], bool]


def is_subtype(super_ref: str, sub_ref: str, direct: DirectSubtype) -> bool:
    return super_ref == sub_ref or is_strict_subtype(super_ref, sub_ref, direct)


def is_strict_subtype(super_ref: str, sub_ref: str, direct: DirectSubtype) -> bool:
    """Apollo's default rules: direct, nonNullable_downgrade, nonNullable_propagation, list_propagation."""
    if is_non_null(sub_ref):
        if is_non_null(super_ref):
            return is_subtype(inner(super_ref), inner(sub_ref), direct)
        return is_subtype(super_ref, inner(sub_ref), direct)
    if is_list(sub_ref):
        return is_list(super_ref) and not is_non_null(super_ref) and is_subtype(
            inner(super_ref), inner(sub_ref), direct
        )
    if is_list(super_ref) or is_non_null(super_ref):
        return False
    return direct(super_ref, sub_ref)
