/* Unit tests for authors_collect: one author per slug, whatever the
 * spelling, named as the first article in site order writes it; authors
 * in the order of their slugs; each author's articles newest first,
 * undated last, then by path, also with dates centuries apart; section
 * intros and articles without an author left out; and on 10,000
 * articles by 40 names, the same answer as a plain sort of (slug, date,
 * path). */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authors.h"
#include "tap.h"

static void article(const char *rel, const char *who, const char *date)
{
	char text[1024];
	snprintf(text, sizeof text, "+++\ntitle = \"%s\"\nkind = \"story\"\n%s%s%s%s%s%s+++\nTekst.\n",
		 rel, who ? "author = \"" : "", who ? who : "", who ? "\"\n" : "",
		 date ? "date = " : "", date ? date : "", date ? "\n" : "");
	char path[512];
	snprintf(path, sizeof path, "content/%s", rel);
	fixture_write(path, text);
}

/* "a c b": an author's articles by file name without ".md". */
static void docs_of(const site *s, const author *a, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < a->ndocs; i++)
		fixture_append_name(out, size, s->docs[a->docs[i]].rel);
}

/* Loads the fixture and collects its authors into a; false (and a
 * failed test named for what) when the fixture does not load. */
static bool load(site *s, source **src, diag_list *d, authors *a, const char *what)
{
	*src = NULL;
	*d = (diag_list)DIAG_LIST_INIT;
	if (fixture_load(s, src, d) < 0) {
		ok(0, "%s: the fixture loads", what);
		return false;
	}
	authors_collect(a, s);
	return true;
}

static void release(site *s, source *src, diag_list *d, authors *a)
{
	authors_release(a);
	site_release(s);
	source_free(src);
	diag_release(d);
}

static void test_small(void)
{
	fixture_begin();
	fixture_write("site.toml", "title = \"T\"\n");
	fixture_write("content/v/_index.md",
		      "+++\ntitle = \"V\"\nauthor = \"Intro Schrijver\"\n+++\nIntro.\n");
	article("v/a.md", "José Vos", "2019-01-01");
	article("v/b.md", "Jose Vos", "2021-06-01");
	article("v/c.md", "JOSÉ VOS", NULL);
	article("v/d.md", "Anna Bakker", "2001-01-01");
	article("v/e.md", NULL, "2020-01-01");
	article("v/f.md", "Zeger Zwart", "2005-01-01");
	article("v/g.md", "Anna Bakker", "2001-01-01");
	article("v/h.md", "jose vos", "2021-06-01");
	site s;
	source *src;
	diag_list d;
	authors a;
	if (!load(&s, &src, &d, &a, "small"))
		return;
	is((long)a.n, 3, "small: three authors: spellings of one slug are one, no intro, no blank");
	char got[256];
	if (a.n == 3) {
		is_str(a.items[0].slug, "anna-bakker", "small: authors by slug: anna-bakker first");
		is_str(a.items[1].slug, "jose-vos", "small: then jose-vos");
		is_str(a.items[2].slug, "zeger-zwart", "small: then zeger-zwart");
		is_str(a.items[1].name, "José Vos",
		       "small: named as the first article in site order writes it");
		docs_of(&s, &a.items[1], got, sizeof got);
		is_str(got, "b h a c", "small: newest first, a tie by path, undated last");
		docs_of(&s, &a.items[0], got, sizeof got);
		is_str(got, "d g", "small: the same date: by path");
	}
	release(&s, src, &d, &a);
}

/* Dates more than five centuries apart: the bylines are sorted field by
 * field, in the same order. */
static void test_far_dates(void)
{
	fixture_begin();
	fixture_write("site.toml", "title = \"T\"\n");
	article("v/a.md", "Oude Schrijver", "1400-05-01");
	article("v/b.md", "Oude Schrijver", "2020-05-01");
	article("v/c.md", "Oude Schrijver", "1999-05-01");
	site s;
	source *src;
	diag_list d;
	authors a;
	if (!load(&s, &src, &d, &a, "far dates"))
		return;
	char got[256];
	if (a.n == 1)
		docs_of(&s, &a.items[0], got, sizeof got);
	ok(a.n == 1 && strcmp(got, "b c a") == 0, "far dates: newest first all the same");
	release(&s, src, &d, &a);
}

/* The reference: (slug, date, doc) sorted with string compares. */
typedef struct ref {
	char slug[64];
	int64_t date;
	size_t doc;
} ref;

static int ref_cmp(const void *a, const void *b)
{
	const ref *x = a, *y = b;
	int c = strcmp(x->slug, y->slug);
	if (c)
		return c;
	if (x->date != y->date)
		return x->date > y->date ? -1 : 1;
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

static void test_many(void)
{
	enum { N = 10000, NAMES = 40 };
	fixture_begin();
	fixture_write("site.toml", "title = \"T\"\n");
	unsigned seed = 7;
	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned k = (seed >> 8) % NAMES;
		char rel[64], name[64], date[32];
		snprintf(rel, sizeof rel, "v/a%05d.md", i);
		/* Every fifth name also written in capitals: the same slug. */
		snprintf(name, sizeof name, (seed >> 20) % 5 ? "Schrijver %u" : "SCHRIJVER %u", k);
		snprintf(date, sizeof date, "2020-%02u-%02u", 1 + (seed >> 12) % 12, 1 + (seed >> 4) % 28);
		article(rel, name, (seed >> 3) % 7 ? date : NULL);
	}
	site s;
	source *src;
	diag_list d;
	authors a;
	if (!load(&s, &src, &d, &a, "many"))
		return;
	ref *r = calloc(s.ndocs, sizeof *r);
	size_t n = 0;
	for (size_t i = 0; i < s.ndocs; i++) {
		buf url = BUF_INIT;
		authors_url(&url, s.docs[i].fm.author);
		/* "auteurs/SLUG/" */
		snprintf(r[n].slug, sizeof r[n].slug, "%.*s", (int)(url.len - 9), url.ptr + 8);
		buf_release(&url);
		r[n].date = s.docs[i].fm.date_epoch;
		r[n++].doc = i;
	}
	qsort(r, n, sizeof *r, ref_cmp);
	is((long)a.n, NAMES, "many: one author per slug");
	size_t k = 0, bad = 0;
	for (size_t i = 0; i < a.n; i++)
		for (size_t j = 0; j < a.items[i].ndocs; j++, k++)
			if (k >= n || strcmp(r[k].slug, a.items[i].slug) != 0 ||
			    r[k].doc != a.items[i].docs[j])
				bad++;
	is((long)k, (long)n, "many: every article once");
	is((long)bad, 0, "many: the order of a sort by (slug, date, path)");
	free(r);
	release(&s, src, &d, &a);
}

int main(void)
{
	test_small();
	test_far_dates();
	test_many();
	fixture_end();
	return done_testing();
}
