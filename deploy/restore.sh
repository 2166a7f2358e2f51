#!/bin/sh
# Restore a dump made by deploy/backup.sh into an empty PostgreSQL database:
#
#   createdb -O gonghui gonghui_restored
#   TARGET_DATABASE_URL=postgres://gonghui:...@db:5432/gonghui_restored deploy/restore.sh gonghui-20260101T020000Z.dump
#
# It refuses a database that already has tables (restore next to the live one, then point
# DATABASE_URL at it), restores in one transaction (all or nothing), and stops at the first
# error. Then start the service on it with the same secrets: ID numbers open only with the
# ID_ENCRYPTION_KEYS they were sealed under (keep retired keys with the backups that need them).
set -eu

dump=${1:?usage: TARGET_DATABASE_URL=postgres://... restore.sh DUMP_FILE}
: "${TARGET_DATABASE_URL:?set TARGET_DATABASE_URL to the empty database to restore into}"
[ -r "$dump" ] || { echo "restore.sh: cannot read $dump" >&2; exit 2; }

tables=$(psql --no-psqlrc --quiet --tuples-only --no-align --dbname="$TARGET_DATABASE_URL" \
    --command="SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
if [ "$tables" != 0 ]; then
    echo "restore.sh: the target database already has $tables tables; restore into an empty one" >&2
    exit 1
fi

pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$TARGET_DATABASE_URL" "$dump"
echo "restored $dump"
