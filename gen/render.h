/* render: pages from templates.
 *
 * Loads the theme (Mustache layouts, UI strings for the site's language,
 * static files), builds each page's template data from the site, renders
 * the Markdown bodies with links rewritten, and hands every file of the
 * site to output: article pages, section pages, the home page, theme
 * pages, redirects for aliases, the 404 page, sitemap.xml and robots.txt,
 * the theme's static files and the content's own files (images, PDFs). */
#ifndef GEN_RENDER_H
#define GEN_RENDER_H

#include "buf.h"
#include "err.h"
#include "links.h"
#include "output.h"
#include "site.h"
#include "value.h"

typedef struct renderer renderer;

/* Loads the theme named in site.toml: from the project's themes/ folder
 * in the snapshot, else from the installed themes (next to exe, or
 * $GEN_THEMES). Returns 0 and *out (caller frees), or a negative code with
 * err naming the template file, line and column. */
int render_new(renderer **out, const site *s, const char *exe, diag_list *diags,
	       gen_err *err);
void render_free(renderer *r);

/* Renders every page and file. With o NULL nothing is written (gen check
 * still renders, to find template errors). Returns 0 or a negative code. */
int render_site(renderer *r, output *o, gen_err *err);

/* Hands the renderer the link graph the build made while checking links
 * (borrowed; it must outlive r), so render_site does not resolve every
 * link again for backlinks and related articles. Optional. */
void render_set_links(renderer *r, const links_graph *g);

/* Building blocks for stages that add pages of their own (history,
 * search, theme pages). */

/* The data every page shares (site, i18n, root, nav) for a page at
 * page_url ("a/b/"); the caller adds "page" and frees the table. */
value *render_base_data(const renderer *r, const char *page_url);
/* The card record of a document (title, url, kind, kind_label, date,
 * date_display, author, summary); caller frees. */
value *render_page_card(const renderer *r, const document *d);
/* The same card as a read-only alias (value_new_alias) of one made once
 * per render_site: for lists that show cards as they are. Caller frees
 * the alias. */
value *render_card(const renderer *r, const document *d);
/* A UI string of the site's language, or dflt. Borrowed. */
const char *render_i18n(const renderer *r, const char *key, const char *dflt);
/* Renders layout with data and writes it to rel (o may be NULL: render
 * only). Returns 0 or a negative code with err naming the template. */
int render_page(renderer *r, output *o, const char *layout, const char *rel,
		const value *data, gen_err *err);
/* For pages that know their inputs without making their data (an article
 * page, a history page): render_page_fresh keeps the file at rel when the
 * page cache says it was made from fingerprint fp and the output still
 * holds it (returns true: nothing else to do); render_page_as renders and
 * remembers fp for the next build. */
bool render_page_fresh(renderer *r, output *o, const char *rel, uint64_t fp);
/* When every article's facts (document_facts), the theme and what every
 * page shares are as in the last build (render_facts_same), a page that
 * depends on nothing else is as the last build left it:
 * render_page_kept keeps it (returns true) when the page cache and the
 * output still have it, without its fingerprint being worked out. own
 * is what the page depends on besides (an article page: its article's
 * content id and history; 0: nothing, for pages made of facts alone,
 * like theme and author pages). Only pages made through
 * render_page_own remember an own other than 0. */
bool render_facts_same(const renderer *r);
bool render_page_kept(renderer *r, output *o, const char *rel, uint64_t own);
/* The same for a file that is not a page (the search index's): data
 * made without a layout, not counted in render_pages_kept. */
bool render_file_fresh(renderer *r, output *o, const char *rel, uint64_t fp);
/* What the page cache says the file at rel looked like when the last
 * build wrote it (see output_mark): true and *mark, or false when it
 * knows nothing of it. */
bool render_file_mark(renderer *r, output *o, const char *rel, output_mark *mark);
int render_file_as(renderer *r, output *o, const char *rel, const char *data, size_t len,
		   uint64_t fp, gen_err *err);
/* As render_page_as, for a page too big to hold (the whole handbook):
 * it is written as it is rendered, and each string in data flagged
 * TEMPLATE_LATE (template.h) stands for text that late appends to out
 * only when the template reaches it (key is the string's text), so that
 * no more than one article's HTML exists at a time. */
/* at is where in the file the text late appends will start, or
 * RENDER_NOWHERE when it is escaped on the way (then it is not there as
 * late wrote it). */
#define RENDER_NOWHERE UINT64_MAX
typedef void (*render_late_fn)(void *ctx, buf *out, const char *key, size_t len,
			       uint64_t at);
/* tap (may be NULL) sees every byte of the page as it goes out, in
 * order: len bytes starting at offset at of the file. */
typedef void (*render_tap_fn)(void *ctx, const char *data, size_t len, uint64_t at);
int render_page_late(renderer *r, output *o, const char *layout, const char *rel,
		     const value *data, uint64_t fp, render_late_fn late, render_tap_fn tap,
		     void *ctx, gen_err *err);
/* For a page its caller wrote itself (output_open...): remembers that
 * the file at rel, as output_close_marked left it (mark), was made from
 * fp, and counts the page. */
void render_page_written(renderer *r, const char *rel, uint64_t fp, const output_mark *mark);
/* render_page_written for a page render_page_late has counted already
 * (made with no output, then written by its caller). */
void render_file_written(renderer *r, const char *rel, uint64_t fp, const output_mark *mark);
int render_page_as(renderer *r, output *o, const char *layout, const char *rel,
		   const value *data, uint64_t fp, gen_err *err);
/* Hashes d's identity (path and content id: all a parse and the filters
 * made of it) into h. */
uint64_t render_doc_key(const document *d, uint64_t h);
/* Hashes what d's card shows (render_page_card: path, title, kind, date,
 * weight, author, summary) into h: for pages that list articles, which
 * an edit of an article's text leaves as they were. What a card shows
 * is hashed once a render_site, for the thousands of fingerprints that
 * name it. */
uint64_t render_card_key(const renderer *r, const document *d, uint64_t h);
/* What every page shares (the theme, site.toml, filters, the menu's
 * sections), for fingerprints; set by render_site. */
uint64_t render_site_stamp(const renderer *r);
/* render_site_stamp and every article's identity (and the content's own
 * files), hashed into h: the fingerprint of a page that shows them all
 * (the print page, the list of themes). */
uint64_t render_all_docs_key(const renderer *r, uint64_t h);

/* Renders the layout or partial name with data, appending to out; a name
 * the theme does not have renders nothing. Returns 0 or a negative code
 * with err naming the template. Safe on several threads. */
int render_partial(const renderer *r, const char *name, const value *data,
		   buf *out, gen_err *err);

/* Writes only the theme's static files (stylesheets, scripts) to o: for
 * pages that stand outside the site, like `gen diff --html`. Returns 0 or
 * a negative code. */
int render_statics(renderer *r, output *o, gen_err *err);

/* Wall time of render_site's parts, for --stats: cross references,
 * article pages, lists (home, themes, aliases, 404, sitemap, authors),
 * the print page, search, history pages; and how much of the print page
 * and of the search index's text files a rebuild took from the last. */
typedef struct render_times {
	double xref, pages, lists, print, search, history;
	size_t print_articles, print_copied; /* on the print page; copied from the last one */
	bool print_framed;                   /* and all around them too */
	bool print_unread;                   /* and taken unread (print_stats) */
	size_t print_parts, print_parts_written; /* in parts: how many, and written */
	bool print_patched;                  /* the parts written over the spare */
	bool related_kept;                   /* related pages as the last build had them */
	bool facts_same;                     /* render_facts_same */
	bool sitemap_kept;                   /* the sitemap as the last build left it */
	size_t search_docs, search_kept;     /* in the index; whose text file was kept */
	size_t search_held, search_terms_held; /* words, postings from the memory */
	size_t search_terms_scored, search_terms; /* terms scored, of all */
	size_t search_postings_scored, search_postings; /* and postings */
	bool search_whole;                   /* every file of the index kept */
} render_times;
const render_times *render_last_times(const renderer *r);
/* The page cache (cache.h; borrowed, may be NULL): pages whose theme,
 * layout and data hash as when the file in the output was made are kept
 * (output_keep) instead of rendered. render_theme_stamp is the hash of
 * the theme's files, for the cache file's stamp. */
struct cache_file;
void render_set_page_cache(renderer *r, struct cache_file *pages);
/* gen check's page cache, which stands for no output: a page whose
 * theme, layout and data hash as in a check that rendered it without an
 * error is not rendered again, as it cannot fail now either. Set before
 * render_site, with no output (o NULL) and a page cache of gen check's
 * own. */
void render_set_checking(renderer *r, bool checking);
/* What the search index keeps from one build to the next in a resident
 * process (search.h; borrowed, may be NULL). */
struct search_memory;
void render_set_search_memory(renderer *r, struct search_memory *m);
struct search_memory *render_search_memory(const renderer *r);
/* Where a one-shot build with no memory has the index write the memory
 * for the next build (search_set_memory_file), with the stamp the next
 * build reads it with; path is borrowed until render_search_end, NULL
 * for none. */
void render_set_search_memory_file(renderer *r, const char *path, uint64_t stamp);
const char *render_search_memory_file(const renderer *r, uint64_t *stamp);
/* The search index (search_render_index) begun on a thread of its own
 * before the render, with the renderer's page cache and search memory
 * set: it needs neither the links nor the site's pages, so a build
 * starts it while the links are resolved and checked, and before the
 * output is read. The thread makes the index and, when it first needs
 * the output, calls wait(ctx), which returns it once it is read, or NULL
 * for none (the build stops: the thread writes nothing; see
 * search_render_index_waiting). Only with more than one job; otherwise
 * the render's search part makes it. render_search_end waits for it and gives what
 * it returned (0 or a negative code with err set) and its stats; without
 * one begun, or one whose wait gave NULL, it makes the index into o
 * (with o NULL, nothing). A build that stops before its render calls it
 * too, before it lets go of the output. */
struct search_render_stats;
void render_search_begin(renderer *r, output *(*wait)(void *ctx), void *ctx);
int render_search_end(renderer *r, output *o, struct search_render_stats *st, gen_err *err);
/* Whether the print page goes out in parts (parts.h), as gen serve's
 * preview has it; off unless set. */
void render_set_print_parts(renderer *r, bool parts);
bool render_print_parts(const renderer *r);
uint64_t render_theme_stamp(const renderer *r);
/* What a page keeps in the page cache beside its fingerprint, for the
 * next build (the print page: where each article stands in its file),
 * under a key no output path has (say "print/index.html#pieces"): as
 * cache_get and cache_put, NULL without a page cache. Safe on several
 * threads. */
const char *render_memo_get(renderer *r, const char *key, size_t *len);
void render_memo_put(renderer *r, const char *key, const void *data, size_t len);
/* Keeps the memo of key as the last build left it, for the next; false
 * when there is none to keep (then put one). */
bool render_memo_keep(renderer *r, const char *key);
/* Pages of the last render_site kept by the page cache. */
size_t render_pages_kept(const renderer *r);
/* Number of pages rendered by the last render_site. */
size_t render_page_count(const renderer *r);
/* The theme's static files, by their path in the output ("css/gen.css"):
 * *n of them, owned by r. */
const char *const *render_theme_files(const renderer *r, size_t *n);

#endif
