/* xref: a page's cross references, as template data.
 *
 * The site stage knows how pages hang together: which pages mention this
 * one and in what sentence ("Genoemd in"), per tip for a tip list; which
 * articles are most related; where a page stands on the learning path;
 * who wrote what. This module works that out once per build and adds it
 * to each page's template data in the shape themes/default/README.md
 * documents. Built before any page is rendered and only read afterwards,
 * so pages can be rendered on several threads. Documents are named by
 * their index in site.docs. */
#ifndef GEN_XREF_H
#define GEN_XREF_H

#include <stddef.h>
#include <stdint.h>

#include "authors.h"
#include "buf.h"
#include "err.h"
#include "leerpad.h"
#include "links.h"
#include "related.h"
#include "render.h"
#include "site.h"
#include "value.h"

/* Longest context sentence shown, in bytes; longer ones are cut around
 * the link. */
#define XREF_CONTEXT_MAX 220

typedef struct xref xref;

/* Builds the cross references of s. g is the link graph of s (borrowed);
 * NULL builds one here without reporting anything. Caller frees. */
xref *xref_new(const site *s, const links_graph *g);
/* The same, taking the related pages from memo (len bytes, may be NULL)
 * when it is what xref_memo wrote for the same inputs; the most costly
 * part of xref_new, and the same from one build to the next unless
 * themes, dates or links change. xref_memo appends the memo of x to out
 * and returns true, or returns false when x took its own from memo. */
xref *xref_new_with(const site *s, const links_graph *g, const char *memo, size_t len);
bool xref_memo(const xref *x, buf *out);
void xref_free(xref *x);

const site *xref_site(const xref *x);
const links_graph *xref_links(const xref *x);
const leerpad *xref_leerpad(const xref *x);
const authors *xref_authors(const xref *x);
/* Position of document doc in reading order: the home page, then each
 * section (its intro, then its pages), then everything else by path. */
size_t xref_rank(const xref *x, size_t doc);
/* Documents in reading order (xref_rank inverted); borrowed. */
const size_t *xref_reading_order(const xref *x);

/* Adds to page, the template data of d: backlinks and has_backlinks (the
 * pages that link to d, for a tip list those not aimed at one tip),
 * related and has_related, leerpad (when d is on the path), and
 * backlinks and has_backlinks to each item of page.tips. */
void xref_page_data(const xref *x, const renderer *r, const document *d,
		    value *page);
/* Adds has_leerpad and leerpad { total, first, steps } to the home
 * page's data. */
void xref_home_data(const xref *x, const renderer *r, value *data);
/* Hashes into h what xref_page_data shows of other articles on doc's page
 * beyond its links (see render.c's article_fingerprint): its related
 * articles and its neighbours on the reading path. */
uint64_t xref_fingerprint(const xref *x, const renderer *r, size_t doc, uint64_t h);
/* Adds the backlinks of each tip of d at the end of its item in html (d's
 * rendered body on a page at page_url), through partials/tip-mentions.
 * Returns 0 or a negative code with err set (a template error). */
int xref_tip_mentions(const xref *x, const renderer *r, const document *d,
		      const char *page_url, buf *html, gen_err *err);

#endif
