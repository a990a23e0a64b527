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

/* Renders print/index.html with the "print" layout (o NULL: render only)
 * and sets *articles to the number of articles on it, *copied to those
 * taken from the page the last build wrote, and *framed when all around
 * them was taken from it too, without the template (see print.c).
 * Returns 0 or a negative code with err set. */
int print_render(renderer *r, const xref *x, output *o, size_t *articles, size_t *copied,
		 bool *framed, gen_err *err);

/* Rewrites the ids and local links of html (an article body) for the
 * print page: id="x" becomes id="PREFIX--x", href="#x" becomes
 * href="#PREFIX--x" unless it starts with the "%1F" mark (already a link
 * within the book: the mark is dropped), and headings go shift levels
 * down (at most h6). Appends to out. */
void print_prefix_ids(buf *out, const char *html, const char *prefix, int shift);

#endif
