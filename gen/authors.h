/* authors: a page per author and a list of authors.
 *
 * Consultants want a page with everything they wrote, to link to from
 * their profile; readers want to find more by a writer they liked. Each
 * distinct `author` of the articles gets auteurs/SLUG/ (the slug of the
 * name: "Willem Kalmijn" -> auteurs/willem-kalmijn/), listing the
 * articles newest first, and auteurs/ lists every author. Names that fold
 * to the same slug ("José", "Jose") are one author, shown as first
 * written in site order. Section intros and the home page are not
 * articles and are not listed. */
#ifndef GEN_AUTHORS_H
#define GEN_AUTHORS_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "output.h"
#include "render.h"
#include "site.h"

typedef struct author {
	const char *name;  /* borrowed from the first article's front matter */
	char *slug;
	size_t *docs;      /* indexes in site.docs: newest first, then by path */
	size_t ndocs;
} author;

typedef struct authors {
	author *items;     /* by slug */
	size_t n;
} authors;

/* Collects the authors of s's articles. Release with authors_release. */
void authors_collect(authors *out, const site *s);
void authors_release(authors *a);
/* Appends the site-relative URL of name's page: "auteurs/willem-kalmijn/". */
void authors_url(buf *out, const char *name);

/* Renders auteurs/ and every auteurs/SLUG/ (o NULL: render only, for gen
 * check); auteurs/ always, as the footer links to it. Returns 0 or a
 * negative code with err set. */
int authors_render(renderer *r, const site *s, const authors *a, output *o,
		   gen_err *err);

#endif
