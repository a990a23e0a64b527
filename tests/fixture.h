/* fixture: a project on disk for unit tests that need a whole site.
 *
 * fixture_begin makes a fresh directory, fixture_write puts files in it
 * (folders made as needed), fixture_load reads it as gen does a directory
 * that is not a git repository, and fixture_end removes it all. Included
 * by the tests that use it; not a test itself (it is not a .c file). */
#ifndef GEN_TESTS_FIXTURE_H
#define GEN_TESTS_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "site.h"
#include "source.h"

static char fixture_dir[512];

__attribute__((unused)) static void fixture_begin(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(fixture_dir, sizeof fixture_dir, "%s/gen-unit.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fixture_dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

__attribute__((unused)) static void fixture_write(const char *rel, const char *text)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", fixture_dir, rel);
	for (char *p = path + strlen(fixture_dir) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *fp = fopen(path, "w");
	if (!fp || fputs(text, fp) == EOF || fclose(fp) != 0) {
		perror(path);
		exit(2);
	}
}

/* Appends to out (size bytes, NUL-terminated) the file name of rel
 * without its ".md", after a space unless out is empty: a list such as
 * "a c b" that a test compares in one go. */
__attribute__((unused)) static void fixture_append_name(char *out, size_t size, const char *rel)
{
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	size_t l = strlen(out);
	snprintf(out + l, size - l, "%s%.*s", l ? " " : "", (int)(strlen(base) - 3), base);
}

/* fixture_dir/rel; good until the call after next. */
__attribute__((unused)) static const char *fixture_path(const char *rel)
{
	static buf path[2] = { BUF_INIT, BUF_INIT };
	static int turn;
	turn = !turn;
	buf_clear(&path[turn]);
	buf_printf(&path[turn], "%s/%s", fixture_dir, rel);
	return path[turn].ptr;
}

/* The options fixture_load uses: two workers, and a time (2033) after
 * every date of the fixtures. */
__attribute__((unused)) static site_options fixture_options(void)
{
	site_options opt;
	memset(&opt, 0, sizeof opt);
	opt.now = 2000000000;
	opt.jobs = 2;
	return opt;
}

/* Loads the fixture into *s with opt (release with site_release, then
 * source_free(*src)). Diagnostics go to d. Returns site_load's code. */
__attribute__((unused)) static int fixture_load_with(site *s, source **src, diag_list *d,
						     const site_options *opt)
{
	gen_err e;
	err_clear(&e);
	if (source_open_plain(src, fixture_dir, &e) < 0) {
		err_print(&e, stdout);
		return e.code;
	}
	int rc = site_load(s, *src, opt, d, &e);
	if (rc < 0)
		printf("# site_load: %s:%d:%d: %s\n", e.file, e.line, e.col, e.msg);
	return rc;
}

/* fixture_load_with the fixture_options. */
__attribute__((unused)) static int fixture_load(site *s, source **src, diag_list *d)
{
	site_options opt = fixture_options();
	return fixture_load_with(s, src, d, &opt);
}

static void fixture_rm(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	char sub[1024];
	while (dir && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			fixture_rm(sub);
		else
			remove(sub);
	}
	if (dir)
		closedir(dir);
	rmdir(path);
}

__attribute__((unused)) static void fixture_end(void)
{
	fixture_rm(fixture_dir);
}

/* f as an article read from a revision, without a file on disk: text at
 * path (both kept by the caller), under a made-up content id. */
__attribute__((unused)) static void fixture_source(source_file *f, char *path, const char *text,
						    size_t len)
{
	memset(f, 0, sizeof *f);
	f->path = path;
	f->data = (char *)text;
	f->len = len;
	memcpy(f->id, "0123456789012345678901234567890123456789", 41);
}

#endif
