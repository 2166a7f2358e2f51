#!/bin/sh
# Back up the Gonghui database with pg_dump, in its custom format (compressed, checked, restorable
# table by table with deploy/restore.sh). Run it from cron or a systemd timer on any machine with
# the PostgreSQL client of the server's major version or newer:
#
#   DATABASE_URL=postgres://gonghui:...@db:5432/gonghui deploy/backup.sh /var/backups/gonghui
#
# It writes DIRECTORY/gonghui-<UTC time>.dump (mode 0600), prints its path, and keeps the newest
# BACKUP_KEEP dumps there (14 unless set). A dump is consistent (one snapshot) while the service
# runs. Copy the dumps off the machine; they hold personal data (ID numbers sealed, names and
# phones in clear).
set -eu

: "${DATABASE_URL:?set DATABASE_URL to the database to back up (postgres://user:password@host:5432/name)}"
directory=${1:-.}
keep=${BACKUP_KEEP:-14}
mkdir -p "$directory"
umask 077
target="$directory/gonghui-$(date -u +%Y%m%dT%H%M%SZ).dump"

pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$target.partial"
# A dump whose table of contents cannot be read is no backup: fail now, not on the day of restore.
pg_restore --list "$target.partial" >/dev/null
mv "$target.partial" "$target"
echo "$target"

# The newest $keep dumps stay; names sort by time.
find "$directory" -maxdepth 1 -name 'gonghui-*.dump' | sort -r | tail -n "+$((keep + 1))" | while read -r old; do
    rm -f -- "$old"
done
