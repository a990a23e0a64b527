/* site_memory: the articles gen serve keeps from one build to the next.
 * An article whose path and id are as before comes from the memory (not
 * from the build cache), reads and renders as it did, brings its warnings
 * along, and keeps its record in documents.pack alive; anything else that
 * decides an article (site.toml) makes the memory start over. */
#include "fixture.h"

#include <string.h>

#include "buf.h"
#include "markdown.h"
#include "tap.h"

static int load(site *s, source **src, diag_list *d, site_memory *m, bool cache)
{
	site_options opt = fixture_options();
	opt.cache = cache;
	opt.memory = m;
	char out[600];
	snprintf(out, sizeof out, "%s/public", fixture_dir);
	opt.output = out;
	return fixture_load_with(s, src, d, &opt);
}

/* The HTML of the article at rel, or "" (caller frees). */
static char *html_of(const site *s, const char *rel)
{
	buf b = BUF_INIT;
	const document *d = site_find(s, rel);
	if (d && d->md)
		markdown_render_html(&b, d->md, NULL, NULL);
	return buf_detach(&b);
}

static size_t warnings_for(const diag_list *d, const char *file, int line, int col)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		n += d->items[i].severity == DIAG_WARNING && d->items[i].file &&
		     strcmp(d->items[i].file, file) == 0 && d->items[i].line == line &&
		     d->items[i].col == col;
	return n;
}

static void write_site(const char *title)
{
	char toml[200];
	snprintf(toml, sizeof toml, "title = \"%s\"\n", title);
	fixture_write("site.toml", toml);
}

static void test_memory(bool cache)
{
	const char *how = cache ? "with the cache" : "without the cache";
	fixture_begin();
	write_site("Handboek");
	fixture_write("content/_index.md", "+++\ntitle = \"Welkom\"\n+++\nHallo.\n");
	fixture_write("content/verhalen/a.md",
		      "+++\ntitle = \"A\"\n+++\nEen zin.\n\nEen \xff slecht teken.\n");
	fixture_write("content/verhalen/b.md", "+++\ntitle = \"B\"\n+++\nOud.\n");
	fixture_write("content/verhalen/c.md", "+++\ntitle = \"C\"\ndraft = true\n+++\nConcept.\n");
	site_memory *m = site_memory_new();
	site s;
	source *src = NULL;
	diag_list d = DIAG_LIST_INIT;

	is(load(&s, &src, &d, m, cache), 0, "first load");
	is(s.ndocs, 3, "three articles published, the draft left out");
	is(s.memory_hits, 0, "an empty memory gives nothing");
	is(warnings_for(&d, "content/verhalen/a.md", 6, 5), 1, "a.md warns of its bad byte");
	char *a1 = html_of(&s, "verhalen/a.md");
	ok(strstr(a1, "Een zin.") != NULL, "a.md renders");
	site_release(&s);
	source_free(src);
	diag_release(&d);

	is(load(&s, &src, &d, m, cache), 0, "second load");
	is(s.memory_hits, 3, "every article comes from the memory");
	if (cache)
		is(s.cache_hits, 4, "counted as from the cache, with the draft, read from "
				    "there: the memory holds only what was published");
	is(warnings_for(&d, "content/verhalen/a.md", 6, 5), 1,
	   "a.md's warning comes along, at its line and column");
	char *a2 = html_of(&s, "verhalen/a.md");
	is_str(a2, a1, "a.md renders as before");
	const document *b = site_find(&s, "verhalen/b.md");
	is_str(b ? b->fm.title : "", "B", "b.md has its title");
	free(a2);
	site_release(&s);
	source_free(src);
	diag_release(&d);

	fixture_write("content/verhalen/b.md", "+++\ntitle = \"B2\"\n+++\nNieuw.\n");
	is(load(&s, &src, &d, m, cache), 0, "a load after b.md changed");
	is(s.memory_hits, 2, "the two others come from the memory");
	b = site_find(&s, "verhalen/b.md");
	is_str(b ? b->fm.title : "", "B2", "b.md is parsed again");
	char *b3 = html_of(&s, "verhalen/b.md");
	ok(strstr(b3, "Nieuw.") != NULL && !strstr(b3, "Oud."), "with its new text");
	free(b3);
	a2 = html_of(&s, "verhalen/a.md");
	is_str(a2, a1, "a.md, held over two builds, still renders as before");
	free(a2);
	site_release(&s);
	source_free(src);
	diag_release(&d);

	if (cache) {
		/* A build without the memory reads what documents.pack kept:
		 * the articles taken from the memory kept their records. */
		is(load(&s, &src, &d, NULL, cache), 0, "a load without the memory");
		is(s.cache_hits, 4, "finds every article in documents.pack");
		site_release(&s);
		source_free(src);
		diag_release(&d);
	}

	write_site("Ander handboek");
	is(load(&s, &src, &d, m, cache), 0, "a load after site.toml changed");
	is(s.memory_hits, 0, "takes nothing from the memory");
	a2 = html_of(&s, "verhalen/a.md");
	is_str(a2, a1, "a.md renders as before");
	free(a2);
	site_release(&s);
	source_free(src);
	diag_release(&d);
	is(load(&s, &src, &d, m, cache), 0, "and the next");
	is(s.memory_hits, 3, "has all of them in memory again");
	site_release(&s);
	source_free(src);
	diag_release(&d);

	free(a1);
	site_memory_free(m);
	fixture_end();
	diag("(%s)", how);
}

/* Every edit leaves its article borrowing from that build's cache: the
 * memory keeps up to sixteen such caches, then lets the older articles
 * go. */
#define NV 20

static void test_many_edits(void)
{
	fixture_begin();
	write_site("Handboek");
	char path[64], text[128];
	for (int i = 0; i < NV; i++) {
		snprintf(path, sizeof path, "content/verhalen/v%d.md", i);
		snprintf(text, sizeof text, "+++\ntitle = \"V%d\"\n+++\nVersie 0 van %d.\n", i, i);
		fixture_write(path, text);
	}
	site_memory *m = site_memory_new();
	site s;
	source *src = NULL;
	diag_list d = DIAG_LIST_INIT;
	is(load(&s, &src, &d, m, true), 0, "many edits: first load");
	site_release(&s);
	source_free(src);
	diag_release(&d);
	size_t hits[NV];
	bool good = true;
	for (int e = 0; e < NV; e++) {
		snprintf(path, sizeof path, "content/verhalen/v%d.md", e);
		snprintf(text, sizeof text, "+++\ntitle = \"V%d\"\n+++\nVersie 1 van %d.\n", e, e);
		fixture_write(path, text);
		good = good && load(&s, &src, &d, m, true) == 0;
		hits[e] = s.memory_hits;
		/* Every article, from wherever it came, reads as it should. */
		for (int i = 0; i < NV; i++) {
			char rel[32], want[32];
			snprintf(rel, sizeof rel, "verhalen/v%d.md", i);
			snprintf(want, sizeof want, "Versie %d van %d.", i <= e ? 1 : 0, i);
			char *html = html_of(&s, rel);
			if (!strstr(html, want)) {
				diag("after edit %d, %s: %s", e, rel, html);
				good = false;
			}
			free(html);
		}
		site_release(&s);
		source_free(src);
		diag_release(&d);
	}
	ok(good, "many edits: every article renders its latest text after each edit");
	is(hits[0], NV - 1, "many edits: the first edit takes all the others from memory");
	is(hits[15], NV - 1, "many edits: so does the sixteenth");
	size_t least = NV - 1;
	for (int e = 0; e < NV; e++)
		least = hits[e] < least ? hits[e] : least;
	ok(least < NV - 1, "many edits: after sixteen, the memory lets older articles go "
			   "(fewest taken: %zu)", least);
	is(hits[NV - 1], NV - 1, "many edits: and holds them all again after");
	site_memory_free(m);
	fixture_end();
}

int main(void)
{
	test_memory(true);
	test_memory(false);
	test_many_edits();
	return done_testing();
}
