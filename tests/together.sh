#!/bin/sh
# Two builds at the same time into one output, or sharing one build
# cache: the second waits for the first (a lock on the folder that holds
# the output and .gen-cache, see output_lock), then builds on what the
# first left. Without it the one that committed last would leave its
# pages over the other's: a site of two revisions at once.
. "$(dirname "$0")/lib.sh"

synthetic_handbook "$WORK/b" 300 3 7
ok $? "a synthetic handbook of 300 articles"
P=$WORK/b/repo
OUT=$WORK/uit/site
"$GEN" build -q -C "$P" -o "$OUT"
ok $? "a first build"

# running PID: whether that process still runs, after a while.
running() {
	sleep 0.8
	kill -0 "$1" 2> /dev/null
}
# held DIR CMD...: CMD in the background while DIR's lock is held, its
# stdout in $WORK/out and stderr in $WORK/err; $waited is 0 when it
# still ran after a while, $status its exit status once the lock was let
# go.
held() {
	hold "$1"
	shift
	"$@" > "$WORK/out" 2> "$WORK/err" &
	pid=$!
	running $pid
	waited=$?
	kill $holder
	wait $holder 2> /dev/null
	wait $pid
	status=$?
}
# sum: one checksum of every file of the site.
sum() {
	(cd "$OUT" && find . -type f | sort | xargs cat | cksum)
}
story=$(find "$P/content/verhalen" -name '*.md' ! -name '_*' | sort | sed -n 3p)
slug=$(basename "$story" .md)

# A build while another holds the lock: it waits, says so, and changes
# nothing until the lock is let go.
printf '\nEen zin die er eerst bij kwam.\n' >> "$story"
git -C "$P" commit -qam "een zin"
before=$(sum)
hold "$WORK/uit"
"$GEN" build -C "$P" -o "$OUT" > /dev/null 2> "$WORK/err" &
pid=$!
running $pid
ok $? "a build while another holds the lock waits"
contains "$WORK/err" "gen: waiting for another gen build in '$WORK/uit' to end" \
	"and says what it waits for"
is "$(sum)" "$before" "the site is as it was while it waits"
kill $holder
wait $holder 2> /dev/null
wait $pid
ok $? "the lock let go, the build goes on and succeeds"
grep -Eq "unchanged\) in [0-9.]+ s, after [0-9.]+ s waiting for another build" "$WORK/err"
ok $? "its report gives its own time and the wait apart"
contains "$OUT/verhalen/$slug/index.html" "Een zin die er eerst bij kwam." \
	"and its page has the new sentence"

# Quiet, it waits without a word.
held "$WORK/uit" "$GEN" build -q -C "$P" -o "$OUT"
ok $waited "a quiet build waits too"
ok $status "and succeeds"
is "$(cat "$WORK/err")" "" "without a word"

# gen check shares the build cache (beside the output site.toml names,
# in the project): it waits as well.
held "$P" "$GEN" check -q -C "$P"
ok $waited "gen check waits for the lock on the cache"
ok $status "and then checks"
# So does gen list, which reads the articles from the cache.
held "$P" "$GEN" list -C "$P"
ok $waited "gen list waits for it too"
ok $status "and then lists"
contains "$WORK/out" "$slug" "every article"

# Two real builds of two revisions: the first stopped halfway (its
# temporary folder made, nothing committed), the second started then.
# The second waits for the first, then builds the newer revision over
# it; without the lock the first, let go on, would put its older page
# over the newer one.
printf '\nDe tweede zin van vandaag.\n' >> "$story"
git -C "$P" commit -qam "tweede zin"
"$GEN" build -q --no-cache -C "$P" -o "$OUT" > /dev/null 2>&1 &
first=$!
appears "$WORK/uit/site.tmp-*"
kill -STOP $first
printf '\nDe derde zin, het laatst.\n' >> "$story"
git -C "$P" commit -qam "derde zin"
"$GEN" build -q -C "$P" -o "$OUT" > /dev/null 2> "$WORK/err" &
second=$!
running $second
ok $? "a build beside a stopped one waits for it"
kill -CONT $first
wait $first
ok $? "the stopped build, let go on, succeeds"
wait $second
ok $? "then the one that waited"
contains "$OUT/verhalen/$slug/index.html" "De derde zin, het laatst." \
	"the page is the newest revision's"
rm -rf "$WORK/clean"
"$GEN" build -q --no-cache -C "$P" -o "$WORK/clean/site"
diff -r "$OUT" "$WORK/clean/site" > "$WORK/diff" 2>&1
ok $? "and the whole site is what a clean build of it makes"
head -20 "$WORK/diff" | sed 's/^/# /'

# Builds into two outputs with caches of their own do not wait for each
# other.
hold "$WORK/uit"
timeout 120 "$GEN" build -q -C "$P" -o "$WORK/elders/site" > /dev/null 2> "$WORK/err"
ok $? "a build into an output elsewhere goes on while the lock is held"
kill $holder
wait $holder 2> /dev/null

# The folder the lock is taken on is made when missing, and taken away
# again when the build failed before it wrote anything there: a mistyped
# site.toml leaves no trace of its -o.
cp "$P/site.toml" "$WORK/site.toml"
printf 'title = "niet af\n' > "$P/site.toml"
"$GEN" build --worktree -q -C "$P" -o "$WORK/nieuw/a/b/site" 2> "$WORK/err"
is "$?" 1 "a build with a broken site.toml into a new folder fails"
contains "$WORK/err" "site.toml:1:9: error: unterminated string" "and says where"
ok "$([ ! -e "$WORK/nieuw" ] && echo 0 || echo 1)" "and leaves none of the folders it made"
mkdir -p "$WORK/nieuw/a"
"$GEN" build --worktree -q -C "$P" -o "$WORK/nieuw/a/b/site" 2> /dev/null
ok "$([ -d "$WORK/nieuw/a" ] && [ ! -e "$WORK/nieuw/a/b" ] && echo 0 || echo 1)" \
	"a folder that was there before stays"
cp "$WORK/site.toml" "$P/site.toml"

# The folder a build waits on is taken away by the one that held it (as
# a failed build does): the build that waited makes it anew and builds.
mkdir -p "$WORK/weg"
hold "$WORK/weg"
"$GEN" build -q -C "$P" -o "$WORK/weg/site" > /dev/null 2> "$WORK/err" &
pid=$!
running $pid
ok $? "a build waits for the folder's lock"
rmdir "$WORK/weg"
kill $holder
wait $holder 2> /dev/null
# While it builds, the folder made anew is the one it holds the lock of:
# a lock on the folder removed would let a third build in beside it.
locked=1
while kill -0 $pid 2> /dev/null; do
	if [ -d "$WORK/weg" ] && ! flock -n "$WORK/weg" true 2> /dev/null; then
		locked=0
		break
	fi
	sleep 0.005
done
wait $pid
ok $? "its folder removed while it waited, it still builds"
ok $locked "holding the lock of the folder made anew, not of the one removed"
ok "$([ -f "$WORK/weg/site/index.html" ] && echo 0 || echo 1)" "into the folder made anew"

done_testing
