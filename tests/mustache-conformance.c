/* The Mustache spec's own tests, run against template.c.
 *
 * Every JSON file in $SRCDIR/../shared/conformance/mustache/ holds a list
 * of tests (template, data, partials, expected output); each becomes one
 * TAP line and must match byte for byte. Tests whose data holds a lambda
 * are skipped, since lambdas are not implemented. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "tap.h"
#include "template.h"
#include "value.h"

static int read_file(const char *path, buf *out)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_put(out, chunk, n);
	fclose(fp);
	return 0;
}

/* Lambdas appear in the spec's data as {"__tag__": "code", ...}. */
static int has_lambda(const value *v)
{
	if (value_type_of(v) == VALUE_TABLE) {
		const value *tag = value_get(v, "__tag__");
		if (tag && strcmp(value_string(tag, NULL), "code") == 0)
			return 1;
	}
	if (value_type_of(v) == VALUE_TABLE || value_type_of(v) == VALUE_ARRAY)
		for (size_t i = 0; i < value_count(v); i++)
			if (has_lambda(value_at(v, i)))
				return 1;
	return 0;
}

static void show(const char *label, const char *s, size_t len)
{
	buf b = BUF_INIT;
	json_put_string(&b, s, len);
	diag("%s %s", label, b.ptr);
	buf_release(&b);
}

/* Runs one spec test; returns whether it passed. */
static int run_test(const char *suite, const value *test)
{
	const char *name = value_get_string(test, "name", "?");
	const value *data = value_get(test, "data");
	const value *partials = value_get(test, "partials");
	size_t tlen, elen;
	const char *text = value_string(value_get(test, "template"), &tlen);
	const char *want = value_string(value_get(test, "expected"), &elen);
	template *t = NULL;
	template_partials *p = template_partials_new();
	buf out = BUF_INIT;
	gen_err err;
	int rc, pass = 0;

	if (has_lambda(data)) {
		pass = ok(1, "%s: %s # SKIP lambdas are not implemented", suite, name);
		goto out;
	}
	err_clear(&err);
	for (size_t i = 0; i < value_count(partials); i++) {
		size_t len;
		const char *s = value_string(value_at(partials, i), &len);
		rc = template_partials_add(p, value_key_at(partials, i, NULL), s, len,
					   &err);
		if (rc < 0)
			goto fail;
	}
	rc = template_compile(&t, text, tlen, name, &err);
	if (rc < 0)
		goto fail;
	rc = template_render(&out, t, data, p, &err);
	if (rc < 0)
		goto fail;
	pass = out.len == elen && memcmp(out.ptr, want, elen) == 0;
	ok(pass, "%s: %s", suite, name);
	if (!pass) {
		show("template:", text, tlen);
		show("     got:", out.ptr, out.len);
		show("expected:", want, elen);
	}
	goto out;
fail:
	ok(0, "%s: %s", suite, name);
	{
		char line[2048];
		err_format(&err, line, sizeof line);
		diag("error: %s", line);
	}
out:
	buf_release(&out);
	template_free(t);
	template_partials_free(p);
	return pass;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	const char *srcdir = getenv("SRCDIR");
	buf dir = BUF_INIT;
	buf_printf(&dir, "%s/../shared/conformance/mustache", srcdir ? srcdir : ".");

	DIR *d = opendir(dir.ptr);
	if (!ok(d != NULL, "suite found in %s", dir.ptr)) {
		buf_release(&dir);
		return done_testing();
	}
	char *names[64];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < 64) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_names);
	ok(n > 0, "suite has %zu files", n);

	for (size_t i = 0; i < n; i++) {
		buf path = BUF_INIT, text = BUF_INIT;
		char suite[256];
		value *root = NULL;
		gen_err err;
		buf_printf(&path, "%s/%s", dir.ptr, names[i]);
		snprintf(suite, sizeof suite, "%.*s", (int)(strlen(names[i]) - 5),
			 names[i]);
		if (!ok(read_file(path.ptr, &text) == 0, "%s: read", suite))
			goto next;
		err_clear(&err);
		if (json_parse(&root, text.ptr, text.len, path.ptr, &err) < 0) {
			char line[2048];
			err_format(&err, line, sizeof line);
			ok(0, "%s: parse (%s)", suite, line);
			goto next;
		}
		const value *tests = value_get(root, "tests");
		size_t passed = 0, total = value_count(tests);
		for (size_t k = 0; k < total; k++)
			passed += (size_t)run_test(suite, value_at(tests, k));
		diag("%s: %zu of %zu passed", names[i], passed, total);
	next:
		value_free(root);
		buf_release(&path);
		buf_release(&text);
		free(names[i]);
	}
	buf_release(&dir);
	return done_testing();
}
