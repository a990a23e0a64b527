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
 * stood in the file the last build wrote (a "piece"), and what the
 * bytes between the pieces (the "frames": contents, part and article
 * headings, everything the template makes) hash to. An article whose
 * key is as before is copied from there instead of rendered. When the
 * page's data (all it shows but the articles' HTML) hashes as before as
 * well, the template is not run at all: the frames are copied too, and
 * only the changed articles are made. Everything copied is checked
 * against its hash first: a file changed since by anyone costs the
 * render, never a wrong page. */
#define _DEFAULT_SOURCE /* MAP_POPULATE */
#include "print.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "links.h"
#include "parts.h"
#include "text.h"
#include "template.h"
#include "xalloc.h"

#define MARK "\x1F"
#define MARK_OUT "%1F"

/* Where the page cache keeps the pieces, and what they are hashed with. */
#define PIECES_MEMO PRINT_URL "index.html#pieces"
/* And each article's id on the page (see prefixes_load). */
#define PREFIXES_MEMO PRINT_URL "index.html#ids"
/* And what the page the build before the last wrote held (see "the
 * spare" below). */
#define SPARE_MEMO PRINT_URL "index.html#spare"
#define PIECES_FORMAT 0x7072696e7435ULL /* "print5" */

/* Where a page written in parts (gen serve's, see parts.h) ends a part:
 * after an article whose path hashes to a multiple of PART_SPREAD, so
 * that a part holds some 32 articles (about 240 KB) and an article added
 * or removed moves no boundary but its own; or once a part holds
 * PART_MAX bytes. */
#define PART_SPREAD 32
#define PART_MAX ((uint64_t)1 << 20)

/* A book of ALIGN_MIN articles or more begins each part (as above, also
 * when written whole) at a multiple of ALIGN bytes: the part before it
 * ends in an HTML comment of spaces that fills up to there. An edit then
 * changes the bytes of its own part, and moves those after it only when
 * its part grows or shrinks past a multiple of ALIGN, so the build can
 * write the page over an older one part by part (see "the spare"). The
 * padding costs some 2 KB a part, 0.8% of the page; a smaller book is
 * written without it, as it is never a spare. */
#define ALIGN 4096
#define ALIGN_MIN 512
#define PAD_MIN 7 /* "<!--" and "-->" */

/* One article's HTML in the print page: what made it (key), which
 * article it is and its identity then (render_doc_key), where it stood
 * (at, len), what its bytes hash to, and what the frame before it (the
 * bytes since the last piece) hashes to. */
typedef struct piece {
	uint64_t key, doc, dkey, at, len, hash, frame;
	uint32_t cut;  /* 1: a part ends after it */
	uint32_t pad;  /* and the padding after it (ALIGN) */
} piece;

/* The memo: this head, then the pieces in the order of the file. */
typedef struct pieces_head {
	uint64_t format;  /* PIECES_FORMAT */
	uint64_t data;    /* hash of the page's data and layout */
	uint64_t len;     /* of the file */
	uint64_t tail;    /* hash of the bytes after the last piece */
	uint64_t whole;   /* 1: every article went in as a piece (none escaped) */
	uint64_t parted;  /* 1: written in parts (parts.h), not whole */
} pieces_head;

typedef struct book {
	const site *s;
	const xref *x;
	char **prefix;    /* per document: its id on the page, NULL when not in the book */
	bool prefix_kept; /* prefix as the last build saved it (prefixes_load) */
	const char **ids; /* every id handed out: open addressing, power of two */
	size_t nids, capids;
	char **parts;     /* part ids (owned) */
	size_t nparts;
	uint64_t stamp;   /* site->stamp: site.toml, filters */
	bool facts_same;  /* render_facts_same: ids and links lead as before */
	bool parted;      /* this page goes out in parts (render_print_parts) */
	bool unwritten;   /* no output (gen check): the articles' HTML, which
			   * cannot fail, is not made, only the frame */
	bool aligned;     /* its parts begin at multiples of ALIGN */
	uint64_t lay_start; /* where the part being laid out begins */
	int old_fd;       /* the print page the last build wrote, or -1 */
	const char *old_map; /* its bytes (was.len of them), or NULL */
	parts_old *old_parts; /* or that page in parts, or NULL */
	pieces_head was;  /* what the memo says of it */
	bool marked;      /* it stats as the last build left it (output_mark):
			   * its bytes are those the memo describes */
	output_mark old_mark; /* that mark, when marked */
	piece *old;       /* its pieces, in the order of the file */
	piece *by_key;    /* the same, sorted by key */
	size_t nold;
	piece *now;       /* this page's pieces, in order */
	size_t nnow, capnow;
	size_t copied;    /* articles taken from old_fd */
	bool escaped;     /* an article went in escaped, not as a piece */
	/* following the bytes as they go out (tap), for the frames */
	buf frame;        /* the frame so far */
	size_t tap_next;  /* the next piece the bytes have not passed */
	bool tap_in;      /* within it */
	uint64_t tap_len; /* bytes so far */
	/* the part being made as the bytes go out (parted pages) */
	parts_page *pp;   /* NULL: the page goes out whole */
	buf part;         /* its bytes so far */
	size_t part_first; /* its first piece */
	uint64_t part_start; /* where it begins on the page */
	int part_rc;      /* the first failure, with part_err */
	gen_err part_err;
	size_t parts_total, parts_written; /* when the page is closed */
	bool patched;     /* written over the spare, part by part */
	markdown_drops drops; /* articles rendered, their cache pages to let go */
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
	 * book is the whole handbook, so this loop sees every byte of it.
	 * What changes is at a heading tag's '<' or around the '=' of an id
	 * or a link to one; text holds few of either, and strpbrk passes
	 * over the rest many bytes at a time. */
	const char *p = html, *run = html;
	size_t plen = strlen(prefix);
	while ((p = strpbrk(p, "<=")) != NULL) {
		const char *at = NULL, *keep = NULL; /* keep replaces at[0..skip) */
		size_t skip = 0;
		bool add_prefix = false;
		if (p[0] == '<') {
			if ((p[1] == 'h' && p[2] >= '1' && p[2] <= '6' && (p[3] == '>' || p[3] == ' ')) ||
			    (p[1] == '/' && p[2] == 'h' && p[3] >= '1' && p[3] <= '6' && p[4] == '>')) {
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
		} else if ((size_t)(p - run) >= 3 && strncmp(p - 3, " id=\"", 5) == 0) {
			at = p - 3;
			keep = " id=\"";
			skip = 5;
			add_prefix = true;
		} else if ((size_t)(p - run) >= 4 && strncmp(p - 4, "href=\"#", 7) == 0) {
			at = p - 4;
			keep = "href=\"#";
			skip = 7;
			if (strncmp(at + 7, MARK_OUT, 3) == 0)
				skip += 3;
			else
				add_prefix = true;
		}
		if (!keep) {
			p++;
			continue;
		}
		buf_put(out, run, (size_t)(at - run));
		buf_puts(out, keep);
		if (add_prefix) {
			buf_put(out, prefix, plen);
			buf_puts(out, "--");
		}
		p = at + skip;
		run = p;
	}
	buf_puts(out, run);
}

/* Slots take the low bits: buf_hash64 mixes every bit into them (ids
 * differ mostly near their end). */
static size_t hash(const char *s)
{
	return (size_t)buf_hash64(s, strlen(s), 0);
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
 * filters and site.toml themselves), its id here, and for each link all
 * that rewrite makes of it: where it leads (kind, page and its URL and
 * id here, anchor, file), resolved once, without making the URL. */
static uint64_t piece_key(const book *b, size_t doc)
{
	const document *d = &b->s->docs[doc];
	uint64_t h = buf_hash64(&b->stamp, sizeof b->stamp, PIECES_FORMAT);
	h = render_doc_key(d, h);
	h = buf_hash_cstr(b->prefix[doc], h);
	for (size_t i = 0; i < markdown_link_count(d->md); i++) {
		const markdown_link *l = markdown_link_at(d->md, i);
		links_target t;
		links_resolve(b->s, d, l->url, &t);
		unsigned char head[2] = { l->image, (unsigned char)t.kind };
		h = buf_hash_cstr(l->url, h);
		h = buf_hash64(head, sizeof head, h);
		h = buf_hash_cstr(t.doc ? t.doc->url : NULL, h);
		h = buf_hash_cstr(t.doc ? b->prefix[t.doc - b->s->docs] : NULL, h);
		h = buf_hash_cstr(t.anchor, h);
		h = buf_hash_cstr(t.rel, h);
		links_target_release(&t);
	}
	return h;
}

static int piece_cmp(const void *x, const void *y)
{
	uint64_t a = ((const piece *)x)->key, b = ((const piece *)y)->key;
	return (a > b) - (a < b);
}

/* Whether the last print page can be read back, whole or in parts. */
static bool has_old(const book *b)
{
	return b->old_map || b->old_parts;
}

static const piece *old_piece(const book *b, uint64_t key)
{
	piece want = { .key = key };
	return !has_old(b) ? NULL
			   : bsearch(&want, b->by_key, b->nold, sizeof *b->by_key, piece_cmp);
}

/* The len bytes at offset at of the last print page, or NULL when they
 * are not in it (or, in parts, not within one part that is there). */
static const char *old_at(const book *b, uint64_t at, uint64_t len)
{
	if (len > b->was.len || at > b->was.len - len)
		return NULL;
	if (b->old_map)
		return b->old_map + at;
	return b->old_parts ? parts_old_bytes(b->old_parts, at, len) : NULL;
}

/* Whether the len bytes at offset at of the last print page hash to hash:
 * taken as read when the file is as the last build left it (in parts,
 * then, not even looked at: the part that holds them is read only should
 * they be copied). */
static bool old_good(const book *b, uint64_t at, uint64_t len, uint64_t hash)
{
	if (!has_old(b) || len > b->was.len || at > b->was.len - len)
		return false;
	if (b->marked && b->old_parts)
		return true;
	const char *p = old_at(b, at, len);
	return p && (b->marked || buf_hash64(p, (size_t)len, PIECES_FORMAT) == hash);
}

/* Appends len bytes at offset at of the last print page to out when they
 * hash to hash; false (out as it was) otherwise. */
static bool copy_old(const book *b, uint64_t at, uint64_t len, uint64_t hash, buf *out)
{
	const char *p = old_good(b, at, len, hash) ? old_at(b, at, len) : NULL;
	if (!p)
		return false;
	buf_put(out, p, (size_t)len);
	return true;
}

/* The key of article doc's piece (piece_key); last is its piece in the
 * last page, when known. When every article's facts are as before, its
 * id and where its links lead are too: only the article itself can
 * have changed, and its identity tells. */
static uint64_t key_of(const book *b, size_t doc, uint64_t dkey, const piece *last)
{
	return last && b->facts_same && last->dkey == dkey ? last->key : piece_key(b, doc);
}

static void add_piece(book *b, piece p)
{
	if (b->nnow == b->capnow) {
		b->capnow = b->capnow ? 2 * b->capnow : 256;
		b->now = xrealloc(b->now, b->capnow * sizeof *b->now);
	}
	b->now[b->nnow++] = p;
}

/* Whether a part ends after the piece of article doc, part_len bytes
 * into the part. */
static bool ends_part(const book *b, size_t doc, uint64_t part_len)
{
	return part_len >= PART_MAX ||
	       buf_hash_cstr(b->s->docs[doc].path, 0x70617274u) % PART_SPREAD == 0;
}

/* The padding after a part whose bytes end at offset end: up to the next
 * multiple of ALIGN, one more when that leaves no room for a comment. */
static uint32_t pad_for(uint64_t end)
{
	uint32_t k = (uint32_t)((ALIGN - end % ALIGN) % ALIGN);
	return k && k < PAD_MIN ? k + ALIGN : k;
}

/* Appends n bytes of padding: a comment of spaces, which no browser shows
 * wherever the template puts the article (n is 0 or PAD_MIN or more). */
static void put_pad(buf *out, uint32_t n)
{
	if (!n)
		return;
	buf_grow(out, n);
	buf_puts(out, "<!--");
	memset(out->ptr + out->len, ' ', n - PAD_MIN);
	out->len += n - PAD_MIN;
	buf_puts(out, "-->");
}

/* Lays out p, the page's latest piece: whether a part ends after it, and
 * the padding that then follows it. */
static void lay_piece(book *b, piece *p)
{
	uint64_t end = p->at + p->len;
	p->cut = ends_part(b, (size_t)p->doc, end - b->lay_start);
	p->pad = p->cut && b->aligned ? pad_for(end) : 0;
	if (p->cut)
		b->lay_start = end + p->pad;
}

/* Appends the HTML of article doc, its ids prefixed, to out. */
static void render_piece(book *b, size_t doc, buf *out)
{
	const document *d = &b->s->docs[doc];
	buf body = BUF_INIT;
	rewrite_ctx rc = { b, d };
	markdown_render_html(&body, d->md, rewrite, &rc);
	markdown_drops_add(&b->drops, d->md);
	print_prefix_ids(out, body.ptr, b->prefix[doc], 2);
	buf_release(&body);
}

/* Appends the HTML of article doc to out, where it will stand at offset
 * at of the file (RENDER_NOWHERE: not as it is), copied from the last
 * page when it can be; records it as a piece. */
static void make_piece(book *b, size_t doc, buf *out, uint64_t at)
{
	size_t start = out->len;
	uint64_t dkey = render_doc_key(&b->s->docs[doc], 0), hash = 0;
	uint64_t k = key_of(b, doc, dkey, NULL);
	const piece *was = at != RENDER_NOWHERE ? old_piece(b, k) : NULL;
	if (was && copy_old(b, was->at, was->len, was->hash, out)) {
		hash = was->hash;
		b->copied++;
	} else {
		render_piece(b, doc, out);
		if (at != RENDER_NOWHERE)
			hash = buf_hash64(out->ptr + start, out->len - start, PIECES_FORMAT);
	}
	if (at == RENDER_NOWHERE) {
		b->escaped = true;
		return;
	}
	add_piece(b, (piece){ k, doc, dkey, at, out->len - start, hash, 0, 0, 0 });
	piece *p = &b->now[b->nnow - 1];
	lay_piece(b, p);
	put_pad(out, p->pad);
}

/* The article a TEMPLATE_LATE key names (its number), for the template. */
static void article_html(void *ctx, buf *out, const char *key, size_t len, uint64_t at)
{
	book *b = ctx;
	char num[32];
	if (len >= sizeof num)
		return;
	memcpy(num, key, len);
	num[len] = '\0';
	size_t doc = (size_t)strtoull(num, NULL, 10);
	if (doc < b->s->ndocs && b->prefix[doc] && !b->unwritten)
		make_piece(b, doc, out, at);
}

/* ---- a page in parts (parts.h) ---- */

/* The key of the part of len bytes that holds pieces first to end - 1 of
 * v and the frames before them, and, when tail is not NULL (the last
 * part), the bytes after the last piece, which hash to *tail: made of the
 * hashes of all its bytes, so that it changes whenever they do (the
 * padding follows from len). */
static uint64_t part_key(const piece *v, size_t first, size_t end, const uint64_t *tail,
			 uint64_t len)
{
	uint64_t h = buf_hash64(&len, sizeof len, PIECES_FORMAT);
	for (size_t i = first; i < end; i++) {
		h = buf_hash64(&v[i].frame, sizeof v[i].frame, h);
		h = buf_hash64(&v[i].hash, sizeof v[i].hash, h);
	}
	return tail ? buf_hash64(tail, sizeof *tail, h) : h;
}

/* A stretch of the page that is one part: pieces first to end - 1, the
 * bytes from start to stop. */
typedef struct part_span {
	size_t first, end;
	uint64_t start, stop;
} part_span;

/* The parts of a page of len bytes whose pieces are the n of v, as laid
 * out (lay_piece). */
static size_t plan_parts(const piece *v, size_t n, uint64_t len, part_span **out)
{
	size_t np = 0;
	part_span *spans = xmalloc((n + 1) * sizeof *spans);
	size_t first = 0;
	uint64_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].cut)
			continue;
		uint64_t stop = v[i].at + v[i].len + v[i].pad;
		spans[np++] = (part_span){ first, i + 1, start, stop };
		first = i + 1;
		start = stop;
	}
	spans[np++] = (part_span){ first, n, start, len };
	*out = spans;
	return np;
}

/* Puts out the part made so far, ending at stop, unless the last page
 * had it and the output still does. */
static void part_write(book *b, size_t end, const uint64_t *tail, uint64_t stop)
{
	uint64_t len = stop - b->part_start;
	uint64_t key = part_key(b->now, b->part_first, end, tail, len);
	if (!b->part_rc && !parts_keep(b->pp, key) &&
	    (b->part_rc = parts_put(b->pp, b->part.ptr, (size_t)len, &b->part_err)) == 0)
		b->part_rc = parts_cut(b->pp, key, &b->part_err);
	memmove(b->part.ptr, b->part.ptr + len, b->part.len - (size_t)len);
	buf_truncate(&b->part, b->part.len - (size_t)len);
	b->part_first = end;
	b->part_start = stop;
}

/* Piece i and its padding have gone out: the part ends here when laid
 * out so. */
static void part_end(book *b, size_t i)
{
	const piece *p = &b->now[i];
	if (b->pp && p->cut)
		part_write(b, i + 1, NULL, p->at + p->len + p->pad);
}

/* The bytes of the page as the template writes them: what is not in a
 * piece is a frame, whose hash goes with the piece after it. The pieces
 * are known before their bytes go out (late runs first). */
static void tap(void *ctx, const char *data, size_t len, uint64_t at)
{
	book *b = ctx;
	uint64_t pos = at, end = at + len;
	b->tap_len = end;
	if (b->pp)
		buf_put(&b->part, data, len);
	while (pos < end) {
		piece *p = b->tap_next < b->nnow ? &b->now[b->tap_next] : NULL;
		if (p && pos >= p->at) {
			if (!b->tap_in) {
				p->frame = buf_hash64(b->frame.ptr, b->frame.len, PIECES_FORMAT);
				buf_clear(&b->frame);
				b->tap_in = true;
			}
			uint64_t stop = p->at + p->len + p->pad;
			pos = stop < end ? stop : end;
			if (pos == stop) {
				b->tap_next++;
				b->tap_in = false;
				part_end(b, b->tap_next - 1);
			}
			continue;
		}
		uint64_t stop = p && p->at < end ? p->at : end;
		buf_put(&b->frame, data + (pos - at), (size_t)(stop - pos));
		pos = stop;
	}
}

/* After the last byte: pieces of no bytes at the very end, the tail,
 * and the last part. */
static uint64_t tap_finish(book *b)
{
	for (; b->tap_next < b->nnow; b->tap_next++) {
		b->now[b->tap_next].frame = buf_hash64(b->frame.ptr, b->frame.len, PIECES_FORMAT);
		buf_clear(&b->frame);
		part_end(b, b->tap_next);
	}
	uint64_t tail = buf_hash64(b->frame.ptr, b->frame.len, PIECES_FORMAT);
	if (b->pp)
		part_write(b, b->nnow, &tail, b->tap_len);
	return tail;
}

/* Reads the memo of the last print page and opens the page, when the
 * page cache has one and the output still holds a file of its length. */
static void prefixes_drop(book *b)
{
	for (size_t i = 0; i < b->s->ndocs; i++) {
		free(b->prefix[i]);
		b->prefix[i] = NULL;
	}
	b->prefix_kept = false;
}

static void pieces_load(book *b, renderer *r, output *o)
{
	b->old_fd = -1;
	if (!o)
		return; /* gen check: no page of the last build to take from */
	size_t len;
	const char *m = render_memo_get(r, PIECES_MEMO, &len);
	if (!m || len < sizeof b->was || (len - sizeof b->was) % sizeof(piece))
		return;
	memcpy(&b->was, m, sizeof b->was);
	if (b->was.format != PIECES_FORMAT || !b->was.len ||
	    (uint64_t)(size_t)b->was.len != b->was.len)
		return;
	output_mark mark;
	if (b->was.parted) {
		/* Read back only to be written in parts again: gen build
		 * makes its page whole, from the articles. */
		if (!b->parted ||
		    !(b->old_parts = parts_old_open(o, PRINT_URL "index.html")))
			return;
		if (parts_old_len(b->old_parts) != b->was.len) {
			parts_old_close(b->old_parts);
			b->old_parts = NULL;
			return;
		}
		output_mark now = parts_old_mark(b->old_parts);
		b->marked = render_file_mark(r, o, PRINT_URL "index.html", &mark) &&
			    memcmp(&now, &mark, sizeof mark) == 0;
		goto pieces;
	}
	struct stat st;
	if ((b->old_fd = output_open_old(o, PRINT_URL "index.html")) < 0)
		return;
	if (fstat(b->old_fd, &st) < 0 || (uint64_t)st.st_size != b->was.len) {
		close(b->old_fd);
		b->old_fd = -1;
		return;
	}
	/* A file that stats as the last build wrote it holds what it wrote
	 * (the trust output_keep puts in a page's mark): what is taken from
	 * it goes to the new page by the kernel (output_copy), unread. Any
	 * other file is read where it lies, and every byte taken from it
	 * is hashed first. */
	b->marked = render_file_mark(r, o, PRINT_URL "index.html", &mark) &&
		    (uint64_t)st.st_ino == mark.ino && (uint64_t)st.st_size == mark.size &&
		    (int64_t)st.st_mtim.tv_sec == mark.sec &&
		    (uint64_t)st.st_mtim.tv_nsec == mark.nsec;
	if (b->marked)
		b->old_mark = mark;
	void *map = mmap(NULL, (size_t)b->was.len, PROT_READ,
			 MAP_SHARED | (b->marked ? 0 : MAP_POPULATE), b->old_fd, 0);
	if (map == MAP_FAILED) {
		close(b->old_fd);
		b->old_fd = -1;
		return;
	}
	b->old_map = map;
pieces:
	b->nold = (len - sizeof b->was) / sizeof(piece);
	b->old = xmalloc(b->nold * sizeof *b->old + 1);
	memcpy(b->old, m + sizeof b->was, b->nold * sizeof *b->old);
	b->by_key = xmalloc(b->nold * sizeof *b->by_key + 1);
	memcpy(b->by_key, b->old, b->nold * sizeof *b->by_key);
	qsort(b->by_key, b->nold, sizeof *b->by_key, piece_cmp);
}

/* Each article's id on the page, in site order ("" for one not in it),
 * for the next build: while every article's facts are as now, so is the
 * outline, and with it every id (prefixes_load). */
static void prefixes_save(const book *b, renderer *r)
{
	/* Taken from the last build's: its record is kept as it is, not
	 * made and written again (half a megabyte at 10,000 articles). */
	if (b->prefix_kept && render_memo_keep(r, PREFIXES_MEMO))
		return;
	buf m = BUF_INIT;
	buf_put_varint(&m, b->s->ndocs);
	for (size_t i = 0; i < b->s->ndocs; i++) {
		const char *p = b->prefix[i] ? b->prefix[i] : "";
		buf_put_blob(&m, p, strlen(p));
	}
	render_memo_put(r, PREFIXES_MEMO, m.ptr, m.len);
	buf_release(&m);
}

/* Takes every article's id from the last build's (prefixes_save), for a
 * build whose articles' facts are as then: the ids follow from those,
 * and working them out is a slug and a claim for each of thousands. The
 * ids table (b->ids) is left empty: a build that goes on to make the
 * outline drops these and claims them all again. */
static bool prefixes_load(book *b, renderer *r)
{
	size_t len;
	const char *m = render_memo_get(r, PREFIXES_MEMO, &len);
	if (!m)
		return false;
	buf_reader rd;
	buf_reader_init(&rd, m, len);
	size_t n = b->s->ndocs;
	if (buf_get_varint(&rd) != n || rd.bad)
		return false;
	for (size_t i = 0; i < n && !rd.bad; i++) {
		size_t l;
		const char *p = buf_get_blob(&rd, &l);
		if (!rd.bad && l)
			b->prefix[i] = xstrndup(p, l);
	}
	if (rd.bad || rd.p != rd.end) {
		prefixes_drop(b);
		return false;
	}
	b->prefix_kept = true;
	return true;
}

static void pieces_save(const book *b, renderer *r, uint64_t data, uint64_t len, uint64_t tail)
{
	pieces_head h = { PIECES_FORMAT, data, len, tail, !b->escaped, b->parted };
	buf m = BUF_INIT;
	buf_put(&m, &h, sizeof h);
	buf_put(&m, b->now, b->nnow * sizeof *b->now);
	render_memo_put(r, PIECES_MEMO, m.ptr, m.len);
	buf_release(&m);
}

/* ---- putting the page together again ----
 *
 * When all but the articles is as on the page the last build wrote, the
 * page is made from that one without the template: the frames and the
 * unchanged articles, each checked against its hash, are taken from it;
 * a changed article is made again between them. First the new page is
 * laid out (replan_make), then its bytes go out: whole, copied in runs as
 * long as they go (reassemble); part by part over the spare, where only
 * the parts that differ from it are written (reassemble, "the spare"); or
 * as the parts of a page in parts (reassemble_parts). */

/* The new page: per piece, where its frame begins in the last page and
 * where its bytes are (fresh_at UINT64_MAX: in the last page, else at
 * that offset of fresh); the tail's frame begins at frame_at[n]. */
typedef struct replan {
	uint64_t *frame_at, *fresh_at;
	buf fresh;
	uint64_t len; /* of the new page */
} replan;

static void replan_release(replan *pl)
{
	free(pl->frame_at);
	free(pl->fresh_at);
	buf_release(&pl->fresh);
}

/* Lays out the new page from the last one (b->old) into b->now, making
 * the changed articles. False when the last page does not check out:
 * the caller then renders. */
static bool replan_make(book *b, replan *pl)
{
	size_t n = b->nold;
	pl->frame_at = xmalloc((n + 1) * sizeof *pl->frame_at);
	pl->fresh_at = xmalloc((n + 1) * sizeof *pl->fresh_at);
	buf_init(&pl->fresh);
	b->lay_start = 0;
	uint64_t pos = 0, len = 0;
	for (size_t i = 0; i < n; i++) {
		const piece *p = &b->old[i];
		if (p->at < pos || !old_good(b, pos, p->at - pos, p->frame))
			return false;
		pl->frame_at[i] = pos;
		len += p->at - pos;
		pos = p->at + p->len + p->pad;
		if (pos < p->at || pos > b->was.len)
			return false;
		size_t doc = (size_t)p->doc;
		uint64_t dkey = render_doc_key(&b->s->docs[doc], 0);
		uint64_t k = key_of(b, doc, dkey, p);
		if (k == p->key && old_good(b, p->at, p->len, p->hash)) {
			pl->fresh_at[i] = UINT64_MAX;
			add_piece(b, (piece){ k, doc, dkey, len, p->len, p->hash, p->frame, 0, 0 });
			b->copied++;
		} else {
			size_t start = pl->fresh.len;
			render_piece(b, doc, &pl->fresh);
			pl->fresh_at[i] = start;
			size_t plen = pl->fresh.len - start;
			add_piece(b, (piece){ k, doc, dkey, len, plen,
					      buf_hash64(pl->fresh.ptr + start, plen, PIECES_FORMAT),
					      p->frame, 0, 0 });
		}
		piece *np = &b->now[b->nnow - 1];
		lay_piece(b, np);
		len += np->len + np->pad;
	}
	if (!old_good(b, pos, b->was.len - pos, b->was.tail))
		return false;
	pl->frame_at[n] = pos;
	pl->len = len + (b->was.len - pos);
	return true;
}

/* Where the new page's bytes go: appended to f (SINK_WHOLE), written
 * where they belong in f (SINK_PLACED), or into the part being made
 * (SINK_PARTS). Bytes of the last page are gathered into runs, copied by
 * the kernel, except into parts. */
typedef enum { SINK_WHOLE, SINK_PLACED, SINK_PARTS } sink_mode;

typedef struct sink {
	book *b;
	sink_mode mode;
	output_file *f;
	parts_page *pp;
	uint64_t pos;             /* where the next byte goes */
	uint64_t run_at, run_len; /* of the last page, to go out before pos */
	bool missing;             /* bytes of the last page not there */
	int rc;
	gen_err *err;
} sink;

static void sink_flush(sink *k)
{
	uint64_t at = k->run_at, len = k->run_len;
	k->run_len = 0;
	if (!len || k->rc < 0 || k->missing)
		return;
	if (k->mode == SINK_WHOLE) {
		k->rc = output_copy(k->f, k->b->old_fd, at, len, k->err);
	} else if (k->mode == SINK_PLACED) {
		k->rc = output_copy_at(k->f, k->pos - len, k->b->old_fd, at, len, k->err);
	} else {
		const char *p = old_at(k->b, at, len);
		if (!p)
			k->missing = true;
		else
			k->rc = parts_put(k->pp, p, (size_t)len, k->err);
	}
}

/* The len bytes at offset at of the last page. */
static void sink_old(sink *k, uint64_t at, uint64_t len)
{
	if (!len)
		return;
	/* Into parts, each frame and piece on its own: a run of them could
	 * span two parts of the last page. */
	if (k->run_len && (k->mode == SINK_PARTS || k->run_at + k->run_len != at))
		sink_flush(k);
	if (!k->run_len)
		k->run_at = at;
	k->run_len += len;
	k->pos += len;
}

static void sink_bytes(sink *k, const char *p, size_t len)
{
	if (!len)
		return;
	sink_flush(k);
	if (k->rc == 0 && !k->missing) {
		if (k->mode == SINK_WHOLE)
			k->rc = output_put(k->f, p, len, k->err);
		else if (k->mode == SINK_PLACED)
			k->rc = output_put_at(k->f, k->pos, p, len, k->err);
		else
			k->rc = parts_put(k->pp, p, len, k->err);
	}
	k->pos += len;
}

/* Padding of n bytes, where the last page had old of it at offset at:
 * the same when n is, and the page is as the last build wrote it. */
static void sink_pad(sink *k, uint32_t n, uint64_t at, uint32_t old)
{
	if (!n)
		return;
	if (n == old && k->b->marked && k->b->old_map) {
		sink_old(k, at, n);
		return;
	}
	buf pad = BUF_INIT;
	put_pad(&pad, n);
	sink_bytes(k, pad.ptr, pad.len);
	buf_release(&pad);
}

/* The bytes of pieces first to end - 1 of the new page, each with the
 * frame before it and the padding after it, and with last the tail. */
static void sink_pieces(sink *k, const replan *pl, size_t first, size_t end, bool last)
{
	const book *b = k->b;
	for (size_t i = first; i < end; i++) {
		const piece *was = &b->old[i], *p = &b->now[i];
		sink_old(k, pl->frame_at[i], was->at - pl->frame_at[i]);
		if (pl->fresh_at[i] == UINT64_MAX)
			sink_old(k, was->at, was->len);
		else
			sink_bytes(k, pl->fresh.ptr + pl->fresh_at[i], (size_t)p->len);
		sink_pad(k, p->pad, was->at + was->len, was->pad);
	}
	if (last)
		sink_old(k, pl->frame_at[b->nold], b->was.len - pl->frame_at[b->nold]);
	sink_flush(k);
}

/* ---- the spare ----
 *
 * The output keeps the page a build replaces as a spare, and the next
 * build writes over it (output.h). That next build's page differs from
 * the spare by two builds' edits: a few parts, as long as no part grew
 * or shrank past a multiple of ALIGN. So a build that replaces the page
 * notes what the replaced page held: its stat (output_mark) and its
 * parts, where each begins and what its bytes hash to (part_key). The
 * build after it, given a spare of that stat, writes only the parts that
 * are not in it at the same place (some 500 KB, not 74 MB). The trust is
 * the one a kept page has: a file that stats as written holds what was
 * written. */
typedef struct spare_part {
	uint64_t start, len, key;
} spare_part;

typedef struct spare_head {
	uint64_t format; /* PIECES_FORMAT */
	output_mark mark;
	uint64_t len, n;
} spare_head;

/* The parts of a page laid out as the n pieces of v, len bytes long,
 * whose bytes after the last piece hash to tail: n of them into *out. */
static size_t spare_parts_of(const piece *v, size_t n, uint64_t len, uint64_t tail,
			     spare_part **out)
{
	part_span *spans;
	size_t np = plan_parts(v, n, len, &spans);
	spare_part *parts = xmalloc(np * sizeof *parts);
	for (size_t j = 0; j < np; j++) {
		const part_span *sp = &spans[j];
		uint64_t plen = sp->stop - sp->start;
		parts[j] = (spare_part){ sp->start, plen,
					 part_key(v, sp->first, sp->end,
						  j + 1 == np ? &tail : NULL, plen) };
	}
	free(spans);
	*out = parts;
	return np;
}

/* Notes for the next build that the spare, which stats as mark, holds
 * the page laid out as the n pieces of v, len bytes long, whose bytes
 * after the last piece hash to tail. */
static void spare_note(renderer *r, const output_mark *mark, const piece *v, size_t n,
		       uint64_t len, uint64_t tail)
{
	spare_part *parts;
	size_t np = spare_parts_of(v, n, len, tail, &parts);
	spare_head h = { PIECES_FORMAT, *mark, len, np };
	buf m = BUF_INIT;
	buf_put(&m, &h, sizeof h);
	buf_put(&m, parts, np * sizeof *parts);
	render_memo_put(r, SPARE_MEMO, m.ptr, m.len);
	buf_release(&m);
	free(parts);
}

/* Notes the last page, which this build replaces, for the next: when the
 * output holds it as the last build left it, and it was made whole from
 * its pieces (laid out as those say). */
static void spare_save(const book *b, renderer *r)
{
	if (!b->marked || !b->old_map || !b->was.whole || b->parted)
		return;
	spare_note(r, &b->old_mark, b->old, b->nold, b->was.len, b->was.tail);
}

/* A build from nothing replaces no page, so the first build after it
 * would find no spare and copy the whole page (74 MB on the benchmark's
 * handbook) where later ones write a few parts: it leaves a copy of the
 * page it wrote as the spare (output_leave_spare), noted as the page it
 * is, len bytes laid out as its pieces say. The copy is the kernel's,
 * beside the rest of the render, and takes no memory of the build's. */
static void spare_leave(const book *b, renderer *r, output *o, uint64_t len, uint64_t tail)
{
	output_mark mark;
	if (b->parted || b->escaped || !b->aligned || !b->nnow ||
	    !output_leave_spare(o, PRINT_URL "index.html", &mark))
		return;
	spare_note(r, &mark, b->now, b->nnow, len, tail);
}

/* The parts of the spare f is written over, as the build that made it a
 * spare noted them, when the spare stats as then: their number, into
 * *out (sorted by start, end to end from 0). 0 otherwise. */
static size_t spare_load(renderer *r, output_file *f, spare_part **out)
{
	output_mark now;
	size_t len;
	const char *m = render_memo_get(r, SPARE_MEMO, &len);
	spare_head h;
	if (!output_spare(f, &now) || !m || len < sizeof h)
		return 0;
	memcpy(&h, m, sizeof h);
	if (h.format != PIECES_FORMAT || memcmp(&h.mark, &now, sizeof now) != 0 ||
	    h.len != now.size || !h.n || h.n > (len - sizeof h) / sizeof(spare_part) ||
	    len - sizeof h != h.n * sizeof(spare_part))
		return 0;
	spare_part *parts = xmalloc(h.n * sizeof *parts);
	memcpy(parts, m + sizeof h, h.n * sizeof *parts);
	uint64_t at = 0;
	for (size_t j = 0; j < h.n; j++) {
		if (parts[j].start != at || parts[j].len > h.len - at) {
			free(parts);
			return 0;
		}
		at += parts[j].len;
	}
	if (at != h.len) {
		free(parts);
		return 0;
	}
	*out = parts;
	return (size_t)h.n;
}

/* Whether the spare has a part of len bytes at start whose key is key. */
static bool spare_has(const spare_part *parts, size_t n, uint64_t start, uint64_t len,
		      uint64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (parts[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && parts[lo].start == start && parts[lo].len == len &&
	       parts[lo].key == key;
}

/* The page is written (its mark): the page cache learns it, with its
 * pieces and ids, for the next build. */
static void reassembled(book *b, renderer *r, uint64_t data, uint64_t fp, uint64_t len,
			const output_mark *mark)
{
	render_page_written(r, PRINT_URL "index.html", fp, mark);
	pieces_save(b, r, data, len, b->was.tail);
	prefixes_save(b, r);
}

/* A reassembly given up: the book as before it, copied articles copied. */
static void reassemble_undo(book *b, size_t copied)
{
	b->nnow = 0;
	b->copied = copied;
	b->patched = false;
	b->parts_total = b->parts_written = 0;
}

/* Writes the page from the last one without the template, when its data
 * hashed as now (data): whole, or over the spare part by part. Returns 1
 * when written, 0 when something did not check out (nothing written: the
 * caller renders), or a negative code with err. */
static int reassemble(book *b, renderer *r, output *o, uint64_t data, uint64_t fp,
		      gen_err *err)
{
	if (!b->old_map || !b->was.whole || b->was.data != data)
		return 0;
	for (size_t i = 0; i < b->nold; i++)
		if (b->old[i].doc >= b->s->ndocs || !b->prefix[b->old[i].doc])
			return 0;
	size_t copied = b->copied;
	replan pl;
	memset(&pl, 0, sizeof pl);
	output_file *f = NULL;
	spare_part *spare = NULL;
	part_span *spans = NULL;
	int rc = 0;
	if (!replan_make(b, &pl) || (rc = output_open(o, PRINT_URL "index.html", &f, err)) < 0)
		goto fail;
	sink k = { .b = b, .mode = SINK_WHOLE, .f = f, .err = err };
	size_t nspare = spare_load(r, f, &spare);
	if (nspare) {
		size_t np = plan_parts(b->now, b->nnow, pl.len, &spans);
		k.mode = SINK_PLACED;
		for (size_t j = 0; j < np && k.rc == 0; j++) {
			const part_span *sp = &spans[j];
			bool last = j + 1 == np;
			uint64_t plen = sp->stop - sp->start;
			uint64_t key = part_key(b->now, sp->first, sp->end,
						last ? &b->was.tail : NULL, plen);
			b->parts_total++;
			if (spare_has(spare, nspare, sp->start, plen, key))
				continue;
			b->parts_written++;
			k.pos = sp->start;
			sink_pieces(&k, &pl, sp->first, sp->end, last);
		}
		output_set_length(f, pl.len);
		b->patched = true;
	} else {
		sink_pieces(&k, &pl, 0, b->nold, true);
	}
	if (k.rc < 0) {
		rc = k.rc;
		goto fail;
	}
	output_mark mark;
	rc = output_close_marked(f, &mark, err);
	f = NULL;
	if (rc < 0)
		goto out;
	reassembled(b, r, data, fp, pl.len, &mark);
	spare_save(b, r);
	rc = 1;
	goto out;
fail:
	output_discard(f);
	reassemble_undo(b, copied);
out:
	replan_release(&pl);
	free(spare);
	free(spans);
	return rc;
}

/* reassemble, for a page that goes out in parts: only the parts that
 * hold a changed article are put together and written; the others stay
 * as the output holds them. Nothing is written before all the last page
 * is known to be good (or taken as good: marked). */
static int reassemble_parts(book *b, renderer *r, output *o, uint64_t data, uint64_t fp,
			    gen_err *err)
{
	if (!has_old(b) || !b->was.whole || b->was.data != data)
		return 0;
	for (size_t i = 0; i < b->nold; i++)
		if (b->old[i].doc >= b->s->ndocs || !b->prefix[b->old[i].doc])
			return 0;
	size_t copied = b->copied;
	replan pl;
	memset(&pl, 0, sizeof pl);
	part_span *spans = NULL;
	parts_page *pp = NULL;
	int rc = 0;
	if (!replan_make(b, &pl))
		goto fail;
	size_t nspans = plan_parts(b->now, b->nnow, pl.len, &spans);
	if ((rc = parts_open(o, PRINT_URL "index.html", b->old_parts, &pp, err)) < 0)
		goto fail;
	sink k = { .b = b, .mode = SINK_PARTS, .pp = pp, .err = err };
	for (size_t j = 0; j < nspans; j++) {
		const part_span *sp = &spans[j];
		bool last = j + 1 == nspans;
		uint64_t key = part_key(b->now, sp->first, sp->end, last ? &b->was.tail : NULL,
					sp->stop - sp->start);
		if (parts_keep(pp, key))
			continue;
		sink_pieces(&k, &pl, sp->first, sp->end, last);
		if (k.rc < 0 || k.missing) {
			rc = k.rc;
			goto fail;
		}
		if ((rc = parts_cut(pp, key, err)) < 0)
			goto fail;
	}
	output_mark mark;
	rc = parts_close(pp, &mark, &b->parts_total, &b->parts_written, err);
	pp = NULL;
	if (rc < 0)
		goto fail;
	reassembled(b, r, data, fp, pl.len, &mark);
	rc = 1;
	goto out;
fail:
	/* Parts written before a failure stay staged; the list that names
	 * them does not, and the next build removes them as stale. */
	parts_discard(pp);
	reassemble_undo(b, copied);
out:
	replan_release(&pl);
	free(spans);
	return rc;
}

/* The book's outline: its parts in order, and the articles of each. */
typedef struct outline_article {
	size_t doc, step;
	bool intro;
} outline_article;

typedef struct outline_part {
	const char *title;  /* borrowed */
	const char *id;     /* b->parts */
	size_t first, n;    /* its articles in the outline's */
} outline_part;

typedef struct outline {
	outline_part *parts;
	size_t nparts;
	outline_article *articles;
	size_t narticles, cap;
} outline;

static void outline_part_begin(book *b, outline *ol, const char *title, const char *name)
{
	buf want = BUF_INIT;
	buf_puts(&want, "deel-");
	text_slug(&want, name, strlen(name));
	char *id = claim(b, want.ptr);
	buf_release(&want);
	b->parts = xrealloc(b->parts, (b->nparts + 1) * sizeof *b->parts);
	b->parts[b->nparts++] = id;
	ol->parts = xrealloc(ol->parts, (ol->nparts + 1) * sizeof *ol->parts);
	ol->parts[ol->nparts++] = (outline_part){ title, id, ol->narticles, 0 };
}

static void outline_add(outline *ol, size_t doc, size_t step, bool intro)
{
	if (ol->narticles == ol->cap) {
		ol->cap = ol->cap ? 2 * ol->cap : 256;
		ol->articles = xrealloc(ol->articles, ol->cap * sizeof *ol->articles);
	}
	ol->articles[ol->narticles++] = (outline_article){ doc, step, intro };
	ol->parts[ol->nparts - 1].n++;
}

/* Which documents, in which order: the home page, the path, then every
 * other article by section. Section intros are navigation on the site
 * and are left out. */
static void outline_make(book *b, const renderer *r, outline *ol)
{
	const site *s = b->s;
	size_t n = s->ndocs;
	const leerpad *lp = xref_leerpad(b->x);
	const size_t *order = xref_reading_order(b->x);
	size_t home = s->home ? (size_t)(s->home - s->docs) : n;
	if (home < n)
		assign_prefix(b, home);
	for (size_t i = 0; i < lp->n; i++)
		assign_prefix(b, lp->steps[i]);
	for (size_t i = 0; i < n; i++)
		if (!s->docs[order[i]].is_index)
			assign_prefix(b, order[i]);

	if (home < n) {
		outline_part_begin(b, ol, s->home->fm.title, "inleiding");
		outline_add(ol, home, 0, true);
	}
	if (lp->n) {
		outline_part_begin(b, ol, render_i18n(r, "leerpad", "Leerpad"), "leerpad");
		for (size_t i = 0; i < lp->n; i++)
			outline_add(ol, lp->steps[i], i + 1, false);
	}
	for (size_t i = 0; i < s->nsections; i++) {
		const site_section *sec = &s->sections[i];
		bool begun = false;
		for (size_t j = 0; j < sec->npages; j++) {
			size_t doc = (size_t)(sec->pages[j] - s->docs);
			if (leerpad_step(lp, doc))
				continue;
			if (!begun)
				outline_part_begin(b, ol, sec->index->fm.title, sec->dir);
			begun = true;
			outline_add(ol, doc, 0, false);
		}
	}
	bool rest = false;
	for (size_t i = 0; i < n; i++) {
		size_t doc = order[i];
		const document *d = &s->docs[doc];
		if (d->is_index || leerpad_step(lp, doc) || site_section_of(s, d))
			continue;
		if (!rest)
			outline_part_begin(b, ol, render_i18n(r, "print_more", "Meer"), "meer");
		rest = true;
		outline_add(ol, doc, 0, false);
	}
}

/* Everything the page shows but the articles' HTML, hashed without
 * making its data: what every page shares (site stamp: the theme and its
 * strings, site.toml, the menu), and the outline with each article's
 * card (render_card_key) and id. */
static uint64_t outline_key(const book *b, const renderer *r, const outline *ol)
{
	uint64_t stamp = render_site_stamp(r);
	uint64_t h = buf_hash64(&stamp, sizeof stamp, PIECES_FORMAT ^ 0x6672616d65u);
	h = buf_hash64(&ol->nparts, sizeof ol->nparts, h);
	for (size_t i = 0; i < ol->nparts; i++) {
		const outline_part *p = &ol->parts[i];
		h = buf_hash_cstr(p->title, h);
		h = buf_hash_cstr(p->id, h);
		h = buf_hash64(&p->n, sizeof p->n, h);
		for (size_t k = p->first; k < p->first + p->n; k++) {
			const outline_article *a = &ol->articles[k];
			uint64_t v[3] = { a->doc, a->step, a->intro };
			h = buf_hash64(v, sizeof v, h);
			h = render_card_key(r, &b->s->docs[a->doc], h);
			h = buf_hash_cstr(b->prefix[a->doc], h);
		}
	}
	return h;
}

/* The page's data, for the template. */
static value *outline_data(const book *b, const renderer *r, const outline *ol)
{
	value *parts = value_new_array();
	for (size_t i = 0; i < ol->nparts; i++) {
		const outline_part *op = &ol->parts[i];
		value *p = value_new_table();
		set_str(p, "title", op->title);
		set_str(p, "id", op->id);
		value *list = value_new_array();
		for (size_t k = op->first; k < op->first + op->n; k++)
			value_push(list, article(b, r, ol->articles[k].doc, ol->articles[k].step,
						 ol->articles[k].intro));
		value_set_cstr(p, "articles", list);
		value_push(parts, p);
	}
	value *data = render_base_data(r, PRINT_URL);
	value *page = value_new_table();
	set_str(page, "title", render_i18n(r, "print_title", "Het hele handboek"));
	set_str(page, "url", PRINT_URL);
	set_str(page, "summary", b->s->cfg.description);
	value_set_cstr(page, "is_print", value_new_bool(true));
	value_set_cstr(data, "page", page);
	value *pr = value_new_table();
	value_set_cstr(pr, "parts", parts);
	value_set_cstr(data, "print", pr);
	return data;
}

int print_render(renderer *r, const xref *x, output *o, print_stats *st,
		 gen_err *err)
{
	const site *s = xref_site(x);
	memset(st, 0, sizeof *st);
	/* The book holds every article, in an order and under ids that
	 * follow from the articles and site.toml: known without making it. */
	bool parted = o && render_print_parts(r);
	uint64_t fp = render_all_docs_key(r, parted ? 0x7061727473u : 0x7072696e74u);
	/* A page in parts is kept with its parts, or made again. gen check
	 * (no output) finds here the page a build wrote from the same
	 * articles; else it asks by the frame below. */
	if (render_page_fresh(r, o, PRINT_URL "index.html", fp) &&
	    (!parted || parts_keep_all(o, PRINT_URL "index.html"))) {
		size_t len; /* read, so that the cache keeps them */
		render_memo_get(r, PIECES_MEMO, &len);
		render_memo_get(r, PREFIXES_MEMO, &len);
		render_memo_get(r, SPARE_MEMO, &len);
		return 0;
	}
	book b;
	memset(&b, 0, sizeof b);
	buf_init(&b.frame);
	buf_init(&b.part);
	b.x = x;
	b.s = s;
	size_t n = s->ndocs;
	b.prefix = xcalloc(n + 1, sizeof *b.prefix);
	b.stamp = s->stamp;
	b.facts_same = render_facts_same(r);
	b.parted = parted;
	b.unwritten = !o;
	b.aligned = n >= ALIGN_MIN;
	b.drops.spread = true; /* the book's order is not the file's */
	pieces_load(&b, r, o);
	outline ol;
	memset(&ol, 0, sizeof ol);

	/* When all but the articles is as the page the last build wrote,
	 * that page is put together again without the template. The
	 * outline follows from the articles' facts: when those are as in
	 * the last build, so are its key and every article's id, and it
	 * need not be made at all unless that fails. */
	int rc = 0;
	bool tried = false;
	int (*again)(book *, renderer *, output *, uint64_t, uint64_t, gen_err *) =
		b.parted ? reassemble_parts : reassemble;
	if (o && b.facts_same && has_old(&b) && prefixes_load(&b, r)) {
		tried = true;
		rc = again(&b, r, o, b.was.data, fp, err);
		if (rc == 0)
			prefixes_drop(&b);
	}
	uint64_t key = b.was.data;
	bool checked = false;
	if (rc == 0) {
		outline_make(&b, r, &ol);
		key = b.facts_same && has_old(&b) ? b.was.data : outline_key(&b, r, &ol);
		if (o && !tried)
			rc = again(&b, r, o, key, fp, err);
	}
	if (rc == 0 && !o) {
		/* Without an output only the frame is rendered (unwritten),
		 * and the outline's key holds all it shows: a check keeps it
		 * while that is as when it rendered without an error. */
		fp = key ^ 0x636865636bu;
		checked = render_page_fresh(r, NULL, PRINT_URL "index.html", fp);
	}
	if (rc == 0 && b.parted &&
	    (rc = parts_open(o, PRINT_URL "index.html", b.old_parts, &b.pp, err)) < 0)
		b.pp = NULL;
	if (rc == 0 && !checked) {
		/* Pieces read back as the template reaches them (tap); a page
		 * in parts is cut there too, and goes out as parts, not as
		 * one file. */
		value *data = outline_data(&b, r, &ol);
		b.lay_start = 0; /* a reassemble that gave up laid out some */
		rc = render_page_late(r, b.pp ? NULL : o, "print", PRINT_URL "index.html", data,
				      fp, article_html, o ? tap : NULL, &b, err);
		uint64_t tail = rc == 0 && o ? tap_finish(&b) : 0;
		if (rc == 0 && b.pp && (rc = b.part_rc) < 0)
			*err = b.part_err;
		if (rc == 0 && b.pp) {
			output_mark mark;
			rc = parts_close(b.pp, &mark, &b.parts_total, &b.parts_written, err);
			b.pp = NULL;
			if (rc == 0)
				render_file_written(r, PRINT_URL "index.html", fp, &mark);
		}
		if (rc == 0 && o) {
			pieces_save(&b, r, key, b.tap_len, tail);
			prefixes_save(&b, r);
			spare_save(&b, r);
			if (!has_old(&b))
				spare_leave(&b, r, o, b.tap_len, tail);
		}
		parts_discard(b.pp);
		value_free(data);
	} else if (rc > 0) {
		st->framed = true;
		rc = 0;
	}
	st->articles = b.nnow;
	st->copied = b.copied;
	st->unread = b.marked && b.copied > 0;
	st->parts = b.parts_total;
	st->parts_written = b.parts_written;
	st->patched = b.patched;
	markdown_drops_flush(&b.drops);
	free(ol.parts);
	free(ol.articles);
	if (b.old_map)
		munmap((void *)b.old_map, (size_t)b.was.len);
	if (b.old_fd >= 0)
		close(b.old_fd);
	parts_old_close(b.old_parts);
	buf_release(&b.part);
	free(b.old);
	free(b.by_key);
	free(b.now);
	buf_release(&b.frame);
	for (size_t i = 0; i < n; i++)
		free(b.prefix[i]);
	free(b.prefix);
	for (size_t i = 0; i < b.nparts; i++)
		free(b.parts[i]);
	free(b.parts);
	free(b.ids);
	return rc;
}
