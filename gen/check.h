/* check: the content rules that need the whole site, for `gen build` and
 * `gen check`.
 *
 * Single links are the link checker's (links.h); this module adds what
 * only shows when all pages are known:
 *  - a theme id in front matter that site.toml does not define (an error
 *    at the id's line and column: its chip would lead nowhere);
 *  - two sources for one URL: two articles ("x.md" and "x/index.md"), an
 *    alias that is another page's URL, or a page where gen puts one of its
 *    own (themas/, auteurs/, print/) or the theme a file: an error, as one
 *    would silently replace the other;
 *  - an article without text (a warning: usually a forgotten draft);
 *  - the learning path in site.toml (leerpad.h). */
#ifndef GEN_CHECK_H
#define GEN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "site.h"

/* Checks s and adds what it finds to diags. Returns the number of errors
 * added. */
size_t check_site(const site *s, diag_list *diags);

/* What the last check_site_with found, for a process that builds again
 * and again (gen serve). Zeroed to start. */
typedef struct check_memory {
	uint64_t world;  /* the world it checked (see check_site_with) */
	bool clean;      /* and found nothing in it */
	bool names_clean; /* and no file's name was reported (check_names):
			   * names are paths, which the world holds */
	bool held;       /* the last call took that instead of checking */
} check_memory;

/* The files the site's theme puts in the output (its static/ folder, by
 * output path: "css/gen.css"): paths no alias may take or go below. */
typedef struct check_theme {
	const char *const *files;
	size_t n;
} check_theme;

/* check_site for a site whose world (links_world: every article's facts,
 * the assets, drafts and failures, site.toml) is world: when it is the
 * one m last checked, with the same theme files, and that check found
 * nothing, neither would this one (all it checks follows from the two),
 * and only the rule that does not (articles without text) is checked. m
 * may be NULL, world 0; theme may be NULL (no theme known: its files are
 * not checked): check_site. */
size_t check_site_with(const site *s, check_memory *m, uint64_t world, const check_theme *theme,
		       diag_list *diags);

#endif
