/* pack: git objects read straight from pack files (see pack.h).
 *
 * A pack file is a run of objects, each a header (type and size) and
 * zlib-compressed data; a delta's header also names its base, by a
 * distance back in the same file or by id. The index beside it maps ids
 * to offsets: a fan-out table by first byte, the sorted ids, their
 * offsets. Both files are mapped read-only.
 *
 * Objects made here are kept by (pack, offset) in a hash table with
 * chains and a list in order of last use. Resolving walks from the
 * object toward its base until it meets one kept or stored whole, then
 * applies the deltas back up, keeping each result: the next version of
 * the same tree finds its base among them. */
#define _DEFAULT_SOURCE /* DT_REG */
#include "pack.h"

#include <dirent.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "xalloc.h"

/* What a walk must have kept for pack_store_trim to give memory back. */
#define TRIM_AFTER (8u << 20)

#define ID_LEN 20
#define IDX_HEADER (8 + 256 * 4)
#define TRAILER (2 * ID_LEN)
#define MAX_CHAIN 10000          /* a longer chain is a loop: damage */
#define MAX_OBJECT ((uint64_t)1 << 30) /* a larger size is damage, for the walk */
/* The store keeps room for a whole chain of the largest object it has
 * made from a delta: git's default depth is 50. Whatever is less than
 * the chain thrashes (each read applies the chain again, evicting the
 * versions the next reads want), which is what libgit2 does for large
 * trees. */
#define CHAIN_ROOM 64
#define MIN_BUDGET ((size_t)16 << 20)

enum { OFS_DELTA = 6, REF_DELTA = 7 };

typedef struct pack_file {
	const unsigned char *idx, *pack;
	size_t idx_len, pack_len;
	uint32_t n;                  /* objects */
	const unsigned char *ids;    /* n sorted ids */
	const unsigned char *off32;  /* n big-endian offsets */
	const unsigned char *off64;  /* the large ones */
	size_t n64;
} pack_file;

struct pack_object {
	uint32_t pack;
	uint64_t at;                 /* offset in its pack */
	unsigned char *data;
	size_t len;
	int type;
	unsigned refs;               /* references handed out */
	pack_object *hnext;          /* hash chain */
	pack_object *newer, *older;  /* use list */
};

struct pack_store {
	pack_file *packs;
	size_t npacks;
	pack_object **buckets;
	size_t nbuckets, nobjects;
	pack_object *newest, *oldest;
	size_t bytes, deltas;
	size_t budget;               /* now: room for a chain, within max */
	size_t max_budget;
	z_stream z;
	bool z_ready;
};

/* ---- files ------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const unsigned char *map_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *m = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return NULL;
	*len = (size_t)st.st_size;
	return m;
}

/* Checks the index's layout (version 2) and the pack's header. */
static bool pack_check(pack_file *pf)
{
	if (pf->idx_len < IDX_HEADER + TRAILER || memcmp(pf->idx, "\377tOc", 4) != 0 ||
	    be32(pf->idx + 4) != 2)
		return false;
	const unsigned char *fan = pf->idx + 8;
	for (int i = 1; i < 256; i++)
		if (be32(fan + 4 * i) < be32(fan + 4 * (i - 1)))
			return false;
	pf->n = be32(fan + 4 * 255);
	size_t fixed = IDX_HEADER + (size_t)pf->n * (ID_LEN + 4 + 4);
	if (fixed > pf->idx_len - TRAILER || (pf->idx_len - TRAILER - fixed) % 8 != 0)
		return false;
	pf->ids = pf->idx + IDX_HEADER;
	pf->off32 = pf->ids + (size_t)pf->n * (ID_LEN + 4);
	pf->off64 = pf->off32 + (size_t)pf->n * 4;
	pf->n64 = (pf->idx_len - TRAILER - fixed) / 8;
	return pf->pack_len >= 12 + ID_LEN && memcmp(pf->pack, "PACK", 4) == 0 &&
	       (be32(pf->pack + 4) == 2 || be32(pf->pack + 4) == 3);
}

static void add_pack(pack_store *ps, const char *dir, const char *name)
{
	buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", dir, name);
	pack_file pf;
	memset(&pf, 0, sizeof pf);
	pf.idx = map_file(path.ptr, &pf.idx_len);
	buf_truncate(&path, path.len - 4);
	buf_puts(&path, ".pack");
	pf.pack = pf.idx ? map_file(path.ptr, &pf.pack_len) : NULL;
	buf_release(&path);
	if (pf.idx && pf.pack && pack_check(&pf)) {
		ps->packs = xrealloc(ps->packs, (ps->npacks + 1) * sizeof *ps->packs);
		ps->packs[ps->npacks++] = pf;
		return;
	}
	if (pf.idx)
		munmap((void *)pf.idx, pf.idx_len);
	if (pf.pack)
		munmap((void *)pf.pack, pf.pack_len);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

pack_store *pack_store_open(const char *objects_dir, size_t budget)
{
	buf dir = BUF_INIT;
	buf_printf(&dir, "%s/pack", objects_dir);
	DIR *d = opendir(dir.ptr);
	char **names = NULL;
	size_t n = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".idx") == 0) {
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xstrdup(e->d_name);
		}
	}
	if (d)
		closedir(d);
	/* In name order, so that which pack answers does not depend on the
	 * directory's order (they hold the same bytes for an id anyway). */
	if (n)
		qsort(names, n, sizeof *names, by_name);
	pack_store *ps = xcalloc(1, sizeof *ps);
	ps->max_budget = budget;
	ps->budget = budget < MIN_BUDGET ? budget : MIN_BUDGET;
	for (size_t i = 0; i < n; i++) {
		add_pack(ps, dir.ptr, names[i]);
		free(names[i]);
	}
	free(names);
	buf_release(&dir);
	if (!ps->npacks) {
		pack_store_free(ps);
		return NULL;
	}
	return ps;
}

/* ---- kept objects ------------------------------------------------------ */

static size_t slot_of(const pack_store *ps, uint32_t pack, uint64_t at)
{
	uint64_t h = (at ^ ((uint64_t)pack << 40)) * 0x9e3779b97f4a7c15u;
	return (size_t)(h >> 32) & (ps->nbuckets - 1);
}

static pack_object *find(const pack_store *ps, uint32_t pack, uint64_t at)
{
	if (!ps->nbuckets)
		return NULL;
	for (pack_object *o = ps->buckets[slot_of(ps, pack, at)]; o; o = o->hnext)
		if (o->at == at && o->pack == pack)
			return o;
	return NULL;
}

static void unlink_use(pack_store *ps, pack_object *o)
{
	if (o->newer)
		o->newer->older = o->older;
	else
		ps->newest = o->older;
	if (o->older)
		o->older->newer = o->newer;
	else
		ps->oldest = o->newer;
	o->newer = o->older = NULL;
}

/* Puts o (linked or new) first in the use list. */
static void mark_used(pack_store *ps, pack_object *o)
{
	if (ps->newest == o)
		return;
	if (o->newer || o->older || ps->oldest == o)
		unlink_use(ps, o);
	o->older = ps->newest;
	if (ps->newest)
		ps->newest->newer = o;
	ps->newest = o;
	if (!ps->oldest)
		ps->oldest = o;
}

static void forget(pack_store *ps, pack_object *o)
{
	pack_object **p = &ps->buckets[slot_of(ps, o->pack, o->at)];
	while (*p != o)
		p = &(*p)->hnext;
	*p = o->hnext;
	unlink_use(ps, o);
	ps->bytes -= o->len;
	ps->nobjects--;
	free(o->data);
	free(o);
}

/* Lets objects go, least recently used first, until the store is within
 * its budget; objects handed out stay. */
static void trim(pack_store *ps)
{
	pack_object *o = ps->oldest;
	while (o && ps->bytes > ps->budget) {
		pack_object *next = o->newer;
		if (!o->refs)
			forget(ps, o);
		o = next;
	}
}

static void grow(pack_store *ps)
{
	size_t cap = ps->nbuckets ? ps->nbuckets * 2 : 256;
	pack_object **b = xcalloc(cap, sizeof *b);
	pack_object **old = ps->buckets;
	size_t oldcap = ps->nbuckets;
	ps->buckets = b;
	ps->nbuckets = cap;
	for (size_t i = 0; i < oldcap; i++)
		for (pack_object *o = old[i], *next; o; o = next) {
			next = o->hnext;
			size_t s = slot_of(ps, o->pack, o->at);
			o->hnext = b[s];
			b[s] = o;
		}
	free(old);
}

/* Keeps data (taken) as the object at (pack, at); returns it, used. */
static pack_object *keep(pack_store *ps, uint32_t pack, uint64_t at, int type,
			 unsigned char *data, size_t len)
{
	if (ps->nobjects >= ps->nbuckets)
		grow(ps);
	pack_object *o = xcalloc(1, sizeof *o);
	o->pack = pack;
	o->at = at;
	o->type = type;
	o->data = data;
	o->len = len;
	size_t s = slot_of(ps, pack, at);
	o->hnext = ps->buckets[s];
	ps->buckets[s] = o;
	ps->nobjects++;
	ps->bytes += len;
	mark_used(ps, o);
	return o;
}

/* ---- reading objects ------------------------------------------------- */

/* What an object's header says. */
typedef struct header {
	int type;
	uint64_t size;   /* of the object, or of the delta's data */
	uint64_t data;   /* where the compressed data starts */
	uint64_t base;   /* OFS_DELTA: the base's offset */
	const unsigned char *base_id; /* REF_DELTA */
} header;

static bool read_header(const pack_file *pf, uint64_t at, header *h)
{
	/* Objects end before the pack's trailing checksum. */
	uint64_t end = pf->pack_len - ID_LEN, p = at;
	if (at < 12 || at >= end)
		return false;
	unsigned c = pf->pack[p++];
	h->type = (int)(c >> 4) & 7;
	h->size = c & 15;
	for (unsigned shift = 4; c & 0x80; shift += 7) {
		if (p >= end || shift > 57)
			return false;
		c = pf->pack[p++];
		h->size |= (uint64_t)(c & 0x7f) << shift;
	}
	if (h->type == OFS_DELTA) {
		/* A distance back, big-endian base 128, each continuation
		 * adding one so that every value has one spelling. */
		if (p >= end)
			return false;
		c = pf->pack[p++];
		uint64_t back = c & 0x7f;
		while (c & 0x80) {
			if (p >= end || back >= (uint64_t)1 << 56)
				return false;
			c = pf->pack[p++];
			back = ((back + 1) << 7) | (c & 0x7f);
		}
		if (!back || back > at)
			return false;
		h->base = at - back;
	} else if (h->type == REF_DELTA) {
		if (end - p < ID_LEN)
			return false;
		h->base_id = pf->pack + p;
		p += ID_LEN;
	} else if (h->type < PACK_COMMIT || h->type > PACK_TAG) {
		return false;
	}
	h->data = p;
	return h->size <= MAX_OBJECT;
}

/* The size bytes zlib data at pf's offset at inflates to; NULL when it
 * does not (damage: zlib checks its Adler-32). */
static unsigned char *inflate_at(pack_store *ps, const pack_file *pf, uint64_t at, size_t size)
{
	if (!ps->z_ready) {
		memset(&ps->z, 0, sizeof ps->z);
		if (inflateInit(&ps->z) != Z_OK)
			return NULL;
		ps->z_ready = true;
	} else if (inflateReset(&ps->z) != Z_OK) {
		return NULL;
	}
	unsigned char *out = xmalloc(size ? size : 1);
	uint64_t avail = pf->pack_len - ID_LEN - at;
	ps->z.next_in = (unsigned char *)(uintptr_t)(pf->pack + at);
	ps->z.avail_in = avail > UINT32_MAX ? UINT32_MAX : (uInt)avail;
	ps->z.next_out = out;
	ps->z.avail_out = (uInt)size;
	int rc = inflate(&ps->z, Z_FINISH);
	if (rc != Z_STREAM_END || ps->z.total_out != size) {
		free(out);
		return NULL;
	}
	return out;
}

/* A delta's size header: base 128, little-endian. */
static bool delta_size(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0;; shift += 7) {
		if (*p >= end || shift > 63)
			return false;
		unsigned c = *(*p)++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
}

/* The object delta d makes of base; NULL when d does not fit base. */
static unsigned char *apply_delta(const unsigned char *base, size_t blen, const unsigned char *d,
				  size_t dlen, size_t *out_len)
{
	const unsigned char *p = d, *end = d + dlen;
	uint64_t src, dst;
	if (!delta_size(&p, end, &src) || !delta_size(&p, end, &dst) || src != blen ||
	    dst > MAX_OBJECT)
		return NULL;
	unsigned char *out = xmalloc(dst ? (size_t)dst : 1);
	size_t o = 0;
	while (p < end) {
		unsigned c = *p++;
		if (c & 0x80) {
			/* Copy from the base: which offset and size bytes follow
			 * is in the low seven bits. */
			uint64_t off = 0, n = 0;
			for (unsigned i = 0; i < 4; i++)
				if (c & (1u << i)) {
					if (p >= end)
						goto bad;
					off |= (uint64_t)*p++ << (8 * i);
				}
			for (unsigned i = 0; i < 3; i++)
				if (c & (0x10u << i)) {
					if (p >= end)
						goto bad;
					n |= (uint64_t)*p++ << (8 * i);
				}
			if (!n)
				n = 0x10000;
			if (off > blen || n > blen - off || n > dst - o)
				goto bad;
			memcpy(out + o, base + off, (size_t)n);
			o += (size_t)n;
		} else if (c) {
			/* Insert the next c bytes of the delta. */
			if (c > (size_t)(end - p) || c > dst - o)
				goto bad;
			memcpy(out + o, p, c);
			p += c;
			o += c;
		} else {
			goto bad; /* reserved */
		}
	}
	if (o != dst)
		goto bad;
	*out_len = (size_t)dst;
	return out;
bad:
	free(out);
	return NULL;
}

/* Where pf holds id, or false. */
static bool find_offset(const pack_file *pf, const unsigned char *id, uint64_t *at)
{
	const unsigned char *fan = pf->idx + 8;
	uint32_t lo = id[0] ? be32(fan + 4 * (id[0] - 1)) : 0, hi = be32(fan + 4 * id[0]);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(pf->ids + (size_t)mid * ID_LEN, id, ID_LEN);
		if (c == 0) {
			uint32_t v = be32(pf->off32 + (size_t)mid * 4);
			if (!(v & 0x80000000u)) {
				*at = v;
				return true;
			}
			/* The top bit points into the table of large offsets. */
			size_t k = v & 0x7fffffffu;
			if (k >= pf->n64)
				return false;
			const unsigned char *q = pf->off64 + k * 8;
			*at = (uint64_t)be32(q) << 32 | be32(q + 4);
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The object at (pack, at), kept and referenced once more; NULL when it
 * cannot be made. */
static pack_object *resolve(pack_store *ps, uint32_t pack, uint64_t at)
{
	const pack_file *pf = &ps->packs[pack];
	uint64_t *chain = NULL;
	size_t n = 0, cap = 0;
	pack_object *base = NULL;
	/* Down to something kept or whole. */
	for (uint64_t cur = at;;) {
		if ((base = find(ps, pack, cur))) {
			base->refs++;
			break;
		}
		header h;
		if (n >= MAX_CHAIN || !read_header(pf, cur, &h))
			goto out;
		if (h.type != OFS_DELTA && h.type != REF_DELTA) {
			unsigned char *data = inflate_at(ps, pf, h.data, (size_t)h.size);
			if (!data)
				goto out;
			base = keep(ps, pack, cur, h.type, data, (size_t)h.size);
			base->refs++;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			chain = xrealloc(chain, cap * sizeof *chain);
		}
		chain[n++] = cur;
		if (h.type == OFS_DELTA)
			cur = h.base;
		else if (!find_offset(pf, h.base_id, &cur))
			goto out; /* a base in another pack: libgit2's to find */
	}
	/* Back up, applying each delta to what is below it. */
	while (n) {
		uint64_t cur = chain[--n];
		header h;
		unsigned char *delta = read_header(pf, cur, &h)
					       ? inflate_at(ps, pf, h.data, (size_t)h.size)
					       : NULL;
		size_t len = 0;
		unsigned char *data =
			delta ? apply_delta(base->data, base->len, delta, (size_t)h.size, &len) : NULL;
		free(delta);
		base->refs--;
		if (!data) {
			base = NULL;
			goto out;
		}
		ps->deltas++;
		if (len <= ps->max_budget / CHAIN_ROOM && len * CHAIN_ROOM > ps->budget)
			ps->budget = len * CHAIN_ROOM;
		else if (len > ps->max_budget / CHAIN_ROOM)
			ps->budget = ps->max_budget;
		base = keep(ps, pack, cur, base->type, data, len);
		base->refs++;
	}
out:
	free(chain);
	if (base)
		mark_used(ps, base);
	trim(ps);
	return base;
}

int pack_read(pack_store *ps, const unsigned char *id, pack_object **out)
{
	*out = NULL;
	if (!ps)
		return 1;
	for (size_t i = 0; i < ps->npacks; i++) {
		uint64_t at;
		if (find_offset(&ps->packs[i], id, &at)) {
			*out = resolve(ps, (uint32_t)i, at);
			return *out ? 0 : 1;
		}
	}
	return 1;
}

const unsigned char *pack_object_data(const pack_object *o, size_t *len)
{
	*len = o->len;
	return o->data;
}

int pack_object_type(const pack_object *o)
{
	return o->type;
}

void pack_object_release(pack_store *ps, pack_object *o)
{
	if (!o)
		return;
	o->refs--;
	trim(ps);
}

void pack_store_trim(pack_store *ps)
{
	if (!ps)
		return;
	size_t budget = ps->budget, held = ps->bytes;
	ps->budget = 0;
	trim(ps);
	ps->budget = budget;
	/* The files' pages too: read again from the page cache if needed. */
	for (size_t i = 0; i < ps->npacks; i++) {
		madvise((void *)ps->packs[i].idx, ps->packs[i].idx_len, MADV_DONTNEED);
		madvise((void *)ps->packs[i].pack, ps->packs[i].pack_len, MADV_DONTNEED);
	}
#ifdef __GLIBC__
	/* The objects were the size that malloc keeps in the thread's arena
	 * once freed (its threshold for mapping rises with each): give the
	 * pages back, or the build holds tens of megabytes to its end. Not
	 * after a short walk (a rebuild's few commits): malloc_trim goes
	 * through the whole heap, milliseconds in a process that keeps a
	 * large one (gen serve, a resident build). */
	if (held >= TRIM_AFTER)
		malloc_trim(0);
#endif
}

size_t pack_store_bytes(const pack_store *ps)
{
	return ps ? ps->bytes : 0;
}

size_t pack_store_deltas(const pack_store *ps)
{
	return ps ? ps->deltas : 0;
}

void pack_store_free(pack_store *ps)
{
	if (!ps)
		return;
	for (pack_object *o = ps->oldest, *next; o; o = next) {
		next = o->newer;
		free(o->data);
		free(o);
	}
	free(ps->buckets);
	for (size_t i = 0; i < ps->npacks; i++) {
		munmap((void *)ps->packs[i].idx, ps->packs[i].idx_len);
		munmap((void *)ps->packs[i].pack, ps->packs[i].pack_len);
	}
	free(ps->packs);
	if (ps->z_ready)
		inflateEnd(&ps->z);
	free(ps);
}
