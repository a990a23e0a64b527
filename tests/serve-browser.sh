#!/bin/sh
# Browser tests of gen serve (tests/browser/serve.mjs, TAP): an open page
# reloads itself after a save, shows a failed build's errors over the
# last good page, drops them after the fix, and loads again after the
# server was restarted. browser_setup (lib.sh) installs chromium, node
# and playwright-core when they are missing.
. "$(dirname "$0")/lib.sh"
browser_setup || exit 0

P=$WORK/p
make_project "$P"
git_init "$P"
cd "$B" && node serve.mjs "$GEN" "$P"
