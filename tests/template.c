/* Unit tests for template: syntax errors and where they point, escaping,
 * value formatting, partials from a folder, inheritance with a layout,
 * the recursion limit, and rendering a compiled template more than once
 * (also from several threads). The spec's own tests are in
 * mustache-conformance.c. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "tap.h"
#include "template.h"
#include "value.h"

/* Renders text with data given as JSON; returns the output (caller frees)
 * or NULL with err filled in. */
static char *render(const char *text, const char *json,
		    const template_partials *p, gen_err *err)
{
	template *t = NULL;
	value *data = NULL;
	buf out = BUF_INIT;
	char *res = NULL;
	err_clear(err);
	if (json_parse(&data, json, strlen(json), "data.json", err) < 0)
		goto out;
	if (template_compile(&t, text, strlen(text), "t.mustache", err) < 0)
		goto out;
	if (template_render(&out, t, data, p, err) < 0)
		goto out;
	res = buf_detach(&out);
out:
	buf_release(&out);
	template_free(t);
	value_free(data);
	return res;
}

static void check_render(const char *text, const char *json, const char *want,
			 const char *name)
{
	gen_err err;
	char *got = render(text, json, NULL, &err);
	if (!got) {
		char line[2048];
		err_format(&err, line, sizeof line);
		ok(0, "%s", name);
		diag("error: %s", line);
		return;
	}
	is_str(got, want, name);
	free(got);
}

/* Compiling text must fail with exactly "file:line:col: message". */
static void check_error(const char *text, const char *want, const char *name)
{
	template *t = (template *)1;
	gen_err err;
	char line[2048];
	err_clear(&err);
	int rc = template_compile(&t, text, strlen(text),
				  "themes/default/layouts/page.mustache", &err);
	ok(rc == GEN_EPARSE && t == NULL, "%s: fails with GEN_EPARSE", name);
	err_format(&err, line, sizeof line);
	is_str(line, want, name);
	template_free(rc < 0 ? NULL : t);
}

static void test_errors(void)
{
	const char *f = "themes/default/layouts/page.mustache";
	char want[512];
#define WANT(pos, msg) (snprintf(want, sizeof want, "%s:%s: %s", f, pos, msg), want)
	check_error("<p>\n  {{title\n</p>", WANT("2:3", "unclosed tag, expected '}}'"),
		    "unclosed tag");
	check_error("x {{{body}}", WANT("1:3", "unclosed tag, expected '}}}'"),
		    "unclosed triple mustache");
	check_error("{{! never ends", WANT("1:1", "unclosed tag, expected '}}'"),
		    "unclosed comment");
	check_error("a\nb\n\n    {{#tips}}\n<li>{{.}}</li>\n",
		    WANT("4:5", "unclosed section 'tips'"), "unclosed section");
	check_error("{{^none}}\n{{#a}}{{/a}}",
		    WANT("1:1", "unclosed inverted section 'none'"),
		    "unclosed inverted section");
	check_error("{{<base}}\n{{$body}}x{{/body}}\n",
		    WANT("1:1", "unclosed parent 'base'"), "unclosed parent");
	check_error("{{#a}}\n {{#b}}\n  {{/a}}\n {{/b}}\n{{/a}}",
		    WANT("3:3", "closing tag 'a' does not match section 'b'"),
		    "mismatched section end");
	check_error("x\n{{/a}}", WANT("2:1", "closing tag 'a' without an open section"),
		    "section end without a start");
	check_error("{{=<% =}}", WANT("1:1", "invalid delimiter change '<%'"),
		    "delimiter change with one delimiter");
	check_error("ok\n {{= <% %> x =}}",
		    WANT("2:2", "invalid delimiter change '<% %> x'"),
		    "delimiter change with three delimiters");
	check_error("{{=<= =>=}}", WANT("1:1", "invalid delimiter change '<= =>'"),
		    "delimiter with an equals sign");
	check_error("{{=<% %>=}}\n<%name", WANT("2:1", "unclosed tag, expected '%>'"),
		    "unclosed tag after a delimiter change");
	check_error("a {{ }}", WANT("1:3", "empty tag"), "empty tag");
	check_error("{{first name}}", WANT("1:1", "invalid name 'first name'"),
		    "blank inside a name");
	check_error("{{#a..b}}{{/a..b}}", WANT("1:1", "invalid name 'a..b'"),
		    "empty dotted part");
	check_error("h\xc3\xa9h\xc3\xa9 {{#x}}", WANT("1:6", "unclosed section 'x'"),
		    "columns count characters, not bytes");
#undef WANT
	template *t;
	int rc = template_compile(&t, "{{#a}}", 6, "x", NULL);
	ok(rc == GEN_EPARSE && t == NULL, "a NULL err record is allowed");
}

static void test_values(void)
{
	check_render("{{x}}|{{{x}}}|{{&x}}", "{\"x\": \"<a href=\\\"u\\\">&'\"}",
		     "&lt;a href=&quot;u&quot;&gt;&amp;&#39;|<a href=\"u\">&'|<a href=\"u\">&'",
		     "escaped, triple and ampersand");
	check_render("{{i}} {{n}} {{f}} {{g}} {{h}} {{t}} {{b}}",
		     "{\"i\": -42, \"n\": 12345678901234, \"f\": 1.5, \"g\": 2.0, "
		     "\"h\": 0.1, \"t\": true, \"b\": false}",
		     "-42 12345678901234 1.5 2 0.1 true false",
		     "numbers and booleans");
	check_render("[{{nothing}}][{{obj}}][{{list}}][{{null}}]",
		     "{\"obj\": {\"a\": 1}, \"list\": [1], \"null\": null}", "[][][][]",
		     "missing, tables, arrays and null print nothing");
	check_render("{{#e}}E{{/e}}{{^e}}no e{{/e}} {{#z}}zero{{/z}} {{#o}}obj{{/o}}",
		     "{\"e\": \"\", \"z\": 0, \"o\": {}}", "no e zero obj",
		     "empty string is falsey, 0 and {} are truthy");
	check_render("{{#items}}{{name}}{{^last}}, {{/last}}{{/items}}",
		     "{\"items\": [{\"name\": \"a\"}, {\"name\": \"b\", \"last\": true}]}",
		     "a, b", "list with a flag on the last item");

	value *d = value_new_table();
	value_set_cstr(d, "when", value_new_datetime(VALUE_DATE_LOCAL, "2024-03-01", 10));
	template *t;
	buf out = BUF_INIT;
	gen_err err;
	template_compile(&t, "<time>{{when}}</time>", 21, "t", &err);
	ok(template_render(&out, t, d, NULL, &err) == 0, "render with NULL partials");
	is_str(out.ptr, "<time>2024-03-01</time>", "date-times print as written");
	buf_clear(&out);
	ok(template_render(&out, t, NULL, NULL, &err) == 0, "render with NULL data");
	is_str(out.ptr, "<time></time>", "no data renders names as nothing");
	is_str(template_name(t), "t", "the template keeps its name");
	buf_release(&out);
	template_free(t);
	value_free(d);
}

static int write_file(const char *dir, const char *rel, const char *text)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

static void remove_tree(const char *dir)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
}

static void test_partials_dir(void)
{
	char dir[] = "/tmp/gen-template-XXXXXX";
	char sub[1100];
	gen_err err;
	if (!ok(mkdtemp(dir) != NULL, "temporary folder"))
		return;
	snprintf(sub, sizeof sub, "%s/partials", dir);
	mkdir(sub, 0755);
	write_file(dir, "header.mustache", "<h1>{{title}}</h1>\n");
	write_file(dir, "partials/footer.mustache", "<footer>{{year}}</footer>\n");
	write_file(dir, ".hidden.mustache", "hidden");
	write_file(dir, "notes.txt", "not a template");

	template_partials *p = template_partials_new();
	char slash[1100];
	snprintf(slash, sizeof slash, "%s/", dir);
	ok(template_partials_load_dir(p, slash, &err) == 0, "load a partials folder");
	is(template_partials_count(p), 2, "only NAME.mustache files, no dotfiles");
	ok(template_partials_get(p, "partials/footer", 15) != NULL,
	   "subfolder partial named with its folder");
	ok(template_partials_get(p, "partials/foot", 13) == NULL, "no prefix match");

	char *got = render("{{>header}}\n  {{>partials/footer}}\n{{>missing}}",
			   "{\"title\": \"Hoi\", \"year\": 2024}", p, &err);
	is_str(got, "<h1>Hoi</h1>\n  <footer>2024</footer>\n",
	       "partials render, standalone one indented, missing one empty");
	free(got);

	/* A later template under the same name replaces the first. */
	ok(template_partials_add(p, "header", "<h2>{{title}}</h2>", 18, &err) == 0,
	   "add a partial from a string");
	is(template_partials_count(p), 2, "replacing keeps the count");
	got = render("{{>header}}", "{\"title\": \"Hoi\"}", p, &err);
	is_str(got, "<h2>Hoi</h2>", "the replacement is used");
	free(got);
	ok(template_partials_add(p, "bad", "{{#x}}", 6, &err) == GEN_EPARSE,
	   "a string partial with an error is refused");
	ok(template_partials_get(p, "bad", 3) == NULL, "and not added");

	write_file(dir, "partials/broken.mustache", "ok\n{{#list}}\n");
	template_partials *q = template_partials_new();
	int rc = template_partials_load_dir(q, dir, &err);
	char line[2048], want[2048];
	err_format(&err, line, sizeof line);
	snprintf(want, sizeof want, "%s/partials/broken.mustache:2:1: unclosed section 'list'",
		 dir);
	ok(rc == GEN_EPARSE, "a broken partial fails the load");
	is_str(line, want, "the error names the partial's file");
	template_partials_free(q);

	q = template_partials_new();
	snprintf(sub, sizeof sub, "%s/nope", dir);
	ok(template_partials_load_dir(q, sub, &err) == GEN_EIO,
	   "a missing folder is an I/O error");
	template_partials_free(q);
	template_partials_free(p);
	remove_tree(dir);
}

static const char base_layout[] =
	"<!doctype html>\n"
	"<html>\n"
	"<head>\n"
	"  <title>{{$title}}{{site}}{{/title}}</title>\n"
	"</head>\n"
	"<body>\n"
	"  {{>nav}}\n"
	"  <main>\n"
	"    {{$body}}\n"
	"    <p>nothing here</p>\n"
	"    {{/body}}\n"
	"  </main>\n"
	"</body>\n"
	"</html>\n";

/* Adds a partial from a C string. */
static int add(template_partials *p, const char *name, const char *text)
{
	gen_err err;
	return template_partials_add(p, name, text, strlen(text), &err);
}

static void test_inheritance(void)
{
	template_partials *p = template_partials_new();
	gen_err err;
	add(p, "base", base_layout);
	add(p, "nav", "<nav>\n  {{$nav}}<a href=\"/\">home</a>{{/nav}}\n</nav>\n");
	const char *page =
		"{{<base}}\n"
		"{{$title}}{{page.title}} | {{site}}{{/title}}\n"
		"{{$body}}\n"
		"<h1>{{page.title}}</h1>\n"
		"{{#page.tags}}\n"
		"<span>{{.}}</span>\n"
		"{{/page.tags}}\n"
		"{{/body}}\n"
		"{{/base}}\n";
	const char *data = "{\"site\": \"Gen\", \"page\": {\"title\": \"Fish & chips\", "
			   "\"tags\": [\"food\", \"uk\"]}}";
	char *got = render(page, data, p, &err);
	is_str(got,
	       "<!doctype html>\n"
	       "<html>\n"
	       "<head>\n"
	       "  <title>Fish &amp; chips | Gen</title>\n"
	       "</head>\n"
	       "<body>\n"
	       "  <nav>\n"
	       "    <a href=\"/\">home</a>\n"
	       "  </nav>\n"
	       "  <main>\n"
	       "    <h1>Fish &amp; chips</h1>\n"
	       "    <span>food</span>\n"
	       "    <span>uk</span>\n"
	       "  </main>\n"
	       "</body>\n"
	       "</html>\n",
	       "page fills the layout's blocks, reindented");
	free(got);

	got = render("{{<base}}{{$nav}}<a href=\"/x\">x</a>{{/nav}}{{/base}}",
		     "{\"site\": \"Gen\"}", p, &err);
	is_str(got,
	       "<!doctype html>\n"
	       "<html>\n"
	       "<head>\n"
	       "  <title>Gen</title>\n"
	       "</head>\n"
	       "<body>\n"
	       "  <nav>\n"
	       "    <a href=\"/x\">x</a>\n"
	       "  </nav>\n"
	       "  <main>\n"
	       "    <p>nothing here</p>\n"
	       "  </main>\n"
	       "</body>\n"
	       "</html>\n",
	       "defaults stay, a block in a partial of the layout is overridden");
	free(got);
	template_partials_free(p);
}

static void test_indentation(void)
{
	template_partials *p = template_partials_new();
	gen_err err;
	add(p, "list", "<ul>\n\n  <li>{{x}}</li>\n</ul>\n");
	add(p, "box", "<div>\n  {{$inner}}\n  <p>default</p>\n  {{/inner}}\n</div>\n");
	char *got = render("<body>\n    {{>list}}\n</body>\n", "{\"x\": \"a\\nb\"}", p, &err);
	is_str(got, "<body>\n    <ul>\n\n      <li>a\nb</li>\n    </ul>\n</body>\n",
	       "standalone partial indented, empty lines and data left alone");
	free(got);
	got = render("  {{<box}}{{/box}}\n", "{}", p, &err);
	is_str(got, "  <div>\n    <p>default</p>\n  </div>\n",
	       "default block content keeps its place in an indented parent");
	free(got);
	got = render("{{<box}}\n{{$inner}}\n<p>one</p>\n\n<p>two</p>\n{{/inner}}\n{{/box}}\n",
		     "{}", p, &err);
	is_str(got, "<div>\n  <p>one</p>\n\n  <p>two</p>\n</div>\n",
	       "argument lines take the block's indentation");
	free(got);
	got = render("x {{>list}} y", "{\"x\": 1}", p, &err);
	is_str(got, "x <ul>\n\n  <li>1</li>\n</ul>\n y", "inline partial is not indented");
	free(got);
	template_partials_free(p);
}

static void test_recursion(void)
{
	template_partials *p = template_partials_new();
	gen_err err;
	char line[2048];
	add(p, "loop", "x\n  {{>loop}}");
	add(p, "self", "{{<self}}{{/self}}");
	add(p, "tree", "{{name}}({{#kids}}{{>tree}}{{/kids}})");

	char *got = render("{{>loop}}", "{}", p, &err);
	err_format(&err, line, sizeof line);
	ok(got == NULL && err.code == GEN_ECONTENT, "endless partial recursion fails");
	is_str(line, "loop:2:3: partial 'loop' nested more than 100 deep",
	       "the error points at the partial tag");
	free(got);

	got = render("{{<self}}{{/self}}", "{}", p, &err);
	err_format(&err, line, sizeof line);
	is_str(line, "self:1:1: parent 'self' nested more than 100 deep",
	       "endless parent recursion fails");
	free(got);

	got = render("{{>*which}}", "{\"which\": \"loop\"}", p, &err);
	err_format(&err, line, sizeof line);
	ok(got == NULL && err.code == GEN_ECONTENT, "dynamic partial recursion fails");
	free(got);

	got = render("{{>tree}}",
		     "{\"name\": \"a\", \"kids\": [{\"name\": \"b\", \"kids\": "
		     "[{\"name\": \"c\", \"kids\": []}]}, {\"name\": \"d\", \"kids\": []}]}",
		     p, &err);
	/* Without "kids": [] a leaf would find its parent's kids (context
	 * stack lookup) and recurse forever. */
	is_str(got, "a(b(c())d())", "finite recursion is fine");
	free(got);
	template_partials_free(p);
}

struct job {
	const template *t;
	const value *data;
	const template_partials *p;
	char *out;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	buf out = BUF_INIT;
	gen_err err;
	for (int i = 0; i < 200; i++) {
		buf_clear(&out);
		if (template_render(&out, j->t, j->data, j->p, &err) < 0)
			break;
	}
	j->out = buf_detach(&out);
	return NULL;
}

static void test_reuse(void)
{
	const char *text = "{{#items}}\n  {{>item}}\n{{/items}}\n";
	const char *json = "{\"items\": [{\"n\": 1}, {\"n\": 2}, {\"n\": 3}]}";
	template_partials *p = template_partials_new();
	template *t;
	value *data;
	gen_err err;
	buf a = BUF_INIT, b = BUF_INIT;
	add(p, "item", "<li>{{n}}</li>\n<!-- {{n}} -->\n");
	json_parse(&data, json, strlen(json), "data", &err);
	template_compile(&t, text, strlen(text), "list", &err);
	template_render(&a, t, data, p, &err);
	template_render(&b, t, data, p, &err);
	is_str(a.ptr, "  <li>1</li>\n  <!-- 1 -->\n  <li>2</li>\n  <!-- 2 -->\n"
		      "  <li>3</li>\n  <!-- 3 -->\n",
	       "first render");
	is_str(b.ptr, a.ptr, "second render of the same template is the same");

	struct job jobs[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct job){ t, data, p, NULL };
		pthread_create(&th[i], NULL, run_job, &jobs[i]);
	}
	int same = 1;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		same = same && jobs[i].out && strcmp(jobs[i].out, a.ptr) == 0;
		free(jobs[i].out);
	}
	ok(same, "four threads rendering at once get the same");

	buf_release(&a);
	buf_release(&b);
	template_free(t);
	value_free(data);
	template_partials_free(p);
}

/* ---- template_render_stream ---- */

typedef struct sink {
	buf got;
	int flushes;
	size_t largest;
	int fail_at;   /* the flush that fails (1-based), 0: none */
} sink;

static int sink_flush(void *ctx, const char *data, size_t len, gen_err *err)
{
	sink *k = ctx;
	k->flushes++;
	if (len > k->largest)
		k->largest = len;
	if (k->fail_at && k->flushes == k->fail_at)
		return err_set(err, GEN_EIO, "out.html", 0, 0, "disk full");
	buf_put(&k->got, data, len);
	return 0;
}

/* Stand-ins named "big:N" become N bytes of 'x' and a '<'. */
static void sink_late(void *ctx, buf *out, const char *key, size_t len, bool escape)
{
	(void)ctx;
	if (len < 4 || memcmp(key, "big:", 4) != 0)
		return;
	long n = strtol(key + 4, NULL, 10);
	for (long i = 0; i < n; i++)
		buf_putc(out, 'x');
	buf_puts(out, escape ? "&lt;" : "<");
}

static void test_stream(void)
{
	const char *text = "{{#items}}<p>{{name}} {{{body}}} {{body}}</p>\n{{/items}}end";
	value *data = value_new_table();
	value *items = value_new_array();
	for (int i = 0; i < 40; i++) {
		value *it = value_new_table();
		char key[32];
		snprintf(key, sizeof key, "big:%d", 10000 + i);
		value_set_cstr(it, "name", value_new_cstring("a&b"));
		value *body = value_new_cstring(key);
		value_set_flags(body, TEMPLATE_LATE);
		value_set_cstr(it, "body", body);
		value_push(items, it);
	}
	value_set_cstr(data, "items", items);
	template *t = NULL;
	gen_err err = { 0 };
	template_compile(&t, text, strlen(text), "t.mustache", &err);

	/* What the stand-ins stand for, spelled out, rendered the usual way. */
	buf want = BUF_INIT;
	for (int i = 0; i < 40; i++) {
		buf x = BUF_INIT;
		for (int k = 0; k < 10000 + i; k++)
			buf_putc(&x, 'x');
		buf_printf(&want, "<p>a&amp;b %s< %s&lt;</p>\n", x.ptr, x.ptr);
		buf_release(&x);
	}
	buf_puts(&want, "end");

	sink k = { BUF_INIT, 0, 0, 0 };
	template_stream st = { sink_flush, sink_late, &k };
	is(template_render_stream(t, data, NULL, &st, &err), 0, "stream: renders");
	ok(k.got.len == want.len && memcmp(k.got.ptr, want.ptr, want.len) == 0,
	   "stream: stand-ins replaced by what late writes, raw or escaped as the tag says");
	ok(k.flushes > 1, "stream: a large page goes out in several pieces (%d)", k.flushes);
	ok(k.largest < TEMPLATE_FLUSH + 30000, "stream: no piece much beyond TEMPLATE_FLUSH (%zu)",
	   k.largest);

	/* Without a stream the flag means nothing: the key is the text. */
	buf plain = BUF_INIT;
	template_render(&plain, t, data, NULL, &err);
	ok(strstr(plain.ptr, "<p>a&amp;b big:10000 big:10000</p>") != NULL,
	   "no stream: a stand-in renders as its text");

	sink bad = { BUF_INIT, 0, 0, 2 };
	template_stream st2 = { sink_flush, sink_late, &bad };
	err_clear(&err);
	is(template_render_stream(t, data, NULL, &st2, &err), GEN_EIO,
	   "stream: a failed flush stops rendering with its code");
	is(bad.flushes, 2, "stream: nothing is flushed after the failure");
	is_str(err.msg, "disk full", "stream: the flush's error is kept");

	sink small = { BUF_INIT, 0, 0, 0 };
	template_stream st3 = { sink_flush, NULL, &small };
	template *t2 = NULL;
	template_compile(&t2, "hi {{x}}", 8, "t2.mustache", &err);
	value *d2 = value_new_table();
	value_set_cstr(d2, "x", value_new_cstring("<y>"));
	is(template_render_stream(t2, d2, NULL, &st3, &err), 0, "stream: a small page");
	is(small.flushes, 1, "stream: a small page goes out in one piece");
	is_str(small.got.ptr ? small.got.ptr : "", "hi &lt;y&gt;", "stream: the same bytes");

	value_free(d2);
	template_free(t2);
	buf_release(&small.got);
	buf_release(&bad.got);
	buf_release(&plain);
	buf_release(&k.got);
	buf_release(&want);
	template_free(t);
	value_free(data);
}

/* template_partials_check: a partial or parent tag naming a template
 * the set lacks is a warning at the tag; dynamic names are not judged. */
static void test_missing_partials(void)
{
	template_partials *p = template_partials_new();
	ok(add(p, "base", "<main>{{$body}}{{/body}}</main>\n") == 0 &&
	   add(p, "page", "{{<base}}{{$body}}\n  {{> partials/kop}}{{>*which}}{{/body}}{{/base}}\n") == 0 &&
	   add(p, "list", "{{<basis}}{{/basis}}\n") == 0,
	   "three templates, two of which name ones that are not there");
	diag_list d = DIAG_LIST_INIT;
	is(template_partials_check(p, &d), 2, "two missing: the partial and the parent");
	diag_sort(&d);
	if (is(d.n, 2, "a warning each")) {
		is_str(d.items[0].file, "list", "the parent's, in its template");
		is(d.items[0].line * 100 + d.items[0].col, 101, "at its tag");
		is_str(d.items[0].msg, "parent 'basis' is not in the theme (no layouts/basis.mustache): "
		       "it shows nothing", "said so");
		is_str(d.items[1].file, "page", "the partial's, in its template");
		is(d.items[1].line * 100 + d.items[1].col, 203, "at its tag, on its line");
		is(d.items[1].severity, DIAG_WARNING, "a warning, as it renders as nothing");
	}
	is(d.warnings, 2, "counted");
	diag_release(&d);
	ok(add(p, "partials/kop", "<h1>kop</h1>") == 0 && add(p, "basis", "x") == 0,
	   "the two added");
	is(template_partials_check(p, &d), 0, "then nothing is missing");
	is(d.n, 0, "and nothing said");
	template_partials_free(p);
}

int main(void)
{
	test_errors();
	test_values();
	test_partials_dir();
	test_inheritance();
	test_indentation();
	test_recursion();
	test_reuse();
	test_stream();
	test_missing_partials();
	return done_testing();
}
