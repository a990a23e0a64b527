#!/bin/sh
# gen build --resident: the build is handed to a gen that stays and keeps
# the last build in memory. Through it, every build gives exactly the
# output, the diagnostics and the exit status of a clean build, after
# articles are edited, added, renamed and deleted, after site.toml
# changes, after pages in the output are deleted or edited by hand, and
# when an article is broken (the output then stays as it was).
. "$(dirname "$0")/lib.sh"

P=$WORK/p
mkdir -p "$P"
cp -R "$SRCDIR/content" "$SRCDIR/lua" "$SRCDIR/themes" "$SRCDIR/site.toml" "$P/"
i=1
while [ $i -le 12 ]; do
	cat > "$P/content/verhalen/extra-$i.md" <<MD
+++
title = "Extra verhaal $i"
kind = "story"
date = 2019-03-$(printf %02d $(( i + 1 )))
author = "Auteur $(( i % 3 ))"
+++
## Aan de balie

Een klant vraagt om hulp bij een retour. Zie [het volgende
verhaal](extra-$(( i % 12 + 1 )).md) en [de garage](de-garage.md).

## Wat beter kon

Om feedback vragen en de klacht serieus nemen.
MD
	i=$((i + 1))
done
git_init "$P"

# Every resident this test starts ends after a minute without a build,
# and at the end with --resident=0.
R() { "$GEN" build --resident=1 -C "$P" "$@"; }

n=0
# both NAME [OPTIONS]: a build through the resident into $WORK/out next
# to a clean one; same exit status, same files, same diagnostics.
both() {
	name=$1
	shift
	n=$((n + 1))
	R -o "$WORK/out" --stats "$@" > "$WORK/res.out" 2> "$WORK/res.err"
	res=$?
	"$GEN" build -C "$P" -o "$WORK/clean$n" --no-cache "$@" > /dev/null 2> "$WORK/clean.err"
	is "$res" "$?" "$name: the exit status of a clean build ($res)"
	[ "$res" -eq 0 ] || grep 'error' "$WORK/res.err" | head -3 | sed 's/^/# /'
	if [ -d "$WORK/clean$n" ]; then
		diff -r "$WORK/out" "$WORK/clean$n" > "$WORK/diff" 2>&1
		ok $? "$name: the output is identical to a clean build's"
		head -20 "$WORK/diff" | sed 's/^/# /'
	fi
	grep -Ev '^(built|stage|source|documents|filters|site|history|render|output|total|pages kept) |^  ' \
		"$WORK/res.err" > "$WORK/res.diag"
	grep -v '^built ' "$WORK/clean.err" > "$WORK/clean.diag"
	cmp -s "$WORK/res.diag" "$WORK/clean.diag"
	ok $? "$name: the diagnostics of a clean build"
	diff "$WORK/res.diag" "$WORK/clean.diag" | head -10 | sed 's/^/# /'
	rm -rf "$WORK/clean$n"
}
# held: the last build through the resident took the articles from its
# memory.
held() {
	grep -q 'kept in memory since the last' "$WORK/res.err"
}

both "first build"
held
ok $((! $?)) "first build: nothing is held in memory yet"
both "nothing changed"
held
ok $? "nothing changed: the articles come from the resident's memory"
contains "$WORK/res.err" "built " "the summary line reaches the command's stderr"

# Edits, one commit each.
sed -i 's/^title = "Extra verhaal 3"/title = "Het derde verhaal"/' "$P/content/verhalen/extra-3.md"
git -C "$P" commit -qam "verhaal 3: nieuwe titel"
both "title edited"
held
ok $? "title edited: built from memory"
contains "$WORK/out/verhalen/extra-2/index.html" "Het derde verhaal" \
	"title edited: the new title shows on the page that links to it"

printf '\nNog een zin over de klant.\n' >> "$P/content/verhalen/extra-5.md"
git -C "$P" commit -qam "verhaal 5: een zin erbij"
both "text edited"

# The build cache cut short in place while the resident maps it: reading
# the articles' text from the lost pages would end the resident (SIGBUS,
# and the command builds on its own after a warning). It reads the
# articles again instead.
# The damage is told, as a build in place tells it.
size=$(wc -c < "$WORK/.gen-cache/documents.pack")
truncate -s $((size / 3)) "$WORK/.gen-cache/documents.pack"
printf '\nEn nog een zin.\n' >> "$P/content/verhalen/extra-6.md"
git -C "$P" commit -qam "verhaal 6: een zin erbij"
R -o "$WORK/out" 2> "$WORK/res.err"
ok $? "the build cache cut short in place: the build succeeds"
lacks "$WORK/res.err" "did not answer" "the build cache cut short: the resident answers"
contains "$WORK/res.err" "the build cache was damaged" "the build cache cut short: the damage is told"
both "after the build cache was cut short"
held
ok $? "after the build cache was cut short: built from memory again"

sed 's/Extra verhaal 1"/Nieuw verhaal"/' "$P/content/verhalen/extra-1.md" \
	> "$P/content/verhalen/nieuw.md"
git -C "$P" add content/verhalen/nieuw.md
git -C "$P" commit -qm "een nieuw verhaal"
both "article added"

git -C "$P" mv content/verhalen/extra-7.md content/verhalen/zeven.md
sed -i 's/extra-7\.md/zeven.md/' "$P/content/verhalen/extra-6.md"
git -C "$P" commit -qam "verhaal 7 hernoemd"
both "article renamed"

git -C "$P" rm -q content/verhalen/extra-9.md
sed -i 's/extra-9\.md/extra-10.md/' "$P/content/verhalen/extra-8.md"
git -C "$P" commit -qam "verhaal 9 weg"
both "article deleted"

sed -i 's/^title = .*/title = "Het handboek, anders genoemd"/' "$P/site.toml"
git -C "$P" commit -qam "andere titel"
both "site.toml changed"
contains "$WORK/out/index.html" "Het handboek, anders genoemd" "site.toml changed: the new title is on the home page"

# The output changed by hand between two builds: the resident does not
# trust it and puts back what a clean build has.
rm "$WORK/out/verhalen/extra-2/index.html"
echo "met de hand" >> "$WORK/out/verhalen/extra-4/index.html"
both "pages deleted and edited by hand"
held
ok $? "pages changed by hand: still built from memory"
lacks "$WORK/out/verhalen/extra-4/index.html" "met de hand" "a page edited by hand is made again"
rm -rf "$WORK/out/themas"
both "a folder of the output removed by hand"
touch "$WORK/out/zomaar.html"
both "a file put in the output by hand"
test ! -e "$WORK/out/zomaar.html"
ok $? "a file put in the output by hand is removed, as a build in place does"

# A broken article: the exit status and the error of a clean build, and
# the output stays as it was.
cp -R "$WORK/out" "$WORK/before"
printf '+++\ntitle = "Kapot\nkind = "story"\n+++\nTekst.\n' > "$P/content/verhalen/kapot.md"
git -C "$P" add content/verhalen/kapot.md
git -C "$P" commit -qm "kapot"
both "broken article"
is "$res" 1 "broken article: exit status 1"
contains "$WORK/res.err" "content/verhalen/kapot.md:2:" "broken article: the error names file and line"
diff -r "$WORK/before" "$WORK/out" > /dev/null 2>&1
ok $? "broken article: the output is untouched"
git -C "$P" rm -q content/verhalen/kapot.md
git -C "$P" commit -qm "weer heel"
both "fixed again"

# The notice of files not committed: the resident's git status looks
# again only at what its watch of the content and the index name; each
# notice must be a clean build's. Edits are built at once, without
# waiting, as a save followed by the command would be.
echo "Nog niet vastgelegd." >> "$P/content/verhalen/extra-2.md"
both "an edit not committed"
grep -q "1 file in 'content' differs" "$WORK/res.err"
ok $? "an edit not committed: the notice counts it"
echo "+++
title = \"Los\"
kind = \"story\"
+++
Los." > "$P/content/verhalen/los.md"
both "an untracked article"
git -C "$P" add content/verhalen/los.md
both "staged"
git -C "$P" commit -qam "los erbij"
both "committed"
git -C "$P" reset -q --soft HEAD~1
both "the commit undone, its files staged"
git -C "$P" reset -q --mixed HEAD
both "unstaged"
mkdir -p "$P/content/verhalen/map"
cp "$P/content/verhalen/los.md" "$P/content/verhalen/map/los2.md"
both "a folder with an article"
echo "map/" > "$P/content/.gitignore"
both "a .gitignore"
rm -rf "$P/content/verhalen/map" "$P/content/.gitignore"
git -C "$P" add -A
git -C "$P" commit -qm "alles vastgelegd"
both "all committed"
grep -q "differ" "$WORK/res.err"
is $? 1 "all committed: no notice"

# --worktree: another resident, which watches the content as gen serve
# does and lists only what changed; every edit is built at once, without
# waiting, as a save followed by the command would be.
both "work tree, first build" --worktree
both "work tree, nothing changed" --worktree
held
ok $? "work tree: built from memory"
printf '\nEen zin die nog niet is vastgelegd.\n' >> "$P/content/verhalen/extra-2.md"
both "work tree, an article edited" --worktree
contains "$WORK/out/verhalen/extra-2/index.html" "nog niet is vastgelegd" \
	"work tree: the uncommitted sentence is in the page"
mkdir -p "$P/content/verhalen/nieuwe-map"
printf '+++\ntitle = "In een nieuwe map"\nkind = "story"\ndate = 2019-04-01\n+++\n%s\n' \
	'Een klant wacht aan de balie en niemand kijkt op.' > "$P/content/verhalen/nieuwe-map/verhaal.md"
both "work tree, an article in a new folder" --worktree
printf '\nNog een zin in de nieuwe map.\n' >> "$P/content/verhalen/nieuwe-map/verhaal.md"
both "work tree, an article in that folder edited" --worktree
contains "$WORK/out/verhalen/nieuwe-map/verhaal/index.html" "Nog een zin in de nieuwe map" \
	"work tree: the edit in the new folder is seen"
rm "$P/content/verhalen/extra-12.md"
sed -i 's/extra-12\.md/extra-1.md/' "$P/content/verhalen/extra-11.md"
both "work tree, an article removed" --worktree
git -C "$P" checkout -q -- content
rm -rf "$P/content/verhalen/nieuwe-map"
both "work tree, back to the commit" --worktree
R -o "$WORK/out" --worktree --resident=0 -q
ok $? "work tree: --resident=0 ends that resident"

# The command's umask reaches the resident: the files it writes get the
# modes a build in place would give them.
printf '\nNog een zin, onder een andere umask.\n' >> "$P/content/verhalen/extra-6.md"
git -C "$P" commit -qam "verhaal 6: een zin erbij"
(umask 077 && R -o "$WORK/out" -q)
ok $? "umask 077: the build succeeds"
is "$(stat -c %a "$WORK/out/verhalen/extra-6/index.html")" 600 \
	"umask 077: the page written gets mode 600, as in place"
printf '\nEn nog een.\n' >> "$P/content/verhalen/extra-6.md"
git -C "$P" commit -qam "verhaal 6: nog een zin"
(umask 022 && R -o "$WORK/out" -q)
is "$(stat -c %a "$WORK/out/verhalen/extra-6/index.html")" 644 \
	"umask 022 again: mode 644"

# -q reaches the resident: nothing on stderr when all is well.
R -o "$WORK/out" -q > "$WORK/q.out" 2> "$WORK/q.err"
ok $? "-q: the build succeeds"
test ! -s "$WORK/q.err" && test ! -s "$WORK/q.out"
ok $? "-q: nothing printed"

# Other options, another resident: it has nothing in memory at first.
R -o "$WORK/other" --stats > /dev/null 2> "$WORK/res.err"
ok $? "another output folder: the build succeeds"
held
ok $((! $?)) "another output folder: another resident, nothing in memory"
R -o "$WORK/other" --resident=0 -q
ok $? "--resident=0: the build succeeds"

# --resident=0 ends the resident: the next build starts a new one.
R -o "$WORK/out" --resident=0 --stats > /dev/null 2> "$WORK/res.err"
ok $? "--resident=0 builds"
held
ok $? "--resident=0: that build still came from memory"
R -o "$WORK/out" --stats > /dev/null 2> "$WORK/res.err"
held
ok $((! $?)) "after --resident=0, a new resident starts with nothing in memory"

# --resident=0 with no resident for those options builds here and
# starts none.
R -o "$WORK/third" --resident=0 -q
ok $? "--resident=0, none running: the build succeeds"
test -f "$WORK/third/index.html"
ok $? "--resident=0, none running: the site is written"
pgrep -f "resident-serve.*$WORK/third" > /dev/null
ok $((! $?)) "--resident=0, none running: no resident is started"

# The resident goes by the command's name in ps and top, not "exe"
# (it is started as /proc/self/exe).
R -o "$WORK/out" -q
pid=$(pgrep -f "resident-serve.*$WORK/out" | head -1)
is "$(cat /proc/$pid/comm 2>/dev/null)" "$(basename "$GEN")" "the resident is named as its command"

# A bad number of minutes is a usage error.
"$GEN" build --resident=x -C "$P" -o "$WORK/out" 2> "$WORK/usage.err"
is "$?" 2 "--resident=x: a usage error"
contains "$WORK/usage.err" "'--resident' takes minutes" "--resident=x: says what it takes"

R -o "$WORK/out" --resident=0 -q
done_testing
