/* authors: author pages (see authors.h).
 *
 * Authors are found by sorting (author, date, document) triples, so
 * collecting is O(n log n) and the result does not depend on the order
 * of the documents' processing. A handbook has ten thousand bylines and
 * a few dozen names: each name is made a slug once, and the sort
 * compares numbers (the slugs' ranks), not strings. */
#include "authors.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "xalloc.h"

#define AUTHORS_DIR "auteurs/"

typedef struct byline {
	uint32_t rank; /* of its author's slug among all slugs */
	int64_t date;  /* seconds since the epoch, 0 when undated */
	size_t doc;
} byline;

static void slug_of(buf *out, const char *name)
{
	size_t before = out->len;
	text_slug(out, name, strlen(name));
	if (out->len == before)
		buf_puts(out, "auteur"); /* a name of only punctuation */
}

void authors_url(buf *out, const char *name)
{
	buf_puts(out, AUTHORS_DIR);
	slug_of(out, name);
	buf_putc(out, '/');
}

static int byline_cmp(const void *a, const void *b)
{
	const byline *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	/* Newest first; undated last; then by path (docs are sorted by path). */
	if (x->date != y->date)
		return x->date > y->date ? -1 : 1;
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* b[0..n) in byline_cmp's order. Where rank, date and document fit in
 * 64 bits (fewer than 1,024 authors and a million articles, dates within
 * five centuries of each other), each byline is one number that sorts
 * the same way, and the sort compares numbers: a third of the time of
 * comparing the three fields through qsort. */
static void sort_bylines(byline *b, size_t n, uint32_t nranks)
{
	if (n < 2)
		return;
	int64_t lo = b[0].date, hi = b[0].date;
	for (size_t i = 1; i < n; i++) {
		lo = b[i].date < lo ? b[i].date : lo;
		hi = b[i].date > hi ? b[i].date : hi;
	}
	if (nranks > (1u << 10) || b[n - 1].doc >= (1u << 20) ||
	    (uint64_t)hi - (uint64_t)lo >= ((uint64_t)1 << 34)) {
		qsort(b, n, sizeof *b, byline_cmp);
		return;
	}
	uint64_t *key = xmalloc(n * sizeof *key);
	for (size_t i = 0; i < n; i++)
		key[i] = (uint64_t)b[i].rank << 54 | ((uint64_t)hi - (uint64_t)b[i].date) << 20 |
			 (uint64_t)b[i].doc;
	qsort(key, n, sizeof *key, key_cmp);
	/* Every document has one byline: its number finds it again. */
	byline *by_doc = xmalloc((b[n - 1].doc + 1) * sizeof *by_doc);
	for (size_t i = 0; i < n; i++)
		by_doc[b[i].doc] = b[i];
	for (size_t i = 0; i < n; i++)
		b[i] = by_doc[key[i] & ((1u << 20) - 1)];
	free(by_doc);
	free(key);
}

/* Strings to numbers 0, 1, ... in the order first added: open
 * addressing over a power-of-two table, at most half full. */
typedef struct numbering {
	const char **key;  /* borrowed, or the owned slugs */
	uint32_t *num;
	size_t cap, n;
} numbering;

static uint32_t *numbering_find(numbering *t, const char *key, bool *added)
{
	if (2 * (t->n + 1) > t->cap) {
		numbering old = *t;
		t->cap = old.cap ? 2 * old.cap : 64;
		t->key = xcalloc(t->cap, sizeof *t->key);
		t->num = xcalloc(t->cap, sizeof *t->num);
		for (size_t i = 0; i < old.cap; i++) {
			if (!old.key[i])
				continue;
			size_t k = buf_hash64(old.key[i], strlen(old.key[i]), 0) & (t->cap - 1);
			while (t->key[k])
				k = (k + 1) & (t->cap - 1);
			t->key[k] = old.key[i];
			t->num[k] = old.num[i];
		}
		free(old.key);
		free(old.num);
	}
	size_t k = buf_hash64(key, strlen(key), 0) & (t->cap - 1);
	while (t->key[k] && strcmp(t->key[k], key) != 0)
		k = (k + 1) & (t->cap - 1);
	*added = !t->key[k];
	if (*added) {
		t->key[k] = key;
		t->num[k] = (uint32_t)t->n++;
	}
	return &t->num[k];
}

static void numbering_release(numbering *t)
{
	free(t->key);
	free(t->num);
}

typedef struct slug_num {
	const char *slug;
	uint32_t num;
} slug_num;

static int slug_cmp(const void *a, const void *b)
{
	return strcmp(((const slug_num *)a)->slug, ((const slug_num *)b)->slug);
}

void authors_collect(authors *out, const site *s)
{
	memset(out, 0, sizeof *out);
	byline *b = xcalloc(s->ndocs + 1, sizeof *b);
	size_t n = 0;
	/* Each name's slug number, and the slugs (owned) by number: two
	 * spellings of one name share a slug, and so a page. */
	numbering names = { 0 }, slugs = { 0 };
	uint32_t *slug_of_name = NULL;
	char **slug = NULL;
	size_t cap_names = 0;
	buf text = BUF_INIT;
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		if (d->is_index || !d->fm.author || !*d->fm.author)
			continue;
		bool added;
		uint32_t name = *numbering_find(&names, d->fm.author, &added);
		if (added) {
			if (names.n > cap_names) {
				cap_names = cap_names ? 2 * cap_names : 64;
				slug_of_name = xrealloc(slug_of_name, cap_names * sizeof *slug_of_name);
				slug = xrealloc(slug, cap_names * sizeof *slug);
			}
			buf_clear(&text);
			slug_of(&text, d->fm.author);
			char *copy = xstrdup(text.ptr);
			uint32_t num = *numbering_find(&slugs, copy, &added);
			if (added)
				slug[num] = copy;
			else
				free(copy);
			slug_of_name[name] = num;
		}
		b[n].rank = slug_of_name[name];
		b[n].date = d->fm.date_epoch;
		b[n++].doc = i;
	}
	buf_release(&text);
	/* Slug numbers to ranks in the slugs' order. */
	slug_num *order = xmalloc((slugs.n + 1) * sizeof *order);
	uint32_t *rank = xmalloc((slugs.n + 1) * sizeof *rank);
	for (uint32_t k = 0; k < slugs.n; k++)
		order[k] = (slug_num){ slug[k], k };
	qsort(order, slugs.n, sizeof *order, slug_cmp);
	for (uint32_t k = 0; k < slugs.n; k++)
		rank[order[k].num] = k;
	for (size_t i = 0; i < n; i++)
		b[i].rank = rank[b[i].rank];
	sort_bylines(b, n, (uint32_t)slugs.n);

	out->items = xcalloc(slugs.n + 1, sizeof *out->items);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && b[j].rank == b[i].rank)
			j++;
		author *a = &out->items[out->n++];
		a->slug = slug[order[b[i].rank].num];
		a->docs = xcalloc(j - i, sizeof *a->docs);
		/* The name as written in the first article in site order. */
		size_t first = b[i].doc;
		for (size_t k = i; k < j; k++) {
			a->docs[a->ndocs++] = b[k].doc;
			if (b[k].doc < first)
				first = b[k].doc;
		}
		a->name = s->docs[first].fm.author;
		i = j;
	}
	free(order);
	free(rank);
	free(slug);
	free(slug_of_name);
	numbering_release(&names);
	numbering_release(&slugs);
	free(b);
}

void authors_release(authors *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->items[i].slug);
		free(a->items[i].docs);
	}
	free(a->items);
	memset(a, 0, sizeof *a);
}

static void set_str(value *t, const char *key, const char *s)
{
	value_set_cstr(t, key, value_new_cstring(s ? s : ""));
}

/* Home › Auteurs, the trail above an author page. */
static value *crumbs(const renderer *r, bool with_list)
{
	value *a = value_new_array();
	value *home = value_new_table();
	set_str(home, "title", render_i18n(r, "home", "Home"));
	set_str(home, "url", "");
	value_push(a, home);
	if (with_list) {
		value *list = value_new_table();
		set_str(list, "title", render_i18n(r, "authors", "Auteurs"));
		set_str(list, "url", AUTHORS_DIR);
		value_push(a, list);
	}
	return a;
}

static value *author_card(const renderer *r, const site *s, const author *a)
{
	value *c = value_new_table();
	buf url = BUF_INIT;
	buf_printf(&url, AUTHORS_DIR "%s/", a->slug);
	set_str(c, "name", a->name);
	set_str(c, "title", a->name);
	set_str(c, "url", url.ptr);
	value_set_cstr(c, "count", value_new_integer((int64_t)a->ndocs));
	buf count = BUF_INIT;
	buf_printf(&count, "%zu %s", a->ndocs, a->ndocs == 1
			   ? render_i18n(r, "article_one", "artikel")
			   : render_i18n(r, "articles_count", "artikelen"));
	set_str(c, "count_text", count.ptr);
	buf_release(&count);
	/* Kinds for the list: "3 verhalen, 2 tiplijsten" reads better than a
	 * bare number. */
	size_t stories = 0, tips = 0;
	for (size_t i = 0; i < a->ndocs; i++) {
		article_kind k = s->docs[a->docs[i]].fm.kind;
		stories += k == KIND_STORY;
		tips += k == KIND_TIPS;
	}
	value_set_cstr(c, "stories", value_new_integer((int64_t)stories));
	value_set_cstr(c, "tip_lists", value_new_integer((int64_t)tips));
	const document *newest = &s->docs[a->docs[0]];
	if (newest->fm.date) {
		value *card = render_page_card(r, newest);
		value_set_cstr(c, "latest", card);
	}
	buf_release(&url);
	return c;
}

int authors_render(renderer *r, const site *s, const authors *a, output *o,
		   gen_err *err)
{
	int rc = 0;
	/* Author pages are made of facts alone (render_page_kept): when
	 * those are as in the last build, the pages still in the output
	 * are kept without their data being made. */
	bool all_kept = render_page_kept(r, o, AUTHORS_DIR "index.html", 0);
	value *list = value_new_array();
	for (size_t i = 0; i < a->n && rc == 0; i++) {
		const author *au = &a->items[i];
		buf rel = BUF_INIT;
		buf_printf(&rel, AUTHORS_DIR "%s/index.html", au->slug);
		if (all_kept && render_page_kept(r, o, rel.ptr, 0)) {
			buf_release(&rel);
			continue;
		}
		value *card = author_card(r, s, au);
		const char *url = value_get_string(card, "url", "");

		value *data = render_base_data(r, url);
		value *page = value_new_table();
		set_str(page, "title", au->name);
		set_str(page, "url", url);
		value_set_cstr(page, "breadcrumbs", crumbs(r, true));
		value_set_cstr(data, "page", page);
		value *pages = value_new_array();
		for (size_t j = 0; j < au->ndocs; j++)
			value_push(pages, render_card(r, &s->docs[au->docs[j]]));
		value *ad = value_copy(card);
		value_set_cstr(ad, "pages", pages);
		value_set_cstr(data, "author", ad);
		rc = render_page(r, o, "author", rel.ptr, data, err);
		value_free(data);
		buf_release(&rel);
		value_push(list, card);
	}
	if (rc == 0 && !all_kept) {
		value *data = render_base_data(r, AUTHORS_DIR);
		value *page = value_new_table();
		set_str(page, "title", render_i18n(r, "authors", "Auteurs"));
		set_str(page, "url", AUTHORS_DIR);
		value_set_cstr(page, "breadcrumbs", crumbs(r, false));
		value_set_cstr(data, "page", page);
		value_set_cstr(data, "authors", list);
		list = NULL;
		rc = render_page(r, o, "authors", AUTHORS_DIR "index.html", data, err);
		value_free(data);
	}
	value_free(list);
	return rc;
}
