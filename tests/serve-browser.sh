#!/bin/sh
# Browser tests of gen serve (tests/browser/serve.mjs, TAP): an open page
# reloads itself after a save, shows a failed build's errors over the
# last good page, and drops them after the fix. browser_setup (lib.sh)
# installs chromium, node and playwright-core when they are missing.
. "$(dirname "$0")/lib.sh"
browser_setup || exit 0

P=$WORK/p
make_project "$P"
git_init "$P"
: > "$WORK/serve.log"
"$GEN" serve -C "$P" -p 0 -q 2> "$WORK/serve.log" &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q '^gen serve: http://' "$WORK/serve.log"; do
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
url=$(sed -n 's|^gen serve: \(http://[^ ]*/\) .*|\1|p' "$WORK/serve.log")
if [ -z "$url" ]; then
	echo "not ok 1 - gen serve starts"
	sed 's/^/# /' "$WORK/serve.log"
	kill $pid 2>/dev/null
	echo "1..1"
	exit 1
fi
(cd "$B" && node serve.mjs "$url" "$P")
rc=$?
kill $pid
wait $pid
exit $rc
