/* buf: the one growable string buffer used everywhere in gen.
 *
 * A buf's ptr is never NULL and is always NUL-terminated, so it can be
 * handed to any C string function at any time, even when empty. It grows
 * geometrically. A buf on the stack is set up with BUF_INIT or buf_init and
 * given back with buf_release; buf_detach hands its memory to the caller. */
#ifndef GEN_BUF_H
#define GEN_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
	char *ptr;  /* never NULL, always NUL-terminated */
	size_t len; /* bytes in use, not counting the NUL */
	size_t cap; /* 0 while ptr points at the shared empty string */
} buf;

extern char buf__empty[1];
#define BUF_INIT { buf__empty, 0, 0 }

void buf_init(buf *b);
/* Frees the memory and leaves b empty (usable again). */
void buf_release(buf *b);
/* Makes room for at least n more bytes. */
void buf_grow(buf *b, size_t n);
void buf_put(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, int c);
void buf_printf(buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Sets the length to 0 and keeps the memory. */
void buf_clear(buf *b);
void buf_truncate(buf *b, size_t len);
/* Returns the contents as a heap string the caller frees; b is empty after. */
char *buf_detach(buf *b);
/* Appends the whole file at path. Returns 0, or -1 with errno set (the
 * bytes read before a failure stay in b). */
int buf_read_file(buf *b, const char *path);
/* Appends the UTF-8 encoding of code point cp (at most U+10FFFF). */
void buf_put_utf8(buf *b, unsigned long cp);
/* Appends s with &, <, >, " and ' replaced by entities. */
void buf_put_html(buf *b, const char *s, size_t len);

#endif
