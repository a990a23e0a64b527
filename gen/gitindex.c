/* gitindex: a quick look at the work tree against git's index (see
 * gitindex.h).
 *
 * The index file, as git's documentation of its format describes it:
 * "DIRC", a version (2, 3 or 4) and an entry count, each a 32-bit
 * big-endian number; the entries, sorted by path; extensions, each a
 * four-letter name, a 32-bit size and its bytes; and a hash of all that.
 * An entry starts with ten 32-bit numbers (ctime, its nanoseconds,
 * mtime, its nanoseconds, dev, ino, mode, uid, gid, size), the object id
 * and 16 bits of flags (assume-valid, extended, the stage in two bits,
 * the path's length in twelve); version 3 adds 16 more when the extended
 * bit is set (skip-worktree, intent-to-add). Versions 2 and 3 then hold
 * the path and one to eight NULs, so that the entry's size is a multiple
 * of eight; version 4 holds how many bytes of the previous entry's path
 * to drop, as a varint, and what follows them, NUL-terminated. An
 * extension whose name starts with a capital may be skipped; any other
 * (a split index's "link", a sparse index's "sdir") changes what the
 * entries mean, so this module then does not say. */
#define _DEFAULT_SOURCE /* d_type in struct dirent, DT_* */
#include "gitindex.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "xalloc.h"

#define ID_LEN 20          /* SHA-1, the object ids libgit2 1.5 reads */
#define ENTRY_FIXED 62     /* ten numbers, the id and the flags */
#define TREE_DEPTH_MAX 256 /* folders in folders: more is a damaged file */

#define FLAG_EXTENDED 0x4000u
#define FLAG_STAGE 0x3000u
#define FLAG_NAME 0x0fffu
#define XFLAG_INTENT_TO_ADD 0x2000u

/* An entry of the index under spec. */
typedef struct entry {
	const char *path;          /* NUL-terminated: in the map, or in paths */
	size_t at;                 /* version 4: where path is in paths */
	const unsigned char *stat; /* the ten numbers, the id, the flags */
	unsigned flags;            /* less the name length; extended above */
} entry;

struct gitindex {
	unsigned char *map;        /* the file, mapped: entries point into it */
	size_t map_len;
	struct stat st;            /* the file's, for its tick */
	const unsigned char *p, *end; /* the reading */
	int version;
	char *spec;
	size_t spec_len;
	entry *entries;
	size_t n, cap;
	buf paths;      /* version 4: the paths, one after another */
	bool tree_found, tree_valid;
	unsigned char tree_id[ID_LEN];
};

typedef struct gitindex reader;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Whether path lies under the folder spec ("" holds everything). */
static bool under(const char *path, const char *spec, size_t spec_len)
{
	return !spec_len || (strncmp(path, spec, spec_len) == 0 && path[spec_len] == '/');
}

/* The varint of version 4: seven bits a byte, high bit set on all but
 * the last, and each continuation adding one before the shift, so that
 * every number has a single spelling. */
static bool get_varint(const unsigned char **p, const unsigned char *end, size_t *out)
{
	if (*p >= end)
		return false;
	unsigned char c = *(*p)++;
	size_t v = c & 127;
	while (c & 128) {
		if (*p >= end || v > (SIZE_MAX >> 8))
			return false;
		c = *(*p)++;
		v = ((v + 1) << 7) | (c & 127);
	}
	*out = v;
	return true;
}

static void add_entry(reader *r, const char *path, size_t at, const unsigned char *stat,
		      unsigned flags)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 1024;
		r->entries = xrealloc(r->entries, r->cap * sizeof *r->entries);
	}
	r->entries[r->n++] = (entry){ path, at, stat, flags };
}

/* Reads the entries; false when the index is not one this module reads
 * or holds what only git can weigh: a conflict, or a file meant to be
 * added, which is in no tree. (An entry git is told to take as it is,
 * assume-unchanged or skip-worktree, is looked at like any other: git
 * reports no change for it, whatever this module finds.) */
static bool read_entries(reader *r, uint32_t count)
{
	size_t prev_len = 0, prev_at = 0;
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *e = r->p;
		if ((size_t)(r->end - e) < ENTRY_FIXED)
			return false;
		uint16_t flags = be16(e + 40 + ID_LEN);
		uint16_t xflags = 0;
		size_t fixed = ENTRY_FIXED;
		if (flags & FLAG_EXTENDED) {
			if (r->version < 3 || (size_t)(r->end - e) < ENTRY_FIXED + 2)
				return false;
			xflags = be16(e + ENTRY_FIXED);
			fixed += 2;
		}
		if ((flags & FLAG_STAGE) || (xflags & XFLAG_INTENT_TO_ADD))
			return false;
		const unsigned char *name = e + fixed;
		const char *path;
		if (r->version == 4) {
			size_t drop;
			const unsigned char *q = name;
			if (!get_varint(&q, r->end, &drop) || drop > prev_len)
				return false;
			const unsigned char *nul = memchr(q, 0, (size_t)(r->end - q));
			if (!nul)
				return false;
			/* The previous path, less drop bytes, and the rest: room
			 * first, as the previous path is in the same buffer. */
			size_t keep = prev_len - drop, at = r->paths.len;
			buf_grow(&r->paths, keep + (size_t)(nul - q) + 1);
			buf_put(&r->paths, r->paths.ptr + prev_at, keep);
			buf_put(&r->paths, q, (size_t)(nul - q) + 1);
			prev_at = at;
			prev_len = keep + (size_t)(nul - q);
			r->p = nul + 1;
			path = NULL; /* the buffer may move: fixed up below */
		} else {
			size_t len = flags & FLAG_NAME;
			const unsigned char *nul = memchr(name, 0, (size_t)(r->end - name));
			if (!nul || (len < FLAG_NAME && (size_t)(nul - name) != len))
				return false;
			len = (size_t)(nul - name);
			size_t size = (fixed + len + 8) & ~(size_t)7;
			if ((size_t)(r->end - e) < size)
				return false;
			r->p = e + size;
			path = (const char *)name;
		}
		const char *now = path ? path : r->paths.ptr + prev_at;
		if (!under(now, r->spec, r->spec_len)) {
			if (r->spec_len && strcmp(now, r->spec) == 0)
				return false; /* spec is a file */
			continue;
		}
		add_entry(r, path, prev_at, e, (flags & ~FLAG_NAME) | (unsigned)xflags << 16);
	}
	for (size_t i = 0; r->version == 4 && i < r->n; i++)
		r->entries[i].path = r->paths.ptr + r->entries[i].at;
	return true;
}

/* Reads a number of the cache tree, spelled in decimal ("-1" allowed),
 * up to the byte stop. */
static bool tree_number(const unsigned char **p, const unsigned char *end, char stop, long *out)
{
	bool minus = *p < end && **p == '-';
	if (minus)
		(*p)++;
	long v = 0;
	int digits = 0;
	while (*p < end && **p >= '0' && **p <= '9' && digits < 10) {
		v = v * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	if (!digits || *p >= end || **p != (unsigned char)stop)
		return false;
	(*p)++;
	*out = minus ? -v : v;
	return true;
}

/* Reads a node of the cache tree and the nodes below it: its name, the
 * number of index entries it covers (-1: not known, and no id follows),
 * its number of subtrees and its tree's id. path holds the node's
 * path ("" at the root); the node of spec is noted in r. */
static bool tree_node(reader *r, const unsigned char **p, const unsigned char *end, buf *path,
		      int depth)
{
	const unsigned char *nul = memchr(*p, 0, (size_t)(end - *p));
	if (!nul || depth > TREE_DEPTH_MAX)
		return false;
	size_t base = path->len;
	if (depth > 0) {
		if (base)
			buf_putc(path, '/');
		buf_put(path, *p, (size_t)(nul - *p));
	} else if (nul != *p) {
		return false; /* the root has no name */
	}
	*p = nul + 1;
	long entries, subtrees;
	if (!tree_number(p, end, ' ', &entries) || !tree_number(p, end, '\n', &subtrees) ||
	    subtrees < 0)
		return false;
	bool mine = path->len == r->spec_len && memcmp(path->ptr, r->spec, r->spec_len) == 0;
	if (entries >= 0) {
		if ((size_t)(end - *p) < ID_LEN)
			return false;
		if (mine)
			memcpy(r->tree_id, *p, ID_LEN);
		*p += ID_LEN;
	}
	if (mine) {
		r->tree_found = true;
		r->tree_valid = entries >= 0;
	}
	for (long i = 0; i < subtrees; i++)
		if (!tree_node(r, p, end, path, depth + 1))
			return false;
	buf_truncate(path, base);
	return true;
}

/* Reads the extensions up to the hash at the end. */
static bool read_extensions(reader *r)
{
	const unsigned char *end = r->end - ID_LEN; /* the file is longer */
	while (r->p < end) {
		if ((size_t)(end - r->p) < 8)
			return false;
		const unsigned char *name = r->p;
		uint32_t size = be32(r->p + 4);
		r->p += 8;
		if ((size_t)(end - r->p) < size)
			return false;
		if (memcmp(name, "TREE", 4) == 0) {
			const unsigned char *q = r->p;
			buf path = BUF_INIT;
			bool good = size == 0 || tree_node(r, &q, r->p + size, &path, 0);
			buf_release(&path);
			if (!good)
				return false;
		} else if (name[0] < 'A' || name[0] > 'Z') {
			return false; /* one that changes what the entries mean */
		}
		r->p += size;
	}
	return r->p == end;
}

/* The first entry whose path is key or sorts after it. */
static size_t lower_bound(const reader *r, const char *key)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(r->entries[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

typedef struct looking {
	const gitindex *r;
	char **paths;
	size_t n, cap, max;
} looking;

/* Notes path as one that may differ; false when there are too many. */
static bool maybe(looking *l, const char *path, size_t len)
{
	if (l->n == l->max)
		return false;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->paths = xrealloc(l->paths, l->cap * sizeof *l->paths);
	}
	l->paths[l->n++] = xstrndup(path, len);
	return true;
}

/* Whether the file's stat is the one the index keeps, with an mtime
 * before the index file's own (see "racy git" in git's documentation: a
 * file changed in the tick the index was written may keep its stat). */
static bool as_kept(const unsigned char *e, const struct stat *st, const struct stat *ix)
{
	uint32_t mode = be32(e + 24);
	switch (mode & 0170000) {
	case 0100000:
		if (!S_ISREG(st->st_mode) || ((mode ^ (uint32_t)st->st_mode) & 0100))
			return false;
		break;
	case 0120000:
		if (!S_ISLNK(st->st_mode))
			return false;
		break;
	default:
		return false;
	}
	uint32_t msec = be32(e + 8), mnsec = be32(e + 12);
	if (be32(e + 0) != (uint32_t)st->st_ctim.tv_sec ||
	    be32(e + 4) != (uint32_t)st->st_ctim.tv_nsec || msec != (uint32_t)st->st_mtim.tv_sec ||
	    mnsec != (uint32_t)st->st_mtim.tv_nsec || be32(e + 20) != (uint32_t)st->st_ino ||
	    be32(e + 28) != (uint32_t)st->st_uid || be32(e + 32) != (uint32_t)st->st_gid ||
	    be32(e + 36) != (uint32_t)st->st_size)
		return false;
	uint32_t isec = (uint32_t)ix->st_mtim.tv_sec, insec = (uint32_t)ix->st_mtim.tv_nsec;
	return msec < isec || (msec == isec && mnsec < insec);
}

/* Whether entry e is a submodule, whose status git finds inside it. */
static bool is_submodule(const entry *e)
{
	return (be32(e->stat + 24) & 0170000) == 0160000;
}

/* Looks at the index's files under spec: false when one is a
 * submodule, or too many may differ. */
static bool look_files(looking *l, int root, const struct stat *ix)
{
	const reader *r = l->r;
	int dir = -1;
	size_t dir_len = SIZE_MAX;
	const char *dir_of = NULL;
	bool good = true;
	for (size_t i = 0; i < r->n && good; i++) {
		const entry *e = &r->entries[i];
		if (is_submodule(e)) {
			good = false;
			break;
		}
		const char *slash = strrchr(e->path, '/');
		size_t len = slash ? (size_t)(slash - e->path) : 0;
		if (len != dir_len || memcmp(e->path, dir_of, len) != 0) {
			if (dir >= 0)
				close(dir);
			if (len) {
				char *folder = xstrndup(e->path, len);
				dir = openat(root, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				free(folder);
			} else {
				dir = dup(root);
			}
			dir_len = len;
			dir_of = e->path;
		}
		struct stat st;
		const char *name = slash ? slash + 1 : e->path;
		if (dir < 0 || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !as_kept(e->stat, &st, ix))
			good = maybe(l, e->path, strlen(e->path));
	}
	if (dir >= 0)
		close(dir);
	return good;
}

/* Looks for names the index does not have in the folder rel (open as
 * fd, which this closes): false when a folder is new to the index, holds
 * a repository, or too many names may differ. */
static bool look_names(looking *l, int fd, buf *rel)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	bool good = true;
	size_t base = rel->len;
	struct dirent *de;
	while (good && (de = readdir(d))) {
		const char *name = de->d_name;
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		bool top = base == 0;
		if (top && strcmp(name, ".git") == 0)
			continue; /* the repository itself */
		buf_truncate(rel, base);
		if (base)
			buf_putc(rel, '/');
		buf_puts(rel, name);
		unsigned char type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				good = maybe(l, rel->ptr, rel->len);
				continue;
			}
			type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		}
		if (type == DT_DIR) {
			if (strcmp(name, ".git") == 0) {
				good = false; /* a repository inside: git's to weigh */
				break;
			}
			buf_putc(rel, '/');
			size_t k = lower_bound(l->r, rel->ptr);
			bool known = k < l->r->n && strncmp(l->r->entries[k].path, rel->ptr, rel->len) == 0;
			buf_truncate(rel, rel->len - 1);
			if (!known) {
				good = false; /* a new folder: git may list it whole */
				break;
			}
			int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			good = sub >= 0 && look_names(l, sub, rel);
			continue;
		}
		size_t k = lower_bound(l->r, rel->ptr);
		if (k == l->r->n || strcmp(l->r->entries[k].path, rel->ptr) != 0)
			good = maybe(l, rel->ptr, rel->len);
	}
	buf_truncate(rel, base);
	closedir(d);
	return good;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void gitindex_free(gitindex *ix)
{
	if (!ix)
		return;
	if (ix->map)
		munmap(ix->map, ix->map_len);
	free(ix->spec);
	free(ix->entries);
	buf_release(&ix->paths);
	free(ix);
}

int gitindex_read(gitindex **out, const char *index_path, const char *spec)
{
	*out = NULL;
	reader *r = xcalloc(1, sizeof *r);
	r->spec = xstrdup(spec);
	r->spec_len = strlen(spec);
	r->paths = (buf)BUF_INIT;
	int fd = open(index_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &r->st) == 0 && S_ISREG(r->st.st_mode) && r->st.st_size >= 12 + ID_LEN) {
		r->map_len = (size_t)r->st.st_size;
		void *m = mmap(NULL, r->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
		r->map = m == MAP_FAILED ? NULL : m;
	}
	close(fd);
	if (!r->map)
		goto fail;
	r->p = r->map + 12;
	r->end = r->map + r->map_len;
	r->version = (int)be32(r->map + 4);
	if (memcmp(r->map, "DIRC", 4) != 0 || r->version < 2 || r->version > 4 ||
	    !read_entries(r, be32(r->map + 8)) || !read_extensions(r))
		goto fail;
	*out = r;
	return 1;
fail:
	gitindex_free(r);
	return 0;
}

size_t gitindex_count(const gitindex *ix)
{
	return ix->n;
}

const char *gitindex_path(const gitindex *ix, size_t i)
{
	return ix->entries[i].path;
}

const unsigned char *gitindex_id(const gitindex *ix, size_t i)
{
	return ix->entries[i].stat + 40;
}

unsigned gitindex_mode(const gitindex *ix, size_t i)
{
	return be32(ix->entries[i].stat + 24);
}

unsigned gitindex_flags(const gitindex *ix, size_t i)
{
	return ix->entries[i].flags;
}

bool gitindex_tree_is(const gitindex *ix, const unsigned char *tree_id)
{
	return tree_id && ix->tree_found && ix->tree_valid &&
	       memcmp(ix->tree_id, tree_id, ID_LEN) == 0;
}

/* Hands what l found to look, sorted and each path once. */
static void looked(looking *l, gitindex_look *look)
{
	if (l->n)
		qsort(l->paths, l->n, sizeof *l->paths, by_path);
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (k && strcmp(l->paths[k - 1], l->paths[i]) == 0)
			free(l->paths[i]);
		else
			l->paths[k++] = l->paths[i];
	}
	look->paths = l->paths;
	look->npaths = k;
	l->paths = NULL;
	l->n = 0;
}

/* Ends a look: what it found into look when good (1), or nothing (0). */
static int look_end(looking *l, int root, bool good, gitindex_look *look)
{
	if (good)
		looked(l, look);
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	if (root >= 0)
		close(root);
	return good ? 1 : 0;
}

int gitindex_look_at(const char *workdir, const char *index_path, const char *spec,
		     const unsigned char *tree_id, size_t max, gitindex_look *look)
{
	look->paths = NULL;
	look->npaths = 0;
	gitindex *ix = NULL;
	looking l = { NULL, NULL, 0, 0, max };
	int root = -1;
	bool good = false;
	/* Staged changes: only when the index's tree of spec is HEAD's. */
	if (!tree_id || gitindex_read(&ix, index_path, spec) != 1 || !gitindex_tree_is(ix, tree_id))
		goto out;
	l.r = ix;
	root = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || !look_files(&l, root, &ix->st))
		goto out;
	int top = ix->spec_len
			  ? openat(root, spec, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			  : dup(root);
	buf rel = BUF_INIT;
	buf_put(&rel, spec, ix->spec_len);
	good = top >= 0 && look_names(&l, top, &rel);
	buf_release(&rel);
out:
	gitindex_free(ix);
	return look_end(&l, root, good, look);
}

int gitindex_look_paths(const gitindex *ix, const char *workdir, char *const *paths, size_t n,
			gitindex_look *look)
{
	look->paths = NULL;
	look->npaths = 0;
	looking l = { ix, NULL, 0, 0, SIZE_MAX };
	int root = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool good = root >= 0;
	for (size_t i = 0; good && i < n; i++) {
		const char *path = paths[i];
		struct stat st;
		bool there = fstatat(root, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
		size_t k = lower_bound(ix, path);
		if (k < ix->n && strcmp(ix->entries[k].path, path) == 0) {
			good = !is_submodule(&ix->entries[k]);
			if (good && (!there || !as_kept(ix->entries[k].stat, &st, &ix->st)))
				maybe(&l, path, strlen(path));
		} else if (there) {
			/* Not in the index: a new file, or a folder, which
			 * may hold files that are or are not. */
			maybe(&l, path, strlen(path));
		}
	}
	return look_end(&l, root, good, look);
}

void gitindex_look_release(gitindex_look *look)
{
	for (size_t i = 0; i < look->npaths; i++)
		free(look->paths[i]);
	free(look->paths);
	look->paths = NULL;
	look->npaths = 0;
}
