#!/bin/sh
# Browser tests of search (tests/browser/search.mjs, TAP): builds the
# handbook from the work tree and runs the search UI in Debian's chromium
# through playwright-core, over http and over file://. browser_setup
# (lib.sh) installs what is missing first.
. "$(dirname "$0")/lib.sh"
browser_setup || exit 0

"$GEN" build -C "$SRCDIR" --worktree -q -o "$WORK/site" 2> "$WORK/err" || {
	echo "not ok 1 - the handbook builds"
	sed 's/^/# /' "$WORK/err"
	echo "1..1"
	exit 1
}
cd "$B" && node search.mjs "$WORK/site"
