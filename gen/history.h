/* history: what git knows about each page.
 *
 * One walk over the first-parent chain of the build's commit, diffing the
 * content folder's trees from each commit to the next (oldest first) and
 * following renames, gives every page its revisions: when it was created,
 * when and by whom it was last changed, who contributed, and the blob of
 * each version for the history page's diffs. Merges count once (their
 * diff against the first parent). A shallow clone is recognised at its
 * boundary: pages whose history reaches it get no creation data rather
 * than a wrong date. The state after each build is cached per commit id
 * in the cache directory, so the next build diffs only the new commits.
 *
 * Only this module and source include git2.h. Paths are relative to the
 * project root ("content/verhalen/x.md"), like source's; only Markdown
 * files (*.md, no dotfiles) are followed. Dates are author dates. */
#ifndef GEN_HISTORY_H
#define GEN_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef struct history history;
typedef struct history_commit history_commit;
typedef struct history_change history_change;
typedef struct history_page history_page;

typedef enum history_kind {
	HISTORY_ADDED,
	HISTORY_MODIFIED,
	HISTORY_RENAMED,   /* with or without edits */
	HISTORY_DELETED,
} history_kind;

struct history_commit {
	char id[41];
	int64_t time;            /* author date, seconds since the epoch */
	int offset;              /* the author's UTC offset, minutes */
	const char *author;      /* name, through .mailmap */
	const char *email;
	const char *message;     /* the summary: first paragraph on one line */
	bool boundary;           /* oldest commit of a shallow clone: its
				  * "additions" are what was there, not news */
	const history_change *changes;  /* sorted by path */
	size_t nchanges;
};

struct history_change {
	const history_commit *commit;
	history_kind kind;
	const char *path;        /* after the change; DELETED: the path it had */
	const char *old_path;    /* RENAMED: the path before; else NULL */
	char blob[41];           /* the file after the change; DELETED: before */
	const history_page *page;/* the file as it is now, NULL when deleted since */
};

struct history_page {
	const char *path;        /* current path */
	const history_change *const *revs; /* every change, oldest first */
	size_t nrevs;
	/* Known revisions: revs without a shallow boundary's pseudo-addition. */
	size_t revisions;
	const history_change *created;  /* first revision; NULL when unknown */
	const history_change *modified; /* last revision; NULL when unknown */
	/* Names, in the order of their first contribution (oldest first). */
	const char *const *contributors;
	size_t ncontributors;
	bool complete;           /* false when history reaches a shallow boundary */
	uint64_t stamp;          /* a hash of all of the above, for fingerprints */
};

typedef struct history_options {
	const char *repo;        /* --repo PATH, or NULL: the repository holding root */
	const char *root;        /* project root on disk; NULL for a bare repository */
	const char *commit;      /* full id of the build's commit */
	const char *content_dir; /* below the project root: "content" */
	const char *cache_dir;   /* for history-<commit>.bin; NULL: no cache */
	int rename_limit;        /* 0: 1000. Inexact rename detection is skipped for
				  * commits with more additions x deletions than its square */
	int jobs;                /* threads for a long walk; 0: one (see history.c) */
} history_options;

/* Walks the history of opt->commit. The one warning about a shallow clone
 * goes to diags (may be NULL). A missing, corrupt or stale cache file is
 * ignored and rewritten. Returns 0 and *out (caller frees with
 * history_free), or GEN_EGIT with err set when the repository cannot be
 * read. */
int history_load(history **out, const history_options *opt, diag_list *diags,
		 gen_err *err);
void history_free(history *h);

/* The page whose current path is path ("content/tips/x.md"), or NULL. */
const history_page *history_find(const history *h, const char *path);
/* Commits of the first-parent chain, newest first (0 = the build's). */
size_t history_commit_count(const history *h);
const history_commit *history_commit_at(const history *h, size_t i);
/* Whether the walk ended at a shallow clone's boundary. */
bool history_shallow(const history *h);
/* Commits diffed by this load (the rest came from the cache). */
size_t history_walked(const history *h);

/* Appends the bytes of a blob (hex id) to out. Returns 0, or GEN_EGIT.
 * Safe on several threads. */
int history_read_blob(const history *h, const char *blob, buf *out, gen_err *err);

/* "2015-03-12T10:04:00+01:00": an author date in ISO 8601, in the
 * author's own offset. out needs 26 bytes. */
void history_format_date(char out[26], int64_t time, int offset);

/* What changed between two revisions: `gen diff A B`. */
typedef struct history_delta {
	history_kind kind;
	char *path;              /* in B; DELETED: in A */
	char *old_path;          /* RENAMED: in A; else NULL */
	char old_blob[41];       /* "" when added */
	char new_blob[41];       /* "" when deleted */
} history_delta;

/* Compares the content folders of commits a and b (full ids or any
 * revision git understands) with the same rename detection as the walk;
 * opt->commit and cache_dir are not used. Returns 0 and *out, sorted by
 * path (caller frees with history_deltas_free), or GEN_EGIT with err set. */
int history_compare(history_delta **out, size_t *n, const history_options *opt,
		    const char *a, const char *b, gen_err *err);
void history_deltas_free(history_delta *d, size_t n);

#endif
