/* toml: a TOML 1.0 parser producing a value tree (see toml.h).
 *
 * A recursive-descent parser over the whole text, which is in memory
 * anyway (site.toml, front matter). It builds the tree as it goes and
 * enforces the redefinition rules with flag bits on each table, recording
 * how the table came to exist: by a [header] prefix (implicit, may still
 * be defined once), by a [header] (defined), by a dotted key, as an inline
 * table (closed once written), or as an array made by [[header]]. Lines
 * and columns are worked out from byte offsets only when a value or an
 * error needs them; columns count code points, not bytes. The parser
 * keeps all its state in a struct on the stack, so it is thread safe. */
#include "toml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

/* How a table or array came to exist (value_flags). The bits stay in the
 * returned tree; nothing outside this file relies on them. */
enum {
	T_IMPLICIT = 1u << 0, /* made by a [a.b] prefix; [a] may still define it */
	T_DEFINED = 1u << 1,  /* defined by [header] or [[header]], or the root */
	T_DOTTED = 1u << 2,   /* made by a dotted key: a.b = 1 */
	T_INLINE = 1u << 3,   /* inline table: nothing may be added later */
	T_AOT = 1u << 4,      /* array of tables made by [[header]] */
};

/* Deep enough for any real document, shallow enough for the C stack. */
#define MAX_DEPTH 512

struct parser {
	const char *s;
	size_t len, pos;
	size_t start; /* after a byte order mark */
	const char *file;
	int line_offset;
	gen_err *err;
	int depth;
	/* where() walks forward from the last place it was asked about */
	size_t at;
	int line, col;
};

/* A key as written, dotted parts unescaped into one buffer. */
struct keypart {
	size_t off, len; /* into text */
	size_t at;       /* byte offset where the part starts */
};

struct key {
	buf text;
	struct keypart *part;
	size_t n, cap;
};

static int peek(const struct parser *p, size_t k)
{
	return p->pos + k < p->len ? (unsigned char)p->s[p->pos + k] : -1;
}

static int is_control(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_bare(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	       c == '_' || c == '-';
}

/* Length of the valid UTF-8 sequence at s, or 0 when there is none. */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		need = 1;
	} else if (c < 0xf0) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed) /* surrogates */
			hi = 0x9f;
	} else if (c < 0xf5) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4) /* beyond U+10FFFF */
			hi = 0x8f;
	} else {
		return 0;
	}
	for (size_t i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}


/* Line and column of byte offset at. Values are asked for in text order,
 * so walking on from the previous answer keeps this linear overall. */
static void where(struct parser *p, size_t at, int *line, int *col)
{
	if (at < p->at) {
		p->at = p->start;
		p->line = 1;
		p->col = 1;
	}
	if (at > p->len)
		at = p->len;
	for (size_t i = p->at; i < at; i++) {
		unsigned char c = (unsigned char)p->s[i];
		if (c == '\n') {
			p->line++;
			p->col = 1;
		} else if ((c & 0xc0) != 0x80) {
			p->col++;
		}
	}
	p->at = at;
	*line = p->line + p->line_offset;
	*col = p->col;
}

static void set_pos(struct parser *p, value *v, size_t at)
{
	int line, col;
	where(p, at, &line, &col);
	value_set_pos(v, line, col);
}

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
	char msg[sizeof p->err->msg];
	int line, col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	where(p, at, &line, &col);
	return err_set(p->err, GEN_EPARSE, p->file, line, col, "%s", msg);
}

/* Names the character at byte offset at for an error message. */
static const char *show(const struct parser *p, size_t at, char *out, size_t size)
{
	if (at >= p->len)
		return "end of input";
	unsigned char c = (unsigned char)p->s[at];
	if (c == '\n' || (c == '\r' && at + 1 < p->len && p->s[at + 1] == '\n'))
		return "newline";
	if (c == '\r')
		return "carriage return";
	if (c == '\t')
		return "tab";
	if (c > 0x20 && c < 0x7f) {
		snprintf(out, size, "'%c'", c);
	} else if (c < 0x80) {
		snprintf(out, size, "U+%04X", c);
	} else {
		/* The text is valid UTF-8 by now. The code point is shown too,
		 * because the character may be invisible (a stray U+FEFF). */
		const unsigned char *u = (const unsigned char *)p->s + at;
		size_t n = utf8_valid(u, p->len - at);
		uint32_t cp = n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
		for (size_t i = 1; i < n; i++)
			cp = cp << 6 | (u[i] & 0x3fu);
		snprintf(out, size, "'%.*s' (U+%04X)", (int)(n ? n : 1), p->s + at,
			 (unsigned)cp);
	}
	return out;
}

/* The run of characters a number or date-time could be made of, for
 * quoting the whole token in a message. */
static size_t token_end(const struct parser *p, size_t at)
{
	size_t i = at;
	while (i < p->len && (is_bare((unsigned char)p->s[i]) || p->s[i] == '.' ||
			      p->s[i] == ':' || p->s[i] == '+'))
		i++;
	return i;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
		p->pos++;
}

/* Bytes of the newline at pos: 1 for LF, 2 for CRLF, 0 otherwise. */
static size_t newline_len(const struct parser *p)
{
	if (peek(p, 0) == '\n')
		return 1;
	if (peek(p, 0) == '\r' && peek(p, 1) == '\n')
		return 2;
	return 0;
}

/* Skips a comment up to (not including) its newline. */
static int skip_comment(struct parser *p)
{
	char tmp[32];
	if (peek(p, 0) != '#')
		return 0;
	size_t i = p->pos + 1;
	for (; i < p->len; i++) {
		unsigned char c = (unsigned char)p->s[i];
		if (c == '\n' || (c == '\r' && i + 1 < p->len && p->s[i + 1] == '\n'))
			break;
		if (is_control(c))
			return fail(p, i, "%s in comment", show(p, i, tmp, sizeof tmp));
	}
	p->pos = i;
	return 0;
}

/* Whitespace, comments and newlines, as allowed inside arrays. */
static int skip_blank(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		if (skip_comment(p) < 0)
			return GEN_EPARSE;
		size_t n = newline_len(p);
		if (!n)
			return 0;
		p->pos += n;
	}
}

/* After a key/value pair or a header only a comment may follow. */
static int end_line(struct parser *p, const char *what)
{
	char tmp[32];
	skip_ws(p);
	if (skip_comment(p) < 0)
		return GEN_EPARSE;
	size_t n = newline_len(p);
	if (n) {
		p->pos += n;
		return 0;
	}
	if (p->pos >= p->len)
		return 0;
	return fail(p, p->pos, "unexpected %s after %s",
		    show(p, p->pos, tmp, sizeof tmp), what);
}

static void key_release(struct key *k)
{
	buf_release(&k->text);
	free(k->part);
	k->part = NULL;
	k->n = k->cap = 0;
}

/* Writes parts [0, upto) of k as a dotted key for messages; parts that
 * are not bare keys are quoted, control characters shown as '?'. */
static const char *key_name(const struct key *k, size_t upto, char *out, size_t size)
{
	buf b = BUF_INIT;
	for (size_t i = 0; i < upto && i < k->n; i++) {
		const char *s = k->text.ptr + k->part[i].off;
		size_t len = k->part[i].len;
		int bare = len > 0;
		for (size_t j = 0; j < len; j++)
			if (!is_bare((unsigned char)s[j]))
				bare = 0;
		if (i)
			buf_putc(&b, '.');
		if (!bare)
			buf_putc(&b, '"');
		for (size_t j = 0; j < len; j++)
			buf_putc(&b, is_control((unsigned char)s[j]) ? '?' : s[j]);
		if (!bare)
			buf_putc(&b, '"');
	}
	snprintf(out, size, "%s", b.ptr);
	buf_release(&b);
	return out;
}

/* An escape sequence at pos (the backslash) in a basic string. */
static int escape(struct parser *p, buf *out)
{
	size_t at = p->pos;
	int c = peek(p, 1);
	int n = 0;
	switch (c) {
	case 'b': buf_putc(out, '\b'); break;
	case 't': buf_putc(out, '\t'); break;
	case 'n': buf_putc(out, '\n'); break;
	case 'f': buf_putc(out, '\f'); break;
	case 'r': buf_putc(out, '\r'); break;
	case '"': buf_putc(out, '"'); break;
	case '\\': buf_putc(out, '\\'); break;
	case 'u': n = 4; break;
	case 'U': n = 8; break;
	default:
		if (c > 0x20 && c < 0x7f)
			return fail(p, at, "invalid escape '\\%c'", c);
		return fail(p, at, "invalid escape sequence");
	}
	if (!n) {
		p->pos += 2;
		return 0;
	}
	uint32_t cp = 0;
	for (int i = 0; i < n; i++) {
		int h = peek(p, 2 + (size_t)i), d;
		if (h >= '0' && h <= '9')
			d = h - '0';
		else if (h >= 'a' && h <= 'f')
			d = h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			d = h - 'A' + 10;
		else
			return fail(p, at, "escape '\\%c' needs %d hexadecimal digits", c, n);
		cp = cp << 4 | (uint32_t)d;
	}
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return fail(p, at, "escape '%.*s' is not a unicode scalar value", n + 2,
			    p->s + at);
	buf_put_utf8(out, cp);
	p->pos += 2 + (size_t)n;
	return 0;
}

/* "basic string" at pos. */
static int basic_string(struct parser *p, buf *out)
{
	char tmp[32];
	size_t start = p->pos++;
	for (;;) {
		int c = peek(p, 0);
		if (c < 0 || c == '\n' || (c == '\r' && peek(p, 1) == '\n'))
			return fail(p, start, "unterminated string");
		if (c == '"') {
			p->pos++;
			return 0;
		}
		if (c == '\\') {
			if (escape(p, out) < 0)
				return GEN_EPARSE;
			continue;
		}
		if (is_control(c))
			return fail(p, p->pos, "%s in string", show(p, p->pos, tmp, sizeof tmp));
		buf_putc(out, c);
		p->pos++;
	}
}

/* 'literal string' at pos: no escapes. */
static int literal_string(struct parser *p, buf *out)
{
	char tmp[32];
	size_t start = p->pos++;
	for (;;) {
		int c = peek(p, 0);
		if (c < 0 || c == '\n' || (c == '\r' && peek(p, 1) == '\n'))
			return fail(p, start, "unterminated string");
		if (c == '\'') {
			p->pos++;
			return 0;
		}
		if (is_control(c))
			return fail(p, p->pos, "%s in string", show(p, p->pos, tmp, sizeof tmp));
		buf_putc(out, c);
		p->pos++;
	}
}

/* """multi-line""" or '''multi-line''' string at pos; q is the quote.
 * Up to two quotes may end the content right before the closing three. */
static int multiline_string(struct parser *p, buf *out, int q)
{
	char tmp[32];
	size_t start = p->pos;
	p->pos += 3;
	p->pos += newline_len(p); /* a newline right after the opening is trimmed */
	for (;;) {
		int c = peek(p, 0);
		if (c < 0)
			return fail(p, start, "unterminated multi-line string");
		if (c == q && peek(p, 1) == q && peek(p, 2) == q) {
			size_t n = 3;
			while (n < 5 && peek(p, n) == q)
				n++;
			for (size_t i = 3; i < n; i++)
				buf_putc(out, q);
			p->pos += n;
			return 0;
		}
		if (c == '\\' && q == '"') {
			/* A backslash ending a line eats all whitespace and
			 * newlines up to the next visible character. */
			size_t i = p->pos + 1;
			while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\t'))
				i++;
			if (i < p->len && (p->s[i] == '\n' ||
					   (p->s[i] == '\r' && i + 1 < p->len && p->s[i + 1] == '\n'))) {
				p->pos = i;
				for (;;) {
					skip_ws(p);
					size_t n = newline_len(p);
					if (!n)
						break;
					p->pos += n;
				}
				continue;
			}
			if (escape(p, out) < 0)
				return GEN_EPARSE;
			continue;
		}
		if (c == '\n') {
			buf_putc(out, '\n');
			p->pos++;
			continue;
		}
		if (c == '\r' && peek(p, 1) == '\n') {
			/* Newlines come out as LF whatever the file used. */
			buf_putc(out, '\n');
			p->pos += 2;
			continue;
		}
		if (is_control(c))
			return fail(p, p->pos, "%s in string", show(p, p->pos, tmp, sizeof tmp));
		buf_putc(out, c);
		p->pos++;
	}
}

/* Any of the four string forms at pos, appended to out. */
static int string(struct parser *p, buf *out)
{
	int q = peek(p, 0);
	if (peek(p, 1) == q && peek(p, 2) == q)
		return multiline_string(p, out, q);
	return q == '"' ? basic_string(p, out) : literal_string(p, out);
}

/* A possibly dotted key at pos, with whitespace around the dots. */
static int parse_key(struct parser *p, struct key *k)
{
	char tmp[32];
	buf_clear(&k->text);
	k->n = 0;
	for (;;) {
		skip_ws(p);
		size_t at = p->pos, off = k->text.len;
		int c = peek(p, 0);
		if (c == '"' || c == '\'') {
			if (peek(p, 1) == c && peek(p, 2) == c)
				return fail(p, at, "a multi-line string cannot be a key");
			if (string(p, &k->text) < 0)
				return GEN_EPARSE;
		} else if (c >= 0 && is_bare(c)) {
			while (p->pos < p->len && is_bare((unsigned char)p->s[p->pos]))
				p->pos++;
			buf_put(&k->text, p->s + at, p->pos - at);
		} else {
			return fail(p, at, "expected a key, found %s", show(p, at, tmp, sizeof tmp));
		}
		if (k->n == k->cap) {
			k->cap = k->cap ? k->cap * 2 : 4;
			k->part = xrealloc(k->part, k->cap * sizeof *k->part);
		}
		k->part[k->n].off = off;
		k->part[k->n].len = k->text.len - off;
		k->part[k->n].at = at;
		k->n++;
		skip_ws(p);
		if (peek(p, 0) != '.')
			return 0;
		p->pos++;
	}
}

static value *key_get(const value *t, const struct key *k, size_t i)
{
	return value_getn(t, k->text.ptr + k->part[i].off, k->part[i].len);
}

static void key_set(value *t, const struct key *k, size_t i, value *v)
{
	value_set(t, k->text.ptr + k->part[i].off, k->part[i].len, v);
}

static int parse_value(struct parser *p, value **out);

/* Two digits at s, or -1. */
static int two(const char *s)
{
	if (!is_digit((unsigned char)s[0]) || !is_digit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* HH:MM:SS[.frac] at s + i (n bytes available); returns the end or 0. */
static size_t scan_time(const char *s, size_t i, size_t n)
{
	if (i + 8 > n || s[i + 2] != ':' || s[i + 5] != ':')
		return 0;
	int h = two(s + i), m = two(s + i + 3), sec = two(s + i + 6);
	/* 60 is a leap second, which RFC 3339 allows */
	if (h < 0 || m < 0 || sec < 0 || h > 23 || m > 59 || sec > 60)
		return 0;
	i += 8;
	if (i < n && s[i] == '.') {
		size_t d = ++i;
		while (i < n && is_digit((unsigned char)s[i]))
			i++;
		if (i == d)
			return 0;
	}
	return i;
}

/* A date, date-time or time at pos. The text is kept as written except
 * that the separator becomes 'T' and a 'z' offset 'Z'. */
static int parse_datetime(struct parser *p, value **out)
{
	const char *s = p->s + p->pos;
	size_t n = p->len - p->pos, i = 0, tend = token_end(p, p->pos) - p->pos;
	value_type type = VALUE_TIME_LOCAL;
	buf text = BUF_INIT;
	int rc = 0;

	if (n >= 5 && s[4] == '-') {
		int ok = n >= 10 && s[7] == '-';
		int y = 0, m = 0, d = 0;
		for (int j = 0; ok && j < 4; j++)
			ok = is_digit((unsigned char)s[j]);
		if (ok) {
			y = (s[0] - '0') * 1000 + two(s + 1) * 10 + (s[3] - '0');
			m = two(s + 5);
			d = two(s + 8);
			ok = m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
		}
		if (!ok) {
			rc = fail(p, p->pos, "invalid date '%.*s'", (int)tend, s);
			goto out;
		}
		buf_put(&text, s, 10);
		i = 10;
		type = VALUE_DATE_LOCAL;
		/* A space only separates a time when a time follows; else it
		 * is whitespace after a local date. */
		int sep = i < n && (s[i] == 'T' || s[i] == 't');
		if (i + 3 < n && s[i] == ' ' && is_digit((unsigned char)s[i + 1]) &&
		    is_digit((unsigned char)s[i + 2]) && s[i + 3] == ':') {
			sep = 1;
			tend = token_end(p, p->pos + i + 1) - p->pos; /* quote the time too */
		}
		if (!sep)
			goto done;
		buf_putc(&text, 'T');
		i++;
		type = VALUE_DATETIME_LOCAL;
	}
	size_t e = scan_time(s, i, n);
	if (!e) {
		rc = fail(p, p->pos, "invalid %s '%.*s'",
			  type == VALUE_TIME_LOCAL ? "time" : "date-time", (int)tend, s);
		goto out;
	}
	buf_put(&text, s + i, e - i);
	i = e;
	if (type == VALUE_DATETIME_LOCAL && i < n) {
		if (s[i] == 'Z' || s[i] == 'z') {
			buf_putc(&text, 'Z');
			i++;
			type = VALUE_DATETIME;
		} else if (s[i] == '+' || s[i] == '-') {
			int oh = i + 6 <= n ? two(s + i + 1) : -1;
			int om = i + 6 <= n ? two(s + i + 4) : -1;
			if (oh < 0 || om < 0 || s[i + 3] != ':' || oh > 23 || om > 59) {
				rc = fail(p, p->pos, "invalid date-time '%.*s'", (int)tend, s);
				goto out;
			}
			buf_put(&text, s + i, 6);
			i += 6;
			type = VALUE_DATETIME;
		}
	}
done:
	*out = value_new_datetime(type, text.ptr, text.len);
	p->pos += i;
out:
	buf_release(&text);
	return rc;
}

/* Digits of the given radix with single underscores between them, from
 * *i; the digits (no underscores) are appended to clean. */
static int digits(struct parser *p, size_t *i, int radix, buf *clean, size_t at)
{
	size_t j = *i, tend = token_end(p, at);
	int prev_digit = 0;
	for (;; j++) {
		int c = j < p->len ? (unsigned char)p->s[j] : -1, ok;
		if (radix == 16)
			ok = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		else
			ok = c >= '0' && c < '0' + radix;
		if (ok) {
			buf_putc(clean, c);
			prev_digit = 1;
			continue;
		}
		if (c == '_') {
			if (!prev_digit)
				break;
			prev_digit = 0;
			continue;
		}
		if (prev_digit) {
			*i = j;
			return 0;
		}
		break;
	}
	if (j < p->len && p->s[j] == '_')
		return fail(p, j, "misplaced underscore in number '%.*s'",
			    (int)(tend - at), p->s + at);
	return fail(p, j < p->len ? j : at, "invalid number '%.*s'", (int)(tend - at),
		    p->s + at);
}

/* An integer or a float at pos. */
static int parse_number(struct parser *p, value **out)
{
	size_t at = p->pos, i = at, tend = token_end(p, at);
	int tlen = (int)(tend - at);
	const char *tok = p->s + at;
	buf clean = BUF_INIT;
	int rc = 0, sign = 0, is_float = 0;

	if (peek(p, 0) == '+' || peek(p, 0) == '-') {
		sign = p->s[i];
		buf_putc(&clean, sign);
		i++;
	}
	if (i + 3 <= p->len && (memcmp(p->s + i, "inf", 3) == 0 ||
				memcmp(p->s + i, "nan", 3) == 0)) {
		double f = p->s[i] == 'i' ? HUGE_VAL : NAN;
		*out = value_new_float(sign == '-' ? -f : f);
		p->pos = i + 3;
		goto out;
	}
	if (i + 1 < p->len && p->s[i] == '0' &&
	    (p->s[i + 1] == 'x' || p->s[i + 1] == 'o' || p->s[i + 1] == 'b')) {
		int radix = p->s[i + 1] == 'x' ? 16 : p->s[i + 1] == 'o' ? 8 : 2;
		if (sign) {
			rc = fail(p, at, "sign not allowed on '%.*s'", tlen, tok);
			goto out;
		}
		i += 2;
		if ((rc = digits(p, &i, radix, &clean, at)) < 0)
			goto out;
		errno = 0;
		unsigned long long u = strtoull(clean.ptr, NULL, radix);
		if (errno == ERANGE || u > INT64_MAX) {
			rc = fail(p, at, "integer '%.*s' is out of range", tlen, tok);
			goto out;
		}
		*out = value_new_integer((int64_t)u);
		p->pos = i;
		goto out;
	}
	size_t int_at = i;
	if ((rc = digits(p, &i, 10, &clean, at)) < 0)
		goto out;
	if (p->s[int_at] == '0' && i - int_at > 1) {
		rc = fail(p, at, "leading zero in number '%.*s'", tlen, tok);
		goto out;
	}
	if (i < p->len && p->s[i] == '.') {
		buf_putc(&clean, '.');
		i++;
		if ((rc = digits(p, &i, 10, &clean, at)) < 0)
			goto out;
		is_float = 1;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		buf_putc(&clean, 'e');
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			buf_putc(&clean, p->s[i++]);
		if ((rc = digits(p, &i, 10, &clean, at)) < 0)
			goto out;
		is_float = 1;
	}
	errno = 0;
	if (is_float) {
		double f = strtod(clean.ptr, NULL);
		if (errno == ERANGE && isinf(f)) {
			rc = fail(p, at, "float '%.*s' is out of range", tlen, tok);
			goto out;
		}
		*out = value_new_float(f);
	} else {
		long long ll = strtoll(clean.ptr, NULL, 10);
		if (errno == ERANGE) {
			rc = fail(p, at, "integer '%.*s' is out of range", tlen, tok);
			goto out;
		}
		*out = value_new_integer(ll);
	}
	p->pos = i;
out:
	buf_release(&clean);
	return rc;
}

/* [ values, ... ] at pos; newlines and comments may come between. */
static int parse_array(struct parser *p, value **out)
{
	char tmp[32];
	size_t start = p->pos++;
	value *a = value_new_array(), *item = NULL;
	int rc;
	for (;;) {
		if ((rc = skip_blank(p)) < 0)
			goto fail;
		if (p->pos >= p->len) {
			rc = fail(p, start, "unterminated array");
			goto fail;
		}
		if (peek(p, 0) == ']') {
			p->pos++;
			break;
		}
		if ((rc = parse_value(p, &item)) < 0)
			goto fail;
		value_push(a, item);
		if ((rc = skip_blank(p)) < 0)
			goto fail;
		if (peek(p, 0) == ',') {
			p->pos++;
		} else if (peek(p, 0) == ']') {
			p->pos++;
			break;
		} else if (p->pos >= p->len) {
			rc = fail(p, start, "unterminated array");
			goto fail;
		} else {
			rc = fail(p, p->pos, "expected ',' or ']' in array, found %s",
				  show(p, p->pos, tmp, sizeof tmp));
			goto fail;
		}
	}
	*out = a;
	return 0;
fail:
	value_free(a);
	return rc;
}

/* key = value into table t; dotted keys make (or walk through) tables
 * made by dotted keys in the same table, never any other kind. */
static int keyval(struct parser *p, value *t)
{
	char tmp[32], name[256];
	struct key k = { BUF_INIT, NULL, 0, 0 };
	value *v = NULL;
	int rc;

	if ((rc = parse_key(p, &k)) < 0)
		goto out;
	if (peek(p, 0) != '=') {
		rc = fail(p, p->pos, "expected '=' after key '%s', found %s",
			  key_name(&k, k.n, name, sizeof name),
			  show(p, p->pos, tmp, sizeof tmp));
		goto out;
	}
	p->pos++;
	skip_ws(p);
	for (size_t i = 0; i + 1 < k.n; i++) {
		value *c = key_get(t, &k, i);
		if (!c) {
			c = value_new_table();
			value_set_flags(c, T_DOTTED);
			set_pos(p, c, k.part[i].at);
			key_set(t, &k, i, c);
		} else if (value_type_of(c) != VALUE_TABLE) {
			rc = fail(p, k.part[i].at, "key '%s' is already defined as %s",
				  key_name(&k, i + 1, name, sizeof name),
				  value_type_name(value_type_of(c)));
			goto out;
		} else if (value_flags(c) & T_INLINE) {
			rc = fail(p, k.part[i].at, "inline table '%s' cannot be extended",
				  key_name(&k, i + 1, name, sizeof name));
			goto out;
		} else if (!(value_flags(c) & T_DOTTED)) {
			rc = fail(p, k.part[i].at,
				  "table '%s' cannot be extended with dotted keys here",
				  key_name(&k, i + 1, name, sizeof name));
			goto out;
		}
		t = c;
	}
	if (key_get(t, &k, k.n - 1)) {
		rc = fail(p, k.part[k.n - 1].at, "duplicate key '%s'",
			  key_name(&k, k.n, name, sizeof name));
		goto out;
	}
	if ((rc = parse_value(p, &v)) < 0)
		goto out;
	key_set(t, &k, k.n - 1, v);
out:
	key_release(&k);
	return rc;
}

/* { key = value, ... } at pos: one line, no trailing comma (TOML 1.0). */
static int parse_inline(struct parser *p, value **out)
{
	char tmp[32];
	size_t start = p->pos++;
	value *t = value_new_table();
	int rc;
	skip_ws(p);
	if (peek(p, 0) == '}') {
		p->pos++;
		goto done;
	}
	for (;;) {
		if ((rc = keyval(p, t)) < 0)
			goto fail;
		skip_ws(p);
		if (peek(p, 0) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p, 0) == '}') {
			p->pos++;
			break;
		}
		if (p->pos >= p->len)
			rc = fail(p, start, "unterminated inline table");
		else
			rc = fail(p, p->pos, "expected ',' or '}' in inline table, found %s",
				  show(p, p->pos, tmp, sizeof tmp));
		goto fail;
	}
done:
	/* Marking the top is enough: whatever is inside can only be reached
	 * through it. */
	value_set_flags(t, T_INLINE);
	*out = t;
	return 0;
fail:
	value_free(t);
	return rc;
}

static int parse_value(struct parser *p, value **out)
{
	char tmp[32];
	size_t at = p->pos;
	int c = peek(p, 0), rc, line, col;
	value *v = NULL;

	/* Asked before the value is parsed: its items come later in the
	 * text, and where() is cheap only when going forward. */
	where(p, at, &line, &col);
	*out = NULL;
	if (++p->depth > MAX_DEPTH) {
		rc = fail(p, at, "values nested too deeply");
		goto out;
	}
	if (c == '"' || c == '\'') {
		buf s = BUF_INIT;
		rc = string(p, &s);
		if (rc == 0)
			v = value_new_string(s.ptr, s.len);
		buf_release(&s);
	} else if (c == '[') {
		rc = parse_array(p, &v);
	} else if (c == '{') {
		rc = parse_inline(p, &v);
	} else if (c == 't' && p->len - at >= 4 && memcmp(p->s + at, "true", 4) == 0) {
		v = value_new_bool(true);
		p->pos += 4;
		rc = 0;
	} else if (c == 'f' && p->len - at >= 5 && memcmp(p->s + at, "false", 5) == 0) {
		v = value_new_bool(false);
		p->pos += 5;
		rc = 0;
	} else if (is_digit(c) && is_digit(peek(p, 1)) &&
		   (peek(p, 2) == ':' || (is_digit(peek(p, 2)) && is_digit(peek(p, 3)) &&
					  peek(p, 4) == '-'))) {
		rc = parse_datetime(p, &v);
	} else if (is_digit(c) || c == '+' || c == '-' ||
		   (c == 'i' && peek(p, 1) == 'n' && peek(p, 2) == 'f') ||
		   (c == 'n' && peek(p, 1) == 'a' && peek(p, 2) == 'n')) {
		rc = parse_number(p, &v);
	} else {
		rc = fail(p, at, "expected a value, found %s", show(p, at, tmp, sizeof tmp));
	}
	if (rc == 0) {
		value_set_pos(v, line, col);
		*out = v;
	}
out:
	p->depth--;
	return rc;
}

/* [table] or [[array of tables]] at pos; *cur becomes the table that
 * the following key/value pairs go into. */
static int header(struct parser *p, value *root, value **cur)
{
	char tmp[32], name[256];
	struct key k = { BUF_INIT, NULL, 0, 0 };
	size_t at = p->pos;
	int aot = peek(p, 1) == '[', rc, line, col;
	value *t = root;

	where(p, at, &line, &col);
	p->pos += aot ? 2 : 1;
	if ((rc = parse_key(p, &k)) < 0)
		goto out;
	if (peek(p, 0) != ']' || (aot && peek(p, 1) != ']')) {
		rc = fail(p, p->pos, "expected '%s' to end table header, found %s",
			  aot ? "]]" : "]", show(p, p->pos, tmp, sizeof tmp));
		goto out;
	}
	p->pos += aot ? 2 : 1;

	for (size_t i = 0; i + 1 < k.n; i++) {
		value *c = key_get(t, &k, i);
		if (!c) {
			c = value_new_table();
			value_set_flags(c, T_IMPLICIT);
			set_pos(p, c, k.part[i].at);
			key_set(t, &k, i, c);
		} else if (value_type_of(c) == VALUE_ARRAY && (value_flags(c) & T_AOT)) {
			c = value_at(c, value_count(c) - 1);
		} else if (value_type_of(c) != VALUE_TABLE) {
			rc = fail(p, k.part[i].at, "key '%s' is already defined as %s",
				  key_name(&k, i + 1, name, sizeof name),
				  value_type_name(value_type_of(c)));
			goto out;
		} else if (value_flags(c) & T_INLINE) {
			rc = fail(p, k.part[i].at, "inline table '%s' cannot be extended",
				  key_name(&k, i + 1, name, sizeof name));
			goto out;
		}
		t = c;
	}

	size_t last = k.n - 1;
	value *c = key_get(t, &k, last);
	key_name(&k, k.n, name, sizeof name);
	if (aot) {
		if (!c) {
			c = value_new_array();
			value_set_flags(c, T_AOT);
			value_set_pos(c, line, col);
			key_set(t, &k, last, c);
		} else if (value_type_of(c) != VALUE_ARRAY) {
			rc = fail(p, k.part[last].at, "key '%s' is already defined as %s",
				  name, value_type_name(value_type_of(c)));
			goto out;
		} else if (!(value_flags(c) & T_AOT)) {
			rc = fail(p, k.part[last].at, "cannot append to static array '%s'", name);
			goto out;
		}
		value *e = value_new_table();
		value_set_flags(e, T_DEFINED);
		value_set_pos(e, line, col);
		value_push(c, e);
		*cur = e;
	} else {
		if (!c) {
			c = value_new_table();
			key_set(t, &k, last, c);
		} else if (value_type_of(c) != VALUE_TABLE) {
			rc = fail(p, k.part[last].at, "key '%s' is already defined as %s",
				  name, value_type_name(value_type_of(c)));
			goto out;
		} else if (value_flags(c) != T_IMPLICIT) {
			rc = fail(p, k.part[last].at, "table '%s' is already defined", name);
			goto out;
		}
		value_set_flags(c, T_DEFINED);
		value_set_pos(c, line, col);
		*cur = c;
	}
	rc = end_line(p, "table header");
out:
	key_release(&k);
	return rc;
}

/* Every byte must be valid UTF-8 before any parsing starts, so the rest
 * of the parser can treat bytes >= 0x80 as ordinary characters. */
static int check_utf8(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	for (size_t i = p->start; i < p->len;) {
		size_t n = utf8_valid(s + i, p->len - i);
		if (!n)
			return fail(p, i, "invalid utf-8 byte 0x%02x", s[i]);
		i += n;
	}
	return 0;
}

int toml_parse(value **out, const char *text, size_t len, const char *file,
	       int line_offset, gen_err *err)
{
	char tmp[32];
	struct parser p = { 0 };
	value *root = value_new_table(), *cur = root;
	int rc;

	*out = NULL;
	p.s = text;
	p.len = len;
	p.file = file;
	p.line_offset = line_offset;
	p.err = err;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p.start = 3;
	p.pos = p.at = p.start;
	p.line = p.col = 1;
	value_set_flags(root, T_DEFINED);
	value_set_pos(root, 1 + line_offset, 1);

	if ((rc = check_utf8(&p)) < 0)
		goto fail;
	for (;;) {
		skip_ws(&p);
		if (p.pos >= p.len)
			break;
		int c = peek(&p, 0);
		size_t n = newline_len(&p);
		if (n) {
			p.pos += n;
		} else if (c == '#') {
			if ((rc = skip_comment(&p)) < 0)
				goto fail;
		} else if (c == '[') {
			if ((rc = header(&p, root, &cur)) < 0)
				goto fail;
		} else if (c >= 0 && (is_bare(c) || c == '"' || c == '\'')) {
			if ((rc = keyval(&p, cur)) < 0 || (rc = end_line(&p, "value")) < 0)
				goto fail;
		} else {
			rc = fail(&p, p.pos, "expected a key or a table header, found %s",
				  show(&p, p.pos, tmp, sizeof tmp));
			goto fail;
		}
	}
	*out = root;
	return 0;
fail:
	value_free(root);
	return rc;
}
