/* toml-test-decoder: the decoder interface of the toml-test harness.
 *
 * Reads TOML on standard input and prints it as toml-test's tagged JSON
 * on standard output: tables as objects, arrays as arrays, and every
 * scalar as {"type": T, "value": "text"}. Invalid input gets
 * "line:col: message" on standard error and exit status 1. This lets
 * the upstream toml-test runner check gen's parser directly. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "toml.h"
#include "value.h"

/* toml-test compares floats by value; print the shortest text that
 * reads back as the same double. */
static void float_text(char *out, size_t size, double f)
{
	if (isnan(f)) {
		snprintf(out, size, "nan");
		return;
	}
	if (isinf(f)) {
		snprintf(out, size, "%s", f < 0 ? "-inf" : "inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, f);
		if (strtod(out, NULL) == f)
			return;
	}
}

/* The tagged copy of v; caller frees. */
static value *tag(const value *v)
{
	char text[64];
	const char *s = text;
	size_t len = 0;
	value *t;

	switch (value_type_of(v)) {
	case VALUE_TABLE:
		t = value_new_table();
		for (size_t i = 0; i < value_count(v); i++) {
			size_t klen;
			const char *k = value_key_at(v, i, &klen);
			value_set(t, k, klen, tag(value_at(v, i)));
		}
		return t;
	case VALUE_ARRAY:
		t = value_new_array();
		for (size_t i = 0; i < value_count(v); i++)
			value_push(t, tag(value_at(v, i)));
		return t;
	case VALUE_INTEGER:
		snprintf(text, sizeof text, "%" PRId64, value_integer(v));
		len = strlen(s);
		break;
	case VALUE_FLOAT:
		float_text(text, sizeof text, value_float(v));
		len = strlen(s);
		break;
	case VALUE_BOOL:
		s = value_bool(v) ? "true" : "false";
		len = strlen(s);
		break;
	default:
		/* strings and date-times; strings may hold NUL bytes */
		s = value_string(v, &len);
		break;
	}
	t = value_new_table();
	value_set_cstr(t, "type", value_new_cstring(value_type_name(value_type_of(v))));
	value_set_cstr(t, "value", value_new_string(s, len));
	return t;
}

int main(void)
{
	buf in = BUF_INIT, out = BUF_INIT;
	char chunk[65536];
	size_t n;
	value *doc = NULL, *tagged = NULL;
	gen_err err;
	int status = 1;

	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_put(&in, chunk, n);
	if (ferror(stdin)) {
		fprintf(stderr, "toml-test-decoder: cannot read standard input\n");
		goto out;
	}
	err_clear(&err);
	if (toml_parse(&doc, in.ptr, in.len, "", 0, &err) < 0) {
		err_print(&err, stderr);
		goto out;
	}
	tagged = tag(doc);
	json_write(&out, tagged, true);
	buf_putc(&out, '\n');
	fwrite(out.ptr, 1, out.len, stdout);
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	value_free(tagged);
	value_free(doc);
	buf_release(&in);
	buf_release(&out);
	return status;
}
