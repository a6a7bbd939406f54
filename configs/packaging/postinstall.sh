#!/bin/sh
# Runs after the deb or rpm package is unpacked: creates the fluidb user and
# data directory and lets that user's group, and no one else, read the
# configuration (it may hold passwords).
#
# Arguments: deb "configure <previous-version or empty>", rpm "1" (install)
# or "2" (upgrade). DPKG_ROOT, when set, is the root of the system being
# installed into, as in Debian's maintainer scripts.
set -e

root="${DPKG_ROOT:-}"

first_install=no
case "$1" in
configure) [ -z "${2:-}" ] && first_install=yes ;;
1) first_install=yes ;;
esac

if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers ${root:+--root="$root"} fluidb.conf
elif ! getent passwd fluidb >/dev/null; then
	getent group fluidb >/dev/null || groupadd --system fluidb
	useradd --system --gid fluidb --home-dir /var/lib/fluidb --no-create-home \
		--shell /usr/sbin/nologin --comment "fluidb database" fluidb
fi

# Numeric ids from the target system's files, so that DPKG_ROOT works too.
uid=$(awk -F: '$1 == "fluidb" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "fluidb" { print $3 }' "$root/etc/group")

if command -v systemd-tmpfiles >/dev/null 2>&1; then
	systemd-tmpfiles ${root:+--root="$root"} --create fluidb.conf
else
	mkdir -p "$root/var/lib/fluidb"
	chown "$uid:$gid" "$root/var/lib/fluidb"
	chmod 0750 "$root/var/lib/fluidb"
fi

# The package ships /etc/fluidb and its configuration as root:root; the
# service must read them and others must not (the file may hold passwords).
# An upgrade that replaces an unmodified configuration brings root:root back,
# so this runs every time, but only on what is still in group root: a group
# the administrator chose stays.
if [ "$(stat -c %g "$root/etc/fluidb")" = 0 ]; then
	chgrp "$gid" "$root/etc/fluidb"
	chmod g+rx,o-rwx "$root/etc/fluidb"
fi
if [ "$(stat -c %g "$root/etc/fluidb/fluidb.conf")" = 0 ]; then
	chgrp "$gid" "$root/etc/fluidb/fluidb.conf"
	chmod g+r,o-rwx "$root/etc/fluidb/fluidb.conf"
fi

if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
	if [ "$first_install" = yes ]; then
		echo "fluidb: start it with: systemctl enable --now fluidb"
	else
		# An upgrade restarts a running server on the new binary.
		systemctl try-restart fluidb.service >/dev/null || true
	fi
fi
