# TAP helpers for gen's end-to-end tests, sourced by tests/*.sh.
# GEN (the binary), SRCDIR (the repository) and TOOLS (the build directory)
# come from `make check`; the defaults let a test run by hand.
: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${GEN:=$SRCDIR/build/gen}"
: "${TOOLS:=$SRCDIR/build}"
export LC_ALL=C.UTF-8 TZ=UTC
export GIT_AUTHOR_NAME="Test Auteur" GIT_AUTHOR_EMAIL=test@example.org
export GIT_COMMITTER_NAME="Test Auteur" GIT_COMMITTER_EMAIL=test@example.org
export GIT_CONFIG_NOSYSTEM=1 HOME="${TMPDIR:-/tmp}"
unset NO_COLOR

TAP_N=0
TAP_FAILED=0
# Every test writes below WORK: without it, "$WORK/out" would be /out.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gen-test.XXXXXX") && [ -d "$WORK" ] || {
	echo "Bail out! no folder to work in under ${TMPDIR:-/tmp}"
	exit 1
}
trap 'rm -rf "$WORK"' EXIT

ok() { # ok CONDITION-EXIT-STATUS NAME
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

is() { # is GOT EXPECTED NAME
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"
		printf '#      got: %s\n# expected: %s\n' "$1" "$2"
	fi
}

contains() { # contains FILE TEXT NAME
	if grep -qF -- "$2" "$1" 2>/dev/null; then ok 0 "$3"; else
		ok 1 "$3"
		echo "# '$2' not found in $1:"
		# A line of its own at the end: cut in the middle of one, the
		# next test's "ok" would be taken for part of this comment.
		{ head -c 2000 "$1" 2>/dev/null; echo; } | sed 's/^/#   /'
	fi
}

lacks() { # lacks FILE TEXT NAME
	if grep -qF -- "$2" "$1" 2>/dev/null; then
		ok 1 "$3"
		echo "# '$2' unexpectedly found in $1"
	else ok 0 "$3"; fi
}

# appears PATTERN: waits until a path matches the glob PATTERN, up to ten
# seconds: for a build in the background to reach a point of its work.
appears() {
	i=0
	while [ $i -lt 2000 ] && ! ls -d $1 > /dev/null 2>&1; do
		sleep 0.005
		i=$((i + 1))
	done
}

# hold PATH: holds the lock (flock) of PATH, a file or folder, in the
# background until killed ($holder), as another process would.
hold() {
	(flock -x 9 && exec sleep 600) 9< "$1" > /dev/null 2>&1 &
	holder=$!
	sleep 0.2
}

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# A synthetic handbook of bench/gen-repo at DIR/repo, with the project's
# site.toml, filters and themes: N articles and C commits from seed S.
synthetic_handbook() { # synthetic_handbook DIR N C S
	perl "$SRCDIR/bench/gen-repo" --articles "$2" --commits "$3" --seed "$4" \
		--site-toml "$SRCDIR/site.toml" --lua-dir "$SRCDIR/lua" "$1" > /dev/null &&
		cp -R "$SRCDIR/themes" "$1/repo/"
}

# A minimal project: site.toml and a content folder with a section.
make_project() { # make_project DIR
	mkdir -p "$1/content/verhalen" "$1/content/tips"
	cat > "$1/site.toml" <<'TOML'
title = "Testhandboek"
language = "nl"
base_url = "https://example.org/handboek/"

[themes.snifo-gedrag]
title = "Snifo-gedrag"
description = "Niet mijn taak."
TOML
	cat > "$1/content/_index.md" <<'MD'
+++
title = "Welkom"
+++
Dit is het testhandboek.
MD
	cat > "$1/content/verhalen/_index.md" <<'MD'
+++
title = "Verhalen"
weight = 1
+++
Verhalen uit de praktijk.
MD
	cat > "$1/content/tips/_index.md" <<'MD'
+++
title = "Tips"
weight = 2
+++
Alle tips.
MD
	cat > "$1/content/verhalen/de-garage.md" <<'MD'
+++
title = "De garage"
kind = "story"
date = 2015-03-12
author = "Adviseur"
summary = "Een klant bij de balie."
themes = ["snifo-gedrag"]
+++
## Wat er gebeurde

De baliemedewerker zei: "Ja meneer, ik kan er ook niets aan doen."
Lees [de tweede tip](../tips/snifo.md#tip-2) en [alle tips](../tips/snifo.md).

![Foto](balie.png)
MD
	printf 'PNG-bytes' > "$1/content/verhalen/balie.png"
	cat > "$1/content/tips/snifo.md" <<'MD'
---
title: Snifo voorkomen
kind: tips
date: 2015-03-13
author: Adviseur
---
Wat leidinggevenden kunnen doen.

1. **Geef het goede voorbeeld.** Dat werkt.
2. **Voer de dialoog.** Over waarden.
3. **Denk vanuit de klant.** Altijd.

Zie [De garage](../verhalen/de-garage.md).
MD
}

# Turns DIR into a git repository with everything committed.
git_init() { # git_init DIR
	git -C "$1" init -q -b main
	git -C "$1" add -A
	git -C "$1" commit -q -m "eerste versie"
}

# What the browser tests need: Debian's chromium and nodejs (installed as
# root with apt-get, as tools/deps.sh does for the libraries) and the npm
# packages pinned in tests/browser/package-lock.json (npm ci). Sets B to
# tests/browser. When something cannot be installed (not root, say) it
# prints the TAP plan that skips the test, with the command to run, and
# returns 1.
browser_setup() {
	B=$SRCDIR/tests/browser
	need=""
	[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need="$need chromium"
	command -v node >/dev/null 2>&1 || need="$need nodejs"
	command -v npm >/dev/null 2>&1 || need="$need npm"
	if [ -n "$need" ]; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
			echo "# installing$need" >&2
			export DEBIAN_FRONTEND=noninteractive
			{ apt-get install -y -q $need || { apt-get update -q && apt-get install -y -q $need; }; } >&2
		fi
		for p in $need; do
			case $p in
			chromium) [ -x "${CHROMIUM:-/usr/bin/chromium}" ] && continue ;;
			nodejs) command -v node >/dev/null 2>&1 && continue ;;
			npm) command -v npm >/dev/null 2>&1 && continue ;;
			esac
			echo "1..0 # SKIP needs Debian packages:$need (sudo apt-get install$need)"
			return 1
		done
	fi
	# npm ci when node_modules is missing or older than the lockfile.
	if [ ! -f "$B/node_modules/.package-lock.json" ] ||
	   [ "$B/package-lock.json" -nt "$B/node_modules/.package-lock.json" ]; then
		(cd "$B" && npm ci --no-audit --no-fund --loglevel=error) >&2 || {
			echo "1..0 # SKIP 'npm ci' failed in tests/browser"
			return 1
		}
	fi
}
