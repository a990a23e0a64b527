/* Unit tests for parts: a page written in parts reads back (parts_read)
 * as the bytes put, in order; a rebuild keeps the parts it names again
 * without writing them, writes the new ones, and the output removes the
 * parts no list names; the last page's bytes come back part by part
 * (parts_old_bytes) but never across two; a part changed by hand is not
 * kept; a list whose part is missing does not read, and leaves the
 * caller's bytes alone; a page that is not a list is left as it is. */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fixture.h"
#include "output.h"
#include "parts.h"
#include "tap.h"

#define REL "print/index.html"


static const char *part_at(uint64_t key)
{
	static char rel[64];
	snprintf(rel, sizeof rel, REL ".parts/%016llx", (unsigned long long)key);
	return fixture_path(rel);
}

/* How many files the page's parts folder holds. */
static int parts_on_disk(void)
{
	DIR *d = opendir(fixture_path(REL ".parts"));
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* What a server sends for the page: "" when it does not read. */
static char *served(void)
{
	buf b = BUF_INIT;
	if (buf_read_file(&b, fixture_path(REL)) < 0 || parts_read(fixture_path(REL), &b) < 0)
		buf_clear(&b);
	return buf_detach(&b);
}

static output *begin(void)
{
	output *o = NULL;
	gen_err err = { 0 };
	if (output_begin(&o, fixture_dir, NULL, &err) < 0)
		diag("output_begin: %s", err.msg);
	return o;
}

static int put_part(parts_page *p, const char *bytes, uint64_t key)
{
	gen_err err = { 0 };
	int rc = parts_put(p, bytes, strlen(bytes), &err);
	return rc < 0 ? rc : parts_cut(p, key, &err);
}

static void test_first(void)
{
	output *o = begin();
	ok(o != NULL, "an empty output");
	ok(parts_old_open(o, REL) == NULL, "no last page in an empty output");
	parts_page *p = NULL;
	gen_err err = { 0 };
	is(parts_open(o, REL, NULL, &p, &err), 0, "parts_open");
	ok(!parts_keep(p, 1), "nothing to keep without a last page");
	is(put_part(p, "<html>AAA", 1), 0, "part 1");
	/* A part put in several calls. */
	is(parts_put(p, "B", 1, &err), 0, "part 2, first bytes");
	is(put_part(p, "B", 2), 0, "part 2, the rest");
	is(put_part(p, "", 7), 0, "a part of no bytes");
	is(put_part(p, "C</html>", 3), 0, "part 3");
	output_mark mark;
	size_t total = 0, written = 0;
	is(parts_close(p, &mark, &total, &written, &err), 0, "parts_close");
	is(total, 4, "four parts in the list");
	is(written, 4, "all four written");
	is(output_commit(o, &err), 0, "commit");

	char *page = served();
	is_str(page, "<html>AAABBC</html>", "the page reads back whole, in order");
	free(page);
	buf raw = BUF_INIT;
	buf_read_file(&raw, fixture_path(REL));
	ok(raw.len > PARTS_MAGIC_LEN && memcmp(raw.ptr, PARTS_MAGIC, PARTS_MAGIC_LEN) == 0,
	   "the file at the page's path is the list");
	struct stat st;
	ok(stat(fixture_path(REL), &st) == 0 && (uint64_t)st.st_ino == mark.ino &&
		   (uint64_t)st.st_size == mark.size && st.st_mtim.tv_sec == mark.sec,
	   "the mark is the list file's");
	buf_release(&raw);
	is(parts_on_disk(), 4, "one file per part");

	/* Not a list: a page of the site as it is. */
	buf html = BUF_INIT;
	buf_puts(&html, "<p>gewoon</p>");
	is(parts_read(fixture_path(REL), &html), 0, "a page that is not a list reads");
	is_str(html.ptr, "<p>gewoon</p>", "and stays as it was");
	buf_release(&html);
}

static void test_rebuild(void)
{
	output *o = begin();
	parts_old *old = parts_old_open(o, REL);
	ok(old != NULL, "the last page, in parts");
	if (!old) {
		output_abort(o);
		return;
	}
	is(parts_old_len(old), 19, "its length");
	const char *b = parts_old_bytes(old, 6, 3);
	ok(b && memcmp(b, "AAA", 3) == 0, "bytes within the first part");
	b = parts_old_bytes(old, 9, 2);
	ok(b && memcmp(b, "BB", 2) == 0, "a whole part");
	ok(parts_old_bytes(old, 8, 2) == NULL, "not across two parts");
	ok(parts_old_bytes(old, 18, 2) == NULL, "not past the end");
	b = parts_old_bytes(old, 19, 0);
	ok(b != NULL, "no bytes at the end");
	b = parts_old_bytes(old, 11, 8);
	ok(b && memcmp(b, "C</html>", 8) == 0, "the last part, past one of no bytes");

	struct stat kept_before;
	stat(part_at(1), &kept_before);
	parts_page *p = NULL;
	gen_err err = { 0 };
	is(parts_open(o, REL, old, &p, &err), 0, "parts_open with the last page");
	ok(parts_keep(p, 1), "part 1 kept");
	ok(!parts_keep(p, 4), "a key the last page did not have is not");
	is(put_part(p, "XY", 4), 0, "a new part");
	ok(parts_keep(p, 3), "part 3 kept");
	ok(parts_keep(p, 1), "one part twice on a page");
	size_t total = 0, written = 0;
	output_mark mark;
	is(parts_close(p, &mark, &total, &written, &err), 0, "parts_close");
	is(total, 4, "four parts in the list");
	is(written, 1, "one of them written");
	parts_old_close(old);
	is(output_commit(o, &err), 0, "commit");

	char *page = served();
	is_str(page, "<html>AAAXYC</html><html>AAA", "the page reads back with the new part");
	free(page);
	is(parts_on_disk(), 3, "the parts no list names are gone");
	struct stat st;
	ok(stat(part_at(2), &st) != 0, "part 2 removed as stale");
	ok(stat(part_at(1), &st) == 0 && st.st_ino == kept_before.st_ino &&
		   st.st_mtim.tv_nsec == kept_before.st_mtim.tv_nsec,
	   "a kept part's file is not written again");
}

/* A page kept as it is: its parts with it, not removed as stale. */
static void test_keep_all(void)
{
	output *o = begin();
	gen_err err = { 0 };
	struct stat st;
	stat(fixture_path(REL), &st);
	output_mark list = { (uint64_t)st.st_ino, (uint64_t)st.st_size, st.st_mtim.tv_sec,
			     (uint64_t)st.st_mtim.tv_nsec };
	ok(output_keep(o, REL, &list), "the list kept, as its caller does");
	ok(parts_keep_all(o, REL), "parts_keep_all keeps every part");
	ok(!parts_keep_all(o, "print/elders.html"), "false where no list stands");
	is(output_commit(o, &err), 0, "commit");
	char *page = served();
	is_str(page, "<html>AAAXYC</html><html>AAA", "the page still reads back");
	free(page);
	is(parts_on_disk(), 3, "with all its parts");
}

static void test_by_hand(void)
{
	/* Same length, other bytes, a later time. */
	FILE *f = fopen(part_at(4), "w");
	if (f) {
		fputs("ZZ", f);
		fclose(f);
	}
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 1, 0 } };
	utimensat(AT_FDCWD, part_at(4), ts, 0);
	output *o = begin();
	parts_old *old = parts_old_open(o, REL);
	parts_page *p = NULL;
	gen_err err = { 0 };
	parts_open(o, REL, old, &p, &err);
	ok(parts_keep(p, 1), "an untouched part is kept");
	ok(!parts_keep(p, 4), "a part changed by hand is not");
	is(put_part(p, "XY", 4), 0, "but written again");
	ok(parts_keep(p, 3), "part 3 kept");
	size_t written = 0;
	output_mark mark;
	parts_close(p, &mark, NULL, &written, &err);
	is(written, 1, "one part written");
	parts_old_close(old);
	is(output_commit(o, &err), 0, "commit");
	char *page = served();
	is_str(page, "<html>AAAXYC</html>", "the page is right again");
	free(page);

	/* A list whose part is gone does not read; the bytes stay. */
	unlink(part_at(3));
	buf b = BUF_INIT;
	buf_read_file(&b, fixture_path(REL));
	size_t len = b.len;
	is(parts_read(fixture_path(REL), &b), -1, "a missing part: the list does not read");
	ok(b.len == len && memcmp(b.ptr, PARTS_MAGIC, PARTS_MAGIC_LEN) == 0,
	   "and the caller's bytes are as they were");
	buf_release(&b);
	o = begin();
	old = parts_old_open(o, REL);
	ok(old && parts_old_bytes(old, 11, 8) == NULL, "nor are its bytes read back");
	parts_old_close(old);
	/* Nothing written: the page is dropped, the output keeps no list. */
	parts_open(o, REL, NULL, &p, &err);
	parts_discard(p);
	output_abort(o);
}

int main(void)
{
	fixture_begin(); /* the output: empty, then as each build left it */
	test_first();
	test_rebuild();
	test_keep_all();
	test_by_hand();
	fixture_end();
	return done_testing();
}
