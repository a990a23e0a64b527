/* output: writing the site in FRESH or UPDATE mode (see output.h).
 *
 * The bookkeeping is a handful of hash tables of paths relative to the
 * output directory: in UPDATE mode what the previous site holds (filled
 * once by output_begin and only read afterwards, so the writer threads look
 * things up in it without a lock), what this build produced, and, at
 * commit, which directories the new site needs; in FRESH mode which
 * directories have been made. Every file system call that can work
 * relative to a directory does (openat, renameat, ...), so that 31,000
 * files do not each resolve the output's own path again. */
#define _GNU_SOURCE /* d_type in struct dirent, DT_* */
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "xalloc.h"

/* --- a hash table from strings to a number -------------------------------- */

/* 24 bytes: the old site's map holds its 50,000 paths in a table at
 * most three quarters full, made anew by each build. */
typedef struct slot {
	char *key; /* owned, NUL-terminated; NULL in an empty slot */
	uint64_t hash;
	uint32_t len;
	uint32_t val;
} slot;

/* Open addressing with linear probing; never more than 3/4 full. Nothing
 * is ever deleted, which keeps the probing simple. The keys live in
 * blocks of their own, freed at once: a large site's maps hold tens of
 * thousands of paths. */
typedef struct strmap {
	slot *slots;
	size_t cap; /* 0 or a power of two */
	size_t n;
	char **blocks;     /* the keys' memory */
	size_t nblocks;
	size_t used, size; /* of the last block */
	size_t extra;      /* bytes kept after each key, zeroed (map_extra) */
	size_t block;      /* the size of the next block of keys, when more
			      than KEY_BLOCK (map_reserve) */
} strmap;

#define KEY_BLOCK 65536

static uint64_t hash_bytes(const char *s, size_t len)
{
	return buf_hash64(s, len, 0x6f7574u);
}

/* The room a key takes in the blocks: with extra bytes after it, at a
 * multiple of eight, so that they are aligned for what they hold. */
static size_t key_room(const strmap *m, size_t len)
{
	return m->extra ? (len + 1 + 7) / 8 * 8 + m->extra : len + 1;
}

/* The extra bytes after the key of slot s (see strmap.extra). */
static void *map_extra(const strmap *m, const slot *s)
{
	return s->key + key_room(m, s->len) - m->extra;
}

/* A copy of key[0..len) with a NUL, in m's blocks. */
static char *key_copy(strmap *m, const char *key, size_t len)
{
	size_t room = key_room(m, len);
	if (!m->nblocks || m->size - m->used < room) {
		size_t size = room > KEY_BLOCK ? room : KEY_BLOCK;
		if (m->block > size)
			size = m->block;
		m->block = 0;
		m->blocks = xrealloc(m->blocks, (m->nblocks + 1) * sizeof *m->blocks);
		m->blocks[m->nblocks++] = xmalloc(size);
		m->size = size;
		m->used = 0;
	}
	char *p = m->blocks[m->nblocks - 1] + m->used;
	memcpy(p, key, len);
	memset(p + len, 0, room - len);
	m->used += room;
	return p;
}

/* The slot holding key, or the empty slot where it belongs. */
static slot *map_slot(const strmap *m, const char *key, size_t len, uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
			return s;
	}
}

/* Makes m's table cap slots (a power of two above its fill). */
static void map_resize(strmap *m, size_t cap)
{
	slot *old = m->slots;
	size_t oldcap = m->cap;
	m->cap = cap;
	/* Zeroed here, not by calloc: a fresh page read before it is
	 * written maps the zero page, and the write that follows copies it
	 * with a TLB flush on every core of this threaded process. */
	m->slots = xmalloc(m->cap * sizeof *m->slots);
	memset(m->slots, 0, m->cap * sizeof *m->slots);
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			*map_slot(m, old[i].key, old[i].len, old[i].hash) = old[i];
	free(old);
}

static void map_grow(strmap *m)
{
	map_resize(m, m->cap ? m->cap * 2 : 64);
}

/* Room for n keys without growing: a map filled from a list of known
 * length is not rehashed a dozen times on the way. */
static void map_reserve(strmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 64;
	while (n * 4 > cap * 3)
		cap *= 2;
	/* In one step: the tables on the way would each be written and
	 * thrown away, their pages faulted in for nothing. */
	if (m->cap < cap)
		map_resize(m, cap);
	/* And the keys in one block, of n keys of some 40 bytes: one
	 * allocation for a big map's keys instead of one per KEY_BLOCK. */
	size_t want = n * (key_room(m, 40) + 8);
	m->block = want > KEY_BLOCK ? want : 0;
}

/* The slot of the first len bytes of key, whose hash_bytes is h, or NULL. */
static slot *map_get_hashed(const strmap *m, const char *key, size_t len, uint64_t h)
{
	if (!m->n)
		return NULL;
	slot *s = map_slot(m, key, len, h);
	return s->key ? s : NULL;
}

static slot *map_get(const strmap *m, const char *key, size_t len)
{
	return map_get_hashed(m, key, len, hash_bytes(key, len));
}

/* map_get of the key in another map's slot k, whose hash is known:
 * commit looks up every path of one map in another. */
static slot *map_get_slot(const strmap *m, const slot *k)
{
	if (!m->n)
		return NULL;
	slot *s = map_slot(m, k->key, k->len, k->hash);
	return s->key ? s : NULL;
}

/* map_put of a key whose hash_bytes is h; a new key is copied, or is
 * same (NUL-terminated, in a map without extra bytes) when that is not
 * NULL: a key of a map that outlives this one. */
static slot *map_put_same(strmap *m, const char *key, size_t len, uint64_t h, bool *added,
			  char *same)
{
	if ((m->n + 1) * 4 > m->cap * 3)
		map_grow(m);
	slot *s = map_slot(m, key, len, h);
	if (added)
		*added = !s->key;
	if (!s->key) {
		s->key = same && !m->extra ? same : key_copy(m, key, len);
		s->len = (uint32_t)len;
		s->hash = h;
		s->val = 0;
		m->n++;
	}
	return s;
}

static slot *map_put_hashed(strmap *m, const char *key, size_t len, uint64_t h, bool *added)
{
	return map_put_same(m, key, len, h, added, NULL);
}

/* The slot of the first len bytes of key, added with val 0 when missing
 * (then *added is true). The pointer is good until the next map_put. */
static slot *map_put(strmap *m, const char *key, size_t len, bool *added)
{
	return map_put_hashed(m, key, len, hash_bytes(key, len), added);
}

static void map_release(strmap *m)
{
	for (size_t i = 0; i < m->nblocks; i++)
		free(m->blocks[i]);
	free(m->blocks);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

/* --- the output ------------------------------------------------------------ */

/* What this build produced, in shards by the top bits of the paths'
 * hashes, each with its own lock: the render's threads note 30,000
 * files kept or written, and with one lock for all they queued for it
 * (a twentieth of a resident rebuild's processor time). */
#define SHARD_BITS 4
#define NSHARDS (1u << SHARD_BITS)
/* A trusting commit whose paths differ from the last in at most this
 * many, new or gone, looks only at those (see update_commit). */
#define FEW_CHANGES 64

typedef struct shard {
	pthread_mutex_t lock;
	strmap map;      /* rel -> 0 (kept as it is) or staged number */
	size_t changed, unchanged;
	size_t as_before; /* keys that old has as a file */
	/* With old_seen: the keys that old does not have as a file, up to
	 * FEW_CHANGES of them (their bytes are the map's) */
	const char *news[FEW_CHANGES];
	size_t nnews;
} shard;

/* What output_begin found at a path of the previous site. */
enum { OLD_FILE = 1, OLD_DIR, OLD_OTHER /* symbolic link, fifo, ... */ };

/* The stat of a file of the previous site, kept after its key in the
 * old map (map_extra) for output_keep. A thread of the output's own
 * asks for it right behind the scan, while the kernel has the file's
 * folder fresh from the scan's look at the folder itself: the same
 * question asked later, page by page in the render, costs a cold
 * lookup of every folder on the path again. state is set last; until
 * it is, output_keep asks itself. */
typedef struct old_stat {
	output_mark mark;
	_Atomic unsigned char state; /* OLD_STAT_* */
	/* For a folder: its number in dstat + 1, or 0 when the scan did not
	 * reach it (see dir_stat_of) */
	uint32_t dir;
} old_stat;
/* ASKED: the thread or output_keep is asking; whichever sets it asks,
 * so no file is asked for twice when the render gets ahead of the
 * thread (the thread then skips what it finds asked). */
enum { OLD_STAT_NONE, OLD_STAT_ASKED, OLD_STAT_FILE, OLD_STAT_GONE };

/* A file of the previous site for that thread: its path, where its
 * stat goes. */
typedef struct prestat {
	const char *key;
	old_stat *os;
} prestat;

/* A folder the scan took as the manifest says (its entries too), for the
 * thread that checks it is so: a directory with that inode and mtime. */
typedef struct folder_check {
	const char *key;
	uint64_t ino, nsec;
	int64_t sec;
} folder_check;

/* Work a thread does behind the scan, in the order the scan finds it:
 * the scan fills items and publishes n, and wakes the thread when it
 * waits; take does item k. */
typedef struct stat_queue {
	output *o;
	void (*take)(output *o, void *items, size_t k);
	void *items;
	size_t cap;
	_Atomic size_t n;
	size_t woken;     /* n at the scan's last wake */
	atomic_bool done, waiting;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started;
} stat_queue;

struct output {
	char *dir;    /* the final directory, without trailing '/' */
	char *where;  /* and as an absolute path (output_absolute): the manifest
			 * names it so, however -o spelled it */
	char *tmp;    /* FRESH: the new site; UPDATE: staged files, by number */
	int dirfd;    /* UPDATE: dir; -1 in FRESH mode */
	int tmpfd;    /* tmp */
	bool moved;   /* FRESH: tmp has become dir */
	bool manifest_whole; /* UPDATE: the manifest read at begin was good */
	bool reshaped; /* UPDATE, at commit: a path appeared or went */
	bool foreign;  /* UPDATE, at commit: a stale folder held something
			* this build did not know of, and stays */
	/* Trusting UPDATE: per slot of old, whether this build produced
	 * that path (set from any thread); with the shards' news, a commit
	 * that added or removed a few paths finds them without a lookup per
	 * path (few_commit). */
	_Atomic unsigned char *old_seen;
	bool dirs_pending; /* few_commit left o->dirs to commit_finish */
	bool trusting; /* output_begin_trusting: the manifest and the marks
			  are taken without a stat */
	strmap old;   /* UPDATE: every path in dir -> OLD_*; read-only after begin */
	strmap dirs;  /* FRESH: directories made in tmp; UPDATE, at commit:
			 directories the new site has -> 1 once known to exist */
	shard produced[NSHARDS]; /* what this build produced (in FRESH mode
				    * only the paths, for the manifest) */
	pthread_mutex_t lock; /* guards the fields below */
	unsigned long nstaged; /* last staged number handed out */
	size_t changed, unchanged; /* FRESH mode's */
	size_t mark_changed, mark_unchanged; /* OUTPUT_MARK's share of the counts */
	/* the manifest (see "What the directory holds" below) */
	char *manifest;       /* its path, or NULL */
	struct dir_stat *dstat; /* UPDATE: the folders the scan found, in its
				   order; the output itself first */
	size_t ndstat, capdstat;
	struct timespec began; /* when the scan began; FRESH: just before the
				* new site was moved in (settled) */
	size_t dirs_read;     /* directories read entry by entry */
	size_t dirs_sought;   /* found in the manifest by path */
	buf_map last;         /* the bytes of the manifest read, when whole */
	buf read_lists;       /* the entries of the directories read */
	size_t old_files;     /* UPDATE: entries of old that are files */
	size_t old_others;    /* and neither files nor folders */
	size_t empty_dirs;    /* folders the scan found no file below */
	bool swaps;           /* UPDATE: the file system swaps two names (place) */
	output_memory *memory; /* output_begin_trusting's, or NULL */
	/* Big files commit replaced, held open (see let_go) */
	int *held;
	size_t nheld;
	/* The files the scan found, for the thread that asks for their
	 * stats behind it (see old_stat), and the folders it took as the
	 * manifest says, for the thread that checks them (folder_take). */
	stat_queue files, folders;
	atomic_bool folders_changed; /* a folder was not as the manifest says */
	bool rescanned;       /* and the scan ran again, every folder stat'ed */
};

static shard *shard_of(output *o, uint64_t h)
{
	return &o->produced[h >> (64 - SHARD_BITS)];
}

/* The slot of the key of another map's slot k in what this build
 * produced, or NULL. */
static slot *produced_get(const output *o, const slot *k)
{
	return map_get_slot(&o->produced[k->hash >> (64 - SHARD_BITS)].map, k);
}

static size_t produced_count(const output *o)
{
	size_t n = 0;
	for (size_t i = 0; i < NSHARDS; i++)
		n += o->produced[i].map.n;
	return n;
}

/* Fills err for a failed call on rel (under dir, or under base when
 * given) from errno. */
static int io_err(gen_err *err, const char *base, const char *rel, const char *what)
{
	int e = errno;
	buf path = BUF_INIT;
	buf_puts(&path, base);
	if (rel && *rel)
		buf_printf(&path, "/%s", rel);
	int rc = err_set(err, GEN_EIO, path.ptr, 0, 0, "%s: %s", what, strerror(e));
	buf_release(&path);
	return rc;
}

/* Creates the directories above path (not path itself); errors show up
 * when path is then created. */
static void make_ancestors(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* Removes name under dfd and, when it is a directory, everything in it.
 * Symbolic links are removed, never followed. Returns 0, or -1 with errno
 * set. */
static int remove_tree(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
		return -1;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		if (is_dot_or_dotdot(e->d_name))
			continue;
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)
			rc = remove_tree(dirfd(d), e->d_name);
		else if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
			rc = -1;
	}
	int saved = errno;
	closedir(d);
	errno = saved;
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

/* --- what the directory holds ----------------------------------------------
 *
 * A rebuild compares its pages with the previous site's, and removes
 * what that had and this build does not write: so it must know every
 * entry of the output directory. Reading ten thousand directories one
 * entry at a time costs a large site a third of a second, so a build
 * that commits leaves a manifest (a file outside the output, given to
 * output_begin): each directory's entries, with its inode and mtime.
 * Any change of a directory's entries (a file added, removed, renamed,
 * or turned into a directory) gives it a new mtime, so a directory whose
 * inode and mtime are as the manifest says holds what it says, and the
 * next build reads it from there. A directory changed since is read
 * again, entry by entry; so is one whose mtime was too recent when the
 * manifest was written (a change within the file system's clock tick
 * could keep the mtime), and every directory the commit itself changed.
 * The manifest lists the entries of those too, as the commit left them:
 * a process that wrote the last version itself and trusts it
 * (output_begin_trusting) takes them from there, with only a stat for
 * the directory's new mtime. Others read them again. A damaged manifest
 * is not used at all.
 *
 * The directories come in the order the next scan visits them: each
 * before the folders in it, and those in the order its list gives. So
 * the scan takes them one after the other, and looks one up by its path
 * only when a folder read again lists its entries in another order or
 * holds one the manifest does not know: the 20,000 folders of a large
 * site then cost no hash table, built and probed on the scan's own
 * thread, which the rest of a rebuild waits for. */

#define MANIFEST_FORMAT "gen output manifest 2\n"
#define MANIFEST_SEED 0x6d616e69u
/* How old a folder's mtime must be to be trusted (see settled): on a file
 * system that keeps whole seconds, at the manifest's writing, in
 * seconds; on one that keeps nanoseconds, at the start of the scan that
 * stat'ed it, in nanoseconds. */
#define MANIFEST_SETTLED 2
#define MANIFEST_SETTLED_NS 50000000
/* What the manifest says of a directory: */
enum {
	DIR_READ_AGAIN,  /* nothing: its entries are not listed */
	DIR_SETTLED,     /* its entries, while its inode and mtime are these */
	DIR_COMMITTED,   /* its entries as the commit that wrote the manifest
			    left them; the mtime came later */
};

typedef struct dir_stat {
	const char *key; /* its path: "" or the key of its entry in old */
	size_t len;
	uint64_t ino;
	int64_t sec;
	uint64_t nsec;
	/* Where the scan found its entries, as the manifest lists them
	 * (a name blob and a type each): n of them from list_at to
	 * list_end in the last manifest's bytes, or in the entries read
	 * (list_read) */
	size_t list_at, list_end, list_n;
	bool list_read;
	bool settled;  /* old enough when stat'ed to be trusted later */
	bool touched;  /* changed by this build's commit */
	bool committed; /* the manifest: DIR_COMMITTED */
} dir_stat;

/* The manifest as read (a list of directories), for one scan: the
 * directory the scan looks for next is at cursor, or else found by its
 * path in index (rel -> index + 1 in dirs), made the first time. */
typedef struct dir_list {
	buf_map data;
	struct mdir {
		dir_stat st;
		const char *rel; /* in data */
		size_t len;
		size_t at, n; /* its entries: offset in data, count */
	} *dirs;
	size_t ndirs;
	size_t cursor;
	bool indexed;
	strmap index;
	size_t sought; /* directories found in index */
} dir_list;

static void manifest_release(dir_list *m)
{
	buf_unmap(&m->data);
	map_release(&m->index);
	free(m->dirs);
}

/* Appends the component c (n bytes) to the absolute path abs, where
 * ".." takes the last component off and "." or "" add nothing. */
static void path_push(buf *abs, const char *c, size_t n)
{
	if (!n || (n == 1 && c[0] == '.'))
		return;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		while (abs->len > 1 && abs->ptr[abs->len - 1] != '/')
			abs->len--;
		if (abs->len > 1)
			abs->len--; /* the slash, unless it is the root */
		abs->ptr[abs->len] = '\0';
		return;
	}
	if (abs->ptr[abs->len - 1] != '/')
		buf_putc(abs, '/');
	buf_put(abs, c, n);
}

char *output_absolute(const char *dir)
{
	buf abs = BUF_INIT, lex = BUF_INIT;
	char cwd[4096];
	if (dir[0] != '/' && getcwd(cwd, sizeof cwd))
		buf_puts(&lex, cwd);
	buf_putc(&lex, '/');
	buf_puts(&lex, dir);
	/* The longest leading part that exists is spelled as the system
	 * knows it, its symbolic links and ".." resolved: "../out/public"
	 * and "/work/out/public" are one output, and so is a path through
	 * a link to it. What does not exist yet (an output not made) is
	 * taken as written, a ".." taking off the folder before it. */
	size_t cut = lex.len;
	char *real = NULL;
	for (;;) {
		char keep = lex.ptr[cut];
		lex.ptr[cut] = '\0';
		real = cut ? realpath(lex.ptr, NULL) : NULL;
		lex.ptr[cut] = keep;
		if (real || !cut)
			break;
		while (cut && lex.ptr[cut - 1] != '/')
			cut--;
		while (cut && lex.ptr[cut - 1] == '/')
			cut--;
	}
	buf_puts(&abs, real ? real : "/");
	free(real);
	for (const char *p = lex.ptr + cut; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		path_push(&abs, p, n);
		p += n + (end != NULL);
	}
	buf_release(&lex);
	return buf_detach(&abs);
}

/* Reads path into m; false (m empty) when it is missing or not whole. */
static bool manifest_read(dir_list *m, const char *path, const char *dir)
{
	memset(m, 0, sizeof *m);
	buf_reader r;
	size_t dl;
	if (!buf_map_sealed(&m->data, path, MANIFEST_FORMAT, MANIFEST_SEED, &r))
		goto bad;
	const char *d = buf_get_blob(&r, &dl);
	if (r.bad || dl != strlen(dir) || memcmp(d, dir, dl) != 0)
		goto bad;
	uint64_t n = buf_get_varint(&r);
	if (r.bad || n > m->data.len)
		goto bad;
	m->dirs = xcalloc((size_t)n + 1, sizeof *m->dirs);
	for (uint64_t i = 0; i < n && !r.bad; i++) {
		struct mdir *e = &m->dirs[m->ndirs++];
		e->rel = buf_get_blob(&r, &e->len);
		e->st.ino = buf_get_varint(&r);
		e->st.sec = buf_get_svarint(&r);
		e->st.nsec = buf_get_varint(&r);
		uint64_t state = buf_get_varint(&r);
		e->st.settled = state == DIR_SETTLED;
		e->st.committed = state == DIR_COMMITTED;
		e->n = (size_t)buf_get_varint(&r);
		e->at = (size_t)(r.p - (const unsigned char *)m->data.ptr);
		for (size_t k = 0; k < e->n && !r.bad; k++) {
			size_t nl;
			buf_get_blob(&r, &nl);
			buf_get_varint(&r);
		}
	}
	if (r.bad || r.p != r.end)
		goto bad;
	return true;
bad:
	manifest_release(m);
	memset(m, 0, sizeof *m);
	return false;
}

/* What the manifest m says of the directory rel, or NULL (see "what the
 * directory holds" on their order). */
static const struct mdir *manifest_find(dir_list *m, const char *rel, size_t len)
{
	size_t i = m->cursor;
	if (i < m->ndirs && m->dirs[i].len == len && memcmp(m->dirs[i].rel, rel, len) == 0) {
		m->cursor = i + 1;
		return &m->dirs[i];
	}
	if (!m->indexed) {
		map_reserve(&m->index, m->ndirs);
		for (size_t k = 0; k < m->ndirs; k++)
			map_put(&m->index, m->dirs[k].rel, m->dirs[k].len, NULL)->val = k + 1;
		m->indexed = true;
	}
	slot *s = map_get(&m->index, rel, len);
	if (!s)
		return NULL;
	m->sought++;
	m->cursor = s->val;
	return &m->dirs[s->val - 1];
}

/* The record of the directory rel in dstat, or NULL when the scan did
 * not find one there: the output's own is the first, the others are
 * numbered in their entries of old. */
static dir_stat *dir_stat_of(const output *o, const char *rel, size_t len)
{
	if (!o->ndstat)
		return NULL;
	if (!len)
		return &o->dstat[0];
	if (!o->old.extra)
		return NULL;
	slot *s = map_get(&o->old, rel, len);
	if (!s || s->val != OLD_DIR)
		return NULL;
	const old_stat *x = map_extra(&o->old, s);
	return x->dir ? &o->dstat[x->dir - 1] : NULL;
}

/* Remembers what a directory looked like: the output itself (entry NULL)
 * or the one at entry of old. Returns its record. */
static dir_stat *note_dir(output *o, slot *entry, const struct stat *st)
{
	if (o->ndstat == o->capdstat) {
		o->capdstat = o->capdstat ? 2 * o->capdstat : 256;
		o->dstat = xrealloc(o->dstat, o->capdstat * sizeof *o->dstat);
	}
	dir_stat *d = &o->dstat[o->ndstat++];
	d->ino = (uint64_t)st->st_ino;
	d->sec = (int64_t)st->st_mtim.tv_sec;
	d->nsec = (uint64_t)st->st_mtim.tv_nsec;
	d->settled = false;
	d->touched = false;
	d->list_at = d->list_end = d->list_n = 0;
	d->list_read = false;
	d->key = entry ? entry->key : "";
	d->len = entry ? entry->len : 0;
	if (entry && o->old.extra)
		((old_stat *)map_extra(&o->old, entry))->dir = (uint32_t)o->ndstat;
	return d;
}

/* Puts the entry rel in old; returns its slot there. */
/* record_entry of a path whose hash_bytes is h. */
static slot *record_hashed_entry(output *o, const buf *rel, uint64_t h, unsigned char type)
{
	bool added;
	slot *s = map_put_hashed(&o->old, rel->ptr, rel->len, h, &added);
	if (added && type == DT_REG)
		o->old_files++;
	else if (!added && s->val == OLD_FILE && type != DT_REG)
		o->old_files--;
	s->val = type == DT_DIR ? OLD_DIR : type == DT_REG ? OLD_FILE : OLD_OTHER;
	o->old_others += added && s->val == OLD_OTHER;
	/* A file, for the thread that asks for its stat (see old_stat). */
	stat_queue *q = &o->files;
	size_t n = atomic_load_explicit(&q->n, memory_order_relaxed);
	if (s->val == OLD_FILE && q->started && n < q->cap) {
		((prestat *)q->items)[n] = (prestat){ s->key, map_extra(&o->old, s) };
		atomic_store_explicit(&q->n, n + 1, memory_order_release);
	}
	return s;
}

static slot *record_entry(output *o, const buf *rel, unsigned char type)
{
	return record_hashed_entry(o, rel, hash_bytes(rel->ptr, rel->len), type);
}

/* Wakes a queue's thread, when it waits for the scan (after a folder,
 * and at the end with done). Not after every folder: the thread keeps
 * up with the scan, so it would wait after every folder too, and each
 * wake was two switches between the threads (the woken thread takes
 * the scan's core at once, then waits for the lock the scan still
 * held): 640 of each in a rebuild of the benchmark. A batch of items
 * at a time, and the broadcast after the unlock. */
#define PRESTAT_BATCH 256

static void queue_wake(stat_queue *q, bool done)
{
	if (!q->started)
		return;
	size_t n = atomic_load_explicit(&q->n, memory_order_relaxed);
	if (!done && n - q->woken < PRESTAT_BATCH)
		return;
	if (done)
		atomic_store(&q->done, true);
	/* The items published before this look at waiting, as the thread
	 * sets it before it looks at n: one of the two sees the other's. A
	 * wake missed all the same would only delay the thread until the
	 * next batch's, or the end's, which always wakes it. */
	atomic_thread_fence(memory_order_seq_cst);
	if (done || atomic_load(&q->waiting)) {
		q->woken = n;
		/* Taken and let go so that a thread between its look at n
		 * and its wait is waiting when the broadcast comes. */
		pthread_mutex_lock(&q->lock);
		pthread_mutex_unlock(&q->lock);
		pthread_cond_broadcast(&q->cond);
	}
}

/* Both threads behind the scan, after a folder (and at the end, done). */
static void scan_wake(output *o, bool done)
{
	queue_wake(&o->folders, done);
	queue_wake(&o->files, done);
}

static void *queue_run(void *arg)
{
	stat_queue *q = arg;
	size_t k = 0;
	for (;;) {
		size_t n = atomic_load_explicit(&q->n, memory_order_acquire);
		for (; k < n; k++)
			q->take(q->o, q->items, k);
		pthread_mutex_lock(&q->lock);
		atomic_store(&q->waiting, true);
		while (atomic_load(&q->n) == k && !atomic_load(&q->done))
			pthread_cond_wait(&q->cond, &q->lock);
		atomic_store(&q->waiting, false);
		bool over = atomic_load(&q->n) == k && atomic_load(&q->done);
		pthread_mutex_unlock(&q->lock);
		if (over)
			return NULL;
	}
}

/* A file's stat, for output_keep, unless it asked already. */
static void prestat_take(output *o, void *items, size_t k)
{
	const prestat *p = (const prestat *)items + k;
	old_stat *os = p->os;
	unsigned char none = OLD_STAT_NONE;
	if (!atomic_compare_exchange_strong(&os->state, &none, OLD_STAT_ASKED))
		return; /* output_keep asked already */
	struct stat st;
	unsigned char state = OLD_STAT_GONE;
	if (fstatat(o->dirfd, p->key, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
		os->mark = (output_mark){ (uint64_t)st.st_ino, (uint64_t)st.st_size,
					  (int64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec };
		state = OLD_STAT_FILE;
	}
	atomic_store_explicit(&os->state, state, memory_order_release);
}

/* Whether a folder taken as the manifest says is so. */
static void folder_take(output *o, void *items, size_t k)
{
	const folder_check *f = (const folder_check *)items + k;
	struct stat st;
	if (atomic_load_explicit(&o->folders_changed, memory_order_relaxed))
		return; /* the scan runs again anyway */
	if (fstatat(o->dirfd, f->key, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
	    (uint64_t)st.st_ino != f->ino || (int64_t)st.st_mtim.tv_sec != f->sec ||
	    (uint64_t)st.st_mtim.tv_nsec != f->nsec)
		atomic_store(&o->folders_changed, true);
}

/* Starts q's thread for up to n items of size bytes. */
static void queue_begin(stat_queue *q, output *o, size_t n, size_t size,
			void (*take)(output *, void *, size_t))
{
	memset(q, 0, sizeof *q);
	q->o = o;
	q->take = take;
	q->cap = n;
	q->items = xmalloc((n ? n : 1) * size);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->started = pthread_create(&q->thread, NULL, queue_run, q) == 0;
	if (!q->started) {
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->cond);
	}
}

/* Waits for q's thread (the scan is over, or never was); frees its items
 * with release. */
static void queue_end(stat_queue *q, bool release)
{
	if (q->started) {
		queue_wake(q, true);
		pthread_join(q->thread, NULL);
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->cond);
		q->started = false;
	}
	if (release) {
		free(q->items);
		q->items = NULL;
		q->cap = 0;
	}
}

static int scan(output *o, dir_list *m, slot *entry, buf *rel, gen_err *err);

/* Records the entries of the directory at rel, read one by one, and
 * notes them for the manifest in its dir_stat (number di). */
static int scan_read(output *o, dir_list *m, int fd, buf *rel, size_t di, gen_err *err)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		int rc = io_err(err, o->dir, rel->ptr, "cannot read directory");
		close(fd);
		return rc;
	}
	o->dirs_read++;
	size_t base = rel->len, listed = 0;
	int rc = 0;
	/* A buffer of its own: the directories below, read in the loop,
	 * append theirs to o->read_lists meanwhile. */
	buf list = BUF_INIT;
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			if (errno)
				rc = io_err(err, o->dir, rel->ptr, "cannot read directory");
			break;
		}
		if (is_dot_or_dotdot(e->d_name))
			continue;
		buf_truncate(rel, base);
		if (base)
			buf_putc(rel, '/');
		buf_puts(rel, e->d_name);
		unsigned char type = e->d_type;
		if (type == DT_UNKNOWN) {
			/* File systems that do not fill d_type. */
			struct stat st;
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				rc = io_err(err, o->dir, rel->ptr, "cannot look at");
				break;
			}
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		}
		slot *s = record_entry(o, rel, type);
		buf_put_blob(&list, e->d_name, strlen(e->d_name));
		buf_put_varint(&list, type);
		listed++;
		if (type == DT_DIR && (rc = scan(o, m, s, rel, err)) < 0)
			break;
	}
	buf_truncate(rel, base);
	closedir(d);
	scan_wake(o, false);
	dir_stat *st = &o->dstat[di];
	st->list_read = true;
	st->list_at = o->read_lists.len;
	buf_put(&o->read_lists, list.ptr, list.len);
	st->list_end = o->read_lists.len;
	st->list_n = listed;
	buf_release(&list);
	return rc;
}

static int scan_dir(output *o, dir_list *m, slot *entry, buf *rel, gen_err *err);

/* How many entries of a folder the scan hashes ahead of the one it
 * records (scan_dir). */
#define SCAN_AHEAD 8

/* Records every entry under the directory at rel (relative to dir, ""
 * for dir itself, else entry is its own in o->old) in o->old: from the
 * manifest m when the directory is as it says, else read. Symbolic
 * links are recorded as OLD_OTHER and not followed, so a later write
 * never goes through one; a directory is only ever reached through one
 * the scan found to be a directory. */
static int scan(output *o, dir_list *m, slot *entry, buf *rel, gen_err *err)
{
	size_t files = o->old_files;
	int rc = scan_dir(o, m, entry, rel, err);
	/* A folder with no file below it is one a site never has: a
	 * commit would remove it as stale. */
	if (rel->len && o->old_files == files)
		o->empty_dirs++;
	return rc;
}

/* The stat of a folder as the manifest lists it, for a scan that takes
 * it so. */
static void stat_as_listed(struct stat *st, const struct mdir *md)
{
	memset(st, 0, sizeof *st);
	st->st_mode = S_IFDIR;
	st->st_ino = (ino_t)md->st.ino;
	st->st_mtim.tv_sec = (time_t)md->st.sec;
	st->st_mtim.tv_nsec = (long)md->st.nsec;
}

static int scan_dir(output *o, dir_list *m, slot *entry, buf *rel, gen_err *err)
{
	struct stat st;
	const char *at = rel->len ? rel->ptr : ".";
	const struct mdir *md = m->ndirs ? manifest_find(m, rel->ptr, rel->len) : NULL;
	if (o->folders.started && rel->len && md && md->st.settled &&
	    atomic_load_explicit(&o->folders.n, memory_order_relaxed) < o->folders.cap) {
		/* Taken as the manifest says, and checked on the thread
		 * behind the scan (folder_take): the scan's chain of a
		 * rebuild is then its own work, not 20,000 stats as well.
		 * Nothing is read from the output before they all check
		 * out (begin waits), and one that does not sends the scan
		 * over every folder again, each stat'ed first. */
		stat_as_listed(&st, md);
		stat_queue *q = &o->folders;
		size_t n = atomic_load_explicit(&q->n, memory_order_relaxed);
		((folder_check *)q->items)[n] =
			(folder_check){ entry->key, md->st.ino, md->st.nsec, md->st.sec };
		atomic_store_explicit(&q->n, n + 1, memory_order_release);
	} else if (o->trusting && md && md->st.settled) {
		stat_as_listed(&st, md);
	} else if (fstatat(o->dirfd, at, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
		return io_err(err, o->dir, rel->ptr, "cannot read directory");
	}
	note_dir(o, entry, &st);
	size_t di = o->ndstat - 1;
	/* A folder this process's last commit changed holds what that
	 * commit left, when the process trusts the output. */
	bool as_committed = o->trusting && md && md->st.committed;
	if (!as_committed &&
	    (!md || !md->st.settled || md->st.ino != (uint64_t)st.st_ino ||
	     md->st.sec != (int64_t)st.st_mtim.tv_sec ||
	     md->st.nsec != (uint64_t)st.st_mtim.tv_nsec)) {
		int rd = openat(o->dirfd, at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (rd < 0)
			return io_err(err, o->dir, rel->ptr, "cannot read directory");
		return scan_read(o, m, rd, rel, di, err);
	}
	buf_reader r, ahead;
	buf_reader_init(&r, m->data.ptr + md->at, m->data.len - 8 - md->at);
	ahead = r;
	size_t base = rel->len;
	int rc = 0;
	o->dstat[di].list_at = md->at;
	o->dstat[di].list_n = md->n;
	/* Each entry's slot in the map is a miss in memory, and a folder
	 * such as zoeken/t lists 10,000: the paths a few entries ahead are
	 * hashed and their slots asked for early, so that the misses
	 * overlap. */
	uint64_t hashes[SCAN_AHEAD];
	buf next = BUF_INIT;
	buf_put(&next, rel->ptr, base);
	if (base)
		buf_putc(&next, '/');
	size_t next_base = next.len;
	for (size_t k = 0; k < md->n + SCAN_AHEAD && rc == 0; k++) {
		/* Entry k - SCAN_AHEAD recorded, then entry k hashed into the
		 * place its hash leaves. */
		if (k >= SCAN_AHEAD) {
			size_t nl;
			const char *name = buf_get_blob(&r, &nl);
			unsigned char type = (unsigned char)buf_get_varint(&r);
			buf_truncate(rel, base);
			if (base)
				buf_putc(rel, '/');
			buf_put(rel, name, nl);
			slot *s = record_hashed_entry(o, rel, hashes[k % SCAN_AHEAD], type);
			if (type == DT_DIR)
				rc = scan(o, m, s, rel, err);
		}
		if (k < md->n) {
			size_t nl;
			const char *name = buf_get_blob(&ahead, &nl);
			buf_get_varint(&ahead);
			buf_truncate(&next, next_base);
			buf_put(&next, name, nl);
			uint64_t h = hash_bytes(next.ptr, next.len);
			hashes[k % SCAN_AHEAD] = h;
			if (o->old.cap)
				__builtin_prefetch(&o->old.slots[h & (o->old.cap - 1)], 1);
		}
	}
	buf_release(&next);
	o->dstat[di].list_end = (size_t)(r.p - (const unsigned char *)m->data.ptr);
	buf_truncate(rel, base);
	scan_wake(o, false);
	return rc;
}

/* Undoes a scan that took folders as the manifest m says, when one was
 * not (folder_take), for the scan again: what it recorded, and the
 * files' stats asked for behind it. */
static void scan_again(output *o, dir_list *m, size_t listed)
{
	queue_end(&o->files, true);
	map_release(&o->old);
	memset(&o->old, 0, sizeof o->old);
	o->old.extra = sizeof(old_stat);
	o->old_files = o->old_others = o->empty_dirs = 0;
	o->ndstat = 0;
	o->dirs_read = 0;
	buf_clear(&o->read_lists);
	m->cursor = 0;
	m->sought = 0;
	o->rescanned = true;
	queue_begin(&o->files, o, listed, sizeof(prestat), prestat_take);
	map_reserve(&o->old, listed);
	clock_gettime(CLOCK_REALTIME, &o->began);
}

/* Whether the manifest may list a folder's entries while its mtime stays
 * as st says: only when any change to it since the scan read it gives it
 * another mtime, that is when the mtime lies a clock tick or more before
 * the scan began. A file system that keeps nanoseconds (an mtime with a
 * fraction: ext4, xfs, btrfs, tmpfs) stamps a change with the kernel's
 * clock, a few milliseconds coarse at most; one that keeps whole seconds
 * (FAT, ext3; no fraction) may give a change a second later the same
 * mtime. The first rule lets a build made within seconds of the one that
 * wrote 20,000 folders trust them; the second is the old one. */
static bool settled(const output *o, const dir_stat *st, const struct timespec *now)
{
	if (!st->nsec)
		return st->sec < (int64_t)now->tv_sec - MANIFEST_SETTLED;
	int64_t began = (int64_t)o->began.tv_sec * 1000000000 + o->began.tv_nsec;
	return st->sec * 1000000000 + (int64_t)st->nsec < began - MANIFEST_SETTLED_NS;
}

/* FRESH mode, the new site in place: the stat of its folder rel (under
 * dfd, the output) in *st. Until it was moved in, the site was tmp, a
 * folder of this build's own under a name no one else knows, so the
 * folder holds the entries this build wrote: manifest_write lists them,
 * and when the mtime lies a clock tick before the move (settled: began
 * is the move), any change made since gives the folder another. */
static bool fresh_stat(int dfd, const char *rel, dir_stat *st)
{
	struct stat sb;
	if (dfd < 0 || fstatat(dfd, *rel ? rel : ".", &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(sb.st_mode))
		return false;
	memset(st, 0, sizeof *st);
	st->ino = (uint64_t)sb.st_ino;
	st->sec = (int64_t)sb.st_mtim.tv_sec;
	st->nsec = (uint64_t)sb.st_mtim.tv_nsec;
	return true;
}

/* Marks the directory holding the entry key[0..len) as changed. */
static void touch_parent(output *o, const char *key, size_t len)
{
	const char *slash = NULL;
	for (size_t i = len; i > 0 && !slash; i--)
		if (key[i - 1] == '/')
			slash = key + i - 1;
	dir_stat *d = dir_stat_of(o, key, slash ? (size_t)(slash - key) : 0);
	if (d)
		d->touched = true;
}

/* Starts the manifest's writing (manifest_close ends it), with the
 * folders above it. */
static void manifest_open(output *o, buf_sealer *s)
{
	buf path = BUF_INIT;
	buf_puts(&path, o->manifest);
	make_ancestors(path.ptr);
	buf_release(&path);
	buf_seal_begin(s, o->manifest, MANIFEST_SEED);
}

/* A manifest that cannot be written is removed. */
static void manifest_close(output *o, buf_sealer *s)
{
	if (!buf_seal_end(s))
		unlink(o->manifest);
}

/* Writes the manifest made in out. */
static void manifest_save(output *o, const buf *out)
{
	buf_sealer s;
	manifest_open(o, &s);
	buf_seal_put(&s, out->ptr, out->len);
	manifest_close(o, &s);
}

/* Writes the manifest of the site just committed: its directories (the
 * output's, and every one above a file this build produced), each with
 * its entries, and the inode and mtime the scan found when the commit
 * left it alone. Failing costs the next build a scan, nothing else. */
static void manifest_write(output *o)
{
	if (!o->manifest)
		return;
	/* The new site's folders (the output is number 0, the others their
	 * slot in o->dirs + 1), each with a list of its entries: every file
	 * produced and every folder. */
	size_t ndirs = o->dirs.cap + 1, n = produced_count(o) + o->dirs.n, k = 0;
	const slot **entry = xcalloc(n + 1, sizeof *entry);
	unsigned char *type = xcalloc(n + 1, 1);
	size_t *next = xcalloc(n + 1, sizeof *next), *head = xcalloc(ndirs, sizeof *head);
	for (size_t pass = 0; pass <= NSHARDS; pass++) {
		/* The files, shard by shard, then the folders. */
		const strmap *m = pass == NSHARDS ? &o->dirs : &o->produced[pass].map;
		for (size_t i = 0; i < m->cap; i++) {
			const slot *e = &m->slots[i];
			if (!e->key)
				continue;
			const char *slash = strrchr(e->key, '/');
			size_t parent = 0;
			if (slash) {
				const slot *p = map_get(&o->dirs, e->key, (size_t)(slash - e->key));
				if (!p)
					continue; /* commit put every parent in o->dirs */
				parent = (size_t)(p - o->dirs.slots) + 1;
			}
			entry[k] = e;
			type[k] = pass == NSHARDS ? DT_DIR : DT_REG;
			next[k] = head[parent];
			head[parent] = ++k;
			/* A folder the commit made: the one above it changed. */
			if (pass == NSHARDS && !dir_stat_of(o, e->key, e->len))
				touch_parent(o, e->key, e->len);
		}
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	/* A FRESH site's folders are stat'ed here; settled measures them
	 * against the move. */
	int dfd = -1;
	if (o->moved) {
		dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		now = o->began;
	}
	buf out = BUF_INIT, tmp = BUF_INIT, body = BUF_INIT;
	size_t written = 0;
	/* In the order the next scan visits them: a folder, then the
	 * folders its list names, each with all below it. A stack of the
	 * folders still to write, each folder's pushed in reverse. */
	size_t *todo = xmalloc((o->dirs.n + 1) * sizeof *todo), ntodo = 0;
	todo[ntodo++] = 0;
	while (ntodo) {
		size_t d = todo[--ntodo];
		const slot *dir = d ? &o->dirs.slots[d - 1] : NULL;
		const char *key = dir ? dir->key : "";
		size_t len = dir ? dir->len : 0;
		const dir_stat *st = dir_stat_of(o, key, len);
		dir_stat fresh;
		if (!st && o->moved && fresh_stat(dfd, key, &fresh))
			st = &fresh;
		bool trusted = st && !st->touched && settled(o, st, &now);
		buf_put_blob(&body, key, len);
		buf_put_varint(&body, trusted ? st->ino : 0);
		buf_put_svarint(&body, trusted ? st->sec : 0);
		buf_put_varint(&body, trusted ? st->nsec : 0);
		buf_put_varint(&body, trusted ? DIR_SETTLED : DIR_COMMITTED);
		written++;
		/* Its entries: those this commit left. */
		size_t count = 0;
		buf_clear(&tmp);
		size_t first = ntodo;
		for (size_t e = head[d]; e; e = next[e - 1]) {
			const char *name = entry[e - 1]->key + (len ? len + 1 : 0);
			buf_put_blob(&tmp, name, strlen(name));
			buf_put_varint(&tmp, type[e - 1]);
			count++;
			if (type[e - 1] == DT_DIR)
				todo[ntodo++] = (size_t)(entry[e - 1] - o->dirs.slots) + 1;
		}
		for (size_t i = first, j = ntodo; i + 1 < j; i++, j--) {
			size_t t = todo[i];
			todo[i] = todo[j - 1];
			todo[j - 1] = t;
		}
		buf_put_varint(&body, count);
		buf_put(&body, tmp.ptr, tmp.len);
	}
	buf_puts(&out, MANIFEST_FORMAT);
	buf_put_blob(&out, o->where, strlen(o->where));
	buf_put_varint(&out, written);
	buf_put(&out, body.ptr, body.len);
	manifest_save(o, &out);
	if (dfd >= 0)
		close(dfd);
	free(todo);
	buf_release(&body);
	buf_release(&tmp);
	buf_release(&out);
	free(entry);
	free(type);
	free(next);
	free(head);
}

/* manifest_write for a commit that left every folder with the entries
 * the scan found (nothing added, nothing removed: !o->reshaped): each
 * folder's list is copied as the scan found it, from the last manifest
 * or from what it read, and only what the manifest says of its inode and
 * mtime is worked out again. The same file, without the 50,000 lookups
 * that make the lists (two thirds of a one-shot rebuild's commit). */
static void manifest_rewrite(output *o)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	/* Some 2.4 MB at 10,000 articles, as the last one was, most of it
	 * the folders' lists: written as it is made (buf_sealer), the lists
	 * from where they lie, not made whole in memory first. */
	buf_sealer s;
	manifest_open(o, &s);
	buf out = BUF_INIT;
	buf_puts(&out, MANIFEST_FORMAT);
	buf_put_blob(&out, o->where, strlen(o->where));
	buf_put_varint(&out, o->ndstat);
	/* In the scan's order, which is the next one's. */
	for (size_t i = 0; i < o->ndstat; i++) {
		const dir_stat *st = &o->dstat[i];
		bool trusted = !st->touched && settled(o, st, &now);
		buf_put_blob(&out, st->key, st->len);
		buf_put_varint(&out, trusted ? st->ino : 0);
		buf_put_svarint(&out, trusted ? st->sec : 0);
		buf_put_varint(&out, trusted ? st->nsec : 0);
		buf_put_varint(&out, trusted ? DIR_SETTLED : DIR_COMMITTED);
		buf_put_varint(&out, st->list_n);
		buf_seal_put(&s, out.ptr, out.len);
		buf_clear(&out);
		const char *from = st->list_read ? o->read_lists.ptr : o->last.ptr;
		buf_seal_put(&s, from + st->list_at, st->list_end - st->list_at);
	}
	buf_seal_put(&s, out.ptr, out.len);
	manifest_close(o, &s);
	buf_release(&out);
}

size_t output_dirs_sought(const output *o)
{
	return o->dirs_sought;
}

bool output_rescanned(const output *o)
{
	return o->rescanned;
}

size_t output_dirs_read(const output *o)
{
	return o->dirs_read;
}

static void let_go(output *o);

static void output_free(output *o)
{
	if (!o)
		return;
	queue_end(&o->folders, true);
	queue_end(&o->files, true);
	if (o->tmpfd >= 0)
		close(o->tmpfd);
	if (o->dirfd >= 0)
		close(o->dirfd);
	if (o->tmp && !o->moved)
		remove_tree(AT_FDCWD, o->tmp);
	free((void *)o->old_seen);
	map_release(&o->old);
	map_release(&o->dirs);
	for (size_t i = 0; i < NSHARDS; i++) {
		map_release(&o->produced[i].map);
		pthread_mutex_destroy(&o->produced[i].lock);
	}
	free(o->dstat);
	buf_unmap(&o->last);
	buf_release(&o->read_lists);
	free(o->manifest);
	let_go(o);
	pthread_mutex_destroy(&o->lock);
	free(o->dir);
	free(o->where);
	free(o->tmp);
	free(o);
}

/* --- the memory ----------------------------------------------------------------
 *
 * A trusting process builds the same output again and again, and after a
 * commit that only replaced files (the common rebuild: an article edited)
 * the site's paths are the ones output_begin found. Reading them back
 * from the manifest into a map is most of output_begin's work (30 ms at
 * 10,000 articles), so such a commit hands the map to the memory and the
 * next trusting begin takes it over. A commit that added or removed
 * paths hands it the paths it left (remember_reshaped), unless a folder
 * it could not remove held something from elsewhere. Anything else
 * (another begin, an abort, a failed commit) leaves the memory empty,
 * and the next begin reads the manifest. */

struct output_memory {
	char *dir;        /* the output its map is of; NULL: it holds nothing */
	strmap old;       /* what dir held after that commit, as output.old */
	size_t old_files; /* of them, files */
	/* The last commit's bookkeeping (the manifest, freeing the output),
	 * done on a thread of its own once the files are in place: the
	 * process answers meanwhile, and waits for it (output_memory_settle)
	 * before anything else reads or changes the memory. */
	pthread_t finisher;
	bool finishing;
	bool few;         /* the last commit looked only at the paths that
			   * changed (few_commit) */
};

output_memory *output_memory_new(void)
{
	return xcalloc(1, sizeof(output_memory));
}

bool output_memory_few(const output_memory *m)
{
	return m && m->few;
}

void output_memory_settle(output_memory *m)
{
	if (m && m->finishing) {
		pthread_join(m->finisher, NULL);
		m->finishing = false;
	}
}

/* Empties m (settled). */
static void memory_clear(output_memory *m)
{
	map_release(&m->old);
	free(m->dir);
	m->dir = NULL;
	m->old_files = 0;
}

void output_memory_forget(output_memory *m)
{
	if (!m)
		return;
	output_memory_settle(m);
	memory_clear(m);
}

void output_memory_free(output_memory *m)
{
	output_memory_forget(m);
	free(m);
}

/* Takes the memory's map for o, when it is of o's directory: true. The
 * memory is empty afterwards either way. */
static bool recall(output *o)
{
	output_memory *m = o->memory;
	bool same = m && m->dir && strcmp(m->dir, o->where) == 0;
	if (same) {
		o->old = m->old;
		o->old_files = m->old_files;
		memset(&m->old, 0, sizeof m->old);
		/* Only a commit after a whole manifest was read fills it. */
		o->manifest_whole = true;
	}
	if (m)
		memory_clear(m);
	return same;
}

/* After a commit that left every path as begin found it: o->old is what
 * the directory holds, and the memory keeps it. */
static void remember(output *o)
{
	output_memory *m = o->memory;
	if (!m || !o->manifest_whole)
		return;
	memory_clear(m);
	m->dir = xstrdup(o->where);
	m->old = o->old;
	m->old_files = o->old_files;
	memset(&o->old, 0, sizeof o->old);
}

/* After a commit that added or removed paths (gen serve's save that
 * moved a part of the print page): what the directory holds is every
 * file this build produced and the folders above them, and the memory
 * keeps that for the next trusting begin, which then reads neither the
 * manifest nor a folder. Not when a stale folder stayed (something in
 * it came from elsewhere): the next begin looks. */
static void remember_reshaped(output *o)
{
	output_memory *m = o->memory;
	if (!m || !o->manifest_whole || o->foreign)
		return;
	memory_clear(m);
	map_reserve(&m->old, produced_count(o) + o->dirs.n);
	for (size_t p = 0; p <= NSHARDS; p++) {
		const strmap *from = p == NSHARDS ? &o->dirs : &o->produced[p].map;
		for (size_t i = 0; i < from->cap; i++) {
			const slot *e = &from->slots[i];
			if (!e->key)
				continue;
			map_put_hashed(&m->old, e->key, e->len, e->hash, NULL)->val =
				p == NSHARDS ? OLD_DIR : OLD_FILE;
			m->old_files += p < NSHARDS;
		}
	}
	m->dir = xstrdup(o->where);
}

/* Whether the file system under dfd swaps two names in one step
 * (RENAME_EXCHANGE), tried on two empty files made there. */
static bool can_swap(int dfd)
{
	static const char *const names[2] = { "swap-a", "swap-b" };
	bool made = true;
	for (int i = 0; i < 2; i++) {
		int fd = openat(dfd, names[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		made = made && fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	bool swaps = made && renameat2(dfd, names[0], dfd, names[1], RENAME_EXCHANGE) == 0;
	for (int i = 0; i < 2; i++)
		unlinkat(dfd, names[i], 0);
	return swaps;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* A reader of the entries of the folder open at fd, which stays open and
 * where it was: the reader has a descriptor of its own, as readdir moves
 * the offset it reads at. NULL when it cannot be read. */
static DIR *listing_of(int fd)
{
	int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = own < 0 ? NULL : fdopendir(own);
	if (!d && own >= 0)
		close(own);
	return d;
}

/* ---- what an interrupted build leaves ----
 *
 * A build holds a lock (flock) on its temporary folder "<dir>.tmp-XXXXXX"
 * from the moment it has it until it ends. One that is stopped (Ctrl-C,
 * kill, a crash) leaves the folder beside the output: half a site, or
 * the files it had staged. The next build into dir removes such a
 * folder when no process holds its lock, it has not changed for
 * ABANDONED_AFTER seconds (a build that has just made its folder holds
 * no lock yet), and it holds what a build puts there and nothing else:
 * the mark of a new site, or staged files, named by number. */

#define ABANDONED_AFTER 10

/* Whether the folder open at fd holds only what a build's temporary
 * folder holds (see above). */
static bool looks_staged(int fd)
{
	DIR *d = listing_of(fd);
	if (!d)
		return false;
	bool staged = true, fresh = false;
	struct dirent *e;
	while (staged && !fresh && (e = readdir(d))) {
		const char *n = e->d_name;
		if (is_dot_or_dotdot(n))
			continue;
		fresh = strcmp(n, OUTPUT_MARK) == 0;
		staged = fresh || strspn(n, "0123456789") == strlen(n) ||
			 strcmp(n, "swap-a") == 0 || strcmp(n, "swap-b") == 0;
	}
	closedir(d);
	return staged;
}

/* The folder that holds path ("a/b" -> "a", "/b" -> "/", "b" -> ".").
 * Caller frees. */
static char *parent_folder(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
}

/* Removes the temporary folders of builds into dir that were stopped
 * (see above); quietly, as best it can. */
static void sweep_abandoned(const char *dir)
{
	const char *slash = strrchr(dir, '/');
	char *parent = parent_folder(dir);
	const char *base = slash ? slash + 1 : dir;
	size_t blen = strlen(base);
	DIR *d = opendir(parent);
	free(parent);
	if (!d)
		return;
	int pfd = dirfd(d);
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (strlen(n) != blen + 11 || strncmp(n, base, blen) != 0 ||
		    strncmp(n + blen, ".tmp-", 5) != 0)
			continue;
		int fd = openat(pfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_mtime + ABANDONED_AFTER < now &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && looks_staged(fd))
			remove_tree(pfd, n);
		close(fd);
	}
	closedir(d);
}

/* ---- one build at a time (see output_lock) ---- */

/* How long a build waits for another before it says so: a build that
 * follows a resident's or gen serve's by a few milliseconds should not
 * print that it waits. */
#define LOCK_QUIET_MS 300

struct output_hold {
	int fd;
	char **made; /* the folders made for the lock, outermost first */
	size_t nmade;
};

/* Makes folder and the folders above it that are missing, noting in h
 * those it made. */
static void make_folder(output_hold *h, const char *folder)
{
	char *path = xstrdup(folder);
	for (char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		if (mkdir(path, 0755) == 0) {
			h->made = xrealloc(h->made, (h->nmade + 1) * sizeof *h->made);
			h->made[h->nmade++] = xstrdup(path);
		}
		if (!p)
			break;
		*p = '/';
	}
	free(path);
}

/* Whether the folder open at fd is still the one at path: a build that
 * made it may have removed it again (output_unlock) while this one
 * waited for its lock. */
static bool still_there(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

output_hold *output_lock(const char *cache_dir, bool quiet)
{
	output_hold *h = xcalloc(1, sizeof *h);
	char *folder = parent_folder(cache_dir);
	bool said = false;
	int waited = 0;
again:
	h->fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->fd < 0 && errno == ENOENT) {
		make_folder(h, folder);
		h->fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (h->fd < 0)
		goto fail;
	/* A moment quietly, then said, then as long as it takes. */
	while (flock(h->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			goto fail;
		if (waited < LOCK_QUIET_MS) {
			nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
			waited += 10;
			continue;
		}
		if (!quiet && !said) {
			char *where = output_absolute(folder);
			fprintf(stderr, "gen: waiting for another gen build in '%s' to end\n",
				where);
			free(where);
			said = true;
		}
		int rc;
		while ((rc = flock(h->fd, LOCK_EX)) < 0 && errno == EINTR)
			;
		if (rc < 0)
			goto fail;
		break;
	}
	if (!still_there(h->fd, folder)) {
		close(h->fd);
		goto again;
	}
	goto out;
fail:
	output_unlock(h);
	h = NULL;
out:
	free(folder);
	return h;
}

void output_unlock(output_hold *h)
{
	if (!h)
		return;
	/* Innermost first, and under the lock, so that a build waiting
	 * for it finds the folder gone (still_there) and makes it anew. */
	for (size_t i = h->nmade; i-- > 0;) {
		rmdir(h->made[i]);
		free(h->made[i]);
	}
	free(h->made);
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}

/* In every site gen builds: the mark that the folder is one (see
 * check_owned), with a word for whoever finds it. */
static const char mark_text[] =
	"This folder is a site built by gen: a build replaces what is in it.\n";

/* Whether the folder open at dfd may be replaced: it holds gen's mark
 * (OUTPUT_MARK, which every build writes), or nothing at all. A folder
 * that holds other things is one no gen build made: a mistyped -o (a
 * home folder, the project's parent), whose files the commit would
 * remove as stale. Returns 0, or GEN_EUSAGE with err naming one of
 * them. */
static int check_owned(int dfd, const char *dir, gen_err *err)
{
	struct stat st;
	if (fstatat(dfd, OUTPUT_MARK, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		return 0;
	DIR *d = listing_of(dfd);
	if (!d)
		return io_err(err, dir, NULL, "cannot read directory");
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) && is_dot_or_dotdot(e->d_name))
		;
	if (e)
		rc = err_set(err, GEN_EUSAGE, "", 0, 0,
			     "refusing to replace '%s': it holds '%s' and perhaps more that no gen "
			     "build made (a folder gen builds holds %s); move them elsewhere, "
			     "or name a new or empty folder",
			     dir, e->d_name, OUTPUT_MARK);
	closedir(d);
	return rc;
}

static int begin(output **out, const char *dir, const char *manifest, bool trusting,
		 output_memory *memory, gen_err *err)
{
	*out = NULL;
	output_memory_settle(memory);
	int rc = 0;
	buf probe = BUF_INIT, rel = BUF_INIT;
	output *o = xcalloc(1, sizeof *o);
	o->dirfd = o->tmpfd = -1;
	buf_init(&o->read_lists);
	o->trusting = trusting && manifest;
	for (size_t i = 0; i < NSHARDS; i++)
		pthread_mutex_init(&o->produced[i].lock, NULL);
	o->memory = o->trusting ? memory : NULL;
	if (memory && !o->memory)
		output_memory_forget(memory);
	pthread_mutex_init(&o->lock, NULL);
	o->dir = xstrdup(dir);
	size_t l = strlen(o->dir);
	while (l > 1 && o->dir[l - 1] == '/')
		o->dir[--l] = '\0';
	o->where = output_absolute(dir);

	buf_printf(&probe, "%s/site.toml", o->dir);
	bool project = exists(probe.ptr);
	buf_clear(&probe);
	buf_printf(&probe, "%s/.git", o->dir);
	project = project || exists(probe.ptr);
	if (project) {
		rc = err_set(err, GEN_EUSAGE, "", 0, 0,
			     "refusing to replace '%s': it holds a project, not a built site", dir);
		goto out;
	}

	/* A file where the site should go is more likely a mistyped -o than
	 * an old site: refuse rather than delete it. A symbolic link to a
	 * directory is followed (the site goes where it points). */
	struct stat st;
	bool update = true;
	if (lstat(o->dir, &st) < 0) {
		if (errno != ENOENT) {
			rc = io_err(err, o->dir, NULL, "cannot look at the output directory");
			goto out;
		}
		update = false;
	} else if (stat(o->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		rc = err_set(err, GEN_EUSAGE, "", 0, 0,
			     "refusing to replace '%s': it is not a directory", dir);
		goto out;
	}

	o->manifest = manifest ? xstrdup(manifest) : NULL;
	if (!update)
		output_memory_forget(o->memory);
	if (update) {
		o->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (o->dirfd < 0) {
			rc = io_err(err, o->dir, NULL, "cannot read directory");
			goto out;
		}
		/* With the memory, nothing of the manifest's to read back. */
		if (!recall(o)) {
			dir_list m;
			o->manifest_whole = manifest_read(&m, manifest, o->where);
			/* A whole manifest of this folder says a gen build
			 * made it, also one from before the mark. */
			if (!o->manifest_whole && (rc = check_owned(o->dirfd, dir, err)) < 0) {
				manifest_release(&m);
				goto out;
			}
			size_t listed = 0;
			for (size_t i = 0; i < m.ndirs; i++)
				listed += m.dirs[i].n;
			/* A build that does not trust the output looks at every
			 * file of it: right behind the scan, folder by folder;
			 * and at every folder the manifest lists. */
			o->old.extra = sizeof(old_stat);
			if (!o->trusting) {
				queue_begin(&o->files, o, listed, sizeof(prestat), prestat_take);
				queue_begin(&o->folders, o, m.ndirs, sizeof(folder_check),
					    folder_take);
			}
			map_reserve(&o->old, listed);
			/* Its folders' records at once, not grown by doubling:
			 * each step copied them all into fresh pages. */
			if (m.ndirs && !o->dstat) {
				o->capdstat = m.ndirs + 64;
				o->dstat = xmalloc(o->capdstat * sizeof *o->dstat);
			}
			clock_gettime(CLOCK_REALTIME, &o->began);
			rc = scan(o, &m, NULL, &rel, err);
			queue_end(&o->folders, true);
			if (rc == 0 && atomic_load(&o->folders_changed)) {
				scan_again(o, &m, listed);
				rc = scan(o, &m, NULL, &rel, err);
			}
			o->dirs_sought = m.sought;
			queue_wake(&o->files, true);
			/* Its bytes stay, for a commit that leaves every
			 * folder's entries as they were (manifest_rewrite). */
			if (o->manifest_whole) {
				o->last = m.data;
				m.data = (buf_map){ NULL, 0 };
			}
			manifest_release(&m);
			if (rc < 0)
				goto out;
		}
		if (o->trusting)
			o->old_seen = xcalloc(o->old.cap + 1, 1);
		/* A rebuild produces about the files the site had: its maps
		 * do not grow, under their locks, while the render fills
		 * them. Files, not every path of old: its 20,000 folders of
		 * the benchmark's 51,000 paths are never produced, and room
		 * for them was 2 MB of tables, 500 pages faulted in. */
		for (size_t i = 0; i < NSHARDS; i++)
			map_reserve(&o->produced[i].map,
				    o->old_files / NSHARDS + o->old_files / (4 * NSHARDS));
	}

	buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp-XXXXXX", o->dir);
	/* -o a/b/site on a fresh machine: the folders above are made, as
	 * mkdir -p would. */
	if (!update)
		make_ancestors(tmp.ptr);
	sweep_abandoned(o->dir);
	if (!mkdtemp(tmp.ptr)) {
		rc = io_err(err, dir, NULL, "cannot create a directory beside the output");
		buf_release(&tmp);
		goto out;
	}
	o->tmp = buf_detach(&tmp);
	/* In FRESH mode this directory becomes the site: mkdtemp's 0700 would
	 * hide it from a web server. Staged files keep their own modes. */
	if (!update)
		chmod(o->tmp, 0755);
	o->tmpfd = open(o->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->tmpfd < 0) {
		rc = io_err(err, o->tmp, NULL, "cannot open directory");
		goto out;
	}
	/* Held until the build ends, however it ends (see sweep_abandoned). */
	flock(o->tmpfd, LOCK_EX | LOCK_NB);
	if (update)
		o->swaps = can_swap(o->tmpfd);
	/* The mark that lets the next build replace this folder; not among
	 * the files counted written or unchanged, which are the site's. */
	size_t changed = output_changed(o), unchanged = output_unchanged(o);
	if ((rc = output_write(o, OUTPUT_MARK, mark_text, sizeof mark_text - 1, err)) < 0)
		goto out;
	o->mark_changed = output_changed(o) - changed;
	o->mark_unchanged = output_unchanged(o) - unchanged;
	*out = o;
	o = NULL;
out:
	output_free(o);
	buf_release(&probe);
	buf_release(&rel);
	return rc;
}

/* Puts rel into key without empty and "." components. Returns NULL, or
 * why rel cannot name a file of the site. */
static const char *clean_rel(buf *key, const char *rel)
{
	/* Any "..", even inside a name, as before: no page needs one. */
	if (!*rel || rel[0] == '/' || strstr(rel, ".."))
		return "refusing to write outside the output";
	const char *last = strrchr(rel, '/');
	last = last ? last + 1 : rel;
	if (!*last || strcmp(last, ".") == 0)
		return "not a file name";
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (n && !(n == 1 && *p == '.')) {
			if (key->len)
				buf_putc(key, '/');
			buf_put(key, p, n);
		}
		p += n;
		if (*p)
			p++;
	}
	return NULL;
}

static void mark_of(const struct stat *st, output_mark *mark)
{
	if (!mark)
		return;
	mark->ino = (uint64_t)st->st_ino;
	mark->size = (uint64_t)st->st_size;
	mark->sec = (int64_t)st->st_mtim.tv_sec;
	mark->nsec = (uint64_t)st->st_mtim.tv_nsec;
}

/* Writes a file under dfd: a new one (excl) or over whatever is there,
 * and fills mark (may be NULL) once the last byte is written. Returns 0,
 * or -1 with errno set. */
static int write_file(int dfd, const char *name, bool excl, const void *data, size_t len,
		      output_mark *mark)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC),
			0666);
	if (fd < 0)
		return -1;
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			errno = e;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	struct stat st;
	if (mark && fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	mark_of(&st, mark);
	return close(fd);
}

/* Whether name under dfd is a regular file holding exactly these bytes.
 * A file that cannot be read counts as different: it is then replaced,
 * which is always correct. */
/* Whether the next len bytes of the old file are data. */
static bool old_matches(int fd, const char *data, size_t len)
{
	char chunk[65536];
	while (len) {
		size_t want = len < sizeof chunk ? len : sizeof chunk;
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || memcmp(chunk, data, (size_t)n) != 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

static bool same_bytes(int dfd, const char *name, const void *data, size_t len,
		       output_mark *mark)
{
	/* O_NONBLOCK: should a fifo have taken the file's place since
	 * output_begin looked, opening it must not hang the build. */
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	bool same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size == len &&
		    old_matches(fd, data, len);
	if (same)
		mark_of(&st, mark);
	close(fd);
	return same;
}

/* FRESH mode: makes the directories above key in tmp. Each is made once:
 * the set remembers them, and only hears of a directory after it exists,
 * so a thread that finds one there can write into it at once. */
static int fresh_dirs(output *o, buf *key, gen_err *err)
{
	char *p = key->ptr;
	char *slash = strrchr(p, '/');
	if (!slash)
		return 0;
	size_t top = (size_t)(slash - p);
	/* The deepest directory already made; usually the file's own. */
	size_t have = top;
	pthread_mutex_lock(&o->lock);
	while (have > 0 && !map_get(&o->dirs, p, have)) {
		do
			have--;
		while (have > 0 && p[have] != '/');
	}
	pthread_mutex_unlock(&o->lock);
	if (have == top)
		return 0;
	/* Two threads may make the same directory at once: EEXIST is fine. */
	for (size_t i = have ? have + 1 : 0; i <= top; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		int rc = mkdirat(o->tmpfd, p, 0755);
		if (rc < 0 && errno != EEXIST) {
			rc = io_err(err, o->tmp, p, "cannot create directory");
			p[i] = '/';
			return rc;
		}
		p[i] = '/';
	}
	pthread_mutex_lock(&o->lock);
	for (size_t i = have ? have + 1 : 0; i <= top; i++)
		if (p[i] == '/')
			map_put(&o->dirs, p, i, NULL);
	pthread_mutex_unlock(&o->lock);
	return 0;
}

/* record of a key whose hash_bytes is h, hashed before its shard's lock
 * is taken; old: its slot in old, or NULL. */
static void record_hashed(output *o, const char *key, size_t len, unsigned long n, uint64_t h,
			  const slot *old)
{
	unsigned long prev = 0;
	bool added, was_file = old && old->val == OLD_FILE;
	if (o->old_seen && old)
		atomic_store_explicit(&o->old_seen[old - o->old.slots], 1, memory_order_relaxed);
	shard *sh = shard_of(o, h);
	pthread_mutex_lock(&sh->lock);
	/* A path the old site has takes the old map's copy of it: that map
	 * is read-only and outlives this one (output_free; the memory that
	 * remember hands it to is not emptied before the commit's end), and
	 * 30,000 copies of paths were a tenth of a rebuild's page faults. */
	slot *s = map_put_same(&sh->map, key, len, h, &added, old ? old->key : NULL);
	if (added && was_file)
		sh->as_before++;
	if (added && !was_file) {
		if (sh->nnews < FEW_CHANGES)
			sh->news[sh->nnews] = s->key;
		sh->nnews++;
	}
	if (!added) {
		prev = s->val;
		if (prev)
			sh->changed--;
		else
			sh->unchanged--;
	}
	s->val = (uint32_t)n;
	if (n)
		sh->changed++;
	else
		sh->unchanged++;
	pthread_mutex_unlock(&sh->lock);
	if (prev) {
		/* No one else knows this number any more. */
		char name[32];
		snprintf(name, sizeof name, "%lu", prev);
		unlinkat(o->tmpfd, name, 0);
	}
}

/* UPDATE mode: notes that this build produced key, kept as it is
 * (n == 0) or staged as file n. The last write of a key wins. */
static void record(output *o, const buf *key, unsigned long n)
{
	uint64_t h = hash_bytes(key->ptr, key->len);
	record_hashed(o, key->ptr, key->len, n, h, map_get_hashed(&o->old, key->ptr, key->len, h));
}

/* FRESH mode: notes a file written in tmp, for the manifest. */
static void fresh_record(output *o, const buf *key)
{
	uint64_t h = hash_bytes(key->ptr, key->len);
	shard *sh = shard_of(o, h);
	pthread_mutex_lock(&sh->lock);
	map_put_hashed(&sh->map, key->ptr, key->len, h, NULL);
	pthread_mutex_unlock(&sh->lock);
}

int output_write(output *o, const char *rel, const void *data, size_t len,
		 gen_err *err)
{
	return output_write_marked(o, rel, data, len, NULL, err);
}

int output_write_marked(output *o, const char *rel, const void *data, size_t len,
			output_mark *mark, gen_err *err)
{
	int rc = 0;
	buf key = BUF_INIT;
	const char *bad = clean_rel(&key, rel);
	if (bad) {
		rc = err_set(err, GEN_EUSAGE, rel, 0, 0, "%s", bad);
		goto out;
	}
	if (o->dirfd < 0) {
		if ((rc = fresh_dirs(o, &key, err)) < 0)
			goto out;
		if (write_file(o->tmpfd, key.ptr, false, data, len, mark) < 0) {
			rc = io_err(err, o->tmp, key.ptr, "cannot write");
			goto out;
		}
		fresh_record(o, &key);
		pthread_mutex_lock(&o->lock);
		o->changed++;
		pthread_mutex_unlock(&o->lock);
		goto out;
	}
	/* Only a regular file found by output_begin is worth reading: the
	 * scan did not follow symbolic links, so neither does this open. */
	slot *old = map_get(&o->old, key.ptr, key.len);
	if (old && old->val == OLD_FILE && same_bytes(o->dirfd, key.ptr, data, len, mark)) {
		record(o, &key, 0);
		goto out;
	}
	pthread_mutex_lock(&o->lock);
	unsigned long n = ++o->nstaged;
	pthread_mutex_unlock(&o->lock);
	/* A flat name: staging creates no directories. */
	char name[32];
	snprintf(name, sizeof name, "%lu", n);
	if (write_file(o->tmpfd, name, true, data, len, mark) < 0) {
		rc = io_err(err, o->tmp, name, "cannot write");
		goto out;
	}
	record(o, &key, n);
out:
	buf_release(&key);
	return rc;
}

/* ---- one file in pieces ---- */

/* What output_close counts as big: the print page, not an article. */
#define BIG_FILE (4u << 20)

struct output_file {
	output *o;
	buf key;
	int fd;               /* the file being written */
	char name[32];        /* UPDATE: its staging name */
	int old;              /* UPDATE: the file there, read alongside; -1 */
	bool same;            /* UPDATE: every byte so far equals old's */
	bool done;            /* output_close counted it */
	bool spare;           /* UPDATE: written over a spare (take_spare) */
	output_mark spare_mark; /* the spare's, as it was taken */
	bool placed;          /* written where the caller said (output_put_at) */
	size_t len;
};

/* ---- spares ----
 *
 * A big file (the print page: 74 MB on the benchmark's handbook) that a
 * commit replaces is swapped with its new version (place), and then
 * freed: 18,000 pages of page cache given back, and as many taken again
 * by the next build's new version, each block of it allocated on the
 * disk anew. Instead the old file stays in the build cache as a spare,
 * and the next build writes its new version over the spare's bytes:
 * pages and blocks that are already there, a third less of the copy's
 * CPU, nothing to free. A caller that knows what the spare holds (the
 * print page's parts, by the spare's stat) writes only where it differs
 * (output_spare, output_put_at, output_copy_at). The spare is named by
 * the output and the file's path; it is only ever moved into the staging
 * folder and written there when it is a regular file of one name and
 * not the file in the site. */

/* Where the spare of the file at key is kept: beside the manifest, and
 * named by it ("output-KEY-PATHHASH.spare"); NULL without a manifest. */
static char *spare_path(const output *o, const char *key, size_t len)
{
	if (!o->manifest)
		return NULL;
	buf p = BUF_INIT;
	size_t n = strlen(o->manifest);
	if (n > 5 && strcmp(o->manifest + n - 5, ".list") == 0)
		n -= 5;
	buf_printf(&p, "%.*s-%016llx.spare", (int)n, o->manifest,
		   (unsigned long long)hash_bytes(key, len));
	return buf_detach(&p);
}

/* Opens the spare of f's file as its staged file, when the file there
 * (f->old) is big and the file system swaps names. Returns the open
 * descriptor, or -1: then the staged file is made afresh. */
static int take_spare(output *o, output_file *f)
{
	struct stat old, st;
	if (!o->swaps || f->old < 0 || fstat(f->old, &old) < 0 || old.st_size < BIG_FILE)
		return -1;
	char *sp = spare_path(o, f->key.ptr, f->key.len);
	int fd = -1;
	if (sp && renameat(AT_FDCWD, sp, o->tmpfd, f->name) == 0) {
		fd = openat(o->tmpfd, f->name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
				(st.st_dev == old.st_dev && st.st_ino == old.st_ino))) {
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			unlinkat(o->tmpfd, f->name, 0);
	}
	free(sp);
	return fd;
}

/* Keeps the big file staged as name, which a swap has just taken out of
 * the site at key, as the spare of key. */
static bool keep_spare(output *o, const char *key, size_t len, const char *name)
{
	struct stat st;
	if (fstatat(o->tmpfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < BIG_FILE)
		return false;
	char *sp = spare_path(o, key, len);
	bool kept = sp && renameat(o->tmpfd, name, AT_FDCWD, sp) == 0;
	free(sp);
	return kept;
}

/* Copies the len bytes of the file open at in to the one open at out:
 * by the kernel where it can, else through a buffer. */
static bool copy_whole(int in, int out, uint64_t len)
{
	bool kernel = true;
	char chunk[65536];
	while (len) {
		ssize_t n;
		if (kernel) {
			size_t want = len > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)len;
			n = copy_file_range(in, NULL, out, NULL, want, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				      errno == EOPNOTSUPP)) {
				kernel = false; /* another file system, an old kernel */
				continue;
			}
		} else {
			n = read(in, chunk, len < sizeof chunk ? (size_t)len : sizeof chunk);
			if (n > 0 && buf_write_all(out, chunk, (size_t)n) < 0)
				return false;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		len -= (uint64_t)n;
	}
	return true;
}

bool output_leave_spare(output *o, const char *rel, output_mark *mark)
{
	/* Only a build from nothing: an update replaces the file, and the
	 * one it replaces becomes the spare (keep_spare). */
	if (!o || o->dirfd >= 0 || o->moved || !o->manifest)
		return false;
	buf key = BUF_INIT, tmp = BUF_INIT;
	char *sp = NULL;
	int in = -1, out = -1;
	bool left = false;
	struct stat st;
	if (clean_rel(&key, rel))
		goto out;
	in = openat(o->tmpfd, key.ptr, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	/* The next build takes the spare only by swapping it in (take_spare):
	 * where the file system cannot, a copy would only take room. */
	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < BIG_FILE ||
	    !can_swap(o->tmpfd))
		goto out;
	sp = spare_path(o, key.ptr, key.len);
	/* A name cache_sweep removes once this process is gone. */
	buf_printf(&tmp, "%s.tmp%ld", sp, (long)getpid());
	out = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		goto out;
	left = copy_whole(in, out, (uint64_t)st.st_size) && fstat(out, &st) == 0;
	mark_of(&st, mark);
	left = close(out) == 0 && left;
	out = -1;
	left = left && rename(tmp.ptr, sp) == 0;
	if (!left)
		unlink(tmp.ptr);
out:
	if (out >= 0) {
		close(out);
		unlink(tmp.ptr);
	}
	if (in >= 0)
		close(in);
	free(sp);
	buf_release(&key);
	buf_release(&tmp);
	return left;
}

int output_open(output *o, const char *rel, output_file **out, gen_err *err)
{
	*out = NULL;
	output_file *f = xcalloc(1, sizeof *f);
	f->o = o;
	f->fd = f->old = -1;
	int rc = 0;
	const char *bad = clean_rel(&f->key, rel);
	if (bad) {
		rc = err_set(err, GEN_EUSAGE, rel, 0, 0, "%s", bad);
		goto out;
	}
	if (o->dirfd < 0) {
		if ((rc = fresh_dirs(o, &f->key, err)) < 0)
			goto out;
		f->fd = openat(o->tmpfd, f->key.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (f->fd < 0)
			rc = io_err(err, o->tmp, f->key.ptr, "cannot write");
		goto out;
	}
	pthread_mutex_lock(&o->lock);
	unsigned long n = ++o->nstaged;
	pthread_mutex_unlock(&o->lock);
	snprintf(f->name, sizeof f->name, "%lu", n);
	/* As for same_bytes: only a regular file found by output_begin. */
	slot *old = map_get(&o->old, f->key.ptr, f->key.len);
	struct stat st;
	if (old && old->val == OLD_FILE) {
		f->old = openat(o->dirfd, f->key.ptr, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (f->old >= 0 && (fstat(f->old, &st) < 0 || !S_ISREG(st.st_mode))) {
			close(f->old);
			f->old = -1;
		}
	}
	f->same = f->old >= 0;
	f->fd = take_spare(o, f);
	f->spare = f->fd >= 0;
	if (f->spare && fstat(f->fd, &st) < 0)
		memset(&f->spare_mark, 0, sizeof f->spare_mark); /* matches no file */
	else if (f->spare)
		mark_of(&st, &f->spare_mark);
	if (f->fd < 0)
		f->fd = openat(o->tmpfd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (f->fd < 0) {
		rc = io_err(err, o->tmp, f->name, "cannot write");
		goto out;
	}
out:
	if (rc < 0) {
		output_discard(f);
		return rc;
	}
	*out = f;
	return 0;
}

/* Writes len bytes at p to f's file, as they are: where its position is
 * (to NULL) or at *to, which moves on past them. */
static int put_bytes(output_file *f, const char *p, size_t len, off_t *to, gen_err *err)
{
	while (len) {
		ssize_t n = to ? pwrite(f->fd, p, len, *to) : write(f->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return io_err(err, f->o->tmp, f->name[0] ? f->name : f->key.ptr,
				      "cannot write");
		}
		p += n;
		len -= (size_t)n;
		if (to)
			*to += n;
	}
	return 0;
}

int output_put(output_file *f, const void *data, size_t len, gen_err *err)
{
	const char *p = data;
	if (f->same && !old_matches(f->old, p, len))
		f->same = false;
	f->len += len;
	return put_bytes(f, p, len, NULL, err);
}

static int copy_bytes(output_file *f, int from, uint64_t at, uint64_t len, off_t *to,
		      gen_err *err);

bool output_spare(const output_file *f, output_mark *mark)
{
	if (!f->spare || !f->spare_mark.ino)
		return false;
	*mark = f->spare_mark;
	return true;
}

int output_put_at(output_file *f, uint64_t to, const void *data, size_t len, gen_err *err)
{
	off_t at = (off_t)to;
	f->same = false;
	f->placed = true;
	return put_bytes(f, data, len, &at, err);
}

int output_copy_at(output_file *f, uint64_t to, int from, uint64_t at, uint64_t len,
		   gen_err *err)
{
	off_t out = (off_t)to;
	f->same = false;
	f->placed = true;
	return copy_bytes(f, from, at, len, &out, err);
}

void output_set_length(output_file *f, uint64_t len)
{
	f->same = false;
	f->placed = true;
	f->len = (size_t)len;
}

/* Whether descriptors a and b are open on the same file. */
static bool same_file(int a, int b)
{
	struct stat x, y;
	return a >= 0 && b >= 0 && fstat(a, &x) == 0 && fstat(b, &y) == 0 &&
	       x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* Copies len bytes at offset at of the file open at from into f's file:
 * where its position is (to NULL), or at *to, which moves on. */
static int copy_bytes(output_file *f, int from, uint64_t at, uint64_t len, off_t *to,
		      gen_err *err)
{
	off_t in = (off_t)at;
	bool kernel = true;
	char chunk[65536];
	while (len) {
		size_t want = len > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)len;
		ssize_t n = -1;
		if (kernel) {
			n = copy_file_range(from, &in, f->fd, to, want, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				      errno == EOPNOTSUPP)) {
				kernel = false; /* another file system, an old kernel */
				continue;
			}
		} else {
			n = pread(from, chunk, want < sizeof chunk ? want : sizeof chunk, in);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0) {
				int rc = put_bytes(f, chunk, (size_t)n, to, err);
				if (rc < 0)
					return rc;
				in += n;
			}
		}
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the old file is shorter than it was */
			return io_err(err, f->o->tmp, f->name[0] ? f->name : f->key.ptr,
				      "cannot copy into");
		}
		len -= (uint64_t)n;
	}
	return 0;
}

int output_copy(output_file *f, int from, uint64_t at, uint64_t len, gen_err *err)
{
	/* Bytes of the old file put back where they were leave f equal to
	 * it so far: its reading position moves on past them. */
	if (f->same) {
		f->same = at == f->len && same_file(f->old, from) &&
			  lseek(f->old, (off_t)len, SEEK_CUR) >= 0;
	}
	int rc = copy_bytes(f, from, at, len, NULL, err);
	if (rc == 0)
		f->len += (size_t)len;
	return rc;
}

int output_close(output_file *f, gen_err *err)
{
	return output_close_marked(f, NULL, err);
}

int output_close_marked(output_file *f, output_mark *mark, gen_err *err)
{
	output *o = f->o;
	int rc = 0;
	int fd = f->fd;
	f->fd = -1;
	struct stat st;
	/* A big file that will replace another by rename, where the file
	 * system cannot swap them (see place): ext4 writes a file out when
	 * it is renamed over an old one (auto_da_alloc), and commit is where
	 * the build waits. Starting the write-out now puts that work beside
	 * the rest of the render instead. Where place swaps, nothing is
	 * written out before the kernel's own time: started here, the write
	 * of the 74 MB print page held up the commit's renames in ext4's
	 * journal (a rebuild's commit took 35 ms instead of 4). */
	if (o->dirfd >= 0 && !o->swaps && f->old >= 0 && !f->same && f->len >= BIG_FILE)
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	/* A spare may have been longer than what was written over it. */
	bool cut = !(f->spare || f->placed) || ftruncate(fd, (off_t)f->len) == 0;
	bool stated = !mark || fstat(fd, &st) == 0;
	if (close(fd) < 0 || !stated || !cut) {
		rc = io_err(err, o->tmp, f->name[0] ? f->name : f->key.ptr, "cannot write");
		goto out;
	}
	if (o->dirfd < 0) {
		fresh_record(o, &f->key);
		pthread_mutex_lock(&o->lock);
		o->changed++;
		pthread_mutex_unlock(&o->lock);
		f->done = true;
		goto out;
	}
	/* Equal so far, and nothing more in the old file: unchanged. */
	char extra;
	if (f->same && read(f->old, &extra, 1) == 0) {
		if (mark && fstat(f->old, &st) < 0) {
			rc = io_err(err, o->dir, f->key.ptr, "cannot look at");
			goto out;
		}
		/* A spare written over stays a spare. */
		if (!f->spare || !keep_spare(o, f->key.ptr, f->key.len, f->name))
			unlinkat(o->tmpfd, f->name, 0);
		record(o, &f->key, 0);
	} else {
		record(o, &f->key, strtoul(f->name, NULL, 10));
	}
	f->done = true;
out:
	if (rc == 0)
		mark_of(&st, mark);
	output_discard(f);
	return rc;
}

void output_discard(output_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->old >= 0)
		close(f->old);
	/* A file not counted is removed: staged under its number, or
	 * half written in FRESH mode. */
	if (!f->done && f->name[0])
		unlinkat(f->o->tmpfd, f->name, 0);
	else if (!f->done && f->o->dirfd < 0 && f->key.len)
		unlinkat(f->o->tmpfd, f->key.ptr, 0);
	buf_release(&f->key);
	free(f);
}

int output_begin(output **out, const char *dir, const char *manifest, gen_err *err)
{
	return begin(out, dir, manifest, false, NULL, err);
}

int output_begin_trusting(output **out, const char *dir, const char *manifest,
			  output_memory *memory, gen_err *err)
{
	return begin(out, dir, manifest, true, memory, err);
}

/* Whether clean_rel would give rel back as it is: not empty, no ".." and
 * no empty or "." component. Paths gen makes are, and need no copy. */
static bool plain_rel(const char *rel, size_t *len)
{
	const char *p = rel;
	size_t part = 0; /* bytes of the component so far */
	bool dot = false; /* the component so far is "." */
	for (;; p++) {
		if (*p == '/' || !*p) {
			if (!part || (part == 1 && dot))
				return false;
			if (!*p)
				break;
			part = 0;
			continue;
		}
		if (*p == '.' && p[1] == '.')
			return false;
		dot = part == 0 && *p == '.';
		part++;
	}
	*len = (size_t)(p - rel);
	return true;
}

bool output_keep(output *o, const char *rel, const output_mark *mark)
{
	if (!o || o->dirfd < 0)
		return false;
	buf copy = BUF_INIT;
	bool kept = false;
	const char *key = rel;
	size_t len;
	if (!plain_rel(rel, &len)) {
		if (clean_rel(&copy, rel))
			goto out;
		key = copy.ptr;
		len = copy.len;
	}
	uint64_t h = hash_bytes(key, len);
	slot *old = map_get_hashed(&o->old, key, len, h);
	if (!old || old->val != OLD_FILE)
		goto out;
	old_stat *os = o->old.extra ? map_extra(&o->old, old) : NULL;
	unsigned char state =
		os ? atomic_load_explicit(&os->state, memory_order_acquire) : OLD_STAT_NONE;
	/* Not asked yet: asked here, and the thread leaves it. */
	if (os && state == OLD_STAT_NONE && !o->trusting &&
	    !atomic_compare_exchange_strong(&os->state, &state, OLD_STAT_ASKED) &&
	    state == OLD_STAT_ASKED)
		state = OLD_STAT_NONE; /* the thread is asking now: asked here too */
	output_mark now;
	struct stat st;
	if (o->trusting) {
		now = *mark;
	} else if (state == OLD_STAT_FILE) {
		now = os->mark;
	} else if (state != OLD_STAT_GONE && fstatat(o->dirfd, key, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		   S_ISREG(st.st_mode)) {
		now = (output_mark){ (uint64_t)st.st_ino, (uint64_t)st.st_size,
				     (int64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec };
	} else {
		goto out;
	}
	if (now.ino == mark->ino && now.size == mark->size && now.sec == mark->sec &&
	    now.nsec == mark->nsec) {
		record_hashed(o, key, len, 0, h, old);
		kept = true;
	}
out:
	buf_release(&copy);
	return kept;
}

int output_open_old(output *o, const char *rel)
{
	if (!o || o->dirfd < 0)
		return -1;
	buf key = BUF_INIT;
	int fd = -1;
	if (clean_rel(&key, rel))
		goto out;
	slot *old = map_get(&o->old, key.ptr, key.len);
	if (old && old->val == OLD_FILE)
		fd = openat(o->dirfd, key.ptr, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
out:
	buf_release(&key);
	return fd;
}

static int by_key(const void *a, const void *b)
{
	return strcmp((*(slot *const *)a)->key, (*(slot *const *)b)->key);
}

static int by_key_desc(const void *a, const void *b)
{
	return by_key(b, a);
}

/* Makes name under dfd a directory, removing a file or symbolic link that
 * stands there. Returns 0, or -1 with errno set. */
static int ensure_dir(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		if (unlinkat(dfd, name, 0) < 0)
			return -1;
	} else if (errno != ENOENT) {
		return -1;
	}
	return mkdirat(dfd, name, 0755);
}

/* Makes the directories above key in dir. Directories the scan found are
 * trusted to be there unless recheck is set (after a rename failed
 * because dir changed during the build). */
static int make_parents(output *o, char *key, bool recheck, gen_err *err)
{
	for (char *p = strchr(key, '/'); p; p = strchr(p + 1, '/')) {
		size_t len = (size_t)(p - key);
		slot *d = map_get(&o->dirs, key, len);
		if (!recheck) {
			if (d && d->val)
				continue;
			slot *old = map_get(&o->old, key, len);
			if (old && old->val == OLD_DIR) {
				if (d)
					d->val = 1;
				continue;
			}
		}
		*p = '\0';
		int rc = ensure_dir(o->dirfd, key);
		if (rc < 0)
			rc = io_err(err, o->dir, key, "cannot create directory");
		*p = '/';
		if (rc < 0)
			return rc;
		if (d)
			d->val = 1;
	}
	return 0;
}

/* A big file that a rename replaces is freed by the kernel when its last
 * name and descriptor go: for the print page of ten thousand articles,
 * 74 MB of page cache, a good 10 ms in the rename that drops it. place
 * holds such a file open, and let_go closes them on a thread of their
 * own, while the build goes on to report and the next one waits for a
 * save. */
static void hold_old(output *o, int dfd, const char *rel)
{
	int fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < BIG_FILE)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		return;
	o->held = xrealloc(o->held, (o->nheld + 1) * sizeof *o->held);
	o->held[o->nheld++] = fd;
}

typedef struct held_files {
	int *fd;
	size_t n;
} held_files;

static void *close_held(void *arg)
{
	held_files *h = arg;
	for (size_t i = 0; i < h->n; i++)
		close(h->fd[i]);
	free(h->fd);
	free(h);
	return NULL;
}

static void let_go(output *o)
{
	if (!o->nheld)
		return;
	held_files *h = xmalloc(sizeof *h);
	h->fd = o->held;
	h->n = o->nheld;
	o->held = NULL;
	o->nheld = 0;
	pthread_t t;
	pthread_attr_t attr;
	bool started = pthread_attr_init(&attr) == 0 &&
		       pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
		       pthread_create(&t, &attr, close_held, h) == 0;
	pthread_attr_destroy(&attr);
	if (!started)
		close_held(h);
}

/* Moves staged file s into dir, in place of whatever stands there. */
static int place(output *o, slot *s, gen_err *err)
{
	char name[32];
	snprintf(name, sizeof name, "%lu", (unsigned long)s->val);
	int rc = make_parents(o, s->key, false, err);
	if (rc < 0)
		return rc;
	/* rename cannot replace a directory with a file. Nothing in it
	 * belongs to this build: commit checked that no path is both. */
	slot *old = map_get(&o->old, s->key, s->len);
	if (old && old->val == OLD_DIR && remove_tree(o->dirfd, s->key) < 0)
		return io_err(err, o->dir, s->key, "cannot remove");
	touch_parent(o, s->key, s->len);
	if (old && old->val == OLD_FILE) {
		/* Swapped with the old file rather than renamed over it: ext4
		 * writes a file renamed over another out there and then
		 * (auto_da_alloc, its guard for programs that do not fsync),
		 * 60 ms in the rename for the 74 MB print page, and the
		 * journal makes the next renames wait for that write. gen
		 * does not need the guard: a file a crash left empty or short
		 * does not match the mark the page cache keeps, and the next
		 * build writes it again. The old file, now in the staging
		 * folder, stays as a spare when it is big (see "spares"), or
		 * goes (its pages freed where hold_old says). */
		if (o->swaps && renameat2(o->tmpfd, name, o->dirfd, s->key, RENAME_EXCHANGE) == 0) {
			if (!keep_spare(o, s->key, s->len, name)) {
				hold_old(o, o->tmpfd, name);
				unlinkat(o->tmpfd, name, 0);
			}
			return 0;
		}
		hold_old(o, o->dirfd, s->key);
	}
	if (renameat(o->tmpfd, name, o->dirfd, s->key) == 0)
		return 0;
	if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR || errno == ENOTEMPTY ||
	    errno == EEXIST) {
		/* Something changed dir since output_begin looked: check each
		 * step on the disk instead of in the scan, then try again. */
		if ((rc = make_parents(o, s->key, true, err)) < 0)
			return rc;
		struct stat st;
		if (fstatat(o->dirfd, s->key, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && remove_tree(o->dirfd, s->key) < 0)
			return io_err(err, o->dir, s->key, "cannot remove");
		if (renameat(o->tmpfd, name, o->dirfd, s->key) == 0)
			return 0;
	}
	return io_err(err, o->dir, s->key, "cannot move the new file in");
}

/* Moves every staged file in, in path order (staged: room for every
 * file produced), for a commit that knows it removes nothing first.
 * Returns 0 or place's error. */
static int place_staged(output *o, slot **staged, gen_err *err)
{
	size_t n = 0;
	for (size_t p = 0; p < NSHARDS; p++) {
		strmap *m = &o->produced[p].map;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].key && m->slots[i].val)
				staged[n++] = &m->slots[i];
	}
	qsort(staged, n, sizeof *staged, by_key);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = place(o, staged[i], err);
	return rc;
}

/* The folders of the new site, o->dirs: every one above a file this
 * build produced. Parents go in with their children, so once one is
 * there, so are all above it. About as many as the old site had. */
static void build_dirs(output *o)
{
	map_reserve(&o->dirs, o->ndstat ? o->ndstat : o->old.n - o->old_files);
	for (size_t p = 0; p < NSHARDS; p++) {
		const strmap *m = &o->produced[p].map;
		for (size_t i = 0; i < m->cap; i++) {
			const slot *s = &m->slots[i];
			if (!s->key)
				continue;
			for (size_t l = s->len; l > 0; l--) {
				if (s->key[l - 1] != '/')
					continue;
				bool added;
				map_put(&o->dirs, s->key, l - 1, &added);
				if (!added)
					break;
			}
		}
	}
	o->dirs_pending = false;
}

/* Whether this build produced the first len bytes of key as a file. */
static bool produced_has(const output *o, const char *key, size_t len)
{
	uint64_t h = hash_bytes(key, len);
	return map_get_hashed(&o->produced[h >> (64 - SHARD_BITS)].map, key, len, h) != NULL;
}

/* Whether the folder at dir (a buffer with its path, as it was on
 * return) holds an entry neither old nor this build knows of. */
static bool holds_foreign(output *o, buf *dir)
{
	int fd = openat(o->dirfd, dir->ptr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return true; /* cannot tell */
	}
	size_t base = dir->len;
	bool foreign = false;
	struct dirent *e;
	while (!foreign && (e = readdir(d))) {
		if (is_dot_or_dotdot(e->d_name))
			continue;
		buf_truncate(dir, base);
		buf_putc(dir, '/');
		buf_puts(dir, e->d_name);
		foreign = !map_get(&o->old, dir->ptr, dir->len) && !produced_has(o, dir->ptr, dir->len);
	}
	buf_truncate(dir, base);
	closedir(d);
	return foreign;
}

/* update_commit for a trusting build whose paths are the last commit's
 * but for a few new (the shards' news) and a few gone (the files of old
 * it did not produce, unmarked in old_seen): gen serve's save, which
 * replaces a part of the print page by another. Only those are looked
 * at, not every path of the site twice over. A new path clashes only
 * with a folder above it that this build wrote as a file; a new file
 * where the site had a folder would need to know whether the new site
 * keeps that folder, so then this returns 1 and the whole way decides.
 * A gone file's folders go with it while they are left empty. staged
 * has room for every file produced. Returns 0, 1 or a negative code
 * with err set; nothing is touched before a clash is refused. */
static int few_commit(output *o, slot **staged, gen_err *err)
{
	int rc = 0;
	buf clash = BUF_INIT, path = BUF_INIT;
	for (size_t p = 0; p < NSHARDS; p++) {
		const shard *sh = &o->produced[p];
		for (size_t i = 0; i < sh->nnews; i++) {
			const char *key = sh->news[i];
			size_t len = strlen(key);
			const slot *was = map_get(&o->old, key, len);
			if (was && was->val != OLD_FILE) {
				rc = 1;
				goto out;
			}
			for (size_t l = len; l > 0; l--) {
				if (key[l - 1] != '/' || !produced_has(o, key, l - 1))
					continue;
				buf_clear(&path);
				buf_put(&path, key, l - 1);
				if (!clash.len || strcmp(path.ptr, clash.ptr) < 0) {
					buf_clear(&clash);
					buf_put(&clash, path.ptr, path.len);
				}
			}
		}
	}
	if (clash.len) {
		buf_clear(&path);
		buf_printf(&path, "%s/%s", o->dir, clash.ptr);
		rc = err_set(err, GEN_EIO, path.ptr, 0, 0,
			     "'%s' is written both as a file and as a directory", clash.ptr);
		goto out;
	}
	if ((rc = place_staged(o, staged, err)) < 0)
		goto out;
	for (size_t i = 0; i < o->old.cap; i++) {
		const slot *s = &o->old.slots[i];
		if (!s->key || s->val != OLD_FILE ||
		    atomic_load_explicit(&o->old_seen[i], memory_order_relaxed))
			continue;
		/* A file where the new site has a folder was replaced by
		 * place (EISDIR now). */
		if (unlinkat(o->dirfd, s->key, 0) < 0 && errno != ENOENT && errno != ENOTDIR &&
		    errno != EISDIR) {
			rc = io_err(err, o->dir, s->key, "cannot remove");
			goto out;
		}
		touch_parent(o, s->key, s->len);
		buf_clear(&path);
		buf_put(&path, s->key, s->len);
		for (size_t l = path.len; l > 0; l--) {
			if (path.ptr[l - 1] != '/')
				continue;
			buf_truncate(&path, l - 1);
			if (unlinkat(o->dirfd, path.ptr, AT_REMOVEDIR) == 0) {
				touch_parent(o, path.ptr, path.len);
				continue;
			}
			/* It holds something still: what the new site has
			 * there, or what no build of ours put there. */
			if (errno == ENOTEMPTY || errno == EEXIST)
				o->foreign = o->foreign || holds_foreign(o, &path);
			break;
		}
	}
	o->reshaped = true;
	o->dirs_pending = true;
	if (o->memory)
		o->memory->few = true;
out:
	buf_release(&clash);
	buf_release(&path);
	return rc;
}

static int update_commit(output *o, gen_err *err)
{
	int rc = 0;
	if (o->memory)
		o->memory->few = false;
	size_t nproduced = produced_count(o), as_before_n = 0;
	for (size_t p = 0; p < NSHARDS; p++)
		as_before_n += o->produced[p].as_before;
	slot **staged = xcalloc(nproduced + 1, sizeof *staged);
	slot **gone = xcalloc(o->old.n + 1, sizeof *gone);
	size_t nstaged = 0, ngone = 0;

	/* Every file this build produced is one the site had, and it had no
	 * other. A trusting begin that read no folder took the paths from
	 * the manifest or the memory, which hold the last commit's files
	 * and the folders above them, and nothing else: so the folders are
	 * the ones the site has, no path clashes and none is stale. Only
	 * the staged files are left to move in. */
	bool as_before = o->trusting && o->dirs_read == 0 && as_before_n == nproduced &&
			 nproduced == o->old_files;
	/* The same holds after output_begin, which looked at every folder:
	 * when every file produced is one it found, it found no others,
	 * and every folder it found has a file below it (so is one the new
	 * site needs) and nothing else is there. The manifest is then
	 * written from the lists the begin found (manifest_rewrite). */
	as_before = as_before || (!o->trusting && o->manifest && o->manifest_whole &&
				  as_before_n == nproduced && nproduced == o->old_files &&
				  o->old_others == 0 && o->empty_dirs == 0);
	if (as_before) {
		rc = place_staged(o, staged, err);
		goto out;
	}
	size_t nnews = 0;
	for (size_t p = 0; p < NSHARDS; p++)
		nnews = o->produced[p].nnews > FEW_CHANGES ? SIZE_MAX / 2 : nnews + o->produced[p].nnews;
	/* (old has files and the folders above them alone: no link and no
	 * empty folder, which only the whole way removes.) */
	if (o->trusting && o->dirs_read == 0 && o->old_seen && o->old_others == 0 &&
	    o->empty_dirs == 0 && nnews + (o->old_files - as_before_n) <= FEW_CHANGES) {
		rc = few_commit(o, staged, err);
		if (rc <= 0)
			goto out;
		rc = 0;
	}

	build_dirs(o);
	/* A path written both as a file and as a directory: putting either
	 * in place would delete the other. Refuse before touching dir, naming
	 * the first such path so the message does not depend on threads. */
	const char *clash = NULL;
	for (size_t p = 0; p < NSHARDS; p++) {
		strmap *m = &o->produced[p].map;
		for (size_t i = 0; i < m->cap; i++) {
			slot *s = &m->slots[i];
			if (s->key && map_get_slot(&o->dirs, s) && (!clash || strcmp(s->key, clash) < 0))
				clash = s->key;
			if (s->key && s->val)
				staged[nstaged++] = s;
		}
	}
	if (clash) {
		buf path = BUF_INIT;
		buf_printf(&path, "%s/%s", o->dir, clash);
		rc = err_set(err, GEN_EIO, path.ptr, 0, 0,
			     "'%s' is written both as a file and as a directory", clash);
		buf_release(&path);
		goto out;
	}

	qsort(staged, nstaged, sizeof *staged, by_key);
	for (size_t i = 0; i < nstaged; i++) {
		slot *was = map_get_slot(&o->old, staged[i]);
		if (!was || was->val != OLD_FILE)
			o->reshaped = true;
		if ((rc = place(o, staged[i], err)) < 0)
			goto out;
	}

	/* Stale entries: what the previous site had and this build did not
	 * produce, except what commit has already replaced (a file by a
	 * directory or the reverse). Errors that only mean "already gone"
	 * (under a directory replaced by a file) are fine. */
	for (size_t i = 0; i < o->old.cap; i++) {
		slot *s = &o->old.slots[i];
		if (!s->key || produced_get(o, s))
			continue;
		bool is_new_dir = map_get_slot(&o->dirs, s) != NULL;
		if (!is_new_dir || s->val != OLD_DIR)
			o->reshaped = true;
		if (!is_new_dir)
			touch_parent(o, s->key, s->len);
		if (s->val == OLD_DIR) {
			if (!is_new_dir)
				gone[ngone++] = s;
		} else if (!is_new_dir && unlinkat(o->dirfd, s->key, 0) < 0 && errno != ENOENT &&
			   errno != ENOTDIR) {
			rc = io_err(err, o->dir, s->key, "cannot remove");
			goto out;
		}
	}
	/* Deepest first: a path sorts after every directory above it. A
	 * directory that still holds something this build does not know of
	 * (put there during the build) stays. */
	qsort(gone, ngone, sizeof *gone, by_key_desc);
	for (size_t i = 0; i < ngone; i++) {
		if (unlinkat(o->dirfd, gone[i]->key, AT_REMOVEDIR) == 0 || errno == ENOENT ||
		    errno == ENOTDIR)
			continue;
		if (errno != ENOTEMPTY && errno != EEXIST) {
			rc = io_err(err, o->dir, gone[i]->key, "cannot remove");
			goto out;
		}
		o->foreign = true; /* it stays, with what this build did not write */
	}
out:
	free(staged);
	free(gone);
	return rc;
}

/* What is left of an UPDATE commit once its files are in place: the
 * manifest and the memory. */
static void commit_finish(output *o)
{
	if (o->dirs_pending)
		build_dirs(o);
	/* A commit that only replaced files leaves every folder with the
	 * entries the manifest lists. A process that trusts its output
	 * takes them as they are and does not need it written again (a
	 * third of a 10,000-article rebuild's commit); the folders' mtimes
	 * it gives are stale, which any other build sees and reads those
	 * folders again. Any other process writes it from the lists its
	 * begin found. */
	bool same_shape = o->trusting && o->manifest_whole && !o->reshaped;
	if (!same_shape && o->manifest && o->manifest_whole && !o->reshaped)
		manifest_rewrite(o);
	else if (!same_shape)
		manifest_write(o);
	if (!o->reshaped)
		remember(o);
	else
		remember_reshaped(o);
}

static void *finish_run(void *arg)
{
	output *o = arg;
	commit_finish(o);
	output_free(o);
	return NULL;
}

struct output_finish {
	pthread_t thread;
};

/* output_commit; with finish, the rest after the files are in place is
 * done on a thread that *finish is made for (NULL when none was). */
static int commit(output *o, output_finish **finish, gen_err *err)
{
	int rc = 0;
	queue_end(&o->files, false);
	if (o->dirfd >= 0) {
		rc = update_commit(o, err);
		/* A process with a memory goes on while the rest is done
		 * (gen serve's save that added a part of the print page: the
		 * manifest written from 50,000 paths). */
		output_memory *m = o->memory;
		if (rc == 0 && m && pthread_create(&m->finisher, NULL, finish_run, o) == 0) {
			m->finishing = true;
			return 0;
		}
		if (rc == 0 && finish) {
			output_finish *f = xmalloc(sizeof *f);
			if (pthread_create(&f->thread, NULL, finish_run, o) == 0) {
				*finish = f;
				return 0;
			}
			free(f);
		}
		if (rc == 0)
			commit_finish(o);
	} else {
		clock_gettime(CLOCK_REALTIME, &o->began);
		if (rename(o->tmp, o->dir) < 0) {
			rc = io_err(err, o->dir, NULL, "cannot move the new site in");
		} else {
			o->moved = true;
			/* In place of one for a site that was here before. */
			manifest_write(o);
		}
	}
	output_free(o);
	return rc;
}

int output_commit(output *o, gen_err *err)
{
	return commit(o, NULL, err);
}

int output_commit_early(output *o, output_finish **finish, gen_err *err)
{
	*finish = NULL;
	return commit(o, finish, err);
}

void output_finished(output_finish *finish)
{
	if (!finish)
		return;
	pthread_join(finish->thread, NULL);
	free(finish);
}

void output_abort(output *o)
{
	output_free(o);
}

size_t output_changed(const output *o)
{
	size_t n = o->changed;
	for (size_t i = 0; i < NSHARDS; i++)
		n += o->produced[i].changed;
	return n - o->mark_changed;
}

size_t output_unchanged(const output *o)
{
	size_t n = o->unchanged;
	for (size_t i = 0; i < NSHARDS; i++)
		n += o->produced[i].unchanged;
	return n - o->mark_unchanged;
}
