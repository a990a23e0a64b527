/* gitindex: a quick look at which files of a work tree may differ from
 * git's index, read from the index file itself.
 *
 * The notice of files not committed is a git status of the content
 * folder. libgit2's reads and sorts the whole index, diffs HEAD's tree
 * against it and looks at every file: on a 10,000-article handbook that
 * is some 45 ms of a one-shot build's CPU, almost all of it spent finding
 * that nothing differs. This module does the part that finds nothing
 * cheaply, the way git itself decides that a file is clean: the index
 * keeps each file's stat as git last saw it, and a file whose stat is as
 * kept, and was not changed in the same clock tick as the index was
 * written, is as in the index. Its cache-tree extension keeps the tree
 * each folder of the index makes; when the content folder's is HEAD's,
 * nothing there is staged. What is left, files whose stat moved and
 * names the index does not have, goes to libgit2 by name, so the count
 * is always libgit2's. Anything this module does not know (another
 * index version, a split or sparse index, a conflict, a submodule, a new
 * folder, a staged change) makes it say so, and the caller asks libgit2
 * about everything. */
#ifndef GEN_GITINDEX_H
#define GEN_GITINDEX_H

#include <stdbool.h>
#include <stddef.h>

/* An index file as read (gitindex_read): its entries under a folder. */
typedef struct gitindex gitindex;

/* Reads the index file at index_path, keeping the entries under the
 * folder spec (relative to the work tree, without a trailing '/'; ""
 * for all). Returns 1 and *out (free with gitindex_free), or 0 when it
 * is not an index this module reads, holds what only git can weigh (a
 * conflict, a file meant to be added), or cannot be read. */
int gitindex_read(gitindex **out, const char *index_path, const char *spec);
void gitindex_free(gitindex *ix);

/* The entries under spec, in the index's order (by path): path, object
 * id (20 bytes), mode, and the flags (the 16 bits of the entry less its
 * name length, with the extended ones above them). */
size_t gitindex_count(const gitindex *ix);
const char *gitindex_path(const gitindex *ix, size_t i);
const unsigned char *gitindex_id(const gitindex *ix, size_t i);
unsigned gitindex_mode(const gitindex *ix, size_t i);
unsigned gitindex_flags(const gitindex *ix, size_t i);

/* Whether the index's cache tree knows the tree its entries under spec
 * make, and it is tree_id (20 bytes): then nothing there is staged. */
bool gitindex_tree_is(const gitindex *ix, const unsigned char *tree_id);

typedef struct gitindex_look {
	char **paths;  /* owned: paths (relative to the work tree) that may
			  differ from the index, sorted */
	size_t npaths;
} gitindex_look;

#define GITINDEX_LOOK_INIT { NULL, 0 }

/* Looks at the folder spec of the work tree at workdir (relative to it,
 * without a trailing '/'; "" for all of it) against the index file at
 * index_path. tree_id is the 20-byte id of HEAD's tree at spec, or NULL
 * when HEAD has none there.
 *
 * Returns 1 with look holding every path under spec that may differ
 * from the index or HEAD (none, often); 0 when it cannot tell, or when
 * more than max paths may differ: ask about every file then. look is
 * empty unless 1 is returned. Never fails otherwise: a file it cannot
 * read is a path that may differ, an index it cannot read is a 0. */
int gitindex_look_at(const char *workdir, const char *index_path, const char *spec,
		     const unsigned char *tree_id, size_t max, gitindex_look *look);

/* Like gitindex_look_at, for the paths named alone (sorted, each under
 * the index's spec: files or folders of the work tree at workdir), with
 * the index read and HEAD's tree at spec known to be its cache tree's
 * (gitindex_tree_is). A path neither on disk nor in the index does not
 * differ; a folder may. Returns 1 with look, or 0 when it cannot tell
 * (a submodule). */
int gitindex_look_paths(const gitindex *ix, const char *workdir, char *const *paths, size_t n,
			gitindex_look *look);

void gitindex_look_release(gitindex_look *look);

#endif
