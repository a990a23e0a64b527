#!/bin/sh
# The print page of a large handbook, written over the spare part by part
# (see gen/print.c, "the spare"). Its parts begin at multiples of 4 KB, so
# an edit changes the bytes of its own part; the build after next writes
# the page over the one the build before wrote, and only where that one
# differs; a build from nothing, which replaces no page, leaves a copy
# of its own as the spare. Every build must still give what a clean
# build gives, byte for byte: after edits, after an edit that moves
# every part after it, after a hand edit of the spare, and through a
# resident.
. "$(dirname "$0")/lib.sh"

# 700 articles: a print page of some 5 MB, over the 4 MB a file needs to
# be kept as a spare, and over the 512 articles that pad the parts.
synthetic_handbook "$WORK/b" 700 4 11
ok $? "a synthetic handbook of 700 articles"
P=$WORK/b/repo
OUT=$WORK/out/public
STORY=$(find "$P/content/verhalen" -name '*.md' ! -name '_*' | sort | sed -n 10p)
OTHER=$(find "$P/content/verhalen" -name '*.md' ! -name '_*' | sort | sed -n 300p)

commit() {
	git -C "$P" add -A && git -C "$P" commit -q -m "$1"
}
build() { # build [OPTION...]: into $OUT, with --stats into $WORK/stats
	"$GEN" build --stats "$@" -C "$P" -o "$OUT" > "$WORK/stats" 2>&1
}
# Whether $OUT is what a clean build of the same revision writes.
same_as_clean() { # same_as_clean NAME
	rm -rf "$WORK/clean"
	"$GEN" build -q -C "$P" -o "$WORK/clean/public" 2> "$WORK/clean.err"
	diff -r "$OUT" "$WORK/clean/public" > "$WORK/diff" 2>&1
	ok $? "$1"
	head -5 "$WORK/diff" | sed 's/^/#   /'
}
# How many parts the build wrote over the spare, or "none".
patched() {
	sed -n 's/^ *\([0-9]*\) of its \([0-9]*\) parts written.*/\1/p' "$WORK/stats" | head -1 |
		grep . || echo none
}

build
ok $? "a first build"
is "$(ls "$WORK/out/.gen-cache/" | grep -c '\.spare$')" 1 \
	"a build from nothing leaves a copy of the page as the spare"
size=$(wc -c < "$OUT/print/index.html")
ok $((size < 4194304)) "the print page is over 4 MB ($size bytes)"
# Each part but the last ends in padding up to a multiple of 4096: the
# comment closes just before one.
LC_ALL=C awk 'BEGIN { RS = "-->"; bad = 0; n = 0 }
     /<!-- *$/ { n++; at += length($0) + 3; if (at % 4096) bad++; next }
     { at += length($0) + 3 }
     END { exit !(n > 10 && bad == 0) }' "$OUT/print/index.html"
ok $? "its parts end in padding up to a multiple of 4096"

printf '\nDe klant belt nog eens terug.\n' >> "$STORY"
commit "een bewerking"
build
ok $? "a build after an edit"
n=$(patched)
[ "$n" != none ] && [ "$n" -ge 1 ] && [ "$n" -le 4 ]
ok $? "the first build after it writes only the parts that differ from that copy ($n)"
same_as_clean "and it is the clean build's"

printf '\nDe klant belt een derde keer.\n' >> "$OTHER"
commit "nog een bewerking"
build
ok $? "the next build"
n=$(patched)
[ "$n" != none ] && [ "$n" -ge 1 ] && [ "$n" -le 4 ]
ok $? "it writes only the parts that differ from the spare ($n)"
same_as_clean "and the page is the clean build's"

# Five kilobytes more move every part after the story's by a block.
perl -e 'print "\n", "Een lange alinea over de klant die terugbelt. " x 110, "\n"' >> "$STORY"
commit "een lange bewerking"
build
ok $? "a build after an edit that moves the parts after it"
n=$(patched)
[ "$n" != none ] && [ "$n" -gt 4 ]
ok $? "every part from the story's on is written ($n)"
same_as_clean "and the page is the clean build's"

# A spare changed by hand (its stat with it) is not written over in part.
spare=$(ls "$WORK/out/.gen-cache/"*.spare)
printf 'X' | dd of="$spare" bs=1 seek=5000 conv=notrunc 2> /dev/null
printf '\nDe klant belt een vierde keer.\n' >> "$OTHER"
commit "een bewerking na een hand in de reserve"
build
ok $? "a build after a hand edit of the spare"
is "$(patched)" none "the spare is not trusted: the page is written whole"
same_as_clean "and it is the clean build's"

# Through a resident, twice: the second writes over the first's spare.
for k in 1 2; do
	printf '\nDe klant belt via de resident (%s).\n' "$k" >> "$STORY"
	commit "resident $k"
	build --resident=1
	ok $? "a build through a resident ($k)"
	same_as_clean "and it is the clean build's ($k)"
done
n=$(patched)
[ "$n" != none ] && [ "$n" -ge 1 ] && [ "$n" -le 4 ]
ok $? "the resident writes the page over its spare too ($n)"
"$GEN" build -q --resident=0 -C "$P" -o "$OUT" 2> /dev/null

done_testing
