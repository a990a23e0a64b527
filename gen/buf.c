/* buf: growable, always-terminated string buffer (see buf.h). */
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

char buf__empty[1];

void buf_init(buf *b)
{
	b->ptr = buf__empty;
	b->len = 0;
	b->cap = 0;
}

void buf_release(buf *b)
{
	if (b->cap)
		free(b->ptr);
	buf_init(b);
}

void buf_grow(buf *b, size_t n)
{
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap += cap / 2 + 16;
	if (b->cap) {
		b->ptr = xrealloc(b->ptr, cap);
	} else {
		b->ptr = xmalloc(cap);
		b->ptr[0] = '\0';
	}
	b->cap = cap;
}

void buf_put(buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	buf_grow(b, len);
	memmove(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void buf_puts(buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void buf_putc(buf *b, int c)
{
	buf_grow(b, 1);
	b->ptr[b->len++] = (char)c;
	b->ptr[b->len] = '\0';
}

void buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	/* Formatted once into the room the buffer has, and a second time
	 * only when that was too little: formatting is the cost. */
	if (!b->cap)
		buf_grow(b, 64);
	size_t room = b->cap - b->len;
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(b->ptr + b->len, room, fmt, ap2);
	va_end(ap2);
	if (n <= 0) {
		b->ptr[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_clear(buf *b)
{
	buf_truncate(b, 0);
}

void buf_truncate(buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->ptr[len] = '\0';
}

char *buf_detach(buf *b)
{
	char *p = b->cap ? b->ptr : xstrdup("");
	buf_init(b);
	return p;
}

/* The bytes buf_put_html replaces. */
static const unsigned char html_special[256] = {
	['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1,
};

void buf_put_html(buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		/* Most text has none: passed over a byte and a look-up each. */
		while (i < len && !html_special[u[i]])
			i++;
		if (i == len)
			break;
		const char *rep = NULL;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		buf_put(b, s + start, i - start);
		buf_puts(b, rep);
		start = i + 1;
	}
	buf_put(b, s + start, len - start);
}

/* Whether a URL's path holds byte c as it is (see buf_put_url_path). */
static bool url_path_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("/-._~!$&'()*+,;=:@", c));
}

bool buf_url_path_plain(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!url_path_byte((unsigned char)s[i]))
			return false;
	return true;
}

void buf_put_url_path(buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (url_path_byte(c))
			continue;
		buf_put(b, s + start, i - start);
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
		buf_put(b, esc, sizeof esc);
		start = i + 1;
	}
	buf_put(b, s + start, len - start);
}

int buf_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void buf_put_url_decoded(buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < len && (hi = buf_hex_digit(s[i + 1])) >= 0 &&
		    (lo = buf_hex_digit(s[i + 2])) >= 0 && (hi || lo)) {
			buf_putc(b, (char)(hi * 16 + lo));
			i += 2;
		} else {
			buf_putc(b, s[i]);
		}
	}
}

size_t buf_uint_digits(char out[20], uint64_t v)
{
	char digits[20];
	size_t n = 0;
	do {
		digits[sizeof digits - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(out, digits + sizeof digits - n, n);
	return n;
}

void buf_put_uint(buf *b, uint64_t v)
{
	char digits[20];
	buf_put(b, digits, buf_uint_digits(digits, v));
}

void buf_put_utf8(buf *b, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_put(b, u, n);
}

int buf_read_file(buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Read straight into b, sized once from the file's length: the
	 * caches read this way are megabytes, and growing b step by step
	 * copied them a dozen times. A file that grows meanwhile is read
	 * to its end all the same. */
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		buf_grow(b, (size_t)st.st_size + 1);
	int rc = 0;
	for (;;) {
		if (b->cap - b->len < 2)
			buf_grow(b, 16384);
		ssize_t n = read(fd, b->ptr + b->len, b->cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		b->len += (size_t)n;
	}
	b->ptr[b->len] = '\0';
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int buf_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A sealed file's checksum is chained over blocks of SEAL_BLOCK bytes
 * (the last one shorter), each hashed with the sum so far as its seed:
 * a writer hashes what it writes as it goes, through a block of its own,
 * instead of making the whole file in memory first (megabytes, each page
 * of them a fault). */
#define SEAL_BLOCK ((size_t)1 << 16)

static uint64_t seal_sum(const char *p, size_t len, uint64_t seed)
{
	uint64_t sum = seed;
	for (size_t at = 0; at < len; at += SEAL_BLOCK)
		sum = buf_hash64(p + at, len - at < SEAL_BLOCK ? len - at : SEAL_BLOCK, sum);
	return sum;
}

static void seal_write(buf_sealer *s, const char *p, size_t len)
{
	s->sum = seal_sum(p, len, s->sum);
	s->good = s->good && buf_write_all(s->fd, p, len) == 0;
}

bool buf_seal_begin(buf_sealer *s, const char *path, uint64_t seed)
{
	buf_init(&s->tmp);
	buf_init(&s->block);
	s->path = path;
	s->sum = seed;
	buf_printf(&s->tmp, "%s.tmp%ld", path, (long)getpid());
	s->fd = open(s->tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	s->good = s->fd >= 0;
	if (s->good)
		buf_grow(&s->block, SEAL_BLOCK);
	return s->good;
}

void buf_seal_put(buf_sealer *s, const void *data, size_t len)
{
	const char *p = data;
	while (len && s->good) {
		/* Whole blocks straight from where they are. */
		if (!s->block.len && len >= SEAL_BLOCK) {
			size_t whole = len / SEAL_BLOCK * SEAL_BLOCK;
			seal_write(s, p, whole);
			p += whole;
			len -= whole;
			continue;
		}
		size_t take = SEAL_BLOCK - s->block.len < len ? SEAL_BLOCK - s->block.len : len;
		buf_put(&s->block, p, take);
		p += take;
		len -= take;
		if (s->block.len == SEAL_BLOCK) {
			seal_write(s, s->block.ptr, s->block.len);
			buf_clear(&s->block);
		}
	}
}

bool buf_seal_end(buf_sealer *s)
{
	if (s->good && s->block.len)
		seal_write(s, s->block.ptr, s->block.len);
	uint64_t sum = s->sum;
	bool good = s->good && buf_write_all(s->fd, &sum, sizeof sum) == 0;
	if (s->fd >= 0)
		good = close(s->fd) == 0 && good;
	good = good && rename(s->tmp.ptr, s->path) == 0;
	if (!good && s->fd >= 0)
		unlink(s->tmp.ptr);
	s->fd = -1;
	buf_release(&s->tmp);
	buf_release(&s->block);
	return good;
}

bool buf_write_sealed(const buf *b, const char *path, uint64_t seed)
{
	buf_sealer s;
	buf_seal_begin(&s, path, seed);
	buf_seal_put(&s, b->ptr, b->len);
	return buf_seal_end(&s);
}

bool buf_map_sealed(buf_map *m, const char *path, const char *magic, uint64_t seed,
		    buf_reader *r)
{
	m->ptr = NULL;
	m->len = 0;
	uint64_t sum;
	size_t ml = strlen(magic);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	if (fd < 0)
		return false;
	void *p = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size >= ml + sizeof sum && (uint64_t)st.st_size <= SIZE_MAX)
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return false;
	m->ptr = p;
	m->len = (size_t)st.st_size;
	memcpy(&sum, m->ptr + m->len - sizeof sum, sizeof sum);
	if (seal_sum(m->ptr, m->len - sizeof sum, seed) != sum ||
	    memcmp(m->ptr, magic, ml) != 0) {
		buf_unmap(m);
		return false;
	}
	buf_reader_init(r, m->ptr + ml, m->len - sizeof sum - ml);
	return true;
}

void buf_unmap(buf_map *m)
{
	if (m->ptr)
		munmap((void *)(uintptr_t)m->ptr, m->len);
	m->ptr = NULL;
	m->len = 0;
}

/* ---- binary records ---- */

void buf_put_varint(buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		unsigned char c = v & 0x7f;
		v >>= 7;
		tmp[n++] = (unsigned char)(c | (v ? 0x80 : 0));
	} while (v);
	buf_put(b, tmp, n);
}

void buf_put_svarint(buf *b, int64_t v)
{
	buf_put_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void buf_put_blob(buf *b, const void *data, size_t len)
{
	buf_put_varint(b, len);
	buf_put(b, data, len);
}

/* Length + 1, so that 0 can stand for NULL; then the bytes, with the
 * NUL or without. */
static void put_str(buf *b, const char *s, bool nul)
{
	if (!s) {
		buf_put_varint(b, 0);
		return;
	}
	size_t n = strlen(s);
	buf_put_varint(b, (uint64_t)n + 1);
	buf_put(b, s, n + nul);
}

void buf_put_cstr(buf *b, const char *s)
{
	put_str(b, s, false);
}

void buf_put_zstr(buf *b, const char *s)
{
	put_str(b, s, true);
}

void buf_reader_init(buf_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
	r->bad = false;
}

uint64_t buf_get_varint_long(buf_reader *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0; !r->bad; shift += 7) {
		if (r->p >= r->end || shift > 63) {
			r->bad = true;
			break;
		}
		unsigned char c = *r->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	return 0;
}

int64_t buf_get_svarint(buf_reader *r)
{
	uint64_t u = buf_get_varint(r);
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

size_t buf_get_count(buf_reader *r)
{
	uint64_t n = buf_get_varint(r);
	if (n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return 0;
	}
	return (size_t)n;
}

const char *buf_get_blob(buf_reader *r, size_t *len)
{
	uint64_t n = buf_get_varint(r);
	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		*len = 0;
		return NULL;
	}
	const char *s = (const char *)r->p;
	r->p += n;
	*len = (size_t)n;
	return s;
}

char *buf_get_cstr(buf_reader *r)
{
	uint64_t n = buf_get_varint(r);
	if (r->bad || n == 0)
		return NULL;
	if (n - 1 > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return NULL;
	}
	char *s = xmalloc((size_t)n);
	memcpy(s, r->p, (size_t)n - 1);
	s[n - 1] = '\0';
	r->p += n - 1;
	return s;
}

const char *buf_get_zstr(buf_reader *r)
{
	uint64_t n = buf_get_varint(r);
	if (r->bad || n == 0)
		return NULL;
	if (n > (uint64_t)(r->end - r->p) || r->p[n - 1] != '\0') {
		r->bad = true;
		return NULL;
	}
	const char *s = (const char *)r->p;
	r->p += n;
	return s;
}

/* Eight bytes at a time: each word is mixed in with a multiply and a
 * rotation, the tail byte by byte, and the end result is avalanched so
 * that every input bit reaches every output bit. Long inputs (cache
 * records, the print page) go 32 bytes at a time through four such
 * chains that do not wait on each other, then are folded into one. */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93u;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93u;
	h ^= h >> 32;
	return h;
}

/* One step of a chain: the eight bytes at p mixed into h. */
static inline uint64_t lane(uint64_t h, const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	h ^= w * 0xff51afd7ed558ccdu;
	h = (h << 29) | (h >> 35);
	return h * 0xc4ceb9fe1a85ec53u;
}

uint64_t buf_hash_cstr(const char *s, uint64_t h)
{
	return s ? buf_hash64(s, strlen(s) + 1, h) : buf_hash64("", 0, h ^ 0x6e756c6cu);
}

uint64_t buf_hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (0x9e3779b97f4a7c15u * (len + 1));
	if (len >= 128) {
		uint64_t a = h, b = h ^ 0x243f6a8885a308d3u, c = h ^ 0x13198a2e03707344u,
			 d = h ^ 0xa4093822299f31d0u;
		while (len >= 32) {
			a = lane(a, p);
			b = lane(b, p + 8);
			c = lane(c, p + 16);
			d = lane(d, p + 24);
			p += 32;
			len -= 32;
		}
		h = (a ^ mix64(b)) * 0xc4ceb9fe1a85ec53u;
		h = (h ^ mix64(c)) * 0xc4ceb9fe1a85ec53u;
		h = (h ^ mix64(d)) * 0xc4ceb9fe1a85ec53u;
	}
	for (; len >= 8; p += 8, len -= 8)
		h = lane(h, p);
	uint64_t t = 0;
	for (size_t i = 0; i < len; i++)
		t |= (uint64_t)p[i] << (8 * i);
	h ^= t * 0xff51afd7ed558ccdu;
	return mix64(h);
}
