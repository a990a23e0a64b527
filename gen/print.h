/* print: the whole handbook on one page, for paper (print/index.html).
 *
 * Like mdBook's print.html: what a consultant prints and hands out at a
 * training day. The introduction (the home page) comes first, then the
 * articles of the learning path in its order, then the other articles
 * section by section, each part and article starting on a new sheet, with
 * a table of contents up front.
 *
 * One page holds many articles, so their anchors would clash ("#tip-1" is
 * in every tip list): every id is prefixed with its article's id
 * ("tips-specialisatie--tip-1"), and links between articles on the page
 * become links within it, so they still work on paper-to-PDF and on
 * screen. Links to pages that are not in the book (section intros) go to
 * the site. Headings move two levels down under the book's, part's and
 * article's own. */
#ifndef GEN_PRINT_H
#define GEN_PRINT_H

#include "buf.h"
#include "err.h"
#include "output.h"
#include "render.h"
#include "xref.h"

#define PRINT_URL "print/"

/* What print_render took from the page the last build wrote. */
typedef struct print_stats {
	size_t articles;  /* on the page */
	size_t copied;    /* taken from the last page */
	bool framed;      /* and all around them too, without the template */
	bool unread;      /* the last page stats as written: what was taken
			   * from it was not read to check it (see print.c) */
	size_t parts;     /* written in parts (render_print_parts), or over
			   * the spare (patched): how many */
	size_t parts_written; /* and how many of them this build wrote */
	bool patched;     /* written over the page the build before the last
			   * wrote, only where it differs (see print.c) */
} print_stats;

/* Renders print/index.html with the "print" layout (o NULL: render only)
 * and fills *st. Returns 0 or a negative code with err set. */
int print_render(renderer *r, const xref *x, output *o, print_stats *st, gen_err *err);

/* Rewrites the ids and local links of html (an article body) for the
 * print page: id="x" becomes id="PREFIX--x", href="#x" becomes
 * href="#PREFIX--x" unless it starts with the "%1F" mark (already a link
 * within the book: the mark is dropped), and headings go shift levels
 * down (at most h6). Appends to out. */
void print_prefix_ids(buf *out, const char *html, const char *prefix, int shift);

#endif
