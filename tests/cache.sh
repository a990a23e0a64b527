#!/bin/sh
# The build cache (.gen-cache/documents.pack): a build that reads articles
# from it gives exactly the output and the diagnostics of a clean build
# (--no-cache, fresh output directory) after articles are edited, added,
# renamed and deleted, after filters, Lua modules or site.toml change,
# and in work-tree mode; a damaged cache or one of another gen is never
# trusted.
. "$(dirname "$0")/lib.sh"

P=$WORK/p
mkdir -p "$P"
cp -R "$SRCDIR/content" "$SRCDIR/lua" "$SRCDIR/themes" "$SRCDIR/site.toml" "$P/"
# More articles that link to each other and to the handbook's own.
i=1
while [ $i -le 20 ]; do
	cat > "$P/content/verhalen/extra-$i.md" <<MD
+++
title = "Extra verhaal $i"
kind = "story"
date = 2019-02-$(printf %02d $(( i + 1 )))
author = "Auteur $(( i % 3 ))"
+++
## Aan de balie

Een klant vraagt om hulp. "Dat staat niet in mijn functieomschrijving,"
zegt de medewerker. Zie [het vorige verhaal](extra-$(( i % 20 + 1 )).md#aan-de-balie)
en [de garage](de-garage.md).

> Ik kan er ook niets aan doen.

## Wat beter kon

Om feedback vragen en de klacht serieus nemen.
MD
	i=$((i + 1))
done
# A warning that must come back from the cache: invalid UTF-8.
printf '+++\ntitle = "Kapotte tekens"\nkind = "story"\n+++\nEen \377 teken.\n' \
	> "$P/content/verhalen/kapot.md"
git_init "$P"

n=0
# build_both NAME [OPTIONS]: the incremental build (cache, the same output
# directory every time) next to a clean one; both must succeed and agree
# on every file and on stderr.
build_both() {
	name=$1
	shift
	n=$((n + 1))
	"$GEN" build -C "$P" -o "$WORK/inc" --stats "$@" > /dev/null 2> "$WORK/inc.err"
	ok $? "$name: incremental build succeeds"
	"$GEN" build -C "$P" -o "$WORK/clean$n" --no-cache "$@" > /dev/null 2> "$WORK/clean.err"
	ok $? "$name: clean build succeeds"
	diff -r "$WORK/inc" "$WORK/clean$n" > "$WORK/diff" 2>&1
	ok $? "$name: incremental output is identical to a clean build"
	head -20 "$WORK/diff" | sed 's/^/# /'
	grep -Ev '^(built|stage|source|documents|filters|site|history|render|output|total|pages kept) |^  ' \
		"$WORK/inc.err" | grep -v 'the build cache was damaged' > "$WORK/inc.diag"
	grep -v '^built ' "$WORK/clean.err" > "$WORK/clean.diag"
	cmp -s "$WORK/inc.diag" "$WORK/clean.diag"
	ok $? "$name: the same diagnostics as a clean build"
	diff "$WORK/inc.diag" "$WORK/clean.diag" | head -10 | sed 's/^/# /'
	rm -rf "$WORK/clean$n"
}

# from_cache: "N of M" of the last incremental build.
from_cache() {
	sed -n 's/.*; \([0-9]* of [0-9]*\) from the cache.*/\1/p' "$WORK/inc.err"
}
# articles: the number of articles now.
articles() {
	find "$P/content" -name '*.md' | wc -l
}

build_both "first build"
is "$(from_cache)" "0 of $(articles)" "first build: nothing comes from the cache"
test -s "$WORK/.gen-cache/documents.pack"
ok $? "the cache is written beside the output"
# A first build finds no search memory: its index writes one as it goes
# (see gen/search.c, "the memory streamed"), for the next build that
# makes the index.
test -s "$(ls "$WORK"/.gen-cache/search-*.mem 2> /dev/null | head -1)"
ok $? "first build: the search index writes its memory as it goes"
contains "$WORK/inc.diag" "kapot.md:5" "the invalid UTF-8 warning names the line"

build_both "nothing changed"
is "$(from_cache)" "$(articles) of $(articles)" "nothing changed: every article comes from the cache"
contains "$WORK/inc.err" "and every file of the index: as in" \
	"nothing changed: the search index is kept whole, not made"
pages=$(sed -n 's/^built \([0-9]*\) pages.*/\1/p' "$WORK/inc.err")
kept=$(sed -n 's/^pages kept *\([0-9]*\) .*/\1/p' "$WORK/inc.err")
is "$kept" "$pages" "nothing changed: no page is rendered again"
test -n "$(ls "$WORK"/.gen-cache/pages-*.pack 2> /dev/null)"
ok $? "the page cache is written"
# A page removed by hand is made again, the list of themes (made from the
# theme pages it would otherwise skip) too.
rm "$WORK/inc/themas/index.html" "$WORK/inc/print/index.html" "$WORK/inc/zoeken/w/0.js"
build_both "pages removed by hand"
lacks "$WORK/inc.err" "and every file of the index" \
	"pages removed by hand: a file of the search index is gone, so the index is made"
contains "$WORK/inc.err" "the words of $(sed -n 's/.*the text of \([0-9]*\) of.*/\1/p' "$WORK/inc.err" | head -1) and the postings" \
	"pages removed by hand: every article's words and postings from the first build's memory"
# A page changed by hand in the output is made again.
echo "met de hand" >> "$WORK/inc/verhalen/extra-1/index.html"
build_both "page edited by hand"
# So is one changed in place with its length kept: the size alone does
# not tell, the mtime does.
page="$WORK/inc/verhalen/extra-2/index.html"
at=$(grep -bo 'Extra verhaal 2<' "$page" | head -1 | cut -d: -f1)
sleep 0.05
printf 'EXTRA' | dd of="$page" bs=1 seek="$at" conv=notrunc 2> /dev/null
contains "$page" "EXTRA verhaal 2<" "a page edited in place by hand, its length kept"
build_both "page edited in place by hand"
! grep -q "EXTRA verhaal 2<" "$page"
ok $? "page edited in place by hand: made again"
contains "$WORK/inc.diag" "kapot.md:5" "a cached article repeats its warning"
size=$(wc -c < "$WORK/.gen-cache/documents.pack")
build_both "again"
is "$(wc -c < "$WORK/.gen-cache/documents.pack")" "$size" "a build that parsed nothing leaves the cache as it was"
# A sitemap changed by hand is made again.
grep -q '<loc>https://handboek.example.nl/verhalen/extra-3/</loc>' "$WORK/inc/sitemap.xml"
ok $? "the sitemap lists an article"
sed -i 's|verhalen/extra-3/|verhalen/extra-33/|' "$WORK/inc/sitemap.xml"
build_both "sitemap edited by hand"
lacks "$WORK/inc.err" "the sitemap as in the last build" "sitemap edited by hand: made again"

# The same output named another way, through ".." or a symbolic link, is
# the same output: the caches about it still hold.
mkdir -p "$WORK/elders"
ln -s "$WORK" "$WORK/snelkoppeling"
for spelled in "$WORK/elders/../inc" "$WORK/snelkoppeling/inc"; do
	"$GEN" build -C "$P" -o "$spelled" --stats > /dev/null 2> "$WORK/alias.err"
	ok $? "output as '${spelled#"$WORK"/}': the build succeeds"
	kept=$(sed -n 's/^pages kept *\([0-9]*\) .*/\1/p' "$WORK/alias.err")
	is "$kept" "$pages" "output as '${spelled#"$WORK"/}': no page is rendered again"
	contains "$WORK/alias.err" "and every file of the index: as in" \
		"output as '${spelled#"$WORK"/}': the search index is kept whole"
done
rm "$WORK/snelkoppeling"

# The search memory as the last build that made the index left it.
mem_id() {
	stat -c '%i %y' "$WORK"/.gen-cache/search-*.mem 2> /dev/null
}
memid=$(mem_id)
test -n "$memid"
ok $? "a build that made the search index wrote its memory"

# Edit one article: its title (listed on other pages) and its text.
sed -i 's/^title = "Extra verhaal 3"/title = "Het derde verhaal"/; s/Om feedback vragen/Altijd om feedback vragen/' \
	"$P/content/verhalen/extra-3.md"
git -C "$P" commit -qam "verhaal 3 bijgewerkt"
build_both "edit"
is "$(from_cache)" "$(( $(articles) - 1 )) of $(articles)" "edit: only the edited article is parsed again"
kept=$(sed -n 's/^pages kept *\([0-9]*\) .*/\1/p' "$WORK/inc.err")
test "$kept" -gt 0 && test "$kept" -lt "$pages"
ok $? "edit: pages that show the article are rendered again, the others kept ($kept of $pages)"
contains "$WORK/inc/verhalen/extra-2/index.html" "Het derde verhaal" "the new title shows on a page that links to it"
# A title is among every article's facts, which links resolve against:
# the links kept in the cache (links.bin) are of no use.
lacks "$WORK/inc.err" "the links of" "edit: a new title, every link is resolved again"
lacks "$WORK/inc.err" "the site's checks as in" "edit: and the site is checked again"

# An edit below the first paragraph leaves the article's card as it was:
# the pages that list it (its section, the home page, the list of themes,
# the pages that link to it or show it as related) are kept. Made again:
# its own page and history page, the two pages it links to (they quote
# it), the page of the theme whose passage the edit changed, the print
# page and the changelog.
sed -i 's/Om feedback vragen/Om eerlijke feedback vragen/' "$P/content/verhalen/extra-5.md"
git -C "$P" commit -qam "verhaal 5: een woord erbij"
build_both "text edit"
kept=$(sed -n 's/^pages kept *\([0-9]*\) .*/\1/p' "$WORK/inc.err")
made=$((pages - kept))
test "$made" -ge 4 && test "$made" -le 7
ok $? "text edit: only the pages that show its text are made again ($made)"
# The print page takes every other article from the page the last build
# wrote, and search reads the text of the edited article alone.
copied=$(sed -n 's/^ *\([0-9]*\) of \([0-9]*\) articles copied.*/\1 \2/p' "$WORK/inc.err")
text=$(sed -n 's/^ *the text of \([0-9]*\) of \([0-9]*\) kept.*/\1 \2/p' "$WORK/inc.err")
is "${copied% *}" "$(( ${copied#* } - 1 ))" "text edit: the print page copies all articles but one ($copied)"
contains "$WORK/inc.err" "and all around them" "text edit: and the rest of the print page, without the template"
contains "$WORK/inc.err" "unread: the last page is as written" \
	"text edit: the last page stats as it was written, so what is copied from it is not read"
grep -A1 '^  xref' "$WORK/inc.err" | grep -q 'as in the last build'
ok $? "text edit: the related articles are those of the last build"
is "${text% *}" "$(( ${text#* } - 1 ))" "text edit: search reads one article's text ($text)"
# The sitemap holds addresses and dates only, none of which the edit
# changed: the file stays as the last build wrote it.
contains "$WORK/inc.err" "the sitemap as in the last build" "text edit: the sitemap is kept, not made"
test "${copied#* }" -gt 20
ok $? "the print page has the articles ($copied)"
# The search index's memory (.gen-cache/search-*.mem): the words of every
# article but those changed since it was written, and the postings of the
# terms, come from it. It is written again only when it lags by more than
# a few articles (eight here), so the two edits since left it as it was.
words=$(sed -n 's/^ *the words of \([0-9]*\) and the postings.*/\1/p' "$WORK/inc.err")
is "$words" "$(( ${text#* } - 2 ))" \
	"text edit: the words of all articles but the two edited since the memory was written ($words)"
is "$(mem_id)" "$memid" "text edit: the search memory, two articles behind, is not written again"
# Nine articles edited at once: it lags too far and is written again;
# the next edit takes all but one article's words from it.
for i in 11 12 13 14 15 16 17 18 19; do
	sed -i 's/Om feedback vragen/Om snel feedback vragen/' "$P/content/verhalen/extra-$i.md"
done
git -C "$P" commit -qam "negen verhalen: een woord erbij"
build_both "nine articles edited"
test "$(mem_id)" != "$memid"
ok $? "nine articles edited: the search memory is written again"
sed -i 's/Om snel feedback vragen/Om heel snel feedback vragen/' "$P/content/verhalen/extra-11.md"
git -C "$P" commit -qam "verhaal 11: nog een woord"
build_both "one more edit"
contains "$WORK/inc.err" "the words of $(( ${text#* } - 1 )) and the postings" \
	"one more edit: the words of all articles but one from the memory written after the nine"
test -s "$(ls "$WORK"/.gen-cache/search-*.mem 2> /dev/null | head -1)"
ok $? "the search memory is written beside the page cache"
# One that does not read back (a byte changed, cut short, another gen's)
# is not used: the index is made as without it, and the next build has
# one again.
mem=$(ls "$WORK"/.gen-cache/search-*.mem | head -1)
for damage in byte cut; do
	size=$(wc -c < "$mem")
	if [ $damage = byte ]; then
		printf 'X' | dd of="$mem" bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null
	else
		truncate -s $((size / 3)) "$mem"
	fi
	sed -i "s/Om eerlijke feedback vragen/Om eerlijke feedback vragen ($damage)/" \
		"$P/content/verhalen/extra-5.md"
	git -C "$P" commit -qam "verhaal 5: search memory damaged ($damage)"
	build_both "search memory damaged ($damage)"
	lacks "$WORK/inc.err" "the words of" "search memory damaged ($damage): nothing taken from it"
done
sed -i 's/Om eerlijke feedback vragen/Om heel eerlijke feedback vragen/' "$P/content/verhalen/extra-5.md"
git -C "$P" commit -qam "verhaal 5: after the damage"
build_both "search memory after the damage"
contains "$WORK/inc.err" "the words of $(( ${text#* } - 1 )) and the postings" \
	"search memory after the damage: written again, and used"

# A paragraph added at the end, with no link, heading or themed passage
# in it, leaves every article's facts (document_facts) as they were: only
# the edited article's own pages are looked at (the others are kept
# without working out their fingerprints), and the output is still that
# of a clean build.
printf '\nDe koffie in de wachtkamer was al koud.\n' >> "$P/content/verhalen/extra-9.md"
git -C "$P" commit -qam "verhaal 11: een alinea erbij"
build_both "text edit, facts as before"
contains "$WORK/inc.err" "every article's facts as in the last" \
	"text edit, facts as before: only pages of changed articles are looked at"
contains "$WORK/inc/verhalen/extra-9/index.html" "koffie in de wachtkamer" \
	"text edit, facts as before: the article's page has the new paragraph"
contains "$WORK/inc/print/index.html" "koffie in de wachtkamer" \
	"text edit, facts as before: and the print page"
# The other articles' links are as the last build resolved them: read
# from the build cache (links.bin), not resolved again; the site's checks
# too.
held=$(sed -n 's/.*the links of \([0-9]*\) articles as in the last build.*/\1/p' "$WORK/inc.err")
is "$held" "$(( $(articles) - 1 ))" \
	"text edit, facts as before: the links of all articles but the edited one from the cache"
contains "$WORK/inc.err" "the site's checks as in the last build" \
	"text edit, facts as before: the site's checks from the cache"
# Kept links that do not read back (a byte changed, the file cut short)
# are no memory: every link is resolved again, and written down again
# for the next build.
links="$WORK/.gen-cache/links.bin"
for damage in byte cut; do
	size=$(wc -c < "$links")
	if [ $damage = byte ]; then
		printf 'X' | dd of="$links" bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null
	else
		truncate -s $((size - 9)) "$links"
	fi
	printf '\nDe wachtkamer was leeg (%s).\n' $damage >> "$P/content/verhalen/extra-9.md"
	git -C "$P" commit -qam "verhaal 9: nog een alinea ($damage)"
	build_both "kept links damaged ($damage)"
	lacks "$WORK/inc.err" "the links of" "kept links damaged ($damage): every link is resolved again"
done
printf '\nDe wachtkamer ging open.\n' >> "$P/content/verhalen/extra-9.md"
git -C "$P" commit -qam "verhaal 9: de laatste alinea"
build_both "after the damage"
contains "$WORK/inc.err" "the links of $(( $(articles) - 1 )) articles as in the last build" \
	"after the damage: the links are kept again"
kept=$(sed -n 's/^pages kept *\([0-9]*\) .*/\1/p' "$WORK/inc.err")
made=$((pages - kept))
test "$made" -ge 3 && test "$made" -le 5
ok $? "text edit, facts as before: its page, history page, the changelog and the print page are made ($made)"
# The sentence around a link is what the page it leads to quotes: an
# edit there changes the facts of the article with the link, and the
# page it leads to shows the new sentence.
sed -i 's/Zie \[het vorige verhaal\]/Zie vooral [het vorige verhaal]/' "$P/content/verhalen/extra-10.md"
git -C "$P" commit -qam "verhaal 10: zie vooral"
build_both "link context edit"
if grep -q "every article's facts as in the last" "$WORK/inc.err"; then same=yes; else same=no; fi
is "$same" "no" "link context edit: the facts of the article changed"
contains "$WORK/inc/verhalen/extra-11/index.html" "Zie vooral" \
	"link context edit: the page the link leads to quotes the new sentence"

# Bytes of the print page changed by hand, its length kept, are not
# copied: the article they are in is made again. So is the edited one.
grep -q 'eerlijke feedback' "$WORK/inc/print/index.html"
ok $? "the print page holds the edited sentence"
sed -i 's/eerlijke feedback/EERLIJKE FEEDBACK/' "$WORK/inc/print/index.html"
sed -i 's/Om feedback vragen/Om snel feedback vragen/' "$P/content/verhalen/extra-6.md"
git -C "$P" commit -qam "verhaal 6: een woord erbij"
build_both "print page edited by hand"
copied=$(sed -n 's/^ *\([0-9]*\) of \([0-9]*\) articles copied.*/\1 \2/p' "$WORK/inc.err")
is "${copied% *}" "$(( ${copied#* } - 2 ))" "print page edited by hand: that article is not copied ($copied)"
lacks "$WORK/inc.err" "unread:" "print page edited by hand: the page is read, and each piece checked"
# The same outside the articles: the template makes the page again.
grep -q '>Extra verhaal 12<' "$WORK/inc/print/index.html"
ok $? "the print page shows an article's title"
sed -i 's/>Extra verhaal 12</>Extra verhaal 21</' "$WORK/inc/print/index.html"
sed -i 's/Om feedback vragen/Om vaker feedback vragen/' "$P/content/verhalen/extra-8.md"
git -C "$P" commit -qam "verhaal 8: een woord erbij"
build_both "print page headings edited by hand"
if grep -q "and all around them" "$WORK/inc.err"; then framed=yes; else framed=no; fi
is "$framed" "no" "print page headings edited by hand: the template runs again"

# Add, rename and delete in one commit.
cp "$P/content/verhalen/extra-5.md" "$P/content/verhalen/nieuw.md"
sed -i 's/^title = .*/title = "Een nieuw verhaal"/' "$P/content/verhalen/nieuw.md"
git -C "$P" add content/verhalen/nieuw.md
git -C "$P" mv content/verhalen/extra-7.md content/verhalen/zevende.md
git -C "$P" rm -q content/verhalen/extra-9.md
sed -i 's/extra-9.md/extra-10.md/; s/extra-7.md/zevende.md/' "$P"/content/verhalen/extra-*.md
git -C "$P" commit -qam "toegevoegd, hernoemd, verwijderd"
build_both "add, rename, delete"
if grep -A1 '^  xref' "$WORK/inc.err" | grep -q 'as in the last build'; then related=kept; else related=made; fi
is "$related" "made" "add, rename, delete: the related articles are made again"
lacks "$WORK/inc.err" "the sitemap as in the last build" "add, rename, delete: the sitemap is made again"
test ! -e "$WORK/inc/verhalen/extra-9/index.html"
ok $? "the deleted article's page is gone"
test -e "$WORK/inc/verhalen/zevende/index.html" && test ! -e "$WORK/inc/verhalen/extra-7/index.html"
ok $? "the renamed article moved"

# Work-tree mode: uncommitted edits, content hashed on disk.
sed -i 's/Een klant vraagt om hulp/Een boze klant vraagt om hulp/' "$P/content/verhalen/extra-4.md"
build_both "work tree" --worktree
contains "$WORK/inc/verhalen/extra-4/index.html" "Een boze klant" "the uncommitted edit is built"
build_both "work tree again" --worktree
is "$(from_cache)" "$(articles) of $(articles)" "work tree: unchanged files come from the cache"
# files_read: "N" of the last incremental build's files read to list them.
files_read() {
	sed -n 's/^source .*(\([0-9]*\) of [0-9]* files read.*/\1/p' "$WORK/inc.err"
}
# A file is known by its stat once its mtime is older than the clock's
# tick when the memo was written: here, once it is set back.
find "$P/content" -type f -exec touch -d '2020-01-01 12:00' {} +
build_both "work tree, files settled" --worktree
build_both "work tree, nothing changed" --worktree
is "$(files_read)" "" "work tree: files that stat as before are not read"
sed -i 's/Een boze klant/Een kwade klant/' "$P/content/verhalen/extra-4.md"
build_both "work tree, one edit" --worktree
is "$(files_read)" "1" "work tree: an edited file is read"
contains "$WORK/inc/verhalen/extra-4/index.html" "Een kwade klant" "and its edit built"
# Written in place (the same inode), the same size, the mtime set back
# by hand: its ctime tells.
f4="$P/content/verhalen/extra-4.md"
touch -d '2020-01-01 12:00' "$f4"
build_both "work tree, settled again" --worktree
ino=$(stat -c %i "$f4")
at=$(grep -bo 'kwade' "$f4" | head -1 | cut -d: -f1)
printf 'grote' | dd of="$f4" bs=1 seek="$at" conv=notrunc 2> /dev/null
touch -d '2020-01-01 12:00' "$f4"
is "$(stat -c %i "$f4")" "$ino" "an edit in place keeps the inode"
build_both "work tree, edit in place with its mtime kept" --worktree
contains "$WORK/inc/verhalen/extra-4/index.html" "Een grote klant" "work tree: an edit that keeps size, inode and mtime is built"
git -C "$P" checkout -q -- content

# A filter, a Lua module and site.toml each decide every article.
printf '\n-- een opmerking\n' >> "$P/lua/callouts.lua"
git -C "$P" commit -qam "filter"
build_both "filter changed"
is "$(from_cache)" "0 of $(articles)" "a changed filter: every article is filtered again"
printf '\n-- een opmerking\n' >> "$P/lua/match.lua"
git -C "$P" commit -qam "module"
build_both "module changed"
is "$(from_cache)" "0 of $(articles)" "a changed Lua module: every article is filtered again"
sed -i 's/^title = .*/title = "Ander handboek"/' "$P/site.toml"
git -C "$P" commit -qam "site.toml"
build_both "site.toml changed"
is "$(from_cache)" "0 of $(articles)" "a changed site.toml: every article is read again"
build_both "settled"
is "$(from_cache)" "$(articles) of $(articles)" "and the next build reads them all from the cache"

# Damage: bytes changed in an article's record, the file cut short,
# garbage. A one-shot build checks a record up to the article's replay
# (its HTML and text) at once, and the replay when a page reads it.
PACK=$WORK/.gen-cache/documents.pack
size=$(wc -c < "$PACK")
# offset_of TEXT: where the last record that holds TEXT has it.
offset_of() {
	grep -boa "$1" "$PACK" | tail -1 | cut -d: -f1
}
# damage AT: eight bytes changed from offset AT on.
damage() {
	printf 'XXXXXXXX' | dd of="$PACK" bs=1 seek="$1" conv=notrunc 2> /dev/null
}
# Its title is in the part checked at once.
damage "$(offset_of 'Extra verhaal 7')"
build_both "damaged record"
contains "$WORK/inc.err" "the build cache was damaged" "a damaged record is reported"
is "$(from_cache)" "$(( $(articles) - 1 )) of $(articles)" "a damaged record is not used"
build_both "after the damage"
is "$(from_cache)" "$(articles) of $(articles)" "the cache is whole again after one build"
# The end of extra-5's record, its text walk: the bytes before the next
# record's frame (its key, or the contents).
at=$(offset_of 'content/verhalen/extra-5.md')
next=$(grep -boa -e 'content/' -e 'gen contents' "$PACK" | cut -d: -f1 |
	awk -v a="$at" '$1 > a + 40 { print; exit }')
damage $((next - 40))
build_both "a damaged replay no page reads"
lacks "$WORK/inc.err" "the build cache was damaged" "a damaged replay no page reads is not read"
is "$(from_cache)" "$(articles) of $(articles)" "and the rest of its record is used"
rm "$WORK/inc/verhalen/extra-5/index.html"
build_both "a damaged replay read"
contains "$WORK/inc.err" "the build cache was damaged" "a damaged replay is found when its page is made"
is "$(from_cache)" "$(( $(articles) - 1 )) of $(articles)" \
	"and the build starts again, without it"
build_both "after the replay's damage"
is "$(from_cache)" "$(articles) of $(articles)" "the cache is whole again"
# in_record KEY TEXT: where TEXT first lies after the last article
# record of KEY (not its replay's, whose key starts with a byte 0xff);
# nothing when there is none.
in_record() {
	grep -boa "$1" "$PACK" | cut -d: -f1 > "$WORK/keys"
	grep -boa "$(printf '\377')$1" "$PACK" | cut -d: -f1 |
		awk '{ print $1 + 1 }' > "$WORK/replays"
	rec=$(grep -vxF -f "$WORK/replays" "$WORK/keys" | tail -1)
	test -n "$rec" && grep -boa "$2" "$PACK" | cut -d: -f1 |
		awk -v a="$rec" '$1 > a { print; exit }'
}
# The same for an article's tail, its headings and tips, which follow
# the part checked at once in its record, with a checksum of their own:
# here a heading's text, in extra-6's record.
heading=$(in_record content/verhalen/extra-6.md 'Wat beter kon')
ok "$(test -n "$heading"; echo $?)" "extra-6's record holds its heading"
damage "${heading:-0}"
build_both "a damaged tail no page reads"
lacks "$WORK/inc.err" "the build cache was damaged" "a damaged tail no page reads is not read"
is "$(from_cache)" "$(articles) of $(articles)" "and the rest of its record is used"
rm "$WORK/inc/verhalen/extra-6/index.html"
build_both "a damaged tail read"
contains "$WORK/inc.err" "the build cache was damaged" "a damaged tail is found when its page is made"
is "$(from_cache)" "$(( $(articles) - 1 )) of $(articles)" \
	"and the build starts again, without it"
build_both "after the tail's damage"
is "$(from_cache)" "$(articles) of $(articles)" "the cache is whole again after it"
# And for its evidence, last in the record: the passage a filter tagged,
# which only the pages of its themes show (extra-8's).
excerpt=$(in_record content/verhalen/extra-8.md 'Ik kan er ook niets aan doen')
ok "$(test -n "$excerpt"; echo $?)" "extra-8's record holds its evidence"
damage "${excerpt:-0}"
build_both "damaged evidence no page reads"
lacks "$WORK/inc.err" "the build cache was damaged" "damaged evidence no page reads is not read"
is "$(from_cache)" "$(articles) of $(articles)" "and the rest of that record is used"
rm "$WORK/inc/themas/snifo-gedrag/index.html"
build_both "damaged evidence read"
contains "$WORK/inc.err" "the build cache was damaged" "damaged evidence is found when a theme's page is made"
is "$(from_cache)" "$(( $(articles) - 1 )) of $(articles)" \
	"and the build starts again, without that article"
build_both "after the evidence's damage"
is "$(from_cache)" "$(articles) of $(articles)" "the cache is whole again after the evidence"
head -c $((size / 3)) "$PACK" > "$PACK.cut" && mv "$PACK.cut" "$PACK"
build_both "cut short"
is "$(from_cache)" "0 of $(articles)" "a cache cut short is not trusted"
contains "$WORK/inc.err" "the build cache was damaged" "and the user is told"
head -c 5000 /dev/urandom > "$PACK"
build_both "garbage"
is "$(from_cache)" "0 of $(articles)" "garbage is not trusted"
build_both "rebuilt"
is "$(from_cache)" "$(articles) of $(articles)" "the cache is rebuilt"

# The word diffs of history pages are cached too; garbage there is not
# trusted either.
test -s "$WORK/.gen-cache/diffs.pack"
ok $? "history diffs are cached"
head -c 3000 /dev/urandom > "$WORK/.gen-cache/diffs.pack"
build_both "garbage diffs"
contains "$WORK/inc.err" "diffs.pack: notice: the build cache was damaged" "damaged diffs are reported"

# Another gen (rebuilt, upgraded) never reads this one's cache.
cp "$GEN" "$WORK/gen2"
printf 'x' >> "$WORK/gen2"
"$WORK/gen2" build -C "$P" -o "$WORK/inc" --stats > /dev/null 2> "$WORK/inc.err"
ok $? "a different gen binary builds"
is "$(from_cache)" "0 of $(articles)" "a different gen binary does not trust the cache"

# --no-cache neither reads nor writes it.
rm -rf "$WORK/.gen-cache"
"$GEN" build -C "$P" -o "$WORK/inc" -q --no-cache
ok $? "--no-cache builds"
test ! -e "$WORK/.gen-cache/documents.pack"
ok $? "--no-cache writes no cache"

# The search index keeps each article's words in search.pack; read back,
# they give the same zoeken/ as tokenising again, also after the words of
# an article change, and garbage there is not trusted.
build_both "search: first build"
test -s "$WORK/.gen-cache/search.pack"
ok $? "the search index's records are cached"
size=$(wc -c < "$WORK/.gen-cache/search.pack")
build_both "search: nothing changed"
is "$(wc -c < "$WORK/.gen-cache/search.pack")" "$size" "every article's record is read back, none made again"
lacks "$WORK/inc.err" "search.pack" "and none is refused"
sed -i 's/Om feedback vragen/Om zoekwoordje vragen/' "$P/content/verhalen/extra-2.md"
git -C "$P" commit -qam "nieuw zoekwoord"
build_both "search: words edited"
grep -q '"zoekwoordje"' "$WORK"/inc/zoeken/w/*.js
ok $? "the new word is in the index"
test "$(wc -c < "$WORK/.gen-cache/search.pack")" -gt "$size"
ok $? "the edited article's record is added"
size=$(wc -c < "$WORK/.gen-cache/search.pack")
printf 'XXXXXXXX' | dd of="$WORK/.gen-cache/search.pack" bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null
# An edit, so that the index is made again and the records are read.
sed -i 's/Om feedback vragen/Om eerlijk feedback vragen/' "$P/content/verhalen/extra-4.md"
git -C "$P" commit -qam "een woord erbij, voor de zoekindex"
build_both "search: damaged record"
contains "$WORK/inc.err" "search.pack: notice: the build cache was damaged" "a damaged search record is reported"
head -c 3000 /dev/urandom > "$WORK/.gen-cache/search.pack"
build_both "search: garbage"
contains "$WORK/inc.err" "search.pack: notice: the build cache was damaged" "garbage in the search records is reported"
build_both "search: rebuilt"
test -s "$WORK/.gen-cache/search.pack" && test "$(wc -c < "$WORK/.gen-cache/search.pack")" -gt 3000
ok $? "and the search records are written anew"
rm -rf "$WORK/.gen-cache"
"$GEN" build -C "$P" -o "$WORK/inc" -q --no-cache
test ! -e "$WORK/.gen-cache/search.pack"
ok $? "--no-cache writes no search records"
"$GEN" build -C "$P" -o "$WORK/inc" -q --no-cache
test -z "$(ls "$WORK"/.gen-cache/search-*.mem 2> /dev/null)"
ok $? "--no-cache writes no search memory, also when it makes the index again"

# A paragraph added that changes no article's facts: the print page is
# put together again from what the last build left, each article's id on
# it (print/index.html#ids) kept in the page cache as it was, not written
# to it again.
ids_records() {
	grep -aoc 'print/index.html#ids' "$WORK"/.gen-cache/pages-*.pack
}
build_both "before a paragraph added"
ids_before=$(ids_records)
printf '\nHet regende die middag.\n' >> "$P/content/verhalen/extra-11.md"
git -C "$P" commit -qam "verhaal 11: een alinea erbij"
build_both "a paragraph added"
contains "$WORK/inc.err" "and all around them" "a paragraph added: the print page put together again"
is "$(ids_records)" "$ids_before" "a paragraph added: the ids on the print page kept, not written again"

# --- many articles -----------------------------------------------------------
# A first build keeps new articles for the cache in rounds of 1,024 (each
# saved, then read back from the file): more than one round must give
# the same site, and a cache the next build reads whole.
Q=$WORK/many
mkdir -p "$Q"
cp -R "$SRCDIR/content" "$SRCDIR/lua" "$SRCDIR/themes" "$SRCDIR/site.toml" "$Q/"
i=1
while [ $i -le 2100 ]; do
	printf '+++\ntitle = "Kort %d"\nkind = "story"\n+++\n## Aan de balie\n\nVerhaal %d, met [de buur](kort-%d.md#aan-de-balie). Ik kan er ook niets aan doen.\n' \
		$i $i $(( i % 2100 + 1 )) > "$Q/content/verhalen/kort-$i.md"
	i=$((i + 1))
done
git_init "$Q"
total=$(find "$Q/content" -name '*.md' | wc -l)
"$GEN" build -C "$Q" -o "$WORK/many-inc" --stats > /dev/null 2> "$WORK/many.err"
ok $? "many: a first build in rounds succeeds"
contains "$WORK/many.err" "; 0 of $total from the cache" "many: every article parsed"
"$GEN" build -C "$Q" -o "$WORK/many-clean" --no-cache -q
diff -r "$WORK/many-inc" "$WORK/many-clean" > "$WORK/diff" 2>&1
ok $? "many: the same site as a clean build"
head -10 "$WORK/diff" | sed 's/^/# /'
"$GEN" build -C "$Q" -o "$WORK/many-inc" --stats > /dev/null 2> "$WORK/many.err"
contains "$WORK/many.err" "; $total of $total from the cache" "many: the next build reads every round back"
lacks "$WORK/many.err" "damaged" "many: and finds nothing damaged"
diff -r "$WORK/many-inc" "$WORK/many-clean" > /dev/null 2>&1
ok $? "many: and makes the same site"

done_testing
