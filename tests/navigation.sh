#!/bin/sh
# End-to-end: finding the way through the handbook. Sections in order of
# weight then title, breadcrumbs, previous/next within a section, a table of
# contents on long articles, the learning path (leerpad) from site.toml,
# related articles, author pages and the whole handbook on one print page.
. "$(dirname "$0")/lib.sh"

P=$WORK/nav
make_project "$P"
# Two more sections with the same weight: ordered by title.
for s in b:Beta a:Alfa; do
	mkdir -p "$P/content/${s%%:*}"
	printf '+++\ntitle = "%s"\nweight = 3\n+++\nIntro.\n' "${s#*:}" > "$P/content/${s%%:*}/_index.md"
	printf '+++\ntitle = "In %s"\n+++\nTekst.\n' "${s#*:}" > "$P/content/${s%%:*}/pagina.md"
done
cat > "$P/content/verhalen/aap.md" <<'MD'
+++
title = "Aap"
kind = "story"
author = "Tweede Schrijver"
date = 2016-01-01
themes = ["snifo-gedrag"]
+++
Een verhaal over [de garage](de-garage.md).
MD
cat > "$P/content/verhalen/zebra.md" <<'MD'
+++
title = "Zebra"
kind = "story"
weight = -1
+++
Eerst in de sectie, door zijn gewicht.
MD
# Titles alike in their first eight bytes and more, one the start of
# another, one with a byte above ASCII, two the same (then by path).
for t in "klant-v:Klantgesprekken voeren" "klant:Klantgesprek" "klant-o:Klantgesprekken oefenen" \
	"emile:Émile" "dubbel-b:Dubbel" "dubbel-a:Dubbel"; do
	printf '+++\ntitle = "%s"\n+++\nTekst.\n' "${t#*:}" > "$P/content/a/${t%%:*}.md"
done
# A long article: a table of contents.
{
	printf '+++\ntitle = "Lang"\nkind = "story"\nweight = 5\n+++\n'
	for h in Een Twee Drie; do
		printf '## Deel %s\n\n' "$h"
		i=0
		while [ $i -lt 12 ]; do
			printf 'Dit is een zin met precies tien woorden erin, echt waar. '
			i=$((i + 1))
		done
		printf '\n\n'
	done
} > "$P/content/verhalen/lang.md"
cat >> "$P/site.toml" <<'TOML'
TOML
sed -i '1i leerpad = ["verhalen/de-garage.md", "tips/snifo.md", "content/verhalen/aap.md"]' "$P/site.toml"
git_init "$P"
"$GEN" build -C "$P" -q 2> "$WORK/err"
ok $? "the navigation fixture builds"
cat "$WORK/err" | sed 's/^/# /'
O=$P/public

# --- sections, breadcrumbs, previous/next, contents ---------------------------------
order=$(grep -o 'class="chapter-title"><a href="[^"]*">[^<]*' "$O/index.html" | sed 's/.*>//' | tr '\n' ',')
is "$order" "Verhalen,Tips,Alfa,Beta," "sections by weight, then title"
nav=$(sed -n '/<nav class="site-nav"/,/<\/nav>/p' "$O/index.html" | grep -o '">[^<]*</a>' | sed 's/^">//; s/<.*//' | tr '\n' ',')
is "$nav" "Verhalen,Tips,Alfa,Beta," "the menu in the same order"
pages=$(sed -n '/class="cards"/,/<\/ul>/p' "$O/verhalen/index.html" | grep -o 'class="card-title"><a href="[^"]*">[^<]*' | sed 's/.*>//' | tr '\n' ',')
is "$pages" "Zebra,Aap,De garage,Lang," "pages by weight, then title"
pages=$(sed -n '/class="cards"/,/<\/ul>/p' "$O/a/index.html" | grep -o 'class="card-title"><a href="[^"]*">[^<]*' | sed 's/.*\/a\///; s/\/">/:/' | tr '\n' ',')
is "$pages" "dubbel-a:Dubbel,dubbel-b:Dubbel,pagina:In Alfa,klant:Klantgesprek,klant-o:Klantgesprekken oefenen,klant-v:Klantgesprekken voeren,emile:Émile," \
	"titles in byte order past their first eight bytes, then by path"
A=$O/verhalen/aap/index.html
contains "$A" '<li><a href="../../">Home</a></li><li><a href="../../verhalen/">Verhalen</a></li><li><span aria-current="page">Aap</span></li>' "breadcrumbs: home, section, page"
contains "$A" 'class="pager-prev" href="../../verhalen/zebra/" rel="prev"' "previous within the section"
contains "$A" 'class="pager-next" href="../../verhalen/de-garage/" rel="next"' "next within the section"
lacks "$O/verhalen/zebra/index.html" 'pager-prev' "the first page has no previous"
lacks "$O/verhalen/lang/index.html" 'pager-next' "the last page has no next"
contains "$O/verhalen/lang/index.html" '<nav class="toc"' "a long article has a table of contents"
contains "$O/verhalen/lang/index.html" 'href="#deel-twee">Deel Twee</a>' "listing its headings"
lacks "$A" '<nav class="toc"' "a short one does not"

# Sections within sections: the whole trail.
N=$WORK/nested
make_project "$N"
mkdir -p "$N/content/verhalen/garage"
printf '+++\ntitle = "Garage"\n+++\nOnderdeel.\n' > "$N/content/verhalen/garage/_index.md"
printf '+++\ntitle = "Detail"\n+++\nTekst.\n' > "$N/content/verhalen/garage/detail.md"
git_init "$N"
"$GEN" build -C "$N" -q
contains "$N/public/verhalen/garage/detail/index.html" '<li><a href="../../../">Home</a></li><li><a href="../../../verhalen/">Verhalen</a></li><li><a href="../../../verhalen/garage/">Garage</a></li><li><span aria-current="page">Detail</span></li>' "breadcrumbs through every section above"
contains "$N/public/verhalen/garage/index.html" '<li><a href="../../">Home</a></li><li><a href="../../verhalen/">Verhalen</a></li><li><span aria-current="page">Garage</span></li>' "a section's page: the sections above it"
contains "$N/public/verhalen/index.html" '<li><a href="../">Home</a></li><li><span aria-current="page">Verhalen</span></li>' "a top section: home only"

# --- the learning path ----------------------------------------------------------------
H=$O/index.html
contains "$H" '<section class="leerpad" id="leerpad"' "the home page shows the learning path"
contains "$H" 'class="button-link leerpad-start" href="./verhalen/de-garage/">Begin het leerpad</a>' "and starts it at step 1"
steps=$(grep -o '<ol class="leerpad-steps">.*</ol>' "$H" | grep -o '">[^<]*</a>' | sed 's/^">//; s/<.*//' | tr '\n' ',')
is "$steps" "De garage,Snifo voorkomen,Aap," "its steps in site.toml's order ('content/' in front is fine)"
G=$O/verhalen/de-garage/index.html
contains "$G" 'Leerpad</a> · Stap 1 van 3' "an article on the path shows its step"
contains "$G" '<span class="leerpad-next-label">Volgende stap · Stap 2 van 3</span> <span class="leerpad-next-title">Snifo voorkomen</span>' "and the next step"
contains "$G" 'href="../../tips/snifo/"><span class="leerpad-next-label">' "linked"
contains "$O/tips/snifo/index.html" 'Stap 2 van 3' "step 2 on the tip list"
contains "$A" 'Stap 3 van 3' "the last step"
contains "$A" 'Dit was de laatste stap van het leerpad.' "says it is the last"
lacks "$O/verhalen/zebra/index.html" 'leerpad-position' "an article off the path shows no step"

# Entries that do not exist, twice, or drafts.
L=$WORK/leerpad
make_project "$L"
printf '+++\ntitle = "Concept"\ndraft = true\n+++\nNog niet.\n' > "$L/content/verhalen/concept.md"
sed -i '1i leerpad = [\n  "verhalen/nee.md",\n  "verhalen/de-garage.md",\n  "verhalen/de-garage.md",\n  "verhalen/concept.md",\n]' "$L/site.toml"
git_init "$L"
"$GEN" check -C "$L" 2> "$WORK/err"
is $? 1 "a bad learning path fails the check"
contains "$WORK/err" "site.toml:2:3: error: leerpad entry 'verhalen/nee.md' does not exist" "a missing entry, with line and column in site.toml"
contains "$WORK/err" "site.toml:4:3: error: leerpad entry 'verhalen/de-garage.md' is already step 1" "an entry twice"
contains "$WORK/err" "site.toml:5:3: warning: leerpad entry 'verhalen/concept.md' is a draft" "a draft is left out with a warning"

# --- related articles ---------------------------------------------------------------
contains "$G" '<aside class="related"' "related articles on a story"
rel=$(sed -n '/<aside class="related"/,/<\/aside>/p' "$G" | grep -o 'href="[^"]*"' | tr '\n' ' ')
is "$rel" 'href="../../tips/snifo/" href="../../verhalen/aap/" ' "linked both ways first, then linked one way with a shared theme; never the page itself"

# --- authors ----------------------------------------------------------------------
contains "$G" 'Door <a href="../../auteurs/adviseur/">Adviseur</a>' "the byline links to the author's page"
AU=$O/auteurs/adviseur/index.html
contains "$AU" '<h1>Adviseur</h1>' "an author page per author"
contains "$AU" '2 artikelen' "counting their articles"
contains "$AU" 'href="../../tips/snifo/">Snifo voorkomen' "listing them"
before=$(grep -n 'Snifo voorkomen</a></h3>' "$AU" | cut -d: -f1)
after=$(grep -n 'De garage</a></h3>' "$AU" | cut -d: -f1)
ok "$([ "${before:-0}" -lt "${after:-0}" ] && echo 0 || echo 1)" "newest first"
contains "$O/auteurs/tweede-schrijver/index.html" '1 artikel<' "one article, in the singular"
contains "$O/auteurs/index.html" 'href="../auteurs/adviseur/">Adviseur</a>' "the list of authors"
contains "$O/auteurs/index.html" 'href="../auteurs/tweede-schrijver/">Tweede Schrijver</a>' "every author"
contains "$G" 'href="../../auteurs/">Auteurs</a>' "the footer links to the authors"

# --- the print page --------------------------------------------------------------------
PR=$O/print/index.html
contains "$G" 'href="../../print/">Printversie</a>' "the footer links to the print page"
ok "$([ -f "$PR" ] && echo 0 || echo 1)" "print/index.html"
arts=$(grep -o '<article class="print-article[^"]*" id="[^"]*"' "$PR" | sed 's/.*id="//; s/"$//' | tr '\n' ',')
is "$arts" "index,verhalen-de-garage,tips-snifo,verhalen-aap,verhalen-zebra,verhalen-lang,a-dubbel-a,a-dubbel-b,a-pagina,a-klant,a-klant-o,a-klant-v,a-emile,b-pagina," "introduction, the path, then the rest by section"
toc=$(grep -c '<li><a href="#verhalen-de-garage">1. De garage</a></li>' "$PR")
is "$toc" 1 "a table of contents with the steps numbered"
dups=$(grep -o ' id="[^"]*"' "$PR" | sort | uniq -d)
is "$dups" "" "every id on the page is unique"
missing=""
for h in $(grep -o 'href="#[^"]*"' "$PR" | sed 's/href="#//; s/"$//' | sort -u); do
	grep -q " id=\"$h\"" "$PR" || missing="$missing $h"
done
is "$missing" "" "every link within the page has its target"
contains "$PR" 'href="#tips-snifo--tip-2"' "a link to another article's tip stays on the page"
contains "$PR" 'id="tips-snifo--tip-2"' "to that tip's prefixed id"
contains "$PR" '<h4 id="verhalen-de-garage--wat-er-gebeurde">' "headings move below the article's title"
contains "$PR" 'src="../verhalen/balie.png"' "images relative to print/"
contains "$PR" 'href="../tips/">' "links to pages not in the book go to the site"
contains "$SRCDIR/themes/default/static/css/gen.css" 'break-before: page' "articles start on a new sheet"
contains "$PR" 'onclick="window.print()"' "a print button"

# A chapter of many pages: the home page lists its first twelve, in the
# chapter's order, and links to the chapter for the rest.
V=$WORK/veel
make_project "$V"
for i in 01 02 03 04 05 06 07 08 09 10 11 12 13 14; do
	printf '+++\ntitle = "Tip %s"\nkind = "tips"\nweight = %d\n+++\n1. Een tip.\n' "$i" "${i#0}" \
		> "$V/content/tips/tip-$i.md"
done
git_init "$V"
"$GEN" build -C "$V" -q 2> "$WORK/err"
ok $? "a chapter of fifteen pages builds"
tips=$(sed -n '/class="chapters"/,/<\/section>/p' "$V/public/index.html" |
	sed 's/<li/\n<li/g' | grep -c '^<li><a href="./tips/')
is "$tips" 12 "the home page lists twelve of them"
contains "$V/public/index.html" '<li class="chapter-more"><a href="./tips/">Alle artikelen van dit hoofdstuk (15)</a></li>' \
	"and links to the chapter for all fifteen"
lacks "$V/public/index.html" 'href="./tips/tip-12/"' "the thirteenth in order is not on it"
contains "$V/public/tips/index.html" 'href="../tips/tip-14/"' "the chapter's page lists them all"
lacks "$O/index.html" 'chapter-more' "a chapter of fewer pages has no such link"

done_testing
