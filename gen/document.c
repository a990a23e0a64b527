/* document: front matter plus Markdown for one file (see document.h). */
#include "document.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jobs.h"
#include "xalloc.h"

char *document_url_for(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	size_t dirlen = slash ? (size_t)(slash - rel) + 1 : 0;
	const char *dot = strrchr(base, '.');
	size_t stemlen = dot ? (size_t)(dot - base) : strlen(base);
	bool index = (stemlen == 6 && strncmp(base, "_index", 6) == 0) ||
		     (stemlen == 5 && strncmp(base, "index", 5) == 0);
	/* Sized at once: every article's, in every build. */
	size_t len = dirlen + (index ? 0 : stemlen + 1);
	char *u = xmalloc(len + 1);
	memcpy(u, rel, dirlen);
	if (!index) {
		memcpy(u + dirlen, base, stemlen);
		u[dirlen + stemlen] = '/';
	}
	u[len] = '\0';
	return u;
}

char *document_alias_path(const char *alias)
{
	while (*alias == '/')
		alias++;
	buf rel = BUF_INIT;
	buf_put_url_decoded(&rel, alias, strlen(alias));
	if (rel.len && rel.ptr[rel.len - 1] != '/' && !strstr(alias, ".html"))
		buf_putc(&rel, '/');
	if (!rel.len || rel.ptr[rel.len - 1] == '/')
		buf_puts(&rel, "index.html");
	return buf_detach(&rel);
}

/* What a document's path alone decides: where it lives and its URL. The
 * five strings share one allocation, owned through d->path: every
 * article gets them in every build, ten thousand at a time. */
static void set_paths(document *d, const source_file *f, const config *cfg)
{
	memset(d, 0, sizeof *d);
	size_t cl = strlen(cfg->content_dir);
	const char *rel = strncmp(f->path, cfg->content_dir, cl) == 0 && f->path[cl] == '/'
				  ? f->path + cl + 1
				  : f->path;
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	size_t pl = strlen(f->path), rl = strlen(rel), dl = slash ? (size_t)(slash - rel) : 0;
	char *path = document_url_for(rel);
	size_t ul = strlen(path);
	/* The file keeps its name; links, the sitemap and the feed get it
	 * escaped. Most names need nothing: then the path is the URL. */
	buf u = BUF_INIT;
	bool plain = buf_url_path_plain(path, ul);
	if (!plain)
		buf_put_url_path(&u, path, ul);
	const char *url = plain ? path : u.ptr;
	size_t url_len = plain ? ul : u.len;
	char *p = xmalloc(pl + 1 + rl + 1 + dl + 1 + ul + sizeof "index.html" + url_len + 1);
	d->path = p;
	memcpy(p, f->path, pl + 1);
	p += pl + 1;
	d->rel = p;
	memcpy(p, rel, rl + 1);
	p += rl + 1;
	d->dir = p;
	memcpy(p, rel, dl);
	p[dl] = '\0';
	p += dl + 1;
	d->out_path = p;
	memcpy(p, path, ul);
	memcpy(p + ul, "index.html", sizeof "index.html");
	p += ul + sizeof "index.html";
	d->url = p;
	memcpy(p, url, url_len);
	p[url_len] = '\0';
	free(path);
	buf_release(&u);
	d->is_index = strcmp(base, "_index.md") == 0 || strcmp(base, "index.md") == 0;
	memcpy(d->id, f->id, sizeof d->id);
	d->identity = document_identity(d);
}

/* Copies s and its NUL to *p, advancing it; returns where it went. */
static char *put_path(char **p, const char *s, size_t len)
{
	char *at = *p;
	memcpy(at, s, len + 1);
	*p += len + 1;
	return at;
}

char *document_paths_gather(document *docs, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		const document *d = &docs[i];
		total += strlen(d->path) + strlen(d->rel) + strlen(d->dir) + strlen(d->out_path) +
			 strlen(d->url) + 5;
	}
	char *block = xmalloc(total ? total : 1), *p = block;
	for (size_t i = 0; i < n; i++) {
		document *d = &docs[i];
		char *old = d->paths_gathered ? NULL : d->path;
		d->path = put_path(&p, d->path, strlen(d->path));
		d->rel = put_path(&p, d->rel, strlen(d->rel));
		d->dir = put_path(&p, d->dir, strlen(d->dir));
		d->out_path = put_path(&p, d->out_path, strlen(d->out_path));
		d->url = put_path(&p, d->url, strlen(d->url));
		d->paths_gathered = true;
		free(old);
	}
	return block;
}

uint64_t document_shelving(const document *d)
{
	unsigned char index = d->is_index;
	uint64_t h = buf_hash64(&index, 1, 0x7368656cu);
	h = buf_hash64(&d->fm.date_epoch, sizeof d->fm.date_epoch, h);
	h = buf_hash64(&d->fm.nthemes, sizeof d->fm.nthemes, h);
	for (size_t i = 0; i < d->fm.nthemes; i++)
		h = buf_hash64(d->fm.themes[i], strlen(d->fm.themes[i]) + 1, h);
	return h;
}

uint64_t document_identity(const document *d)
{
	uint64_t h = buf_hash64(d->path, strlen(d->path) + 1, 0x6964656eu);
	return buf_hash64(d->id, strnlen(d->id, sizeof d->id), h);
}

int document_parse(document *d, const source_file *f, const config *cfg, bool filtered,
		   diag_list *diags, gen_err *err)
{
	int rc;
	set_paths(d, f, cfg);
	if ((rc = frontmatter_parse(&d->fm, d->path, f->data, f->len, err)) < 0)
		goto out;
	markdown_options mo = { 0 };
	mo.unsafe_html = cfg->unsafe_html;
	mo.tips = d->fm.kind == KIND_TIPS;
	mo.line_offset = d->fm.body_line - 1;
	mo.filtered = filtered;
	rc = markdown_parse(&d->md, d->path, f->data + d->fm.body_offset,
			    f->len - d->fm.body_offset, &mo, diags, err);
out:
	if (rc < 0)
		document_release(d);
	return rc;
}

void document_release(document *d)
{
	if (!d->paths_gathered)
		free(d->path); /* and the other four (set_paths) */
	/* A thawed document's strings may be the cache's bytes. */
	for (size_t i = 0; i < d->nevidence && !d->fm.borrowed; i++) {
		free(d->evidence[i].theme);
		free(d->evidence[i].excerpt);
		free(d->evidence[i].anchor);
		free(d->evidence[i].note);
	}
	frontmatter_release(&d->fm);
	markdown_free(d->md);
	free(d->evidence);
	memset(d, 0, sizeof *d);
}

uint64_t document_facts(const document *d)
{
	const frontmatter *fm = &d->fm;
	uint64_t h = buf_hash_cstr(d->path, 0x66616374u);
	h = buf_hash_cstr(fm->title, h);
	h = buf_hash64(&fm->kind, sizeof fm->kind, h);
	h = buf_hash_cstr(fm->date, h);
	h = buf_hash64(&fm->date_epoch, sizeof fm->date_epoch, h);
	h = buf_hash_cstr(fm->author, h);
	h = buf_hash_cstr(fm->summary, h);
	h = buf_hash64(&fm->nthemes, sizeof fm->nthemes, h);
	for (size_t i = 0; i < fm->nthemes; i++)
		h = buf_hash_cstr(fm->themes[i], h);
	h = buf_hash64(&fm->naliases, sizeof fm->naliases, h);
	for (size_t i = 0; i < fm->naliases; i++)
		h = buf_hash_cstr(fm->aliases[i], h);
	h = buf_hash64(&fm->draft, sizeof fm->draft, h);
	h = buf_hash64(&fm->weight, sizeof fm->weight, h);
	const value *meta = frontmatter_meta(fm);
	h = meta ? value_hash(meta, h) : buf_hash64("", 1, h);
	size_t nev = document_evidence_count(d);
	h = buf_hash64(&nev, sizeof nev, h);
	for (size_t i = 0; i < nev; i++) {
		const document_evidence *e = &d->evidence[i];
		h = buf_hash_cstr(e->theme, h);
		h = buf_hash_cstr(e->excerpt, h);
		h = buf_hash_cstr(e->anchor, h);
		h = buf_hash_cstr(e->note, h);
	}
	return markdown_facts(d->md, h);
}

/* ---- the build cache's form of a document ---- */

/* What the checksum of a frozen document's evidence is seeded with. */
#define EVIDENCE_SEED 0x65766964ULL

/* READ: the evidence is in d->evidence (a parsed document's, and any
 * thaw's but a borrowing one's, from the start). PENDING: only in
 * d->evidence_frozen. READING: a thread is reading it. */
enum { EVIDENCE_READ, EVIDENCE_PENDING, EVIDENCE_READING };

static void put_strings(buf *out, char *const *v, size_t n)
{
	buf_put_varint(out, n);
	for (size_t i = 0; i < n; i++)
		buf_put_zstr(out, v[i]);
}

/* A string read back: where it is in the data (borrow), or a copy. The
 * frozen bytes are read-only: a borrowed string is never written (the
 * front matter says so, fm->borrowed). */
static char *get_str(buf_reader *r, bool borrow)
{
	const char *s = buf_get_zstr(r);
	return !s ? NULL : borrow ? (char *)(uintptr_t)s : xstrdup(s);
}

static char **get_strings(buf_reader *r, size_t *n, bool borrow)
{
	size_t count = buf_get_count(r);
	*n = count;
	char **v = xcalloc(count + 1, sizeof *v);
	for (size_t i = 0; i < count; i++) {
		v[i] = get_str(r, borrow);
		if (!v[i])
			v[i] = borrow ? (char *)(uintptr_t)"" : xstrdup("");
	}
	return v;
}

size_t document_freeze(const document *d, buf *out)
{
	return document_freeze_split(d, out, NULL, NULL);
}

/* d's evidence as thaw_evidence reads it: the bytes it was thawed from,
 * when it was (a borrowing thaw's, read or not), else made from it. */
static void freeze_evidence(const document *d, buf *out)
{
	if (d->evidence_frozen) {
		buf_put(out, d->evidence_frozen, d->evidence_frozen_len);
		return;
	}
	buf_put_varint(out, d->nevidence);
	for (size_t i = 0; i < d->nevidence; i++) {
		const document_evidence *e = &d->evidence[i];
		buf_put_zstr(out, e->theme);
		buf_put_svarint(out, e->line);
		buf_put_zstr(out, e->excerpt);
		buf_put_zstr(out, e->anchor);
		buf_put_zstr(out, e->note);
	}
}

size_t document_freeze_split(const document *d, buf *out, buf *replay_out, size_t *head)
{
	size_t start = out->len;
	const frontmatter *fm = &d->fm;
	/* A thawed document's as it came: worked out again, they would read
	 * its evidence, its tail and its anchors, which it may not have read,
	 * and put out damage as something else. */
	buf_put_varint(out, d->md && !markdown_root(d->md) ? d->facts : document_facts(d));
	buf_put_zstr(out, fm->title);
	buf_put_varint(out, (uint64_t)fm->kind);
	buf_put_zstr(out, fm->date);
	buf_put_svarint(out, fm->date_epoch);
	buf_put_zstr(out, fm->author);
	buf_put_zstr(out, fm->summary);
	put_strings(out, fm->themes, fm->nthemes);
	put_strings(out, fm->aliases, fm->naliases);
	buf_put_varint(out, fm->draft);
	buf_put_svarint(out, fm->weight);
	/* As a blob, so that a thaw may leave it frozen (frontmatter_meta);
	 * a borrowing document's still frozen one goes out as it came. */
	if (fm->meta_frozen) {
		buf_put_varint(out, 1);
		buf_put_blob(out, fm->meta_frozen, fm->meta_frozen_len);
	} else {
		const value *meta = frontmatter_meta(fm);
		buf_put_varint(out, meta != NULL);
		if (meta) {
			buf m = BUF_INIT;
			value_freeze(meta, &m);
			buf_put_blob(out, m.ptr, m.len);
			buf_release(&m);
		}
	}
	buf_put_varint(out, fm->body_offset);
	buf_put_svarint(out, fm->body_line);
	/* The evidence last, after the Markdown, and its checksum and
	 * length here: like the Markdown's tail, it is read by the pages of
	 * its themes and of the article, not by a rebuild's other work. */
	buf ev = BUF_INIT, frozen = BUF_INIT;
	freeze_evidence(d, &ev);
	uint64_t sum = d->evidence_frozen ? d->evidence_sum : buf_hash64(ev.ptr, ev.len, EVIDENCE_SEED);
	buf_put(out, &sum, sizeof sum);
	buf_put_varint(out, ev.len);
	size_t tail = 0;
	size_t replay = markdown_freeze_split(d->md, &frozen, replay_out ? replay_out : &frozen, &tail);
	buf_put_varint(out, frozen.len);
	if (head)
		*head = out->len - start + frozen.len - tail - (replay_out ? 0 : replay);
	buf_put(out, frozen.ptr, frozen.len);
	buf_put(out, ev.ptr, ev.len);
	buf_release(&frozen);
	buf_release(&ev);
	return replay;
}

/* Reads d's evidence from d->evidence_frozen: its strings copied, or
 * borrowed. With check, bytes that do not match their checksum are not
 * read. -1 (and no evidence) when they do not, or are cut short. A
 * copying read keeps no pointer to the bytes; a borrowing one keeps it,
 * to freeze them again as they came. */
static int thaw_evidence(document *d, bool borrow, bool check)
{
	buf_reader rd, *r = &rd;
	buf_reader_init(r, d->evidence_frozen, d->evidence_frozen_len);
	r->bad = check && buf_hash64(d->evidence_frozen, d->evidence_frozen_len,
				     EVIDENCE_SEED) != d->evidence_sum;
	size_t n = r->bad ? 0 : buf_get_count(r);
	document_evidence *ev = n ? xcalloc(n, sizeof *ev) : NULL;
	size_t got = 0;
	for (; got < n && !r->bad; got++) {
		document_evidence *e = &ev[got];
		e->theme = get_str(r, borrow);
		e->line = (int)buf_get_svarint(r);
		e->excerpt = get_str(r, borrow);
		e->anchor = get_str(r, borrow);
		e->note = get_str(r, borrow);
		if (!e->theme || !e->excerpt || !e->anchor)
			r->bad = true;
	}
	if (r->bad || r->p != r->end) {
		for (size_t i = 0; i < got && !borrow; i++) {
			free(ev[i].theme);
			free(ev[i].excerpt);
			free(ev[i].anchor);
			free(ev[i].note);
		}
		free(ev);
		return -1;
	}
	d->evidence = ev;
	d->nevidence = n;
	if (!borrow) {
		d->evidence_frozen = NULL;
		d->evidence_frozen_len = 0;
	}
	return 0;
}

/* A borrowing thaw's evidence read, once, by whichever thread asks
 * first; the others wait for it. Damage (with the check) sets the flag,
 * and there is no evidence. */
static void evidence_ready(const document *cd)
{
	document *d = (document *)cd;
	if (!jobs_claim(&d->evidence_state, EVIDENCE_PENDING, EVIDENCE_READING))
		return;
	if (thaw_evidence(d, true, d->evidence_damage != NULL) < 0 && d->evidence_damage)
		atomic_store(d->evidence_damage, true);
	atomic_store_explicit(&d->evidence_state, EVIDENCE_READ, memory_order_release);
}

size_t document_evidence_count(const document *d)
{
	evidence_ready(d);
	return d->nevidence;
}

const document_evidence *document_evidence_at(const document *d, size_t i)
{
	evidence_ready(d);
	return i < d->nevidence ? &d->evidence[i] : NULL;
}

bool document_evidence_held(const document *d)
{
	return atomic_load_explicit(&d->evidence_state, memory_order_acquire) == EVIDENCE_READ;
}

int document_thaw(document *d, const source_file *f, const config *cfg,
		  const char *data, size_t len, markdown_borrow mode)
{
	return document_thaw_checked(d, f, cfg, data, len, mode, NULL);
}

int document_thaw_checked(document *d, const source_file *f, const config *cfg,
			  const char *data, size_t len, markdown_borrow mode,
			  atomic_bool *damage)
{
	return document_thaw_split(d, f, cfg, data, len, NULL, 0, mode, damage);
}

int document_thaw_split(document *d, const source_file *f, const config *cfg, const char *data,
			size_t len, const char *replay, size_t replay_len, markdown_borrow mode,
			atomic_bool *damage)
{
	bool borrow = mode == MARKDOWN_BORROW_ALL;
	set_paths(d, f, cfg);
	buf_reader rd, *r = &rd;
	buf_reader_init(r, data, len);
	frontmatter *fm = &d->fm;
	fm->borrowed = borrow;
	d->facts = buf_get_varint(r);
	fm->title = get_str(r, borrow);
	uint64_t kind = buf_get_varint(r);
	fm->kind = kind == KIND_STORY ? KIND_STORY : kind == KIND_TIPS ? KIND_TIPS : KIND_PAGE;
	if (kind > KIND_TIPS)
		r->bad = true;
	fm->date = get_str(r, borrow);
	fm->date_epoch = buf_get_svarint(r);
	fm->author = get_str(r, borrow);
	fm->summary = get_str(r, borrow);
	fm->themes = get_strings(r, &fm->nthemes, borrow);
	fm->aliases = get_strings(r, &fm->naliases, borrow);
	fm->draft = buf_get_varint(r) != 0;
	fm->weight = buf_get_svarint(r);
	if (buf_get_varint(r)) {
		size_t mlen;
		const char *m = buf_get_blob(r, &mlen);
		if (!m) {
			r->bad = true;
		} else if (borrow) {
			frontmatter_defer_meta(fm, m, mlen);
		} else {
			buf_reader mr;
			buf_reader_init(&mr, m, mlen);
			fm->meta = value_thaw(&mr);
			if (!fm->meta || mr.bad || mr.p != mr.end)
				r->bad = true;
		}
	}
	fm->body_offset = (size_t)buf_get_varint(r);
	fm->body_line = (int)buf_get_svarint(r);
	if (r->end - r->p >= (ptrdiff_t)sizeof d->evidence_sum) {
		memcpy(&d->evidence_sum, r->p, sizeof d->evidence_sum);
		r->p += sizeof d->evidence_sum;
	} else {
		r->bad = true;
	}
	uint64_t evlen = buf_get_varint(r);
	size_t mdlen;
	const char *md = buf_get_blob(r, &mdlen);
	if (!r->bad && evlen == (uint64_t)(r->end - r->p)) {
		d->evidence_frozen = (const char *)r->p;
		d->evidence_frozen_len = (size_t)evlen;
	} else {
		r->bad = true;
	}
	/* The evidence: read now, or (its strings borrowed) when asked for. */
	if (!r->bad && borrow) {
		d->evidence_damage = damage;
		atomic_store_explicit(&d->evidence_state, EVIDENCE_PENDING, memory_order_relaxed);
	} else if (!r->bad && thaw_evidence(d, false, damage != NULL) < 0) {
		r->bad = true;
	}
	if (!fm->title || r->bad ||
	    markdown_thaw_split(&d->md, md, mdlen, replay, replay_len, mode, damage) < 0) {
		document_release(d);
		return -1;
	}
	d->shelving = document_shelving(d);
	return 0;
}

void document_slim(document *d, const source_file *f, const config *cfg,
		   const char *frozen, size_t len)
{
	document_slim_split(d, f, cfg, frozen, len, NULL, 0);
}

void document_slim_split(document *d, const source_file *f, const config *cfg,
			 const char *frozen, size_t len, const char *replay, size_t replay_len)
{
	if (!d->md || !markdown_root(d->md))
		return; /* thawed already */
	if (frozen) {
		document t;
		/* Strings copied: this build's stages let the pages of the
		 * frozen bytes go as they finish with the article, and the
		 * strings, read by other pages later, would bring them back. */
		if (document_thaw_split(&t, f, cfg, frozen, len, replay, replay_len,
					MARKDOWN_BORROW_TEXT, NULL) == 0) {
			document_release(d);
			*d = t;
		}
		return;
	}
	d->facts = document_facts(d);
	d->shelving = document_shelving(d);
	buf b = BUF_INIT;
	markdown_doc *md = NULL;
	markdown_freeze(d->md, &b);
	if (markdown_thaw(&md, b.ptr, b.len, MARKDOWN_COPY) == 0) {
		markdown_free(d->md);
		d->md = md;
	}
	buf_release(&b);
}
