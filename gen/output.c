/* output: atomic replacement of the output directory (see output.h). */
#define _GNU_SOURCE /* renameat2, nftw */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "xalloc.h"

struct output {
	char *dir;  /* the final directory */
	char *tmp;  /* where this build writes */
	pthread_mutex_t lock;
	size_t changed, unchanged;
};

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int output_begin(output **out, const char *dir, gen_err *err)
{
	*out = NULL;
	buf probe = BUF_INIT;
	buf_printf(&probe, "%s/site.toml", dir);
	bool project = exists(probe.ptr);
	buf_clear(&probe);
	buf_printf(&probe, "%s/.git", dir);
	project = project || exists(probe.ptr);
	buf_release(&probe);
	if (project)
		return err_set(err, GEN_EUSAGE, "", 0, 0,
			       "refusing to replace '%s': it holds a project, not a built site",
			       dir);

	output *o = xcalloc(1, sizeof *o);
	o->dir = xstrdup(dir);
	size_t l = strlen(o->dir);
	while (l > 1 && o->dir[l - 1] == '/')
		o->dir[--l] = '\0';
	buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp-XXXXXX", o->dir);
	if (!mkdtemp(tmp.ptr)) {
		int e = errno;
		buf_release(&tmp);
		free(o->dir);
		free(o);
		return err_set(err, GEN_EIO, dir, 0, 0,
			       "cannot create a directory beside the output: %s",
			       strerror(e));
	}
	chmod(tmp.ptr, 0755);
	o->tmp = buf_detach(&tmp);
	pthread_mutex_init(&o->lock, NULL);
	*out = o;
	return 0;
}

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0755);
		*p = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* Whether the file at path holds exactly these bytes. */
static bool same_bytes(const char *path, const void *data, size_t len)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != len)
		return false;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return false;
	bool same = true;
	char chunk[65536];
	size_t off = 0, n;
	while (same && (n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		if (off + n > len || memcmp(chunk, (const char *)data + off, n) != 0)
			same = false;
		off += n;
	}
	fclose(fp);
	return same && off == len;
}

int output_write(output *o, const char *rel, const void *data, size_t len,
		 gen_err *err)
{
	if (!*rel || rel[0] == '/' || strstr(rel, ".."))
		return err_set(err, GEN_EUSAGE, rel, 0, 0, "refusing to write outside the output");
	int rc = 0;
	buf path = BUF_INIT, old = BUF_INIT;
	buf_printf(&path, "%s/%s", o->tmp, rel);
	buf_printf(&old, "%s/%s", o->dir, rel);
	if (mkdirs(path.ptr) < 0) {
		rc = err_set(err, GEN_EIO, path.ptr, 0, 0, "cannot create directory: %s",
			     strerror(errno));
		goto out;
	}
	bool kept = same_bytes(old.ptr, data, len) && link(old.ptr, path.ptr) == 0;
	if (!kept) {
		FILE *fp = fopen(path.ptr, "wb");
		if (!fp || (len && fwrite(data, 1, len, fp) != len) || fclose(fp) != 0) {
			rc = err_set(err, GEN_EIO, path.ptr, 0, 0, "cannot write: %s",
				     strerror(errno));
			goto out;
		}
	}
	pthread_mutex_lock(&o->lock);
	if (kept)
		o->unchanged++;
	else
		o->changed++;
	pthread_mutex_unlock(&o->lock);
out:
	buf_release(&path);
	buf_release(&old);
	return rc;
}

static void output_free(output *o)
{
	pthread_mutex_destroy(&o->lock);
	free(o->dir);
	free(o->tmp);
	free(o);
}

int output_commit(output *o, gen_err *err)
{
	int rc = 0;
	if (!exists(o->dir)) {
		if (rename(o->tmp, o->dir) < 0)
			rc = err_set(err, GEN_EIO, o->dir, 0, 0, "cannot move the new site in: %s",
				     strerror(errno));
	} else if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->dir, RENAME_EXCHANGE) == 0) {
		/* o->tmp now holds the previous site. */
		rm_tree(o->tmp);
	} else {
		/* No atomic exchange on this file system: two renames. */
		buf old = BUF_INIT;
		buf_printf(&old, "%s.old-%ld", o->dir, (long)getpid());
		if (rename(o->dir, old.ptr) < 0 || rename(o->tmp, o->dir) < 0) {
			rc = err_set(err, GEN_EIO, o->dir, 0, 0, "cannot move the new site in: %s",
				     strerror(errno));
			if (!exists(o->dir))
				rename(old.ptr, o->dir);
		}
		rm_tree(old.ptr);
		buf_release(&old);
	}
	if (rc < 0)
		rm_tree(o->tmp);
	output_free(o);
	return rc;
}

void output_abort(output *o)
{
	if (!o)
		return;
	rm_tree(o->tmp);
	output_free(o);
}

size_t output_changed(const output *o) { return o->changed; }
size_t output_unchanged(const output *o) { return o->unchanged; }
