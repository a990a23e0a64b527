/* authors: author pages (see authors.h).
 *
 * Authors are found by sorting (slug, document) pairs, so collecting is
 * O(n log n) and the result does not depend on the order of the
 * documents' processing. */
#include "authors.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "xalloc.h"

#define AUTHORS_DIR "auteurs/"

typedef struct byline {
	char *slug;
	int64_t date; /* seconds since the epoch, 0 when undated */
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
	int c = strcmp(x->slug, y->slug);
	if (c)
		return c;
	/* Newest first; undated last; then by path (docs are sorted by path). */
	if (x->date != y->date)
		return x->date > y->date ? -1 : 1;
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

void authors_collect(authors *out, const site *s)
{
	memset(out, 0, sizeof *out);
	byline *b = xcalloc(s->ndocs + 1, sizeof *b);
	size_t n = 0;
	buf slug = BUF_INIT;
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		if (d->is_index || !d->fm.author || !*d->fm.author)
			continue;
		buf_clear(&slug);
		slug_of(&slug, d->fm.author);
		b[n].slug = xstrdup(slug.ptr);
		b[n].date = d->fm.date_epoch;
		b[n++].doc = i;
	}
	buf_release(&slug);
	qsort(b, n, sizeof *b, byline_cmp);

	out->items = xcalloc(n + 1, sizeof *out->items);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && strcmp(b[j].slug, b[i].slug) == 0)
			j++;
		author *a = &out->items[out->n++];
		a->slug = b[i].slug;
		a->docs = xcalloc(j - i, sizeof *a->docs);
		/* The name as written in the first article in site order. */
		size_t first = b[i].doc;
		for (size_t k = i; k < j; k++) {
			a->docs[a->ndocs++] = b[k].doc;
			if (b[k].doc < first)
				first = b[k].doc;
			if (k > i)
				free(b[k].slug);
		}
		a->name = s->docs[first].fm.author;
		i = j;
	}
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
