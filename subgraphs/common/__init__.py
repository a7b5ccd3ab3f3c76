"""What all four municipal subgraphs share.

municipality   codes (normalise 5/6 digits, check digit), known Hyogo municipalities, the Kakogawa basin
roster         the deterministic synthetic people and staff every seed and the dev IdP read
db             engine/sessions from KYODO_<NAME>_DATABASE_URL, Alembic upgrade/downgrade per subgraph
context        RequestContext from the Kyodo-Context header; the personal-data rule (authorize_personal)
audit          append-only hash-chained audit log; verify_chain; staff query
co_use         which municipality joined which platform; usage counters for cost sharing
errors         GraphQL errors with extensions.code; SafeErrors keeps internals from clients
error_logging  client errors logged as one INFO line, unexpected ones with their traceback (installed by app)
facility_id    "{code}:{localId}" ids: parse and check; BAD_USER_INPUT when malformed
app            create_subgraph_app: Starlette + strawberry at /graphql, /health
common_tables  Alembic operations for the shared tables (called from each subgraph's first migration)
dev_stack      the process supervisor behind `kyodo dev`
"""
