/* Unit tests for links: sentences around a link, context cut to length,
 * resolving every form of destination, rewriting to page URLs, and the
 * link graph with its backlinks (per tip, in site order, without links to
 * oneself). */
#include "fixture.h"

#include <string.h>

#include "links.h"
#include "tap.h"

/* The sentence of text that holds needle (its first occurrence). */
static void sentence_is(const char *text, const char *needle, const char *want,
			const char *name)
{
	const char *p = strstr(text, needle);
	size_t a = 0, b = 0;
	if (!p) {
		ok(0, "%s (needle '%s' not in text)", name, needle);
		return;
	}
	links_sentence(text, (size_t)(p - text), (size_t)(p - text) + strlen(needle), &a, &b);
	char got[1024];
	snprintf(got, sizeof got, "%.*s", (int)(b - a), text + a);
	is_str(got, want, name);
}

static void test_sentences(void)
{
	sentence_is("Eerste zin. Tweede zin met de link erin. Derde zin.", "link",
		    "Tweede zin met de link erin.", "the sentence between two others");
	sentence_is("De link staat vooraan. Daarna meer.", "link",
		    "De link staat vooraan.", "a link in the first sentence");
	sentence_is("Eerst dit. Dan de link", "link", "Dan de link",
		    "a last sentence without a full stop");
	sentence_is("Lees bijv. De garage voor meer. Klaar.", "De garage",
		    "Lees bijv. De garage voor meer.", "no end after 'bijv.'");
	sentence_is("Zo doen o.a. De garage en anderen het. Klaar.", "De garage",
		    "Zo doen o.a. De garage en anderen het.", "no end after 'o.a.'");
	sentence_is("Voorwoord. J. de Vries schreef De garage. Eind.", "De garage",
		    "J. de Vries schreef De garage.", "no end after an initial");
	sentence_is("Hij zei: \"Nee.\" Toen las hij De garage. Eind.", "De garage",
		    "Toen las hij De garage.", "an end after a closing quote");
	sentence_is("Hij zei: \xE2\x80\x9CNee.\xE2\x80\x9D Toen las hij De garage.",
		    "De garage", "Toen las hij De garage.", "an end after a curly quote");
	sentence_is("Echt? Lees De garage! Nu.", "De garage", "Lees De garage!",
		    "question and exclamation marks end sentences");
	sentence_is("Tja\xE2\x80\xA6 Lees De garage.", "De garage", "Lees De garage.",
		    "an ellipsis ends a sentence");
	sentence_is("In 2015. Daarna kwam De garage.", "De garage",
		    "Daarna kwam De garage.", "a year before the full stop");
	sentence_is("versie 2.0 is uit. lees de garage maar.", "garage",
		    "versie 2.0 is uit. lees de garage maar.",
		    "no new sentence without a capital");
	sentence_is("Eerst. \xE2\x80\x9C" "De garage\xE2\x80\x9D is goed.", "De garage",
		    "\xE2\x80\x9C" "De garage\xE2\x80\x9D is goed.",
		    "a sentence that opens with a quote");
	sentence_is("Klaar. \xC3\x89\xC3\xA9n link hier.", "link", "\xC3\x89\xC3\xA9n link hier.",
		    "a sentence that opens with an accented capital");
	size_t a = 9, b = 9;
	links_sentence("", 0, 0, &a, &b);
	ok(a == 0 && b == 0, "empty text");

	/* One sentence of 40 KB with the link in the middle: looked for
	 * no further than LINKS_SENTENCE_MAX either side, so that a block
	 * with thousands of links is not read whole for each of them. */
	buf lang = BUF_INIT;
	for (int i = 0; i < 2000; i++)
		buf_puts(&lang, "en nog wat ");
	size_t at = lang.len;
	buf_puts(&lang, "de garage");
	for (int i = 0; i < 2000; i++)
		buf_puts(&lang, " en nog wat");
	buf_puts(&lang, ".");
	links_sentence(lang.ptr, at, at + 9, &a, &b);
	ok(a > 0 && at - a <= LINKS_SENTENCE_MAX,
	   "a long sentence is looked for no further than %d bytes before the link (%zu)",
	   LINKS_SENTENCE_MAX, at - a);
	ok(b < lang.len && b - at - 9 <= LINKS_SENTENCE_MAX, "nor after it (%zu)", b - at - 9);
	/* The context cut from it is that of the whole sentence. */
	links_edge e;
	memset(&e, 0, sizeof e);
	e.block = lang.ptr;
	e.text_start = at;
	e.text_end = at + 9;
	e.sentence_start = a;
	e.sentence_end = b;
	buf before = BUF_INIT, t = BUF_INIT, after = BUF_INIT;
	links_context(&e, 40, &before, &t, &after);
	is_str(before.ptr, "\xE2\x80\xA6" "en nog wat ", "the context before the link, cut");
	is_str(t.ptr, "de garage", "the link's text");
	is_str(after.ptr, " en nog wat en\xE2\x80\xA6", "the context after it, cut");
	buf_release(&before);
	buf_release(&t);
	buf_release(&after);
	buf_release(&lang);
}

static void context_is(const char *block, const char *text, size_t max,
		       const char *want, const char *name)
{
	links_edge e;
	memset(&e, 0, sizeof e);
	e.block = block;
	const char *p = strstr(block, text);
	e.text_start = (size_t)(p - block);
	e.text_end = e.text_start + strlen(text);
	links_sentence(block, e.text_start, e.text_end, &e.sentence_start, &e.sentence_end);
	buf before = BUF_INIT, t = BUF_INIT, after = BUF_INIT, all = BUF_INIT;
	links_context(&e, max, &before, &t, &after);
	buf_printf(&all, "%s[%s]%s", before.ptr, t.ptr, after.ptr);
	is_str(all.ptr, want, name);
	buf_release(&before);
	buf_release(&t);
	buf_release(&after);
	buf_release(&all);
}

static void test_context(void)
{
	context_is("Eerst iets. Lees dan De garage goed. Tot slot.", "De garage", 200,
		   "Lees dan [De garage] goed.", "context is the sentence, link marked");
	context_is("Een heel lange zin met veel woorden vooraf en dan De garage en "
		   "daarna nog veel meer woorden tot het einde van de zin.",
		   "De garage", 40, "\xE2\x80\xA6vooraf en dan [De garage] en daarna nog\xE2\x80\xA6",
		   "a long sentence is cut at words, with an ellipsis on both sides");
	context_is("De garage staat vooraan in een zin die nog heel lang doorgaat "
		   "met woorden.",
		   "De garage", 30, "[De garage] staat vooraan in een\xE2\x80\xA6",
		   "room not needed before goes to after");
	context_is("Vooraf g\xC3\xA9\xC3\xA9n spatie hier: \xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
		   "\xC3\xA9\xC3\xA9 De garage.", "De garage", 14,
		   "\xE2\x80\xA6[De garage].", "cut text stays valid UTF-8");
	links_edge e;
	memset(&e, 0, sizeof e);
	e.block = "Een blok.";
	e.sentence_end = 9;
	e.text_start = e.text_end = 10; /* no position for the text */
	buf before = BUF_INIT, t = BUF_INIT, after = BUF_INIT;
	links_context(&e, 100, &before, &t, &after);
	ok(strcmp(before.ptr, "Een blok.") == 0 && !t.len && !after.len,
	   "without the link's position, the sentence alone");
	buf_release(&before);
	buf_release(&t);
	buf_release(&after);
}

static const char *kind_name(links_kind k)
{
	static const char *const names[] = { "external", "local", "page", "asset",
					     "missing", "outside", "skipped", "failed" };
	return names[k];
}

static void resolve_is(const site *s, const document *from, const char *url,
		       links_kind kind, const char *target, const char *name)
{
	links_target t;
	links_resolve(s, from, url, &t);
	char got[512], want[512];
	snprintf(got, sizeof got, "%s %s", kind_name(t.kind),
		 t.doc ? t.doc->rel : t.rel ? t.rel : "-");
	snprintf(want, sizeof want, "%s %s", kind_name(kind), target);
	is_str(got, want, name);
	links_target_release(&t);
}

static void rewrite_is(const site *s, const document *from, const char *url,
		       const char *want, const char *name)
{
	char *got = links_rewrite(s, from, url, false);
	is_str(got, want, name);
	free(got);
}

static void test_site(void)
{
	fixture_begin();
	fixture_write("site.toml", "title = \"T\"\n");
	fixture_write("content/_index.md", "+++\ntitle = \"Home\"\n+++\nZie [tips](tips/).\n");
	fixture_write("content/verhalen/_index.md", "+++\ntitle = \"Verhalen\"\n+++\nIntro.\n");
	fixture_write("content/tips/_index.md", "+++\ntitle = \"Tips\"\n+++\nAlle tips.\n");
	fixture_write("content/verhalen/a.md",
		      "+++\ntitle = \"A\"\nkind = \"story\"\n+++\n"
		      "## Een kopje\n\n"
		      "Eerst iets. Lees [de tweede tip](../tips/t.md#tip-2) goed. "
		      "En [de lijst](../tips/t.md) ook.\n\n"
		      "Naar [mezelf](a.md#een-kopje) en [b](b.md).\n\n"
		      "![foto](mijn%20foto.png)\n");
	fixture_write("content/verhalen/mijn foto.png", "PNG");
	fixture_write("content/verhalen/b.md",
		      "+++\ntitle = \"B\"\nkind = \"story\"\n+++\n"
		      "Zie [tip twee](../tips/t.md#tip-2) en [A](a.md#een-kopje).\n");
	fixture_write("content/verhalen/concept.md",
		      "+++\ntitle = \"C\"\ndraft = true\n+++\nNog niet.\n");
	fixture_write("content/tips/t.md",
		      "+++\ntitle = \"T\"\nkind = \"tips\"\n+++\n"
		      "1. **Een.** Eerste tip.\n2. **Twee.** Tweede tip.\n\n"
		      "Uit [A](../verhalen/a.md).\n");
	fixture_write("content/diep/map/p.md", "+++\ntitle = \"P\"\n+++\n[A](../../verhalen/a.md)\n");
	site s;
	source *src = NULL;
	diag_list d = DIAG_LIST_INIT;
	if (fixture_load(&s, &src, &d) < 0) {
		ok(0, "fixture loads");
		return;
	}
	const document *a = site_find(&s, "verhalen/a.md");
	const document *home = site_find(&s, "_index.md");
	const document *p = site_find(&s, "diep/map/p.md");
	ok(a && home && p, "fixture loads");
	if (!a || !home || !p)
		return;
	/* site_find by its index, and the same without it. */
	bool all = s.by_rel != NULL;
	for (size_t i = 0; i < s.ndocs; i++)
		all = all && site_find(&s, s.docs[i].rel) == &s.docs[i];
	ok(all, "site_find finds every document by its path");
	ok(!site_find(&s, "verhalen/c.md") && !site_find(&s, "") && !site_find(&s, "verhalen"),
	   "and nothing for a path no document has");
	uint32_t *index = s.by_rel;
	s.by_rel = NULL;
	ok(site_find(&s, "diep/map/p.md") == p && !site_find(&s, "verhalen/c.md"),
	   "the same without the index");
	s.by_rel = index;

	resolve_is(&s, a, "../tips/t.md", LINKS_PAGE, "tips/t.md", "../tips/x.md is a page");
	resolve_is(&s, a, "../tips/t.md#tip-2", LINKS_PAGE, "tips/t.md", "x.md#tip-N is a page");
	resolve_is(&s, a, "b.md", LINKS_PAGE, "verhalen/b.md", "a file in the same folder");
	resolve_is(&s, a, "./b.md", LINKS_PAGE, "verhalen/b.md", "./ is folded");
	resolve_is(&s, a, "../verhalen/b.md#x", LINKS_PAGE, "verhalen/b.md",
		   "../verhalen/y.md#anchor is a page");
	resolve_is(&s, a, "../tips/_index.md", LINKS_PAGE, "tips/_index.md",
		   "a section's _index.md");
	resolve_is(&s, a, "../tips/", LINKS_PAGE, "tips/_index.md",
		   "a folder is its section page");
	resolve_is(&s, a, "../tips", LINKS_PAGE, "tips/_index.md",
		   "a folder without the slash too");
	resolve_is(&s, a, "../", LINKS_PAGE, "_index.md", "the content root is the home page");
	resolve_is(&s, a, "#een-kopje", LINKS_LOCAL, "-", "#anchor is local");
	resolve_is(&s, a, "", LINKS_LOCAL, "-", "an empty destination is local");
	resolve_is(&s, a, "mijn%20foto.png", LINKS_ASSET, "verhalen/mijn foto.png",
		   "%20 is decoded");
	resolve_is(&s, a, "nee.md", LINKS_MISSING, "verhalen/nee.md", "a missing file");
	resolve_is(&s, a, "../../x.md", LINKS_OUTSIDE, "-", "above the content folder");
	resolve_is(&s, a, "concept.md", LINKS_SKIPPED, "verhalen/concept.md", "a draft");
	resolve_is(&s, a, "https://example.org/x.md", LINKS_EXTERNAL, "-", "https is external");
	resolve_is(&s, a, "mailto:a@b.nl", LINKS_EXTERNAL, "-", "mailto is external");
	resolve_is(&s, a, "/abs/x.md", LINKS_EXTERNAL, "-", "a site-absolute path is left alone");
	resolve_is(&s, a, "//host/x", LINKS_EXTERNAL, "-", "a protocol-relative URL too");

	rewrite_is(&s, a, "../tips/t.md#tip-2", "../../tips/t/#tip-2", "rewritten with the tip anchor");
	rewrite_is(&s, a, "../tips/t.md", "../../tips/t/", "rewritten to the page URL");
	rewrite_is(&s, a, "../tips/", "../../tips/", "a folder to the section URL");
	rewrite_is(&s, a, "../tips/_index.md", "../../tips/", "_index.md to the section URL");
	rewrite_is(&s, a, "b.md?x=1#y", "../../verhalen/b/#y", "a query on a page is dropped");
	rewrite_is(&s, a, "mijn%20foto.png", "../../verhalen/mijn%20foto.png",
		   "an image path, found by its name and linked escaped");
	rewrite_is(&s, a, "#een-kopje", NULL, "a local anchor stays");
	rewrite_is(&s, a, "https://example.org/", NULL, "an external link stays");
	rewrite_is(&s, a, "nee.md", NULL, "a broken link stays as written");
	rewrite_is(&s, home, "verhalen/a.md", "verhalen/a/", "from the home page");
	rewrite_is(&s, home, "_index.md", "./", "the home page to itself");
	rewrite_is(&s, p, "../../verhalen/a.md", "../../../verhalen/a/", "from two folders deep");
	char *on = links_rewrite_on(&s, a, "print/", "../tips/t.md#tip-1", false);
	is_str(on, "../tips/t/#tip-1", "rewritten for another page (print/)");
	free(on);
	char *root = links_root("a/b/");
	is_str(root, "../../", "root of a page two deep");
	free(root);
	root = links_root("");
	is_str(root, "./", "root of the home page");
	free(root);

	/* The graph. */
	size_t ia = (size_t)(a - s.docs);
	size_t it = (size_t)(site_find(&s, "tips/t.md") - s.docs);
	links_graph *g = links_graph_new(&s, NULL);
	is(links_out_count(g, ia), 3, "a links to 3 pages (not to itself)");
	const links_edge *e = links_out_at(g, ia, 0);
	is(e->to, it, "first link goes to the tip list");
	is(e->tip, 2, "and to its tip 2");
	is_str(e->anchor, "tip-2", "anchor kept");
	buf before = BUF_INIT, text = BUF_INIT, after = BUF_INIT;
	links_context(e, 200, &before, &text, &after);
	is_str(text.ptr, "de tweede tip", "context: the link text");
	is_str(before.ptr, "Lees ", "context: the sentence before it");
	is_str(after.ptr, " goed.", "context: the rest of the sentence");
	buf_clear(&before);
	buf_clear(&text);
	buf_clear(&after);
	links_context(links_out_at(g, ia, 1), 200, &before, &text, &after);
	is_str(text.ptr, "de lijst", "second link in the same block found after the first");
	is(links_out_at(g, ia, 1)->tip, 0, "a link to the whole list has no tip");
	size_t n_in = links_in_count(g, it);
	is(n_in, 3, "the tip list has 3 backlinks");
	ok(n_in == 3 && links_in_at(g, it, 0)->from == ia &&
	   links_in_at(g, it, 2)->from == (size_t)(site_find(&s, "verhalen/b.md") - s.docs),
	   "backlinks by source in site order");
	is(links_in_count(g, (size_t)(home - s.docs)), 0, "nobody links to the home page");
	is(links_in_count(g, (size_t)(site_find(&s, "tips/_index.md") - s.docs)), 1,
	   "a folder link counts for the section page");
	is(links_graph_errors(g), 0, "no errors without a diag list");
	links_graph_free(g);
	buf_release(&before);
	buf_release(&text);
	buf_release(&after);

	is(links_check(&s, &d), 0, "the fixture has no broken links");
	site_release(&s);
	source_free(src);
	diag_release(&d);
	fixture_end();
}

/* Enough articles for the links to be checked on several threads: the
 * edges and the messages come out the same, in the same order, as on one. */
static void test_threads(void)
{
	fixture_begin();
	fixture_write("site.toml", "title = \"T\"\n");
	char path[64], text[512];
	for (int i = 0; i < 900; i++) {
		snprintf(path, sizeof path, "content/v/a%03d.md", i);
		snprintf(text, sizeof text,
			 "+++\ntitle = \"A%d\"\n+++\n## Kop\n\nZie [b](a%03d.md) en [c](a%03d.md#kop)"
			 "%s.\n",
			 i, (i + 1) % 900, (i * 7) % 900, i % 50 ? "" : " en [weg](nergens.md)");
		fixture_write(path, text);
	}
	site s;
	source *src = NULL;
	diag_list d = DIAG_LIST_INIT;
	if (fixture_load(&s, &src, &d) < 0 || s.ndocs != 900) {
		ok(0, "900 articles load");
		return;
	}
	diag_list one = DIAG_LIST_INIT, four = DIAG_LIST_INIT;
	s.opt_jobs = 1;
	links_graph *g1 = links_graph_new(&s, &one);
	s.opt_jobs = 4;
	links_graph *g4 = links_graph_new(&s, &four);
	bool same = links_graph_errors(g1) == links_graph_errors(g4) && one.n == four.n;
	for (size_t i = 0; same && i < one.n; i++)
		same = one.items[i].line == four.items[i].line &&
		       strcmp(one.items[i].file, four.items[i].file) == 0 &&
		       strcmp(one.items[i].msg, four.items[i].msg) == 0;
	ok(same && one.n == 18, "the same messages on four threads as on one (%zu)", one.n);
	same = true;
	size_t edges = 0;
	for (size_t i = 0; i < s.ndocs; i++) {
		same = same && links_out_count(g1, i) == links_out_count(g4, i) &&
		       links_in_count(g1, i) == links_in_count(g4, i);
		for (size_t k = 0; same && k < links_out_count(g1, i); k++, edges++)
			same = links_out_at(g1, i, k)->to == links_out_at(g4, i, k)->to &&
			       links_out_at(g1, i, k)->sentence_start ==
				       links_out_at(g4, i, k)->sentence_start;
		for (size_t k = 0; same && k < links_in_count(g1, i); k++)
			same = links_in_at(g1, i, k)->from == links_in_at(g4, i, k)->from;
	}
	ok(same && edges == 1794, "and the same edges both ways (%zu; a link to itself is none)", edges);
	links_graph_free(g1);
	links_graph_free(g4);
	diag_release(&one);
	diag_release(&four);
	site_release(&s);
	source_free(src);
	diag_release(&d);
	fixture_end();
}

/* Everything a graph holds and says, as text: each edge (source,
 * target, the link's URL, anchor, tip, the block it stands in and where
 * its sentence and text are) and each message. */
static char *graph_text(const site *s, const links_graph *g, const diag_list *d)
{
	buf out = BUF_INIT;
	for (size_t i = 0; i < s->ndocs; i++) {
		for (size_t k = 0; k < links_out_count(g, i); k++) {
			const links_edge *e = links_out_at(g, i, k);
			buf_printf(&out, "%zu>%zu %s #%s %d [%s] %zu-%zu %zu-%zu\n", e->from, e->to,
				   e->link->url, e->anchor, e->tip, e->block, e->sentence_start,
				   e->sentence_end, e->text_start, e->text_end);
		}
		for (size_t k = 0; k < links_in_count(g, i); k++)
			buf_printf(&out, "%zu<%zu\n", i, links_in_at(g, i, k)->from);
	}
	for (size_t i = 0; i < d->n; i++)
		buf_printf(&out, "%s:%d:%d: %d %s\n", d->items[i].file, d->items[i].line,
			   d->items[i].col, (int)d->items[i].severity, d->items[i].msg);
	buf_printf(&out, "errors %zu\n", links_graph_errors(g));
	return buf_detach(&out);
}

/* The memory of a resident process: after each change, a graph made with
 * it is the one made without, and it holds the articles it can. */
/* The fixture's site loaded, its graph made without a memory and with
 * memory (NULL: none), and both as text with their messages. */
typedef struct compared {
	site s;
	source *src;
	diag_list d, ref, got;
	links_graph *without, *with;
	char *a, *b;
} compared;

static bool compared_load(compared *c, links_memory *memory)
{
	memset(c, 0, sizeof *c);
	if (fixture_load(&c->s, &c->src, &c->d) < 0)
		return false;
	c->without = links_graph_new(&c->s, &c->ref);
	c->with = links_graph_new_with(&c->s, memory, &c->got);
	c->a = graph_text(&c->s, c->without, &c->ref);
	c->b = graph_text(&c->s, c->with, &c->got);
	return true;
}

static void compared_release(compared *c)
{
	free(c->a);
	free(c->b);
	links_graph_free(c->without);
	links_graph_free(c->with);
	diag_release(&c->ref);
	diag_release(&c->got);
	diag_release(&c->d);
	site_release(&c->s);
	source_free(c->src);
}

/* The frozen memory from, copied into to with the first kept edge of
 * the first article that has one changed: its sentence made to end at
 * stretch bytes (0: as it was), its anchor to start at anchor (-1: as it
 * was). Follows links_memory_freeze's order. Returns whether an edge was
 * changed. */
static bool tamper_edge(const buf *from, buf *to, uint64_t stretch, int64_t anchor)
{
	buf_reader rd, *r = &rd;
	buf_reader_init(r, from->ptr, from->len);
	bool changed = false;
	buf_put_varint(to, buf_get_varint(r));
	buf_put_varint(to, buf_get_varint(r));
	uint64_t n = buf_get_varint(r);
	buf_put_varint(to, n);
	for (uint64_t i = 0; i < n && !r->bad; i++) {
		buf_put_varint(to, buf_get_varint(r));
		buf_put_varint(to, buf_get_varint(r));
		uint64_t ne = buf_get_varint(r);
		buf_put_varint(to, ne);
		for (uint64_t k = 0; k < ne && !r->bad; k++) {
			uint64_t target = buf_get_varint(r), link = buf_get_varint(r);
			int64_t anc = buf_get_svarint(r), tip = buf_get_svarint(r);
			uint64_t ss = buf_get_varint(r), se = buf_get_varint(r);
			uint64_t ts = buf_get_varint(r), te = buf_get_varint(r);
			if (!changed) {
				if (stretch)
					se = stretch;
				if (anchor >= 0)
					anc = anchor;
				changed = true;
			}
			buf_put_varint(to, target);
			buf_put_varint(to, link);
			buf_put_svarint(to, anc);
			buf_put_svarint(to, tip);
			buf_put_varint(to, ss);
			buf_put_varint(to, se);
			buf_put_varint(to, ts);
			buf_put_varint(to, te);
		}
		uint64_t nd = buf_get_varint(r);
		buf_put_varint(to, nd);
		for (uint64_t k = 0; k < nd && !r->bad; k++) {
			buf_put_varint(to, buf_get_varint(r));
			buf_put_svarint(to, buf_get_svarint(r));
			buf_put_svarint(to, buf_get_svarint(r));
			const char *msg = buf_get_zstr(r);
			buf_put_zstr(to, msg ? msg : "");
		}
	}
	return changed && !r->bad && r->p == r->end;
}

static void test_memory(void)
{
	enum { N = 300 };
	fixture_begin();
	fixture_write("site.toml", "title = \"T\"\n");
	char path[64], text[768];
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof path, "content/v/a%03d.md", i);
		snprintf(text, sizeof text,
			 "+++\ntitle = \"A%d\"\n+++\nEerste alinea van %d.\n\n## Kop\n\n"
			 "Zie [b](a%03d.md) en [c](a%03d.md#kop)%s. Lees ook [d](a%03d.md#nee).\n",
			 i, i, (i + 1) % N, (i * 7) % N, i % 50 ? "" : " en [weg](nergens.md)",
			 (i + 3) % N);
		fixture_write(path, text);
	}
	/* m as a resident holds it; disk as a one-shot build keeps it,
	 * frozen after each graph and thawed before the next. */
	links_memory *m = links_memory_new(), *disk = links_memory_new();
	buf frozen = BUF_INIT;
	const char *what[] = { "a first graph", "the same articles read again",
			       "an article's text, not its links",
			       "an article with another heading", "an article removed" };
	for (int step = 0; step < 5; step++) {
		switch (step) {
		case 2:
			/* A paragraph before the broken link: its line moves,
			 * and the message must say so. */
			fixture_write("content/v/a050.md",
				      "+++\ntitle = \"A50\"\n+++\nEerste alinea van 50.\n\n"
				      "Een nieuwe alinea.\n\n## Kop\n\n"
				      "Zie [b](a051.md) en [c](a050.md#kop) en [weg](nergens.md). "
				      "Lees ook [d](a053.md#nee).\n");
			break;
		case 3:
			fixture_write("content/v/a007.md",
				      "+++\ntitle = \"A7\"\n+++\nEerste alinea van 7.\n\n## Nee\n\n"
				      "Zie [b](a008.md).\n");
			break;
		case 4: {
			char gone[600];
			snprintf(gone, sizeof gone, "%s/content/v/a123.md", fixture_dir);
			unlink(gone);
			break;
		}
		default:
			break;
		}
		compared cm;
		if (!compared_load(&cm, m)) {
			ok(0, "%s: the articles load", what[step]);
			break;
		}
		site *s = &cm.s;
		ok(strcmp(cm.a, cm.b) == 0 && cm.ref.n > 0,
		   "memory: %s: the graph and messages as without", what[step]);
		size_t want = step == 0 || step >= 3 ? 0 : step == 1 ? s->ndocs : s->ndocs - 1;
		char name[128];
		snprintf(name, sizeof name, "memory: %s: %zu articles' links from it", what[step],
			 want);
		is(links_graph_held(cm.with), want, name);

		buf_reader r;
		buf_reader_init(&r, frozen.ptr, frozen.len);
		bool thawed = links_memory_thaw(disk, &r);
		ok(thawed == (step > 0), "on disk: %s: the last graph's memory reads back",
		   what[step]);
		diag_list got2 = DIAG_LIST_INIT;
		links_graph *from_disk = links_graph_new_with(s, disk, &got2);
		char *c = graph_text(s, from_disk, &got2);
		ok(strcmp(cm.a, c) == 0, "on disk: %s: the graph and messages as without", what[step]);
		snprintf(name, sizeof name, "on disk: %s: %zu articles' links from it", what[step],
			 want);
		is(links_graph_held(from_disk), want, name);
		buf_clear(&frozen);
		links_memory_freeze(disk, &frozen);
		free(c);
		links_graph_free(from_disk);
		diag_release(&got2);
		compared_release(&cm);
	}
	/* A memory whose kept places do not fit the article's Markdown (a
	 * sentence past its block's end, an anchor past its URL's) is not
	 * taken for that article, whose links are resolved again: the
	 * graph is the one made without. */
	for (int bad = 0; bad < 2; bad++) {
		buf worse = BUF_INIT;
		bool changed = tamper_edge(&frozen, &worse, bad == 0 ? 100000 : 0,
					   bad == 1 ? 100000 : -1);
		buf_reader r;
		buf_reader_init(&r, worse.ptr, worse.len);
		bool thawed = changed && links_memory_thaw(disk, &r);
		compared cm;
		if (!compared_load(&cm, disk)) {
			ok(0, "memory that does not fit: the articles load");
			buf_release(&worse);
			break;
		}
		const char *wrong = bad == 0 ? "a sentence past its block" : "an anchor past its URL";
		ok(thawed && links_graph_held(cm.with) == cm.s.ndocs - 1,
		   "memory that does not fit: %s: all but that article's links from it (%zu of %zu)",
		   wrong, links_graph_held(cm.with), cm.s.ndocs);
		ok(strcmp(cm.a, cm.b) == 0, "memory that does not fit: %s: the graph as without",
		   wrong);
		compared_release(&cm);
		buf_release(&worse);
	}
	/* A form cut short anywhere is refused, and leaves no memory. */
	bool refused = frozen.len > 100;
	for (size_t cut = 0; refused && cut < frozen.len; cut += 1 + cut / 8) {
		buf_reader r;
		buf_reader_init(&r, frozen.ptr, cut);
		refused = !links_memory_thaw(disk, &r);
	}
	ok(refused, "on disk: a memory cut short does not read back (%zu bytes)", frozen.len);
	buf_release(&frozen);
	links_memory_free(disk);
	links_memory_free(m);
	fixture_end();
}

int main(void)
{
	test_sentences();
	test_context();
	test_site();
	test_threads();
	test_memory();
	return done_testing();
}
