/* Unit tests for cache: values kept by a build read back from the file
 * once it is saved (cache_rehome, cache_moved, cache_forget_kept,
 * cache_mapped), a file another build changed meanwhile is not trusted
 * for it, and values no build asks for survive a rewrite of the file
 * when the cache keeps unused ones. The build-level behaviour (edits, damage, stamps) is in
 * cache.sh. */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "config.h"
#include "document.h"
#include "fixture.h"
#include "markdown.h"
#include "tap.h"

static char dir[512];

/* A value of n bytes that says which it is. */
static void value_of(buf *b, int k, size_t n)
{
	buf_clear(b);
	while (b->len < n)
		buf_printf(b, "waarde %d, ", k);
	buf_truncate(b, n);
}

static void test_rehome(void)
{
	cache_file *c = cache_open(dir, "t.pack", 42, NULL);
	const char *kept[40];
	buf v = BUF_INIT, key = BUF_INIT;
	/* Sizes across page boundaries, some larger than a page. */
	for (int k = 0; k < 40; k++) {
		value_of(&v, k, (size_t)(100 + k * 613));
		buf_clear(&key);
		buf_printf(&key, "sleutel-%02d", k);
		kept[k] = cache_put(c, key.ptr, key.len, v.ptr, v.len);
	}
	ok(kept[0] && kept[39], "cache_put gives its copy of each value");
	ok(!cache_mapped(c, kept[3]), "a kept copy is the build's memory, not a mapping");
	ok(!cache_rehome(c), "nothing to read back before cache_save");
	ok(cache_moved(c, kept[3]) == NULL, "and nothing has moved");
	cache_save(c, NULL);
	ok(cache_rehome(c), "after cache_save, the kept values read back from the file");
	int same = 0, mapped = 0;
	for (int k = 0; k < 40; k++) {
		value_of(&v, k, (size_t)(100 + k * 613));
		const char *now = cache_moved(c, kept[k]);
		const char *mid = cache_moved(c, kept[k] + v.len / 2);
		same += now && memcmp(now, v.ptr, v.len) == 0 && mid == now + v.len / 2;
		mapped += cache_mapped(c, now) && !cache_mapped(c, kept[k]);
	}
	is(same, 40, "cache_moved finds each value's bytes in the file, at any byte of it");
	is(mapped, 40, "and they are in a mapping");
	char other = 'x';
	ok(cache_moved(c, &other) == NULL, "a pointer into no kept value does not move");
	cache_forget_kept(c);
	is((int)cache_puts(c), 0, "cache_forget_kept lets the copies go");
	cache_close(c);

	/* The next build reads them as written. */
	c = cache_open(dir, "t.pack", 42, NULL);
	size_t len;
	const char *got = cache_get(c, "sleutel-07", 10, &len);
	value_of(&v, 7, 100 + 7 * 613);
	ok(got && len == v.len && memcmp(got, v.ptr, len) == 0, "the file holds them for the next build");
	ok(cache_mapped(c, got), "which reads them from a mapping");
	/* Records added to a file that stays: appended, and found there. */
	value_of(&v, 99, 5000);
	const char *more = cache_put(c, "sleutel-99", 10, v.ptr, v.len);
	for (int k = 0; k < 40; k++) {
		buf_clear(&key);
		buf_printf(&key, "sleutel-%02d", k);
		cache_get(c, key.ptr, key.len, &len); /* still wanted: not dropped */
	}
	cache_save(c, NULL);
	ok(cache_rehome(c), "an appended record reads back too");
	const char *now = cache_moved(c, more);
	ok(now && memcmp(now, v.ptr, v.len) == 0, "from where it was appended");
	cache_close(c);
	buf_release(&v);
	buf_release(&key);
}

/* Another build rewrote the file after this one saved: its values are
 * not where it wrote them, and it keeps its copies. */
static void test_changed_meanwhile(void)
{
	cache_file *c = cache_open(dir, "u.pack", 7, NULL);
	const char *kept = cache_put(c, "a", 1, "eerste waarde", 13);
	cache_save(c, NULL);
	buf path = BUF_INIT;
	buf_printf(&path, "%s/u.pack", dir);
	buf b = BUF_INIT;
	buf_read_file(&b, path.ptr);
	char *hit = NULL;
	for (size_t i = 0; !hit && i + 6 <= b.len; i++)
		if (memcmp(b.ptr + i, "eerste", 6) == 0)
			hit = b.ptr + i;
	if (hit)
		memcpy(hit, "andere", 6);
	FILE *f = fopen(path.ptr, "wb");
	fwrite(b.ptr, 1, b.len, f);
	fclose(f);
	ok(hit != NULL, "the value is in the file");
	ok(!cache_rehome(c), "a file changed since cache_save is not read back");
	ok(cache_moved(c, kept) == NULL, "the value stays where it was");
	ok(memcmp(kept, "eerste waarde", 13) == 0, "and whole");
	cache_close(c);
	buf_release(&b);
	buf_release(&path);
}

static off_t file_size(const char *name)
{
	char path[600];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Rounds of builds that replace five values again and again and never
 * read five others, until the file, mostly dead values, is written anew.
 * With cache_keep_unused the five never read survive that; without it
 * they go (what a build did not ask for is not kept). Returns whether a
 * rewrite was seen, and counts in *survived the old values read back
 * whole after it. */
static bool rounds_until_rewrite(const char *name, bool keep_unused, int *survived)
{
	buf v = BUF_INIT;
	char key[32];
	cache_file *c = cache_open(dir, name, 9, NULL);
	for (int k = 0; k < 10; k++) {
		snprintf(key, sizeof key, "sleutel-%d", k);
		value_of(&v, k, 2000);
		cache_put(c, key, strlen(key), v.ptr, v.len);
	}
	cache_save(c, NULL);
	cache_close(c);
	bool rewritten = false;
	for (int round = 1; round <= 6 && !rewritten; round++) {
		off_t before = file_size(name);
		c = cache_open(dir, name, 9, NULL);
		if (keep_unused)
			cache_keep_unused(c);
		for (int k = 0; k < 5; k++) {
			snprintf(key, sizeof key, "sleutel-%d", k);
			value_of(&v, 100 * round + k, 2000);
			cache_put(c, key, strlen(key), v.ptr, v.len);
		}
		cache_save(c, NULL);
		cache_close(c);
		rewritten = file_size(name) < before;
	}
	*survived = 0;
	c = cache_open(dir, name, 9, NULL);
	for (int k = 5; k < 10; k++) {
		snprintf(key, sizeof key, "sleutel-%d", k);
		value_of(&v, k, 2000);
		size_t len;
		const char *got = cache_get(c, key, strlen(key), &len);
		*survived += got && len == v.len && memcmp(got, v.ptr, len) == 0;
	}
	cache_close(c);
	buf_release(&v);
	return rewritten;
}

static void test_keep_unused(void)
{
	int survived;
	ok(rounds_until_rewrite("w.pack", true, &survived),
	   "keep unused: replaced values pile up until the file is written anew");
	is(survived, 5, "keep unused: values no build asked for survive the rewrite");
	ok(rounds_until_rewrite("x.pack", false, &survived), "by default: a rewrite as well");
	is(survived, 0, "by default: values no build asked for are left out of it");
}

/* Without a directory the cache is off: nothing is kept or moves. */
static void test_off(void)
{
	cache_file *c = cache_open(NULL, "v.pack", 1, NULL);
	ok(cache_put(c, "a", 1, "x", 1) == NULL, "an off cache keeps nothing");
	cache_save(c, NULL);
	ok(!cache_rehome(c), "and reads nothing back");
	cache_close(c);
	ok(!cache_rehome(NULL) && cache_moved(NULL, "x") == NULL && !cache_mapped(NULL, "x"),
	   "no cache at all");
}

/* Whether c holds key with the value value_of(k, n). */
static bool holds(cache_file *c, const char *key, int k, size_t n)
{
	buf want = BUF_INIT;
	value_of(&want, k, n);
	size_t len = 0;
	const char *got = cache_get(c, key, strlen(key), &len);
	bool same = got && len == want.len && memcmp(got, want.ptr, len) == 0;
	buf_release(&want);
	return same;
}

static void put_value(cache_file *c, const char *key, int k, size_t n)
{
	buf v = BUF_INIT;
	value_of(&v, k, n);
	cache_put(c, key, strlen(key), v.ptr, v.len);
	buf_release(&v);
}

/* A process that opens the cache build after build takes the index the
 * last one had, and reads only what that one appended; a file someone
 * else changed meanwhile, or one written anew, is read whole. Either way
 * every value is what a fresh open finds. */
static void test_open_after(void)
{
	cache_file *c = cache_open(dir, "n.pack", 7, NULL);
	put_value(c, "a", 1, 300);
	put_value(c, "b", 2, 5000);
	cache_save(c, NULL); /* a new file: written anew */
	cache_file *d = cache_open_after(c, dir, "n.pack", 7, NULL);
	ok(!cache_reused(d), "after a file written anew: read whole");
	ok(holds(d, "a", 1, 300) && holds(d, "b", 2, 5000), "with every value");
	cache_close(c);
	put_value(d, "c", 3, 700);
	cache_save(d, NULL); /* appended */
	cache_file *e = cache_open_after(d, dir, "n.pack", 7, NULL);
	ok(cache_reused(e), "after an append by the last: its index taken");
	ok(holds(e, "a", 1, 300) && holds(e, "b", 2, 5000), "the values it had");
	ok(holds(e, "c", 3, 700), "and the one it appended");
	/* A new value for a known key, and one more. */
	put_value(e, "a", 4, 400);
	put_value(e, "d", 5, 60);
	cache_save(e, NULL);
	cache_close(d);
	cache_file *f = cache_open_after(e, dir, "n.pack", 7, NULL);
	cache_file *fresh = cache_open(dir, "n.pack", 7, NULL);
	ok(cache_reused(f), "again after the next append");
	ok(holds(f, "a", 4, 400), "a value replaced: the new one");
	ok(holds(f, "b", 2, 5000) && holds(f, "c", 3, 700) && holds(f, "d", 5, 60),
	   "the others as before");
	ok(holds(fresh, "a", 4, 400) && holds(fresh, "d", 5, 60), "as a fresh open has them");
	cache_close(fresh);
	cache_close(e);
	/* Nothing put: the file as f opened it, still its. */
	cache_save(f, NULL);
	cache_file *g = cache_open_after(f, dir, "n.pack", 7, NULL);
	ok(cache_reused(g) && holds(g, "a", 4, 400), "after a build that put nothing");
	/* Another stamp: nothing of it. */
	cache_file *other = cache_open_after(g, dir, "n.pack", 8, NULL);
	ok(!cache_reused(other) && !holds(other, "a", 4, 400), "another stamp: not taken");
	cache_close(other);
	/* Someone else appends (a gen build of the same folder): the file
	 * is not as g left it, and is read whole. */
	cache_file *h = cache_open(dir, "n.pack", 7, NULL);
	holds(h, "a", 4, 400);
	holds(h, "b", 2, 5000);
	holds(h, "c", 3, 700);
	holds(h, "d", 5, 60);
	put_value(h, "e", 6, 90);
	cache_save(h, NULL);
	cache_close(h);
	cache_file *k = cache_open_after(g, dir, "n.pack", 7, NULL);
	ok(!cache_reused(k), "a file another process appended to: read whole");
	ok(holds(k, "e", 6, 90) && holds(k, "a", 4, 400), "with its value too");
	cache_close(g);
	cache_close(f);
	cache_close(k);
}

/* A resident process takes the last build's index, and with it what that
 * build found of each record's checksum: a record it read was found
 * right, and is not checked again. One it did not read still is: its
 * bytes changed on disk, with the file's size and mtime put back as
 * they were, make it a miss and the cache damaged. */
static void test_checked_once(void)
{
	char path[600];
	snprintf(path, sizeof path, "%s/c.pack", dir);
	cache_file *c = cache_open(dir, "c.pack", 7, NULL);
	put_value(c, "gelezen", 1, 300);
	put_value(c, "ongelezen", 2, 300);
	cache_save(c, NULL);
	cache_file *d = cache_open_after(c, dir, "c.pack", 7, NULL);
	ok(holds(d, "gelezen", 1, 300), "checked once: the record read is right");
	cache_save(d, NULL);
	struct stat st;
	ok(stat(path, &st) == 0, "checked once: the file is there");
	/* "waarde 2, " appears only in the record not read. */
	FILE *f = fopen(path, "r+b");
	buf all = BUF_INIT;
	char chunk[4096];
	size_t n;
	while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(&all, chunk, n);
	const char *at = all.ptr ? memmem(all.ptr, all.len, "waarde 2, ", 10) : NULL;
	bool changed = f && at && fseek(f, at - all.ptr, SEEK_SET) == 0 && fputc('W', f) != EOF;
	if (f)
		fclose(f);
	struct timespec times[2] = { st.st_atim, st.st_mtim };
	changed = changed && utimensat(AT_FDCWD, path, times, 0) == 0;
	ok(changed, "checked once: a byte of the other record changed, the mtime put back");
	buf_release(&all);
	cache_file *e = cache_open_after(d, dir, "c.pack", 7, NULL);
	ok(cache_reused(e), "checked once: the index is taken over");
	ok(holds(e, "gelezen", 1, 300), "checked once: the record read before is as it was");
	size_t len = 0;
	ok(cache_get(e, "ongelezen", 9, &len) == NULL,
	   "checked once: the changed record not read before is checked, and a miss");
	cache_close(c);
	cache_close(d);
	cache_close(e);
}

/* cache_intact: a file cut short in place under a mapping is not; one
 * saved to by another cache, or replaced by another file, is. */
static void test_intact(void)
{
	char path[600], other[640];
	snprintf(path, sizeof path, "%s/i.pack", dir);
	snprintf(other, sizeof other, "%s/i.pack.new", dir);
	cache_file *c = cache_open(dir, "i.pack", 7, NULL);
	put_value(c, "a", 1, 20000);
	cache_save(c, NULL);
	cache_close(c);
	c = cache_open(dir, "i.pack", 7, NULL);
	ok(holds(c, "a", 1, 20000) && cache_intact(c), "intact: a cache as opened");
	cache_file *d = cache_open(dir, "i.pack", 7, NULL);
	put_value(d, "b", 2, 300);
	cache_save(d, NULL); /* appended */
	cache_close(d);
	ok(cache_intact(c), "intact: after another cache saved to the file");
	cache_close(c);
	c = cache_open(dir, "i.pack", 7, NULL);
	struct stat st;
	ok(holds(c, "b", 2, 300) && stat(path, &st) == 0 && truncate(path, st.st_size / 2) == 0,
	   "intact: the file a cache maps cut short");
	ok(!cache_intact(c), "intact: not when the file it maps was cut short in place");
	cache_close(c);
	c = cache_open(dir, "i.pack", 7, NULL);
	FILE *f = fopen(other, "w");
	ok(f && fputs("something else", f) >= 0 && fclose(f) == 0 && rename(other, path) == 0,
	   "intact: another file renamed in its place");
	ok(cache_intact(c), "intact: the mapping of the old one is whole");
	ok(cache_intact(NULL), "intact: no cache at all");
	cache_close(c);
}

/* The values of keys 0..n-1 as cache_get gives them, each checked
 * against value_of(k, 50 + 37 * k) (or 60 + 41 * k from ahead on):
 * how many read back right. */
static int read_all(cache_file *c, int n, int ahead)
{
	buf v = BUF_INIT, key = BUF_INIT;
	int right = 0;
	for (int k = 0; k < n; k++) {
		buf_clear(&key);
		buf_printf(&key, "sleutel-%03d", k);
		value_of(&v, k, k >= ahead ? (size_t)(60 + 41 * k) : (size_t)(50 + 37 * k));
		size_t len;
		const char *got = cache_get(c, key.ptr, key.len, &len);
		right += got && len == v.len && memcmp(got, v.ptr, len) == 0;
	}
	buf_release(&v);
	buf_release(&key);
	return right;
}

/* Puts keys from..to-1, the value of k as read_all expects it with
 * ahead. */
static void put_range(cache_file *c, int from, int to, int ahead)
{
	buf v = BUF_INIT, key = BUF_INIT;
	for (int k = from; k < to; k++) {
		buf_clear(&key);
		buf_printf(&key, "sleutel-%03d", k);
		value_of(&v, k, k >= ahead ? (size_t)(60 + 41 * k) : (size_t)(50 + 37 * k));
		cache_put(c, key.ptr, key.len, v.ptr, v.len);
	}
	buf_release(&v);
	buf_release(&key);
}

/* A save ends the file with its contents, and opening takes the records
 * from there; a file that does not end with a whole one is walked. */
static void test_contents(void)
{
	enum { N = 300 };
	char path[600];
	snprintf(path, sizeof path, "%s/c.pack", dir);
	cache_file *c = cache_open(dir, "c.pack", 7, NULL);
	put_range(c, 0, N, N);
	cache_save(c, NULL);
	cache_close(c);

	c = cache_open(dir, "c.pack", 7, NULL);
	ok(cache_listed(c), "contents: a saved file is opened from its contents");
	is(read_all(c, N, N), N, "contents: every value reads back");
	/* Half the keys again with new values, and more keys: appended,
	 * with contents of the whole file after them. */
	put_range(c, N / 2, N + 50, N / 2);
	cache_save(c, NULL);
	cache_close(c);
	struct stat st;
	stat(path, &st);
	off_t appended = st.st_size;
	c = cache_open(dir, "c.pack", 7, NULL);
	ok(cache_listed(c), "contents: after an append, from the new contents");
	is(read_all(c, N + 50, N / 2), N + 50, "contents: the new values win, the others stay");
	cache_close(c);

	/* One byte of the contents changed: the file is walked, and reads
	 * the same. */
	int fd = open(path, O_RDWR);
	unsigned char b = 0;
	ok(fd >= 0 && pread(fd, &b, 1, appended - 20) == 1, "contents: a byte read");
	b ^= 0x10;
	ok(pwrite(fd, &b, 1, appended - 20) == 1, "contents: and changed");
	diag_list d = DIAG_LIST_INIT;
	c = cache_open(dir, "c.pack", 7, &d);
	ok(!cache_listed(c), "contents: damaged contents are not used");
	is(read_all(c, N + 50, N / 2), N + 50, "contents: the walk finds every value");
	is(d.n, (size_t)0, "contents: and the cache is not called damaged");
	cache_close(c);
	diag_release(&d);

	/* Bytes after the contents (a save cut short before its own): no
	 * contents at the end, and the file cut short is damaged. */
	b ^= 0x10;
	ok(pwrite(fd, &b, 1, appended - 20) == 1 && pwrite(fd, "\x05\x01", 2, appended) == 2,
	   "contents: bytes written after them");
	close(fd);
	c = cache_open(dir, "c.pack", 7, &d);
	ok(!cache_listed(c) && read_all(c, N + 50, N / 2) == 0 && d.n == 1,
	   "contents: a file that does not end with them is walked, and found cut short");
	cache_close(c);
	diag_release(&d);
	unlink(path);
}

/* A record's key and value are found from its payload, and its frame
 * from its length, with their varints at their shortest: a file written
 * otherwise (not by gen) is not used, rather than read at the wrong
 * offsets. Here the frame's length of the only record takes two bytes
 * for one, and the file is walked (its contents no longer fit). */
static void test_shortest_varints(void)
{
	char path[600];
	snprintf(path, sizeof path, "%s/v.pack", dir);
	const char *key = "sleutel-met-een-naam";
	const char *val = "een waarde van wat bytes";
	cache_file *c = cache_open(dir, "v.pack", 7, NULL);
	cache_put(c, key, strlen(key), val, strlen(val));
	cache_save(c, NULL);
	cache_close(c);
	size_t len = 0;
	char *bytes = NULL;
	FILE *f = fopen(path, "rb");
	if (f) {
		bytes = malloc(1 << 16);
		len = fread(bytes, 1, 1 << 16, f);
		fclose(f);
	}
	c = cache_open(dir, "v.pack", 7, NULL);
	size_t got = 0;
	const char *v = cache_get(c, key, strlen(key), &got);
	ok(v && got == strlen(val) && memcmp(v, val, got) == 0,
	   "shortest varints: the value reads back as written");
	cache_close(c);
	/* payload: the key's length (one byte), the key, the value */
	const char *at = bytes ? memmem(bytes, len, key, strlen(key)) : NULL;
	size_t plen = 1 + strlen(key) + strlen(val);
	size_t frame = at ? (size_t)(at - bytes) - 1 - 8 - 1 : 0;
	ok(at && plen < 0x80 && (unsigned char)bytes[frame] == plen,
	   "shortest varints: the record's frame found");
	if (at && plen < 0x80) {
		f = fopen(path, "wb");
		unsigned char two[2] = { (unsigned char)(0x80 | plen), 0 };
		fwrite(bytes, 1, frame, f);
		fwrite(two, 1, 2, f);
		fwrite(bytes + frame + 1, 1, len - frame - 1, f);
		fclose(f);
	}
	diag_list d = DIAG_LIST_INIT;
	c = cache_open(dir, "v.pack", 7, &d);
	v = cache_get(c, key, strlen(key), &got);
	ok(!v && !cache_listed(c), "shortest varints: a length in two bytes for one: not used");
	cache_close(c);
	diag_release(&d);
	free(bytes);
	unlink(path);
}

/* A save after one opened from a contents ends the file with a contents
 * of only the records it appended, after the one before; past a few of
 * those, with a whole one again. A damaged contents anywhere in the chain
 * has the file walked. */
static void test_contents_chain(void)
{
	enum { N = 300, SAVES = 12 };
	char path[600];
	snprintf(path, sizeof path, "%s/k.pack", dir);
	cache_file *c = cache_open(dir, "k.pack", 7, NULL);
	put_range(c, 0, N, N);
	cache_save(c, NULL);
	cache_close(c);
	struct stat st;
	stat(path, &st);
	off_t whole = st.st_size; /* the records, then a whole contents */
	int listed = 0, right = 0, small = 0, chained = 0, rewhole = 0;
	off_t most = 0, whole_end = whole;
	for (int s = 1; s <= SAVES; s++) {
		c = cache_open(dir, "k.pack", 7, NULL);
		unsigned chain = cache_contents_chain(c);
		/* Every record read, as a rebuild reads them, and one key
		 * given a new value (the second form of value_of). */
		read_all(c, N, N);
		put_range(c, s, s + 1, 0);
		stat(path, &st);
		off_t before = st.st_size;
		cache_save(c, NULL);
		cache_close(c);
		stat(path, &st);
		off_t grew = st.st_size - before;
		c = cache_open(dir, "k.pack", 7, NULL);
		listed += cache_listed(c);
		right += read_all(c, N, N) == N - s;
		unsigned now = cache_contents_chain(c);
		chained += now == (chain < 8 ? chain + 1 : 0);
		/* A contents of one record: with the record, under 1,000
		 * bytes; a whole one lists 300 in 12 bytes or more each. */
		if (now > 0 && grew > most)
			most = grew;
		small += now > 0 ? grew < 1000 : grew > 12 * N;
		if (now == 0) {
			rewhole++;
			whole_end = st.st_size;
		}
		cache_close(c);
	}
	is(listed, SAVES, "contents chain: every save opened from its contents");
	is(right, SAVES, "contents chain: every value as last put");
	is(chained, SAVES, "contents chain: each save one more, then a whole one again");
	ok(rewhole == 1, "contents chain: a whole one after 8 (%d in %d saves)", rewhole, SAVES);
	ok(small == SAVES, "contents chain: of the appended records only (at most %ld bytes a save)",
	   (long)most);
	/* The whole contents the chain starts from damaged: the chain is not
	 * used, the file is walked, and every value is right. */
	int fd = open(path, O_RDWR);
	unsigned char b = 0;
	ok(fd >= 0 && pread(fd, &b, 1, whole_end - 20) == 1, "contents chain: a byte read");
	b ^= 0x10;
	ok(pwrite(fd, &b, 1, whole_end - 20) == 1,
	   "contents chain: of the whole contents under the last, changed");
	close(fd);
	diag_list d = DIAG_LIST_INIT;
	c = cache_open(dir, "k.pack", 7, &d);
	ok(!cache_listed(c), "contents chain: a damaged contents under the last: not used");
	is(read_all(c, N, N), N - SAVES, "contents chain: the walk finds every value");
	cache_close(c);
	diag_release(&d);
	unlink(path);
}

/* A cold build saves its articles in rounds (parse_all): the first save
 * writes the file, the later ones append to it. Each ends the file with
 * a contents of every record so far, so the next build opens it from
 * there and does not walk the whole file; a round appended behind the
 * cache's back (another build) leaves it to be walked. */
static void test_contents_rounds(void)
{
	enum { N = 120, ROUND = 40 };
	char path[600];
	snprintf(path, sizeof path, "%s/r.pack", dir);
	cache_file *c = cache_open(dir, "r.pack", 7, NULL);
	ok(cache_fresh(c), "rounds: a cold cache");
	for (int lo = 0; lo < N; lo += ROUND) {
		put_range(c, lo, lo + ROUND, N);
		cache_save(c, NULL);
		cache_rehome(c);
		cache_forget_kept(c);
		cache_file *next = cache_open(dir, "r.pack", 7, NULL);
		char name[80];
		snprintf(name, sizeof name, "rounds: after the round of %d, opened from its contents", lo);
		ok(cache_listed(next), "%s", name);
		snprintf(name, sizeof name, "rounds: after the round of %d, every value so far reads back", lo);
		ok(read_all(next, lo + ROUND, N) == lo + ROUND, "%s", name);
		cache_close(next);
	}
	cache_close(c);

	/* Another writer's bytes between two rounds: no contents for a file
	 * this cache does not know the end of. */
	c = cache_open(dir, "s.pack", 7, NULL);
	put_range(c, 0, ROUND, N);
	cache_save(c, NULL);
	cache_rehome(c);
	cache_forget_kept(c);
	cache_file *other = cache_open(dir, "s.pack", 7, NULL);
	put_range(other, ROUND, 2 * ROUND, N);
	cache_save(other, NULL);
	cache_close(other);
	put_range(c, 2 * ROUND, 3 * ROUND, N);
	cache_save(c, NULL);
	cache_close(c);
	diag_list d = DIAG_LIST_INIT;
	c = cache_open(dir, "s.pack", 7, &d);
	ok(!cache_listed(c), "rounds: appended to behind the cache's back, the file is walked");
	is(read_all(c, 3 * ROUND, N), 3 * ROUND, "rounds: and every value reads back");
	is(d.n, (size_t)0, "rounds: and the cache is not called damaged");
	cache_close(c);
	diag_release(&d);
	unlink(path);
	snprintf(path, sizeof path, "%s/s.pack", dir);
	unlink(path);
}

/* Replaces the first from in the file at path by to (as long). */
static bool patch_file(const char *path, const char *from, const char *to)
{
	buf all = BUF_INIT;
	bool done = false;
	if (buf_read_file(&all, path) == 0) {
		char *at = memmem(all.ptr, all.len, from, strlen(from));
		if (at) {
			memcpy(at, to, strlen(to));
			FILE *f = fopen(path, "wb");
			done = f && fwrite(all.ptr, 1, all.len, f) == all.len;
			done = f && fclose(f) == 0 && done;
		}
	}
	buf_release(&all);
	return done;
}

/* An article's record read by a cache that checks it late: up to its
 * replay at once, the replay when the article's HTML, text or anchors
 * are first read. */
static void test_late(void)
{
	static const char site_toml[] = "title = \"Test\"\n";
	config cfg;
	gen_err e;
	if (!ok(config_parse(&cfg, site_toml, strlen(site_toml), "site.toml", NULL, &e) == 0,
		"late: a site.toml"))
		return;
	const char *text = "+++\ntitle = \"Titel in de kop\"\nkind = \"story\"\n+++\n"
			   "De klant komt binnen.\n\n## Aan de balie\n\nHet regent buiten.\n";
	source_file f;
	char rel[] = "content/verhalen/garage.md";
	fixture_source(&f, rel, text, strlen(text));
	document d;
	if (!ok(document_parse(&d, &f, &cfg, false, NULL, &e) == 0, "late: the article parses")) {
		config_release(&cfg);
		return;
	}
	char path[600];
	snprintf(path, sizeof path, "%s/late.pack", dir);
	cache_file *c = cache_open(dir, "late.pack", 11, NULL);
	size_t flen, rlen;
	const char *replay;
	cache_put_document(c, &d, NULL, &flen, &replay, &rlen);
	cache_save(c, NULL);
	cache_close(c);
	document_release(&d);

	/* Whole: read, and nothing found damaged. */
	c = cache_open(dir, "late.pack", 11, NULL);
	cache_check_late(c);
	document t;
	bool hit = cache_get_document(c, &f, &cfg, &t, NULL);
	ok(hit, "late: a whole record is read");
	if (hit) {
		buf html = BUF_INIT;
		markdown_render_html(&html, t.md, NULL, NULL);
		ok(markdown_has_anchor(t.md, "aan-de-balie") && html.len > 0 &&
			   !cache_damaged_late(c),
		   "late: its replay reads, nothing damaged");
		buf_release(&html);
		document_release(&t);
	}
	cache_close(c);

	/* A byte of the HTML and text changed: the record reads, its
	 * replay does not check out once read. */
	ok(patch_file(path, "Het regent", "Het reGent"), "late: a byte of the replay changed");
	c = cache_open(dir, "late.pack", 11, NULL);
	cache_check_late(c);
	hit = cache_get_document(c, &f, &cfg, &t, NULL);
	ok(hit && !cache_damaged_late(c), "late: the record is read, its replay not yet");
	if (hit) {
		is_str(t.fm.title, "Titel in de kop", "late: the front matter is there");
		buf html = BUF_INIT;
		markdown_render_html(&html, t.md, NULL, NULL);
		ok(html.len == 0 && cache_damaged_late(c),
		   "late: the first read of the HTML finds it damaged, and gives none");
		buf_release(&html);
		document_release(&t);
	}
	cache_close(c);
	c = cache_open(dir, "late.pack", 11, NULL);
	ok(!cache_get_document(c, &f, &cfg, &t, NULL),
	   "late: a cache that checks whole records does not read it");
	cache_close(c);

	/* A byte before the replay (the title): not read at all. */
	ok(patch_file(path, "Het reGent", "Het regent") &&
		   patch_file(path, "Titel in de kop", "Titel in de KOP"),
	   "late: the replay put back, a byte of the title changed");
	c = cache_open(dir, "late.pack", 11, NULL);
	cache_check_late(c);
	ok(!cache_get_document(c, &f, &cfg, &t, NULL) && !cache_damaged_late(c),
	   "late: a record damaged before its replay is not read");
	cache_close(c);
	config_release(&cfg);
}

/* Each article's replay is a record of its own, after every article's
 * record in the file: a one-shot rebuild reads the articles and touches
 * the replays of the few it renders. Without its replay an article is
 * not read from the cache. */
static void test_replays_apart(void)
{
	static const char site_toml[] = "title = \"Test\"\n";
	config cfg;
	gen_err e;
	if (!ok(config_parse(&cfg, site_toml, strlen(site_toml), "site.toml", NULL, &e) == 0,
		"apart: a site.toml"))
		return;
	enum { N = 6 };
	source_file f[N];
	char rel[N][64], text[N][256];
	cache_file *c = cache_open(dir, "apart.pack", 12, NULL);
	int put = 0;
	for (int i = 0; i < N; i++) {
		snprintf(rel[i], sizeof rel[i], "content/verhalen/stuk-%d.md", i);
		snprintf(text[i], sizeof text[i],
			 "+++\ntitle = \"Stuk %d\"\n+++\nDe klant %d belt.\n\n## Kop %d\n\nTekst.\n",
			 i, i, i);
		fixture_source(&f[i], rel[i], text[i], strlen(text[i]));
		document d;
		if (document_parse(&d, &f[i], &cfg, false, NULL, &e) != 0)
			continue;
		size_t flen, rlen;
		const char *replay;
		put += cache_put_document(c, &d, NULL, &flen, &replay, &rlen) && replay && rlen > 0;
		document_release(&d);
	}
	is(put, N, "apart: each article kept with its replay");
	cache_save(c, NULL);
	cache_close(c);

	/* In the file: each path once as an article's key, once after the
	 * byte that starts a replay's key, those after all the others. */
	char path[600];
	snprintf(path, sizeof path, "%s/apart.pack", dir);
	buf all = BUF_INIT;
	size_t last_head = 0, first_replay = SIZE_MAX;
	int heads = 0, replays = 0;
	if (buf_read_file(&all, path) == 0) {
		for (int i = 0; i < N; i++) {
			size_t n = strlen(rel[i]);
			for (size_t at = 1; at + n <= all.len; at++) {
				if (memcmp(all.ptr + at, rel[i], n) != 0)
					continue;
				if ((unsigned char)all.ptr[at - 1] == 0xff) {
					replays++;
					first_replay = at < first_replay ? at : first_replay;
				} else {
					heads++;
					last_head = at > last_head ? at : last_head;
				}
			}
		}
	}
	ok(heads == N && replays == N && last_head < first_replay,
	   "apart: every replay after every article in the file (%d, %d)", heads, replays);

	/* Read late and checked whole, each article reads with its HTML. */
	for (int late = 1; late >= 0; late--) {
		c = cache_open(dir, "apart.pack", 12, NULL);
		if (late)
			cache_check_late(c);
		int read = 0;
		for (int i = 0; i < N; i++) {
			document t;
			if (!cache_get_document(c, &f[i], &cfg, &t, NULL))
				continue;
			buf html = BUF_INIT;
			markdown_render_html(&html, t.md, NULL, NULL);
			read += strstr(html.ptr ? html.ptr : "", "belt.") != NULL;
			buf_release(&html);
			document_release(&t);
		}
		ok(read == N && !cache_damaged_late(c), "apart: %s, every article reads whole",
		   late ? "checked late" : "checked whole");
		cache_close(c);
	}

	/* A replay's key no longer its own: a cache that checks whole
	 * records does not find it, nor takes the article. */
	char *at = memmem(all.ptr, all.len, "\xff" "content/verhalen/stuk-2.md",
			  1 + strlen("content/verhalen/stuk-2.md"));
	bool patched = false;
	if (at) {
		at[1] = 'C';
		FILE *out = fopen(path, "wb");
		patched = out && fwrite(all.ptr, 1, all.len, out) == all.len;
		patched = out && fclose(out) == 0 && patched;
	}
	ok(patched, "apart: the key of a replay changed");
	c = cache_open(dir, "apart.pack", 12, NULL);
	document t;
	bool hit = cache_get_document(c, &f[2], &cfg, &t, NULL);
	if (hit)
		document_release(&t);
	bool other = cache_get_document(c, &f[3], &cfg, &t, NULL);
	if (other)
		document_release(&t);
	ok(!hit && other, "apart: that article is not read from the cache, the next one is");
	cache_close(c);
	buf_release(&all);
	config_release(&cfg);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/gen-cache.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_rehome();
	test_changed_meanwhile();
	test_off();
	test_keep_unused();
	test_open_after();
	test_checked_once();
	test_intact();
	test_contents();
	test_shortest_varints();
	test_contents_chain();
	test_contents_rounds();
	test_late();
	test_replays_apart();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
