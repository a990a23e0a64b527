/* Unit tests for toml and json: where values were written, how errors
 * read, and JSON written and read back. The toml-test suite itself runs
 * in toml-conformance.c; these cover what it does not: positions, line
 * offsets, message wording and the JSON writer. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "tap.h"
#include "toml.h"
#include "value.h"

static value *parse(const char *text, int line_offset)
{
	value *v = NULL;
	gen_err err;
	err_clear(&err);
	if (toml_parse(&v, text, strlen(text), "test.toml", line_offset, &err) < 0) {
		char msg[2048];
		err_format(&err, msg, sizeof msg);
		diag("unexpected error: %s", msg);
	}
	return v;
}

/* Parses bad TOML and returns "line:col: message" in out. */
static const char *toml_error(const char *text, int line_offset, char *out, size_t size)
{
	value *v = (value *)1;
	gen_err err;
	err_clear(&err);
	int rc = toml_parse(&v, text, strlen(text), "", line_offset, &err);
	if (rc != GEN_EPARSE || v != NULL || err.code != GEN_EPARSE) {
		snprintf(out, size, "no parse error (rc %d)", rc);
		value_free(v);
		return out;
	}
	err_format(&err, out, size);
	return out;
}

static const char *json_error(const char *text, char *out, size_t size)
{
	value *v = (value *)1;
	gen_err err;
	err_clear(&err);
	int rc = json_parse(&v, text, strlen(text), "", &err);
	if (rc != GEN_EPARSE || v != NULL) {
		snprintf(out, size, "no parse error (rc %d)", rc);
		value_free(v);
		return out;
	}
	err_format(&err, out, size);
	return out;
}

static int at(const value *v, int line, int col, const char *name)
{
	int r = ok(v && value_line(v) == line && value_col(v) == col, "%s", name);
	if (!r)
		diag("     got: %d:%d\n  expected: %d:%d", value_line(v), value_col(v), line,
		     col);
	return r;
}

static void test_positions(void)
{
	static const char doc[] =
		"# site\n"
		"title = \"De garage\"\n"
		"[server]\n"
		"  port = 8080\n"
		"  hosts = [ \"a\",\n"
		"    \"b\" ]\n"
		"  owner.name = 'x'\n"
		"[[post]]\n"
		"meta = { first = 1, \"ü\" = 2 }\n"
		"\"ü\" = 1979-05-27\n";
	value *t = parse(doc, 0);
	ok(t != NULL, "sample parses");
	at(t, 1, 1, "root table is at 1:1");
	at(value_get(t, "title"), 2, 9, "string value");
	at(value_get(t, "server"), 3, 1, "[table] is where its header starts");
	at(value_get_path(t, "server.port"), 4, 10, "indented value");
	at(value_get_path(t, "server.hosts"), 5, 11, "array");
	at(value_at(value_get_path(t, "server.hosts"), 1), 6, 5, "array item on the next line");
	at(value_get_path(t, "server.owner"), 7, 3, "table made by a dotted key is at the key");
	at(value_get_path(t, "server.owner.name"), 7, 16, "value under a dotted key");
	value *post = value_get(t, "post");
	at(post, 8, 1, "array of tables is at its first header");
	at(value_at(post, 0), 8, 1, "element table is at its header");
	value *meta = value_get(value_at(post, 0), "meta");
	at(meta, 9, 8, "inline table");
	at(value_get(meta, "first"), 9, 18, "value in an inline table");
	at(value_get(meta, "ü"), 9, 27, "columns count characters, not bytes");
	at(value_get(value_at(post, 0), "ü"), 10, 7, "quoted non-ASCII key");
	is(value_type_of(value_get(value_at(post, 0), "ü")), VALUE_DATE_LOCAL,
	   "local date type");
	value_free(t);

	t = parse("\xef\xbb\xbf" "a = 1\n", 0);
	at(value_get(t, "a"), 1, 5, "a byte order mark takes no column");
	value_free(t);

	t = parse("a = 1\n\r\nb = [\n  2,\n]\n", 3);
	at(value_get(t, "a"), 4, 5, "line_offset is added to the first line");
	at(value_at(value_get(t, "b"), 0), 7, 3, "and to later lines, CRLF counted once");
	value_free(t);

	/* Header prefixes and later definitions. */
	t = parse("[a.b.c]\n[a]\nx = 1\n", 0);
	at(value_get(t, "a"), 2, 1, "implicit table takes the place it is defined");
	at(value_get_path(t, "a.b"), 1, 4, "implicit table is at its key in the header");
	value_free(t);
}

static void test_values(void)
{
	value *t = parse("s = \"tab\\there \\u00e9 \\U0001F600\"\n"
			 "ml = \"\"\"\n  one \\\n     two\"\"\"\"\n"
			 "lit = '''\nC:\\x'''\n"
			 "hex = 0xdead_BEEF\n"
			 "min = -9223372036854775808\n"
			 "f = 6.626e-34\n"
			 "ni = -inf\n"
			 "dt = 1979-05-27 07:32:00.5z\n"
			 "lt = 07:32:00\n"
			 "b = false\n",
			 0);
	is_str(value_string(value_get(t, "s"), NULL), "tab\there \xc3\xa9 \xf0\x9f\x98\x80",
	       "basic string escapes");
	is_str(value_string(value_get(t, "ml"), NULL), "  one two\"",
	       "line-ending backslash and a quote before the closing ones");
	is_str(value_string(value_get(t, "lit"), NULL), "C:\\x",
	       "multi-line literal string drops the first newline, keeps backslashes");
	is(value_integer(value_get(t, "hex")), 0xdeadbeef, "hexadecimal with underscores");
	ok(value_integer(value_get(t, "min")) == INT64_MIN, "smallest integer");
	ok(value_float(value_get(t, "f")) == 6.626e-34, "float with exponent");
	ok(isinf(value_float(value_get(t, "ni"))) && value_float(value_get(t, "ni")) < 0,
	   "negative infinity");
	is_str(value_string(value_get(t, "dt"), NULL), "1979-05-27T07:32:00.5Z",
	       "date-time text gets 'T' and 'Z'");
	is(value_type_of(value_get(t, "dt")), VALUE_DATETIME, "offset date-time type");
	is(value_type_of(value_get(t, "lt")), VALUE_TIME_LOCAL, "local time type");
	ok(value_type_of(value_get(t, "b")) == VALUE_BOOL && !value_bool(value_get(t, "b")),
	   "bool");
	value_free(t);

	t = parse("", 0);
	ok(t && value_type_of(t) == VALUE_TABLE && value_count(t) == 0,
	   "empty document is an empty table");
	value_free(t);
}

static void test_errors(void)
{
	char e[2048];
	value *v = (value *)1;
	gen_err err;
	err_clear(&err);
	int rc = toml_parse(&v, "title = 1\ntitle = 2\n", 20, "site.toml", 0, &err);
	is(rc, GEN_EPARSE, "duplicate key fails with GEN_EPARSE");
	ok(v == NULL, "out is NULL after an error");
	err_format(&err, e, sizeof e);
	is_str(e, "site.toml:2:1: duplicate key 'title'", "duplicate key message");

	is_str(toml_error("x = \"abc\ny = 1\n", 0, e, sizeof e), "1:5: unterminated string",
	       "unterminated string points at its opening quote");
	is_str(toml_error("a = 1\nd = 2020-13-01\n", 0, e, sizeof e),
	       "2:5: invalid date '2020-13-01'", "bad date");
	is_str(toml_error("d = 2021-02-29T10:00:00Z\n", 0, e, sizeof e),
	       "1:5: invalid date '2021-02-29T10:00:00Z'", "no 29 February in 2021");
	is_str(toml_error("t = 10:61:00\n", 0, e, sizeof e), "1:5: invalid time '10:61:00'",
	       "bad time");
	is_str(toml_error("\n\nx = \"\"\"\nnever closed\n", 5, e, sizeof e),
	       "8:5: unterminated multi-line string", "line_offset applies to errors");
	is_str(toml_error("[a]\nb = 1\n[a]\n", 0, e, sizeof e),
	       "3:2: table 'a' is already defined", "table defined twice");
	is_str(toml_error("a = {b = 1}\na.c = 2\n", 0, e, sizeof e),
	       "2:1: inline table 'a' cannot be extended", "inline tables are closed");
	is_str(toml_error("[x]\ny.z = 1\n[x.y]\n", 0, e, sizeof e),
	       "3:4: table 'x.y' is already defined",
	       "a table made by dotted keys cannot get a header");
	is_str(toml_error("n = 0123\n", 0, e, sizeof e),
	       "1:5: leading zero in number '0123'", "leading zero");
	is_str(toml_error("n = 99999999999999999999\n", 0, e, sizeof e),
	       "1:5: integer '99999999999999999999' is out of range", "integer overflow");
	is_str(toml_error("k = \"\xc3\x28\"\n", 0, e, sizeof e),
	       "1:6: invalid utf-8 byte 0xc3", "invalid UTF-8");
	is_str(toml_error("k = 'a\x01'\n", 0, e, sizeof e), "1:7: U+0001 in string",
	       "control character");
	is_str(toml_error("k = 1 2\n", 0, e, sizeof e), "1:7: unexpected '2' after value",
	       "text after a value");
	is_str(toml_error("\"key\" = \"\\q\"\n", 0, e, sizeof e),
	       "1:10: invalid escape '\\q'", "bad escape");
	is_str(toml_error("a.\"b\\nc\" = 1\na.\"b\\nc\" = 2\n", 0, e, sizeof e),
	       "2:3: duplicate key 'a.\"b?c\"'", "odd keys are quoted in messages");

	/* Deep nesting is an error, not a stack overflow. */
	buf deep = BUF_INIT;
	buf_puts(&deep, "a = ");
	for (int i = 0; i < 100000; i++)
		buf_putc(&deep, '[');
	err_clear(&err);
	rc = toml_parse(&v, deep.ptr, deep.len, "", 0, &err);
	ok(rc == GEN_EPARSE && strcmp(err.msg, "values nested too deeply") == 0,
	   "deep nesting is refused");
	buf_release(&deep);
}

/* Structural equality, keys in order, floats by value (nan == nan). */
static int equal(const value *a, const value *b)
{
	value_type t = value_type_of(a);
	if (t != value_type_of(b))
		return 0;
	switch (t) {
	case VALUE_TABLE:
	case VALUE_ARRAY:
		if (value_count(a) != value_count(b))
			return 0;
		for (size_t i = 0; i < value_count(a); i++) {
			if (t == VALUE_TABLE) {
				size_t la, lb;
				const char *ka = value_key_at(a, i, &la);
				const char *kb = value_key_at(b, i, &lb);
				if (la != lb || memcmp(ka, kb, la) != 0)
					return 0;
			}
			if (!equal(value_at(a, i), value_at(b, i)))
				return 0;
		}
		return 1;
	case VALUE_INTEGER:
		return value_integer(a) == value_integer(b);
	case VALUE_FLOAT:
		return value_float(a) == value_float(b) ||
		       (isnan(value_float(a)) && isnan(value_float(b)));
	case VALUE_BOOL:
		return value_bool(a) == value_bool(b);
	case VALUE_NULL:
		return 1;
	default: {
		size_t la, lb;
		const char *sa = value_string(a, &la), *sb = value_string(b, &lb);
		return la == lb && memcmp(sa, sb, la) == 0;
	}
	}
}

static value *json(const char *text)
{
	value *v = NULL;
	gen_err err;
	err_clear(&err);
	if (json_parse(&v, text, strlen(text), "test.json", &err) < 0) {
		char msg[2048];
		err_format(&err, msg, sizeof msg);
		diag("unexpected error: %s", msg);
	}
	return v;
}

static void test_json_write(void)
{
	value *t = value_new_table(), *a = value_new_array(), *in = value_new_table();
	value_set_cstr(t, "name", value_new_cstring("gen"));
	value_push(a, value_new_integer(1));
	value_push(a, value_new_float(2.5));
	value_push(a, value_new_table());
	value_push(a, value_new_array());
	value_set_cstr(t, "list", a);
	value_set_cstr(in, "ok", value_new_bool(true));
	value_set_cstr(in, "none", value_new(VALUE_NULL));
	value_set_cstr(t, "in", in);

	buf b = BUF_INIT;
	json_write(&b, t, true);
	is_str(b.ptr,
	       "{\n"
	       "  \"name\": \"gen\",\n"
	       "  \"list\": [\n"
	       "    1,\n"
	       "    2.5,\n"
	       "    {},\n"
	       "    []\n"
	       "  ],\n"
	       "  \"in\": {\n"
	       "    \"ok\": true,\n"
	       "    \"none\": null\n"
	       "  }\n"
	       "}",
	       "pretty output");
	buf_clear(&b);
	json_write(&b, t, false);
	is_str(b.ptr, "{\"name\":\"gen\",\"list\":[1,2.5,{},[]],\"in\":{\"ok\":true,\"none\":null}}",
	       "compact output");
	value_free(t);

	static const struct {
		double f;
		const char *want;
	} floats[] = {
		{ 1.0, "1.0" },	     { 0.1, "0.1" },	     { -0.0, "-0.0" },
		{ 1e300, "1e+300" }, { 1.0 / 3, "0.3333333333333333" },
		{ 5e-324, "4.94065645841247e-324" },
	};
	for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
		value *f = value_new_float(floats[i].f);
		buf_clear(&b);
		json_write(&b, f, false);
		is_str(b.ptr, floats[i].want, "float written to round-trip");
		value_free(f);
	}
	value *f = value_new_float(NAN);
	buf_clear(&b);
	json_write(&b, f, false);
	is_str(b.ptr, "null", "nan cannot be JSON: null");
	value_free(f);

	buf_clear(&b);
	json_put_string(&b, "a\"b\\c\n\t\x01\x7f\xc3\xa9", 11);
	is_str(b.ptr, "\"a\\\"b\\\\c\\n\\t\\u0001\x7f\xc3\xa9\"", "string escaping");
	buf_clear(&b);
	json_put_string(&b, "x\xff" "y\xe2\x82" "z\xed\xa0\x80", 9);
	is_str(b.ptr, "\"x\xef\xbf\xbdy\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
	       "invalid UTF-8 becomes U+FFFD");
	buf_clear(&b);
	json_put_string(&b, "nul\0byte", 8);
	is_str(b.ptr, "\"nul\\u0000byte\"", "NUL bytes are escaped");
	buf_release(&b);
}

static void test_json_read(void)
{
	char e[2048];
	value *v = json("{\"a\": [1, -2.5e1, true, false, null, \"\\u00e9\\ud83d\\ude00\\/\"],"
			" \"big\": 9223372036854775807, \"bigger\": 9223372036854775808,"
			" \"neg\": -9223372036854775808, \"one\": 1.0}");
	value *a = value_get(v, "a");
	is(value_count(a), 6, "array items");
	is(value_type_of(value_at(a, 0)), VALUE_INTEGER, "integer");
	ok(value_type_of(value_at(a, 1)) == VALUE_FLOAT && value_float(value_at(a, 1)) == -25,
	   "float with exponent");
	is(value_type_of(value_at(a, 4)), VALUE_NULL, "null");
	is_str(value_string(value_at(a, 5), NULL), "\xc3\xa9\xf0\x9f\x98\x80/",
	       "\\u escapes and surrogate pairs");
	ok(value_integer(value_get(v, "big")) == INT64_MAX, "largest integer");
	is(value_type_of(value_get(v, "bigger")), VALUE_FLOAT, "too big for 64 bits: float");
	ok(value_integer(value_get(v, "neg")) == INT64_MIN, "smallest integer");
	is(value_type_of(value_get(v, "one")), VALUE_FLOAT, "1.0 stays a float");
	value_free(v);

	v = json("[\"\\ud800x\"]");
	is_str(value_string(value_at(v, 0), NULL), "\xef\xbf\xbdx", "lone surrogate is U+FFFD");
	value_free(v);

	v = json("{\n  \"a\": {\n    \"b\": 3\n  }\n}");
	int line = value_line(value_get_path(v, "a.b")), col = value_col(value_get_path(v, "a.b"));
	ok(line == 3 && col == 10, "json values keep their position");
	value_free(v);

	is_str(json_error("{\n  \"a\": 1,\n  \"b\": tru\n}", e, sizeof e),
	       "3:8: unknown literal 'tru'", "bad literal");
	is_str(json_error("[1,]", e, sizeof e), "1:4: expected a value, found ']'",
	       "trailing comma");
	is_str(json_error("{\"a\" 1}", e, sizeof e), "1:6: expected ':' after key, found '1'",
	       "missing colon");
	is_str(json_error("[\"abc", e, sizeof e), "1:2: unterminated string",
	       "unterminated string");
	is_str(json_error("[01]", e, sizeof e), "1:3: expected ',' or ']' in array, found '1'",
	       "leading zero");
	is_str(json_error("[\"\xc3\xa9\" \"\x01\"]", e, sizeof e),
	       "1:6: expected ',' or ']' in array, found '\"'", "columns count characters");
	is_str(json_error("{} x", e, sizeof e), "1:4: unexpected 'x' after value",
	       "trailing text");
	is_str(json_error("", e, sizeof e), "1:1: expected a value, found end of input",
	       "empty input");
	is_str(json_error("\"\t\"", e, sizeof e), "1:2: U+0009 in string",
	       "raw control character in a string");
	is_str(json_error("\"\xff\"", e, sizeof e), "1:2: invalid utf-8 byte 0xff",
	       "invalid UTF-8 in input");
	is_str(json_error("-", e, sizeof e), "1:1: invalid number '-'", "lone minus");
}

static void test_round_trip(void)
{
	value *t = parse("title = \"a \\\"quoted\\\" \\u0001 line\\nbreak é\"\n"
			 "n = [1, -7, 9223372036854775807]\n"
			 "f = [0.1, 1e300, -2.5, 3.0, 1e-7]\n"
			 "when = 1979-05-27T07:32:00Z\n"
			 "[nested.deeper]\n"
			 "x = [[1, 2], [], [{ y = true }]]\n"
			 "\"\" = { \"\\u0000\" = false }\n",
			 0);
	for (int pretty = 0; pretty <= 1; pretty++) {
		buf b = BUF_INIT;
		value *back = NULL;
		json_write(&b, t, pretty);
		gen_err err;
		err_clear(&err);
		int rc = json_parse(&back, b.ptr, b.len, "", &err);
		/* Date-times come back as strings; compare the rest exactly. */
		value *want = value_copy(t);
		value_set_cstr(want, "when", value_new_cstring("1979-05-27T07:32:00Z"));
		ok(rc == 0 && equal(want, back), "%s JSON reads back as the same tree",
		   pretty ? "pretty" : "compact");
		value_free(want);
		value_free(back);
		buf_release(&b);
	}
	value_free(t);
}

int main(void)
{
	test_positions();
	test_values();
	test_errors();
	test_json_write();
	test_json_read();
	test_round_trip();
	return done_testing();
}
