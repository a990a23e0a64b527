/* Unit tests for cache: values kept by a build read back from the file
 * once it is saved (cache_rehome, cache_moved, cache_forget_kept,
 * cache_mapped), a file another build changed meanwhile is not trusted
 * for it, and values no build asks for survive a rewrite of the file
 * when the cache keeps unused ones. The build-level behaviour (edits, damage, stamps) is in
 * cache.sh. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
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
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
