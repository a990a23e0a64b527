/* cache: the build cache (see cache.h).
 *
 * File layout, all numbers as buf_put_varint writes them:
 *   "gen cache\n", the format number, the stamp (8 bytes)
 *   records: payload length, checksum (8 bytes), payload
 * and a payload is the key (a blob) and the value (the rest). An
 * article's key is its path and content id; its value the diagnostics it
 * gave, then document_freeze_split's bytes; its Markdown's replay is a
 * record of its own (replay_key). The file is mapped, not read: a
 * record is only touched by the worker that asks for it, and its checksum
 * is checked there. Opening the cache takes where the records are from
 * the contents, a record each save ends the file with (see "the
 * contents" below), and walks their headers only when it has none. */
#define _GNU_SOURCE /* copy_file_range; MAP_PRIVATE and friends under strict C11 */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "xalloc.h"

#define MAGIC "gen cache\n"
#define FORMAT 2
/* The key of the contents (see "the contents" below). */
#define CONTENTS_KEY "\0gen contents"
#define CONTENTS_KEY_LEN 13
/* A contents of the records appended since the one before it (see "the
 * contents"), at most CONTENTS_CHAIN of them after a whole one. */
#define CONTENTS_MORE_KEY "\0gen contents+"
#define CONTENTS_MORE_KEY_LEN 14
#define CONTENTS_CHAIN 8

/* A record in the map: its payload is the key's length and bytes, then
 * the value; before it, its length and checksum (rec_frame). Only what
 * cannot be worked out from those is kept, in 32 bytes: a one-shot
 * build lists sixty thousand records, and every lookup reads one. */
typedef struct record {
	const unsigned char *payload; /* in the map */
	uint64_t hash;           /* key_hash of the key: looked up without
				    touching the map where it can be */
	size_t len;              /* of the payload */
	uint32_t key_len;
	bool used;               /* read by this build (set by one worker) */
	bool checked;            /* its sum was found right: a resident
				    process's next build, which maps the
				    same bytes again, need not check it */
} record;

typedef struct home {
	unsigned char *p;
	size_t len;
	dev_t dev;               /* the file mapped (cache_intact) */
	ino_t ino;
} home;

typedef struct kept {
	char *key;
	size_t key_len;
	unsigned char *bytes;    /* the whole record, header included, */
	size_t len;              /* allocated to its size: many are kept */
	size_t at;               /* where cache_save wrote it in the file */
} kept;

struct cache_file {
	char *dir;               /* NULL: off */
	char *name;              /* file name in dir: "documents.pack" */
	uint64_t stamp;
	unsigned char *map;
	size_t map_len;
	dev_t map_dev;           /* the file map is of (cache_intact) */
	ino_t map_ino;
	record *recs;
	size_t nrecs, cap_recs;
	uint64_t *slots;         /* open addressing, 0 = empty: slot_of */
	size_t cap_slots;
	atomic_bool damaged;     /* a record did not check out: rewrite all */
	bool late;               /* cache_check_late: articles' replays are
				    checked when read */
	atomic_bool late_damage; /* and one of them did not check out */
	bool told;               /* the user has heard of it */
	bool keep_unused;        /* cache_keep_unused */
	bool usable;             /* the file has our stamp and reads whole */
	atomic_size_t hits;
	pthread_mutex_t lock;    /* guards kept and held */
	kept *kept;
	size_t nkept, cap_kept;
	bool holding;            /* cache_hold_puts: puts go to held */
	kept *held;
	size_t nheld, cap_held;
	bool saved;              /* cache_save wrote every kept record */
	struct home *homes;      /* cache_rehome: the file as each save left */
	size_t nhomes;           /* it, mapped; the last is the current one */
	bool appending;          /* its records went: later saves append */
	/* The file as this cache last saw it (opened or appended to), for
	 * cache_open_after; known is false when its records are not all in
	 * recs at the offsets the file has. */
	struct {
		bool known;
		dev_t dev;
		ino_t ino;
		off_t size;
		struct timespec mtime;
	} file;
	bool reused;             /* cache_open_after took prev's records */
	bool listed;             /* load found them in the contents */
	size_t contents_at;      /* listed: where that contents starts, */
	unsigned contents_depth; /* and how many came after a whole one */
	struct kept_addr *by_addr; /* kept records in the order of their bytes */
	/* A file this cache wrote anew (rewrite) and then appended to (a
	 * cold build's rounds): every record in it, in file order, and
	 * where it ended after the last contents, so that each append ends
	 * with a contents of them all (see write_round_contents). */
	struct listed *written;
	size_t nwritten;
	size_t written_end;      /* 0: not known, no contents appended */
};

/* The whole file at path mapped read-only, its stat in *st; MAP_FAILED
 * when it cannot be opened or mapped, or is empty. */
static void *map_whole(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *m = MAP_FAILED;
	if (fd >= 0 && fstat(fd, st) == 0 && st->st_size > 0)
		m = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	return m;
}

uint64_t cache_program_stamp(void)
{
	uint64_t h = buf_hash64(GEN_VERSION, strlen(GEN_VERSION), FORMAT);
	/* Hashed where the kernel has it mapped: a copy of the 2 MB
	 * would cost every gen process its pages. */
	struct stat st;
	void *m = map_whole("/proc/self/exe", &st);
	if (m != MAP_FAILED) {
		h = buf_hash64(m, (size_t)st.st_size, h);
		munmap(m, (size_t)st.st_size);
		return h;
	}
	buf exe = BUF_INIT;
	if (buf_read_file(&exe, "/proc/self/exe") == 0)
		h = buf_hash64(exe.ptr, exe.len, h);
	buf_release(&exe);
	return h;
}

static uint64_t key_hash(const char *path, size_t len)
{
	return buf_hash64(path, len, 0x6b6579);
}

static size_t varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* A record's key (not NUL-terminated), value and whole frame in the map:
 * varints are written at their shortest, and a file whose records say
 * otherwise is not used (load_records, load_contents). */
static const char *rec_key(const record *r)
{
	return (const char *)r->payload + varint_size(r->key_len);
}

static const unsigned char *rec_value(const record *r)
{
	return (const unsigned char *)rec_key(r) + r->key_len;
}

static size_t rec_value_len(const record *r)
{
	return r->len - varint_size(r->key_len) - r->key_len;
}

static size_t rec_size(const record *r)
{
	return varint_size(r->len) + 8 + r->len;
}

static const unsigned char *rec_frame(const record *r)
{
	return r->payload - 8 - varint_size(r->len);
}

/* A slot of the lookup table: record k (index + 1 in the low half) and
 * the top of its key's hash, so that a probe past another key's slot
 * need not read that record. */
static uint64_t slot_of(size_t k, uint64_t hash)
{
	return (hash & 0xffffffff00000000u) | (uint64_t)(k + 1);
}

static size_t slot_record(uint64_t slot)
{
	return (size_t)(slot & 0xffffffffu) - 1;
}

/* The record of key. With bytes false the key's bytes are not compared,
 * only its hash and length: each record's key lives in the map, and a
 * page of the map let go of since (markdown_drops) faults back in when
 * touched, a microsecond per record in a build that keeps ten thousand.
 * Only for a caller that reads nothing through the record. */
static record *find_record(const cache_file *c, const char *key, size_t len, bool bytes)
{
	if (!c->cap_slots)
		return NULL;
	size_t mask = c->cap_slots - 1;
	uint64_t h = key_hash(key, len);
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		uint64_t slot = c->slots[i];
		if (!slot)
			return NULL;
		if ((slot ^ h) >> 32)
			continue;
		record *r = &c->recs[slot_record(slot)];
		if (r->hash == h && r->key_len == len && (!bytes || memcmp(rec_key(r), key, len) == 0))
			return r;
	}
}

static record *find(const cache_file *c, const char *key, size_t len)
{
	return find_record(c, key, len, true);
}

/* Indexes the records; a later record of a key replaces the earlier. */
static void index_records(cache_file *c)
{
	c->cap_slots = 16;
	while (c->cap_slots < 2 * c->nrecs)
		c->cap_slots *= 2;
	c->slots = xcalloc(c->cap_slots, sizeof *c->slots);
	size_t mask = c->cap_slots - 1;
	for (size_t k = 0; k < c->nrecs; k++) {
		record *r = &c->recs[k];
		for (size_t i = r->hash & mask;; i = (i + 1) & mask) {
			record *o = c->slots[i] ? &c->recs[slot_record(c->slots[i])] : NULL;
			if (!o || (o->hash == r->hash && o->key_len == r->key_len &&
				   memcmp(rec_key(o), rec_key(r), r->key_len) == 0)) {
				c->slots[i] = slot_of(k, r->hash);
				break;
			}
		}
	}
}

static void drop_map(cache_file *c)
{
	if (c->map)
		munmap(c->map, c->map_len);
	c->map = NULL;
	c->map_len = 0;
	free(c->recs);
	free(c->slots);
	c->recs = NULL;
	c->slots = NULL;
	c->nrecs = c->cap_recs = c->cap_slots = 0;
	c->file.known = false;
}

/* Whether a record's key is a contents' (see "the contents"). */
static bool is_contents(const char *key, size_t klen)
{
	return (klen == CONTENTS_KEY_LEN && memcmp(key, CONTENTS_KEY, klen) == 0) ||
	       (klen == CONTENTS_MORE_KEY_LEN && memcmp(key, CONTENTS_MORE_KEY, klen) == 0);
}

/* Adds the frame of every record from r on to c->recs; false when one
 * is cut short. */
static bool load_records(cache_file *c, buf_reader *r)
{
	while (r->p < r->end) {
		const unsigned char *start = r->p;
		uint64_t len = buf_get_varint(r);
		if (r->bad || r->end - r->p < 8 || len > (uint64_t)(r->end - r->p - 8))
			return false;
		record rec = { 0 };
		r->p += 8; /* the checksum, read by cache_get */
		rec.payload = r->p;
		rec.len = (size_t)len;
		r->p += len;
		buf_reader pr;
		buf_reader_init(&pr, rec.payload, rec.len);
		size_t klen;
		const char *key = buf_get_blob(&pr, &klen);
		/* Varints at their shortest, as rec_key and rec_frame read them. */
		if (pr.bad || klen > UINT32_MAX || rec_frame(&rec) != start ||
		    (const unsigned char *)key != rec.payload + varint_size(klen))
			return false;
		rec.key_len = (uint32_t)klen;
		/* An earlier save's contents: no lookup asks for it. */
		if (is_contents(key, klen))
			continue;
		rec.hash = key_hash(key, klen);
		if (c->nrecs >= UINT32_MAX - 1)
			return false; /* more than slot_of numbers */
		if (c->nrecs == c->cap_recs) {
			c->cap_recs = c->cap_recs ? 2 * c->cap_recs : 1024;
			c->recs = xrealloc(c->recs, c->cap_recs * sizeof *c->recs);
		}
		c->recs[c->nrecs++] = rec;
	}
	return true;
}

/* ---- the contents ----
 *
 * Walking the records' headers touches a page of the file for each, on
 * the thread that opens the cache, before any article can be read: 20
 * ms at 10,000 articles. So a save ends the file with one more record,
 * the contents, whose key no other record has (it starts with a NUL)
 * and whose value lists every record a lookup may find, as it stands in
 * the file: where its frame starts (after the end of the one listed
 * before), its payload's length, its key's length and the key's hash;
 * then, as the last 8 bytes of the record and so of the file, where its
 * own frame starts. Opening reads that first and walks the headers only
 * when the file does not end with a whole contents (an older file, a
 * cache of gen serve, which does not write one: it opens its caches
 * after the last build's, without a walk). Like any record, the
 * contents is checked against its checksum; in the middle of the file,
 * after a later save appended, it is one record more that no lookup
 * asks for, and the next rewrite leaves it out.
 *
 * A save that appends to a file opened from its contents lists only the
 * records it appended, in a contents of another key that also says
 * where the one before it starts (the records it lists come after that
 * one's end) and how many such came after a whole one: a rebuild after
 * an edit appends a few records to files of sixty thousand. Opening
 * reads the chain down to the whole one, each link checked; the records
 * of later links come later in c->recs and win over earlier ones of the
 * same key, as in a walk. After CONTENTS_CHAIN links a save writes a
 * whole one again. */

/* One record the contents lists. */
typedef struct listed {
	size_t start, len, key_len;
	uint64_t hash;
} listed;

static void forget_written(cache_file *c)
{
	free(c->written);
	c->written = NULL;
	c->nwritten = 0;
	c->written_end = 0;
}

/* Appends to out the contents of the n records of list (by their
 * starts, ascending), as a record that starts at offset at: a whole one,
 * or with more (not NULL) one of the records after the contents at
 * more->base, which ends at more->end, the depth-th after a whole one. */
typedef struct contents_more {
	size_t base, end;
	unsigned depth;
} contents_more;

static void put_contents(const cache_file *c, const listed *list, size_t n, size_t at,
			 const contents_more *more, buf *out)
{
	buf p = BUF_INIT;
	size_t end = 0;
	if (more) {
		buf_put_blob(&p, CONTENTS_MORE_KEY, CONTENTS_MORE_KEY_LEN);
		buf_put_varint(&p, more->base);
		buf_put_varint(&p, more->depth);
		end = more->end;
	} else {
		buf_put_blob(&p, CONTENTS_KEY, CONTENTS_KEY_LEN);
	}
	buf_put_varint(&p, n);
	for (size_t i = 0; i < n; i++) {
		buf_put_varint(&p, list[i].start - end);
		buf_put_varint(&p, list[i].len);
		buf_put_varint(&p, list[i].key_len);
		buf_put(&p, &list[i].hash, 8);
		end = list[i].start + varint_size(list[i].len) + 8 + list[i].len;
	}
	uint64_t self = at;
	buf_put(&p, &self, 8);
	uint64_t sum = buf_hash64(p.ptr, p.len, c->stamp);
	buf_put_varint(out, p.len);
	buf_put(out, &sum, 8);
	buf_put(out, p.ptr, p.len);
	buf_release(&p);
}

/* Adds to c->recs the records listed by the contents whose frame starts
 * at at, the records starting at first (after the header): for one of
 * more, those of the contents before it first, down to a whole one at
 * most left more back. *frame_end: where its frame ends; *depth: how
 * many came after a whole one. False when one is not whole or lists what
 * cannot be. */
static bool load_contents_at(cache_file *c, size_t first, uint64_t at, unsigned left,
			     size_t *frame_end, unsigned *depth)
{
	if (at < first || at >= c->map_len - 8)
		return false;
	buf_reader r;
	buf_reader_init(&r, c->map + at, c->map_len - (size_t)at);
	uint64_t len = buf_get_varint(&r);
	if (r.bad || (uint64_t)(r.end - r.p) < len + 8 || len < 8)
		return false;
	r.end = r.p + 8 + len;
	*frame_end = (size_t)(r.end - (const unsigned char *)c->map);
	uint64_t sum, self;
	memcpy(&sum, r.p, 8);
	r.p += 8;
	if (buf_hash64(r.p, (size_t)len, c->stamp) != sum)
		return false;
	memcpy(&self, r.end - 8, 8);
	if (self != at)
		return false;
	r.end -= 8; /* its own start, read above */
	size_t kl;
	const char *key = buf_get_blob(&r, &kl);
	size_t end = 0;
	*depth = 0;
	if (r.bad || !key) {
		return false;
	} else if (kl == CONTENTS_MORE_KEY_LEN && memcmp(key, CONTENTS_MORE_KEY, kl) == 0) {
		uint64_t base = buf_get_varint(&r), said = buf_get_varint(&r);
		unsigned below;
		if (r.bad || !left || base >= at ||
		    !load_contents_at(c, first, base, left - 1, &end, &below) || said != below + 1 ||
		    end > at)
			return false;
		*depth = below + 1;
	} else if (kl != CONTENTS_KEY_LEN || memcmp(key, CONTENTS_KEY, kl) != 0) {
		return false;
	}
	uint64_t n = buf_get_varint(&r);
	if (r.bad || n > (uint64_t)(r.end - r.p) || n >= UINT32_MAX - c->nrecs)
		return false;
	if (c->nrecs + n > c->cap_recs) {
		c->cap_recs = c->nrecs + (size_t)n + 1024;
		c->recs = xrealloc(c->recs, c->cap_recs * sizeof *c->recs);
	}
	for (uint64_t i = 0; i < n && !r.bad; i++) {
		uint64_t gap = buf_get_varint(&r), plen = buf_get_varint(&r),
			 klen = buf_get_varint(&r);
		uint64_t hash = 0;
		if (r.end - r.p < 8)
			r.bad = true;
		else
			memcpy(&hash, r.p, 8);
		r.p += r.bad ? 0 : 8;
		size_t head = varint_size(plen) + 8;
		/* Inside the records before the contents, the key inside its
		 * payload: a list that says otherwise is not used. */
		if (r.bad || gap > at - end || head > at - end - gap ||
		    plen > at - end - gap - head || end + gap < first ||
		    varint_size(klen) + klen > plen || klen > UINT32_MAX) {
			r.bad = true;
			break;
		}
		record rec = { 0 };
		size_t start = end + (size_t)gap;
		rec.payload = c->map + start + head;
		rec.len = (size_t)plen;
		rec.key_len = (uint32_t)klen;
		rec.hash = hash;
		c->recs[c->nrecs++] = rec;
		end = start + rec_size(&rec);
	}
	return !r.bad && r.p == r.end;
}

/* Fills c->recs from the contents the file ends with (and those it
 * follows); false when it ends with none. */
static bool load_contents(cache_file *c, size_t first)
{
	uint64_t at;
	size_t frame_end;
	unsigned depth;
	if (c->map_len < first + 8)
		return false;
	memcpy(&at, c->map + c->map_len - 8, 8);
	if (!load_contents_at(c, first, at, CONTENTS_CHAIN, &frame_end, &depth) ||
	    frame_end != c->map_len) {
		free(c->recs);
		c->recs = NULL;
		c->nrecs = c->cap_recs = 0;
		return false;
	}
	c->contents_at = (size_t)at;
	c->contents_depth = depth;
	return true;
}

static int listed_cmp(const void *a, const void *b)
{
	size_t x = ((const listed *)a)->start, y = ((const listed *)b)->start;
	return (x > y) - (x < y);
}

/* Adds the kept records, as cache_save wrote them (write_kept), to list
 * (room for them there), and returns the new count. */
static size_t list_kept(const cache_file *c, listed *list, size_t n)
{
	for (size_t i = 0; i < c->nkept; i++) {
		const kept *k = &c->kept[i];
		buf_reader rd;
		buf_reader_init(&rd, k->bytes, k->len);
		uint64_t plen = buf_get_varint(&rd);
		list[n++] = (listed){ k->at, (size_t)plen, k->key_len, key_hash(k->key, k->key_len) };
	}
	return n;
}


/* Writes the contents of the n records of list (sorted here, when they
 * do not come in file order) at offset at of fd, the file's end: a whole
 * one, or with more one of those after the contents before; *size (may
 * be NULL): the bytes that took. */
static int write_contents(const cache_file *c, listed *list, size_t n, size_t at,
			  const contents_more *more, int fd, size_t *size)
{
	bool sorted = true;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = list[i - 1].start < list[i].start;
	if (!sorted)
		qsort(list, n, sizeof *list, listed_cmp);
	buf b = BUF_INIT;
	put_contents(c, list, n, at, more, &b);
	int rc = buf_write_all(fd, b.ptr, b.len);
	if (size)
		*size = b.len;
	buf_release(&b);
	return rc;
}

/* Reads the header and every record's frame. Returns false when the
 * file is not whole (cut short, overwritten): then nothing is trusted. */
static bool load(cache_file *c)
{
	buf_reader rd, *r = &rd;
	buf_reader_init(r, c->map, c->map_len);
	size_t ml = strlen(MAGIC);
	if (c->map_len < ml + 9 || memcmp(c->map, MAGIC, ml) != 0)
		return false;
	r->p += ml;
	if (buf_get_varint(r) != FORMAT || r->end - r->p < 8)
		return false;
	uint64_t stamp;
	memcpy(&stamp, r->p, 8);
	r->p += 8;
	if (stamp != c->stamp)
		return true; /* whole, but of another build: not used, rewritten */
	c->listed = load_contents(c, (size_t)(r->p - c->map));
	if (!c->listed && !load_records(c, r))
		return false;
	index_records(c);
	c->usable = true;
	return true;
}



static void tell_damaged(cache_file *c, const char *path, diag_list *diags)
{
	if (diags && !c->told)
		diag_add(diags, DIAG_NOTICE, path, 0, 0,
			 "the build cache was damaged; what it held was made again "
			 "and the cache rewritten");
	c->told = true;
}

/* Notes the file as c sees it now: every record in it is in c->recs. */
static void note_file(cache_file *c, const struct stat *st)
{
	c->file.known = true;
	c->file.dev = st->st_dev;
	c->file.ino = st->st_ino;
	c->file.size = st->st_size;
	c->file.mtime = st->st_mtim;
}

static bool same_file(const cache_file *c, const struct stat *st)
{
	return c->file.known && c->file.dev == st->st_dev && c->file.ino == st->st_ino &&
	       c->file.size == st->st_size && c->file.mtime.tv_sec == st->st_mtim.tv_sec &&
	       c->file.mtime.tv_nsec == st->st_mtim.tv_nsec;
}

cache_file *cache_open(const char *dir, const char *name, uint64_t stamp,
		  diag_list *diags)
{
	cache_file *c = xcalloc(1, sizeof *c);
	c->stamp = stamp;
	atomic_init(&c->damaged, false);
	atomic_init(&c->hits, 0);
	pthread_mutex_init(&c->lock, NULL);
	if (!dir)
		return c;
	c->dir = xstrdup(dir);
	c->name = xstrdup(name);
	buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", dir, name);
	int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			c->map = m;
			c->map_len = (size_t)st.st_size;
			c->map_dev = st.st_dev;
			c->map_ino = st.st_ino;
		}
	}
	if (fd >= 0)
		close(fd);
	if (c->map && !load(c)) {
		drop_map(c);
		atomic_store(&c->damaged, true);
		tell_damaged(c, path.ptr, diags);
	}
	if (c->usable)
		note_file(c, &st);
	buf_release(&path);
	return c;
}

cache_file *cache_open_after(const cache_file *prev, const char *dir, const char *name,
			    uint64_t stamp, diag_list *diags)
{
	if (!prev || !dir || !prev->usable || !prev->file.known || atomic_load(&prev->damaged) ||
	    prev->stamp != stamp || !prev->dir || strcmp(prev->dir, dir) != 0 ||
	    strcmp(prev->name, name) != 0)
		return cache_open(dir, name, stamp, diags);
	buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", dir, name);
	int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
	buf_release(&path);
	struct stat st;
	void *m = MAP_FAILED;
	if (fd >= 0 && fstat(fd, &st) == 0 && same_file(prev, &st) &&
	    (size_t)st.st_size >= prev->map_len)
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (m == MAP_FAILED)
		return cache_open(dir, name, stamp, diags);
	cache_file *c = xcalloc(1, sizeof *c);
	c->stamp = stamp;
	atomic_init(&c->damaged, false);
	atomic_init(&c->hits, 0);
	pthread_mutex_init(&c->lock, NULL);
	c->dir = xstrdup(dir);
	c->name = xstrdup(name);
	c->map = m;
	c->map_len = (size_t)st.st_size;
	c->map_dev = st.st_dev;
	c->map_ino = st.st_ino;
	/* prev's records, at the same offsets in the new mapping. */
	c->cap_recs = prev->nrecs + 1024;
	c->recs = xmalloc(c->cap_recs * sizeof *c->recs);
	c->nrecs = prev->nrecs;
	for (size_t i = 0; i < prev->nrecs; i++) {
		record r = prev->recs[i];
		r.payload = c->map + (r.payload - prev->map);
		r.used = false;
		c->recs[i] = r;
	}
	c->cap_slots = prev->cap_slots;
	c->slots = xmalloc(c->cap_slots * sizeof *c->slots);
	memcpy(c->slots, prev->slots, c->cap_slots * sizeof *c->slots);
	/* Then those appended after them. */
	size_t before = c->nrecs;
	buf_reader r;
	buf_reader_init(&r, c->map + prev->map_len, c->map_len - prev->map_len);
	if (!load_records(c, &r)) {
		cache_close(c);
		return cache_open(dir, name, stamp, diags);
	}
	if (2 * c->nrecs > c->cap_slots) {
		free(c->slots);
		index_records(c);
	} else {
		size_t mask = c->cap_slots - 1;
		for (size_t k = before; k < c->nrecs; k++) {
			record *nr = &c->recs[k];
			for (size_t i = nr->hash & mask;; i = (i + 1) & mask) {
				record *o = c->slots[i] ? &c->recs[slot_record(c->slots[i])] : NULL;
				if (!o || (o->hash == nr->hash && o->key_len == nr->key_len &&
					   memcmp(rec_key(o), rec_key(nr), nr->key_len) == 0)) {
					c->slots[i] = slot_of(k, nr->hash);
					break;
				}
			}
		}
	}
	c->usable = true;
	c->reused = true;
	note_file(c, &st);
	return c;
}

bool cache_reused(const cache_file *c)
{
	return c && c->reused;
}

unsigned cache_contents_chain(const cache_file *c)
{
	return c && c->listed ? c->contents_depth : 0;
}

bool cache_listed(const cache_file *c)
{
	return c && c->listed;
}

void cache_close(cache_file *c)
{
	if (!c)
		return;
	drop_map(c);
	for (size_t i = 0; i < c->nkept; i++) {
		free(c->kept[i].key);
		free(c->kept[i].bytes);
	}
	free(c->kept);
	for (size_t i = 0; i < c->nheld; i++) {
		free(c->held[i].key);
		free(c->held[i].bytes);
	}
	free(c->held);
	for (size_t i = 0; i < c->nhomes; i++)
		munmap(c->homes[i].p, c->homes[i].len);
	free(c->homes);
	free(c->by_addr);
	forget_written(c);
	pthread_mutex_destroy(&c->lock);
	free(c->dir);
	free(c->name);
	free(c);
}

const char *cache_get(cache_file *c, const char *key, size_t klen, size_t *len)
{
	*len = 0;
	if (!c || !c->usable)
		return NULL;
	record *rec = find(c, key, klen);
	if (!rec)
		return NULL;
	uint64_t sum;
	if (!rec->checked)
		memcpy(&sum, rec->payload - 8, 8);
	if (!rec->checked && buf_hash64(rec->payload, rec->len, c->stamp) != sum) {
		atomic_store(&c->damaged, true);
		return NULL;
	}
	rec->checked = true;
	rec->used = true;
	atomic_fetch_add(&c->hits, 1);
	*len = rec_value_len(rec);
	return (const char *)rec_value(rec);
}

void cache_reject(cache_file *c, const char *key, size_t klen)
{
	record *rec = c ? find(c, key, klen) : NULL;
	if (rec) {
		rec->used = false;
		atomic_fetch_sub(&c->hits, 1);
		atomic_store(&c->damaged, true);
	}
}

const char *cache_put(cache_file *c, const char *key, size_t klen, const void *data,
		      size_t len)
{
	if (!c || !c->dir)
		return NULL;
	/* Framed in one block of its exact size, checksummed in place. */
	buf kb = BUF_INIT, frame = BUF_INIT;
	buf_put_blob(&kb, key, klen);
	size_t plen = kb.len + len;
	buf_put_varint(&frame, plen);
	kept k = { xstrndup(key, klen), klen, NULL, frame.len + 8 + plen, 0 };
	k.bytes = xmalloc(k.len);
	unsigned char *payload = k.bytes + frame.len + 8;
	memcpy(k.bytes, frame.ptr, frame.len);
	memcpy(payload, kb.ptr, kb.len);
	if (len)
		memcpy(payload + kb.len, data, len);
	uint64_t sum = buf_hash64(payload, plen, c->stamp);
	memcpy(k.bytes + frame.len, &sum, 8);
	buf_release(&kb);
	buf_release(&frame);
	pthread_mutex_lock(&c->lock);
	kept **list = c->holding ? &c->held : &c->kept;
	size_t *n = c->holding ? &c->nheld : &c->nkept;
	size_t *cap = c->holding ? &c->cap_held : &c->cap_kept;
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*list = xrealloc(*list, *cap * sizeof **list);
	}
	(*list)[(*n)++] = k;
	pthread_mutex_unlock(&c->lock);
	return (const char *)payload + (plen - len);
}

/* ---- articles ----
 *
 * An article's value is the diagnostics it gave and document_freeze_split's
 * bytes, after a checksum of its own over the diagnostics and the
 * article's head (all but its evidence and its Markdown's tail, which
 * come after it, each with a checksum of its own in the head). Its
 * Markdown's replay (its HTML and text walk, and its anchors again) is
 * the value of a record of its own, whose checksum the article's bytes
 * hold (see markdown_thaw_checked). A build that checks records checks
 * each record's; but a one-shot rebuild thaws ten thousand articles and
 * renders a handful, and the replays are three quarters of the bytes,
 * the evidence and tails seven tenths of the rest: after
 * cache_check_late it checks each article's head and finds its replay
 * without reading it, and the replay, the evidence and the tail are
 * each checked when first read. One that does not check out then sets
 * late_damage, and the build, which has read nothing from it, starts
 * again with every record checked (build.c). */

/* An article's key: its path, a NUL, its content id. */
static void document_key(buf *key, const char *path, const char *id)
{
	buf_puts(key, path);
	buf_putc(key, '\0');
	buf_puts(key, id);
}

/* The key of an article's replay, a record of its own: the article's key
 * after a byte no path starts with (UTF-8 has no 0xff), which sorts
 * after every path. cache_save writes the records it keeps in the order
 * of their keys, so the articles' records lie together, the replays
 * after them: a one-shot rebuild, which reads every article but renders
 * few, touches the pages of the first run alone. With the replay inside
 * each record, every page of the file was touched (the kernel maps
 * sixteen pages around each one read): 142 MB of 150 at 10,000
 * articles, 43 MB now, and the process's end, which takes them down
 * again, took 17-19 ms instead of 12-14. */
static void replay_key(buf *key, const char *path, const char *id)
{
	buf_putc(key, (char)0xff);
	document_key(key, path, id);
}

/* The replay record of an article whose record was found: kept for the
 * next build, and checked as c checks records (after cache_check_late
 * not at all: the article's record holds the replay's own checksum,
 * which is checked when the replay is read). NULL when it is not there
 * or does not check out. */
static const char *get_replay(cache_file *c, const source_file *f, size_t *len)
{
	*len = 0;
	buf key = BUF_INIT;
	replay_key(&key, f->path, f->id);
	record *rec = find_record(c, key.ptr, key.len, !c->late);
	buf_release(&key);
	if (!rec)
		return NULL;
	if (!c->late && !rec->checked) {
		uint64_t sum;
		memcpy(&sum, rec->payload - 8, 8);
		if (buf_hash64(rec->payload, rec->len, c->stamp) != sum) {
			atomic_store(&c->damaged, true);
			return NULL;
		}
		rec->checked = true;
	}
	rec->used = true;
	*len = rec_value_len(rec);
	return (const char *)rec_value(rec);
}

/* The diagnostics of a record, into a list of their own, so a damaged
 * record adds nothing to the build's. */
static bool read_diags(buf_reader *r, diag_list *out)
{
	uint64_t n = buf_get_varint(r);
	for (uint64_t i = 0; i < n && !r->bad; i++) {
		uint64_t sev = buf_get_varint(r);
		char *file = buf_get_cstr(r);
		int line = (int)buf_get_svarint(r);
		int col = (int)buf_get_svarint(r);
		char *msg = buf_get_cstr(r);
		if (!r->bad && msg && sev <= DIAG_NOTICE)
			diag_add(out, (diag_severity)sev, file, line, col, "%s", msg);
		else
			r->bad = true;
		free(file);
		free(msg);
	}
	return !r->bad;
}

void cache_check_late(cache_file *c)
{
	if (c)
		c->late = true;
}

bool cache_damaged_late(const cache_file *c)
{
	return c && atomic_load(&c->late_damage);
}

/* The value of an article's record, checked as c checks it: the whole
 * record, or, after cache_check_late, the article's bytes by their own
 * checksum. NULL when there is none, or it does not check out (then the
 * cache is damaged). */
static const char *get_article(cache_file *c, const char *key, size_t klen, size_t *len)
{
	if (!c->late)
		return cache_get(c, key, klen, len);
	*len = 0;
	record *rec = find(c, key, klen);
	if (!rec)
		return NULL;
	buf_reader r;
	buf_reader_init(&r, rec_value(rec), rec_value_len(rec));
	uint64_t covered = buf_get_varint(&r), sum;
	if (r.bad || (uint64_t)(r.end - r.p) < sizeof sum ||
	    covered > (uint64_t)(r.end - r.p) - sizeof sum) {
		atomic_store(&c->damaged, true);
		return NULL;
	}
	memcpy(&sum, r.p, sizeof sum);
	if (buf_hash64(r.p + sizeof sum, (size_t)covered, c->stamp) != sum) {
		atomic_store(&c->damaged, true);
		return NULL;
	}
	rec->used = true;
	atomic_fetch_add(&c->hits, 1);
	*len = rec_value_len(rec);
	return (const char *)rec_value(rec);
}

bool cache_get_document(cache_file *c, const source_file *f, const config *cfg,
			document *d, diag_list *diags)
{
	if (!c || !c->usable)
		return false;
	buf key = BUF_INIT;
	document_key(&key, f->path, f->id);
	size_t len, replay_len = 0;
	const char *data = get_article(c, key.ptr, key.len, &len);
	const char *replay = data ? get_replay(c, f, &replay_len) : NULL;
	bool hit = false;
	if (data && !replay) {
		/* An article without its replay is not to be had. */
		cache_reject(c, key.ptr, key.len);
	} else if (data) {
		buf_reader rd;
		buf_reader_init(&rd, data, len);
		diag_list mine = DIAG_LIST_INIT;
		/* Past the article's checksum: get_article checked it, or the
		 * record's. */
		buf_get_varint(&rd);
		rd.p = rd.end - rd.p < 8 ? rd.end : rd.p + 8;
		if (read_diags(&rd, &mine) &&
		    document_thaw_split(d, f, cfg, (const char *)rd.p, (size_t)(rd.end - rd.p),
					replay, replay_len, MARKDOWN_BORROW_ALL,
					c->late ? &c->late_damage : NULL) == 0) {
			if (diags)
				diag_merge(diags, &mine);
			hit = true;
		} else {
			cache_reject(c, key.ptr, key.len);
		}
		diag_release(&mine);
	}
	buf_release(&key);
	return hit;
}

/* Whether a mapping of len bytes of the file dev, ino is whole, the file
 * at the cache's path being st: another file there (the old one renamed
 * over, or deleted) leaves the mapping's pages as they were. */
static bool mapping_whole(const struct stat *st, dev_t dev, ino_t ino, size_t len)
{
	return st->st_dev != dev || st->st_ino != ino || (size_t)st->st_size >= len;
}

bool cache_intact(const cache_file *c)
{
	if (!c || !c->dir || (!c->map && !c->nhomes))
		return true;
	buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", c->dir, c->name);
	struct stat st;
	bool there = stat(path.ptr, &st) == 0;
	buf_release(&path);
	if (!there)
		return true;
	bool whole = !c->map || mapping_whole(&st, c->map_dev, c->map_ino, c->map_len);
	for (size_t i = 0; i < c->nhomes && whole; i++)
		whole = mapping_whole(&st, c->homes[i].dev, c->homes[i].ino, c->homes[i].len);
	return whole;
}

bool cache_keep(cache_file *c, const char *key, size_t klen)
{
	/* By hash and length: another key of the same 64-bit hash would only
	 * keep its record in the file and let this one's go (the next build
	 * then makes it again); nothing is read through it. */
	record *rec = c && c->usable ? find_record(c, key, klen, false) : NULL;
	if (!rec)
		return false;
	rec->used = true;
	atomic_fetch_add(&c->hits, 1);
	return true;
}

bool cache_keep_document(cache_file *c, const source_file *f)
{
	buf key = BUF_INIT;
	document_key(&key, f->path, f->id);
	bool found = cache_keep(c, key.ptr, key.len);
	buf_clear(&key);
	replay_key(&key, f->path, f->id);
	record *rec = found ? find_record(c, key.ptr, key.len, false) : NULL;
	if (rec)
		rec->used = true;
	buf_release(&key);
	return rec != NULL;
}

const char *cache_put_document(cache_file *c, const document *d, const diag_list *diags,
			       size_t *len, const char **replay_copy, size_t *replay_len)
{
	*len = 0;
	*replay_copy = NULL;
	*replay_len = 0;
	if (!c || !c->dir)
		return NULL;
	buf key = BUF_INIT, body = BUF_INIT, rec = BUF_INIT, replay = BUF_INIT;
	document_key(&key, d->path, d->id);
	buf_put_varint(&body, diags ? diags->n : 0);
	for (size_t i = 0; diags && i < diags->n; i++) {
		const gen_diag *g = &diags->items[i];
		buf_put_varint(&body, (uint64_t)g->severity);
		buf_put_cstr(&body, g->file);
		buf_put_svarint(&body, g->line);
		buf_put_svarint(&body, g->col);
		buf_put_cstr(&body, g->msg);
	}
	size_t diags_len = body.len, article_head = 0;
	document_freeze_split(d, &body, &replay, &article_head);
	/* The checksum over the diagnostics and the article's head: its
	 * evidence and its Markdown's tail after it have checksums of their
	 * own there, and the replay is apart (replay_key). */
	size_t covered = diags_len + article_head;
	uint64_t sum = buf_hash64(body.ptr, covered, c->stamp);
	buf_put_varint(&rec, covered);
	buf_put(&rec, &sum, sizeof sum);
	size_t head = rec.len + diags_len;
	buf_put(&rec, body.ptr, body.len);
	const char *copy = cache_put(c, key.ptr, key.len, rec.ptr, rec.len);
	*len = rec.len - head;
	buf_clear(&key);
	replay_key(&key, d->path, d->id);
	*replay_copy = cache_put(c, key.ptr, key.len, replay.ptr, replay.len);
	*replay_len = replay.len;
	buf_release(&key);
	buf_release(&body);
	buf_release(&rec);
	buf_release(&replay);
	return copy + head;
}

static int kept_cmp(const void *a, const void *b)
{
	const kept *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* The kept records, gathered a thousand at a time rather than copied
 * into one block: a cold build keeps every article. A reader that meets
 * a record cut short by a concurrent build distrusts the whole file, so
 * a record is never half used. */
static int write_kept(cache_file *c, int fd, size_t at)
{
	struct iovec iov[1024];
	for (size_t i = 0; i < c->nkept;) {
		int n = 0;
		size_t total = 0;
		for (; i < c->nkept && n < 1024; i++, n++) {
			iov[n].iov_base = c->kept[i].bytes;
			iov[n].iov_len = c->kept[i].len;
			c->kept[i].at = at;
			at += c->kept[i].len;
			total += c->kept[i].len;
		}
		int first = 0;
		while (total) {
			ssize_t w = writev(fd, iov + first, n - first);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			total -= (size_t)w;
			/* A short write: step over what went out. */
			while (first < n && (size_t)w >= iov[first].iov_len)
				w -= (ssize_t)iov[first++].iov_len;
			if (first < n) {
				iov[first].iov_base = (char *)iov[first].iov_base + w;
				iov[first].iov_len -= (size_t)w;
			}
		}
	}
	return 0;
}

static void header(cache_file *c, buf *out)
{
	buf_puts(out, MAGIC);
	buf_put_varint(out, FORMAT);
	buf_put(out, &c->stamp, 8);
}

/* Whether name ends in ".tmpPID" (*pid set) or ".tmp-XXXXXX" (*pid 0), as
 * the temporary files of buf_write_sealed, search_memory_save, cache_seed
 * and rewrite are named. */
static bool temporary_name(const char *name, long *pid)
{
	const char *t = NULL; /* the last ".tmp" */
	for (const char *p = strstr(name, ".tmp"); p; p = strstr(p + 1, ".tmp"))
		t = p;
	if (!t || t == name)
		return false;
	const char *rest = t + 4;
	if (rest[0] == '-')
		return (*pid = 0, strlen(rest) == 7);
	size_t digits = strspn(rest, "0123456789");
	if (!digits || rest[digits] != '\0' || digits > 9)
		return false;
	*pid = strtol(rest, NULL, 10);
	return *pid > 0;
}

/* How long a temporary file written anew must have been left alone to be
 * taken as abandoned: one just made is not locked yet (as in output.c). */
#define ABANDONED_AFTER 10

void cache_sweep(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return;
	int dfd = dirfd(d);
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		long pid;
		if (!temporary_name(e->d_name, &pid))
			continue;
		if (pid) {
			/* EPERM: some other user's process; left alone. */
			if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
				unlinkat(dfd, e->d_name, 0);
			continue;
		}
		int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime + ABANDONED_AFTER < now &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dfd, e->d_name, 0);
		close(fd);
	}
	closedir(d);
}

/* The whole file anew: header, the records this build read, the new ones. */
static int rewrite(cache_file *c, const char *path)
{
	buf tmp = BUF_INIT, b = BUF_INIT;
	listed *list = NULL;
	buf_printf(&tmp, "%s.tmp-XXXXXX", path);
	int fd = mkstemp(tmp.ptr);
	if (fd >= 0) {
		fchmod(fd, 0644);
		/* Held while it is written: see cache_sweep. */
		flock(fd, LOCK_EX | LOCK_NB);
	}
	int rc = -1;
	if (fd < 0)
		goto out;
	header(c, &b);
	size_t at = 0, n = 0;
	list = xmalloc((c->nrecs + c->nkept + 1) * sizeof *list);
	/* Kept records replace read ones of the same path. */
	for (size_t i = 0; i < c->nkept; i++) {
		record *r = find(c, c->kept[i].key, c->kept[i].key_len);
		if (r)
			r->used = false;
	}
	for (size_t i = 0; i < c->nrecs; i++) {
		const record *r = &c->recs[i];
		if (!r->used)
			continue;
		list[n++] = (listed){ at + b.len, r->len, r->key_len, r->hash };
		buf_put(&b, rec_frame(r), rec_size(r));
		if (b.len > (1u << 20)) {
			if (buf_write_all(fd, b.ptr, b.len) < 0)
				goto out;
			at += b.len;
			buf_clear(&b);
		}
	}
	at += b.len;
	if (buf_write_all(fd, b.ptr, b.len) < 0 || write_kept(c, fd, at) < 0)
		goto out;
	for (size_t i = 0; i < c->nkept; i++)
		at += c->kept[i].len;
	n = list_kept(c, list, n);
	size_t size = 0;
	if (write_contents(c, list, n, at, NULL, fd, &size) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp.ptr, path) < 0)
		goto out;
	rc = 0;
	/* What later rounds append to (write_round_contents). */
	forget_written(c);
	c->written = list;
	c->nwritten = n;
	c->written_end = at + size;
	list = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp.ptr);
	free(list);
	buf_release(&tmp);
	buf_release(&b);
	return rc;
}

/* Writes the contents after the kept records appended from offset end
 * on: the records a lookup found in the file before, but for those a
 * kept one replaces, and the kept ones. */
static int append_contents(cache_file *c, int fd, size_t end)
{
	size_t at = end;
	for (size_t i = 0; i < c->nkept; i++)
		at += c->kept[i].len;
	/* Opened from a contents, which the file ends with: one of only
	 * the records appended now, after it. A rebuild's edit of one
	 * article then writes the few records it kept, not a list of all
	 * sixty thousand, on the last steps of the build; past a few, a
	 * whole one again. */
	if (c->listed && c->contents_depth < CONTENTS_CHAIN) {
		listed *list = xmalloc((c->nkept + 1) * sizeof *list);
		size_t n = list_kept(c, list, 0);
		contents_more more = { c->contents_at, end, c->contents_depth + 1 };
		int rc = write_contents(c, list, n, at, &more, fd, NULL);
		free(list);
		/* Not this cache's records in the file: a later save in this
		 * process writes a whole one. */
		c->listed = false;
		return rc;
	}
	listed *list = xmalloc((c->nrecs + c->nkept + 1) * sizeof *list);
	/* The records a lookup finds, taken in file order (c->recs'),
	 * so that the contents need no sort. */
	bool *live = xcalloc(c->nrecs + 1, sizeof *live);
	for (size_t i = 0; i < c->cap_slots; i++)
		if (c->slots[i])
			live[slot_record(c->slots[i])] = true;
	for (size_t i = 0; i < c->nkept; i++) {
		const record *r = find(c, c->kept[i].key, c->kept[i].key_len);
		if (r)
			live[r - c->recs] = false;
	}
	size_t n = 0;
	for (size_t k = 0; k < c->nrecs; k++) {
		if (!live[k])
			continue;
		const record *r = &c->recs[k];
		list[n++] = (listed){ (size_t)(rec_frame(r) - c->map), r->len, r->key_len, r->hash };
	}
	n = list_kept(c, list, n);
	int rc = write_contents(c, list, n, at, NULL, fd, NULL);
	free(live);
	free(list);
	return rc;
}

/* After a round of a cold build appended the kept records at end (see
 * parse_all's rounds): a contents of every record the file holds, the
 * ones this cache wrote before (c->written) and these, so that the next
 * build finds them from the file's last bytes. Without it, that build
 * walked every record's frame, and the kernel mapped the pages around
 * each: the whole 150 MB of a 10,000-article handbook's articles, the
 * replays too, and a first rebuild after `make site` took a third more.
 * Nothing is appended when the file does not end where this cache left
 * it (another build appended meanwhile): the next build walks. */
static int write_round_contents(cache_file *c, int fd, size_t end)
{
	if (!c->written_end || end != c->written_end) {
		forget_written(c);
		return 0;
	}
	c->written = xrealloc(c->written, (c->nwritten + c->nkept + 1) * sizeof *c->written);
	size_t n = list_kept(c, c->written, c->nwritten), at = end, size = 0;
	for (size_t i = 0; i < c->nkept; i++)
		at += c->kept[i].len;
	int rc = write_contents(c, c->written, n, at, NULL, fd, &size);
	if (rc < 0) {
		forget_written(c);
		return rc;
	}
	c->nwritten = n;
	c->written_end = at + size;
	return 0;
}

/* mkdir -p. Returns 0, or -1 with errno set. */
static int make_dirs(const char *dir)
{
	char *p = xstrdup(dir);
	int rc = 0;
	for (char *q = strchr(p + 1, '/'); q && rc == 0; q = strchr(q + 1, '/')) {
		*q = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*q = '/';
	}
	if (rc == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

bool cache_seed(const char *dir, const char *name, const char *from, const char *from_name)
{
	buf to = BUF_INIT, src = BUF_INIT, tmp = BUF_INIT;
	int in = -1, out = -1;
	bool made = false;
	struct stat st;
	buf_printf(&to, "%s/%s", dir, name);
	buf_printf(&src, "%s/%s", from, from_name);
	if (lstat(to.ptr, &st) == 0 || errno != ENOENT)
		goto out;
	in = open(src.ptr, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode) || make_dirs(dir) < 0)
		goto out;
	/* A name cache_sweep removes once this process is gone. */
	buf_printf(&tmp, "%s/%s.tmp%ld", dir, name, (long)getpid());
	out = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0)
		goto out;
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n <= 0)
			break;
		left -= n;
	}
	bool whole = close(out) == 0 && left == 0;
	out = -1;
	/* A name taken meanwhile (another build's save) is that build's. */
	made = whole && link(tmp.ptr, to.ptr) == 0;
	unlink(tmp.ptr);
out:
	if (in >= 0)
		close(in);
	if (out >= 0) {
		close(out);
		unlink(tmp.ptr);
	}
	buf_release(&to);
	buf_release(&src);
	buf_release(&tmp);
	return made;
}

void cache_save(cache_file *c, diag_list *diags)
{
	if (!c || !c->dir)
		return;
	bool damaged = atomic_load(&c->damaged);
	if (!c->nkept && !damaged)
		return;
	if (c->nkept > 1)
		qsort(c->kept, c->nkept, sizeof *c->kept, kept_cmp);
	buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", c->dir, c->name);
	if (damaged)
		tell_damaged(c, path.ptr, diags);
	if (make_dirs(c->dir) < 0) {
		if (diags)
			diag_add(diags, DIAG_WARNING, c->dir, 0, 0,
				 "cannot create the build cache: %s", strerror(errno));
		goto out;
	}
	/* A cache that keeps what this build did not ask for counts every
	 * record that no later one replaced as live. */
	for (size_t i = 0; c->keep_unused && i < c->cap_slots; i++)
		if (c->slots[i])
			c->recs[slot_record(c->slots[i])].used = true;
	/* Append while the file stays mostly live; else write it anew. */
	size_t live = 0, added = 0;
	for (size_t i = 0; i < c->nrecs; i++)
		if (c->recs[i].used)
			live += rec_size(&c->recs[i]);
	for (size_t i = 0; i < c->nkept; i++)
		added += c->kept[i].len;
	size_t dead = c->map_len - live;
	int rc = -1;
	if (c->appending || (c->usable && !damaged && dead <= live + added)) {
		int fd = open(path.ptr, O_WRONLY | O_APPEND | O_CLOEXEC);
		off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
		/* What cache_open_after takes over: the file as this cache
		 * mapped it, then what it appends now, and nothing else. */
		bool whole = end >= 0 && c->file.known && (size_t)end == c->map_len &&
			     c->map_len == (size_t)c->file.size;
		struct stat st;
		if (end >= 0) {
			rc = write_kept(c, fd, (size_t)end);
		}
		/* The rounds of a cold build: each ends the file with a
		 * contents of all its records. */
		if (rc == 0 && c->appending && !c->reused)
			rc = write_round_contents(c, fd, (size_t)end);
		else
			forget_written(c);
		/* The contents, when the file is the one mapped and its
		 * records are all in c->recs: not after the rounds of a
		 * first build (c->appending), nor in gen serve, which opens
		 * the next build's cache after this one (c->reused). */
		if (rc == 0 && whole && !c->appending && !c->reused)
			rc = append_contents(c, fd, (size_t)end);
		c->file.known = false;
		if (rc == 0 && whole && fstat(fd, &st) == 0)
			note_file(c, &st);
		if (fd >= 0 && close(fd) < 0)
			rc = -1;
	} else {
		rc = rewrite(c, path.ptr);
		c->file.known = false;
	}
	c->saved = rc == 0;
	if (rc < 0 && diags)
		diag_add(diags, DIAG_WARNING, path.ptr, 0, 0,
			 "cannot write the build cache: %s", strerror(errno));
out:
	buf_release(&path);
}

void cache_hold_puts(cache_file *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->holding = true;
	pthread_mutex_unlock(&c->lock);
}

void cache_keep_puts(cache_file *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->nkept + c->nheld > c->cap_kept) {
		c->cap_kept = c->nkept + c->nheld;
		c->kept = xrealloc(c->kept, c->cap_kept * sizeof *c->kept);
	}
	if (c->nheld)
		memcpy(c->kept + c->nkept, c->held, c->nheld * sizeof *c->held);
	c->nkept += c->nheld;
	c->nheld = 0;
	c->holding = false;
	pthread_mutex_unlock(&c->lock);
}

void cache_keep_unused(cache_file *c)
{
	if (c)
		c->keep_unused = true;
}

size_t cache_hits(const cache_file *c) { return atomic_load(&c->hits); }
size_t cache_puts(const cache_file *c) { return c->nkept; }

/* ---- reading what was kept back from the file ---- */

typedef struct kept_addr {
	uintptr_t at;            /* where a kept record's bytes are */
	size_t i;                /* which one */
} kept_addr;

static int addr_cmp(const void *a, const void *b)
{
	uintptr_t x = ((const kept_addr *)a)->at, y = ((const kept_addr *)b)->at;
	return (x > y) - (x < y);
}

/* The compared pages cache_rehome holds at most before it lets them go. */
#define REHOME_HELD (4u << 20)

bool cache_rehome(cache_file *c)
{
	if (!c || !c->dir || !c->saved || !c->nkept || c->by_addr)
		return false;
	buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", c->dir, c->name);
	struct stat st;
	void *m = map_whole(path.ptr, &st);
	buf_release(&path);
	if (m == MAP_FAILED)
		return false;
	/* Trust only what reads back the same: another build may have
	 * written the file since. The pages compared are let go at once,
	 * or checking would hold the file in memory beside the copies. */
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	/* Neighbouring records' pages go in one call: one per record would
	 * be 10,000 calls, each interrupting the other cores. */
	uintptr_t from = 0, to = 0;
	for (size_t i = 0; i < c->nkept; i++) {
		const kept *k = &c->kept[i];
		if (k->at > (size_t)st.st_size || k->len > (size_t)st.st_size - k->at ||
		    memcmp((unsigned char *)m + k->at, k->bytes, k->len) != 0) {
			munmap(m, (size_t)st.st_size);
			return false;
		}
		uintptr_t a = (uintptr_t)m + k->at, b = a + k->len;
		a &= ~(page - 1);
		b = (b + page - 1) & ~(page - 1);
		if (to > from && a <= to + page && b >= from && to - from < REHOME_HELD) {
			from = a < from ? a : from;
			to = b > to ? b : to;
			continue;
		}
		if (to > from)
			madvise((void *)from, to - from, MADV_DONTNEED);
		from = a;
		to = b;
	}
	if (to > from)
		madvise((void *)from, to - from, MADV_DONTNEED);
	c->homes = xrealloc(c->homes, (c->nhomes + 1) * sizeof *c->homes);
	c->homes[c->nhomes++] = (home){ m, (size_t)st.st_size, st.st_dev, st.st_ino };
	c->by_addr = xcalloc(c->nkept, sizeof *c->by_addr);
	for (size_t i = 0; i < c->nkept; i++) {
		c->by_addr[i].at = (uintptr_t)c->kept[i].bytes;
		c->by_addr[i].i = i;
	}
	qsort(c->by_addr, c->nkept, sizeof *c->by_addr, addr_cmp);
	return true;
}

const char *cache_moved(const cache_file *c, const char *p)
{
	if (!c || !c->by_addr || !p)
		return NULL;
	uintptr_t x = (uintptr_t)p;
	size_t lo = 0, hi = c->nkept;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const kept *k = &c->kept[c->by_addr[mid].i];
		uintptr_t b = c->by_addr[mid].at;
		if (x < b) {
			hi = mid;
		} else if (x >= b + k->len) {
			lo = mid + 1;
		} else {
			size_t off = (size_t)(x - b);
			return (const char *)c->homes[c->nhomes - 1].p + k->at + off;
		}
	}
	return NULL;
}

void cache_forget_kept(cache_file *c)
{
	if (!c || !c->by_addr)
		return;
	for (size_t i = 0; i < c->nkept; i++) {
		free(c->kept[i].key);
		free(c->kept[i].bytes);
	}
	c->nkept = 0;
	free(c->by_addr);
	c->by_addr = NULL;
	/* The file holds them now; anything kept later goes after them. */
	c->appending = true;
	c->saved = false;
}

const void *cache_mapping_of(const cache_file *c, const char *p)
{
	if (!c || !p)
		return NULL;
	uintptr_t x = (uintptr_t)p;
	uintptr_t m = (uintptr_t)c->map;
	if (c->map && x >= m && x < m + c->map_len)
		return c->map;
	for (size_t i = 0; i < c->nhomes; i++) {
		uintptr_t h = (uintptr_t)c->homes[i].p;
		if (x >= h && x < h + c->homes[i].len)
			return c->homes[i].p;
	}
	return NULL;
}

bool cache_mapped(const cache_file *c, const char *p)
{
	return cache_mapping_of(c, p) != NULL;
}

bool cache_fresh(const cache_file *c)
{
	return c && c->dir && !c->usable && !c->appending;
}
