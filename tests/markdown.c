/* Unit tests for markdown: golden files (tests/data/markdown/NAME.md beside
 * the expected NAME.html), then what parsing collects (headings, tips,
 * links with their file positions, anchors, text) and the guarantees the
 * build relies on (invalid UTF-8 reported by line, parallel parsing gives
 * the same result as serial).
 *
 * GEN_GOLDEN_UPDATE=1 rewrites the expected files from the current output;
 * review the diff before committing it. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under strict C11 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "buf.h"
#include "err.h"
#include "markdown.h"
#include "tap.h"
#include "xalloc.h"

static int read_file(const char *path, buf *out)
{
	FILE *fp = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	buf_clear(out);
	if (!fp)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_put(out, chunk, n);
	fclose(fp);
	return 0;
}

static void data_path(char *path, size_t size, const char *name, const char *ext)
{
	const char *src = getenv("SRCDIR");
	snprintf(path, size, "%s/tests/data/markdown/%s%s", src && *src ? src : ".",
		 name, ext);
}

/* Prints where got and want first differ, with a line of context. */
static void show_diff(const char *got, const char *want)
{
	int line = 1;
	const char *g = got, *w = want, *gl = got, *wl = want;

	while (*g && *g == *w) {
		if (*g == '\n') {
			line++;
			gl = g + 1;
			wl = w + 1;
		}
		g++;
		w++;
	}
	const char *ge = strchr(gl, '\n'), *we = strchr(wl, '\n');
	diag("first difference on line %d:\n  expected: %.*s\n       got: %.*s", line,
	     (int)(we ? we - wl : (long)strlen(wl)), wl,
	     (int)(ge ? ge - gl : (long)strlen(gl)), gl);
}

/* The rewrite the golden file "links" uses: a relative link to x.md goes
 * to x/ (anchors kept), an image gets a media/ prefix, the rest stays. */
static char *rewrite(void *ctx, const char *url, bool image)
{
	int *calls = ctx;
	(*calls)++;
	if (strstr(url, "://") || url[0] == '#')
		return NULL;
	buf b = BUF_INIT;
	if (image) {
		buf_printf(&b, "media/%s", url);
		return buf_detach(&b);
	}
	const char *md = strstr(url, ".md");
	if (!md || (md[3] && md[3] != '#'))
		return NULL;
	buf_put(&b, url, (size_t)(md - url));
	buf_putc(&b, '/');
	buf_puts(&b, md + 3);
	return buf_detach(&b);
}

static markdown_doc *parse(const char *md, const markdown_options *opt,
			   diag_list *diags)
{
	markdown_doc *doc = NULL;
	gen_err e;
	err_clear(&e);
	if (markdown_parse(&doc, "content/x.md", md, strlen(md), opt, diags, &e) < 0) {
		char line[2048];
		err_format(&e, line, sizeof line);
		diag("parse failed: %s", line);
	}
	return doc;
}

static void golden(const char *name, const char *expected, bool tips,
		   bool unsafe_html, bool use_rewrite)
{
	char path[1024];
	buf md = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	markdown_options opt = { 0 };
	int calls = 0;

	opt.tips = tips;
	opt.unsafe_html = unsafe_html;
	data_path(path, sizeof path, name, ".md");
	if (read_file(path, &md) < 0) {
		ok(0, "golden %s: read %s", expected, path);
		goto out;
	}
	markdown_doc *doc = parse(md.ptr, &opt, NULL);
	if (!doc) {
		ok(0, "golden %s: parses", expected);
		goto out;
	}
	markdown_render_html(&got, doc, use_rewrite ? rewrite : NULL, &calls);
	markdown_free(doc);

	data_path(path, sizeof path, expected, ".html");
	if (getenv("GEN_GOLDEN_UPDATE")) {
		FILE *fp = fopen(path, "wb");
		if (fp) {
			fwrite(got.ptr, 1, got.len, fp);
			fclose(fp);
		}
	}
	if (read_file(path, &want) < 0) {
		ok(0, "golden %s: read %s", expected, path);
		goto out;
	}
	if (!ok(strcmp(got.ptr, want.ptr) == 0, "golden %s", expected))
		show_diff(got.ptr, want.ptr);
	if (use_rewrite)
		ok(calls > 0, "golden %s: the rewrite function was called", expected);
out:
	buf_release(&md);
	buf_release(&want);
	buf_release(&got);
}

static void test_golden(void)
{
	golden("basic", "basic", false, false, false);
	golden("headings", "headings", false, false, false);
	golden("tips", "tips", true, false, false);
	golden("gfm", "gfm", false, false, false);
	golden("unsafe", "unsafe", false, false, false);
	golden("unsafe", "unsafe.allowed", false, true, false);
	golden("links", "links", false, false, true);
}

static void test_headings(void)
{
	markdown_options opt = { 0 };
	opt.line_offset = 4;
	markdown_doc *doc = parse("# Wat hier misging?\n\n"
				  "## Ideeën & één\n\n"
				  "## Wat hier misging?\n\n"
				  "### Wat hier misging?\n\n"
				  "## Wat hier misging 1\n\n"
				  "## ***\n\n"
				  "## 🎉\n",
				  &opt, NULL);
	if (!doc)
		return;
	is(markdown_heading_count(doc), 7, "seven headings");
	const markdown_heading *h = markdown_heading_at(doc, 0);
	is(h->level, 1, "level of the first heading");
	is_str(h->text, "Wat hier misging?", "plain text of a heading");
	is_str(h->id, "wat-hier-misging", "slug id");
	is(h->line, 5, "heading line counts the line offset");
	is_str(markdown_heading_at(doc, 1)->id, "ideeen-een", "diacritics folded in ids");
	is_str(markdown_heading_at(doc, 2)->id, "wat-hier-misging-1", "second occurrence gets -1");
	is_str(markdown_heading_at(doc, 3)->id, "wat-hier-misging-2", "third gets -2");
	is_str(markdown_heading_at(doc, 4)->id, "wat-hier-misging-1-1",
	       "a heading whose slug is already taken by a repeat moves on");
	is_str(markdown_heading_at(doc, 5)->id, "kop", "an empty slug becomes 'kop'");
	is_str(markdown_heading_at(doc, 6)->id, "kop-1", "and repeats like any other");
	is(markdown_heading_at(doc, 6)->line, 17, "line of the last heading");
	ok(markdown_heading_at(doc, 7) == NULL, "out of range gives NULL");
	ok(markdown_has_anchor(doc, "wat-hier-misging-2"), "heading ids are anchors");
	ok(!markdown_has_anchor(doc, "wat-hier-misging-3"), "other ids are not");
	markdown_free(doc);
}

static void test_tips(void)
{
	markdown_options opt = { 0 };
	opt.tips = true;
	opt.line_offset = 9;
	markdown_doc *doc = parse("Inleiding.\n\n"
				  "1. **Leg uit waarom.** Zorg dat het duidelijk is.\n"
				  "2. Geen titel, wel **vet** later.\n\n"
				  "Tussentekst.\n\n"
				  "3. **Derde**\n"
				  "   - 1. genest\n\n"
				  "## Tip 2\n",
				  &opt, NULL);
	if (!doc)
		return;
	is(markdown_tip_count(doc), 3, "items of top-level ordered lists are tips");
	const markdown_tip *t = markdown_tip_at(doc, 0);
	is(t->n, 1, "numbered from 1");
	is_str(t->id, "tip-1", "tip id");
	is_str(t->title, "Leg uit waarom.", "a leading bold run is the title");
	is_str(t->text, "Leg uit waarom. Zorg dat het duidelijk is.", "plain text of the item");
	is(t->line, 12, "tip line counts the line offset");
	is_str(markdown_tip_at(doc, 1)->title, "", "bold that does not open the item is no title");
	is_str(markdown_tip_at(doc, 2)->id, "tip-3", "numbering goes on across lists");
	is_str(markdown_tip_at(doc, 2)->text, "Derde genest", "nested lists are part of the text");
	ok(markdown_tip_at(doc, 3) == NULL, "out of range gives NULL");
	ok(markdown_has_anchor(doc, "tip-3"), "tip ids are anchors");
	ok(!markdown_has_anchor(doc, "tip-4"), "beyond the last tip is not");
	is_str(markdown_heading_at(doc, 0)->id, "tip-2-1", "a heading cannot take a tip id");
	markdown_free(doc);

	opt.tips = false;
	doc = parse("1. **Een**\n2. Twee\n", &opt, NULL);
	if (!doc)
		return;
	is(markdown_tip_count(doc), 0, "no tips unless the document is a tip list");
	ok(!markdown_has_anchor(doc, "tip-1"), "and no tip anchors");
	markdown_free(doc);
}

static void check_link(const markdown_doc *doc, size_t i, const char *url,
		       const char *text, int line, int col, const char *what)
{
	const markdown_link *l = markdown_link_at(doc, i);
	if (!l) {
		ok(0, "%s: link %zu exists", what, i);
		return;
	}
	int good = strcmp(l->url, url) == 0 && strcmp(l->text, text) == 0 &&
		   l->line == line && l->col == col;
	if (!ok(good, "%s", what))
		diag("     got: %s '%s' at %d:%d\n  expected: %s '%s' at %d:%d", l->url,
		     l->text, l->line, l->col, url, text, line, col);
}

static void test_links(void)
{
	markdown_options opt = { 0 };
	opt.line_offset = 5; /* front matter of five lines before the body */
	/* Body lines 1-15 are file lines 6-20. */
	markdown_doc *doc = parse(
		"[Begin](a.md) van de regel.\n"                       /* 1 */
		"Midden in [de zin](b.md) en [tweede](c.md).\n"       /* 2 */
		"\n"                                                  /* 3 */
		"- Een item met [item](d.md)\n"                       /* 4 */
		"\n"                                                  /* 5 */
		"| Kolom | Link |\n"                                  /* 6 */
		"|-------|------|\n"                                  /* 7 */
		"| één   | [cel](e.md) |\n"                           /* 8 */
		"\n"                                                  /* 9 */
		"> Citaat\n"                                          /* 10 */
		">   vervolg [citaat](f.md)\n"                        /* 11 */
		"\n"                                                  /* 12 */
		"Een [lange\n"                                        /* 13 */
		"link](g.md), www.example.nl en ![plaatje](h.png).\n" /* 14 */
		"Mail <info@example.nl>.\n",                          /* 15 */
		&opt, NULL);
	if (!doc)
		return;
	is(markdown_link_count(doc), 10, "every link and image is collected");
	check_link(doc, 0, "a.md", "Begin", 6, 1, "a link at the start of a line");
	check_link(doc, 1, "b.md", "de zin", 7, 11, "a link in the middle of a line");
	check_link(doc, 2, "c.md", "tweede", 7, 29, "the second link on a line");
	check_link(doc, 3, "d.md", "item", 9, 16, "a link in a list item");
	check_link(doc, 4, "e.md", "cel", 13, 13, "a link in a table cell (bytes: é is two)");
	check_link(doc, 5, "f.md", "citaat", 16, 13,
		   "a link on a later line of a block quote");
	check_link(doc, 6, "g.md", "lange link", 18, 5,
		   "a link whose text spans two lines starts at its '['");
	check_link(doc, 7, "http://www.example.nl", "www.example.nl", 19, 14,
		   "an extended autolink starts at its first letter");
	check_link(doc, 8, "h.png", "plaatje", 19, 32, "an image starts at its '!'");
	check_link(doc, 9, "mailto:info@example.nl", "info@example.nl", 20, 6,
		   "an autolink in brackets starts at its '<'");
	ok(markdown_link_at(doc, 8)->image && !markdown_link_at(doc, 7)->image,
	   "images are told apart");
	is(markdown_link_at(doc, 3)->block_index, 1, "block index of the list");
	is_str(markdown_block_text(doc, markdown_link_at(doc, 1)->block_index),
	       "Begin van de regel. Midden in de zin en tweede.",
	       "block text around a link; a soft break is a space");
	is_str(markdown_block_text(doc, markdown_link_at(doc, 4)->block_index),
	       "Kolom Link één cel", "block text of a table");
	is_str(markdown_block_text(doc, 99), "", "no such block: empty text");
	is_str(markdown_block_text(doc, -1), "", "negative block index: empty text");
	ok(markdown_link_at(doc, 11) == NULL, "out of range gives NULL");
	markdown_free(doc);
}

static void test_anchors_and_text(void)
{
	markdown_options opt = { 0 };
	markdown_doc *doc = parse("## Aanpak\n\n"
				  "Eerste alinea met *nadruk*,\nover twee regels[^1].\n\n"
				  "Tweede alinea[^noot].\n\n"
				  "[^1]: Voetnoot.\n"
				  "[^noot]: Nog een.\n",
				  &opt, NULL);
	if (!doc)
		return;
	is_str(markdown_first_paragraph(doc), "Eerste alinea met nadruk, over twee regels.",
	       "first paragraph as plain text");
	is(markdown_word_count(doc), 13, "word count of headings, text and footnotes");
	ok(markdown_has_anchor(doc, "aanpak"), "heading anchor");
	ok(markdown_has_anchor(doc, "fn-1") && markdown_has_anchor(doc, "fn-noot"),
	   "footnote anchors");
	ok(markdown_has_anchor(doc, "fnref-noot"), "footnote reference anchors");
	ok(!markdown_has_anchor(doc, "fn-2"), "no anchor for a footnote that is not there");
	ok(!markdown_has_anchor(doc, ""), "the empty id is no anchor");
	markdown_free(doc);

	doc = parse("", &opt, NULL);
	if (!doc)
		return;
	buf b = BUF_INIT;
	markdown_render_html(&b, doc, NULL, NULL);
	is_str(b.ptr, "", "an empty body renders as nothing");
	is_str(markdown_first_paragraph(doc), "", "and has no first paragraph");
	is(markdown_word_count(doc), 0, "nor words");
	is(markdown_heading_count(doc) + markdown_tip_count(doc) + markdown_link_count(doc), 0,
	   "nor headings, tips or links");
	markdown_free(doc);
	buf_release(&b);

	doc = parse("- lijst eerst\n\n> citaat\n\nDan de alinea.\n", &opt, NULL);
	if (doc) {
		is_str(markdown_first_paragraph(doc), "Dan de alinea.",
		       "the first paragraph is the first top-level one");
		markdown_free(doc);
	}
}

static void test_render(void)
{
	markdown_options opt = { 0 };
	buf a = BUF_INIT, b = BUF_INIT;
	markdown_doc *doc = parse("## Kop\n\n[x](x.md) ![y](y.png)\n", &opt, NULL);
	if (!doc)
		return;
	buf_puts(&a, "<main>\n");
	markdown_render_html(&a, doc, NULL, NULL);
	markdown_render_html(&b, doc, NULL, NULL);
	is_str(a.ptr + 7, b.ptr, "rendering appends, and twice gives the same");
	is_str(b.ptr,
	       "<h2 id=\"kop\">Kop <a class=\"anchor\" href=\"#kop\" aria-hidden=\"true\" "
	       "tabindex=\"-1\">#</a></h2>\n"
	       "<p><a href=\"x.md\">x</a> <img src=\"y.png\" alt=\"y\" /></p>\n",
	       "headings carry id and permalink; a NULL rewrite keeps destinations");
	markdown_free(doc);
	buf_release(&a);
	buf_release(&b);
}

static void test_invalid_utf8(void)
{
	markdown_options opt = { 0 };
	diag_list d = DIAG_LIST_INIT;
	buf b = BUF_INIT;

	opt.line_offset = 3;
	markdown_doc *doc = parse("Goed.\nFout \xFF hier\xFE.\nEn \xC3 ook.\r\nWeer goed.\n",
				  &opt, &d);
	if (!doc)
		return;
	is(d.n, 2, "one warning per line with invalid UTF-8");
	is(d.warnings, 2, "as warnings");
	if (d.n == 2) {
		is_str(d.items[0].file, "content/x.md", "warning names the file");
		is(d.items[0].line, 5, "at the file line (body line + offset)");
		is(d.items[0].col, 6, "at the first bad byte");
		is_str(d.items[0].msg, "invalid UTF-8 replaced by U+FFFD", "message");
		is(d.items[1].line, 6, "second bad line");
		is(d.items[1].col, 4, "its column");
	}
	markdown_render_html(&b, doc, NULL, NULL);
	is_str(b.ptr,
	       "<p>Goed.\nFout \xEF\xBF\xBD hier\xEF\xBF\xBD.\nEn \xEF\xBF\xBD ook.\nWeer goed.</p>\n",
	       "each bad sequence renders as U+FFFD");
	markdown_free(doc);
	diag_release(&d);

	doc = parse("Fout \xFF.\n", &opt, NULL);
	ok(doc != NULL, "without a diagnostics list parsing still works");
	markdown_free(doc);
	buf_release(&b);
}

static void test_safety(void)
{
	markdown_options opt = { 0 };
	buf b = BUF_INIT;
	const char *md = "[a](javascript:alert(1)) [b](JavaScript:x) [c](vbscript:x) "
			 "[d](file:///etc/passwd) [e](data:text/html,x) ![f](data:image/png;base64,AA)\n";
	markdown_doc *doc = parse(md, &opt, NULL);
	if (!doc)
		return;
	int calls = 0;
	markdown_render_html(&b, doc, rewrite, &calls);
	is_str(b.ptr,
	       "<p><a href=\"\">a</a> <a href=\"\">b</a> <a href=\"\">c</a> <a href=\"\">d</a> "
	       "<a href=\"\">e</a> <img src=\"media/data:image/png;base64,AA\" alt=\"f\" /></p>\n",
	       "safe mode drops dangerous destinations before any rewrite");
	is(calls, 1, "the rewrite sees only the safe destination");
	markdown_free(doc);

	opt.unsafe_html = true;
	doc = parse(md, &opt, NULL);
	if (!doc)
		return;
	buf_clear(&b);
	markdown_render_html(&b, doc, NULL, NULL);
	ok(strstr(b.ptr, "href=\"javascript:alert(1)\"") != NULL,
	   "unsafe mode keeps them, as cmark-gfm does");
	markdown_free(doc);
	buf_release(&b);
}

/* Parallel parsing must give what serial parsing gives: cmark-gfm keeps
 * the strikethrough and autolink characters in a global table. */
#define THREADS 4
#define ROUNDS 60

static const char *parallel_md =
	"Dit is ~~fout~~ en www.example.nl en info@example.nl, ~~ook~~ fout.\n\n"
	"| a | b |\n|---|---|\n| ~~c~~ | www.d.nl |\n\n"
	"1. **Tip** met https://example.com/pad en ~x~.\n";

static void *parallel_worker(void *arg)
{
	const char *want = arg;
	markdown_options opt = { 0 };
	opt.tips = true;
	long bad = 0;
	for (int i = 0; i < ROUNDS; i++) {
		markdown_doc *doc = NULL;
		gen_err e;
		buf b = BUF_INIT;
		if (markdown_parse(&doc, "p.md", parallel_md, strlen(parallel_md), &opt, NULL,
				   &e) < 0) {
			bad++;
			continue;
		}
		markdown_render_html(&b, doc, NULL, NULL);
		if (strcmp(b.ptr, want) != 0)
			bad++;
		buf_release(&b);
		markdown_free(doc);
	}
	return (void *)bad;
}

static void test_parallel(void)
{
	markdown_options opt = { 0 };
	opt.tips = true;
	buf want = BUF_INIT;
	pthread_t t[THREADS];
	long bad = 0;

	markdown_doc *doc = parse(parallel_md, &opt, NULL);
	if (!doc)
		return;
	markdown_render_html(&want, doc, NULL, NULL);
	markdown_free(doc);
	ok(strstr(want.ptr, "<del>fout</del>") && strstr(want.ptr, "<del>c</del>") &&
		   strstr(want.ptr, "href=\"http://www.d.nl\"") &&
		   strstr(want.ptr, "href=\"mailto:info@example.nl\""),
	   "strikethrough and autolinks in the reference output");
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, parallel_worker, want.ptr);
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	is(bad, 0, "parsing on four threads at once gives the serial output");
	buf_release(&want);
}

/* Everything the later stages can read of a document, as text. */
static void walk_note(void *ctx, markdown_text_kind kind, const char *text,
		      size_t len, const char *anchor)
{
	buf_printf(ctx, "text %d [%s] %.*s\n", (int)kind, anchor, (int)len, text);
}

static void describe(const markdown_doc *doc, buf *out)
{
	for (size_t i = 0; i < markdown_heading_count(doc); i++) {
		const markdown_heading *h = markdown_heading_at(doc, i);
		buf_printf(out, "heading %d %s %s %d\n", h->level, h->id, h->text, h->line);
		buf_printf(out, "anchor %d\n", markdown_has_anchor(doc, h->id));
	}
	for (size_t i = 0; i < markdown_tip_count(doc); i++) {
		const markdown_tip *t = markdown_tip_at(doc, i);
		buf_printf(out, "tip %d %s [%s] %s %d\n", t->n, t->id, t->title, t->text, t->line);
		buf_printf(out, "anchor %d\n", markdown_has_anchor(doc, t->id));
	}
	for (size_t i = 0; i < markdown_link_count(doc); i++) {
		const markdown_link *l = markdown_link_at(doc, i);
		buf_printf(out, "link %s [%s] %d:%d %d %d\n", l->url, l->text, l->line, l->col,
			   l->image, l->block_index);
	}
	/* A block's text is the context of a link: the only use of it, and
	 * all a frozen document keeps. */
	for (size_t i = 0; i < markdown_link_count(doc); i++) {
		int b = markdown_link_at(doc, i)->block_index;
		buf_printf(out, "block %d %s\n", b, markdown_block_text(doc, b));
	}
	buf_printf(out, "block -1 [%s] 99 [%s]\n", markdown_block_text(doc, -1),
		   markdown_block_text(doc, 99));
	buf_printf(out, "first %s\nwords %zu\n", markdown_first_paragraph(doc),
		   markdown_word_count(doc));
	buf_printf(out, "anchor fn-1 %d, nope %d\n", markdown_has_anchor(doc, "fn-1"),
		   markdown_has_anchor(doc, "nope"));
	markdown_walk_text(doc, walk_note, out);
	int calls = 0;
	buf_puts(out, "html rewritten\n");
	markdown_render_html(out, doc, rewrite, &calls);
	buf_printf(out, "rewrites %d\nhtml as written\n", calls);
	markdown_render_html(out, doc, NULL, NULL);
}

/* A frozen document thawed reads and renders exactly as the parsed one,
 * and damaged data is refused, never trusted (the build cache). */
static void test_frozen(void)
{
	static const struct { const char *name; bool tips, unsafe_html; } cases[] = {
		{ "basic", false, false }, { "headings", false, false },
		{ "tips", true, false },   { "gfm", false, false },
		{ "unsafe", false, false }, { "unsafe", false, true },
		{ "links", false, false },
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		char path[1024];
		buf md = BUF_INIT, frozen = BUF_INIT, again = BUF_INIT;
		buf want = BUF_INIT, got = BUF_INIT;
		markdown_options opt = { 0 };
		opt.tips = cases[c].tips;
		opt.unsafe_html = cases[c].unsafe_html;
		opt.line_offset = 3;
		data_path(path, sizeof path, cases[c].name, ".md");
		markdown_doc *doc = read_file(path, &md) == 0 ? parse(md.ptr, &opt, NULL) : NULL;
		if (!ok(doc != NULL, "frozen %s: parses", cases[c].name))
			goto next;
		markdown_freeze(doc, &frozen);
		markdown_doc *thawed = NULL;
		/* Each way of borrowing in turn. */
		markdown_borrow mode = c % 3 == 0 ? MARKDOWN_COPY
				       : c % 3 == 1 ? MARKDOWN_BORROW_TEXT : MARKDOWN_BORROW_ALL;
		ok(markdown_thaw(&thawed, frozen.ptr, frozen.len, mode) == 0, "frozen %s: thaws",
		   cases[c].name);
		if (!thawed) {
			markdown_free(doc);
			goto next;
		}
		describe(doc, &want);
		describe(thawed, &got);
		if (!ok(strcmp(got.ptr, want.ptr) == 0,
			"frozen %s: reads and renders as parsed", cases[c].name))
			show_diff(got.ptr, want.ptr);
		markdown_freeze(thawed, &again);
		ok(again.len == frozen.len && memcmp(again.ptr, frozen.ptr, frozen.len) == 0,
		   "frozen %s: freezes again to the same bytes", cases[c].name);
		markdown_free(thawed);
		markdown_free(doc);

		/* Cut short anywhere: refused. */
		size_t refused = 0;
		for (size_t n = 0; n < frozen.len; n++) {
			markdown_doc *t = NULL;
			if (markdown_thaw(&t, frozen.ptr, n, MARKDOWN_COPY) < 0 && !t)
				refused++;
			markdown_free(t);
		}
		is(refused, frozen.len, "frozen: every truncation is refused");
		/* Damaged bytes: refused or read safely (the sanitizers watch). */
		for (size_t n = 0; n < frozen.len; n += 7) {
			char saved = frozen.ptr[n];
			frozen.ptr[n] = (char)(saved ^ 0x5a);
			markdown_doc *t = NULL;
			if (markdown_thaw(&t, frozen.ptr, frozen.len, MARKDOWN_BORROW_ALL) == 0) {
				buf tmp = BUF_INIT;
				describe(t, &tmp);
				buf_release(&tmp);
			}
			markdown_free(t);
			frozen.ptr[n] = saved;
		}
		/* Trailing bytes: refused. */
		buf_putc(&frozen, 0);
		markdown_doc *t = NULL;
		ok(markdown_thaw(&t, frozen.ptr, frozen.len, MARKDOWN_COPY) < 0 && !t,
		   "frozen %s: trailing bytes are refused", cases[c].name);
next:
		buf_release(&md);
		buf_release(&frozen);
		buf_release(&again);
		buf_release(&want);
		buf_release(&got);
	}
}

/* markdown_thaw_checked: the replay (anchors, HTML, text walk) is the end
 * of the frozen bytes, under a checksum of its own that a borrowing thaw
 * checks when the replay is first read, and a copying one at once. */
static int count_pieces(const markdown_doc *doc)
{
	buf b = BUF_INIT;
	markdown_walk_text(doc, walk_note, &b);
	int n = 0;
	for (size_t i = 0; i < b.len; i++)
		n += b.ptr[i] == '\n';
	buf_release(&b);
	return n;
}

static void test_replay_checked(void)
{
	char path[1024];
	buf md = BUF_INIT, frozen = BUF_INIT, want = BUF_INIT, got = BUF_INIT, again = BUF_INIT;
	markdown_options opt = { 0 };
	data_path(path, sizeof path, "links", ".md");
	markdown_doc *doc = NULL;
	if (read_file(path, &md) == 0) {
		buf_puts(&md, "\n\n## Een kop om naar te linken\n\nMeer tekst.\n");
		doc = parse(md.ptr, &opt, NULL);
	}
	if (!ok(doc != NULL, "checked: parses"))
		goto out;
	size_t replay = markdown_freeze(doc, &frozen);
	ok(replay > 0 && replay < frozen.len, "checked: the replay is part of the bytes (%zu of %zu)",
	   replay, frozen.len);
	describe(doc, &want);
	const char *id = markdown_heading_count(doc) ? markdown_heading_at(doc, 0)->id : "";
	ok(markdown_has_anchor(doc, id), "checked: the parsed document has anchor %s", id);

	atomic_bool damage = false;
	markdown_doc *t = NULL;
	ok(markdown_thaw_checked(&t, frozen.ptr, frozen.len, MARKDOWN_BORROW_ALL, &damage) == 0,
	   "checked: a whole one thaws");
	if (t)
		describe(t, &got);
	ok(t && strcmp(got.ptr, want.ptr) == 0 && !atomic_load(&damage),
	   "checked: reads as parsed, nothing damaged");
	/* Its HTML and text walk read from the bytes each time, not kept
	 * (a build from nothing renders every article: holding them all
	 * was 32 MB of its peak); markdown_facts reads the anchors' table. */
	ok(markdown_replay_held(doc), "held: a parsed document holds its replay");
	ok(t && !markdown_replay_held(t), "held: a borrowing thaw, read as above, holds none of it");
	ok(t && markdown_facts(t, 3) == markdown_facts(doc, 3) && markdown_replay_held(t),
	   "held: its facts are the parsed one's, read into its anchors' table");
	buf_clear(&got);
	if (t)
		describe(t, &got);
	ok(t && strcmp(got.ptr, want.ptr) == 0, "held: and it reads as parsed from there");
	markdown_free(t);

	/* A byte of the replay changed: the thaw does not look at it... */
	size_t at = frozen.len - replay / 2;
	frozen.ptr[at] ^= 0x20;
	t = NULL;
	ok(markdown_thaw_checked(&t, frozen.ptr, frozen.len, MARKDOWN_BORROW_ALL, &damage) == 0 &&
		   !atomic_load(&damage),
	   "checked: a damaged replay thaws, unread");
	if (t) {
		ok(markdown_link_count(t) == markdown_link_count(doc),
		   "checked: the links are there, before the replay");
		ok(!atomic_load(&damage), "checked: and reading them reads no replay");
		/* The anchors' names are before it too: a link's #fragment is
		 * checked in every build, against articles it does not render. */
		ok(markdown_has_anchor(t, id) && !markdown_has_anchor(t, "geen-anker-hier") &&
			   !atomic_load(&damage),
		   "checked: its anchors are known without reading the replay");
		/* ...the first read of it finds the damage. */
		buf html = BUF_INIT;
		markdown_render_html(&html, t, NULL, NULL);
		ok(html.len == 0 && atomic_load(&damage), "checked: the first read finds it damaged: no HTML");
		buf_release(&html);
		is(count_pieces(t), 0, "checked: no text");
		/* Frozen again, it stays as damaged as it came. */
		size_t r2 = markdown_freeze(t, &again);
		ok(r2 == replay && again.len == frozen.len &&
			   memcmp(again.ptr, frozen.ptr, frozen.len) == 0,
		   "checked: frozen again to the same bytes, damage and all");
		markdown_free(t);
	}
	/* Without the check it is read as far as it goes (the caller's
	 * checksum is trusted), and a copying thaw refuses it. */
	atomic_store(&damage, false);
	t = NULL;
	ok(markdown_thaw_checked(&t, frozen.ptr, frozen.len, MARKDOWN_COPY, &damage) < 0 && !t,
	   "checked: a copying thaw refuses a damaged replay");
	frozen.ptr[at] ^= 0x20;
	ok(markdown_thaw_checked(&t, frozen.ptr, frozen.len, MARKDOWN_COPY, &damage) == 0 && t &&
		   markdown_replay_held(t),
	   "checked: and takes a whole one, its replay held");
	markdown_free(t);
	ok(!atomic_load(&damage), "checked: a copying thaw sets no flag");
out:
	markdown_free(doc);
	buf_release(&md);
	buf_release(&frozen);
	buf_release(&want);
	buf_release(&got);
	buf_release(&again);
}

/* A borrowing thaw's headings and tips (its tail) are read only when
 * first asked for: a rebuild reads the links, anchors and first
 * paragraph of every article, and these of the few it renders. Checked on that
 * first read, and damage found then reads as none of them. */
static void test_tail_checked(void)
{
	markdown_options opt = { 0 };
	opt.tips = true;
	buf frozen = BUF_INIT, head = BUF_INIT, want = BUF_INIT, got = BUF_INIT, again = BUF_INIT;
	markdown_doc *doc = parse("Een eerste alinea met [een link](x.md).\n\n"
				  "1. **Luister eerst.** Laat de klant uitpraten.\n"
				  "2. **Vat samen.** Herhaal wat je hoorde.\n\n"
				  "## Een kop in de staart\n\nMeer tekst.\n",
				  &opt, NULL);
	if (!ok(doc != NULL, "tail: parses"))
		goto out;
	size_t tail = 0;
	size_t replay = markdown_freeze_split(doc, &frozen, &frozen, &tail);
	size_t tail_at = frozen.len - replay - tail;
	const char *title = "Een kop in de staart";
	const char *found = NULL;
	for (size_t i = 0; !found && i + strlen(title) <= frozen.len; i++)
		if (memcmp(frozen.ptr + i, title, strlen(title)) == 0)
			found = frozen.ptr + i;
	ok(tail > 0 && found && (size_t)(found - frozen.ptr) >= tail_at &&
		   (size_t)(found - frozen.ptr) < tail_at + tail,
	   "tail: the headings are in it, after the rest (%zu bytes at %zu of %zu)", tail,
	   tail_at, frozen.len);
	markdown_freeze_split(doc, &head, &again, NULL);
	ok(head.len == tail_at + tail, "tail: it ends what goes before the replay");
	buf_clear(&again);
	describe(doc, &want);

	atomic_bool damage = false;
	markdown_doc *t = NULL;
	ok(markdown_thaw_checked(&t, frozen.ptr, frozen.len, MARKDOWN_BORROW_ALL, &damage) == 0 &&
		   t && !markdown_tail_held(t),
	   "tail: a borrowing thaw leaves it unread");
	if (t) {
		ok(markdown_link_count(t) == 1 && markdown_has_anchor(t, "tip-2") &&
			   markdown_word_count(t) == markdown_word_count(doc) &&
			   strcmp(markdown_first_paragraph(t), markdown_first_paragraph(doc)) == 0 &&
			   !markdown_tail_held(t),
		   "tail: links, anchors, words and first paragraph read without it");
		is(markdown_tip_count(t), 2, "tail: asked for, the tips are there");
		ok(markdown_tail_held(t) && !atomic_load(&damage), "tail: read once asked, whole");
		is_str(markdown_heading_at(t, 0)->text, "Een kop in de staart", "tail: the heading");
		describe(t, &got);
		ok(strcmp(got.ptr, want.ptr) == 0, "tail: reads as parsed");
		markdown_freeze(t, &again);
		ok(again.len == frozen.len && memcmp(again.ptr, frozen.ptr, frozen.len) == 0,
		   "tail: frozen again to the same bytes");
		markdown_free(t);
	}
	t = NULL;
	ok(markdown_thaw_checked(&t, frozen.ptr, frozen.len, MARKDOWN_COPY, &damage) == 0 && t &&
		   markdown_tail_held(t),
	   "tail: a copying thaw reads it at once");
	markdown_free(t);

	/* A byte of it changed: unread, nothing is found... */
	frozen.ptr[found - frozen.ptr + 4] ^= 0x20;
	t = NULL;
	ok(markdown_thaw_checked(&t, frozen.ptr, frozen.len, MARKDOWN_BORROW_ALL, &damage) == 0 &&
		   t && !atomic_load(&damage),
	   "tail: a damaged tail thaws, unread");
	if (t) {
		ok(markdown_link_count(t) == 1 && markdown_has_anchor(t, "tip-1") &&
			   !atomic_load(&damage),
		   "tail: and what is before it reads without it");
		/* ...the first read finds it. */
		ok(markdown_heading_count(t) == 0 && markdown_tip_count(t) == 0 &&
			   atomic_load(&damage),
		   "tail: the first read finds it damaged: no headings or tips");
		buf_clear(&again);
		markdown_freeze(t, &again);
		ok(again.len == frozen.len && memcmp(again.ptr, frozen.ptr, frozen.len) == 0,
		   "tail: frozen again damage and all");
		markdown_free(t);
	}
	atomic_store(&damage, false);
	t = NULL;
	ok(markdown_thaw_checked(&t, frozen.ptr, frozen.len, MARKDOWN_COPY, &damage) < 0 && !t,
	   "tail: a copying thaw refuses it");
	ok(markdown_thaw(&t, frozen.ptr, frozen.len, MARKDOWN_BORROW_ALL) == 0 && t &&
		   markdown_heading_count(t) == 1,
	   "tail: without the check it is read as it is (the caller's checksum is trusted)");
	markdown_free(t);
out:
	markdown_free(doc);
	buf_release(&frozen);
	buf_release(&head);
	buf_release(&want);
	buf_release(&got);
	buf_release(&again);
}

/* A borrowing document moved to another copy of its frozen bytes
 * (markdown_rebase) reads as before with the first copy gone; one in a
 * file mapping may drop its pages and reads them back; one in memory of
 * its own ignores markdown_drop_pages. */
static void test_moved(void)
{
	char path[1024];
	buf md = BUF_INIT, frozen = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	markdown_options opt = { 0 };
	data_path(path, sizeof path, "links", ".md");
	buf one = BUF_INIT;
	if (read_file(path, &one) == 0)
		for (int i = 0; i < 30; i++) /* several pages of frozen bytes */
			buf_printf(&md, "%s\n\nAlinea %d.\n\n", one.ptr, i);
	buf_release(&one);
	markdown_doc *doc = md.len ? parse(md.ptr, &opt, NULL) : NULL;
	if (!ok(doc != NULL, "moved: parses"))
		goto out;
	markdown_freeze(doc, &frozen);
	ok(frozen.len > 3 * 4096, "moved: frozen over several pages (%zu bytes)", frozen.len);
	markdown_doc *copy = NULL;
	markdown_thaw(&copy, frozen.ptr, frozen.len, MARKDOWN_COPY);
	describe(copy, &want); /* a frozen document reads only what it keeps */
	markdown_free(copy);

	char *a = xmalloc(frozen.len), *b = xmalloc(frozen.len);
	memcpy(a, frozen.ptr, frozen.len);
	memcpy(b, frozen.ptr, frozen.len);
	markdown_doc *t = NULL;
	markdown_thaw(&t, a, frozen.len, MARKDOWN_BORROW_ALL);
	ok(t && markdown_borrowed(t) == a, "moved: a borrowing document knows its bytes");
	markdown_rebase(t, b);
	memset(a, 'x', frozen.len);
	free(a);
	ok(markdown_borrowed(t) == b, "moved: rebased onto the other copy");
	describe(t, &got);
	if (!ok(strcmp(got.ptr, want.ptr) == 0, "moved: reads and renders as before"))
		show_diff(got.ptr, want.ptr);
	markdown_drop_pages(t); /* not mapped: must leave b alone */
	ok(memcmp(b, frozen.ptr, frozen.len) == 0, "moved: drop_pages leaves memory of its own alone");
	markdown_free(t);
	free(b);

	/* In a file, from an odd offset, over several pages. */
	char file[600];
	const char *tmp = getenv("TMPDIR");
	snprintf(file, sizeof file, "%s/gen-moved.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(file);
	buf content = BUF_INIT;
	for (int i = 0; i < 3001; i++)
		buf_putc(&content, 'p');
	size_t at = content.len;
	for (int k = 0; k < 4; k++)
		buf_put(&content, frozen.ptr, frozen.len);
	ok(fd >= 0 && write(fd, content.ptr, content.len) == (ssize_t)content.len,
	   "moved: frozen bytes in a file");
	void *m = mmap(NULL, content.len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (!ok(m != MAP_FAILED, "moved: mapped"))
		goto unlink;
	t = NULL;
	markdown_thaw(&t, (const char *)m + at, frozen.len, MARKDOWN_BORROW_ALL);
	markdown_set_mapped(t, m, NULL);
	markdown_drop_pages(t);
	buf_clear(&got);
	describe(t, &got);
	ok(strcmp(got.ptr, want.ptr) == 0, "moved: a mapped document drops its pages and reads them back");
	markdown_drop_pages(t);
	markdown_drop_pages(t);
	buf_clear(&got);
	describe(t, &got);
	ok(strcmp(got.ptr, want.ptr) == 0, "moved: as often as asked");
	markdown_free(t);
	munmap(m, content.len);

	/* Dropped in runs (markdown_drops): the file mapped twice, with
	 * memory of the process's own between the two. Neither way of
	 * letting pages go may reach across into it. */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t flen = (content.len + page - 1) / page * page;
	char *area = mmap(NULL, 2 * flen + page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *m1 = area == MAP_FAILED ? MAP_FAILED
		   : mmap(area, flen, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	char *m2 = m1 == MAP_FAILED ? MAP_FAILED
		   : mmap(area + flen + page, flen, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	if (ok(m2 != MAP_FAILED, "runs: the file mapped twice")) {
		memset(area + flen, 'x', page);
		for (int spread = 0; spread < 2; spread++) {
			markdown_doc *t1 = NULL, *t2 = NULL;
			markdown_thaw(&t1, m1 + at, frozen.len, MARKDOWN_BORROW_ALL);
			markdown_thaw(&t2, m2 + at, frozen.len, MARKDOWN_BORROW_ALL);
			markdown_set_mapped(t1, m1, NULL);
			markdown_set_mapped(t2, m2, NULL);
			markdown_drops q;
			memset(&q, 0, sizeof q);
			q.spread = spread;
			markdown_drops_add(&q, t1);
			markdown_drops_add(&q, t2);
			markdown_drops_add(&q, t1);
			markdown_drops_flush(&q);
			size_t kept = 0;
			for (size_t i = 0; i < page; i++)
				kept += area[flen + i] == 'x';
			is(kept, page, spread ? "runs: a spread run stays within its mapping"
					      : "runs: neighbours stay within their mapping");
			buf_clear(&got);
			describe(t1, &got);
			buf g2 = BUF_INIT;
			describe(t2, &g2);
			ok(strcmp(got.ptr, want.ptr) == 0 && strcmp(g2.ptr, want.ptr) == 0,
			   spread ? "runs: spread, both read back" : "runs: neighbours, both read back");
			buf_release(&g2);
			markdown_free(t1);
			markdown_free(t2);
		}
	}
	if (area != MAP_FAILED)
		munmap(area, 2 * flen + page);
unlink:
	if (fd >= 0)
		close(fd);
	unlink(file);
	buf_release(&content);
	markdown_free(doc);
out:
	buf_release(&md);
	buf_release(&frozen);
	buf_release(&want);
	buf_release(&got);
}

/* A borrowing thawed document checks its replay when first asked, and
 * reads its HTML and text walk from the bytes, its anchors' table only
 * for markdown_facts: asked by four threads at once, one of them for the
 * facts in some rounds, each gets what the parsed document gives; asked
 * nothing, it freezes again to the same bytes and frees cleanly. */
typedef struct replay_job {
	const markdown_doc *doc;
	pthread_barrier_t *start;
	buf out;
	bool facts;     /* asks for the facts first */
	uint64_t got;
} replay_job;

static void *replay_worker(void *arg)
{
	replay_job *j = arg;
	pthread_barrier_wait(j->start);
	if (j->facts)
		j->got = markdown_facts(j->doc, 7);
	describe(j->doc, &j->out);
	return NULL;
}

static void test_replay_threads(void)
{
	const char *names[] = { "tips", "links", "gfm" };
	int rounds = 0, same = 0, refrozen = 0, facts = 0, facts_same = 0;
	for (size_t c = 0; c < sizeof names / sizeof *names; c++) {
		char path[1024];
		buf md = BUF_INIT, frozen = BUF_INIT, want = BUF_INIT;
		markdown_options opt = { 0 };
		opt.tips = c == 0;
		data_path(path, sizeof path, names[c], ".md");
		markdown_doc *doc = read_file(path, &md) == 0 ? parse(md.ptr, &opt, NULL) : NULL;
		if (!ok(doc != NULL, "replay %s: parses", names[c]))
			continue;
		markdown_freeze(doc, &frozen);
		describe(doc, &want);
		for (int round = 0; round < 40; round++) {
			markdown_borrow mode = round % 2 ? MARKDOWN_BORROW_TEXT : MARKDOWN_BORROW_ALL;
			markdown_doc *t = NULL;
			if (markdown_thaw(&t, frozen.ptr, frozen.len, mode) < 0)
				break;
			if (round % 10 == 9) {
				/* Asked nothing first: frozen again, then freed. */
				buf again = BUF_INIT;
				markdown_freeze(t, &again);
				refrozen += again.len == frozen.len &&
					    memcmp(again.ptr, frozen.ptr, frozen.len) == 0;
				buf_release(&again);
			}
			pthread_barrier_t start;
			pthread_barrier_init(&start, NULL, THREADS);
			replay_job jobs[THREADS];
			pthread_t th[THREADS];
			for (int i = 0; i < THREADS; i++) {
				jobs[i] = (replay_job){ t, &start, BUF_INIT, i == 1 && round % 3 == 2, 0 };
				pthread_create(&th[i], NULL, replay_worker, &jobs[i]);
			}
			rounds++;
			bool all = true;
			for (int i = 0; i < THREADS; i++) {
				pthread_join(th[i], NULL);
				all = all && strcmp(jobs[i].out.ptr, want.ptr) == 0;
				if (jobs[i].facts) {
					facts++;
					facts_same += jobs[i].got == markdown_facts(doc, 7) &&
						      markdown_replay_held(t);
				}
				buf_release(&jobs[i].out);
			}
			same += all;
			pthread_barrier_destroy(&start);
			markdown_free(t);
		}
		markdown_free(doc);
		buf_release(&md);
		buf_release(&frozen);
		buf_release(&want);
	}
	is(rounds, 120, "replay: 120 thawed documents, each read by four threads at once");
	is(same, rounds, "replay: every thread reads and renders what the parsed document gives");
	is(refrozen, 12, "replay: one asked nothing freezes again to the same bytes");
	is(facts, 39, "replay: in 39 rounds one thread asks for the facts beside the others");
	is(facts_same, facts, "replay: those are the parsed document's, its anchors then held");
}

int main(void)
{
	test_golden();
	test_headings();
	test_tips();
	test_links();
	test_anchors_and_text();
	test_render();
	test_invalid_utf8();
	test_safety();
	test_parallel();
	test_frozen();
	test_replay_threads();
	test_replay_checked();
	test_tail_checked();
	test_moved();
	return done_testing();
}
