/* xalloc: allocation wrappers that abort on exhaustion (see xalloc.h). */
#include "xalloc.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernel's ordinary 4 KB pages, not transparent huge pages.
 *
 * gen asked for huge pages until 2026-12-06: for its big arrays with
 * madvise, and for all of malloc's heap by starting itself again with
 * glibc's tunables. One fault per 2 MB instead of per 4 KB made a rebuild
 * started at once after the last one faster. On a virtual machine whose
 * host takes back the memory a guest has freed (free page reporting, as
 * on the machines the benchmark runs on), a huge page taken more than a
 * second after the last build ended comes from memory the host must give
 * again: 128 MB in huge pages took 13 ms at once and 250-330 ms after a
 * pause, against 50-70 ms in 4 KB pages either way (bench/README, "The
 * pause before a rebuild"). Someone who edits an article builds it
 * seconds later, so gen leaves the page size to the kernel and to the
 * user (glibc.malloc.hugetlb=1 in GLIBC_TUNABLES still asks for them). */

/* What malloc adds to a heap whenever it grows one, and keeps at the top
 * of one when blocks are freed, instead of its 128 KB.
 *
 * A build's threads each take an arena of their own, whose heap malloc
 * makes writable and gives back 128 KB at a time: in a rebuild after an
 * edit some hundreds of mprotect calls, each a shootdown of the TLBs of
 * every core of a threaded process, and pages freed with MADV_DONTNEED
 * that the next allocation faults in again (2,000 of the rebuild's
 * 28,000 faults; a fresh page costs 1.5 us on the benchmark's virtual
 * machine, bench/README). 16 MB a step: the benchmark's rebuild after a
 * commit took 0.37 s of CPU instead of 0.40 (2026-12-07, a slow hour).
 * Only address space is taken: a page costs memory once it is written.
 *
 * Setting it turns off glibc's moving threshold for blocks mapped on
 * their own (128 KB at first, raised to the size of each such block
 * freed): every block over 128 KB was then mapped and unmapped anew, and
 * a cold build took 4.14 s instead of 3.61 (1.99 s of system time
 * instead of 1.22). So the threshold is set too, at 4 MB: a cold build
 * takes what it took (3.56-3.69 s against 3.60-3.72), with a peak 0-15 MB
 * higher. A user's own settings of either (GLIBC_TUNABLES) are theirs to
 * keep. */
#define HEAP_PAD (16u << 20)
#define OWN_MAPPING (4u << 20)

void xalloc_tune(void)
{
	const char *tunables = getenv("GLIBC_TUNABLES");
	if (!tunables || !strstr(tunables, "glibc.malloc.top_pad"))
		mallopt(M_TOP_PAD, HEAP_PAD);
	if (!tunables || !strstr(tunables, "glibc.malloc.mmap_threshold"))
		mallopt(M_MMAP_THRESHOLD, OWN_MAPPING);
}

static void out_of_memory(size_t n)
{
	fprintf(stderr, "gen: out of memory (requested %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

/* Blocks up to this size are zeroed by hand (see xcalloc). */
#define CALLOC_BY_HAND 1024

void *xcalloc(size_t count, size_t size)
{
	/* glibc's calloc passes by the per-thread cache of freed blocks
	 * that malloc takes from first; for the small blocks most callers
	 * (cmark's nodes, value trees) ask for, malloc and memset cost a
	 * fraction of it. Large blocks keep calloc: fresh pages are zero
	 * already. */
	if (count && size && count <= CALLOC_BY_HAND / size) {
		void *p = xmalloc(count * size);
		memset(p, 0, count * size);
		return p;
	}
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		out_of_memory(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}
