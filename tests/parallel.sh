#!/bin/sh
# The output does not depend on the number of worker threads: the real
# handbook and a fixture of a few hundred articles, built with -j1 and -j4,
# are byte-identical file by file.
. "$(dirname "$0")/lib.sh"

"$GEN" build -C "$SRCDIR" --worktree -q --no-cache -j1 -o "$WORK/real1"
ok $? "the handbook builds with -j1"
"$GEN" build -C "$SRCDIR" --worktree -q --no-cache -j4 -o "$WORK/real4"
ok $? "the handbook builds with -j4"
diff -r "$WORK/real1" "$WORK/real4" > "$WORK/diff" 2>&1
ok $? "-j1 and -j4 give identical output for the handbook"
head -20 "$WORK/diff" | sed 's/^/# /'

P=$WORK/many
make_project "$P"
i=1
while [ $i -le 300 ]; do
	n=$(( (i % 300) + 1 ))
	cat > "$P/content/verhalen/v$i.md" <<MD
+++
title = "Verhaal $i"
kind = "story"
date = 2016-01-$(printf %02d $(( (i % 28) + 1 )))
author = "Auteur $(( i % 7 ))"
themes = ["snifo-gedrag"]
weight = $(( i % 5 ))
+++
## Deel een

De klant $i wacht bij de balie. Zie [verhaal $n](v$n.md#deel-een) en [de tip](../tips/snifo.md#tip-$(( (i % 3) + 1 ))).

## Deel twee

Een tweede alinea met **nadruk** en een lijst:

- een
- twee
MD
	i=$((i + 1))
done
git_init "$P"
"$GEN" build -C "$P" -q --no-cache -j1 -o "$WORK/m1"
ok $? "300 articles build with -j1"
"$GEN" build -C "$P" -q --no-cache -j4 -o "$WORK/m4"
ok $? "300 articles build with -j4"
diff -r "$WORK/m1" "$WORK/m4" > "$WORK/diff" 2>&1
ok $? "-j1 and -j4 give identical output for 300 articles"
head -20 "$WORK/diff" | sed 's/^/# /'
is "$(find "$WORK/m4/verhalen" -name index.html -not -path '*/geschiedenis/*' | wc -l)" 302 "every article and the section page written"

# Errors are reported the same way whatever the thread count.
printf '+++\ntitle = 1\n+++\n' > "$P/content/verhalen/v7.md"
printf '+++\ntitle = "x"\ndate = "nooit"\n+++\n' > "$P/content/verhalen/v200.md"
"$GEN" check -C "$P" --worktree -j1 2> "$WORK/e1"
"$GEN" check -C "$P" --worktree -j4 2> "$WORK/e4"
cmp -s "$WORK/e1" "$WORK/e4"
ok $? "diagnostics are identical for -j1 and -j4"
contains "$WORK/e4" "content/verhalen/v200.md:3:8: error: malformed date 'nooit'" "both errors reported"
contains "$WORK/e4" "content/verhalen/v7.md:2:9: error: 'title' must be a string" "the other one too"
"$GEN" build -C "$P" -j0 2> "$WORK/err"
is $? 2 "-j0 is a usage error"

done_testing
