#!/bin/sh
# End-to-end: `gen build` from a revision, a bare repository, the work
# tree and a plain directory; drafts and future dates; the pages produced;
# a failed build leaving the previous output in place.
. "$(dirname "$0")/lib.sh"

P=$WORK/project
make_project "$P"
git_init "$P"
git -C "$P" tag v1

# --- from HEAD ------------------------------------------------------------
"$GEN" build -C "$P" > "$WORK/out" 2> "$WORK/err"
ok $? "build from HEAD succeeds"
O=$P/public
ok "$([ -f "$O/index.html" ] && echo 0 || echo 1)" "home page written"
ok "$([ -f "$O/verhalen/de-garage/index.html" ] && echo 0 || echo 1)" "story at a pretty URL"
ok "$([ -f "$O/tips/snifo/index.html" ] && echo 0 || echo 1)" "tip list from YAML front matter"
ok "$([ -f "$O/verhalen/index.html" ] && echo 0 || echo 1)" "section page"
ok "$([ -f "$O/404.html" ] && echo 0 || echo 1)" "404 page"
ok "$([ -f "$O/themas/snifo-gedrag/index.html" ] && echo 0 || echo 1)" "theme page"
is "$(cat "$O/verhalen/balie.png")" "PNG-bytes" "non-Markdown content copied unchanged"
contains "$O/sitemap.xml" "<loc>https://example.org/handboek/verhalen/de-garage/</loc>" "sitemap lists pages with the base URL"
contains "$O/robots.txt" "Sitemap: https://example.org/handboek/sitemap.xml" "robots.txt points at the sitemap"
# Without base_url a sitemap could give no address in full: none is
# written, and robots.txt does not point at one.
sed -i '/^base_url/d' "$P/site.toml"
"$GEN" build -C "$P" -q --worktree -o "$WORK/zonder-adres" 2> "$WORK/err"
ok $? "a site without base_url builds"
ok "$([ ! -e "$WORK/zonder-adres/sitemap.xml" ] && echo 0 || echo 1)" "without a sitemap"
lacks "$WORK/zonder-adres/robots.txt" "Sitemap:" "and robots.txt names none"
contains "$WORK/zonder-adres/feed.xml" "<id>urn:gen:feed</id>" "the feed names itself by a URN"
git -C "$P" checkout -q site.toml
G=$O/verhalen/de-garage/index.html
contains "$G" '<html lang="nl"' "language from site.toml"
contains "$G" 'href="../../tips/snifo/#tip-2"' "link to a tip rewritten to a relative page URL"
contains "$G" 'href="../../tips/snifo/"' "link to an article rewritten"
contains "$G" 'src="../../verhalen/balie.png"' "image path relative to the page"
contains "$G" '<h2 id="wat-er-gebeurde"' "heading has a stable id"
contains "$G" '<meta property="og:title"' "Open Graph tags"
contains "$G" 'Een klant bij de balie.' "summary used as description"
contains "$G" '12 maart 2015' "date shown in Dutch"
contains "$G" 'Adviseur' "author shown"
contains "$G" '“Ja meneer, ik kan er ook niets aan doen.”' "smart quotes"
T=$O/tips/snifo/index.html
contains "$T" 'id="tip-1"' "tip 1 anchor"
contains "$T" 'id="tip-3"' "tip 3 anchor"
contains "$T" 'href="#tip-2"' "tip permalink"
contains "$O/index.html" 'href="./verhalen/' "home links relative to the site root"
lacks "$G" 'https://example.org/handboek/css' "stylesheets are not absolute"
ok "$(grep -l 'http[s]*://[^"]*\.\(css\|js\)' "$G" >/dev/null && echo 1 || echo 0)" "no external scripts or styles"

# --- reads git, not the work tree ------------------------------------------
printf '\nNIEUWE ZIN IN DE WERKMAP\n' >> "$P/content/verhalen/de-garage.md"
"$GEN" build -C "$P" 2> "$WORK/err"
ok $? "build with uncommitted changes succeeds"
lacks "$G" "NIEUWE ZIN" "uncommitted edit is not in a build from HEAD"
contains "$WORK/err" "1 file in 'content' differs" "notice counts the uncommitted files"
contains "$WORK/err" "--worktree" "notice names --worktree"
"$GEN" build -q -C "$P" 2> "$WORK/err"
ok $? "a quiet build with uncommitted changes succeeds"
is "$(cat "$WORK/err")" "" "and prints nothing (the notice is not looked for)"
"$GEN" build -C "$P" --worktree 2> "$WORK/err"
ok $? "build --worktree succeeds"
contains "$G" "NIEUWE ZIN" "--worktree includes the uncommitted edit"
git -C "$P" checkout -q -- content
# A build that fails says so too: the fix may be the uncommitted edit.
printf '\nZie [weg](bestaat-niet.md).\n' >> "$P/content/verhalen/de-garage.md"
git -C "$P" commit -qam "kapotte link"
git -C "$P" show HEAD~1:content/verhalen/de-garage.md > "$P/content/verhalen/de-garage.md"
"$GEN" build -C "$P" 2> "$WORK/err"
is "$?" 1 "a broken link committed, fixed in the work tree: the build fails"
contains "$WORK/err" "1 file in 'content' differs" "and its notice says a file differs"
git -C "$P" checkout -q -- content
git -C "$P" revert --no-edit HEAD > /dev/null
"$GEN" build -C "$P" 2> "$WORK/err"
ok $? "the broken link reverted: the build succeeds"

# --- another revision, from a subdirectory ---------------------------------
sed -i 's/title = "De garage"/title = "De garage, herzien"/' "$P/content/verhalen/de-garage.md"
git -C "$P" commit -qam "titel aangepast"
(cd "$P/content/verhalen" && "$GEN" build --rev v1 2> "$WORK/err")
ok $? "build --rev v1 from a subdirectory finds site.toml above"
contains "$G" "<title>De garage ·" "page of v1 has the old title"
"$GEN" build -C "$P" -q
contains "$G" "De garage, herzien" "HEAD has the new title"
"$GEN" build -C "$P" --rev nosuchrev 2> "$WORK/err"
is $? 1 "unknown revision exits 1"
contains "$WORK/err" "unknown revision 'nosuchrev'" "unknown revision is named"

# --- a bare repository -----------------------------------------------------
git clone -q --bare "$P" "$WORK/bare.git"
"$GEN" build --repo "$WORK/bare.git" --rev v1 -o "$WORK/bare-out" 2> "$WORK/err"
ok $? "build from a bare repository"
contains "$WORK/bare-out/verhalen/de-garage/index.html" "<title>De garage ·" "bare repository at v1"

# --- not a git repository -------------------------------------------------
make_project "$WORK/plain"
"$GEN" build -C "$WORK/plain" 2> "$WORK/err"
ok $? "a plain directory builds"
contains "$WORK/err" "not in a git repository" "notice says history is off"
ok "$([ -f "$WORK/plain/public/verhalen/de-garage/index.html" ] && echo 0 || echo 1)" "plain directory output"

# --- drafts and future dates -----------------------------------------------
D=$WORK/drafts
make_project "$D"
cat > "$D/content/verhalen/concept.md" <<'MD'
+++
title = "Concept"
kind = "story"
draft = true
+++
Nog niet af.
MD
cat > "$D/content/verhalen/later.md" <<'MD'
+++
title = "Later"
kind = "story"
date = 2999-01-01
+++
Uit de toekomst.
MD
git_init "$D"
"$GEN" build -C "$D" -q
ok "$([ ! -e "$D/public/verhalen/concept" ] && echo 0 || echo 1)" "drafts are left out"
ok "$([ ! -e "$D/public/verhalen/later" ] && echo 0 || echo 1)" "future articles are left out"
"$GEN" build -C "$D" -q --drafts --future
ok "$([ -f "$D/public/verhalen/concept/index.html" ] && echo 0 || echo 1)" "--drafts includes drafts"
ok "$([ -f "$D/public/verhalen/later/index.html" ] && echo 0 || echo 1)" "--future includes future articles"

# --- unchanged files keep their mtime; failed builds change nothing ----------
"$GEN" build -C "$P" -q
before=$(stat -c %Y.%i "$P/public/tips/snifo/index.html")
sleep 1
"$GEN" build -C "$P" -q
after=$(stat -c %Y.%i "$P/public/tips/snifo/index.html")
is "$after" "$before" "an unchanged page is not rewritten"

snapshot() { (cd "$P/public" && find . -type f | sort | xargs sha1sum); }
snapshot > "$WORK/before.sum"
cat > "$P/content/verhalen/kapot.md" <<'MD'
+++
kind = "story"
+++
Geen titel.
MD
git -C "$P" add -A && git -C "$P" commit -qm "kapot artikel"
"$GEN" build -C "$P" 2> "$WORK/err"
is $? 1 "a content error exits 1"
contains "$WORK/err" "content/verhalen/kapot.md:1:1: error: missing 'title' in front matter" "missing title named with file:line:col"
snapshot > "$WORK/after.sum"
ok "$(cmp -s "$WORK/before.sum" "$WORK/after.sum" && echo 0 || echo 1)" "a failed build leaves the previous output untouched"
ok "$(ls -d "$P"/public.tmp-* >/dev/null 2>&1 && echo 1 || echo 0)" "no temporary directory left behind"

# The output is opened while the articles are parsed: a first build that
# then fails leaves neither a site nor a temporary directory.
F=$WORK/first-fails
make_project "$F"
cp "$P/content/verhalen/kapot.md" "$F/content/verhalen/kapot.md"
git_init "$F"
"$GEN" build -C "$F" 2> "$WORK/err"
is $? 1 "a first build with a content error exits 1"
ok "$([ ! -e "$F/public" ] && echo 0 || echo 1)" "a failed first build leaves no site"
ok "$(ls -d "$F"/public.tmp-* >/dev/null 2>&1 && echo 1 || echo 0)" "nor a temporary directory"

# With -o the reading of the output starts before site.toml is read: a
# build that then fails at site.toml leaves the output as it was, and a
# first one leaves none, nor a temporary directory.
B=$WORK/bad-config
make_project "$B"
git_init "$B"
"$GEN" build -C "$B" -q -o "$B/uit"
snap_b() { (cd "$B/uit" && find . -type f | sort | xargs sha1sum); }
snap_b > "$WORK/b-before.sum"
echo 'title = ' > "$B/site.toml"
git -C "$B" commit -qam "kapotte site.toml"
"$GEN" build -C "$B" -o "$B/uit" 2> "$WORK/err"
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "-o and a broken site.toml: the build fails"
contains "$WORK/err" "site.toml:1:" "the error names site.toml"
snap_b > "$WORK/b-after.sum"
ok "$(cmp -s "$WORK/b-before.sum" "$WORK/b-after.sum" && echo 0 || echo 1)" \
	"-o and a broken site.toml: the output as it was"
"$GEN" build -C "$B" -o "$B/nieuw" 2> /dev/null
ok "$([ ! -e "$B/nieuw" ] && echo 0 || echo 1)" "-o and a broken site.toml: no new site"
ok "$(ls -d "$B"/uit.tmp-* "$B"/nieuw.tmp-* >/dev/null 2>&1 && echo 1 || echo 0)" \
	"-o and a broken site.toml: no temporary directory"

# A broken link fails the build at the site's checks, after the search
# index has been begun beside them (with more than one job): that index
# is thrown away with the rest.
git -C "$P" rm -q content/verhalen/kapot.md
cat > "$P/content/verhalen/los.md" <<'MD'
+++
title = "Een losse link"
kind = "story"
+++
Zie [het verdwenen verhaal](verdwenen.md) voor de rest.
MD
git -C "$P" add -A && git -C "$P" commit -qm "een kapotte link"
"$GEN" build -C "$P" -j2 2> "$WORK/err"
is $? 1 "a broken link exits 1"
contains "$WORK/err" "link target 'verdwenen.md' does not exist" "the broken link is named"
snapshot > "$WORK/after.sum"
ok "$(cmp -s "$WORK/before.sum" "$WORK/after.sum" && echo 0 || echo 1)" \
	"a build that fails at its checks leaves the previous output untouched"
ok "$(ls -d "$P"/public.tmp-* >/dev/null 2>&1 && echo 1 || echo 0)" \
	"and no temporary directory behind"
git -C "$P" rm -q content/verhalen/los.md && git -C "$P" commit -qm "de link weg"

# --- English UI --------------------------------------------------------------
E=$WORK/english
make_project "$E"
sed -i 's/language = "nl"/language = "en"/' "$E/site.toml"
"$GEN" build -C "$E" -q 2> "$WORK/err"
ok $? "an English site builds"
contains "$E/public/verhalen/de-garage/index.html" '<html lang="en"' "lang is en"
contains "$E/public/verhalen/de-garage/index.html" '12 March 2015' "dates in English"
contains "$E/public/verhalen/de-garage/index.html" 'Skip to content' "UI strings in English"

# --- a template error names the template file, line and column ----------------
M=$WORK/theme
make_project "$M"
mkdir -p "$M/themes"
cp -R "$SRCDIR/themes/default" "$M/themes/default"
printf '{{#page}}\n<p>{{title}}</p>\n' > "$M/themes/default/layouts/page.mustache"
git_init "$M"
"$GEN" build -C "$M" 2> "$WORK/err"
is $? 1 "a broken template fails the build"
contains "$WORK/err" "themes/default/layouts/page.mustache:1:1: error: unclosed section 'page'" "template error with file:line:col"
ok "$([ ! -e "$M/public" ] && echo 0 || echo 1)" "nothing written"

# --- a project-local theme overrides the installed one -------------------------
printf '{{<baseof}}{{$main}}<p class="eigen">{{page.title}}</p>{{/main}}{{/baseof}}\n' > "$M/themes/default/layouts/page.mustache"
git -C "$M" commit -qam "eigen layout"
"$GEN" build -C "$M" -q 2> "$WORK/err"
contains "$M/public/verhalen/de-garage/index.html" '<p class="eigen">De garage</p>' "the project's own theme is used"
lacks "$WORK/err" "warning" "a theme whose partials are all there: no warning"

# A partial the theme does not have renders as nothing (the Mustache
# spec), so the build goes on, but says where it was asked for.
printf '{{<baseof}}{{$main}}<p class="eigen">{{page.title}}</p>\n  {{> partials/kop}}{{/main}}{{/baseof}}\n' > "$M/themes/default/layouts/page.mustache"
git -C "$M" commit -qam "een partial die er niet is"
"$GEN" build -C "$M" -q 2> "$WORK/err"
ok $? "a theme that names a missing partial still builds"
contains "$WORK/err" "themes/default/layouts/page.mustache:2:3: warning: partial 'partials/kop' is not in the theme (no layouts/partials/kop.mustache): it shows nothing" \
	"and warns at the tag"
git -C "$M" reset -q --hard HEAD~1

# -o into the content folder: the next build from the work tree would
# read the pages back as files of the handbook. Refused before anything
# is written, from HEAD as from the work tree.
for how in "" --worktree; do
	"$GEN" build -C "$M" -q $how -o "$M/content/uit" 2> "$WORK/err"
	is $? 2 "an output in the content folder is refused ${how:-from HEAD}"
	contains "$WORK/err" "error: the output '$M/content/uit' is inside the content folder 'content'" \
		"and says why ${how:-from HEAD}"
done
"$GEN" build -C "$M" -q -o "$M/content/verhalen/../../content/diep/uit" 2> "$WORK/err"
is $? 2 "so is one that gets there by .."
ok "$(cd "$M" && [ -z "$(git status --porcelain --untracked-files=all content)" ] && echo 0 || echo 1)" \
	"and nothing is left in the content folder"

# -o into folders that do not exist yet: they are made.
"$GEN" build -C "$M" -q -o "$WORK/diep/er/site"
ok $? "-o into missing folders builds"
test -f "$WORK/diep/er/site/index.html"
ok $? "and the site is there"
test -f "$WORK/diep/er/site/.gen-site"
ok $? "with the mark of a folder gen builds"

# -o naming a folder that holds things no gen build made (a mistyped
# path: a home folder, the project's parent) is refused, and nothing in
# it is touched: the commit would remove them as stale.
mkdir -p "$WORK/thuis/documenten"
echo "belangrijk" > "$WORK/thuis/documenten/notities.txt"
echo "boodschappen" > "$WORK/thuis/lijstje.txt"
(cd "$WORK/thuis" && find . | sort > "$WORK/thuis.before")
"$GEN" build -C "$M" -o "$WORK/thuis" 2> "$WORK/err"
is $? 2 "-o a folder no gen build made: refused (usage error)"
contains "$WORK/err" "refusing to replace '$WORK/thuis'" "and says which folder"
grep -Eq "it holds '(documenten|lijstje.txt)'" "$WORK/err"
ok $? "naming something it holds"
(cd "$WORK/thuis" && find . | sort > "$WORK/thuis.after")
cmp -s "$WORK/thuis.before" "$WORK/thuis.after" && cmp -s "$WORK/thuis/lijstje.txt" - <<'TXT'
boodschappen
TXT
ok $? "and everything in it is left as it was"
ls -d "$WORK"/thuis.tmp-* > /dev/null 2>&1
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "no temporary folder is left beside it"
# An empty folder is taken, and a folder gen built keeps being replaced:
# a file put there by hand goes, as a clean build has none.
mkdir "$WORK/leeg"
"$GEN" build -C "$M" -q -o "$WORK/leeg"
ok $? "-o an empty folder builds"
echo "met de hand" > "$WORK/leeg/extra.txt"
"$GEN" build -C "$M" -q -o "$WORK/leeg"
ok $? "a folder gen built, with a file added by hand, is built again"
ok "$([ ! -e "$WORK/leeg/extra.txt" ] && echo 0 || echo 1)" "and the file added by hand is gone"
# A site built before the mark existed: its manifest says gen made it.
rm "$WORK/leeg/.gen-site"
"$GEN" build -C "$M" -q -o "$WORK/leeg"
ok $? "a folder without the mark but with the manifest of a build is built again"
test -f "$WORK/leeg/.gen-site"
ok $? "and gets the mark"

# An article that is a symbolic link: git keeps the link, not the file,
# so a build from git leaves it out, and says so; --worktree follows it
# (it stays inside the project).
ln -s de-garage.md "$M/content/verhalen/kopie.md"
git -C "$M" add -A && git -C "$M" commit -qm "een link"
"$GEN" build -C "$M" -o "$WORK/link-git" 2> "$WORK/err"
ok $? "a symbolic link in the content: the build from git succeeds"
contains "$WORK/err" "content/verhalen/kopie.md: warning: a symbolic link, which a build from git leaves out" \
	"and warns that it leaves the link out"
ok "$([ ! -e "$WORK/link-git/verhalen/kopie" ] && echo 0 || echo 1)" "and leaves it out"
"$GEN" build -C "$M" --worktree -o "$WORK/link-wt" 2> "$WORK/err"
ok $? "--worktree follows the link"
test -f "$WORK/link-wt/verhalen/kopie/index.html"
ok $? "and builds its page"
lacks "$WORK/err" "symbolic link" "without the warning"
git -C "$M" rm -q content/verhalen/kopie.md && git -C "$M" commit -qm "weg met de link"

# On disk, a link that leads outside the project is not followed (a file
# from elsewhere on the machine would be published), nor one back into a
# folder it is in (listed forty deep, to the system's limit on links).
echo "niet voor de site" > "$WORK/geheim.txt"
ln -s "$WORK/geheim.txt" "$M/content/verhalen/geheim.txt"
ln -s . "$M/content/verhalen/lus"
ln -s .. "$M/content/tips/omhoog"
"$GEN" build -C "$M" --worktree -o "$WORK/link-buiten" 2> "$WORK/err"
ok $? "links outside the project and back into their folder: the build succeeds"
contains "$WORK/err" "content/verhalen/geheim.txt: warning: a symbolic link to '$(cd "$WORK" && pwd -P)/geheim.txt', outside the project: left out" \
	"and says it leaves the one outside out"
ok "$([ ! -e "$WORK/link-buiten/verhalen/geheim.txt" ] && echo 0 || echo 1)" "which is not published"
contains "$WORK/err" "content/verhalen/lus: warning: a symbolic link back to '$(cd "$M/content/verhalen" && pwd -P)', a folder it is in: left out" \
	"and the loop"
contains "$WORK/err" "content/tips/omhoog: warning: a symbolic link back to '$(cd "$M/content" && pwd -P)', a folder it is in" \
	"also one to a folder further up"
ok "$([ ! -e "$WORK/link-buiten/verhalen/lus" ] && [ ! -e "$WORK/link-buiten/tips/omhoog" ] && echo 0 || echo 1)" \
	"neither is listed again"
rm "$M/content/verhalen/geheim.txt" "$M/content/verhalen/lus" "$M/content/tips/omhoog"

# -o . from inside the output folder: the build cache goes beside it, not
# into the site.
mkdir -p "$WORK/nest/binnen"
(cd "$WORK/nest/binnen" && "$GEN" build -C "$M" -q -o .)
ok $? "-o . builds into the working folder"
ok "$([ ! -e "$WORK/nest/binnen/.gen-cache" ] && echo 0 || echo 1)" "-o .: no build cache inside the site"
test -d "$WORK/nest/.gen-cache"
ok $? "-o .: the build cache is beside it"
(cd "$WORK/nest/binnen" && "$GEN" build -C "$M" --stats -o . 2> "$WORK/err")
ok $? "-o .: a rebuild succeeds"
lacks "$WORK/err" "warning" "-o .: without warnings"
kept=$(sed -n 's/^pages kept *\([0-9]*\) .*/\1/p' "$WORK/err")
built=$(sed -n 's/^built \([0-9]*\) pages.*/\1/p' "$WORK/err")
test -n "$kept" && test "$kept" = "$built"
ok $? "-o .: and keeps every page ($kept of $built)"

done_testing
