#!/usr/bin/env bash
# Installs (if missing), starts and prepares the PostgreSQL database of `liber serve --cluster`:
#   1. apt-get install postgresql when no PostgreSQL server is installed (Debian packages);
#   2. starts the server (pg_ctlcluster; creates the Debian cluster if there is none);
#   3. creates the role and the database (defaults: user liber, password liber, database liber_cluster);
#   4. applies Orleans' own ADO.NET scripts for PostgreSQL, each once, as that role:
#        build/sql/orleans/PostgreSQL-Main.sql        (table OrleansQuery: the queries the providers run)
#        build/sql/orleans/PostgreSQL-Clustering.sql  (membership: OrleansMembershipVersionTable, OrleansMembershipTable)
#        build/sql/orleans/PostgreSQL-Persistence.sql (grain state: OrleansStorage and its functions)
#      These are copied from dotnet/orleans (MIT), src/AdoNet/{Shared,Orleans.Clustering.AdoNet,Orleans.Persistence.AdoNet}/:
#      the NuGet packages Microsoft.Orleans.*.AdoNet 10.x no longer ship them.
#   5. applies Liber's own tables, build/sql/liber/PostgreSQL-Liber.sql (users, closed partitions, interest jobs): the
#      script is idempotent (CREATE ... IF NOT EXISTS) and runs every time; each silo's store runs it again on open.
# Idempotent: run it again and it only checks. Needs root (or the postgres account through runuser) for steps 1-3.
# Prints the Npgsql connection string as its last line, e.g.
#   export LIBER_CLUSTER_PG="$(bash build/cluster-db.sh | tail -n 1)"
# Settings (environment): LIBER_PG_DB, LIBER_PG_USER, LIBER_PG_PASSWORD, LIBER_PG_HOST (127.0.0.1), LIBER_PG_PORT (cluster's port).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sql="$here/sql/orleans"
db="${LIBER_PG_DB:-liber_cluster}"
user="${LIBER_PG_USER:-liber}"
password="${LIBER_PG_PASSWORD:-liber}"
host="${LIBER_PG_HOST:-127.0.0.1}"

log() { echo "cluster-db: $*" >&2; }

for f in "$sql/PostgreSQL-Main.sql" "$sql/PostgreSQL-Clustering.sql" "$sql/PostgreSQL-Persistence.sql" "$here/sql/liber/PostgreSQL-Liber.sql"; do
  [[ -f "$f" ]] || { log "missing $f"; exit 1; }
done
[[ "$db" =~ ^[a-z_][a-z0-9_]*$ && "$user" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "database and user names must be lower-case identifiers"; exit 1; }

# 1. Install.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"

as_postgres() {
  if [[ "$(id -un)" == postgres ]]; then "$@"; else runuser -u postgres -- "$@"; fi
}

# 2. Start.
if ! pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v' | grep -q .; then
  log "creating the PostgreSQL $version cluster 'main'"
  pg_createcluster "$version" main >&2
fi
cluster="$(pg_lsclusters -h | awk -v v="$version" '$1 == v { print $2; exit }')"
port="${LIBER_PG_PORT:-$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3; exit }')}"
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }' | grep -q online; then
  log "starting PostgreSQL $version/$cluster on port $port"
  pg_ctlcluster "$version" "$cluster" start >&2
fi
for _ in $(seq 1 60); do
  pg_isready -q -h "$host" -p "$port" && break
  sleep 0.5
done
pg_isready -q -h "$host" -p "$port" || { log "PostgreSQL does not answer on $host:$port"; exit 1; }

# 2b. Connections: every silo holds two Npgsql pools (Orleans' providers, Liber's tables) of up to 16 connections
#     (ClusterConfig's default Maximum Pool Size); Debian's default of 100 connections is too few for a few silos.
psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
if (( $(psql_admin -tAc "SHOW max_connections") < 300 )); then
  log "raising max_connections to 300 (restarts PostgreSQL $version/$cluster)"
  psql_admin -c "ALTER SYSTEM SET max_connections = 300"
  pg_ctlcluster "$version" "$cluster" restart >&2
  for _ in $(seq 1 60); do
    pg_isready -q -h "$host" -p "$port" && break
    sleep 0.5
  done
fi

# 3. Role and database.
if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != 1 ]]; then
  log "creating role $user"
  psql_admin -c "CREATE ROLE $user LOGIN PASSWORD '${password//\'/\'\'}'"
fi
if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
  log "creating database $db"
  psql_admin -c "CREATE DATABASE $db OWNER $user"
fi

# 4. Orleans' schema, each script once (in one transaction), as the role that owns the database.
export PGPASSWORD="$password"
psql_user() { psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user" -d "$db" "$@"; }
apply() {
  local file="$1" table="$2"
  if [[ "$(psql_user -tAc "SELECT to_regclass('$table') IS NOT NULL")" == t ]]; then
    log "$file: already applied ($table exists)"
  else
    log "$file: applying"
    PGOPTIONS="-c client_min_messages=warning" psql_user -1 -f "$sql/$file" >&2
  fi
}
apply PostgreSQL-Main.sql orleansquery
apply PostgreSQL-Clustering.sql orleansmembershiptable
apply PostgreSQL-Persistence.sql orleansstorage

# 5. Liber's tables (idempotent script, applied every time).
log "PostgreSQL-Liber.sql: applying (idempotent)"
PGOPTIONS="-c client_min_messages=warning" psql_user -1 -f "$here/sql/liber/PostgreSQL-Liber.sql" >&2

echo "Host=$host;Port=$port;Database=$db;Username=$user;Password=$password"
