/* textdiff: line and word diffs (see textdiff.h).
 *
 * The edit script comes from Myers' "An O(ND) Difference Algorithm" in
 * its linear-space form: search from both ends for the middle snake,
 * split there, recurse. Items are compared as small integers: lines and
 * words are interned first, so the search never compares bytes. A step
 * budget keeps a pathological input (two unrelated 100,000-line files)
 * from taking minutes; past it, the rest is "delete all, insert all".
 *
 * Rendering pairs the removed and added lines of each change so that a
 * reworded paragraph shows as the old and the new paragraph with the
 * changed words marked; lines too different to pair show whole. */
#include "textdiff.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Myers steps (diagonals explored) per textdiff_ids call; a few tens of
 * milliseconds of work at most. */
#define STEP_BUDGET 20000000L
/* Line pairs whose words agree less than this (2 * same / total) are
 * shown as a removed and an added line rather than a word diff. */
#define PAIR_SIMILARITY 0.4

/* ---- interning ---------------------------------------------------------- */

typedef struct span {
	const char *p;
	size_t len;
} span;

typedef struct interner {
	uint32_t *slots;  /* id + 1, 0 = empty */
	size_t cap;       /* power of two */
	span *items;      /* by id */
	size_t n, items_cap;
} interner;

/* Slots take the low bits: buf_hash64 mixes every bit into them. */
static uint64_t hash_bytes(const char *p, size_t len)
{
	return buf_hash64(p, len, 0);
}

static void interner_grow(interner *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	uint32_t *slots = xcalloc(cap, sizeof *slots);
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i])
			continue;
		const span *s = &t->items[t->slots[i] - 1];
		size_t j = hash_bytes(s->p, s->len) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
}

static uint32_t intern(interner *t, const char *p, size_t len)
{
	if ((t->n + 1) * 2 > t->cap)
		interner_grow(t);
	size_t j = hash_bytes(p, len) & (t->cap - 1);
	while (t->slots[j]) {
		const span *s = &t->items[t->slots[j] - 1];
		if (s->len == len && memcmp(s->p, p, len) == 0)
			return t->slots[j] - 1;
		j = (j + 1) & (t->cap - 1);
	}
	if (t->n == t->items_cap) {
		t->items_cap = t->items_cap ? t->items_cap * 2 : 64;
		t->items = xrealloc(t->items, t->items_cap * sizeof *t->items);
	}
	t->items[t->n].p = p;
	t->items[t->n].len = len;
	t->slots[j] = (uint32_t)++t->n;
	return (uint32_t)(t->n - 1);
}

static void interner_release(interner *t)
{
	free(t->slots);
	free(t->items);
	memset(t, 0, sizeof *t);
}

/* ---- Myers ---------------------------------------------------------------- */

typedef struct script {
	textdiff_run *runs;
	size_t n, cap;
	long budget;
} script;

static void emit(script *s, textdiff_op op, size_t count)
{
	if (!count)
		return;
	if (s->n && s->runs[s->n - 1].op == op) {
		s->runs[s->n - 1].count += count;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->runs = xrealloc(s->runs, s->cap * sizeof *s->runs);
	}
	s->runs[s->n].op = op;
	s->runs[s->n].count = count;
	s->n++;
}

static void diff_rec(script *s, const uint32_t *a, size_t n, const uint32_t *b,
		     size_t m);

/* Finds the middle snake of a and b and recurses on both halves; when the
 * budget runs out, gives up with delete-all, insert-all. */
static void bisect(script *s, const uint32_t *a, size_t n, const uint32_t *b,
		   size_t m)
{
	long N = (long)n, M = (long)m;
	long max_d = (N + M + 1) / 2;
	long off = max_d, vlen = 2 * max_d + 2;
	long *v1 = xmalloc((size_t)vlen * 2 * sizeof *v1);
	long *v2 = v1 + vlen;
	for (long i = 0; i < vlen; i++)
		v1[i] = v2[i] = -1;
	v1[off + 1] = 0;
	v2[off + 1] = 0;
	long delta = N - M;
	bool front = (delta % 2) != 0;
	long k1start = 0, k1end = 0, k2start = 0, k2end = 0;
	long sx = -1, sy = -1;

	for (long d = 0; d < max_d && sx < 0; d++) {
		if (s->budget <= 0)
			break;
		s->budget -= 2 * d + 1;
		for (long k1 = -d + k1start; k1 <= d - k1end && sx < 0; k1 += 2) {
			long k1o = off + k1, x1;
			if (k1 == -d || (k1 != d && v1[k1o - 1] < v1[k1o + 1]))
				x1 = v1[k1o + 1];
			else
				x1 = v1[k1o - 1] + 1;
			long y1 = x1 - k1;
			while (x1 < N && y1 < M && a[x1] == b[y1]) {
				x1++;
				y1++;
			}
			v1[k1o] = x1;
			if (x1 > N) {
				k1end += 2;
			} else if (y1 > M) {
				k1start += 2;
			} else if (front) {
				long k2o = off + delta - k1;
				if (k2o >= 0 && k2o < vlen && v2[k2o] != -1 && x1 >= N - v2[k2o]) {
					sx = x1;
					sy = y1;
				}
			}
		}
		for (long k2 = -d + k2start; k2 <= d - k2end && sx < 0; k2 += 2) {
			long k2o = off + k2, x2;
			if (k2 == -d || (k2 != d && v2[k2o - 1] < v2[k2o + 1]))
				x2 = v2[k2o + 1];
			else
				x2 = v2[k2o - 1] + 1;
			long y2 = x2 - k2;
			while (x2 < N && y2 < M && a[N - x2 - 1] == b[M - y2 - 1]) {
				x2++;
				y2++;
			}
			v2[k2o] = x2;
			if (x2 > N) {
				k2end += 2;
			} else if (y2 > M) {
				k2start += 2;
			} else if (!front) {
				long k1o = off + delta - k2;
				if (k1o >= 0 && k1o < vlen && v1[k1o] != -1) {
					long x1 = v1[k1o];
					long y1 = off + x1 - k1o;
					if (x1 >= N - x2) {
						sx = x1;
						sy = y1;
					}
				}
			}
		}
	}
	free(v1);
	if (sx < 0) {
		emit(s, TEXTDIFF_DEL, n);
		emit(s, TEXTDIFF_INS, m);
		return;
	}
	diff_rec(s, a, (size_t)sx, b, (size_t)sy);
	diff_rec(s, a + sx, n - (size_t)sx, b + sy, m - (size_t)sy);
}

static void diff_rec(script *s, const uint32_t *a, size_t n, const uint32_t *b,
		     size_t m)
{
	size_t pre = 0;
	while (pre < n && pre < m && a[pre] == b[pre])
		pre++;
	size_t suf = 0;
	while (suf < n - pre && suf < m - pre && a[n - 1 - suf] == b[m - 1 - suf])
		suf++;
	emit(s, TEXTDIFF_SAME, pre);
	a += pre;
	b += pre;
	n -= pre + suf;
	m -= pre + suf;
	if (!n)
		emit(s, TEXTDIFF_INS, m);
	else if (!m)
		emit(s, TEXTDIFF_DEL, n);
	else
		bisect(s, a, n, b, m);
	emit(s, TEXTDIFF_SAME, suf);
}

size_t textdiff_ids(textdiff_run **out, const uint32_t *a, size_t n,
		    const uint32_t *b, size_t m)
{
	script s = { NULL, 0, 0, STEP_BUDGET };
	diff_rec(&s, a, n, b, m);
	*out = s.runs;
	return s.n;
}

/* ---- lines and words ------------------------------------------------------ */

typedef struct spans {
	span *v;
	size_t n, cap;
} spans;

static void spans_push(spans *l, const char *p, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n].p = p;
	l->v[l->n].len = len;
	l->n++;
}

static void split_lines(spans *l, const char *t, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - t) : len;
		spans_push(l, t + i, e - i);
		i = e + 1;
	}
}

static bool is_word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Words, runs of blanks, and single punctuation characters. */
static void split_words(spans *l, const char *t, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)t[i];
		size_t j = i + 1;
		if (is_word_byte(c)) {
			while (j < len && is_word_byte((unsigned char)t[j]))
				j++;
		} else if (is_space(c)) {
			while (j < len && is_space((unsigned char)t[j]))
				j++;
		}
		spans_push(l, t + i, j - i);
		i = j;
	}
}

static size_t diff_spans(textdiff_run **out, const spans *a, const spans *b)
{
	interner t = { 0 };
	uint32_t *ia = xmalloc((a->n + 1) * sizeof *ia);
	uint32_t *ib = xmalloc((b->n + 1) * sizeof *ib);
	for (size_t i = 0; i < a->n; i++)
		ia[i] = intern(&t, a->v[i].p, a->v[i].len);
	for (size_t i = 0; i < b->n; i++)
		ib[i] = intern(&t, b->v[i].p, b->v[i].len);
	size_t n = textdiff_ids(out, ia, a->n, ib, b->n);
	free(ia);
	free(ib);
	interner_release(&t);
	return n;
}

size_t textdiff_lines(textdiff_run **out, const char *a, size_t alen,
		      const char *b, size_t blen)
{
	spans la = { 0 }, lb = { 0 };
	split_lines(&la, a, alen);
	split_lines(&lb, b, blen);
	size_t n = diff_spans(out, &la, &lb);
	free(la.v);
	free(lb.v);
	return n;
}

/* ---- word diff of a line pair --------------------------------------------- */

/* The words of one side of a pair, each marked when it changed. */
typedef struct marked {
	spans w;
	bool *mark;
} marked;

typedef struct pair {
	marked a, b;
	double similarity;
} pair;

static bool all_space(const span *s)
{
	for (size_t i = 0; i < s->len; i++)
		if (!is_space((unsigned char)s->p[i]))
			return false;
	return true;
}

/* A blank between two changed words is part of the change: one marked
 * stretch reads better than a row of marked single words. */
static void join_marks(marked *m)
{
	for (size_t i = 1; i + 1 < m->w.n; i++)
		if (!m->mark[i] && m->mark[i - 1] && m->mark[i + 1] && all_space(&m->w.v[i]))
			m->mark[i] = true;
}

/* Blanks at the edges of a changed stretch are shown as unchanged: "werkt
 * <ins>altijd</ins>." reads better than "werkt<ins> altijd</ins>.", and
 * it is the same change. A stretch of nothing but blanks stays marked. */
static void trim_marks(marked *m)
{
	size_t i = 0;
	while (i < m->w.n) {
		if (!m->mark[i]) {
			i++;
			continue;
		}
		size_t s = i, e = i;
		while (e < m->w.n && m->mark[e])
			e++;
		i = e;
		while (s + 1 < e && all_space(&m->w.v[s]))
			m->mark[s++] = false;
		while (e - 1 > s && all_space(&m->w.v[e - 1]))
			m->mark[--e] = false;
	}
}

/* At most the similarity pair_compute finds for words a and b: the
 * words they share as bags, without their order. Those the word diff
 * keeps in place are some of them. */
static double similarity_bound(const spans *a, const spans *b)
{
	interner t = { 0 };
	uint32_t *ia = xmalloc((a->n + 1) * sizeof *ia);
	for (size_t i = 0; i < a->n; i++)
		ia[i] = intern(&t, a->v[i].p, a->v[i].len);
	size_t na = t.n;
	uint32_t *left = xcalloc(na + 1, sizeof *left);
	size_t shared = 0, total = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (all_space(&a->v[i]))
			continue;
		left[ia[i]]++;
		total += a->v[i].len;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (all_space(&b->v[i]))
			continue;
		total += b->v[i].len;
		uint32_t id = intern(&t, b->v[i].p, b->v[i].len);
		if (id < na && left[id]) {
			left[id]--;
			shared += b->v[i].len;
		}
	}
	free(left);
	free(ia);
	interner_release(&t);
	return total ? 2.0 * (double)shared / (double)total : 1.0;
}

static void pair_compute(pair *p, const span *la, const span *lb)
{
	memset(p, 0, sizeof *p);
	split_words(&p->a.w, la->p, la->len);
	split_words(&p->b.w, lb->p, lb->len);
	p->a.mark = xcalloc(p->a.w.n + 1, sizeof *p->a.mark);
	p->b.mark = xcalloc(p->b.w.n + 1, sizeof *p->b.mark);
	/* Lines too unlike to pair need no word diff, which costs the
	 * square of their length when they share little. */
	double bound = similarity_bound(&p->a.w, &p->b.w);
	if (bound < PAIR_SIMILARITY) {
		p->similarity = bound;
		return;
	}
	textdiff_run *runs = NULL;
	size_t nr = diff_spans(&runs, &p->a.w, &p->b.w);
	size_t i = 0, j = 0, same = 0, total = 0;
	for (size_t r = 0; r < nr; r++) {
		for (size_t k = 0; k < runs[r].count; k++) {
			if (runs[r].op == TEXTDIFF_SAME) {
				if (!all_space(&p->a.w.v[i]))
					same += p->a.w.v[i].len;
				i++;
				j++;
			} else if (runs[r].op == TEXTDIFF_DEL) {
				p->a.mark[i++] = true;
			} else {
				p->b.mark[j++] = true;
			}
		}
	}
	free(runs);
	for (size_t k = 0; k < p->a.w.n; k++)
		if (!all_space(&p->a.w.v[k]))
			total += p->a.w.v[k].len;
	for (size_t k = 0; k < p->b.w.n; k++)
		if (!all_space(&p->b.w.v[k]))
			total += p->b.w.v[k].len;
	p->similarity = total ? 2.0 * (double)same / (double)total : 1.0;
	join_marks(&p->a);
	join_marks(&p->b);
	trim_marks(&p->a);
	trim_marks(&p->b);
}

static void pair_release(pair *p)
{
	free(p->a.w.v);
	free(p->b.w.v);
	free(p->a.mark);
	free(p->b.mark);
}

/* ---- rendering ------------------------------------------------------------ */

/* A row of the diff: a line kept, removed or added, with its numbers
 * (1-based; 0 when the line is not on that side). */
typedef struct row {
	textdiff_op op;
	size_t ano, bno;
} row;

typedef struct sink sink;
struct sink {
	buf *out;
	const textdiff_options *opt;
	void (*skip)(sink *k);
	void (*hunk)(sink *k, size_t a0, size_t na, size_t b0, size_t nb);
	/* m is the marked words of a paired line, NULL for a whole line. */
	void (*line)(sink *k, textdiff_op op, size_t ano, size_t bno,
		     const span *text, const marked *m);
	size_t compared; /* textdiff_stats */
};

static span trim_cr(span s)
{
	if (s.len && s.p[s.len - 1] == '\r')
		s.len--;
	return s;
}

/* The bytes of a line's words and punctuation, its blanks left out: the
 * total pair_compute weighs similarity by. */
static size_t solid_bytes(const span *line)
{
	size_t n = 0;
	for (size_t i = 0; i < line->len; i++)
		n += !is_space((unsigned char)line->p[i]);
	return n;
}

/* Whether lines of x and y solid bytes may pair at all: they share at
 * most the shorter's bytes, so their similarity is at most twice it over
 * both. A line of 100 KB is not compared word by word with each of
 * twenty thousand short ones, which took half a minute. */
static bool may_pair(size_t x, size_t y)
{
	if (!x && !y)
		return true;
	return 2.0 * (double)(x < y ? x : y) / (double)(x + y) >= PAIR_SIMILARITY;
}

static void emit_block(sink *k, const row *rows, size_t from, size_t to,
		       const spans *la, const spans *lb)
{
	/* The block's removed and added rows, in order. */
	size_t nd = 0, ni = 0;
	for (size_t r = from; r < to; r++) {
		if (rows[r].op == TEXTDIFF_DEL)
			nd++;
		else
			ni++;
	}
	size_t *dels = xmalloc((nd + 1) * sizeof *dels);
	size_t *ins = xmalloc((ni + 1) * sizeof *ins);
	/* Each line's solid bytes, counted once: a line stays in the loop
	 * below while the other side moves on. */
	size_t *dsolid = xmalloc((nd + 1) * sizeof *dsolid);
	size_t *isolid = xmalloc((ni + 1) * sizeof *isolid);
	nd = ni = 0;
	for (size_t r = from; r < to; r++) {
		if (rows[r].op == TEXTDIFF_DEL) {
			span sa = trim_cr(la->v[rows[r].ano - 1]);
			dsolid[nd] = solid_bytes(&sa);
			dels[nd++] = r;
		} else {
			span sb = trim_cr(lb->v[rows[r].bno - 1]);
			isolid[ni] = solid_bytes(&sb);
			ins[ni++] = r;
		}
	}
	size_t i = 0, j = 0;
	while (i < nd && j < ni) {
		const row *d = &rows[dels[i]], *n = &rows[ins[j]];
		span sa = trim_cr(la->v[d->ano - 1]), sb = trim_cr(lb->v[n->bno - 1]);
		pair p;
		memset(&p, 0, sizeof p);
		if (may_pair(dsolid[i], isolid[j])) {
			pair_compute(&p, &sa, &sb);
			k->compared++;
		}
		if (p.similarity >= PAIR_SIMILARITY) {
			k->line(k, TEXTDIFF_DEL, d->ano, 0, &sa, &p.a);
			k->line(k, TEXTDIFF_INS, 0, n->bno, &sb, &p.b);
			i++;
			j++;
		} else if (nd - i >= ni - j) {
			/* As many or more removed lines left: this one was
			 * dropped (removals show before additions). */
			k->line(k, TEXTDIFF_DEL, d->ano, 0, &sa, NULL);
			i++;
		} else {
			k->line(k, TEXTDIFF_INS, 0, n->bno, &sb, NULL);
			j++;
		}
		pair_release(&p);
	}
	for (; i < nd; i++) {
		span sa = trim_cr(la->v[rows[dels[i]].ano - 1]);
		k->line(k, TEXTDIFF_DEL, rows[dels[i]].ano, 0, &sa, NULL);
	}
	for (; j < ni; j++) {
		span sb = trim_cr(lb->v[rows[ins[j]].bno - 1]);
		k->line(k, TEXTDIFF_INS, 0, rows[ins[j]].bno, &sb, NULL);
	}
	free(dels);
	free(ins);
	free(dsolid);
	free(isolid);
}

static void render(sink *k, const char *a, size_t alen, const char *b, size_t blen,
		   textdiff_stats *stats)
{
	spans la = { 0 }, lb = { 0 };
	split_lines(&la, a, alen);
	split_lines(&lb, b, blen);
	textdiff_run *runs = NULL;
	size_t nr = diff_spans(&runs, &la, &lb);

	size_t nrows = la.n + lb.n;
	row *rows = xmalloc((nrows + 1) * sizeof *rows);
	size_t n = 0, ai = 0, bi = 0;
	textdiff_stats st = { 0, 0, 0 };
	for (size_t r = 0; r < nr; r++) {
		for (size_t c = 0; c < runs[r].count; c++) {
			row *w = &rows[n++];
			w->op = runs[r].op;
			w->ano = w->bno = 0;
			if (w->op != TEXTDIFF_INS)
				w->ano = ++ai;
			if (w->op != TEXTDIFF_DEL)
				w->bno = ++bi;
			if (w->op == TEXTDIFF_DEL)
				st.removed++;
			else if (w->op == TEXTDIFF_INS)
				st.added++;
		}
	}
	free(runs);

	/* Which rows show: the changes and their context. */
	int ctx = k->opt ? k->opt->context : 3;
	bool *show = xcalloc(n + 1, sizeof *show);
	for (size_t r = 0; r < n; r++) {
		if (ctx < 0) {
			show[r] = true;
			continue;
		}
		if (rows[r].op == TEXTDIFF_SAME)
			continue;
		size_t lo = r > (size_t)ctx ? r - (size_t)ctx : 0;
		size_t hi = r + (size_t)ctx + 1 < n ? r + (size_t)ctx + 1 : n;
		for (size_t q = lo; q < hi; q++)
			show[q] = true;
	}

	/* Hunks are the stretches shown; each hidden stretch becomes one
	 * skip row. a_seen and b_seen count the lines before the hunk, for
	 * the unified-diff rule that an empty side names the line before. */
	size_t r = 0, a_seen = 0, b_seen = 0;
	while (r < n) {
		if (!show[r]) {
			while (r < n && !show[r]) {
				a_seen += rows[r].ano != 0;
				b_seen += rows[r].bno != 0;
				r++;
			}
			k->skip(k);
			continue;
		}
		size_t end = r, na = 0, nb = 0;
		while (end < n && show[end]) {
			na += rows[end].ano != 0;
			nb += rows[end].bno != 0;
			end++;
		}
		k->hunk(k, na ? a_seen + 1 : a_seen, na, nb ? b_seen + 1 : b_seen, nb);
		a_seen += na;
		b_seen += nb;
		size_t q = r;
		while (q < end) {
			if (rows[q].op == TEXTDIFF_SAME) {
				span sa = trim_cr(la.v[rows[q].ano - 1]);
				k->line(k, TEXTDIFF_SAME, rows[q].ano, rows[q].bno, &sa, NULL);
				q++;
				continue;
			}
			size_t e = q;
			while (e < end && rows[e].op != TEXTDIFF_SAME)
				e++;
			emit_block(k, rows, q, e, &la, &lb);
			q = e;
		}
		r = end;
	}
	st.compared = k->compared;
	if (stats)
		*stats = st;
	free(show);
	free(rows);
	free(la.v);
	free(lb.v);
}

/* HTML */

static void html_skip(sink *k)
{
	buf_puts(k->out, "<tr class=\"diff-skip\"><td class=\"diff-ln\"></td>"
			 "<td class=\"diff-ln\"></td><td class=\"diff-text\">\xe2\x8b\xaf</td></tr>\n");
}

static void html_hunk(sink *k, size_t a0, size_t na, size_t b0, size_t nb)
{
	(void)k;
	(void)a0;
	(void)na;
	(void)b0;
	(void)nb;
}

static void html_line(sink *k, textdiff_op op, size_t ano, size_t bno,
		      const span *text, const marked *m)
{
	buf *o = k->out;
	const char *cls = op == TEXTDIFF_SAME ? "diff-same" : op == TEXTDIFF_DEL ? "diff-del" : "diff-ins";
	/* Written piece by piece, not with buf_printf: history pages hold
	 * tens of thousands of these rows. */
	const char *open_tag = op == TEXTDIFF_DEL ? "<del>" : "<ins>";
	const char *close_tag = op == TEXTDIFF_DEL ? "</del>" : "</ins>";
	const char *open_word = op == TEXTDIFF_DEL ? "<del class=\"diff-word\">"
						   : "<ins class=\"diff-word\">";
	buf_puts(o, "<tr class=\"");
	buf_puts(o, cls);
	buf_puts(o, "\"><td class=\"diff-ln\">");
	if (ano)
		buf_put_uint(o, ano);
	buf_puts(o, "</td><td class=\"diff-ln\">");
	if (bno)
		buf_put_uint(o, bno);
	buf_puts(o, "</td><td class=\"diff-text\">");
	if (op == TEXTDIFF_SAME) {
		buf_put_html(o, text->p, text->len);
	} else if (!m) {
		buf_puts(o, open_tag);
		buf_put_html(o, text->p, text->len);
		buf_puts(o, close_tag);
	} else {
		for (size_t i = 0; i < m->w.n; i++) {
			bool open = m->mark[i] && (i == 0 || !m->mark[i - 1]);
			bool close = m->mark[i] && (i + 1 == m->w.n || !m->mark[i + 1]);
			if (open)
				buf_puts(o, open_word);
			buf_put_html(o, m->w.v[i].p, m->w.v[i].len);
			if (close)
				buf_puts(o, close_tag);
		}
	}
	buf_puts(o, "</td></tr>\n");
}

void textdiff_html(buf *out, const char *a, size_t alen, const char *b,
		   size_t blen, const textdiff_options *opt, textdiff_stats *stats)
{
	textdiff_options dflt = { 3, false };
	sink k = { out, opt ? opt : &dflt, html_skip, html_hunk, html_line, 0 };
	buf_puts(out, "<table class=\"diff\">\n<tbody>\n");
	render(&k, a, alen, b, blen, stats);
	buf_puts(out, "</tbody>\n</table>\n");
}

/* Terminal */

#define RED "\033[31m"
#define GREEN "\033[32m"
#define CYAN "\033[36m"
#define REVERSE "\033[7m"
#define NOREVERSE "\033[27m"
#define RESET "\033[m"

static void text_skip(sink *k)
{
	(void)k;
}

static void text_hunk(sink *k, size_t a0, size_t na, size_t b0, size_t nb)
{
	buf_printf(k->out, "%s@@ -%zu,%zu +%zu,%zu @@%s\n", k->opt->color ? CYAN : "",
		   a0, na, b0, nb, k->opt->color ? RESET : "");
}

static void text_line(sink *k, textdiff_op op, size_t ano, size_t bno,
		      const span *text, const marked *m)
{
	(void)ano;
	(void)bno;
	buf *o = k->out;
	bool color = k->opt->color;
	const char *col = op == TEXTDIFF_DEL ? RED : GREEN;
	if (op == TEXTDIFF_SAME) {
		buf_putc(o, ' ');
		buf_put(o, text->p, text->len);
		buf_putc(o, '\n');
		return;
	}
	if (color)
		buf_puts(o, col);
	buf_putc(o, op == TEXTDIFF_DEL ? '-' : '+');
	if (!m) {
		buf_put(o, text->p, text->len);
	} else {
		const char *open = color ? REVERSE : op == TEXTDIFF_DEL ? "[-" : "{+";
		const char *close = color ? NOREVERSE : op == TEXTDIFF_DEL ? "-]" : "+}";
		for (size_t i = 0; i < m->w.n; i++) {
			if (m->mark[i] && (i == 0 || !m->mark[i - 1]))
				buf_puts(o, open);
			buf_put(o, m->w.v[i].p, m->w.v[i].len);
			if (m->mark[i] && (i + 1 == m->w.n || !m->mark[i + 1]))
				buf_puts(o, close);
		}
	}
	if (color)
		buf_puts(o, RESET);
	buf_putc(o, '\n');
}

void textdiff_text(buf *out, const char *a, size_t alen, const char *b,
		   size_t blen, const textdiff_options *opt, textdiff_stats *stats)
{
	textdiff_options dflt = { 3, false };
	sink k = { out, opt ? opt : &dflt, text_skip, text_hunk, text_line, 0 };
	render(&k, a, alen, b, blen, stats);
}
