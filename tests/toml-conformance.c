/* The toml-test suite (TOML 1.0 case list) run against toml_parse.
 *
 * Each valid/X.toml must parse to the tree described by valid/X.json,
 * toml-test's tagged JSON (read with json_parse, so the JSON reader is
 * exercised too); each invalid/X.toml must fail with GEN_EPARSE and a
 * position. One TAP line per case. The suite lives beside the repository
 * in shared/conformance/toml-test; when it is missing the test skips. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "tap.h"
#include "toml.h"
#include "value.h"

/* Reads a whole file into b; returns 0 or -1. */
static int slurp(const char *path, buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_put(b, chunk, n);
	int rc = ferror(fp) ? -1 : 0;
	fclose(fp);
	return rc;
}

static int same_float(double got, const char *want)
{
	const char *w = want;
	if (*w == '+' || *w == '-')
		w++;
	if (strcmp(w, "nan") == 0)
		return isnan(got);
	double f = strcmp(w, "inf") == 0 ? HUGE_VAL : strtod(w, NULL);
	if (*want == '-')
		f = -f;
	return got == f && !signbit(got) == !signbit(f);
}

/* Date-times compare by what they mean: offset date-times by the
 * instant, local kinds part by part. */
static int same_datetime(const value *got, const char *want, size_t wlen)
{
	value_datetime a, b;
	size_t glen;
	const char *g = value_string(got, &glen);
	if (value_datetime_parse(g, glen, &a) < 0 || value_datetime_parse(want, wlen, &b) < 0)
		return 0;
	if (a.nanosecond != b.nanosecond || a.has_date != b.has_date ||
	    a.has_time != b.has_time || a.has_offset != b.has_offset)
		return 0;
	if (value_type_of(got) == VALUE_DATETIME)
		return value_datetime_epoch(&a) == value_datetime_epoch(&b);
	return a.year == b.year && a.month == b.month && a.day == b.day &&
	       a.hour == b.hour && a.minute == b.minute && a.second == b.second;
}

/* Compares a parsed TOML value with its tagged JSON; on a difference
 * writes where and why into why and returns 0. */
static int same(const value *got, const value *want, const char *path, buf *why)
{
	value_type t = value_type_of(got);
	size_t n = value_count(got);

	if (t == VALUE_TABLE || t == VALUE_ARRAY) {
		value_type wt = t == VALUE_TABLE ? VALUE_TABLE : VALUE_ARRAY;
		if (value_type_of(want) != wt || value_count(want) != n) {
			buf_printf(why, "%s: got %s of %zu, expected %s of %zu", path,
				   value_type_name(t), n,
				   value_type_name(value_type_of(want)), value_count(want));
			return 0;
		}
		for (size_t i = 0; i < n; i++) {
			buf sub = BUF_INIT;
			const value *w;
			if (t == VALUE_TABLE) {
				size_t klen;
				const char *k = value_key_at(got, i, &klen);
				buf_printf(&sub, "%s.%s", path, k);
				w = value_getn(want, k, klen);
			} else {
				buf_printf(&sub, "%s[%zu]", path, i);
				w = value_at(want, i);
			}
			int r = w ? same(value_at(got, i), w, sub.ptr, why) : 0;
			if (!w)
				buf_printf(why, "%s: unexpected key", sub.ptr);
			buf_release(&sub);
			if (!r)
				return 0;
		}
		return 1;
	}

	const value *wtype = value_get(want, "type"), *wval = value_get(want, "value");
	if (value_type_of(want) != VALUE_TABLE || value_count(want) != 2 ||
	    value_type_of(wtype) != VALUE_STRING || value_type_of(wval) != VALUE_STRING) {
		buf_printf(why, "%s: got %s, expected a table or an array", path,
			   value_type_name(t));
		return 0;
	}
	size_t wlen, glen;
	const char *w = value_string(wval, &wlen);
	if (strcmp(value_string(wtype, NULL), value_type_name(t)) != 0) {
		buf_printf(why, "%s: got type %s, expected %s", path, value_type_name(t),
			   value_string(wtype, NULL));
		return 0;
	}
	int r;
	switch (t) {
	case VALUE_STRING: {
		const char *g = value_string(got, &glen);
		r = glen == wlen && memcmp(g, w, glen) == 0;
		break;
	}
	case VALUE_INTEGER:
		r = value_integer(got) == strtoll(w, NULL, 10);
		break;
	case VALUE_FLOAT:
		r = same_float(value_float(got), w);
		break;
	case VALUE_BOOL:
		r = strcmp(w, value_bool(got) ? "true" : "false") == 0;
		break;
	default:
		r = same_datetime(got, w, wlen);
		break;
	}
	if (!r) {
		buf got_json = BUF_INIT;
		json_write(&got_json, got, false);
		buf_printf(why, "%s: got %s, expected '%s'", path, got_json.ptr, w);
		buf_release(&got_json);
	}
	return r;
}

static int run_valid(const char *dir, const char *name, buf *why)
{
	buf path = BUF_INIT, toml = BUF_INIT, json = BUF_INIT;
	value *got = NULL, *want = NULL;
	gen_err err;
	int r = 0;
	size_t stem = strlen(name) - strlen(".toml");

	err_clear(&err);
	buf_printf(&path, "%s/%s", dir, name);
	if (slurp(path.ptr, &toml) < 0) {
		buf_printf(why, "cannot read %s", path.ptr);
		goto out;
	}
	buf_clear(&path);
	buf_printf(&path, "%s/%.*s.json", dir, (int)stem, name);
	if (slurp(path.ptr, &json) < 0) {
		buf_printf(why, "cannot read %s", path.ptr);
		goto out;
	}
	if (json_parse(&want, json.ptr, json.len, path.ptr, &err) < 0) {
		char msg[2048];
		err_format(&err, msg, sizeof msg);
		buf_printf(why, "expected JSON does not parse: %s", msg);
		goto out;
	}
	if (toml_parse(&got, toml.ptr, toml.len, name, 0, &err) < 0) {
		char msg[2048];
		err_format(&err, msg, sizeof msg);
		buf_printf(why, "rejected: %s", msg);
		goto out;
	}
	r = same(got, want, "$", why);
out:
	value_free(got);
	value_free(want);
	buf_release(&path);
	buf_release(&toml);
	buf_release(&json);
	return r;
}

static int run_invalid(const char *dir, const char *name, buf *why)
{
	buf path = BUF_INIT, toml = BUF_INIT;
	value *got = NULL;
	gen_err err;
	int r = 0;

	err_clear(&err);
	buf_printf(&path, "%s/%s", dir, name);
	if (slurp(path.ptr, &toml) < 0) {
		buf_printf(why, "cannot read %s", path.ptr);
		goto out;
	}
	int rc = toml_parse(&got, toml.ptr, toml.len, name, 0, &err);
	if (rc == 0) {
		buf_puts(why, "accepted");
	} else if (rc != GEN_EPARSE || err.code != GEN_EPARSE || got) {
		buf_printf(why, "failed with code %d, not GEN_EPARSE", rc);
	} else if (err.line <= 0 || err.col <= 0 || !err.msg[0]) {
		buf_printf(why, "error has no position: %d:%d: %s", err.line, err.col,
			   err.msg);
	} else {
		r = 1;
	}
out:
	value_free(got);
	buf_release(&path);
	buf_release(&toml);
	return r;
}

int main(void)
{
	const char *srcdir = getenv("SRCDIR");
	buf dir = BUF_INIT, list = BUF_INIT;
	int valid = 0, valid_ok = 0, invalid = 0, invalid_ok = 0;

	/* tap.h's helpers are static; this file reports with ok() alone. */
	(void)tap_is;
	(void)is_str;

	buf_printf(&dir, "%s/../shared/conformance/toml-test", srcdir ? srcdir : ".");
	buf_printf(&list, "%s/files-toml-1.0.0", dir.ptr);
	FILE *fp = fopen(list.ptr, "r");
	if (!fp) {
		printf("1..0 # SKIP no toml-test suite at %s\n", dir.ptr);
		buf_release(&dir);
		buf_release(&list);
		return 0;
	}

	char line[1024];
	while (fgets(line, sizeof line, fp)) {
		line[strcspn(line, "\r\n")] = '\0';
		size_t len = strlen(line);
		if (len < 5 || strcmp(line + len - 5, ".toml") != 0)
			continue;
		buf why = BUF_INIT;
		int is_valid = strncmp(line, "valid/", 6) == 0, r;
		if (is_valid) {
			r = run_valid(dir.ptr, line, &why);
			valid++;
			valid_ok += r;
		} else {
			r = run_invalid(dir.ptr, line, &why);
			invalid++;
			invalid_ok += r;
		}
		if (!ok(r, "%.*s", (int)(len - 5), line))
			diag("%s", why.ptr);
		buf_release(&why);
	}
	fclose(fp);
	diag("valid: %d/%d, invalid: %d/%d", valid_ok, valid, invalid_ok, invalid);
	buf_release(&dir);
	buf_release(&list);
	return done_testing();
}
