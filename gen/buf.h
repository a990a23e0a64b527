/* buf: the one growable string buffer used everywhere in gen.
 *
 * A buf's ptr is never NULL and is always NUL-terminated, so it can be
 * handed to any C string function at any time, even when empty. It grows
 * geometrically. A buf on the stack is set up with BUF_INIT or buf_init and
 * given back with buf_release; buf_detach hands its memory to the caller. */
#ifndef GEN_BUF_H
#define GEN_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* Writes len bytes at data to fd, through short writes and signals.
 * Returns 0, or -1 with errno set. */
int buf_write_all(int fd, const void *data, size_t len);
/* Appends the UTF-8 encoding of code point cp (at most U+10FFFF). */
/* Appends v in decimal: buf_printf(b, "%" PRIu64, v) without the cost
 * of parsing a format, for numbers written by the thousand. */
void buf_put_uint(buf *b, uint64_t v);
/* Writes v in decimal to out, without a NUL; returns the digits written. */
size_t buf_uint_digits(char out[20], uint64_t v);
void buf_put_utf8(buf *b, unsigned long cp);
/* Appends s with &, <, >, " and ' replaced by entities. */
void buf_put_html(buf *b, const char *s, size_t len);
/* Appends the path s[0..len) as a URL's path: every byte but letters,
 * digits, '/' and "-._~!$&'()*+,;=:@" as %XX ("Klant aan het woord/"
 * gives "Klant%20aan%20het%20woord/", "café" "caf%C3%A9"). */
void buf_put_url_path(buf *b, const char *s, size_t len);
/* Whether buf_put_url_path would append s[0..len) as it is. */
bool buf_url_path_plain(const char *s, size_t len);
/* Appends s[0..len) with its %XX escapes decoded (but %00): what a URL
 * names, "mijn%20foto.png" the file "mijn foto.png". */
void buf_put_url_decoded(buf *b, const char *s, size_t len);
/* The value of hexadecimal digit c (either case), or -1. */
int buf_hex_digit(char c);

/* Binary records, for the build cache: unsigned numbers as LEB128
 * varints, byte strings as a varint length and the bytes. */
void buf_put_varint(buf *b, uint64_t v);
/* A signed number, zigzag-coded so small negatives stay small. */
void buf_put_svarint(buf *b, int64_t v);
void buf_put_blob(buf *b, const void *data, size_t len);
/* buf_put_blob of a C string; NULL is written as a length of 0 with a
 * flag, so it reads back as NULL. */
void buf_put_cstr(buf *b, const char *s);
/* A C string with its NUL (length + 1 first, 0 for NULL), so that a
 * reader of mapped data can point at it instead of copying it. */
void buf_put_zstr(buf *b, const char *s);

/* Reads what the functions above wrote. A read past the end or a
 * malformed number sets bad and returns 0 / NULL from then on, so a
 * caller checks bad once at the end. */
typedef struct buf_reader {
	const unsigned char *p, *end;
	bool bad;
} buf_reader;
void buf_reader_init(buf_reader *r, const void *data, size_t len);
uint64_t buf_get_varint_long(buf_reader *r);
/* Most numbers the caches hold fit in a byte (counts, weights, small
 * ids): those are read here without a call, millions a rebuild. */
static inline uint64_t buf_get_varint(buf_reader *r)
{
	if (!r->bad && r->p < r->end && *r->p < 0x80)
		return *r->p++;
	return buf_get_varint_long(r);
}
int64_t buf_get_svarint(buf_reader *r);
/* A count of items that follow, each of a byte at least: one larger
 * than the bytes left sets bad and gives 0, so that a damaged count
 * never sizes an allocation. */
size_t buf_get_count(buf_reader *r);
/* A pointer into the data (not NUL-terminated) and its length. */
const char *buf_get_blob(buf_reader *r, size_t *len);
/* A copy of a buf_put_cstr string (caller frees), or NULL. */
char *buf_get_cstr(buf_reader *r);
/* A buf_put_zstr string where it is in the data (NUL-terminated), or
 * NULL; missing bytes or a missing NUL set bad. */
const char *buf_get_zstr(buf_reader *r);

/* Files a build keeps for the next one (the output's manifest, the ids
 * of work-tree files, the history walk): magic, the data, then a
 * checksum of both seeded with seed. buf_write_sealed writes b (magic
 * and data) and the checksum to path through a temporary file and a
 * rename, so a reader finds the old file or the new, never half of one;
 * it returns false, leaving no temporary file, when that fails. A
 * buf_sealer writes one piece by piece, as it is made: buf_seal_begin
 * (false when the temporary file cannot be made; buf_seal_end must
 * follow all the same), buf_seal_put, and buf_seal_end, which returns
 * what buf_write_sealed would.
 * buf_map_sealed maps path read-only into *m and, when the checksum
 * holds and the data starts with magic, sets r to what lies between them
 * and returns true; false (and *m empty) for a missing, short or damaged
 * file. buf_unmap lets *m go, and accepts an empty one. Mapped rather
 * than read: the pages are the kernel's cached copy, where reading
 * megabytes into a buf writes them to memory of the process's own, a
 * fault for each page. The files are only ever replaced whole
 * (buf_write_sealed), never written in place, so a mapping holds. */
bool buf_write_sealed(const buf *b, const char *path, uint64_t seed);
typedef struct buf_sealer {
	int fd;
	const char *path; /* the caller's, until buf_seal_end */
	buf tmp;
	buf block;        /* what is not yet hashed and written */
	uint64_t sum;
	bool good;
} buf_sealer;
bool buf_seal_begin(buf_sealer *s, const char *path, uint64_t seed);
void buf_seal_put(buf_sealer *s, const void *data, size_t len);
bool buf_seal_end(buf_sealer *s);
typedef struct buf_map {
	const char *ptr; /* NULL when empty */
	size_t len;
} buf_map;
bool buf_map_sealed(buf_map *m, const char *path, const char *magic, uint64_t seed,
		    buf_reader *r);
void buf_unmap(buf_map *m);

/* A 64-bit hash of data, seeded; for cache keys and checksums, not for
 * security. */
uint64_t buf_hash64(const void *data, size_t len, uint64_t seed);
/* A C string hashed into h, for fingerprints: NULL and "" differ (a page
 * leaves out what is NULL). */
uint64_t buf_hash_cstr(const char *s, uint64_t h);

#endif
