/* Unit tests for output: a FRESH build appears whole at commit; an UPDATE
 * build leaves equal files alone (same inode, same mtime), replaces changed
 * ones, adds new ones, removes stale ones with the directories they empty,
 * swaps files and directories that trade places, never follows a symbolic
 * link, and changes nothing in the output before commit or after abort.
 * Also: writes from several threads, the paths and directories output
 * refuses, and copies of an old file's bytes (output_copy), by the kernel
 * and, from another file system, through a buffer. */
#define _GNU_SOURCE /* memfd_create, copy_file_range */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "output.h"
#include "tap.h"

static char base[512]; /* a fresh directory for everything here */
static char out[600];  /* the output directory, inside base */

/* out/rel; good until the call after next. */
static const char *at(const char *rel)
{
	static buf path[2] = { BUF_INIT, BUF_INIT };
	static int turn;
	turn = !turn;
	buf_clear(&path[turn]);
	buf_printf(&path[turn], "%s/%s", out, rel);
	return path[turn].ptr;
}

/* The contents of a file, or NULL; caller frees. */
static char *slurp(const char *path)
{
	buf b = BUF_INIT;
	if (buf_read_file(&b, path) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static bool has(const char *rel, const char *want)
{
	char *got = slurp(at(rel));
	bool same = got && strcmp(got, want) == 0;
	if (!same)
		diag("%s holds '%s', want '%s'", rel, got ? got : "(nothing)", want);
	free(got);
	return same;
}

static bool is_kind(const char *rel, mode_t kind)
{
	struct stat st;
	return lstat(at(rel), &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

static bool gone(const char *rel)
{
	struct stat st;
	return lstat(at(rel), &st) < 0 && errno == ENOENT;
}

/* Makes an empty file at rel, as a hand in the output would. */
static void touch(const char *rel)
{
	FILE *f = fopen(at(rel), "w");
	if (f)
		fclose(f);
}

/* Writes text to rel, filling mark (may be NULL) as the commit will
 * leave the file. */
static int put_marked(output *o, const char *rel, const char *text, output_mark *mark)
{
	gen_err err = { 0 };
	int rc = output_write_marked(o, rel, text, strlen(text), mark, &err);
	if (rc < 0)
		diag("output_write %s: %s: %s", rel, err.file, err.msg);
	return rc;
}

static int put(output *o, const char *rel, const char *text)
{
	return put_marked(o, rel, text, NULL);
}

/* Entries beside out named like a staging or temporary directory. */
static int leftovers(void)
{
	const char *name = strrchr(out, '/') + 1;
	char prefix[600];
	snprintf(prefix, sizeof prefix, "%s.tmp-", name);
	DIR *d = opendir(base);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

/* The path of the one staging directory beside out, or "" . */
static void staging(char *path, size_t size)
{
	const char *name = strrchr(out, '/') + 1;
	char prefix[600];
	snprintf(prefix, sizeof prefix, "%s.tmp-", name);
	*path = '\0';
	DIR *d = opendir(base);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			snprintf(path, size, "%s/%s", base, e->d_name);
	if (d)
		closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void snap_dir(const char *rel, char ***lines, size_t *n)
{
	DIR *d = opendir(at(rel));
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		buf sub = BUF_INIT, line = BUF_INIT;
		buf_printf(&sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		struct stat st;
		lstat(at(sub.ptr), &st);
		buf_printf(&line, "%s %o %lu %ld.%09ld", sub.ptr, (unsigned)st.st_mode,
			   (unsigned long)st.st_ino, (long)st.st_mtim.tv_sec,
			   (long)st.st_mtim.tv_nsec);
		if (S_ISREG(st.st_mode)) {
			char *text = slurp(at(sub.ptr));
			buf_printf(&line, " [%s]", text ? text : "?");
			free(text);
		}
		*lines = realloc(*lines, (*n + 1) * sizeof **lines);
		(*lines)[(*n)++] = buf_detach(&line);
		if (S_ISDIR(st.st_mode))
			snap_dir(sub.ptr, lines, n);
		buf_release(&sub);
	}
	if (d)
		closedir(d);
}

/* Every entry under out with its mode, inode, mtime and bytes, one line
 * each, sorted; caller frees. */
static char *snapshot(void)
{
	char **lines = NULL;
	size_t n = 0;
	snap_dir("", &lines, &n);
	if (n) /* qsort wants a real array even for none */
		qsort(lines, n, sizeof *lines, cmp_str);
	buf all = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		buf_printf(&all, "%s\n", lines[i]);
		free(lines[i]);
	}
	free(lines);
	return buf_detach(&all);
}

/* Sets the mtime of every regular file under out to long ago, so that a
 * file rewritten by the next build cannot keep its mtime by chance; with
 * dirs, that of every directory instead (out too): what a manifest
 * trusts, as a directory whose mtime is recent might still change within
 * the same tick of the clock. */
static void age(const char *rel, bool dirs)
{
	static const struct timespec t[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	DIR *d = opendir(at(rel));
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		buf sub = BUF_INIT;
		buf_printf(&sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		struct stat st;
		if (lstat(at(sub.ptr), &st) == 0 && S_ISDIR(st.st_mode))
			age(sub.ptr, dirs);
		else if (!dirs)
			utimensat(AT_FDCWD, at(sub.ptr), t, AT_SYMLINK_NOFOLLOW);
		buf_release(&sub);
	}
	if (d)
		closedir(d);
	if (dirs)
		utimensat(AT_FDCWD, at(rel), t, AT_SYMLINK_NOFOLLOW);
}

static bool same_file(const struct stat *a, const char *rel)
{
	struct stat b;
	return lstat(at(rel), &b) == 0 && a->st_ino == b.st_ino &&
	       a->st_mtim.tv_sec == b.st_mtim.tv_sec && a->st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

static int begin(output **o)
{
	gen_err err = { 0 };
	int rc = output_begin(o, out, NULL, &err);
	if (rc < 0)
		diag("output_begin: %s", err.msg);
	return rc;
}

static int commit(output *o)
{
	gen_err err = { 0 };
	int rc = output_commit(o, &err);
	if (rc < 0)
		diag("output_commit: %s: %s", err.file, err.msg);
	return rc;
}

static void test_fresh(void)
{
	output *o = NULL;
	ok(begin(&o) == 0 && o, "begin on a directory that does not exist");
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c1");
	put(o, "a/b/d.html", "d1");
	put(o, "a/e.html", "e1");
	put(o, "old/deep/gone.html", "old");
	put(o, "keep/k.html", "k");
	put(o, "twice.html", "first");
	put(o, "twice.html", "second");
	ok(gone(""), "fresh: nothing at the output before commit");
	is(leftovers(), 1, "fresh: the new site is built beside the output");
	is(output_changed(o), 8, "fresh: every write counts as written");
	is(output_unchanged(o), 0, "fresh: nothing unchanged");
	is(commit(o), 0, "fresh: commit");
	ok(has("index.html", "home") && has("a/b/c.html", "c1") && has("a/b/d.html", "d1") &&
		   has("a/e.html", "e1") && has("old/deep/gone.html", "old"),
	   "fresh: every file in place");
	ok(has("twice.html", "second"), "fresh: the last write of a path wins");
	char *mark = slurp(at(OUTPUT_MARK));
	ok(mark && strstr(mark, "built by gen"), "fresh: the site has the mark, in words");
	free(mark);
	struct stat st;
	ok(stat(out, &st) == 0 && (st.st_mode & 0777) == 0755, "fresh: the site is world-readable");
	is(leftovers(), 0, "fresh: nothing left beside the output");
}

static void test_unchanged(void)
{
	age("", false);
	struct stat home, c;
	lstat(at("index.html"), &home);
	lstat(at("a/b/c.html"), &c);
	output *o = NULL;
	ok(begin(&o) == 0, "update: begin on the previous site");
	put(o, "index.html", "home");
	put(o, "a//b/./c.html", "c1"); /* the same path, spelled oddly */
	put(o, "a/b/d.html", "d1");
	put(o, "a/e.html", "e1");
	put(o, "old/deep/gone.html", "old");
	put(o, "keep/k.html", "k");
	put(o, "twice.html", "second");
	is(output_unchanged(o), 7, "update: equal files count as unchanged");
	is(output_changed(o), 0, "update: nothing written");
	char path[1200];
	staging(path, sizeof path);
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	is(n, 0, "update: nothing staged for equal files");
	is(commit(o), 0, "update: commit");
	ok(same_file(&home, "index.html"), "update: an equal file keeps its inode and mtime");
	ok(same_file(&c, "a/b/c.html"), "update: also when its path was spelled oddly");
	ok(has("a/b/c.html", "c1"), "update: and is not removed as stale");
	is(leftovers(), 0, "update: the staging directory is removed");
}

static void test_changes(void)
{
	age("", false);
	struct stat home, e1;
	lstat(at("index.html"), &home);
	lstat(at("a/e.html"), &e1);
	ok(mkdir(at("empty"), 0755) == 0, "an empty directory in the previous site");
	output *o = NULL;
	ok(begin(&o) == 0, "changes: begin");
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c2");
	put(o, "a/e.html", "e1");
	put(o, "x/y/z/new.html", "new");
	put(o, "keep/k.html", "k");
	put(o, "twice.html", "third");
	put(o, "twice.html", "fourth");
	is(output_changed(o), 3, "changes: changed and new files count as written, a path once");
	is(output_unchanged(o), 3, "changes: the rest as unchanged");

	/* Staged files are flat: no directories beside the output either. */
	char path[1200];
	staging(path, sizeof path);
	DIR *d = opendir(path);
	int files = 0, dirs = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[1600];
		struct stat st;
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			dirs++;
		else
			files++;
	}
	if (d)
		closedir(d);
	is(files, 3, "changes: one staged file per changed path (a rewrite replaces)");
	is(dirs, 0, "changes: staging makes no directories");
	ok(has("a/b/c.html", "c1") && gone("x") && has("old/deep/gone.html", "old") &&
		   has("twice.html", "second"),
	   "changes: nothing in the output changes before commit");

	is(commit(o), 0, "changes: commit");
	ok(has("a/b/c.html", "c2"), "changes: a changed file gets the new bytes");
	ok(has("x/y/z/new.html", "new"), "changes: a new file in new nested directories appears");
	ok(has("twice.html", "fourth"), "changes: the last write of a path wins");
	ok(same_file(&home, "index.html") && same_file(&e1, "a/e.html"),
	   "changes: equal files are left alone");
	ok(gone("a/b/d.html"), "changes: a file this build did not write is removed");
	ok(is_kind("a/b", S_IFDIR), "changes: its directory stays while it holds another file");
	ok(gone("old"), "changes: directories emptied by removing stale files are removed");
	ok(gone("empty"), "changes: an empty directory the site does not have is removed");
	ok(is_kind("", S_IFDIR), "changes: the output directory stays");
	is(leftovers(), 0, "changes: the staging directory is removed");
}

static void test_swaps(void)
{
	/* a is a directory (a/b/c.html, a/e.html); now it is a file. */
	output *o = NULL;
	begin(&o);
	put(o, "index.html", "home");
	put(o, "a", "a is a file");
	is(commit(o), 0, "directory -> file: commit");
	ok(is_kind("a", S_IFREG) && has("a", "a is a file"), "directory -> file: a is a file");
	ok(has("index.html", "home"), "directory -> file: the rest is there");

	/* And back: a becomes a directory again. */
	begin(&o);
	put(o, "index.html", "home");
	put(o, "a/index.html", "a is a directory");
	is(commit(o), 0, "file -> directory: commit");
	ok(is_kind("a", S_IFDIR) && has("a/index.html", "a is a directory"),
	   "file -> directory: a is a directory");

	/* A symbolic link where the site has a directory is replaced, not
	 * followed; a stale one is removed, not followed either. */
	char elsewhere[600], target[700];
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", base);
	mkdir(elsewhere, 0755);
	snprintf(target, sizeof target, "%s/f.html", elsewhere);
	FILE *fp = fopen(target, "w");
	fputs("outside", fp);
	fclose(fp);
	ok(symlink(elsewhere, at("s")) == 0 && symlink(elsewhere, at("stale")) == 0,
	   "symbolic links in the previous site");
	begin(&o);
	put(o, "index.html", "home");
	put(o, "a/index.html", "a is a directory");
	put(o, "s/f.html", "inside");
	is(output_unchanged(o), 2, "symlink: files behind a link are not taken as unchanged");
	is(commit(o), 0, "symlink: commit");
	ok(is_kind("s", S_IFDIR) && has("s/f.html", "inside"), "symlink: replaced by a directory");
	char *text = slurp(target);
	ok(text && !strcmp(text, "outside"), "symlink: what it pointed to is untouched");
	free(text);
	ok(gone("stale"), "symlink: a stale link is removed");
	text = slurp(target);
	ok(text != NULL, "symlink: and not followed when removed");
	free(text);
}

static void test_abort(void)
{
	char *before = snapshot();
	output *o = NULL;
	begin(&o);
	put(o, "index.html", "home, changed");
	put(o, "n/new.html", "new");
	put(o, "a", "a file again");
	is(leftovers(), 1, "abort: the build staged its files beside the output");
	output_abort(o);
	char *after = snapshot();
	is_str(after, before, "abort: the previous output is byte-identical, same inodes");
	is(leftovers(), 0, "abort: the staging directory is removed");
	output_abort(NULL);
	ok(1, "abort accepts NULL");

	/* A build that writes one path as both a file and a directory fails
	 * at commit, before touching the output. */
	begin(&o);
	put(o, "index.html", "home, changed");
	put(o, "c", "file");
	put(o, "c/index.html", "directory");
	gen_err err = { 0 };
	ok(output_commit(o, &err) < 0 && strstr(err.msg, "'c' is written both"),
	   "a path written as a file and as a directory fails the commit");
	diag("%s", err.msg);
	char *again = snapshot();
	is_str(again, before, "and the output is untouched");
	is(leftovers(), 0, "and nothing is left beside it");
	free(before);
	free(after);
	free(again);
}

typedef struct {
	output *o;
	int id;
	const char *version;
	int failed;
} worker;

enum { THREADS = 4, PER_THREAD = 300 };

static void *work(void *arg)
{
	worker *w = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		char rel[64], text[64];
		/* Threads share directories, so they race to make them. */
		snprintf(rel, sizeof rel, "t/p%d/q%d/f%d-%d.html", i % 7, i % 3, w->id, i);
		snprintf(text, sizeof text, "%s %d %d", i % 2 ? w->version : "same", w->id, i);
		if (put(w->o, rel, text) < 0)
			w->failed++;
	}
	return NULL;
}

static int threaded(const char *version)
{
	output *o = NULL;
	begin(&o);
	pthread_t t[THREADS];
	worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker){ o, i, version, 0 };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	int failed = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		failed += w[i].failed;
	}
	ok(failed == 0, "threads (%s): every write succeeds", version);
	diag("%zu written, %zu unchanged", output_changed(o), output_unchanged(o));
	size_t changed = output_changed(o), unchanged = output_unchanged(o);
	commit(o);
	int wrong = 0;
	for (int id = 0; id < THREADS; id++) {
		for (int i = 0; i < PER_THREAD; i++) {
			char rel[64], text[64];
			snprintf(rel, sizeof rel, "t/p%d/q%d/f%d-%d.html", i % 7, i % 3, id, i);
			snprintf(text, sizeof text, "%s %d %d", i % 2 ? version : "same", id, i);
			wrong += !has(rel, text);
		}
	}
	is(wrong, 0, "threads: every file holds what its thread wrote");
	return (int)(changed * 100000 + unchanged);
}

static void test_threads(void)
{
	/* A fresh output, then an update where half the files change. */
	char saved[600];
	snprintf(saved, sizeof saved, "%s", out);
	snprintf(out, sizeof out, "%s/threads", base);
	is(threaded("v1"), THREADS * PER_THREAD * 100000, "threads: fresh, all written");
	is(threaded("v2"), THREADS * PER_THREAD / 2 * 100000 + THREADS * PER_THREAD / 2,
	   "threads: update, half written, half unchanged");
	snprintf(out, sizeof out, "%s", saved);
}

static void test_refusals(void)
{
	output *o = NULL;
	gen_err err = { 0 };

	/* Paths that do not name a file inside the output. */
	begin(&o);
	const char *bad[] = { "../evil.html", "a/../../evil.html", "..", "/etc/passwd", "",
			      "a/", "a/.", "." };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char name[80];
		snprintf(name, sizeof name, "refuses to write '%s'", bad[i]);
		err_clear(&err);
		is(output_write(o, bad[i], "x", 1, &err), GEN_EUSAGE, name);
	}
	char evil[700];
	snprintf(evil, sizeof evil, "%s/evil.html", base);
	ok(access(evil, F_OK) < 0, "nothing written outside the output");
	output_abort(o);

	/* A project, not a site. */
	char proj[600], toml[700], git[700];
	snprintf(proj, sizeof proj, "%s/project", base);
	mkdir(proj, 0755);
	snprintf(toml, sizeof toml, "%s/site.toml", proj);
	FILE *fp = fopen(toml, "w");
	fputs("title = \"x\"\n", fp);
	fclose(fp);
	o = (output *)1;
	err_clear(&err);
	is(output_begin(&o, proj, NULL, &err), GEN_EUSAGE, "refuses a directory holding site.toml");
	ok(o == NULL, "and hands back no output");
	ok(strstr(err.msg, "holds a project") != NULL, "saying why");
	ok(access(toml, F_OK) == 0, "site.toml is still there");
	unlink(toml);
	snprintf(git, sizeof git, "%s/.git", proj);
	mkdir(git, 0755);
	is(output_begin(&o, proj, NULL, &err), GEN_EUSAGE, "refuses a directory holding .git");
	rmdir(git);
	rmdir(proj);

	/* A folder that holds what no gen build made: refused, untouched. */
	char home[600], note[700], mark[700];
	snprintf(home, sizeof home, "%s/thuis", base);
	snprintf(note, sizeof note, "%s/notities.txt", home);
	snprintf(mark, sizeof mark, "%s/" OUTPUT_MARK, home);
	mkdir(home, 0755);
	fp = fopen(note, "w");
	fputs("belangrijk", fp);
	fclose(fp);
	o = (output *)1;
	err_clear(&err);
	is(output_begin(&o, home, NULL, &err), GEN_EUSAGE,
	   "refuses a folder that holds something, without the mark");
	ok(o == NULL, "and hands back no output");
	ok(strstr(err.msg, "'notities.txt'") && strstr(err.msg, "no gen build made"),
	   "naming what it holds");
	char *kept = slurp(note);
	ok(kept && !strcmp(kept, "belangrijk") && access(mark, F_OK) < 0,
	   "and leaves the folder as it was");
	free(kept);
	/* The same folder with the mark is a site gen built: what no build
	 * makes goes at the commit. */
	fp = fopen(mark, "w");
	fclose(fp);
	is(output_begin(&o, home, NULL, &err), 0, "takes a folder with the mark");
	is(output_commit(o, &err), 0, "and commits to it");
	ok(access(note, F_OK) < 0, "removing what the build did not make");
	kept = slurp(mark);
	ok(kept && strstr(kept, "built by gen"), "and writing the mark's words");
	free(kept);
	unlink(mark);
	/* An empty folder is taken. */
	is(output_begin(&o, home, NULL, &err), 0, "takes an empty folder");
	output_abort(o);
	unlink(mark);
	rmdir(home);

	/* A file where the site should go. */
	char file[600];
	snprintf(file, sizeof file, "%s/notes.txt", base);
	fp = fopen(file, "w");
	fputs("important", fp);
	fclose(fp);
	err_clear(&err);
	is(output_begin(&o, file, NULL, &err), GEN_EUSAGE, "refuses an output that is a file");
	ok(strstr(err.msg, "not a directory") != NULL, "saying why");
	char *text = slurp(file);
	ok(text && !strcmp(text, "important"), "and leaves the file alone");
	free(text);
	unlink(file);
}

static void test_empty_build(void)
{
	output *o = NULL;
	begin(&o);
	is(commit(o), 0, "a build that writes nothing");
	char *all = snapshot();
	/* One line of the snapshot, the mark's (its text ends in "\n]"). */
	bool only_mark = all && strncmp(all, OUTPUT_MARK " ", strlen(OUTPUT_MARK) + 1) == 0 &&
			 strstr(all, "]\n") == all + strlen(all) - 2;
	ok(only_mark, "removes everything in the output but the mark");
	if (!only_mark)
		diag("%s", all ? all : "(nothing)");
	ok(is_kind("", S_IFDIR), "but the output directory itself");
	free(all);
}

static void cleanup(const char *path);

/* Whether the last build_four's output_begin scanned a second time. */
static bool last_rescanned;

/* One build of the same four files through the manifest at man, its
 * commit pause_ms after the last file: how many directories
 * output_begin read entry by entry, or -1. */
static long build_four(const char *man, long pause_ms)
{
	output *o = NULL;
	gen_err err = { 0 };
	if (output_begin(&o, out, man, &err) < 0) {
		diag("output_begin: %s", err.msg);
		return -1;
	}
	long n = (long)output_dirs_read(o);
	last_rescanned = output_rescanned(o);
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c");
	put(o, "a/d.html", "d");
	put(o, "e/f.html", "f");
	struct timespec pause = { pause_ms / 1000, (pause_ms % 1000) * 1000000 };
	if (pause_ms)
		nanosleep(&pause, NULL);
	return commit(o) == 0 ? n : -1;
}

static long rebuild(const char *man)
{
	return build_four(man, 0);
}

static void test_manifest(void)
{
	snprintf(out, sizeof out, "%s/manifest", base);
	char man[800];
	snprintf(man, sizeof man, "%s/cache/output.list", base);
	struct stat st;
	is(rebuild(man), 0, "manifest: a fresh site reads nothing");
	ok(stat(man, &st) == 0, "manifest: a fresh build leaves one");
	age("", true);
	is(rebuild(man), 4, "manifest: every folder whose mtime changed since is read");
	ok(stat(man, &st) == 0, "manifest: an update leaves one, its folder made");
	is(rebuild(man), 0, "manifest: nothing changed: no folder is read");
	is(rebuild(man), 0, "manifest: and again");

	/* The same folder spelled otherwise: the manifest is still its. */
	char was[sizeof out], cwd[4096];
	snprintf(was, sizeof was, "%s", out);
	if (getcwd(cwd, sizeof cwd) && chdir(base) == 0) {
		snprintf(out, sizeof out, "./manifest/");
		is(rebuild(man), 0, "manifest: the output spelled relative: no folder is read");
		snprintf(out, sizeof out, "manifest");
		is(rebuild(man), 0, "manifest: and spelled bare");
		ok(chdir(cwd) == 0, "manifest: back where the tests run");
	} else {
		ok(0, "manifest: into the folder above the output");
	}
	snprintf(out, sizeof out, "%s", was);
	is(rebuild(man), 0, "manifest: and absolute again");

	/* A file put in a folder by hand changes the folder's mtime. */
	touch("a/b/by-hand.html");
	is(rebuild(man), 1, "manifest: a folder changed by hand is read again, alone");
	ok(gone("a/b/by-hand.html") && has("a/b/c.html", "c"),
	   "manifest: what was put there is removed as stale");
	is(rebuild(man), 1, "manifest: a folder the commit changed is read once more");
	age("", true);
	is(rebuild(man), 1, "manifest: one whose mtime was too recent is read once more");
	is(rebuild(man), 0, "manifest: then its mtime is trusted");

	/* A folder turned into a file: the folder above changes. */
	unlink(at("e/f.html"));
	rmdir(at("e"));
	touch("e");
	ok(rebuild(man) >= 1 && has("e/f.html", "f"), "manifest: a folder replaced by a file");
	age("", true);
	rebuild(man);

	/* A manifest that is not whole is not used. */
	is(rebuild(man), 0, "manifest: settled again");
	buf b = BUF_INIT;
	buf_read_file(&b, man);
	if (b.len > 20)
		b.ptr[b.len / 2] ^= 1;
	FILE *f = fopen(man, "wb");
	if (f) {
		fwrite(b.ptr, 1, b.len, f);
		fclose(f);
	}
	buf_release(&b);
	is(rebuild(man), 4, "manifest: a damaged one is not used: every folder is read");
	is(rebuild(man), 0, "manifest: and the next is whole again");

	/* Another site at the same path (removed, built fresh, updated). */
	cleanup(out);
	is(rebuild(man), 0, "manifest: a fresh site again");
	ok(stat(man, &st) == 0, "manifest: its own in place of the old one");

	/* A fresh site whose folders were last written a while before it
	 * was moved in: the next build takes every folder from the
	 * manifest, but one changed since, which it reads again. */
	for (int stray = 0; stray <= 1; stray++) {
		cleanup(out);
		is(build_four(man, 120), 0, "manifest: a fresh site, moved in 120 ms after its files");
		if (stray)
			touch("a/stray.html");
		is(rebuild(man), stray, stray ? "manifest: a folder given a file since is read again"
					      : "manifest: then no folder is read");
		/* Those folders are taken as the manifest says while a
		 * thread checks them; one that is not sends the scan over
		 * the output again, every folder stat'ed first. */
		is(last_rescanned, stray, stray ? "manifest: its check sent the scan over it again"
						: "manifest: their check found them as it says");
		if (stray)
			ok(stat(at("a/stray.html"), &st) < 0,
			   "manifest: and the file this build did not write is removed");
	}

	/* A folder of such a site moved away, a symbolic link to it in its
	 * place: its parent's check sends the scan over the output again,
	 * and the build writes a folder there, not through the link. */
	cleanup(out);
	is(build_four(man, 120), 0, "manifest: a fresh site again, moved in 120 ms after its files");
	char copy[900];
	snprintf(copy, sizeof copy, "%s/elders", base);
	cleanup(copy);
	bool linked = rename(at("a/b"), copy) == 0 && symlink(copy, at("a/b")) == 0;
	ok(linked, "manifest: a/b moved away, a link to it in its place");
	is(rebuild(man), 1, "manifest: the link's folder is read");
	ok(last_rescanned, "manifest: after its check sent the scan over the output again");
	ok(is_kind("a/b", S_IFDIR) && is_kind("a/b/c.html", S_IFREG),
	   "manifest: a/b is a folder again, with its page");
	char kept[1000];
	snprintf(kept, sizeof kept, "%s/c.html", copy);
	ok(stat(kept, &st) == 0 && st.st_size == 1, "manifest: the link's target is as it was");
	cleanup(copy);
}

/* A site of 33 folders, three deep, through the manifest at man, with
 * one more story when extra: 0, or -1 when the build failed. Fills
 * *read and *sought as output_begin left them. */
static int order_build(const char *man, bool extra, long *read, long *sought)
{
	output *o = NULL;
	gen_err err = { 0 };
	if (output_begin(&o, out, man, &err) < 0) {
		diag("output_begin: %s", err.msg);
		return -1;
	}
	*read = (long)output_dirs_read(o);
	*sought = (long)output_dirs_sought(o);
	put(o, "index.html", "home");
	char rel[64];
	for (int i = 0; i < 12; i++) {
		snprintf(rel, sizeof rel, "s/x%02d/index.html", i);
		put(o, rel, "story");
		snprintf(rel, sizeof rel, "s/x%02d/h/index.html", i);
		put(o, rel, "history");
	}
	for (int i = 0; i < 6; i++) {
		snprintf(rel, sizeof rel, "t/y%d/index.html", i);
		put(o, rel, "tips");
	}
	if (extra)
		put(o, "s/x05b/index.html", "new story");
	return commit(o);
}

/* Points out at base/name, and man (800 bytes) at a manifest of its own. */
static void site_named(const char *name, char *man)
{
	snprintf(out, sizeof out, "%s/%s", base, name);
	snprintf(man, 800, "%s/cache/%s.list", base, name);
}

/* The manifest lists the folders in the order a scan meets them, so a
 * rebuild looks none up by its path; written whole (manifest_write) or
 * from what the scan found (manifest_rewrite) alike. */
static void test_manifest_order(void)
{
	char man[800];
	site_named("order", man);
	long read = -1, sought = -1;
	is(order_build(man, false, &read, &sought), 0, "order: a fresh site");
	age("", true);
	is(order_build(man, false, &read, &sought), 0, "order: without a manifest");
	is(read, 33, "order: every folder is read");
	is(order_build(man, false, &read, &sought), 0, "order: from the manifest written whole");
	is(read, 0, "order: no folder is read");
	is(sought, 0, "order: none is looked up by its path");
	is(order_build(man, false, &read, &sought), 0, "order: from the manifest rewritten");
	is(read + sought, 0, "order: none read, none looked up");

	/* A story more: its folder's parent is read again, in the order
	 * the file system gives, and the folders below it are found. */
	is(order_build(man, true, &read, &sought), 0, "order: a folder added");
	is(read, 0, "order: nothing changed by hand: no folder read");
	is(order_build(man, true, &read, &sought), 0, "order: the next build");
	ok(read >= 1, "order: reads the folder the commit changed");
	ok(has("s/x05b/index.html", "new story") && has("s/x11/h/index.html", "history") &&
	   has("t/y5/index.html", "tips"), "order: every page is there");
	age("", true);
	is(order_build(man, true, &read, &sought), 0, "order: once more");
	is(order_build(man, true, &read, &sought), 0, "order: settled");
	is(read + sought, 0, "order: none read, none looked up");

	/* A folder renamed by hand: the scan meets one the manifest does
	 * not know and looks the others up by their paths. */
	ok(rename(at("s/x03"), at("s/x03z")) == 0, "order: a folder renamed by hand");
	is(order_build(man, false, &read, &sought), 0, "order: a build after it");
	ok(gone("s/x03z") && gone("s/x05b") && has("s/x03/h/index.html", "history") &&
	   has("s/x04/index.html", "story"), "order: the site is whole, the strays gone");
	age("", true);
	is(order_build(man, false, &read, &sought), 0, "order: once more");
	is(order_build(man, false, &read, &sought), 0, "order: settled again");
	is(read + sought, 0, "order: none read, none looked up");
	cleanup(out);
	unlink(man);
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&t, NULL);
}

/* On a file system of nanoseconds, a folder is trusted once its mtime is
 * a clock tick (50 ms here) older than the scan that read it: a build
 * soon after the one that wrote the site reads no folder again, and one
 * changed right before a scan is read until a scan begins later than
 * that. (On one of whole seconds, the old two seconds hold: see
 * test_manifest, whose folders age() dates to 2001.) */
/* A folder of more entries than the scan hashes ahead of the one it
 * records (SCAN_AHEAD, 8), taken as the manifest lists it: every file in
 * it is found where the map keeps it, so each is kept as it was. */
static void test_manifest_wide(void)
{
	enum { WIDE = 40 };
	snprintf(out, sizeof out, "%s/wide", base);
	char man[800];
	snprintf(man, sizeof man, "%s/cache/wide.list", base);
	output_mark marks[WIDE];
	long read = -1;
	int kept = 0;
	for (int round = 0; round < 3; round++) {
		output *o = NULL;
		gen_err err = { 0 };
		if (output_begin(&o, out, man, &err) < 0) {
			ok(0, "wide: begin: %s", err.msg);
			return;
		}
		read = (long)output_dirs_read(o);
		kept = 0;
		for (int i = 0; i < WIDE; i++) {
			char rel[64], text[32];
			snprintf(rel, sizeof rel, "w/%d.html", i);
			snprintf(text, sizeof text, "page %d", i);
			if (round && output_keep(o, rel, &marks[i]))
				kept++;
			else
				put_marked(o, rel, text, &marks[i]);
		}
		if (commit(o) < 0)
			break;
		age("", true);
	}
	is(read, 0, "wide: a settled folder of 40 files is taken from the manifest");
	is(kept, WIDE, "wide: and every file in it is kept as it was");
}

static void test_settled_soon(void)
{
	char man[800];
	site_named("soon", man);
	long read = -1, sought = -1;
	is(order_build(man, false, &read, &sought), 0, "soon: a fresh site");
	struct stat st;
	if (stat(at("s"), &st) < 0 || st.st_mtim.tv_nsec == 0) {
		ok(1, "soon: # SKIP the file system keeps whole seconds");
		cleanup(out);
		return;
	}
	sleep_ms(100);
	/* The fresh build's manifest is not what this test is about. */
	unlink(man);
	is(order_build(man, false, &read, &sought), 0, "soon: a build 0.1 s later");
	is(read, 33, "soon: without a manifest, every folder is read");
	is(order_build(man, false, &read, &sought), 0, "soon: and the next");
	is(read, 0, "soon: trusts them all, their mtimes a tenth of a second old");
	/* A folder's mtime moved (a file made and removed by hand) right
	 * before the scan: its entries are as the site has them, so the
	 * commit leaves it alone, but its mtime is too recent to trust. */
	touch("s/x03/tmp.html");
	unlink(at("s/x03/tmp.html"));
	is(order_build(man, false, &read, &sought), 0, "soon: a folder changed by hand");
	is(read, 1, "soon: it is read");
	is(order_build(man, false, &read, &sought), 0, "soon: at once again");
	is(read, 1, "soon: read once more: its mtime was too recent for that scan");
	sleep_ms(100);
	is(order_build(man, false, &read, &sought), 0, "soon: 0.1 s later");
	is(read, 1, "soon: read again, by a scan that begins late enough");
	is(order_build(man, false, &read, &sought), 0, "soon: and the next");
	is(read, 0, "soon: which trusts it");
	cleanup(out);
	unlink(man);
}

/* output_absolute: one spelling of a folder, however it was given. */
static void test_absolute(void)
{
	char *cwd = realpath(".", NULL), *real = realpath(base, NULL);
	if (!cwd || !real) {
		ok(0, "absolute: the working directory and the scratch folder");
		free(cwd);
		free(real);
		return;
	}
	/* base/echt exists, base/link is a symbolic link to it. */
	char echt[700], link[700];
	snprintf(echt, sizeof echt, "%s/echt", base);
	snprintf(link, sizeof link, "%s/link", base);
	ok(mkdir(echt, 0755) == 0 && symlink("echt", link) == 0, "absolute: a folder and a link to it");
	struct {
		const char *in, *want; /* "~": cwd; "@": base, resolved; "%": base */
	} cases[] = {
		{ "/gen-nergens//b/./c/", "/gen-nergens/b/c" }, { "/", "/" }, { "//", "/" },
		{ "x/", "~/x" }, { ".", "~" }, { "./x/./y", "~/x/y" },
		{ "x/../y", "~/y" }, { "/gen-nergens/../b", "/b" }, { "/..", "/" },
		{ "%/echt", "@/echt" }, { "%/echt/public/", "@/echt/public" },
		{ "%/link/public", "@/echt/public" }, { "%/link/../echt/public", "@/echt/public" },
		{ "%/link/nog/niet/../public", "@/echt/nog/public" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		buf in = BUF_INIT, want = BUF_INIT;
		if (cases[i].in[0] == '%')
			buf_printf(&in, "%s%s", base, cases[i].in + 1);
		else
			buf_puts(&in, cases[i].in);
		if (cases[i].want[0] == '~')
			buf_printf(&want, "%s%s", cwd, cases[i].want + 1);
		else if (cases[i].want[0] == '@')
			buf_printf(&want, "%s%s", real, cases[i].want + 1);
		else
			buf_puts(&want, cases[i].want);
		char *got = output_absolute(in.ptr), name[80];
		snprintf(name, sizeof name, "absolute: '%s'", cases[i].in);
		is_str(got, want.ptr, name);
		free(got);
		buf_release(&in);
		buf_release(&want);
	}
	unlink(link);
	rmdir(echt);
	free(cwd);
	free(real);
}

static void cleanup(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		buf sub = BUF_INIT;
		buf_printf(&sub, "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(sub.ptr, &st) == 0 && S_ISDIR(st.st_mode))
			cleanup(sub.ptr);
		else
			unlink(sub.ptr);
		buf_release(&sub);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

/* A file written in pieces (output_open/put/close): the same bytes as
 * output_write gives, compared piece by piece with the file there. */
/* Writes the pieces to rel in turn, then closes it (keep, filling mark
 * when not NULL) or gives it up. */
static int stream_marked(output *o, const char *rel, const char *const *pieces, bool keep,
			 output_mark *mark)
{
	gen_err err = { 0 };
	output_file *f = NULL;
	int rc = output_open(o, rel, &f, &err);
	for (size_t i = 0; rc == 0 && pieces[i]; i++)
		rc = output_put(f, pieces[i], strlen(pieces[i]), &err);
	if (rc == 0 && keep)
		rc = output_close_marked(f, mark, &err);
	else if (f)
		output_discard(f);
	if (rc < 0)
		diag("stream %s: %s: %s", rel, err.file, err.msg);
	return rc;
}

static int stream(output *o, const char *rel, const char *const *pieces, bool keep)
{
	return stream_marked(o, rel, pieces, keep, NULL);
}

static void test_pieces(void)
{
	snprintf(out, sizeof out, "%s/pieces", base);
	/* A piece longer than the 64 KB output compares at a time. */
	buf big = BUF_INIT;
	for (int i = 0; i < 20000; i++)
		buf_printf(&big, "<p>%d</p>", i);
	output *o = NULL;
	ok(begin(&o) == 0, "pieces: begin fresh");
	is(stream(o, "a/big.html", (const char *[]){ "<html>", big.ptr, "</html>", NULL }, true), 0,
	   "pieces: a file in three pieces, in a new directory");
	is(stream(o, "c.html", (const char *[]){ "c", NULL }, true), 0, "pieces: one piece");
	is(stream(o, "half.html", (const char *[]){ "half", NULL }, false), 0,
	   "pieces: a file given up on");
	put(o, "long.html", "abcdef");
	put(o, "gone.html", "g");
	is(output_changed(o), 4, "pieces: fresh: a closed file counts as written, a discarded one not");
	is(commit(o), 0, "pieces: commit fresh");
	buf want = BUF_INIT;
	buf_printf(&want, "<html>%s</html>", big.ptr);
	ok(has("a/big.html", want.ptr) && has("c.html", "c"), "pieces: fresh: the pieces joined");
	ok(gone("half.html"), "pieces: fresh: a discarded file is not in the site");

	age("", false);
	struct stat bigst, cst;
	lstat(at("a/big.html"), &bigst);
	lstat(at("c.html"), &cst);
	ok(begin(&o) == 0, "pieces: begin update");
	/* The same bytes cut elsewhere. */
	size_t cut = big.len / 3;
	char *first = malloc(cut + 7);
	memcpy(first, "<html>", 6);
	memcpy(first + 6, big.ptr, cut);
	first[cut + 6] = '\0';
	is(stream(o, "a/big.html", (const char *[]){ first, big.ptr + cut, "</html>", NULL }, true), 0,
	   "pieces: update: equal bytes in other pieces");
	free(first);
	is(stream(o, "c.html", (const char *[]){ "c", "d", NULL }, true), 0,
	   "pieces: update: the old file is a prefix");
	is(stream(o, "long.html", (const char *[]){ "abc", NULL }, true), 0,
	   "pieces: update: the new file is a prefix");
	is(stream(o, "gone.html", (const char *[]){ "g", NULL }, false), 0,
	   "pieces: update: a file given up on");
	is(output_unchanged(o), 1, "pieces: update: equal bytes count as unchanged");
	is(output_changed(o), 2, "pieces: update: longer and shorter count as written");
	ok(has("c.html", "c") && has("long.html", "abcdef"),
	   "pieces: update: nothing in the output changes before commit");
	is(commit(o), 0, "pieces: commit update");
	ok(same_file(&bigst, "a/big.html"), "pieces: update: an equal file keeps its inode and mtime");
	ok(has("a/big.html", want.ptr), "pieces: update: and its bytes");
	ok(has("c.html", "cd") && !same_file(&cst, "c.html"), "pieces: update: a longer file replaced");
	ok(has("long.html", "abc"), "pieces: update: a shorter file replaced");
	ok(gone("gone.html"), "pieces: update: a discarded file is stale, and removed");
	is(leftovers(), 0, "pieces: nothing left beside the output");
	buf_release(&big);
	buf_release(&want);
}

/* Bytes taken from the file the last build left (output_copy): put
 * back where they were, they leave the file as it was; moved or mixed
 * with new bytes, they make a new file of exactly those bytes. */
/* Writes rel as the bytes of from past at, then "<hr>", then its first
 * at bytes: old bytes moved around new ones. */
static int copy_around(output *o, const char *rel, int from, size_t at, size_t len,
		       gen_err *err)
{
	output_file *f = NULL;
	int rc = output_open(o, rel, &f, err);
	if (rc == 0)
		rc = output_copy(f, from, at, len - at, err);
	if (rc == 0)
		rc = output_put(f, "<hr>", 4, err);
	if (rc == 0)
		rc = output_copy(f, from, 0, at, err);
	if (rc == 0)
		rc = output_close(f, err);
	return rc;
}

/* Copies 20 bytes from 10 before the end of from (len bytes) into rel:
 * an error, and rel is given up on. */
static int copy_past_end(output *o, const char *rel, int from, size_t len, gen_err *err)
{
	output_file *f = NULL;
	int rc = output_open(o, rel, &f, err);
	int bad = rc == 0 ? output_copy(f, from, len - 10, 20, err) : 0;
	if (f)
		output_discard(f);
	return bad;
}

/* A big file replaced (the print page): its old version is let go of
 * after the commit, on a thread of its own; the new one is in place at
 * once, build after build. Where the file system can, the new file is
 * swapped with the old one (place): either way a new file, the old one
 * gone, nothing left beside the output. */
static void test_big_replace(void)
{
	snprintf(out, sizeof out, "%s/big", base);
	buf big = BUF_INIT;
	struct stat was = { 0 };
	for (int round = 0; round < 3; round++) {
		buf_clear(&big);
		while (big.len < (5u << 20))
			buf_printf(&big, "<p>ronde %d, regel %zu</p>\n", round, big.len);
		output *o = NULL;
		ok(begin(&o) == 0, "big file: begin (round %d)", round);
		put(o, "print/index.html", big.ptr);
		put(o, "klein.html", round == 1 ? "anders" : "klein");
		ok(commit(o) == 0, "big file: commit (round %d)", round);
		ok(has("print/index.html", big.ptr), "big file: the new version in place (round %d)",
		   round);
		ok(has("klein.html", round == 1 ? "anders" : "klein"),
		   "big file: a small file beside it as written (round %d)", round);
		struct stat now;
		ok(stat(at("print/index.html"), &now) == 0 && (round == 0 || now.st_ino != was.st_ino),
		   "big file: a new file, not the old one written over (round %d)", round);
		was = now;
		ok(leftovers() == 0, "big file: nothing left beside the output (round %d)", round);
	}
	buf_release(&big);
}

/* The one spare beside the manifest man (see output.c, "spares"): its
 * path into path, and its stat; false when there is none. */
static bool spare_of(const char *man, char *path, size_t size, struct stat *st)
{
	char dir[800];
	snprintf(dir, sizeof dir, "%s", man);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	const char *name = slash + 1;
	size_t stem = strlen(name) - strlen(".list");
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (strncmp(e->d_name, name, stem) == 0 && e->d_name[stem] == '-' && l > 6 &&
		    strcmp(e->d_name + l - 6, ".spare") == 0) {
			snprintf(path, size, "%s/%s", dir, e->d_name);
			found++;
		}
	}
	if (d)
		closedir(d);
	return found == 1 && lstat(path, st) == 0;
}

/* A big file of round r, len bytes or more. */
static void big_text(buf *b, int r, size_t len)
{
	buf_clear(b);
	while (b->len < len)
		buf_printf(b, "<p>versie %d, regel %zu</p>\n", r, b->len);
}

/* One build that writes the big file as text (keep: committed, else
 * given up); ino gets the inode it has then. */
static int spare_build(const char *man, const char *text, bool keep, ino_t *ino)
{
	output *o = NULL;
	gen_err err = { 0 };
	if (output_begin(&o, out, man, &err) < 0) {
		diag("output_begin: %s", err.msg);
		return -1;
	}
	const char *pieces[] = { text, NULL };
	int rc = stream(o, "print/index.html", pieces, true);
	if (!keep) {
		output_abort(o);
		return rc;
	}
	rc = rc == 0 ? commit(o) : rc;
	struct stat st;
	if (ino)
		*ino = stat(at("print/index.html"), &st) == 0 ? st.st_ino : 0;
	return rc;
}

/* A big file a commit replaces stays beside the manifest as a spare, and
 * the next build writes its new version over the spare's bytes: the same
 * inode, cut to the new length, and never a file that is not the
 * spare's own. */
static void test_spare(void)
{
	char man[800], sp[900];
	site_named("spare", man);
	char cache[700];
	snprintf(cache, sizeof cache, "%s/cache", base);
	mkdir(cache, 0755); /* where the manifest goes, as .gen-cache is */
	struct stat st;
	buf t = BUF_INIT;
	ino_t a, b, c, d, e;
	big_text(&t, 0, 5u << 20);
	spare_build(man, t.ptr, true, &a);
	ok(!spare_of(man, sp, sizeof sp, &st), "spare: a first build leaves none");
	big_text(&t, 1, 5u << 20);
	spare_build(man, t.ptr, true, &b);
	ok(has("print/index.html", t.ptr), "spare: the second version in place");
	ok(spare_of(man, sp, sizeof sp, &st) && st.st_ino == a && st.st_size >= (5 << 20),
	   "spare: the first version kept as the spare");
	size_t long_len = t.len;
	big_text(&t, 2, (4u << 20) + 100);
	spare_build(man, t.ptr, true, &c);
	ok(has("print/index.html", t.ptr), "spare: a shorter third version, cut to its length");
	ok(c == a, "spare: written over the spare (the first version's inode)");
	ok(spare_of(man, sp, sizeof sp, &st) && st.st_ino == b &&
		   (size_t)st.st_size == long_len,
	   "spare: the second version is the spare now");
	big_text(&t, 3, 6u << 20);
	spare_build(man, t.ptr, true, &d);
	ok(has("print/index.html", t.ptr) && d == b, "spare: a longer fourth version over it");
	spare_build(man, t.ptr, true, &e);
	ok(e == d && spare_of(man, sp, sizeof sp, &st) && st.st_ino == a,
	   "spare: the same bytes again: the file stays, and so does the spare");

	/* A spare that is a symbolic link is not written through. */
	char victim[700];
	snprintf(victim, sizeof victim, "%s/victim.html", base);
	FILE *v = fopen(victim, "w");
	fputs("niet aankomen", v);
	fclose(v);
	unlink(sp);
	if (symlink(victim, sp) < 0)
		diag("symlink: %s", strerror(errno));
	big_text(&t, 5, 5u << 20);
	spare_build(man, t.ptr, true, &e);
	char *vt = slurp(victim);
	ok(has("print/index.html", t.ptr) && vt && strcmp(vt, "niet aankomen") == 0,
	   "spare: a symbolic link in its place is not followed");
	free(vt);
	ok(leftovers() == 0, "spare: nothing left beside the output");

	/* Nor one that is the site's own file under a second name. */
	spare_of(man, sp, sizeof sp, &st);
	unlink(sp);
	if (link(at("print/index.html"), sp) < 0)
		diag("link: %s", strerror(errno));
	char *before = slurp(at("print/index.html"));
	output *o = NULL;
	gen_err err = { 0 };
	output_begin(&o, out, man, &err);
	big_text(&t, 6, 5u << 20);
	const char *pieces[] = { t.ptr, NULL };
	stream(o, "print/index.html", pieces, true);
	char *during = slurp(at("print/index.html"));
	ok(before && during && strcmp(before, during) == 0,
	   "spare: a hard link to the site's file is not written over");
	commit(o);
	ok(has("print/index.html", t.ptr), "spare: and the new version goes in");
	free(before);
	free(during);

	/* A build given up leaves the site's file as it was. */
	before = slurp(at("print/index.html"));
	big_text(&t, 7, 5u << 20);
	spare_build(man, t.ptr, false, NULL);
	during = slurp(at("print/index.html"));
	ok(before && during && strcmp(before, during) == 0 && leftovers() == 0,
	   "spare: a build given up changes nothing and leaves nothing");
	free(before);
	free(during);
	buf_release(&t);
}

/* One update of the four files and a new one through the manifest at man,
 * committed early (output_commit_early) or not: whether the new file was
 * in place when the commit returned, and how many folders the next
 * build reads. */
static long commit_early_round(const char *man, bool early, bool *placed)
{
	output *o = NULL;
	gen_err err = { 0 };
	if (output_begin(&o, out, man, &err) < 0)
		return -1;
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c");
	put(o, "a/d.html", "d");
	put(o, "e/f.html", "f");
	put(o, "e/nieuw.html", "nieuw");
	output_finish *fin = NULL;
	int rc = early ? output_commit_early(o, &fin, &err) : output_commit(o, &err);
	*placed = has("e/nieuw.html", "nieuw");
	output_finished(fin);
	if (rc < 0)
		return -1;
	age("", true);
	return rebuild(man);
}

/* A site named name made, updated, and updated once more by
 * commit_early_round: its snapshot (caller frees). */
static char *commit_early_site(const char *name, bool early, bool *placed, long *reads)
{
	char man[800];
	snprintf(man, sizeof man, "%s/cache/%s.list", base, name);
	snprintf(out, sizeof out, "%s/%s", base, name);
	rebuild(man);
	age("", true);
	rebuild(man);
	*reads = commit_early_round(man, early, placed);
	return snapshot();
}

/* A snapshot's lines without the inodes and mtimes, which differ between
 * two sites made alike: path, mode and bytes. In place. */
static void strip_stats(char *snap)
{
	char *w = snap;
	for (char *line = snap; *line;) {
		char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *sp1 = memchr(line, ' ', len);
		char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
		char *br = memchr(line, '[', len);
		size_t keep = sp2 ? (size_t)(sp2 - line) : len;
		memmove(w, line, keep);
		w += keep;
		if (br) {
			size_t tail = len - (size_t)(br - line);
			*w++ = ' ';
			memmove(w, br, tail);
			w += tail;
		}
		*w++ = '\n';
		line += len + (end ? 1 : 0);
	}
	*w = '\0';
}

/* output_commit_early puts the files in place before it returns and
 * leaves the manifest to a thread: once output_finished has waited for
 * it, the next build finds what output_commit would have left. */
static void test_commit_early(void)
{
	bool placed = false, placed2 = false;
	long early, late;
	char *after_early = commit_early_site("early", true, &placed, &early);
	char *after_late = commit_early_site("late", false, &placed2, &late);
	char man[800];
	snprintf(man, sizeof man, "%s/cache/early.list", base);
	ok(placed && placed2, "commit early: the files are in place when it returns");
	ok(early >= 0 && early == late,
	   "commit early: the next build reads what it would after output_commit (%ld, %ld)",
	   early, late);
	strip_stats(after_early);
	strip_stats(after_late);
	is_str(after_early, after_late, "commit early: the same site");
	struct stat st;
	ok(stat(man, &st) == 0, "commit early: the manifest is written");
	free(after_early);
	free(after_late);
}

/* Writing over a spare where the bytes go (output_put_at, output_copy_at,
 * output_set_length), for a caller that knows what the spare holds: what
 * it writes lands there, the rest is the spare's, cut to the length
 * given, and the spare's stat as taken tells the caller which file it
 * was. */
static void test_patch(void)
{
	char man[800], sp[900];
	site_named("patch", man);
	char cache[700];
	snprintf(cache, sizeof cache, "%s/cache", base);
	mkdir(cache, 0755);
	buf v0 = BUF_INIT, v1 = BUF_INIT;
	big_text(&v0, 0, 5u << 20);
	big_text(&v1, 1, 5u << 20);
	ino_t a, b;
	spare_build(man, v0.ptr, true, &a);
	spare_build(man, v1.ptr, true, &b);
	struct stat was;
	ok(spare_of(man, sp, sizeof sp, &was) && was.st_ino == a, "patch: the first version is the spare");

	output *o = NULL;
	gen_err err = { 0 };
	output_file *f = NULL;
	output_mark m = { 0 };
	int rc = output_begin(&o, out, man, &err);
	if (rc == 0)
		rc = output_open(o, "print/index.html", &f, &err);
	ok(rc == 0 && output_spare(f, &m) && m.ino == (uint64_t)was.st_ino &&
		   m.size == (uint64_t)was.st_size && m.sec == (int64_t)was.st_mtim.tv_sec &&
		   m.nsec == (uint64_t)was.st_mtim.tv_nsec,
	   "patch: written over the spare, whose stat as taken is known");
	int old = rc == 0 ? output_open_old(o, "print/index.html") : -1;
	size_t cut = (4u << 20) + 500;
	if (rc == 0)
		rc = output_put_at(f, 100, "VERSIE", 6, &err);
	if (rc == 0)
		rc = output_copy_at(f, 70000, old, 0, 64, &err);
	if (rc == 0) {
		output_set_length(f, cut);
		rc = output_close(f, &err);
	}
	if (old >= 0)
		close(old);
	is(rc, 0, "patch: bytes put and copied where they go");
	is(output_unchanged(o), 0, "patch: the file counts as changed");
	is(commit(o), 0, "patch: commit");
	buf want = BUF_INIT;
	buf_put(&want, v0.ptr, cut);
	memcpy(want.ptr + 100, "VERSIE", 6);
	memcpy(want.ptr + 70000, v1.ptr, 64);
	struct stat st;
	ok(has("print/index.html", want.ptr) && stat(at("print/index.html"), &st) == 0 &&
		   st.st_ino == a && (size_t)st.st_size == cut,
	   "patch: the spare's bytes with those written, cut to the length given");
	ok(spare_of(man, sp, sizeof sp, &st) && st.st_ino == b, "patch: the second version is the spare now");

	/* A file that replaces none is written over no spare. */
	ok(output_begin(&o, out, man, &err) == 0 &&
		   output_open(o, "nieuw.html", &f, &err) == 0 && !output_spare(f, &m),
	   "patch: a new file has no spare");
	output_discard(f);
	output_abort(o);
	buf_release(&want);
	buf_release(&v0);
	buf_release(&v1);
}

static void test_copy(void)
{
	snprintf(out, sizeof out, "%s/copy", base);
	buf big = BUF_INIT;
	for (int i = 0; i < 30000; i++)
		buf_printf(&big, "<p>%d</p>", i);
	output *o = NULL;
	gen_err err = { 0 };
	ok(begin(&o) == 0, "copy: begin fresh");
	put(o, "book.html", big.ptr);
	put(o, "other.html", big.ptr);
	is(commit(o), 0, "copy: commit fresh");
	age("", false);
	struct stat was;
	lstat(at("book.html"), &was);

	/* All of it, in three copies at their own places. */
	ok(begin(&o) == 0, "copy: begin update");
	int old = output_open_old(o, "book.html");
	ok(old >= 0, "copy: the old file opens");
	output_file *f = NULL;
	int rc = output_open(o, "book.html", &f, &err);
	size_t a = big.len / 3, b = 2 * big.len / 3;
	if (rc == 0)
		rc = output_copy(f, old, 0, a, &err);
	if (rc == 0)
		rc = output_copy(f, old, a, b - a, &err);
	if (rc == 0)
		rc = output_copy(f, old, b, big.len - b, &err);
	if (rc == 0)
		rc = output_close(f, &err);
	is(rc, 0, "copy: the old bytes copied where they were");
	/* The end first, then new bytes, then the start. */
	int other = output_open_old(o, "other.html");
	is(copy_around(o, "other.html", other, b, big.len, &err), 0,
	   "copy: old bytes moved around new ones");
	/* More than the old file has is an error, not a short file. */
	int bad = copy_past_end(o, "short.html", old, big.len, &err);
	ok(bad < 0 && strstr(err.msg, "copy"), "copy: past the old file's end: an error (%s)", err.msg);
	close(old);
	close(other);
	is(output_unchanged(o), 1, "copy: bytes put back where they were count as unchanged");
	is(commit(o), 0, "copy: commit update");
	ok(same_file(&was, "book.html") && has("book.html", big.ptr),
	   "copy: the unchanged file keeps its inode, mtime and bytes");
	buf want = BUF_INIT;
	buf_puts(&want, big.ptr + b);
	buf_puts(&want, "<hr>");
	buf_put(&want, big.ptr, b);
	ok(has("other.html", want.ptr), "copy: the moved bytes are in their new order");
	ok(gone("short.html"), "copy: the file given up on is not in the site");
	is(leftovers(), 0, "copy: nothing left beside the output");

	/* From a file on another file system (memory: memfd), which
	 * copy_file_range refuses (EXDEV, Linux 5.19 on): the bytes go
	 * through a buffer instead, 64 KB at a time, in order. */
	int mem = memfd_create("gen-test", MFD_CLOEXEC);
	ok(mem >= 0 && write(mem, big.ptr, big.len) == (ssize_t)big.len,
	   "copy: a file in memory");
	ok(begin(&o) == 0, "copy: begin update again");
	loff_t from = 0;
	char scratch[600];
	snprintf(scratch, sizeof scratch, "%s/probe", base);
	int probe = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	bool refused = probe >= 0 && copy_file_range(mem, &from, probe, NULL, 1, 0) < 0;
	if (probe >= 0)
		close(probe);
	unlink(scratch);
	if (!refused)
		diag("this kernel copies across file systems: the buffered path is not what runs");
	is(copy_around(o, "from-memory.html", mem, b, big.len, &err), 0,
	   "copy: from another file system, through a buffer");
	bad = copy_past_end(o, "past-memory.html", mem, big.len, &err);
	ok(bad < 0 && strstr(err.msg, "copy"),
	   "copy: through a buffer, past the end is an error too (%s)", err.msg);
	if (mem >= 0)
		close(mem);
	is(commit(o), 0, "copy: commit the copies from memory");
	ok(has("from-memory.html", want.ptr), "copy: the bytes from memory are in their order");
	ok(gone("past-memory.html"), "copy: the failed copy from memory is not in the site");
	buf_release(&big);
	buf_release(&want);
}

/* Whether rel stands as mark says (inode, size, mtime). */
static bool marked(const output_mark *m, const char *rel)
{
	struct stat st;
	return lstat(at(rel), &st) == 0 && m->ino == (uint64_t)st.st_ino &&
	       m->size == (uint64_t)st.st_size && m->sec == (int64_t)st.st_mtim.tv_sec &&
	       m->nsec == (uint64_t)st.st_mtim.tv_nsec;
}

/* rel's mtime set to mark's plus secs. */
static void set_mtime(const char *rel, const output_mark *m, int secs)
{
	struct timespec t[2] = { { (time_t)m->sec + secs, (long)m->nsec },
				 { (time_t)m->sec + secs, (long)m->nsec } };
	utimensat(AT_FDCWD, at(rel), t, 0);
}

/* A file kept without its bytes (output_keep) is one no one has written
 * since the build that left it: its mark (inode, size, mtime) says so.
 * Edits by hand that keep the length are caught: in place (the mtime
 * moves on), and through a new file with the old mtime (another inode). */
static void test_marks(void)
{
	snprintf(out, sizeof out, "%s/marks", base);
	output *o = NULL;
	output_mark a, big, same, staged, keep;
	ok(begin(&o) == 0, "marks: begin fresh");
	is(put_marked(o, "a.html", "one", &a), 0, "marks: written fresh");
	is(stream_marked(o, "p/big.html", (const char *[]){ "in ", "pieces", NULL }, true, &big), 0,
	   "marks: streamed fresh");
	put(o, "b.html", "bee");
	put(o, "c.html", "sea");
	put(o, "d.html", "dee");
	is(commit(o), 0, "marks: commit fresh");
	ok(marked(&a, "a.html") && a.size == 3, "marks: a fresh file's mark is the committed file's");
	ok(marked(&big, "p/big.html") && big.size == 9, "marks: a streamed file's too");

	ok(begin(&o) == 0, "marks: begin update");
	ok(output_keep(o, "a.html", &a), "marks: an untouched file is kept");
	ok(output_keep(o, "p/big.html", &big), "marks: an untouched streamed file is kept");
	output_mark wrong = a;
	wrong.size++;
	ok(!output_keep(o, "a.html", &wrong), "marks: not with another size");
	wrong = a;
	wrong.nsec ^= 1;
	ok(!output_keep(o, "a.html", &wrong), "marks: nor with another mtime");
	ok(!output_keep(o, "missing.html", &a), "marks: nor where there is no file");
	ok(output_keep(o, "p//./big.html", &big) && output_keep(o, "./p/big.html", &big),
	   "marks: a path with empty and '.' parts is the file's");
	ok(!output_keep(o, "p/../a.html", &a) && !output_keep(o, "/a.html", &a) &&
	   !output_keep(o, "p/", &big) && !output_keep(o, "", &a),
	   "marks: '..', a leading or trailing '/' and nothing at all are never kept");
	is(put_marked(o, "b.html", "bee", &same), 0, "marks: equal bytes written");
	is(put_marked(o, "c.html", "sea!", &staged), 0, "marks: new bytes written");
	is(stream_marked(o, "d.html", (const char *[]){ "dee", NULL }, true, &keep), 0,
	   "marks: equal bytes streamed");
	is(commit(o), 0, "marks: commit update");
	ok(marked(&same, "b.html"), "marks: equal bytes: the mark is the file left in place");
	ok(marked(&staged, "c.html") && staged.size == 4,
	   "marks: new bytes: the mark is the file moved into place");
	ok(marked(&keep, "d.html"), "marks: equal bytes streamed: the file left in place");

	/* By hand: "one" -> "two" in place, then a new file "six" given
	 * a.html's old mtime and moved over big.html. */
	FILE *f = fopen(at("a.html"), "r+");
	ok(f && fputs("two", f) >= 0 && fclose(f) == 0, "marks: a.html edited in place");
	set_mtime("a.html", &a, 1);
	char tmp[700];
	snprintf(tmp, sizeof tmp, "%s/p/new", out);
	f = fopen(tmp, "w");
	ok(f && fputs("by hand!!", f) >= 0 && fclose(f) == 0, "marks: a new file of big's size");
	struct timespec t[2] = { { (time_t)big.sec, (long)big.nsec },
				 { (time_t)big.sec, (long)big.nsec } };
	utimensat(AT_FDCWD, tmp, t, 0);
	ok(rename(tmp, at("p/big.html")) == 0, "marks: moved over big.html");
	ok(begin(&o) == 0, "marks: begin after the edits by hand");
	ok(!output_keep(o, "a.html", &a), "marks: edited in place, same length: not kept");
	ok(!output_keep(o, "p/big.html", &big),
	   "marks: replaced, same length and mtime: not kept");
	ok(output_keep(o, "b.html", &same), "marks: the file no one touched still is");
	output_abort(o);
	ok(has("a.html", "two"), "marks: an aborted build leaves the edit alone");
}

/* Files kept by many threads at once (output_keep takes no lock), and
 * one both kept and written: the count and the commit are as if the
 * build had written the last and kept the rest. */
struct keeper {
	output *o;
	int from, to;
	output_mark *marks;
	int kept;
};

static void *keep_run(void *arg)
{
	struct keeper *k = arg;
	for (int i = k->from; i < k->to; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "k/%d.html", i);
		k->kept += output_keep(k->o, rel, &k->marks[i]);
	}
	return NULL;
}

static void test_keep_threads(void)
{
	snprintf(out, sizeof out, "%s/keeps", base);
	enum { N = 400 };
	output_mark marks[N];
	output *o = NULL;
	ok(begin(&o) == 0, "keeps: begin fresh");
	for (int i = 0; i < N; i++) {
		char rel[64], text[32];
		snprintf(rel, sizeof rel, "k/%d.html", i);
		snprintf(text, sizeof text, "page %d", i);
		put_marked(o, rel, text, &marks[i]);
	}
	is(commit(o), 0, "keeps: commit fresh");
	ok(begin(&o) == 0, "keeps: begin update");
	struct keeper k[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		k[i] = (struct keeper){ o, i * N / 4, (i + 1) * N / 4, marks, 0 };
		pthread_create(&t[i], NULL, keep_run, &k[i]);
	}
	int kept = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		kept += k[i].kept;
	}
	is(kept, N, "keeps: every file kept, from four threads");
	put(o, "k/7.html", "page 7, new");
	is((long)output_unchanged(o), N - 1, "keeps: the one also written is not counted kept");
	is((long)output_changed(o), 1, "keeps: but written");
	is(commit(o), 0, "keeps: commit");
	ok(has("k/7.html", "page 7, new"), "keeps: its new bytes are there");
	ok(has("k/8.html", "page 8") && has("k/399.html", "page 399"), "keeps: the kept ones stay");
}

/* A site at base/name whose manifest, at base/cache/name.list (put in
 * man), calls every folder settled; what the last build read (0). */
static long settled_site(const char *name, char *man, size_t size)
{
	snprintf(out, sizeof out, "%s/%s", base, name);
	snprintf(man, size, "%s/cache/%s.list", base, name);
	rebuild(man);
	age("", true);
	rebuild(man);
	return rebuild(man);
}

/* output_begin_trusting: what it takes from the manifest without
 * looking, and where it still looks. */
static void test_trusting(void)
{
	char man[800];
	gen_err err = { 0 };
	output *o = NULL;
	is(settled_site("trusting", man, sizeof man), 0, "trusting: a manifest of settled folders");

	/* A file put in a folder by hand changes the folder's mtime, which
	 * only a stat would show. */
	touch("a/b/by-hand.html");
	ok(output_begin_trusting(&o, out, man, NULL, &err) == 0, "trusting: begin");
	is((long)output_dirs_read(o), 0, "trusting: no settled folder is read, not even one changed");
	output_mark home;
	put_marked(o, "index.html", "home", &home);
	put(o, "a/b/c.html", "c");
	put(o, "a/d.html", "d");
	put(o, "e/f.html", "f");
	is(commit(o), 0, "trusting: commit");
	ok(!gone("a/b/by-hand.html"), "trusting: so the file put there by hand stays");
	is(rebuild(man), 1, "trusting: output_begin looks, and reads that folder");
	ok(gone("a/b/by-hand.html"), "trusting: and removes the file as stale");

	/* A page edited by hand, same length, its mark otherwise kept. */
	FILE *f = fopen(at("index.html"), "r+");
	ok(f && fputs("hand", f) >= 0 && fclose(f) == 0, "trusting: index.html edited in place");
	set_mtime("index.html", &home, 1);
	ok(output_begin_trusting(&o, out, man, NULL, &err) == 0, "trusting: begin again");
	ok(output_keep(o, "index.html", &home),
	   "trusting: a file the manifest lists is kept without a look at its mark");
	ok(!output_keep(o, "nowhere.html", &home), "trusting: one it does not list is not");
	output_abort(o);
	ok(begin(&o) == 0 && !output_keep(o, "index.html", &home),
	   "trusting: output_begin compares the mark: not kept");
	output_abort(o);
	ok(output_begin_trusting(&o, out, NULL, NULL, &err) == 0 && !output_keep(o, "index.html", &home),
	   "trusting: without a manifest it compares the mark too");
	output_abort(o);
	ok(has("index.html", "hand"), "trusting: an aborted build leaves the edit alone");
}

/* Folders the last commit changed: a trusting begin takes their entries
 * from the manifest (the commit's own list), where output_begin reads
 * them again. */
static void test_committed(void)
{
	char man[800];
	gen_err err = { 0 };
	output *o = NULL;
	is(settled_site("committed", man, sizeof man), 0, "committed: a manifest of settled folders");
	/* A commit that adds a file to a/b. */
	ok(output_begin_trusting(&o, out, man, NULL, &err) == 0, "committed: begin");
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c");
	put(o, "a/b/new.html", "new");
	put(o, "a/d.html", "d");
	put(o, "e/f.html", "f");
	is(commit(o), 0, "committed: a commit that adds a/b/new.html");
	ok(has("a/b/new.html", "new"), "committed: the file is there");
	/* The next trusting build reads no folder, yet knows the new file:
	 * it goes as stale when that build does not write it. */
	ok(output_begin_trusting(&o, out, man, NULL, &err) == 0, "committed: begin again");
	is((long)output_dirs_read(o), 0, "committed: the folder the commit changed is not read");
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c");
	put(o, "a/d.html", "d");
	put(o, "e/f.html", "f");
	is(commit(o), 0, "committed: a commit without a/b/new.html");
	ok(gone("a/b/new.html"), "committed: the manifest's entry made it stale, and it is gone");
	ok(has("a/b/c.html", "c"), "committed: the other file stays");
	/* output_begin does not take the commit's word: it reads a/b. */
	is(rebuild(man), 1, "committed: output_begin reads the folder the commit changed");
}

/* A trusting commit that only replaced files leaves the manifest as it
 * was; one that adds a path writes it again. */
static void test_same_shape(void)
{
	char man[800];
	gen_err err = { 0 };
	output *o = NULL;
	is(settled_site("shape", man, sizeof man), 0, "same shape: a manifest of settled folders");
	struct stat before, after;
	ok(stat(man, &before) == 0, "same shape: the manifest is there");
	ok(output_begin_trusting(&o, out, man, NULL, &err) == 0, "same shape: begin");
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c, changed");
	put(o, "a/d.html", "d");
	put(o, "e/f.html", "f");
	is(commit(o), 0, "same shape: a commit that changes a file's bytes only");
	ok(has("a/b/c.html", "c, changed"), "same shape: the new bytes are there");
	ok(stat(man, &after) == 0 && after.st_ino == before.st_ino &&
	   after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
	   after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
	   "same shape: the manifest is left as it was");
	ok(output_begin_trusting(&o, out, man, NULL, &err) == 0, "same shape: begin again");
	is((long)output_dirs_read(o), 0, "same shape: a trusting begin reads no folder");
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c, changed");
	put(o, "a/b/new.html", "new");
	put(o, "a/d.html", "d");
	put(o, "e/f.html", "f");
	is(commit(o), 0, "same shape: a commit that adds a file");
	ok(stat(man, &after) == 0 && (after.st_ino != before.st_ino ||
				      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
				      after.st_mtim.tv_sec != before.st_mtim.tv_sec),
	   "same shape: that one writes the manifest again");
	/* output_begin sees the folder the first commit changed by its
	 * mtime and reads it; new.html goes as stale. */
	is(rebuild(man), 1, "same shape: output_begin reads the changed folder");
	ok(gone("a/b/new.html") && has("a/b/c.html", "c"), "same shape: and finds what it holds");
}

/* A commit that leaves every folder's entries as they were writes the
 * manifest from the lists its begin found: those the last manifest gave
 * and those it read. What it lists of both is what the folders hold. */
static void test_rewrite(void)
{
	char man[800];
	gen_err err = { 0 };
	output *o = NULL;
	is(settled_site("rewrite", man, sizeof man), 0, "rewrite: a manifest of settled folders");
	/* a/ changed by hand and back: its mtime moves, its entries stay. */
	touch("a/tmp.html");
	unlink(at("a/tmp.html"));
	struct stat before, after;
	ok(stat(man, &before) == 0, "rewrite: the manifest is there");
	is(rebuild(man), 1, "rewrite: the folder changed by hand is read, alone");
	ok(stat(man, &after) == 0 && (after.st_ino != before.st_ino ||
				      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
				      after.st_mtim.tv_sec != before.st_mtim.tv_sec),
	   "rewrite: the manifest is written again (the folder's mtime is new)");
	age("a", true);
	is(rebuild(man), 1, "rewrite: its mtime was too recent: read once more");
	is(rebuild(man), 0, "rewrite: then trusted; the others were all along");
	/* A trusting begin takes every folder's entries from the manifest. */
	ok(output_begin_trusting(&o, out, man, NULL, &err) == 0, "rewrite: a trusting begin");
	is((long)output_dirs_read(o), 0, "rewrite: it reads no folder");
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c");
	put(o, "e/f.html", "f");
	is(commit(o), 0, "rewrite: a commit without a/d.html");
	ok(gone("a/d.html"), "rewrite: the manifest listed a/d.html, so it went as stale");
	ok(has("a/b/c.html", "c") && has("e/f.html", "f") && has("index.html", "home"),
	   "rewrite: and the other files stay");
	is(rebuild(man), 1, "rewrite: output_begin reads the folder that commit changed");
	ok(has("a/d.html", "d"), "rewrite: a/d.html is back");

	/* Nothing new among the files, but a folder with none below it, or
	 * a link, put there by hand: the site has neither. */
	ok(mkdir(at("a/leeg"), 0755) == 0 && mkdir(at("a/leeg/dieper"), 0755) == 0,
	   "rewrite: empty folders made by hand");
	ok(rebuild(man) >= 1 && gone("a/leeg") && has("a/d.html", "d"),
	   "rewrite: they go as stale, the files stay");
	ok(symlink("d.html", at("a/link.html")) == 0, "rewrite: a link made by hand");
	ok(rebuild(man) >= 1 && gone("a/link.html") && has("a/d.html", "d"),
	   "rewrite: it goes as stale");
	age("", true);
	is(rebuild(man), 1, "rewrite: the folder the last commit changed is read");
	is(rebuild(man), 0, "rewrite: and then trusted");
}

/* The memory: a trusting commit that only replaced files hands the site's
 * paths to it, and the next trusting begin takes them from there without
 * reading the manifest; any other commit leaves it empty. */
/* Writes the site's four files but for those named in leave (a string
 * of letters: i index.html, c a/b/c.html, d a/d.html, f e/f.html). */
static void put_site(output *o, const char *leave)
{
	if (!strchr(leave, 'i'))
		put(o, "index.html", "home");
	if (!strchr(leave, 'c'))
		put(o, "a/b/c.html", "c");
	if (!strchr(leave, 'd'))
		put(o, "a/d.html", "d");
	if (!strchr(leave, 'f'))
		put(o, "e/f.html", "f");
}

/* Begins a trusting build with m once the last commit is settled and
 * its manifest removed: the folders it read, or -1. */
static long begin_unlisted(output **o, const char *man, output_memory *m)
{
	gen_err err = { 0 };
	output_memory_settle(m);
	unlink(man);
	if (output_begin_trusting(o, out, man, m, &err) < 0) {
		diag("output_begin_trusting: %s", err.msg);
		return -1;
	}
	return (long)output_dirs_read(*o);
}

static void test_memory(void)
{
	char man[800];
	gen_err err = { 0 };
	output *o = NULL;
	output_memory *m = output_memory_new();
	is(settled_site("memory", man, sizeof man), 0, "memory: a manifest of settled folders");
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "memory: begin");
	is((long)output_dirs_read(o), 0, "memory: the first begin reads the manifest, no folder");
	put(o, "index.html", "home");
	put(o, "a/b/c.html", "c, changed");
	put(o, "a/d.html", "d");
	put(o, "e/f.html", "f");
	is(commit(o), 0, "memory: a commit that changes one file's bytes");
	ok(has("a/b/c.html", "c, changed") && has("e/f.html", "f"), "memory: the site is as written");

	/* Without the manifest a begin would read every folder: with the
	 * memory it reads none, and still knows every path. */
	ok(unlink(man) == 0, "memory: the manifest removed");
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "memory: begin again");
	is((long)output_dirs_read(o), 0, "memory: no folder read, as the memory knows them");
	output_mark mark = { 0 };
	ok(output_keep(o, "e/f.html", &mark), "memory: a path it holds is kept");
	ok(!output_keep(o, "a/nowhere.html", &mark), "memory: one it does not hold is not");
	put_site(o, "df");
	is(commit(o), 0, "memory: a commit without a/d.html");
	ok(gone("a/d.html") && has("a/b/c.html", "c") && has("e/f.html", "f"),
	   "memory: a path the memory held and this build did not write goes as stale");

	/* That commit removed a path: the memory holds the paths it left,
	 * and a begin without a manifest still reads no folder. The
	 * manifest is written once the commit has returned: settled, it is
	 * there. */
	output_memory_settle(m);
	ok(unlink(man) == 0, "memory: the manifest that commit wrote removed");
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "memory: begin after a path went");
	is((long)output_dirs_read(o), 0, "memory: it knows the paths that commit left");
	ok(!output_keep(o, "a/d.html", &mark), "memory: not the one it removed");
	put_site(o, "df");
	put(o, "e/f.html", "f");
	put(o, "g/h/new.html", "new");
	is(commit(o), 0, "memory: a commit that adds a path in new folders");
	is(begin_unlisted(&o, man, m), 0, "memory: begin after a path came, no folder read");
	ok(output_keep(o, "g/h/new.html", &mark) && output_keep(o, "e/f.html", &mark),
	   "memory: it knows the path added and the others");
	put_site(o, "df");
	is(commit(o), 0, "memory: a commit that keeps them");
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "memory: begin once more");
	put_site(o, "df");
	is(commit(o), 0, "memory: a commit that leaves out e/ and g/");
	ok(gone("g/h/new.html") && gone("g") && gone("e/f.html") && has("a/b/c.html", "c"),
	   "memory: the paths and folders it left out are removed");
	is(begin_unlisted(&o, man, m), 0, "memory: and the next begin still reads no folder");
	ok(!output_keep(o, "e/f.html", &mark), "memory: nor knows what went");
	output_abort(o);

	/* A stale folder that held something else stays, and the memory
	 * does not claim to know what it holds. */
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "memory: begin again");
	put_site(o, "df");
	put(o, "s/t.html", "t");
	is(commit(o), 0, "memory: a commit that adds s/t.html");
	output_memory_settle(m);
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "memory: a begin that leaves s/ out");
	touch("s/foreign.html");
	put_site(o, "df");
	is(commit(o), 0, "memory: its commit");
	ok(gone("s/t.html") && is_kind("s/foreign.html", S_IFREG),
	   "memory: what the build did not know of stays, in its folder");
	ok(begin_unlisted(&o, man, m) > 0, "memory: so the next begin reads the folders");
	output_abort(o);

	/* Another output is not this memory's. */
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "memory: begin to fill it");
	put_site(o, "df");
	put(o, "e/f.html", "f");
	is(commit(o), 0, "memory: a commit that replaced nothing");
	char other[sizeof out];
	snprintf(other, sizeof other, "%s", out);
	is(settled_site("memory-other", man, sizeof man), 0, "memory: a second site");
	unlink(man);
	ok(output_begin_trusting(&o, out, man, m, &err) == 0 && output_dirs_read(o) > 0,
	   "memory: a begin on another output does not take the first one's paths");
	output_abort(o);
	snprintf(out, sizeof out, "%s", other);

	/* An untrusting begin empties it. */
	ok(output_begin_trusting(&o, out, NULL, m, &err) == 0, "memory: a begin without a manifest");
	output_abort(o);
	output_memory_free(m);
}

/* A trusting commit of a build whose paths are the last one's but for a
 * few: only those are looked at (few_commit), with the same outcome as
 * the whole way. */
static void test_few(void)
{
	char man[800];
	gen_err err = { 0 };
	output *o = NULL;
	output_memory *m = output_memory_new();
	is(settled_site("few", man, sizeof man), 0, "few: a manifest of settled folders");
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "few: begin");
	put_site(o, "");
	is(commit(o), 0, "few: a commit as before, to fill the memory");
	ok(!output_memory_few(m), "few: that one only replaced files");

	/* One file added in new folders, one gone whose folder stays. */
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "few: begin");
	put_site(o, "d");
	put(o, "n/m/new.html", "new");
	is(commit(o), 0, "few: a commit that adds one path and leaves one out");
	ok(output_memory_few(m), "few: it looked only at those");
	ok(has("n/m/new.html", "new") && gone("a/d.html") && has("a/b/c.html", "c") &&
	   has("e/f.html", "f"), "few: the new file is there, the one left out gone");

	/* A gone file takes the folders it leaves empty with it. */
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "few: begin");
	put_site(o, "d");
	is(commit(o), 0, "few: a commit that leaves n/m/new.html out");
	ok(output_memory_few(m) && gone("n/m/new.html") && gone("n/m") && gone("n") &&
	   is_kind("a", S_IFDIR), "few: its folders, empty now, go too; a/ stays");

	/* A new path below one this build writes as a file: refused, and
	 * nothing in the output changes. */
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "few: begin");
	put_site(o, "d");
	put(o, "e/f.html/g.html", "g");
	gen_err cerr = { 0 };
	ok(output_commit(o, &cerr) < 0 && strstr(cerr.msg, "'e/f.html' is written both"),
	   "few: a folder where this build writes a file is refused (%s)", cerr.msg);
	ok(has("e/f.html", "f") && gone("a/d.html"), "few: and nothing changed");
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "few: begin");
	put_site(o, "d");
	put(o, "x/y.html", "y");
	put(o, "x/y.html/z.html", "z");
	ok(output_commit(o, &cerr) < 0 && strstr(cerr.msg, "'x/y.html' is written both"),
	   "few: so is one where a new file goes (%s)", cerr.msg);
	ok(gone("x"), "few: nothing of it is there");

	/* A folder where a file was, and the other way round. */
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "few: begin");
	put_site(o, "");
	is(commit(o), 0, "few: a commit that brings a/d.html back");
	ok(output_memory_few(m) && has("a/d.html", "d"), "few: looking at it alone");
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "few: begin");
	put_site(o, "cd");
	put(o, "a/d.html/inside.html", "inside");
	is(commit(o), 0, "few: a commit that makes a/d.html a folder");
	ok(output_memory_few(m) && is_kind("a/d.html", S_IFDIR) &&
	   has("a/d.html/inside.html", "inside") && gone("a/b/c.html") && gone("a/b"),
	   "few: it is one, and a/b went with c.html");
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "few: begin");
	put_site(o, "c");
	is(commit(o), 0, "few: a commit that makes it a file again");
	ok(!output_memory_few(m), "few: a file where a folder was takes the whole way");
	ok(has("a/d.html", "d") && gone("a/b"), "few: and the file is there");

	/* More than a few: the whole way. */
	ok(output_begin_trusting(&o, out, man, m, &err) == 0, "few: begin");
	put_site(o, "c");
	char rel[64];
	for (int i = 0; i < 100; i++) {
		snprintf(rel, sizeof rel, "many/%d.html", i);
		put(o, rel, "many");
	}
	is(commit(o), 0, "few: a commit that adds a hundred paths");
	ok(!output_memory_few(m) && has("many/99.html", "many"), "few: takes the whole way");

	/* And after each, the memory holds the paths as they are. */
	is(begin_unlisted(&o, man, m), 0, "few: the next begin reads no folder");
	put_site(o, "c");
	is(commit(o), 0, "few: a commit without the hundred");
	ok(output_memory_few(m) == false && gone("many"), "few: they go, the whole way again");
	output_memory_free(m);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(base, sizeof base, "%s/gen-output.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(out, sizeof out, "%s/site", base);
	test_fresh();
	test_unchanged();
	test_changes();
	test_swaps();
	test_abort();
	test_threads();
	test_refusals();
	test_empty_build();
	test_pieces();
	test_copy();
	test_big_replace();
	test_spare();
	test_patch();
	test_commit_early();
	test_manifest();
	test_manifest_order();
	test_manifest_wide();
	test_settled_soon();
	test_absolute();
	test_few();
	test_trusting();
	test_committed();
	test_same_shape();
	test_rewrite();
	test_memory();
	test_keep_threads();
	test_marks();
	cleanup(base);
	return done_testing();
}
