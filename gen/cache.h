/* cache: the build cache, in .gen-cache/ beside the output.
 *
 * Parsing and filtering the articles is most of a build's work, and
 * nearly all of it repeats the build before. The cache keeps each article
 * as the filters left it (document_freeze), with the warnings it gave,
 * under its path and content id (the git blob id, or the hash of the file
 * on disk in work-tree mode), so an article that did not change is read
 * back instead of parsed and filtered again. Everything else that decides
 * how an article comes out (gen itself, cmark-gfm, Lua, the filters and
 * their modules, site.toml) goes into one stamp on the file: a cache with
 * another stamp is not used at all.
 *
 * The file is a header and a log of records, each with its length and a
 * checksum. A build appends the articles it parsed (the last record of a
 * path wins); when dead records outweigh live ones the file is written
 * anew, to a temporary file renamed over the old one. A record whose
 * checksum does not match, or a file cut short or overwritten, makes the
 * whole cache untrusted: the build parses everything and writes it again.
 * Deleting .gen-cache/ is always safe. */
#ifndef GEN_CACHE_H
#define GEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "document.h"
#include "err.h"
#include "source.h"

typedef struct cache_file cache_file;

/* A hash of the running program (its executable's bytes), so that a
 * rebuilt gen never reads what an older one cached. */
uint64_t cache_program_stamp(void);

/* When dir holds no file name, makes one that holds what from/from_name
 * holds (copied, then linked into place, so that no reader meets half a
 * copy): gen serve's first build takes the articles the project's build
 * cache has, gen check's first the pages a build rendered. A copy, not a
 * link: a cache file may be appended to. What the copy holds is checked
 * when it is opened, like any cache file's. Returns whether it made one. */
bool cache_seed(const char *dir, const char *name, const char *from, const char *from_name);

/* Opens dir/name ("documents.pack") for a build stamped stamp. Never
 * fails: a missing file or one with another stamp gives an empty cache, a
 * damaged one too, with a notice in diags. With dir NULL the cache never
 * hits and saves nothing. Caller frees with cache_close. */
cache_file *cache_open(const char *dir, const char *name, uint64_t stamp,
		  diag_list *diags);
/* cache_open for a process that opened dir/name before (gen serve), as
 * prev: when the file is as prev left it, opened or appended to by its
 * cache_save (the same file, size and time), the records prev knew are
 * taken from prev's index, not read from the file again; only those
 * appended are. Otherwise, or with prev NULL, it is cache_open. prev is
 * not changed and may be closed before or after the new cache. */
cache_file *cache_open_after(const cache_file *prev, const char *dir, const char *name,
			    uint64_t stamp, diag_list *diags);
/* Whether c came from cache_open_after taking over prev's records. */
bool cache_reused(const cache_file *c);
/* Whether cache_open found the records in the contents the last save
 * ended the file with, without walking them (for tests and tools). */
bool cache_listed(const cache_file *c);
/* For tests: of a cache opened from its contents, how many contents of
 * the records appended since came after the last whole one (0: the file
 * ends with a whole one). */
unsigned cache_contents_chain(const cache_file *c);
void cache_close(cache_file *c);
/* Removes from the cache folder dir what builds that were stopped (Ctrl-C,
 * kill, a crash) left there: the temporary files they were writing, which
 * can be as large as the cache itself. "NAME.tmpPID" goes when process PID
 * is gone; "NAME.tmp-XXXXXX" (a file written anew, see rewrite in cache.c)
 * when no process holds its lock and it has not changed for ten seconds.
 * Quietly, as best it can. */
void cache_sweep(const char *dir);

/* The value kept under key, checked against its checksum: a pointer into
 * the cache (valid until cache_close) and its length, or NULL when there
 * is none or it is damaged (the whole file is then rewritten at
 * cache_save). A value that proves unusable to its reader is handed back
 * with cache_reject, with the same effect. Safe on several threads; c may
 * be NULL. */
const char *cache_get(cache_file *c, const char *key, size_t klen, size_t *len);
void cache_reject(cache_file *c, const char *key, size_t klen);
/* Keeps data under key for cache_save (the last put of a key wins).
 * Returns the cache's copy of data (valid until cache_close), or NULL
 * when c is NULL or off. Safe on several threads. */
const char *cache_put(cache_file *c, const char *key, size_t klen, const void *data,
		      size_t len);
/* Writes what cache_put kept, and what this build read, dropping the rest
 * once it outweighs them. A cache that cannot be written costs the next
 * build time, not this one its result: the reason is a warning in diags.
 * c may be NULL (no cache). */
void cache_save(cache_file *c, diag_list *diags);

/* What a build kept need not stay in its memory once cache_save has
 * written it: cache_rehome maps the file as written (checking that every
 * kept record reads back the same) and returns true; cache_moved then
 * gives, for a pointer into a value cache_put returned, the same byte in
 * the file's mapping (NULL for any other pointer), and once every
 * borrower has moved, cache_forget_kept frees the copies. The mapping
 * lasts until cache_close. Not thread safe; false and NULL (nothing
 * moves) when c is off, was not saved, kept nothing or the file does
 * not read back. */
bool cache_rehome(cache_file *c);
const char *cache_moved(const cache_file *c, const char *p);
void cache_forget_kept(cache_file *c);
/* After cache_forget_kept the file holds what was forgotten, so a build
 * may go on keeping, saving, rehoming and forgetting in rounds: each
 * cache_save then appends (the mappings of earlier rounds stay until
 * cache_close). cache_fresh tells whether c started without a usable
 * file (a first build, or one after a change of stamp or damage) and
 * has not saved yet: then every value is new, and rounds keep the
 * build's memory to one round's worth. */
bool cache_fresh(const cache_file *c);
/* Whether p points into a file mapping of c's (what it read, or what
 * cache_rehome mapped), not into memory of the build's own. */
bool cache_mapped(const cache_file *c, const char *p);
/* The start of that mapping, or NULL: bytes in one mapping may have
 * their pages let go together. */
const void *cache_mapping_of(const cache_file *c, const char *p);

/* From cache_hold_puts to cache_keep_puts, what cache_put is given waits
 * apart from the records kept so far, which cache_save, cache_rehome and
 * cache_forget_kept work on: so a first build saves one round of
 * articles on one thread while the next round is parsed, and put, on
 * others. Nothing else may run beside those three (the index they leave
 * alone is only read by cache_get, which finds nothing in a first
 * build). */
void cache_hold_puts(cache_file *c);
void cache_keep_puts(cache_file *c);

/* Keeps values this build did not ask for when the file is written anew
 * (by default only what a build read or put survives): for values a
 * build needs only now and then, like the word diffs of history pages,
 * which a build whose pages are all unchanged never reads. */
void cache_keep_unused(cache_file *c);
/* Values read and values kept since cache_open. */
size_t cache_hits(const cache_file *c);
size_t cache_puts(const cache_file *c);

/* Keeps the value under key live, as cache_get would, without reading
 * or checking it: for a build that has what it holds in memory already.
 * Returns whether there is one. c may be NULL. */
bool cache_keep(cache_file *c, const char *key, size_t klen);
/* Whether each file c maps is still as long as c's mapping of it (or no
 * longer at c's path: replaced or deleted, which leaves the mapping as
 * it was). A file cut short in place takes the pages under the mapping
 * with it, and reading them would end the process (SIGBUS). True for
 * NULL and a cache that maps nothing. */
bool cache_intact(const cache_file *c);
/* Keeps the record of the article at f (its path and id) live, as
 * cache_get_document would, without reading it: for a build that has the
 * article in memory already (site_memory). Returns whether the cache has
 * such a record. c may be NULL. */
bool cache_keep_document(cache_file *c, const source_file *f);
/* Articles: the document of f (its path and id; its bytes are not read)
 * as the last build that parsed it left it: returns true and fills *d,
 * with the warnings it gave then added to diags; false when the cache
 * does not have it. The document borrows from c: close c only after
 * releasing it. cache_put_document keeps d, just parsed and
 * filtered, with the diagnostics it gave, and returns the kept copy of
 * d in document_freeze_split's form (valid until cache_close) and its
 * length, with the kept copy of the replay in *replay and *replay_len,
 * for document_slim_split; NULL when c is NULL or off. */
bool cache_get_document(cache_file *c, const source_file *f, const config *cfg,
			document *d, diag_list *diags);
const char *cache_put_document(cache_file *c, const document *d, const diag_list *diags,
			       size_t *len, const char **replay, size_t *replay_len);
/* From now on cache_get_document checks an article's record only up to
 * the Markdown's replay (its anchors, HTML and text walk, most of the
 * bytes), and the replay when it is first read (markdown_thaw_checked):
 * for a build that renders few of the articles it reads, and does not
 * keep them for the next. Should a replay not check out, the article
 * reads as one without anchors, HTML or text, and cache_damaged_late
 * turns true: whatever the build made since is not to be used (it
 * starts again without cache_check_late, which finds the record
 * damaged and parses the article). */
void cache_check_late(cache_file *c);
bool cache_damaged_late(const cache_file *c);

#endif
