/* frontmatter: finds the metadata block at the top of an article, parses
 * it (TOML through toml_parse, YAML through libyaml's event API) into a
 * value tree, and checks the keys gen knows into typed fields (see
 * frontmatter.h).
 *
 * This is the only file that includes yaml.h. libyaml's parser gives
 * events, not a typed tree, so the YAML half here resolves plain scalars
 * the way the YAML 1.2 core schema does, follows aliases by copying (with
 * a cap, so a few lines cannot expand into billions of values), and
 * rejects duplicate keys, which libyaml lets through. Everything lives on
 * the stack or in the result: documents are parsed on worker threads. */
#include "frontmatter.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "toml.h"
#include "xalloc.h"

enum {
	MAX_DEPTH = 64,        /* nesting of YAML sequences and mappings */
	MAX_EXPANSION = 10000, /* values that aliases may add to one document */
};

/* ---- dates ---- */

static int days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

/* The n digits at s as a number, or -1 when one of them is not a digit. */
static int num(const char *s, size_t n)
{
	int x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	return x;
}

/* Recognises YYYY-MM-DD and YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|+HH:MM],
 * every field in range (29 February only in leap years). Returns the kind
 * of date, or VALUE_NULL when s is not one. value_datetime_parse is more
 * lenient (no day-of-month check, seconds optional), so this is the gate. */
static value_type date_kind(const char *s, size_t len)
{
	if (len < 10 || s[4] != '-' || s[7] != '-')
		return VALUE_NULL;
	int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return VALUE_NULL;
	if (len == 10)
		return VALUE_DATE_LOCAL;
	if (len < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return VALUE_NULL;
	int hh = num(s + 11, 2), mm = num(s + 14, 2), ss = num(s + 17, 2);
	/* 60 seconds: RFC 3339 allows a leap second */
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return VALUE_NULL;
	size_t p = 19;
	if (p < len && s[p] == '.') {
		size_t start = ++p;
		while (p < len && s[p] >= '0' && s[p] <= '9')
			p++;
		if (p == start)
			return VALUE_NULL;
	}
	if (p == len)
		return VALUE_DATETIME_LOCAL;
	if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == len)
		return VALUE_DATETIME;
	if ((s[p] == '+' || s[p] == '-') && p + 6 == len && s[p + 3] == ':') {
		int oh = num(s + p + 1, 2), om = num(s + p + 4, 2);
		if (oh >= 0 && oh <= 23 && om >= 0 && om <= 59)
			return VALUE_DATETIME;
	}
	return VALUE_NULL;
}

/* A copy of a date that date_kind accepted, in RFC 3339's preferred
 * spelling: 'T' between date and time, upper-case 'Z'. Caller frees. */
static char *date_normalise(const char *s, size_t len)
{
	char *d = xstrndup(s, len);
	if (len > 10)
		d[10] = 'T';
	if (d[len - 1] == 'z')
		d[len - 1] = 'Z';
	return d;
}

/* ---- YAML ---- */

struct anchor {
	char *name;
	value *v;    /* owned copy of the anchored value */
	size_t size; /* number of values in v */
};

struct yaml_load {
	yaml_parser_t parser;
	const char *path;
	const char *text; /* the block, for positions of reader errors */
	size_t len;
	int line0; /* file line of the block's first line */
	gen_err *err;
	struct anchor *anchors;
	size_t nanchors, cap;
	size_t expanded; /* values added by aliases so far */
	int depth;
};

static int mark_line(const struct yaml_load *y, yaml_mark_t m)
{
	return (int)m.line + y->line0;
}

static int mark_col(yaml_mark_t m)
{
	return (int)m.column + 1;
}

static void set_mark(value *v, const struct yaml_load *y, yaml_mark_t m)
{
	value_set_pos(v, mark_line(y, m), mark_col(m));
}

/* Turns libyaml's error state into a gen_err at the file position. */
static int syntax_error(struct yaml_load *y)
{
	const yaml_parser_t *p = &y->parser;
	int line = y->line0, col = 1;
	char msg[256];

	if (p->error == YAML_READER_ERROR) {
		/* reader errors (bad UTF-8) carry a byte offset, not a mark */
		for (size_t i = 0; i < p->problem_offset && i < y->len; i++) {
			if (y->text[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
	} else {
		line = mark_line(y, p->problem_mark);
		col = mark_col(p->problem_mark);
	}
	if (p->error == YAML_MEMORY_ERROR)
		snprintf(msg, sizeof msg, "out of memory");
	else
		snprintf(msg, sizeof msg, "%s", p->problem ? p->problem : "malformed yaml");
	for (char *c = msg; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return err_set(y->err, GEN_EPARSE, y->path, line, col, "%s", msg);
}

static int next(struct yaml_load *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->parser, ev))
		return syntax_error(y);
	return 0;
}

static size_t count_values(const value *v)
{
	size_t n = 1;
	value_type t = value_type_of(v);
	if (t == VALUE_TABLE || t == VALUE_ARRAY)
		for (size_t i = 0; i < value_count(v); i++)
			n += count_values(value_at(v, i));
	return n;
}

/* Keeps a copy of v under name; a later anchor of the same name wins, as
 * YAML says. */
static void remember(struct yaml_load *y, const char *name, const value *v)
{
	struct anchor *a = NULL;
	for (size_t i = 0; i < y->nanchors; i++)
		if (strcmp(y->anchors[i].name, name) == 0)
			a = &y->anchors[i];
	if (!a) {
		if (y->nanchors == y->cap) {
			y->cap = y->cap ? y->cap * 2 : 4;
			y->anchors = xrealloc(y->anchors, y->cap * sizeof *y->anchors);
		}
		a = &y->anchors[y->nanchors++];
		a->name = xstrdup(name);
		a->v = NULL;
	}
	value_free(a->v);
	a->v = value_copy(v);
	a->size = count_values(a->v);
}

static const struct anchor *lookup(const struct yaml_load *y, const char *name)
{
	for (size_t i = 0; i < y->nanchors; i++)
		if (strcmp(y->anchors[i].name, name) == 0)
			return &y->anchors[i];
	return NULL;
}

static bool is_null(const char *s, size_t n)
{
	return n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* 1 for true, 0 for false, -1 for anything else. */
static int bool_word(const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return 0;
	return -1;
}

/* Core schema integers: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+. Returns 1
 * with *out set, 0 when s is not an integer, -1 when it is one that does
 * not fit in 64 bits. */
static int parse_int(const char *s, size_t n, int64_t *out)
{
	size_t p = 0;
	int base = 10;
	bool neg = false, overflow = false;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		p = 2;
	} else if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		p = 1;
	}
	if (p == n)
		return 0;
	uint64_t x = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < n; p++) {
		int d = buf_hex_digit(s[p]);
		if (d < 0 || d >= base)
			return 0;
		if (x > (limit - (uint64_t)d) / (uint64_t)base)
			overflow = true;
		else
			x = x * (uint64_t)base + (uint64_t)d;
	}
	if (overflow)
		return -1;
	if (neg)
		*out = x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
	else
		*out = (int64_t)x;
	return 1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Core schema floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s, size_t n)
{
	size_t p = 0, digits = 0;
	if (p < n && (s[p] == '-' || s[p] == '+'))
		p++;
	for (; p < n && is_digit(s[p]); p++)
		digits++;
	if (p < n && s[p] == '.')
		for (p++; p < n && is_digit(s[p]); p++)
			digits++;
	if (digits == 0)
		return false;
	if (p < n && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < n && (s[p] == '-' || s[p] == '+'))
			p++;
		size_t start = p;
		while (p < n && is_digit(s[p]))
			p++;
		if (p == start)
			return false;
	}
	return p == n;
}

/* strtod in the C locale: the program's locale may want a decimal comma.
 * uselocale only changes this thread. */
static double c_strtod(const char *s)
{
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	locale_t old = c ? uselocale(c) : (locale_t)0;
	double d = strtod(s, NULL);
	if (c) {
		uselocale(old);
		freelocale(c);
	}
	return d;
}

/* Resolves a plain (unquoted) scalar like the YAML 1.2 core schema, with
 * dates added: null, bool, integer, float, date, else string. s is
 * NUL-terminated (libyaml's buffer). */
static int resolve_plain(struct yaml_load *y, const yaml_event_t *ev,
			 const char *s, size_t n, value **out)
{
	int64_t i;
	int b;
	value_type dk;

	*out = NULL;
	if (is_null(s, n)) {
		*out = value_new(VALUE_NULL);
	} else if ((b = bool_word(s)) >= 0) {
		*out = value_new_bool(b);
	} else if ((b = parse_int(s, n, &i)) != 0) {
		if (b < 0)
			return err_set(y->err, GEN_EPARSE, y->path,
				       mark_line(y, ev->start_mark),
				       mark_col(ev->start_mark),
				       "integer '%s' is out of range", s);
		*out = value_new_integer(i);
	} else if (is_float(s, n)) {
		*out = value_new_float(c_strtod(s));
	} else if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
		*out = value_new_float(NAN);
	} else if (n >= 4 && (!strcmp(s + n - 4, ".inf") || !strcmp(s + n - 4, ".Inf") ||
			      !strcmp(s + n - 4, ".INF")) &&
		   (n == 4 || (n == 5 && (s[0] == '-' || s[0] == '+')))) {
		*out = value_new_float(s[0] == '-' ? -INFINITY : INFINITY);
	} else if ((dk = date_kind(s, n)) != VALUE_NULL) {
		char *d = date_normalise(s, n);
		*out = value_new_datetime(dk, d, n);
		free(d);
	} else {
		*out = value_new_string(s, n);
	}
	return 0;
}

static int load_scalar(struct yaml_load *y, const yaml_event_t *ev, value **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	int rc = 0;

	/* quoted scalars and those tagged `!` or `!!str` are strings; other
	 * tags are not ours to interpret, so the text decides */
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    (tag && (!strcmp(tag, "!") || !strcmp(tag, YAML_STR_TAG))))
		*out = value_new_string(s, n);
	else
		rc = resolve_plain(y, ev, s, n, out);
	if (rc == 0)
		set_mark(*out, y, ev->start_mark);
	return rc;
}

static int load_alias(struct yaml_load *y, const yaml_event_t *ev, value **out)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a = lookup(y, name);

	*out = NULL;
	if (!a)
		return err_set(y->err, GEN_EPARSE, y->path, mark_line(y, ev->start_mark),
			       mark_col(ev->start_mark), "unknown alias '%s'", name);
	/* every alias copies, so nested aliases grow exponentially: cap the
	 * total before copying rather than after */
	if (a->size > MAX_EXPANSION - y->expanded)
		return err_set(y->err, GEN_EPARSE, y->path, mark_line(y, ev->start_mark),
			       mark_col(ev->start_mark),
			       "aliases expand to more than %d values", MAX_EXPANSION);
	y->expanded += a->size;
	*out = value_copy(a->v);
	set_mark(*out, y, ev->start_mark);
	return 0;
}

static int load_node(struct yaml_load *y, const yaml_event_t *ev, value **out);

/* The text of a scalar used as a key through an alias. */
static int key_text(struct yaml_load *y, const yaml_event_t *ev, const value *v, buf *key)
{
	switch (value_type_of(v)) {
	case VALUE_INTEGER:
		buf_printf(key, "%" PRId64, value_integer(v));
		return 0;
	case VALUE_FLOAT:
		buf_printf(key, "%g", value_float(v));
		return 0;
	case VALUE_BOOL:
		buf_puts(key, value_bool(v) ? "true" : "false");
		return 0;
	case VALUE_NULL:
		buf_puts(key, "null");
		return 0;
	case VALUE_TABLE:
	case VALUE_ARRAY:
		return err_set(y->err, GEN_EPARSE, y->path, mark_line(y, ev->start_mark),
			       mark_col(ev->start_mark), "mapping keys must be scalars");
	default: {
		size_t n;
		const char *s = value_string(v, &n);
		buf_put(key, s, n);
		return 0;
	}
	}
}

/* Reads the key of a mapping entry as text: non-string keys (`1:`,
 * `true:`) are taken as written. */
static int load_key(struct yaml_load *y, const yaml_event_t *ev, buf *key)
{
	value *v = NULL;
	int rc = 0;

	if (ev->type == YAML_SCALAR_EVENT) {
		buf_put(key, ev->data.scalar.value, ev->data.scalar.length);
		if (ev->data.scalar.anchor) {
			/* the anchor is reused as a value, so resolve it as one */
			if ((rc = load_scalar(y, ev, &v)) < 0)
				goto out;
			remember(y, (const char *)ev->data.scalar.anchor, v);
		}
	} else if (ev->type == YAML_ALIAS_EVENT) {
		if ((rc = load_alias(y, ev, &v)) < 0)
			goto out;
		rc = key_text(y, ev, v, key);
	} else {
		rc = err_set(y->err, GEN_EPARSE, y->path, mark_line(y, ev->start_mark),
			     mark_col(ev->start_mark), "mapping keys must be scalars");
	}
out:
	value_free(v);
	return rc;
}

static int load_mapping(struct yaml_load *y, const yaml_event_t *start, value **out)
{
	value *t = value_new_table();
	value *child = NULL;
	buf key = BUF_INIT;
	yaml_event_t ev;
	int rc = 0;

	set_mark(t, y, start->start_mark);
	for (;;) {
		if ((rc = next(y, &ev)) < 0)
			goto out;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		buf_clear(&key);
		rc = load_key(y, &ev, &key);
		if (rc == 0 && value_getn(t, key.ptr, key.len))
			rc = err_set(y->err, GEN_EPARSE, y->path, mark_line(y, ev.start_mark),
				     mark_col(ev.start_mark), "duplicate key '%s'", key.ptr);
		yaml_event_delete(&ev);
		if (rc < 0)
			goto out;

		if ((rc = next(y, &ev)) < 0)
			goto out;
		rc = load_node(y, &ev, &child);
		yaml_event_delete(&ev);
		if (rc < 0)
			goto out;
		value_set(t, key.ptr, key.len, child);
		child = NULL;
	}
	*out = t;
	t = NULL;
out:
	value_free(t);
	buf_release(&key);
	return rc;
}

static int load_sequence(struct yaml_load *y, const yaml_event_t *start, value **out)
{
	value *a = value_new_array();
	value *child = NULL;
	yaml_event_t ev;
	int rc = 0;

	set_mark(a, y, start->start_mark);
	for (;;) {
		if ((rc = next(y, &ev)) < 0)
			goto out;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		rc = load_node(y, &ev, &child);
		yaml_event_delete(&ev);
		if (rc < 0)
			goto out;
		value_push(a, child);
		child = NULL;
	}
	*out = a;
	a = NULL;
out:
	value_free(a);
	return rc;
}

/* Builds the value for the node that starts with ev (the caller still
 * owns and deletes ev). */
static int load_node(struct yaml_load *y, const yaml_event_t *ev, value **out)
{
	const yaml_char_t *anchor = NULL;
	int rc;

	*out = NULL;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return load_alias(y, ev, out);
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		rc = load_scalar(y, ev, out);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		/* recursion follows nesting: bound it, worker stacks are small */
		if (y->depth >= MAX_DEPTH)
			return err_set(y->err, GEN_EPARSE, y->path,
				       mark_line(y, ev->start_mark), mark_col(ev->start_mark),
				       "front matter nests deeper than %d levels", MAX_DEPTH);
		y->depth++;
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = ev->data.sequence_start.anchor;
			rc = load_sequence(y, ev, out);
		} else {
			anchor = ev->data.mapping_start.anchor;
			rc = load_mapping(y, ev, out);
		}
		y->depth--;
		break;
	default:
		/* libyaml's grammar makes this unreachable */
		return err_set(y->err, GEN_EPARSE, y->path, mark_line(y, ev->start_mark),
			       mark_col(ev->start_mark), "unexpected yaml event");
	}
	if (rc == 0 && anchor)
		remember(y, (const char *)anchor, *out);
	return rc;
}

/* Parses the YAML block (which starts on file line line0) into a table. */
static int parse_yaml(value **out, const char *text, size_t len, const char *path,
		      int line0, gen_err *err)
{
	struct yaml_load y;
	yaml_event_t ev;
	value *root = NULL;
	int rc = 0;

	*out = NULL;
	memset(&y, 0, sizeof y);
	if (!yaml_parser_initialize(&y.parser))
		return err_set(err, GEN_EPARSE, path, line0, 1, "out of memory");
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&y.parser, YAML_UTF8_ENCODING);
	y.path = path;
	y.text = text;
	y.len = len;
	y.line0 = line0;
	y.err = err;

	if ((rc = next(&y, &ev)) < 0) /* stream start */
		goto out;
	yaml_event_delete(&ev);
	if ((rc = next(&y, &ev)) < 0)
		goto out;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		yaml_event_delete(&ev);
		if ((rc = next(&y, &ev)) < 0)
			goto out;
		rc = load_node(&y, &ev, &root);
		yaml_event_delete(&ev);
		if (rc < 0)
			goto out;
		if ((rc = next(&y, &ev)) < 0) /* document end */
			goto out;
		yaml_event_delete(&ev);
		if ((rc = next(&y, &ev)) < 0)
			goto out;
		if (ev.type != YAML_STREAM_END_EVENT) {
			rc = err_set(err, GEN_EPARSE, path, mark_line(&y, ev.start_mark),
				     mark_col(ev.start_mark),
				     "front matter holds more than one yaml document");
			yaml_event_delete(&ev);
			goto out;
		}
	}
	yaml_event_delete(&ev);

	/* only comments, or a lone `~`: no keys, so title will be missing */
	if (value_type_of(root) == VALUE_NULL) {
		value_free(root);
		root = value_new_table();
		value_set_pos(root, line0, 1);
	} else if (value_type_of(root) != VALUE_TABLE) {
		rc = err_set(err, GEN_ECONTENT, path, value_line(root), value_col(root),
			     "front matter must be a mapping of keys, not %s",
			     value_type_name(value_type_of(root)));
		goto out;
	}
	*out = root;
	root = NULL;
out:
	value_free(root);
	for (size_t i = 0; i < y.nanchors; i++) {
		free(y.anchors[i].name);
		value_free(y.anchors[i].v);
	}
	free(y.anchors);
	yaml_parser_delete(&y.parser);
	return rc;
}

/* ---- known keys ---- */

static int wrong_type(const value *v, const char *key, const char *want,
		      const char *path, gen_err *err)
{
	return err_set(err, GEN_ECONTENT, path, value_line(v), value_col(v),
		       "'%s' must be %s, not %s", key, want,
		       value_type_name(value_type_of(v)));
}

/* Absent and null (YAML `key:` with nothing after it) both mean unset. */
static const value *get(const value *meta, const char *key)
{
	const value *v = value_get(meta, key);
	return value_type_of(v) == VALUE_NULL ? NULL : v;
}

static int get_string(const value *meta, const char *key, char **out,
		      const char *path, gen_err *err)
{
	const value *v = get(meta, key);
	if (!v)
		return 0;
	if (value_type_of(v) != VALUE_STRING)
		return wrong_type(v, key, "a string", path, err);
	*out = xstrdup(value_string(v, NULL));
	return 0;
}

/* Fills *items one string at a time so that whatever was filled before a
 * wrong item can still be released. */
static int get_strings(const value *meta, const char *key, char ***items, size_t *n,
		       const char *path, gen_err *err)
{
	const value *v = get(meta, key);
	if (!v)
		return 0;
	if (value_type_of(v) != VALUE_ARRAY)
		return wrong_type(v, key, "an array of strings", path, err);
	size_t count = value_count(v);
	if (count == 0)
		return 0;
	*items = xcalloc(count, sizeof **items);
	for (size_t i = 0; i < count; i++) {
		const value *item = value_at(v, i);
		if (value_type_of(item) != VALUE_STRING)
			return wrong_type(item, key, "an array of strings", path, err);
		(*items)[(*n)++] = xstrdup(value_string(item, NULL));
	}
	return 0;
}

static bool is_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

static int check_title(frontmatter *fm, const value *meta, const char *path, gen_err *err)
{
	const value *v = value_get(meta, "title");
	if (!v)
		return err_set(err, GEN_ECONTENT, path, 1, 1, "missing 'title' in front matter");
	if (value_type_of(v) != VALUE_STRING && value_type_of(v) != VALUE_NULL)
		return wrong_type(v, "title", "a string", path, err);
	if (is_blank(value_string(v, NULL)))
		return err_set(err, GEN_ECONTENT, path, value_line(v), value_col(v),
			       "'title' is empty");
	fm->title = xstrdup(value_string(v, NULL));
	return 0;
}

static int check_kind(frontmatter *fm, const value *meta, const char *path, gen_err *err)
{
	const value *v = get(meta, "kind");
	if (!v)
		return 0;
	if (value_type_of(v) != VALUE_STRING)
		return wrong_type(v, "kind", "a string", path, err);
	const char *s = value_string(v, NULL);
	if (!strcmp(s, "story"))
		fm->kind = KIND_STORY;
	else if (!strcmp(s, "tips"))
		fm->kind = KIND_TIPS;
	else if (!strcmp(s, "page"))
		fm->kind = KIND_PAGE;
	else
		return err_set(err, GEN_ECONTENT, path, value_line(v), value_col(v),
			       "unknown kind '%s' (expected story, tips or page)", s);
	return 0;
}

/* A TOML date, date-time or local date-time, or a string spelling one
 * (YAML users quote dates, and JSON-minded ones write strings). */
static int check_date(frontmatter *fm, const value *meta, const char *path, gen_err *err)
{
	const value *v = get(meta, "date");
	value_type t = value_type_of(v);
	value_datetime dt;

	if (!v)
		return 0;
	if (t != VALUE_STRING && t != VALUE_DATE_LOCAL && t != VALUE_DATETIME &&
	    t != VALUE_DATETIME_LOCAL)
		return wrong_type(v, "date", "a date", path, err);
	size_t n;
	const char *s = value_string(v, &n);
	if (date_kind(s, n) == VALUE_NULL || value_datetime_parse(s, n, &dt) < 0)
		return err_set(err, GEN_ECONTENT, path, value_line(v), value_col(v),
			       "malformed date '%s' (expected one like 2015-03-12, or "
			       "2015-03-12T09:30:00+01:00)",
			       s);
	fm->date = date_normalise(s, n);
	fm->date_epoch = value_datetime_epoch(&dt);
	return 0;
}

static int check_keys(frontmatter *fm, const value *meta, const char *path, gen_err *err)
{
	const value *v;
	int rc;

	if ((rc = check_title(fm, meta, path, err)) < 0 ||
	    (rc = check_kind(fm, meta, path, err)) < 0 ||
	    (rc = check_date(fm, meta, path, err)) < 0 ||
	    (rc = get_string(meta, "author", &fm->author, path, err)) < 0 ||
	    (rc = get_string(meta, "summary", &fm->summary, path, err)) < 0 ||
	    (rc = get_strings(meta, "themes", &fm->themes, &fm->nthemes, path, err)) < 0 ||
	    (rc = get_strings(meta, "aliases", &fm->aliases, &fm->naliases, path, err)) < 0)
		return rc;
	if ((v = get(meta, "draft"))) {
		if (value_type_of(v) != VALUE_BOOL)
			return wrong_type(v, "draft", "a bool", path, err);
		fm->draft = value_bool(v);
	}
	if ((v = get(meta, "weight"))) {
		if (value_type_of(v) != VALUE_INTEGER)
			return wrong_type(v, "weight", "an integer", path, err);
		fm->weight = value_integer(v);
	}
	return 0;
}

/* ---- the block ---- */

/* Offset of the '\n' ending the line that starts at p, or len. */
static size_t line_end(const char *text, size_t len, size_t p)
{
	const char *nl = memchr(text + p, '\n', len - p);
	return nl ? (size_t)(nl - text) : len;
}

/* Whether the line s[0..n) is fence, give or take trailing blanks and the
 * CR of a CRLF file. */
static bool is_fence(const char *s, size_t n, const char *fence)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return n == 3 && memcmp(s, fence, 3) == 0;
}

int frontmatter_parse(frontmatter *out, const char *path, const char *text,
		      size_t len, gen_err *err)
{
	const char *fence = NULL;
	size_t p = 0, e = 0, start;
	int line = 2, rc = 0;

	memset(out, 0, sizeof *out);
	if (text && len > 0) {
		if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
			p = 3;
		e = line_end(text, len, p);
		if (is_fence(text + p, e - p, "+++"))
			fence = "+++";
		else if (is_fence(text + p, e - p, "---"))
			fence = "---";
	}
	if (!fence) {
		rc = err_set(err, GEN_ECONTENT, path, 1, 1,
			     "missing front matter with a 'title'");
		goto out;
	}

	start = p = e < len ? e + 1 : len;
	for (;;) {
		if (p >= len) {
			rc = err_set(err, GEN_EPARSE, path, 1, 1,
				     "unterminated front matter (no closing '%s')", fence);
			goto out;
		}
		e = line_end(text, len, p);
		if (is_fence(text + p, e - p, fence))
			break;
		p = e < len ? e + 1 : len;
		line++;
	}
	out->body_offset = e < len ? e + 1 : len;
	out->body_line = line + 1;

	/* the block starts on file line 2 */
	if (fence[0] == '+')
		rc = toml_parse(&out->meta, text + start, p - start, path, 1, err);
	else
		rc = parse_yaml(&out->meta, text + start, p - start, path, 2, err);
	if (rc < 0)
		goto out;
	rc = check_keys(out, out->meta, path, err);
out:
	if (rc < 0)
		frontmatter_release(out);
	return rc;
}

/* meta_state: the frozen bytes are read once, by whichever thread asks
 * first. */
enum { META_READY, META_PENDING, META_MAKING };

const value *frontmatter_meta(const frontmatter *cfm)
{
	frontmatter *fm = (frontmatter *)cfm;
	unsigned char state = atomic_load_explicit(&fm->meta_state, memory_order_acquire);
	if (state == META_READY)
		return fm->meta;
	if (state == META_PENDING &&
	    atomic_compare_exchange_strong(&fm->meta_state, &state, META_MAKING)) {
		buf_reader r;
		buf_reader_init(&r, fm->meta_frozen, fm->meta_frozen_len);
		/* Bytes the build cache checked (document_thaw): a table
		 * that does not read back whole is left out. */
		value *v = value_thaw(&r);
		if (v && (r.bad || r.p != r.end)) {
			value_free(v);
			v = NULL;
		}
		fm->meta = v;
		atomic_store_explicit(&fm->meta_state, META_READY, memory_order_release);
		return fm->meta;
	}
	while (atomic_load_explicit(&fm->meta_state, memory_order_acquire) != META_READY)
		sched_yield();
	return fm->meta;
}

void frontmatter_defer_meta(frontmatter *fm, const char *frozen, size_t len)
{
	fm->meta_frozen = frozen;
	fm->meta_frozen_len = len;
	atomic_store_explicit(&fm->meta_state, META_PENDING, memory_order_relaxed);
}

void frontmatter_release(frontmatter *fm)
{
	if (!fm->borrowed) {
		free(fm->title);
		free(fm->date);
		free(fm->author);
		free(fm->summary);
		for (size_t i = 0; i < fm->nthemes; i++)
			free(fm->themes[i]);
		for (size_t i = 0; i < fm->naliases; i++)
			free(fm->aliases[i]);
	}
	free(fm->themes);
	free(fm->aliases);
	value_free(fm->meta);
	memset(fm, 0, sizeof *fm);
}

const char *frontmatter_kind_name(article_kind k)
{
	switch (k) {
	case KIND_STORY:
		return "story";
	case KIND_TIPS:
		return "tips";
	case KIND_PAGE:
		return "page";
	}
	return "page";
}
