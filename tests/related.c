/* Unit tests for related: scores from shared themes and links in both
 * directions, the order of ties, never the page itself nor a section
 * intro, at most five; and on 10,000 articles that share one theme, work
 * that grows with n, not n². */
#include "fixture.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "links.h"
#include "related.h"
#include "tap.h"

static void article(const char *rel, const char *themes, const char *date,
		    const char *body)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "+++\ntitle = \"%s\"\nkind = \"story\"\nthemes = [%s]\n%s%s%s+++\n%s\n",
		 rel, themes, date ? "date = " : "", date ? date : "", date ? "\n" : "",
		 body);
	char path[512];
	snprintf(path, sizeof path, "content/%s", rel);
	fixture_write(path, text);
}

static size_t doc_index(const site *s, const char *rel)
{
	const document *d = site_find(s, rel);
	return d ? (size_t)(d - s->docs) : (size_t)-1;
}

/* "b e c" : the related pages of rel, by file name without ".md". */
static void related_list(const site *s, const related_index *ri, const char *rel,
			 char *out, size_t size)
{
	size_t doc = doc_index(s, rel);
	out[0] = '\0';
	for (size_t i = 0; i < related_count(ri, doc); i++)
		fixture_append_name(out, size, s->docs[related_at(ri, doc, i)].rel);
}

static void test_scores(void)
{
	fixture_begin();
	fixture_write("site.toml", "title = \"T\"\n");
	fixture_write("content/v/_index.md", "+++\ntitle = \"V\"\nthemes = [\"x\", \"y\"]\n+++\nIntro.\n");
	article("v/a.md", "\"x\", \"y\"", "2019-01-01", "Zie [t](t.md) en [e](e.md).");
	article("v/b.md", "\"y\", \"x\"", "2010-01-01", "Tekst.");
	article("v/c.md", "\"x\"", "2020-01-01", "Tekst.");
	article("v/d.md", "\"x\"", "2001-01-01", "Tekst.");
	article("v/e.md", "", "2000-01-01", "Terug naar [a](a.md) en nog eens [a](a.md#x).");
	article("v/f.md", "\"x\"", NULL, "Tekst.");
	article("v/g.md", "\"x\", \"x\"", "2020-01-01", "Tekst.");
	article("v/t.md", "\"z\"", "2005-01-01", "Tekst.");
	article("v/los.md", "", NULL, "Niets gemeen.");
	site s;
	source *src = NULL;
	diag_list d = DIAG_LIST_INIT;
	if (fixture_load(&s, &src, &d) < 0) {
		ok(0, "fixture loads");
		return;
	}
	links_graph *g = links_graph_new(&s, NULL);
	related_index *ri = related_new(&s, g, RELATED_MAX);
	char list[512];

	related_list(&s, ri, "v/a.md", list, sizeof list);
	is_str(list, "e b t c g",
	       "a: both-way link (8), two themes (6), one-way link (4), then one "
	       "theme, newest first, ties by path");
	size_t a = doc_index(&s, "v/a.md");
	is(related_score_at(ri, a, 0), 2 * RELATED_LINK, "links both ways score twice");
	is(related_score_at(ri, a, 1), 2 * RELATED_THEME, "two shared themes");
	is(related_score_at(ri, a, 2), RELATED_LINK, "one link");
	is(related_score_at(ri, a, 3), RELATED_THEME, "one shared theme");
	is(related_count(ri, a), RELATED_MAX, "at most five");

	related_list(&s, ri, "v/t.md", list, sizeof list);
	is_str(list, "a", "t: only the page that links to it");
	related_list(&s, ri, "v/e.md", list, sizeof list);
	is_str(list, "a", "e: links count both ways, repeated links once");
	related_list(&s, ri, "v/f.md", list, sizeof list);
	is_str(list, "c g a b d", "f (undated): the others with theme x, newest first");
	related_list(&s, ri, "v/los.md", list, sizeof list);
	is_str(list, "", "nothing in common: no related pages");
	related_list(&s, ri, "v/_index.md", list, sizeof list);
	is_str(list, "", "a section intro gets none");

	bool self = false, intro = false;
	for (size_t i = 0; i < s.ndocs; i++)
		for (size_t j = 0; j < related_count(ri, i); j++) {
			self |= related_at(ri, i, j) == i;
			intro |= s.docs[related_at(ri, i, j)].is_index;
		}
	ok(!self, "never the page itself");
	ok(!intro, "never a section intro");

	related_index *three = related_new(&s, g, 3);
	related_list(&s, three, "v/a.md", list, sizeof list);
	is_str(list, "e b t", "a smaller maximum keeps the best");
	related_free(three);
	related_index *again = related_new(&s, g, RELATED_MAX);
	bool same = true;
	for (size_t i = 0; i < s.ndocs; i++) {
		same &= related_count(ri, i) == related_count(again, i);
		for (size_t j = 0; same && j < related_count(ri, i); j++)
			same &= related_at(ri, i, j) == related_at(again, i, j);
	}
	ok(same, "the same input gives the same lists");
	related_free(again);

	/* Kept for the next build: read back as they were, only for the
	 * same inputs. */
	uint64_t key = related_key(&s, g, RELATED_MAX);
	buf m = BUF_INIT;
	related_save(ri, key, &m);
	related_index *back = related_load(m.ptr, m.len, key, s.ndocs);
	same = back != NULL;
	for (size_t i = 0; same && i < s.ndocs; i++) {
		same &= related_count(ri, i) == related_count(back, i);
		for (size_t j = 0; same && j < related_count(ri, i); j++)
			same &= related_at(ri, i, j) == related_at(back, i, j) &&
				related_score_at(ri, i, j) == related_score_at(back, i, j);
	}
	ok(same, "saved and loaded: the same lists and scores");
	related_free(back);
	ok(!related_load(m.ptr, m.len, key ^ 1, s.ndocs), "not for another key");
	ok(!related_load(m.ptr, m.len, key, s.ndocs + 1), "nor for another number of pages");
	ok(!related_load(m.ptr, m.len - 1, key, s.ndocs), "nor cut short");
	ok(related_key(&s, g, 3) != key, "the key depends on the maximum");
	size_t b = doc_index(&s, "v/b.md");
	char **themes = s.docs[b].fm.themes;
	char x[] = "x", z[] = "z";
	char *other[] = { x, z };
	/* An article's front matter is set when it is read, and its
	 * shelving with it (document_shelving): changed here, both are. */
	uint64_t shelving = s.docs[b].shelving;
	s.docs[b].fm.themes = other;
	s.docs[b].shelving = document_shelving(&s.docs[b]);
	ok(s.docs[b].fm.nthemes == 2 && related_key(&s, g, RELATED_MAX) != key, "on the themes");
	s.docs[b].fm.themes = themes;
	s.docs[b].fm.date_epoch++;
	s.docs[b].shelving = document_shelving(&s.docs[b]);
	ok(related_key(&s, g, RELATED_MAX) != key, "on the dates");
	s.docs[b].fm.date_epoch--;
	s.docs[b].shelving = shelving;
	links_graph *none = links_graph_new(&s, NULL);
	ok(related_key(&s, none, RELATED_MAX) == key, "and is the same for the same graph");
	ok(related_key(&s, NULL, RELATED_MAX) != key, "but not without the links");
	links_graph_free(none);
	buf_release(&m);

	related_free(ri);
	links_graph_free(g);
	site_release(&s);
	source_free(src);
	diag_release(&d);
	fixture_end();
}

static void test_scale(void)
{
	enum { N = 10000 };
	fixture_begin();
	fixture_write("site.toml", "title = \"T\"\n");
	char rel[64], body[128];
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof rel, "a/%05d.md", i);
		/* Every article has theme x, every hundredth y as well; each
		 * links to the next one. */
		snprintf(body, sizeof body, "Zie [de volgende](%05d.md).", (i + 1) % N);
		article(rel, i % 100 == 0 ? "\"x\", \"y\"" : "\"x\"", NULL, body);
	}
	site s;
	source *src = NULL;
	diag_list d = DIAG_LIST_INIT;
	if (fixture_load(&s, &src, &d) < 0) {
		ok(0, "10,000 articles load");
		return;
	}
	is(s.ndocs, N, "10,000 articles load");
	links_graph *g = links_graph_new(&s, NULL);
	clock_t t0 = clock();
	related_index *ri = related_new(&s, g, RELATED_MAX);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	diag("related for %d articles: %.3f s of CPU, %zu pairs scored", N, secs,
	     related_work(ri));
	/* Per page: 2 link neighbours, one window per theme and per pair. */
	size_t bound = (size_t)N * (2 + 3 * (2 * RELATED_WINDOW + 1));
	ok(related_work(ri) <= bound, "pairs scored stay within n·k (%zu <= %zu; n² = %zu)",
	   related_work(ri), bound, (size_t)N * N);
	bool full = true;
	for (size_t i = 0; i < s.ndocs; i++)
		full &= related_count(ri, i) == RELATED_MAX;
	ok(full, "every article still gets five");
	/* a/00100.md has x and y: after its two link neighbours (a link and
	 * theme x each), the others with both themes. */
	size_t first = doc_index(&s, "a/00100.md");
	bool pairs = related_count(ri, first) == RELATED_MAX;
	for (size_t j = 2; pairs && j < RELATED_MAX; j++)
		pairs = s.docs[related_at(ri, first, j)].fm.nthemes == 2;
	ok(pairs, "pages sharing two themes are found among thousands sharing one");
	size_t n0 = doc_index(&s, "a/00100.md");
	is(related_score_at(ri, n0, 0), RELATED_LINK + RELATED_THEME,
	   "a linked page with a shared theme comes first");
	related_free(ri);
	links_graph_free(g);
	site_release(&s);
	source_free(src);
	diag_release(&d);
	fixture_end();
}

int main(void)
{
	test_scores();
	test_scale();
	return done_testing();
}
