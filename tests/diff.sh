#!/bin/sh
# End-to-end: `gen diff A B`, the review report. A branch that adds a
# page, renames one with an edit, edits another, drops a theme, breaks a
# link and fixes one; the terminal report (no colour when not a terminal)
# and the HTML report; usage errors and exit codes.
. "$(dirname "$0")/lib.sh"

P=$WORK/p
make_project "$P"
# main has one broken link, for the branch to fix (main need not build).
cat > "$P/content/tips/oud.md" <<'MD'
+++
title = "Oude tips"
kind = "tips"
+++
1. **Kijk op.** Zie [de garage](../verhalen/garage-bestaat-niet.md).
MD
git_init "$P"
git -C "$P" tag v1

git -C "$P" checkout -q -b review
cat > "$P/content/verhalen/nieuw.md" <<'MD'
+++
title = "Een nieuw verhaal"
kind = "story"
themes = ["snifo-gedrag"]
+++
Zie [de verdwenen tip](../tips/bestaat-niet.md).
MD
git -C "$P" mv content/verhalen/de-garage.md content/verhalen/garage.md
sed -i 's/Een klant bij de balie./Een klant aan de balie./; s/themes = \["snifo-gedrag"\]/themes = []/' \
	"$P/content/verhalen/garage.md"
sed -i 's/Dat werkt\./Dat werkt meestal./; s|verhalen/de-garage.md|verhalen/garage.md|' \
	"$P/content/tips/snifo.md"
sed -i 's|garage-bestaat-niet.md|garage.md|' "$P/content/tips/oud.md"
git -C "$P" add -A
git -C "$P" commit -qm "review: nieuw verhaal, garage hernoemd"

"$GEN" diff main review -C "$P" > "$WORK/out" 2> "$WORK/err"
ok $? "gen diff exits 0"
R=$WORK/out
contains "$R" "gen diff main review (" "summary line names the revisions"
contains "$R" "1 added, 0 removed, 1 renamed, 2 changed" "counts"
contains "$R" "+ content/verhalen/nieuw.md  \"Een nieuw verhaal\"  themes: +snifo-gedrag" "added page with its themes"
contains "$R" "> content/verhalen/de-garage.md -> content/verhalen/garage.md  \"De garage\" (and edited)  themes: -snifo-gedrag" "renamed page, edited, theme lost"
contains "$R" "~ content/tips/snifo.md  \"Snifo voorkomen\"" "changed page"
contains "$R" "broken content/verhalen/nieuw.md:6:5: link target '../tips/bestaat-niet.md' does not exist" "a link broken by the change"
contains "$R" "fixed  content/tips/oud.md:5:" "a link fixed by the change"
lacks "$R" "snifo.md:13" "a link kept working through the rename is not reported"
contains "$R" "--- content/verhalen/de-garage.md" "diff of the renamed page: old name"
contains "$R" "+++ content/verhalen/garage.md" "and new name"
contains "$R" '-summary = "Een klant [-bij-] de balie."' "removed word marked"
contains "$R" '+summary = "Een klant {+aan+} de balie."' "added word marked"
contains "$R" '+1. **Geef het goede voorbeeld.** Dat werkt {+meestal+}.' "word diff of the changed page"
ok "$(grep -q "$(printf '\033')" "$R" && echo 1 || echo 0)" "no colour when stdout is not a terminal"
is "$(wc -c < "$WORK/err")" 0 "nothing on stderr"

"$GEN" diff v1 review -C "$P" -q > "$WORK/q"
ok $? "a tag and a branch"
lacks "$WORK/q" "@@" "--quiet: the summary without diffs"

# --- the HTML report --------------------------------------------------------------
"$GEN" diff main review -C "$P" --html "$WORK/report" > /dev/null 2> "$WORK/err"
ok $? "gen diff --html"
H=$WORK/report/index.html
ok "$([ -f "$H" ] && echo 0 || echo 1)" "report page written"
ok "$([ -f "$WORK/report/css/gen.css" ] && [ -f "$WORK/report/css/history.css" ] && echo 0 || echo 1)" "with the site's stylesheets"
contains "$H" '<html lang="nl">' "in the site's language"
contains "$H" 'Review: <code>main</code> → <code>review</code>' "report title"
contains "$H" '<span class="badge">Verplaatst</span>' "status labels in Dutch"
contains "$H" '<code>content/verhalen/de-garage.md</code> → <code>content/verhalen/garage.md</code>' "rename shown"
contains "$H" 'Een klant <del class="diff-word">bij</del> de balie.' "word diff in HTML"
contains "$H" '<del class="diff-word">− Snifo-gedrag</del>' "theme lost, by its title"
contains "$H" '<ins class="diff-word">+ Snifo-gedrag</ins>' "theme gained"
contains "$H" "link target &#39;../tips/bestaat-niet.md&#39; does not exist" "broken link listed"
contains "$H" 'href="https://example.org/handboek/verhalen/garage/"' "pages link to the site (base_url)"
contains "$WORK/err" "wrote the review to" "says where the report is"

# --- no changes, errors ---------------------------------------------------------
"$GEN" diff main main -C "$P" > "$WORK/out"
ok $? "no changes: exit 0"
contains "$WORK/out" "0 added, 0 removed, 0 renamed, 0 changed" "and says so"
"$GEN" diff main geen-tak -C "$P" > /dev/null 2> "$WORK/err"
is $? 1 "an unknown revision exits 1"
contains "$WORK/err" "unknown revision 'geen-tak'" "and is named"
"$GEN" diff -C "$P" 2> "$WORK/err"
is $? 2 "no revisions is a usage error"
contains "$WORK/err" "usage: gen diff" "usage follows"
"$GEN" diff a b c -C "$P" 2> /dev/null
is $? 2 "three revisions is a usage error"
"$GEN" diff main review -C "$P" --frob 2> /dev/null
is $? 2 "unknown option"
"$GEN" diff --help > "$WORK/out"
ok $? "gen diff --help"
contains "$WORK/out" "usage: gen diff A [B]" "the command's usage"
make_project "$WORK/plain"
"$GEN" diff main review -C "$WORK/plain" 2> "$WORK/err"
is $? 2 "outside a repository: usage error"
contains "$WORK/err" "gen diff compares revisions" "and says why"

# Both revisions go through the build cache: the same report as without
# it, and the articles kept for the next command.
rm -rf "$P/.gen-cache"
"$GEN" diff main review -C "$P" --no-cache > "$WORK/nocache" 2> /dev/null
ok $? "gen diff --no-cache"
ok "$([ ! -e "$P/.gen-cache/documents.pack" ] && echo 0 || echo 1)" "--no-cache keeps nothing"
"$GEN" diff main review -C "$P" > "$WORK/cached1" 2> /dev/null
ok "$([ -s "$P/.gen-cache/documents.pack" ] && echo 0 || echo 1)" "without it, the articles are kept in the build cache"
"$GEN" diff main review -C "$P" > "$WORK/cached2" 2> /dev/null
is "$(cat "$WORK/cached1")" "$(cat "$WORK/nocache")" "the report with a cache made on the way is the same"
is "$(cat "$WORK/cached2")" "$(cat "$WORK/nocache")" "and with the articles from it"
# Damaged, it is not trusted.
printf 'kapot' | dd of="$P/.gen-cache/documents.pack" bs=1 seek=100 conv=notrunc 2> /dev/null
"$GEN" diff main review -C "$P" > "$WORK/cached3" 2> /dev/null
is "$(cat "$WORK/cached3")" "$(cat "$WORK/nocache")" "a damaged cache: the same report"

# A bare repository, the default B (HEAD).
git clone -q --bare "$P" "$WORK/bare.git"
git -C "$WORK/bare.git" symbolic-ref HEAD refs/heads/review
"$GEN" diff main --repo "$WORK/bare.git" > "$WORK/out"
ok $? "bare repository, B defaults to HEAD"
contains "$WORK/out" "gen diff main HEAD" "against HEAD"
contains "$WORK/out" "1 renamed" "same report"

done_testing
