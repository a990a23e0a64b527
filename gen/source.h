/* source: where the handbook's files come from.
 *
 * A build reads a consistent snapshot of the project: the tree of a git
 * revision (through libgit2, without checking anything out; bare
 * repositories work), or the files on disk (--worktree, or a directory
 * that is not a git repository). Every file is named by its path relative
 * to the project root (the directory holding site.toml) and carries an id
 * that changes when its bytes change: the git blob id, or a hash of the
 * file on disk. This module and history are the only ones that include
 * git2.h. */
#ifndef GEN_SOURCE_H
#define GEN_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef struct source source;

typedef struct source_options {
	const char *dir;   /* -C DIR: where to start looking for site.toml; NULL = "." */
	const char *repo;  /* --repo PATH: a repository (bare or not); NULL = discover */
	const char *rev;   /* --rev REV; NULL = "HEAD" */
	bool worktree;     /* --worktree: read files on disk */
	bool staged;       /* --staged: what git's index holds, the next commit
			    * (its history is HEAD's) */
} source_options;

typedef struct source_file {
	char *path;   /* relative to the project root: "content/tips/x.md" */
	char id[41];  /* blob id (hex) or a content hash */
	char *data;   /* the bytes, NUL-terminated for convenience */
	size_t len;
} source_file;

/* Finds the project and opens the snapshot. Notices (not a git
 * repository; uncommitted changes not included) go to diags. Returns 0 and
 * *out (caller frees with source_free) or a negative code with err set. */
int source_open(source **out, const source_options *opt, diag_list *diags,
		gen_err *err);
/* Opens a plain directory (an installed theme, say) with the same reading
 * functions; no site.toml or git involved. */
int source_open_plain(source **out, const char *dir, gen_err *err);
void source_free(source *s);

/* A process that opens the source build after build (gen serve) holds
 * git's library between them: set up afresh, it reads the system's
 * certificates again, some 5 ms before each build can start. Each
 * source_hold is undone by one source_unhold. */
void source_hold(void);
void source_unhold(void);

/* The project root on disk, or NULL for a bare repository. */
const char *source_root(const source *s);
/* Whether history is available (a git repository that was opened). */
bool source_has_git(const source *s);
/* The commit id the snapshot was taken from ("" in work-tree mode). */
const char *source_commit(const source *s);
/* "git revision 'HEAD' (abc1234)" or "work tree": for messages. */
const char *source_describe(const source *s);

/* Reads one file. Returns 0 and fills *out (release with
 * source_file_release), 1 when the file does not exist, or a negative
 * code with err set. */
int source_read(const source *s, const char *path, source_file *out,
		gen_err *err);
/* Lists every regular file below dir (recursively; "" for the root), sorted
 * by path, with their bytes. Returns 0 and an array the caller frees with
 * source_files_free, or a negative code. A missing dir gives 0 files. */
int source_list(const source *s, const char *dir, source_file **out, size_t *n,
		gen_err *err);
/* What source_list_ids fills links (when not NULL) with: the symbolic
 * links below dir that it leaves out (paths from the project root), and
 * why. In a revision that is every one, as git keeps the link and not
 * the file it points to. On disk (--worktree) a link is followed, unless
 * it leads outside the project (a file of someone's home folder would be
 * published with the handbook) or back into a folder it is in (a loop:
 * the folder listed again and again, forty deep, until the system's
 * limit on links). Release with source_links_release. */
typedef enum source_link_kind {
	SOURCE_LINK_GIT,     /* in a revision: git keeps only the link */
	SOURCE_LINK_OUTSIDE, /* on disk, leads outside the project */
	SOURCE_LINK_LOOP,    /* on disk, leads back into a folder it is in */
} source_link_kind;
typedef struct source_links {
	char **paths;
	source_link_kind *kinds;
	char **targets; /* where each leads (on disk), or NULL */
	size_t n, cap;
} source_links;

/* What a process that builds again and again (gen serve) knows of the
 * files on disk: the last listing of source_list_ids, and the paths that
 * may have changed since, which it learns from a watch on them. */
typedef struct source_listing source_listing;
source_listing *source_listing_new(void);
void source_listing_free(source_listing *l);
/* path, relative to the project root, may have changed: a file, or a
 * folder and all below it. Names that are not content are ignored. */
void source_listing_dirty(source_listing *l, const char *path);
/* Anything may have changed (the watch lost track): the next listing
 * looks at every file. */
void source_listing_forget(source_listing *l);

/* source_list without the bytes where they are not at hand: in a git
 * snapshot each file carries only its path and blob id (data NULL) until
 * source_file_load reads it, so a build whose cache knows an article by
 * its id never inflates it. On disk the id is the hash of the bytes: the
 * file memo (may be NULL) keeps each file's id with its stat, so that a
 * file that stats as it did is not read (see source.c); it is updated
 * here. With known (may be NULL), a listing on disk is the last one with
 * the paths named since listed again (the files among them are read),
 * and known holds this one after; the file memo is left as the first
 * listing wrote it then. */
int source_list_ids(const source *s, const char *dir, const char *memo,
		    source_listing *known, source_file **out, size_t *n,
		    source_links *links, gen_err *err);
void source_links_release(source_links *l);
/* Reads f's bytes when source_list_ids left them out; 0 or a negative code
 * with err set. Safe on several threads for distinct files. */
int source_file_load(const source *s, source_file *f, gen_err *err);
/* Drops f's bytes, keeping its path and id: an article's source is not
 * needed once it is parsed, and a build parses thousands. */
void source_file_unload(source_file *f);
void source_file_release(source_file *f);
void source_files_free(source_file *files, size_t n);

/* What the last git status of the content found, kept by a process that
 * builds again and again and watches the work tree (gen build
 * --resident): the next status looks again only at the paths that may
 * have changed since, those the watch names and those the index and
 * HEAD changed, and not at every file. */
typedef struct source_status source_status;
source_status *source_status_new(void);
void source_status_free(source_status *st);
/* path, relative to the project root (a file, or a folder and all below
 * it), changed on disk. */
void source_status_dirty(source_status *st, const char *path);
/* The watch lost track: the next status looks at every file. */
void source_status_forget(source_status *st);
/* How many paths the last status asked git about (files, or folders and
 * all below them), or SIZE_MAX when it looked at every file. */
size_t source_status_looked(const source_status *st);
/* How many of those libgit2's status was asked about (SIZE_MAX: every
 * file): the others' stat was as the index keeps it, with nothing
 * staged, so they are as committed (see gitindex.h). */
size_t source_status_asked(const source_status *st);

/* Number of files under dir (relative to the project root) that differ
 * from the index or HEAD, untracked ones included; 0 in work-tree mode.
 * st (may be NULL) is what the last call found, updated. Safe beside
 * other threads that read s (it opens the repository again), but one
 * call at a time per st. */
int source_count_changes(const source *s, const char *dir, source_status *st);

/* Finds the project root: start or the nearest directory above it that
 * holds site.toml. Returns 0 and *out (absolute; caller frees), or
 * GEN_EUSAGE with err set. */
int source_find_root(char **out, const char *start, gen_err *err);

/* The value of a git config key (user.name), or NULL; caller frees. */
char *source_git_config(const char *dir, const char *key);

#endif
