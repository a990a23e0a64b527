/* search: the full-text index that the browser searches, built by gen.
 *
 * Text comes from the documents themselves (title, summary, headings, tip
 * items, body: the Markdown tree, not scraped HTML). Each piece is split
 * into words, folded (case and diacritics: "Ideeën" = "ideeen"), stripped
 * of stop words and stemmed with Snowball for the site's language
 * ("klachten" -> "klacht"). Dutch compounds are also indexed under their
 * parts when these are words of the handbook itself ("klanttevredenheid"
 * under "klant" and "tevredenheid"). Ranking is BM25 over weighted fields
 * (title > headings > summary > tips, body); each document's score per
 * term is computed here, once, and stored quantised, so the browser only
 * adds numbers.
 *
 * The index is written as small JavaScript files under zoeken/ that the
 * search UI loads with <script> elements on demand (so it works from
 * file:// too), each calling genSearch.X(..., JSON.parse('...')):
 *   zoeken/meta.js   shard boundaries, facets (kind and themes of every
 *                    document, run-length coded), stop words, UI strings
 *   zoeken/w/N.js    words and terms of one lexicographic range: postings
 *                    of each term, and each inflected word's term
 *   zoeken/d/N.js    the document table, SEARCH_DOCS_PER_FILE per file
 *   zoeken/t/N.js    the text of one document, by section, for snippets
 * themes/default/static/js/search.js documents the formats it reads.
 * Output depends only on the documents and their order: byte-identical
 * across runs. The only module that includes libstemmer.h. */
#ifndef GEN_SEARCH_H
#define GEN_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "document.h"
#include "err.h"
#include "output.h"
#include "render.h"
#include "site.h"

#define SEARCH_DOCS_PER_FILE 8

typedef struct search_index search_index;

/* What an index made of a site's documents, held by a process that
 * builds again and again (gen serve) for its next build: a document whose
 * key (path, content id, language, text stamp) is as before is not read
 * again, and when the documents keep their numbers and order the last
 * index's postings are taken for all but the changed ones (see search.c).
 * The index comes out the same as without it. One index at a time uses
 * it. */
typedef struct search_memory search_memory;
search_memory *search_memory_new(void);
void search_memory_free(search_memory *m);
/* A one-shot build has no process to hold the memory until the next
 * build: it keeps it in a file instead. search_memory_save writes what m
 * holds to path (through a temporary file and a rename) and returns 0,
 * or -1 when m holds no build's words or the file cannot be written
 * (the next build then goes without). search_memory_load fills an empty
 * m from such a file written with the same stamp and returns 0; -1 for a
 * missing, short, damaged or foreign file, leaving m empty. What a file
 * holds is checked as a resident's memory is (by the documents' keys):
 * one from an older build costs time, never a wrong index. */
int search_memory_save(const search_memory *m, const char *path, uint64_t stamp);
int search_memory_load(search_memory *m, const char *path, uint64_t stamp);
/* Says that m goes with a one-shot build that writes it back only when
 * search_memory_due says so (m NULL: nothing). An index that leaves m,
 * loaded from a file, not due then does not give m its words (they are
 * not copied out of the file's mapping for nothing): m is not taken, and
 * the file stays as it is. */
void search_memory_lean(search_memory *m);
/* Whether an index made since m was made or loaded gave m its words
 * (one kept whole leaves m as it was: there is nothing new to save). */
bool search_memory_taken(const search_memory *m);
/* Whether m, loaded from a file, is worth writing again: an index made
 * since took its words, and the file lacks those of more than a few
 * documents, or the postings of all (the documents moved). A file a few
 * changed articles behind the last build serves the next as well, at
 * the cost of their words; writing it costs more. A memory not loaded
 * from a file is due once it has taken an index. */
bool search_memory_due(const search_memory *m);
struct cache_file;

/* Where a piece of text stands in its document; decides its weight. */
typedef enum search_field {
	SEARCH_TITLE,
	SEARCH_HEADING,
	SEARCH_SUMMARY,
	SEARCH_TIP,
	SEARCH_BODY,
} search_field;

/* What the result list shows of a document (all borrowed, copied). */
typedef struct search_doc {
	const char *url;     /* site-relative: "verhalen/de-garage/" */
	const char *title;
	const char *kind;    /* "story", "tips" or "page" */
	const char *date;    /* "2015-03-12...", or NULL */
	const char *const *themes; /* theme ids */
	size_t nthemes;
} search_doc;

/* Receives each file of the index: rel is "zoeken/w/3.js" and the like.
 * Returns 0 or a negative code with err set. */
typedef int (*search_emit_fn)(void *ctx, const char *rel, const char *data,
			      size_t len, gen_err *err);

/* A new, empty index for language ("nl", "en"; other Snowball languages
 * by their ISO code are stemmed without stop words, unknown ones are
 * neither). Returns 0 and *out (caller frees), or GEN_EUSAGE with err set
 * when the stemmer cannot be created. */
int search_new(search_index **out, const char *language, gen_err *err);
void search_free(search_index *ix);

/* Facet labels: the title of a theme id, and of a kind ("story"). Ids
 * without one are shown as they are. Themes come in the order set. */
void search_set_theme(search_index *ix, const char *id, const char *title);
void search_set_kind(search_index *ix, const char *kind, const char *label);
/* A string the search UI shows (key as in i18n/LANG.toml). */
void search_set_string(search_index *ix, const char *key, const char *text);

/* Adds a document: begin, its text in document order, end. anchor is the
 * id of the heading or tip the text belongs to ("" for the top); a
 * SEARCH_HEADING text starts that heading's section. search_doc_end
 * writes the document's text file through emit (NULL: written nowhere)
 * and returns 0 or emit's error. */
void search_doc_begin(search_index *ix, const search_doc *doc);
void search_doc_text(search_index *ix, search_field field, const char *text,
		     size_t len, const char *anchor);
int search_doc_end(search_index *ix, search_emit_fn emit, void *ctx,
		   gen_err *err);
/* All of the above for a document of the site: front matter (title,
 * summary, kind, date, themes) and the Markdown text. */
int search_add_document(search_index *ix, const document *d,
			search_emit_fn emit, void *ctx, gen_err *err);

/* Makes search_add_document(s) keep the words of each document in c,
 * the build cache (cache.h; NULL, the default: none), and read them back
 * from there instead of tokenising a document an earlier build added:
 * the index comes out the same either way. A record is found by the
 * document's path and content id and by stamp, which must stand for
 * everything else that decides a document's text (site.toml and the
 * filters: site->stamp). c must outlive ix. */
void search_set_cache(search_index *ix, struct cache_file *c, uint64_t stamp);
/* Keeps the text files of documents in an output that a build before
 * wrote (gen build: the output and its page cache): fresh(ctx, rel, fp)
 * says whether the output holds rel as made from fp, and keeps it there;
 * write(ctx, rel, data, len, fp, err) writes rel, made from fp, and
 * returns 0 or a negative code with err set. fp is a function of the
 * document's number and its key in the cache, so a text file is kept
 * without its text being read. Both are called from several threads. */
typedef struct search_keeper {
	bool (*fresh)(void *ctx, const char *rel, uint64_t fp);
	int (*write)(void *ctx, const char *rel, const char *data, size_t len, uint64_t fp,
		     gen_err *err);
	void *ctx;
} search_keeper;
/* Makes the index write every file through k (copied; NULL, the
 * default: through emit, which is then not used): a text file by its
 * document's number and key when the cache or the memory knows it, any
 * other by the hash of its bytes, each kept when the output has it. */
void search_set_keeper(search_index *ix, const search_keeper *k);
/* Makes search_add_documents use m (NULL: none) and, when it added every
 * document of the index, leave what it made to m at search_free. */
void search_set_memory(search_index *ix, search_memory *m);
/* For an index with no memory (a build that found none to read): when
 * search_add_documents added every document, search_write writes the
 * memory such an index would leave to path, as search_memory_save with
 * stamp would, while it goes: what the file holds is let go of as soon
 * as it is written, so the index takes little more memory than without.
 * The file is put in place only when search_write succeeds. */
void search_set_memory_file(search_index *ix, const char *path, uint64_t stamp);
/* Documents whose words search_add_documents took from the memory. */
size_t search_held(const search_index *ix);
/* Terms whose postings search_write took from the memory's last index,
 * scores and all (after search_write). */
size_t search_terms_held(const search_index *ix);
/* Terms whose postings search_write scored: all of them, or after the
 * memory's last index only those a changed document has or had, when
 * the others' scores cannot have moved (the average length on the same
 * point of its grid, the highest posting in an untouched term). */
size_t search_terms_scored(const search_index *ix);
/* Postings search_write scored: all, or after the memory's last index
 * those of the touched terms whose number of documents moved, and of the
 * others only the changed documents' own; *touched (may be NULL): the
 * postings of the touched terms, all of which it scored before. */
size_t search_postings_scored(const search_index *ix, size_t *touched);
/* The index's terms (after search_write). */
size_t search_term_count(const search_index *ix);
/* For tests, after search_write: the ranges of terms (threads) that
 * merged the memory's postings with the changed documents' (0: the
 * postings were made anew). */
size_t search_merge_ranges(const search_index *ix);
/* For tests, after search_write: the top score, which level 63 stands
 * for, and the level (1..63) the index gives a posting of this impact:
 * the highest q whose lower bound, top * 1.12^(q - 63.5), the impact
 * reaches, at least 1. */
double search_top_impact(const search_index *ix);
unsigned search_level(const search_index *ix, float impact);
/* Appends the key of d's record in that cache: for tests and tools. */
void search_cache_key(const search_index *ix, const document *d, buf *out);

/* Adds n documents of the site at once, on up to jobs threads (emit is
 * then called from several threads: it must be safe for that). The
 * result is the same as adding them one by one, whatever jobs is.
 * Returns 0 or the first error of emit, in document order. */
int search_add_documents(search_index *ix, const document *docs, size_t n, int jobs,
			 search_emit_fn emit, void *ctx, gen_err *err);

/* Builds the index over the documents added and writes meta, term shards
 * and the document table through emit (NULL: build only). Call once.
 * Returns 0 or emit's error. */
int search_write(search_index *ix, search_emit_fn emit, void *ctx,
		 gen_err *err);

/* Ranks the documents for a query the way the browser does (all words
 * must match, else any; a word's score is its term's stored impact),
 * after search_write. Fills up to max document numbers (in the order
 * they were added) best first and their scores (may be NULL); returns
 * the number of documents that match. */
size_t search_query(const search_index *ix, const char *query, size_t *docs,
		    double *scores, size_t max);

/* Appends the index terms of text, separated by single spaces: split,
 * folded, stop words dropped, stemmed (no compound parts). */
void search_terms(search_index *ix, const char *text, size_t len, buf *out);
/* Appends the parts a folded word was split into, joined by '+'
 * ("klant+tevredenheid"), or nothing when it was not split; after
 * search_write. */
void search_split(const search_index *ix, const char *word, buf *out);

/* What search_render_index did, for gen build --stats. */
typedef struct search_render_stats {
	size_t kept;       /* documents whose text file was kept */
	size_t held;       /* whose words came from the memory */
	size_t terms_held; /* terms whose postings came from its last index */
	size_t terms_scored, terms; /* terms scored, of all (search_terms_scored) */
	size_t postings_scored, postings; /* and postings (search_postings_scored) */
	bool whole;        /* every file of the index kept */
} search_render_stats;

/* The site's search, in two parts. search_render_index indexes every
 * published document of s (through s->search_cache when there is one)
 * and writes the index under zoeken/ into o. A document whose record
 * comes from the cache and whose text file the output holds as the page
 * cache remembers it is not read at all: st->kept counts those. When
 * all the index is made of is as in the last build and the output holds
 * its files as that build left them, they are kept and no index is made:
 * st->whole is then true. With the renderer's search memory, st->held
 * and st->terms_held tell what came from it. It needs the renderer's
 * strings, page cache and memory, not the links or the site's pages, so
 * a build may start it before those (render_search_begin).
 * search_render_page renders the results page zoeken/index.html (layout
 * "search") into o, or only renders it with o NULL (gen check). Both
 * return 0 or a negative code with err set. */
int search_render_index(renderer *r, const site *s, output *o, search_render_stats *st,
			gen_err *err);
/* search_render_index begun before the output is there: wait(ctx) gives
 * it, waiting for it, when the index first needs it (to look for a file
 * it would keep; what it writes before is held till then), NULL when the
 * build stops: then nothing is written, the index returns a negative
 * code and *got is NULL; else *got is the output. Most of an index after
 * an edit is made before it needs the output. */
int search_render_index_waiting(renderer *r, const site *s, output *(*wait)(void *ctx),
				void *ctx, output **got, search_render_stats *st, gen_err *err);
int search_render_page(renderer *r, output *o, gen_err *err);

#endif
