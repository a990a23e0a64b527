/* json: reading and writing value trees as JSON (see json.h).
 *
 * The reader is a strict RFC 8259 recursive-descent parser: UTF-8 input
 * (a leading byte order mark is skipped), \u escapes with surrogate
 * pairs, numbers as integers when they have no fraction or exponent and
 * fit in 64 bits. Every value remembers its line and column, and errors
 * carry them; columns count code points. The writer emits compact or
 * two-space indented JSON, always valid UTF-8, with floats written so
 * that reading them back gives the same double. */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Deep enough for any real document, shallow enough for the C stack. */
#define MAX_DEPTH 512

struct parser {
	const char *s;
	size_t len, pos;
	size_t start; /* after a byte order mark */
	const char *file;
	gen_err *err;
	int depth;
	/* where() walks forward from the last place it was asked about */
	size_t at;
	int line, col;
};

/* Decodes the UTF-8 character at s. Returns the bytes consumed (at least
 * 1) and sets *cp, or -1 when the bytes are not valid UTF-8; then the
 * count covers the longest valid-looking start, so one U+FFFD replaces
 * it (the Unicode "maximal subpart" practice). */
static size_t utf8_decode(const unsigned char *s, size_t n, long *cp)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	unsigned long v;
	size_t need;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	*cp = -1;
	if (c < 0xc2)
		return 1;
	if (c < 0xe0) {
		need = 1;
		v = c & 0x1f;
	} else if (c < 0xf0) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed) /* surrogates */
			hi = 0x9f;
	} else if (c < 0xf5) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4) /* beyond U+10FFFF */
			hi = 0x8f;
	} else {
		return 1;
	}
	for (size_t i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return i;
		v = v << 6 | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = (long)v;
	return need + 1;
}


/* Line and column of byte offset at; see toml.c for why it walks on. */
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
	*line = p->line;
	*col = p->col;
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
	if (c == '\n')
		return "newline";
	if (c > 0x20 && c < 0x7f) {
		snprintf(out, size, "'%c'", c);
		return out;
	}
	long cp;
	utf8_decode((const unsigned char *)p->s + at, p->len - at, &cp);
	if (cp < 0)
		snprintf(out, size, "byte 0x%02x", c);
	else
		snprintf(out, size, "U+%04lX", (unsigned long)cp);
	return out;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		p->pos++;
	}
}

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int hex4(const struct parser *p, size_t at, unsigned *out)
{
	unsigned v = 0;
	if (at + 4 > p->len)
		return -1;
	for (size_t i = at; i < at + 4; i++) {
		char h = p->s[i];
		unsigned d;
		if (h >= '0' && h <= '9')
			d = (unsigned)(h - '0');
		else if (h >= 'a' && h <= 'f')
			d = (unsigned)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			d = (unsigned)(h - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* A \uXXXX escape at pos (the backslash), with its low surrogate when
 * it is a high one. A surrogate without its partner cannot be UTF-8, so
 * it becomes U+FFFD rather than failing the whole document. */
static int unicode_escape(struct parser *p, buf *out)
{
	size_t at = p->pos;
	unsigned u, lo;
	if (hex4(p, at + 2, &u) < 0)
		return fail(p, at, "escape '\\u' needs four hexadecimal digits");
	p->pos += 6;
	if (u >= 0xd800 && u <= 0xdbff && p->pos + 1 < p->len &&
	    p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u' &&
	    hex4(p, p->pos + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
		p->pos += 6;
		buf_put_utf8(out, 0x10000 + ((unsigned long)(u - 0xd800) << 10) + (lo - 0xdc00));
		return 0;
	}
	buf_put_utf8(out, u >= 0xd800 && u <= 0xdfff ? 0xfffd : u);
	return 0;
}

/* A string at pos (the opening quote), unescaped into out. */
static int string(struct parser *p, buf *out)
{
	char tmp[32];
	size_t start = p->pos++;
	for (;;) {
		int c = peek(p);
		if (c < 0)
			return fail(p, start, "unterminated string");
		if (c == '"') {
			p->pos++;
			return 0;
		}
		if (c < 0x20)
			return fail(p, p->pos, "%s in string", show(p, p->pos, tmp, sizeof tmp));
		if (c == '\\') {
			int e = p->pos + 1 < p->len ? (unsigned char)p->s[p->pos + 1] : -1;
			char ch = 0;
			switch (e) {
			case '"': ch = '"'; break;
			case '\\': ch = '\\'; break;
			case '/': ch = '/'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u':
				if (unicode_escape(p, out) < 0)
					return GEN_EPARSE;
				continue;
			default:
				if (e > 0x20 && e < 0x7f)
					return fail(p, p->pos, "invalid escape '\\%c'", e);
				return fail(p, p->pos, "invalid escape sequence");
			}
			buf_putc(out, ch);
			p->pos += 2;
			continue;
		}
		if (c < 0x80) {
			buf_putc(out, c);
			p->pos++;
			continue;
		}
		long cp;
		size_t n = utf8_decode((const unsigned char *)p->s + p->pos,
				       p->len - p->pos, &cp);
		if (cp < 0)
			return fail(p, p->pos, "invalid utf-8 byte 0x%02x", (unsigned)c);
		buf_put(out, p->s + p->pos, n);
		p->pos += n;
	}
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A number at pos: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int number(struct parser *p, value **out)
{
	size_t at = p->pos, i = at;
	const char *s = p->s;
	int is_float = 0;
	char *text;

	if (i < p->len && s[i] == '-')
		i++;
	if (i < p->len && s[i] == '0') {
		i++;
	} else if (i < p->len && is_digit((unsigned char)s[i])) {
		while (i < p->len && is_digit((unsigned char)s[i]))
			i++;
	} else {
		goto bad;
	}
	if (i < p->len && s[i] == '.') {
		size_t d = ++i;
		while (i < p->len && is_digit((unsigned char)s[i]))
			i++;
		if (i == d)
			goto bad;
		is_float = 1;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d = i;
		while (i < p->len && is_digit((unsigned char)s[i]))
			i++;
		if (i == d)
			goto bad;
		is_float = 1;
	}
	/* The text is not NUL-terminated where the number ends. */
	text = xstrndup(s + at, i - at);
	errno = 0;
	if (!is_float) {
		long long ll = strtoll(text, NULL, 10);
		if (errno != ERANGE) {
			*out = value_new_integer(ll);
			goto done;
		}
		errno = 0;
	}
	*out = value_new_float(strtod(text, NULL));
done:
	free(text);
	p->pos = i;
	return 0;
bad:
	while (i < p->len && (is_digit((unsigned char)s[i]) || s[i] == '.' || s[i] == 'e' ||
			      s[i] == 'E' || s[i] == '+' || s[i] == '-'))
		i++;
	if (i == at)
		i++;
	return fail(p, at, "invalid number '%.*s'", (int)(i - at), s + at);
}

static int parse_value(struct parser *p, value **out);

static int array(struct parser *p, value **out)
{
	char tmp[32];
	value *a = value_new_array(), *item;
	int rc;
	p->pos++;
	skip_ws(p);
	if (peek(p) == ']') {
		p->pos++;
		goto done;
	}
	for (;;) {
		skip_ws(p);
		if ((rc = parse_value(p, &item)) < 0)
			goto fail;
		value_push(a, item);
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == ']') {
			p->pos++;
			break;
		}
		rc = fail(p, p->pos, "expected ',' or ']' in array, found %s",
			  show(p, p->pos, tmp, sizeof tmp));
		goto fail;
	}
done:
	*out = a;
	return 0;
fail:
	value_free(a);
	return rc;
}

static int object(struct parser *p, value **out)
{
	char tmp[32];
	value *o = value_new_table(), *item;
	buf key = BUF_INIT;
	int rc;
	p->pos++;
	skip_ws(p);
	if (peek(p) == '}') {
		p->pos++;
		goto done;
	}
	for (;;) {
		skip_ws(p);
		if (peek(p) != '"') {
			rc = fail(p, p->pos, "expected a string key, found %s",
				  show(p, p->pos, tmp, sizeof tmp));
			goto fail;
		}
		buf_clear(&key);
		if ((rc = string(p, &key)) < 0)
			goto fail;
		skip_ws(p);
		if (peek(p) != ':') {
			rc = fail(p, p->pos, "expected ':' after key, found %s",
				  show(p, p->pos, tmp, sizeof tmp));
			goto fail;
		}
		p->pos++;
		skip_ws(p);
		if ((rc = parse_value(p, &item)) < 0)
			goto fail;
		/* RFC 8259 leaves duplicate names open; the last one wins. */
		value_set(o, key.ptr, key.len, item);
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == '}') {
			p->pos++;
			break;
		}
		rc = fail(p, p->pos, "expected ',' or '}' in object, found %s",
			  show(p, p->pos, tmp, sizeof tmp));
		goto fail;
	}
done:
	buf_release(&key);
	*out = o;
	return 0;
fail:
	buf_release(&key);
	value_free(o);
	return rc;
}

static int literal(struct parser *p, const char *word, value *v, value **out)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
		value_free(v);
		size_t i = p->pos;
		while (i < p->len && i - p->pos < 16 &&
		       ((p->s[i] >= 'a' && p->s[i] <= 'z') || (p->s[i] >= 'A' && p->s[i] <= 'Z')))
			i++;
		return fail(p, p->pos, "unknown literal '%.*s'", (int)(i - p->pos),
			    p->s + p->pos);
	}
	p->pos += n;
	*out = v;
	return 0;
}

static int parse_value(struct parser *p, value **out)
{
	char tmp[32];
	size_t at = p->pos;
	int c = peek(p), rc, line, col;
	value *v = NULL;

	/* Asked before parsing: items come later, and where() goes forward. */
	where(p, at, &line, &col);
	*out = NULL;
	if (++p->depth > MAX_DEPTH) {
		rc = fail(p, at, "values nested too deeply");
		goto out;
	}
	switch (c) {
	case '{':
		rc = object(p, &v);
		break;
	case '[':
		rc = array(p, &v);
		break;
	case '"': {
		buf s = BUF_INIT;
		rc = string(p, &s);
		if (rc == 0)
			v = value_new_string(s.ptr, s.len);
		buf_release(&s);
		break;
	}
	case 't':
		rc = literal(p, "true", value_new_bool(true), &v);
		break;
	case 'f':
		rc = literal(p, "false", value_new_bool(false), &v);
		break;
	case 'n':
		rc = literal(p, "null", value_new(VALUE_NULL), &v);
		break;
	default:
		if (c == '-' || is_digit(c))
			rc = number(p, &v);
		else
			rc = fail(p, at, "expected a value, found %s",
				  show(p, at, tmp, sizeof tmp));
		break;
	}
	if (rc == 0) {
		value_set_pos(v, line, col);
		*out = v;
	}
out:
	p->depth--;
	return rc;
}

int json_parse(value **out, const char *text, size_t len, const char *file,
	       gen_err *err)
{
	char tmp[32];
	struct parser p = { 0 };
	value *v = NULL;
	int rc;

	*out = NULL;
	p.s = text;
	p.len = len;
	p.file = file;
	p.err = err;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p.start = 3;
	p.pos = p.at = p.start;
	p.line = p.col = 1;

	skip_ws(&p);
	if ((rc = parse_value(&p, &v)) < 0)
		return rc;
	skip_ws(&p);
	if (p.pos < p.len) {
		value_free(v);
		return fail(&p, p.pos, "unexpected %s after value",
			    show(&p, p.pos, tmp, sizeof tmp));
	}
	*out = v;
	return 0;
}

void json_put_string(buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	buf_putc(out, '"');
	for (size_t i = 0; i < len;) {
		unsigned char c = u[i];
		if (c >= 0x80) {
			long cp;
			size_t n = utf8_decode(u + i, len - i, &cp);
			if (cp < 0)
				buf_puts(out, "\xef\xbf\xbd");
			else if (cp == 0x2028 || cp == 0x2029)
				/* valid JSON, but not valid in JavaScript source */
				buf_printf(out, "\\u%04lx", (unsigned long)cp);
			else
				buf_put(out, u + i, n);
			i += n;
			continue;
		}
		switch (c) {
		case '"': buf_puts(out, "\\\""); break;
		case '\\': buf_puts(out, "\\\\"); break;
		case '\b': buf_puts(out, "\\b"); break;
		case '\f': buf_puts(out, "\\f"); break;
		case '\n': buf_puts(out, "\\n"); break;
		case '\r': buf_puts(out, "\\r"); break;
		case '\t': buf_puts(out, "\\t"); break;
		default:
			if (c < 0x20)
				buf_printf(out, "\\u%04x", c);
			else
				buf_putc(out, c);
			break;
		}
		i++;
	}
	buf_putc(out, '"');
}

/* The shortest %g form that reads back as the same double, made to
 * look like a float ("1.0", not "1") so a reader keeps the type. */
static void put_double(buf *out, double f)
{
	char tmp[40];
	if (!isfinite(f)) {
		buf_puts(out, "null");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, f);
		if (strtod(tmp, NULL) == f)
			break;
	}
	buf_puts(out, tmp);
	if (!strpbrk(tmp, ".eE"))
		buf_puts(out, ".0");
}

static void indent(buf *out, int depth)
{
	buf_putc(out, '\n');
	for (int i = 0; i < depth; i++)
		buf_puts(out, "  ");
}

static void write_value(buf *out, const value *v, bool pretty, int depth)
{
	size_t n = value_count(v), klen;
	switch (value_type_of(v)) {
	case VALUE_NULL:
		buf_puts(out, "null");
		break;
	case VALUE_BOOL:
		buf_puts(out, value_bool(v) ? "true" : "false");
		break;
	case VALUE_INTEGER:
		buf_printf(out, "%" PRId64, value_integer(v));
		break;
	case VALUE_FLOAT:
		put_double(out, value_float(v));
		break;
	case VALUE_STRING:
	case VALUE_DATETIME:
	case VALUE_DATETIME_LOCAL:
	case VALUE_DATE_LOCAL:
	case VALUE_TIME_LOCAL: {
		size_t len;
		const char *s = value_string(v, &len);
		json_put_string(out, s, len);
		break;
	}
	case VALUE_ARRAY:
		buf_putc(out, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_putc(out, ',');
			if (pretty)
				indent(out, depth + 1);
			write_value(out, value_at(v, i), pretty, depth + 1);
		}
		if (pretty && n)
			indent(out, depth);
		buf_putc(out, ']');
		break;
	case VALUE_TABLE:
		buf_putc(out, '{');
		for (size_t i = 0; i < n; i++) {
			const char *k = value_key_at(v, i, &klen);
			if (i)
				buf_putc(out, ',');
			if (pretty)
				indent(out, depth + 1);
			json_put_string(out, k, klen);
			buf_puts(out, pretty ? ": " : ":");
			write_value(out, value_at(v, i), pretty, depth + 1);
		}
		if (pretty && n)
			indent(out, depth);
		buf_putc(out, '}');
		break;
	}
}

void json_write(buf *out, const value *v, bool pretty)
{
	write_value(out, v, pretty, 0);
}
