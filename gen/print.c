/* print: the whole handbook on one page (see print.h).
 *
 * Article bodies are rendered again here, with a rewrite function that
 * knows which pages are in the book: a link to one of them becomes
 * "#ARTICLE--anchor", marked with an escape character (put out as "%1F")
 * so that the pass that prefixes the body's own ids can tell it from a
 * local "#anchor" and leave it alone. The mark cannot come from an
 * author: the renderer percent-encodes control characters in URLs, and a
 * literal "%1F" right after '#' means nothing to any page. */
#include "print.h"

#include <stdlib.h>
#include <string.h>

#include "links.h"
#include "text.h"
#include "template.h"
#include "xalloc.h"

#define MARK "\x1F"
#define MARK_OUT "%1F"

typedef struct book {
	const site *s;
	const xref *x;
	char **prefix;    /* per document: its id on the page, NULL when not in the book */
	const char **ids; /* every id handed out: open addressing, power of two */
	size_t nids, capids;
	char **parts;     /* part ids (owned) */
	size_t nparts;
} book;

typedef struct rewrite_ctx {
	const book *b;
	const document *d;
} rewrite_ctx;

static char *rewrite(void *ctx, const char *url, bool image)
{
	const rewrite_ctx *c = ctx;
	const book *b = c->b;
	links_target t;
	links_resolve(b->s, c->d, url, &t);
	links_kind kind = t.kind;
	char *res = NULL;
	if (t.kind == LINKS_PAGE && !image) {
		const char *p = b->prefix[t.doc - b->s->docs];
		if (p) {
			buf u = BUF_INIT;
			buf_printf(&u, "#" MARK "%s", p);
			if (t.anchor && *t.anchor)
				buf_printf(&u, "--%s", t.anchor);
			res = buf_detach(&u);
		}
	}
	links_target_release(&t);
	if (!res && kind != LINKS_LOCAL)
		res = links_rewrite_on(b->s, c->d, PRINT_URL, url, image);
	return res;
}

void print_prefix_ids(buf *out, const char *html, const char *prefix, int shift)
{
	/* Bytes between the places that change are copied as runs: the
	 * book is the whole handbook, so this loop sees every byte of it. */
	const char *p = html, *run = html;
	size_t plen = strlen(prefix);
	while (*p) {
		const char *keep = NULL; /* what replaces p[0..skip) */
		size_t skip = 0;
		bool add_prefix = false;
		if (p[0] == ' ' && p[1] == 'i' && strncmp(p, " id=\"", 5) == 0) {
			keep = " id=\"";
			skip = 5;
			add_prefix = true;
		} else if (p[0] == 'h' && p[1] == 'r' && strncmp(p, "href=\"#", 7) == 0) {
			keep = "href=\"#";
			skip = 7;
			if (strncmp(p + 7, MARK_OUT, 3) == 0)
				skip += 3;
			else
				add_prefix = true;
		} else if (p[0] == '<' &&
			   ((p[1] == 'h' && p[2] >= '1' && p[2] <= '6' && (p[3] == '>' || p[3] == ' ')) ||
			    (p[1] == '/' && p[2] == 'h' && p[3] >= '1' && p[3] <= '6' && p[4] == '>'))) {
			bool close = p[1] == '/';
			int level = p[close ? 3 : 2] - '0' + shift;
			char digit = (char)('0' + (level > 6 ? 6 : level));
			buf_put(out, run, (size_t)(p - run));
			buf_puts(out, close ? "</h" : "<h");
			buf_putc(out, digit);
			p += close ? 4 : 3;
			run = p;
			continue;
		}
		if (!keep) {
			p++;
			continue;
		}
		buf_put(out, run, (size_t)(p - run));
		buf_puts(out, keep);
		if (add_prefix) {
			buf_put(out, prefix, plen);
			buf_puts(out, "--");
		}
		p += skip;
		run = p;
	}
	buf_put(out, run, (size_t)(p - run));
}

static size_t hash(const char *s)
{
	size_t h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static const char **id_slot(const book *b, const char *id)
{
	size_t mask = b->capids - 1;
	for (size_t i = hash(id) & mask;; i = (i + 1) & mask)
		if (!b->ids[i] || strcmp(b->ids[i], id) == 0)
			return &b->ids[i];
}

/* Makes want unique on the page ("x", "x-2", ...) and records it. The
 * book keeps the string: b->ids points into the prefixes and part ids. */
static char *claim(book *b, const char *want)
{
	if (2 * (b->nids + 1) > b->capids) {
		const char **old = b->ids;
		size_t oldcap = b->capids;
		b->capids = oldcap ? oldcap * 2 : 64;
		b->ids = xcalloc(b->capids, sizeof *b->ids);
		for (size_t i = 0; i < oldcap; i++)
			if (old[i])
				*id_slot(b, old[i]) = old[i];
		free(old);
	}
	buf id = BUF_INIT;
	buf_puts(&id, *want ? want : "artikel");
	size_t base = id.len;
	for (int k = 2; *id_slot(b, id.ptr); k++) {
		buf_truncate(&id, base);
		buf_printf(&id, "-%d", k);
	}
	char *res = buf_detach(&id);
	*id_slot(b, res) = res;
	b->nids++;
	return res;
}

/* Gives a document in the book its id from its path:
 * "verhalen/de-garage.md" -> "verhalen-de-garage". */
static void assign_prefix(book *b, size_t doc)
{
	const document *d = &b->s->docs[doc];
	if (b->prefix[doc])
		return;
	buf slug = BUF_INIT;
	size_t rl = strlen(d->rel);
	text_slug(&slug, d->rel, rl > 3 ? rl - 3 : rl);
	b->prefix[doc] = claim(b, slug.ptr);
	buf_release(&slug);
}

static void set_str(value *t, const char *key, const char *s)
{
	value_set_cstr(t, key, value_new_cstring(s ? s : ""));
}

static value *article(const book *b, const renderer *r, size_t doc, size_t step,
		      bool intro)
{
	const document *d = &b->s->docs[doc];
	value *a = render_page_card(r, d);
	const char *prefix = b->prefix[doc];
	set_str(a, "id", prefix);
	value_set_cstr(a, "is_intro", value_new_bool(intro));
	if (step)
		value_set_cstr(a, "step", value_new_integer((int64_t)step));
	/* The article's HTML is made only when the page is written out
	 * (article_html): the book holds all of them. */
	char key[32];
	snprintf(key, sizeof key, "%zu", doc);
	value *content = value_new_cstring(key);
	value_set_flags(content, TEMPLATE_LATE);
	value_set_cstr(a, "content", content);
	return a;
}

/* The HTML of the article a TEMPLATE_LATE key names, its ids prefixed. */
static void article_html(void *ctx, buf *out, const char *key, size_t len)
{
	const book *b = ctx;
	char num[32];
	if (len >= sizeof num)
		return;
	memcpy(num, key, len);
	num[len] = '\0';
	size_t doc = (size_t)strtoull(num, NULL, 10);
	if (doc >= b->s->ndocs || !b->prefix[doc])
		return;
	const document *d = &b->s->docs[doc];
	buf body = BUF_INIT;
	rewrite_ctx rc = { b, d };
	markdown_render_html(&body, d->md, rewrite, &rc);
	markdown_drop_pages(d->md);
	print_prefix_ids(out, body.ptr, b->prefix[doc], 2);
	buf_release(&body);
}

static value *part(book *b, const char *title, const char *name)
{
	value *p = value_new_table();
	buf want = BUF_INIT;
	buf_puts(&want, "deel-");
	text_slug(&want, name, strlen(name));
	char *id = claim(b, want.ptr);
	buf_release(&want);
	set_str(p, "title", title);
	set_str(p, "id", id);
	b->parts = xrealloc(b->parts, (b->nparts + 1) * sizeof *b->parts);
	b->parts[b->nparts++] = id;
	value_set_cstr(p, "articles", value_new_array());
	return p;
}

int print_render(renderer *r, const xref *x, output *o, gen_err *err)
{
	const site *s = xref_site(x);
	/* The book holds every article, in an order and under ids that
	 * follow from the articles and site.toml: known without making it. */
	uint64_t fp = render_all_docs_key(r, 0x7072696e74u);
	if (render_page_fresh(r, o, PRINT_URL "index.html", fp))
		return 0;
	book b;
	memset(&b, 0, sizeof b);
	b.x = x;
	b.s = s;
	size_t n = s->ndocs;
	const leerpad *lp = xref_leerpad(x);
	const size_t *order = xref_reading_order(x);
	b.prefix = xcalloc(n + 1, sizeof *b.prefix);

	/* Which documents, in which order: the home page, the path, then
	 * every other article by section. Section intros are navigation on
	 * the site and are left out. */
	size_t home = s->home ? (size_t)(s->home - s->docs) : n;
	if (home < n)
		assign_prefix(&b, home);
	for (size_t i = 0; i < lp->n; i++)
		assign_prefix(&b, lp->steps[i]);
	for (size_t i = 0; i < n; i++)
		if (!s->docs[order[i]].is_index)
			assign_prefix(&b, order[i]);

	value *parts = value_new_array();
	if (home < n) {
		value *p = part(&b, s->home->fm.title, "inleiding");
		value_push(value_get(p, "articles"), article(&b, r, home, 0, true));
		value_push(parts, p);
	}
	if (lp->n) {
		value *p = part(&b, render_i18n(r, "leerpad", "Leerpad"), "leerpad");
		for (size_t i = 0; i < lp->n; i++)
			value_push(value_get(p, "articles"),
				   article(&b, r, lp->steps[i], i + 1, false));
		value_push(parts, p);
	}
	value *rest = NULL;
	for (size_t i = 0; i < s->nsections; i++) {
		const site_section *sec = &s->sections[i];
		value *p = NULL;
		for (size_t j = 0; j < sec->npages; j++) {
			size_t doc = (size_t)(sec->pages[j] - s->docs);
			if (leerpad_step(lp, doc))
				continue;
			if (!p)
				p = part(&b, sec->index->fm.title, sec->dir);
			value_push(value_get(p, "articles"), article(&b, r, doc, 0, false));
		}
		if (p)
			value_push(parts, p);
	}
	for (size_t i = 0; i < n; i++) {
		size_t doc = order[i];
		const document *d = &s->docs[doc];
		if (d->is_index || leerpad_step(lp, doc) || site_section_of(s, d))
			continue;
		if (!rest)
			rest = part(&b, render_i18n(r, "print_more", "Meer"), "meer");
		value_push(value_get(rest, "articles"), article(&b, r, doc, 0, false));
	}
	if (rest)
		value_push(parts, rest);

	value *data = render_base_data(r, PRINT_URL);
	value *page = value_new_table();
	set_str(page, "title", render_i18n(r, "print_title", "Het hele handboek"));
	set_str(page, "url", PRINT_URL);
	set_str(page, "summary", s->cfg.description);
	value_set_cstr(page, "is_print", value_new_bool(true));
	value_set_cstr(data, "page", page);
	value *pr = value_new_table();
	value_set_cstr(pr, "parts", parts);
	value_set_cstr(data, "print", pr);
	int rc = render_page_late(r, o, "print", PRINT_URL "index.html", data, fp,
				  article_html, &b, err);
	value_free(data);
	for (size_t i = 0; i < n; i++)
		free(b.prefix[i]);
	free(b.prefix);
	for (size_t i = 0; i < b.nparts; i++)
		free(b.parts[i]);
	free(b.parts);
	free(b.ids);
	return rc;
}
