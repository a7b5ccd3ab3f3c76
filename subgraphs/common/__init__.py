"""What all four municipal subgraphs share.

municipality   codes (normalise 5/6 digits, check digit), known Hyogo municipalities, the Kakogawa basin
roster         the deterministic synthetic people and staff every seed and the dev IdP read
db             engine/sessions from KYODO_<NAME>_DATABASE_URL, Alembic upgrade/downgrade per subgraph
context        RequestContext from the Kyodo-Context header; the personal-data rule (authorize_personal,
               decide_personal for a batch); the request's share of the connection pool
audit          append-only keyed hash-chained audit log; staff query per platform (`<platform>:audit`)
audit_keys     the chain key and checkpoint keys, kept outside the database (dev files under var/audit)
audit_checkpoints  signed checkpoints of each chain's head in an append-only sink
audit_verify   chain + checkpoint verification naming edits, deletions, truncation and re-chaining
request_audit  a request's reads and refusals, written in one audit transaction before it answers
request_loaders  request-scoped DataLoaders: one query per table for a request's references
federation_schema  strawberry's federation schema with a bounded `_entities` and cached documents
load_shedding  in-flight bound (503 + Retry-After), cancellation for departed clients, request time limit
serving_settings  the KYODO_SUBGRAPH_*/KYODO_DB_POOL_* settings
public_cache   short-lived process cache of public answers, cleared by this process's mutations
co_use         which municipality joined which platform; usage counters for cost sharing
membership_dates  joining and leaving with an effective date (Japan days)
sandbox        the trial sandbox: a separate database per platform with synthetic residents only
trial          trials (試用) as dated memberships in the sandbox; purging the sandbox after they ended
trial_roster   the synthetic trial residents (t-… ids, family name 試用) of every municipality
trial_api      start<Platform>Trial for the home city's staff (`<platform>:co-use`, audited)
trial_marker   extensions.coUse on every answer to a trial caller
retention      a leaving municipality's rows: export window, all-or-nothing export, purge (audit kept)
errors         GraphQL errors with extensions.code; SafeErrors keeps internals from clients
error_logging  client errors logged as one INFO line, unexpected ones with their traceback (installed by app)
facility_id    "{code}:{localId}" ids: parse and check; BAD_USER_INPUT when malformed
app            create_subgraph_app: Starlette + strawberry at /graphql, /health
common_tables  Alembic operations for the shared tables (called from each subgraph's first migration)
dev_stack      the process supervisor behind `kyodo dev`
"""
