#!/bin/sh
# Checks that every library gen needs is installed; installs the missing
# Debian packages when run as root with apt-get, otherwise prints the
# exact command to run. Arguments: pkg-config modules, Debian packages.
modules=$1
packages=$2
missing=0
command -v pkg-config >/dev/null 2>&1 || missing=1
if [ $missing = 0 ]; then
	for m in $modules; do
		pkg-config --exists "$m" || { missing=1; break; }
	done
fi
# Neither libstemmer nor cmark-gfm's extensions ship a .pc file.
for h in /usr/include/libstemmer.h /usr/include/cmark-gfm-core-extensions.h; do
	[ -f "$h" ] || missing=1
done
command -v prove >/dev/null 2>&1 || missing=1
command -v xmllint >/dev/null 2>&1 || missing=1
command -v git >/dev/null 2>&1 || missing=1
[ $missing = 0 ] && exit 0

need=""
for p in $packages git; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
done
if [ -z "$need" ]; then
	echo "deps: every package is installed, but a library is still not found by pkg-config" >&2
	exit 1
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q $need || { apt-get update -q && apt-get install -y -q $need; } || exit 1
	exit 0
fi
echo "gen needs these Debian packages; run:" >&2
echo "  sudo apt-get install$need" >&2
exit 1
