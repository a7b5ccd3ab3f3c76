"""What a contracted operator may see of one subgraph (issue 11 item 4): `<name>Operations` on the root Query.

Running a platform can be outsourced to a local company while personal data stays under the municipality's
control. The operator's principal (role `operator`, scope `ops:<platform>`, e.g. the dev IdP's
`kyodo-operator` client) gets health, a few metrics, usage for cost sharing, the migration state and the audit
log's verification result: counts, ids of broken records, never a record's contents. Nothing here reads
personal data, and the personal-data rule (`context.relation`) grants an operator nothing, so every personal
field and the audit log queries stay refused to it. Anyone who is not an operator gets FORBIDDEN here.

Each subgraph has its own field and type names (`childcareOperations: ChildcareOperations`, …), because the
answers differ per subgraph and federation would otherwise have to treat them as one shared type.
"""

# No `from __future__ import annotations`: strawberry resolves these classes, built per subgraph inside
# `operations_query`, from real annotations.

from typing import Optional

import strawberry
from sqlalchemy import func, select, text
from strawberry.federation.schema_directives import Authenticated
from strawberry.types import Info

from subgraphs.common import audit, co_use
from subgraphs.common.errors import BadUserInput, Forbidden, Unauthenticated
from subgraphs.common.usage_counting import monthly_usage

OPERATOR_ROLE = "operator"


def operator_scope(subgraph: str) -> str:
    return f"ops:{subgraph}"


def require_operator(ctx, subgraph: str):  # noqa: ANN001, ANN201 - RequestContext -> Principal
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("operations need a caller vouched for by the gateway")
    if OPERATOR_ROLE not in principal.roles or operator_scope(subgraph) not in principal.scopes:
        raise Forbidden(f"only an operator holding {operator_scope(subgraph)} may read this")
    return principal


async def migration_state(database) -> tuple[Optional[str], Optional[str]]:  # noqa: ANN001 - Database
    """(revision the database is at, newest revision in the code)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from subgraphs.common.db import alembic_config

    async with database.engine.connect() as connection:
        current = await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    head = ScriptDirectory.from_config(alembic_config(database.name, database.url)).get_current_head()
    return current, head


def operations_query(subgraph: str) -> type:
    """A Query type holding `<subgraph>Operations`, to merge into the subgraph's Query."""
    prefix = subgraph.capitalize()

    @strawberry.type(name=f"{prefix}MigrationStatus")
    class MigrationStatus:
        current: Optional[str] = strawberry.field(description="Alembic revision the database is at")
        head: Optional[str] = strawberry.field(description="newest revision this release carries")
        up_to_date: bool

    @strawberry.type(name=f"{prefix}AuditVerification",
                     description="the audit chain's verification result; never a record's contents")
    class AuditVerification:
        intact: bool
        records: int
        broken_record_ids: list[int] = strawberry.field(description="edited or missing records, by id only")

    @strawberry.type(name=f"{prefix}Metric")
    class Metric:
        name: str
        value: float

    @strawberry.type(name=f"{prefix}UsageLine", description="uses = distinct principals per day")
    class UsageLine:
        platform: str
        municipality_code: str
        client_id: str = strawberry.field(description="the connected application")
        principal_days: int
        distinct_principals: int

    @strawberry.type(name=f"{prefix}Operations", description=f"{subgraph}: what a contracted operator may see")
    class Operations:
        @strawberry.field(description='"ok" when the database answers')
        async def health(self, info: Info) -> str:
            async with info.context.database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return "ok"

        @strawberry.field
        async def migration(self, info: Info) -> MigrationStatus:
            current, head = await migration_state(info.context.database)
            return MigrationStatus(current=current, head=head, up_to_date=current is not None and current == head)

        @strawberry.field
        async def audit_verification(self, info: Info) -> AuditVerification:
            async with info.context.database.sessions() as session:
                broken = await audit.verify_chain(session)
                records = (await session.execute(select(func.count()).select_from(audit.AuditRecord))).scalar_one()
            return AuditVerification(intact=not broken, records=int(records), broken_record_ids=broken)

        @strawberry.field(description="cost-sharing usage of one month (YYYY-MM)")
        async def usage(self, info: Info, month: str) -> list[UsageLine]:
            try:
                async with info.context.database.sessions() as session:
                    lines = await monthly_usage(session, month)
            except ValueError as error:
                raise BadUserInput(str(error), field="month") from None
            return [UsageLine(platform=u.platform, municipality_code=u.municipality_code, client_id=u.client_id,
                              principal_days=u.principal_days, distinct_principals=u.distinct_principals)
                    for u in lines]

        @strawberry.field(description="counts only: audit records, member municipalities, this month's uses")
        async def metrics(self, info: Info) -> list[Metric]:
            async with info.context.database.sessions() as session:
                records = (await session.execute(select(func.count()).select_from(audit.AuditRecord))).scalar_one()
                members = len(await co_use.members(session, subgraph))
                lines = await monthly_usage(session, co_use.current_period())
            return [Metric(name="audit_records_total", value=float(records)),
                    Metric(name="co_use_member_municipalities", value=float(members)),
                    Metric(name="usage_principal_days_this_month", value=float(sum(u.principal_days for u in lines)))]

    async def resolve(info: Info) -> Optional[Operations]:
        require_operator(info.context, subgraph)
        return Operations()

    field_name = f"{subgraph}_operations"
    # @authenticated: the gateway refuses an anonymous caller before asking the subgraph, which checks again.
    namespace = {field_name: strawberry.field(resolver=resolve, directives=[Authenticated()], description=(
        f"health, metrics, usage, migrations and audit verification of {subgraph} (operator, {operator_scope(subgraph)})"))}
    return strawberry.type(type(f"{prefix}OperationsQuery", (), namespace))
