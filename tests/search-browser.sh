#!/bin/sh
# Browser tests of search (tests/browser/search.mjs, TAP): builds the
# handbook from the work tree and runs the search UI in Debian's chromium
# through playwright-core, over http and over file://. Installs what is
# missing first, as tools/deps.sh does for the libraries: the Debian
# packages chromium and nodejs (as root, with apt-get), and the npm
# packages pinned in tests/browser/package-lock.json (npm ci). Without
# root the test is skipped with the command to run.
. "$(dirname "$0")/lib.sh"
B=$SRCDIR/tests/browser

need=""
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need="$need chromium"
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
if [ -n "$need" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "# installing$need" >&2
		export DEBIAN_FRONTEND=noninteractive
		{ apt-get install -y -q $need || { apt-get update -q && apt-get install -y -q $need; }; } >&2
	fi
	for p in $need; do
		case $p in
		chromium) [ -x "${CHROMIUM:-/usr/bin/chromium}" ] && continue ;;
		nodejs) command -v node >/dev/null 2>&1 && continue ;;
		npm) command -v npm >/dev/null 2>&1 && continue ;;
		esac
		echo "1..0 # SKIP needs Debian packages:$need (sudo apt-get install$need)"
		exit 0
	done
fi
# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f "$B/node_modules/.package-lock.json" ] ||
   [ "$B/package-lock.json" -nt "$B/node_modules/.package-lock.json" ]; then
	(cd "$B" && npm ci --no-audit --no-fund --loglevel=error) >&2 || {
		echo "1..0 # SKIP 'npm ci' failed in tests/browser"
		exit 0
	}
fi

"$GEN" build -C "$SRCDIR" --worktree -q -o "$WORK/site" 2> "$WORK/err" || {
	echo "not ok 1 - the handbook builds"
	sed 's/^/# /' "$WORK/err"
	echo "1..1"
	exit 1
}
cd "$B" && node search.mjs "$WORK/site"
