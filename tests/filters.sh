#!/bin/sh
# End-to-end: Lua filters in a project. Themes tagged with evidence on the
# article pages, the theme pages and `gen list --json`; front matter edited
# by a filter reaching the page; filters read from the git revision; the
# sandbox and the limits failing the build with the filter's file and line
# and the article, leaving the last good output in place; the same output
# for any -j; the filters' time in --stats; and the handbook itself.
. "$(dirname "$0")/lib.sh"

P=$WORK/project
make_project "$P"
mkdir -p "$P/lua"
sed -i '1a filters = ["lua/tag.lua"]' "$P/site.toml"
cat >> "$P/site.toml" <<'TOML'

[themes.feedback]
title = "Feedbacklus"
description = "Signalen opvangen en ervan leren."

[themes.grenzen]
title = "Grenzen stellen"
description = "Nee zeggen zonder de klant kwijt te raken."
TOML
# The tip list names a theme by hand, and asks for feedback.
sed -i 's/^author: Adviseur$/author: Adviseur\nthemes: [grenzen]/' "$P/content/tips/snifo.md"
sed -i 's/^2\. \*\*Voer de dialoog.\*\* Over waarden.$/2. **Voer de dialoog.** Vraag om feedback. Over waarden./' \
	"$P/content/tips/snifo.md"
cat > "$P/lua/tag.lua" <<'LUA'
-- Tags by a word, fills in a summary, and marks the title.
local words = { ["niets aan doen"] = "snifo-gedrag", feedback = "feedback" }
local order = { "niets aan doen", "feedback" }
return {
  Paragraph = function(p)
    local text = p:text()
    for _, w in ipairs(order) do
      if text:find(w, 1, true) then doc:tag(words[w], p, w) end
    end
  end,
  Document = function()
    if doc.kind == "tips" then doc.meta.summary = "Samenvatting uit de filter." end
    if doc.path == "content/verhalen/de-garage.md" then
      doc.meta.title = doc.meta.title .. " (gefilterd)"
    end
  end,
}
LUA
git_init "$P"

"$GEN" build -C "$P" > "$WORK/out" 2> "$WORK/err"
ok $? "a build with a filter succeeds"
O=$P/public
G=$O/verhalen/de-garage/index.html
T=$O/tips/snifo/index.html

# --- evidence on the article pages ---------------------------------------------
contains "$G" '<p id="bewijs-snifo-gedrag-1" class="evidence">De baliemedewerker zei:' "the passage is marked and anchored"
contains "$G" '<h2 id="article-themes-title">Waarom deze thema' "the article says why it has its themes"
contains "$G" '<a href="#bewijs-snifo-gedrag-1">Lees de passage</a>: <q>De baliemedewerker zei: “Ja meneer, ik kan er ook niets aan doen.”</q>' "each theme links to its passage, quoting it"
contains "$G" '<p class="theme-reason-description">Niet mijn taak.</p>' "with the theme's description"
contains "$G" '<h1>De garage (gefilterd)</h1>' "a title edited by the filter reaches the page"
contains "$T" '<span id="bewijs-feedback-1" class="evidence"><strong>Voer de dialoog.</strong> Vraag om feedback. Over waarden.</span>' "a passage in a tip is marked"
contains "$T" '<p class="theme-reason-evidence evidence-manual">Gekozen door de redactie</p>' "a theme set by hand is shown without a passage"
contains "$T" '<meta name="description" content="Samenvatting uit de filter.">' "a summary set by the filter reaches the page"
contains "$T" 'href="../../themas/feedback/" title="Signalen opvangen en ervan leren."' "tagged themes are among the article's themes"

# --- the theme pages ----------------------------------------------------------
I=$O/themas/index.html
contains "$I" '<a href="../themas/snifo-gedrag/">Snifo-gedrag</a>' "/themas/ lists every theme"
contains "$I" '<p class="card-summary">Signalen opvangen en ervan leren.</p>' "with its description"
contains "$I" '1 artikel · 1 verhaal · 0 tiplijsten' "and the counts of articles, stories and tips"
contains "$I" '1 artikel · 0 verhalen · 1 tiplijst' "apart, per theme"
F=$O/themas/feedback/index.html
contains "$F" '<h1>Feedbacklus</h1>' "a page per theme"
contains "$F" '<blockquote class="evidence-excerpt"><p>Vraag om feedback.</p></blockquote>' "the theme page quotes the passage"
contains "$F" 'href="../../tips/snifo/#bewijs-feedback-1">Lees de passage</a>' "and links to it"
contains "$O/themas/grenzen/index.html" 'Gekozen door de redactie' "an article with the theme set by hand is listed too"

# --- gen list --json ------------------------------------------------------------
"$GEN" list --json -C "$P" 2>/dev/null | tr -d ' \n' > "$WORK/list"
line=$(grep -n 'niets aan doen' "$P/content/verhalen/de-garage.md" | cut -d: -f1)
contains "$WORK/list" "\"evidence\":{\"snifo-gedrag\":[{\"line\":$line,\"excerpt\":\"Debaliemedewerkerzei:“Jameneer,ikkanerookniets" "evidence with the file line of the passage"
contains "$WORK/list" '"themes":["grenzen","feedback"],"evidence":{"grenzen":[],"feedback":[{"line":' "manual themes first, with no evidence"
contains "$WORK/list" '"title":"Snifovoorkomen"' "gen list sees the filtered document"

# --- filters come from the revision ------------------------------------------
printf 'error("niet gecommit")\n' > "$P/lua/tag.lua"
"$GEN" build -C "$P" -q 2> "$WORK/err"
ok $? "an uncommitted filter is not used for a build from HEAD"
"$GEN" build -C "$P" -q --worktree -o "$WORK/wt" 2> "$WORK/err"
is $? 1 "--worktree uses it"
git -C "$P" checkout -q -- lua

# --- errors fail the build, name the filter and the article, keep the output ----
snapshot() { (cd "$P/public" && find . -type f | sort | xargs sha1sum); }
snapshot > "$WORK/before.sum"
fails() { # fails FILTER-TEXT EXPECTED-STDERR NAME [SITE-LINE]
	git -C "$P" checkout -q -- .
	printf '%s\n' "$1" > "$P/lua/tag.lua"
	[ -n "$4" ] && printf '%s\n' "$4" >> "$P/site.toml"
	git -C "$P" commit -qam "filter kapot"
	"$GEN" build -C "$P" 2> "$WORK/err"
	is $? 1 "$3: the build fails"
	contains "$WORK/err" "$2" "$3: reported as specified"
	git -C "$P" reset -q --hard HEAD~1
}
fails 'return { Paragraph = function(p)
  error("stuk")
end }' "lua/tag.lua:2: error: stuk (while filtering content/_index.md and 4 other articles)" "a runtime error"
fails 'return {
  Paragraph = function(p) p.x.y = 1 end,
}' "lua/tag.lua:2: error: attempt to index a nil value (field 'x') (while filtering content/_index.md and 4 other articles)" "an error from the VM"
fails 'return {
  Paragraph = function(p) end
  Heading = 1,
}' "lua/tag.lua:3: error: '}' expected (to close '{' at line 1) near 'Heading' (while filtering content/_index.md)" "a syntax error"
fails 'return { Paragraph = function()
  while true do end
end }' "lua/tag.lua:2: error: instruction budget of 100000 exceeded (an endless loop? site.toml [filter] instructions) (while filtering content/_index.md and 4 other articles)" "an endless loop" '[filter]
instructions = 100000'
fails 'local t = {}
for i = 1, 1e9 do t[#t + 1] = tostring(i) end
return {}' "lua/tag.lua:2: error: memory cap of 1 MiB exceeded (site.toml [filter] memory) (while filtering content/_index.md and 4 other articles)" "a memory bomb" '[filter]
memory = 1048576'
fails 'local f = io.open("/etc/passwd")
return {}' "lua/tag.lua:1: error: attempt to index a nil value (global 'io') (while filtering content/_index.md and 4 other articles)" "no io"
fails 'os.execute("touch /tmp/gen-was-here")
return {}' "lua/tag.lua:1: error: attempt to call a nil value (field 'execute') (while filtering content/_index.md and 4 other articles)" "no os.execute"
fails 'local f = load(string.dump(function() end))
return {}' "lua/tag.lua:1: error: attempt to call a nil value (field 'dump') (while filtering content/_index.md and 4 other articles)" "no bytecode"
fails 'dofile("/etc/passwd")
return {}' "lua/tag.lua:1: error: attempt to call a nil value (global 'dofile') (while filtering content/_index.md and 4 other articles)" "no dofile"
fails 'require("os")
return {}' "lua/tag.lua:1: error: module 'os' not found: no 'lua/os.lua' in the snapshot (while filtering content/_index.md and 4 other articles)" "require only from lua/"
# The same error on every article is one line (above); an error on one
# article names it alone, and errors that differ are each a line.
fails 'return { Document = function()
  if doc.path:find("snifo") then error("alleen hier") end
end }' "lua/tag.lua:2: error: alleen hier (while filtering content/tips/snifo.md)" "an error on one article"
lacks "$WORK/err" "other articles" "an error on one article: no others counted"
fails 'return { Document = function()
  error("kapot in " .. doc.path)
end }' "lua/tag.lua:2: error: kapot in content/tips/snifo.md (while filtering content/tips/snifo.md)" "an error that differs per article"
is "$(grep -c 'lua/tag.lua:2: error: kapot in' "$WORK/err")" 5 "an error that differs per article: a line each"
snapshot > "$WORK/after.sum"
ok "$(cmp -s "$WORK/before.sum" "$WORK/after.sum" && echo 0 || echo 1)" "failed builds leave the previous output untouched"

sed -i 's|^filters = .*|filters = ["lua/nope.lua"]|' "$P/site.toml"
git -C "$P" commit -qam "filter weg"
"$GEN" build -C "$P" 2> "$WORK/err"
is $? 2 "a filter that does not exist is a usage error"
contains "$WORK/err" "site.toml:2:12: error: filter 'lua/nope.lua' does not exist in" "named with site.toml's line"
git -C "$P" reset -q --hard HEAD~1

# --- the same output for any -j ---------------------------------------------------
for j in 1 4; do
	"$GEN" build -C "$P" -q -j $j -o "$WORK/j$j" 2>/dev/null
	(cd "$WORK/j$j" && find . -type f | sort | xargs sha1sum) > "$WORK/j$j.sum"
done
ok "$(cmp -s "$WORK/j1.sum" "$WORK/j4.sum" && echo 0 || echo 1)" "-j1 and -j4 give the same files"

# --- --stats: the filters' time ----------------------------------------------------
# A filter busy for a while on every article: its time is on the filters
# line, as the documents' share; a rebuild that reads every article from
# the cache filters none; a project without filters says so.
S=$WORK/slow
make_project "$S"
mkdir -p "$S/lua"
sed -i '1a filters = ["lua/slow.lua"]' "$S/site.toml"
cat > "$S/lua/slow.lua" <<'LUA'
-- Counts for a while on each article, and changes nothing.
return {
  Document = function()
    local n = 0
    for i = 1, 1500000 do n = n + i end
  end,
}
LUA
git_init "$S"
n=$(find "$S/content" -name '*.md' | wc -l)
"$GEN" build -C "$S" -q --stats -j 2 -o "$WORK/slow-out" 2> "$WORK/slow.err"
ok $? "a build with a slow filter"
contains "$WORK/slow.err" "Lua, within the documents' time: $n articles filtered," "--stats: the filters ran on every article"
contains "$WORK/slow.err" "s summed over 2 threads)" "--stats: and says over how many threads"
ok "$(awk '/^filters /{ f = $2 } /^documents /{ d = $2 } END { exit !(f > 0.005 && f <= d) }' "$WORK/slow.err"; echo $?)" \
	"--stats: the filters' time is measured, within the documents' ($(grep -E '^(documents|filters) ' "$WORK/slow.err" | awk '{printf "%s %s ", $1, $2}'))"
"$GEN" build -C "$S" -q --stats -j 2 -o "$WORK/slow-out" 2> "$WORK/slow.err"
contains "$WORK/slow.err" "filters       0.000  (Lua, within the documents' time: 0 articles filtered," "--stats: a rebuild from the cache filters nothing"
sed -i '/^filters = /d' "$S/site.toml"
git -C "$S" commit -qam "geen filters"
"$GEN" build -C "$S" -q --stats -o "$WORK/slow-out" 2> "$WORK/slow.err"
contains "$WORK/slow.err" "filters       0.000  (no Lua filters)" "--stats: a project without filters says so"

# --- the handbook ------------------------------------------------------------------
if [ -f "$SRCDIR/lua/themes.lua" ]; then
	"$GEN" build -C "$SRCDIR" --worktree -q -o "$WORK/hb" 2> "$WORK/err"
	ok $? "the handbook builds with its filters"
	H=$WORK/hb
	for t in snifo-gedrag specialisatie feedback verantwoordelijkheid empathie procesafspraken leiderschap grenzen reputatie; do
		ok "$([ -f "$H/themas/$t/index.html" ] && echo 0 || echo 1)" "theme page for $t"
	done
	contains "$H/themas/specialisatie/index.html" 'Een onsje klant' "the specialisation page lists the ice cream story"
	contains "$H/themas/specialisatie/index.html" 'onsje klant' "with its passage"
	contains "$H/verhalen/de-garage/index.html" '<blockquote class="callout callout-killer">' "the garage's killer phrase is a callout"
	contains "$H/verhalen/de-vloerenwinkel/index.html" 'href="#bewijs-snifo-gedrag-1"' "the flooring shop links its snifo passage"
fi

done_testing
