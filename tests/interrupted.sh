#!/bin/sh
# A build that is stopped (Ctrl-C, kill, a crash) leaves its temporary
# folder "<output>.tmp-XXXXXX" beside the output: half a site or the
# files it had staged. The next build into that output removes it, but
# only when no build holds its lock, it has not changed for ten seconds,
# and it holds nothing but what a build puts there (see gen/output.c,
# "what an interrupted build leaves").
. "$(dirname "$0")/lib.sh"

# 300 articles: a build long enough to be caught halfway.
synthetic_handbook "$WORK/b" 300 3 5
ok $? "a synthetic handbook of 300 articles"
P=$WORK/b/repo
OUT=$WORK/uit/site

# tmp_dirs: the temporary folders beside the output, by name.
tmp_dirs() {
	(cd "$WORK/uit" 2> /dev/null && ls -d site.tmp-* 2> /dev/null) | sort | tr '\n' ' '
}
# age DIR: its mtime a minute ago, as a folder left by a stopped build.
age() {
	touch -d '1 minute ago' "$1"
}

# A build from nothing, stopped halfway: its folder (with the mark of a
# new site) is left beside the output, locked while the build lives.
"$GEN" build -q --no-cache -C "$P" -o "$OUT" > /dev/null 2>&1 &
pid=$!
appears "$WORK/uit/site.tmp-*/.gen-site"
kill -STOP $pid
tmp=$(ls -d "$WORK"/uit/site.tmp-* 2> /dev/null | head -1)
test -n "$tmp" && [ ! -e "$OUT" ]
ok $? "a build from nothing, halfway: its temporary folder, no site yet"
flock -n "$tmp" true
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "the build holds its temporary folder's lock"
# Another build into the same output meanwhile waits for it (see
# tests/together.sh), however old its folder looks.
age "$tmp"
"$GEN" build -q -C "$P" -o "$OUT" 2> "$WORK/err" &
other=$!
sleep 0.8
kill -0 $other 2> /dev/null
ok $? "another build into the output meanwhile waits for it"
[ -d "$tmp" ]
ok $? "and leaves its temporary folder alone"
kill -KILL $pid
kill -CONT $pid 2> /dev/null
wait $pid 2> /dev/null
wait $other
ok $? "the stopped build killed, the one that waited goes on and succeeds"
[ ! -e "$tmp" ] && test -f "$OUT/index.html"
ok $? "it removes the killed build's folder (old, unlocked) and makes the site"

# Folders beside the output: one of staged files, one just made
# (young), one locked, and one that holds something no build puts there.
mkdir "$WORK/uit/site.tmp-gestag" "$WORK/uit/site.tmp-jongjo" \
	"$WORK/uit/site.tmp-slotje" "$WORK/uit/site.tmp-vreemd"
echo a > "$WORK/uit/site.tmp-gestag/1"
echo b > "$WORK/uit/site.tmp-gestag/27"
echo c > "$WORK/uit/site.tmp-jongjo/3"
echo d > "$WORK/uit/site.tmp-slotje/4"
echo belangrijk > "$WORK/uit/site.tmp-vreemd/notities.txt"
for d in "$WORK/uit/site.tmp-gestag" "$WORK/uit/site.tmp-slotje" \
	"$WORK/uit/site.tmp-vreemd"; do
	age "$d"
done
hold "$WORK/uit/site.tmp-slotje"
"$GEN" build -q -C "$P" -o "$OUT" 2> "$WORK/err"
ok $? "the next build into the output succeeds"
left=$(tmp_dirs)
is "$left" "site.tmp-jongjo site.tmp-slotje site.tmp-vreemd " \
	"it removes the stopped build's staged files, not a young, a locked or a foreign folder"
is "$(cat "$WORK/uit/site.tmp-vreemd/notities.txt")" "belangrijk" "the foreign one as it was"
kill $holder
wait $holder 2> /dev/null
# Once old and unlocked, the others go too; the foreign one stays.
age "$WORK/uit/site.tmp-jongjo"
age "$WORK/uit/site.tmp-slotje"
"$GEN" build -q -C "$P" -o "$OUT" 2> "$WORK/err"
ok $? "a build after that"
is "$(tmp_dirs)" "site.tmp-vreemd " "removes them once old and unlocked"

# A rebuild stopped halfway: its folder goes the same way, and the site
# it would have changed is as it was. Killed as soon as its folder is
# there, which is long before its commit; once it holds staged files the
# commit can be a few milliseconds away, too close to catch it reliably
# before (the staged files' own sweep is site.tmp-gestag's above).
find "$OUT" -type f | sort | xargs cat | cksum > "$WORK/before"
printf '\nNog een zin.\n' >> "$(find "$P/content/verhalen" -name '*.md' ! -name '_*' | sort | sed -n 5p)"
git -C "$P" commit -qam "een zin erbij"
"$GEN" build -q --no-cache -C "$P" -o "$OUT" > /dev/null 2>&1 &
pid=$!
# Its folder is any but the foreign one: not by a glob like
# site.tmp-[!v]*, as mkdtemp's six letters may begin with a v too (one
# run in 62 then missed it, and the rebuild ran to its end).
i=0
while [ $i -lt 2000 ] && [ "$(tmp_dirs)" = "site.tmp-vreemd " ]; do
	sleep 0.005
	i=$((i + 1))
done
kill -KILL $pid
wait $pid 2> /dev/null
find "$OUT" -type f | sort | xargs cat | cksum > "$WORK/after"
cmp -s "$WORK/before" "$WORK/after"
ok $? "a rebuild killed halfway leaves the site as it was"
for d in "$WORK"/uit/site.tmp-*; do
	age "$d"
done
"$GEN" build -q -C "$P" -o "$OUT" 2> "$WORK/err"
ok $? "the build after it succeeds"
is "$(tmp_dirs)" "site.tmp-vreemd " "and removes the rebuild's folder"
rm -rf "$WORK/clean"
"$GEN" build -q --no-cache -C "$P" -o "$WORK/clean/site"
diff -r "$OUT" "$WORK/clean/site" > /dev/null 2>&1
ok $? "and the site is what a clean build makes"

# The build cache: what saves that were stopped were writing. A file
# named for a process goes when the process is gone; one written anew
# when no process holds it and it is old; nothing else.
C=$WORK/uit/.gen-cache
sleep 0 &
dead=$!
wait $dead
for f in "search-0.mem.tmp$dead" "links.bin.tmp$$" documents.pack.tmp-AbCdEf \
	search.pack.tmp-GhIjKl diffs.pack.tmp-MnOpQr notities.tmp.txt; do
	echo x > "$C/$f"
done
age "$C/documents.pack.tmp-AbCdEf"
age "$C/diffs.pack.tmp-MnOpQr"
age "$C/notities.tmp.txt"
hold "$C/diffs.pack.tmp-MnOpQr"
"$GEN" build -q -C "$P" -o "$OUT" 2> "$WORK/err"
ok $? "a build with a cache folder holding such files"
left=$(cd "$C" && ls | grep -E 'tmp' | sort | tr '\n' ' ')
is "$left" "diffs.pack.tmp-MnOpQr links.bin.tmp$$ notities.tmp.txt search.pack.tmp-GhIjKl " \
	"it removes those of a process gone and the old unlocked one, not the others"
kill $holder
wait $holder 2> /dev/null

done_testing
