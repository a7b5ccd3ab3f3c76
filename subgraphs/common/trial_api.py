"""`start<Platform>Trial(municipalityCode, days)`: the home city's staff start a trial of their platform.

Needs staff of the platform's home city holding `<platform>:co-use` (checked by the gateway before planning and
again here). The start is audited in the platform's real audit log (subject `municipality:<code>`), and the
trial row is written to the sandbox (`subgraphs.common.trial`). A trial caller can start nothing.
"""

# No `from __future__ import annotations`: strawberry reads the resolver's annotations as real types (local class).

import strawberry
from strawberry.types import Info

from subgraphs.common import audit
from subgraphs.common.edge_rules import requires_any_scope
from subgraphs.common.errors import BadUserInput, Forbidden, Unauthenticated
from subgraphs.common.membership_dates import MembershipError
from subgraphs.common.municipality import PLATFORM_HOME, InvalidMunicipalityCode, normalize_code
from subgraphs.common.sandbox import is_trial


def co_use_scope(platform: str) -> str:
    return f"{platform}:co-use"


def trial_mutation(subgraph: str) -> type:
    """A Mutation type holding `start<Subgraph>Trial`, to merge into the subgraph's Mutation."""
    prefix = subgraph.capitalize()

    @strawberry.type(name=f"{prefix}Trial", description=f"a municipality's trial of {subgraph} in the sandbox")
    class TrialAnswer:
        platform: str
        municipality_code: str
        starts_on: str = strawberry.field(description="first day (JST), YYYY-MM-DD")
        ends_on: str = strawberry.field(description="last day (JST); from the next day on the trial is over")

    async def start_trial(self, info: Info, municipality_code: str, days: int) -> TrialAnswer:  # noqa: ANN001
        ctx = info.context
        principal = ctx.principal
        if principal is None:
            raise Unauthenticated("starting a trial needs a caller vouched for by the gateway")
        if is_trial(principal) or "staff" not in principal.roles \
                or principal.municipality != PLATFORM_HOME[subgraph] or co_use_scope(subgraph) not in principal.scopes:
            raise Forbidden(f"only staff of {subgraph}'s home city with {co_use_scope(subgraph)} start trials")
        try:
            code = normalize_code(municipality_code)
        except InvalidMunicipalityCode as error:
            raise BadUserInput(str(error), field="municipalityCode") from None
        sandbox = ctx.extras.get("sandbox")
        if sandbox is None:
            raise Forbidden("this platform has no trial sandbox")
        from subgraphs.common.trial import start_trial as start

        sandbox_database = await sandbox.database()
        try:
            async with ctx.transaction() as real:
                async with sandbox_database.transaction() as trial_session:
                    trial = await start(real, trial_session, subgraph, code, days)
                    # the audit record is written before the sandbox commits: no trial starts unaudited
                    await audit.record(real, principal, f"municipality:{code}", ["coUseTrial"],
                                       f"start {subgraph} trial {trial.starts_on.isoformat()}.."
                                       f"{trial.ends_on.isoformat()}", "written", subject_municipality=code,
                                       subgraph=subgraph)
        except MembershipError as error:
            raise BadUserInput(str(error), field="municipalityCode") from None
        return TrialAnswer(platform=subgraph, municipality_code=code, starts_on=trial.starts_on.isoformat(),
                           ends_on=trial.ends_on.isoformat())

    field = strawberry.mutation(resolver=start_trial, name=f"start{prefix}Trial",
                                description=f"start a time-limited trial of {subgraph} for a municipality "
                                            "(sandbox with synthetic residents)",
                                directives=requires_any_scope(co_use_scope(subgraph)))
    return strawberry.type(type(f"{prefix}TrialMutation", (), {f"start_{subgraph}_trial": field}))
