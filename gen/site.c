/* site: loading every document and grouping them (see site.h). */
#include "site.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "filter.h"
#include "jobs.h"
#include "xalloc.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int doc_cmp(const void *a, const void *b)
{
	return strcmp(((const document *)a)->rel, ((const document *)b)->rel);
}

/* Pages in a section: by weight, then title, then path. Titles compare
 * byte by byte (gen sets no locale, so strcoll would do the same, only
 * slower). */
static int page_cmp(const void *a, const void *b)
{
	const document *x = *(document *const *)a, *y = *(document *const *)b;
	if (x->fm.weight != y->fm.weight)
		return x->fm.weight < y->fm.weight ? -1 : 1;
	int c = strcmp(x->fm.title, y->fm.title);
	return c ? c : strcmp(x->rel, y->rel);
}

/* A page with its title's first eight bytes as a number that orders as
 * they do (big-endian, a shorter title padded with NULs, which sort
 * first as a title's end does): a section of 7,000 stories is sorted on
 * every build, and most comparisons end at the number. */
typedef struct page_key {
	int64_t weight;
	uint64_t head;
	document *d;
} page_key;

static int page_key_cmp(const void *a, const void *b)
{
	const page_key *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight < y->weight ? -1 : 1;
	if (x->head != y->head)
		return x->head < y->head ? -1 : 1;
	return page_cmp(&x->d, &y->d);
}

static void sort_pages(document **pages, size_t n)
{
	page_key *keys = xmalloc((n + 1) * sizeof *keys);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *t = (const unsigned char *)pages[i]->fm.title;
		uint64_t head = 0;
		for (size_t k = 0; k < 8; k++) {
			head = head << 8 | t[0];
			t += t[0] != 0;
		}
		keys[i] = (page_key){ pages[i]->fm.weight, head, pages[i] };
	}
	qsort(keys, n, sizeof *keys, page_key_cmp);
	for (size_t i = 0; i < n; i++)
		pages[i] = keys[i].d;
	free(keys);
}

static int section_cmp(const void *a, const void *b)
{
	const site_section *x = a, *y = b;
	return page_cmp(&x->index, &y->index);
}

/* Reads site.toml; *hash receives a hash of its bytes (for the cache). */
static int read_config(site *s, uint64_t *hash, diag_list *diags, gen_err *err)
{
	source_file f;
	int rc = source_read(s->src, "site.toml", &f, err);
	if (rc > 0)
		return err_set(err, GEN_EUSAGE, "site.toml", 0, 0,
			       "'site.toml' is not in %s", source_describe(s->src));
	if (rc < 0)
		return rc;
	*hash = buf_hash64(f.data, f.len, 0);
	rc = config_parse(&s->cfg, f.data, f.len, "site.toml", diags, err);
	source_file_release(&f);
	return rc;
}

static void index_docs(site *s);

static void add_skipped(site *s, const char *rel)
{
	s->skipped = xrealloc(s->skipped, (s->nskipped + 1) * sizeof *s->skipped);
	s->skipped[s->nskipped++] = xstrdup(rel);
}

static void build_sections(site *s)
{
	for (size_t i = 0; i < s->ndocs; i++) {
		document *d = &s->docs[i];
		if (!d->is_index)
			continue;
		if (!*d->dir) {
			s->home = d;
			continue;
		}
		s->sections = xrealloc(s->sections, (s->nsections + 1) * sizeof *s->sections);
		site_section *sec = &s->sections[s->nsections++];
		memset(sec, 0, sizeof *sec);
		sec->dir = xstrdup(d->dir);
		sec->index = d;
	}
	for (size_t i = 0; i < s->nsections; i++) {
		site_section *sec = &s->sections[i];
		size_t cap = 0;
		for (size_t j = 0; j < s->ndocs; j++) {
			document *d = &s->docs[j];
			if (d->is_index || strcmp(d->dir, sec->dir) != 0)
				continue;
			/* Doubling: a section of 7,000 stories. */
			if (sec->npages == cap) {
				cap = cap ? 2 * cap : 16;
				sec->pages = xrealloc(sec->pages, cap * sizeof *sec->pages);
			}
			sec->pages[sec->npages++] = d;
		}
		if (sec->npages > 1)
			sort_pages(sec->pages, sec->npages);
	}
	if (s->nsections > 1)
		qsort(s->sections, s->nsections, sizeof *s->sections, section_cmp);
}

int site_jobs(int jobs)
{
	if (jobs > 0)
		return jobs;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)(n > 64 ? 64 : n) : 1;
}

/* --- the memory of a resident process (site_memory, site.h) --- */

/* Build caches whose mappings the memory's articles may borrow from:
 * one more for each article edited since it was last read whole. They
 * map the same file until a build writes documents.pack anew, which
 * takes thousands of edits; each costs its record index (about 1 MB at
 * 10,000 articles). */
#define MEMORY_CACHES 16

/* An article the memory holds: the document, the warnings it gave when
 * it was parsed, and the build cache whose mapping it borrows its text
 * from (NULL: it has its own copy). */
typedef struct memo_doc {
	document doc;
	diag_list diags;
	cache_file *origin;
	bool taken;          /* moved into the build being loaded */
} memo_doc;

struct site_memory {
	uint64_t stamp;      /* site.stamp and gen's, of the articles held */
	memo_doc *docs;      /* sorted by path */
	size_t n;
	cache_file **caches; /* open while an article held borrows from one */
	size_t ncaches;
	/* The last build's documents cache, open whether or not an article
	 * borrows from it: the next one takes its index (cache_open_after). */
	cache_file *last;
};

/* What each published article of a build brings to the memory: the
 * warnings it gave and where it borrows from, by path. */
typedef struct recall_doc {
	const char *path;    /* the document's own */
	diag_list diags;
	cache_file *origin;
} recall_doc;

typedef struct site_recall {
	uint64_t stamp;
	recall_doc *docs;
	size_t n;
} site_recall;

site_memory *site_memory_new(void)
{
	return xcalloc(1, sizeof(site_memory));
}

static void memory_drop_docs(site_memory *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (!m->docs[i].taken)
			document_release(&m->docs[i].doc);
		diag_release(&m->docs[i].diags);
	}
	free(m->docs);
	m->docs = NULL;
	m->n = 0;
}


/* Whether every build cache the memory's articles borrow from, and the
 * last build's, still maps the whole of what it did (cache_intact). */
static bool memory_intact(const site_memory *m)
{
	for (size_t i = 0; i < m->ncaches; i++)
		if (!cache_intact(m->caches[i]))
			return false;
	return cache_intact(m->last);
}

/* Lets go of every article the memory holds and every cache it keeps:
 * the next build reads them as the first one did. */
static void memory_forget(site_memory *m)
{
	memory_drop_docs(m);
	bool last_held = false;
	for (size_t i = 0; i < m->ncaches; i++) {
		last_held = last_held || m->caches[i] == m->last;
		cache_close(m->caches[i]);
	}
	if (!last_held)
		cache_close(m->last);
	free(m->caches);
	m->caches = NULL;
	m->ncaches = 0;
	m->last = NULL;
}

void site_memory_free(site_memory *m)
{
	if (!m)
		return;
	memory_forget(m);
	free(m);
}

/* The article the memory holds at path, looked for from *at on: paths
 * asked for in ascending order are found in one pass over the memory's
 * (sorted by path), not a search each. */
static memo_doc *memory_next(site_memory *m, const char *path, size_t *at)
{
	while (*at < m->n && strcmp(m->docs[*at].doc.path, path) < 0)
		(*at)++;
	return *at < m->n && strcmp(m->docs[*at].doc.path, path) == 0 ? &m->docs[*at] : NULL;
}

static void diag_copy(diag_list *into, const diag_list *from)
{
	for (size_t i = 0; i < from->n; i++) {
		const gen_diag *d = &from->items[i];
		diag_add(into, d->severity, d->file, d->line, d->col, "%s", d->msg);
	}
}

/* site_release with a memory: the site's articles go to it, with what
 * the recall says of each; the memory's articles this build did not take
 * go, and so does every cache no article held borrows from. */
static void memory_give_back(site *s)
{
	site_memory *m = s->memory;
	site_recall *r = s->recall;
	memory_drop_docs(m);
	/* Both come in path order (the listing's, and the site's, which
	 * site_load keeps sorted by content-relative path): matched in one
	 * pass. The memory's articles are kept in that order too, for
	 * memory_next. */
	m->docs = xcalloc(s->ndocs ? s->ndocs : 1, sizeof *m->docs);
	size_t at = 0;
	for (size_t i = 0; i < s->ndocs; i++) {
		document *d = &s->docs[i];
		while (at < r->n && strcmp(r->docs[at].path, d->path) < 0)
			at++;
		recall_doc *rd = at < r->n && strcmp(r->docs[at].path, d->path) == 0 ? &r->docs[at]
										: NULL;
		memo_doc *md = &m->docs[m->n++];
		md->doc = *d;
		if (rd) {
			md->diags = rd->diags;
			memset(&rd->diags, 0, sizeof rd->diags);
			md->origin = rd->origin;
		} else {
			/* Not from this load (cannot be): keep nothing borrowed. */
			m->n--;
			document_release(d);
		}
	}
	m->stamp = r->stamp;
	/* The caches still borrowed from: the memory's and the site's own. */
	cache_file **keep = xcalloc(m->ncaches + 1, sizeof *keep);
	size_t nkeep = 0;
	bool newest = false; /* s->doc_cache is among them */
	for (size_t c = 0; c <= m->ncaches; c++) {
		cache_file *cf = c < m->ncaches ? m->caches[c] : s->doc_cache;
		bool used = false;
		for (size_t i = 0; cf && i < m->n && !used; i++)
			used = m->docs[i].origin == cf;
		if (used)
			keep[nkeep++] = cf;
		else if (cf != s->doc_cache && cf != m->last)
			cache_close(cf);
		newest = newest || (used && c == m->ncaches);
	}
	/* The last build's cache goes unless an article borrows from it;
	 * this build's stays, for the next one to open after. */
	bool old_kept = false;
	for (size_t k = 0; k < nkeep; k++)
		old_kept = old_kept || keep[k] == m->last;
	if (m->last && m->last != s->doc_cache && !old_kept)
		cache_close(m->last);
	m->last = s->doc_cache;
	free(m->caches);
	m->caches = keep;
	m->ncaches = nkeep;
	/* Each cache keeps a mapping of documents.pack as one build left it
	 * (and the file, should a later build have replaced it): after many
	 * edits, each article of its own, they would pile up. Past a few,
	 * the articles that borrow from older ones go, to be read from the
	 * newest cache next time. */
	if (m->ncaches > MEMORY_CACHES && newest) {
		size_t k = 0;
		for (size_t i = 0; i < m->n; i++) {
			if (m->docs[i].origin && m->docs[i].origin != s->doc_cache) {
				document_release(&m->docs[i].doc);
				diag_release(&m->docs[i].diags);
				continue;
			}
			m->docs[k++] = m->docs[i];
		}
		m->n = k;
		for (size_t c = 0; c < m->ncaches; c++)
			if (m->caches[c] != s->doc_cache)
				cache_close(m->caches[c]);
		m->caches[0] = s->doc_cache;
		m->ncaches = 1;
	}
	s->doc_cache = NULL;
	free(s->docs);
	s->docs = NULL;
	s->ndocs = 0;
}

static void recall_free(site_recall *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		diag_release(&r->docs[i].diags);
	free(r->docs);
	free(r);
}

/* Parsing documents is the per-document stage: each worker takes the next
 * file, parses it into its own slot and reports into its own diag list,
 * so the result does not depend on how many workers there are. */
typedef struct parse_work {
	const site *s;
	source_file **files;
	size_t n;
	document *slots;
	int *status;
	atomic_size_t next;
	const filter_set *filters; /* run on each document once it is parsed */
	cache_file *cache;          /* documents as the last build left them */
	memo_doc **memo;            /* with a memory: the article held for each
				     * file, or NULL */
	diag_list *warned;          /* with a memory: each article's warnings */
} parse_work;

typedef struct parse_worker {
	parse_work *w;
	diag_list diags;
	pthread_t thread;
	double filter_seconds; /* in the filters (their Lua state is made
				* by the first article's), over every round */
	size_t filtered;       /* articles the filters ran on */
} parse_worker;

static void *parse_run(void *arg)
{
	parse_worker *pw = arg;
	parse_work *w = pw->w;
	filter_state *fst = filter_count(w->filters)
				    ? filter_state_new(w->filters, &w->s->cfg) : NULL;
	for (;;) {
		size_t i = atomic_fetch_add(&w->next, 1);
		if (i >= w->n)
			break;
		gen_err e;
		err_clear(&e);
		source_file *f = w->files[i];
		/* The article's own warnings, kept with it in the cache. */
		diag_list mine = DIAG_LIST_INIT;
		if (w->memo && w->memo[i]) {
			/* As the last build left it; its cache record stays. */
			w->slots[i] = w->memo[i]->doc;
			w->status[i] = 0;
			cache_keep_document(w->cache, f);
			diag_copy(&w->warned[i], &w->memo[i]->diags);
			diag_copy(&pw->diags, &w->memo[i]->diags);
			continue;
		}
		if (cache_get_document(w->cache, f, &w->s->cfg, &w->slots[i], &mine)) {
			w->status[i] = 0;
			if (w->warned)
				diag_copy(&w->warned[i], &mine);
			diag_merge(&pw->diags, &mine);
			diag_release(&mine);
			continue;
		}
		w->status[i] = source_file_load(w->s->src, f, &e);
		if (w->status[i] == 0)
			w->status[i] = document_parse(&w->slots[i], f, &w->s->cfg,
						      filter_count(w->filters) > 0, &mine, &e);
		if (w->status[i] == 0 && filter_count(w->filters)) {
			double t = jobs_seconds();
			w->status[i] = filter_state_run(fst, &w->slots[i], &mine, &e);
			pw->filter_seconds += jobs_seconds() - t;
			pw->filtered++;
			if (w->status[i] < 0)
				document_release(&w->slots[i]);
		}
		if (w->status[i] == 0) {
			size_t flen, rlen;
			const char *replay;
			const char *kept = cache_put_document(w->cache, &w->slots[i], &mine, &flen,
							      &replay, &rlen);
			document_slim_split(&w->slots[i], f, &w->s->cfg, kept, flen, replay, rlen);
		}
		source_file_unload(f);
		if (w->warned)
			diag_copy(&w->warned[i], &mine);
		diag_merge(&pw->diags, &mine);
		diag_release(&mine);
		if (w->status[i] < 0)
			diag_add_err(&pw->diags, &e);
	}
	filter_state_free(fst);
	return NULL;
}

/* Where bytes of the build's own (a kept copy) that a document borrows
 * are in the file now, or NULL: for bytes in a mapping already, or none;
 * *all turns false for bytes that did not read back. */
static const char *moved_to(cache_file *cache, const char *from, bool *all)
{
	if (!from || cache_mapped(cache, from))
		return NULL;
	const char *to = cache_moved(cache, from);
	if (!to)
		*all = false;
	return to;
}

/* The articles parsed by this build borrow from the copies the cache
 * kept of them; once those are written, they borrow from the file
 * instead, like the articles read from the cache, and the copies go.
 * An article in a file mapping is marked so (mark_mapped): a stage done
 * with one may let its pages go (markdown_drop_pages), and the build's
 * memory holds the articles being worked on, not all of them. */
static void read_from_file(document *docs, size_t n, cache_file *cache, bool trim)
{
	if (!cache_rehome(cache))
		return;
	bool all = true;
	for (size_t i = 0; i < n; i++) {
		markdown_doc *md = docs[i].md;
		if (!md)
			continue;
		const char *to = moved_to(cache, markdown_borrowed(md), &all);
		if (to)
			markdown_rebase(md, to);
		/* The replay is a record of its own, moved on its own. */
		to = moved_to(cache, markdown_replay_apart(md), &all);
		if (to)
			markdown_rebase_replay(md, to);
	}
	if (!all)
		return;
	cache_forget_kept(cache);
	/* The copies were made by the parse workers, in their own malloc
	 * arenas, which the render's threads do not draw on: hand the pages
	 * back. (Between rounds the workers reuse them themselves.) */
#ifdef __GLIBC__
	if (trim)
		malloc_trim(0);
#else
	(void)trim;
#endif
}

static void mark_mapped(document *docs, size_t n, const cache_file *cache)
{
	for (size_t i = 0; i < n; i++) {
		markdown_doc *md = docs[i].md;
		const void *mapping = md ? cache_mapping_of(cache, markdown_borrowed(md)) : NULL;
		if (mapping)
			markdown_set_mapped(md, mapping,
					    cache_mapping_of(cache, markdown_replay_apart(md)));
	}
}

/* Articles parsed per round when every one is new (cache_fresh): the
 * copies kept for the cache then never outgrow one round. */
#define PARSE_ROUND 1024

static size_t parse_all(site *s, source_file **files, size_t n,
			const filter_set *filters, cache_file *cache,
			const site_options *opt, diag_list *diags, gen_err *err)
{
	parse_work w = { s, files, n, xcalloc(n ? n : 1, sizeof(document)),
			 xcalloc(n ? n : 1, sizeof(int)), 0, filters, cache, NULL, NULL };
	site_memory *m = s->memory;
	if (m) {
		w.memo = xcalloc(n ? n : 1, sizeof *w.memo);
		w.warned = xcalloc(n ? n : 1, sizeof *w.warned);
		/* files come sorted by path, as the memory's articles are. */
		size_t at = 0;
		for (size_t i = 0; m->stamp == s->recall->stamp && i < n; i++) {
			memo_doc *md = memory_next(m, files[i]->path, &at);
			if (md && !md->taken && strcmp(md->doc.id, files[i]->id) == 0) {
				md->taken = true;
				w.memo[i] = md;
				s->memory_hits++;
			}
		}
	}
	size_t nw = (size_t)site_jobs(opt->jobs);
	if (nw > n)
		nw = n ? n : 1;
	parse_worker *pw = xcalloc(nw, sizeof *pw);
	size_t round = cache_fresh(cache) ? PARSE_ROUND : n;
	size_t lo = 0, saving = 0; /* the round before this one, to save */
	do {
		size_t hi = n - lo > round ? lo + round : n;
		atomic_store(&w.next, lo);
		w.n = hi;
		for (size_t i = 0; i < nw; i++) {
			pw[i].w = &w;
			if (i > 0 && pthread_create(&pw[i].thread, NULL, parse_run, &pw[i]) != 0)
				pw[i].w = NULL; /* no thread: the others share its part */
		}
		/* The round before is written out while the workers start on
		 * this one: what they put waits apart (cache_hold_puts). */
		if (lo > saving) {
			cache_save(cache, diags);
			read_from_file(w.slots + saving, lo - saving, cache, false);
			cache_keep_puts(cache);
		}
		parse_run(&pw[0]);
		for (size_t i = 1; i < nw; i++)
			if (pw[i].w)
				pthread_join(pw[i].thread, NULL);
		/* The last round's copies go when site_load has saved. */
		if (hi < n) {
			cache_hold_puts(cache);
			saving = lo;
		}
		lo = hi;
	} while (lo < n);
	size_t errors = 0;
	diag_list found = DIAG_LIST_INIT;
	s->filter_threads = nw;
	for (size_t i = 0; i < nw; i++) {
		s->filter_seconds += pw[i].filter_seconds;
		s->filtered += pw[i].filtered;
		if (diags)
			diag_merge(&found, &pw[i].diags);
		else if (pw[i].diags.errors && !errors && pw[i].diags.n) {
			const gen_diag *d = &pw[i].diags.items[0];
			err_set(err, GEN_ECONTENT, d->file, d->line, d->col, "%s", d->msg);
		}
		diag_release(&pw[i].diags);
	}
	/* A filter that fails the same way on every article (an error in
	 * its top level, or in a function every article calls) says so once. */
	diag_collapse(&found, FILTER_WHILE, "articles");
	if (diags)
		diag_merge(diags, &found);
	free(pw);
	site_recall *rc = s->recall;
	if (rc)
		rc->docs = xcalloc(n ? n : 1, sizeof *rc->docs);
	/* The articles stay where the workers made them, those that go
	 * (failed, drafts) closed up: the site's array is this one, not a
	 * copy of ten thousand of them into pages of its own. */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		document *d = &w.slots[i];
		diag_list warned = DIAG_LIST_INIT;
		if (w.warned) {
			warned = w.warned[i];
			memset(&w.warned[i], 0, sizeof warned);
		}
		if (w.status[i] < 0) {
			diag_release(&warned);
			errors++;
			/* Remembered so that links to it are not reported as
			 * missing on top of its own error. */
			size_t cl = strlen(s->cfg.content_dir);
			const char *p = files[i]->path;
			if (strncmp(p, s->cfg.content_dir, cl) == 0 && p[cl] == '/')
				p += cl + 1;
			s->failed = xrealloc(s->failed, (s->nfailed + 1) * sizeof *s->failed);
			s->failed[s->nfailed++] = xstrdup(p);
			continue;
		}
		bool draft = d->fm.draft && !opt->drafts;
		bool future = d->fm.date && d->fm.date_epoch > opt->now && !opt->future;
		if ((draft || future) && !opt->all) {
			add_skipped(s, d->rel);
			document_release(d);
			diag_release(&warned);
			continue;
		}
		if (rc) {
			recall_doc *r = &rc->docs[rc->n++];
			r->path = d->path;
			r->diags = warned;
			/* What it borrows from: the cache it was held with,
			 * or this build's. */
			r->origin = w.memo && w.memo[i] ? w.memo[i]->origin : cache;
		} else {
			diag_release(&warned);
		}
		if (kept != i)
			w.slots[kept] = *d;
		kept++;
	}
	free(s->docs);
	s->docs = w.slots;
	s->ndocs = kept;
	/* A build of its own (no memory keeps the articles past the site):
	 * their paths side by side, for the passes that read them all. */
	if (!s->memory && !rc)
		s->paths = document_paths_gather(s->docs, s->ndocs);
	free(w.status);
	free(w.memo);
	free(w.warned);
	return errors;
}

/* gen serve's first build: an empty build cache beside the preview
 * starts from what the project's own holds (the one beside site.toml's
 * output_dir), as far as it describes the content: the articles, their
 * search records and word diffs. Not the page cache or the output's
 * list, which are true of one output only. */
static void seed_caches(const site *s, const char *output)
{
	static const char *const content_caches[] = { "documents.pack", "search.pack",
						      "diffs.pack" };
	char *dir = site_cache_dir(s, output), *own = site_cache_dir(s, NULL);
	bool elsewhere = strcmp(own, dir) != 0;
	for (size_t i = 0; elsewhere && i < sizeof content_caches / sizeof *content_caches; i++)
		cache_seed(dir, content_caches[i], own, content_caches[i]);
	free(dir);
	free(own);
}

int site_load(site *s, const source *src, const site_options *opt,
	      diag_list *diags, gen_err *err)
{
	source_file *files = NULL;
	size_t nfiles = 0;
	int rc;
	cache_file *cache = NULL;
	uint64_t config_hash = 0;
	memset(s, 0, sizeof *s);
	s->src = src;
	s->opt_jobs = opt->jobs;
	if ((rc = read_config(s, &config_hash, diags, err)) < 0)
		goto out;
	/* Read once: it hashes gen's executable. Before the jobs that
	 * start now, which open caches stamped with it. */
	uint64_t program = opt->cache || opt->memory ? cache_program_stamp() : 0;
	if (opt->cache)
		s->program_stamp = program;
	/* Before the work begun beside the articles opens its caches. */
	if (opt->cache && opt->seed_cache && opt->output && !(opt->memory && opt->memory->last))
		seed_caches(s, opt->output);
	if (opt->configured && (rc = opt->configured(opt->configured_ctx, s, err)) < 0)
		goto out;
	/* Bytes are read only for articles the cache does not know. */
	char *memo = NULL;
	if (opt->cache) {
		char *dir = site_cache_dir(s, opt->output);
		buf p = BUF_INIT;
		buf_printf(&p, "%s/worktree-ids", dir);
		memo = buf_detach(&p);
		free(dir);
	}
	source_links links = { 0 };
	rc = source_list_ids(src, s->cfg.content_dir, memo, opt->listing, &files, &nfiles,
			     &links, err);
	free(memo);
	for (size_t i = 0; rc == 0 && diags && i < links.n; i++) {
		if (links.kinds[i] == SOURCE_LINK_GIT)
			diag_add(diags, DIAG_WARNING, links.paths[i], 0, 0,
				 "a symbolic link, which a build from git leaves out: git keeps "
				 "the link, not the file it points to (--worktree follows one "
				 "that stays inside the project); make it a file to build it");
		else if (links.kinds[i] == SOURCE_LINK_OUTSIDE)
			diag_add(diags, DIAG_WARNING, links.paths[i], 0, 0,
				 "a symbolic link to '%s', outside the project: left out, so "
				 "that no file from elsewhere on this machine is published "
				 "with the handbook; copy it in to build it",
				 links.targets[i]);
		else
			diag_add(diags, DIAG_WARNING, links.paths[i], 0, 0,
				 "a symbolic link back to '%s', a folder it is in: left out, "
				 "as following it would list that folder again and again",
				 links.targets[i]);
	}
	source_links_release(&links);
	if (rc < 0)
		goto out;
	s->files_listed = nfiles;
	for (size_t i = 0; i < nfiles; i++)
		s->files_read += files[i].data != NULL;
	if (nfiles == 0 && diags)
		diag_add(diags, DIAG_WARNING, s->cfg.content_dir, 0, 0,
			 "no content in '%s'", s->cfg.content_dir);

	s->assets = xcalloc(nfiles ? nfiles : 1, sizeof *s->assets);
	source_file **md = xcalloc(nfiles ? nfiles : 1, sizeof *md);
	size_t nmd = 0;
	for (size_t i = 0; i < nfiles; i++) {
		source_file *f = &files[i];
		if (ends_with(f->path, ".md")) {
			md[nmd++] = f;
		} else {
			if ((rc = source_file_load(src, f, err)) < 0) {
				free(md);
				goto out;
			}
			s->assets[s->nassets++] = *f;
			memset(f, 0, sizeof *f);
		}
	}
	/* Filters are compiled once per build; one that does not compile
	 * is reported as failing on the first document it would filter. */
	filter_set *filters = NULL;
	if ((rc = filter_load(&filters, src, &s->cfg, err)) < 0) {
		if (rc == GEN_EFILTER && nmd) {
			buf msg = BUF_INIT;
			buf_printf(&msg, "%s" FILTER_WHILE "%s)", err->msg, md[0]->path);
			size_t l = msg.len < sizeof err->msg ? msg.len : sizeof err->msg - 1;
			memcpy(err->msg, msg.ptr, l);
			err->msg[l] = '\0';
			buf_release(&msg);
		}
		free(md);
		goto out;
	}
	s->nfilters = filter_count(filters);
	/* Whatever besides its own bytes decides how an article comes out. */
	s->stamp = buf_hash64(&config_hash, sizeof config_hash, 0);
	uint64_t fh = filter_set_hash(filters);
	s->stamp = buf_hash64(&fh, sizeof fh, s->stamp);
	const char *engine = markdown_engine();
	s->stamp = buf_hash64(engine, strlen(engine), s->stamp);
	if (opt->memory && !memory_intact(opt->memory))
		memory_forget(opt->memory);
	if (opt->memory) {
		s->memory = opt->memory;
		s->recall = xcalloc(1, sizeof *s->recall);
		s->recall->stamp = buf_hash64(&s->stamp, sizeof s->stamp, program);
	}
	if (opt->cache) {
		uint64_t stamp = buf_hash64(&s->stamp, sizeof s->stamp, s->program_stamp);
		char *dir = site_cache_dir(s, opt->output);
		/* gen serve: the last build's index, and what it appended. */
		cache = opt->memory ? cache_open_after(opt->memory->last, dir, "documents.pack",
						      stamp, diags)
				    : cache_open(dir, "documents.pack", stamp, diags);
		free(dir);
		if (opt->check_late && !opt->memory)
			cache_check_late(cache);
	}
	size_t errors = parse_all(s, md, nmd, filters, cache, opt, diags, err);
	filter_set_free(filters);
	free(md);
	if (cache) {
		s->cache_hits = cache_hits(cache);
		cache_save(cache, diags);
		/* A resident process (opt->memory) keeps its heap: the next
		 * build would only fault the pages in again. */
		read_from_file(s->docs, s->ndocs, cache, !opt->memory);
		mark_mapped(s->docs, s->ndocs, cache);
		/* The documents read from it borrow from it. */
		s->doc_cache = cache;
		cache = NULL;
	}
	if (errors && !(opt->keep_going && diags)) {
		/* Without a diag list, err already holds the first problem. */
		rc = diags ? err_set(err, GEN_ECONTENT, "", 0, 0,
				     "%zu article%s could not be read", errors,
				     errors == 1 ? "" : "s")
			   : GEN_ECONTENT;
		goto out;
	}
	/* The listing's order is path order, which is this one: a sort is
	 * only for a listing that comes otherwise. */
	bool sorted = true;
	for (size_t i = 1; i < s->ndocs && sorted; i++)
		sorted = doc_cmp(&s->docs[i - 1], &s->docs[i]) < 0;
	if (!sorted)
		qsort(s->docs, s->ndocs, sizeof *s->docs, doc_cmp);
	index_docs(s);
	build_sections(s);
	rc = 0;
out:
	cache_close(cache);
	source_files_free(files, nfiles);
	if (rc < 0)
		site_release(s);
	return rc;
}

/* Builds site_find's index once the documents have their places. */
static void index_docs(site *s)
{
	free(s->by_rel);
	s->by_rel = NULL;
	if (!s->ndocs || s->ndocs >= UINT32_MAX / 4)
		return;
	size_t cap = 16;
	while (cap < 2 * s->ndocs)
		cap *= 2;
	s->by_rel = xcalloc(cap, sizeof *s->by_rel);
	s->by_rel_cap = cap;
	for (size_t d = 0; d < s->ndocs; d++) {
		const char *rel = s->docs[d].rel;
		size_t i = (size_t)buf_hash64(rel, strlen(rel), 0) & (cap - 1);
		while (s->by_rel[i])
			i = (i + 1) & (cap - 1);
		s->by_rel[i] = (uint32_t)(d + 1);
	}
}

char *site_output_dir(const site *s, const char *output)
{
	buf p = BUF_INIT;
	if (output)
		buf_puts(&p, output);
	else if (s->cfg.output_dir[0] == '/' || !source_root(s->src))
		buf_puts(&p, s->cfg.output_dir);
	else
		buf_printf(&p, "%s/%s", source_root(s->src), s->cfg.output_dir);
	return buf_detach(&p);
}

char *site_cache_dir(const site *s, const char *output)
{
	char *out = site_output_dir(s, output);
	char *cache = site_cache_dir_of(out);
	free(out);
	return cache;
}

char *site_cache_dir_of(const char *output)
{
	char *out = xstrdup(output);
	buf cache = BUF_INIT;
	size_t l = strlen(out);
	while (l > 1 && out[l - 1] == '/')
		out[--l] = '\0';
	const char *slash = strrchr(out, '/');
	const char *last = slash ? slash + 1 : out;
	/* "-o ." or "-o site/..": the folder beside it is the one beside
	 * what the name stands for, "<output>/..", never one inside it. */
	if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
		buf_printf(&cache, "%s/../.gen-cache", out);
	else if (slash)
		buf_printf(&cache, "%.*s/.gen-cache", (int)(slash - out), out);
	else
		buf_puts(&cache, ".gen-cache");
	free(out);
	return buf_detach(&cache);
}

void site_release(site *s)
{
	if (s->memory && s->recall)
		memory_give_back(s);
	recall_free(s->recall);
	for (size_t i = 0; i < s->ndocs; i++)
		document_release(&s->docs[i]);
	free(s->docs);
	free(s->paths);
	for (size_t i = 0; i < s->nsections; i++) {
		free(s->sections[i].dir);
		free(s->sections[i].pages);
	}
	free(s->sections);
	source_files_free(s->assets, s->nassets);
	for (size_t i = 0; i < s->nskipped; i++)
		free(s->skipped[i]);
	free(s->skipped);
	for (size_t i = 0; i < s->nfailed; i++)
		free(s->failed[i]);
	free(s->failed);
	config_release(&s->cfg);
	cache_close(s->doc_cache);
	free(s->by_rel);
	free(s->doc_history);
	memset(s, 0, sizeof *s);
}

document *site_find(const site *s, const char *rel)
{
	/* Every link of every article is looked up, several times a build:
	 * one hash and one compare, not a binary search's dozen compares
	 * over paths that share their folder. */
	if (s->by_rel && s->ndocs < UINT32_MAX) {
		size_t mask = s->by_rel_cap - 1;
		for (size_t i = (size_t)buf_hash64(rel, strlen(rel), 0) & mask;; i = (i + 1) & mask) {
			uint32_t k = s->by_rel[i];
			if (!k)
				return NULL;
			if (strcmp(s->docs[k - 1].rel, rel) == 0)
				return &s->docs[k - 1];
		}
	}
	size_t lo = 0, hi = s->ndocs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->docs[mid].rel, rel);
		if (c == 0)
			return &s->docs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool site_is_skipped(const site *s, const char *rel)
{
	for (size_t i = 0; i < s->nskipped; i++)
		if (strcmp(s->skipped[i], rel) == 0)
			return true;
	return false;
}

bool site_is_failed(const site *s, const char *rel)
{
	for (size_t i = 0; i < s->nfailed; i++)
		if (strcmp(s->failed[i], rel) == 0)
			return true;
	return false;
}

bool site_has_asset(const site *s, const char *rel)
{
	/* Assets keep source_list's order (sorted by path) and all start
	 * with "content/", so a binary search on the rest finds them; the
	 * link checker asks once per image. */
	size_t cl = strlen(s->cfg.content_dir);
	size_t lo = 0, hi = s->nassets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = s->assets[mid].path;
		int c = strncmp(p, s->cfg.content_dir, cl);
		if (c == 0)
			c = p[cl] == '/' ? strcmp(p + cl + 1, rel) : (unsigned char)p[cl] - '/';
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

const site_section *site_section_of(const site *s, const document *d)
{
	for (size_t i = 0; i < s->nsections; i++)
		if (strcmp(s->sections[i].dir, d->dir) == 0)
			return &s->sections[i];
	return NULL;
}
