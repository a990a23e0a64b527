/* search: building the browser's full-text index (see search.h).
 *
 * Two passes. While documents come in, each is tokenised on its own: its
 * words (folded surface forms, not yet stemmed) are counted with field
 * weights into a per-document list, and its text is written out at once
 * as the document's snippet file, so no document's text is held longer
 * than it takes to add it. Stemming and compound splitting need the whole
 * vocabulary (a compound splits only into words the handbook uses), so
 * they run once per distinct word in search_write, which then turns the
 * per-document lists into postings, scores them with BM25, and writes the
 * shards. Distinct words are few (tens of thousands for 10,000 articles),
 * so Snowball runs on each once instead of on every occurrence. With a
 * build cache, what tokenising made of a document is kept, and a rebuild
 * reads it back instead of tokenising the document again (see "the build
 * cache" below).
 *
 * Scores are stored per (term, document) as one character, on a
 * geometric scale (each step IMPACT_RATIO larger than the one below) from
 * the largest score down: ranking needs relative precision, and one
 * character keeps the shards a query loads small. Terms found in more
 * than TIER documents keep exact scores only for their best TIER; the
 * rest share one average score and are stored as a bitmap or a list of
 * gaps, so a word in every article costs about one byte per six
 * documents, yet result counts and facets stay exact. */
#include "search.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libstemmer.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "jobs.h"
#include "json.h"
#include "stopwords.h"
#include "text.h"
#include "xalloc.h"

#define MAX_WORD_CPS 40      /* longer runs are codes or URLs, not words */
#define MIN_COMPOUND 8       /* bytes; shorter words are not split */
#define MIN_PART 3           /* bytes of a compound part ("ijs") */
#define PART_WEIGHT 0.7      /* a part counts a bit less than the word itself */
#define TIER 128             /* exact scores for the best TIER documents of a term */
#define IMPACT_LEVELS 63     /* score characters 1..63 */
#define IMPACT_RATIO 1.12    /* 63 steps cover three decades */
#define SHARD_BYTES 4000     /* target size of a term shard */
#define SNIPPET_MAX 16000    /* text bytes kept per document for snippets */
#define BM25_K1 1.2
#define BM25_B 0.75
#define QUANTIZE_BITS 13     /* sign, exponent, 4 bits of mantissa */
#define QUANTIZE_SLOW 0xff
#define SPARE_COUNT 8        /* search_memory's spares */

/* Field weights in half units: body and tip text count 1 (2 halves). */
static const uint32_t field_weight[] = {
	[SEARCH_TITLE] = 12,
	[SEARCH_HEADING] = 6,
	[SEARCH_SUMMARY] = 4,
	[SEARCH_TIP] = 3,
	[SEARCH_BODY] = 2,
};

static const char digits64[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

static const char *const kind_names[] = { "story", "tips", "page" };
#define NKINDS 3

/* ---- strings: a pool and a hash table of ids -------------------------- */

typedef struct pool {
	char **blocks;
	size_t nblocks;
	char *cur;
	size_t left;
} pool;

static const char *pool_strndup(pool *p, const char *s, size_t len)
{
	if (len + 1 > p->left) {
		size_t size = len + 1 > 65536 ? len + 1 : 65536;
		p->blocks = xrealloc(p->blocks, (p->nblocks + 1) * sizeof *p->blocks);
		p->cur = p->blocks[p->nblocks++] = xmalloc(size);
		p->left = size;
	}
	char *r = p->cur;
	memcpy(r, s, len);
	r[len] = '\0';
	p->cur += len + 1;
	p->left -= len + 1;
	return r;
}

static void pool_release(pool *p)
{
	for (size_t i = 0; i < p->nblocks; i++)
		free(p->blocks[i]);
	free(p->blocks);
	memset(p, 0, sizeof *p);
}

typedef struct strtab {
	uint64_t *slots;   /* hash << 32 | (id + 1); 0 is empty */
	size_t nslots;     /* a power of two */
	const char **str;
	uint32_t *len;
	size_t n, cap;
} strtab;

/* A string's hash: eight bytes at a time, since this runs for every word
 * of every document. Only lookups depend on it, never the order of ids. */
static inline uint32_t hash_bytes(const char *s, size_t len)
{
	const uint64_t k = 0x9fb21c651e98df25u;
	uint64_t h = 0x243f6a8885a308d3u ^ len, v = 0;
	for (; len > 8; s += 8, len -= 8) {
		memcpy(&v, s, 8);
		h = (h ^ v) * k;
		h ^= h >> 29;
	}
	/* The last 1 to 8 bytes in two loads that may overlap (the length,
	 * hashed in already, tells them apart), or three bytes of fewer
	 * than four. */
	if (len >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		v = (uint64_t)a << 32 | b;
	} else if (len) {
		const unsigned char *u = (const unsigned char *)s;
		v = (uint64_t)u[0] << 16 | (uint64_t)u[len / 2] << 8 | u[len - 1];
	} else {
		v = 0;
	}
	h = (h ^ v) * k;
	h ^= h >> 32;
	return (uint32_t)h;
}

/* The id of s (with hash h), or -1. The slot holds the hash, so most
 * other strings are passed over without reading them. */
static inline long strtab_lookup(const strtab *t, const char *s, size_t len, uint32_t h)
{
	if (!t->nslots)
		return -1;
	for (size_t i = h & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
		uint64_t slot = t->slots[i];
		if (!slot)
			return -1;
		uint32_t id = (uint32_t)slot - 1;
		if ((uint32_t)(slot >> 32) == h && t->len[id] == len &&
		    memcmp(t->str[id], s, len) == 0)
			return id;
	}
}

/* The id of s, or -1. */
static long strtab_find(const strtab *t, const char *s, size_t len)
{
	return strtab_lookup(t, s, len, hash_bytes(s, len));
}

static void slot_insert(uint64_t *slots, size_t nslots, uint64_t slot)
{
	size_t i = (uint32_t)(slot >> 32) & (nslots - 1);
	while (slots[i])
		i = (i + 1) & (nslots - 1);
	slots[i] = slot;
}

/* Moves the slots of the ids below keep into nslots fresh ones. */
static void strtab_reindex(strtab *t, size_t nslots, size_t keep)
{
	uint64_t *old = t->slots;
	size_t nold = t->nslots;
	t->slots = xcalloc(nslots, sizeof *t->slots);
	t->nslots = nslots;
	for (size_t i = 0; i < nold; i++)
		if (old[i] && (uint32_t)old[i] - 1 < keep)
			slot_insert(t->slots, nslots, old[i]);
	free(old);
}

/* Forgets the strings added after the first n (their bytes stay in the
 * pool until it is released). */
static void strtab_truncate(strtab *t, size_t n)
{
	if (n >= t->n)
		return;
	t->n = n;
	strtab_reindex(t, t->nslots, n);
}

/* The id of s (with hash h), added (copied into p) when new; *added
 * tells which. */
static uint32_t strtab_add_hashed(strtab *t, pool *p, const char *s, size_t len, uint32_t h,
				  bool *added)
{
	long found = strtab_lookup(t, s, len, h);
	if (added)
		*added = found < 0;
	if (found >= 0)
		return (uint32_t)found;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->str = xrealloc(t->str, t->cap * sizeof *t->str);
		t->len = xrealloc(t->len, t->cap * sizeof *t->len);
	}
	uint32_t id = (uint32_t)t->n++;
	t->str[id] = pool_strndup(p, s, len);
	t->len[id] = (uint32_t)len;
	if (t->n * 2 > t->nslots)
		strtab_reindex(t, t->nslots ? t->nslots * 2 : 1024, t->n);
	slot_insert(t->slots, t->nslots, (uint64_t)h << 32 | (id + 1));
	return id;
}

static uint32_t strtab_add(strtab *t, pool *p, const char *s, size_t len, bool *added)
{
	return strtab_add_hashed(t, p, s, len, hash_bytes(s, len), added);
}

static void strtab_release(strtab *t)
{
	free(t->slots);
	free(t->str);
	free(t->len);
	memset(t, 0, sizeof *t);
}

/* ---- the index -------------------------------------------------------- */

typedef struct sdoc {
	char *url, *title, *date; /* owned unless borrowed */
	bool borrowed;       /* they are the document's (search_render_index's) */
	int kind;            /* index into kind_names; NKINDS for others */
	uint32_t *themes;    /* theme indexes, ascending */
	size_t nthemes;
	size_t words, nwords;/* range in dw_word/dw_tf */
	uint32_t len;        /* index words */
} sdoc;

typedef struct vec32 {
	uint32_t *v;
	size_t n, cap;
} vec32;

static void sdoc_release(sdoc *d)
{
	if (!d->borrowed) {
		free(d->url);
		free(d->title);
		free(d->date);
	}
	free(d->themes);
}

static void vec_reserve(vec32 *a, size_t more)
{
	if (a->cap - a->n >= more)
		return;
	while (a->cap - a->n < more)
		a->cap = a->cap ? a->cap * 2 : 256;
	a->v = xrealloc(a->v, a->cap * sizeof *a->v);
}

/* A big array of the last build but one, kept for the next to write
 * into (see struct search_memory): its pages are mapped already. */
typedef struct spare {
	void *p;
	size_t bytes;
} spare;

/* Room for bytes: the spare's when it has that much, else new (with a
 * memory, a sixteenth more, as the next build's arrays are a little
 * longer after an edit that added a sentence). *got: the room there is. */
static void *spare_take(spare *sp, size_t bytes, size_t *got)
{
	void *p = sp && sp->p && sp->bytes >= bytes ? sp->p : NULL;
	*got = p ? sp->bytes : sp ? bytes + bytes / 16 + 64 : bytes ? bytes : 1;
	if (sp && !p)
		free(sp->p);
	if (sp)
		*sp = (spare){ NULL, 0 };
	return p ? p : xmalloc(*got);
}

/* Keeps p (bytes long, may be NULL) as the spare, in place of the one
 * there; without a spare (sp NULL) frees it. */
static void spare_give(spare *sp, void *p, size_t bytes)
{
	if (!sp) {
		free(p);
		return;
	}
	free(sp->p);
	*sp = (spare){ p, p ? bytes : 0 };
}

/* An empty vector with room for n, from the spare when it has that. */
static void vec_take(vec32 *a, spare *sp, size_t n)
{
	free(a->v);
	size_t got;
	a->v = spare_take(sp, (n ? n : 1) * sizeof *a->v, &got);
	a->cap = got / sizeof *a->v;
	a->n = 0;
}

static void vec_append(vec32 *a, const vec32 *from)
{
	vec_reserve(a, from->n);
	if (from->n)
		memcpy(a->v + a->n, from->v, from->n * sizeof *a->v);
	a->n += from->n;
}

static void vec_push(vec32 *a, uint32_t x)
{
	if (a->n == a->cap)
		vec_reserve(a, 1);
	a->v[a->n++] = x;
}

/* What search_write makes over the dictionary and the documents, in one
 * place because a memory takes it whole for the next build (see "the
 * last index" there). Arrays by term are indexed by term id, by posting
 * by post_off[t] .. post_off[t] + post_n[t]. */
typedef struct index_made {
	uint32_t *word_term;  /* term of each word */
	uint32_t *word_split; /* offset into parts, or UINT32_MAX */
	vec32 parts;          /* per split word: count, then word ids */
	bool *term_surface;   /* per term: whether it is a word too */
	uint32_t *order;      /* index order -> order added */
	uint32_t *post_off, *post_n; /* per term: range in pdoc/pq */
	uint32_t *pdoc;       /* document numbers in index order */
	float *ptf;           /* with a memory: each posting's weighted count, as
				 * a float: every score is made from it so rounded
				 * (posting_run), in half a double's bytes for each
				 * of a million postings */
	size_t post_cap;      /* entries pdoc and ptf have room for */
	uint8_t *pq_raw;      /* and its level before encode_postings' tiers */
	uint8_t *pq;          /* impact levels as the browser sees them */
	size_t pq_cap, pq_raw_cap; /* their room */
	double max_impact;
	/* 1 + a term with a posting that scores max_impact (0: none known),
	 * and the average length the scores were made with (grid_avgdl):
	 * with both, a later build that changed only some terms knows the
	 * others' scores and levels to be these (score_touched). */
	uint32_t max_holder;
	double avgdl;
	buf enc;              /* with a memory: every term's encoded postings, */
	size_t *enc_at, *enc_len; /* term t's at enc_at[t] */
	uint64_t *dfp;        /* with a memory: what each d/N.js hashed to */
} index_made;

static void made_release(index_made *d)
{
	free(d->word_term);
	free(d->word_split);
	free(d->parts.v);
	free(d->term_surface);
	free(d->order);
	free(d->post_off);
	free(d->post_n);
	free(d->pdoc);
	free(d->ptf);
	free(d->pq_raw);
	free(d->pq);
	buf_release(&d->enc);
	free(d->enc_at);
	free(d->enc_len);
	free(d->dfp);
	memset(d, 0, sizeof *d);
	buf_init(&d->enc);
}

/* The words the build cache's records name by number (see "the build
 * cache"): a list the cache keeps, added to and never reordered, so
 * that a number means one word for as long as the list lasts. A record
 * names the list it counts in by its generation. */
typedef struct vocab {
	bool ready;           /* looked for in the cache (vocab_ready) */
	uint64_t gen;         /* its generation, never 0 once ready */
	const char **str;     /* word v: its bytes (the cache's or strings') */
	uint32_t *len, *hash; /* and its length and hash_bytes */
	size_t n, cap;
	size_t had;           /* words the cache held: records read name these */
	size_t saved;         /* words the cache holds or is given */
	pool strings;         /* words added by this build */
} vocab;

/* Adds documents: one per thread, each with its own dictionary of words
 * (merged into the index's afterwards, in document order, so word ids
 * do not depend on the number of threads) and its own scratch space. */
typedef struct worker {
	search_index *ix;
	pool strings;
	strtab words;        /* folded words of this worker's documents */
	uint32_t *freq;      /* occurrences per local word, documents finished */
	uint32_t *acc;       /* weighted count in the current document */
	uint32_t *cnt;       /* occurrences in the current document */
	bool *stop;          /* whether a local word is a stop word */
	size_t cap;
	vec32 touched;       /* the current document's words, first seen first */
	vec32 dw_word, dw_tf;/* per document: local word ids, weighted counts */
	vec32 dw_cnt;        /* and counts, when the index has a memory */
	uint64_t total_len;
	size_t doc;          /* index in ix->docs of the document being added */
	bool open;
	buf anchor, snippet, prev, js;
	buf fold[2];         /* tokenize's, taking turns (see there) */
	size_t snippet_text;
	bool section_open;
	buf input, key;      /* the build cache's (see there) */
	uint32_t *vmap;      /* vocabulary id -> local id, UINT32_MAX: not met */
	size_t vmap_n;
	uint32_t *lvocab;    /* local id -> vocabulary id, UINT32_MAX: none known */
	vec32 vnew;          /* vocabulary ids the record being read mapped */
	vec32 pend_doc;      /* documents tokenised, whose records are written */
	buf pend_keys;       /* once the index knows their words: their keys */
	vec32 pend_cnt;      /* and their words' counts, in order */
	size_t texts_kept;
	markdown_drops drops; /* documents read, their cache pages to let go:
			       * flushed before the documents' mapping goes */
} worker;

struct search_index {
	char *language;
	buf key_head, key_tail; /* what every document's key starts and ends
				 * with (put_key), made once */
	/* The site's documents' keys, made once for all that need them
	 * (site_keys): document i's at site_key_at[i] in site_keys. */
	const document *keys_of;
	size_t nsite_keys;
	buf site_keys;
	size_t *site_key_at;
	struct sb_stemmer *stemmer;   /* NULL: no stemming */
	pool strings;

	strtab words;        /* folded surface words, stop words left out */
	uint32_t *word_freq; /* occurrences in the whole corpus */
	size_t word_cap;

	strtab themes;
	char **theme_titles;
	const char *kind_labels[NKINDS];
	char **ui_keys, **ui_texts;
	size_t nui;

	sdoc *docs;
	size_t ndocs, docs_cap;
	vec32 dw_word, dw_tf;  /* per document: its words and weighted counts */
	vec32 dw_cnt;          /* and counts, for a memory or a memory file */
	uint64_t total_len;

	search_memory *memory; /* search_set_memory, or NULL */
	/* search_set_memory_file: with no memory, where the memory this
	 * index would leave goes, and its file while it is written */
	char *stream_path;
	uint64_t stream_stamp;
	struct memory_writer *stream;
	bool borrow_docs;      /* the documents outlive the index (search_render_index):
				* their strings are not copied */
	strtab keys;           /* with a memory or a memory file: each
				* document's key (put_key), */
	pool key_strings;      /* by document number */
	bool remember;         /* search_free hands the words to the memory, or
				* search_write writes them to the memory file */
	/* With a memory (see "the last index" there): whether the documents
	 * are the memory's, at the same numbers, but for changed (ascending
	 * numbers), with the same dictionary; search_write then takes the
	 * postings of the others from it. */
	bool after;
	vec32 changed;
	uint32_t *from_memory; /* the memory's word ids to this index's, for
				* the words of held documents (else UINT32_MAX) */
	/* With a memory read from a file (a one-shot build): where each held
	 * document's words are in the memory's arrays (SIZE_MAX for the
	 * others, whose words are in dw_*). They are copied into dw_* only
	 * when something needs them there (words_materialize). */
	size_t *held_at;
	uint32_t *term_was;    /* per term: the memory's term, or UINT32_MAX */
	bool *term_same;       /* per term: postings and levels as the memory's */
	bool order_same;       /* build_postings_after: order is the memory's */
	bool scored_touched;   /* and it scored only the touched terms */
	size_t terms_scored;   /* search_terms_scored */
	size_t postings_scored, postings_touched; /* search_postings_scored */
	size_t merge_ranges;   /* and the ranges of terms it merged (tests) */
	vec32 fm;              /* with a memory: each document's themes as */
	size_t *fm_at;         /* written (first occurrences), from fm_at[i] */
	size_t held;           /* documents whose words came from the memory */

	cache_file *cache;   /* records of documents (search_set_cache), or NULL */
	vocab voc;           /* the words the records name (see "the build cache") */
	uint32_t *word_vocab;/* per word: its vocabulary id, UINT32_MAX: none known */
	uint64_t carry_gen;  /* with a memory, the vocabulary not read: the
			      * generation the memory's numbers are of */
	vec32 pend_doc;      /* documents whose records flush_records writes */
	buf pend_keys;       /* and their keys, as blobs */
	vec32 pend_cnt;      /* and their words' counts, in order */
	int jobs;            /* threads for search_add_documents and search_write */
	uint64_t text_stamp; /* what besides path and id decides the text */
	search_keeper keeper;/* text files kept by fingerprint, if has_keeper */
	bool has_keeper;
	size_t texts_kept;   /* how many, once search_write is done */
	/* The held documents whose text files are still to be looked for
	 * in the output (texts_settle): add_remembered takes what they were
	 * from the memory without the output, so that an index made beside
	 * the output's reading waits for it only to write its files. */
	long *unsettled;     /* held as add_remembered had it, or NULL */
	const document *unsettled_docs;
	size_t unsettled_n;
	worker serial;       /* for search_doc_begin and friends */
	size_t serial_from;  /* its first document not merged yet */
	buf scratch;         /* for search_terms and search_query */

	/* built by search_write */
	bool written;
	size_t nshards;      /* term shards it wrote (zoeken/w/N.js) */
	strtab terms;
	index_made made;     /* its arrays: the memory takes them (with one) */
	double level[IMPACT_LEVELS + 1], bound[IMPACT_LEVELS + 1];
	/* The same for a top score of 1: the tiers' mean level is worked
	 * out on this scale, so that it depends on the levels alone. */
	double unit_level[IMPACT_LEVELS + 1], unit_bound[IMPACT_LEVELS + 1];
	/* quantize_float's table: the level of each run of floats that share
	 * their top QUANTIZE_BITS bits, QUANTIZE_SLOW where that is not
	 * enough to tell */
	uint8_t qtable[1u << QUANTIZE_BITS];
};

static void worker_init(worker *w, search_index *ix)
{
	memset(w, 0, sizeof *w);
	w->ix = ix;
	buf_init(&w->anchor);
	buf_init(&w->snippet);
	buf_init(&w->fold[0]);
	buf_init(&w->fold[1]);
	buf_init(&w->prev);
	buf_init(&w->js);
	buf_init(&w->input);
	buf_init(&w->key);
	buf_init(&w->pend_keys);
}

static void worker_release(worker *w)
{
	pool_release(&w->strings);
	strtab_release(&w->words);
	free(w->freq);
	free(w->acc);
	free(w->cnt);
	free(w->stop);
	free(w->touched.v);
	free(w->dw_word.v);
	free(w->dw_tf.v);
	free(w->dw_cnt.v);
	buf_release(&w->anchor);
	buf_release(&w->snippet);
	buf_release(&w->fold[0]);
	buf_release(&w->fold[1]);
	buf_release(&w->prev);
	buf_release(&w->js);
	buf_release(&w->input);
	buf_release(&w->key);
	free(w->vmap);
	free(w->lvocab);
	free(w->vnew.v);
	free(w->pend_doc.v);
	buf_release(&w->pend_keys);
	free(w->pend_cnt.v);
	worker_init(w, w->ix);
}

static void key_ends(search_index *ix);

int search_new(search_index **out, const char *language, gen_err *err)
{
	static const struct { const char *iso, *snowball; } names[] = {
		{ "nl", "dutch" }, { "en", "english" }, { "de", "german" },
		{ "fr", "french" }, { "es", "spanish" }, { "it", "italian" },
		{ "pt", "portuguese" }, { "sv", "swedish" }, { "da", "danish" },
		{ "no", "norwegian" }, { "fi", "finnish" },
	};
	*out = NULL;
	search_index *ix = xcalloc(1, sizeof *ix);
	ix->language = xstrdup(language ? language : "");
	buf_init(&ix->key_head);
	buf_init(&ix->key_tail);
	buf_init(&ix->site_keys);
	buf_init(&ix->pend_keys);
	key_ends(ix);
	worker_init(&ix->serial, ix);
	buf_init(&ix->scratch);
	buf_init(&ix->made.enc);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (strcmp(ix->language, names[i].iso) != 0)
			continue;
		ix->stemmer = sb_stemmer_new(names[i].snowball, "UTF_8");
		if (!ix->stemmer) {
			search_free(ix);
			return err_set(err, GEN_EUSAGE, "site.toml", 0, 0,
				       "no Snowball stemmer for language '%s'", language);
		}
	}
	for (size_t i = 0; i < NKINDS; i++)
		ix->kind_labels[i] = kind_names[i];
	*out = ix;
	return 0;
}

static void memory_take(search_index *ix);
static bool memory_worth(search_index *ix);
static void words_materialize(search_index *ix);
static void memory_write_abort(struct memory_writer *mw);

void search_free(search_index *ix)
{
	if (!ix)
		return;
	if (ix->remember && ix->memory && memory_worth(ix))
		memory_take(ix);
	memory_write_abort(ix->stream);
	free(ix->stream_path);
	free(ix->unsettled);
	if (ix->stemmer)
		sb_stemmer_delete(ix->stemmer);
	free(ix->language);
	buf_release(&ix->key_head);
	buf_release(&ix->key_tail);
	pool_release(&ix->strings);
	strtab_release(&ix->words);
	free(ix->word_freq);
	made_release(&ix->made);
	for (size_t i = 0; i < ix->themes.n; i++)
		free(ix->theme_titles[i]);
	free(ix->theme_titles);
	strtab_release(&ix->themes);
	for (size_t i = 0; i < ix->nui; i++) {
		free(ix->ui_keys[i]);
		free(ix->ui_texts[i]);
	}
	free(ix->ui_keys);
	free(ix->ui_texts);
	for (size_t i = 0; ix->docs && i < ix->ndocs; i++)
		sdoc_release(&ix->docs[i]);
	free(ix->docs);
	free(ix->fm.v);
	free(ix->fm_at);
	free(ix->dw_word.v);
	free(ix->dw_tf.v);
	free(ix->dw_cnt.v);
	strtab_release(&ix->keys);
	pool_release(&ix->key_strings);
	buf_release(&ix->site_keys);
	free(ix->site_key_at);
	free(ix->voc.str);
	free(ix->voc.len);
	free(ix->voc.hash);
	pool_release(&ix->voc.strings);
	free(ix->word_vocab);
	free(ix->pend_doc.v);
	buf_release(&ix->pend_keys);
	free(ix->pend_cnt.v);
	worker_release(&ix->serial);
	buf_release(&ix->scratch);
	strtab_release(&ix->terms);
	free(ix->changed.v);
	free(ix->from_memory);
	free(ix->held_at);
	free(ix->term_was);
	free(ix->term_same);
	free(ix);
}

static uint32_t theme_index(search_index *ix, const char *id)
{
	bool added;
	uint32_t t = strtab_add(&ix->themes, &ix->strings, id, strlen(id), &added);
	if (added) {
		ix->theme_titles = xrealloc(ix->theme_titles,
					    ix->themes.n * sizeof *ix->theme_titles);
		ix->theme_titles[t] = xstrdup(id);
	}
	return t;
}

void search_set_theme(search_index *ix, const char *id, const char *title)
{
	uint32_t t = theme_index(ix, id);
	free(ix->theme_titles[t]);
	ix->theme_titles[t] = xstrdup(title && *title ? title : id);
}

void search_set_kind(search_index *ix, const char *kind, const char *label)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strcmp(kind, kind_names[i]) == 0)
			ix->kind_labels[i] = pool_strndup(&ix->strings, label, strlen(label));
}

void search_set_string(search_index *ix, const char *key, const char *text)
{
	for (size_t i = 0; i < ix->nui; i++)
		if (strcmp(ix->ui_keys[i], key) == 0) {
			free(ix->ui_texts[i]);
			ix->ui_texts[i] = xstrdup(text);
			return;
		}
	ix->ui_keys = xrealloc(ix->ui_keys, (ix->nui + 1) * sizeof *ix->ui_keys);
	ix->ui_texts = xrealloc(ix->ui_texts, (ix->nui + 1) * sizeof *ix->ui_texts);
	ix->ui_keys[ix->nui] = xstrdup(key);
	ix->ui_texts[ix->nui++] = xstrdup(text);
}

/* ---- tokenising --------------------------------------------------------
 *
 * The browser splits queries with the same rules (search.js, wordChar and
 * fold), so these two must change together. A word is a run of letters
 * and digits; without a Unicode database here, "letter" is everything
 * outside ASCII except the blocks of punctuation, symbols and the like.
 * Default-ignorable characters (soft hyphen, zero-width joiner) stay
 * inside a word, and folding removes them. */

static size_t decode_cp(const unsigned char *s, size_t len, int32_t *cp)
{
	unsigned char c = s[0];
	size_t n = c < 0x80 ? 1 : c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
	if (n == 0 || n > len || (c >= 0xF5)) {
		*cp = -1;
		return 1;
	}
	int32_t v = n == 1 ? c : c & (0x3F >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = -1;
			return i;
		}
		v = (v << 6) | (s[i] & 0x3F);
	}
	*cp = v;
	return n;
}

static bool ascii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool word_cp(int32_t cp)
{
	if (cp < 0x80)
		return cp >= 0 && ascii_alnum((unsigned char)cp);
	if (cp == 0xAD || cp == 0x34F || (cp >= 0x200B && cp <= 0x200F) ||
	    (cp >= 0x2060 && cp <= 0x206F) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
	    cp == 0xFEFF)
		return true;
	if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7)
		return false;
	return !((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
		 (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xE000 && cp <= 0xF8FF) ||
		 (cp >= 0xFE30 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
		 (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
		 (cp >= 0xFF5B && cp <= 0xFF65) || (cp >= 0xFFF0 && cp <= 0xFFFF) ||
		 (cp >= 0x1F000 && cp <= 0x1FAFF));
}

static size_t count_cps(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/* The length in UTF-16 code units, JavaScript's string length. */
static size_t count_utf16(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		n += (c & 0xC0) != 0x80;
		n += c >= 0xF0;
	}
	return n;
}

/* Whether any byte of v is below n (n <= 0x80): exact as a whole, if not
 * per byte, which is all the caller asks. */
static bool any_below(uint64_t v, unsigned n)
{
	const uint64_t ones = 0x0101010101010101u;
	return ((v - ones * n) & ~v & ones * 0x80) != 0;
}

static bool any_equal(uint64_t v, unsigned char c)
{
	return any_below(v ^ (0x0101010101010101u * c), 1);
}

typedef void (*word_fn)(worker *w, const char *word, size_t len, void *ctx);

/* What a byte is to next_run: 0 an ASCII character between words, 1 an
 * ASCII letter or digit, 2 part of a character beyond ASCII (decoded to
 * tell). A table, since next_run looks at every byte of every text. */
static const unsigned char byte_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* ' ' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* '0' */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* '@' 'A' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* 'P' */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* '`' 'a' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* 'p' */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Finds the next run of word characters in s[*pos..len); returns false
 * at the end. *ascii tells whether the run is plain ASCII, which most
 * of a Dutch text is and which needs no Unicode folding. */
static bool next_run(const char *s, size_t len, size_t *pos, size_t *start, size_t *end,
		     bool *ascii)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = *pos;
	int32_t cp;
	for (;;) {
		while (i < len && byte_class[u[i]] == 0)
			i++;
		if (i >= len || byte_class[u[i]] == 1)
			break;
		size_t n = decode_cp(u + i, len - i, &cp);
		if (word_cp(cp))
			break;
		i += n;
	}
	if (i >= len) {
		*pos = len;
		return false;
	}
	*start = i;
	*ascii = true;
	for (;;) {
		while (i < len && byte_class[u[i]] == 1)
			i++;
		if (i >= len || byte_class[u[i]] == 0)
			break;
		size_t n = decode_cp(u + i, len - i, &cp);
		if (!word_cp(cp))
			break;
		*ascii = false;
		i += n;
	}
	*end = *pos = i;
	return true;
}

/* Calls fn for each word of text: folded, 2 to MAX_WORD_CPS code points
 * (stop words included: callers drop them). Two words joined by one
 * hyphen are also given as one ("e-mail" -> "email", "klant-centraal" ->
 * "klantcentraal"), so either spelling finds the other; queries (join
 * false) need not, since the parts find the joined word. */
static void tokenize(worker *w, const char *text, size_t len, bool join, word_fn fn,
		     void *ctx)
{
	size_t pos = 0, start, end, prev_end = 0;
	bool ascii;
	/* The word of the run before, when that was one word: it stays where
	 * it was folded, since runs fold into the two buffers by turns. */
	const char *prev = NULL;
	size_t prev_len = 0;
	int turn = 0;
	while (next_run(text, len, &pos, &start, &end, &ascii)) {
		buf *f = &w->fold[turn];
		turn ^= 1;
		size_t s0 = 0, e0 = 0, nsub = 0;
		buf_clear(f);
		if (ascii) {
			/* Lowercasing is all folding does to ASCII letters,
			 * and setting bit 0x20 does it (digits have it). */
			size_t n = end - start;
			buf_grow(f, n);
			char *to = f->ptr;
			const char *from = text + start;
			for (size_t i = 0; i < n; i++)
				to[i] = (char)(from[i] | 0x20);
			f->len = n;
			f->ptr[f->len] = '\0';
			nsub = 1;
			e0 = f->len;
			if (f->len >= 2 && f->len <= MAX_WORD_CPS)
				fn(w, f->ptr, f->len, ctx);
		} else {
			text_fold(f, text + start, end - start);
			/* Folding can turn a character into punctuation ("½"
			 * into "1⁄2"): split the folded run again. */
			size_t fpos = 0, fs, fe;
			bool fa;
			while (next_run(f->ptr, f->len, &fpos, &fs, &fe, &fa)) {
				if (nsub++ == 0) {
					s0 = fs;
					e0 = fe;
				}
				size_t cps = count_cps(f->ptr + fs, fe - fs);
				if (cps >= 2 && cps <= MAX_WORD_CPS)
					fn(w, f->ptr + fs, fe - fs, ctx);
			}
		}
		bool single = nsub == 1;
		if (join && single && prev && start == prev_end + 1 && text[prev_end] == '-') {
			buf_clear(&w->prev);
			buf_put(&w->prev, prev, prev_len);
			buf_put(&w->prev, f->ptr + s0, e0 - s0);
			size_t cps = count_cps(w->prev.ptr, w->prev.len);
			if (cps >= 2 && cps <= MAX_WORD_CPS)
				fn(w, w->prev.ptr, w->prev.len, ctx);
		}
		prev = single ? f->ptr + s0 : NULL;
		prev_len = e0 - s0;
		prev_end = end;
	}
}

/* Stems w with the index's stemmer into out (replacing its contents). */
static void stem_word(search_index *ix, const char *w, size_t len, buf *out)
{
	buf_clear(out);
	if (!ix->stemmer) {
		buf_put(out, w, len);
		return;
	}
	const sb_symbol *s = sb_stemmer_stem(ix->stemmer, (const sb_symbol *)w, (int)len);
	if (!s) /* out of memory inside Snowball */
		buf_put(out, w, len);
	else
		buf_put(out, s, (size_t)sb_stemmer_length(ix->stemmer));
}

static void add_term_text(worker *w, const char *word, size_t len, void *ctx)
{
	buf *out = ctx;
	if (stopwords_contains(w->ix->language, word, len))
		return;
	stem_word(w->ix, word, len, &w->ix->scratch);
	if (out->len)
		buf_putc(out, ' ');
	buf_put(out, w->ix->scratch.ptr, w->ix->scratch.len);
}

void search_terms(search_index *ix, const char *text, size_t len, buf *out)
{
	tokenize(&ix->serial, text, len, true, add_term_text, out);
}

/* ---- writing JavaScript data ------------------------------------------- */

/* Appends s as a JSON string, escaped once more for the JavaScript '...'
 * literal the JSON sits in: what JSON.parse gets back is s. Invalid UTF-8
 * becomes U+FFFD; U+2028 and U+2029 are escaped for older parsers. */
static void put_str(buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0, i = 0;
	buf_grow(out, len + 2);
	buf_putc(out, '"');
	while (i < len) {
		/* Most text is plain ASCII: eight such bytes are passed over at
		 * once. */
		if (len - i >= 8) {
			uint64_t v;
			memcpy(&v, u + i, 8);
			if (!(v & 0x8080808080808080u) && !any_below(v, 0x20) &&
			    !any_equal(v, '"') && !any_equal(v, '\\') && !any_equal(v, '\'')) {
				i += 8;
				continue;
			}
		}
		unsigned char c = u[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '\'') {
			i++;
			continue;
		}
		int32_t cp = c;
		size_t n = 1;
		if (c >= 0x80) {
			n = decode_cp(u + i, len - i, &cp);
			if (cp >= 0 && cp != 0x2028 && cp != 0x2029) {
				i += n;
				continue;
			}
		}
		buf_put(out, s + run, i - run);
		switch (c) {
		case '"': buf_puts(out, "\\\\\""); break;
		case '\\': buf_puts(out, "\\\\\\\\"); break;
		case '\'': buf_puts(out, "\\'"); break;
		case '\n': buf_puts(out, "\\\\n"); break;
		case '\t': buf_puts(out, "\\\\t"); break;
		case '\r': buf_puts(out, "\\\\r"); break;
		default:
			if (cp < 0)
				buf_puts(out, "\xef\xbf\xbd");
			else
				buf_printf(out, "\\\\u%04x", (unsigned)cp);
		}
		i += n;
		run = i;
	}
	buf_put(out, s + run, len - run);
	buf_putc(out, '"');
}

/* The text file of the document numbered at: "zoeken/t/<at>.js" in rel,
 * without printf: a rebuild names ten thousand. */
static void text_file_name(char rel[64], size_t at)
{
	static const char head[] = "zoeken/t/";
	memcpy(rel, head, sizeof head - 1);
	size_t k = sizeof head - 1;
	k += buf_uint_digits(rel + k, at);
	memcpy(rel + k, ".js", 4);
}

/* Writes a data file: genSearch.FN(ID,JSON.parse('BODY')), where body
 * was written with put_str for its strings. */
static int emit_js(search_emit_fn emit, void *ctx, buf *js, const char *rel,
		   const char *fn, long id, const buf *body, gen_err *err)
{
	if (!emit)
		return 0;
	buf_clear(js);
	if (id >= 0)
		buf_printf(js, "genSearch.%s(%ld,JSON.parse('", fn, id);
	else
		buf_printf(js, "genSearch.%s(JSON.parse('", fn);
	buf_put(js, body->ptr, body->len);
	buf_puts(js, "'));\n");
	return emit(ctx, rel, js->ptr, js->len, err);
}

/* ---- adding documents ------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Fills the slot of a document (themes must be registered already when
 * workers run in parallel: theme ids are only looked up then). */
static void doc_fill(search_index *ix, size_t at, const search_doc *doc, bool lookup_only)
{
	sdoc *d = &ix->docs[at];
	memset(d, 0, sizeof *d);
	/* A memory keeps what is made here past the documents. */
	d->borrowed = ix->borrow_docs && !ix->memory && doc->url && doc->title;
	if (d->borrowed) {
		d->url = (char *)doc->url;
		d->title = (char *)doc->title;
		d->date = (char *)doc->date;
	} else {
		d->url = xstrdup(doc->url ? doc->url : "");
		d->title = xstrdup(doc->title ? doc->title : "");
		d->date = dup_or_null(doc->date);
	}
	d->kind = NKINDS;
	for (int i = 0; i < NKINDS; i++)
		if (doc->kind && strcmp(doc->kind, kind_names[i]) == 0)
			d->kind = i;
	d->themes = xcalloc(doc->nthemes + 1, sizeof *d->themes);
	for (size_t i = 0; i < doc->nthemes; i++) {
		long t = lookup_only ? strtab_find(&ix->themes, doc->themes[i], strlen(doc->themes[i]))
				     : (long)theme_index(ix, doc->themes[i]);
		bool seen = t < 0;
		for (size_t j = 0; j < d->nthemes; j++)
			seen = seen || d->themes[j] == (uint32_t)t;
		if (!seen)
			d->themes[d->nthemes++] = (uint32_t)t;
	}
	qsort(d->themes, d->nthemes, sizeof *d->themes, compare_u32);
}

static void doc_begin(worker *w, size_t at, const search_doc *doc, bool lookup_only)
{
	doc_fill(w->ix, at, doc, lookup_only);
	w->ix->docs[at].words = w->dw_word.n;
	w->doc = at;
	w->open = true;
	w->section_open = false;
	w->snippet_text = 0;
	buf_clear(&w->snippet);
	buf_putc(&w->snippet, '[');
}

void search_doc_begin(search_index *ix, const search_doc *doc)
{
	if (ix->ndocs == ix->docs_cap) {
		ix->docs_cap = ix->docs_cap ? ix->docs_cap * 2 : 64;
		ix->docs = xrealloc(ix->docs, ix->docs_cap * sizeof *ix->docs);
	}
	doc_begin(&ix->serial, ix->ndocs++, doc, false);
}

typedef struct count_ctx {
	uint32_t weight;
} count_ctx;

/* The worker's id of a folded word with hash h, added when new. */
static uint32_t worker_word_hashed(worker *w, const char *word, size_t len, uint32_t h)
{
	bool added;
	uint32_t id = strtab_add_hashed(&w->words, &w->strings, word, len, h, &added);
	if (w->words.n > w->cap) {
		size_t cap = w->words.cap;
		w->freq = xrealloc(w->freq, cap * sizeof *w->freq);
		w->acc = xrealloc(w->acc, cap * sizeof *w->acc);
		w->cnt = xrealloc(w->cnt, cap * sizeof *w->cnt);
		w->stop = xrealloc(w->stop, cap * sizeof *w->stop);
		w->lvocab = xrealloc(w->lvocab, cap * sizeof *w->lvocab);
		memset(w->lvocab + w->cap, 0xff, (cap - w->cap) * sizeof *w->lvocab);
		memset(w->freq + w->cap, 0, (cap - w->cap) * sizeof *w->freq);
		memset(w->acc + w->cap, 0, (cap - w->cap) * sizeof *w->acc);
		memset(w->cnt + w->cap, 0, (cap - w->cap) * sizeof *w->cnt);
		w->cap = cap;
	}
	/* Each distinct word is looked up in the stop list once. */
	if (added)
		w->stop[id] = stopwords_contains(w->ix->language, word, len);
	return id;
}

static uint32_t worker_word(worker *w, const char *word, size_t len)
{
	return worker_word_hashed(w, word, len, hash_bytes(word, len));
}

static void count_word(worker *w, const char *word, size_t len, void *ctx)
{
	const count_ctx *c = ctx;
	uint32_t id = worker_word(w, word, len);
	if (w->stop[id])
		return;
	if (!w->acc[id])
		vec_push(&w->touched, id);
	w->acc[id] += c->weight;
	w->cnt[id]++;
}

/* Closes the section being collected for the snippet file. */
static void end_section(worker *w)
{
	if (!w->section_open)
		return;
	buf_puts(&w->snippet, "],");
	w->section_open = false;
}

static void start_section(worker *w, const char *anchor, const char *heading, size_t hlen)
{
	end_section(w);
	buf_clear(&w->anchor);
	buf_puts(&w->anchor, anchor);
	buf_putc(&w->snippet, '[');
	put_str(&w->snippet, anchor, strlen(anchor));
	buf_putc(&w->snippet, ',');
	put_str(&w->snippet, heading, hlen);
	w->section_open = true;
}

/* Cuts len so that s[0..len) ends on a whole UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len)
{
	while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	return len;
}

/* Adds a piece of text to the document: its words (unless words is
 * false: they came from the build cache) and its snippet. */
static void add_text(worker *w, search_field field, const char *text, size_t len,
		     const char *anchor, bool words)
{
	if (!w->open)
		return;
	if (!anchor)
		anchor = "";
	count_ctx c = { field_weight[field] };
	if (words)
		tokenize(w, text, len, true, count_word, &c);
	if (field == SEARCH_TITLE)
		return; /* the result shows the title already */
	if (field == SEARCH_HEADING) {
		start_section(w, anchor, text, len);
		return;
	}
	if (!w->section_open || strcmp(w->anchor.ptr, anchor) != 0)
		start_section(w, anchor, "", 0);
	/* Snippets need text around the matches, not the whole of a very
	 * long article: the first SNIPPET_MAX bytes are kept. */
	if (w->snippet_text >= SNIPPET_MAX)
		return;
	if (len > SNIPPET_MAX - w->snippet_text)
		len = utf8_cut(text, SNIPPET_MAX - w->snippet_text);
	w->snippet_text += len;
	buf_putc(&w->snippet, ',');
	put_str(&w->snippet, text, len);
}

static void doc_text(worker *w, search_field field, const char *text, size_t len,
		     const char *anchor)
{
	add_text(w, field, text, len, anchor, true);
}

void search_doc_text(search_index *ix, search_field field, const char *text,
		     size_t len, const char *anchor)
{
	doc_text(&ix->serial, field, text, len, anchor);
}

/* Ends the document being added: its words (touched, with their counts
 * in acc and cnt) become its word list, and its text file is written. */
static int doc_end(worker *w, search_emit_fn emit, void *ctx, gen_err *err)
{
	if (!w->open)
		return 0;
	w->open = false;
	sdoc *d = &w->ix->docs[w->doc];
	/* A document tokenised for a record keeps its counts for it. */
	bool pending = w->pend_doc.n && w->pend_doc.v[w->pend_doc.n - 1] == w->doc;
	vec_reserve(&w->dw_word, w->touched.n);
	vec_reserve(&w->dw_tf, w->touched.n);
	for (size_t i = 0; i < w->touched.n; i++) {
		uint32_t id = w->touched.v[i];
		w->dw_word.v[w->dw_word.n++] = id;
		w->dw_tf.v[w->dw_tf.n++] = w->acc[id];
		if (w->ix->memory || w->ix->stream_path)
			vec_push(&w->dw_cnt, w->cnt[id]);
		if (pending)
			vec_push(&w->pend_cnt, w->cnt[id]);
		w->freq[id] += w->cnt[id];
		d->len += w->cnt[id];
		w->acc[id] = 0;
		w->cnt[id] = 0;
	}
	d->nwords = w->touched.n;
	w->touched.n = 0;
	w->total_len += d->len;

	end_section(w);
	if (w->snippet.len > 1)
		buf_truncate(&w->snippet, w->snippet.len - 1); /* the last ',' */
	buf_putc(&w->snippet, ']');
	if (!emit)
		return 0; /* a text file kept */
	char rel[64];
	text_file_name(rel, w->doc);
	return emit_js(emit, ctx, &w->js, rel, "t", (long)w->doc, &w->snippet, err);
}

int search_doc_end(search_index *ix, search_emit_fn emit, void *ctx, gen_err *err)
{
	return doc_end(&ix->serial, emit, ctx, err);
}

static search_field field_of(markdown_text_kind kind)
{
	return kind == MARKDOWN_TEXT_HEADING ? SEARCH_HEADING
	       : kind == MARKDOWN_TEXT_TIP ? SEARCH_TIP : SEARCH_BODY;
}

static void walk_text(void *ctx, markdown_text_kind kind, const char *text, size_t len,
		      const char *anchor)
{
	doc_text(ctx, field_of(kind), text, len, anchor);
}

static search_doc doc_of(const document *d)
{
	search_doc sd = {
		.url = d->url,
		.title = d->fm.title,
		.kind = frontmatter_kind_name(d->fm.kind),
		.date = d->fm.date,
		.themes = (const char *const *)d->fm.themes,
		.nthemes = d->fm.nthemes,
	};
	return sd;
}

/* ---- the build cache ---------------------------------------------------
 *
 * Tokenising is most of the work of adding a document, and a rebuild adds
 * mostly documents that the build before added too. With a cache
 * (search_set_cache), the words tokenising finds in a document are kept
 * as its record:
 *   the vocabulary's generation (8 bytes), the number of words, then for
 *   each word, in the order it first occurs: its number in the
 *   vocabulary, its weighted count, its count
 * (stop words are not in it: they never reach a document's word list).
 * The vocabulary is one more value in the cache (VOCAB_KEY): its
 * generation, then every word it numbers, in order. Words are added to
 * it, never moved, so the records of earlier builds stay good; a new
 * generation (no vocabulary in the cache, or a damaged one) makes every
 * record of the old one unreadable, and their documents are tokenised
 * again. Numbers instead of the words themselves spare a rebuild three
 * million string lookups: a worker maps each vocabulary number it meets
 * to its own word once. read_record fills the worker from a record
 * exactly as tokenising would: the same words in the same order, so word
 * ids, and with them the index, do not depend on which documents came
 * from the cache. Records are written once the index has merged the
 * words of every document added (flush_records), which is when the
 * vocabulary's numbers of new words are settled. The text
 * file is made from the text again: escaping it costs little next to
 * tokenising, and a record without it is a quarter of the size.
 *
 * The key holds everything the record depends on: this format, the
 * index's language (its stop words), the document's path and content
 * id, and the stamp of what else decides the text (site.toml, the
 * filters: search_set_cache), which the cache's own stamp (gen itself)
 * does not cover. So a record is found without reading the text. When
 * the text is needed, it is collected once per document (for an article
 * from the documents cache its walk is a list) and both the words and
 * the text file are made from that copy. What doc_begin takes from the
 * document (number, URL, title as shown, kind, date, themes) is not in
 * the record, so not in the key either.
 *
 * In a site build (search_render_index) the text file of a document is a
 * function of its number and of that key: when the page cache says the
 * output holds the file made from them, and the record was read, the
 * text is not touched at all. */

#define RECORD_FORMAT "gen search 3"
#define VOCAB_KEY "\0gen search vocabulary 1"
#define VOCAB_KEY_LEN (sizeof VOCAB_KEY - 1)
/* A vocabulary with more words than this many times the index's, plus
 * VOCAB_ROOM, is begun again (its numbers for words no document has any
 * more, and the numbers an edited document's own words got again). */
#define VOCAB_SLACK 2
#define VOCAB_ROOM 20000

/* What the index's files (other than the text files) are hashed with for
 * the page cache (emit_output). */
#define OUTPUT_SEED 0x7a6f656b656eu

/* Appends one piece of text as add_text gets it: the field, the anchor
 * (a blob and a NUL, to hand it on as a C string), the text. */
static void put_piece(buf *in, search_field field, const char *anchor, const char *text,
		      size_t len)
{
	buf_putc(in, (int)field);
	buf_put_blob(in, anchor, strlen(anchor));
	buf_putc(in, '\0');
	buf_put_blob(in, text, len);
}

static void collect_piece(void *ctx, markdown_text_kind kind, const char *text, size_t len,
			  const char *anchor)
{
	put_piece(ctx, field_of(kind), anchor ? anchor : "", text, len);
}

/* The text of d that add_document reads, in its order, into in. */
static void doc_input(const document *d, buf *in)
{
	buf_clear(in);
	put_piece(in, SEARCH_TITLE, "", d->fm.title, strlen(d->fm.title));
	if (d->fm.summary && *d->fm.summary)
		put_piece(in, SEARCH_SUMMARY, "", d->fm.summary, strlen(d->fm.summary));
	if (d->md)
		markdown_walk_text(d->md, collect_piece, in);
}

/* Adds what doc_input collected: the text, and its words when words. */
static void add_input(worker *w, const buf *in, bool words)
{
	buf_reader r;
	buf_reader_init(&r, in->ptr, in->len);
	while (r.p < r.end) {
		search_field field = (search_field)*r.p++;
		size_t al, tl;
		const char *anchor = buf_get_blob(&r, &al);
		r.p++; /* the anchor's NUL */
		const char *text = buf_get_blob(&r, &tl);
		add_text(w, field, text, tl, anchor, words);
	}
}

/* A document's key in the search cache: the record format, the
 * language, its path and content id, and the stamp of what else its
 * text depends on. */
static void put_key(const search_index *ix, const document *d, buf *key)
{
	buf_put(key, ix->key_head.ptr, ix->key_head.len);
	buf_puts(key, d->path ? d->path : "");
	buf_putc(key, '\0');
	buf_puts(key, d->id);
	buf_put(key, ix->key_tail.ptr, ix->key_tail.len);
}

/* The parts of every document's key but its own (put_key). */
static void key_ends(search_index *ix)
{
	buf_clear(&ix->key_head);
	buf_puts(&ix->key_head, RECORD_FORMAT);
	buf_putc(&ix->key_head, '\0');
	buf_puts(&ix->key_head, ix->language);
	buf_putc(&ix->key_head, '\0');
	buf_clear(&ix->key_tail);
	buf_putc(&ix->key_tail, '\0');
	buf_printf(&ix->key_tail, "%016" PRIx64, ix->text_stamp);
}

void search_cache_key(const search_index *ix, const document *d, buf *out)
{
	put_key(ix, d, out);
}

/* Makes the keys of docs[0..n), unless made for them already: the
 * whole-index check, the records kept and the documents added each
 * need all of them, ten thousand at a time. */
static void site_keys(search_index *ix, const document *docs, size_t n)
{
	if (ix->keys_of == docs && ix->nsite_keys == n)
		return;
	buf_clear(&ix->site_keys);
	free(ix->site_key_at);
	ix->site_key_at = xmalloc((n + 1) * sizeof *ix->site_key_at);
	for (size_t i = 0; i < n; i++) {
		ix->site_key_at[i] = ix->site_keys.len;
		put_key(ix, &docs[i], &ix->site_keys);
	}
	ix->site_key_at[n] = ix->site_keys.len;
	ix->keys_of = docs;
	ix->nsite_keys = n;
}

/* Document d's key, from site_keys when they were made for it, else into
 * scratch. */
static const char *key_of(const search_index *ix, const document *d, buf *scratch, size_t *len)
{
	uintptr_t at = (uintptr_t)d, first = (uintptr_t)ix->keys_of;
	if (ix->keys_of && at >= first && at - first < ix->nsite_keys * sizeof *d) {
		size_t i = (at - first) / sizeof *d;
		*len = ix->site_key_at[i + 1] - ix->site_key_at[i];
		return ix->site_keys.ptr + ix->site_key_at[i];
	}
	buf_clear(scratch);
	put_key(ix, d, scratch);
	*len = scratch->len;
	return scratch->ptr;
}

/* A text file written through the keeper (search_set_keeper). */
typedef struct text_file {
	const search_keeper *k;
	uint64_t fp;
} text_file;

static int emit_text(void *ctx, const char *rel, const char *data, size_t len, gen_err *err)
{
	const text_file *t = ctx;
	return t->k->write(t->k->ctx, rel, data, len, t->fp, err);
}

/* The index's files through the keeper, each known by the hash of its
 * bytes: kept when the output has them as they are. */
static int emit_kept(void *ctx, const char *rel, const char *data, size_t len, gen_err *err)
{
	const search_index *ix = ctx;
	uint64_t fp = buf_hash64(data, len, OUTPUT_SEED);
	if (ix->keeper.fresh(ix->keeper.ctx, rel, fp))
		return 0;
	return ix->keeper.write(ix->keeper.ctx, rel, data, len, fp, err);
}

void search_set_keeper(search_index *ix, const search_keeper *k)
{
	ix->has_keeper = k != NULL;
	if (k)
		ix->keeper = *k;
}

/* Adds word w to the vocabulary: its number. */
static uint32_t vocab_add(vocab *v, const char *w, size_t len, uint32_t hash, bool copy)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 1024;
		v->str = xrealloc(v->str, v->cap * sizeof *v->str);
		v->len = xrealloc(v->len, v->cap * sizeof *v->len);
		v->hash = xrealloc(v->hash, v->cap * sizeof *v->hash);
	}
	v->str[v->n] = copy ? pool_strndup(&v->strings, w, len) : w;
	v->len[v->n] = (uint32_t)len;
	v->hash[v->n] = hash;
	return (uint32_t)v->n++;
}

/* A vocabulary of its own, empty: a generation no record names. */
static void vocab_begin(search_index *ix)
{
	vocab *v = &ix->voc;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t seed[3] = { (uint64_t)now.tv_sec, (uint64_t)now.tv_nsec,
			     (uint64_t)getpid() ^ (uint64_t)(uintptr_t)ix };
	v->gen = buf_hash64(seed, sizeof seed, v->gen) | 1;
	v->n = v->had = v->saved = 0;
}

static bool has_nul(const char *s, size_t len);

/* Reads the vocabulary from the cache's value; false (v empty) when it
 * is not what vocab_write writes, a word in it not one tokenising gives
 * (so that a record's words need no checking). */
static bool vocab_read(vocab *v, const char *data, size_t len)
{
	buf_reader r;
	buf_reader_init(&r, data, len);
	if (len < 8)
		return false;
	memcpy(&v->gen, data, 8);
	r.p += 8;
	uint64_t n = buf_get_varint(&r);
	bool good = !r.bad && v->gen && n <= len;
	for (uint64_t i = 0; good && i < n; i++) {
		size_t wl;
		const char *w = buf_get_blob(&r, &wl);
		/* A code point takes one to four bytes: only a word of under
		 * eight bytes or over MAX_WORD_CPS needs counting. */
		size_t cps = r.bad ? 0 : wl >= 8 && wl <= MAX_WORD_CPS ? wl : count_cps(w, wl);
		good = !r.bad && cps >= 2 && cps <= MAX_WORD_CPS && !has_nul(w, wl);
		if (good)
			vocab_add(v, w, wl, hash_bytes(w, wl), false);
	}
	if (good && r.p == r.end)
		return true;
	v->n = 0;
	return false;
}

/* Finds the cache's vocabulary, or begins one. Once per index, before
 * any record is read or written; the cache keeps the one read. */
static void vocab_ready(search_index *ix)
{
	vocab *v = &ix->voc;
	if (v->ready || !ix->cache)
		return;
	v->ready = true;
	size_t len;
	const char *data = cache_get(ix->cache, VOCAB_KEY, VOCAB_KEY_LEN, &len);
	if (data && vocab_read(v, data, len)) {
		v->had = v->saved = v->n;
		return;
	}
	if (data)
		cache_reject(ix->cache, VOCAB_KEY, VOCAB_KEY_LEN);
	vocab_begin(ix);
}

/* The generation the index's vocabulary numbers (word_vocab) are of. */
static uint64_t vocab_gen(const search_index *ix)
{
	return ix->voc.ready ? ix->voc.gen : ix->carry_gen;
}

/* Gives the cache the vocabulary, when it has words the cache does not. */
static void vocab_write(search_index *ix)
{
	vocab *v = &ix->voc;
	if (!ix->cache || v->n == v->saved)
		return;
	buf b = BUF_INIT;
	buf_put(&b, &v->gen, 8);
	buf_put_varint(&b, v->n);
	for (size_t i = 0; i < v->n; i++)
		buf_put_blob(&b, v->str[i], v->len[i]);
	cache_put(ix->cache, VOCAB_KEY, VOCAB_KEY_LEN, b.ptr, b.len);
	buf_release(&b);
	v->saved = v->n;
}

/* Whether s[0..len) holds a NUL: eight bytes at a time, inline, since
 * it runs for every word of every record read (memchr is a call each). */
static bool has_nul(const char *s, size_t len)
{
	for (; len >= 8; s += 8, len -= 8) {
		uint64_t v;
		memcpy(&v, s, 8);
		if (any_below(v, 1))
			return true;
	}
	for (; len; len--)
		if (!*s++)
			return true;
	return false;
}

/* The vocabulary number local word l has, remembered when read. */
static void note_vocab(worker *w, uint32_t l, uint32_t v)
{
	if (w->lvocab[l] == UINT32_MAX)
		w->lvocab[l] = v;
}

/* Fills w from a record as tokenising its document would. A record that
 * is whole (the cache checks that) but not what flush_records writes, by
 * a bug or by hand, or of another vocabulary, is refused: false, and w is
 * left as it was. */
static bool read_record(worker *w, const char *data, size_t len)
{
	uint32_t wmin = UINT32_MAX, wmax = 0;
	for (size_t f = 0; f < sizeof field_weight / sizeof *field_weight; f++) {
		wmin = field_weight[f] < wmin ? field_weight[f] : wmin;
		wmax = field_weight[f] > wmax ? field_weight[f] : wmax;
	}
	const vocab *v = &w->ix->voc;
	uint64_t gen;
	if (len < 8 || !v->gen)
		return false;
	memcpy(&gen, data, 8);
	if (gen != v->gen)
		return false;
	if (w->vmap_n < v->had) {
		w->vmap = xrealloc(w->vmap, v->had * sizeof *w->vmap);
		memset(w->vmap + w->vmap_n, 0xff, (v->had - w->vmap_n) * sizeof *w->vmap);
		w->vmap_n = v->had;
	}
	buf_reader r;
	buf_reader_init(&r, data + 8, len - 8);
	size_t words = w->words.n, touched = w->touched.n;
	w->vnew.n = 0;
	uint64_t n = buf_get_varint(&r);
	bool good = !r.bad && n <= len;
	for (uint64_t i = 0; good && i < n; i++) {
		uint64_t vid = buf_get_varint(&r), tf = buf_get_varint(&r),
			 count = buf_get_varint(&r);
		/* Every occurrence weighs what one of the fields does. */
		good = !r.bad && vid < v->had && count >= 1 && count <= UINT32_MAX &&
		       tf >= count * wmin && tf <= count * wmax && tf <= UINT32_MAX;
		if (!good)
			break;
		uint32_t id = w->vmap[vid];
		if (id == UINT32_MAX) {
			id = worker_word_hashed(w, v->str[vid], v->len[vid], v->hash[vid]);
			w->vmap[vid] = id;
			vec_push(&w->vnew, (uint32_t)vid);
			note_vocab(w, id, (uint32_t)vid);
		}
		/* A stop word or a word twice is not what tokenising gives. */
		good = !w->stop[id] && !w->acc[id];
		if (!good)
			break;
		w->acc[id] = (uint32_t)tf;
		w->cnt[id] = (uint32_t)count;
		vec_push(&w->touched, id);
	}
	if (good && r.p == r.end)
		return true;
	for (size_t i = touched; i < w->touched.n; i++) {
		w->acc[w->touched.v[i]] = 0;
		w->cnt[w->touched.v[i]] = 0;
	}
	w->touched.n = touched;
	for (size_t i = 0; i < w->vnew.n; i++)
		w->vmap[w->vnew.v[i]] = UINT32_MAX;
	for (size_t l = words; l < w->words.n; l++)
		w->lvocab[l] = UINT32_MAX;
	strtab_truncate(&w->words, words);
	return false;
}

/* What the text file of the document numbered at with key was made from,
 * for the page cache. */
static uint64_t text_fp(const char *key, size_t klen, size_t at)
{
	return buf_hash64(key, klen, (uint64_t)at ^ 0x74657874u);
}

static int add_document(worker *w, size_t at, const document *d, bool lookup_only,
			search_emit_fn emit, void *ctx, gen_err *err)
{
	search_doc sd = doc_of(d);
	doc_begin(w, at, &sd, lookup_only);
	cache_file *c = w->ix->cache;
	if (w->ix->has_keeper) {
		emit = emit_kept;
		ctx = w->ix;
	}
	if (!c) {
		doc_text(w, SEARCH_TITLE, d->fm.title, strlen(d->fm.title), "");
		if (d->fm.summary && *d->fm.summary)
			doc_text(w, SEARCH_SUMMARY, d->fm.summary, strlen(d->fm.summary), "");
		if (d->md) {
			markdown_walk_text(d->md, walk_text, w);
			markdown_drops_add(&w->drops, d->md);
		}
		return doc_end(w, emit, ctx, err);
	}
	size_t klen, len;
	const char *key = key_of(w->ix, d, &w->key, &klen);
	const char *rec = cache_get(c, key, klen, &len);
	bool hit = rec && read_record(w, rec, len);
	if (rec && !hit)
		cache_reject(c, key, klen);
	text_file tf = { &w->ix->keeper, 0 };
	if (w->ix->has_keeper) {
		char rel[64];
		text_file_name(rel, at);
		tf.fp = text_fp(key, klen, at);
		if (hit && tf.k->fresh(tf.k->ctx, rel, tf.fp)) {
			w->texts_kept++;
			return doc_end(w, NULL, NULL, err);
		}
		emit = emit_text;
		ctx = &tf;
	}
	doc_input(d, &w->input);
	/* Its text is in w->input now: the article's pages may go. */
	if (d->md)
		markdown_drops_add(&w->drops, d->md);
	add_input(w, &w->input, !hit);
	if (!hit) {
		/* Its record once the index has its words (flush_records). */
		vec_push(&w->pend_doc, (uint32_t)at);
		buf_put_blob(&w->pend_keys, key, klen);
	}
	return doc_end(w, emit, ctx, err);
}

void search_set_cache(search_index *ix, struct cache_file *c, uint64_t stamp)
{
	ix->text_stamp = stamp;
	ix->cache = c;
	key_ends(ix);
	ix->keys_of = NULL; /* made with the stamp before */
	ix->nsite_keys = 0;
}

int search_add_document(search_index *ix, const document *d, search_emit_fn emit,
			void *ctx, gen_err *err)
{
	if (ix->ndocs == ix->docs_cap) {
		ix->docs_cap = ix->docs_cap ? ix->docs_cap * 2 : 64;
		ix->docs = xrealloc(ix->docs, ix->docs_cap * sizeof *ix->docs);
	}
	vocab_ready(ix);
	int rc = add_document(&ix->serial, ix->ndocs++, d, false, emit, ctx, err);
	markdown_drops_flush(&ix->serial.drops);
	return rc;
}

/* The index's id of a word, added (with a count of 0) when new. */
static uint32_t index_word(search_index *ix, const char *word, size_t len)
{
	uint32_t g = strtab_add(&ix->words, &ix->strings, word, len, NULL);
	if (ix->words.n > ix->word_cap) {
		size_t cap = ix->words.cap;
		ix->word_freq = xrealloc(ix->word_freq, cap * sizeof *ix->word_freq);
		memset(ix->word_freq + ix->word_cap, 0, (cap - ix->word_cap) * sizeof *ix->word_freq);
		ix->word_vocab = xrealloc(ix->word_vocab, cap * sizeof *ix->word_vocab);
		memset(ix->word_vocab + ix->word_cap, 0xff,
		       (cap - ix->word_cap) * sizeof *ix->word_vocab);
		ix->word_cap = cap;
	}
	return g;
}

/* Takes over the worker's documents whose records are to be written, in
 * the order the workers' documents come. */
static void take_pending(search_index *ix, worker *w)
{
	vec_append(&ix->pend_doc, &w->pend_doc);
	vec_append(&ix->pend_cnt, &w->pend_cnt);
	buf_put(&ix->pend_keys, w->pend_keys.ptr, w->pend_keys.len);
	w->pend_doc.n = w->pend_cnt.n = 0;
	buf_clear(&w->pend_keys);
}

/* Writes the records of the documents tokenised since the last flush,
 * now that the index has their words: each word by its vocabulary
 * number, which a word new to the vocabulary gets here; then the
 * vocabulary, if it grew. One that grew far past the index's words is
 * begun again: the other documents' records, of the old one, are not read
 * any more, and the next build tokenises them once into the new one. */
static void flush_records(search_index *ix)
{
	vocab *v = &ix->voc;
	if (!ix->cache || !v->ready || !ix->pend_doc.n)
		return;
	if (v->n > VOCAB_SLACK * ix->words.n + VOCAB_ROOM) {
		vocab_begin(ix);
		memset(ix->word_vocab, 0xff, ix->word_cap * sizeof *ix->word_vocab);
	}
	buf rec = BUF_INIT;
	buf_reader keys;
	buf_reader_init(&keys, ix->pend_keys.ptr, ix->pend_keys.len);
	size_t c = 0;
	for (size_t p = 0; p < ix->pend_doc.n; p++) {
		size_t klen;
		const char *key = buf_get_blob(&keys, &klen);
		const sdoc *d = &ix->docs[ix->pend_doc.v[p]];
		buf_clear(&rec);
		buf_put(&rec, &v->gen, 8);
		buf_put_varint(&rec, d->nwords);
		for (size_t k = d->words; k < d->words + d->nwords; k++) {
			uint32_t g = ix->dw_word.v[k];
			if (ix->word_vocab[g] == UINT32_MAX)
				ix->word_vocab[g] = vocab_add(v, ix->words.str[g], ix->words.len[g],
							      hash_bytes(ix->words.str[g],
									 ix->words.len[g]),
							      true);
			buf_put_varint(&rec, ix->word_vocab[g]);
			buf_put_varint(&rec, ix->dw_tf.v[k]);
			buf_put_varint(&rec, c < ix->pend_cnt.n ? ix->pend_cnt.v[c++] : 0);
		}
		if (!keys.bad)
			cache_put(ix->cache, key, klen, rec.ptr, rec.len);
	}
	buf_release(&rec);
	ix->pend_doc.n = ix->pend_cnt.n = 0;
	buf_clear(&ix->pend_keys);
	vocab_write(ix);
}

/* A worker's words as the index's: its words go into the dictionary in
 * the order the worker met them (so ids are as when the documents are
 * added one by one) and map[l] becomes the index's id of local word l
 * (UINT32_MAX for a stop word). Caller frees map. */
static uint32_t *map_worker(search_index *ix, worker *w)
{
	ix->texts_kept += w->texts_kept;
	w->texts_kept = 0;
	uint32_t *map = xmalloc((w->words.n + 1) * sizeof *map);
	for (size_t l = 0; l < w->words.n; l++) {
		if (w->stop[l]) {
			map[l] = UINT32_MAX;
			continue;
		}
		uint32_t g = index_word(ix, w->words.str[l], w->words.len[l]);
		ix->word_freq[g] += w->freq[l];
		map[l] = g;
		if (ix->word_vocab[g] == UINT32_MAX)
			ix->word_vocab[g] = w->lvocab[l];
	}
	ix->total_len += w->total_len;
	take_pending(ix, w);
	return map;
}

/* Copies the word lists of a worker's documents (from..to, all it
 * added, in order) into the index's arrays at at, where room was made
 * for them, through map. Workers write apart, so they may copy at once. */
static void copy_worker(search_index *ix, const worker *w, const uint32_t *map, size_t from,
			size_t to, size_t at)
{
	size_t n = w->dw_word.n;
	uint32_t *word = ix->dw_word.v + at;
	const uint32_t *local = w->dw_word.v;
	for (size_t k = 0; k < n; k++)
		word[k] = map[local[k]];
	if (n)
		memcpy(ix->dw_tf.v + at, w->dw_tf.v, n * sizeof *w->dw_tf.v);
	if ((ix->memory || ix->stream_path) && n)
		memcpy(ix->dw_cnt.v + at, w->dw_cnt.v, n * sizeof *w->dw_cnt.v);
	for (size_t i = from; i < to; i++)
		ix->docs[i].words += at;
}

/* Makes room at the end of the index's word lists for n more entries
 * and returns where they start. */
static size_t room_for_words(search_index *ix, size_t n)
{
	size_t at = ix->dw_word.n;
	vec_reserve(&ix->dw_word, n);
	vec_reserve(&ix->dw_tf, n);
	ix->dw_word.n += n;
	ix->dw_tf.n += n;
	if (ix->memory || ix->stream_path) {
		vec_reserve(&ix->dw_cnt, n);
		ix->dw_cnt.n += n;
	}
	return at;
}

/* Moves a worker's words into the index's dictionary and its documents'
 * word lists (documents from..to) into the index's, then empties it. */
static void merge_worker(search_index *ix, worker *w, size_t from, size_t to)
{
	uint32_t *map = map_worker(ix, w);
	copy_worker(ix, w, map, from, to, room_for_words(ix, w->dw_word.n));
	free(map);
	worker_release(w);
}

static void merge_serial(search_index *ix)
{
	if (ix->serial.open || ix->ndocs == ix->serial_from)
		return;
	merge_worker(ix, &ix->serial, ix->serial_from, ix->ndocs);
	ix->serial_from = ix->ndocs;
	flush_records(ix);
}

typedef struct job {
	worker w;
	const document *docs;
	size_t from, to;     /* documents docs[from..to) */
	size_t base;         /* index of docs[0] in ix->docs */
	search_emit_fn emit;
	void *ctx;
	gen_err err;
	int rc;
	uint32_t *map;       /* then: its words' ids in the index (map_worker) */
	size_t at;           /* and where its word lists go */
} job;

static void *run_job(void *arg)
{
	job *j = arg;
	for (size_t i = j->from; i < j->to && j->rc == 0; i++)
		j->rc = add_document(&j->w, j->base + i, &j->docs[i], true, j->emit, j->ctx,
				     &j->err);
	markdown_drops_flush(&j->w.drops);
	return NULL;
}

static void *copy_job(void *arg)
{
	job *j = arg;
	copy_worker(j->w.ix, &j->w, j->map, j->base + j->from, j->base + j->to, j->at);
	return NULL;
}

/* ---- the memory of a resident process ----------------------------------
 *
 * What search_add_documents makes of the documents, held from one build
 * to the next (gen serve): the dictionary, and each document's words as
 * ids into it with their weighted counts and counts, found by the
 * document's key (put_key). A document the memory holds is not read at
 * all, not even its record: its words go into the new dictionary by id,
 * in document order, so the words get the ids a clean build gives them
 * (the first occurrence decides, as in merge_worker) and the index comes
 * out the same. Its text file is kept when the page cache says so and
 * made again otherwise (its number changed), without tokenising; what
 * the document table shows of it is taken from the memory too.
 *
 * The memory also holds the last index as search_write built it: see
 * "the last index" below and build_postings_after. A one-shot build
 * keeps it in a file from one build to the next (see "the memory in a
 * file"). */

struct search_memory {
	char *language;
	uint64_t text_stamp;
	bool valid;          /* holds a build's words */
	strtab words;        /* the dictionary, over strings */
	pool strings;
	uint32_t *word_vocab;/* each word's number in the cache's vocabulary */
	uint64_t vocab_gen;  /* of that generation (0: none) */
	strtab keys;         /* document keys -> slot in docs */
	pool key_strings;
	struct held_doc {
		size_t at, n;    /* range in ids, tf, cnt */
		uint32_t len;    /* index words */
	} *docs;
	vec32 ids, tf, cnt;
	/* What doc_fill made of each document (url, title, date, kind,
	 * themes as ids into themes), taken over by the next build for a
	 * document it holds: they come from the document's text, path and
	 * the site's settings, all in its key. */
	sdoc *sdocs;
	size_t nsdocs;
	char **themes;       /* theme ids, by number */
	size_t nthemes;
	vec32 fm;            /* themes as written, by number: fm_at[slot].. */
	size_t *fm_at;
	/* The last index, as search_write built it (built: these are set).
	 * A build whose documents are these, at the same numbers and in the
	 * same order, but for a few, and whose dictionary, stems and
	 * compounds are as then, takes the other documents' postings from
	 * here and scores them again (build_postings_after); a term whose
	 * postings and levels come out as then is not encoded again. */
	bool built;
	size_t nterms;
	index_made made;
	size_t ndfp;         /* files of the document table in made.dfp */
	/* The arrays of the build before the last, which the next one
	 * writes its own into: each is tens of megabytes at 10,000
	 * articles, and a fresh one costs a page fault per 4 KB the first
	 * time it is written (thousands per rebuild). */
	spare spares[SPARE_COUNT];
	/* A memory read from a file (search_memory_load) has its big
	 * arrays in the file's mapping, not allocations of their own. */
	void *map;
	size_t map_len;
	bool taken;          /* memory_take gave it an index since it was
			      * made or loaded */
	bool due;            /* and the file it was loaded from, if any,
			      * lacks too much of it (search_memory_due) */
	bool lean;           /* search_memory_lean */
};

/* The memory's spares, by what they were and will be. */
enum { SPARE_IDS, SPARE_TF, SPARE_CNT, SPARE_PDOC, SPARE_PTF, SPARE_IMPACT, SPARE_PQ,
       SPARE_PQ_RAW };

static spare *spare_of(search_index *ix, int which)
{
	return ix->memory ? &ix->memory->spares[which] : NULL;
}

search_memory *search_memory_new(void)
{
	return xcalloc(1, sizeof(search_memory));
}

/* Empties m; with keep, its big arrays become its spares (in place of
 * the spares it had), else the spares stay as they are. */
static void memory_unmap(search_memory *m);

static void memory_clear(search_memory *m, bool keep)
{
	memory_unmap(m);
	if (keep) {
		spare_give(&m->spares[SPARE_IDS], m->ids.v, m->ids.cap * sizeof *m->ids.v);
		spare_give(&m->spares[SPARE_TF], m->tf.v, m->tf.cap * sizeof *m->tf.v);
		spare_give(&m->spares[SPARE_CNT], m->cnt.v, m->cnt.cap * sizeof *m->cnt.v);
		spare_give(&m->spares[SPARE_PDOC], m->made.pdoc,
			   m->made.post_cap * sizeof *m->made.pdoc);
		spare_give(&m->spares[SPARE_PTF], m->made.ptf, m->made.post_cap * sizeof *m->made.ptf);
		spare_give(&m->spares[SPARE_PQ], m->made.pq, m->made.pq_cap);
		spare_give(&m->spares[SPARE_PQ_RAW], m->made.pq_raw, m->made.pq_raw_cap);
		m->ids.v = m->tf.v = m->cnt.v = NULL;
		m->made.pdoc = NULL;
		m->made.ptf = NULL;
		m->made.pq = m->made.pq_raw = NULL;
	}
	spare spares[SPARE_COUNT];
	memcpy(spares, m->spares, sizeof spares);
	free(m->language);
	strtab_release(&m->words);
	pool_release(&m->strings);
	free(m->word_vocab);
	strtab_release(&m->keys);
	pool_release(&m->key_strings);
	free(m->docs);
	free(m->ids.v);
	free(m->tf.v);
	free(m->cnt.v);
	for (size_t i = 0; i < m->nsdocs; i++)
		sdoc_release(&m->sdocs[i]);
	free(m->sdocs);
	for (size_t i = 0; i < m->nthemes; i++)
		free(m->themes[i]);
	free(m->themes);
	free(m->fm.v);
	free(m->fm_at);
	made_release(&m->made);
	memset(m, 0, sizeof *m);
	memcpy(m->spares, spares, sizeof spares);
}

void search_memory_free(search_memory *m)
{
	if (!m)
		return;
	memory_clear(m, false);
	for (size_t i = 0; i < SPARE_COUNT; i++)
		free(m->spares[i].p);
	free(m);
}

void search_memory_lean(search_memory *m)
{
	if (m)
		m->lean = true;
}

bool search_memory_taken(const search_memory *m)
{
	return m && m->taken;
}

bool search_memory_due(const search_memory *m)
{
	return m && m->taken && m->due;
}

void search_set_memory(search_index *ix, search_memory *m)
{
	ix->memory = m;
}

void search_set_memory_file(search_index *ix, const char *path, uint64_t stamp)
{
	free(ix->stream_path);
	ix->stream_path = path ? xstrdup(path) : NULL;
	ix->stream_stamp = stamp;
}

size_t search_held(const search_index *ix)
{
	return ix->held;
}

size_t search_merge_ranges(const search_index *ix)
{
	return ix->merge_ranges;
}

size_t search_terms_scored(const search_index *ix)
{
	return ix->terms_scored;
}

size_t search_postings_scored(const search_index *ix, size_t *touched)
{
	if (touched)
		*touched = ix->postings_touched;
	return ix->postings_scored;
}

size_t search_term_count(const search_index *ix)
{
	return ix->terms.n;
}

size_t search_terms_held(const search_index *ix)
{
	size_t n = 0;
	for (size_t t = 0; ix->term_same && t < ix->terms.n; t++)
		n += ix->term_same[t];
	return n;
}

/* How many documents a memory file may lack the words of (they were
 * added or changed since it was written) before it is written again.
 * Each costs the next build its text's words, a fraction of a
 * millisecond; writing the file costs some thirty milliseconds at 10,000
 * articles, so it is written every few dozen changed articles rather
 * than after each build. */
#define MEMORY_STALE_DOCS(ndocs) (8 + (ndocs) / 256)

/* Copies the words of the documents that a memory's file holds
 * (held_at) into dw_*, in document order with the others', as
 * add_remembered does without a file: for what needs every document's
 * words (build_postings, a memory that takes them). */
static void words_materialize(search_index *ix)
{
	if (!ix->held_at)
		return;
	const search_memory *m = ix->memory;
	size_t total = 0;
	for (size_t i = 0; i < ix->ndocs; i++)
		total += ix->docs[i].nwords;
	vec32 word = { NULL, 0, 0 }, tf = { NULL, 0, 0 }, cnt = { NULL, 0, 0 };
	vec_reserve(&word, total + 1);
	vec_reserve(&tf, total + 1);
	vec_reserve(&cnt, total + 1);
	for (size_t i = 0; i < ix->ndocs; i++) {
		sdoc *d = &ix->docs[i];
		size_t at = ix->held_at[i], n = d->nwords;
		if (at != SIZE_MAX) {
			for (size_t k = 0; k < n; k++)
				word.v[word.n + k] = ix->from_memory[m->ids.v[at + k]];
			memcpy(tf.v + tf.n, m->tf.v + at, n * sizeof *tf.v);
			memcpy(cnt.v + cnt.n, m->cnt.v + at, n * sizeof *cnt.v);
		} else {
			memcpy(word.v + word.n, ix->dw_word.v + d->words, n * sizeof *word.v);
			memcpy(tf.v + tf.n, ix->dw_tf.v + d->words, n * sizeof *tf.v);
			memcpy(cnt.v + cnt.n, ix->dw_cnt.v + d->words, n * sizeof *cnt.v);
		}
		d->words = word.n;
		word.n += n;
		tf.n += n;
		cnt.n += n;
	}
	free(ix->dw_word.v);
	free(ix->dw_tf.v);
	free(ix->dw_cnt.v);
	ix->dw_word = word;
	ix->dw_tf = tf;
	ix->dw_cnt = cnt;
	free(ix->held_at);
	ix->held_at = NULL;
}

/* Whether the index built what a memory keeps of its postings. */
static bool index_built(const search_index *ix)
{
	return ix->written && ix->made.ptf && ix->made.pq_raw && ix->made.enc_at;
}

/* Whether a memory file the index was made from lags too far behind it:
 * the file lacks the words of the documents not taken from it, and any
 * posting at all when the documents moved (then the next build makes
 * every posting again until it is written). */
static bool index_lags(const search_index *ix)
{
	return !index_built(ix) || !ix->order_same ||
	       ix->ndocs - ix->held > MEMORY_STALE_DOCS(ix->ndocs);
}

/* Whether the memory takes this index's words at search_free. One read
 * from a file leaves with the one-shot build that read it, and is
 * written again only when it lags too far behind (index_lags):
 * otherwise the held documents' words stay in its mapping, never
 * copied. A memory a process holds (gen serve) always takes them. */
static bool memory_worth(search_index *ix)
{
	if (!ix->held_at)
		return true;
	if (!index_lags(ix))
		return false;
	words_materialize(ix);
	return true;
}

/* The files of the document table whose hashes the index keeps. */
static size_t made_ndfp(const search_index *ix)
{
	return ix->made.dfp ? (ix->ndocs + SEARCH_DOCS_PER_FILE - 1) / SEARCH_DOCS_PER_FILE : 0;
}

/* Fills m as memory_take makes a memory of ix, but with ix's own
 * arrays and strings, borrowed: m->docs alone is m's (free it). For
 * what memory_take would give a memory to write, without taking it. */
static void memory_view(search_index *ix, search_memory *m)
{
	memset(m, 0, sizeof *m);
	m->language = ix->language;
	m->text_stamp = ix->text_stamp;
	m->words = ix->words;
	m->strings = ix->strings;
	m->word_vocab = ix->word_vocab;
	m->vocab_gen = vocab_gen(ix);
	m->keys = ix->keys;
	m->key_strings = ix->key_strings;
	m->ids = ix->dw_word;
	m->tf = ix->dw_tf;
	m->cnt = ix->dw_cnt;
	m->docs = xcalloc(ix->ndocs ? ix->ndocs : 1, sizeof *m->docs);
	for (size_t i = 0; i < ix->ndocs; i++) {
		m->docs[i].at = ix->docs[i].words;
		m->docs[i].n = ix->docs[i].nwords;
		m->docs[i].len = ix->docs[i].len;
	}
	m->sdocs = ix->docs;
	m->nsdocs = ix->ndocs;
	m->nthemes = ix->themes.n;
	m->themes = (char **)ix->themes.str;
	m->fm = ix->fm;
	m->fm_at = ix->fm_at;
	if (index_built(ix)) {
		m->built = true;
		m->nterms = ix->terms.n;
		m->made = ix->made;
		m->ndfp = made_ndfp(ix);
	}
	m->valid = true;
}

/* search_free, for an index whose documents were all added: the memory
 * takes its words instead of the next build reading them again. */
static void memory_take(search_index *ix)
{
	search_memory *m = ix->memory;
	bool due = m->map == NULL || index_lags(ix);
	memory_clear(m, true);
	spare spares[SPARE_COUNT];
	memcpy(spares, m->spares, sizeof spares);
	memory_view(ix, m);
	memcpy(m->spares, spares, sizeof spares);
	/* Then each of its own: what the view borrowed goes from ix. */
	m->language = xstrdup(ix->language);
	ix->word_vocab = NULL;
	ix->docs = NULL;
	m->themes = xcalloc(m->nthemes + 1, sizeof *m->themes);
	for (size_t i = 0; i < m->nthemes; i++)
		m->themes[i] = xstrdup(ix->themes.str[i]);
	memset(&ix->fm, 0, sizeof ix->fm);
	ix->fm_at = NULL;
	if (m->built) {
		memset(&ix->made, 0, sizeof ix->made);
		buf_init(&ix->made.enc);
	}
	m->taken = true;
	m->due = due; /* a memory not from a file has none to lag */
	memset(&ix->words, 0, sizeof ix->words);
	memset(&ix->strings, 0, sizeof ix->strings);
	memset(&ix->keys, 0, sizeof ix->keys);
	memset(&ix->key_strings, 0, sizeof ix->key_strings);
	memset(&ix->dw_word, 0, sizeof ix->dw_word);
	memset(&ix->dw_tf, 0, sizeof ix->dw_tf);
	memset(&ix->dw_cnt, 0, sizeof ix->dw_cnt);
}

/* ---- the memory in a file ------------------------------------------------
 *
 * search_memory_save and search_memory_load. The file is a head (the
 * counts, the strings and the small per-document facts, in varints), then
 * the big arrays as they lie in memory (millions of entries: word lists,
 * postings and their weighted counts), each at a multiple of eight bytes,
 * and a checksum of all that (see sealer). A load maps the file and
 * points the memory's arrays into the mapping: copying tens of megabytes
 * into fresh allocations would cost a page fault per 4 KB. The mapping
 * is private, so the arrays read and write as the memory's own;
 * memory_clear lets it go. A file is for the
 * machine that wrote it: sizeof(size_t) and the byte order are in the
 * head (MEMORY_PROBE). After the checksum, every number that is used
 * as an index is checked against what it indexes, so that even a file
 * made by hand is refused rather than read out of bounds. */

#define MEMORY_MAGIC "gen search memory\n"
#define MEMORY_FORMAT 5
#define MEMORY_PROBE 0x0102030405060708ULL
#define MEMORY_PIECES 21
/* The file's pieces come in three runs, each after what is made before
 * it: the word lists (up to MEMORY_INDEX), once the documents are added;
 * from the index's counts (the numbers the rest's lengths follow from:
 * terms, postings, compound parts, and the scale) to the raw levels,
 * once the postings are scored; from the trailer (the lengths only
 * known at the end: the encodings' and the document table's) on, the
 * levels as the tiers left them, the encodings and the document table's
 * hashes. A build with no memory writes the file run by run, letting go
 * of each as it goes (see "the memory streamed"). */
#define MEMORY_INDEX 4
#define MEMORY_LATE 15
#define MEMORY_COUNTS 6
#define MEMORY_ALIGN 8

/* A big array of the memory: where it lies, and its length in bytes. */
typedef struct memory_piece {
	const void *p;
	size_t len;
} memory_piece;

/* The big arrays of m in file order, their lengths from m's counts and
 * has_vocab (whether there is a word_vocab); on load the counts are set
 * before the arrays are there (p is then NULL). total: the postings;
 * counts and trailer: room for those pieces' numbers, filled from m.
 * Returns how many. */
static size_t memory_pieces(const search_memory *m, memory_piece *out, size_t total,
			    bool has_vocab, uint64_t counts[MEMORY_COUNTS], uint64_t trailer[2])
{
	size_t nw = m->words.n, nt = m->nterms, k = 0;
	const index_made *d = &m->made;
	out[k++] = (memory_piece){ m->word_vocab, has_vocab ? nw * sizeof(uint32_t) : 0 };
	out[k++] = (memory_piece){ m->ids.v, m->ids.n * sizeof(uint32_t) };
	out[k++] = (memory_piece){ m->tf.v, m->ids.n * sizeof(uint32_t) };
	out[k++] = (memory_piece){ m->cnt.v, m->ids.n * sizeof(uint32_t) };
	if (!m->built)
		return k;
	counts[0] = nt;
	counts[1] = total;
	counts[2] = d->parts.n;
	memcpy(&counts[3], &d->max_impact, sizeof counts[3]);
	memcpy(&counts[4], &d->avgdl, sizeof counts[4]);
	counts[5] = d->max_holder;
	out[k++] = (memory_piece){ counts, MEMORY_COUNTS * sizeof *counts };
	out[k++] = (memory_piece){ d->word_term, nw * sizeof(uint32_t) };
	out[k++] = (memory_piece){ d->word_split, nw * sizeof(uint32_t) };
	out[k++] = (memory_piece){ d->parts.v, d->parts.n * sizeof(uint32_t) };
	out[k++] = (memory_piece){ d->term_surface, nt * sizeof(bool) };
	out[k++] = (memory_piece){ d->order, m->nsdocs * sizeof(uint32_t) };
	out[k++] = (memory_piece){ d->post_off, nt * sizeof(uint32_t) };
	out[k++] = (memory_piece){ d->post_n, nt * sizeof(uint32_t) };
	out[k++] = (memory_piece){ d->pdoc, total * sizeof(uint32_t) };
	out[k++] = (memory_piece){ d->ptf, total * sizeof(float) };
	out[k++] = (memory_piece){ d->pq_raw, total };
	trailer[0] = d->enc.len;
	trailer[1] = m->ndfp;
	out[k++] = (memory_piece){ trailer, 2 * sizeof *trailer };
	out[k++] = (memory_piece){ d->pq, total };
	out[k++] = (memory_piece){ d->enc.ptr, d->enc.len };
	out[k++] = (memory_piece){ d->enc_at, nt * sizeof(size_t) };
	out[k++] = (memory_piece){ d->enc_len, nt * sizeof(size_t) };
	out[k++] = (memory_piece){ d->dfp, m->ndfp * sizeof(uint64_t) };
	return k;
}

/* Points m's arrays at the pieces in memory_pieces' order (p[k]; NULL
 * for one that is not there), but for the encodings, which are copied
 * into their buf: the memory appends to it. */
static void memory_point(search_memory *m, char *const *p, const memory_piece *piece)
{
	index_made *d = &m->made;
	m->word_vocab = (uint32_t *)(void *)p[0];
	m->ids.v = (uint32_t *)(void *)p[1];
	m->tf.v = (uint32_t *)(void *)p[2];
	m->cnt.v = (uint32_t *)(void *)p[3];
	if (!m->built)
		return;
	d->word_term = (uint32_t *)(void *)p[5];
	d->word_split = (uint32_t *)(void *)p[6];
	d->parts.v = (uint32_t *)(void *)p[7];
	d->term_surface = (bool *)(void *)p[8];
	d->order = (uint32_t *)(void *)p[9];
	d->post_off = (uint32_t *)(void *)p[10];
	d->post_n = (uint32_t *)(void *)p[11];
	d->pdoc = (uint32_t *)(void *)p[12];
	d->ptf = (float *)(void *)p[13];
	d->pq_raw = (uint8_t *)p[14];
	d->pq = (uint8_t *)p[16];
	buf_clear(&d->enc);
	buf_put(&d->enc, p[17], piece[17].len);
	d->enc_at = (size_t *)(void *)p[18];
	d->enc_len = (size_t *)(void *)p[19];
	d->dfp = (uint64_t *)(void *)p[20];
}

static size_t aligned(size_t n)
{
	return (n + MEMORY_ALIGN - 1) / MEMORY_ALIGN * MEMORY_ALIGN;
}

/* The postings of m's last index: every term's, end to end. */
static size_t memory_postings(const search_memory *m)
{
	size_t nt = m->nterms;
	return m->built && nt ? (size_t)m->made.post_off[nt - 1] + m->made.post_n[nt - 1] : 0;
}

/* Lets go of the mapping of a memory read from a file, and of the
 * arrays memory_point put in it (all the pieces but the encodings). */
static void memory_unmap(search_memory *m)
{
	if (!m->map)
		return;
	index_made *d = &m->made;
	m->word_vocab = m->ids.v = m->tf.v = m->cnt.v = NULL;
	d->word_term = d->word_split = d->parts.v = d->order = NULL;
	d->post_off = d->post_n = d->pdoc = NULL;
	d->term_surface = NULL;
	d->ptf = NULL;
	d->pq_raw = d->pq = NULL;
	d->enc_at = d->enc_len = NULL;
	d->dfp = NULL;
	m->ids.cap = m->tf.cap = m->cnt.cap = d->parts.cap = 0;
	d->post_cap = d->pq_cap = d->pq_raw_cap = 0;
	munmap(m->map, m->map_len);
	m->map = NULL;
	m->map_len = 0;
}


/* The file's checksum is chained over blocks of MEMORY_BLOCK bytes (the
 * last one shorter), each hashed with the sum so far as its seed: the
 * writer hashes what it writes as it goes instead of reading tens of
 * megabytes back. */
#define MEMORY_BLOCK ((size_t)1 << 18)

typedef struct sealer {
	int fd;
	char *block;
	size_t n;
	uint64_t sum;
	bool good;
} sealer;

static void seal_flush(sealer *w)
{
	if (!w->n)
		return;
	w->sum = buf_hash64(w->block, w->n, w->sum);
	w->good = w->good && buf_write_all(w->fd, w->block, w->n) == 0;
	w->n = 0;
}

static void seal_put(sealer *w, const void *p, size_t len)
{
	const char *c = p;
	while (len) {
		/* Whole blocks straight from where they are: the arrays are
		 * tens of megabytes, only their ends go through the block. */
		if (!w->n && len >= MEMORY_BLOCK) {
			size_t whole = len / MEMORY_BLOCK * MEMORY_BLOCK;
			for (size_t at = 0; at < whole; at += MEMORY_BLOCK)
				w->sum = buf_hash64(c + at, MEMORY_BLOCK, w->sum);
			w->good = w->good && buf_write_all(w->fd, c, whole) == 0;
			c += whole;
			len -= whole;
			continue;
		}
		size_t room = MEMORY_BLOCK - w->n, take = len < room ? len : room;
		memcpy(w->block + w->n, c, take);
		w->n += take;
		c += take;
		len -= take;
		if (w->n == MEMORY_BLOCK)
			seal_flush(w);
	}
}

/* The checksum of len bytes at p as the sealer makes it. */
static uint64_t seal_sum(const char *p, size_t len, uint64_t stamp)
{
	uint64_t sum = stamp;
	for (size_t at = 0; at < len; at += MEMORY_BLOCK)
		sum = buf_hash64(p + at, len - at < MEMORY_BLOCK ? len - at : MEMORY_BLOCK, sum);
	return sum;
}

/* A memory file being written: search_memory_save writes it in one go,
 * a build with no memory run by run (see MEMORY_INDEX, and "the memory
 * streamed"). Both make the same bytes of the same memory. */
typedef struct memory_writer {
	sealer w;
	buf tmp;        /* the file's name until it is whole */
	char *path;
	size_t at;      /* where the next piece would begin, unaligned */
	size_t next;    /* the next piece to write */
	bool has_vocab;
	bool built;
} memory_writer;

static void memory_write_abort(memory_writer *mw)
{
	if (!mw)
		return;
	if (mw->w.fd >= 0) {
		close(mw->w.fd);
		unlink(mw->tmp.ptr);
	}
	free(mw->w.block);
	buf_release(&mw->tmp);
	free(mw->path);
	free(mw);
}

/* Writes m's pieces from the next up to to (or as many as m has), each
 * at a multiple of eight. */
static void memory_write_run(memory_writer *mw, const search_memory *m, size_t to)
{
	static const char zeros[MEMORY_ALIGN];
	if (!mw)
		return;
	memory_piece pieces[MEMORY_PIECES];
	uint64_t counts[MEMORY_COUNTS], trailer[2];
	size_t np = memory_pieces(m, pieces, memory_postings(m), mw->has_vocab, counts, trailer);
	for (; mw->next < to && mw->next < np; mw->next++) {
		const memory_piece *pc = &pieces[mw->next];
		seal_put(&mw->w, zeros, aligned(mw->at) - mw->at);
		if (pc->len)
			seal_put(&mw->w, pc->p, pc->len);
		mw->at = aligned(mw->at) + pc->len;
	}
}

/* Begins the file of m at path (under a temporary name): the head and
 * the word lists. built: whether the file is to hold an index (m's, or
 * with memory_write_run one m will have). NULL when m cannot be written
 * or the file not made. */
static memory_writer *memory_write_begin(const search_memory *m, const char *path,
					 uint64_t stamp, bool built)
{
	if (!m || !m->valid || !m->fm_at || !path || m->keys.n != m->nsdocs ||
	    m->tf.n != m->ids.n || m->cnt.n != m->ids.n)
		return NULL;
	memory_writer *mw = xcalloc(1, sizeof *mw);
	mw->w = (sealer){ -1, NULL, 0, stamp, true };
	buf_init(&mw->tmp);
	mw->path = xstrdup(path);
	mw->has_vocab = m->word_vocab != NULL;
	mw->built = built;
	buf head = BUF_INIT;
	buf_put(&head, MEMORY_MAGIC, sizeof MEMORY_MAGIC - 1);
	uint64_t probe = MEMORY_PROBE;
	buf_put(&head, &probe, sizeof probe);
	buf_put_varint(&head, sizeof(size_t));
	buf_put_varint(&head, MEMORY_FORMAT);
	buf_put_varint(&head, stamp);
	buf_put_zstr(&head, m->language);
	buf_put_varint(&head, m->text_stamp);
	buf_put_varint(&head, m->vocab_gen);
	buf_put_varint(&head, m->words.n);
	for (size_t i = 0; i < m->words.n; i++)
		buf_put_blob(&head, m->words.str[i], m->words.len[i]);
	buf_put_varint(&head, m->word_vocab != NULL);
	buf_put_varint(&head, m->nsdocs);
	for (size_t i = 0; i < m->nsdocs; i++) {
		buf_put_blob(&head, m->keys.str[i], m->keys.len[i]);
		const struct held_doc *h = &m->docs[i];
		buf_put_varint(&head, h->at);
		buf_put_varint(&head, h->n);
		buf_put_varint(&head, h->len);
		const sdoc *d = &m->sdocs[i];
		buf_put_zstr(&head, d->url);
		buf_put_zstr(&head, d->title);
		buf_put_zstr(&head, d->date);
		buf_put_varint(&head, (uint64_t)d->kind);
		buf_put_varint(&head, d->nthemes);
		for (size_t k = 0; k < d->nthemes; k++)
			buf_put_varint(&head, d->themes[k]);
		buf_put_varint(&head, m->fm_at[i + 1] - m->fm_at[i]);
		for (size_t k = m->fm_at[i]; k < m->fm_at[i + 1]; k++)
			buf_put_varint(&head, m->fm.v[k]);
	}
	buf_put_varint(&head, m->nthemes);
	for (size_t i = 0; i < m->nthemes; i++)
		buf_put_zstr(&head, m->themes[i]);
	buf_put_varint(&head, m->ids.n);
	buf_put_varint(&head, built);
	uint64_t len = head.len;
	buf_printf(&mw->tmp, "%s.tmp%ld", path, (long)getpid());
	mw->w.fd = open(mw->tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (mw->w.fd < 0) {
		buf_release(&head);
		memory_write_abort(mw);
		return NULL;
	}
	mw->w.block = xmalloc(MEMORY_BLOCK);
	mw->at = sizeof len + head.len;
	seal_put(&mw->w, &len, sizeof len);
	seal_put(&mw->w, head.ptr, head.len);
	buf_release(&head);
	memory_write_run(mw, m, MEMORY_INDEX);
	return mw;
}

/* Ends the file memory_write_begin began with m's pieces not written
 * yet (m: the same memory, what it lacked then made since), and puts it
 * at its path. Frees mw. Returns 0, or -1 (nothing put there). */
static int memory_write_end(memory_writer *mw, const search_memory *m)
{
	if (!mw)
		return -1;
	if (mw->built != m->built) {
		memory_write_abort(mw);
		return -1;
	}
	memory_write_run(mw, m, MEMORY_PIECES);
	static const char zeros[MEMORY_ALIGN];
	seal_put(&mw->w, zeros, aligned(mw->at) - mw->at);
	seal_flush(&mw->w);
	int fd = mw->w.fd;
	mw->w.fd = -1;
	bool good = mw->w.good && buf_write_all(fd, &mw->w.sum, sizeof mw->w.sum) == 0;
	good = close(fd) == 0 && good;
	int rc = good && rename(mw->tmp.ptr, mw->path) == 0 ? 0 : -1;
	if (rc < 0)
		unlink(mw->tmp.ptr);
	memory_write_abort(mw);
	return rc;
}

int search_memory_save(const search_memory *m, const char *path, uint64_t stamp)
{
	return memory_write_end(memory_write_begin(m, path, stamp, m && m->built), m);
}

/* Whether the n numbers at v are all below limit. */
static bool all_below(const uint32_t *v, size_t n, uint64_t limit)
{
	uint32_t max = 0;
	for (size_t i = 0; i < n; i++)
		max = v[i] > max ? v[i] : max;
	return n == 0 || max < limit;
}

/* Whether what load read into t indexes only what t has: the checks the
 * build that uses it would otherwise have to trust. */
static bool memory_sound(const search_memory *t, size_t total)
{
	size_t nw = t->words.n, nd = t->nsdocs, nt = t->nterms;
	if (!all_below(t->ids.v, t->ids.n, nw) || !all_below(t->fm.v, t->fm.n, t->nthemes))
		return false;
	for (size_t i = 0; i < nd; i++) {
		const struct held_doc *h = &t->docs[i];
		if (h->at > t->ids.n || h->n > t->ids.n - h->at ||
		    !all_below(t->sdocs[i].themes, t->sdocs[i].nthemes, t->nthemes) ||
		    t->sdocs[i].kind < 0 || t->sdocs[i].kind > NKINDS)
			return false;
	}
	if (!t->built)
		return true;
	const index_made *d = &t->made;
	if (!all_below(d->word_term, nw, nt) || !all_below(d->order, nd, nd) ||
	    !all_below(d->pdoc, total, nd))
		return false;
	for (size_t w = 0; w < nw; w++) {
		uint32_t sp = d->word_split[w];
		if (sp == UINT32_MAX)
			continue;
		if (sp >= d->parts.n || d->parts.v[sp] > d->parts.n - sp - 1 ||
		    !all_below(d->parts.v + sp + 1, d->parts.v[sp], nw))
			return false;
	}
	uint64_t at = 0;
	for (size_t k = 0; k < nt; k++) {
		unsigned char b;
		memcpy(&b, &d->term_surface[k], 1);
		if (b > 1 || d->post_off[k] != at || d->enc_at[k] > d->enc.len ||
		    d->enc_len[k] > d->enc.len - d->enc_at[k])
			return false;
		at += d->post_n[k];
	}
	return at == total;
}

/* The head's strings as a strtab, ids in file order (each one once). */
static bool read_strtab(buf_reader *r, size_t n, strtab *t, pool *p)
{
	for (size_t i = 0; i < n && !r->bad; i++) {
		size_t len;
		const char *s = buf_get_blob(r, &len);
		bool added;
		if (r->bad || strtab_add(t, p, s ? s : "", len, &added) != i || !added)
			return false;
	}
	return !r->bad;
}

static char *get_owned_str(buf_reader *r)
{
	const char *s = buf_get_zstr(r);
	return s ? xstrdup(s) : NULL;
}

int search_memory_load(search_memory *m, const char *path, uint64_t stamp)
{
	search_memory t;
	memset(&t, 0, sizeof t);
	buf_init(&t.made.enc);
	bool good = false;
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	uint64_t len;
	const char *base = NULL;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < (off_t)(2 * sizeof len))
		goto out;
	t.map_len = (size_t)st.st_size;
	t.map = mmap(NULL, t.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (t.map == MAP_FAILED) {
		t.map = NULL;
		goto out;
	}
	base = t.map;
	uint64_t want;
	memcpy(&want, base + t.map_len - sizeof want, sizeof want);
	if (seal_sum(base, t.map_len - sizeof want, stamp) != want)
		goto out;
	memcpy(&len, base, sizeof len);
	uint64_t probe;
	if (len > t.map_len - 2 * sizeof len || len < sizeof MEMORY_MAGIC - 1 + sizeof probe ||
	    memcmp(base + sizeof len, MEMORY_MAGIC, sizeof MEMORY_MAGIC - 1) != 0)
		goto out;
	const char *head = base + sizeof len;
	buf_reader rd, *r = &rd;
	buf_reader_init(r, head, (size_t)len);
	memcpy(&probe, head + sizeof MEMORY_MAGIC - 1, sizeof probe);
	r->p += sizeof MEMORY_MAGIC - 1 + sizeof probe;
	if (probe != MEMORY_PROBE || buf_get_varint(r) != sizeof(size_t) ||
	    buf_get_varint(r) != MEMORY_FORMAT || buf_get_varint(r) != stamp)
		goto out;
	const char *language = buf_get_zstr(r);
	t.language = xstrdup(language ? language : "");
	t.text_stamp = buf_get_varint(r);
	t.vocab_gen = buf_get_varint(r);
	size_t nw = buf_get_count(r);
	if (!read_strtab(r, nw, &t.words, &t.strings))
		goto out;
	bool has_vocab = buf_get_varint(r) != 0;
	size_t nd = buf_get_count(r);
	t.nsdocs = nd;
	t.docs = xcalloc(nd + 1, sizeof *t.docs);
	t.sdocs = xcalloc(nd + 1, sizeof *t.sdocs);
	t.fm_at = xcalloc(nd + 1, sizeof *t.fm_at);
	for (size_t i = 0; i < nd && !r->bad; i++) {
		size_t klen;
		const char *key = buf_get_blob(r, &klen);
		bool added;
		if (r->bad || strtab_add(&t.keys, &t.key_strings, key ? key : "", klen, &added) != i ||
		    !added)
			goto out;
		struct held_doc *h = &t.docs[i];
		h->at = (size_t)buf_get_varint(r);
		h->n = (size_t)buf_get_varint(r);
		h->len = (uint32_t)buf_get_varint(r);
		sdoc *d = &t.sdocs[i];
		d->url = get_owned_str(r);
		d->title = get_owned_str(r);
		d->date = get_owned_str(r);
		d->kind = (int)buf_get_varint(r);
		d->nthemes = buf_get_count(r);
		d->themes = xcalloc(d->nthemes + 1, sizeof *d->themes);
		for (size_t k = 0; k < d->nthemes; k++)
			d->themes[k] = (uint32_t)buf_get_varint(r);
		size_t nfm = buf_get_count(r);
		t.fm_at[i] = t.fm.n;
		for (size_t k = 0; k < nfm && !r->bad; k++)
			vec_push(&t.fm, (uint32_t)buf_get_varint(r));
	}
	t.fm_at[nd] = t.fm.n;
	t.nthemes = buf_get_count(r);
	t.themes = xcalloc(t.nthemes + 1, sizeof *t.themes);
	for (size_t i = 0; i < t.nthemes && !r->bad; i++)
		if (!(t.themes[i] = get_owned_str(r)))
			r->bad = true;
	/* The big arrays' counts, bounded by the file's size before the
	 * lengths are worked out from them: the word lists' from the head,
	 * the index's from its counts piece (MEMORY_INDEX), the last ones'
	 * from the trailer (MEMORY_LATE), each read when the walk reaches
	 * it (memory_pieces takes them from t). */
	uint64_t nids = buf_get_varint(r), total = 0;
	t.built = buf_get_varint(r) != 0;
	uint64_t left = t.map_len - 2 * sizeof len - len;
	if (r->bad || r->p != r->end || nids > left)
		goto out;
	t.ids.n = t.tf.n = t.cnt.n = (size_t)nids;
	memory_piece pieces[MEMORY_PIECES];
	uint64_t counts[MEMORY_COUNTS], trailer[2];
	size_t np = memory_pieces(&t, pieces, 0, has_vocab, counts, trailer);
	size_t at = sizeof len + (size_t)len;
	for (size_t k = 0; k < np; k++) {
		if (pieces[k].len > t.map_len || aligned(at) > t.map_len - pieces[k].len)
			goto out;
		if (k == MEMORY_INDEX) {
			memcpy(counts, base + aligned(at), sizeof counts);
			total = counts[1];
			if (counts[0] > left || total > left || counts[2] > left ||
			    total > UINT32_MAX || counts[5] > counts[0])
				goto out;
			t.nterms = (size_t)counts[0];
			t.made.parts.n = (size_t)counts[2];
			memcpy(&t.made.max_impact, &counts[3], sizeof counts[3]);
			memcpy(&t.made.avgdl, &counts[4], sizeof counts[4]);
			t.made.max_holder = (uint32_t)counts[5];
		} else if (k == MEMORY_LATE) {
			memcpy(trailer, base + aligned(at), sizeof trailer);
			if (trailer[0] > left || trailer[1] > left)
				goto out;
			t.made.enc.len = (size_t)trailer[0]; /* for the lengths */
			t.ndfp = (size_t)trailer[1];
		}
		if (k == MEMORY_INDEX || k == MEMORY_LATE) {
			np = memory_pieces(&t, pieces, (size_t)total, has_vocab, counts, trailer);
			t.made.enc.len = 0;
		}
		at = aligned(at) + pieces[k].len;
	}
	if (aligned(at) != t.map_len - sizeof len)
		goto out;
	char *where[MEMORY_PIECES] = { NULL };
	at = sizeof len + (size_t)len;
	for (size_t k = 0; k < np; k++) {
		if (k > 0 || has_vocab)
			where[k] = (char *)t.map + aligned(at);
		at = aligned(at) + pieces[k].len;
	}
	memory_point(&t, where, pieces);
	/* Room as long as they are, for the arrays that record theirs. */
	t.ids.cap = t.tf.cap = t.cnt.cap = t.ids.n;
	t.made.parts.cap = t.made.parts.n;
	t.made.post_cap = t.made.pq_cap = t.made.pq_raw_cap = (size_t)total;
	if (!memory_sound(&t, (size_t)total))
		goto out;
	t.valid = true;
	good = true;
out:
	if (fd >= 0)
		close(fd);
	if (!good) {
		memory_clear(&t, false);
		return -1;
	}
	spare spares[SPARE_COUNT];
	memcpy(spares, m->spares, sizeof spares);
	memory_clear(m, false);
	*m = t;
	memcpy(m->spares, spares, sizeof spares);
	return 0;
}

/* Numbers the themes of docs[0..n) (the index's first documents) in
 * document order, as adding them one by one does: the first occurrence
 * decides. For the memory, each document's themes as written (first
 * occurrences) are noted in ix->fm. A document the memory holds
 * (held[i] >= 0; held may be NULL) is numbered from the memory's note,
 * its theme number k becoming map[k]: the document itself is not read. */
static void number_themes(search_index *ix, const document *docs, size_t n, const long *held,
			  uint32_t *map)
{
	const search_memory *m = ix->memory;
	bool note = m != NULL || ix->stream_path;
	if (note) {
		ix->fm.n = 0;
		free(ix->fm_at);
		ix->fm_at = xmalloc((n + 1) * sizeof *ix->fm_at);
	}
	for (size_t i = 0; i < n; i++) {
		if (note)
			ix->fm_at[i] = ix->fm.n;
		if (held && held[i] >= 0) {
			size_t h = (size_t)held[i];
			for (size_t k = m->fm_at[h]; k < m->fm_at[h + 1]; k++) {
				uint32_t old = m->fm.v[k];
				if (map[old] == UINT32_MAX)
					map[old] = theme_index(ix, m->themes[old]);
				vec_push(&ix->fm, map[old]);
			}
			continue;
		}
		for (size_t k = 0; k < docs[i].fm.nthemes; k++) {
			uint32_t t = theme_index(ix, docs[i].fm.themes[k]);
			bool seen = !note;
			for (size_t j = ix->fm_at[i]; note && j < ix->fm.n && !seen; j++)
				seen = ix->fm.v[j] == t;
			if (!seen)
				vec_push(&ix->fm, t);
		}
	}
	if (note)
		ix->fm_at[n] = ix->fm.n;
}

/* Takes over what the last build made of a document it held (see
 * struct search_memory), its themes renumbered through map. */
static void take_sdoc(sdoc *d, sdoc *from, const uint32_t *map)
{
	*d = *from;
	memset(from, 0, sizeof *from);
	for (size_t k = 0; k < d->nthemes; k++)
		d->themes[k] = map[d->themes[k]];
	qsort(d->themes, d->nthemes, sizeof *d->themes, compare_u32);
	d->words = d->nwords = 0;
	d->len = 0;
}

/* One thread's share of texts_settle's look at the text files: whether
 * each held document's is in the output as the page cache knows it (a
 * stat each, ten thousand of them, so on all threads). */
typedef struct fresh_part {
	search_index *ix;
	const long *held;
	size_t from, to;
	bool *fresh;
} fresh_part;

static void *fresh_run(void *arg)
{
	fresh_part *p = arg;
	search_index *ix = p->ix;
	char rel[64];
	for (size_t i = p->from; i < p->to; i++) {
		if (p->held[i] < 0)
			continue;
		text_file_name(rel, i);
		p->fresh[i] = ix->keeper.fresh(ix->keeper.ctx, rel,
					       text_fp(ix->keys.str[i], ix->keys.len[i], i));
	}
	return NULL;
}

static bool *texts_fresh(search_index *ix, size_t n, const long *held)
{
	bool *fresh = xcalloc(n + 1, sizeof *fresh);
	if (!ix->has_keeper)
		return fresh;
	size_t nparts = ix->jobs > 1 && n >= 256 ? (size_t)ix->jobs : 1;
	fresh_part *parts = xcalloc(nparts, sizeof *parts);
	for (size_t p = 0; p < nparts; p++)
		parts[p] = (fresh_part){ ix, held, n * p / nparts, n * (p + 1) / nparts, fresh };
	jobs_run(parts, nparts, sizeof *parts, fresh_run);
	free(parts);
	return fresh;
}

/* Adds docs (numbers 0..n) with the memory: held[i] is the slot of
 * docs[i] in it, or -1. The others are added on one thread, like
 * search_add_document; then every document's words go into the index in
 * document order. */
static int add_remembered(search_index *ix, const document *docs, size_t n, const long *held,
			  search_emit_fn emit, void *ctx, gen_err *err)
{
	search_memory *m = ix->memory;
	worker *w = &ix->serial;
	int rc = 0;
	/* Its documents' slots are taken from it below: it holds this
	 * build's again only when search_free gives it them. */
	m->valid = false;
	uint32_t *theme_map = xmalloc((m->nthemes + 1) * sizeof *theme_map);
	memset(theme_map, 0xff, (m->nthemes + 1) * sizeof *theme_map);
	number_themes(ix, docs, n, held, theme_map);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (held[i] < 0) {
			rc = add_document(w, i, &docs[i], true, emit, ctx, err);
			continue;
		}
		/* Held: its record stays in the build cache (read, so kept,
		 * by search_add_documents), and what it was is taken from
		 * the memory. With a keeper its text file is looked for in
		 * the output later (texts_settle); without one it is made
		 * again. Its key is the index's key number i. */
		if (ix->has_keeper) {
			take_sdoc(&ix->docs[i], &m->sdocs[held[i]], theme_map);
			continue;
		}
		search_doc sd = doc_of(&docs[i]);
		doc_begin(w, i, &sd, true);
		doc_input(&docs[i], &w->input);
		add_input(w, &w->input, false);
		rc = doc_end(w, emit, ctx, err);
	}
	free(theme_map);
	if (rc < 0) {
		worker_release(w);
		return rc;
	}
	if (ix->has_keeper) {
		free(ix->unsettled);
		ix->unsettled = xmalloc((n ? n : 1) * sizeof *held);
		memcpy(ix->unsettled, held, n * sizeof *held);
		ix->unsettled_docs = docs;
		ix->unsettled_n = n;
	}
	/* The words, document by document: ids a clean build would give. */
	uint32_t *from_memory = xmalloc((m->words.n + 1) * sizeof *from_memory);
	uint32_t *from_worker = xmalloc((w->words.n + 1) * sizeof *from_worker);
	memset(from_memory, 0xff, (m->words.n + 1) * sizeof *from_memory);
	memset(from_worker, 0xff, (w->words.n + 1) * sizeof *from_worker);
	/* A memory read from a file leaves with this one-shot build: the
	 * held documents' words stay in its mapping until they are needed
	 * in dw_* (words_materialize), which a rebuild after an edit never
	 * does unless the memory is to be written again (memory_worth):
	 * millions of entries not copied, their pages not faulted in. */
	bool lazy = m->map != NULL && m->lean;
	if (lazy) {
		free(ix->held_at);
		ix->held_at = xmalloc((n + 1) * sizeof *ix->held_at);
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += held[i] >= 0 ? (lazy ? 0 : m->docs[held[i]].n) : ix->docs[i].nwords;
	if (ix->dw_word.n || ix->dw_tf.n || ix->dw_cnt.n) {
		vec_reserve(&ix->dw_word, total);
		vec_reserve(&ix->dw_tf, total);
		vec_reserve(&ix->dw_cnt, total);
	} else {
		vec_take(&ix->dw_word, spare_of(ix, SPARE_IDS), total);
		vec_take(&ix->dw_tf, spare_of(ix, SPARE_TF), total);
		vec_take(&ix->dw_cnt, spare_of(ix, SPARE_CNT), total);
	}
	for (size_t i = 0; i < n; i++) {
		sdoc *d = &ix->docs[i];
		size_t start = ix->dw_word.n;
		if (held[i] >= 0) {
			/* Millions of words at ten thousand articles: the
			 * counts are copied as they are, only ids looked up. */
			const struct held_doc *h = &m->docs[held[i]];
			const uint32_t *ids = m->ids.v + h->at, *cnt = m->cnt.v + h->at;
			uint32_t *to = lazy ? NULL : ix->dw_word.v + start;
			if (lazy)
				ix->held_at[i] = h->at;
			for (size_t k = 0; k < h->n; k++) {
				uint32_t old = ids[k];
				if (from_memory[old] == UINT32_MAX) {
					from_memory[old] = index_word(ix, m->words.str[old],
								      m->words.len[old]);
					if (m->word_vocab && m->vocab_gen == vocab_gen(ix) &&
					    ix->word_vocab[from_memory[old]] == UINT32_MAX)
						ix->word_vocab[from_memory[old]] =
							m->word_vocab[old];
				}
				uint32_t g = from_memory[old];
				ix->word_freq[g] += cnt[k];
				if (to)
					to[k] = g;
			}
			if (!lazy) {
				memcpy(ix->dw_tf.v + start, m->tf.v + h->at,
				       h->n * sizeof *ix->dw_tf.v);
				memcpy(ix->dw_cnt.v + start, cnt, h->n * sizeof *cnt);
				ix->dw_word.n += h->n;
				ix->dw_tf.n += h->n;
				ix->dw_cnt.n += h->n;
			}
			d->nwords = h->n;
			d->len = h->len;
			ix->held++;
		} else {
			if (lazy)
				ix->held_at[i] = SIZE_MAX;
			for (size_t k = 0; k < d->nwords; k++) {
				uint32_t l = w->dw_word.v[d->words + k];
				if (from_worker[l] == UINT32_MAX) {
					from_worker[l] = index_word(ix, w->words.str[l], w->words.len[l]);
					ix->word_freq[from_worker[l]] += w->freq[l];
					if (ix->word_vocab[from_worker[l]] == UINT32_MAX)
						ix->word_vocab[from_worker[l]] = w->lvocab[l];
				}
				vec_push(&ix->dw_word, from_worker[l]);
				vec_push(&ix->dw_tf, w->dw_tf.v[d->words + k]);
				vec_push(&ix->dw_cnt, w->dw_cnt.v[d->words + k]);
			}
		}
		d->words = start;
		ix->total_len += d->len;
	}
	ix->texts_kept += w->texts_kept;
	take_pending(ix, w);
	/* search_write may take the postings from the memory's last index
	 * when every document the memory holds kept its number; it needs
	 * to know what became of their words. */
	bool same_numbers = m->built && n == m->nsdocs;
	for (size_t i = 0; same_numbers && i < n; i++) {
		if (held[i] >= 0 && (size_t)held[i] != i)
			same_numbers = false;
		else if (held[i] < 0)
			vec_push(&ix->changed, (uint32_t)i);
	}
	ix->after = same_numbers;
	/* Kept for the held documents' words too (words_materialize). */
	if (same_numbers || lazy)
		ix->from_memory = from_memory;
	else
		free(from_memory);
	free(from_worker);
	worker_release(w);
	return 0;
}

/* The held documents' text files (see add_remembered): each kept where
 * the output holds it as the page cache knows it, else made again, what
 * the index took from the memory for the document left as it is. The
 * first look at the output waits for its reading (a keeper's fresh). */
static int texts_settle(search_index *ix, gen_err *err)
{
	long *held = ix->unsettled;
	if (!held)
		return 0;
	ix->unsettled = NULL;
	size_t n = ix->unsettled_n;
	const document *docs = ix->unsettled_docs;
	bool *fresh = texts_fresh(ix, n, held);
	worker w;
	worker_init(&w, ix);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (held[i] < 0)
			continue;
		if (fresh[i]) {
			ix->texts_kept++;
			continue;
		}
		text_file tf = { &ix->keeper, text_fp(ix->keys.str[i], ix->keys.len[i], i) };
		sdoc taken = ix->docs[i];
		search_doc sd = doc_of(&docs[i]);
		doc_begin(&w, i, &sd, true);
		doc_input(&docs[i], &w.input);
		add_input(&w, &w.input, false);
		rc = doc_end(&w, emit_text, &tf, err);
		sdoc_release(&ix->docs[i]);
		ix->docs[i] = taken;
	}
	worker_release(&w);
	free(fresh);
	free(held);
	return rc;
}

int search_add_documents(search_index *ix, const document *docs, size_t n, int jobs,
			 search_emit_fn emit, void *ctx, gen_err *err)
{
	merge_serial(ix);
	if (ix->ndocs + n > ix->docs_cap) {
		ix->docs_cap = ix->ndocs + n;
		ix->docs = xrealloc(ix->docs, ix->docs_cap * sizeof *ix->docs);
	}
	size_t base = ix->ndocs;
	ix->jobs = jobs;
	/* With a memory: every document's key, and which the memory holds.
	 * It is used when it holds most of them; otherwise the documents are
	 * added as without one, on all threads, and it learns them all. */
	bool whole = (ix->memory || ix->stream_path) && base == 0 && ix->words.n == 0;
	if (whole) {
		/* With a memory file only (search_set_memory_file): the
		 * keys, for the memory the index writes. */
		search_memory *m = ix->memory;
		bool usable = m && m->valid && m->fm_at && strcmp(m->language, ix->language) == 0 &&
			      m->text_stamp == ix->text_stamp;
		long *held = xmalloc((n ? n : 1) * sizeof *held);
		size_t missing = 0, moved = 0;
		site_keys(ix, docs, n);
		for (size_t i = 0; i < n; i++) {
			const char *key = ix->site_keys.ptr + ix->site_key_at[i];
			size_t klen = ix->site_key_at[i + 1] - ix->site_key_at[i];
			uint32_t h = hash_bytes(key, klen);
			strtab_add_hashed(&ix->keys, &ix->key_strings, key, klen, h, NULL);
			held[i] = usable ? strtab_lookup(&m->keys, key, klen, h) : -1;
			/* Held only with its record in the cache, and sound: a
			 * memory may outlive the records (search.pack damaged
			 * or deleted, its memory file not), and a document
			 * held is not read, so its record would not be made
			 * again, nor its damage found. */
			size_t rlen;
			if (held[i] >= 0 && ix->cache && !cache_get(ix->cache, key, klen, &rlen))
				held[i] = -1;
			missing += held[i] < 0;
			moved += held[i] >= 0 && (size_t)held[i] != i;
		}
		/* Key number i is document i's: two documents with one key
		 * (one path) would make it otherwise, and then nothing is
		 * taken from the memory nor given to it. */
		whole = ix->keys.n == n;
		usable = usable && whole;
		/* A document that moved has another number, and so another
		 * text file to write: when many did (one added or removed
		 * before them), the threads do that faster. */
		if (usable && missing + moved <= n / 8) {
			/* The vocabulary is read only for documents to read
			 * or tokenise; else the memory's numbers carry over. */
			if (missing)
				vocab_ready(ix);
			else if (cache_keep(ix->cache, VOCAB_KEY, VOCAB_KEY_LEN))
				ix->carry_gen = m->vocab_gen;
			ix->ndocs = n;
			int rc = add_remembered(ix, docs, n, held, emit, ctx, err);
			markdown_drops_flush(&ix->serial.drops);
			free(held);
			ix->serial_from = ix->ndocs;
			ix->remember = rc == 0;
			if (rc == 0)
				flush_records(ix);
			ix->keys_of = NULL; /* another array may come at that address */
			return rc;
		}
		free(held);
	}
	/* Themes get their numbers here, in document order, as one by one;
	 * the memory (a whole index's) notes each document's. */
	if (whole)
		number_themes(ix, docs, n, NULL, NULL);
	else
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < docs[i].fm.nthemes; k++)
				theme_index(ix, docs[i].fm.themes[k]);
	if (jobs < 1 || n < 64)
		jobs = 1;
	if ((size_t)jobs > n)
		jobs = (int)n;
	vocab_ready(ix);
	job *js = xcalloc((size_t)jobs + 1, sizeof *js);
	for (int k = 0; k < jobs; k++) {
		job *j = &js[k];
		worker_init(&j->w, ix);
		j->docs = docs;
		j->from = n * (size_t)k / (size_t)jobs;
		j->to = n * (size_t)(k + 1) / (size_t)jobs;
		j->base = base;
		j->emit = emit;
		j->ctx = ctx;
		err_clear(&j->err);
	}
	/* Every slot is filled by a job before anything reads it, but for
	 * those after a job's error, which stay empty. */
	if (n)
		memset(ix->docs + base, 0, n * sizeof *ix->docs);
	ix->ndocs = base + n;
	jobs_run(js, (size_t)jobs, sizeof *js, run_job);
	int rc = 0;
	for (int k = 0; k < jobs; k++) {
		if (rc == 0 && js[k].rc < 0) {
			rc = js[k].rc;
			if (err)
				*err = js[k].err;
		}
	}
	if (rc == 0) {
		/* The dictionary in document order on this thread, then the
		 * word lists, millions of entries, on all. */
		size_t total = 0;
		for (int k = 0; k < jobs; k++) {
			js[k].map = map_worker(ix, &js[k].w);
			total += js[k].w.dw_word.n;
		}
		size_t at = room_for_words(ix, total);
		for (int k = 0; k < jobs; k++) {
			js[k].at = at;
			at += js[k].w.dw_word.n;
		}
		jobs_run(js, (size_t)jobs, sizeof *js, copy_job);
	}
	for (int k = 0; k < jobs; k++) {
		free(js[k].map);
		worker_release(&js[k].w);
	}
	ix->serial_from = ix->ndocs;
	free(js);
	ix->remember = whole && rc == 0;
	if (rc == 0)
		flush_records(ix);
	ix->keys_of = NULL; /* another array may come at that address */
	return rc;
}

/* ---- building: stems and compounds ------------------------------------ */

static void grow_words(search_index *ix)
{
	size_t n = ix->words.n ? ix->words.n : 1;
	ix->made.word_term = xcalloc(n, sizeof *ix->made.word_term);
	ix->made.word_split = xmalloc(n * sizeof *ix->made.word_split);
	for (size_t i = 0; i < n; i++)
		ix->made.word_split[i] = UINT32_MAX;
	if (!ix->word_freq)
		ix->word_freq = xcalloc(n, sizeof *ix->word_freq);
}

static void stem_all(search_index *ix)
{
	buf stem = BUF_INIT;
	for (size_t w = 0; w < ix->words.n; w++) {
		stem_word(ix, ix->words.str[w], ix->words.len[w], &stem);
		ix->made.word_term[w] = strtab_add(&ix->terms, &ix->strings, stem.ptr, stem.len, NULL);
	}
	ix->made.term_surface = xcalloc(ix->terms.n + 1, sizeof *ix->made.term_surface);
	for (size_t w = 0; w < ix->words.n; w++) {
		long t = strtab_find(&ix->terms, ix->words.str[w], ix->words.len[w]);
		if (t >= 0)
			ix->made.term_surface[t] = true;
	}
	buf_release(&stem);
}

static bool has_digit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= '0' && s[i] <= '9')
			return true;
	return false;
}

/* The id of s[0..len) as a word that may be a compound part, or -1.
 * Stop words are never parts, and they are not in ix->words either
 * (merge_worker leaves them out), so the lookup refuses them too. */
static long part_id(const search_index *ix, const char *s, size_t len)
{
	if (len < MIN_PART || (((unsigned char)s[0] & 0xC0) == 0x80))
		return -1;
	return strtab_find(&ix->words, s, len);
}

typedef struct split {
	uint32_t part[3];
	int n;
	double score;   /* mean log frequency of the parts */
} split;

/* Tries every way to cut w[from..len) into one or two parts (with an
 * optional linking "s" between them, as in "veiligheidsregels"), keeping
 * the best in *best. prefix holds the parts already chosen. */
static void try_splits(const search_index *ix, const char *w, size_t len, size_t from,
		       const split *prefix, split *best)
{
	long whole = part_id(ix, w + from, len - from);
	if (whole >= 0 && prefix->n > 0) {
		split s = *prefix;
		s.part[s.n++] = (uint32_t)whole;
		double sum = 0;
		for (int i = 0; i < s.n; i++)
			sum += log((double)ix->word_freq[s.part[i]]);
		s.score = sum / s.n;
		if (s.score > best->score + 1e-12 ||
		    (fabs(s.score - best->score) <= 1e-12 && s.n < best->n))
			*best = s;
	}
	if (prefix->n >= 2)
		return;
	for (size_t cut = from + MIN_PART; cut + MIN_PART <= len; cut++) {
		long head = part_id(ix, w + from, cut - from);
		if (head < 0)
			continue;
		split s = *prefix;
		s.part[s.n++] = (uint32_t)head;
		try_splits(ix, w, len, cut, &s, best);
		if (w[cut] == 's' && cut + 1 + MIN_PART <= len)
			try_splits(ix, w, len, cut + 1, &s, best);
	}
}

/* Splits each long word into words the handbook uses elsewhere, when its
 * parts are more common than the word itself (the geometric mean of their
 * frequencies is larger): "klanttevredenheid" splits into "klant" and
 * "tevredenheid", but "verstand" does not become "vers" + "tand" in a
 * text that uses "verstand" more than those two. */
static void split_all(search_index *ix)
{
	for (size_t w = 0; w < ix->words.n; w++) {
		const char *s = ix->words.str[w];
		size_t len = ix->words.len[w];
		if (len < MIN_COMPOUND || has_digit(s, len))
			continue;
		split none = { { 0 }, 0, 0 };
		split best = { { 0 }, 0, log((double)ix->word_freq[w]) };
		try_splits(ix, s, len, 0, &none, &best);
		if (best.n < 2)
			continue;
		ix->made.word_split[w] = (uint32_t)ix->made.parts.n;
		vec_push(&ix->made.parts, (uint32_t)best.n);
		for (int i = 0; i < best.n; i++)
			vec_push(&ix->made.parts, best.part[i]);
	}
}

void search_split(const search_index *ix, const char *word, buf *out)
{
	long w = strtab_find(&ix->words, word, strlen(word));
	if (w < 0 || !ix->made.word_split || ix->made.word_split[w] == UINT32_MAX)
		return;
	const uint32_t *p = ix->made.parts.v + ix->made.word_split[w];
	for (uint32_t i = 0; i < p[0]; i++) {
		if (i)
			buf_putc(out, '+');
		buf_puts(out, ix->words.str[p[1 + i]]);
	}
}

/* ---- building: postings and scores ------------------------------------ */

typedef struct doc_key {
	const sdoc *d;
	uint32_t added;
} doc_key;

/* Documents in index order: by kind, then themes, then as added, so
 * that the facets of all documents compress to a few runs. */
static int compare_docs(const void *a, const void *b)
{
	const doc_key *x = a, *y = b;
	const sdoc *p = x->d, *q = y->d;
	if (p->kind != q->kind)
		return p->kind < q->kind ? -1 : 1;
	for (size_t i = 0; i < p->nthemes && i < q->nthemes; i++)
		if (p->themes[i] != q->themes[i])
			return p->themes[i] < q->themes[i] ? -1 : 1;
	if (p->nthemes != q->nthemes)
		return p->nthemes < q->nthemes ? -1 : 1;
	return x->added < y->added ? -1 : x->added > y->added;
}

/* The weighted count of each term in document d, into tacc (indexed by
 * term, zero outside the terms listed in touched). */
static void doc_terms(const search_index *ix, const sdoc *d, double *tacc, vec32 *touched)
{
	touched->n = 0;
	for (size_t i = 0; i < d->nwords; i++) {
		uint32_t w = ix->dw_word.v[d->words + i];
		double tf = ix->dw_tf.v[d->words + i] / 2.0;
		uint32_t t = ix->made.word_term[w];
		if (tacc[t] == 0)
			vec_push(touched, t);
		tacc[t] += tf;
		if (ix->made.word_split[w] == UINT32_MAX)
			continue;
		const uint32_t *p = ix->made.parts.v + ix->made.word_split[w];
		for (uint32_t k = 0; k < p[0]; k++) {
			uint32_t pt = ix->made.word_term[p[1 + k]];
			if (pt == t)
				continue;
			if (tacc[pt] == 0)
				vec_push(touched, pt);
			tacc[pt] += tf * PART_WEIGHT;
		}
	}
}

/* The highest level whose lower bound impact reaches, at least 1: a
 * binary search in steps that halve, with no branch to mispredict. */
static uint8_t quantize(const search_index *ix, double impact)
{
	int q = 1;
	for (int step = 32; step > 0; step /= 2)
		q += (q + step <= IMPACT_LEVELS && impact >= ix->bound[q + step]) ? step : 0;
	return (uint8_t)q;
}

static uint32_t float_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static float bits_float(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* quantize for every posting, which holds its impact as a float: the
 * floats whose top QUANTIZE_BITS bits (sign, exponent and the first
 * mantissa bits) are the same span less than one level where they are
 * normal (1/16 of an octave against 0.16), so the table gives the level
 * of the run's smallest and one compare says whether the impact is a
 * level higher. A run that spans more (denormals, infinities, NaN) is
 * marked slow at scale_init and goes through quantize. */
static uint8_t quantize_float(const search_index *ix, float impact)
{
	uint32_t u = float_bits(impact);
	uint8_t q = ix->qtable[u >> (32 - QUANTIZE_BITS)];
	if (q == QUANTIZE_SLOW)
		return quantize(ix, impact);
	return (uint8_t)(q + (q < IMPACT_LEVELS && (double)impact >= ix->bound[q + 1]));
}

static void qtable_init(search_index *ix)
{
	for (uint32_t run = 0; run < (1u << QUANTIZE_BITS); run++) {
		uint32_t first = run << (32 - QUANTIZE_BITS);
		uint32_t last = first | ((1u << (32 - QUANTIZE_BITS)) - 1);
		float lo = bits_float(first), hi = bits_float(last);
		/* Negative floats go down as their bits go up: their levels
		 * are 1 at both ends, as no impact is negative. */
		uint8_t a = quantize(ix, lo), b = quantize(ix, hi);
		bool fits = isfinite(lo) && isfinite(hi) && a <= b && b - a <= 1;
		ix->qtable[run] = fits ? a : QUANTIZE_SLOW;
	}
}

/* Level q stands for max * IMPACT_RATIO^(q - IMPACT_LEVELS); a score gets
 * the nearest level (on the log scale), at least 1. The tables spare a
 * log() per posting. */
static void scale_init(search_index *ix, double max)
{
	ix->made.max_impact = max;
	for (int q = 0; q <= IMPACT_LEVELS; q++) {
		ix->unit_level[q] = pow(IMPACT_RATIO, (double)q - IMPACT_LEVELS);
		ix->unit_bound[q] = pow(IMPACT_RATIO, (double)q - IMPACT_LEVELS - 0.5);
		ix->level[q] = max * ix->unit_level[q];
		ix->bound[q] = max * ix->unit_bound[q];
	}
	qtable_init(ix);
}

double search_top_impact(const search_index *ix)
{
	return ix->made.max_impact;
}

unsigned search_level(const search_index *ix, float impact)
{
	return quantize_float(ix, impact);
}

static double dequantize(const search_index *ix, uint8_t q)
{
	return ix->level[q];
}

/* BM25's length normalisation of a document of len index words, and the
 * score of a term with inverse document frequency idf and weighted count
 * tf in it: one place, so that postings scored again from the memory
 * (build_postings_after) come out as those made here, to the bit. */
/* The average length BM25 normalises by, on a grid of 32 points per
 * doubling (1.6-3.1% apart): an edit of a few words leaves it where it
 * was, and with it the score of every posting of a term the edit did
 * not touch, so that a rebuild scores only the touched terms again
 * (score_touched). A build from nothing lands on the same grid point,
 * and scores move by less than a level's width (IMPACT_RATIO). */
static double grid_avgdl(uint64_t total_len, size_t nd)
{
	double avg = nd ? (double)total_len / (double)nd : 1;
	if (!(avg > 1))
		return 1;
	int e;
	frexp(avg, &e);
	double step = ldexp(1, e - 6);
	return round(avg / step) * step;
}

static inline double doc_norm(uint32_t len, double avgdl)
{
	return BM25_K1 * (1 - BM25_B + BM25_B * (double)len / avgdl);
}

static inline double bm25(double idf, double tf, double norm)
{
	return idf * tf * (BM25_K1 + 1) / (tf + norm);
}

/* The postings are made by documents in index order, split into ranges
 * (one per thread): each range counts its documents per term, so that
 * every range knows where its postings of a term start, and then fills
 * them in, each posting scored on its own. The result does not depend
 * on the number of ranges. */
typedef struct posting_part {
	search_index *ix;
	size_t from, to;     /* index order */
	uint32_t *count;     /* per term: documents of this range */
	uint32_t *next;      /* per term: where the next posting goes */
	const double *idf;
	double avgdl;
	float *impact;
	double max;
	uint32_t max_term;   /* a term with a posting scoring max */
	int pass;            /* 0: count, 1: fill, 2: quantize [from, to) */
} posting_part;

static void *posting_run(void *arg)
{
	posting_part *p = arg;
	search_index *ix = p->ix;
	size_t nt = ix->terms.n;
	if (p->pass == 2) {
		for (size_t i = p->from; i < p->to; i++)
			ix->made.pq[i] = quantize_float(ix, p->impact[i]);
		return NULL;
	}
	double *tacc = xcalloc(nt + 1, sizeof *tacc);
	vec32 touched = { NULL, 0, 0 };
	for (size_t k = p->from; k < p->to; k++) {
		const sdoc *d = &ix->docs[ix->made.order[k]];
		doc_terms(ix, d, tacc, &touched);
		double norm = doc_norm(d->len, p->avgdl);
		for (size_t i = 0; i < touched.n; i++) {
			uint32_t t = touched.v[i];
			if (p->pass == 0) {
				p->count[t]++;
			} else {
				/* Rounded as ptf keeps it: an index made from
				 * the memory's counts scores the same. */
				double tf = (float)tacc[t];
				double sc = bm25(p->idf[t], tf, norm);
				size_t at = p->next[t]++;
				ix->made.pdoc[at] = (uint32_t)k;
				if (ix->made.ptf)
					ix->made.ptf[at] = (float)tf;
				p->impact[at] = (float)sc;
				if (sc > p->max) {
					p->max = sc;
					p->max_term = t;
				}
			}
			tacc[t] = 0;
		}
	}
	free(tacc);
	free(touched.v);
	return NULL;
}

/* The documents in index order (compare_docs): ix->made.order. */
static void order_docs(search_index *ix)
{
	size_t nd = ix->ndocs;
	doc_key *keys = xmalloc((nd + 1) * sizeof *keys);
	for (size_t i = 0; i < nd; i++)
		keys[i] = (doc_key){ &ix->docs[i], (uint32_t)i };
	qsort(keys, nd, sizeof *keys, compare_docs);
	free(ix->made.order);
	ix->made.order = xmalloc((nd + 1) * sizeof *ix->made.order);
	for (size_t i = 0; i < nd; i++)
		ix->made.order[i] = keys[i].added;
	free(keys);
}

/* Whether the index keeps what it builds for its memory. */
static bool remembering(const search_index *ix)
{
	return ix->remember && (ix->memory || ix->stream_path);
}

/* One thread's terms [from, to) in score_postings: first scored (pass 0,
 * with the highest score), then given their levels (pass 1). */
typedef struct score_part {
	search_index *ix;
	size_t from, to;
	const double *norm;  /* per document in index order */
	float *impact;       /* NULL: the levels go to pq in the first pass,
				* on the scale already set (score_touched) */
	double max;
	uint32_t max_term;   /* a term with a posting scoring max */
	int pass;
	const bool *only;    /* the terms to score (NULL: all) */
	size_t scored;       /* postings scored in the first pass */
} score_part;

static void *score_run(void *arg)
{
	score_part *p = arg;
	search_index *ix = p->ix;
	double nd = (double)ix->ndocs;
	for (size_t t = p->from; t < p->to; t++) {
		if (p->only && !p->only[t])
			continue;
		size_t at = ix->made.post_off[t], end = at + ix->made.post_n[t];
		if (p->pass == 1) {
			for (; at < end; at++)
				ix->made.pq[at] = quantize_float(ix, p->impact[at]);
			continue;
		}
		double df = ix->made.post_n[t];
		double idf = log(1 + (nd - df + 0.5) / (df + 0.5));
		p->scored += end - at;
		for (; at < end; at++) {
			double sc = bm25(idf, ix->made.ptf[at], p->norm[ix->made.pdoc[at]]);
			if (p->impact)
				p->impact[at] = (float)sc;
			else
				ix->made.pq[at] = quantize_float(ix, (float)sc);
			if (sc > p->max) {
				p->max = sc;
				p->max_term = (uint32_t)t;
			}
		}
	}
	return NULL;
}

/* A round of scoring by score_run: the terms in ranges, one per thread,
 * each with about as many of the postings to score as the others, and
 * what the ranges share (each document's length norm, the impacts). */
typedef struct scoring {
	score_part *parts;
	size_t nparts;
	double *norm;        /* per document in index order */
	float *impact;
	size_t got_impact;
	double max;          /* the highest score, and 1 + a term that has it */
	uint32_t holder;
	size_t scored;       /* postings scored */
} scoring;

/* Scores the postings of the terms in only (NULL: every term; counted:
 * how many postings those have) of an index of total postings, with
 * the average length avgdl: score_run's first pass. With direct, the
 * scale is set (scale_init) and pq made: each score goes to its level at
 * once, with no array of scores in between. */
static void scoring_begin(search_index *ix, scoring *sc, size_t total, const bool *only,
			  size_t counted, double avgdl, bool direct)
{
	size_t nt = ix->terms.n, nd = ix->ndocs;
	sc->norm = xmalloc((nd + 1) * sizeof *sc->norm);
	for (size_t k = 0; k < nd; k++)
		sc->norm[k] = doc_norm(ix->docs[ix->made.order[k]].len, avgdl);
	sc->impact = NULL;
	sc->got_impact = 0;
	if (!direct)
		sc->impact = spare_take(spare_of(ix, SPARE_IMPACT),
					(total + 1) * sizeof *sc->impact, &sc->got_impact);
	sc->nparts = ix->jobs > 1 && counted >= 1024 ? (size_t)ix->jobs : 1;
	sc->parts = xcalloc(sc->nparts + 1, sizeof *sc->parts);
	size_t t = 0, sum = 0;
	for (size_t p = 0; p < sc->nparts; p++) {
		sc->parts[p] = (score_part){ ix, t, t, sc->norm, sc->impact, 0, 0, 0, only, 0 };
		size_t want = counted * (p + 1) / sc->nparts;
		for (; t < nt && (p == sc->nparts - 1 || sum < want); t++)
			sum += !only || only[t] ? ix->made.post_n[t] : 0;
		sc->parts[p].to = t;
	}
	jobs_run(sc->parts, sc->nparts, sizeof *sc->parts, score_run);
	sc->max = 0;
	sc->holder = 0;
	sc->scored = 0;
	for (size_t p = 0; p < sc->nparts; p++)
		sc->scored += sc->parts[p].scored;
	for (size_t p = 0; p < sc->nparts; p++)
		if (sc->parts[p].max > sc->max) {
			sc->max = sc->parts[p].max;
			sc->holder = sc->parts[p].max_term + 1;
		}
}

/* The levels of what scoring_begin scored, on the scale scale_init set
 * (score_run's second pass), into a fresh pq of total postings. */
static void scoring_levels(search_index *ix, scoring *sc, size_t total)
{
	ix->made.pq = spare_take(spare_of(ix, SPARE_PQ), total + 1, &ix->made.pq_cap);
	for (size_t p = 0; p < sc->nparts; p++)
		sc->parts[p].pass = 1;
	jobs_run(sc->parts, sc->nparts, sizeof *sc->parts, score_run);
}

static void scoring_end(search_index *ix, scoring *sc)
{
	free(sc->parts);
	if (sc->impact)
		spare_give(spare_of(ix, SPARE_IMPACT), sc->impact, sc->got_impact);
	free(sc->norm);
}

/* Scores every posting from its weighted count (ptf), its term's number
 * of documents and its document's length, and sets the levels (pq),
 * as build_postings does; on ix->jobs threads, each with a share of the
 * postings. */
static void score_postings(search_index *ix, size_t total)
{
	double avgdl = grid_avgdl(ix->total_len, ix->ndocs);
	scoring sc;
	scoring_begin(ix, &sc, total, NULL, total, avgdl, false);
	scale_init(ix, sc.max);
	ix->made.max_holder = sc.holder;
	ix->made.avgdl = avgdl;
	scoring_levels(ix, &sc, total);
	scoring_end(ix, &sc);
}

/* A posting of a changed document, made for build_postings_after. */
typedef struct fresh_posting {
	uint32_t term, k;    /* k: the document in index order */
	float tf;
} fresh_posting;

static int compare_fresh(const void *a, const void *b)
{
	const fresh_posting *x = a, *y = b;
	if (x->term != y->term)
		return x->term < y->term ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

/* A range of terms of build_postings_after, on a thread of its own:
 * the memory's postings of each term but the changed documents' (gone),
 * merged with the changed documents' own (fresh, from f on). The
 * ranges write to parts of the arrays that no other range touches. */
typedef struct merge_part {
	search_index *ix;
	const fresh_posting *fresh;
	size_t nfresh;
	const bool *gone;
	size_t from, to;     /* terms */
	size_t f;            /* the first of fresh with a term from on */
	size_t count;        /* merge_fill: where the range's postings end */
	bool *touched;       /* per term: a posting came or went (merge_fill) */
	bool *counted;       /* per term: its number of postings moved (merge_fill) */
	size_t *fresh_at;    /* per fresh posting: where it went (merge_fill) */
	const bool *only;    /* merge_same: the terms to compare posting by
				* posting (NULL: all); the others' are the
				* memory's, their levels too (score_touched) */
} merge_part;

/* The memory's postings of term t, and how many there are. */
static const uint32_t *was_postings(const search_index *ix, size_t t, const float **tf,
				    uint32_t *n)
{
	const search_memory *m = ix->memory;
	uint32_t was = ix->term_was[t];
	if (was == UINT32_MAX) {
		*tf = NULL;
		*n = 0;
		return NULL;
	}
	*tf = m->made.ptf + m->made.post_off[was];
	*n = m->made.post_n[was];
	return m->made.pdoc + m->made.post_off[was];
}

/* The memory's levels of term t's postings (it has some), before the
 * tiers of encode_postings. */
static const uint8_t *was_levels(const search_index *ix, size_t t)
{
	const search_memory *m = ix->memory;
	return m->made.pq_raw + m->made.post_off[ix->term_was[t]];
}

/* The postings of the terms of the ranges before this one, counted
 * without placing them: where this range's go. */
static size_t merge_count(const merge_part *p)
{
	search_index *ix = p->ix;
	size_t f = 0, count = 0;
	for (size_t t = 0; t < p->from; t++) {
		const float *otf;
		uint32_t on;
		const uint32_t *od = was_postings(ix, t, &otf, &on);
		for (uint32_t i = 0; i < on; i++)
			count += !p->gone[od[i]];
		for (; f < p->nfresh && p->fresh[f].term == t; f++)
			count++;
	}
	return count;
}

/* The postings of each term of the range in the order of the
 * documents, with its post_off and post_n: the first range's from 0,
 * the second's after counting the first's (merge_count) while the
 * first is placed. */
static void *merge_fill(void *arg)
{
	merge_part *p = arg;
	search_index *ix = p->ix;
	const fresh_posting *fresh = p->fresh;
	size_t f = p->f;
	size_t at = p->from ? merge_count(p) : 0;
	for (size_t t = p->from; t < p->to; t++) {
		const float *otf;
		uint32_t on, i = 0;
		const uint32_t *od = was_postings(ix, t, &otf, &on);
		/* Each kept posting's level is the memory's as long as its
		 * term's number of documents is (score_touched). */
		const uint8_t *oq = on ? was_levels(ix, t) : NULL;
		ix->made.post_off[t] = (uint32_t)at;
		bool touched = false;
		while (i < on || (f < p->nfresh && fresh[f].term == t)) {
			if (f < p->nfresh && fresh[f].term == t && (i >= on || fresh[f].k < od[i])) {
				ix->made.pdoc[at] = fresh[f].k;
				ix->made.ptf[at] = fresh[f].tf;
				ix->made.pq[at] = 0;
				p->fresh_at[f++] = at++;
				touched = true;
			} else {
				if (!p->gone[od[i]]) {
					ix->made.pdoc[at] = od[i];
					ix->made.ptf[at] = otf[i];
					ix->made.pq[at++] = oq[i];
				} else {
					touched = true;
				}
				i++;
			}
		}
		ix->made.post_n[t] = (uint32_t)(at - ix->made.post_off[t]);
		p->touched[t] = touched;
		p->counted[t] = ix->made.post_n[t] != on;
	}
	p->count = at;
	return NULL;
}

/* Whether each term of the range has the postings and levels it had in
 * the memory's index (term_same). */
static void *merge_same(void *arg)
{
	merge_part *p = arg;
	search_index *ix = p->ix;
	const search_memory *m = ix->memory;
	for (size_t t = p->from; t < p->to; t++) {
		uint32_t n = ix->made.post_n[t], was = ix->term_was[t];
		bool same = was != UINT32_MAX && n == m->made.post_n[was] &&
			    ix->made.term_surface[t] == m->made.term_surface[was];
		/* A term no changed document has or had: its postings are the
		 * memory's by construction, and so are its levels when
		 * score_touched made them. */
		if (same && (!p->only || p->only[t]))
			same = memcmp(ix->made.pdoc + ix->made.post_off[t],
				      m->made.pdoc + m->made.post_off[was],
				      n * sizeof *ix->made.pdoc) == 0 &&
			       memcmp(ix->made.pq + ix->made.post_off[t],
				      m->made.pq_raw + m->made.post_off[was], n) == 0;
		ix->term_same[t] = same;
	}
	return NULL;
}

/* score_postings for an index after the memory's (build_postings_after),
 * when only the touched terms (a changed document has or had them) can
 * score otherwise: the number of documents is the memory's (ix->after),
 * the average length is on the memory's grid point (grid_avgdl), and the
 * memory's highest posting is in an untouched term, so it still is the
 * highest unless a touched one passes it. Of a touched term, only the
 * changed documents' postings score otherwise while its number of
 * documents stays (counted false): its idf, and every other document's
 * length and weighted count, are as they were. So the terms whose
 * number moved are scored whole, the other touched terms' fresh
 * postings one by one; every other level is the memory's, put in pq by
 * merge_fill. An edit of one article that keeps its words scores its
 * few hundred postings, not the hundreds of thousands its common words
 * have. The scale is the memory's, so each score goes to its level at
 * once: no array of a float per posting. Returns false when that does
 * not hold or a posting passes the memory's highest: pq is then to be
 * made again (score_postings sets the scale anew). */
static bool score_touched(search_index *ix, const merge_part *part, const bool *counted,
			  size_t total)
{
	const index_made *was = &ix->memory->made;
	const bool *touched = part->touched;
	size_t nt = ix->terms.n;
	double avgdl = grid_avgdl(ix->total_len, ix->ndocs);
	if (!was->max_holder || !(was->max_impact > 0) || was->avgdl != avgdl)
		return false;
	uint32_t holder = UINT32_MAX;
	size_t whole = 0;
	ix->postings_touched = 0;
	for (size_t t = 0; t < nt; t++) {
		if (ix->term_was[t] == was->max_holder - 1)
			holder = (uint32_t)t;
		if (touched[t])
			ix->postings_touched += ix->made.post_n[t];
		else if (ix->term_was[t] == UINT32_MAX)
			return false;
		if (counted[t])
			whole += ix->made.post_n[t];
	}
	if (holder == UINT32_MAX || touched[holder])
		return false;
	scoring sc;
	scale_init(ix, was->max_impact);
	scoring_begin(ix, &sc, total, counted, whole, avgdl, true);
	double max = sc.max, nd = (double)ix->ndocs;
	size_t one_by_one = 0;
	for (size_t f = 0; f < part->nfresh; f++) {
		uint32_t t = part->fresh[f].term;
		if (counted[t])
			continue;
		/* As score_run scores it, to the bit. */
		size_t at = part->fresh_at[f];
		double df = ix->made.post_n[t];
		double idf = log(1 + (nd - df + 0.5) / (df + 0.5));
		double score = bm25(idf, ix->made.ptf[at], sc.norm[ix->made.pdoc[at]]);
		ix->made.pq[at] = quantize_float(ix, (float)score);
		if (score > max)
			max = score;
		one_by_one++;
	}
	bool passed = max > was->max_impact;
	if (!passed) {
		ix->made.max_holder = holder + 1;
		ix->made.avgdl = avgdl;
		ix->postings_scored = sc.scored + one_by_one;
	}
	scoring_end(ix, &sc);
	return !passed;
}

/* build_postings for an index that search_add_documents found to be the
 * memory's last one but for ix->changed (ix->after), with the same
 * terms: the postings of the other documents are the memory's, with
 * their weighted counts; the changed documents' are made; then every
 * posting is scored again, as the average length and the terms' numbers
 * of documents are the whole index's. Marks the terms whose postings and
 * levels are the memory's (term_same). Returns false, having built
 * nothing, when the documents' order is not the memory's. */
static bool build_postings_after(search_index *ix)
{
	const search_memory *m = ix->memory;
	size_t nt = ix->terms.n, nd = ix->ndocs;
	/* compare_docs is a total order, so a permutation it finds sorted
	 * is the order: when the memory's still is, no sort is needed. */
	bool sorted = true;
	for (size_t k = 1; k < nd && sorted; k++) {
		doc_key a = { &ix->docs[m->made.order[k - 1]], m->made.order[k - 1] };
		doc_key b = { &ix->docs[m->made.order[k]], m->made.order[k] };
		sorted = compare_docs(&a, &b) < 0;
	}
	if (sorted) {
		free(ix->made.order);
		ix->made.order = xmalloc((nd + 1) * sizeof *ix->made.order);
		if (nd)
			memcpy(ix->made.order, m->made.order, nd * sizeof *ix->made.order);
	} else {
		order_docs(ix);
		if (memcmp(ix->made.order, m->made.order, nd * sizeof *ix->made.order) != 0)
			return false;
	}
	ix->order_same = true;
	uint32_t *place = xmalloc((nd + 1) * sizeof *place);
	for (size_t k = 0; k < nd; k++)
		place[ix->made.order[k]] = (uint32_t)k;
	bool *gone = xcalloc(nd + 1, sizeof *gone);
	double *tacc = xcalloc(nt + 1, sizeof *tacc);
	vec32 touched = { NULL, 0, 0 };
	fresh_posting *fresh = NULL;
	size_t nfresh = 0, capfresh = 0;
	for (size_t c = 0; c < ix->changed.n; c++) {
		uint32_t doc = ix->changed.v[c];
		uint32_t k = place[doc];
		gone[k] = true;
		doc_terms(ix, &ix->docs[doc], tacc, &touched);
		for (size_t i = 0; i < touched.n; i++) {
			if (nfresh == capfresh) {
				capfresh = capfresh ? 2 * capfresh : 256;
				fresh = xrealloc(fresh, capfresh * sizeof *fresh);
			}
			fresh[nfresh++] = (fresh_posting){ touched.v[i], k, (float)tacc[touched.v[i]] };
			tacc[touched.v[i]] = 0;
		}
	}
	if (nfresh > 1)
		qsort(fresh, nfresh, sizeof *fresh, compare_fresh);
	size_t cap = nfresh;
	for (size_t t = 0; t < nt; t++)
		cap += ix->term_was[t] != UINT32_MAX ? m->made.post_n[ix->term_was[t]] : 0;
	ix->made.post_off = xcalloc(nt + 1, sizeof *ix->made.post_off);
	ix->made.post_n = xcalloc(nt + 1, sizeof *ix->made.post_n);
	size_t got_doc, got_tf;
	ix->made.pdoc = spare_take(spare_of(ix, SPARE_PDOC), (cap + 1) * sizeof *ix->made.pdoc,
				   &got_doc);
	ix->made.ptf = spare_take(spare_of(ix, SPARE_PTF), (cap + 1) * sizeof *ix->made.ptf,
				  &got_tf);
	ix->made.post_cap = got_doc / sizeof *ix->made.pdoc < got_tf / sizeof *ix->made.ptf
				    ? got_doc / sizeof *ix->made.pdoc
				    : got_tf / sizeof *ix->made.ptf;
	/* Two ranges of terms, the first placed while the second counts
	 * the first's postings to know where its own go: the first range
	 * is the larger, as counting reads only the documents' numbers. */
	size_t nparts = ix->jobs > 1 && cap >= 65536 ? 2 : 1;
	merge_part parts[2];
	size_t cut = nt;
	if (nparts == 2) {
		size_t sum = 0, upto = cap / 5 * 3;
		cut = 0;
		while (cut < nt && sum < upto) {
			uint32_t was = ix->term_was[cut++];
			sum += was != UINT32_MAX ? m->made.post_n[was] : 0;
		}
	}
	size_t f0 = 0;
	while (f0 < nfresh && fresh[f0].term < cut)
		f0++;
	bool *moved = xcalloc(nt + 1, sizeof *moved);
	bool *counted = xcalloc(nt + 1, sizeof *counted);
	size_t *fresh_at = xmalloc((nfresh + 1) * sizeof *fresh_at);
	ix->made.pq = spare_take(spare_of(ix, SPARE_PQ), cap + 1, &ix->made.pq_cap);
	parts[0] = (merge_part){ ix, fresh, nfresh, gone, 0, cut, 0, 0, moved, counted, fresh_at,
				 NULL };
	parts[1] = (merge_part){ ix, fresh, nfresh, gone, cut, nt, f0, 0, moved, counted, fresh_at,
				 NULL };
	jobs_run(parts, nparts, sizeof *parts, merge_fill);
	ix->merge_ranges = nparts;
	size_t at = parts[nparts - 1].count;
	ix->scored_touched = score_touched(ix, &parts[0], counted, at);
	if (!ix->scored_touched) {
		spare_give(spare_of(ix, SPARE_PQ), ix->made.pq, ix->made.pq_cap);
		ix->made.pq = NULL;
		score_postings(ix, at);
		ix->postings_scored = ix->postings_touched = at;
	}
	ix->terms_scored = nt;
	for (size_t t = 0; ix->scored_touched && t < nt; t++)
		ix->terms_scored -= !moved[t];
	ix->made.pq_raw = spare_take(spare_of(ix, SPARE_PQ_RAW), at + 1, &ix->made.pq_raw_cap);
	memcpy(ix->made.pq_raw, ix->made.pq, at);
	ix->term_same = xcalloc(nt + 1, sizeof *ix->term_same);
	/* The encoding depends on the documents and levels alone (see
	 * encode_postings), not on the top score. */
	for (size_t p = 0; p < nparts; p++)
		parts[p].only = ix->scored_touched ? moved : NULL;
	jobs_run(parts, nparts, sizeof *parts, merge_same);
	free(moved);
	free(counted);
	free(fresh_at);
	free(place);
	free(gone);
	free(tacc);
	free(touched.v);
	free(fresh);
	return true;
}

static void build_postings(search_index *ix)
{
	size_t nt = ix->terms.n, nd = ix->ndocs;
	ix->terms_scored = nt;
	order_docs(ix);

	size_t nparts = ix->jobs > 1 && nd >= 256 ? (size_t)ix->jobs : 1;
	posting_part *parts = xcalloc(nparts + 1, sizeof *parts);
	for (size_t p = 0; p < nparts; p++) {
		parts[p].ix = ix;
		parts[p].from = nd * p / nparts;
		parts[p].to = nd * (p + 1) / nparts;
		parts[p].count = xcalloc(nt + 1, sizeof *parts[p].count);
		parts[p].next = xmalloc((nt + 1) * sizeof *parts[p].next);
	}
	/* The number of documents of each term (the terms doc_terms gives,
	 * counted without their weights), per range. */
	jobs_run(parts, nparts, sizeof *parts, posting_run);
	ix->made.post_n = xcalloc(nt + 1, sizeof *ix->made.post_n);
	ix->made.post_off = xcalloc(nt + 1, sizeof *ix->made.post_off);
	size_t total = 0;
	for (size_t t = 0; t < nt; t++) {
		ix->made.post_off[t] = (uint32_t)total;
		for (size_t p = 0; p < nparts; p++) {
			parts[p].next[t] = (uint32_t)total;
			total += parts[p].count[t];
			ix->made.post_n[t] += parts[p].count[t];
		}
	}
	size_t got_doc, got_tf = SIZE_MAX, got_impact;
	ix->made.pdoc = spare_take(spare_of(ix, SPARE_PDOC), (total + 1) * sizeof *ix->made.pdoc,
				   &got_doc);
	if (remembering(ix))
		ix->made.ptf = spare_take(spare_of(ix, SPARE_PTF), (total + 1) * sizeof *ix->made.ptf,
					  &got_tf);
	ix->made.post_cap = got_doc / sizeof *ix->made.pdoc < got_tf / sizeof *ix->made.ptf
				    ? got_doc / sizeof *ix->made.pdoc
				    : got_tf / sizeof *ix->made.ptf;
	float *impact = spare_take(spare_of(ix, SPARE_IMPACT), (total + 1) * sizeof *impact,
				   &got_impact);
	ix->postings_scored = ix->postings_touched = total;
	double avgdl = grid_avgdl(ix->total_len, nd);
	double *idf = xmalloc((nt + 1) * sizeof *idf);
	for (size_t t = 0; t < nt; t++) {
		double df = ix->made.post_n[t];
		idf[t] = log(1 + ((double)nd - df + 0.5) / (df + 0.5));
	}
	for (size_t p = 0; p < nparts; p++) {
		parts[p].pass = 1;
		parts[p].idf = idf;
		parts[p].avgdl = avgdl;
		parts[p].impact = impact;
	}
	jobs_run(parts, nparts, sizeof *parts, posting_run);
	double max = 0;
	uint32_t holder = 0;
	for (size_t p = 0; p < nparts; p++)
		if (parts[p].max > max) {
			max = parts[p].max;
			holder = parts[p].max_term + 1;
		}
	scale_init(ix, max);
	ix->made.max_holder = holder;
	ix->made.avgdl = avgdl;
	ix->made.pq = spare_take(spare_of(ix, SPARE_PQ), total + 1, &ix->made.pq_cap);
	for (size_t p = 0; p < nparts; p++) {
		parts[p].pass = 2;
		parts[p].from = total * p / nparts;
		parts[p].to = total * (p + 1) / nparts;
	}
	jobs_run(parts, nparts, sizeof *parts, posting_run);
	/* A memory file written as the index goes takes the levels as they
	 * are now (stream_index). */
	if (remembering(ix) && ix->memory) {
		ix->made.pq_raw = spare_take(spare_of(ix, SPARE_PQ_RAW), total + 1,
					     &ix->made.pq_raw_cap);
		memcpy(ix->made.pq_raw, ix->made.pq, total);
	}
	for (size_t p = 0; p < nparts; p++) {
		free(parts[p].count);
		free(parts[p].next);
	}
	free(parts);
	free(idf);
	spare_give(spare_of(ix, SPARE_IMPACT), impact, got_impact);
	/* The per-document word lists are not needed any more, unless the
	 * memory takes them (search_free). */
	if (remembering(ix) && ix->memory)
		return;
	free(ix->dw_word.v);
	free(ix->dw_tf.v);
	memset(&ix->dw_word, 0, sizeof ix->dw_word);
	memset(&ix->dw_tf, 0, sizeof ix->dw_tf);
}

/* ---- writing ------------------------------------------------------------ */

/* The characters put_varint writes for v. */
static size_t varint_len(uint32_t v)
{
	size_t n = 1;
	for (v >>= 5; v; v >>= 5)
		n++;
	return n;
}

static void put_varint(buf *b, uint32_t v)
{
	char tmp[8];
	int n = 0;
	tmp[n++] = digits64[v & 31];
	for (v >>= 5; v; v >>= 5)
		tmp[n++] = digits64[32 + (v & 31)];
	while (n)
		buf_putc(b, tmp[--n]);
}

/* Encodes the postings of term t (see search.js, decodePostings):
 *   ['!']                    the term is a stem, not a word (no suggestion)
 *   (gap score)*             exact: gaps between document numbers as
 *                            varints, each with a score character
 *   ['.' score ('~' start bitmap | gap*)]
 *                            the other documents, all with one score:
 *                            a bitmap of 6 documents per character from
 *                            start, or gaps, whichever is shorter
 * A term in more than TIER documents keeps exact scores for its best TIER
 * only; their common score is the mean, and pq is set to what the
 * browser will see, so search_query ranks the same way. */
static void encode_postings(search_index *ix, uint32_t t, buf *out, bool *tier_a)
{
	uint32_t off = ix->made.post_off[t], n = ix->made.post_n[t];
	uint32_t *doc = ix->made.pdoc + off;
	uint8_t *pq = ix->made.pq + off;
	if (!ix->made.term_surface[t])
		buf_putc(out, '!');
	for (uint32_t i = 0; i < n; i++)
		tier_a[i] = true;
	if (n > TIER) {
		/* The best TIER by score, ties to the lower document: count the
		 * scores, find the lowest level that still gets in, and take
		 * that level's documents in order until TIER are in. */
		uint32_t count[IMPACT_LEVELS + 1] = { 0 };
		for (uint32_t i = 0; i < n; i++)
			count[pq[i]]++;
		uint32_t above = 0;
		int level = IMPACT_LEVELS;
		while (level > 0 && above + count[level] < TIER)
			above += count[level--];
		uint32_t room = TIER - above;
		/* The mean of the others' scores, as a level: on the scale
		 * of a top score of 1, where it depends on the levels only
		 * (not on the top score, which any edit moves a little), so
		 * that a term whose levels stay keeps its encoding. */
		double sum = 0;
		for (uint32_t i = 0; i < n; i++) {
			bool in = pq[i] > level || (pq[i] == level && room > 0);
			if (pq[i] == level && in)
				room--;
			tier_a[i] = in;
			if (!in)
				sum += ix->unit_level[pq[i]];
		}
		double avg = sum / (n - TIER);
		int q = 1;
		for (int step = 32; step > 0; step /= 2)
			q += (q + step <= IMPACT_LEVELS && avg >= ix->unit_bound[q + step]) ? step : 0;
		uint8_t mean = (uint8_t)q;
		for (uint32_t i = 0; i < n; i++)
			if (!tier_a[i])
				pq[i] = mean;
	}
	uint32_t prev = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!tier_a[i])
			continue;
		put_varint(out, doc[i] - prev);
		buf_putc(out, digits64[pq[i]]);
		prev = doc[i];
	}
	if (n <= TIER)
		return;
	uint32_t first = UINT32_MAX, last = 0;
	uint8_t mean = 0;
	for (uint32_t i = 0; i < n; i++)
		if (!tier_a[i]) {
			if (first == UINT32_MAX)
				first = doc[i];
			last = doc[i];
			mean = pq[i];
		}
	buf_putc(out, '.');
	buf_putc(out, digits64[mean]);
	/* The gaps are measured first, and written only when shorter: the
	 * terms with many documents, which cost the most to write, mostly
	 * take the bitmap. */
	size_t gaps = 0;
	prev = 0;
	for (uint32_t i = 0; i < n; i++)
		if (!tier_a[i]) {
			gaps += varint_len(doc[i] - prev);
			prev = doc[i];
		}
	size_t bitmap = 1 + 4 + (last - first) / 6 + 1;
	if (bitmap >= gaps) {
		prev = 0;
		for (uint32_t i = 0; i < n; i++)
			if (!tier_a[i]) {
				put_varint(out, doc[i] - prev);
				prev = doc[i];
			}
		return;
	}
	buf_putc(out, '~');
	put_varint(out, first);
	unsigned bits = 0, used = 0;
	uint32_t next = first;
	for (uint32_t i = 0; i < n; i++) {
		if (tier_a[i])
			continue;
		while (next + 6 <= doc[i]) {
			buf_putc(out, digits64[bits]);
			bits = 0;
			next += 6;
			used = 0;
		}
		bits |= 1u << (doc[i] - next);
		used = 1;
	}
	if (used)
		buf_putc(out, digits64[bits]);
}

/* The encoding of term t's postings into out: the memory's when its
 * postings and levels are (term_same), with the levels it left;
 * encode_postings' otherwise. */
static void term_encoding(search_index *ix, uint32_t t, buf *out, bool *tier_a)
{
	const search_memory *m = ix->memory;
	if (ix->term_same && ix->term_same[t]) {
		uint32_t was = ix->term_was[t];
		buf_put(out, m->made.enc.ptr + m->made.enc_at[was], m->made.enc_len[was]);
		memcpy(ix->made.pq + ix->made.post_off[t], m->made.pq + m->made.post_off[was], ix->made.post_n[t]);
	} else {
		encode_postings(ix, t, out, tier_a);
	}
}

/* Every term's postings encoded before the shards are cut, on the
 * index's threads: each takes a run of terms with about as many
 * postings as the others' (a term touches only its own postings). */
typedef struct encode_part {
	search_index *ix;
	uint32_t from, to;   /* terms */
	buf enc;             /* their encodings, one after another */
	size_t *at;          /* the index's: term t's encoding at at[t] in enc */
} encode_part;

static void *encode_run(void *arg)
{
	encode_part *p = arg;
	const index_made *d = &p->ix->made;
	uint32_t maxn = 0;
	for (uint32_t t = p->from; t < p->to; t++)
		maxn = d->post_n[t] > maxn ? d->post_n[t] : maxn;
	bool *tier_a = xmalloc(maxn + 1);
	for (uint32_t t = p->from; t < p->to; t++) {
		p->at[t] = p->enc.len;
		term_encoding(p->ix, t, &p->enc, tier_a);
	}
	free(tier_a);
	return NULL;
}

/* The encodings of every term: term t's is enc[t], len[t] bytes long,
 * in the parts' buffers. */
typedef struct encoded {
	encode_part *parts;
	size_t nparts;
	const char **enc;
	size_t *len;
} encoded;

static void encode_terms(search_index *ix, encoded *e)
{
	size_t nt = ix->terms.n, total = 0;
	size_t jobs = ix->jobs > 1 ? (size_t)ix->jobs : 1;
	for (size_t t = 0; t < nt; t++)
		total += ix->made.post_n[t];
	if (jobs > 1 && total < 4096)
		jobs = 1;
	size_t *at = xcalloc(nt + 1, sizeof *at);
	e->parts = xcalloc(jobs, sizeof *e->parts);
	e->nparts = jobs;
	size_t t = 0, sum = 0;
	for (size_t k = 0; k < jobs; k++) {
		encode_part *p = &e->parts[k];
		p->ix = ix;
		p->at = at;
		buf_init(&p->enc);
		p->from = (uint32_t)t;
		while (t < nt && (k == jobs - 1 || sum < total * (k + 1) / jobs))
			sum += ix->made.post_n[t++];
		p->to = (uint32_t)t;
	}
	jobs_run(e->parts, jobs, sizeof *e->parts, encode_run);
	e->enc = xmalloc((nt + 1) * sizeof *e->enc);
	e->len = xmalloc((nt + 1) * sizeof *e->len);
	for (size_t k = 0; k < jobs; k++) {
		const encode_part *p = &e->parts[k];
		for (uint32_t u = p->from; u < p->to; u++) {
			size_t end = u + 1 < p->to ? at[u + 1] : p->enc.len;
			e->enc[u] = p->enc.ptr + at[u];
			e->len[u] = end - at[u];
		}
	}
	free(at);
	/* What the memory keeps of them, by term. */
	if (ix->made.enc_at) {
		for (size_t u = 0; u < nt; u++) {
			ix->made.enc_at[u] = ix->made.enc.len;
			ix->made.enc_len[u] = e->len[u];
			buf_put(&ix->made.enc, e->enc[u], e->len[u]);
		}
	}
}

static void encoded_release(encoded *e)
{
	for (size_t k = 0; k < e->nparts; k++)
		buf_release(&e->parts[k].enc);
	free(e->parts);
	free(e->enc);
	free(e->len);
	memset(e, 0, sizeof *e);
}

/* Compares UTF-8 strings in UTF-16 code unit order, the order of
 * JavaScript's < on strings, so the browser can binary search the shard
 * boundaries the way they were cut. */
static int utf16_cmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
	while (*p && *q) {
		if (*p == *q && *p < 0x80) {
			p++;
			q++;
			continue;
		}
		/* An ASCII character sorts by its byte against any other
		 * (UTF-16 code units beyond ASCII are all larger). */
		if (*p < 0x80 || *q < 0x80)
			return *p < *q ? -1 : 1;
		int32_t x, y;
		size_t n = decode_cp(p, strlen((const char *)p), &x);
		size_t m = decode_cp(q, strlen((const char *)q), &y);
		if (x != y) {
			/* Code points past U+FFFF are surrogate pairs in UTF-16,
			 * sorting between U+D7FF and U+E000. */
			uint32_t ux = x >= 0x10000 ? 0xD800u + (uint32_t)((x - 0x10000) >> 10) : (uint32_t)x;
			uint32_t uy = y >= 0x10000 ? 0xD800u + (uint32_t)((y - 0x10000) >> 10) : (uint32_t)y;
			if (ux != uy)
				return ux < uy ? -1 : 1;
			return x < y ? -1 : 1;
		}
		p += n;
		q += m;
	}
	return *p ? 1 : *q ? -1 : 0;
}

typedef struct entry {
	const char *key;
	long term;    /* term with this key, or -1 */
	long alias;   /* term this key's word stems to, when another, or -1 */
} entry;

static int compare_entries(const void *a, const void *b)
{
	return utf16_cmp(((const entry *)a)->key, ((const entry *)b)->key);
}

/* Appends an entry's JSON value: a postings string, the number of
 * characters to cut off the key to get its term, "=term", or both as an
 * array. */
static void put_entry(search_index *ix, const entry *e, const encoded *enc, buf *out,
		      buf *tmp)
{
	buf_clear(tmp);
	if (e->term >= 0 && e->alias >= 0)
		buf_putc(out, '[');
	if (e->term >= 0)
		put_str(out, enc->enc[e->term], enc->len[e->term]);
	if (e->term >= 0 && e->alias >= 0)
		buf_putc(out, ',');
	if (e->alias >= 0) {
		const char *stem = ix->terms.str[e->alias];
		size_t sl = ix->terms.len[e->alias], kl = strlen(e->key);
		if (sl < kl && memcmp(stem, e->key, sl) == 0) {
			buf_printf(out, "%zu", count_utf16(e->key + sl, kl - sl));
		} else {
			buf_clear(tmp);
			buf_putc(tmp, '=');
			buf_put(tmp, stem, sl);
			put_str(out, tmp->ptr, tmp->len);
		}
	}
	if (e->term >= 0 && e->alias >= 0)
		buf_putc(out, ']');
}

/* The shortest prefix (whole code points) of key that still sorts after
 * prev: the boundary the browser compares with. */
static void put_boundary(buf *out, const char *prev, const char *key)
{
	size_t kl = strlen(key);
	buf p = BUF_INIT;
	for (size_t i = 1; i <= kl; i++) {
		if (i < kl && ((unsigned char)key[i] & 0xC0) == 0x80)
			continue;
		buf_clear(&p);
		buf_put(&p, key, i);
		if (utf16_cmp(p.ptr, prev) > 0)
			break;
	}
	put_str(out, p.ptr, p.len);
	buf_release(&p);
}

static int write_shards(search_index *ix, search_emit_fn emit, void *ctx, buf *bounds,
			gen_err *err)
{
	size_t nw = ix->words.n, nt = ix->terms.n;
	entry *es = xmalloc((nw + nt + 1) * sizeof *es);
	size_t ne = 0;
	long *alias_of_term = xmalloc((nt + 1) * sizeof *alias_of_term);
	for (size_t t = 0; t < nt; t++)
		alias_of_term[t] = -1;
	for (size_t w = 0; w < nw; w++) {
		uint32_t t = ix->made.word_term[w];
		long same = strtab_find(&ix->terms, ix->words.str[w], ix->words.len[w]);
		if (same >= 0) {
			if ((uint32_t)same != t)
				alias_of_term[same] = t; /* a word that is also another's stem */
			continue;
		}
		es[ne++] = (entry){ ix->words.str[w], -1, (long)t };
	}
	for (size_t t = 0; t < nt; t++)
		es[ne++] = (entry){ ix->terms.str[t], (long)t, alias_of_term[t] };
	free(alias_of_term);
	qsort(es, ne, sizeof *es, compare_entries);

	encoded enc;
	encode_terms(ix, &enc);
	buf json = BUF_INIT, val = BUF_INIT, tmp = BUF_INIT;
	int rc = 0;
	long shard = 0;
	const char *last_key = NULL;
	buf_putc(bounds, '[');
	for (size_t i = 0; i <= ne && rc == 0; i++) {
		if (i < ne) {
			buf_clear(&val);
			put_str(&val, es[i].key, strlen(es[i].key));
			buf_putc(&val, ':');
			put_entry(ix, &es[i], &enc, &val, &tmp);
		}
		bool full = json.len > 1 && json.len + val.len > SHARD_BYTES;
		if ((i == ne || full) && json.len > 1) {
			buf_putc(&json, '}');
			char rel[64];
			snprintf(rel, sizeof rel, "zoeken/w/%ld.js", shard);
			rc = emit_js(emit, ctx, &tmp, rel, "w", shard, &json, err);
			shard++;
			buf_clear(&json);
		}
		if (i == ne)
			break;
		if (json.len == 0) {
			if (shard > 0) {
				buf_putc(bounds, ',');
				put_boundary(bounds, last_key, es[i].key);
			} else {
				buf_puts(bounds, "\"\"");
			}
			buf_putc(&json, '{');
		} else {
			buf_putc(&json, ',');
		}
		buf_put(&json, val.ptr, val.len);
		last_key = es[i].key;
	}
	if (ne == 0)
		buf_puts(bounds, "\"\"");
	buf_putc(bounds, ']');
	ix->nshards = ne ? (size_t)shard : 1;
	if (ne == 0 && rc == 0) {
		buf_puts(&json, "{}");
		rc = emit_js(emit, ctx, &tmp, "zoeken/w/0.js", "w", 0, &json, err);
	}
	buf_release(&json);
	buf_release(&val);
	buf_release(&tmp);
	encoded_release(&enc);
	free(es);
	return rc;
}

/* Whether what the document table shows of sdocs a and b is the same. */
static bool same_entry(const sdoc *a, const sdoc *b)
{
	return a->url && b->url && strcmp(a->url, b->url) == 0 && a->title && b->title &&
	       strcmp(a->title, b->title) == 0 &&
	       (a->date && b->date ? strcmp(a->date, b->date) == 0 : a->date == b->date);
}

/* The files of the document table whose entries may differ from those
 * the memory's last index wrote: all, but when the order is the same
 * (build_postings_after) only those with a changed document that shows
 * otherwise. NULL: all. */
static bool *doc_table_dirty(const search_index *ix, size_t nfiles)
{
	const search_memory *m = ix->memory;
	if (!ix->order_same || !ix->has_keeper || !m || !m->made.dfp || m->ndfp != nfiles)
		return NULL;
	bool *dirty = xcalloc(nfiles + 1, sizeof *dirty);
	for (size_t c = 0; c < ix->changed.n; c++) {
		uint32_t doc = ix->changed.v[c];
		if (same_entry(&ix->docs[doc], &m->sdocs[doc]))
			continue;
		for (size_t k = 0; k < ix->ndocs; k++)
			if (ix->made.order[k] == doc)
				dirty[k / SEARCH_DOCS_PER_FILE] = true;
	}
	return dirty;
}

static int write_doc_table(search_index *ix, search_emit_fn emit, void *ctx, gen_err *err)
{
	int rc = 0;
	buf json = BUF_INIT, js = BUF_INIT;
	size_t nfiles = (ix->ndocs + SEARCH_DOCS_PER_FILE - 1) / SEARCH_DOCS_PER_FILE;
	bool *dirty = emit ? doc_table_dirty(ix, nfiles) : NULL;
	if (remembering(ix))
		ix->made.dfp = xcalloc(nfiles + 1, sizeof *ix->made.dfp);
	for (size_t k = 0; k < ix->ndocs && rc == 0; k += SEARCH_DOCS_PER_FILE) {
		size_t file = k / SEARCH_DOCS_PER_FILE;
		if (dirty && !dirty[file]) {
			/* As the last build wrote it: kept when the output
			 * still has it. */
			char rel[64];
			snprintf(rel, sizeof rel, "zoeken/d/%zu.js", file);
			uint64_t fp = ix->memory->made.dfp[file];
			if (ix->keeper.fresh(ix->keeper.ctx, rel, fp)) {
				ix->made.dfp[file] = fp;
				continue;
			}
		}
		buf_clear(&json);
		buf_putc(&json, '[');
		for (size_t i = k; i < ix->ndocs && i < k + SEARCH_DOCS_PER_FILE; i++) {
			const sdoc *d = &ix->docs[ix->made.order[i]];
			if (i > k)
				buf_putc(&json, ',');
			buf_putc(&json, '[');
			put_str(&json, d->url, strlen(d->url));
			buf_putc(&json, ',');
			put_str(&json, d->title, strlen(d->title));
			buf_putc(&json, ',');
			/* The day is enough to show; time and zone are noise. */
			const char *date = d->date ? d->date : "";
			put_str(&json, date, strnlen(date, 10));
			buf_printf(&json, ",%u]", ix->made.order[i]);
		}
		buf_putc(&json, ']');
		char rel[64];
		snprintf(rel, sizeof rel, "zoeken/d/%zu.js", file);
		rc = emit_js(emit, ctx, &js, rel, "d", (long)file, &json, err);
		if (ix->made.dfp)
			ix->made.dfp[file] = buf_hash64(js.ptr, js.len, OUTPUT_SEED);
	}
	free(dirty);
	buf_release(&json);
	buf_release(&js);
	return rc;
}

/* search_write's two writers, on threads of their own: the shards
 * (bounds set) or the document table. */
typedef struct write_job {
	search_index *ix;
	search_emit_fn emit;
	void *ctx;
	buf *bounds;         /* the shards' boundaries; NULL: the document table */
	int rc;
	gen_err err;
} write_job;

static void *write_run(void *arg)
{
	write_job *j = arg;
	err_clear(&j->err);
	j->rc = j->bounds ? write_shards(j->ix, j->emit, j->ctx, j->bounds, &j->err)
			  : write_doc_table(j->ix, j->emit, j->ctx, &j->err);
	return NULL;
}

/* Facets of every document in index order, as runs of equal kind and
 * themes: (count kind nthemes theme*)* in varints. */
static void put_runs(const search_index *ix, buf *out)
{
	buf r = BUF_INIT;
	for (size_t k = 0; k < ix->ndocs;) {
		const sdoc *d = &ix->docs[ix->made.order[k]];
		size_t j = k + 1;
		while (j < ix->ndocs) {
			const sdoc *e = &ix->docs[ix->made.order[j]];
			if (e->kind != d->kind || e->nthemes != d->nthemes ||
			    memcmp(e->themes, d->themes, d->nthemes * sizeof *d->themes) != 0)
				break;
			j++;
		}
		put_varint(&r, (uint32_t)(j - k));
		put_varint(&r, (uint32_t)d->kind);
		put_varint(&r, (uint32_t)d->nthemes);
		for (size_t i = 0; i < d->nthemes; i++)
			put_varint(&r, d->themes[i]);
		k = j;
	}
	put_str(out, r.ptr, r.len);
	buf_release(&r);
}

static void put_pair(buf *out, const char *a, const char *b)
{
	buf_putc(out, '[');
	put_str(out, a, strlen(a));
	buf_putc(out, ',');
	put_str(out, b, strlen(b));
	buf_putc(out, ']');
}

static int write_meta(search_index *ix, search_emit_fn emit, void *ctx, const buf *bounds,
		      gen_err *err)
{
	buf m = BUF_INIT;
	buf_printf(&m, "{\"version\":1,\"lang\":");
	put_str(&m, ix->language, strlen(ix->language));
	buf_printf(&m, ",\"docs\":%zu,\"perFile\":%d,\"max\":%.9g,\"ratio\":%.9g,\"levels\":%d",
		   ix->ndocs, SEARCH_DOCS_PER_FILE, ix->made.max_impact, IMPACT_RATIO, IMPACT_LEVELS);
	/* The browser stems queries with its own copy of these two
	 * (js/stem-LANG.js); other languages match the index's words only. */
	bool js_stemmer = ix->stemmer && (strcmp(ix->language, "nl") == 0 ||
					  strcmp(ix->language, "en") == 0);
	buf_puts(&m, ",\"stemmer\":");
	put_str(&m, js_stemmer ? ix->language : "", js_stemmer ? strlen(ix->language) : 0);
	buf_puts(&m, ",\"shards\":");
	buf_put(&m, bounds->ptr, bounds->len);
	buf_puts(&m, ",\"stop\":[");
	size_t ns;
	const char *const *stop = stopwords_list(ix->language, &ns);
	for (size_t i = 0; i < ns; i++) {
		if (i)
			buf_putc(&m, ',');
		put_str(&m, stop[i], strlen(stop[i]));
	}
	buf_puts(&m, "],\"kinds\":[");
	for (size_t i = 0; i < NKINDS; i++) {
		if (i)
			buf_putc(&m, ',');
		put_pair(&m, kind_names[i], ix->kind_labels[i]);
	}
	buf_puts(&m, "],\"themes\":[");
	for (size_t i = 0; i < ix->themes.n; i++) {
		if (i)
			buf_putc(&m, ',');
		put_pair(&m, ix->themes.str[i], ix->theme_titles[i]);
	}
	buf_puts(&m, "],\"runs\":");
	put_runs(ix, &m);
	buf_puts(&m, ",\"ui\":{");
	for (size_t i = 0; i < ix->nui; i++) {
		if (i)
			buf_putc(&m, ',');
		put_str(&m, ix->ui_keys[i], strlen(ix->ui_keys[i]));
		buf_putc(&m, ':');
		put_str(&m, ix->ui_texts[i], strlen(ix->ui_texts[i]));
	}
	buf_puts(&m, "}}");
	buf js = BUF_INIT;
	int rc = emit_js(emit, ctx, &js, "zoeken/meta.js", "meta", -1, &m, err);
	buf_release(&js);
	buf_release(&m);
	return rc;
}

/* This index's id of word w_old of the memory's, or -1. */
static long word_now(const search_index *ix, uint32_t w_old)
{
	const search_memory *m = ix->memory;
	if (ix->from_memory[w_old] != UINT32_MAX)
		return ix->from_memory[w_old];
	return strtab_find(&ix->words, m->words.str[w_old], m->words.len[w_old]);
}

/* When ix->after holds: whether every word of the held documents splits
 * as it did in the memory's last index (a word new to the handbook may
 * be a part where it was none, say), so that their postings, weighted
 * counts and all, are the memory's under this index's term ids. A word
 * stems as it did (Snowball knows nothing but the word), so each of the
 * memory's terms is one of this index's. Fills ix->term_was, each
 * term's in the memory. */
static bool map_terms(search_index *ix)
{
	const search_memory *m = ix->memory;
	if (!ix->after || !m || !m->built || !ix->from_memory)
		return false;
	uint32_t *term_now = xmalloc((m->nterms + 1) * sizeof *term_now);
	memset(term_now, 0xff, (m->nterms + 1) * sizeof *term_now);
	bool good = true;
	for (size_t w_old = 0; good && w_old < m->words.n; w_old++) {
		uint32_t w = ix->from_memory[w_old];
		if (w == UINT32_MAX)
			continue; /* in no held document */
		term_now[m->made.word_term[w_old]] = ix->made.word_term[w];
		uint32_t so = m->made.word_split[w_old], sn = ix->made.word_split[w];
		if (so == UINT32_MAX && sn == UINT32_MAX)
			continue;
		good = so != UINT32_MAX && sn != UINT32_MAX &&
		       m->made.parts.v[so] == ix->made.parts.v[sn];
		for (uint32_t k = 0; good && k < m->made.parts.v[so]; k++) {
			uint32_t p_old = m->made.parts.v[so + 1 + k];
			long p = word_now(ix, p_old);
			good = p >= 0 && (uint32_t)p == ix->made.parts.v[sn + 1 + k];
			if (good)
				term_now[m->made.word_term[p_old]] = ix->made.word_term[p];
		}
	}
	if (good) {
		ix->term_was = xmalloc((ix->terms.n + 1) * sizeof *ix->term_was);
		memset(ix->term_was, 0xff, (ix->terms.n + 1) * sizeof *ix->term_was);
		for (size_t t_old = 0; t_old < m->nterms; t_old++)
			if (term_now[t_old] != UINT32_MAX)
				ix->term_was[term_now[t_old]] = (uint32_t)t_old;
	}
	free(term_now);
	return good;
}

/* ---- the memory streamed ----
 *
 * A build that found no memory to read (the first into an output, the
 * first of a new gen) makes the whole index; without a memory the build
 * after it would make the whole index again: read every article's record
 * or tokenise its text, then score and encode every term, some 100 ms of
 * a rebuild at 10,000 articles. A memory taken at the end (memory_take)
 * would keep the word lists, their counts and the postings' weighted
 * counts to the end of the index, and raise the build's peak by 35-40
 * MB. With a memory file (search_set_memory_file) the index writes the
 * file as it goes instead, run by run (see MEMORY_INDEX), and lets go of
 * what each run wrote that nothing else reads: the word lists' counts
 * once the words are known (stream_words), the weighted counts once the
 * postings are scored (stream_index; the raw levels are the levels
 * then, not a copy). The file is the one search_memory_save writes of
 * the memory memory_take makes (tests/search.c compares them byte for
 * byte). */
static void stream_words(search_index *ix)
{
	search_memory v;
	memory_view(ix, &v);
	ix->stream = memory_write_begin(&v, ix->stream_path, ix->stream_stamp, true);
	free(v.docs);
	free(ix->dw_cnt.v);
	memset(&ix->dw_cnt, 0, sizeof ix->dw_cnt);
}

static void stream_index(search_index *ix)
{
	if (!ix->stream)
		return;
	search_memory v;
	memory_view(ix, &v);
	v.built = true;
	v.nterms = ix->terms.n;
	v.made = ix->made;
	v.made.pq_raw = ix->made.pq; /* before encode_postings' tiers */
	memory_write_run(ix->stream, &v, MEMORY_LATE);
	free(v.docs);
	free(ix->made.ptf);
	ix->made.ptf = NULL;
}

/* Ends the file stream_words began, when it did. */
static void stream_end(search_index *ix)
{
	if (!ix->stream)
		return;
	search_memory v;
	memset(&v, 0, sizeof v);
	v.built = true;
	v.nterms = ix->terms.n;
	v.made = ix->made;
	v.ndfp = made_ndfp(ix);
	memory_write_end(ix->stream, &v);
	ix->stream = NULL;
}

int search_write(search_index *ix, search_emit_fn emit, void *ctx, gen_err *err)
{
	if (ix->written)
		return 0;
	ix->written = true;
	if (ix->has_keeper) {
		emit = emit_kept;
		ctx = ix;
	}
	merge_serial(ix);
	grow_words(ix);
	stem_all(ix);
	split_all(ix);
	bool streaming = remembering(ix) && !ix->memory;
	if (streaming)
		stream_words(ix);
	if (!map_terms(ix) || !build_postings_after(ix)) {
		words_materialize(ix);
		build_postings(ix);
	}
	if (remembering(ix)) {
		ix->made.enc_at = xcalloc(ix->terms.n + 1, sizeof *ix->made.enc_at);
		ix->made.enc_len = xcalloc(ix->terms.n + 1, sizeof *ix->made.enc_len);
	}
	if (streaming)
		stream_index(ix);
	int rc = texts_settle(ix, err);
	if (rc < 0)
		return rc;
	/* The document table needs only the documents and their order: it
	 * is written beside the shards, whose last steps are on one thread.
	 * Errors in that order, whichever came first. */
	buf bounds = BUF_INIT;
	write_job w[2] = { { ix, emit, ctx, &bounds, 0, { 0 } }, { ix, emit, ctx, NULL, 0, { 0 } } };
	if (ix->jobs > 1) {
		jobs_run(w, 2, sizeof *w, write_run);
	} else {
		write_run(&w[0]);
		if (w[0].rc == 0)
			write_run(&w[1]);
	}
	for (int k = 0; k < 2 && rc == 0; k++) {
		rc = w[k].rc;
		if (rc < 0 && err)
			*err = w[k].err;
	}
	if (rc == 0)
		rc = write_meta(ix, emit, ctx, &bounds, err);
	buf_release(&bounds);
	if (rc == 0)
		stream_end(ix);
	return rc;
}

/* ---- querying (the browser's ranking, for tests and tools) ------------- */

typedef struct query_ctx {
	long terms[32];
	size_t n;
} query_ctx;

static void query_word(worker *w, const char *word, size_t len, void *ctx)
{
	query_ctx *q = ctx;
	search_index *ix = w->ix;
	if (q->n == sizeof q->terms / sizeof *q->terms ||
	    stopwords_contains(ix->language, word, len))
		return;
	long t = -1;
	long id = strtab_find(&ix->words, word, len);
	if (id >= 0)
		t = (long)ix->made.word_term[id];
	else
		t = strtab_find(&ix->terms, word, len);
	q->terms[q->n++] = t;
}

typedef struct hit {
	uint32_t doc;
	double score;
	uint32_t words;
} hit;

static int compare_hits(const void *a, const void *b)
{
	const hit *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

size_t search_query(const search_index *ix, const char *query, size_t *docs,
		    double *scores, size_t max)
{
	if (!ix->written || !ix->ndocs)
		return 0;
	query_ctx q = { { 0 }, 0 };
	/* tokenize needs scratch buffers of the index; they are not part of
	 * its observable state. */
	tokenize((worker *)&ix->serial, query, strlen(query), false, query_word, &q);
	if (!q.n)
		return 0;
	hit *h = xcalloc(ix->ndocs, sizeof *h);
	for (size_t i = 0; i < q.n; i++) {
		long t = q.terms[i];
		if (t < 0)
			continue;
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup = dup || q.terms[j] == t;
		if (dup)
			continue;
		for (uint32_t k = 0; k < ix->made.post_n[t]; k++) {
			uint32_t d = ix->made.pdoc[ix->made.post_off[t] + k];
			h[d].score += dequantize(ix, ix->made.pq[ix->made.post_off[t] + k]);
			h[d].words++;
		}
	}
	size_t distinct = 0;
	for (size_t i = 0; i < q.n; i++) {
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup = dup || q.terms[j] == q.terms[i];
		distinct += !dup;
	}
	/* All words if any document has them all, else any word. */
	uint32_t need = (uint32_t)distinct;
	bool all = false;
	for (size_t d = 0; d < ix->ndocs && !all; d++)
		all = h[d].words == need;
	size_t n = 0;
	for (size_t d = 0; d < ix->ndocs; d++) {
		if (all ? h[d].words != need : h[d].words == 0)
			continue;
		h[n] = h[d];
		h[n++].doc = (uint32_t)d;
	}
	qsort(h, n, sizeof *h, compare_hits);
	for (size_t i = 0; i < n && i < max; i++) {
		docs[i] = ix->made.order[h[i].doc];
		if (scores)
			scores[i] = h[i].score;
	}
	free(h);
	return n;
}

/* ---- the site's search ------------------------------------------------- */

/* The output and its page cache, for the index's files (a search_keeper).
 *
 * An index begun before the output's reading was over (
 * search_render_index_waiting) gets the output when it first looks at a
 * file there, which waits for the reading; files written before that
 * (the text files of the articles that changed, made as the words are
 * counted) are held until then, up to EARLY_WRITES bytes; a write past
 * those waits too. */
typedef struct early_write {
	char *rel, *data;
	size_t len;
	uint64_t fp;
} early_write;

/* A rebuild after an edit holds the text files of the few articles that
 * changed, some kilobytes each; a build that adds every article (a cold
 * one, whose output is there long before) copies no more than this. */
#define EARLY_WRITES (1u << 20)

typedef struct site_files {
	renderer *r;
	output *o;                  /* NULL until ready, or when wait gave none */
	output *(*wait)(void *ctx); /* NULL: o was there from the start */
	void *ctx;
	atomic_bool ready;
	pthread_mutex_t lock;       /* over the early writes, until ready */
	early_write *early;
	size_t nearly, cap, held_bytes;
	int rc;                     /* the first failed early write's */
	gen_err err;
} site_files;

/* The output, waited for by the first caller; the early writes go into
 * it then, in order (or nowhere, when the wait gave none). */
static output *files_output(site_files *f)
{
	if (atomic_load_explicit(&f->ready, memory_order_acquire))
		return f->o;
	pthread_mutex_lock(&f->lock);
	if (!atomic_load_explicit(&f->ready, memory_order_relaxed)) {
		if (f->wait)
			f->o = f->wait(f->ctx);
		for (size_t i = 0; i < f->nearly; i++) {
			early_write *w = &f->early[i];
			if (f->o && f->rc == 0)
				f->rc = render_file_as(f->r, f->o, w->rel, w->data, w->len, w->fp,
						       &f->err);
			free(w->rel);
			free(w->data);
		}
		free(f->early);
		f->early = NULL;
		f->nearly = f->cap = f->held_bytes = 0;
		atomic_store_explicit(&f->ready, true, memory_order_release);
	}
	pthread_mutex_unlock(&f->lock);
	return f->o;
}

static bool site_fresh(void *ctx, const char *rel, uint64_t fp)
{
	site_files *f = ctx;
	output *o = files_output(f);
	return o && render_file_fresh(f->r, o, rel, fp);
}

/* An early write held: false when the output is there by now, or the
 * writes held are as many as they may be. */
static bool hold_write(site_files *f, const char *rel, const char *data, size_t len, uint64_t fp)
{
	bool held = false;
	pthread_mutex_lock(&f->lock);
	if (!atomic_load_explicit(&f->ready, memory_order_relaxed) &&
	    f->held_bytes + len <= EARLY_WRITES) {
		if (f->nearly == f->cap) {
			f->cap = f->cap ? 2 * f->cap : 16;
			f->early = xrealloc(f->early, f->cap * sizeof *f->early);
		}
		char *copy = xmalloc(len ? len : 1);
		memcpy(copy, data, len);
		f->early[f->nearly++] = (early_write){ xstrdup(rel), copy, len, fp };
		f->held_bytes += len;
		held = true;
	}
	pthread_mutex_unlock(&f->lock);
	return held;
}

static int site_write(void *ctx, const char *rel, const char *data, size_t len, uint64_t fp,
		      gen_err *err)
{
	site_files *f = ctx;
	if (!atomic_load_explicit(&f->ready, memory_order_acquire) &&
	    hold_write(f, rel, data, len, fp))
		return 0;
	output *o = files_output(f);
	if (!o)
		return err_set(err, GEN_EIO, "zoeken", 0, 0,
			       "the build stopped before the search index was written");
	return render_file_as(f->r, o, rel, data, len, fp, err);
}

/* Writes what is held, and ends f: the first failed write's code (with
 * err set), or one when the wait gave no output. */
static int files_end(site_files *f, gen_err *err)
{
	output *o = files_output(f);
	int rc = f->rc;
	if (rc < 0 && err)
		*err = f->err;
	else if (!o)
		rc = err_set(err, GEN_EIO, "zoeken", 0, 0,
			     "the build stopped before the search index was written");
	pthread_mutex_destroy(&f->lock);
	return rc;
}

/* UI strings the script shows, with their Dutch defaults for themes
 * whose i18n files predate them. */
static const char *const ui_strings[][2] = {
	{ "search_results", "{n} resultaten" },
	{ "search_result_one", "1 resultaat" },
	{ "search_none", "Geen resultaten voor ‘{q}’." },
	{ "search_suggest", "Bedoelde je:" },
	{ "search_partial", "Geen artikel bevat alle woorden; dit zijn de artikelen met een deel ervan." },
	{ "search_stopwords", "Typ een woord dat meer zegt dan ‘{q}’." },
	{ "search_all", "Alle resultaten bekijken" },
	{ "search_more", "Meer resultaten" },
	{ "search_kind", "Soort" },
	{ "search_theme", "Thema" },
	{ "search_loading", "Zoeken…" },
	{ "search_error", "Het zoeken lukt nu niet: de zoekindex kon niet worden geladen." },
	{ "search_filters_clear", "Filters wissen" },
	{ "search_tip", "Tip" },
};

/* ---- the whole index as the last build left it ---------------------------
 *
 * A build whose articles, their order and everything else the index is
 * made of are as in the last build (nothing changed, or only the theme's
 * templates) would write every file of zoeken/ as it is. index_key hashes
 * all of that: the language and the folding's and the stemmer's ways (a
 * few words folded and stemmed), what is set with search_set_theme, _kind
 * and _string, and each document's cache key (path, content id, the
 * stamp of site.toml and the filters), which decides what the document
 * table shows of it as well. The page cache keeps the key and the number of term shards
 * (SEARCH_MEMO); when both are there and the output still has every file
 * as the page cache knows it, the files are kept and no index is made. */

#define SEARCH_MEMO "search index"
#define INDEX_KEY_FORMAT "gen search index 1"

static uint64_t hash_str(const char *s, uint64_t h)
{
	return buf_hash_cstr(s ? s : "", h);
}

static uint64_t index_key(search_index *ix, const document *docs, size_t n)
{
	uint64_t h = buf_hash64(INDEX_KEY_FORMAT, sizeof INDEX_KEY_FORMAT, ix->text_stamp);
	h = hash_str(ix->language, h);
	h = hash_str(text_engine(), h);
	static const char probe_words[] = "Ideeën klanttevredenheid klachten behandelde ÉCOLE Straße";
	buf probe = BUF_INIT;
	search_terms(ix, probe_words, sizeof probe_words - 1, &probe);
	h = buf_hash64(probe.ptr, probe.len, h);
	buf_release(&probe);
	for (size_t i = 0; i < ix->themes.n; i++) {
		h = hash_str(ix->themes.str[i], h);
		h = hash_str(ix->theme_titles[i], h);
	}
	for (int k = 0; k < NKINDS; k++)
		h = hash_str(ix->kind_labels[k], h);
	for (size_t i = 0; i < ix->nui; i++) {
		h = hash_str(ix->ui_keys[i], h);
		h = hash_str(ix->ui_texts[i], h);
	}
	/* What the document table shows of a document (doc_of) comes from
	 * its path, its text and the site's settings, all in its key: the
	 * memory takes it over by the key alone too (take_sdoc). So the
	 * keys are enough, and the documents' own strings, spread over the
	 * mapped cache, are not read again. */
	h = buf_hash64(&n, sizeof n, h);
	site_keys(ix, docs, n);
	h = buf_hash64(ix->site_keys.ptr, ix->site_keys.len, h);
	return buf_hash64(ix->site_key_at, n * sizeof *ix->site_key_at, h);
}

/* Keeps every document's record in the cache for the next build that
 * makes the index; false when one is not there (a first build, a cache
 * found damaged): the index is then made, to write them. */
static bool records_kept(search_index *ix, const document *docs, size_t n)
{
	bool all = ix->cache != NULL && cache_keep(ix->cache, VOCAB_KEY, VOCAB_KEY_LEN);
	site_keys(ix, docs, n);
	for (size_t i = 0; i < n && all; i++)
		all = cache_keep(ix->cache, ix->site_keys.ptr + ix->site_key_at[i],
				 ix->site_key_at[i + 1] - ix->site_key_at[i]);
	return all;
}

/* What SEARCH_MEMO holds: the key and the number of term shards. */
typedef struct index_memo {
	uint64_t key;
	uint64_t nshards;
} index_memo;

/* Keeps file rel as the page cache knows it, when the output has it so. */
static bool keep_file(renderer *r, output *o, const char *rel)
{
	output_mark mark;
	return render_file_mark(r, o, rel, &mark) && output_keep(o, rel, &mark);
}

/* Whether the last build's index had this key: *was its memo. */
static bool index_was(renderer *r, uint64_t key, index_memo *was)
{
	size_t len = 0;
	const char *m = render_memo_get(r, SEARCH_MEMO, &len);
	if (!m || len != sizeof *was)
		return false;
	memcpy(was, m, sizeof *was);
	return was->key == key;
}

/* Keeps every file of the index the last build wrote (its memo was);
 * false when a file is not there as it was (those kept so far are
 * written again, or kept again, by the build that follows: the last
 * word on a path is what counts). */
static bool keep_index(renderer *r, output *o, const index_memo *was, size_t ndocs)
{
	if (!keep_file(r, o, "zoeken/meta.js"))
		return false;
	char rel[64];
	for (uint64_t k = 0; k < was->nshards; k++) {
		snprintf(rel, sizeof rel, "zoeken/w/%" PRIu64 ".js", k);
		if (!keep_file(r, o, rel))
			return false;
	}
	for (size_t k = 0; k < ndocs; k += SEARCH_DOCS_PER_FILE) {
		snprintf(rel, sizeof rel, "zoeken/d/%zu.js", k / SEARCH_DOCS_PER_FILE);
		if (!keep_file(r, o, rel))
			return false;
	}
	for (size_t i = 0; i < ndocs; i++) {
		text_file_name(rel, i);
		if (!keep_file(r, o, rel))
			return false;
	}
	return true;
}

static int render_index(renderer *r, const site *s, site_files *files,
			search_render_stats *st, gen_err *err)
{
	memset(st, 0, sizeof *st);
	search_index *ix = NULL;
	int rc = search_new(&ix, s->cfg.language, err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < s->cfg.nthemes; i++)
		search_set_theme(ix, s->cfg.themes[i].id, s->cfg.themes[i].title);
	search_set_kind(ix, "story", render_i18n(r, "story", "Verhaal"));
	search_set_kind(ix, "tips", render_i18n(r, "tips", "Tips"));
	search_set_kind(ix, "page", render_i18n(r, "page", "Pagina"));
	for (size_t i = 0; i < sizeof ui_strings / sizeof *ui_strings; i++)
		search_set_string(ix, ui_strings[i][0],
				  render_i18n(r, ui_strings[i][0], ui_strings[i][1]));
	search_set_cache(ix, s->search_cache, s->stamp);
	search_set_memory(ix, render_search_memory(r));
	uint64_t memory_stamp;
	const char *memory_file = render_search_memory_file(r, &memory_stamp);
	if (!render_search_memory(r) && memory_file)
		search_set_memory_file(ix, memory_file, memory_stamp);
	ix->borrow_docs = true; /* s->docs outlive ix */
	search_keeper k = { site_fresh, site_write, files };
	search_set_keeper(ix, &k);
	index_memo memo = { index_key(ix, s->docs, s->ndocs), 0 }, was;
	/* The records are kept only for an index kept whole: one made
	 * again keeps those it reads. */
	output *o;
	if (index_was(r, memo.key, &was) && records_kept(ix, s->docs, s->ndocs) &&
	    (o = files_output(files)) != NULL && keep_index(r, o, &was, s->ndocs)) {
		st->kept = s->ndocs;
		st->whole = true;
		goto out;
	}
	rc = search_add_documents(ix, s->docs, s->ndocs, site_jobs(s->opt_jobs), NULL, NULL,
				  err);
	st->held = ix->held;
	if (rc == 0)
		rc = search_write(ix, NULL, NULL, err);
	st->kept = ix->texts_kept;
	st->terms_held = search_terms_held(ix);
	st->terms_scored = search_terms_scored(ix);
	st->terms = ix->terms.n;
	st->postings_scored = search_postings_scored(ix, NULL);
	st->postings = ix->terms.n && ix->made.post_off
			       ? (size_t)ix->made.post_off[ix->terms.n - 1] +
					 ix->made.post_n[ix->terms.n - 1]
			       : 0;
	if (rc < 0)
		goto out;
	memo.nshards = ix->nshards;
	render_memo_put(r, SEARCH_MEMO, &memo, sizeof memo);
out:
	search_free(ix);
	return rc;
}

/* render_index through files, which has the output (o) or waits for it
 * (wait); *got is the output it had at the end. */
static int render_index_with(renderer *r, const site *s, output *o,
			     output *(*wait)(void *ctx), void *ctx, output **got,
			     search_render_stats *st, gen_err *err)
{
	site_files files = { .r = r, .o = o, .wait = wait, .ctx = ctx };
	atomic_init(&files.ready, wait == NULL);
	pthread_mutex_init(&files.lock, NULL);
	int rc = render_index(r, s, &files, st, err);
	int end = files_end(&files, rc < 0 ? NULL : err);
	*got = files.o;
	return rc < 0 ? rc : end;
}

int search_render_index(renderer *r, const site *s, output *o, search_render_stats *st,
			gen_err *err)
{
	output *got;
	return render_index_with(r, s, o, NULL, NULL, &got, st, err);
}

int search_render_index_waiting(renderer *r, const site *s, output *(*wait)(void *ctx),
				void *ctx, output **got, search_render_stats *st, gen_err *err)
{
	return render_index_with(r, s, NULL, wait, ctx, got, st, err);
}

int search_render_page(renderer *r, output *o, gen_err *err)
{
	value *data = render_base_data(r, "zoeken/");
	value *page = value_new_table();
	const char *title = render_i18n(r, "search_title", "Zoeken");
	value_set_cstr(page, "title", value_new_cstring(title));
	value_set_cstr(page, "url", value_new_cstring("zoeken/"));
	value_set_cstr(page, "is_search", value_new_bool(true));
	value_set_cstr(data, "page", page);
	int rc = render_page(r, o, "search", "zoeken/index.html", data, err);
	value_free(data);
	return rc;
}
