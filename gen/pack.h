/* pack: git objects read straight from a repository's pack files, for the
 * history walk, with a cache of the delta bases libgit2 does not keep.
 *
 * Git stores most versions of a tree as a delta against another version,
 * in chains up to 50 long. libgit2 1.5 resolves one by applying the chain
 * from the nearest base it has kept, and keeps no base over 1 MB. A
 * folder of 35,000 articles has a tree of about 2 MB: each version the
 * history walk read cost up to 50 copies of it, 25 s of CPU in a
 * 50,000-article build against 1 s at 10,000, whose trees are under the
 * limit. A store here keeps every object of a chain it resolves, up to a
 * byte budget, least recently used out first; the walk reads a folder's
 * versions one after another, so each costs about one delta.
 *
 * It reads only what git writes for local repositories: SHA-1 ids, pack
 * index version 2, objects stored whole or as a delta against an offset
 * or an id in the same pack. Anything else (a loose object, an object of
 * an alternate, a damaged pack: zlib's checksum finds damage) is "not
 * here", and the caller asks libgit2, which reports errors properly.
 *
 * A store is not thread safe: one per walker. The only module that
 * includes zlib.h. */
#ifndef GEN_PACK_H
#define GEN_PACK_H

#include <stddef.h>

/* Object types as git numbers them. */
enum { PACK_COMMIT = 1, PACK_TREE = 2, PACK_BLOB = 3, PACK_TAG = 4 };

typedef struct pack_store pack_store;
typedef struct pack_object pack_object;

/* Opens the packs under objects_dir ("repo/.git/objects"), keeping objects
 * between reads: room for a chain of 64 of the largest it has made from a
 * delta (16 MB at least), never more than budget bytes. Returns NULL when there are
 * none it can read (the caller then reads everything through libgit2);
 * caller frees with pack_store_free. */
pack_store *pack_store_open(const char *objects_dir, size_t budget);
void pack_store_free(pack_store *ps);

/* Reads the object with the 20-byte id. Returns 0 and *out, a reference
 * the caller gives back with pack_object_release (its bytes stay valid
 * until then), or 1 when the packs do not hold it or cannot give it
 * whole. ps may be NULL (1). */
int pack_read(pack_store *ps, const unsigned char *id, pack_object **out);
const unsigned char *pack_object_data(const pack_object *o, size_t *len);
int pack_object_type(const pack_object *o);
void pack_object_release(pack_store *ps, pack_object *o);
/* Lets go of every object not handed out, and of the memory the pack
 * files' pages take (they are read back when next needed). ps may be
 * NULL. */
void pack_store_trim(pack_store *ps);

/* For tests: the bytes the store holds now, and how many objects it has
 * made by applying a delta since it was opened. */
size_t pack_store_bytes(const pack_store *ps);
size_t pack_store_deltas(const pack_store *ps);

#endif
