/* check: the content rules that need the whole site, for `gen build` and
 * `gen check`.
 *
 * Single links are the link checker's (links.h); this module adds what
 * only shows when all pages are known:
 *  - a theme id in front matter that site.toml does not define (an error
 *    at the id's line and column: its chip would lead nowhere);
 *  - two sources for one URL: two articles ("x.md" and "x/index.md"), an
 *    alias that is another page's URL, or a page where gen puts one of its
 *    own (themas/, auteurs/, print/): an error, as one would silently
 *    replace the other;
 *  - an article without text (a warning: usually a forgotten draft);
 *  - the learning path in site.toml (leerpad.h). */
#ifndef GEN_CHECK_H
#define GEN_CHECK_H

#include <stddef.h>

#include "err.h"
#include "site.h"

/* Checks s and adds what it finds to diags. Returns the number of errors
 * added. */
size_t check_site(const site *s, diag_list *diags);

#endif
