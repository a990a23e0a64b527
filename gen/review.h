/* review: `gen diff A B`, what a change does to the handbook.
 *
 * An editor runs it on a branch before merging: the site is loaded at
 * both revisions (front matter, filters and all, through site_load), and
 * the report says which pages were added, removed, renamed and changed,
 * which themes each page gained or lost (also pages whose text did not
 * change, when a filter or site.toml did), which links the change broke
 * or fixed, and what changed in each page's Markdown, word by word. It is
 * printed for the terminal (colour only on a terminal, and not with
 * NO_COLOR) and, with --html DIR, written as a page in the site's style. */
#ifndef GEN_REVIEW_H
#define GEN_REVIEW_H

#include <stdbool.h>

#include "site.h"
#include "source.h"

typedef struct review_options {
	source_options src;   /* -C DIR or --repo PATH; rev and worktree unused */
	site_options site;
	const char *a;        /* the revision before: branch, tag or commit */
	const char *b;        /* the revision after */
	const char *html_dir; /* --html DIR: also write the report there */
	const char *exe;      /* argv[0], to find the installed themes */
	bool quiet;           /* summary only, no diffs */
} review_options;

/* Runs the review and prints it to stdout. Returns the exit status: 0
 * (whatever the report says), 1 when a revision cannot be read or does
 * not load, 2 for a usage error. */
int review_run(const review_options *opt);

#endif
