#!/bin/sh
# Runs once, when the postgres service starts on an empty volume (docker-entrypoint-initdb.d):
# a role and database for Tally, and a role owning Temporal's two databases (its store and its
# visibility store), so neither side can touch the other's data.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v tally_password="$TALLY_DB_PASSWORD" \
  -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE tally LOGIN PASSWORD :'tally_password';
CREATE DATABASE tally OWNER tally;
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
SQL
