/* Unit tests for frontmatter: TOML and YAML blocks, the typed keys, where
 * the body starts, and every error with its exact message and place. */
#include <math.h>
#include <stdlib.h>

#include "buf.h"
#include "err.h"
#include "frontmatter.h"
#include "tap.h"
#include "value.h"

#define PATH "content/x.md"

static int parse(frontmatter *fm, const char *text, gen_err *e)
{
	err_clear(e);
	return frontmatter_parse(fm, PATH, text, strlen(text), e);
}

/* text must fail with code and "content/x.md:line:col: msg", leaving
 * nothing in fm to free. */
static void fails(const char *name, const char *text, int code, int line, int col,
		  const char *msg)
{
	frontmatter fm;
	gen_err e;
	char got[2048], want[2048];

	int rc = parse(&fm, text, &e);
	ok(rc == code && e.code == code, "%s: code %d", name, code);
	if (rc != code)
		diag("got %d", rc);
	err_format(&e, got, sizeof got);
	snprintf(want, sizeof want, PATH ":%d:%d: %s", line, col, msg);
	is_str(got, want, name);
	ok(fm.title == NULL && fm.meta == NULL && fm.themes == NULL, "%s: nothing to free",
	   name);
	frontmatter_release(&fm);
}

static const char toml_doc[] =
	"+++\n"
	"title = \"De garage\"\n"
	"kind = \"story\"\n"
	"date = 2015-10-27\n"
	"author = \"Els\"\n"
	"summary = \"Over de garage\"\n"
	"themes = [\"snifo-gedrag\", \"klanten\"]\n"
	"aliases = [\"/oud/garage/\"]\n"
	"draft = true\n"
	"weight = 3\n"
	"sfeer = \"regen\"\n"
	"+++\n"
	"\n"
	"Body\n";

static void test_toml(void)
{
	frontmatter fm;
	gen_err e;

	int rc = parse(&fm, toml_doc, &e);
	if (!is(rc, 0, "toml: parses"))
		diag("%s:%d:%d: %s", e.file, e.line, e.col, e.msg);
	is_str(fm.title, "De garage", "toml: title");
	is(fm.kind, KIND_STORY, "toml: kind");
	is_str(fm.date, "2015-10-27", "toml: date kept as a date");
	is(fm.date_epoch, 1445904000, "toml: date epoch");
	is_str(fm.author, "Els", "toml: author");
	is_str(fm.summary, "Over de garage", "toml: summary");
	ok(fm.nthemes == 2 && !strcmp(fm.themes[0], "snifo-gedrag") &&
		   !strcmp(fm.themes[1], "klanten"),
	   "toml: themes");
	ok(fm.naliases == 1 && !strcmp(fm.aliases[0], "/oud/garage/"), "toml: aliases");
	ok(fm.draft, "toml: draft");
	is(fm.weight, 3, "toml: weight");
	is_str(value_get_string(fm.meta, "sfeer", NULL), "regen", "toml: unknown key kept");
	is_str(value_get_string(fm.meta, "title", NULL), "De garage",
	       "toml: known keys stay in meta too");
	is(value_line(value_get(fm.meta, "weight")), 10, "toml: values carry file lines");
	is(fm.body_offset, strstr(toml_doc, "\nBody") - toml_doc, "toml: body offset");
	is(fm.body_line, 13, "toml: body line");
	frontmatter_release(&fm);

	const char *crlf = "+++\r\ntitle = \"x\"\r\nweight = 2\r\n+++\r\nBody\r\n";
	rc = parse(&fm, crlf, &e);
	is(rc, 0, "toml crlf: parses");
	is(fm.weight, 2, "toml crlf: values");
	is(fm.body_offset, strstr(crlf, "Body") - crlf, "toml crlf: body offset");
	is(fm.body_line, 5, "toml crlf: body line");
	frontmatter_release(&fm);

	rc = parse(&fm, "+++\ntitle = \"x\"\ndate = 1979-05-27T07:32:00-07:00\n+++\n", &e);
	is(rc, 0, "toml offset date-time");
	is_str(fm.date, "1979-05-27T07:32:00-07:00", "toml: date-time kept");
	is(fm.date_epoch, 296663520, "toml: date-time epoch honours the offset");
	frontmatter_release(&fm);

	rc = parse(&fm, "+++\ntitle = \"x\"\ndate = \"2016-02-29 12:00:00\"\n+++\n", &e);
	is(rc, 0, "toml: date as a string");
	is_str(fm.date, "2016-02-29T12:00:00", "toml: string date normalised");
	is(fm.date_epoch, 1456747200, "toml: string date epoch");
	frontmatter_release(&fm);

	fails("toml missing title", "+++\nauthor = \"Els\"\n+++\n", GEN_ECONTENT, 1, 1,
	      "missing 'title' in front matter");
	fails("toml title type", "+++\ntitle = 12\n+++\n", GEN_ECONTENT, 2, 9,
	      "'title' must be a string, not integer");
	fails("toml weight type", "+++\ntitle = \"x\"\nweight = \"3\"\n+++\n", GEN_ECONTENT,
	      3, 10, "'weight' must be an integer, not string");
	fails("toml date word", "+++\ntitle = \"x\"\ndate = \"gisteren\"\n+++\n",
	      GEN_ECONTENT, 3, 8, "malformed date 'gisteren' "
	      "(expected one like 2015-03-12, or 2015-03-12T09:30:00+01:00)");
	fails("toml date 30 february", "+++\ntitle = \"x\"\ndate = \"2015-02-30\"\n+++\n",
	      GEN_ECONTENT, 3, 8, "malformed date '2015-02-30' "
	      "(expected one like 2015-03-12, or 2015-03-12T09:30:00+01:00)");
	fails("toml date time-local", "+++\ntitle = \"x\"\ndate = 07:32:00\n+++\n",
	      GEN_ECONTENT, 3, 8, "'date' must be a date, not time-local");
	fails("toml unterminated", "+++\ntitle = \"x\"\n---\n", GEN_EPARSE, 1, 1,
	      "unterminated front matter (no closing '+++')");

	/* the message is toml.c's; here only the place matters */
	rc = parse(&fm, "+++\ntitle = \"x\"\n\nweight = \n+++\n", &e);
	is(rc, GEN_EPARSE, "toml syntax error: code");
	is(e.line, 4, "toml syntax error: file line");
	is_str(e.file, PATH, "toml syntax error: file");
	ok(fm.meta == NULL, "toml syntax error: nothing to free");

	/* an impossible bare date is toml.c's to reject, at the file line */
	rc = parse(&fm, "+++\r\ntitle = \"x\"\r\ndate = 2015-02-30\r\n+++\r\n", &e);
	is(rc, GEN_EPARSE, "toml bare 30 february: code");
	ok(e.line == 3 && e.col == 8, "toml bare 30 february: at 3:8 (got %d:%d)", e.line,
	   e.col);
}

static const char yaml_doc[] =
	"---\n"
	"title: De garage\n"
	"kind: tips\n"
	"date: 2015-10-27T09:30:00+02:00\n"
	"author: \"Els\"\n"
	"summary: >\n"
	"  Over de garage\n"
	"themes:\n"
	"  - snifo-gedrag\n"
	"  - klanten\n"
	"aliases: [/oud/garage/]\n"
	"draft: true\n"
	"weight: -2\n"
	"sfeer: regen\n"
	"extra:\n"
	"  hex: 0x1f\n"
	"  oct: 0o17\n"
	"  float: 1.5e3\n"
	"  neg-inf: -.inf\n"
	"  nan: .NaN\n"
	"  yes: True\n"
	"  nothing: ~\n"
	"  quoted: \"12\"\n"
	"  tagged: !!str 12\n"
	"  day: 2020-02-29\n"
	"  when: 2020-02-29 10:00:00z\n"
	"  local: 2020-02-29T10:00:00.5\n"
	"  bad-day: 2021-02-29\n"
	"  1: one\n"
	"  list: &l [a, b]\n"
	"  copy: *l\n"
	"  key-anchor: &k sleutel\n"
	"  *k : waarde\n"
	"  min: -9223372036854775808\n"
	"---\n"
	"# Body\n";

static void test_yaml(void)
{
	frontmatter fm;
	gen_err e;

	int rc = parse(&fm, yaml_doc, &e);
	if (!is(rc, 0, "yaml: parses"))
		diag("%s:%d:%d: %s", e.file, e.line, e.col, e.msg);
	is_str(fm.title, "De garage", "yaml: title");
	is(fm.kind, KIND_TIPS, "yaml: kind");
	is_str(fm.date, "2015-10-27T09:30:00+02:00", "yaml: date-time");
	is(fm.date_epoch, 1445931000, "yaml: date-time epoch");
	is_str(fm.author, "Els", "yaml: author");
	is_str(fm.summary, "Over de garage\n", "yaml: folded summary");
	ok(fm.nthemes == 2 && !strcmp(fm.themes[0], "snifo-gedrag") &&
		   !strcmp(fm.themes[1], "klanten"),
	   "yaml: themes");
	ok(fm.naliases == 1 && !strcmp(fm.aliases[0], "/oud/garage/"), "yaml: aliases");
	ok(fm.draft, "yaml: draft");
	is(fm.weight, -2, "yaml: weight");
	is_str(value_get_string(fm.meta, "sfeer", NULL), "regen", "yaml: unknown key kept");
	is(value_line(value_get(fm.meta, "weight")), 13, "yaml: value line is the file line");
	is(value_col(value_get(fm.meta, "weight")), 9, "yaml: value column");
	is(fm.body_offset, strstr(yaml_doc, "# Body") - yaml_doc, "yaml: body offset");
	is(fm.body_line, 36, "yaml: body line");

	const value *x = value_get(fm.meta, "extra");
	is(value_integer(value_get(x, "hex")), 31, "yaml: hex integer");
	is(value_integer(value_get(x, "oct")), 15, "yaml: octal integer");
	ok(value_type_of(value_get(x, "float")) == VALUE_FLOAT &&
		   value_float(value_get(x, "float")) == 1500.0,
	   "yaml: float with exponent");
	ok(isinf(value_float(value_get(x, "neg-inf"))) &&
		   value_float(value_get(x, "neg-inf")) < 0,
	   "yaml: -.inf");
	ok(isnan(value_float(value_get(x, "nan"))), "yaml: .NaN");
	ok(value_type_of(value_get(x, "yes")) == VALUE_BOOL && value_bool(value_get(x, "yes")),
	   "yaml: True is a bool, yes is a plain key");
	ok(value_get(x, "nothing") && value_type_of(value_get(x, "nothing")) == VALUE_NULL,
	   "yaml: ~ is null");
	is_str(value_get_string(x, "quoted", NULL), "12", "yaml: quoted scalars are strings");
	is_str(value_get_string(x, "tagged", NULL), "12", "yaml: !!str scalars are strings");
	ok(value_type_of(value_get(x, "day")) == VALUE_DATE_LOCAL, "yaml: date-local");
	ok(value_type_of(value_get(x, "when")) == VALUE_DATETIME &&
		   !strcmp(value_string(value_get(x, "when"), NULL), "2020-02-29T10:00:00Z"),
	   "yaml: date-time with a space normalised");
	ok(value_type_of(value_get(x, "local")) == VALUE_DATETIME_LOCAL,
	   "yaml: datetime-local with fraction");
	is_str(value_get_string(x, "bad-day", NULL), "2021-02-29",
	       "yaml: impossible date stays a string");
	is_str(value_get_string(x, "1", NULL), "one", "yaml: integer key taken as text");
	const value *copy = value_get(x, "copy");
	ok(value_count(copy) == 2 && !strcmp(value_string(value_at(copy, 1), NULL), "b"),
	   "yaml: alias copies the anchored value");
	is(value_line(copy), 31, "yaml: alias at its own line");
	is(value_col(copy), 9, "yaml: alias at its own column");
	is_str(value_get_string(x, "sleutel", NULL), "waarde", "yaml: alias as a key");
	is(value_integer(value_get(x, "min")), INT64_MIN, "yaml: smallest integer");
	frontmatter_release(&fm);

	const char *crlf = "---\r\ntitle: x\r\nweight: 2\r\n---\r\nBody\r\n";
	rc = parse(&fm, crlf, &e);
	is(rc, 0, "yaml crlf: parses");
	is_str(fm.title, "x", "yaml crlf: no CR in values");
	is(value_line(value_get(fm.meta, "weight")), 3, "yaml crlf: value lines");
	is(fm.body_offset, strstr(crlf, "Body") - crlf, "yaml crlf: body offset");
	is(fm.body_line, 5, "yaml crlf: body line");
	frontmatter_release(&fm);

	const char *bom = "\xEF\xBB\xBF---  \ntitle: x\n---\t\nBody";
	rc = parse(&fm, bom, &e);
	is(rc, 0, "bom and trailing blanks on the fences");
	is(fm.body_offset, strstr(bom, "Body") - bom, "bom: body offset");
	frontmatter_release(&fm);

	rc = parse(&fm, "---\ntitle: x\n---", &e);
	is(rc, 0, "closing fence without a newline");
	is(fm.body_offset, 16, "body offset at the end");
	is(fm.body_line, 4, "body line after the fence");
	frontmatter_release(&fm);

	rc = parse(&fm, "---\ntitle: x\ndate: '2016-02-29'\nauthor:\n---\n", &e);
	is(rc, 0, "quoted date and empty author");
	is_str(fm.date, "2016-02-29", "yaml: quoted date");
	ok(fm.author == NULL, "yaml: empty author is unset");
	is(fm.kind, KIND_PAGE, "kind defaults to page");
	frontmatter_release(&fm);
}

static void test_yaml_errors(void)
{
	fails("yaml missing title", "---\nauthor: Els\n---\n", GEN_ECONTENT, 1, 1,
	      "missing 'title' in front matter");
	fails("yaml empty block", "---\n---\n", GEN_ECONTENT, 1, 1,
	      "missing 'title' in front matter");
	fails("empty title", "---\ntitle: \"\"\n---\n", GEN_ECONTENT, 2, 8, "'title' is empty");
	fails("blank title", "---\ntitle: '  '\n---\n", GEN_ECONTENT, 2, 8, "'title' is empty");
	fails("null title", "---\ntitle:\n---\n", GEN_ECONTENT, 2, 7, "'title' is empty");
	fails("title type", "---\ntitle: 1984\n---\n", GEN_ECONTENT, 2, 8,
	      "'title' must be a string, not integer");
	fails("kind type", "---\ntitle: x\nkind: 3\n---\n", GEN_ECONTENT, 3, 7,
	      "'kind' must be a string, not integer");
	fails("unknown kind", "---\ntitle: x\nkind: essay\n---\n", GEN_ECONTENT, 3, 7,
	      "unknown kind 'essay' (expected story, tips or page)");
	fails("date type", "---\ntitle: x\ndate: true\n---\n", GEN_ECONTENT, 3, 7,
	      "'date' must be a date, not bool");
	fails("date 30 february", "---\ntitle: x\ndate: 2015-02-30\n---\n", GEN_ECONTENT, 3,
	      7, "malformed date '2015-02-30' "
	      "(expected one like 2015-03-12, or 2015-03-12T09:30:00+01:00)");
	fails("date 1900 not leap", "---\ntitle: x\ndate: 1900-02-29\n---\n", GEN_ECONTENT,
	      3, 7, "malformed date '1900-02-29' "
	      "(expected one like 2015-03-12, or 2015-03-12T09:30:00+01:00)");
	fails("date word", "---\ntitle: x\ndate: gisteren\n---\n", GEN_ECONTENT, 3, 7,
	      "malformed date 'gisteren' "
	      "(expected one like 2015-03-12, or 2015-03-12T09:30:00+01:00)");
	fails("date bad hour", "---\ntitle: x\ndate: '2015-10-27 25:00:00'\n---\n",
	      GEN_ECONTENT, 3, 7, "malformed date '2015-10-27 25:00:00' "
	      "(expected one like 2015-03-12, or 2015-03-12T09:30:00+01:00)");
	fails("author type", "---\ntitle: x\nauthor: [a]\n---\n", GEN_ECONTENT, 3, 9,
	      "'author' must be a string, not array");
	fails("summary type", "---\ntitle: x\nsummary: 1.5\n---\n", GEN_ECONTENT, 3, 10,
	      "'summary' must be a string, not float");
	fails("themes type", "---\ntitle: x\nthemes: klanten\n---\n", GEN_ECONTENT, 3, 9,
	      "'themes' must be an array of strings, not string");
	fails("themes item type", "---\ntitle: x\nthemes: [a, 2]\n---\n", GEN_ECONTENT, 3,
	      13, "'themes' must be an array of strings, not integer");
	fails("aliases type", "---\ntitle: x\naliases: {a: 1}\n---\n", GEN_ECONTENT, 3, 10,
	      "'aliases' must be an array of strings, not table");
	fails("draft type", "---\ntitle: x\ndraft: \"yes\"\n---\n", GEN_ECONTENT, 3, 8,
	      "'draft' must be a bool, not string");
	fails("weight type", "---\ntitle: x\nweight: 1.5\n---\n", GEN_ECONTENT, 3, 9,
	      "'weight' must be an integer, not float");
	fails("integer out of range", "---\ntitle: x\nweight: 9223372036854775808\n---\n",
	      GEN_EPARSE, 3, 9, "integer '9223372036854775808' is out of range");
	fails("no front matter", "# Titel\n\nTekst\n", GEN_ECONTENT, 1, 1,
	      "missing front matter with a 'title'");
	fails("empty file", "", GEN_ECONTENT, 1, 1, "missing front matter with a 'title'");
	fails("fence with text", "--- x\ntitle: x\n---\n", GEN_ECONTENT, 1, 1,
	      "missing front matter with a 'title'");
	fails("yaml unterminated", "---\ntitle: x\n", GEN_EPARSE, 1, 1,
	      "unterminated front matter (no closing '---')");
	fails("yaml unterminated, toml fence", "---\ntitle: x\n+++\n", GEN_EPARSE, 1, 1,
	      "unterminated front matter (no closing '---')");
	fails("duplicate key", "---\ntitle: a\ntitle: b\n---\n", GEN_EPARSE, 3, 1,
	      "duplicate key 'title'");
	fails("yaml syntax error", "---\ntitle: a: b\n---\n", GEN_EPARSE, 2, 9,
	      "mapping values are not allowed in this context");
	fails("yaml unclosed flow", "---\ntitle: x\nthemes: [a, b\n---\n", GEN_EPARSE, 4, 1,
	      "did not find expected ',' or ']'");
	fails("yaml bad utf-8", "---\ntitle: \xff\n---\n", GEN_EPARSE, 2, 8,
	      "invalid leading utf-8 octet");
	fails("unknown alias", "---\ntitle: *t\n---\n", GEN_EPARSE, 2, 8, "unknown alias 't'");
	fails("complex key", "---\ntitle: x\n? [a]\n: b\n---\n", GEN_EPARSE, 3, 3,
	      "mapping keys must be scalars");
	fails("second yaml document", "---\ntitle: x\n--- # twee\nfoo: 1\n---\n", GEN_EPARSE,
	      3, 1, "front matter holds more than one yaml document");
	fails("top-level sequence", "---\n- a\n---\n", GEN_ECONTENT, 2, 1,
	      "front matter must be a mapping of keys, not array");

	fails("alias bomb",
	      "---\n"
	      "title: lol\n"
	      "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	      "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	      "---\n",
	      GEN_EPARSE, 7, 8, "aliases expand to more than 10000 values");

	buf deep = BUF_INIT;
	buf_puts(&deep, "---\ntitle: x\ndeep: ");
	for (int i = 0; i < 100; i++)
		buf_putc(&deep, '[');
	for (int i = 0; i < 100; i++)
		buf_putc(&deep, ']');
	buf_puts(&deep, "\n---\n");
	/* the root mapping is level 1, so the 64th bracket is level 65 */
	fails("deep nesting", deep.ptr, GEN_EPARSE, 3, 7 + 63,
	      "front matter nests deeper than 64 levels");
	buf_release(&deep);
}

static void test_misc(void)
{
	frontmatter fm;
	memset(&fm, 0, sizeof fm);
	frontmatter_release(&fm);
	ok(fm.title == NULL, "release accepts a zeroed struct");
	is_str(frontmatter_kind_name(KIND_STORY), "story", "kind name story");
	is_str(frontmatter_kind_name(KIND_TIPS), "tips", "kind name tips");
	is_str(frontmatter_kind_name(KIND_PAGE), "page", "kind name page");
}

int main(void)
{
	test_yaml();
	test_yaml_errors();
	test_toml();
	test_misc();
	return done_testing();
}
