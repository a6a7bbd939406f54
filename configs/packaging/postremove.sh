#!/bin/sh
# Runs after the package's files are removed. The fluidb user, its data in
# /var/lib/fluidb and (until a purge) the configuration file stay: removing a
# database package must not remove the database.
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
