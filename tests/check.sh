#!/bin/sh
# End-to-end: `gen check` runs the whole build without writing and reports
# every problem as file:line:col (or JSON for tools); exit 0 when clean, 1
# when there are errors. Also: the handbook itself is clean, and the
# pre-commit hook from the README stops a commit that breaks a link.
. "$(dirname "$0")/lib.sh"

# --- a clean project ------------------------------------------------------------
C=$WORK/clean
make_project "$C"
git_init "$C"
"$GEN" check -C "$C" > "$WORK/out" 2> "$WORK/err"
ok $? "check on a clean project exits 0"
contains "$WORK/err" "checked 5 articles from" "says what it checked"
contains "$WORK/err" "no problems" "and that there were no problems"
is "$(cat "$WORK/out")" "" "nothing on stdout"
ok "$([ ! -e "$C/public" ] && echo 0 || echo 1)" "nothing written"
"$GEN" check -C "$C" --format json > "$WORK/out" 2> "$WORK/err"
ok $? "check --format json on a clean project exits 0"
is "$(tr -d ' \n' < "$WORK/out")" "[]" "an empty JSON array"

# --- a project with one of every problem ------------------------------------------
B=$WORK/broken
make_project "$B"
cat > "$B/content/verhalen/links.md" <<'MD'
+++
title = "Links"
kind = "story"
themes = ["snifo-gedrag", "geen-thema"]
+++
Naar [niets](niets.md), [een tip die er niet is](../tips/snifo.md#tip-8) en ![een foto](weg.jpg).
En naar [het kapotte artikel](kapot.md), dat zelf een fout heeft.
MD
cat > "$B/content/verhalen/kapot.md" <<'MD'
+++
title = "Kapot"
date = 2015-13-45
+++
Tekst.
MD
cat > "$B/content/verhalen/leeg.md" <<'MD'
+++
title = "Leeg"
kind = "story"
+++
MD
mkdir -p "$B/content/verhalen/dubbel"
printf '+++\ntitle = "Dubbel"\n+++\nTekst.\n' > "$B/content/verhalen/dubbel.md"
printf '+++\ntitle = "Ook dubbel"\n+++\nTekst.\n' > "$B/content/verhalen/dubbel/index.md"
cat > "$B/content/tips/alias.md" <<'MD'
+++
title = "Alias"
aliases = ["/verhalen/de-garage/", "/themas/", "/oud/"]
+++
Tekst.
MD
printf '+++\ntitle = "Oud"\naliases = ["oud"]\n+++\nTekst.\n' > "$B/content/tips/oud.md"
# gen's own pages: the search page always, the changes with history.
printf '+++\ntitle = "Zoeken"\n+++\nTekst.\n' > "$B/content/zoeken.md"
printf '+++\ntitle = "Nieuw"\naliases = ["wijzigingen"]\n+++\nTekst.\n' > "$B/content/tips/nieuw.md"
printf '+++\ntitle = "Weg"\naliases = ["../../buiten", "%%2e%%2e/ook-buiten"]\n+++\nTekst.\n' > "$B/content/tips/weg.md"
# Inside gen's search index, or below a file of gen's.
printf '+++\ntitle = "Binnen"\naliases = ["zoeken/meta.js", "sitemap.xml/oud"]\n+++\nTekst.\n' > "$B/content/tips/binnen.md"
# Below a file of the theme's (its static/ folder).
printf '+++\ntitle = "Stijl"\naliases = ["css/gen.css"]\n+++\nTekst.\n' > "$B/content/tips/stijl.md"
# An article's own page below one: content/sitemap.xml/ is a folder.
mkdir -p "$B/content/sitemap.xml"
printf '+++\ntitle = "Kaart"\n+++\nTekst.\n' > "$B/content/sitemap.xml/kaart.md"
git_init "$B"
"$GEN" check -C "$B" > "$WORK/out" 2> "$WORK/err"
is $? 1 "check on a broken project exits 1"
V=content/verhalen
contains "$WORK/err" "$V/links.md:6:6: error: link target 'niets.md' does not exist" "a broken link"
contains "$WORK/err" "$V/links.md:6:25: error: link target '../tips/snifo.md#tip-8' does not exist" "a broken anchor"
contains "$WORK/err" "$V/links.md:6:77: error: image 'weg.jpg' does not exist" "a missing image"
contains "$WORK/err" "$V/links.md:4:27: error: unknown theme 'geen-thema' (site.toml defines 'snifo-gedrag')" "an unknown theme id, at the id"
contains "$WORK/err" "$V/kapot.md:3:8:" "a front matter error"
lacks "$WORK/err" "'kapot.md' does not exist" "a link to an article with an error is not reported again"
contains "$WORK/err" "$V/leeg.md:5:1: warning: article 'Leeg' has no text" "an empty article is a warning"
contains "$WORK/err" "$V/dubbel/index.md:1:1: error: the URL 'verhalen/dubbel/' of this page is the URL of '$V/dubbel.md'" "two files, one URL"
contains "$WORK/err" "content/tips/alias.md:3:12: error: alias '/verhalen/de-garage/' is the URL of '$V/de-garage.md'" "an alias on a page's URL"
contains "$WORK/err" "content/tips/alias.md:3:36: error: alias '/themas/' is where gen puts the list of themes" "an alias on one of gen's pages"
contains "$WORK/err" "content/tips/oud.md:3:12: error: alias 'oud' is also an alias of 'content/tips/alias.md'" "two aliases, one URL"
contains "$WORK/err" "content/zoeken.md:1:1: error: the URL 'zoeken/' of this page is where gen puts the search page" "an article on the search page's URL"
contains "$WORK/err" "content/tips/nieuw.md:3:12: error: alias 'wijzigingen' is where gen puts the list of changes" "an alias on the list of changes"
contains "$WORK/err" "content/tips/weg.md:3:12: error: alias '../../buiten' holds '..', which no URL of the site may" "an alias out of the site, at the alias"
contains "$WORK/err" "content/tips/weg.md:3:28: error: alias '%2e%2e/ook-buiten' holds '..'" "and one with '..' escaped"
contains "$WORK/err" "content/tips/binnen.md:3:12: error: alias 'zoeken/meta.js' is where gen puts the search index" "an alias inside the search index"
contains "$WORK/err" "content/tips/binnen.md:3:30: error: alias 'sitemap.xml/oud' is where gen puts the sitemap" "an alias below one of gen's files"
contains "$WORK/err" "content/tips/stijl.md:3:12: error: alias 'css/gen.css' is where gen puts the theme's file 'css/gen.css'" "an alias below one of the theme's files"
contains "$WORK/err" "content/sitemap.xml/kaart.md:1:1: error: the URL 'sitemap.xml/kaart/' of this page is where gen puts the sitemap" \
	"an article's page below one of gen's files"
contains "$WORK/err" "gen check: 17 errors, 1 warning" "a summary at the end"
is "$(cat "$WORK/out")" "" "text goes to stderr"

"$GEN" check -C "$B" --format json > "$WORK/json" 2> "$WORK/err"
is $? 1 "check --format json exits 1 too"
contains "$WORK/json" '"file": "content/verhalen/links.md"' "JSON: file"
contains "$WORK/json" '"line": 6' "JSON: line"
contains "$WORK/json" '"column": 77' "JSON: column"
contains "$WORK/json" '"severity": "warning"' "JSON: severity"
contains "$WORK/json" '"message": "image '"'"'weg.jpg'"'"' does not exist"' "JSON: message"
is "$(grep -c '"severity": "error"' "$WORK/json")" 17 "JSON: every error"
is "$(cat "$WORK/err")" "" "JSON mode keeps stderr quiet"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/json"
	ok $? "JSON: valid"
fi

# A build stops at such an alias too, at the alias, before it writes:
# the page for it would need a folder where the theme puts its file.
S=$WORK/stijl
make_project "$S"
printf '+++\ntitle = "Stijl"\naliases = ["css/gen.css"]\n+++\nTekst.\n' > "$S/content/verhalen/stijl.md"
git_init "$S"
"$GEN" build -C "$S" -o "$WORK/stijl-uit/public" 2> "$WORK/err"
is $? 1 "a build with an alias below a theme's file fails"
contains "$WORK/err" "content/verhalen/stijl.md:3:12: error: alias 'css/gen.css' is where gen puts the theme's file 'css/gen.css'" "at the alias"
[ ! -e "$WORK/stijl-uit/public" ]
ok $? "and writes nothing"

# Warnings alone do not fail.
Wn=$WORK/warnings
make_project "$Wn"
printf '+++\ntitle = "Leeg"\n+++\n' > "$Wn/content/verhalen/leeg.md"
git_init "$Wn"
"$GEN" check -C "$Wn" 2> "$WORK/err"
ok $? "warnings alone: exit 0"
contains "$WORK/err" "1 warning" "but they are counted"

# A template error is found as well.
T=$WORK/template
make_project "$T"
mkdir -p "$T/themes"
cp -R "$SRCDIR/themes/default" "$T/themes/default"
printf '{{#page}}\n' > "$T/themes/default/layouts/print.mustache"
git_init "$T"
"$GEN" check -C "$T" 2> "$WORK/err"
is $? 1 "a broken template fails the check"
contains "$WORK/err" "themes/default/layouts/print.mustache:1:1: error: unclosed section 'page'" "named with file:line:col"

# --- the handbook itself ------------------------------------------------------------
if [ -d "$SRCDIR/content" ] && [ -f "$SRCDIR/site.toml" ]; then
	"$GEN" check -C "$SRCDIR" -q 2> "$WORK/err"
	ok $? "the handbook passes gen check"
	sed 's/^/# /' "$WORK/err"
fi

# --- the pre-commit hook from the README ------------------------------------------
R=$WORK/hook
make_project "$R"
git_init "$R"
mkdir -p "$WORK/bin"
ln -s "$(cd "$(dirname "$GEN")" && pwd)/$(basename "$GEN")" "$WORK/bin/gen"
# The hook exactly as the README shows it.
sed -n '/^```sh pre-commit$/,/^```$/p' "$SRCDIR/README.md" | sed '1d;$d' > "$R/.git/hooks/pre-commit"
chmod +x "$R/.git/hooks/pre-commit"
ok "$([ -s "$R/.git/hooks/pre-commit" ] && echo 0 || echo 1)" "the README has a pre-commit hook"
printf '\nZie [weg](weg.md).\n' >> "$R/content/verhalen/de-garage.md"
git -C "$R" add -A
PATH="$WORK/bin:$PATH" git -C "$R" commit -qm "kapotte link" 2> "$WORK/err"
is $? 1 "the hook refuses a commit with a broken link"
contains "$WORK/err" "content/verhalen/de-garage.md:" "and says where"
# What counts is what is staged, not the work tree.
git -C "$R" reset -q --hard
printf '\nNog een zin.\n' >> "$R/content/verhalen/de-garage.md"
git -C "$R" add -A
printf '\nZie [weg](weg.md).\n' >> "$R/content/verhalen/de-garage.md"
PATH="$WORK/bin:$PATH" git -C "$R" commit -qm "goed" 2> "$WORK/err"
ok $? "a clean commit passes, whatever the work tree holds"
# git commit -a commits the work tree: its index (GIT_INDEX_FILE) is
# what the hook checks.
PATH="$WORK/bin:$PATH" git -C "$R" commit -qam "alles" 2> "$WORK/err"
is $? 1 "git commit -a with a broken link in the work tree is refused"
contains "$WORK/err" "content/verhalen/de-garage.md:" "at the link"
# A commit of named paths too.
printf '\nMeer tekst.\n' >> "$R/content/tips/snifo.md"
PATH="$WORK/bin:$PATH" git -C "$R" commit -qm "alleen de tip" content/tips/snifo.md 2> "$WORK/err"
ok $? "a commit of one clean file passes, the broken one left out"
PATH="$WORK/bin:$PATH" git -C "$R" commit -qm "de garage" content/verhalen/de-garage.md 2> "$WORK/err"
is $? 1 "a commit of the broken file is refused"
# --staged on its own: the index, not HEAD or the work tree.
git -C "$R" checkout -q content/verhalen/de-garage.md
printf '\nZie [ook weg](ookweg.md).\n' >> "$R/content/verhalen/de-garage.md"
"$GEN" check -C "$R" --staged 2> "$WORK/err"
ok $? "--staged: an edit not staged is not checked"
git -C "$R" add content/verhalen/de-garage.md
"$GEN" check -C "$R" --staged 2> "$WORK/err"
is $? 1 "--staged: once staged, it is"
contains "$WORK/err" "content/verhalen/de-garage.md:" "at the link"
lacks "$WORK/err" "use --worktree" "and no notice about the work tree"
"$GEN" check -C "$R" --staged --worktree 2> "$WORK/err"
is $? 2 "--staged with --worktree: a usage error"

# File names that a URL must escape: a space, '?', '#', '%', letters
# beyond ASCII. The page is written under the file's name, and every
# link to it (articles, lists, the sitemap, the feed, the search index)
# has the name escaped, so that it leads there. A name that is not
# UTF-8 is a warning: it shows as nonsense wherever a path is shown.
N=$WORK/namen
make_project "$N"
for f in "met spatie" "vraag?" "nummer #1" "50% korting" "één"; do
	printf '+++\ntitle = "%s"\nkind = "story"\ndate = 2024-03-01\n+++\nTekst.\n' "$f" > "$N/content/verhalen/$f.md"
done
printf '\211PNG\r\n\032\n' > "$N/content/verhalen/foto van de klant.png"
printf '\n[themes."klant centraal"]\ntitle = "Klant centraal"\n' >> "$N/site.toml"
cat > "$N/content/verhalen/wegwijzer.md" <<'MD'
+++
title = "Wegwijzer"
themes = ["klant centraal"]
aliases = ["/oude%20plek/"]
+++
Zie [spatie](met%20spatie.md), [vraag](vraag%3F.md), [nummer](nummer%20%231.md),
[korting](50%25%20korting.md) en [één](één.md).

![De klant](foto%20van%20de%20klant.png)
MD
git_init "$N"
"$GEN" check -C "$N" 2> "$WORK/err"
ok $? "names a URL must escape: the check passes"
contains "$WORK/err" ": no problems" "without a warning"
"$GEN" build -q -C "$N" -o "$WORK/namen-uit/public" 2> "$WORK/err"
ok $? "and the build succeeds"
O=$WORK/namen-uit/public
for f in "met spatie" "vraag?" "nummer #1" "50% korting" "één"; do
	test -f "$O/verhalen/$f/index.html" && test -f "$O/verhalen/$f/geschiedenis/index.html"
	ok $? "the page of '$f.md' and its history under the file's name"
done
test -f "$O/verhalen/foto van de klant.png"
ok $? "the image under its name"
W=$O/verhalen/wegwijzer/index.html
contains "$W" 'href="../../verhalen/met%20spatie/"' "a link with a space escaped"
contains "$W" 'href="../../verhalen/vraag%3F/"' "a link with a question mark escaped"
contains "$W" 'href="../../verhalen/nummer%20%231/"' "a link with a hash escaped"
contains "$W" 'href="../../verhalen/50%25%20korting/"' "a link with a percent sign escaped"
contains "$W" 'href="../../verhalen/%C3%A9%C3%A9n/"' "a link with letters beyond ASCII escaped"
contains "$W" 'src="../../verhalen/foto%20van%20de%20klant.png"' "an image with spaces escaped"
contains "$O/verhalen/met spatie/index.html" 'href="../../verhalen/met%20spatie/geschiedenis/"' \
	"the link to a page's history"
contains "$O/index.html" 'href="./verhalen/nummer%20%231/"' "the home page's list"
contains "$O/oude plek/index.html" 'href="../verhalen/wegwijzer/index.html"' \
	"an alias given escaped: its page where the old URL leads"
test -f "$O/themas/klant centraal/index.html"
ok $? "a theme's page under its id as it is"
contains "$W" 'href="../../themas/klant%20centraal/"' "the theme's chip links to it escaped"
contains "$O/themas/index.html" 'href="../themas/klant%20centraal/"' "so does the list of themes"
contains "$O/sitemap.xml" "<loc>https://example.org/handboek/verhalen/vraag%3F/</loc>" "the sitemap"
contains "$O/feed.xml" 'href="https://example.org/handboek/verhalen/50%25%20korting/"' "the feed"
grep -rqF '"verhalen/met%20spatie/"' "$O/zoeken"
ok $? "the search index"
lacks "$W" 'met spatie/' "no link with the name as it is"
printf '+++\ntitle = "Cafe"\n+++\nTekst.\n' > "$N/content/verhalen/$(printf 'caf\351').md"
git -C "$N" add -A && git -C "$N" commit -qm "geen UTF-8"
"$GEN" check -C "$N" 2> "$WORK/err"
ok $? "a name that is not UTF-8: a warning, not an error"
contains "$WORK/err" "warning: the file's name is not UTF-8" "that warning"
# A build after a build holds the site's checks when every article's facts
# are as they were (links.bin): the name is said again all the same, and
# once the file is renamed, no more.
"$GEN" build -q -C "$N" -o "$WORK/naam/public" 2> "$WORK/err"
contains "$WORK/err" "warning: the file's name is not UTF-8" "a build: that warning"
"$GEN" build --stats -C "$N" -o "$WORK/naam/public" 2> "$WORK/err"
contains "$WORK/err" "the site's checks as in the last build" "the next build holds the checks"
contains "$WORK/err" "warning: the file's name is not UTF-8" "and says the name again"
git -C "$N" mv "content/verhalen/$(printf 'caf\351').md" content/verhalen/cafe.md
git -C "$N" commit -qm "een naam in UTF-8"
"$GEN" build -q -C "$N" -o "$WORK/naam/public" 2> "$WORK/err"
lacks "$WORK/err" "not UTF-8" "renamed: no warning"
"$GEN" build --stats -C "$N" -o "$WORK/naam/public" 2> "$WORK/err"
contains "$WORK/err" "the site's checks as in the last build" "the build after holds the checks"
lacks "$WORK/err" "not UTF-8" "and says nothing of names"

# A link broken by a rename: git's history knows where the file went.
R=$WORK/hernoemd
make_project "$R"
git_init "$R"
git -C "$R" mv content/verhalen/de-garage.md content/verhalen/de-werkplaats.md
git -C "$R" commit -qm "de garage heet nu de werkplaats"
renamed=$(git -C "$R" rev-parse --short=7 HEAD)
"$GEN" check -C "$R" 2> "$WORK/err"
is $? 1 "a link to a renamed article is broken"
contains "$WORK/err" "content/tips/snifo.md:13:5: error: link target '../verhalen/de-garage.md' does not exist: it was renamed to '../verhalen/de-werkplaats.md' in commit $renamed" \
	"and says where it went, and when"
# So does a leerpad entry whose file was renamed.
sed -i '1i leerpad = ["verhalen/de-garage.md"]' "$R/site.toml"
git -C "$R" commit -qam "een leerpad"
"$GEN" check -C "$R" 2> "$WORK/err"
contains "$WORK/err" "site.toml:1:12: error: leerpad entry 'verhalen/de-garage.md' does not exist: it was renamed to 'verhalen/de-werkplaats.md' in commit $renamed" \
	"a leerpad entry renamed says where it went"
sed -i '1d' "$R/site.toml"
git -C "$R" commit -qam "geen leerpad"
git -C "$R" mv content/verhalen/de-werkplaats.md content/verhalen/de-hal.md
git -C "$R" commit -qm "en nu de hal"
"$GEN" check -C "$R" 2> "$WORK/err"
contains "$WORK/err" "it was renamed to '../verhalen/de-hal.md' in commit $renamed" \
	"renamed twice: the file it is now, from the first rename of that name"
git -C "$R" rm -q content/verhalen/de-hal.md
git -C "$R" commit -qm "weg ermee"
"$GEN" check -C "$R" 2> "$WORK/err"
contains "$WORK/err" "content/tips/snifo.md:13:5: error: link target '../verhalen/de-garage.md' does not exist" \
	"renamed, then removed: broken"
lacks "$WORK/err" "renamed to" "with no file to name"

# --- a check again renders only what changed -------------------------------------
# A page whose inputs a check rendered without an error cannot fail now
# either: the next check keeps it (pages-check.pack in the build cache).
# The theme below fails on an article with themes (a partial that calls
# itself while there are some), so a page made again is one that can fail.
K=$WORK/again
make_project "$K"
mkdir -p "$K/themes"
cp -R "$SRCDIR/themes/default" "$K/themes/default"
printf '{{<baseof}}{{$main}}<p>{{page.title}}</p>{{#page.themes}}{{> partials/lus}}{{/page.themes}}{{/main}}{{/baseof}}\n' \
	> "$K/themes/default/layouts/page.mustache"
printf '{{#page.themes}}{{> partials/lus}}{{/page.themes}}\n' > "$K/themes/default/layouts/partials/lus.mustache"
sed -i '/^themes = /d' "$K/content/verhalen/de-garage.md"
git_init "$K"
"$GEN" check -C "$K" --stats 2> "$WORK/err"
ok $? "a theme that fails only on themes: clean while no article has one"
kept_pages() { sed -n 's/^pages kept *\([0-9]*\) .*/\1/p' "$WORK/err"; }
is "$(kept_pages)" "0" "the first check renders every page"
ok "$([ -s "$K/.gen-cache/pages-check.pack" ] && echo 0 || echo 1)" "and keeps what it rendered in the build cache"
"$GEN" check -C "$K" --stats 2> "$WORK/err"
ok $? "the second check is clean too"
all=$(kept_pages)
ok "$([ "${all:-0}" -ge 10 ] && echo 0 || echo 1)" "and renders no page again ($all kept)"
contains "$WORK/err" "no problems" "and says so"
ok "$([ ! -e "$K/public" ] && echo 0 || echo 1)" "still nothing written"
# The tip list gets a theme: its page is made again, and fails.
sed -i '1a themes: [snifo-gedrag]' "$K/content/tips/snifo.md"
git -C "$K" commit -qam "een thema"
"$GEN" check -C "$K" --stats 2> "$WORK/err"
is $? 1 "a changed article whose page now fails: the check fails"
contains "$WORK/err" "themes/default/layouts/partials/lus.mustache:1:17: error: partial 'partials/lus' nested more than" \
	"at the partial, as without the cache"
"$GEN" check -C "$K" --no-cache 2> "$WORK/err"
is $? 1 "the same error without the cache"
contains "$WORK/err" "lus.mustache:1:17: error: partial 'partials/lus' nested more than" "the same line"
# A failed page is not kept: the next check fails again.
"$GEN" check -C "$K" 2> "$WORK/err"
is $? 1 "a page that failed is rendered again by the next check"
git -C "$K" revert --no-edit HEAD > /dev/null
"$GEN" check -C "$K" --stats 2> "$WORK/err"
ok $? "the theme gone: clean again"
back=$(kept_pages)
ok "$([ "${back:-0}" -gt 0 ] && [ "$back" -lt "$all" ] && echo 0 || echo 1)" \
	"only the pages that show the tip list are rendered again ($back of $all kept)"
# A changed theme is a new stamp: every page is rendered again.
printf '{{<baseof}}{{$main}}<p>{{page.title}}</p>{{> partials/lus}}{{/main}}{{/baseof}}\n' \
	> "$K/themes/default/layouts/page.mustache"
printf '{{> partials/lus}}\n' > "$K/themes/default/layouts/partials/lus.mustache"
git -C "$K" commit -qam "de lus altijd"
"$GEN" check -C "$K" --stats 2> "$WORK/err"
is $? 1 "a theme changed so that it fails: the kept pages do not hide it"
contains "$WORK/err" "lus.mustache:1:1: error: partial 'partials/lus' nested more than" "at the partial"
# The print page: without an output only its frame is rendered (the
# articles' HTML cannot fail), kept while the outline, every article's
# card, is as when it rendered. This print layout fails on an author.
P=$WORK/print
make_project "$P"
mkdir -p "$P/themes"
cp -R "$SRCDIR/themes/default" "$P/themes/default"
printf '{{#print.parts}}{{#articles}}{{#author}}{{> partials/lus}}{{/author}}{{{content}}}{{/articles}}{{/print.parts}}\n' \
	> "$P/themes/default/layouts/print.mustache"
printf '{{> partials/lus}}\n' > "$P/themes/default/layouts/partials/lus.mustache"
sed -i '/^author = /d' "$P/content/verhalen/de-garage.md"
sed -i '/^author: /d' "$P/content/tips/snifo.md"
git_init "$P"
"$GEN" check -C "$P" 2> "$WORK/err"
ok $? "a print layout that fails on an author: clean while no article has one"
echo "Nog een zin." >> "$P/content/verhalen/de-garage.md"
git -C "$P" commit -qam "meer tekst"
"$GEN" check -C "$P" 2> "$WORK/err"
ok $? "an article's text changed: still clean"
sed -i '/^title = /a author = "Nieuwe auteur"' "$P/content/verhalen/de-garage.md"
git -C "$P" commit -qam "een auteur"
"$GEN" check -C "$P" 2> "$WORK/err"
is $? 1 "an article's card changed so that the print page fails: the check fails"
contains "$WORK/err" "lus.mustache:1:1: error: partial 'partials/lus' nested more than" \
	"at the partial the print page reaches"
# A build's page cache says the same of the pages it wrote: the first
# check after a build renders none of them again.
B2=$WORK/built
make_project "$B2"
git_init "$B2"
"$GEN" build -C "$B2" -q
"$GEN" check -C "$B2" --stats 2> "$WORK/err"
ok $? "a check after a build"
is "$(kept_pages)" "15" "takes every page the build rendered, the print page too"
# And an edit is rendered again, and fails where it should.
sed -i 's/^title = "De garage"/title = "De grote garage"/' "$B2/content/verhalen/de-garage.md"
"$GEN" check -C "$B2" --worktree --stats 2> "$WORK/err"
ok $? "an edited title"
back=$(kept_pages)
ok "$([ "${back:-0}" -lt 15 ] && echo 0 || echo 1)" "renders again the pages that show it ($back of 15 kept)"

# --no-cache reads and writes no page cache.
N=$WORK/nocache
make_project "$N"
git_init "$N"
"$GEN" check -C "$N" --no-cache 2> "$WORK/err"
ok $? "check --no-cache"
ok "$([ ! -e "$N/.gen-cache/pages-check.pack" ] && echo 0 || echo 1)" "keeps no page cache"

done_testing
