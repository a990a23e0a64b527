/* xref: cross references as template data (see xref.h).
 *
 * Backlinks are shown grouped by the page they come from, in reading
 * order, each with the sentences that hold the links; a page that links
 * twice in the same sentence shows it once. */
#include "xref.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A context is cut from a sentence looked for no further than this. */
_Static_assert(XREF_CONTEXT_MAX <= LINKS_SENTENCE_MAX,
	       "backlink contexts must fit in the sentence links.c looks for");

struct xref {
	const site *s;
	const links_graph *g;
	links_graph *own;       /* when xref_new built the graph itself */
	related_index *related;
	uint64_t related_key;   /* related_key of its inputs */
	bool related_memo;      /* related came from xref_new_with's memo */
	leerpad path;
	authors authors;
	size_t *rank;           /* per document */
	size_t *order;          /* documents in reading order */
};

static void reading_order(xref *x)
{
	const site *s = x->s;
	size_t n = s->ndocs, k = 0;
	x->rank = xcalloc(n + 1, sizeof *x->rank);
	x->order = xcalloc(n + 1, sizeof *x->order);
	bool *placed = xcalloc(n + 1, sizeof *placed);
#define PLACE(d)                                       \
	do {                                           \
		size_t i_ = (size_t)((d) - s->docs);   \
		if (!placed[i_]) {                     \
			placed[i_] = true;             \
			x->rank[i_] = k;               \
			x->order[k++] = i_;            \
		}                                      \
	} while (0)
	if (s->home)
		PLACE(s->home);
	for (size_t i = 0; i < s->nsections; i++) {
		PLACE(s->sections[i].index);
		for (size_t j = 0; j < s->sections[i].npages; j++)
			PLACE(s->sections[i].pages[j]);
	}
	for (size_t i = 0; i < n; i++)
		PLACE(&s->docs[i]);
#undef PLACE
	free(placed);
}

xref *xref_new(const site *s, const links_graph *g)
{
	return xref_new_with(s, g, NULL, 0);
}

xref *xref_new_with(const site *s, const links_graph *g, const char *memo, size_t len)
{
	xref *x = xcalloc(1, sizeof *x);
	x->s = s;
	if (!g)
		g = x->own = links_graph_new(s, NULL);
	x->g = g;
	x->related_key = related_key(s, g, RELATED_MAX);
	x->related = related_load(memo, len, x->related_key, s->ndocs);
	x->related_memo = x->related != NULL;
	if (!x->related)
		x->related = related_new(s, g, RELATED_MAX);
	leerpad_resolve(&x->path, s, NULL);
	authors_collect(&x->authors, s);
	reading_order(x);
	return x;
}

void xref_free(xref *x)
{
	if (!x)
		return;
	links_graph_free(x->own);
	related_free(x->related);
	leerpad_release(&x->path);
	authors_release(&x->authors);
	free(x->rank);
	free(x->order);
	free(x);
}

bool xref_memo(const xref *x, buf *out)
{
	if (x->related_memo)
		return false;
	related_save(x->related, x->related_key, out);
	return true;
}

const site *xref_site(const xref *x) { return x->s; }
const links_graph *xref_links(const xref *x) { return x->g; }
const leerpad *xref_leerpad(const xref *x) { return &x->path; }
const authors *xref_authors(const xref *x) { return &x->authors; }
size_t xref_rank(const xref *x, size_t doc) { return x->rank[doc]; }
const size_t *xref_reading_order(const xref *x) { return x->order; }

/* ---- backlinks ---------------------------------------------------------- */

typedef struct group {
	size_t rank;    /* of the source page, in reading order */
	size_t from;
	size_t first;   /* index of its first edge in the in-list */
} group;

static int group_cmp(const void *a, const void *b)
{
	const group *p = a, *q = b;
	return p->rank < q->rank ? -1 : p->rank > q->rank;
}

/* The in-edges of a document, as indexes into its in-list, by the tip
 * they link to (0: the page itself, and every edge of a page that is not
 * a tip list), each tip's in in-list order: made once per page, so that
 * a list of thousands of tips does not go over all its links for each. */
typedef struct by_tip {
	size_t *idx;
	size_t *start;  /* tip t's are idx[start[t] .. start[t + 1]) */
	size_t ntips;   /* the highest tip linked to */
} by_tip;

static void by_tip_make(const xref *x, size_t doc, by_tip *b)
{
	bool tips = x->s->docs[doc].fm.kind == KIND_TIPS;
	size_t n = links_in_count(x->g, doc);
	b->ntips = 0;
	for (size_t i = 0; tips && i < n; i++) {
		int t = links_in_at(x->g, doc, i)->tip;
		if (t > 0 && (size_t)t > b->ntips)
			b->ntips = (size_t)t;
	}
	b->start = xcalloc(b->ntips + 2, sizeof *b->start);
	b->idx = xmalloc((n + 1) * sizeof *b->idx);
	for (size_t i = 0; i < n; i++) {
		int t = tips ? links_in_at(x->g, doc, i)->tip : 0;
		b->start[(t > 0 ? (size_t)t : 0) + 1]++;
	}
	for (size_t t = 0; t <= b->ntips; t++)
		b->start[t + 1] += b->start[t];
	size_t *next = xmalloc((b->ntips + 1) * sizeof *next);
	memcpy(next, b->start, (b->ntips + 1) * sizeof *next);
	for (size_t i = 0; i < n; i++) {
		int t = tips ? links_in_at(x->g, doc, i)->tip : 0;
		b->idx[next[t > 0 ? (size_t)t : 0]++] = i;
	}
	free(next);
}

static void by_tip_release(by_tip *b)
{
	free(b->idx);
	free(b->start);
}

/* The backlinks of document doc for tip (0: page level), its in-edges
 * by tip in b, as an array of { title, url, kind, kind_label, ...,
 * contexts: [ { before, text, after } ] }. */
static value *backlinks(const xref *x, const renderer *r, size_t doc, const by_tip *b,
			int tip)
{
	const site *s = x->s;
	size_t t = tip > 0 ? (size_t)tip : 0;
	const size_t *ix = b->idx + (t <= b->ntips ? b->start[t] : 0);
	size_t n = t <= b->ntips ? b->start[t + 1] - b->start[t] : 0;
	group *groups = xcalloc(n + 1, sizeof *groups);
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		const links_edge *e = links_in_at(x->g, doc, ix[i]);
		/* Edges of one source are adjacent (the in-list is by source). */
		if (ng && groups[ng - 1].from == e->from)
			continue;
		groups[ng].rank = x->rank[e->from];
		groups[ng].from = e->from;
		groups[ng++].first = i;
	}
	qsort(groups, ng, sizeof *groups, group_cmp);

	value *list = value_new_array();
	buf before = BUF_INIT, text = BUF_INIT, after = BUF_INIT;
	for (size_t gi = 0; gi < ng; gi++) {
		value *card = render_page_card(r, &s->docs[groups[gi].from]);
		value *contexts = value_new_array();
		const links_edge *prev = NULL;
		for (size_t i = groups[gi].first; i < n; i++) {
			const links_edge *e = links_in_at(x->g, doc, ix[i]);
			if (e->from != groups[gi].from)
				break;
			/* One sentence once, even when it links here twice: its
			 * links are next to each other in source order. */
			bool dup = prev && prev->block == e->block &&
				   prev->sentence_start == e->sentence_start &&
				   prev->sentence_end == e->sentence_end;
			prev = e;
			if (dup)
				continue;
			buf_clear(&before);
			buf_clear(&text);
			buf_clear(&after);
			links_context(e, XREF_CONTEXT_MAX, &before, &text, &after);
			if (!(before.len + text.len + after.len))
				continue;
			value *c = value_new_table();
			value_set_cstr(c, "before", value_new_cstring(before.ptr));
			value_set_cstr(c, "text", value_new_cstring(text.ptr));
			value_set_cstr(c, "after", value_new_cstring(after.ptr));
			value_push(contexts, c);
		}
		value_set_cstr(card, "contexts", contexts);
		value_push(list, card);
	}
	buf_release(&before);
	buf_release(&text);
	buf_release(&after);
	free(groups);
	return list;
}

/* ---- page data ---------------------------------------------------------- */

static value *step_card(const renderer *r, const site *s, size_t doc, size_t n)
{
	value *c = render_page_card(r, &s->docs[doc]);
	value_set_cstr(c, "n", value_new_integer((int64_t)n));
	return c;
}

static void leerpad_data(const xref *x, const renderer *r, size_t doc, value *page)
{
	size_t step = leerpad_step(&x->path, doc);
	if (!step)
		return;
	const leerpad *lp = &x->path;
	value *l = value_new_table();
	value_set_cstr(l, "step", value_new_integer((int64_t)step));
	value_set_cstr(l, "total", value_new_integer((int64_t)lp->n));
	value_set_cstr(l, "is_first", value_new_bool(step == 1));
	value_set_cstr(l, "is_last", value_new_bool(step == lp->n));
	if (step > 1)
		value_set_cstr(l, "prev", step_card(r, x->s, lp->steps[step - 2], step - 1));
	if (step < lp->n)
		value_set_cstr(l, "next", step_card(r, x->s, lp->steps[step], step + 1));
	value_set_cstr(page, "leerpad", l);
}

void xref_page_data(const xref *x, const renderer *r, const document *d,
		    value *page)
{
	const site *s = x->s;
	size_t doc = (size_t)(d - s->docs);

	by_tip b;
	by_tip_make(x, doc, &b);
	value *bl = backlinks(x, r, doc, &b, 0);
	value_set_cstr(page, "has_backlinks", value_new_bool(value_count(bl) > 0));
	value_set_cstr(page, "backlinks", bl);

	value *rel = value_new_array();
	for (size_t i = 0; i < related_count(x->related, doc); i++)
		value_push(rel, render_card(r, &s->docs[related_at(x->related, doc, i)]));
	value_set_cstr(page, "has_related", value_new_bool(value_count(rel) > 0));
	value_set_cstr(page, "related", rel);

	leerpad_data(x, r, doc, page);

	value *tips = value_get(page, "tips");
	for (size_t i = 0; d->fm.kind == KIND_TIPS && i < value_count(tips); i++) {
		value *t = value_at(tips, i);
		int n = (int)value_integer(value_get(t, "n"));
		value *tb = backlinks(x, r, doc, &b, n);
		value_set_cstr(t, "has_backlinks", value_new_bool(value_count(tb) > 0));
		value_set_cstr(t, "backlinks", tb);
	}
	by_tip_release(&b);
}

uint64_t xref_fingerprint(const xref *x, const renderer *r, size_t doc, uint64_t h)
{
	const site *s = x->s;
	size_t n = related_count(x->related, doc);
	h = buf_hash64(&n, sizeof n, h);
	/* Related articles and the path's neighbours show as cards. */
	for (size_t i = 0; i < n; i++)
		h = render_card_key(r, &s->docs[related_at(x->related, doc, i)], h);
	size_t step = leerpad_step(&x->path, doc);
	h = buf_hash64(&step, sizeof step, h);
	if (step) {
		h = buf_hash64(&x->path.n, sizeof x->path.n, h);
		if (step > 1)
			h = render_card_key(r, &s->docs[x->path.steps[step - 2]], h);
		if (step < x->path.n)
			h = render_card_key(r, &s->docs[x->path.steps[step]], h);
	}
	return h;
}

void xref_home_data(const xref *x, const renderer *r, value *data)
{
	const leerpad *lp = &x->path;
	value_set_cstr(data, "has_leerpad", value_new_bool(lp->n > 0));
	if (!lp->n)
		return;
	value *l = value_new_table();
	value_set_cstr(l, "total", value_new_integer((int64_t)lp->n));
	value_set_cstr(l, "first", step_card(r, x->s, lp->steps[0], 1));
	value *steps = value_new_array();
	for (size_t i = 0; i < lp->n; i++)
		value_push(steps, step_card(r, x->s, lp->steps[i], i + 1));
	value_set_cstr(l, "steps", steps);
	value_set_cstr(data, "leerpad", l);
}

/* ---- tip mentions in the body ---------------------------------------- */

/* The offset of the "</li>" that closes the item whose start tag ends at
 * from, or (size_t)-1. Text in the body is escaped, so every "<li" and
 * "</li>" is a tag. */
static size_t item_end(const char *html, size_t from)
{
	int depth = 1;
	for (const char *p = strchr(html + from, '<'); p; p = strchr(p + 1, '<')) {
		if (strncmp(p, "<li", 3) == 0 && (p[3] == '>' || p[3] == ' '))
			depth++;
		else if (strncmp(p, "</li>", 5) == 0 && --depth == 0)
			return (size_t)(p - html);
	}
	return (size_t)-1;
}

int xref_tip_mentions(const xref *x, const renderer *r, const document *d,
		      const char *page_url, buf *html, gen_err *err)
{
	const site *s = x->s;
	size_t doc = (size_t)(d - s->docs);
	int rc = 0;
	if (d->fm.kind != KIND_TIPS || !links_in_count(x->g, doc))
		return 0;
	buf out = BUF_INIT, tag = BUF_INIT;
	size_t at = 0;
	value *data = NULL; /* made once, its "tip" replaced per tip */
	by_tip b;
	by_tip_make(x, doc, &b);
	for (size_t i = 0; i < markdown_tip_count(d->md) && rc == 0; i++) {
		const markdown_tip *t = markdown_tip_at(d->md, i);
		value *bl = backlinks(x, r, doc, &b, t->n);
		if (!value_count(bl)) {
			value_free(bl);
			continue;
		}
		buf_clear(&tag);
		buf_printf(&tag, "<li id=\"%s\"", t->id);
		const char *start = strstr(html->ptr + at, tag.ptr);
		const char *gt = start ? strchr(start, '>') : NULL;
		size_t end = gt ? item_end(html->ptr, (size_t)(gt - html->ptr) + 1) : (size_t)-1;
		if (end == (size_t)-1) {
			value_free(bl);
			continue;
		}
		if (!data)
			data = render_base_data(r, page_url);
		value *tip = value_new_table();
		value_set_cstr(tip, "n", value_new_integer(t->n));
		value_set_cstr(tip, "id", value_new_cstring(t->id));
		value_set_cstr(tip, "title", value_new_cstring(t->title));
		value_set_cstr(tip, "backlinks", bl);
		value_set_cstr(data, "tip", tip);
		buf_put(&out, html->ptr + at, end - at);
		rc = render_partial(r, "partials/tip-mentions", data, &out, err);
		at = end;
	}
	value_free(data);
	by_tip_release(&b);
	if (rc == 0 && at) {
		buf_puts(&out, html->ptr + at);
		buf_clear(html);
		buf_put(html, out.ptr, out.len);
	}
	buf_release(&out);
	buf_release(&tag);
	return rc;
}
