#!/bin/sh
# gen serve, the preview server: what it builds (the work tree with
# drafts, into .gen-cache/preview/public, never public/), what it answers
# over HTTP, how it builds again when a file changes and how a failed
# build is reported while the previous pages stay, and how it stops.
# The browser's side (the page reloading itself) is tests/serve-browser.sh.
. "$(dirname "$0")/lib.sh"

P=$WORK/p
make_project "$P"
cat > "$P/content/verhalen/concept.md" <<'MD'
+++
title = "Een concept"
kind = "story"
date = 2016-01-01
author = "Adviseur"
draft = true
+++
Nog niet af, wel te zien in de preview.
MD
printf '+++\ntitle = "Met spatie"\nkind = "story"\n+++\nEen naam met een spatie.\n' > "$P/content/verhalen/met spatie.md"
git_init "$P"

# http METHOD PATH: the answer's status, headers ("name: value", names in
# lower case) and body in $WORK/r.status, r.head and r.body.
http() {
	perl -MHTTP::Tiny -e '
		my ($m, $url, $dir) = @ARGV;
		my $r = HTTP::Tiny->new(max_redirect => 0, timeout => 60)->request($m, $url);
		open my $s, ">", "$dir/r.status" or die; print $s $r->{status};
		open my $h, ">", "$dir/r.head" or die;
		for my $k (sort keys %{$r->{headers}}) {
			my $v = $r->{headers}{$k};
			print $h "$k: ", (ref $v ? join(", ", @$v) : $v), "\n";
		}
		open my $b, ">", "$dir/r.body" or die; binmode $b; print $b $r->{content};
	' "$1" "$URL$2" "$WORK"
	cat "$WORK/r.status"
}

# The build number in the last answer of /_gen/wait.
build_no() { sed -n 's/^{"build":\([0-9]*\),.*/\1/p' "$WORK/r.body"; }

# wait_build N: waits for the build after N; prints its number.
wait_build() {
	http GET "/_gen/wait?after=$1" >/dev/null
	build_no
}

# wait_log LOG TEXT: until LOG has a line with TEXT (up to 30 s), or
# the server (PID) has stopped.
wait_log() {
	i=0
	while [ $i -lt 300 ] && ! grep -q -- "$2" "$1"; do
		kill -0 $PID 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
}

start_serve() { # start_serve LOG ARGS...: sets PID and URL
	log=$1
	shift
	: > "$log"
	"$GEN" serve "$@" 2>"$log" &
	PID=$!
	wait_log "$log" '^gen serve: http://'
	URL=$(sed -n 's|^gen serve: \(http://[^/]*\)/.*|\1|p' "$log")
	# It says where before its first build is done.
	[ -z "$URL" ] || wait_build 0 >/dev/null
}

"$GEN" serve --help > "$WORK/help"
contains "$WORK/help" "--port N" "serve --help names --port"
contains "$WORK/help" "--no-drafts" "serve --help names --no-drafts"
"$GEN" serve -C "$P" --rev HEAD 2> "$WORK/err"
is "$?" 2 "serve takes no --rev: it previews the work tree"
"$GEN" serve -C "$P" --port tien 2> "$WORK/err"
is "$?" 2 "a port that is no number is a usage error"
contains "$WORK/err" "'--port' needs a number from 0 to 65535, not 'tien'" "and says so"
mkdir "$WORK/leeg"
"$GEN" serve -C "$WORK/leeg" -p 0 2> "$WORK/err"
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "a folder without site.toml is refused"
contains "$WORK/err" "site.toml" "naming what is missing"

start_serve "$WORK/serve.log" -C "$P" -p 0 -j2
ok "$([ -n "$URL" ] && echo 0 || echo 1)" "serve says where it serves"
[ -n "$URL" ] || { sed 's/^/# /' "$WORK/serve.log"; kill $PID 2>/dev/null; done_testing; exit 1; }
contains "$WORK/serve.log" "(work tree, drafts included; built into $P/.gen-cache/preview/public)" \
	"it builds the work tree with drafts into the preview folder"
ok "$([ ! -e "$P/public" ] && echo 0 || echo 1)" "public/ stays untouched: it never holds a draft"
git -C "$P" status --porcelain > "$WORK/status"
is "$(cat "$WORK/status")" "" "git status stays quiet about the preview folder"

# The server's library is opened by serve alone (gen/serve.c, "libmicrohttpd"):
# the other commands start without it and the nine libraries it brings.
grep -q 'libmicrohttpd' "/proc/$PID/maps"
is "$?" 0 "serve has opened libmicrohttpd"
LD_DEBUG=libs "$GEN" list -C "$P" > /dev/null 2> "$WORK/libs"
contains "$WORK/libs" "libgit2" "gen list loads its libraries (as LD_DEBUG shows)"
lacks "$WORK/libs" "libmicrohttpd" "but not libmicrohttpd"
lacks "$WORK/libs" "libgnutls" "nor GnuTLS"
# A library that cannot be loaded stops serve at once, saying which: an
# empty file by each name the mapped one could be opened by (its
# soname is one: libmicrohttpd.so.12.60.0, .so.12.60, .so.12).
mkdir "$WORK/badlib"
lib=$(sed -n 's|.*/\(libmicrohttpd\.so[.0-9]*\)$|\1|p' /proc/$PID/maps | head -n 1)
while case "$lib" in *.so.*) true ;; *) false ;; esac; do
	: > "$WORK/badlib/$lib"
	lib=${lib%.*}
done
LD_LIBRARY_PATH="$WORK/badlib" timeout 30 "$GEN" serve -C "$P" -p 0 > /dev/null 2> "$WORK/err"
is "$?" 1 "serve without a loadable libmicrohttpd fails"
contains "$WORK/err" "gen serve: cannot load the HTTP server's library libmicrohttpd.so" \
	"naming the library"
contains "$WORK/err" "file too short" "and why it did not load"

is "$(http GET /)" 200 "the home page is served"
contains "$WORK/r.head" "content-type: text/html; charset=utf-8" "as HTML"
contains "$WORK/r.head" "cache-control: no-store" "never from a browser's cache"
contains "$WORK/r.body" '<script src="/_gen/live.js" data-build="1"></script></body>' \
	"with the live script, and the build it shows, before </body>"
cmp -s "$WORK/r.body" "$P/.gen-cache/preview/public/index.html"
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "the script is added when serving, not written into the preview"
is "$(http GET /verhalen/concept/)" 200 "a draft is in the preview"
contains "$WORK/r.body" "Nog niet af" "with its text"
is "$(http GET /verhalen)" 301 "a folder without its slash is redirected"
contains "$WORK/r.head" "location: /verhalen/" "to the folder, so relative links work"
is "$(http GET /verhalen/met%20spatie/)" 200 "a page whose name has a space, asked for escaped"
contains "$WORK/r.body" "Een naam met een spatie." "is served"
is "$(http GET /verhalen/met%20spatie)" 301 "its folder without the slash is redirected"
contains "$WORK/r.head" "location: /verhalen/met%20spatie/" "to the folder, escaped"
is "$(http GET /css/gen.css)" 200 "a style sheet is served"
contains "$WORK/r.head" "content-type: text/css" "as CSS"
lacks "$WORK/r.body" "/_gen/live.js" "without a script added"
is "$(http GET /bestaat/niet/)" 404 "a missing page is a 404"
contains "$WORK/r.body" "<html" "showing the site's 404 page"
contains "$WORK/r.body" "/_gen/live.js" "which reloads too"
is "$(http GET /../site.toml)" 400 "a path out of the preview is refused"
lacks "$WORK/r.body" "Testhandboek" "without a byte of the file"
is "$(http GET /%2e%2e/%2e%2e/site.toml)" 400 "also when its dots are encoded"
is "$(http POST /)" 405 "POST is not allowed"
contains "$WORK/r.head" "allow: GET, HEAD" "and the answer says what is"
is "$(http HEAD /)" 200 "HEAD is answered"
is "$(wc -c < "$WORK/r.body" | tr -d ' ')" 0 "without a body"
is "$(http GET /_gen/live.js)" 200 "the live script is served"
contains "$WORK/r.head" "content-type: text/javascript" "as JavaScript"
contains "$WORK/r.body" "location.reload()" "and reloads the page"
is "$(http GET /_gen/wait)" 200 "without after=, the wait answers at once"
is "$(cat "$WORK/r.body")" '{"build":1,"ok":true,"seconds":'"$(sed -n 's/.*"seconds":\([0-9.]*\),.*/\1/p' "$WORK/r.body")"',"problems":""}' \
	"with the latest build and how it went"
is "$(http GET '/_gen/wait?after=x')" 400 "after= that is no number is refused"

# An edit on disk, not committed, is built and served.
printf '\nEen zin die net is geschreven.\n' >> "$P/content/verhalen/de-garage.md"
is "$(wait_build 1)" 2 "saving an article starts a build"
contains "$WORK/r.body" '"ok":true' "which succeeds"
http GET /verhalen/de-garage/ >/dev/null
contains "$WORK/r.body" "Een zin die net is geschreven." "the page shows the edit"
contains "$WORK/r.body" 'data-build="2"' "and the build it comes from"
contains "$WORK/serve.log" "gen serve: de-garage.md changed" "the terminal says what changed"

# Editors' swap and backup files are not the content: no build for them.
touch "$P/content/verhalen/.de-garage.md.swp" "$P/content/verhalen/de-garage.md~" \
	"$P/content/verhalen/4913"
sleep 0.5
printf '\nNog een zin.\n' >> "$P/content/tips/snifo.md"
is "$(wait_build 2)" 3 "the next build is for the article, not for an editor's files"
http GET /tips/snifo/ >/dev/null
contains "$WORK/r.body" "Nog een zin." "and it shows the article's edit"
# The build lists only what the watch named, and the watch named the
# backup file too: gen build copies it, like any file that is not
# Markdown, so the preview has it as well.
test -f "$P/.gen-cache/preview/public/verhalen/de-garage.md~"
ok $? "an editor's backup file, which started no build, is in the next one, as gen build has it"

# A broken link fails the build: the error is reported, the pages stay.
printf '\nZie [de kantine](kantine.md).\n' >> "$P/content/verhalen/de-garage.md"
is "$(wait_build 3)" 4 "a broken link starts a build too"
contains "$WORK/r.body" '"ok":false' "which fails"
line=$(grep -n 'kantine' "$P/content/verhalen/de-garage.md" | cut -d: -f1)
contains "$WORK/r.body" "content/verhalen/de-garage.md:$line:5: error: link target 'kantine.md' does not exist" \
	"the wait tells the page the error, with file, line and column"
contains "$WORK/serve.log" "content/verhalen/de-garage.md:$line:5: error: link target 'kantine.md'" \
	"the terminal shows it too"
is "$(http GET /verhalen/de-garage/)" 200 "the page is still served"
contains "$WORK/r.body" "Een zin die net is geschreven." "as the last good build left it"
lacks "$WORK/r.body" "kantine" "without the broken edit"
http GET /_gen/wait >/dev/null
contains "$WORK/r.body" '"ok":false' "a page loaded now learns that the build failed"

sed -i 's/(kantine.md)/(..\/tips\/snifo.md)/' "$P/content/verhalen/de-garage.md"
is "$(wait_build 4)" 5 "fixing the link starts a build"
contains "$WORK/r.body" '"ok":true,' "which succeeds"
contains "$WORK/r.body" '"problems":""' "with nothing to report"
http GET /verhalen/de-garage/ >/dev/null
contains "$WORK/r.body" "de kantine" "and the page has the fixed paragraph"

# A new article in a new folder, site.toml, the theme: all are watched.
mkdir -p "$P/content/verhalen/2024"
cat > "$P/content/verhalen/2024/nieuw.md" <<'MD'
+++
title = "Nieuw verhaal"
kind = "story"
date = 2024-02-02
+++
Vers van de pers.
MD
is "$(wait_build 5)" 6 "an article in a new folder starts a build"
is "$(http GET /verhalen/2024/nieuw/)" 200 "and is served"
printf '\nNu ook bewerkt.\n' >> "$P/content/verhalen/2024/nieuw.md"
is "$(wait_build 6)" 7 "the new folder is watched from then on"
http GET /verhalen/2024/nieuw/ >/dev/null
contains "$WORK/r.body" "Nu ook bewerkt." "with the edit served"
sed -i 's/^title = "Testhandboek"/title = "Preview-handboek"/' "$P/site.toml"
is "$(wait_build 7)" 8 "editing site.toml starts a build"
http GET / >/dev/null
contains "$WORK/r.body" "Preview-handboek" "with the new title"
# The theme comes in with one rename, so that one build sees all of it.
mkdir -p "$WORK/thema"
cp -r "$SRCDIR/themes/default" "$WORK/thema/default"
mv "$WORK/thema" "$P/themes"
is "$(wait_build 8)" 9 "a theme in the project starts a build"
printf '\n<!-- eigen thema -->\n' >> "$P/themes/default/layouts/404.mustache"
n=9
is "$(wait_build "$n")" $((n + 1)) "editing a template starts a build"
http GET /nergens/ >/dev/null
contains "$WORK/r.body" "<!-- eigen thema -->" "the 404 page shows the edited template"

# The content is copied to another folder that site.toml then names:
# that one is watched from then on.
n=$((n + 1))
{ echo 'content_dir = "inhoud"'; cat "$P/site.toml"; } > "$WORK/site.toml"
cp -r "$P/content" "$WORK/inhoud"
mv "$WORK/inhoud" "$P/inhoud"
mv "$WORK/site.toml" "$P/site.toml"
i=0
while [ $i -lt 10 ]; do
	n=$(wait_build "$n")
	grep -q '"ok":true' "$WORK/r.body" && break
	i=$((i + 1))
done
contains "$WORK/r.body" '"ok":true' "a build follows the content to the folder site.toml names"
printf '\nIn de nieuwe map bewerkt.\n' >> "$P/inhoud/verhalen/de-garage.md"
is "$(wait_build "$n")" $((n + 1)) "an edit there starts a build"
http GET /verhalen/de-garage/ >/dev/null
contains "$WORK/r.body" "In de nieuwe map bewerkt." "and is served"
n=$((n + 1))

# A save that writes a new file and moves it over the old one (sed -i,
# and editors that save safely): the terminal names the article, not the
# temporary file it went through.
sed -i 's/In de nieuwe map bewerkt./& Nog eens./' \
	"$P/inhoud/verhalen/de-garage.md"
n=$(wait_build "$n")
tail -n 3 "$WORK/serve.log" > "$WORK/last.log"
contains "$WORK/last.log" "gen serve: de-garage.md changed" \
	"a save through a temporary file names the article"
lacks "$WORK/last.log" "and more" "as the one file it is"

# A folder renamed, an edit in it, an article removed: each build lists
# only what the watch named since the one before.
# (Made beside the project and moved in, so that one build sees all of it.)
mkdir -p "$WORK/2025"
cat > "$WORK/2025/later.md" <<'MD'
+++
title = "Later verhaal"
kind = "story"
date = 2025-03-03
+++
Een verhaal voor later.
MD
mv "$WORK/2025" "$P/inhoud/verhalen/2025"
n=$(wait_build "$n")
is "$(http GET /verhalen/2025/later/)" 200 "an article in another new folder is served"
mv "$P/inhoud/verhalen/2025" "$P/inhoud/verhalen/archief"
n=$(wait_build "$n")
is "$(http GET /verhalen/archief/later/)" 200 "its folder renamed: it is served under the new name"
is "$(http GET /verhalen/2025/later/)" 404 "and no longer under the old one"
printf '\nNa het hernoemen bewerkt.\n' >> "$P/inhoud/verhalen/archief/later.md"
n=$(wait_build "$n")
http GET /verhalen/archief/later/ >/dev/null
contains "$WORK/r.body" "Na het hernoemen bewerkt." "an edit in the renamed folder is seen"
rm "$P/inhoud/verhalen/archief/later.md"
n=$(wait_build "$n")
is "$(http GET /verhalen/archief/later/)" 404 "the article removed: its page is gone"

# After all these builds, each trusting the folder the one before left,
# the preview is what a clean build of the same files makes.
# The print page is kept in parts there (a list at its path, the parts
# beside it), which the server puts together: what it sends is the page.
"$GEN" build -q --worktree --drafts -C "$P" -o "$WORK/schoon/public" 2> "$WORK/err"
diff -r -x index.html.parts -x print "$WORK/schoon/public" "$P/.gen-cache/preview/public" > "$WORK/diff"
is "$?" 0 "the preview after $n builds equals a clean build"
sed 's/^/# /' "$WORK/diff" | head -20
head -c 13 "$P/.gen-cache/preview/public/print/index.html" | tr '\000' '@' > "$WORK/head"
is "$(cat "$WORK/head")" "@gen-parts 1" "the preview's print page is a list of parts"
ls "$P/.gen-cache/preview/public/print/index.html.parts" > "$WORK/parts"
ok $? "with its parts beside it ($(wc -l < "$WORK/parts"))"
http GET /print/ > /dev/null
perl -0pe 's{<script src="/_gen/live\.js" data-build="\d+"></script>}{}' "$WORK/r.body" > "$WORK/print.html"
cmp "$WORK/schoon/public/print/index.html" "$WORK/print.html" > /dev/null
ok $? "the print page the server sends is the clean build's"
contains "$WORK/print.html" "In de nieuwe map bewerkt." "with the edits in it"

# A second server on the same port: a clear error, not a silent one.
port=${URL##*:}
"$GEN" serve -C "$P" -p "$port" 2> "$WORK/err2"
is "$?" 1 "a port that is taken fails"
contains "$WORK/err2" "cannot listen on 127.0.0.1 port $port: Address already in use" \
	"and says which port and why"

# Stopping: at once, also while a page waits for a build.
http GET "/_gen/wait?after=$n" >/dev/null &
waiter=$!
sleep 0.3
kill -TERM $PID
i=0
while kill -0 $PID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ok "$(kill -0 $PID 2>/dev/null && echo 1 || echo 0)" "SIGTERM stops the server within 10 s, a page waiting or not"
wait $PID
is "$?" 0 "with status 0"
wait $waiter
contains "$WORK/serve.log" "gen serve: stopped" "saying it stopped"

# --no-drafts, -o: the release view of the work tree, where it is asked.
start_serve "$WORK/serve2.log" -C "$P" -p 0 --no-drafts -o "$WORK/elders" --stats
contains "$WORK/serve2.log" "(work tree; built into $WORK/elders)" "-o and --no-drafts are taken"
contains "$WORK/serve2.log" "stage       seconds" "--stats gives the time of each stage"
is "$(http GET /verhalen/concept/)" 404 "without drafts"
ok "$([ -f "$WORK/elders/index.html" ] && echo 0 || echo 1)" "built where -o says"
kill -INT $PID
wait $PID
is "$?" 0 "SIGINT stops it too"

# The first build of a server takes the articles a gen build of the
# project left in its build cache (and their search records and word
# diffs), instead of making them again; the preview is as without them.
S=$WORK/s
make_project "$S"
git_init "$S"
start_serve "$WORK/serve6.log" -C "$S" -p 0 --stats
contains "$WORK/serve6.log" "0 of 5 from the cache" "with no build before it, the first build parses every article"
page_cold=$(http GET /verhalen/de-garage/ >/dev/null; cat "$WORK/r.body")
kill $PID
wait $PID
rm -rf "$S/.gen-cache"
"$GEN" build -C "$S" -q
start_serve "$WORK/serve7.log" -C "$S" -p 0 --stats
contains "$WORK/serve7.log" "5 of 5 from the cache" "after gen build, the first build takes its articles"
is "$(http GET /verhalen/de-garage/)" 200 "the page is there"
is "$(cat "$WORK/r.body")" "$page_cold" "as the server made it without them"
kill $PID
wait $PID

# A filter that makes the build of one article take seconds: for the
# page shown during the first build, and for Ctrl-C during a build.
R=$WORK/r
make_project "$R"
mkdir -p "$R/lua"
cat > "$R/lua/langzaam.lua" <<'LUA'
-- Holds up the build of the article "langzaam" for three seconds or more.
return {
  Document = function(root, doc)
    if doc.path:find("langzaam", 1, true) then
      local t = os.time()
      while os.time() - t < 3 do end
    end
  end
}
LUA
sed -i '1a filters = ["lua/langzaam.lua"]' "$R/site.toml"
printf '\n[filter]\ninstructions = 1000000000000\n' >> "$R/site.toml"
printf '+++\ntitle = "Langzaam"\n+++\nTraag.\n' > "$R/content/verhalen/langzaam.md"
: > "$WORK/serve4.log"
"$GEN" serve -C "$R" -p 0 --no-cache 2>"$WORK/serve4.log" &
PID=$!
wait_log "$WORK/serve4.log" '^gen serve: http://'
URL=$(sed -n 's|^gen serve: \(http://[^/]*\)/.*|\1|p' "$WORK/serve4.log")
is "$(http GET /)" 503 "during the first build a page says it is being built"
contains "$WORK/r.body" "Bezig met bouwen" "in words"
contains "$WORK/r.body" 'data-build="0"' "and reloads when the build is done"
http GET /_gen/wait >/dev/null
contains "$WORK/r.body" '"build":0,"ok":true' "the wait says no build is done, and none failed"
is "$(wait_build 0)" 1 "the first build ends"
is "$(http GET /)" 200 "and the home page is there"

# Ctrl-C during a build: the build ends, then the server.
printf '\nNog trager.\n' >> "$R/content/verhalen/langzaam.md"
wait_log "$WORK/serve4.log" 'langzaam.md changed'
sleep 0.5
kill -INT $PID
sleep 0.5
contains "$WORK/serve4.log" "gen serve: stopping after this build (Ctrl-C again to stop now)" \
	"Ctrl-C during a build says the server stops after it"
ok "$(kill -0 $PID 2>/dev/null && echo 0 || echo 1)" "and it does not stop before"
wait $PID
is "$?" 0 "then it stops, with status 0"
ok "$(grep -c '^built ' "$WORK/serve4.log" | grep -qx 2 && echo 0 || echo 1)" "after that build is done"
ls -d "$R/.gen-cache/preview/public".tmp-* > "$WORK/left" 2>/dev/null
is "$(cat "$WORK/left")" "" "leaving no staging folder behind"

# A second Ctrl-C stops it at once.
start_serve "$WORK/serve5.log" -C "$R" -p 0 --no-cache
printf '\nNog veel trager.\n' >> "$R/content/verhalen/langzaam.md"
wait_log "$WORK/serve5.log" 'langzaam.md changed'
sleep 0.5
kill -INT $PID
sleep 0.2
kill -INT $PID
wait $PID
is "$?" 130 "a second Ctrl-C during a build stops the server at once"
lacks "$WORK/serve5.log" "gen serve: stopped" "without waiting for the build"

# A site.toml that does not parse: the server starts anyway, says why
# there is no site, and builds it once site.toml is fixed.
Q=$WORK/q
mkdir -p "$Q/content"
printf 'title = "Kapot\nlanguage = "nl"\n' > "$Q/site.toml"
printf '+++\ntitle = "Welkom"\n+++\nHallo.\n' > "$Q/content/_index.md"
start_serve "$WORK/serve3.log" -C "$Q" -p 0
ok "$([ -n "$URL" ] && echo 0 || echo 1)" "serve starts when the first build fails"
contains "$WORK/serve3.log" "site.toml:1:9: error: unterminated string" "the terminal says why"
is "$(http GET /)" 404 "there is no page yet"
contains "$WORK/r.body" "/_gen/live.js" "but one that will reload"
http GET /_gen/wait >/dev/null
contains "$WORK/r.body" '"ok":false' "the wait says the build failed"
contains "$WORK/r.body" 'site.toml:1:9: error: unterminated string' "and why"
printf 'title = "Heel"\nlanguage = "nl"\n' > "$Q/site.toml"
is "$(wait_build 1)" 2 "fixing site.toml starts a build"
is "$(http GET /)" 200 "and the site is there"
contains "$WORK/r.body" "Hallo." "with its page"
kill $PID
wait $PID

# The print page of a larger handbook, in several parts: after each kind
# of change, the page the server sends is what a clean build writes, and
# the build wrote only the parts around the change. With 520 articles,
# its parts are padded to multiples of 4 KB (see gen/print.c), in the
# parts as on the page gen build writes whole.
B=$WORK/boek
make_project "$B"
i=1
while [ $i -le 520 ]; do
	{
		printf '+++\ntitle = "Verhaal %s"\nkind = "story"\ndate = 2020-01-%02d\n+++\n' $i $((i % 28 + 1))
		printf '## Deel een\n\nDe klant van verhaal %s belde twee keer. ' $i
		printf 'Zie [het volgende](verhaal-%s.md#deel-een).\n' $((i % 520 + 1))
	} > "$B/content/verhalen/verhaal-$i.md"
	i=$((i + 1))
done
git_init "$B"
start_serve "$WORK/boek.log" -C "$B" -p 0 --stats
# print_matches WHAT: the served print page against a clean build's.
print_matches() {
	rm -rf "$WORK/boek-schoon"
	"$GEN" build -q --worktree --drafts --no-cache -C "$B" -o "$WORK/boek-schoon" 2> "$WORK/err"
	http GET /print/ > /dev/null
	perl -0pe 's{<script src="/_gen/live\.js" data-build="\d+"></script>}{}' "$WORK/r.body" > "$WORK/print.html"
	cmp "$WORK/boek-schoon/print/index.html" "$WORK/print.html" > /dev/null
	ok $? "$1: the print page is the clean build's"
}
# written: "PARTS WRITTEN" of the last build's --stats.
written() {
	sed -n 's/.*in \([0-9]*\) parts, \([0-9]*\) of them written.*/\1 \2/p' "$WORK/boek.log" | tail -1
}
print_matches "first build"
grep -c '<!--      *-->' "$WORK/print.html" > "$WORK/pads"
ok "$([ "$(cat "$WORK/pads")" -ge 3 ] && echo 0 || echo 1)" \
	"first build: the parts end in padding ($(cat "$WORK/pads"))"
w=$(written)
ok "$([ "${w% *}" -ge 3 ] && [ "${w#* }" = "${w% *}" ] && echo 0 || echo 1)" \
	"first build: the page in parts, all written ($w)"
n=1
printf '\nDe klant belde een derde keer.\n' >> "$B/content/verhalen/verhaal-70.md"
n=$(wait_build $n)
print_matches "an article edited"
w=$(written)
is "${w#* }" 1 "an article edited: one part written ($w)"
# A save that changes nothing of the page: it is kept, with its parts.
touch "$B/content/verhalen/verhaal-30.md"
n=$(wait_build $n)
print_matches "a file saved unchanged"
printf '+++\ntitle = "Verhaal nieuw"\nkind = "story"\ndate = 2020-02-01\n+++\nNieuw.\n' \
	> "$B/content/verhalen/verhaal-70a.md"
n=$(wait_build $n)
print_matches "an article added"
rm "$B/content/verhalen/verhaal-20.md"
sed -i 's/verhaal-20\.md/verhaal-21.md/' "$B/content/verhalen/verhaal-19.md"
n=$(wait_build $n)
print_matches "an article removed"
sed -i 's/title = "Verhaal 100"/title = "Verhaal honderd"/' "$B/content/verhalen/verhaal-100.md"
n=$(wait_build $n)
print_matches "a title changed"
w=$(written)
ok "$([ "${w#* }" -lt "${w% *}" ] && echo 0 || echo 1)" \
	"a title changed: the contents are made again, but not every part ($w)"
kill $PID
wait $PID

done_testing
