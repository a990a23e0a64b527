#!/bin/sh
# End-to-end test of tools/mustache-render: renders a page that fills a
# layout from a partials folder and checks the exact bytes, then checks
# that a template error prints file:line:col and exits 1, and that a bad
# command line exits 2. TAP output for prove; TOOLS names the build.
. "$(dirname "$0")/lib.sh"
render=$TOOLS/mustache-render
d=$WORK

mkdir -p "$d/partials/parts"
# Standalone block tags in the layout: the page's lines get the layout's
# indentation and no blank line is added after them.
printf '{{<layout}}{{$main}}\n<ul>\n{{#items}}\n  {{>parts/item}}\n{{/items}}\n</ul>\n{{/main}}{{/layout}}\n' \
	>"$d/page.mustache"
printf '<title>{{title}}</title>\n<body>\n  {{$main}}\n  {{/main}}\n</body>' \
	>"$d/partials/layout.mustache"
printf '<li>{{name}}</li>\n' >"$d/partials/parts/item.mustache"
printf '{"title": "A & B", "items": [{"name": "<one>"}, {"name": "two"}]}' >"$d/data.json"
printf '<title>A &amp; B</title>\n<body>\n  <ul>\n    <li>&lt;one&gt;</li>\n    <li>two</li>\n  </ul>\n</body>' \
	>"$d/want"

"$render" "$d/page.mustache" "$d/data.json" "$d/partials" >"$d/got" 2>"$d/err"
ok $? "renders with partials and a layout"
cmp -s "$d/got" "$d/want"
ok $? "output is exact, no newline added"
if [ -s "$d/err" ]; then ok 1 "nothing on stderr"; else ok 0 "nothing on stderr"; fi

printf 'Hello, {{name}}!' >"$d/plain.mustache"
printf '{"name": "world"}' >"$d/plain.json"
is "$("$render" "$d/plain.mustache" "$d/plain.json")" "Hello, world!" \
	"the partials folder is optional"

printf 'line one\n  {{#tips}}\n{{.}}\n' >"$d/bad.mustache"
"$render" "$d/bad.mustache" "$d/data.json" >"$d/got" 2>"$d/err"
is $? 1 "a template error exits 1"
is "$(cat "$d/err")" "$d/bad.mustache:2:3: unclosed section 'tips'" \
	"the error prints file:line:col: message"
if [ -s "$d/got" ]; then ok 1 "nothing on stdout"; else ok 0 "nothing on stdout"; fi

printf 'x{{>parts/broken}}' >"$d/uses.mustache"
printf 'ok {{/nope}}' >"$d/partials/parts/broken.mustache"
"$render" "$d/uses.mustache" "$d/data.json" "$d/partials" >/dev/null 2>"$d/err"
is $? 1 "a broken partial exits 1"
contains "$d/err" "$d/partials/parts/broken.mustache:1:4: closing tag 'nope'" \
	"the error names the partial's file"

printf '{"title": ' >"$d/broken.json"
"$render" "$d/page.mustache" "$d/broken.json" >/dev/null 2>"$d/err"
is $? 1 "bad JSON exits 1"
contains "$d/err" "$d/broken.json:1:" "the JSON error names the data file"

"$render" "$d/page.mustache" >/dev/null 2>&1
is $? 2 "a missing argument exits 2"
"$render" "$d/nothing.mustache" "$d/data.json" >/dev/null 2>"$d/err"
is $? 1 "a missing template exits 1"
contains "$d/err" "$d/nothing.mustache: cannot read" "and says which file"

done_testing
