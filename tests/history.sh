#!/bin/sh
# End-to-end: git history in the built site. A fixture repository with
# fixed dates and authors, a rename with edits, a merge and a removed page;
# checked: the article footer, the history page and its word diff, the
# changelog, feed.xml (parsed as XML), `gen list --json` against git log,
# the cache, a shallow clone, a bare repository, and builds without
# history (work tree, plain folder).
. "$(dirname "$0")/lib.sh"

P=$WORK/p
make_project "$P"
at() { # at DATE: author and committer date for the next commit
	export GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1"
}
at 2015-03-12T10:00:00+01:00
git_init "$P"
cat > "$P/content/verhalen/weg.md" <<'MD'
+++
title = "Een verhaal dat verdwijnt"
kind = "story"
+++
Tijdelijk.
MD
at 2015-03-13T10:00:00+01:00
git -C "$P" add -A && git -C "$P" commit -qm "tijdelijk verhaal"

sed -i 's/De baliemedewerker zei/De medewerker aan de balie zei/' "$P/content/verhalen/de-garage.md"
at 2016-04-01T09:30:00+02:00
GIT_AUTHOR_NAME="Anna de Vries" git -C "$P" commit -qam "Garage: beter verwoord"

git -C "$P" mv content/tips/snifo.md content/tips/snifo-voorkomen.md
sed -i 's/Dat werkt\./Dat werkt altijd./' "$P/content/tips/snifo-voorkomen.md"
sed -i 's|tips/snifo.md|tips/snifo-voorkomen.md|g' "$P/content/verhalen/de-garage.md"
at 2016-05-01T12:00:00+02:00
git -C "$P" commit -qam "Tips hernoemd en aangescherpt"

git -C "$P" checkout -q -b zijtak
printf '\nEen alinea van de zijtak.\n' >> "$P/content/verhalen/de-garage.md"
at 2016-06-01T10:00:00+02:00
GIT_AUTHOR_NAME="Bram Bos" git -C "$P" commit -qam "Zijtak: alinea erbij"
git -C "$P" checkout -q main
at 2016-06-02T10:00:00+02:00
GIT_AUTHOR_NAME="Cor Claes" git -C "$P" merge -q --no-ff -m "Merge zijtak" zijtak

git -C "$P" rm -q content/verhalen/weg.md
at 2017-01-01T12:00:00+01:00
git -C "$P" commit -qm "Verhaal weggehaald"
unset GIT_AUTHOR_DATE GIT_COMMITTER_DATE

"$GEN" build -C "$P" 2> "$WORK/err"
ok $? "build with history"
O=$P/public
G=$O/verhalen/de-garage/index.html

# --- on the article ------------------------------------------------------------
contains "$G" 'Aangemaakt <time datetime="2015-03-12T10:00:00+01:00">12 maart 2015</time> door Test Auteur' "created: date and author"
contains "$G" 'Laatst gewijzigd <time datetime="2016-06-02T10:00:00+02:00">2 juni 2016</time> door Cor Claes' "last changed: the merge, first-parent"
contains "$G" '<span>4 versies</span>' "number of versions"
contains "$G" 'href="../../verhalen/de-garage/geschiedenis/">Geschiedenis</a>' "link to the history page"

# --- the history page --------------------------------------------------------
H=$O/verhalen/de-garage/geschiedenis/index.html
ok "$([ -f "$H" ] && echo 0 || echo 1)" "history page written"
contains "$H" 'Geschreven door Test Auteur, Anna de Vries en Cor Claes.' "contributors, first contribution first"
contains "$H" '<strong class="version-message">Garage: beter verwoord</strong>' "a version's message"
contains "$H" 'Anna de Vries</span><span><time datetime="2016-04-01T09:30:00+02:00">1 april 2016, 09:30</time>' "a version's author and date"
contains "$H" 'De <del class="diff-word">baliemedewerker</del> zei:' "removed word marked"
contains "$H" 'De <ins class="diff-word">medewerker aan de balie</ins> zei:' "added words marked"
contains "$H" '<ins>Een alinea van de zijtak.</ins>' "an added line"
contains "$H" '<meta name="robots" content="noindex">' "history pages are not indexed"
contains "$H" 'css/history.css' "history stylesheet"
ok "$([ -f "$O/css/history.css" ] && echo 0 || echo 1)" "history stylesheet written"
T=$O/tips/snifo-voorkomen/geschiedenis/index.html
contains "$T" 'verplaatst van <code>content/tips/snifo.md</code>' "rename with edits followed"
contains "$T" 'Dat werkt <ins class="diff-word">altijd</ins>.' "diff across the rename"
contains "$T" 'eerste versie' "history from before the rename"

# --- the changelog ------------------------------------------------------------
C=$O/wijzigingen/index.html
ok "$([ -f "$C" ] && echo 0 || echo 1)" "changelog written"
contains "$C" '<h1>Wijzigingen</h1>' "changelog title in Dutch"
contains "$C" '<h2 class="commit-message">Verhaal weggehaald</h2>' "commits by message"
contains "$C" '<span class="badge">Verwijderd</span> <span class="change-gone">Een verhaal dat verdwijnt</span>' "a removed page, by its old title"
contains "$C" '<span class="badge">Verplaatst</span> <a href="../tips/snifo-voorkomen/">Snifo voorkomen</a>' "a renamed page links to today's page"
contains "$C" '<span class="badge">Nieuw</span> <a href="../">Welkom</a>' "the home page links to the root"
n=$(grep -c '<li class="commit"' "$C")
is "$n" 6 "one entry per first-parent commit that changed content"
lacks "$C" 'Zijtak: alinea erbij' "the side branch's own commit is not listed"

# --- the feed ---------------------------------------------------------------
F=$O/feed.xml
if command -v xmllint > /dev/null; then
	xmllint --noout "$F" 2> "$WORK/xml"
	ok $? "feed.xml is well-formed XML (xmllint)"
elif perl -MXML::Parser -e1 2> /dev/null; then
	perl -MXML::Parser -e 'XML::Parser->new->parsefile($ARGV[0])' "$F" 2> "$WORK/xml"
	ok $? "feed.xml is well-formed XML (XML::Parser)"
else
	ok 0 "# SKIP no XML parser"
fi
contains "$F" '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="nl">' "an Atom feed"
contains "$F" '<link rel="self" type="application/atom+xml" href="https://example.org/handboek/feed.xml"/>' "self link, absolute"
contains "$F" '<id>https://example.org/handboek/verhalen/de-garage/</id>' "entry id, absolute"
contains "$F" '<updated>2016-06-02T10:00:00+02:00</updated>' "entry updated: last change"
contains "$F" '<published>2015-03-12T10:00:00+01:00</published>' "entry published: creation"
contains "$F" '<link rel="alternate" type="text/html" href="https://example.org/handboek/tips/snifo-voorkomen/"/>' "entry link"
lacks "$F" 'verdwijnt' "removed articles are not in the feed"
first=$(grep -m1 '<title>' "$F" | sed 's/ *<[^>]*>//g')
is "$first" "Testhandboek" "feed title"
contains "$G" 'href="../../feed.xml"' "every page links the feed"

# --- gen list --json, against git log -------------------------------------------
"$GEN" list -C "$P" --json > "$WORK/list.json" 2> "$WORK/err"
ok $? "gen list --json"
# One line per page: path, created commit and date, modified commit, date
# and author, revisions, contributors; from gen and from git log.
perl -MJSON::PP -e '
	local $/; my $l = decode_json(<STDIN>);
	for my $p (@$l) {
		print join("|", $p->{path}, $p->{created}{commit}, $p->{created}{date},
			$p->{modified}{commit}, $p->{modified}{date}, $p->{modified}{author},
			$p->{revisions}, join(",", @{$p->{contributors}})), "\n";
	}' < "$WORK/list.json" > "$WORK/ours"
cut -d'|' -f1 "$WORK/ours" | while read -r path; do
	git -C "$P" log --first-parent --follow --format='%H|%aI|%an' -- "$path" |
	perl -e '
		my @l = map { chomp; [split /\|/] } <STDIN>;
		my %seen; my @names = grep { !$seen{$_}++ } map { $_->[2] } reverse @l;
		print join("|", $ARGV[0], $l[-1][0], $l[-1][1], $l[0][0], $l[0][1], $l[0][2],
			scalar @l, join(",", @names)), "\n";' "$path"
done > "$WORK/theirs"
diff "$WORK/ours" "$WORK/theirs" > "$WORK/listdiff"
ok $? "created, modified, revisions and contributors of every page agree with git log"
sed 's/^/# /' "$WORK/listdiff" | head -20
contains "$WORK/list.json" '"message": "Merge zijtak"' "modified has the commit message"

# --- the cache ----------------------------------------------------------------
head=$(git -C "$P" rev-parse HEAD)
ok "$([ -f "$P/.gen-cache/history-$head.bin" ] && echo 0 || echo 1)" "history cached per commit in .gen-cache/"
cp "$H" "$WORK/h1"
"$GEN" build -C "$P" -q
cmp -s "$H" "$WORK/h1"
ok $? "a build from the cache gives the same history page"
size=$(wc -c < "$P/.gen-cache/history-$head.bin")
printf 'gen history\n\002' > "$P/.gen-cache/history-$head.bin"
"$GEN" build -C "$P" -q 2> "$WORK/err"
ok $? "a corrupt cache does not break the build"
cmp -s "$H" "$WORK/h1"
ok $? "and the result is the same"
is "$(wc -c < "$WORK/err")" 0 "silently"
is "$(wc -c < "$P/.gen-cache/history-$head.bin")" "$size" "the cache was rewritten whole"

# --- an article at a history page's URL -------------------------------------
# It wins: its page is what its author asked for, and no history page is
# written over it.
git clone -q "$P" "$WORK/taken"
mkdir -p "$WORK/taken/content/verhalen/de-garage"
cat > "$WORK/taken/content/verhalen/de-garage/geschiedenis.md" <<'MD'
+++
title = "De geschiedenis van de garage"
kind = "story"
+++
Hoe de garage begon.
MD
git -C "$WORK/taken" add -A && git -C "$WORK/taken" -c user.name=T -c user.email=t@e.nl commit -qm "Een artikel waar de geschiedenis stond"
"$GEN" build -C "$WORK/taken" 2> "$WORK/err"
ok $? "an article at the history page's URL builds"
contains "$WORK/taken/public/verhalen/de-garage/geschiedenis/index.html" 'De geschiedenis van de garage' "that URL holds the article"
lacks "$WORK/taken/public/verhalen/de-garage/geschiedenis/index.html" 'Geschreven door Test Auteur' "not the history page"
ok "$([ -f "$WORK/taken/public/verhalen/de-garage/index.html" ] && echo 0 || echo 1)" "the article whose history it was is still there"

# --- a shallow clone ----------------------------------------------------------
git clone -q --depth 1 "file://$P" "$WORK/shallow"
"$GEN" build -C "$WORK/shallow" 2> "$WORK/err"
ok $? "a shallow clone builds"
is "$(grep -c 'shallow clone' "$WORK/err")" 1 "one warning about the shallow clone"
S=$WORK/shallow/public/verhalen/de-garage/index.html
contains "$S" 'Aangemaakt onbekend' "creation date unknown, not wrong"
lacks "$S" '12 maart 2015</time> door' "no creation date claimed"
"$GEN" list -C "$WORK/shallow" --json > "$WORK/slist.json" 2> /dev/null
contains "$WORK/slist.json" '"created": null' "gen list: created is null"

# --- a bare repository -----------------------------------------------------------
git clone -q --bare "$P" "$WORK/bare.git"
mkdir -p "$WORK/bare-out"
"$GEN" build --repo "$WORK/bare.git" -o "$WORK/bare-out/public" 2> "$WORK/err"
ok $? "a bare repository builds"
contains "$WORK/bare-out/public/verhalen/de-garage/index.html" '<span>4 versies</span>' "bare: same history"
ok "$([ -d "$WORK/bare-out/.gen-cache" ] && echo 0 || echo 1)" "bare: cache beside the output"

# --- no history -----------------------------------------------------------------
"$GEN" build -C "$P" --worktree -o "$WORK/wt" 2> "$WORK/err"
ok $? "a work-tree build"
ok "$([ ! -e "$WORK/wt/verhalen/de-garage/geschiedenis" ] && echo 0 || echo 1)" "work tree: no history pages"
lacks "$WORK/wt/verhalen/de-garage/index.html" 'article-history' "work tree: no history on the article"
contains "$WORK/wt/feed.xml" '<published>2015-03-12T00:00:00Z</published>' "work tree: the feed uses front matter dates"
"$GEN" list -C "$P" --worktree --json > "$WORK/wlist.json" 2> /dev/null
contains "$WORK/wlist.json" '"revisions": null' "work tree: gen list keys are null"
make_project "$WORK/plain"
"$GEN" build -C "$WORK/plain" 2> "$WORK/err"
ok $? "a folder that is not a repository builds"
ok "$([ ! -e "$WORK/plain/public/wijzigingen" ] && echo 0 || echo 1)" "no changelog without git"
if command -v xmllint > /dev/null; then
	xmllint --noout "$WORK/plain/public/feed.xml"
	ok $? "its feed.xml is well-formed too"
fi

# --- a feed of the newest of more articles than it holds ------------------------
# 34 stories in three commits (each commit's stories share its date), then
# an edit of a05: the feed holds 30, newest first and, on one date, by
# path; the project's own two articles, older than all, are left out.
L=$WORK/long
make_project "$L"
at 2010-01-01T10:00:00+01:00
git_init "$L"
story() { # story N
	printf '+++\ntitle = "Verhaal %s"\nkind = "story"\n+++\nTekst %s.\n' "$1" "$1" \
		> "$L/content/verhalen/a$1.md"
}
for k in 01 02 03 04 05 06 07 08 09 10; do story $k; done
at 2020-01-01T10:00:00+01:00
git -C "$L" add -A && git -C "$L" commit -qm "tien verhalen"
for k in 11 12 13 14 15 16 17 18 19 20; do story $k; done
at 2020-02-01T10:00:00+01:00
git -C "$L" add -A && git -C "$L" commit -qm "nog tien"
for k in 21 22 23 24 25 26 27 28 29 30 31 32 33 34; do story $k; done
at 2020-03-01T10:00:00+01:00
git -C "$L" add -A && git -C "$L" commit -qm "nog veertien"
printf 'Bijgewerkt.\n' >> "$L/content/verhalen/a05.md"
at 2020-04-01T10:00:00+02:00
git -C "$L" commit -qam "a05 bijgewerkt"
unset GIT_AUTHOR_DATE GIT_COMMITTER_DATE
"$GEN" build -C "$L" 2> "$WORK/err"
ok $? "a handbook of 36 articles builds"
got=$(sed -n 's|.*<link rel="alternate" type="text/html" href="https://example.org/handboek/\([^"]*\)/"/>|\1|p' \
	"$L/public/feed.xml" | tr '\n' ' ')
want="verhalen/a05"
for k in 21 22 23 24 25 26 27 28 29 30 31 32 33 34 11 12 13 14 15 16 17 18 19 20 01 02 03 04 06; do
	want="$want verhalen/a$k"
done
is "$got" "$want " "the feed: the 30 newest articles, newest first, one date's by path"

done_testing
