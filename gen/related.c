/* related: scoring pages against their neighbours (see related.h).
 *
 * Theme ids are interned to small numbers first; each page's themes become
 * a sorted array, so the themes two pages share are counted with one
 * merge. The posting lists (one per theme and one per pair of themes) hold
 * page indexes in ascending order; a page finds itself in a list with a
 * binary search and reads RELATED_WINDOW entries to either side. The pair
 * lists make sure that pages sharing two or more themes are seen even when
 * a single theme's list is far longer than the window. */
#include "related.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Themes of a page beyond this many do not make pairs (8 make 28). */
#define PAIR_THEMES 8

struct related_index {
	size_t n;
	size_t *start;  /* n + 1: items[start[d] .. start[d + 1]) */
	size_t *items;
	int *scores;
	size_t work;
};

typedef struct pair_entry {
	uint64_t key; /* a * ntheme + b, a < b */
	size_t doc;
} pair_entry;

typedef struct state {
	const site *s;
	const links_graph *g;
	size_t ntheme;
	size_t *tstart, *tids;   /* page d's theme ids: tids[tstart[d] .. tstart[d + 1]) */
	size_t *pstart, *plist;  /* theme t's pages: plist[pstart[t] .. pstart[t + 1]) */
	pair_entry *pairs;       /* sorted by key, then page */
	size_t npairs;
	size_t *stamp;           /* d + 1 when a page is a candidate of d */
	unsigned *linked;        /* 1: d links to it, 2: it links to d */
	size_t *cand;
	size_t ncand, capcand;
} state;

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static int pair_cmp(const void *a, const void *b)
{
	const pair_entry *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* Interns the theme ids of every page and builds the posting lists. */
static void index_themes(state *st)
{
	const site *s = st->s;
	size_t n = s->ndocs, total = 0;
	for (size_t d = 0; d < n; d++)
		total += s->docs[d].fm.nthemes;
	const char **names = xcalloc(total + 1, sizeof *names);
	size_t k = 0;
	for (size_t d = 0; d < n; d++)
		for (size_t i = 0; i < s->docs[d].fm.nthemes; i++)
			names[k++] = s->docs[d].fm.themes[i];
	qsort(names, k, sizeof *names, str_cmp);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || strcmp(names[u - 1], names[i]) != 0)
			names[u++] = names[i];
	st->ntheme = u;

	st->tstart = xcalloc(n + 1, sizeof *st->tstart);
	st->tids = xcalloc(total + 1, sizeof *st->tids);
	size_t *count = xcalloc(u + 1, sizeof *count);
	k = 0;
	for (size_t d = 0; d < n; d++) {
		const document *doc = &s->docs[d];
		st->tstart[d] = k;
		size_t first = k;
		for (size_t i = 0; i < doc->fm.nthemes; i++) {
			const char *key = doc->fm.themes[i];
			const char **hit = bsearch(&key, names, u, sizeof *names, str_cmp);
			st->tids[k++] = (size_t)(hit - names);
		}
		qsort(st->tids + first, k - first, sizeof *st->tids, size_cmp);
		/* A theme named twice counts once. */
		size_t m = first;
		for (size_t i = first; i < k; i++)
			if (m == first || st->tids[m - 1] != st->tids[i])
				st->tids[m++] = st->tids[i];
		k = m;
		if (!doc->is_index)
			for (size_t i = first; i < k; i++)
				count[st->tids[i]]++;
	}
	st->tstart[n] = k;
	free(names);

	/* Posting lists by counting; pages go in ascending order. */
	st->pstart = xcalloc(u + 1, sizeof *st->pstart);
	for (size_t t = 0; t < u; t++)
		st->pstart[t + 1] = st->pstart[t] + count[t];
	st->plist = xcalloc(st->pstart[u] + 1, sizeof *st->plist);
	memset(count, 0, (u + 1) * sizeof *count);
	for (size_t d = 0; d < n; d++) {
		if (s->docs[d].is_index)
			continue;
		for (size_t i = st->tstart[d]; i < st->tstart[d + 1]; i++) {
			size_t t = st->tids[i];
			st->plist[st->pstart[t] + count[t]++] = d;
		}
	}
	free(count);

	size_t cap = 0;
	for (size_t d = 0; d < n; d++) {
		if (s->docs[d].is_index)
			continue;
		size_t a0 = st->tstart[d], m = st->tstart[d + 1] - a0;
		if (m > PAIR_THEMES)
			m = PAIR_THEMES;
		for (size_t i = 0; i < m; i++)
			for (size_t j = i + 1; j < m; j++) {
				if (st->npairs == cap) {
					cap = cap ? cap * 2 : 64;
					st->pairs = xrealloc(st->pairs, cap * sizeof *st->pairs);
				}
				st->pairs[st->npairs].key =
					(uint64_t)st->tids[a0 + i] * u + st->tids[a0 + j];
				st->pairs[st->npairs++].doc = d;
			}
	}
	if (st->npairs > 1)
		qsort(st->pairs, st->npairs, sizeof *st->pairs, pair_cmp);
}

static void add_candidate(state *st, size_t d, size_t c, unsigned link)
{
	if (c == d || st->s->docs[c].is_index)
		return;
	if (st->stamp[c] != d + 1) {
		st->stamp[c] = d + 1;
		st->linked[c] = 0;
		if (st->ncand == st->capcand) {
			st->capcand = st->capcand ? st->capcand * 2 : 64;
			st->cand = xrealloc(st->cand, st->capcand * sizeof *st->cand);
		}
		st->cand[st->ncand++] = c;
	}
	st->linked[c] |= link;
}

/* Adds the pages within RELATED_WINDOW of d in the ascending list. */
static void add_window(state *st, size_t d, const size_t *list, size_t n)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (list[mid] < d)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t a = lo > RELATED_WINDOW ? lo - RELATED_WINDOW : 0;
	size_t b = lo + RELATED_WINDOW + 1 < n ? lo + RELATED_WINDOW + 1 : n;
	for (size_t i = a; i < b; i++)
		add_candidate(st, d, list[i], 0);
}

static void add_pair_window(state *st, size_t d, uint64_t key)
{
	size_t lo = 0, hi = st->npairs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->pairs[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t first = lo;
	hi = st->npairs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->pairs[mid].key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t n = lo - first;
	/* Find d among the pages of this pair, then take its window. */
	size_t l = 0, h = n;
	while (l < h) {
		size_t mid = l + (h - l) / 2;
		if (st->pairs[first + mid].doc < d)
			l = mid + 1;
		else
			h = mid;
	}
	size_t a = l > RELATED_WINDOW ? l - RELATED_WINDOW : 0;
	size_t b = l + RELATED_WINDOW + 1 < n ? l + RELATED_WINDOW + 1 : n;
	for (size_t i = a; i < b; i++)
		add_candidate(st, d, st->pairs[first + i].doc, 0);
}

static size_t shared_themes(const state *st, size_t a, size_t b)
{
	size_t i = st->tstart[a], ie = st->tstart[a + 1];
	size_t j = st->tstart[b], je = st->tstart[b + 1];
	size_t n = 0;
	while (i < ie && j < je) {
		if (st->tids[i] == st->tids[j]) {
			n++;
			i++;
			j++;
		} else if (st->tids[i] < st->tids[j]) {
			i++;
		} else {
			j++;
		}
	}
	return n;
}

/* Whether x (score sx) goes before y (score sy). */
static bool better(const site *s, size_t x, int sx, size_t y, int sy)
{
	if (sx != sy)
		return sx > sy;
	int64_t dx = s->docs[x].fm.date_epoch, dy = s->docs[y].fm.date_epoch;
	if (dx != dy)
		return dx > dy;
	return x < y; /* docs are sorted by path */
}

related_index *related_new(const site *s, const links_graph *g, size_t max)
{
	related_index *ri = xcalloc(1, sizeof *ri);
	size_t n = s->ndocs;
	if (max > RELATED_MAX)
		max = RELATED_MAX;
	ri->n = n;
	ri->start = xcalloc(n + 1, sizeof *ri->start);
	ri->items = xcalloc(n * max + 1, sizeof *ri->items);
	ri->scores = xcalloc(n * max + 1, sizeof *ri->scores);

	state st;
	memset(&st, 0, sizeof st);
	st.s = s;
	st.g = g;
	index_themes(&st);
	st.stamp = xcalloc(n + 1, sizeof *st.stamp);
	st.linked = xcalloc(n + 1, sizeof *st.linked);

	size_t k = 0;
	for (size_t d = 0; d < n; d++) {
		ri->start[d] = k;
		if (s->docs[d].is_index || max == 0)
			continue;
		st.ncand = 0;
		for (size_t i = 0; g && i < links_out_count(g, d); i++)
			add_candidate(&st, d, links_out_at(g, d, i)->to, 1);
		for (size_t i = 0; g && i < links_in_count(g, d); i++)
			add_candidate(&st, d, links_in_at(g, d, i)->from, 2);
		size_t a0 = st.tstart[d], m = st.tstart[d + 1] - a0;
		size_t mp = m > PAIR_THEMES ? PAIR_THEMES : m;
		for (size_t i = 0; i < mp; i++)
			for (size_t j = i + 1; j < mp; j++)
				add_pair_window(&st, d, (uint64_t)st.tids[a0 + i] * st.ntheme +
								st.tids[a0 + j]);
		for (size_t i = 0; i < m; i++) {
			size_t t = st.tids[a0 + i];
			add_window(&st, d, st.plist + st.pstart[t],
				   st.pstart[t + 1] - st.pstart[t]);
		}

		/* Keep the best max in items[k ..], by insertion. */
		size_t kept = 0;
		for (size_t i = 0; i < st.ncand; i++) {
			size_t c = st.cand[i];
			unsigned l = st.linked[c];
			int score = RELATED_THEME * (int)shared_themes(&st, d, c) +
				    RELATED_LINK * (int)((l & 1) + (l >> 1 & 1));
			ri->work++;
			if (score <= 0)
				continue;
			size_t at = kept;
			while (at > 0 && better(s, c, score, ri->items[k + at - 1],
						ri->scores[k + at - 1]))
				at--;
			if (at >= max)
				continue;
			size_t last = kept < max ? kept : max - 1;
			for (size_t j = last; j > at; j--) {
				ri->items[k + j] = ri->items[k + j - 1];
				ri->scores[k + j] = ri->scores[k + j - 1];
			}
			ri->items[k + at] = c;
			ri->scores[k + at] = score;
			if (kept < max)
				kept++;
		}
		k += kept;
	}
	ri->start[n] = k;

	free(st.tstart);
	free(st.tids);
	free(st.pstart);
	free(st.plist);
	free(st.pairs);
	free(st.stamp);
	free(st.linked);
	free(st.cand);
	return ri;
}

uint64_t related_key(const site *s, const links_graph *g, size_t max)
{
	uint64_t h = buf_hash64(&max, sizeof max, 0x72656c61746564u);
	h = buf_hash64(&s->ndocs, sizeof s->ndocs, h);
	for (size_t d = 0; d < s->ndocs; d++) {
		const document *doc = &s->docs[d];
		uint64_t shelving = doc->shelving ? doc->shelving : document_shelving(doc);
		h = buf_hash64(&shelving, sizeof shelving, h);
		size_t nout = g ? links_out_count(g, d) : 0;
		h = buf_hash64(&nout, sizeof nout, h);
		for (size_t i = 0; i < nout; i++)
			h = buf_hash64(&links_out_at(g, d, i)->to, sizeof(size_t), h);
	}
	return h;
}

/* key, n, then per page its count and its (page, score) pairs. */
void related_save(const related_index *ri, uint64_t key, buf *out)
{
	buf_put_varint(out, key >> 32);
	buf_put_varint(out, key & 0xffffffffu);
	buf_put_varint(out, ri->n);
	for (size_t d = 0; d < ri->n; d++) {
		buf_put_varint(out, ri->start[d + 1] - ri->start[d]);
		for (size_t i = ri->start[d]; i < ri->start[d + 1]; i++) {
			buf_put_varint(out, ri->items[i]);
			buf_put_svarint(out, ri->scores[i]);
		}
	}
}

related_index *related_load(const void *data, size_t len, uint64_t key, size_t n)
{
	if (!data)
		return NULL;
	buf_reader r;
	buf_reader_init(&r, data, len);
	uint64_t hi = buf_get_varint(&r), lo = buf_get_varint(&r);
	if (r.bad || (hi << 32 | lo) != key || buf_get_varint(&r) != n || r.bad)
		return NULL;
	related_index *ri = xcalloc(1, sizeof *ri);
	ri->n = n;
	ri->start = xcalloc(n + 1, sizeof *ri->start);
	ri->items = xcalloc(n * RELATED_MAX + 1, sizeof *ri->items);
	ri->scores = xcalloc(n * RELATED_MAX + 1, sizeof *ri->scores);
	size_t k = 0;
	for (size_t d = 0; d < n && !r.bad; d++) {
		ri->start[d] = k;
		uint64_t c = buf_get_varint(&r);
		if (c > RELATED_MAX)
			r.bad = true;
		for (uint64_t i = 0; i < c && !r.bad; i++, k++) {
			uint64_t item = buf_get_varint(&r);
			int64_t score = buf_get_svarint(&r);
			if (item >= n || item == d || score <= 0 || score > INT_MAX)
				r.bad = true;
			ri->items[k] = (size_t)item;
			ri->scores[k] = (int)score;
		}
	}
	ri->start[n] = k;
	if (r.bad || r.p != r.end) {
		related_free(ri);
		return NULL;
	}
	return ri;
}

void related_free(related_index *ri)
{
	if (!ri)
		return;
	free(ri->start);
	free(ri->items);
	free(ri->scores);
	free(ri);
}

size_t related_count(const related_index *ri, size_t doc)
{
	return doc < ri->n ? ri->start[doc + 1] - ri->start[doc] : 0;
}

size_t related_at(const related_index *ri, size_t doc, size_t i)
{
	return ri->items[ri->start[doc] + i];
}

int related_score_at(const related_index *ri, size_t doc, size_t i)
{
	return ri->scores[ri->start[doc] + i];
}

size_t related_work(const related_index *ri)
{
	return ri->work;
}
