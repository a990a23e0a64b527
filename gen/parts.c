/* parts: a big page kept as parts and a list of them (see parts.h).
 *
 * The list is PARTS_MAGIC, the number of parts, and per part its key,
 * its length and the mark of its file (output_mark), eight bytes each in
 * the machine's order: a preview folder is read back only by the process
 * that wrote it. A part's file is "REL.parts/KEY", KEY in sixteen hex
 * digits; one key may stand at several places in a page. */
#include "parts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

typedef struct part_entry {
	uint64_t key, len;
	output_mark mark;
} part_entry;

#define ENTRY_BYTES (2 * 8 + 4 * 8)

struct parts_old {
	output *o;
	char *rel;
	part_entry *e;      /* in the page's order */
	uint64_t *start;    /* where each part begins in the page; [n] is its length */
	part_entry *by_key; /* e sorted by key */
	size_t n;
	output_mark mark;   /* of the list file when opened */
	const char **map;   /* each part's bytes once mapped; NULL: not yet */
	bool *failed;       /* its file was missing or not of its length */
};

struct parts_page {
	output *o;
	char *rel;
	parts_old *old;
	part_entry *e;
	size_t n, cap;
	buf cur;        /* the bytes of the part being put */
	size_t written; /* parts whose files this page wrote */
};

/* "REL.parts/KEY" */
static void part_path(buf *out, const char *rel, uint64_t key)
{
	buf_printf(out, "%s.parts/%016llx", rel, (unsigned long long)key);
}

static void put_u64(buf *b, uint64_t v)
{
	buf_put(b, &v, sizeof v);
}

static uint64_t get_u64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* Reads the entries of the list in bytes[0..len): false when it is not a
 * list or is cut short. *e is the caller's to free. */
static bool list_parse(const char *bytes, size_t len, part_entry **e, size_t *n)
{
	*e = NULL;
	*n = 0;
	if (len < PARTS_MAGIC_LEN + 8 || memcmp(bytes, PARTS_MAGIC, PARTS_MAGIC_LEN) != 0)
		return false;
	const char *p = bytes + PARTS_MAGIC_LEN;
	uint64_t count = get_u64(p);
	p += 8;
	size_t rest = len - PARTS_MAGIC_LEN - 8;
	if (count > rest / ENTRY_BYTES || count * ENTRY_BYTES != rest)
		return false;
	part_entry *v = xmalloc((size_t)count * sizeof *v + 1);
	for (size_t i = 0; i < count; i++, p += ENTRY_BYTES) {
		v[i].key = get_u64(p);
		v[i].len = get_u64(p + 8);
		v[i].mark.ino = get_u64(p + 16);
		v[i].mark.size = get_u64(p + 24);
		v[i].mark.sec = (int64_t)get_u64(p + 32);
		v[i].mark.nsec = get_u64(p + 40);
	}
	*e = v;
	*n = (size_t)count;
	return true;
}

static int entry_cmp(const void *a, const void *b)
{
	uint64_t x = ((const part_entry *)a)->key, y = ((const part_entry *)b)->key;
	return x < y ? -1 : x > y;
}

static const part_entry *find_key(const part_entry *sorted, size_t n, uint64_t key)
{
	part_entry want = { .key = key };
	return n ? bsearch(&want, sorted, n, sizeof *sorted, entry_cmp) : NULL;
}

/* ---- the last page ---- */

parts_old *parts_old_open(output *o, const char *rel)
{
	int fd = output_open_old(o, rel);
	if (fd < 0)
		return NULL;
	parts_old *old = NULL;
	char head[PARTS_MAGIC_LEN];
	struct stat st;
	buf bytes = BUF_INIT;
	if (fstat(fd, &st) < 0 || pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
	    memcmp(head, PARTS_MAGIC, PARTS_MAGIC_LEN) != 0)
		goto out;
	/* Small: eight bytes and a few hundred entries. */
	buf_grow(&bytes, (size_t)st.st_size);
	ssize_t got = pread(fd, bytes.ptr, (size_t)st.st_size, 0);
	if (got != st.st_size)
		goto out;
	bytes.len = (size_t)got;
	bytes.ptr[bytes.len] = '\0';
	part_entry *e;
	size_t n;
	if (!list_parse(bytes.ptr, bytes.len, &e, &n))
		goto out;
	old = xcalloc(1, sizeof *old);
	old->o = o;
	old->rel = xstrdup(rel);
	old->e = e;
	old->n = n;
	old->start = xmalloc((n + 1) * sizeof *old->start);
	uint64_t at = 0;
	for (size_t i = 0; i < n; i++) {
		old->start[i] = at;
		at += e[i].len;
	}
	old->start[n] = at;
	old->by_key = xmalloc(n * sizeof *old->by_key + 1);
	memcpy(old->by_key, e, n * sizeof *e);
	qsort(old->by_key, n, sizeof *old->by_key, entry_cmp);
	old->map = xcalloc(n + 1, sizeof *old->map);
	old->failed = xcalloc(n + 1, sizeof *old->failed);
	old->mark = (output_mark){ (uint64_t)st.st_ino, (uint64_t)st.st_size,
				   (int64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec };
out:
	buf_release(&bytes);
	close(fd);
	return old;
}

uint64_t parts_old_len(const parts_old *old)
{
	return old->start[old->n];
}

output_mark parts_old_mark(const parts_old *old)
{
	return old->mark;
}

/* Maps part i; false when its file is not there at its length. */
static bool map_part(parts_old *old, size_t i)
{
	if (old->map[i])
		return true;
	if (old->failed[i] || !old->e[i].len)
		return !old->failed[i];
	buf path = BUF_INIT;
	part_path(&path, old->rel, old->e[i].key);
	int fd = output_open_old(old->o, path.ptr);
	buf_release(&path);
	struct stat st;
	void *m = MAP_FAILED;
	if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size == old->e[i].len)
		m = mmap(NULL, (size_t)old->e[i].len, PROT_READ, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (m == MAP_FAILED) {
		old->failed[i] = true;
		return false;
	}
	old->map[i] = m;
	return true;
}

const char *parts_old_bytes(parts_old *old, uint64_t at, uint64_t len)
{
	uint64_t total = old->start[old->n];
	if (len > total || at > total - len)
		return NULL;
	if (!len)
		return "";
	/* The last part that begins at or before at. */
	size_t lo = 0, hi = old->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (old->start[mid] <= at)
			lo = mid;
		else
			hi = mid;
	}
	while (lo < old->n && old->start[lo + 1] <= at)
		lo++; /* past parts of no bytes */
	if (at + len > old->start[lo + 1] || !map_part(old, lo))
		return NULL;
	return old->map[lo] + (at - old->start[lo]);
}

void parts_old_close(parts_old *old)
{
	if (!old)
		return;
	for (size_t i = 0; i < old->n; i++)
		if (old->map[i])
			munmap((void *)old->map[i], (size_t)old->e[i].len);
	free(old->map);
	free(old->failed);
	free(old->e);
	free(old->start);
	free(old->by_key);
	free(old->rel);
	free(old);
}

bool parts_keep_all(output *o, const char *rel)
{
	parts_old *old = parts_old_open(o, rel);
	if (!old)
		return false;
	bool kept = true;
	buf path = BUF_INIT;
	for (size_t i = 0; kept && i < old->n; i++) {
		buf_clear(&path);
		part_path(&path, rel, old->e[i].key);
		kept = output_keep(o, path.ptr, &old->e[i].mark);
	}
	buf_release(&path);
	parts_old_close(old);
	return kept;
}

/* ---- a new page ---- */

int parts_open(output *o, const char *rel, parts_old *old, parts_page **out, gen_err *err)
{
	(void)err;
	parts_page *p = xcalloc(1, sizeof *p);
	p->o = o;
	p->rel = xstrdup(rel);
	p->old = old;
	buf_init(&p->cur);
	*out = p;
	return 0;
}

static void add_entry(parts_page *p, uint64_t key, uint64_t len, const output_mark *mark)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->e = xrealloc(p->e, p->cap * sizeof *p->e);
	}
	p->e[p->n++] = (part_entry){ key, len, *mark };
}

bool parts_keep(parts_page *p, uint64_t key)
{
	if (!p->old || p->cur.len)
		return false;
	const part_entry *was = find_key(p->old->by_key, p->old->n, key);
	if (!was)
		return false;
	buf path = BUF_INIT;
	part_path(&path, p->rel, key);
	bool kept = output_keep(p->o, path.ptr, &was->mark);
	buf_release(&path);
	if (kept)
		add_entry(p, key, was->len, &was->mark);
	return kept;
}

int parts_put(parts_page *p, const void *data, size_t len, gen_err *err)
{
	(void)err;
	buf_put(&p->cur, data, len);
	return 0;
}

int parts_cut(parts_page *p, uint64_t key, gen_err *err)
{
	buf path = BUF_INIT;
	part_path(&path, p->rel, key);
	output_mark mark;
	int rc = output_write_marked(p->o, path.ptr, p->cur.ptr ? p->cur.ptr : "", p->cur.len,
				     &mark, err);
	buf_release(&path);
	if (rc < 0)
		return rc;
	add_entry(p, key, p->cur.len, &mark);
	p->written++;
	buf_clear(&p->cur);
	return 0;
}

void parts_discard(parts_page *p)
{
	if (!p)
		return;
	buf_release(&p->cur);
	free(p->e);
	free(p->rel);
	free(p);
}

int parts_close(parts_page *p, output_mark *mark, size_t *total, size_t *written,
		gen_err *err)
{
	buf list = BUF_INIT;
	buf_put(&list, PARTS_MAGIC, PARTS_MAGIC_LEN);
	put_u64(&list, p->n);
	for (size_t i = 0; i < p->n; i++) {
		put_u64(&list, p->e[i].key);
		put_u64(&list, p->e[i].len);
		put_u64(&list, p->e[i].mark.ino);
		put_u64(&list, p->e[i].mark.size);
		put_u64(&list, (uint64_t)p->e[i].mark.sec);
		put_u64(&list, p->e[i].mark.nsec);
	}
	int rc = output_write_marked(p->o, p->rel, list.ptr, list.len, mark, err);
	if (total)
		*total = p->n;
	if (written)
		*written = p->written;
	buf_release(&list);
	parts_discard(p);
	return rc;
}

/* ---- serving ---- */

int parts_read(const char *path, buf *page)
{
	part_entry *e;
	size_t n;
	if (!list_parse(page->ptr, page->len, &e, &n))
		return 0;
	buf whole = BUF_INIT, name = BUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		buf_clear(&name);
		part_path(&name, path, e[i].key);
		int fd = open(name.ptr, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != e[i].len) {
			rc = -1;
		} else {
			/* Room for what the file holds, not what the list says. */
			size_t want = (size_t)st.st_size, got = 0;
			buf_grow(&whole, want);
			while (got < want) {
				ssize_t r = read(fd, whole.ptr + whole.len + got, want - got);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					break;
				got += (size_t)r;
			}
			if (got == want)
				whole.len += want;
			else
				rc = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0) {
		whole.ptr[whole.len] = '\0';
		buf t = *page;
		*page = whole;
		whole = t;
	}
	buf_release(&whole);
	buf_release(&name);
	free(e);
	return rc;
}
