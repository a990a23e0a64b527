/* xalloc: allocation wrappers that abort on exhaustion (see xalloc.h). */
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
