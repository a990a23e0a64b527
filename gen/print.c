/* print: the whole handbook on one page (see print.h).
 *
 * Article bodies are rendered again here, with a rewrite function that
 * knows which pages are in the book: a link to one of them becomes
 * "#ARTICLE--anchor", marked with an escape character (put out as "%1F")
 * so that the pass that prefixes the body's own ids can tell it from a
 * local "#anchor" and leave it alone. The mark cannot come from an
 * author: the renderer percent-encodes control characters in URLs, and a
 * literal "%1F" right after '#' means nothing to any page.
 *
 * The book is the whole handbook, so making it again after one edit
 * would be most of a rebuild. Each article's HTML on the page is a
 * function of the article, its id on the page and where each of its
 * links leads; the page cache remembers, per such key, where that HTML
 * stood in the file the last build wrote ("pieces"). An article whose
 * key is as before is copied from there instead of rendered, after its
 * bytes hash as they did when written: a file changed since by anyone
 * costs the render, never a wrong page. */
#include "print.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "links.h"
#include "text.h"
#include "template.h"
#include "xalloc.h"

#define MARK "\x1F"
#define MARK_OUT "%1F"

/* Where the page cache keeps the pieces, and what they are hashed with. */
#define PIECES_MEMO PRINT_URL "index.html#pieces"
#define PIECES_FORMAT 0x7072696e7431ULL /* "print1" */

/* One article's HTML in the print page: what made it (key), where it
 * stood (at, len) and what its bytes hash to. */
typedef struct piece {
	uint64_t key, at, len, hash;
} piece;

typedef struct book {
	const site *s;
	const xref *x;
	char **prefix;    /* per document: its id on the page, NULL when not in the book */
	const char **ids; /* every id handed out: open addressing, power of two */
	size_t nids, capids;
	char **parts;     /* part ids (owned) */
	size_t nparts;
	uint64_t stamp;   /* render_site_stamp: site.toml, filters, ... */
	int old_fd;       /* the print page the last build wrote, or -1 */
	piece *old;       /* its pieces, sorted by key */
	size_t nold;
	piece *now;       /* this page's pieces, in order */
	size_t nnow, capnow;
	size_t copied;    /* articles taken from old_fd */
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

/* What decides an article's HTML on the page: the article (path and
 * content id stand for its parse and filters, the site stamp for the
 * filters and site.toml themselves), its id here, and each link's
 * destination as rewrite makes it. */
static uint64_t piece_key(const book *b, const document *d, size_t doc)
{
	uint64_t h = buf_hash64(&b->stamp, sizeof b->stamp, PIECES_FORMAT);
	h = render_doc_key(d, h);
	h = buf_hash64(b->prefix[doc], strlen(b->prefix[doc]) + 1, h);
	rewrite_ctx rc = { b, d };
	for (size_t i = 0; i < markdown_link_count(d->md); i++) {
		const markdown_link *l = markdown_link_at(d->md, i);
		char *to = rewrite(&rc, l->url, l->image);
		unsigned char image = l->image;
		h = buf_hash64(l->url, strlen(l->url) + 1, h);
		h = buf_hash64(&image, 1, h);
		/* NULL (the link as written) and "" differ. */
		h = to ? buf_hash64(to, strlen(to) + 1, h) : buf_hash64("", 0, h ^ 0x6e756c6cu);
		free(to);
	}
	return h;
}

static int piece_cmp(const void *x, const void *y)
{
	uint64_t a = ((const piece *)x)->key, b = ((const piece *)y)->key;
	return (a > b) - (a < b);
}

static const piece *old_piece(const book *b, uint64_t key)
{
	piece want = { .key = key };
	return b->old_fd < 0 ? NULL : bsearch(&want, b->old, b->nold, sizeof *b->old, piece_cmp);
}

/* Appends p's bytes from the last print page to out when they are still
 * what was written there; false (out as it was) otherwise. */
static bool copy_piece(const book *b, const piece *p, buf *out)
{
	if (p->len > (uint64_t)1 << 40)
		return false;
	size_t len = (size_t)p->len, got = 0;
	buf_grow(out, len);
	char *to = out->ptr + out->len;
	while (got < len) {
		ssize_t n = pread(b->old_fd, to + got, len - got, (off_t)(p->at + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	if (buf_hash64(to, len, PIECES_FORMAT) != p->hash)
		return false;
	out->len += len;
	out->ptr[out->len] = '\0';
	return true;
}

/* The HTML of the article a TEMPLATE_LATE key names, its ids prefixed. */
static void article_html(void *ctx, buf *out, const char *key, size_t len, uint64_t at)
{
	book *b = ctx;
	char num[32];
	if (len >= sizeof num)
		return;
	memcpy(num, key, len);
	num[len] = '\0';
	size_t doc = (size_t)strtoull(num, NULL, 10);
	if (doc >= b->s->ndocs || !b->prefix[doc])
		return;
	const document *d = &b->s->docs[doc];
	size_t start = out->len;
	uint64_t k = piece_key(b, d, doc), hash = 0;
	const piece *was = at != RENDER_NOWHERE ? old_piece(b, k) : NULL;
	if (was && copy_piece(b, was, out)) {
		hash = was->hash;
		b->copied++;
	} else {
		buf body = BUF_INIT;
		rewrite_ctx rc = { b, d };
		markdown_render_html(&body, d->md, rewrite, &rc);
		markdown_drop_pages(d->md);
		print_prefix_ids(out, body.ptr, b->prefix[doc], 2);
		buf_release(&body);
		if (at != RENDER_NOWHERE)
			hash = buf_hash64(out->ptr + start, out->len - start, PIECES_FORMAT);
	}
	if (at == RENDER_NOWHERE)
		return;
	if (b->nnow == b->capnow) {
		b->capnow = b->capnow ? 2 * b->capnow : 256;
		b->now = xrealloc(b->now, b->capnow * sizeof *b->now);
	}
	b->now[b->nnow++] = (piece){ k, at, out->len - start, hash };
}

/* Reads the pieces of the last print page and opens it, when the page
 * cache has them and the output still holds a file there. */
static void pieces_load(book *b, renderer *r, output *o)
{
	b->old_fd = -1;
	size_t len;
	const char *m = render_memo_get(r, PIECES_MEMO, &len);
	if (!m || len % sizeof(piece) || !len)
		return;
	if ((b->old_fd = output_open_old(o, PRINT_URL "index.html")) < 0)
		return;
	b->nold = len / sizeof(piece);
	b->old = xmalloc(len);
	memcpy(b->old, m, len);
	qsort(b->old, b->nold, sizeof *b->old, piece_cmp);
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

int print_render(renderer *r, const xref *x, output *o, size_t *articles, size_t *copied,
		 gen_err *err)
{
	const site *s = xref_site(x);
	*articles = *copied = 0;
	/* The book holds every article, in an order and under ids that
	 * follow from the articles and site.toml: known without making it. */
	uint64_t fp = render_all_docs_key(r, 0x7072696e74u);
	if (render_page_fresh(r, o, PRINT_URL "index.html", fp)) {
		size_t len; /* read, so that the cache keeps them */
		render_memo_get(r, PIECES_MEMO, &len);
		return 0;
	}
	book b;
	memset(&b, 0, sizeof b);
	b.x = x;
	b.s = s;
	size_t n = s->ndocs;
	const leerpad *lp = xref_leerpad(x);
	const size_t *order = xref_reading_order(x);
	b.prefix = xcalloc(n + 1, sizeof *b.prefix);
	b.stamp = render_site_stamp(r);
	pieces_load(&b, r, o);

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
	*articles = b.nnow;
	*copied = b.copied;
	if (rc == 0 && o)
		render_memo_put(r, PIECES_MEMO, b.now, b.nnow * sizeof *b.now);
	value_free(data);
	if (b.old_fd >= 0)
		close(b.old_fd);
	free(b.old);
	free(b.now);
	for (size_t i = 0; i < n; i++)
		free(b.prefix[i]);
	free(b.prefix);
	for (size_t i = 0; i < b.nparts; i++)
		free(b.parts[i]);
	free(b.parts);
	free(b.ids);
	return rc;
}
