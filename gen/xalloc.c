/* xalloc: allocation wrappers that abort on exhaustion (see xalloc.h). */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE, setenv, execv under strict C11 */
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* The heap's pages.
 *
 * advise_huge above reaches only the big blocks. A rebuild after one
 * edit also reads its caches back into some 130 MB of small blocks
 * (documents, the history's revisions, the search's records) within a
 * tenth of a second, and in 4 KB pages that is some 28,000 page faults,
 * a sixth of the rebuild's CPU. glibc's malloc asks for transparent huge
 * pages for all of its heap when the tunable glibc.malloc.hugetlb is 1
 * (and the kernel gives them on request); with glibc.malloc.top_pad at
 * 64 MB it also grows each heap by many huge pages at once, not page by
 * page. On the benchmark that leaves some 5,000 faults, and 30-40 ms
 * less CPU (bench/README, "The heap in huge pages").
 *
 * glibc reads its tunables only when a process starts, from the
 * environment, so gen starts itself once more with them added: one
 * exec, and the dynamic loader's work again, some 4 ms of CPU (35
 * libraries). They stay in the environment, so a
 * resident started from here has them from the start. A GLIBC_TUNABLES
 * that names glibc.malloc.hugetlb already (gen's own, or the user's:
 * glibc.malloc.hugetlb=0 turns this off) is left as it is; other
 * tunables of the user's are kept, after gen's, so that where both name
 * one (glibc.malloc.top_pad) the user's is the one glibc takes.
 * Under AddressSanitizer, whose allocator is not glibc's, nothing is
 * done. */
#define HEAP_TUNABLES "glibc.malloc.hugetlb=1:glibc.malloc.top_pad=67108864"

void xalloc_tune_heap(char **argv)
{
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
	const char *set = getenv("GLIBC_TUNABLES");
	if (set && strstr(set, "glibc.malloc.hugetlb"))
		return;
	char *old = set && *set ? xstrdup(set) : NULL;
	size_t n = sizeof HEAP_TUNABLES + (old ? strlen(old) + 1 : 0);
	char *value = xmalloc(n);
	snprintf(value, n, "%s%s%s", HEAP_TUNABLES, old ? ":" : "", old ? old : "");
	if (setenv("GLIBC_TUNABLES", value, 1) == 0) {
		/* By its path, so that the process keeps its name ("gen",
		 * not "exe", in ps and top); by /proc/self/exe only when
		 * the file has gone from there since it was started. */
		char self[4096];
		ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
		self[len > 0 ? len : 0] = '\0';
		static const char gone[] = " (deleted)";
		size_t l = strlen(self), g = sizeof gone - 1;
		if (l > 0 && self[0] == '/' && !(l >= g && strcmp(self + l - g, gone) == 0))
			execv(self, argv);
		execv("/proc/self/exe", argv);
		/* No /proc, or the executable is gone: run as started. */
		if (old)
			setenv("GLIBC_TUNABLES", old, 1);
		else
			unsetenv("GLIBC_TUNABLES");
	}
	free(value);
	free(old);
#else
	(void)argv;
#endif
}
