/* build: the commands that run the pipeline: build, check and list.
 *
 * Runs the stages in their one direction (source, site, links, render,
 * output) and decides what reaches the user: diagnostics sorted by file
 * and line, a summary line, the exit status. */
#ifndef GEN_BUILD_H
#define GEN_BUILD_H

#include <stdbool.h>

#include "err.h"
#include "site.h"
#include "source.h"

/* What one build_run did, for a caller that builds again and again (the
 * preview server). The caller owns it: zero it before the first build and
 * release it with build_report_release; each build_run refills it. */
typedef struct build_report {
	diag_list diags;     /* every problem and notice, sorted by file and line */
	char *content_dir;   /* site.toml's content_dir, NULL when it was not read */
	char *output_dir;    /* the folder written (or that would have been),
				NULL when the build did not get that far */
	double seconds;      /* wall time of the whole build */
} build_report;

void build_report_release(build_report *r);

/* The caches the last build had open (history diffs, search records,
 * pages), kept for the next one to take their indexes over
 * (cache_open_after) instead of reading them again: gen serve. Owned;
 * build_caches_release closes them. */
struct cache_file;
typedef struct build_caches {
	struct cache_file *diffs, *search, *pages;
} build_caches;
void build_caches_release(build_caches *c);

typedef struct build_options {
	source_options src;
	site_options site;
	const char *output;   /* -o DIR, overrides site.toml's output_dir */
	bool write;           /* false for `gen check` */
	bool quiet;
	bool stats;           /* --stats: time per stage on stderr */
	bool json;            /* `gen check --format json`, `gen list --json` */
	const char *exe;      /* argv[0], to find the installed themes */
	bool exiting;         /* the process ends with this build: the site's
				 memory is left to the exit (unless built with
				 GEN_FREE_AT_EXIT, as the sanitizer build is) */
	struct search_memory *search_memory; /* search.h: what the index
				 keeps for the next build (gen serve), or NULL */
	struct links_memory *links_memory; /* links.h: each article's links
				 as resolved, for the next build, or NULL */
	struct check_memory *check_memory; /* check.h: what the last check
				 found, or NULL */
	struct source_status *status_memory; /* source.h: what the last git
				 status of the content found, for the next
				 (gen build --resident), or NULL */
	struct output_memory *output_memory; /* output.h: the paths the
				 output held after the last build, for the
				 next when it trusts its output (gen serve,
				 gen build --resident), or NULL */
	build_caches *caches; /* the last build's caches, taken over and
				 replaced by this one's (gen serve), or NULL */
	bool print_parts;     /* the print page goes out in parts that only
				 a server puts together (parts.h; gen serve) */
	bool own_output;      /* the output is as this process's last build
				 left it, and nothing else writes there: see
				 output_begin_trusting (gen serve) */
	build_report *report; /* filled when not NULL (see above) */
	/* Called when not NULL once the build is over and report filled, with
	 * build_run's return value, before the build's memory is freed
	 * (which takes a while for a large site). */
	void (*finished)(void *ctx, int status);
	void *finished_ctx;
} build_options;

/* `gen build` and `gen check`. Diagnostics are printed to stderr (or, for
 * check --format json, as JSON to stdout). Returns 0 when the build
 * succeeded, 1 when the content has errors, 2 for usage errors. */
int build_run(const build_options *opt);
/* `gen list [--json]`: one record per page, drafts included. */
int build_list(const build_options *opt);

#endif
