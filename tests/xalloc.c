/* xalloc: xalloc_tune's heap (see tuned below); no block is asked for
 * as transparent huge pages (the kernel's VmFlags would show "hg" for it
 * in /proc/self/smaps), big or small: a
 * huge page taken after a pause costs far more than 4 KB pages on a
 * machine whose host takes freed memory back (gen/xalloc.c); every block
 * keeps what was written to it. */
#define _DEFAULT_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "xalloc.h"

/* Whether the mapping that holds address a says needle in its line that
 * starts with field (its first line, naming it, when field is ""), in
 * /proc/self/smaps: 1 yes, 0 no, -1 when smaps has no such line (no
 * such kernel). */
static int mapping_says(const void *a, const char *field, const char *needle)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	char line[512];
	bool inside = false;
	int found = -1;
	uintptr_t at = (uintptr_t)a;
	while (found < 0 && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		bool head = sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
			    strchr(line, '-') < strchr(line, ' ');
		if (head)
			inside = lo <= at && at < hi;
		if (inside && (head ? !*field : *field && strncmp(line, field, strlen(field)) == 0))
			found = strstr(line, needle) != NULL;
	}
	fclose(f);
	return found;
}

/* Whether the mapping that holds address a has the huge page advice. */
static int advised(const void *a)
{
	return mapping_says(a, "VmFlags:", " hg");
}

/* The first address of a whole 2 MB stretch inside [p, p + n). */
static const char *stretch(const char *p)
{
	uintptr_t h = (uintptr_t)2 << 20;
	return (const char *)(((uintptr_t)p + h - 1) & ~(h - 1));
}

static bool filled(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i += 4096)
		if (p[i] != c)
			return false;
	return p[n - 1] == c;
}

/* xalloc_tune: blocks up to 4 MB come from the heap, not from mappings
 * of their own (glibc maps those over 128 KB until it has freed a larger
 * one), and the heap grows 16 MB at a time. Not in the sanitizer build,
 * whose allocator is not glibc's. */
static void tuned(void)
{
#ifdef GEN_FREE_AT_EXIT
	ok(1, "# SKIP the sanitizer build's allocator is not glibc's");
	ok(1, "# SKIP the sanitizer build's allocator is not glibc's");
#else
	xalloc_tune();
	char *b = xmalloc(1 << 20);
	memset(b, 'b', 1 << 20);
	is(mapping_says(b, "", "[heap]"), 1, "xalloc_tune: a block of 1 MB comes from the heap");
	char *small = xmalloc(64);
	char *brk_now = sbrk(0);
	ok(brk_now - small >= (ptrdiff_t)(8u << 20),
	   "xalloc_tune: and the heap grew by 16 MB at once: %td bytes past a new block "
	   "(with 128 KB steps some 128 KB)",
	   brk_now - small);
	free(small);
	free(b);
#endif
}

int main(void)
{
	tuned();
	const size_t big = (size_t)8 << 20;
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0 ||
	    advised(&big) < 0) {
		diag("the kernel has no transparent huge pages to ask for: those checks skipped");
		return done_testing();
	}
	char *m = xmalloc(big);
	memset(m, 'm', big);
	is(advised(stretch(m)), 0, "xmalloc: a block of 8 MB is not advised as huge pages");
	ok(filled(m, big, 'm'), "xmalloc: and holds what was written");

	char *c = xcalloc(big / 8, 8);
	ok(filled(c, big, '\0'), "xcalloc: a block of 8 MB is zero");
	is(advised(stretch(c)), 0, "xcalloc: nor advised as huge pages");

	char *r = xmalloc(1 << 20);
	memset(r, 'r', 1 << 20);
	r = xrealloc(r, 3 * big);
	ok(filled(r, 1 << 20, 'r'), "xrealloc: grown to 24 MB, the first megabyte kept");
	is(advised(stretch(r + big)), 0, "xrealloc: the grown block is not advised as huge pages");

	char *s = xmalloc(64 << 10);
	memset(s, 's', 64 << 10);
	ok(filled(s, 64 << 10, 's'), "xmalloc: a small block holds what was written");
	is(advised(s), 0, "xmalloc: and is not advised as huge pages");
	free(m);
	free(c);
	free(r);
	free(s);
	return done_testing();
}
