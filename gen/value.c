/* value: typed value trees shared by TOML, JSON, front matter and
 * templates (see value.h). Tables keep keys in insertion order and are
 * searched linearly: the tables gen handles (configuration, front matter,
 * template data) are small, and order matters more than lookup speed. */
#include "value.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A key of up to KEY_INLINE bytes (most: "title", "url") is kept in the
 * entry itself; a longer one on the heap. Building a page's data makes
 * and frees thousands of entries, and that halves their allocations. */
#define KEY_INLINE 15

struct entry {
	union {
		char *heap;
		char in[KEY_INLINE + 1];
	} k;
	size_t klen;
	value *val;
};

static inline const char *entry_key(const struct entry *e)
{
	return e->klen <= KEY_INLINE ? e->k.in : e->k.heap;
}

static void entry_set_key(struct entry *e, const char *key, size_t klen)
{
	e->klen = klen;
	if (klen <= KEY_INLINE) {
		memcpy(e->k.in, key, klen);
		e->k.in[klen] = '\0';
	} else {
		e->k.heap = xstrndup(key, klen);
	}
}

static void entry_free_key(struct entry *e)
{
	if (e->klen > KEY_INLINE)
		free(e->k.heap);
}

/* A string's bytes follow the struct in the same allocation when it was
 * made with them (value_new_string); see str_inline. */
struct value {
	value_type type;
	int line, col;
	unsigned flags;
	const value *alias; /* value_new_alias: stands for this one, owns nothing */
	union {
		struct {
			char *s;
			size_t len;
		} str;
		int64_t i;
		double f;
		bool b;
		struct {
			value **items;
			size_t n, cap;
		} arr;
		struct {
			struct entry *e;
			size_t n, cap;
		} tab;
	} u;
};

/* An alias reads as the value it stands for. */
static inline const value *resolve(const value *v)
{
	return v && v->alias ? v->alias : v;
}

value *value_new_alias(const value *target)
{
	value *v = xcalloc(1, sizeof *v);
	target = resolve(target);
	v->type = target->type;
	v->line = target->line;
	v->col = target->col;
	v->alias = target;
	return v;
}

static bool is_text(value_type type)
{
	return type == VALUE_STRING || (type >= VALUE_DATETIME && type <= VALUE_TIME_LOCAL);
}

/* Whether v's string lives in v's own allocation, not on its own. */
static inline bool str_inline(const value *v)
{
	return v->u.str.s == (const char *)(v + 1);
}

value *value_new(value_type type)
{
	if (is_text(type)) {
		value *v = value_new_string("", 0);
		v->type = type;
		return v;
	}
	value *v = xcalloc(1, sizeof *v);
	v->type = type;
	return v;
}

value *value_new_table(void) { return value_new(VALUE_TABLE); }
value *value_new_array(void) { return value_new(VALUE_ARRAY); }

value *value_new_string(const char *s, size_t len)
{
	value *v = xmalloc(sizeof *v + len + 1);
	memset(v, 0, sizeof *v);
	v->type = VALUE_STRING;
	char *p = (char *)(v + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	v->u.str.s = p;
	v->u.str.len = len;
	return v;
}

value *value_new_cstring(const char *s)
{
	return value_new_string(s, strlen(s));
}

value *value_new_integer(int64_t i)
{
	value *v = value_new(VALUE_INTEGER);
	v->u.i = i;
	return v;
}

value *value_new_float(double f)
{
	value *v = value_new(VALUE_FLOAT);
	v->u.f = f;
	return v;
}

value *value_new_bool(bool b)
{
	value *v = value_new(VALUE_BOOL);
	v->u.b = b;
	return v;
}

value *value_new_datetime(value_type type, const char *text, size_t len)
{
	value *v = value_new_string(text, len);
	v->type = type;
	return v;
}

value *value_copy(const value *v)
{
	if (!v)
		return NULL;
	if (v->alias)
		return value_new_alias(v->alias);
	value *c;
	switch (v->type) {
	case VALUE_TABLE:
		/* The keys are unique already: no lookups while copying. */
		c = value_new_table();
		c->u.tab.cap = v->u.tab.n;
		c->u.tab.e = v->u.tab.n ? xmalloc(v->u.tab.n * sizeof *c->u.tab.e) : NULL;
		for (size_t i = 0; i < v->u.tab.n; i++) {
			const struct entry *e = &v->u.tab.e[i];
			entry_set_key(&c->u.tab.e[i], entry_key(e), e->klen);
			c->u.tab.e[i].val = value_copy(e->val);
		}
		c->u.tab.n = v->u.tab.n;
		break;
	case VALUE_ARRAY:
		c = value_new_array();
		for (size_t i = 0; i < v->u.arr.n; i++)
			value_push(c, value_copy(v->u.arr.items[i]));
		break;
	case VALUE_STRING:
	case VALUE_DATETIME:
	case VALUE_DATETIME_LOCAL:
	case VALUE_DATE_LOCAL:
	case VALUE_TIME_LOCAL:
		c = value_new_string(v->u.str.s, v->u.str.len);
		c->type = v->type;
		break;
	default:
		c = xmalloc(sizeof *c);
		*c = *v;
		break;
	}
	c->line = v->line;
	c->col = v->col;
	c->flags = v->flags;
	return c;
}

void value_free(value *v)
{
	if (!v)
		return;
	if (v->alias) {
		free(v);
		return;
	}
	switch (v->type) {
	case VALUE_TABLE:
		for (size_t i = 0; i < v->u.tab.n; i++) {
			entry_free_key(&v->u.tab.e[i]);
			value_free(v->u.tab.e[i].val);
		}
		free(v->u.tab.e);
		break;
	case VALUE_ARRAY:
		for (size_t i = 0; i < v->u.arr.n; i++)
			value_free(v->u.arr.items[i]);
		free(v->u.arr.items);
		break;
	case VALUE_STRING:
	case VALUE_DATETIME:
	case VALUE_DATETIME_LOCAL:
	case VALUE_DATE_LOCAL:
	case VALUE_TIME_LOCAL:
		if (!str_inline(v))
			free(v->u.str.s);
		break;
	default:
		break;
	}
	free(v);
}

value_type value_type_of(const value *v)
{
	return v ? v->type : VALUE_NULL;
}

bool value_is_alias(const value *v)
{
	return v && v->alias;
}

const char *value_type_name(value_type t)
{
	switch (t) {
	case VALUE_NULL: return "null";
	case VALUE_TABLE: return "table";
	case VALUE_ARRAY: return "array";
	case VALUE_STRING: return "string";
	case VALUE_INTEGER: return "integer";
	case VALUE_FLOAT: return "float";
	case VALUE_BOOL: return "bool";
	case VALUE_DATETIME: return "datetime";
	case VALUE_DATETIME_LOCAL: return "datetime-local";
	case VALUE_DATE_LOCAL: return "date-local";
	case VALUE_TIME_LOCAL: return "time-local";
	}
	return "unknown";
}

bool value_is_datetime(const value *v)
{
	v = resolve(v);
	return v && v->type >= VALUE_DATETIME && v->type <= VALUE_TIME_LOCAL;
}

int value_line(const value *v) { return v ? v->line : 0; }
int value_col(const value *v) { return v ? v->col : 0; }

void value_set_pos(value *v, int line, int col)
{
	v->line = line;
	v->col = col;
}

unsigned value_flags(const value *v) { return v ? v->flags : 0; }
void value_set_flags(value *v, unsigned flags) { v->flags = flags; }

const char *value_string(const value *v, size_t *len)
{
	v = resolve(v);
	if (v && (v->type == VALUE_STRING || value_is_datetime(v))) {
		if (len)
			*len = v->u.str.len;
		return v->u.str.s;
	}
	if (len)
		*len = 0;
	return "";
}

int64_t value_integer(const value *v)
{
	v = resolve(v);
	if (!v)
		return 0;
	if (v->type == VALUE_INTEGER)
		return v->u.i;
	if (v->type == VALUE_FLOAT)
		return (int64_t)v->u.f;
	return 0;
}

double value_float(const value *v)
{
	v = resolve(v);
	if (!v)
		return 0;
	if (v->type == VALUE_FLOAT)
		return v->u.f;
	if (v->type == VALUE_INTEGER)
		return (double)v->u.i;
	return 0;
}

bool value_bool(const value *v)
{
	v = resolve(v);
	return v && v->type == VALUE_BOOL && v->u.b;
}

size_t value_count(const value *v)
{
	v = resolve(v);
	if (!v)
		return 0;
	if (v->type == VALUE_TABLE)
		return v->u.tab.n;
	if (v->type == VALUE_ARRAY)
		return v->u.arr.n;
	return 0;
}

value *value_at(const value *v, size_t i)
{
	v = resolve(v);
	if (!v)
		return NULL;
	if (v->type == VALUE_ARRAY)
		return i < v->u.arr.n ? v->u.arr.items[i] : NULL;
	if (v->type == VALUE_TABLE)
		return i < v->u.tab.n ? v->u.tab.e[i].val : NULL;
	return NULL;
}

const char *value_key_at(const value *v, size_t i, size_t *klen)
{
	v = resolve(v);
	if (!v || v->type != VALUE_TABLE || i >= v->u.tab.n)
		return NULL;
	if (klen)
		*klen = v->u.tab.e[i].klen;
	return entry_key(&v->u.tab.e[i]);
}

static struct entry *find(const value *v, const char *key, size_t klen)
{
	v = resolve(v);
	if (!v || v->type != VALUE_TABLE)
		return NULL;
	for (size_t i = 0; i < v->u.tab.n; i++) {
		struct entry *e = &v->u.tab.e[i];
		if (e->klen == klen && (!klen || entry_key(e)[0] == key[0]) &&
		    memcmp(entry_key(e), key, klen) == 0)
			return e;
	}
	return NULL;
}

value *value_getn(const value *v, const char *key, size_t klen)
{
	struct entry *e = find(v, key, klen);
	return e ? e->val : NULL;
}

value *value_get(const value *v, const char *key)
{
	return value_getn(v, key, strlen(key));
}

value *value_get_path(const value *root, const char *path)
{
	const char *p = path;
	value *v = (value *)root; /* the tree is the caller's; we only walk it */
	while (v) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		v = value_getn(v, p, n);
		if (!dot)
			return v;
		p = dot + 1;
	}
	return NULL;
}

void value_set(value *t, const char *key, size_t klen, value *child)
{
	if (t->alias) { /* read-only: the value belongs to someone else */
		value_free(child);
		return;
	}
	struct entry *e = find(t, key, klen);
	if (e) {
		value_free(e->val);
		e->val = child;
		return;
	}
	if (t->u.tab.n == t->u.tab.cap) {
		t->u.tab.cap = t->u.tab.cap ? t->u.tab.cap * 2 : 4;
		t->u.tab.e = xrealloc(t->u.tab.e, t->u.tab.cap * sizeof *t->u.tab.e);
	}
	e = &t->u.tab.e[t->u.tab.n++];
	entry_set_key(e, key, klen);
	e->val = child;
}

void value_set_cstr(value *t, const char *key, value *child)
{
	value_set(t, key, strlen(key), child);
}

bool value_remove(value *t, const char *key)
{
	if (t->alias)
		return false;
	struct entry *e = find(t, key, strlen(key));
	if (!e)
		return false;
	entry_free_key(e);
	value_free(e->val);
	size_t i = (size_t)(e - t->u.tab.e);
	memmove(e, e + 1, (t->u.tab.n - i - 1) * sizeof *e);
	t->u.tab.n--;
	return true;
}

void value_push(value *a, value *child)
{
	if (a->alias) {
		value_free(child);
		return;
	}
	if (a->u.arr.n == a->u.arr.cap) {
		a->u.arr.cap = a->u.arr.cap ? a->u.arr.cap * 2 : 4;
		a->u.arr.items = xrealloc(a->u.arr.items,
					  a->u.arr.cap * sizeof *a->u.arr.items);
	}
	a->u.arr.items[a->u.arr.n++] = child;
}

const char *value_get_string(const value *t, const char *key, const char *dflt)
{
	const value *v = value_get(t, key);
	if (!v || v->type != VALUE_STRING)
		return dflt;
	return v->u.str.s;
}

static int digits(const char *s, size_t len, size_t at, size_t n, int *out)
{
	if (at + n > len)
		return -1;
	int x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[at + i]))
			return -1;
		x = x * 10 + (s[at + i] - '0');
	}
	*out = x;
	return 0;
}

int value_datetime_parse(const char *s, size_t len, value_datetime *dt)
{
	memset(dt, 0, sizeof *dt);
	size_t p = 0;
	if (len >= 10 && s[4] == '-' && s[7] == '-') {
		if (digits(s, len, 0, 4, &dt->year) || digits(s, len, 5, 2, &dt->month) ||
		    digits(s, len, 8, 2, &dt->day))
			return -1;
		if (dt->month < 1 || dt->month > 12 || dt->day < 1 || dt->day > 31)
			return -1;
		dt->has_date = true;
		p = 10;
		if (p == len)
			return 0;
		if (s[p] != 'T' && s[p] != 't' && s[p] != ' ')
			return -1;
		p++;
	}
	if (digits(s, len, p, 2, &dt->hour) || p + 2 >= len || s[p + 2] != ':' ||
	    digits(s, len, p + 3, 2, &dt->minute))
		return -1;
	p += 5;
	if (p < len && s[p] == ':') {
		if (digits(s, len, p + 1, 2, &dt->second))
			return -1;
		p += 3;
	}
	if (p < len && s[p] == '.') {
		p++;
		long scale = 100000000;
		size_t start = p;
		while (p < len && isdigit((unsigned char)s[p])) {
			dt->nanosecond += (s[p] - '0') * scale;
			scale /= 10;
			p++;
		}
		if (p == start)
			return -1;
	}
	if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
		return -1;
	dt->has_time = true;
	if (p == len)
		return 0;
	if (s[p] == 'Z' || s[p] == 'z') {
		dt->has_offset = true;
		return p + 1 == len ? 0 : -1;
	}
	if (s[p] == '+' || s[p] == '-') {
		int oh, om;
		if (digits(s, len, p + 1, 2, &oh) || p + 3 >= len || s[p + 3] != ':' ||
		    digits(s, len, p + 4, 2, &om) || p + 6 != len)
			return -1;
		dt->offset_min = (oh * 60 + om) * (s[p] == '-' ? -1 : 1);
		dt->has_offset = true;
		return 0;
	}
	return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t value_datetime_epoch(const value_datetime *dt)
{
	int64_t days = dt->has_date ? days_from_civil(dt->year, dt->month, dt->day) : 0;
	return days * 86400 + dt->hour * 3600 + dt->minute * 60 + dt->second -
	       (int64_t)dt->offset_min * 60;
}

/* ---- frozen values, for the build cache ---- */

void value_freeze(const value *v, buf *out)
{
	v = resolve(v);
	buf_put_varint(out, (uint64_t)v->type);
	buf_put_varint(out, (uint64_t)(v->line < 0 ? 0 : v->line));
	buf_put_varint(out, (uint64_t)(v->col < 0 ? 0 : v->col));
	buf_put_varint(out, v->flags);
	switch (v->type) {
	case VALUE_TABLE:
		buf_put_varint(out, v->u.tab.n);
		for (size_t i = 0; i < v->u.tab.n; i++) {
			buf_put_blob(out, entry_key(&v->u.tab.e[i]), v->u.tab.e[i].klen);
			value_freeze(v->u.tab.e[i].val, out);
		}
		break;
	case VALUE_ARRAY:
		buf_put_varint(out, v->u.arr.n);
		for (size_t i = 0; i < v->u.arr.n; i++)
			value_freeze(v->u.arr.items[i], out);
		break;
	case VALUE_INTEGER:
		buf_put_varint(out, (uint64_t)v->u.i);
		break;
	case VALUE_FLOAT: {
		uint64_t bits;
		memcpy(&bits, &v->u.f, sizeof bits);
		buf_put_varint(out, bits);
		break;
	}
	case VALUE_BOOL:
		buf_put_varint(out, v->u.b);
		break;
	case VALUE_NULL:
		break;
	default: /* strings and date-times */
		buf_put_blob(out, v->u.str.s, v->u.str.len);
		break;
	}
}

/* Nesting deeper than this is not something gen wrote. */
#define THAW_DEPTH 200

static value *thaw(buf_reader *r, int depth)
{
	uint64_t type = buf_get_varint(r);
	if (r->bad || type > VALUE_TIME_LOCAL || depth > THAW_DEPTH) {
		r->bad = true;
		return NULL;
	}
	value *v = value_new((value_type)type);
	v->line = (int)buf_get_varint(r);
	v->col = (int)buf_get_varint(r);
	v->flags = (unsigned)buf_get_varint(r);
	switch (v->type) {
	case VALUE_TABLE: {
		uint64_t n = buf_get_varint(r);
		for (uint64_t i = 0; i < n && !r->bad; i++) {
			size_t klen;
			const char *key = buf_get_blob(r, &klen);
			value *child = thaw(r, depth + 1);
			if (!child || !key)
				break;
			/* Appended as written: keys were unique when frozen. */
			if (v->u.tab.n == v->u.tab.cap) {
				v->u.tab.cap = v->u.tab.cap ? 2 * v->u.tab.cap : 8;
				v->u.tab.e = xrealloc(v->u.tab.e, v->u.tab.cap * sizeof *v->u.tab.e);
			}
			struct entry *e = &v->u.tab.e[v->u.tab.n++];
			entry_set_key(e, key, klen);
			e->val = child;
		}
		break;
	}
	case VALUE_ARRAY: {
		uint64_t n = buf_get_varint(r);
		for (uint64_t i = 0; i < n && !r->bad; i++) {
			value *child = thaw(r, depth + 1);
			if (!child)
				break;
			value_push(v, child);
		}
		break;
	}
	case VALUE_INTEGER:
		v->u.i = (int64_t)buf_get_varint(r);
		break;
	case VALUE_FLOAT: {
		uint64_t bits = buf_get_varint(r);
		memcpy(&v->u.f, &bits, sizeof bits);
		break;
	}
	case VALUE_BOOL:
		v->u.b = buf_get_varint(r) != 0;
		break;
	case VALUE_NULL:
		break;
	default: {
		size_t len;
		const char *s = buf_get_blob(r, &len);
		if (s) {
			value *t = value_new_string(s, len);
			t->type = v->type;
			t->line = v->line;
			t->col = v->col;
			t->flags = v->flags;
			value_free(v);
			v = t;
		}
		break;
	}
	}
	if (r->bad) {
		value_free(v);
		return NULL;
	}
	return v;
}

value *value_thaw(buf_reader *r)
{
	return thaw(r, 0);
}

/* value_hash feeds one running state word by word rather than hashing
 * each node on its own: a page's data is thousands of small strings. */
typedef struct hasher {
	uint64_t h;
} hasher;

static void feed_word(hasher *st, uint64_t w)
{
	st->h ^= w * 0xff51afd7ed558ccdu;
	st->h = (st->h << 29) | (st->h >> 35);
	st->h *= 0xc4ceb9fe1a85ec53u;
}

static void feed(hasher *st, const void *data, size_t len)
{
	const unsigned char *p = data;
	feed_word(st, len);
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		feed_word(st, w);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t t = 0;
		for (size_t i = 0; i < len; i++)
			t |= (uint64_t)p[i] << (8 * i);
		feed_word(st, t);
	}
}

static void hash_value(hasher *st, const value *v)
{
	v = resolve(v);
	feed_word(st, v ? (uint64_t)v->type + 1 : 0);
	if (!v)
		return;
	switch (v->type) {
	case VALUE_TABLE:
		feed_word(st, v->u.tab.n);
		for (size_t i = 0; i < v->u.tab.n; i++) {
			feed(st, entry_key(&v->u.tab.e[i]), v->u.tab.e[i].klen);
			hash_value(st, v->u.tab.e[i].val);
		}
		return;
	case VALUE_ARRAY:
		feed_word(st, v->u.arr.n);
		for (size_t i = 0; i < v->u.arr.n; i++)
			hash_value(st, v->u.arr.items[i]);
		return;
	case VALUE_INTEGER:
		feed_word(st, (uint64_t)v->u.i);
		return;
	case VALUE_FLOAT: {
		uint64_t bits;
		memcpy(&bits, &v->u.f, sizeof bits);
		feed_word(st, bits);
		return;
	}
	case VALUE_BOOL:
		feed_word(st, v->u.b);
		return;
	case VALUE_NULL:
		return;
	default:
		feed(st, v->u.str.s, v->u.str.len);
		return;
	}
}

uint64_t value_hash(const value *v, uint64_t h)
{
	hasher st = { h ^ 0x9e3779b97f4a7c15u };
	hash_value(&st, v);
	/* The end result mixed once, as buf_hash64 does. */
	return buf_hash64(&st.h, sizeof st.h, h);
}
