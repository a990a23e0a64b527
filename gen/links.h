/* links: links between articles, checked and rewritten.
 *
 * Authors link to source files ("../tips/x.md#tip-3") because that is what
 * their editor and git understand; readers need page URLs. This module
 * resolves each such link against the site, reports every link whose
 * target or anchor does not exist (file, line and column of the link),
 * and turns the rest into URLs relative to the page that holds them, so
 * the site works at any base path and from disk. External links are left
 * alone. */
#ifndef GEN_LINKS_H
#define GEN_LINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "site.h"

/* Checks every link and image of every document. Broken ones are added to
 * diags as errors (or warnings when site.toml says links = "warn").
 * Returns the number of errors added. */
size_t links_check(const site *s, diag_list *diags);

/* The URL to write in from's page for a link destination url, or NULL when
 * it stays as written (external, or not resolvable). Caller frees. */
char *links_rewrite(const site *s, const document *from, const char *url,
		    bool image);

/* "../../" for a page at "a/b/", "./" for the home page. Caller frees. */
char *links_root(const char *page_url);

#endif
