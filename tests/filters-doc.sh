#!/bin/sh
# The examples of doc/filters.md, run. A code block whose info string has
# example=NAME belongs to example NAME:
#   lua example=NAME [file=PATH]   the filter lua/NAME.lua (or the module PATH)
#   toml example=NAME              lines added to site.toml
#   markdown example=NAME          the body of the article it runs on
#   html example=NAME              lines that must be in the article's page
#   console example=NAME           lines that must be in what gen prints
. "$(dirname "$0")/lib.sh"

DOC=$SRCDIR/doc/filters.md
EX=$WORK/examples
mkdir -p "$EX"
awk -v dir="$EX" '
	/^```[a-z]+ .*example=/ && !out {
		lang = $1; sub(/^```/, "", lang)
		name = ""; file = ""
		for (i = 2; i <= NF; i++) {
			if ($i ~ /^example=/) name = substr($i, 9)
			if ($i ~ /^file=/) file = substr($i, 6)
		}
		if (!(name in seen)) { seen[name] = 1; print name > (dir "/names") }
		if (lang == "lua") {
			if (file == "") file = "lua/" name ".lua"
			out = dir "/" name "/files/" file
		} else {
			out = dir "/" name "/" lang
		}
		system("mkdir -p \"$(dirname \"" out "\")\"")
		printf "" > out
		next
	}
	/^```$/ && out { close(out); out = ""; next }
	out { print >> out }
' "$DOC"

for name in $(cat "$EX/names"); do
	E=$EX/$name
	P=$WORK/p-$name
	mkdir -p "$P/content"
	cp -R "$E/files/." "$P/"
	{
		printf 'title = "Voorbeelden"\nlanguage = "nl"\nfilters = ["lua/%s.lua"]\n' "$name"
		[ -f "$E/toml" ] && cat "$E/toml"
	} > "$P/site.toml"
	{
		printf '+++\ntitle = "Voorbeeld"\nkind = "story"\ndate = 2020-01-01\n+++\n\n'
		cat "$E/markdown"
	} > "$P/content/voorbeeld.md"
	git_init "$P"
	"$GEN" build -C "$P" -q 2> "$WORK/err"
	status=$?
	if [ -f "$E/html" ]; then
		ok $status "example '$name' builds"
		while IFS= read -r line; do
			[ -n "$line" ] && contains "$P/public/voorbeeld/index.html" "$line" "example '$name': $line"
		done < "$E/html"
	fi
	if [ -f "$E/console" ]; then
		while IFS= read -r line; do
			[ -n "$line" ] && contains "$WORK/err" "$line" "example '$name' prints: $line"
		done < "$E/console"
	fi
done
ok "$([ "$(wc -l < "$EX/names")" -ge 8 ] && echo 0 || echo 1)" "doc/filters.md has its examples"

done_testing
