/* links: resolving, checking and rewriting article links, and the link
 * graph with backlinks (see links.h).
 *
 * Everything starts at links_resolve, so the checker, the rewriter and the
 * graph agree on what a destination names. The graph is built once per
 * site in one pass over the documents; backlinks are the same edges
 * sorted by target with a counting sort, which keeps them in site order
 * without comparing anything. */
#include "links.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "history.h"
#include "jobs.h"
#include "text.h"
#include "xalloc.h"

/* A destination with a scheme ("https:", "mailto:") or starting with "//"
 * or "/" points outside the handbook's sources. */
static bool is_external(const char *url)
{
	if (url[0] == '/')
		return true;
	for (const char *p = url; *p && *p != '/' && *p != '#' && *p != '?'; p++)
		if (*p == ':')
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Joins dir and a relative path, folding "." and ".." segments. Returns
 * NULL when the path climbs above the content root. Keeps a trailing '/'
 * (a folder). Caller frees. */
static char *join_path(const char *dir, const char *path, size_t plen)
{
	buf in = BUF_INIT;
	if (*dir) {
		buf_puts(&in, dir);
		buf_putc(&in, '/');
	}
	buf_put(&in, path, plen);
	char **seg = xcalloc(in.len + 1, sizeof *seg);
	size_t n = 0;
	char *save = NULL;
	bool ok = true;
	for (char *t = strtok_r(in.ptr, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (strcmp(t, ".") == 0)
			continue;
		if (strcmp(t, "..") == 0) {
			if (n == 0) {
				ok = false;
				break;
			}
			n--;
			continue;
		}
		seg[n++] = t;
	}
	char *res = NULL;
	if (ok) {
		buf out = BUF_INIT;
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_putc(&out, '/');
			buf_puts(&out, seg[i]);
		}
		if (plen && path[plen - 1] == '/' && out.len)
			buf_putc(&out, '/');
		res = buf_detach(&out);
	}
	free(seg);
	buf_release(&in);
	return res;
}

char *links_root(const char *page_url)
{
	buf r = BUF_INIT;
	for (const char *p = page_url; *p; p++)
		if (*p == '/')
			buf_puts(&r, "../");
	if (!r.len)
		buf_puts(&r, "./");
	return buf_detach(&r);
}

void links_target_release(links_target *t)
{
	free(t->rel);
	memset(t, 0, sizeof *t);
}

/* The page of folder dir ("" for the content root): its _index.md or
 * index.md. Sets *skipped when that page exists but is left out. */
static const document *folder_page(const site *s, const char *dir, bool *skipped,
				   bool *failed)
{
	static const char *const names[] = { "_index.md", "index.md" };
	const document *d = NULL;
	buf p = BUF_INIT;
	for (size_t i = 0; i < 2 && !d; i++) {
		buf_clear(&p);
		if (*dir)
			buf_printf(&p, "%s/", dir);
		buf_puts(&p, names[i]);
		d = site_find(s, p.ptr);
		if (!d && site_is_skipped(s, p.ptr))
			*skipped = true;
		if (!d && site_is_failed(s, p.ptr))
			*failed = true;
	}
	buf_release(&p);
	return d;
}

void links_resolve(const site *s, const document *from, const char *url,
		   links_target *t)
{
	memset(t, 0, sizeof *t);
	const char *hash = strchr(url, '#');
	t->anchor = hash ? hash + 1 : NULL;
	if (!*url || url[0] == '#') {
		t->kind = LINKS_LOCAL;
		return;
	}
	if (is_external(url)) {
		t->kind = LINKS_EXTERNAL;
		t->anchor = NULL;
		return;
	}
	size_t plen = strcspn(url, "#?");
	if (plen == 0) {
		/* "?x#y": a query on this very page. */
		t->kind = LINKS_LOCAL;
		return;
	}
	buf path = BUF_INIT;
	buf_put_url_decoded(&path, url, plen);
	t->rel = join_path(from->dir, path.ptr, path.len);
	buf_release(&path);
	if (!t->rel) {
		t->kind = LINKS_OUTSIDE;
		return;
	}

	bool skipped = false, failed = false;
	size_t rl = strlen(t->rel);
	if (ends_with(t->rel, ".md")) {
		t->doc = site_find(s, t->rel);
		skipped = !t->doc && site_is_skipped(s, t->rel);
		failed = !t->doc && site_is_failed(s, t->rel);
	} else if (rl == 0 || t->rel[rl - 1] == '/') {
		/* A folder, "../tips/": its _index.md is the section page. */
		if (rl)
			t->rel[rl - 1] = '\0';
		t->doc = folder_page(s, t->rel, &skipped, &failed);
		if (rl)
			t->rel[rl - 1] = '/';
	} else if (site_has_asset(s, t->rel)) {
		t->kind = LINKS_ASSET;
		return;
	} else {
		t->doc = folder_page(s, t->rel, &skipped, &failed);
	}
	t->kind = t->doc ? LINKS_PAGE
		  : skipped ? LINKS_SKIPPED
		  : failed ? LINKS_FAILED : LINKS_MISSING;
}

/* ---- rewriting ---------------------------------------------------------- */

char *links_rewrite_on(const site *s, const document *from, const char *page_url,
		       const char *url, bool image)
{
	(void)image;
	links_target t;
	links_resolve(s, from, url, &t);
	if (t.kind != LINKS_PAGE && t.kind != LINKS_ASSET) {
		links_target_release(&t);
		return NULL;
	}
	buf out = BUF_INIT;
	char *root = links_root(page_url);
	bool at_root = strcmp(root, "./") == 0;
	if (t.kind == LINKS_PAGE) {
		/* "./" only matters when nothing follows. */
		if (!at_root || !*t.doc->url)
			buf_puts(&out, root);
		buf_puts(&out, t.doc->url);
		if (t.anchor && *t.anchor) {
			buf_putc(&out, '#');
			buf_puts(&out, t.anchor);
		}
	} else {
		if (!at_root)
			buf_puts(&out, root);
		/* Found by its name (the link's %XX decoded), linked as a URL. */
		buf_put_url_path(&out, t.rel, strlen(t.rel));
		/* A query or fragment means something to the file (pdf#page=2). */
		buf_puts(&out, url + strcspn(url, "#?"));
	}
	free(root);
	links_target_release(&t);
	return buf_detach(&out);
}

char *links_rewrite(const site *s, const document *from, const char *url,
		    bool image)
{
	return links_rewrite_on(s, from, from->url, url, image);
}

/* ---- sentences ---------------------------------------------------------- */

/* Length of the closing quote or bracket that ends at i (exclusive), or 0. */
static size_t closer_before(const char *t, size_t i)
{
	if (i >= 1 && strchr("\"')]", t[i - 1]))
		return 1;
	if (i >= 3 && (unsigned char)t[i - 3] == 0xE2 && (unsigned char)t[i - 2] == 0x80 &&
	    ((unsigned char)t[i - 1] == 0x9D || (unsigned char)t[i - 1] == 0x99))
		return 3; /* ” ’ */
	if (i >= 2 && (unsigned char)t[i - 2] == 0xC2 && (unsigned char)t[i - 1] == 0xBB)
		return 2; /* » */
	return 0;
}

/* Length of the opening quote or bracket at i, or 0. */
static size_t opener_at(const char *t, size_t i, size_t len)
{
	if (i < len && strchr("\"'([", t[i]))
		return 1;
	if (i + 3 <= len && (unsigned char)t[i] == 0xE2 && (unsigned char)t[i + 1] == 0x80 &&
	    ((unsigned char)t[i + 2] == 0x9C || (unsigned char)t[i + 2] == 0x98 ||
	     (unsigned char)t[i + 2] == 0x9E))
		return 3; /* “ ‘ „ */
	if (i + 2 <= len && (unsigned char)t[i] == 0xC2 && (unsigned char)t[i + 1] == 0xAB)
		return 2; /* « */
	return 0;
}

/* Whether the word ending at the '.' at dot is an abbreviation, after
 * which a sentence goes on. */
static bool abbreviation(const char *t, size_t dot)
{
	static const char *const words[] = {
		"bijv", "bv", "ca", "nr", "blz", "dhr", "mevr", "mr", "dr", "drs",
		"ir", "ing", "prof", "resp", "evt", "zgn", "incl", "excl", "vgl",
		"jl", "e.g", "i.e", "vs", "mrs", "ms", "st", "no",
	};
	size_t w = dot;
	while (w && t[w - 1] != ' ' && !opener_at(t, w - 1, dot))
		w--;
	size_t n = dot - w;
	if (n == 1 && ((t[w] | 0x20) >= 'a' && (t[w] | 0x20) <= 'z'))
		return true; /* an initial: "J. de Vries" */
	if (memchr(t + w, '.', n))
		return true; /* "o.a.", "d.w.z." */
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strlen(words[i]) == n && strncasecmp(t + w, words[i], n) == 0)
			return true;
	return false;
}

/* Whether a new sentence starts at i: t[i - 1] is a space that follows
 * the end of a sentence, and what comes next can start one. */
static bool starts_sentence(const char *t, size_t i, size_t len)
{
	if (i < 2 || i >= len || t[i - 1] != ' ')
		return false;
	size_t j = i - 1;
	size_t c;
	while ((c = closer_before(t, j)) != 0)
		j -= c;
	bool end;
	if (j >= 1 && (t[j - 1] == '!' || t[j - 1] == '?'))
		end = true;
	else if (j >= 1 && t[j - 1] == '.')
		end = !abbreviation(t, j - 1);
	else
		end = j >= 3 && (unsigned char)t[j - 3] == 0xE2 &&
		      (unsigned char)t[j - 2] == 0x80 && (unsigned char)t[j - 1] == 0xA6;
	if (!end)
		return false;
	size_t k = i;
	while ((c = opener_at(t, k, len)) != 0)
		k += c;
	if (k >= len)
		return false;
	unsigned char ch = (unsigned char)t[k];
	/* A non-ASCII letter may well be a capital (É, Ö): take it as one. */
	return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch >= 0x80;
}

/* links_sentence in text of len bytes. */
static void sentence_in(const char *text, size_t len, size_t start, size_t end,
			size_t *s_start, size_t *s_end)
{
	if (start > len)
		start = len;
	if (end < start)
		end = start;
	if (end > len)
		end = len;
	size_t a = start, a_min = start > LINKS_SENTENCE_MAX ? start - LINKS_SENTENCE_MAX : 0;
	while (a > a_min && !starts_sentence(text, a, len))
		a--;
	size_t b = end, b_max = len - end > LINKS_SENTENCE_MAX ? end + LINKS_SENTENCE_MAX : len;
	while (b < b_max && !(text[b] == ' ' && starts_sentence(text, b + 1, len)))
		b++;
	while (a < b && text[a] == ' ')
		a++;
	while (b > a && text[b - 1] == ' ')
		b--;
	*s_start = a;
	*s_end = b;
}

void links_sentence(const char *text, size_t start, size_t end,
		    size_t *s_start, size_t *s_end)
{
	sentence_in(text, strlen(text), start, end, s_start, s_end);
}

static bool utf8_cont(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

void links_context(const links_edge *e, size_t max, buf *before, buf *text,
		   buf *after)
{
	const char *t = e->block ? e->block : "";
	size_t ss = e->sentence_start, se = e->sentence_end;
	size_t ts = e->text_start, te = e->text_end;
	if (ts < ss || te > se || ts > te) {
		/* No position for the text: the sentence alone. */
		buf_put(before, t + ss, se - ss);
		return;
	}
	size_t tl = te - ts;
	size_t room = max > tl ? max - tl : 0;
	size_t a = ss, b = se;
	if (se - ss > max) {
		/* Give each side half the room, or what the other side leaves. */
		size_t left = ts - ss, right = se - te;
		size_t lroom = room / 2, rroom = room - lroom;
		if (left < lroom)
			rroom += lroom - left;
		if (right < rroom)
			lroom += rroom - right;
		if (left > lroom) {
			a = ts - lroom;
			while (a < ts && t[a] != ' ')
				a++;
			while (a < ts && utf8_cont(t[a]))
				a++;
		}
		if (right > rroom) {
			b = te + rroom;
			while (b > te && t[b] != ' ')
				b--;
			while (b > te && utf8_cont(t[b]))
				b--;
		}
	}
	if (a > ss) {
		buf_puts(before, "\xE2\x80\xA6");
		while (a < ts && t[a] == ' ')
			a++;
	}
	buf_put(before, t + a, ts - a);
	buf_put(text, t + ts, tl);
	buf_put(after, t + te, b - te);
	if (b < se) {
		while (after->len && after->ptr[after->len - 1] == ' ')
			buf_truncate(after, after->len - 1);
		buf_puts(after, "\xE2\x80\xA6");
	}
}

/* ---- the graph ---------------------------------------------------------- */

struct links_graph {
	const site *s;
	links_edge *edges;     /* by source document, then source order */
	size_t nedges, cap;
	size_t *out_start;     /* ndocs + 1: edges[out_start[d] .. out_start[d + 1]) */
	size_t *in_start;      /* ndocs + 1: in_edges[in_start[d] .. in_start[d + 1]) */
	size_t *in_edges;      /* edge indexes by target */
	size_t errors;
	size_t held;           /* articles taken from a links_memory */
	uint64_t world;        /* links_world, when links_graph_new_with needed it */
};

/* Where the next link's text is looked for in its block's plain text,
 * and that text's length, counted once for all the block's links. */
typedef struct cursor {
	int block;
	size_t off;
	size_t len;
} cursor;

static void add_edge(links_graph *g, size_t from, const document *fd,
		     const markdown_link *l, const links_target *t, cursor *c)
{
	const site *s = g->s;
	size_t to = (size_t)(t->doc - s->docs);
	if (g->nedges == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->edges = xrealloc(g->edges, g->cap * sizeof *g->edges);
	}
	links_edge *e = &g->edges[g->nedges++];
	memset(e, 0, sizeof *e);
	e->from = from;
	e->to = to;
	e->link = l;
	e->anchor = t->anchor ? t->anchor : "";
	/* links_resolve: the anchor follows the first '#'. */
	const char *hash = strchr(l->url, '#');
	e->anchor_at = hash ? (long)(hash + 1 - l->url) : -1;
	if (strncmp(e->anchor, "tip-", 4) == 0) {
		int n = atoi(e->anchor + 4);
		const markdown_tip *tip = n > 0 ? markdown_tip_at(t->doc->md, (size_t)n - 1) : NULL;
		if (tip && strcmp(tip->id, e->anchor) == 0)
			e->tip = n;
	}

	/* The link's text in the block: links come in source order, so each
	 * is looked for after the one before in the same block. */
	e->block = markdown_block_text(fd->md, l->block_index);
	if (c->block != l->block_index) {
		c->block = l->block_index;
		c->off = 0;
		c->len = strlen(e->block);
	}
	size_t blen = c->len;
	const char *hit = c->off <= blen ? strstr(e->block + c->off, l->text) : NULL;
	if (!hit && c->off)
		hit = strstr(e->block, l->text);
	if (hit) {
		e->text_start = (size_t)(hit - e->block);
		e->text_end = e->text_start + strlen(l->text);
		c->off = e->text_end;
	} else {
		e->text_start = e->text_end = 0;
	}
	sentence_in(e->block, blen, e->text_start, e->text_end, &e->sentence_start,
		    &e->sentence_end);
	if (!hit) {
		e->sentence_start = 0;
		e->sentence_end = blen;
		e->text_start = e->text_end = blen + 1; /* none: see links_context */
	}
}

/* The path from folder dir to content-relative rel ("../tips/x.md"). */
static void relative_path(buf *out, const char *dir, const char *rel)
{
	/* Whole folders the two share; their bytes are the same in both. */
	size_t shared = 0, i = 0;
	while (dir[i]) {
		size_t j = i;
		while (dir[j] && dir[j] != '/')
			j++;
		if (strncmp(dir + i, rel + i, j - i) != 0 || rel[j] != '/')
			break;
		shared = j + 1;
		if (!dir[j])
			break;
		i = j + 1;
	}
	if (shared <= strlen(dir) && dir[shared]) {
		buf_puts(out, "../");
		for (const char *p = dir + shared; *p; p++)
			if (*p == '/')
				buf_puts(out, "../");
	}
	buf_puts(out, rel + shared);
}

/* A likely meant destination for a missing one, or "" when none: the
 * Markdown file of a page URL ("x/" for "x.md"), or a document with the
 * same file name in another folder. */
static void suggest(const site *s, const document *from, const links_target *t,
		    buf *out)
{
	if (!t->rel)
		return;
	size_t rl = strlen(t->rel);
	buf cand = BUF_INIT;
	const document *hit = NULL;
	if (rl && t->rel[rl - 1] == '/') {
		buf_put(&cand, t->rel, rl - 1);
		buf_puts(&cand, ".md");
		hit = site_find(s, cand.ptr);
	}
	const char *base = strrchr(t->rel, '/');
	base = base ? base + 1 : t->rel;
	/* Every folder has an _index.md: its name says nothing. */
	if (!hit && ends_with(base, ".md") && strcmp(base, "_index.md") != 0 &&
	    strcmp(base, "index.md") != 0) {
		for (size_t i = 0; i < s->ndocs && !hit; i++) {
			const char *b = strrchr(s->docs[i].rel, '/');
			if (strcmp(b ? b + 1 : s->docs[i].rel, base) == 0)
				hit = &s->docs[i];
		}
	}
	if (hit)
		relative_path(out, from->dir, hit->rel);
	buf_release(&cand);
}

const document *links_renamed(const site *s, const char *rel,
			      const struct history_commit **when)
{
	if (!s->history || !rel)
		return NULL;
	buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", s->cfg.content_dir, rel);
	size_t cl = strlen(s->cfg.content_dir);
	const document *hit = NULL;
	bool found = false;
	size_t n = history_commit_count(s->history);
	for (size_t i = 0; i < n && !found; i++) {
		const history_commit *c = history_commit_at(s->history, i);
		for (size_t k = 0; k < c->nchanges && !found; k++) {
			const history_change *ch = &c->changes[k];
			if (ch->kind != HISTORY_RENAMED || !ch->old_path ||
			    strcmp(ch->old_path, path.ptr) != 0)
				continue;
			found = true;
			const char *now = ch->page ? ch->page->path : NULL;
			if (now && strncmp(now, s->cfg.content_dir, cl) == 0 && now[cl] == '/')
				hit = site_find(s, now + cl + 1);
			*when = c;
		}
	}
	buf_release(&path);
	return hit;
}

/* What to add to "has no anchor '#x'": the tips there are, or the id of
 * a heading the anchor was probably meant for. */
static void anchor_hint(const document *to, const char *anchor, buf *out)
{
	size_t ntips = markdown_tip_count(to->md);
	if (strncmp(anchor, "tip-", 4) == 0) {
		if (ntips == 1)
			buf_puts(out, " (it has one tip, #tip-1)");
		else if (ntips)
			buf_printf(out, " (its tips are #tip-1 to #tip-%zu)", ntips);
		else
			buf_puts(out, " (it has no numbered tips)");
		return;
	}
	buf dec = BUF_INIT, slug = BUF_INIT;
	buf_put_url_decoded(&dec, anchor, strlen(anchor));
	text_slug(&slug, dec.ptr, dec.len);
	if (slug.len && strcmp(slug.ptr, anchor) != 0 &&
	    markdown_has_anchor(to->md, slug.ptr))
		buf_printf(out, " (did you mean '#%s'?)", slug.ptr);
	buf_release(&dec);
	buf_release(&slug);
}

static bool has_anchor(const markdown_doc *md, const char *anchor)
{
	if (!*anchor || markdown_has_anchor(md, anchor))
		return true;
	buf dec = BUF_INIT;
	buf_put_url_decoded(&dec, anchor, strlen(anchor));
	bool found = markdown_has_anchor(md, dec.ptr);
	buf_release(&dec);
	return found;
}

/* Checks the links of document i, reporting into diags (may be NULL) and
 * adding its edges to g. */
static void check_document(links_graph *g, size_t i, diag_list *diags)
{
	const site *s = g->s;
	const document *d = &s->docs[i];
	diag_severity sev = s->cfg.links == LINKS_WARN ? DIAG_WARNING : DIAG_ERROR;
	cursor c = { -1, 0, 0 };
	buf hint = BUF_INIT;
	for (size_t j = 0; j < markdown_link_count(d->md); j++) {
		const markdown_link *l = markdown_link_at(d->md, j);
		diag_severity ls = l->image ? DIAG_ERROR : sev;
		const char *what = l->image ? "image" : "link target";
		links_target t;
		links_resolve(s, d, l->url, &t);
		buf_clear(&hint);
		bool bad = true;
		switch (t.kind) {
		case LINKS_EXTERNAL:
		case LINKS_ASSET:
		case LINKS_FAILED: /* reported where it fails */
			bad = false;
			break;
		case LINKS_LOCAL:
			bad = t.anchor && !has_anchor(d->md, t.anchor);
			if (bad) {
				anchor_hint(d, t.anchor, &hint);
				if (diags)
					diag_add(diags, ls, d->path, l->line, l->col,
						 "%s '%s' does not exist%s", what, l->url,
						 hint.ptr);
			}
			break;
		case LINKS_PAGE:
			if (l->image) {
				if (diags)
					diag_add(diags, ls, d->path, l->line, l->col,
						 "image '%s' is a page, not an image", l->url);
				break;
			}
			if (t.anchor && !has_anchor(t.doc->md, t.anchor)) {
				anchor_hint(t.doc, t.anchor, &hint);
				if (diags)
					diag_add(diags, ls, d->path, l->line, l->col,
						 "link target '%s' does not exist: '%s' has no "
						 "anchor '#%s'%s",
						 l->url, t.doc->path, t.anchor, hint.ptr);
				break;
			}
			bad = false;
			if (t.doc != d)
				add_edge(g, i, d, l, &t, &c);
			break;
		case LINKS_OUTSIDE:
			if (diags)
				diag_add(diags, ls, d->path, l->line, l->col,
					 "%s '%s' does not exist: it points outside '%s'",
					 what, l->url, s->cfg.content_dir);
			break;
		case LINKS_SKIPPED:
			if (diags)
				diag_add(diags, ls, d->path, l->line, l->col,
					 "%s '%s' does not exist in this build: '%s/%s' is a "
					 "draft or dated in the future",
					 what, l->url, s->cfg.content_dir, t.rel);
			break;
		case LINKS_MISSING: {
			const history_commit *when = NULL;
			const document *moved = links_renamed(s, t.rel, &when);
			if (moved && diags) {
				relative_path(&hint, d->dir, moved->rel);
				if (t.anchor)
					buf_printf(&hint, "#%s", t.anchor);
				diag_add(diags, ls, d->path, l->line, l->col,
					 "%s '%s' does not exist: it was renamed to '%s' in "
					 "commit %.7s",
					 what, l->url, hint.ptr, when->id);
				break;
			}
			suggest(s, d, &t, &hint);
			if (diags && hint.len)
				diag_add(diags, ls, d->path, l->line, l->col,
					 "%s '%s' does not exist (did you mean '%s'?)", what,
					 l->url, hint.ptr);
			else if (diags)
				diag_add(diags, ls, d->path, l->line, l->col,
					 "%s '%s' does not exist", what, l->url);
			break;
		}
		}
		if (bad && diags && ls == DIAG_ERROR)
			g->errors++;
		links_target_release(&t);
	}
	buf_release(&hint);
}

/* ---- the memory of a resident process -------------------------------- */

/* An edge without pointers: they lead into the article's Markdown, which
 * may be another copy of the same text next time. */
typedef struct kept_edge {
	size_t to;
	size_t link;         /* index among the source's links */
	long anchor;         /* offset of the anchor in the link's URL; -1: "" */
	int tip;
	size_t sentence_start, sentence_end, text_start, text_end;
} kept_edge;

typedef struct kept_diag {
	diag_severity severity;
	int line, col;
	char *msg;           /* the file is the article's path */
} kept_diag;

struct links_memory {
	bool valid;
	bool thawed;         /* read from disk (links_memory_thaw), not made
			      * by this process: checked as it is replayed */
	uint64_t world;      /* links_world of the site it holds */
	size_t n;            /* articles, in site order */
	uint64_t *ids;       /* the identity of each (document_identity) */
	size_t *edge_start;  /* n + 1: edges of article i */
	kept_edge *edges;
	size_t *diag_start;  /* n + 1: messages of article i */
	kept_diag *diags;
	size_t *errors;      /* of each */
};

links_memory *links_memory_new(void)
{
	return xcalloc(1, sizeof(links_memory));
}

static void memory_clear(links_memory *m)
{
	for (size_t i = 0; m->diag_start && i < m->diag_start[m->n]; i++)
		free(m->diags[i].msg);
	free(m->ids);
	free(m->edge_start);
	free(m->edges);
	free(m->diag_start);
	free(m->diags);
	free(m->errors);
	memset(m, 0, sizeof *m);
}

void links_memory_free(links_memory *m)
{
	if (!m)
		return;
	memory_clear(m);
	free(m);
}

uint64_t links_world(const site *s)
{
	uint64_t h = buf_hash64(&s->stamp, sizeof s->stamp, 0x6c696e6b73u);
	h = buf_hash64(&s->cfg.links, sizeof s->cfg.links, h);
	h = buf_hash_cstr(s->cfg.content_dir, h);
	h = buf_hash64(&s->ndocs, sizeof s->ndocs, h);
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		uint64_t facts = d->facts ? d->facts : document_facts(d);
		h = buf_hash64(&facts, sizeof facts, h);
	}
	h = buf_hash64(&s->nskipped, sizeof s->nskipped, h);
	for (size_t i = 0; i < s->nskipped; i++)
		h = buf_hash_cstr(s->skipped[i], h);
	h = buf_hash64(&s->nfailed, sizeof s->nfailed, h);
	for (size_t i = 0; i < s->nfailed; i++)
		h = buf_hash_cstr(s->failed[i], h);
	h = buf_hash64(&s->nassets, sizeof s->nassets, h);
	for (size_t i = 0; i < s->nassets; i++)
		h = buf_hash_cstr(s->assets[i].path, h);
	return h;
}

static uint64_t identity_of(const document *d)
{
	return d->identity ? d->identity : document_identity(d);
}

void links_memory_freeze(const links_memory *m, buf *out)
{
	buf_put_varint(out, m->valid);
	if (!m->valid)
		return;
	buf_put_varint(out, m->world);
	buf_put_varint(out, m->n);
	for (size_t i = 0; i < m->n; i++) {
		buf_put_varint(out, m->ids[i]);
		buf_put_varint(out, m->errors[i]);
		buf_put_varint(out, m->edge_start[i + 1] - m->edge_start[i]);
		for (size_t k = m->edge_start[i]; k < m->edge_start[i + 1]; k++) {
			const kept_edge *e = &m->edges[k];
			buf_put_varint(out, e->to);
			buf_put_varint(out, e->link);
			buf_put_svarint(out, e->anchor);
			buf_put_svarint(out, e->tip);
			buf_put_varint(out, e->sentence_start);
			buf_put_varint(out, e->sentence_end);
			buf_put_varint(out, e->text_start);
			buf_put_varint(out, e->text_end);
		}
		buf_put_varint(out, m->diag_start[i + 1] - m->diag_start[i]);
		for (size_t k = m->diag_start[i]; k < m->diag_start[i + 1]; k++) {
			const kept_diag *d = &m->diags[k];
			buf_put_varint(out, (uint64_t)d->severity);
			buf_put_svarint(out, d->line);
			buf_put_svarint(out, d->col);
			buf_put_zstr(out, d->msg);
		}
	}
}

bool links_memory_thaw(links_memory *m, buf_reader *r)
{
	memory_clear(m);
	if (buf_get_varint(r) != 1)
		return false;
	m->world = buf_get_varint(r);
	size_t n = buf_get_count(r), ecap = 0, dcap = 0;
	m->n = n;
	m->ids = xmalloc((n + 1) * sizeof *m->ids);
	m->errors = xcalloc(n + 1, sizeof *m->errors);
	m->edge_start = xcalloc(n + 1, sizeof *m->edge_start);
	m->diag_start = xcalloc(n + 1, sizeof *m->diag_start);
	size_t ne = 0, nd = 0;
	for (size_t i = 0; i < n && !r->bad; i++) {
		m->ids[i] = buf_get_varint(r);
		m->errors[i] = (size_t)buf_get_varint(r);
		m->edge_start[i] = ne;
		size_t count = buf_get_count(r);
		if (ne + count > ecap) {
			ecap = (ne + count) * 2;
			m->edges = xrealloc(m->edges, ecap * sizeof *m->edges);
		}
		for (size_t k = 0; k < count && !r->bad; k++) {
			kept_edge *e = &m->edges[ne++];
			e->to = (size_t)buf_get_varint(r);
			e->link = (size_t)buf_get_varint(r);
			e->anchor = (long)buf_get_svarint(r);
			e->tip = (int)buf_get_svarint(r);
			e->sentence_start = (size_t)buf_get_varint(r);
			e->sentence_end = (size_t)buf_get_varint(r);
			e->text_start = (size_t)buf_get_varint(r);
			e->text_end = (size_t)buf_get_varint(r);
			if (e->to >= n)
				r->bad = true;
		}
		m->diag_start[i] = nd;
		count = buf_get_count(r);
		if (nd + count > dcap) {
			dcap = (nd + count) * 2;
			m->diags = xrealloc(m->diags, dcap * sizeof *m->diags);
		}
		for (size_t k = 0; k < count && !r->bad; k++) {
			kept_diag *d = &m->diags[nd];
			uint64_t sev = buf_get_varint(r);
			d->severity = sev == DIAG_ERROR ? DIAG_ERROR
				      : sev == DIAG_NOTICE ? DIAG_NOTICE : DIAG_WARNING;
			d->line = (int)buf_get_svarint(r);
			d->col = (int)buf_get_svarint(r);
			const char *msg = buf_get_zstr(r);
			if (sev > DIAG_NOTICE || !msg) {
				r->bad = true;
				break;
			}
			d->msg = xstrdup(msg);
			nd++;
		}
	}
	m->edge_start[n] = ne;
	m->diag_start[n] = nd;
	if (!m->edges)
		m->edges = xmalloc(sizeof *m->edges);
	if (!m->diags)
		m->diags = xcalloc(1, sizeof *m->diags);
	if (r->bad || r->p != r->end) {
		memory_clear(m);
		return false;
	}
	m->valid = true;
	m->thawed = true;
	return true;
}

/* Whether what m keeps of article i fits its Markdown: always for a
 * memory this process made, checked for one read from disk. */
static bool replay_fits(const links_memory *m, const document *d, size_t i)
{
	if (!m->thawed)
		return true;
	size_t nlinks = markdown_link_count(d->md), known = 0;
	const char *text = "";
	int block = -1;
	for (size_t k = m->edge_start[i]; k < m->edge_start[i + 1]; k++) {
		const kept_edge *ke = &m->edges[k];
		if (ke->link >= nlinks)
			return false;
		const markdown_link *l = markdown_link_at(d->md, ke->link);
		/* The edges come in link order, a block's together. Its text
		 * is read only as far as its links' sentences go (known:
		 * bytes read, none of them its end): on the cache's pages,
		 * ten thousand articles' blocks, the rest is not touched. */
		if (l->block_index != block || k == m->edge_start[i]) {
			block = l->block_index;
			text = markdown_block_text(d->md, block);
			known = 0;
		}
		if (ke->sentence_end > known) {
			known += strnlen(text + known, ke->sentence_end - known);
			if (known < ke->sentence_end)
				return false;
		}
		if ((ke->anchor >= 0 && strnlen(l->url, (size_t)ke->anchor) < (size_t)ke->anchor) ||
		    !(ke->sentence_start <= ke->text_start && ke->text_start <= ke->text_end &&
		      ke->text_end <= ke->sentence_end))
			return false;
	}
	return true;
}

/* Adds article i's edges and messages as the memory has them. */
static void replay_document(links_graph *g, const links_memory *m, size_t i, diag_list *diags)
{
	const document *d = &g->s->docs[i];
	for (size_t k = m->edge_start[i]; k < m->edge_start[i + 1]; k++) {
		const kept_edge *ke = &m->edges[k];
		const markdown_link *l = markdown_link_at(d->md, ke->link);
		if (g->nedges == g->cap) {
			g->cap = g->cap ? g->cap * 2 : 64;
			g->edges = xrealloc(g->edges, g->cap * sizeof *g->edges);
		}
		links_edge *e = &g->edges[g->nedges++];
		e->from = i;
		e->to = ke->to;
		e->link = l;
		e->anchor = ke->anchor < 0 ? "" : l->url + ke->anchor;
		e->anchor_at = ke->anchor;
		e->tip = ke->tip;
		e->block = markdown_block_text(d->md, l->block_index);
		e->sentence_start = ke->sentence_start;
		e->sentence_end = ke->sentence_end;
		e->text_start = ke->text_start;
		e->text_end = ke->text_end;
	}
	for (size_t k = m->diag_start[i]; k < m->diag_start[i + 1]; k++) {
		const kept_diag *kd = &m->diags[k];
		diag_add(diags, kd->severity, d->path, kd->line, kd->col, "%s", kd->msg);
	}
	g->errors += m->errors[i];
}

/* One thread's share of the documents, checked into a graph of its own
 * (edges, diagnostics, errors), joined in document order afterwards: the
 * result does not depend on the number of threads. */
typedef struct check_job {
	links_graph part;
	size_t from, to;
	size_t *out_start;  /* the whole graph's, filled for from..to, relative */
	diag_list diags;
	bool report;
	const links_memory *held; /* to take articles from, or NULL */
	size_t *diag_count; /* per article: its messages (for the memory), or NULL */
	size_t *errors;     /* and its errors */
} check_job;

static void *check_run(void *arg)
{
	check_job *j = arg;
	const links_memory *m = j->held;
	for (size_t i = j->from; i < j->to; i++) {
		j->out_start[i] = j->part.nedges;
		size_t nd = j->diags.n, ne = j->part.errors;
		if (m && m->ids[i] == identity_of(&j->part.s->docs[i]) &&
		    replay_fits(m, &j->part.s->docs[i], i)) {
			replay_document(&j->part, m, i, &j->diags);
			j->part.held++;
		} else {
			check_document(&j->part, i, j->report ? &j->diags : NULL);
		}
		if (j->diag_count) {
			j->diag_count[i] = j->diags.n - nd;
			j->errors[i] = j->part.errors - ne;
		}
	}
	return NULL;
}

/* Leaves g and the messages of its articles (diags from first on, in
 * article order, diag_count of each) to m. */
static void memory_keep(links_memory *m, const links_graph *g, uint64_t world,
			const diag_list *diags, size_t first, const size_t *diag_count,
			size_t *errors)
{
	const site *s = g->s;
	size_t n = s->ndocs;
	memory_clear(m);
	m->world = world;
	m->n = n;
	m->ids = xmalloc((n + 1) * sizeof *m->ids);
	for (size_t i = 0; i < n; i++)
		m->ids[i] = identity_of(&s->docs[i]);
	m->edge_start = xmalloc((n + 1) * sizeof *m->edge_start);
	memcpy(m->edge_start, g->out_start, (n + 1) * sizeof *m->edge_start);
	m->edges = xmalloc((g->nedges + 1) * sizeof *m->edges);
	for (size_t k = 0; k < g->nedges; k++) {
		const links_edge *e = &g->edges[k];
		const document *d = &s->docs[e->from];
		const markdown_link *first_link = markdown_link_at(d->md, 0);
		kept_edge *ke = &m->edges[k];
		ke->to = e->to;
		ke->link = (size_t)(e->link - first_link);
		/* Found as the edge was made: the URLs of ten thousand
		 * articles are not read again for it. */
		ke->anchor = e->anchor_at;
		ke->tip = e->tip;
		ke->sentence_start = e->sentence_start;
		ke->sentence_end = e->sentence_end;
		ke->text_start = e->text_start;
		ke->text_end = e->text_end;
	}
	m->diag_start = xmalloc((n + 1) * sizeof *m->diag_start);
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		m->diag_start[i] = total;
		total += diag_count[i];
	}
	m->diag_start[n] = total;
	m->diags = xcalloc(total + 1, sizeof *m->diags);
	for (size_t k = 0; k < total; k++) {
		const gen_diag *d = &diags->items[first + k];
		m->diags[k] = (kept_diag){ d->severity, d->line, d->col, xstrdup(d->msg) };
	}
	m->errors = errors;
	m->valid = true;
}

links_graph *links_graph_new(const site *s, diag_list *diags)
{
	return links_graph_new_with(s, NULL, diags);
}

size_t links_graph_held(const links_graph *g)
{
	return g->held;
}

uint64_t links_graph_world(const links_graph *g)
{
	return g->world;
}

links_graph *links_graph_new_with(const site *s, links_memory *m, diag_list *diags)
{
	links_graph *g = xcalloc(1, sizeof *g);
	size_t n = s->ndocs;
	g->s = s;
	if (!diags)
		m = NULL;
	uint64_t world = m ? links_world(s) : 0;
	g->world = world;
	const links_memory *held = m && m->valid && m->world == world && m->n == n ? m : NULL;
	size_t *diag_count = m ? xcalloc(n + 1, sizeof *diag_count) : NULL;
	size_t *errors = m ? xcalloc(n + 1, sizeof *errors) : NULL;
	size_t first = diags ? diags->n : 0;
	g->out_start = xcalloc(n + 1, sizeof *g->out_start);
	g->in_start = xcalloc(n + 2, sizeof *g->in_start);
	/* Every link of every article is resolved here, before anything
	 * else can start: on threads, as the articles were read. */
	size_t jobs = (size_t)site_jobs(s->opt_jobs);
	if (jobs > n / 256 + 1)
		jobs = n / 256 + 1;
	check_job *js = xcalloc(jobs, sizeof *js);
	for (size_t k = 0; k < jobs; k++) {
		js[k].part.s = s;
		js[k].from = n * k / jobs;
		js[k].to = n * (k + 1) / jobs;
		js[k].out_start = g->out_start;
		js[k].diags = (diag_list)DIAG_LIST_INIT;
		js[k].report = diags != NULL;
		js[k].held = held;
		js[k].diag_count = diag_count;
		js[k].errors = errors;
	}
	jobs_run(js, jobs, sizeof *js, check_run);
	for (size_t k = 0; k < jobs; k++) {
		check_job *j = &js[k];
		for (size_t i = j->from; i < j->to; i++)
			g->out_start[i] += g->nedges;
		if (g->nedges + j->part.nedges > g->cap) {
			g->cap = g->nedges + j->part.nedges;
			g->edges = xrealloc(g->edges, (g->cap + 1) * sizeof *g->edges);
		}
		if (j->part.nedges)
			memcpy(g->edges + g->nedges, j->part.edges, j->part.nedges * sizeof *g->edges);
		g->nedges += j->part.nedges;
		g->errors += j->part.errors;
		g->held += j->part.held;
		free(j->part.edges);
		if (diags)
			diag_merge(diags, &j->diags);
		diag_release(&j->diags);
	}
	free(js);
	g->out_start[n] = g->nedges;
	/* Every article taken from the memory leaves it as it was. */
	if (m && !(held && g->held == n))
		memory_keep(m, g, world, diags, first, diag_count, errors);
	else
		free(errors);
	free(diag_count);

	/* Counting sort by target; stable, so sources stay in site order. */
	g->in_edges = xcalloc(g->nedges + 1, sizeof *g->in_edges);
	for (size_t e = 0; e < g->nedges; e++)
		g->in_start[g->edges[e].to + 1]++;
	for (size_t i = 0; i < n; i++)
		g->in_start[i + 1] += g->in_start[i];
	size_t *fill = xcalloc(n + 1, sizeof *fill);
	for (size_t e = 0; e < g->nedges; e++) {
		size_t to = g->edges[e].to;
		g->in_edges[g->in_start[to] + fill[to]++] = e;
	}
	free(fill);
	return g;
}

void links_graph_free(links_graph *g)
{
	if (!g)
		return;
	free(g->edges);
	free(g->out_start);
	free(g->in_start);
	free(g->in_edges);
	free(g);
}

size_t links_graph_errors(const links_graph *g)
{
	return g->errors;
}

size_t links_out_count(const links_graph *g, size_t doc)
{
	return doc < g->s->ndocs ? g->out_start[doc + 1] - g->out_start[doc] : 0;
}

const links_edge *links_out_at(const links_graph *g, size_t doc, size_t i)
{
	if (i >= links_out_count(g, doc))
		return NULL;
	return &g->edges[g->out_start[doc] + i];
}

size_t links_in_count(const links_graph *g, size_t doc)
{
	return doc < g->s->ndocs ? g->in_start[doc + 1] - g->in_start[doc] : 0;
}

const links_edge *links_in_at(const links_graph *g, size_t doc, size_t i)
{
	if (i >= links_in_count(g, doc))
		return NULL;
	return &g->edges[g->in_edges[g->in_start[doc] + i]];
}

size_t links_check(const site *s, diag_list *diags)
{
	links_graph *g = links_graph_new(s, diags);
	size_t errors = g->errors;
	links_graph_free(g);
	return errors;
}
