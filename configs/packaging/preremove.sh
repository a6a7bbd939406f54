#!/bin/sh
# Runs before the package's files are removed: stops the service on removal
# (deb "remove", rpm "0"), not on upgrade.
set -e

case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now fluidb.service >/dev/null 2>&1 || true
	fi
	;;
esac
