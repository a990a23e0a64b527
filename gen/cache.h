/* cache: the build cache of documents, in .gen-cache/documents.pack.
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

typedef struct doc_cache doc_cache;

/* A hash of the running program (its executable's bytes), so that a
 * rebuilt gen never reads what an older one cached. */
uint64_t cache_program_stamp(void);

/* Opens dir/documents.pack for a build stamped stamp. Never fails: a
 * missing file or one with another stamp gives an empty cache, a damaged
 * one too, with a notice in diags. With dir NULL the cache never hits and
 * saves nothing. Caller frees with cache_close. */
doc_cache *cache_open(const char *dir, uint64_t stamp, diag_list *diags);
void cache_close(doc_cache *c);

/* The document of f (its path and id; its bytes are not read) as cached:
 * returns true and fills *d, with the warnings it gave when parsed added
 * to diags; false when there is none (or it is damaged: then the whole
 * cache is rewritten at cache_save). Safe on several threads; c may be NULL. */
bool cache_get(doc_cache *c, const source_file *f, const config *cfg,
	       document *d, diag_list *diags);
/* Keeps d, just parsed and filtered, and the diagnostics it gave, for
 * cache_save. Safe on several threads; c may be NULL. */
void cache_put(doc_cache *c, const document *d, const diag_list *diags);
/* Writes what cache_put kept. A cache that cannot be written costs the
 * next build time, not this one its result: the reason is a warning in
 * diags. */
void cache_save(doc_cache *c, diag_list *diags);

/* Articles read from the cache and articles kept since cache_open. */
size_t cache_hits(const doc_cache *c);
size_t cache_puts(const doc_cache *c);

#endif
