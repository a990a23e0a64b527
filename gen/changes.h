/* changes: the history of the handbook, shown to editors and readers.
 *
 * From the history stage (history.h) this module makes what the site
 * shows of it: on every article "created … / last changed … by … / N
 * versions / history"; a history page per article (verhalen/x/geschiedenis/)
 * listing its versions, newest first, each with the diff against the one
 * before (the Markdown source, changed words marked); the changelog page
 * wijzigingen/ with the latest commits and the pages each touched; and
 * feed.xml, an Atom feed of new and changed articles. Without history
 * (a work-tree build, no git) the feed is made from front matter dates and
 * the rest is left out. */
#ifndef GEN_CHANGES_H
#define GEN_CHANGES_H

#include "err.h"
#include "output.h"
#include "render.h"
#include "site.h"
#include "value.h"

/* Commits shown on the changelog page. */
#define CHANGES_MAX_COMMITS 100
/* Newest versions of an article shown with their diff on its history page. */
#define CHANGES_MAX_DIFFS 30
/* Entries of feed.xml. */
#define CHANGES_MAX_FEED 30

/* Adds to the template data p of document d: created, modified (objects
 * with commit, short, date, date_display, time, author; modified also
 * message), revisions, revisions_label, contributors, contributors_text,
 * created_unknown, history_url and has_history. Adds nothing when s has no
 * history or d is a section intro. Only reads: safe on several threads. */
void changes_page_data(const renderer *r, const site *s, const document *d,
		       value *p);

/* Writes the history pages and wijzigingen/index.html (o may be NULL:
 * render only); changes_render_feed writes feed.xml, which needs neither,
 * so that the two may run beside each other. Return 0 or a negative
 * code with err set. */
int changes_render(renderer *r, const site *s, output *o, gen_err *err);
int changes_render_feed(renderer *r, const site *s, output *o, gen_err *err);

/* Hashes d's history (every change: commit, kind, paths, blob; its
 * contributors) into h, for fingerprints of pages that show it. */
uint64_t changes_fingerprint(const site *s, const document *d, uint64_t h);
/* The history page of d: "verhalen/x/geschiedenis/"; caller frees. */
char *changes_history_url(const document *d);

#endif
