/* site: the handbook as a whole.
 *
 * The cross-document stage: reads site.toml and every article of the
 * snapshot, leaves out drafts and future articles, groups articles into
 * sections (folders with an _index.md), and answers the questions that
 * need all documents at once (which page does this path name, which
 * section is this page in). Per-document parsing is in document. */
#ifndef GEN_SITE_H
#define GEN_SITE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "document.h"
#include "err.h"
#include "source.h"

typedef struct site_section {
	char *dir;          /* content-relative folder: "verhalen" */
	document *index;    /* its _index.md */
	document **pages;   /* articles directly in the folder, in order */
	size_t npages;
} site_section;

struct site;

/* The articles one build leaves to the next, in a process that builds
 * again and again (gen serve). With site_options.memory, site_load takes
 * each article whose path and content id are as in the last build, with
 * the warnings it gave, from the memory instead of the build cache (no
 * record read, checked or thawed), as long as nothing else that decides
 * an article changed (site.toml, the filters, gen: site.stamp); and
 * site_release gives the site's articles back to it instead of freeing
 * them, with the cache mappings they borrow from. One build at a time. */
typedef struct site_memory site_memory;
site_memory *site_memory_new(void);
void site_memory_free(site_memory *m);

typedef struct site_options {
	bool drafts;        /* --drafts: include draft = true */
	bool future;        /* --future: include dates after now */
	bool all;           /* keep drafts and future articles (gen list) */
	int64_t now;        /* seconds since the epoch, for --future */
	int jobs;           /* worker threads for per-document work; 0 = cores */
	bool keep_going;    /* an article that cannot be read is left out (and
			     * listed in site.failed) instead of failing the
			     * load, so every other problem is found too */
	bool cache;         /* read and keep articles in the build cache (cache.h) */
	bool check_late;    /* with cache and without memory: check each
			     * article's replay only when it is read
			     * (cache_check_late), for a build that renders
			     * few; doc_cache then tells whether one did not
			     * check out (cache_damaged_late) */
	const char *output; /* -o DIR, or NULL for site.toml's output_dir; the
			     * cache lives beside it */
	bool seed_cache;    /* with cache and output: an empty cache starts
			     * from the articles of the one beside site.toml's
			     * output_dir (gen serve's first build) */
	/* Called once site.toml is read, before any article is, with the
	 * site as far as it goes: for work that needs only the settings and
	 * can run beside the per-document stage (the history walk). NULL:
	 * none. It must not keep s beyond copying what it needs. A negative
	 * return, with err filled, ends site_load with that error before
	 * any article is read. */
	int (*configured)(void *ctx, const struct site *s, gen_err *err);
	void *configured_ctx;
	site_memory *memory; /* NULL: none (see above) */
	/* What a watch on the content says changed since the last listing
	 * (source_list_ids); NULL: every file is looked at. */
	struct source_listing *listing;
} site_options;

/* The number of worker threads to use for jobs (0 = the number of cores). */
int site_jobs(int jobs);

struct history;

typedef struct site {
	config cfg;
	const source *src;     /* borrowed */
	document *docs;        /* published documents, sorted by path */
	size_t ndocs;
	document *home;        /* content/_index.md, or NULL */
	site_section *sections;/* ordered by weight, then title */
	size_t nsections;
	source_file *assets;   /* files under content/ that are not Markdown */
	size_t nassets;
	int opt_jobs;          /* site_options.jobs, for later stages */
	char **skipped;        /* content-relative paths of drafts/future left out */
	size_t nskipped;
	char *paths;           /* the articles' paths, gathered (document_paths_gather),
				  or NULL */
	char **failed;         /* content-relative paths of articles that could not
				* be read (keep_going; their errors are in diags) */
	size_t nfailed;
	struct history *history; /* git history of the content (history.h), NULL
				  * when off; set and freed by the build */
	const struct history_page **doc_history; /* with history: per docs[i],
				  * history_find of its path, looked up once for
				  * the pages that each want it several times;
				  * set by the build, freed by site_release */
	size_t cache_hits;     /* articles read from the build cache or the memory */
	size_t memory_hits;    /* of them, taken from site_options.memory */
	size_t nfilters;       /* the Lua filters site.toml names */
	size_t filtered;       /* articles they ran on in this build */
	double filter_seconds; /* the time they took, summed over the
				* threads that parsed the articles */
	size_t filter_threads; /* those threads */
	site_memory *memory;   /* site_options.memory, for site_release */
	struct site_recall *recall; /* with a memory: what each article brings
				* to it (see site.c) */
	size_t files_listed;   /* files of the content */
	size_t files_read;     /* of them, read to list them (work-tree mode:
				* not known by their stat) */
	struct cache_file *doc_cache; /* where documents read from the cache
				* keep their text; closed by site_release */
	uint64_t program_stamp; /* cache_program_stamp(), once per build; 0
				 * without the cache */
	uint64_t stamp;        /* hash of what besides its own bytes decides an
				* article (site.toml, filters, the Markdown
				* parser), for the build cache */
	struct cache_file *diff_cache; /* word diffs of history pages (cache.h),
				  * NULL when off; set and freed by the build */
	struct cache_file *search_cache; /* each article's words for the search
				  * index (search.h), NULL when off; set and
				  * freed by the build */
	uint32_t *by_rel;      /* site_find's index: open addressing over
				* docs, index + 1 (0: empty); NULL: none */
	size_t by_rel_cap;     /* a power of two */
} site;

/* Loads the site from src. Problems in articles are collected in diags
 * (all of them, not only the first); returns 0, GEN_ECONTENT when any
 * article had an error (0 with opt->keep_going and a diag list), or
 * another negative code (site.toml, reading the repository) with err set.
 * On failure s holds nothing. */
int site_load(site *s, const source *src, const site_options *opt,
	      diag_list *diags, gen_err *err);
void site_release(site *s);

/* Where the build writes: output (-o) when not NULL, else site.toml's
 * output_dir, relative to the project root. Caller frees. */
char *site_output_dir(const site *s, const char *output);
/* The build cache beside that directory: "<parent>/.gen-cache". Caller
 * frees. */
char *site_cache_dir(const site *s, const char *output);
/* The same for the output folder out itself: the folder beside it
 * ("public" -> ".gen-cache", "a/public/" -> "a/.gen-cache", "." ->
 * "./../.gen-cache"). */
char *site_cache_dir_of(const char *out);
/* The document at a content-relative path ("tips/x.md"), or NULL. */
document *site_find(const site *s, const char *rel);
/* Whether rel names an article left out of this build (draft, future). */
bool site_is_skipped(const site *s, const char *rel);
/* Whether rel names an article that could not be read (keep_going). */
bool site_is_failed(const site *s, const char *rel);
/* Whether rel names a non-Markdown file under content/. */
bool site_has_asset(const site *s, const char *rel);
/* The section whose folder holds d (its own section for an _index.md),
 * or NULL for pages at the top. */
const site_section *site_section_of(const site *s, const document *d);

#endif
