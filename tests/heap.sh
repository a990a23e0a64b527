#!/bin/sh
# The kernel's page size (gen/xalloc.c): gen starts once and does not ask
# for transparent huge pages, neither for malloc's heap (glibc's tunables)
# nor for its big arrays, since on a machine whose host takes freed memory
# back a huge page costs a build after a pause far more than 4 KB pages
# do. Its heaps grow 16 MB at a time (xalloc_tune), not glibc's 128 KB.
# A user's own GLIBC_TUNABLES still reach glibc and are obeyed. The
# tunables are seen in what they do to the process's mappings, not in
# /proc/PID/environ: glibc rewrites that copy of the environment as it
# reads them.
. "$(dirname "$0")/lib.sh"

if ldd "$GEN" | grep -q libasan; then
	echo "1..0 # SKIP under AddressSanitizer, whose allocator is not glibc's"
	exit 0
fi
MB=1048576
# glibc advises huge pages only where the kernel gives them on request.
THP=/sys/kernel/mm/transparent_hugepage/enabled
madvise=false
grep -q '\[madvise\]' "$THP" 2>/dev/null && madvise=true

P=$WORK/p
make_project "$P"
git_init "$P"

# look NAME [ENV...]: runs gen serve on P (with ENV) and, once it
# serves, writes the size of its heap (the break's mapping) in bytes to
# $WORK/NAME.heap, the flags of its mappings to $WORK/NAME.flags and
# its name (as ps shows it) to $WORK/NAME.comm.
look() {
	name=$1
	shift
	: > "$WORK/$name.log"
	env "$@" "$GEN" serve -C "$P" -p 0 2> "$WORK/$name.log" &
	pid=$!
	i=0
	while [ $i -lt 300 ] && ! grep -q '^gen serve: http://' "$WORK/$name.log"; do
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	range=$(sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) .*\[heap\]$/\1 \2/p' /proc/$pid/maps)
	set -- $range
	echo $((0x${2:-0} - 0x${1:-0})) > "$WORK/$name.heap"
	grep '^VmFlags:' /proc/$pid/smaps > "$WORK/$name.flags"
	cat /proc/$pid/comm > "$WORK/$name.comm"
	kill $pid
	wait $pid 2>/dev/null
}

# huge NAME YES|NO TEST-NAME: whether a mapping of NAME is advised huge.
huge() {
	if ! $madvise; then
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N # SKIP the kernel gives no huge pages on request ($THP)"
		return
	fi
	grep -q ' hg' "$WORK/$1.flags"
	found=$?
	if [ "$2" = yes ]; then ok $found "$3"; else ok $((!found)) "$3"; fi
}

look plain
contains "$WORK/plain.log" "gen serve: http://" "gen serve runs"
heap=$(cat "$WORK/plain.heap")
ok "$([ "$heap" -ge $((16 * MB)) ] && [ "$heap" -lt $((64 * MB)) ]; echo $?)" \
	"its heap grows 16 MB at a time (xalloc_tune), not 128 KB nor 64 MB: $heap bytes"
huge plain no "and none of its memory is advised huge"
is "$(cat "$WORK/plain.comm")" "$(basename "$GEN")" "it keeps its name in ps and top"

# One start: the dynamic loader runs once for a build, not twice.
LD_DEBUG=files "$GEN" build -q -C "$P" -o "$WORK/once" 2> "$WORK/once.debug"
ok $? "gen build under LD_DEBUG=files"
is "$(grep -c 'initialize program:' "$WORK/once.debug")" 1 "the build is one program started once"

look own GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.top_pad=$((160 * MB))
contains "$WORK/own.log" "gen serve: http://" "gen serve runs with a user's tunables for huge pages"
heap=$(cat "$WORK/own.heap")
ok "$([ "$heap" -ge $((160 * MB)) ]; echo $?)" "the user's top_pad is taken: $heap bytes"
huge own yes "and the user's hugetlb: its heap is advised huge"

# A build gives the same site either way.
"$GEN" build -q -C "$P" -o "$WORK/a" 2> "$WORK/err"
ok $? "gen build as it starts"
GLIBC_TUNABLES=glibc.malloc.hugetlb=1 "$GEN" build -q -C "$P" -o "$WORK/b" 2> "$WORK/err"
ok $? "gen build with the heap in huge pages"
ok "$(diff -r "$WORK/a" "$WORK/b" > /dev/null; echo $?)" "build the same site"

done_testing
