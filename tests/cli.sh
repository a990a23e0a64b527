#!/bin/sh
# End-to-end: the command line (help, version, usage errors and exit
# codes), `gen list` and `gen new`, and error messages for bad input.
. "$(dirname "$0")/lib.sh"

"$GEN" --help > "$WORK/out"; ok $? "--help exits 0"
contains "$WORK/out" "usage: gen" "--help prints usage"
"$GEN" --version > "$WORK/out"; ok $? "--version exits 0"
contains "$WORK/out" "gen 0." "--version prints the version"
for c in build check list new; do
	"$GEN" $c --help > "$WORK/out"; ok $? "gen $c --help exits 0"
	contains "$WORK/out" "usage: gen $c" "gen $c --help is the command's usage"
done
"$GEN" frobnicate 2> "$WORK/err"; is $? 2 "unknown command exits 2"
contains "$WORK/err" "unknown command 'frobnicate'" "unknown command named"
contains "$WORK/err" "usage: gen" "usage follows"
"$GEN" build --frob 2> "$WORK/err"; is $? 2 "unknown option exits 2"
contains "$WORK/err" "unknown option '--frob'" "unknown option named"
lacks "$WORK/err" "did you mean" "with no guess when nothing is near"

# A slip of the keyboard gets the command or option it was likely meant
# to be, from the commands and from that command's usage.
"$GEN" biuld 2> "$WORK/err"; is $? 2 "a mistyped command exits 2"
contains "$WORK/err" "gen: unknown command 'biuld' (did you mean 'build'?)" "and names the command near it"
"$GEN" build --worktre 2> "$WORK/err"; is $? 2 "a mistyped option exits 2"
contains "$WORK/err" "gen: unknown option '--worktre' (did you mean '--worktree'?)" "and names the option near it"
"$GEN" check --no-cahce 2> "$WORK/err"
contains "$WORK/err" "(did you mean '--no-cache'?)" "two letters swapped are one slip"
"$GEN" serve --prot 3 2> "$WORK/err"
contains "$WORK/err" "(did you mean '--port'?)" "serve's own options"
"$GEN" diff --qiuet 2> "$WORK/err"
contains "$WORK/err" "(did you mean '--quiet'?)" "and diff's"
"$GEN" build -c . 2> "$WORK/err"
contains "$WORK/err" "gen: unknown option '-c' (did you mean '-C'?)" "a one-letter option in the other case"
"$GEN" build -x 2> "$WORK/err"
lacks "$WORK/err" "did you mean" "but not any other one-letter option"
"$GEN" 2> /dev/null; is $? 2 "no command exits 2"
"$GEN" build --rev 2> "$WORK/err"; is $? 2 "missing option value exits 2"
(cd "$WORK" && "$GEN" build 2> "$WORK/err"); is $? 2 "no site.toml is a usage error"
contains "$WORK/err" "no 'site.toml'" "says site.toml is missing"

# --- gen list ---------------------------------------------------------------
P=$WORK/p
make_project "$P"
cat > "$P/content/verhalen/concept.md" <<'MD'
+++
title = "Concept"
kind = "story"
draft = true
+++
Tekst.
MD
git_init "$P"
"$GEN" list -C "$P" --json > "$WORK/list.json"; ok $? "gen list --json"
contains "$WORK/list.json" '"path": "content/verhalen/de-garage.md"' "path key"
contains "$WORK/list.json" '"url": "verhalen/de-garage/"' "url key"
contains "$WORK/list.json" '"title": "De garage"' "title key"
contains "$WORK/list.json" '"kind": "story"' "kind key"
contains "$WORK/list.json" '"date": "2015-03-12"' "date key"
contains "$WORK/list.json" '"author": "Adviseur"' "author key"
contains "$WORK/list.json" '"snifo-gedrag"' "themes key"
contains "$WORK/list.json" '"draft": true' "drafts are listed and marked"
n=$(grep -c '"path":' "$WORK/list.json")
is "$n" 6 "one record per page"
"$GEN" list -C "$P" > "$WORK/list.txt"; ok $? "gen list as text"
contains "$WORK/list.txt" "content/verhalen/concept.md (draft)" "text list marks drafts"

# --- gen new ----------------------------------------------------------------
git -C "$P" config user.name "Jan de Vries"
"$GEN" new story "Een kop koffie, graag" -C "$P" > "$WORK/out"; ok $? "gen new story"
is "$(cat "$WORK/out")" "content/verhalen/een-kop-koffie-graag.md" "prints the new path"
N=$P/content/verhalen/een-kop-koffie-graag.md
contains "$N" 'title = "Een kop koffie, graag"' "title filled in"
contains "$N" 'kind = "story"' "kind filled in"
contains "$N" 'author = "Jan de Vries"' "author from git user.name"
contains "$N" "date = $(date +%Y-%m-%d)" "today's date"
contains "$N" 'draft = true' "new articles are drafts"
"$GEN" new story "Een kop koffie, graag" -C "$P" 2> "$WORK/err"; is $? 1 "refuses to overwrite"
contains "$WORK/err" "already exists" "says why"
"$GEN" new tips "Tien tips voor ideeën" -C "$P" > "$WORK/out"
is "$(cat "$WORK/out")" "content/tips/tien-tips-voor-ideeen.md" "tips go to content/tips with a folded slug"
"$GEN" build -C "$P" --worktree --drafts -q 2> "$WORK/err"
ok $? "a new article builds as it is"
"$GEN" new recept "X" -C "$P" 2> /dev/null; is $? 2 "unknown kind is a usage error"

# --- error messages for bad input --------------------------------------------
bad() { # bad NAME FILE-CONTENT EXPECTED-MESSAGE
	B=$WORK/bad-$1
	make_project "$B"
	printf '%s\n' "$2" > "$B/content/verhalen/x.md"
	"$GEN" build -C "$B" -q 2> "$WORK/err"
	is $? 1 "$1: exit 1"
	contains "$WORK/err" "$3" "$1: message with file:line:col"
}
bad "no title" '+++
kind = "story"
+++
Tekst.' "content/verhalen/x.md:1:1: error: missing 'title' in front matter"
bad "malformed date" '+++
title = "X"
date = "gisteren"
+++' "content/verhalen/x.md:3:8: error: malformed date 'gisteren'"
bad "wrong type" '+++
title = "X"
draft = "ja"
+++' "content/verhalen/x.md:3:9: error: 'draft' must be"
bad "unknown kind" '---
title: X
kind: recept
---' "content/verhalen/x.md:3:7: error: unknown kind 'recept'"
bad "toml syntax" '+++
title = "X
+++' "content/verhalen/x.md:2:"
bad "yaml syntax" '---
title: [X
---' "content/verhalen/x.md:"
bad "broken link" '+++
title = "X"
+++
Zie [dit](../tips/bestaat-niet.md) en [dat](../tips/snifo.md#tip-9).' "content/verhalen/x.md:4:5: error: link target '../tips/bestaat-niet.md' does not exist"
contains "$WORK/err" "content/verhalen/x.md:4:39: error: link target '../tips/snifo.md#tip-9' does not exist" "every broken link is reported, with its column"
make_project "$WORK/bad-site.toml"
printf 'title = 5\n' > "$WORK/bad-site.toml/site.toml"
"$GEN" build -C "$WORK/bad-site.toml" 2> "$WORK/err"
is $? 1 "wrong type in site.toml exits 1"
contains "$WORK/err" "site.toml:1:9: error: 'title' must be a string, not integer" "site.toml error with line:col"
make_project "$WORK/bad-site.toml"
sed -i '1a title_typo = 1' "$WORK/bad-site.toml/site.toml"
"$GEN" build -C "$WORK/bad-site.toml" -q 2> "$WORK/err"
ok $? "an unknown key in site.toml is not fatal"
contains "$WORK/err" "site.toml:2:14: warning: unknown key 'title_typo'" "but warned about with line:col"

# --- raw HTML -----------------------------------------------------------------
H=$WORK/html
make_project "$H"
printf '+++\ntitle = "H"\n+++\n<script>alert(1)</script>\n\n<b>vet</b> tekst\n' > "$H/content/h.md"
"$GEN" build -C "$H" -q 2> /dev/null
lacks "$H/public/h/index.html" "<script>alert" "raw HTML is not passed through by default"
sed -i '1i unsafe_html = true' "$H/site.toml"
"$GEN" build -C "$H" -q 2> /dev/null
contains "$H/public/h/index.html" "<b>vet</b>" "unsafe_html = true passes it"
lacks "$H/public/h/index.html" "<script>alert" "the tag filter still drops script"

# --- invalid UTF-8 ----------------------------------------------------------
U=$WORK/utf
make_project "$U"
printf '+++\ntitle = "U"\n+++\nregel een\nkapot \377 teken\n' > "$U/content/u.md"
"$GEN" build -C "$U" 2> "$WORK/err"
ok $? "invalid UTF-8 is not fatal"
contains "$WORK/err" "content/u.md:5:" "but warned about with its line"

# The tests' own harness: with TMPDIR a folder that is not there, a test
# stops before it writes anything, rather than writing below /.
(cd "$WORK" && TMPDIR="$WORK/nergens" SRCDIR="$SRCDIR" sh -c '. "$SRCDIR/tests/lib.sh"; echo verder') > "$WORK/bail" 2>&1
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "lib.sh: no work folder, the test stops with a failure"
contains "$WORK/bail" "Bail out! no folder to work in under $WORK/nergens" "lib.sh: and says why, in TAP"
lacks "$WORK/bail" "verder" "lib.sh: and runs nothing after"

done_testing
