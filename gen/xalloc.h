/* xalloc: the one place where running out of memory is handled.
 *
 * gen cannot do anything useful without memory, so every allocation goes
 * through these wrappers, which print one line and abort instead of
 * returning NULL. Callers never check for NULL after them. */
#ifndef GEN_XALLOC_H
#define GEN_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Copies of strings; caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Starts this process over, the same executable with the same argv,
 * with glibc's malloc set to ask for huge pages (see xalloc.c, "the
 * heap's pages"); returns when that is not done: gen was started so
 * already, the user's GLIBC_TUNABLES names glibc.malloc.hugetlb, or the
 * exec failed. Called first thing by the commands that build, before any
 * thread is started or file opened. */
void xalloc_tune_heap(char **argv);

#endif
