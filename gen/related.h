/* related: "read also", the articles most related to each page.
 *
 * Two pages are related when they share themes and when one links to the
 * other; the score adds both (RELATED_THEME per shared theme,
 * RELATED_LINK per direction a link goes). Ties go to the newer article,
 * then to the path, so the lists never depend on the order of work.
 * A page is never related to itself, and section intros and the home page
 * are never suggested.
 *
 * Cost is O(n·k), not O(n²): candidates come from the link graph and from
 * an inverted index (theme -> pages, theme pair -> pages) of which a
 * bounded window around each page is read, so a theme shared by thousands
 * of articles costs each of them the same few dozen comparisons. Up to
 * that window size the result is exact. Documents are named by their
 * index in site.docs. */
#ifndef GEN_RELATED_H
#define GEN_RELATED_H

#include <stddef.h>

#include "buf.h"
#include "links.h"
#include "site.h"

#define RELATED_MAX 5
#define RELATED_THEME 3
#define RELATED_LINK 4
/* Pages read on each side of a page in one posting list. */
#define RELATED_WINDOW 24

typedef struct related_index related_index;

/* Computes up to max (at most RELATED_MAX) related pages for every page of
 * s, from the themes in front matter and the links in g (borrowed).
 * Caller frees with related_free. */
related_index *related_new(const site *s, const links_graph *g, size_t max);
void related_free(related_index *ri);

/* What related_new's result depends on (each page's path order, kind,
 * date, themes and links, and max), hashed: equal keys, equal results. */
uint64_t related_key(const site *s, const links_graph *g, size_t max);
/* The result as bytes, for a cache (appended to out), and back: NULL
 * when data is not what related_save wrote for key and n pages. */
void related_save(const related_index *ri, uint64_t key, buf *out);
related_index *related_load(const void *data, size_t len, uint64_t key, size_t n);

/* The related pages of document doc, best first. */
size_t related_count(const related_index *ri, size_t doc);
size_t related_at(const related_index *ri, size_t doc, size_t i);
/* The score of pair (doc, related_at(doc, i)). */
int related_score_at(const related_index *ri, size_t doc, size_t i);
/* Candidate pairs scored in all: for tests of the O(n·k) bound. */
size_t related_work(const related_index *ri);

#endif
