#!/bin/sh
# Incremental builds against clean ones, over a fixed sequence of edits
# drawn at random (the seed is fixed: every run takes the same steps).
# A synthetic handbook of bench/gen-repo, with the project's site.toml
# and filters, gets one to three edits a step: an article's body, title,
# summary or themes, a link added, an article added, deleted or renamed
# (ones no other article links to), site.toml's title, a filter. Then
# one of four outputs is built again after its last build, some steps
# back: committed or from the work tree (--worktree), by a one-shot gen
# or through a resident (--resident), sometimes after a hand edit to that
# output. Each must be what a clean build of the same revision gives,
# file for file, byte for byte.
. "$(dirname "$0")/lib.sh"

synthetic_handbook "$WORK/b" 40 12 7
ok $? "a synthetic handbook of 40 articles"
P=$WORK/b/repo

# A small linear congruential generator: the same numbers on every shell.
SEED=20261206
rnd() { # rnd N: a number in 0..N-1, in $R
	SEED=$(( (SEED * 1103515245 + 12345) % 2147483648 ))
	R=$(( (SEED / 65536) % $1 ))
}
articles() { find "$P/content" -name '*.md' ! -name '_*' | sort; }
pick() { # pick LIST-FILE: one line of it, in $F
	rnd "$(wc -l < "$1")"
	F=$(sed -n "$((R + 1))p" "$1")
}
# An article no other article links to (its name appears nowhere else).
pick_unlinked() {
	articles > "$WORK/all"
	: > "$WORK/free"
	while read -r a; do
		grep -rqF -- "$(basename "$a")" "$P/content" || echo "$a" >> "$WORK/free"
	done < "$WORK/all"
	if [ -s "$WORK/free" ]; then pick "$WORK/free"; else pick "$WORK/all"; fi
}

# Front matter key KEY of FILE becomes LINE, or LINE is added.
set_key() { # set_key FILE KEY LINE
	if grep -q "^$2 = " "$1"; then
		sed -i "s/^$2 = .*/$3/" "$1"
	else
		sed -i "0,/^+++$/s//+++\n$3/" "$1"
	fi
}

edit() {
	articles > "$WORK/all"
	rnd 10
	case $R in
	0 | 1)
		pick "$WORK/all"
		printf '\nDe klant belt nog eens terug (stap %s).\n' "$SEED" >> "$F"
		what="body" ;;
	2)
		pick "$WORK/all"
		sed -i "0,/^title = \"\(.\{1,40\}\).*\"$/s//title = \"\1 $SEED\"/" "$F"
		what="title" ;;
	3)
		pick "$WORK/all"
		set_key "$F" summary "summary = \"Kort $SEED.\""
		what="summary" ;;
	4)
		pick "$WORK/all"
		rnd 3
		case $R in
		0) t='themes = []' ;;
		1) t='themes = ["empathie"]' ;;
		*) t='themes = ["feedback", "reputatie"]' ;;
		esac
		set_key "$F" themes "$t"
		what="themes" ;;
	5)
		pick "$WORK/all"
		a=$F
		pick "$WORK/all"
		printf '\nZie ook [dit](%s).\n' "$(realpath --relative-to="$(dirname "$a")" "$F")" >> "$a"
		what="link" ;;
	6)
		pick "$WORK/all"
		n="$(dirname "$F")/nieuw-$SEED.md"
		sed "0,/^title = .*/s//title = \"Nieuw $SEED\"/" "$F" > "$n"
		git -C "$P" add "$n"
		what="add" ;;
	7)
		pick_unlinked
		git -C "$P" rm -q -f "$F"
		what="delete" ;;
	8)
		pick_unlinked
		git -C "$P" mv "$F" "$(dirname "$F")/hernoemd-$SEED.md"
		what="rename" ;;
	*)
		rnd 2
		if [ "$R" = 0 ]; then
			sed -i "0,/^title = \"\([^0-9\"]*\).*\"$/s//title = \"\1$SEED\"/" "$P/site.toml"
			what="site.toml"
		else
			printf -- '-- %s\n' "$SEED" >> "$P/lua/themes.lua"
			what="filter"
		fi ;;
	esac
	steps="$steps $what"
}

# A hand edit to an output before its next build: a file deleted, a
# byte changed in place (its length kept), one grown, a file of one's own
# added, a folder removed. The build puts it right.
tamper() { # tamper OUTPUT
	find "$1" -type f | sort > "$WORK/files"
	[ -s "$WORK/files" ] || return 0
	pick "$WORK/files"
	rnd 5
	case $R in
	0) rm -f "$F" ;;
	1)
		size=$(wc -c < "$F")
		[ "$size" -gt 0 ] || return 0
		rnd "$size"
		printf '#' | dd of="$F" bs=1 seek="$R" conv=notrunc 2> /dev/null ;;
	2) printf '<!-- hand -->' >> "$F" ;;
	3) echo eigen > "$(dirname "$F")/eigen-$SEED.txt" ;;
	*) [ "$(dirname "$F")" = "$1" ] || rm -rf "$(dirname "$F")" ;;
	esac
	steps="$steps hand-edit"
}

step=1
while [ $step -le 60 ]; do
	steps=""
	rnd 3
	k=$((R + 1))
	while [ $k -gt 0 ]; do edit; k=$((k - 1)); done
	rnd 4
	case $R in
	0) mode=commit opts="" ;;
	1) mode=worktree opts="--worktree" ;;
	2) mode=resident opts="--resident=1" ;;
	*) mode=resident-worktree opts="--resident=1 --worktree" ;;
	esac
	if [ "${mode#*worktree}" = "$mode" ]; then
		git -C "$P" add -A && git -C "$P" commit -q -m "stap $step"
	fi
	rnd 4
	if [ "$R" = 0 ] && [ -d "$WORK/out-$mode/public" ]; then tamper "$WORK/out-$mode/public"; fi
	clean=--worktree
	[ "${mode#*worktree}" = "$mode" ] && clean=""
	# shellcheck disable=SC2086
	"$GEN" build -q $opts -C "$P" -o "$WORK/out-$mode/public" 2> "$WORK/inc.err"
	inc=$?
	rm -rf "$WORK/clean"
	# shellcheck disable=SC2086
	"$GEN" build -q $clean -C "$P" -o "$WORK/clean/public" 2> "$WORK/clean.err"
	full=$?
	if [ $inc -ne 0 ] || [ $full -ne 0 ]; then
		ok 1 "step $step ($mode:$steps): both builds succeed ($inc, $full)"
		sed 's/^/#   /' "$WORK/inc.err" "$WORK/clean.err" | head -20
	else
		diff -r "$WORK/out-$mode/public" "$WORK/clean/public" > "$WORK/diff" 2>&1
		ok $? "step $step ($mode:$steps): as a clean build"
		head -20 "$WORK/diff" | sed 's/^/#   /'
	fi
	step=$((step + 1))
done
# The residents end now, not a minute after the last build.
"$GEN" build -q --resident=0 -C "$P" -o "$WORK/out-resident/public" 2> /dev/null
"$GEN" build -q --resident=0 --worktree -C "$P" -o "$WORK/out-resident-worktree/public" \
	2> /dev/null
done_testing
