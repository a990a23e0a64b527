/* xalloc: allocation wrappers that abort on exhaustion (see xalloc.h). */
#define _DEFAULT_SOURCE /* madvise and MADV_HUGEPAGE under strict C11 */
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>

/* A build's big arrays (the search index's postings, the maps of the
 * output, the history) are tens of megabytes, written once from fresh
 * pages: with 4 KB pages that is a page fault per 4 KB, some 15% of a
 * rebuild's CPU at 10,000 articles. Where the kernel gives transparent
 * huge pages only on request (enabled=madvise, as on this kind of
 * machine), the whole 2 MB stretches of a block of 4 MB or more are
 * asked for as huge pages: one fault per 2 MB. Elsewhere the advice
 * changes nothing; it is only advice, so a refusal is ignored. */
#define HUGE_PAGE ((uintptr_t)2 << 20)

static void *advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	if (n >= 2 * HUGE_PAGE) {
		uintptr_t from = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		uintptr_t to = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);
		if (to > from)
			madvise((void *)from, to - from, MADV_HUGEPAGE);
	}
#else
	(void)n;
#endif
	return p;
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
	return advise_huge(p, n);
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
	return advise_huge(p, count * size);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return advise_huge(q, n);
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
