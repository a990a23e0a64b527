#!/bin/sh
# Search budgets on a generated 10,000-article handbook (issue 7):
#   index build time and memory     bench/search-index.c (the stage alone)
#   the whole `gen build`           /usr/bin/time -v
#   bytes for a first query, query  bench/search-bytes.mjs (Chromium)
#   the same for Pagefind           when PAGEFIND=1 (npm install into build/)
# Usage: sh bench/search-bench.sh [ARTICLES]. Needs `make` first and the
# browser test's npm packages (tests/search-browser.sh installs them).
set -eu
cd "$(dirname "$0")/.."
n=${1:-10000}
B=build/bench
P=$B/search-$n
mkdir -p "$B"
[ -f "$P/site.toml" ] || perl bench/search-site.pl "$P" "$n"
rm -rf "$B/search-$n-site" "$B/search-$n-stage"

mods=$(sed -n 's/^PKG_MODULES *= *//p' deps.mk)
# shellcheck disable=SC2086
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Igen $(pkg-config --cflags $mods) \
	bench/search-index.c build/libgen.a $(pkg-config --libs $mods) \
	-lcmark-gfm-extensions -lstemmer -lpthread -lm -o "$B/search-index"

echo "== search stage alone ($n articles)"
"$B/search-index" "$P" "$B/search-$n-stage"
echo "== gen build, all stages"
/usr/bin/time -f "wall %e s, peak RSS %M KB" ./build/gen build -C "$P" --worktree -q \
	--stats -o "$B/search-$n-site"
du -sh "$B/search-$n-site/zoeken" | sed 's/^/index on disk: /'
if [ "${PAGEFIND:-0}" = 1 ]; then
	echo "== pagefind on the same pages"
	if [ ! -x "$B/pagefind-npm/node_modules/.bin/pagefind" ]; then
		mkdir -p "$B/pagefind-npm"
		[ -f "$B/pagefind-npm/package.json" ] || echo '{"private":true}' > "$B/pagefind-npm/package.json"
		(cd "$B/pagefind-npm" && npm install --no-audit --no-fund --loglevel=error pagefind@1.6.0)
	fi
	/usr/bin/time -f "wall %e s, peak RSS %M KB" "$B/pagefind-npm/node_modules/.bin/pagefind" \
		--site "$B/search-$n-site" --force-language nl --quiet
fi
echo "== first query in Chromium"
node bench/search-bytes.mjs "$B/search-$n-site"
