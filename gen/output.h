/* output: writing the site so that a failed build loses nothing and a
 * rebuild touches only what changed.
 *
 * output_begin picks one of two modes:
 *
 * FRESH, when the output directory does not exist yet: every file goes
 * into a temporary directory "<dir>.tmp-XXXXXX" beside it, which is
 * renamed to dir when the whole build has succeeded. Until then dir does
 * not exist; after it, the complete site does.
 *
 * UPDATE, when dir is a directory (a previous site): output_begin records
 * what dir holds, and output_write compares each file with the one already
 * there. Equal bytes are not written at all, so the file keeps its inode
 * and mtime and rsync or a web server's caches see no change. New or
 * different bytes go to a staging directory "<dir>.tmp-XXXXXX" beside dir.
 * Nothing inside dir changes before output_commit, so a build that fails
 * (or is aborted) before commit leaves the previous site untouched. At
 * commit the staged files are moved in one by one, in the order of their
 * paths, each with a rename: a reader of the site during commit sees every
 * file either whole and old or whole and new, but may see a mix of old and
 * new files, and new pages before the stale files (pages this build no
 * longer writes) have been removed. Stale files, and the directories they
 * leave empty, are removed last; dir itself always stays.
 *
 * A dir that is a symbolic link to a directory is updated where it points;
 * symbolic links inside dir are never followed: one that stands where this
 * build writes a directory is replaced by a real directory. */
#ifndef GEN_OUTPUT_H
#define GEN_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "err.h"

typedef struct output output;

/* What a trusting process keeps of its output from one build to the next
 * (see output.c, "the memory"): the paths its last commit left, when that
 * commit only replaced files. Owned by the caller, used by one build at a
 * time; output_begin_trusting takes what it holds and output_commit
 * gives it back. output_memory_forget empties it: a process that builds
 * its output without output_begin_trusting does so first. */
typedef struct output_memory output_memory;
output_memory *output_memory_new(void);
void output_memory_forget(output_memory *m);
void output_memory_free(output_memory *m); /* accepts NULL */
/* Waits until the last commit with m is wholly done, its manifest
 * written (see output_commit); m may be NULL. */
void output_memory_settle(output_memory *m);
/* For tests: whether the last commit with m looked only at the paths
 * that changed, not at every path of the site (a few added or gone). */
bool output_memory_few(const output_memory *m);

/* dir as an absolute path, spelled the same however it was given
 * ("public", "./public/", "../site/public", "/home/x/site/public" and a
 * path through a symbolic link to it alike), without a trailing slash:
 * the part that exists as the system resolves it, the rest as written
 * with "." and ".." applied. Caller frees. The manifest names its folder
 * so, and the build cache names the files about one output by it. */
char *output_absolute(const char *dir);

/* Waits until no other build uses the folder that holds cache_dir (the
 * build cache, beside the output: the output's parent folder), then
 * holds a lock on it (flock) until output_unlock, or the process ends.
 * Two builds into one output, or that share one cache, so run one after
 * the other: each sees what the other left, where at the same time the
 * one that committed last would leave its pages over the other's, and
 * their caches each other's half. A wait of more than a moment is said
 * on stderr, unless quiet. The folder is made when missing (the build
 * would make it); output_unlock removes what it made again when the
 * build left nothing there. Returns NULL when it cannot be locked (a
 * file system without locks): the build then goes on as before there
 * were any. The caller owns the hold. */
typedef struct output_hold output_hold;
output_hold *output_lock(const char *cache_dir, bool quiet);

/* Lets the lock go, after removing the folders output_lock made that are
 * still empty (a build that failed before it wrote anything leaves no
 * trace of its -o), and frees h; NULL is fine. */
void output_unlock(output_hold *h);

/* The file every site gen builds holds at its top (a line of text): the
 * mark that a build may replace what the folder holds. */
#define OUTPUT_MARK ".gen-site"

/* Starts writing a new version of dir, with OUTPUT_MARK in it. Refuses a
 * dir that holds site.toml or .git (a mistyped output_dir must not
 * replace the project), a dir that holds anything but lacks the mark
 * and has no whole manifest (no gen build made it: its files would be
 * removed as stale), and a dir that exists but is not a directory. Fails
 * when dir cannot be read or nothing can be created beside it. manifest
 * (may be NULL) is a file outside dir where an UPDATE commit leaves what
 * dir then holds, so that the next output_begin reads only the
 * directories changed since (see output.c, "what the directory holds").
 * Returns 0 and *out, or a negative code with err set (*out is then
 * NULL). */
int output_begin(output **out, const char *dir, const char *manifest, gen_err *err);
/* output_begin for a process that made dir's last version itself, in
 * this run, and knows nothing else writes there (gen serve's preview
 * folder): the manifest's folders, where it calls them settled, are taken
 * as they are without a stat, and output_keep keeps any file the
 * manifest lists without comparing its mark. With a memory (may be NULL)
 * that holds dir's paths, not even the manifest is read. Without a
 * manifest it is output_begin. */
int output_begin_trusting(output **out, const char *dir, const char *manifest,
			  output_memory *memory, gen_err *err);
/* Directories output_begin read entry by entry (the others came from
 * the manifest). */
size_t output_dirs_read(const output *o);
/* Whether output_begin scanned the output a second time: the folders it
 * took as the manifest says, and checked beside the scan, were not all
 * as it says (the second scan stats each folder before it takes its
 * entries, and reads the changed ones). */
bool output_rescanned(const output *o);
/* Directories output_begin found in the manifest by their path, not
 * next in its order (for tests: the manifest lists them in the order a
 * scan meets them). */
size_t output_dirs_sought(const output *o);
/* Writes one file (or, in UPDATE mode, finds it unchanged). rel is
 * relative to dir, uses '/', and must not start with '/', end with '/' or
 * contain ".."; empty and "." components are ignored ("a//./b" is "a/b").
 * Writing the same rel again replaces what the earlier call wrote. Safe to
 * call from several threads. Returns 0, or a negative code with err set. */
int output_write(output *o, const char *rel, const void *data, size_t len,
		 gen_err *err);
/* What a file of the site looked like when a build wrote it or found it
 * unchanged: its inode, size and mtime, which any write to it since (by
 * hand, by another tool) changes. A build keeps it with the page that
 * file holds, so that the next one can keep the file without its bytes.
 * Not its ctime: the rename that puts a staged file in place sets that.
 * A write that keeps the size and lands in the same tick of the file
 * system's clock as gen's own goes unseen: on ext4 a tick is a few
 * milliseconds, but on file systems that keep whole seconds (FAT, ext3)
 * it is a second or two. */
typedef struct output_mark {
	uint64_t ino;
	uint64_t size;
	int64_t sec;
	uint64_t nsec;
} output_mark;
/* output_write, filling *mark (when not NULL, and in FRESH or UPDATE
 * mode alike) with what the file will look like once committed. */
int output_write_marked(output *o, const char *rel, const void *data, size_t len,
			output_mark *mark, gen_err *err);
/* Keeps the file at rel as the previous build left it, without its bytes:
 * for a caller that knows they would be the same (a page whose inputs did
 * not change) and what the file looked like then (mark). Returns true,
 * counting the file as unchanged, when in UPDATE mode a regular file
 * stands at rel with mark's inode, size and mtime; false otherwise (FRESH
 * mode, no such file, a file written since), and the caller then writes
 * it. o may be NULL. */
bool output_keep(output *o, const char *rel, const output_mark *mark);
/* Opens, for reading, the file the previous build left at rel, so that
 * a caller may take bytes it knows are still right from it (the print
 * page's articles): a descriptor the caller closes, or -1 in FRESH mode
 * or when no regular file stands there. The file stays as it is until
 * output_commit; what is read from it is the caller's to check. */
int output_open_old(output *o, const char *rel);
/* One file written in pieces, for a page too big to hold in memory:
 * output_open, output_put as often as needed, then output_close, which
 * counts it as output_write would (in UPDATE mode, bytes equal to the
 * file there leave it untouched) and frees f, also on failure. Should a
 * put fail or the caller give up, output_discard throws f away instead
 * (the site then has no file at rel from this build). One thread per
 * file; several files may be open at once. Each returns 0, or a
 * negative code with err set; output_open sets *out only on success. */
typedef struct output_file output_file;
int output_open(output *o, const char *rel, output_file **out, gen_err *err);
int output_put(output_file *f, const void *data, size_t len, gen_err *err);
/* Appends to f the len bytes at offset at of the file open at from (one
 * output_open_old gave), copied by the kernel without passing through
 * the build's memory; the caller has checked them. */
int output_copy(output_file *f, int from, uint64_t at, uint64_t len, gen_err *err);
/* A big file that a build replaces is not freed: the output keeps it as
 * a spare, and the next build of the same file writes over it (see
 * output.c, "spares"). output_spare says whether f is written over one,
 * and fills *mark with the spare's stat as it was taken, before any
 * write: a caller that knows what the file of that mark held may leave
 * the bytes of it that are as wanted where they lie, and write only the
 * others, where they go (output_put_at, output_copy_at), saying how long
 * the file is to be (output_set_length) before closing it. Bytes it
 * neither writes nor leaves as wanted are the spare's: the caller must
 * account for every byte up to that length. Writing with these makes f
 * a changed file, never one found unchanged. */
bool output_spare(const output_file *f, output_mark *mark);
/* For a build from nothing, which replaces no file and so leaves no
 * spare: a copy of the big file it wrote at rel (closed, not yet
 * committed) is left as that file's spare, its stat in *mark, so that
 * the first build after it writes over the copy instead of copying the
 * whole file. False, leaving nothing, when the output is not new, the
 * file is not big, or the file system cannot swap names. */
bool output_leave_spare(output *o, const char *rel, output_mark *mark);
int output_put_at(output_file *f, uint64_t to, const void *data, size_t len, gen_err *err);
int output_copy_at(output_file *f, uint64_t to, int from, uint64_t at, uint64_t len,
		   gen_err *err);
void output_set_length(output_file *f, uint64_t len);
int output_close(output_file *f, gen_err *err);
/* output_close, filling *mark as output_write_marked does. */
int output_close_marked(output_file *f, output_mark *mark, gen_err *err);
void output_discard(output_file *f);
/* Puts the new version in place (see above) and frees o, also on failure.
 * Fails, before touching dir, when the build wrote one path both as a file
 * and as a directory; an I/O error part-way through an UPDATE commit can
 * leave dir with some files new and some old, but never a file half
 * written. Returns 0, or a negative code with err set. With a memory
 * (output_begin_trusting), once the files are in place the manifest is
 * written and o freed on a thread of the output's own: the next begin,
 * output_memory_forget and output_memory_free wait for it. */
int output_commit(output *o, gen_err *err);
/* output_commit for a caller that has more to do before it waits: once
 * the files are in place, the rest (the manifest, written from the new
 * folders' lists, and freeing o) goes on a thread of its own, which
 * output_finished waits for. *finish is NULL when there is nothing to
 * wait for (a failure, or it was all done here). */
typedef struct output_finish output_finish;
int output_commit_early(output *o, output_finish **finish, gen_err *err);
void output_finished(output_finish *finish);
/* Throws the new version away, leaving dir as it was, and frees o; accepts
 * NULL. */
void output_abort(output *o);
/* Files written with new bytes and files found unchanged so far; in UPDATE
 * mode a rel written twice counts once, for what its last write did.
 * OUTPUT_MARK is not counted. */
size_t output_changed(const output *o);
size_t output_unchanged(const output *o);

#endif
