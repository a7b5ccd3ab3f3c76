#!/bin/sh
# First start of the PostgreSQL container only (docker-entrypoint-initdb.d): one database per platform, each
# owned by its own login role that can reach nothing else, and one for Keycloak. Passwords come from the
# environment (docker/.env); none is written here.
set -eu

create() {  # create NAME PASSWORD
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       --set=name="$1" --set=password="$2" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION
  CONNECTION LIMIT 50;
CREATE DATABASE :"name" OWNER :"name";
-- PostgreSQL lets every role connect to a new database and create in its public schema: not here.
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"name" TO :"name";
\connect :"name"
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO :"name";
SQL
}

# The maintenance database is the superuser's alone.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -c 'REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;'

create childcare "$KYODO_CHILDCARE_DB_PASSWORD"
create safety "$KYODO_SAFETY_DB_PASSWORD"
create currency "$KYODO_CURRENCY_DB_PASSWORD"
create identity "$KYODO_IDENTITY_DB_PASSWORD"
create keycloak "$KEYCLOAK_DB_PASSWORD"
