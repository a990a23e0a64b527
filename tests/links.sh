#!/bin/sh
# End-to-end: links between articles. Every form of link is rewritten to a
# relative page URL; every broken form is reported with its file, line and
# column, all of them; links = "warn" turns them into warnings; each page
# lists its backlinks ("Genoemd in") with the sentence around the link, a
# tip list per tip.
. "$(dirname "$0")/lib.sh"

# --- every form of link, rewritten -------------------------------------------
P=$WORK/vormen
make_project "$P"
mkdir -p "$P/content/files"
printf 'PDF' > "$P/content/files/gids.pdf"
cat > "$P/content/verhalen/vormen.md" <<'MD'
+++
title = "Alle vormen"
kind = "story"
+++
## Een kopje

Tip: [tweede](../tips/snifo.md#tip-2), lijst: [snifo](../tips/snifo.md),
kop: [gebeurde](de-garage.md#wat-er-gebeurde), hier: [kopje](#een-kopje),
sectie: [tips](../tips/_index.md), map: [verhalen](./), map2: [tipsmap](../tips/),
home: [home](../_index.md), extern: [site](https://example.org/x.md),
mail: <mailto:a@b.nl>, beeld: ![balie](balie.png), pdf: [pdf](../files/gids.pdf#page=2),
terug: [garage](../verhalen/de-garage.md#wat-er-gebeurde).
MD
git_init "$P"
"$GEN" build -C "$P" -q 2> "$WORK/err"
ok $? "a site with every form of link builds"
V=$P/public/verhalen/vormen/index.html
contains "$V" 'href="../../tips/snifo/#tip-2"' "x.md#tip-N to the page URL with the tip anchor"
contains "$V" 'href="../../tips/snifo/">snifo' "../tips/x.md to the page URL"
contains "$V" 'href="../../verhalen/de-garage/#wat-er-gebeurde">gebeurde' "y.md#heading in the same folder"
contains "$V" 'href="../../verhalen/de-garage/#wat-er-gebeurde">garage' "../verhalen/y.md#heading"
contains "$V" 'href="#een-kopje"' "#local stays"
contains "$V" 'href="../../tips/">tips' "a section's _index.md to the section URL"
contains "$V" 'href="../../verhalen/">verhalen' "./ (this folder) to the section URL"
contains "$V" 'href="../../tips/">tipsmap' "../tips/ (a folder) to the section URL"
contains "$V" 'href="../../">home' "../_index.md to the home page"
contains "$V" 'href="https://example.org/x.md"' "external links are left alone"
contains "$V" 'href="mailto:a@b.nl"' "mailto is left alone"
contains "$V" 'src="../../verhalen/balie.png"' "an image relative to the page"
contains "$V" 'href="../../files/gids.pdf#page=2"' "a file keeps its fragment"
contains "$P/public/index.html" 'href="./verhalen/' "links on the home page start at ./"

# --- every broken form, with line and column -----------------------------------
B=$WORK/kapot
make_project "$B"
cat > "$B/content/verhalen/kapot.md" <<'MD'
+++
title = "Kapot"
kind = "story"
+++
Een [ontbrekend bestand](nergens.md) hier.
Een [ontbrekende tip](../tips/snifo.md#tip-9) en [kop](de-garage.md#geen-kop).
Een [lokaal anker](#nergens) en ![beeld](weg.png).

- In een lijst: [item](../tips/weg.md#tip-1)
  > Citaat met [link](../nergens/)

| a | b |
|---|---|
| x | [cel](cel.md) |

Een [referentie][r] hier.

[r]: ref.md

Een link over
[twee
regels](twee.md) en [buiten](../../README.md) en [concept](concept.md).
MD
cat > "$B/content/verhalen/concept.md" <<'MD'
+++
title = "Concept"
draft = true
+++
Nog niet af.
MD
git_init "$B"
"$GEN" build -C "$B" -q 2> "$WORK/err"
is $? 1 "broken links fail the build"
K=content/verhalen/kapot.md
contains "$WORK/err" "$K:5:5: error: link target 'nergens.md' does not exist" "missing file"
contains "$WORK/err" "$K:6:5: error: link target '../tips/snifo.md#tip-9' does not exist: 'content/tips/snifo.md' has no anchor '#tip-9' (its tips are #tip-1 to #tip-3)" "missing tip, with the tips there are"
contains "$WORK/err" "$K:6:50: error: link target 'de-garage.md#geen-kop' does not exist: 'content/verhalen/de-garage.md' has no anchor '#geen-kop'" "missing heading anchor"
contains "$WORK/err" "$K:7:5: error: link target '#nergens' does not exist" "missing local anchor"
contains "$WORK/err" "$K:7:33: error: image 'weg.png' does not exist" "missing image"
contains "$WORK/err" "$K:9:17: error: link target '../tips/weg.md#tip-1' does not exist" "in a list item"
contains "$WORK/err" "$K:10:16: error: link target '../nergens/' does not exist" "in a block quote in a list, a folder"
contains "$WORK/err" "$K:14:7: error: link target 'cel.md' does not exist" "in a table cell"
contains "$WORK/err" "$K:16:5: error: link target 'ref.md' does not exist" "a reference link, where it is used"
contains "$WORK/err" "$K:21:1: error: link target 'twee.md' does not exist" "a link over two lines, where it opens"
contains "$WORK/err" "$K:22:21: error: link target '../../README.md' does not exist: it points outside 'content'" "outside the content folder"
contains "$WORK/err" "$K:22:50: error: link target 'concept.md' does not exist in this build: 'content/verhalen/concept.md' is a draft or dated in the future" "a draft"
is "$(grep -c "^$K:" "$WORK/err")" 12 "all of them, not only the first"
lacks "$WORK/err" "de-garage.md:" "the correct links are not reported"

# More places a link can be, in a tip list with YAML front matter.
Y=$WORK/yaml
make_project "$Y"
cat > "$Y/content/tips/y.md" <<'MD'
---
title: YAML
kind: tips
---
## Kop met [link](kop.md)

1. **Tip.** Met [een link](tip.md) erin.
   Tweede regel [hier](tweede.md).

Voetnoot[^1].

[^1]: Met [link](voet.md).

***[nadruk](nadruk.md)*** en [`code`](code.md) en [~~weg~~](weg.md)
MD
git_init "$Y"
"$GEN" check -C "$Y" 2> "$WORK/err"
is $? 1 "broken links in a YAML article"
Yf=content/tips/y.md
contains "$WORK/err" "$Yf:5:12: error: link target 'kop.md'" "in a heading, lines counted from the top of the file"
contains "$WORK/err" "$Yf:7:17: error: link target 'tip.md'" "in a tip"
contains "$WORK/err" "$Yf:8:17: error: link target 'tweede.md'" "on a tip's second line"
contains "$WORK/err" "$Yf:12:11: error: link target 'voet.md'" "in a footnote"
contains "$WORK/err" "$Yf:14:4: error: link target 'nadruk.md'" "inside emphasis"
contains "$WORK/err" "$Yf:14:30: error: link target 'code.md'" "with code as its text"
contains "$WORK/err" "$Yf:14:51: error: link target 'weg.md'" "with struck-through text"

# Hints for likely mistakes.
H=$WORK/hints
make_project "$H"
cat > "$H/content/verhalen/h.md" <<'MD'
+++
title = "Hints"
+++
[a](snifo.md) [b](de-garage/) [c](de-garage.md#Wat%20er%20gebeurde) [d](../tips/snifo.md#Tip-2)
MD
git_init "$H"
"$GEN" check -C "$H" 2> "$WORK/err"
is $? 1 "check fails on broken links"
contains "$WORK/err" "h.md:4:1: error: link target 'snifo.md' does not exist (did you mean '../tips/snifo.md'?)" "a file in another folder is suggested"
contains "$WORK/err" "h.md:4:15: error: link target 'de-garage/' does not exist (did you mean 'de-garage.md'?)" "a page URL instead of its file"
contains "$WORK/err" "(did you mean '#wat-er-gebeurde'?)" "a heading written as text"
contains "$WORK/err" "(did you mean '#tip-2'?)" "a tip anchor in capitals"

# links = "warn": reported, but the build goes on.
W=$WORK/warn
make_project "$W"
printf 'links = "warn"\n' | cat - "$W/site.toml" > "$W/site.tmp" && mv "$W/site.tmp" "$W/site.toml"
printf '\n[Weg](weg.md) en [tip](../tips/snifo.md#tip-7).\n' >> "$W/content/verhalen/de-garage.md"
git_init "$W"
"$GEN" build -C "$W" -q 2> "$WORK/err"
ok $? "links = \"warn\": the build succeeds"
contains "$WORK/err" "warning: link target 'weg.md' does not exist" "the broken link is a warning"
contains "$WORK/err" "warning: link target '../tips/snifo.md#tip-7' does not exist" "the broken anchor is a warning"
contains "$W/public/verhalen/de-garage/index.html" 'href="weg.md"' "a broken link stays as written"
printf '\n![weg](weg.png)\n' >> "$W/content/verhalen/de-garage.md"
git -C "$W" commit -qam "plaatje"
"$GEN" build -C "$W" -q 2> "$WORK/err"
is $? 1 "a missing image is an error even with links = \"warn\""

# --- backlinks with context -----------------------------------------------------
T=$P/public/tips/snifo/index.html
contains "$T" '<div class="tip-mentions">' "a tip that is linked to shows where"
# The mention sits inside tip 2's item, not tip 1's or 3's.
tip2=$(sed -n '/<li id="tip-2"/,/<li id="tip-3"/p' "$T")
case $tip2 in *'<mark>de tweede tip</mark>'*) ok 0 "tip 2 lists the link to #tip-2, its text marked" ;;
*) ok 1 "tip 2 lists the link to #tip-2, its text marked"; echo "# $tip2" | head -5 ;; esac
case $tip2 in *'href="../../verhalen/de-garage/">De garage</a>'*) ok 0 "with a link to the page that mentions it" ;;
*) ok 1 "with a link to the page that mentions it" ;; esac
case $tip2 in *'Lees <mark>de tweede tip</mark> en alle tips.'*) ok 0 "the whole sentence is the context" ;;
*) ok 1 "the whole sentence is the context" ;; esac
tip1=$(sed -n '/<li id="tip-1"/,/<li id="tip-2"/p' "$T" | sed '$d')
case $tip1 in *tip-mentions*) ok 1 "tip 1, not linked to, has no mentions" ;;
*) ok 0 "tip 1, not linked to, has no mentions" ;; esac
contains "$T" '<h2 id="backlinks-title">Genoemd in</h2>' "page-level backlinks of a tip list: links to the whole list"
contains "$T" 'Lees de tweede tip en <mark>alle tips</mark>.' "in its sentence"
G=$P/public/verhalen/de-garage/index.html
contains "$G" '<h2 id="backlinks-title">Genoemd in</h2>' "a story lists its backlinks"
contains "$G" 'Zie <mark>De garage</mark>.' "with the sentence from the tip list"
contains "$G" '<mark>gebeurde</mark>' "and the link from the page with every form"
lacks "$G" '<mark>garage</mark>' "a sentence that links twice to the page is shown once"
lacks "$P/public/verhalen/vormen/index.html" 'backlinks-title' "a page nobody links to has no backlinks list"

done_testing
