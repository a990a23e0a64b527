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

/* Sets how malloc grows and gives back its heaps, and which blocks it
 * maps on their own, for a process that builds (see xalloc.c); called
 * once, before any thread is started. */
void xalloc_tune(void);

#endif
