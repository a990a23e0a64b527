/* source: a snapshot of the project's files from git or from disk
 * (see source.h).
 *
 * Reading content from a revision rather than from the work tree is what
 * makes builds reproducible ("the site of tag v1") and lets editors build
 * a branch without checking it out. libgit2 reads blobs straight from the
 * object database; nothing on disk is touched. */
#define _DEFAULT_SOURCE /* realpath */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "buf.h"
#include "gitindex.h"
#include "xalloc.h"

struct source {
	char *root;         /* project root on disk; NULL when bare */
	char *prefix;       /* project root inside the repository: "" or "sub/" */
	git_repository *repo;
	git_tree *tree;     /* NULL in work-tree mode */
	char commit[41];
	char describe[PATH_MAX + 64];
	bool worktree;
};

static int git_fail(gen_err *err, const char *what)
{
	const git_error *e = git_error_last();
	return err_set(err, GEN_EGIT, "", 0, 0, "%s: %s", what,
		       e && e->message ? e->message : "unknown error");
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Walks up from start until a directory with site.toml is found. */
int source_find_root(char **out, const char *start, gen_err *err)
{
	char dir[PATH_MAX];
	if (!realpath(start, dir))
		return err_set(err, GEN_EIO, start, 0, 0, "cannot open directory: %s",
			       strerror(errno));
	buf path = BUF_INIT;
	for (;;) {
		buf_clear(&path);
		buf_printf(&path, "%s/site.toml", strcmp(dir, "/") ? dir : "");
		if (is_file(path.ptr)) {
			buf_release(&path);
			*out = xstrdup(dir);
			return 0;
		}
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir) {
			if (strcmp(dir, "/") == 0)
				break;
			strcpy(dir, "/");
			continue;
		}
		*slash = '\0';
	}
	buf_release(&path);
	return err_set(err, GEN_EUSAGE, "", 0, 0,
		       "no 'site.toml' in '%s' or any directory above it", start);
}

/* libgit2 as Debian builds it (with mbed TLS) reads and parses every
 * certificate authority of the system in git_libgit2_init, for HTTPS
 * remotes that gen never talks to: 8-13 ms at the start of every
 * command, on the thread all the rest waits for. These two definitions
 * take the place of mbed TLS's own in the whole process (the dynamic
 * linker looks in the executable first), so the list stays empty. Were
 * a remote ever reached over HTTPS, its certificate would fail the check:
 * safe, if puzzling. A libgit2 built with another TLS library never
 * calls them, and then they cost nothing. */
int mbedtls_x509_crt_parse_file(void *chain, const char *path);
int mbedtls_x509_crt_parse_path(void *chain, const char *path);

int mbedtls_x509_crt_parse_file(void *chain, const char *path)
{
	(void)chain;
	(void)path;
	return 0;
}

int mbedtls_x509_crt_parse_path(void *chain, const char *path)
{
	(void)chain;
	(void)path;
	return 0;
}

/* --staged: the tree of what git's index holds, as git commit would
 * write it (git_index_write_tree writes the same tree objects the commit
 * will), and HEAD as the commit whose history the site shows. A git
 * index file, not a copy of the files: what a hook checks is what will
 * be committed, with the build cache and the history of the project. */
static int open_staged(source *s, gen_err *err)
{
	git_index *index = NULL;
	git_reference *head = NULL;
	git_oid tree;
	int rc = 0;
	/* In a hook of git commit -a or of a commit of named paths, the
	 * commit's index is another file, which git names here. */
	const char *file = getenv("GIT_INDEX_FILE");
	bool own = file && *file;
	if ((own ? git_index_open(&index, file) : git_repository_index(&index, s->repo)) < 0) {
		rc = git_fail(err, "cannot read git's index");
		goto out;
	}
	if (git_index_has_conflicts(index)) {
		rc = err_set(err, GEN_EGIT, "", 0, 0,
			     "git's index has conflicts: resolve them before checking it");
		goto out;
	}
	if ((own ? git_index_write_tree_to(&tree, index, s->repo)
		 : git_index_write_tree(&tree, index)) < 0 ||
	    git_tree_lookup(&s->tree, s->repo, &tree) < 0) {
		rc = git_fail(err, "cannot make a tree of git's index");
		goto out;
	}
	if (git_repository_head(&head, s->repo) == 0 && git_reference_target(head))
		git_oid_tostr(s->commit, sizeof s->commit, git_reference_target(head));
	snprintf(s->describe, sizeof s->describe, "the index (staged changes)");
out:
	git_reference_free(head);
	git_index_free(index);
	return rc;
}

int source_open(source **out, const source_options *opt, diag_list *diags,
		gen_err *err)
{
	int rc = 0;
	git_object *obj = NULL;
	git_commit *commit = NULL;
	source *s = xcalloc(1, sizeof *s);
	*out = NULL;
	git_libgit2_init();
	/* gen only reads, and git checked every object as it wrote it:
	 * verifying each hash again doubles the cost of a history walk.
	 * Set here, before any thread reads a repository (history walks
	 * beside the articles being parsed), for the whole process. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/* libgit2 caches no tree over 4 KB by default, and a folder of
	 * thousands of articles is a tree of hundreds: the status and its
	 * diffs read it again and again (a resident's status, on a handle
	 * it keeps, the one from the build before). Trees up to 8 MB are
	 * kept, and the cache as a whole to 16 MB (256 by default), so
	 * that a walk through loose objects cannot grow a build by more. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)8 << 20);
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)16 << 20);
	s->worktree = opt->worktree;
	const char *rev = opt->rev ? opt->rev : "HEAD";

	if (opt->repo) {
		if (git_repository_open_ext(&s->repo, opt->repo,
					    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
			rc = git_fail(err, "cannot open repository");
			goto out;
		}
		const char *wd = git_repository_workdir(s->repo);
		if (wd) {
			s->root = xstrdup(wd);
			size_t l = strlen(s->root);
			if (l > 1 && s->root[l - 1] == '/')
				s->root[l - 1] = '\0';
		} else if (s->worktree) {
			rc = err_set(err, GEN_EUSAGE, "", 0, 0,
				     "'%s' is a bare repository: it has no work tree",
				     opt->repo);
			goto out;
		}
		s->prefix = xstrdup("");
	} else {
		if ((rc = source_find_root(&s->root, opt->dir ? opt->dir : ".", err)) < 0)
			goto out;
		if (git_repository_open_ext(&s->repo, s->root, 0, NULL) < 0) {
			s->repo = NULL;
			s->prefix = xstrdup("");
			if (diags)
				diag_add(diags, DIAG_NOTICE, "", 0, 0,
					 "'%s' is not in a git repository: building "
					 "from the files on disk, history features are off",
					 s->root);
			s->worktree = true;
		} else {
			const char *wd = git_repository_workdir(s->repo);
			char real_wd[PATH_MAX];
			if (!wd || !realpath(wd, real_wd)) {
				s->prefix = xstrdup("");
			} else {
				size_t l = strlen(real_wd);
				const char *rest = s->root + l;
				if (strncmp(s->root, real_wd, l) == 0 && *rest == '/') {
					buf p = BUF_INIT;
					buf_printf(&p, "%s/", rest + 1);
					s->prefix = buf_detach(&p);
				} else {
					s->prefix = xstrdup("");
				}
			}
		}
	}

	if (opt->staged && (s->worktree || !git_repository_workdir(s->repo))) {
		rc = err_set(err, GEN_EUSAGE, "", 0, 0,
			     "--staged reads git's index, and '%s' has none",
			     s->root ? s->root : opt->repo);
		goto out;
	}
	if (s->worktree) {
		snprintf(s->describe, sizeof s->describe, "work tree");
	} else if (opt->staged) {
		rc = open_staged(s, err);
		if (rc < 0)
			goto out;
	} else {
		if (git_revparse_single(&obj, s->repo, rev) < 0) {
			if (git_repository_head_unborn(s->repo) == 1)
				rc = err_set(err, GEN_EGIT, "", 0, 0,
					     "the repository has no commits yet: "
					     "commit the content or build with --worktree");
			else
				rc = err_set(err, GEN_EGIT, "", 0, 0,
					     "unknown revision '%s'", rev);
			goto out;
		}
		if (git_object_peel((git_object **)&commit, obj, GIT_OBJECT_COMMIT) < 0) {
			rc = err_set(err, GEN_EGIT, "", 0, 0,
				     "revision '%s' does not name a commit", rev);
			goto out;
		}
		if (git_commit_tree(&s->tree, commit) < 0) {
			rc = git_fail(err, "cannot read the commit's tree");
			goto out;
		}
		git_oid_tostr(s->commit, sizeof s->commit, git_commit_id(commit));
		snprintf(s->describe, sizeof s->describe, "revision '%s' (%.7s)", rev,
			 s->commit);
	}
	*out = s;
	s = NULL;
out:
	git_commit_free(commit);
	git_object_free(obj);
	source_free(s);
	return rc;
}

int source_open_plain(source **out, const char *dir, gen_err *err)
{
	char real[PATH_MAX];
	*out = NULL;
	if (!realpath(dir, real))
		return err_set(err, GEN_EIO, dir, 0, 0, "cannot open directory: %s",
			       strerror(errno));
	source *s = xcalloc(1, sizeof *s);
	git_libgit2_init();
	s->root = xstrdup(real);
	s->prefix = xstrdup("");
	s->worktree = true;
	snprintf(s->describe, sizeof s->describe, "directory '%s'", real);
	*out = s;
	return 0;
}

void source_free(source *s)
{
	if (!s)
		return;
	git_tree_free(s->tree);
	git_repository_free(s->repo);
	free(s->root);
	free(s->prefix);
	free(s);
	git_libgit2_shutdown();
}

void source_hold(void) { git_libgit2_init(); }
void source_unhold(void) { git_libgit2_shutdown(); }

const char *source_root(const source *s) { return s->root; }
bool source_has_git(const source *s) { return s->repo != NULL; }
const char *source_commit(const source *s) { return s->commit; }
const char *source_describe(const source *s) { return s->describe; }

void source_file_unload(source_file *f)
{
	free(f->data);
	f->data = NULL;
	f->len = 0;
}

void source_file_release(source_file *f)
{
	free(f->path);
	free(f->data);
	memset(f, 0, sizeof *f);
}

void source_files_free(source_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		source_file_release(&files[i]);
	free(files);
}

static void hash_bytes(char out[41], const char *data, size_t len)
{
	git_oid oid;
	if (git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0)
		memset(&oid, 0, sizeof oid);
	git_oid_tostr(out, 41, &oid);
}

static int read_disk(const char *full, source_file *f, gen_err *err)
{
	FILE *fp = fopen(full, "rb");
	if (!fp) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		return err_set(err, GEN_EIO, full, 0, 0, "cannot read: %s",
			       strerror(errno));
	}
	buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_put(&b, chunk, n);
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		buf_release(&b);
		return err_set(err, GEN_EIO, full, 0, 0, "cannot read: %s",
			       strerror(errno));
	}
	f->len = b.len;
	f->data = buf_detach(&b);
	hash_bytes(f->id, f->data, f->len);
	return 0;
}

static int read_blob(const source *s, const git_oid *oid, source_file *f,
		     gen_err *err)
{
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, s->repo, oid) < 0)
		return git_fail(err, "cannot read blob");
	size_t len = (size_t)git_blob_rawsize(blob);
	f->data = xstrndup(git_blob_rawcontent(blob), len);
	f->len = len;
	git_oid_tostr(f->id, sizeof f->id, oid);
	git_blob_free(blob);
	return 0;
}

int source_read(const source *s, const char *path, source_file *out,
		gen_err *err)
{
	memset(out, 0, sizeof *out);
	int rc;
	if (s->worktree) {
		buf full = BUF_INIT;
		buf_printf(&full, "%s/%s", s->root, path);
		rc = read_disk(full.ptr, out, err);
		buf_release(&full);
	} else {
		git_tree_entry *e = NULL;
		buf full = BUF_INIT;
		buf_printf(&full, "%s%s", s->prefix, path);
		if (git_tree_entry_bypath(&e, s->tree, full.ptr) < 0 ||
		    git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
			rc = 1;
		} else {
			rc = read_blob(s, git_tree_entry_id(e), out, err);
		}
		git_tree_entry_free(e);
		buf_release(&full);
	}
	if (rc == 0)
		out->path = xstrdup(path);
	else
		source_file_release(out);
	return rc;
}

typedef struct list {
	source_file *items;
	size_t n, cap;
} list;

static source_file *list_add(list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->items = xrealloc(l->items, l->cap * sizeof *l->items);
	}
	source_file *f = &l->items[l->n++];
	memset(f, 0, sizeof *f);
	return f;
}

/* ---- the ids of files on disk ----
 *
 * In work-tree mode a file's id is the hash of its bytes, so listing the
 * content would read every file. A memo (a file in the build cache, see
 * source_list_ids) keeps each file's id with what stat said of it: size,
 * mtime, ctime, inode. A file that stats the same is taken to hold the
 * same bytes, as git takes it for its index, and is read only when a
 * build needs its bytes. Like git, a file whose mtime was within
 * MEMO_SETTLED seconds of writing the memo is read again: a change in
 * the same tick of the clock could leave the stat as it was. */

#define MEMO_FORMAT "gen ids 1\n"
#define MEMO_SEED 0x696473u
#define MEMO_SETTLED 2

typedef struct memo_entry {
	const char *path;  /* into the memo's bytes, NUL-terminated */
	uint64_t size, ino;
	int64_t msec, csec;
	uint64_t mnsec, cnsec;
	char id[41];
} memo_entry;

typedef struct id_memo {
	buf_map data;
	memo_entry *items; /* sorted by path */
	size_t n;
	int64_t written;   /* when the memo was written (seconds) */
	/* what this listing saw, for the next memo */
	memo_entry *seen;
	char **seen_paths;
	size_t nseen, capseen;
	bool changed;      /* a file was read, added or gone */
	bool links;        /* a symbolic link (or a name of unknown type) was seen */
} id_memo;

static int memo_cmp(const void *a, const void *b)
{
	return strcmp(((const memo_entry *)a)->path, ((const memo_entry *)b)->path);
}

static void memo_read(id_memo *m, const char *path)
{
	memset(m, 0, sizeof *m);
	if (!path)
		return;
	buf_reader r;
	if (!buf_map_sealed(&m->data, path, MEMO_FORMAT, MEMO_SEED, &r))
		goto bad;
	m->written = buf_get_svarint(&r);
	uint64_t n = buf_get_varint(&r);
	if (r.bad || n > m->data.len)
		goto bad;
	m->items = xcalloc((size_t)n + 1, sizeof *m->items);
	for (uint64_t i = 0; i < n && !r.bad; i++) {
		memo_entry *e = &m->items[m->n++];
		size_t pl, il;
		const char *p = buf_get_blob(&r, &pl);
		e->size = buf_get_varint(&r);
		e->ino = buf_get_varint(&r);
		e->msec = buf_get_svarint(&r);
		e->mnsec = buf_get_varint(&r);
		e->csec = buf_get_svarint(&r);
		e->cnsec = buf_get_varint(&r);
		const char *id = buf_get_blob(&r, &il);
		/* The path ends with the NUL the writer put there. */
		if (r.bad || il != 40 || !p || !pl || p[pl - 1] != '\0' || strlen(p) != pl - 1) {
			r.bad = true;
			break;
		}
		e->path = p;
		memcpy(e->id, id, 40);
		e->id[40] = '\0';
	}
	if (r.bad || r.p != r.end)
		goto bad;
	qsort(m->items, m->n, sizeof *m->items, memo_cmp);
	return;
bad:
	buf_unmap(&m->data);
	free(m->items);
	memset(m, 0, sizeof *m);
	m->changed = true;
}

static memo_entry *memo_add(id_memo *m, const char *path)
{
	if (m->nseen == m->capseen) {
		m->capseen = m->capseen ? 2 * m->capseen : 256;
		m->seen = xrealloc(m->seen, m->capseen * sizeof *m->seen);
		m->seen_paths = xrealloc(m->seen_paths, m->capseen * sizeof *m->seen_paths);
	}
	memo_entry *e = &m->seen[m->nseen];
	m->seen_paths[m->nseen++] = xstrdup(path);
	return e;
}

static void memo_note(id_memo *m, const char *path, const struct stat *st, const char *id)
{
	memo_entry *e = memo_add(m, path);
	e->size = (uint64_t)st->st_size;
	e->ino = (uint64_t)st->st_ino;
	e->msec = (int64_t)st->st_mtim.tv_sec;
	e->mnsec = (uint64_t)st->st_mtim.tv_nsec;
	e->csec = (int64_t)st->st_ctim.tv_sec;
	e->cnsec = (uint64_t)st->st_ctim.tv_nsec;
	memcpy(e->id, id, 41);
}

/* The id the memo has for path when the file still stats as then. */
static const char *memo_id(const id_memo *m, const char *path, const struct stat *st)
{
	memo_entry want = { .path = path };
	const memo_entry *e = m->n ? bsearch(&want, m->items, m->n, sizeof *m->items, memo_cmp)
				   : NULL;
	if (!e || e->size != (uint64_t)st->st_size || e->ino != (uint64_t)st->st_ino ||
	    e->msec != (int64_t)st->st_mtim.tv_sec || e->mnsec != (uint64_t)st->st_mtim.tv_nsec ||
	    e->csec != (int64_t)st->st_ctim.tv_sec || e->cnsec != (uint64_t)st->st_ctim.tv_nsec ||
	    e->msec >= m->written - MEMO_SETTLED)
		return NULL;
	return e->id;
}

/* Writes what this listing saw, when it differs from what was read. */
static void memo_write(id_memo *m, const char *path)
{
	if (!path || (!m->changed && m->nseen == m->n))
		return;
	buf b = BUF_INIT, tmp = BUF_INIT;
	buf_puts(&b, MEMO_FORMAT);
	buf_put_svarint(&b, (int64_t)time(NULL));
	buf_put_varint(&b, m->nseen);
	for (size_t i = 0; i < m->nseen; i++) {
		const memo_entry *e = &m->seen[i];
		/* The path with its NUL, so that it can be read in place. */
		buf_put_blob(&b, m->seen_paths[i], strlen(m->seen_paths[i]) + 1);
		buf_put_varint(&b, e->size);
		buf_put_varint(&b, e->ino);
		buf_put_svarint(&b, e->msec);
		buf_put_varint(&b, e->mnsec);
		buf_put_svarint(&b, e->csec);
		buf_put_varint(&b, e->cnsec);
		buf_put_blob(&b, e->id, 40);
	}
	/* The cache folder, as cache_save makes it. */
	buf_puts(&tmp, path);
	char *slash = strrchr(tmp.ptr, '/');
	if (slash) {
		*slash = '\0';
		mkdir(tmp.ptr, 0777);
	}
	buf_write_sealed(&b, path, MEMO_SEED);
	buf_release(&b);
	buf_release(&tmp);
}

static void memo_release(id_memo *m)
{
	buf_unmap(&m->data);
	free(m->items);
	for (size_t i = 0; i < m->nseen; i++)
		free(m->seen_paths[i]);
	free(m->seen_paths);
	free(m->seen);
}

/* ---- a listing kept between builds ----
 *
 * gen serve watches the content with inotify, so it knows which files
 * may have changed since its last build: a listing from the memory is
 * the last one with the paths it names listed again, instead of a stat of
 * every file. The paths are relative to the project root; a folder
 * stands for everything below it. A file named there is read again:
 * it was written, most likely. A content with a symbolic link in it is
 * listed in full each time, as what the link points to is not watched. */

struct source_listing {
	char *root, *dir;    /* what the last listing was of */
	bool valid;
	memo_entry *items;   /* its files, sorted by path, with their stat */
	char **paths;
	size_t n;
	char **dirty;        /* paths that may have changed since */
	size_t ndirty, capdirty;
};

source_listing *source_listing_new(void)
{
	return xcalloc(1, sizeof(source_listing));
}

static void listing_clear_items(source_listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	free(l->items);
	l->paths = NULL;
	l->items = NULL;
	l->n = 0;
	l->valid = false;
}

static void listing_clear_dirty(source_listing *l)
{
	for (size_t i = 0; i < l->ndirty; i++)
		free(l->dirty[i]);
	l->ndirty = 0;
}

void source_listing_free(source_listing *l)
{
	if (!l)
		return;
	listing_clear_items(l);
	listing_clear_dirty(l);
	free(l->dirty);
	free(l->root);
	free(l->dir);
	free(l);
}

/* Appends a copy of path to the list v (n paths, room for cap). */
static void add_path(char ***v, size_t *n, size_t *cap, const char *path)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = xstrdup(path);
}

/* Whether path is the last of the n in v: a file being written names
 * itself once per write, and once will do. */
static bool named_last(char *const *v, size_t n, const char *path)
{
	return n && strcmp(v[n - 1], path) == 0;
}

void source_listing_dirty(source_listing *l, const char *path)
{
	if (l->valid && !named_last(l->dirty, l->ndirty, path))
		add_path(&l->dirty, &l->ndirty, &l->capdirty, path);
}

void source_listing_forget(source_listing *l)
{
	listing_clear_items(l);
	listing_clear_dirty(l);
}

/* Whether path is below (or is) the folder under; a '/' ending under
 * (content_dir = "content/") does not count. */
static bool path_within(const char *path, const char *under)
{
	size_t n = strlen(under);
	while (n > 1 && under[n - 1] == '/')
		n--;
	return strncmp(path, under, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int compare_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether path or a folder above it is in set (sorted, n paths). */
static bool path_named(const char *path, char *const *set, size_t n)
{
	/* A save names one file or a few: every file of the listing is
	 * looked up, so that case takes no allocation. */
	if (n <= 16) {
		for (size_t i = 0; i < n; i++)
			if (path_within(path, set[i]))
				return true;
		return false;
	}
	buf p = BUF_INIT;
	buf_puts(&p, path);
	bool found = false;
	for (;;) {
		const char *key = p.ptr;
		if (bsearch(&key, set, n, sizeof *set, compare_paths)) {
			found = true;
			break;
		}
		char *slash = strrchr(p.ptr, '/');
		if (!slash)
			break;
		buf_truncate(&p, (size_t)(slash - p.ptr));
	}
	buf_release(&p);
	return found;
}

/* qsort for a list that is sorted but for its end: the listings of a
 * rebuild are the last one's, in order, with the few files named since
 * after them. The sorted front is found, the rest sorted and merged in:
 * some 10,000 compares where a sort of the whole took 130,000. */
static void sort_listed(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *a = base;
	size_t front = 1;
	while (front < n && cmp(a + (front - 1) * size, a + front * size) <= 0)
		front++;
	if (front >= n)
		return;
	if (front < n / 2) {
		qsort(base, n, size, cmp);
		return;
	}
	qsort(a + front * size, n - front, size, cmp);
	char *merged = xmalloc(n * size);
	size_t i = 0, j = front, k = 0;
	while (i < front || j < n) {
		/* Ties go to the front, as a stable merge would. */
		bool from_front = j >= n || (i < front && cmp(a + i * size, a + j * size) <= 0);
		memcpy(merged + k++ * size, a + (from_front ? i++ : j++) * size, size);
	}
	memcpy(base, merged, n * size);
	free(merged);
}

typedef struct seen_file {
	char *path;
	size_t at;           /* in the memo's seen */
} seen_file;

static int compare_seen(const void *a, const void *b)
{
	return strcmp(((const seen_file *)a)->path, ((const seen_file *)b)->path);
}

/* Takes what m saw as the listing of root/dir (its paths too: m is left
 * with none). */
static void listing_take(source_listing *l, const char *root, const char *dir, id_memo *m)
{
	listing_clear_items(l);
	listing_clear_dirty(l);
	if (m->links)
		return;
	if (!l->root || strcmp(l->root, root) != 0) {
		free(l->root);
		l->root = xstrdup(root);
	}
	if (!l->dir || strcmp(l->dir, dir) != 0) {
		free(l->dir);
		l->dir = xstrdup(dir);
	}
	seen_file *order = xmalloc((m->nseen + 1) * sizeof *order);
	for (size_t i = 0; i < m->nseen; i++)
		order[i] = (seen_file){ m->seen_paths[i], i };
	sort_listed(order, m->nseen, sizeof *order, compare_seen);
	l->items = xmalloc((m->nseen + 1) * sizeof *l->items);
	l->paths = xmalloc((m->nseen + 1) * sizeof *l->paths);
	for (size_t i = 0; i < m->nseen; i++) {
		l->items[i] = m->seen[order[i].at];
		l->items[i].path = order[i].path;
		l->paths[i] = order[i].path;
	}
	l->n = m->nseen;
	m->nseen = 0;
	free(order);
	l->valid = true;
}

/* Lists the files under root/rel, with their bytes unless memo (may be
 * NULL) knows their id. */
/* Adds path (taken) to k, left out for kind, leading to target (taken,
 * may be NULL). */
static void links_add(source_links *k, char *path, source_link_kind kind, char *target)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 8;
		k->paths = xrealloc(k->paths, k->cap * sizeof *k->paths);
		k->kinds = xrealloc(k->kinds, k->cap * sizeof *k->kinds);
		k->targets = xrealloc(k->targets, k->cap * sizeof *k->targets);
	}
	k->paths[k->n] = path;
	k->kinds[k->n] = kind;
	k->targets[k->n++] = target;
}

/* Whether the symbolic link at root/rel may be followed (see
 * source_links); when not, it goes into links (may be NULL) with why. A
 * link that leads nowhere is followed: the stat after it fails, as
 * before. */
static bool link_followed(const char *root, const char *rel, source_links *links)
{
	char target[PATH_MAX], top[PATH_MAX], here[PATH_MAX];
	buf full = BUF_INIT;
	buf_printf(&full, "%s/%s", root, rel);
	bool ok = true;
	if (!realpath(full.ptr, target) || !realpath(root, top))
		goto out;
	size_t tl = strlen(top), gl = strlen(target);
	source_link_kind why;
	if (strncmp(target, top, tl) != 0 || (target[tl] != '/' && target[tl] != '\0')) {
		why = SOURCE_LINK_OUTSIDE;
	} else {
		/* The folder that holds the link, as the system has it. */
		char *slash = strrchr(full.ptr, '/');
		*slash = '\0';
		if (!realpath(full.ptr, here))
			goto out;
		if (strncmp(here, target, gl) != 0 || (here[gl] != '/' && here[gl] != '\0'))
			goto out;
		why = SOURCE_LINK_LOOP;
	}
	ok = false;
	if (links)
		links_add(links, xstrdup(rel), why, xstrdup(target));
out:
	buf_release(&full);
	return ok;
}

static int list_disk(list *l, const char *root, const char *rel, id_memo *memo,
		     source_links *links, gen_err *err)
{
	buf full = BUF_INIT;
	buf_printf(&full, "%s/%s", root, rel);
	DIR *d = opendir(full.ptr);
	int rc = 0;
	if (!d) {
		rc = (errno == ENOENT || errno == ENOTDIR)
			     ? 0
			     : err_set(err, GEN_EIO, full.ptr, 0, 0,
				       "cannot list directory: %s", strerror(errno));
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		/* Dotfiles (.git, editor swap files, .DS_Store) are never content. */
		if (de->d_name[0] == '.')
			continue;
		/* What is behind a link can change unseen by a watch on the
		 * content (source_listing). */
		if (memo && (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN))
			memo->links = true;
		buf child = BUF_INIT;
		buf_printf(&child, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		buf childfull = BUF_INIT;
		buf_printf(&childfull, "%s/%s", root, child.ptr);
		struct stat st;
		bool link = de->d_type == DT_LNK ||
			    (de->d_type == DT_UNKNOWN && lstat(childfull.ptr, &st) == 0 &&
			     S_ISLNK(st.st_mode));
		if ((!link || link_followed(root, child.ptr, links)) &&
		    stat(childfull.ptr, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				rc = list_disk(l, root, child.ptr, memo, links, err);
			} else if (S_ISREG(st.st_mode)) {
				source_file *f = list_add(l);
				const char *id = memo ? memo_id(memo, child.ptr, &st) : NULL;
				if (id) {
					memcpy(f->id, id, sizeof f->id);
					rc = 0;
				} else {
					rc = read_disk(childfull.ptr, f, err);
					if (memo)
						memo->changed = true;
				}
				if (rc == 0 && memo)
					memo_note(memo, child.ptr, &st, f->id);
				if (rc == 0)
					f->path = buf_detach(&child);
				else
					l->n--;
				if (rc > 0)
					rc = 0;
			}
		}
		buf_release(&child);
		buf_release(&childfull);
		if (rc < 0)
			break;
	}
	closedir(d);
out:
	buf_release(&full);
	return rc;
}

typedef struct walk_ctx {
	const source *s;
	list *l;
	const char *dir; /* relative to project root, "" or "content" */
	gen_err *err;
	int rc;
	bool lazy;       /* ids only: bytes on demand (source_file_load) */
	source_links *links; /* may be NULL */
} walk_ctx;

/* dir/root/name, put together by hand: ten thousand of them before the
 * first article can be read, and printf's parsing of its format was a
 * third of the walk. */
static char *walk_path(const char *dir, const char *root, const char *name)
{
	size_t dl = strlen(dir), rl = strlen(root), nl = strlen(name);
	char *path = xmalloc(dl + 1 + rl + nl + 1), *at = path;
	memcpy(at, dir, dl);
	at += dl;
	if (dl)
		*at++ = '/';
	memcpy(at, root, rl);
	memcpy(at + rl, name, nl + 1);
	return path;
}

void source_links_release(source_links *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->paths[i]);
		free(l->targets[i]);
	}
	free(l->paths);
	free(l->kinds);
	free(l->targets);
	memset(l, 0, sizeof *l);
}


static int walk_cb(const char *root, const git_tree_entry *e, void *payload)
{
	walk_ctx *w = payload;
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
		return git_tree_entry_name(e)[0] == '.' ? 1 : 0;
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB || git_tree_entry_name(e)[0] == '.')
		return 0;
	if (git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
		if (w->links)
			links_add(w->links, walk_path(w->dir, root, git_tree_entry_name(e)),
				  SOURCE_LINK_GIT, NULL);
		return 0;
	}
	source_file *f = list_add(w->l);
	int rc = 0;
	if (w->lazy)
		git_oid_tostr(f->id, sizeof f->id, git_tree_entry_id(e));
	else
		rc = read_blob(w->s, git_tree_entry_id(e), f, w->err);
	if (rc < 0) {
		w->l->n--;
		w->rc = rc;
		return -1;
	}
	f->path = walk_path(w->dir, root, git_tree_entry_name(e));
	return 0;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(((const source_file *)a)->path, ((const source_file *)b)->path);
}

/* The paths of k->dirty that list_known lists again: those in dir, not
 * hidden, each once and none below another. Sorts k->dirty. Returns
 * false when dir itself (or a folder above it) is named: all of it is
 * to be listed then. */
static bool dirty_paths(source_listing *k, const char *dir, char ***out, size_t *nout)
{
	if (k->ndirty > 1)
		qsort(k->dirty, k->ndirty, sizeof *k->dirty, compare_paths);
	char **named = xmalloc((k->ndirty + 1) * sizeof *named);
	size_t n = 0;
	for (size_t i = 0; i < k->ndirty; i++) {
		const char *p = k->dirty[i];
		if (path_within(dir, p)) {
			free(named);
			return false;
		}
		/* list_disk leaves out every name that starts with a dot. */
		if (!path_within(p, dir) || strstr(p + strlen(dir), "/.") ||
		    (n && strcmp(named[n - 1], p) == 0))
			continue;
		named[n++] = k->dirty[i];
	}
	/* Sorted, a folder comes before what is below it: keep the
	 * paths no folder kept before them holds. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!path_named(named[i], named, m))
			named[m++] = named[i];
	*out = named;
	*nout = m;
	return true;
}

/* Lists root/dir from k, the last listing, and the paths named since
 * (named, sorted): the files of k below none of them as they were, the
 * named ones from disk. Fills l and, with what it saw, memo. */
static int list_known(const source_listing *k, char **named, size_t nnamed, const char *root,
		      list *l, id_memo *memo, source_links *links, gen_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < k->n; i++) {
		if (path_named(k->paths[i], named, nnamed)) {
			memo->changed = true;
			continue;
		}
		source_file *f = list_add(l);
		f->path = xstrdup(k->paths[i]);
		memcpy(f->id, k->items[i].id, sizeof f->id);
		memo_entry *e = memo_add(memo, k->paths[i]);
		*e = k->items[i];
	}
	buf full = BUF_INIT;
	for (size_t i = 0; i < nnamed && rc >= 0; i++) {
		buf_clear(&full);
		buf_printf(&full, "%s/%s", root, named[i]);
		struct stat st;
		if (lstat(full.ptr, &st) < 0)
			continue; /* gone */
		memo->changed = true;
		if (S_ISLNK(st.st_mode)) {
			memo->links = true;
			if (!link_followed(root, named[i], links) || stat(full.ptr, &st) < 0)
				continue;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = list_disk(l, root, named[i], memo, links, err);
		} else if (S_ISREG(st.st_mode)) {
			source_file *f = list_add(l);
			rc = read_disk(full.ptr, f, err);
			if (rc == 0) {
				f->path = xstrdup(named[i]);
				memo_note(memo, named[i], &st, f->id);
			} else {
				l->n--;
			}
		}
	}
	buf_release(&full);
	return rc < 0 ? rc : 0;
}

static int list_files(const source *s, const char *dir, bool lazy, const char *memo_path,
		      source_listing *known, source_file **out, size_t *n,
		      source_links *links, gen_err *err)
{
	list l = { 0 };
	int rc = 0;
	*out = NULL;
	*n = 0;
	if (s->worktree) {
		id_memo memo;
		bool use = lazy && (memo_path || known);
		char **named = NULL;
		size_t nnamed = 0;
		if (use && known && known->valid && strcmp(known->root, s->root) == 0 &&
		    strcmp(known->dir, dir) == 0 && dirty_paths(known, dir, &named, &nnamed)) {
			memo_read(&memo, NULL);
			/* The file memo is for a process that starts afresh: as
			 * the first listing left it, it may be behind on the
			 * files named since, which that process then reads
			 * (their stat is not the memo's). Writing it on every
			 * save would cost more than the listing. */
			rc = list_known(known, named, nnamed, s->root, &l, &memo, links, err);
		} else {
			if (use)
				memo_read(&memo, memo_path);
			rc = list_disk(&l, s->root, dir, use ? &memo : NULL, links, err);
			if (use && rc == 0)
				memo_write(&memo, memo_path);
		}
		free(named);
		if (use && known) {
			if (rc == 0)
				listing_take(known, s->root, dir, &memo);
			else
				source_listing_forget(known);
		}
		if (use)
			memo_release(&memo);
	} else {
		git_tree *sub = NULL;
		git_tree_entry *e = NULL;
		buf full = BUF_INIT;
		buf_printf(&full, "%s%s", s->prefix, dir);
		if (full.len && full.ptr[full.len - 1] == '/')
			buf_truncate(&full, full.len - 1);
		if (!full.len) {
			rc = git_tree_dup(&sub, s->tree);
		} else if (git_tree_entry_bypath(&e, s->tree, full.ptr) == 0 &&
			   git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			rc = git_tree_lookup(&sub, s->repo, git_tree_entry_id(e));
		}
		if (rc < 0) {
			rc = git_fail(err, "cannot read tree");
		} else if (sub) {
			walk_ctx w = { s, &l, dir, err, 0, lazy, links };
			if (git_tree_walk(sub, GIT_TREEWALK_PRE, walk_cb, &w) < 0)
				rc = w.rc ? w.rc : git_fail(err, "cannot walk tree");
		}
		git_tree_entry_free(e);
		git_tree_free(sub);
		buf_release(&full);
	}
	if (rc < 0) {
		source_files_free(l.items, l.n);
		return rc;
	}
	if (l.n > 1)
		sort_listed(l.items, l.n, sizeof *l.items, path_cmp);
	*out = l.items;
	*n = l.n;
	return 0;
}

/* ---- git status of the content ----
 *
 * A status that looked at every file before knows which differed then
 * (changed), what the index held (entries) and which commit HEAD was.
 * Since then a path can only come to differ if the work tree changed
 * there (the watch names it: dirty), if its index entry changed, or if
 * HEAD's commit changed it. Asking git status about those paths and the
 * ones that differed gives the same count as asking about all; anything
 * else (no status before, the watch lost track, a .gitignore changed,
 * too many paths) asks about all. */

/* Paths asked about one by one before a status looks at all instead. */
#define STATUS_PATHS_MAX 256
/* Statuses in a row that ask about some paths only: then one asks about
 * all, for what no watch sees (the user's global ignore file). */
#define STATUS_PARTIAL_MAX 64

typedef struct status_entry {
	char *path;
	git_oid id;
	uint32_t mode, flags;
} status_entry;

struct source_status {
	bool valid;
	git_oid head;
	status_entry *entries; /* the index under the folder, by path */
	size_t nentries;
	char **changed;        /* what the last status counted */
	size_t nchanged;
	char **dirty;          /* what the watch named since, from the root */
	size_t ndirty, capdirty;
	int partial;           /* statuses since the last that asked about all */
	size_t looked;         /* source_status_looked */
	size_t asked;          /* source_status_asked */
	/* The repository as the last status opened it, kept: its index
	 * is read again only when the file changed, and the trees the last
	 * status read (HEAD's then, which a new commit's diff starts from)
	 * are in its object cache. Taken again only for the same .git. */
	git_repository *repo;
	char *gitdir;
	dev_t gitdir_dev;
	ino_t gitdir_ino;
};

source_status *source_status_new(void)
{
	return xcalloc(1, sizeof(source_status));
}

static void free_paths(char **p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i]);
	free(p);
}

static void free_entries(status_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

static void status_clear(source_status *st)
{
	free_entries(st->entries, st->nentries);
	free_paths(st->changed, st->nchanged);
	st->entries = NULL;
	st->changed = NULL;
	st->nentries = st->nchanged = 0;
	st->valid = false;
}

static void status_clear_dirty(source_status *st)
{
	free_paths(st->dirty, st->ndirty);
	st->dirty = NULL;
	st->ndirty = st->capdirty = 0;
}

static void status_let_go(source_status *st)
{
	git_repository_free(st->repo);
	free(st->gitdir);
	st->repo = NULL;
	st->gitdir = NULL;
}

void source_status_free(source_status *st)
{
	if (!st)
		return;
	status_clear(st);
	status_clear_dirty(st);
	status_let_go(st);
	free(st);
}

/* The repository of s for a status, on its own handle: the build reads
 * blobs through s->repo on other threads meanwhile, and status loads
 * the index into its handle. With st, the handle st kept when it is of
 * the same .git (the same folder, not one put in its place), else a new
 * one that st keeps; *owned says whether the caller frees it. */
static git_repository *status_repo(const source *s, source_status *st, bool *owned)
{
	const char *path = git_repository_path(s->repo);
	struct stat sb;
	bool known = stat(path, &sb) == 0;
	*owned = !st;
	if (st && st->repo && known && strcmp(st->gitdir, path) == 0 &&
	    st->gitdir_dev == sb.st_dev && st->gitdir_ino == sb.st_ino)
		return st->repo;
	if (st)
		status_let_go(st);
	git_repository *repo = NULL;
	if (git_repository_open(&repo, path) < 0)
		return NULL;
	if (st && known) {
		st->repo = repo;
		st->gitdir = xstrdup(path);
		st->gitdir_dev = sb.st_dev;
		st->gitdir_ino = sb.st_ino;
	} else {
		*owned = true;
	}
	return repo;
}

void source_status_dirty(source_status *st, const char *path)
{
	if (!st->valid || named_last(st->dirty, st->ndirty, path))
		return;
	if (st->ndirty == STATUS_PATHS_MAX)
		st->valid = false; /* too many to ask about one by one */
	else
		add_path(&st->dirty, &st->ndirty, &st->capdirty, path);
}

void source_status_forget(source_status *st)
{
	st->valid = false;
}

size_t source_status_looked(const source_status *st)
{
	return st->looked;
}

size_t source_status_asked(const source_status *st)
{
	return st->asked;
}

/* The index's entries under the folder spec, in its order (by path). */
static void read_entries(git_index *ix, const char *spec, status_entry **out, size_t *n)
{
	size_t count = git_index_entrycount(ix), k = 0;
	status_entry *e = xmalloc((count + 1) * sizeof *e);
	for (size_t i = 0; i < count; i++) {
		const git_index_entry *x = git_index_get_byindex(ix, i);
		if (!x || !path_within(x->path, spec))
			continue;
		e[k].path = xstrdup(x->path);
		git_oid_cpy(&e[k].id, &x->id);
		e[k].mode = x->mode;
		e[k].flags = (uint32_t)x->flags | (uint32_t)x->flags_extended << 16;
		k++;
	}
	*out = e;
	*n = k;
}

/* Paths whose index entry is not as it was, into the candidates. */
static void index_changes(const status_entry *a, size_t na, const status_entry *b, size_t nb,
			  char ***v, size_t *n, size_t *cap)
{
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].path, b[j].path);
		if (c < 0) {
			add_path(v, n, cap, a[i++].path);
		} else if (c > 0) {
			add_path(v, n, cap, b[j++].path);
		} else {
			if (!git_oid_equal(&a[i].id, &b[j].id) || a[i].mode != b[j].mode ||
			    a[i].flags != b[j].flags)
				add_path(v, n, cap, a[i].path);
			i++;
			j++;
		}
	}
}

/* Paths HEAD's move from commit a to commit b changed, into the
 * candidates; false when they cannot be told. */
static bool head_changes(git_repository *repo, const git_oid *a, const git_oid *b,
			 const char *spec, char ***v, size_t *n, size_t *cap)
{
	git_commit *ca = NULL, *cb = NULL;
	git_tree *ta = NULL, *tb = NULL;
	git_diff *diff = NULL;
	bool ok = false;
	git_diff_options o;
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	char *specs[1] = { (char *)spec };
	o.pathspec.strings = specs;
	o.pathspec.count = *spec ? 1 : 0;
	o.flags = GIT_DIFF_DISABLE_PATHSPEC_MATCH;
	if (git_commit_lookup(&ca, repo, a) < 0 || git_commit_lookup(&cb, repo, b) < 0 ||
	    git_commit_tree(&ta, ca) < 0 || git_commit_tree(&tb, cb) < 0 ||
	    git_diff_tree_to_tree(&diff, repo, ta, tb, &o) < 0)
		goto out;
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		add_path(v, n, cap, d->old_file.path);
		if (strcmp(d->old_file.path, d->new_file.path) != 0)
			add_path(v, n, cap, d->new_file.path);
	}
	ok = true;
out:
	git_diff_free(diff);
	git_tree_free(ta);
	git_tree_free(tb);
	git_commit_free(ca);
	git_commit_free(cb);
	return ok;
}

/* What a status reads beside libgit2 (see gitindex.h): the folder
 * asked about, the index file, HEAD's commit and its tree at the folder. */
typedef struct quick_status {
	buf folder;    /* spec without its trailing '/' */
	buf index;     /* the index file's path */
	bool have_head; /* HEAD names a commit: */
	git_oid head;   /* that one */
	bool have;     /* HEAD has a tree at folder: */
	git_oid tree;  /* that one */
} quick_status;

static void quick_begin(quick_status *q, git_repository *repo, const char *spec)
{
	q->folder = (buf)BUF_INIT;
	q->index = (buf)BUF_INIT;
	q->have = q->have_head = false;
	buf_puts(&q->folder, spec);
	while (q->folder.len && q->folder.ptr[q->folder.len - 1] == '/')
		buf_truncate(&q->folder, q->folder.len - 1);
	buf_grow(&q->folder, 0); /* "" for the whole work tree, not NULL */
	buf_printf(&q->index, "%sindex", git_repository_path(repo));
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	q->have_head = git_reference_name_to_id(&q->head, repo, "HEAD") == 0;
	if (q->have_head && git_commit_lookup(&commit, repo, &q->head) == 0 &&
	    git_commit_tree(&tree, commit) == 0) {
		if (!q->folder.len) {
			git_oid_cpy(&q->tree, git_tree_id(tree));
			q->have = true;
		} else if (git_tree_entry_bypath(&entry, tree, q->folder.ptr) == 0 &&
			   git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
			git_oid_cpy(&q->tree, git_tree_entry_id(entry));
			q->have = true;
		}
	}
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(commit);
}

static void quick_end(quick_status *q)
{
	buf_release(&q->folder);
	buf_release(&q->index);
}

/* The index's entries under the folder, as read_entries gives them. */
static void quick_entries(const gitindex *ix, status_entry **out, size_t *n)
{
	size_t count = gitindex_count(ix);
	status_entry *e = xmalloc((count + 1) * sizeof *e);
	for (size_t i = 0; i < count; i++) {
		e[i].path = xstrdup(gitindex_path(ix, i));
		git_oid_fromraw(&e[i].id, gitindex_id(ix, i));
		e[i].mode = gitindex_mode(ix, i);
		e[i].flags = gitindex_flags(ix, i);
	}
	*out = e;
	*n = count;
}

int source_count_changes(const source *s, const char *dir, source_status *st)
{
	if (!s->repo || s->worktree || !s->root)
		return 0;
	git_status_options so;
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	buf spec = BUF_INIT;
	buf_printf(&spec, "%s%s", s->prefix, dir);
	char *specs[1] = { spec.ptr };
	so.pathspec.strings = specs;
	so.pathspec.count = 1;
	git_status_list *found = NULL;
	git_repository *own = NULL;
	git_index *ix = NULL;
	status_entry *entries = NULL;
	size_t nentries = 0;
	char **cand = NULL;
	size_t ncand = 0, capcand = 0;
	git_oid head;
	bool have_head = false, partial = false, owned = true;
	gitindex_look look = GITINDEX_LOOK_INIT;
	gitindex *quick = NULL;
	quick_status q;
	size_t asked = SIZE_MAX; /* paths libgit2's status is asked about */
	int n = 0;
	if (!(own = status_repo(s, st, &owned)))
		goto out;
	quick_begin(&q, own, spec.ptr);
	const char *workdir = git_repository_workdir(own);
	/* Without a status to go on, the index's stats and cache tree tell
	 * which files to ask libgit2 about, usually none. */
	if (!st && gitindex_look_at(workdir, q.index.ptr, q.folder.ptr, q.have ? q.tree.id : NULL,
				    STATUS_PATHS_MAX, &look) == 1) {
		if (!look.npaths)
			goto out;
		so.pathspec.strings = look.paths;
		so.pathspec.count = look.npaths;
		so.flags |= GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
	}
	if (st) {
		/* The index read here, or failing that by libgit2 (which
		 * reads a kept one again when the file changed). */
		have_head = q.have_head;
		head = q.head;
		if (have_head && gitindex_read(&quick, q.index.ptr, q.folder.ptr) == 1) {
			quick_entries(quick, &entries, &nentries);
		} else if (have_head) {
			have_head = git_repository_index(&ix, own) == 0 && git_index_read(ix, 0) == 0;
			if (have_head)
				read_entries(ix, spec.ptr, &entries, &nentries);
		}
		partial = have_head && st->valid && st->partial < STATUS_PARTIAL_MAX;
		for (size_t i = 0; partial && i < st->ndirty; i++) {
			const char *d = st->dirty[i];
			const char *base = strrchr(d, '/');
			if (strcmp(base ? base + 1 : d, ".gitignore") == 0)
				partial = false; /* what counts as untracked changed */
			else if (path_within(d, dir)) {
				buf full = BUF_INIT;
				buf_printf(&full, "%s%s", s->prefix, d);
				add_path(&cand, &ncand, &capcand, full.ptr);
				buf_release(&full);
			}
		}
		if (partial) {
			index_changes(st->entries, st->nentries, entries, nentries, &cand, &ncand,
				      &capcand);
			for (size_t i = 0; i < st->nchanged; i++)
				add_path(&cand, &ncand, &capcand, st->changed[i]);
			if (!git_oid_equal(&head, &st->head) &&
			    !head_changes(own, &st->head, &head, spec.ptr, &cand, &ncand, &capcand))
				partial = false;
		}
		partial = partial && ncand <= STATUS_PATHS_MAX;
	}
	if (partial) {
		if (ncand)
			qsort(cand, ncand, sizeof *cand, compare_paths);
		size_t k = 0;
		for (size_t i = 0; i < ncand; i++) {
			if (k && strcmp(cand[k - 1], cand[i]) == 0) {
				free(cand[i]);
				continue;
			}
			cand[k++] = cand[i];
		}
		ncand = k;
		/* The files that differed are candidates too: with none, none
		 * differ now. Nor do those whose stat is as the index keeps,
		 * with nothing staged. */
		asked = 0;
		if (!ncand)
			goto counted;
		so.pathspec.strings = cand;
		so.pathspec.count = asked = ncand;
		so.flags |= GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
		if (quick && gitindex_tree_is(quick, q.have ? q.tree.id : NULL) &&
		    gitindex_look_paths(quick, workdir, cand, ncand, &look) == 1) {
			asked = look.npaths;
			if (!look.npaths)
				goto counted;
			so.pathspec.strings = look.paths;
			so.pathspec.count = look.npaths;
		}
	}
	if (git_status_list_new(&found, own, &so) < 0) {
		if (st)
			status_clear(st);
		goto out;
	}
	n = (int)git_status_list_entrycount(found);
counted:
	if (st) {
		/* What this status found, for the next. */
		char **changed = NULL;
		size_t nchanged = 0, capchanged = 0;
		for (size_t i = 0; found && i < (size_t)n; i++) {
			const git_status_entry *e = git_status_byindex(found, i);
			const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir
								      : e->head_to_index;
			if (d)
				add_path(&changed, &nchanged, &capchanged,
					 d->new_file.path ? d->new_file.path : d->old_file.path);
		}
		status_clear(st);
		st->looked = st->asked = SIZE_MAX;
		if (have_head) {
			st->valid = true;
			st->head = head;
			st->entries = entries;
			st->nentries = nentries;
			entries = NULL;
			nentries = 0;
			st->changed = changed;
			st->nchanged = nchanged;
			st->partial = partial ? st->partial + 1 : 0;
			st->looked = partial ? ncand : SIZE_MAX;
			st->asked = partial ? asked : SIZE_MAX;
		} else {
			free_paths(changed, nchanged);
		}
		status_clear_dirty(st);
	}
out:
	if (own)
		quick_end(&q);
	gitindex_free(quick);
	gitindex_look_release(&look);
	free_entries(entries, nentries);
	free_paths(cand, ncand);
	git_status_list_free(found);
	git_index_free(ix);
	if (owned)
		git_repository_free(own);
	buf_release(&spec);
	return n;
}

char *source_git_config(const char *dir, const char *key)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	git_buf out = { 0 };
	char *res = NULL;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) == 0)
		git_repository_config_snapshot(&cfg, repo);
	else
		git_config_open_default(&cfg);
	if (cfg && git_config_get_string_buf(&out, cfg, key) == 0)
		res = xstrdup(out.ptr);
	git_buf_dispose(&out);
	git_config_free(cfg);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return res;
}

int source_list(const source *s, const char *dir, source_file **out, size_t *n,
		gen_err *err)
{
	return list_files(s, dir, false, NULL, NULL, out, n, NULL, err);
}

int source_list_ids(const source *s, const char *dir, const char *memo,
		    source_listing *known, source_file **out, size_t *n,
		    source_links *links, gen_err *err)
{
	return list_files(s, dir, true, memo, known, out, n, links, err);
}

int source_file_load(const source *s, source_file *f, gen_err *err)
{
	if (f->data)
		return 0;
	if (s->worktree) {
		/* Known by its id from the memo; read now. */
		buf full = BUF_INIT;
		buf_printf(&full, "%s/%s", s->root, f->path);
		int rc = read_disk(full.ptr, f, err);
		buf_release(&full);
		if (rc > 0)
			rc = err_set(err, GEN_EIO, f->path, 0, 0, "cannot read: it is gone");
		return rc;
	}
	git_oid oid;
	if (!s->repo || git_oid_fromstr(&oid, f->id) < 0)
		return err_set(err, GEN_EIO, f->path, 0, 0, "cannot read: no such blob %s",
			       f->id);
	int rc = read_blob(s, &oid, f, err);
	if (rc < 0 && err && !err->file[0])
		snprintf(err->file, sizeof err->file, "%s", f->path);
	return rc;
}
