"""Per-field refusal of a Resident's personal data.

A Resident reached through federation (a co-guardian under `Child.guardians`, a child under `Child.resident`)
may be someone the caller is not allowed to see. Refusing the whole entity nulled every non-null parent up to
`me`, so one parent's name blanked the other parent's whole answer. Instead, such a Resident is built with
its id and the refusal only (no personal data is loaded into it), every personal field is nullable, and
`Personal` makes each requested personal field raise that refusal: the field is null with the code at its
path, and the rest of the answer stands. The refusal itself is audited once, when the rule was applied.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension

from subgraphs.common.errors import REFUSAL_CODES, KyodoError, is_refusal

__all__ = ["REFUSAL_CODES", "Personal", "is_refusal", "personal"]


def _check(source: Any) -> None:
    refusal: KyodoError | None = getattr(source, "refusal", None)
    if refusal is not None:
        raise KyodoError(refusal.message, refusal.code)  # a fresh error per field, same message and code


class Personal(FieldExtension):
    """A field of personal data: answered only when the rule allowed this Resident."""

    def resolve(self, next_, source, info, **kwargs):  # noqa: ANN001, ANN201 - strawberry's signature
        _check(source)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_, source, info, **kwargs):  # noqa: ANN001, ANN201
        _check(source)
        return await next_(source, info, **kwargs)


def personal(**options: Any) -> Any:
    """`strawberry.field(...)` for a personal attribute (a fresh extension per field)."""
    import strawberry

    return strawberry.field(extensions=[Personal()], **options)
