# Start a local PostgreSQL (Debian package) and export ROUTING_TEST_POSTGRES_URL for the
# storage tests. Sourced by .ci/run; safe to run twice.
PGVER=$(ls /usr/lib/postgresql | sort -V | tail -1)
[ -d "/etc/postgresql/$PGVER/main" ] || pg_createcluster "$PGVER" main
pg_ctlcluster "$PGVER" main status >/dev/null || pg_ctlcluster "$PGVER" main start
for _ in $(seq 30); do pg_isready -q -h localhost && break; sleep 1; done
psql_admin() { su postgres -c "psql -v ON_ERROR_STOP=1 -tAc \"$1\""; }
[ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname='routing'")" = 1 ] \
  || psql_admin "CREATE ROLE routing LOGIN PASSWORD 'routing'"
[ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname='routing_test'")" = 1 ] \
  || psql_admin "CREATE DATABASE routing_test OWNER routing"
export ROUTING_TEST_POSTGRES_URL=postgresql+psycopg://routing:routing@localhost:5432/routing_test
