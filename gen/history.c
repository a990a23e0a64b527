/* history: one walk over the first-parent chain (see history.h).
 *
 * Why not git_revwalk and git_diff_tree_to_tree for every commit: on a
 * shallow clone libgit2 1.5's revwalk fails at the boundary, and its tree
 * diff compares every entry of both trees, some milliseconds per commit
 * on a folder of thousands of articles (7.5 s for 3,000 commits). So the
 * walk follows first parents by hand (a missing parent is the shallow
 * boundary) and diffs the raw tree objects itself. Subtrees with the same
 * id are skipped; in a folder that changed, equal stretches of the two
 * versions are found with memcmp and skipped by binary search in an index
 * of where each entry starts, so only changed entries are parsed; the
 * folder's tree is kept for the next commit, so each tree version is read
 * once. Renames are pairs of a deletion and an addition in one commit:
 * identical blobs first, then blobs sharing at least half of their lines.
 * Hash verification of objects read from the pack is switched off: gen
 * only reads, and it halved the time. Trees are read from the pack files
 * by pack.c, which keeps the delta bases that libgit2 lets go of (a
 * folder of thousands of articles has a tree too large for libgit2 to
 * keep, and each version cost the whole delta chain again); what is left
 * is mostly inflating them.
 *
 * The walk diffs oldest to newest and keeps the state a build needs to
 * continue: every file alive at the commit (path -> page), with the list
 * of its changes. That state is what the cache file holds, so a cached
 * commit plus the diffs of the commits after it gives the same result as
 * a full walk. */
#define _DEFAULT_SOURCE /* realpath */
#include "history.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "jobs.h"
#include "pack.h"
#include "xalloc.h"

#define CACHE_FORMAT 3
#define CACHE_KEEP 4        /* history-*.bin files kept in the cache dir */
#define DEFAULT_RENAME_LIMIT 1000
/* The most a walker keeps of trees read from the packs (pack.h keeps
 * room for a chain of the largest: 32 MB for a folder of 7,000 articles,
 * 170 MB for one of 35,000). Let go once the walk is done. */
#define PACK_BUDGET ((size_t)512 << 20)

/* ---- a string -> index hash map ------------------------------------------ */

/* Keys are borrowed; they must outlive their entry. */
typedef struct strmap {
	const char **keys;   /* NULL: empty; &tombstone: deleted */
	uint32_t *vals;
	size_t cap, used, live;
} strmap;

static const char tombstone[1];

/* Slots take a hash's low bits: FNV-1a leaves them poorly mixed for
 * paths that differ only near the end ("...-01234.md"), which then crowd
 * together, so that every lookup probes through the crowd. buf_hash64
 * mixes every bit into every other. */
static uint64_t hash_str(const char *s)
{
	return buf_hash64(s, strlen(s), 0);
}

static void strmap_put(strmap *m, const char *key, uint32_t v);

static void strmap_rehash(strmap *m, size_t cap)
{
	strmap old = *m;
	m->keys = xcalloc(cap, sizeof *m->keys);
	m->vals = xcalloc(cap, sizeof *m->vals);
	m->cap = cap;
	m->used = m->live = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i] && old.keys[i] != tombstone)
			strmap_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

static size_t strmap_slot(const strmap *m, const char *key, bool *found)
{
	size_t mask = m->cap - 1, i = hash_str(key) & mask, free_slot = SIZE_MAX;
	for (;;) {
		const char *k = m->keys[i];
		if (!k) {
			*found = false;
			return free_slot != SIZE_MAX ? free_slot : i;
		}
		if (k == tombstone) {
			if (free_slot == SIZE_MAX)
				free_slot = i;
		} else if (strcmp(k, key) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static void strmap_put(strmap *m, const char *key, uint32_t v)
{
	if ((m->used + 1) * 2 > m->cap) {
		size_t cap = 64; /* a power of two: slots are hash & (cap - 1) */
		while (cap < m->live * 4)
			cap *= 2;
		strmap_rehash(m, cap);
	}
	bool found;
	size_t i = strmap_slot(m, key, &found);
	if (!found) {
		if (!m->keys[i])
			m->used++;
		m->live++;
	}
	m->keys[i] = key;
	m->vals[i] = v;
}

static bool strmap_get(const strmap *m, const char *key, uint32_t *v)
{
	if (!m->cap)
		return false;
	bool found;
	size_t i = strmap_slot(m, key, &found);
	if (found)
		*v = m->vals[i];
	return found;
}

static void strmap_del(strmap *m, const char *key)
{
	if (!m->cap)
		return;
	bool found;
	size_t i = strmap_slot(m, key, &found);
	if (found) {
		m->keys[i] = tombstone;
		m->live--;
	}
}

static void strmap_release(strmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

/* ---- the state ------------------------------------------------------------ */

typedef struct icommit {
	git_oid id;
	int64_t time;
	int offset;
	char *name, *email;    /* as recorded; .mailmap is applied when finishing */
	char *message;
	bool boundary;
	uint32_t first, n;     /* its changes */
} icommit;

typedef struct ichange {
	uint32_t commit, page;
	history_kind kind;
	char *path, *old_path;
	git_oid blob;
} ichange;

typedef struct ipage {
	char *path;            /* NULL once deleted */
	uint32_t *ch;          /* change indices, oldest first */
	size_t n, cap;
} ipage;

/* A version of a folder's tree in memory, with where each entry starts,
 * so that the next version can be compared without parsing both. */
typedef struct tree_ver {
	git_odb_object *obj;   /* read by libgit2, or */
	pack_object *pobj;     /* from the packs, in */
	pack_store *packs;
	const unsigned char *p;
	size_t len;
	uint32_t *idx;         /* start of each entry; NULL until indexed */
	size_t n;
} tree_ver;

typedef struct dircache {
	char *path;            /* repository path of a folder */
	git_oid id;
	tree_ver *tv;          /* the tree it had when last seen */
} dircache;

/* What diffing needs: a repository handle of its own (libgit2 objects
 * are not shared between threads) and the folder trees last seen. */
typedef struct walker {
	git_repository *repo;
	git_odb *odb;
	pack_store *packs;     /* trees straight from the packs; NULL: libgit2 */
	const char *prefix;    /* borrowed from the history */
	const char *content;
	int rename_limit;
	dircache *dirs;
	size_t ndirs, dcap;
	strmap dirmap;         /* repository path -> dirs index */
} walker;

struct history {
	walker w;              /* the main thread's */
	git_mailmap *mailmap;
	char *gitdir;          /* for the workers to open their own handles */
	char *prefix;          /* project root inside the repository: "" or "sub/" */
	char *content;         /* repository path of the content folder */
	int rename_limit;
	int jobs;
	char head[41];
	size_t walked;

	icommit *commits;      /* oldest first; only commits that changed content */
	size_t ncommits, ccap;
	ichange *changes;
	size_t nchanges, chcap;
	ipage *pages;
	size_t npages, pcap;
	strmap alive;          /* project path -> page */
	git_oid content_tree;  /* the content folder at the last commit walked */
	/* The cache file read (cache_load): the pages', commits' and
	 * changes' strings read from it point into it, and are not freed on
	 * their own (release_str). Mapped, not read: 2.4 MB at 10,000
	 * articles, which a copy would fault in page by page. */
	buf_map loaded;

	/* Public views, built once the walk is done. */
	history_commit *pcommits;
	history_change *pchanges;
	history_page *ppages;
	const history_change **revs;
	const char **names;
	bool shallow;
	bool inited;           /* git_libgit2_init was called */
	/* history_read_blob may be called from several threads (history
	 * pages are rendered in parallel); libgit2 handles are not shared
	 * between threads without a lock. */
	pthread_mutex_t *read_lock;
};

static int git_fail(gen_err *err, const char *what)
{
	const git_error *e = git_error_last();
	return err_set(err, GEN_EGIT, "", 0, 0, "%s: %s", what,
		       e && e->message ? e->message : "unknown error");
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t l = strlen(suffix);
	return len >= l && memcmp(s + len - l, suffix, l) == 0;
}

static uint32_t add_page(history *h, const char *path)
{
	if (h->npages == h->pcap) {
		h->pcap = h->pcap ? h->pcap * 2 : 256;
		h->pages = xrealloc(h->pages, h->pcap * sizeof *h->pages);
	}
	ipage *p = &h->pages[h->npages];
	memset(p, 0, sizeof *p);
	p->path = xstrdup(path);
	strmap_put(&h->alive, p->path, (uint32_t)h->npages);
	return (uint32_t)h->npages++;
}

static void page_push(ipage *p, uint32_t change)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4;
		p->ch = xrealloc(p->ch, p->cap * sizeof *p->ch);
	}
	p->ch[p->n++] = change;
}

/* Frees s, a string of the state, unless it is one of the cache file's
 * read (h->loaded), which goes as a whole. */
static void release_str(const history *h, char *s)
{
	if (s && !(h->loaded.len && s >= h->loaded.ptr && s < h->loaded.ptr + h->loaded.len))
		free(s);
}

static void kill_page(history *h, uint32_t page)
{
	ipage *p = &h->pages[page];
	strmap_del(&h->alive, p->path);
	release_str(h, p->path);
	p->path = NULL;
}

static void move_page(history *h, uint32_t page, const char *path)
{
	ipage *p = &h->pages[page];
	if (p->path) {
		uint32_t cur;
		if (strmap_get(&h->alive, p->path, &cur) && cur == page)
			strmap_del(&h->alive, p->path);
		release_str(h, p->path);
	}
	p->path = xstrdup(path);
	strmap_put(&h->alive, p->path, page);
}

static icommit *add_commit(history *h)
{
	if (h->ncommits == h->ccap) {
		h->ccap = h->ccap ? h->ccap * 2 : 256;
		h->commits = xrealloc(h->commits, h->ccap * sizeof *h->commits);
	}
	icommit *c = &h->commits[h->ncommits++];
	memset(c, 0, sizeof *c);
	c->first = (uint32_t)h->nchanges;
	return c;
}

static ichange *add_change(history *h)
{
	if (h->nchanges == h->chcap) {
		h->chcap = h->chcap ? h->chcap * 2 : 1024;
		h->changes = xrealloc(h->changes, h->chcap * sizeof *h->changes);
	}
	ichange *c = &h->changes[h->nchanges++];
	memset(c, 0, sizeof *c);
	return c;
}

/* ---- opening the repository ---------------------------------------------- */

static void walker_release(walker *w);

static int walker_open(walker *w, const history *h, const char *where, bool search,
		       gen_err *err)
{
	memset(w, 0, sizeof *w);
	w->prefix = h->prefix;
	w->content = h->content;
	w->rename_limit = h->rename_limit;
	if (git_repository_open_ext(&w->repo, where,
				    search ? 0 : GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return git_fail(err, "cannot open repository");
	if (git_repository_odb(&w->odb, w->repo) < 0)
		return git_fail(err, "cannot open the object database");
	/* Objects somewhere else (GIT_OBJECT_DIRECTORY) are libgit2's to
	 * find; so is anything the packs here do not hold. */
	if (!getenv("GIT_OBJECT_DIRECTORY")) {
		buf dir = BUF_INIT;
		buf_printf(&dir, "%sobjects", git_repository_commondir(w->repo));
		w->packs = pack_store_open(dir.ptr, PACK_BUDGET);
		buf_release(&dir);
	}
	return 0;
}

/* Finds the repository and where the project root sits inside it, the
 * way source does: a project in a subfolder has its content there. */
static int open_repo(history *h, const history_options *opt, gen_err *err)
{
	git_libgit2_init();
	h->inited = true;
	/* Hash verification is source_open's to switch off, before threads
	 * start: history may walk beside them. */
	const char *where = opt->repo ? opt->repo : opt->root;
	if (!where)
		return err_set(err, GEN_EGIT, "", 0, 0, "no repository to read history from");
	h->prefix = xstrdup("");
	h->content = xstrdup("");
	h->rename_limit = opt->rename_limit > 0 ? opt->rename_limit : DEFAULT_RENAME_LIMIT;
	h->jobs = opt->jobs;
	int rc = walker_open(&h->w, h, where, opt->repo == NULL, err);
	if (rc < 0)
		return rc;
	h->gitdir = xstrdup(git_repository_path(h->w.repo));
	if (git_mailmap_from_repository(&h->mailmap, h->w.repo) < 0)
		h->mailmap = NULL; /* a broken .mailmap only costs the aliases */

	const char *wd = git_repository_workdir(h->w.repo);
	char real_wd[PATH_MAX], real_root[PATH_MAX];
	if (!opt->repo && wd && opt->root && realpath(wd, real_wd) &&
	    realpath(opt->root, real_root)) {
		size_t l = strlen(real_wd);
		if (strncmp(real_root, real_wd, l) == 0 && real_root[l] == '/') {
			free(h->prefix);
			buf p = BUF_INIT;
			buf_printf(&p, "%s/", real_root + l + 1);
			h->prefix = buf_detach(&p);
		}
	}
	buf c = BUF_INIT;
	buf_printf(&c, "%s%s", h->prefix, opt->content_dir ? opt->content_dir : "content");
	while (c.len && c.ptr[c.len - 1] == '/')
		buf_truncate(&c, c.len - 1);
	free(h->content);
	h->content = buf_detach(&c);
	h->w.prefix = h->prefix;
	h->w.content = h->content;
	h->w.rename_limit = h->rename_limit;
	return 0;
}

/* ---- raw tree diff -------------------------------------------------------- */

typedef struct rawent {
	const char *name;
	size_t nlen;
	unsigned mode;
	const unsigned char *oid;
} rawent;

typedef struct rawtree {
	const unsigned char *p, *end;
} rawtree;

static bool is_tree_mode(unsigned mode) { return (mode & 0170000) == 0040000; }
static bool is_file_mode(unsigned mode) { return (mode & 0170000) == 0100000; }

/* Reads the next entry ("mode name\0<20-byte id>"); returns 1, 0 at the
 * end, -1 when the tree is malformed. */
static int next_entry(rawtree *t, rawent *e)
{
	const unsigned char *q = t->p;
	if (q >= t->end)
		return 0;
	unsigned mode = 0;
	while (q < t->end && *q != ' ') {
		if (*q < '0' || *q > '7')
			return -1;
		mode = mode * 8 + (unsigned)(*q - '0');
		q++;
	}
	if (q >= t->end)
		return -1;
	q++;
	const unsigned char *nul = memchr(q, 0, (size_t)(t->end - q));
	if (!nul || t->end - nul < 21)
		return -1;
	e->name = (const char *)q;
	e->nlen = (size_t)(nul - q);
	e->mode = mode;
	e->oid = nul + 1;
	t->p = nul + 21;
	return 1;
}

/* Git's tree order: names compared bytewise, a folder as if it ended in '/'. */
static int entry_cmp(const rawent *a, const rawent *b)
{
	size_t l = a->nlen < b->nlen ? a->nlen : b->nlen;
	int c = memcmp(a->name, b->name, l);
	if (c)
		return c;
	unsigned ca = a->nlen > l ? (unsigned char)a->name[l] : is_tree_mode(a->mode) ? '/' : 0;
	unsigned cb = b->nlen > l ? (unsigned char)b->name[l] : is_tree_mode(b->mode) ? '/' : 0;
	return (ca > cb) - (ca < cb);
}

static void tree_ver_free(tree_ver *t)
{
	if (!t)
		return;
	git_odb_object_free(t->obj);
	pack_object_release(t->packs, t->pobj);
	free(t->idx);
	free(t);
}

/* Where every entry starts, by parsing the whole tree; -1 if malformed. */
static int tree_index(tree_ver *t)
{
	size_t cap = t->len / 32 + 16, n = 0;
	uint32_t *idx = xmalloc(cap * sizeof *idx);
	rawtree r = { t->p, t->p + t->len };
	rawent e;
	int h;
	for (;;) {
		const unsigned char *start = r.p;
		if ((h = next_entry(&r, &e)) <= 0)
			break;
		if (n == cap) {
			cap *= 2;
			idx = xrealloc(idx, cap * sizeof *idx);
		}
		idx[n++] = (uint32_t)(start - t->p);
	}
	free(t->idx);
	t->idx = idx;
	t->n = n;
	return h < 0 ? -1 : 0;
}

static int entry_at(const tree_ver *t, size_t i, rawent *e)
{
	rawtree r = { t->p + t->idx[i], t->p + t->len };
	return next_entry(&r, e);
}

/* Reads a tree object (not yet indexed). */
static int tree_load(walker *w, const git_oid *id, tree_ver **out, gen_err *err)
{
	git_odb_object *obj = NULL;
	*out = NULL;
	pack_object *po;
	if (pack_read(w->packs, id->id, &po) == 0) {
		if (pack_object_type(po) == PACK_TREE) {
			tree_ver *t = xcalloc(1, sizeof *t);
			t->pobj = po;
			t->packs = w->packs;
			t->p = pack_object_data(po, &t->len);
			if (t->len <= UINT32_MAX) {
				*out = t;
				return 0;
			}
			tree_ver_free(t);
		} else {
			pack_object_release(w->packs, po);
		}
		/* Not what it should be: libgit2 says why. */
	}
	if (git_odb_read(&obj, w->odb, id) < 0)
		return git_fail(err, "cannot read tree");
	if (git_odb_object_type(obj) != GIT_OBJECT_TREE) {
		git_odb_object_free(obj);
		return err_set(err, GEN_EGIT, "", 0, 0, "object %s is not a tree",
			       git_oid_tostr_s(id));
	}
	if (git_odb_object_size(obj) > UINT32_MAX) {
		git_odb_object_free(obj);
		return err_set(err, GEN_EGIT, "", 0, 0, "tree %s is too large",
			       git_oid_tostr_s(id));
	}
	tree_ver *t = xcalloc(1, sizeof *t);
	t->obj = obj;
	t->p = git_odb_object_data(obj);
	t->len = git_odb_object_size(obj);
	*out = t;
	return 0;
}

/* The tree the folder at path had when last seen, if it is id (borrowed). */
static tree_ver *dir_get(walker *w, const char *path, const git_oid *id)
{
	uint32_t i;
	if (strmap_get(&w->dirmap, path, &i) && w->dirs[i].tv && git_oid_equal(&w->dirs[i].id, id))
		return w->dirs[i].tv;
	return NULL;
}

/* Remembers the tree a folder has now (taking t): the next commit's old
 * side. */
static void dir_put(walker *w, const char *path, const git_oid *id, tree_ver *t)
{
	uint32_t i;
	if (!strmap_get(&w->dirmap, path, &i)) {
		if (w->ndirs == w->dcap) {
			w->dcap = w->dcap ? w->dcap * 2 : 64;
			w->dirs = xrealloc(w->dirs, w->dcap * sizeof *w->dirs);
		}
		i = (uint32_t)w->ndirs++;
		w->dirs[i].path = xstrdup(path);
		w->dirs[i].tv = NULL;
		strmap_put(&w->dirmap, w->dirs[i].path, i);
	}
	if (w->dirs[i].tv != t)
		tree_ver_free(w->dirs[i].tv);
	w->dirs[i].tv = t;
	w->dirs[i].id = *id;
}

/* One file that changed in a commit, before renames are paired. */
typedef struct rawdelta {
	history_kind kind;     /* ADDED, DELETED or MODIFIED */
	char *path;            /* project path */
	git_oid old_id, new_id;
	int pair;              /* index of its rename partner, -1 */
} rawdelta;

typedef struct deltas {
	rawdelta *v;
	size_t n, cap;
} deltas;

static void deltas_release(deltas *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].path);
	free(d->v);
	memset(d, 0, sizeof *d);
}

static void delta_add(walker *w, deltas *d, history_kind kind, const char *path,
		      const unsigned char *old_id, const unsigned char *new_id)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xrealloc(d->v, d->cap * sizeof *d->v);
	}
	rawdelta *r = &d->v[d->n++];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->path = xstrdup(path + strlen(w->prefix));
	if (old_id)
		git_oid_fromraw(&r->old_id, old_id);
	if (new_id)
		git_oid_fromraw(&r->new_id, new_id);
	r->pair = -1;
}

static bool followed(const rawent *e)
{
	return e->nlen && e->name[0] != '.' && is_file_mode(e->mode) &&
	       ends_with(e->name, e->nlen, ".md");
}

static bool descend(const rawent *e)
{
	return e->nlen && e->name[0] != '.' && is_tree_mode(e->mode);
}

static int diff_dirs(walker *w, buf *path, const git_oid *old_id,
		     const git_oid *new_id, deltas *d, gen_err *err);

/* Recurses into child e of the folder in path. */
static int diff_child(walker *w, buf *path, const rawent *e,
		      const unsigned char *old_raw, const unsigned char *new_raw,
		      deltas *d, gen_err *err)
{
	size_t len = path->len;
	buf_putc(path, '/');
	buf_put(path, e->name, e->nlen);
	git_oid o, n;
	if (old_raw)
		git_oid_fromraw(&o, old_raw);
	if (new_raw)
		git_oid_fromraw(&n, new_raw);
	int rc = diff_dirs(w, path, old_raw ? &o : NULL, new_raw ? &n : NULL, d, err);
	buf_truncate(path, len);
	return rc;
}

static void file_delta(walker *w, buf *path, const rawent *e, history_kind kind,
		       const unsigned char *old_raw, const unsigned char *new_raw,
		       deltas *d)
{
	size_t len = path->len;
	buf_putc(path, '/');
	buf_put(path, e->name, e->nlen);
	delta_add(w, d, kind, path->ptr, old_raw, new_raw);
	buf_truncate(path, len);
}

/* Every followed file below a folder that was added (or removed). */
static int diff_one_side(walker *w, buf *path, const tree_ver *t, bool added,
			 deltas *d, gen_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < t->n && rc == 0; i++) {
		rawent e;
		if (entry_at(t, i, &e) <= 0)
			return err_set(err, GEN_EGIT, "", 0, 0, "malformed tree at '%s'", path->ptr);
		if (descend(&e))
			rc = diff_child(w, path, &e, added ? NULL : e.oid, added ? e.oid : NULL, d, err);
		else if (followed(&e))
			file_delta(w, path, &e, added ? HISTORY_ADDED : HISTORY_DELETED,
				   added ? NULL : e.oid, added ? e.oid : NULL, d);
	}
	return rc;
}

typedef struct idxvec {
	uint32_t *v;
	size_t n, cap;
} idxvec;

static void idx_push(idxvec *x, uint32_t off)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->v = xrealloc(x->v, x->cap * sizeof *x->v);
	}
	x->v[x->n++] = off;
}

/* Length of the common start of two byte strings. */
static size_t common_start(const unsigned char *x, size_t nx, const unsigned char *y,
			   size_t ny)
{
	size_t n = nx < ny ? nx : ny, same = 0;
	while (same + 4096 <= n && memcmp(x + same, y + same, 4096) == 0)
		same += 4096;
	while (same + 64 <= n && memcmp(x + same, y + same, 64) == 0)
		same += 64;
	while (same < n && x[same] == y[same])
		same++;
	return same;
}

/* Compares two versions of a folder and indexes the new one on the way.
 * Two versions of a folder of thousands of articles usually differ in a
 * few entries: from each point where they agree, the stretch of equal
 * bytes is found with memcmp and skipped by binary search in a's index
 * (those entries are b's too, moved by the same amount), so entries are
 * only parsed and compared where something changed. b's index is a's,
 * with the changed entries replaced and the rest shifted. */
static int diff_both(walker *w, buf *path, const tree_ver *a, tree_ver *b, deltas *d,
		     gen_err *err)
{
	idxvec bx = { NULL, 0, 0 };
	bx.cap = a->n + 16;
	bx.v = xmalloc(bx.cap * sizeof *bx.v);
	size_t i = 0, ys = 0; /* a's next entry; where b's next entry starts */
	int rc = 0, hx = 0, hy = 0;
	for (;;) {
		/* Skip what is the same from here on. */
		size_t xs = i < a->n ? a->idx[i] : a->len;
		size_t same = common_start(a->p + xs, a->len - xs, b->p + ys, b->len - ys);
		size_t lo = i, hi = a->n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			size_t end = mid + 1 < a->n ? a->idx[mid + 1] : a->len;
			if (end <= xs + same)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; i < lo; i++)
			idx_push(&bx, (uint32_t)(a->idx[i] - xs + ys));
		ys += (i < a->n ? a->idx[i] : a->len) - xs;

		rawent x, y;
		rawtree bt = { b->p + ys, b->p + b->len };
		hx = i < a->n ? entry_at(a, i, &x) : 0;
		hy = next_entry(&bt, &y);
		if (hx <= 0 && hy <= 0)
			break;
		if (hx < 0 || hy < 0)
			break;
		int c = hx == 0 ? 1 : hy == 0 ? -1 : entry_cmp(&x, &y);
		if (c == 0 && memcmp(x.oid, y.oid, GIT_OID_RAWSZ) == 0) {
			/* Only the mode changed: not a change of the text. */
		} else if (c == 0) {
			bool fx = followed(&x), fy = followed(&y);
			if (descend(&x) && descend(&y))
				rc = diff_child(w, path, &x, x.oid, y.oid, d, err);
			else if (fx && fy)
				file_delta(w, path, &y, HISTORY_MODIFIED, x.oid, y.oid, d);
			else if (fx)
				file_delta(w, path, &x, HISTORY_DELETED, x.oid, NULL, d);
			else if (fy)
				file_delta(w, path, &y, HISTORY_ADDED, NULL, y.oid, d);
		} else if (c < 0) {
			if (descend(&x))
				rc = diff_child(w, path, &x, x.oid, NULL, d, err);
			else if (followed(&x))
				file_delta(w, path, &x, HISTORY_DELETED, x.oid, NULL, d);
		} else {
			if (descend(&y))
				rc = diff_child(w, path, &y, NULL, y.oid, d, err);
			else if (followed(&y))
				file_delta(w, path, &y, HISTORY_ADDED, NULL, y.oid, d);
		}
		if (rc < 0)
			break;
		if (c <= 0)
			i++;
		if (c >= 0) {
			idx_push(&bx, (uint32_t)ys);
			ys = (size_t)(bt.p - b->p);
		}
	}
	if (rc == 0 && (hx < 0 || hy < 0))
		rc = err_set(err, GEN_EGIT, "", 0, 0, "malformed tree at '%s'", path->ptr);
	free(b->idx);
	b->idx = bx.v;
	b->n = bx.n;
	return rc;
}

/* The changed Markdown files below the folder at path, between its trees
 * old_id and new_id (either may be NULL: the folder was added or removed). */
static int diff_dirs(walker *w, buf *path, const git_oid *old_id,
		     const git_oid *new_id, deltas *d, gen_err *err)
{
	tree_ver *a = NULL, *b = NULL, *own_a = NULL;
	int rc = 0;
	if (old_id && new_id && git_oid_equal(old_id, new_id))
		return 0;
	if (old_id && !(a = dir_get(w, path->ptr, old_id))) {
		if ((rc = tree_load(w, old_id, &own_a, err)) < 0)
			goto out;
		a = own_a;
		if (tree_index(a) < 0) {
			rc = err_set(err, GEN_EGIT, "", 0, 0, "malformed tree at '%s'", path->ptr);
			goto out;
		}
	}
	if (new_id && (rc = tree_load(w, new_id, &b, err)) < 0)
		goto out;
	if (a && b) {
		rc = diff_both(w, path, a, b, d, err);
	} else if (b) {
		if (tree_index(b) < 0)
			rc = err_set(err, GEN_EGIT, "", 0, 0, "malformed tree at '%s'", path->ptr);
		else
			rc = diff_one_side(w, path, b, true, d, err);
	} else if (a) {
		rc = diff_one_side(w, path, a, false, d, err);
	}
	if (rc == 0 && b) {
		dir_put(w, path->ptr, new_id, b);
		b = NULL;
	}
out:
	tree_ver_free(own_a);
	tree_ver_free(b);
	return rc;
}

/* The id of the content folder's tree in root, or false when it has none. */
static bool content_id(const walker *w, git_tree *root, git_oid *out)
{
	git_tree_entry *e = NULL;
	bool ok = false;
	if (root && git_tree_entry_bypath(&e, root, w->content) == 0 &&
	    git_tree_entry_type(e) == GIT_OBJECT_TREE) {
		*out = *git_tree_entry_id(e);
		ok = true;
	}
	git_tree_entry_free(e);
	return ok;
}

static int diff_trees(walker *w, git_tree *old_root, git_tree *new_root,
		      deltas *d, gen_err *err)
{
	git_oid o, n;
	bool ho = content_id(w, old_root, &o), hn = content_id(w, new_root, &n);
	buf path = BUF_INIT;
	buf_puts(&path, w->content);
	int rc = diff_dirs(w, &path, ho ? &o : NULL, hn ? &n : NULL, d, err);
	buf_release(&path);
	return rc;
}

static void walker_release(walker *w)
{
	for (size_t i = 0; i < w->ndirs; i++) {
		free(w->dirs[i].path);
		tree_ver_free(w->dirs[i].tv);
	}
	free(w->dirs);
	strmap_release(&w->dirmap);
	pack_store_free(w->packs);
	git_odb_free(w->odb);
	git_repository_free(w->repo);
	memset(w, 0, sizeof *w);
}

/* ---- renames -------------------------------------------------------------- */

/* Git's rule of thumb: a file that keeps at least half of its text under
 * another name was renamed. */
#define RENAME_SIMILARITY 0.5

/* A deletion keyed by the blob it removed, for exact rename matching. */
typedef struct del_key {
	git_oid id;
	const char *path;
	size_t idx;
} del_key;

static int del_key_cmp(const void *a, const void *b)
{
	const del_key *x = a, *y = b;
	int c = git_oid_cmp(&x->id, &y->id);
	return c ? c : strcmp(x->path, y->path);
}

static void pair_up(rawdelta *v, size_t del, size_t add)
{
	v[del].pair = (int)add;
	v[add].pair = (int)del;
}

/* The lines of a blob, as hashes sorted with their lengths: what two
 * versions of a file share is the multiset intersection. Blank lines do
 * not count (every Markdown file has many). */
typedef struct line_sig {
	uint64_t *h;   /* (hash << 16) | min(length, 65535), sorted */
	size_t n;
	size_t bytes;  /* of the lines that count */
} line_sig;

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int blob_sig(walker *w, const git_oid *id, line_sig *out, gen_err *err)
{
	git_odb_object *o = NULL;
	memset(out, 0, sizeof *out);
	if (git_odb_read(&o, w->odb, id) < 0)
		return git_fail(err, "cannot read blob");
	const char *p = git_odb_object_data(o);
	size_t len = git_odb_object_size(o), cap = 16;
	out->h = xmalloc(cap * sizeof *out->h);
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - p) : len, l = e;
		while (l > i && (p[l - 1] == ' ' || p[l - 1] == '\t' || p[l - 1] == '\r'))
			l--;
		if (l > i) {
			uint64_t h = 1469598103934665603ull;
			for (size_t k = i; k < l; k++) {
				h ^= (unsigned char)p[k];
				h *= 1099511628211ull;
			}
			size_t ll = l - i < 65535 ? l - i : 65535;
			if (out->n == cap) {
				cap *= 2;
				out->h = xrealloc(out->h, cap * sizeof *out->h);
			}
			out->h[out->n++] = (h << 16) | ll;
			out->bytes += ll;
		}
		i = e + 1;
	}
	git_odb_object_free(o);
	qsort(out->h, out->n, sizeof *out->h, u64_cmp);
	return 0;
}

/* 2 x shared bytes / all bytes: 1 for the same text, 0 for nothing shared. */
static double similarity(const line_sig *a, const line_sig *b)
{
	size_t i = 0, j = 0, same = 0;
	while (i < a->n && j < b->n) {
		if (a->h[i] == b->h[j]) {
			same += a->h[i] & 0xffff;
			i++;
			j++;
		} else if (a->h[i] < b->h[j]) {
			i++;
		} else {
			j++;
		}
	}
	size_t total = a->bytes + b->bytes;
	return total ? 2.0 * (double)same / (double)total : 1.0;
}

typedef struct candidate {
	double score;
	size_t del, add;       /* indices in the deltas */
	bool same_name;        /* moved to another folder, name kept */
} candidate;

static int candidate_cmp(const void *x, const void *y)
{
	const candidate *a = x, *b = y;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->same_name != b->same_name)
		return a->same_name ? -1 : 1;
	if (a->add != b->add)
		return a->add < b->add ? -1 : 1;
	return (a->del > b->del) - (a->del < b->del);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Pairs additions with deletions of the same commit: identical contents
 * first (cheap, any number), then similar ones, best pairs first, unless
 * there are so many that comparing every pair would take too long
 * (additions x deletions above the rename limit squared). libgit2's
 * git_diff_find_similar would do the same, but it needs a git_diff of the
 * two trees, and building one re-reads the whole folder: on a folder of
 * thousands of articles that was a third of the walk. */
static int find_renames(walker *w, deltas *d, gen_err *err)
{
	del_key *dels = NULL;
	size_t *adds = NULL, *rdel = NULL, *radd = NULL, nd = 0, na = 0;
	line_sig *sd = NULL, *sa = NULL;
	candidate *cand = NULL;
	size_t rd = 0, ra = 0, nc = 0;
	int rc = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].kind == HISTORY_DELETED)
			nd++;
		else if (d->v[i].kind == HISTORY_ADDED)
			na++;
	}
	if (!nd || !na)
		return 0;
	dels = xmalloc(nd * sizeof *dels);
	adds = xmalloc(na * sizeof *adds);
	nd = na = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].kind == HISTORY_DELETED) {
			dels[nd].id = d->v[i].old_id;
			dels[nd].path = d->v[i].path;
			dels[nd++].idx = i;
		} else if (d->v[i].kind == HISTORY_ADDED) {
			adds[na++] = i;
		}
	}

	/* Exact: binary search among the deletions sorted by blob id. */
	qsort(dels, nd, sizeof *dels, del_key_cmp);
	for (size_t j = 0; j < na; j++) {
		rawdelta *a = &d->v[adds[j]];
		size_t lo = 0, hi = nd;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (git_oid_cmp(&dels[mid].id, &a->new_id) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nd && git_oid_equal(&dels[lo].id, &a->new_id); lo++)
			if (d->v[dels[lo].idx].pair < 0) {
				pair_up(d->v, dels[lo].idx, adds[j]);
				break;
			}
	}

	/* Similar: what is left, every pair scored. */
	rdel = xmalloc(nd * sizeof *rdel);
	radd = xmalloc(na * sizeof *radd);
	for (size_t i = 0; i < nd; i++)
		if (d->v[dels[i].idx].pair < 0)
			rdel[rd++] = dels[i].idx;
	for (size_t j = 0; j < na; j++)
		if (d->v[adds[j]].pair < 0)
			radd[ra++] = adds[j];
	if (!rd || !ra ||
	    (double)rd * (double)ra > (double)w->rename_limit * (double)w->rename_limit)
		goto out;
	sd = xcalloc(rd, sizeof *sd);
	sa = xcalloc(ra, sizeof *sa);
	for (size_t i = 0; i < rd && rc == 0; i++)
		rc = blob_sig(w, &d->v[rdel[i]].old_id, &sd[i], err);
	for (size_t j = 0; j < ra && rc == 0; j++)
		rc = blob_sig(w, &d->v[radd[j]].new_id, &sa[j], err);
	if (rc < 0)
		goto out;
	cand = xmalloc(rd * ra * sizeof *cand);
	for (size_t i = 0; i < rd; i++)
		for (size_t j = 0; j < ra; j++) {
			double s = similarity(&sd[i], &sa[j]);
			if (s < RENAME_SIMILARITY)
				continue;
			candidate *c = &cand[nc++];
			c->score = s;
			c->del = rdel[i];
			c->add = radd[j];
			c->same_name = strcmp(base_name(d->v[rdel[i]].path),
					      base_name(d->v[radd[j]].path)) == 0;
		}
	qsort(cand, nc, sizeof *cand, candidate_cmp);
	for (size_t k = 0; k < nc; k++)
		if (d->v[cand[k].del].pair < 0 && d->v[cand[k].add].pair < 0)
			pair_up(d->v, cand[k].del, cand[k].add);
out:
	for (size_t i = 0; sd && i < rd; i++)
		free(sd[i].h);
	for (size_t j = 0; sa && j < ra; j++)
		free(sa[j].h);
	free(sd);
	free(sa);
	free(cand);
	free(rdel);
	free(radd);
	free(dels);
	free(adds);
	return rc;
}

/* ---- applying a commit ---------------------------------------------------- */

static int change_path_cmp(const void *a, const void *b)
{
	const ichange *x = a, *y = b;
	return strcmp(x->path, y->path);
}

/* Records the commit's changes and moves the pages along. */
static void apply(history *h, git_commit *c, bool boundary, deltas *d)
{
	if (!d->n)
		return;
	uint32_t ci = (uint32_t)h->ncommits;
	/* The commit's changes go to a scratch list first: they are sorted
	 * by path before they get their final indices. */
	ichange *tmp = xcalloc(d->n, sizeof *tmp);
	size_t nt = 0;
	uint32_t page;
	/* Deletions and rename sources leave the map before anything moves
	 * in: a commit may rename a to b and add a new a. */
	uint32_t *src_page = xcalloc(d->n, sizeof *src_page);
	bool *src_known = xcalloc(d->n, sizeof *src_known);
	for (size_t i = 0; i < d->n; i++) {
		rawdelta *r = &d->v[i];
		if (r->kind != HISTORY_DELETED || !strmap_get(&h->alive, r->path, &page))
			continue;
		src_page[i] = page;
		src_known[i] = true;
		if (r->pair >= 0) {
			strmap_del(&h->alive, h->pages[page].path);
			continue;
		}
		ichange *t = &tmp[nt++];
		t->kind = HISTORY_DELETED;
		t->page = page;
		t->path = xstrdup(r->path);
		t->blob = r->old_id;
		kill_page(h, page);
	}
	for (size_t i = 0; i < d->n; i++) {
		rawdelta *r = &d->v[i];
		if (r->kind == HISTORY_DELETED)
			continue;
		ichange *t = &tmp[nt++];
		t->path = xstrdup(r->path);
		t->blob = r->new_id;
		if (r->kind == HISTORY_ADDED && r->pair >= 0 && src_known[r->pair]) {
			page = src_page[r->pair];
			t->kind = HISTORY_RENAMED;
			t->old_path = xstrdup(d->v[r->pair].path);
			move_page(h, page, r->path);
		} else if (strmap_get(&h->alive, r->path, &page)) {
			t->kind = HISTORY_MODIFIED;
		} else {
			/* Added, or changed but never seen before (a file that
			 * was not followed until now): it starts here. */
			t->kind = HISTORY_ADDED;
			page = add_page(h, r->path);
		}
		t->page = page;
	}
	free(src_page);
	free(src_known);
	if (nt) {
		icommit *ic = add_commit(h);
		ic->id = *git_commit_id(c);
		const git_signature *a = git_commit_author(c);
		ic->time = a->when.time;
		ic->offset = a->when.offset;
		ic->name = xstrdup(a->name ? a->name : "");
		ic->email = xstrdup(a->email ? a->email : "");
		const char *summary = git_commit_summary(c);
		ic->message = xstrdup(summary ? summary : "");
		ic->boundary = boundary;
		qsort(tmp, nt, sizeof *tmp, change_path_cmp);
		for (size_t i = 0; i < nt; i++) {
			ichange *t = add_change(h);
			*t = tmp[i];
			t->commit = ci;
			page_push(&h->pages[t->page], (uint32_t)(h->nchanges - 1));
		}
		ic->n = (uint32_t)nt;
	}
	free(tmp);
}

/* ---- the cache ---------------------------------------------------------- */

static void cache_path(buf *out, const char *dir, const char *commit)
{
	buf_printf(out, "%s/history-%s.bin", dir, commit);
}

static bool cache_exists(const char *dir, const git_oid *id)
{
	char hex[41];
	git_oid_tostr(hex, sizeof hex, id);
	buf p = BUF_INIT;
	cache_path(&p, dir, hex);
	bool there = access(p.ptr, R_OK) == 0;
	buf_release(&p);
	return there;
}

static bool oid_from(git_oid *out, const char *hex)
{
	return hex && strlen(hex) == GIT_OID_HEXSZ && git_oid_fromstr(out, hex) == 0;
}

static void reset_state(history *h)
{
	for (size_t i = 0; i < h->ncommits; i++) {
		release_str(h, h->commits[i].name);
		release_str(h, h->commits[i].email);
		release_str(h, h->commits[i].message);
	}
	for (size_t i = 0; i < h->nchanges; i++) {
		release_str(h, h->changes[i].path);
		release_str(h, h->changes[i].old_path);
	}
	for (size_t i = 0; i < h->npages; i++) {
		release_str(h, h->pages[i].path);
		free(h->pages[i].ch);
	}
	buf_unmap(&h->loaded);
	h->ncommits = h->nchanges = h->npages = 0;
	strmap_release(&h->alive);
	memset(&h->content_tree, 0, sizeof h->content_tree);
}

/* The cache file: CACHE_MAGIC and the settings it was made with, then
 * the pages (a path, or none once deleted), the commits and the changes,
 * in buf's varints and blobs, and a checksum of all that. Binary, not
 * JSON: a rebuild reads one and writes the next, and on a large history
 * parsing and printing text was a tenth of a second each time. */
#define CACHE_MAGIC "gen history\n"

static void put_oid(buf *b, const git_oid *id)
{
	buf_put_blob(b, id->id, GIT_OID_RAWSZ);
}

static bool get_oid(buf_reader *r, git_oid *id)
{
	size_t n;
	const char *p = buf_get_blob(r, &n);
	if (!p || n != GIT_OID_RAWSZ)
		return false;
	memcpy(id->id, p, GIT_OID_RAWSZ);
	return true;
}

/* Whether the next string of r is s (NULL: a NULL string). */
static bool get_same(buf_reader *r, const char *s)
{
	const char *t = buf_get_zstr(r);
	bool same = t && s ? strcmp(t, s) == 0 : !t && !s;
	return same && !r->bad;
}

/* The next string of r, where it is in the file read (see h->loaded). */
static char *get_str(buf_reader *r)
{
	return (char *)buf_get_zstr(r);
}

/* Loads the state at commit id from the cache. Anything unexpected (a
 * different format or setting, a damaged file, an index out of range)
 * makes it return false with the state empty: the walk starts over. */
static bool cache_load(history *h, const char *dir, const git_oid *id)
{
	char hex[41];
	git_oid_tostr(hex, sizeof hex, id);
	buf path = BUF_INIT;
	buf_map data = { NULL, 0 };
	bool ok = false;
	cache_path(&path, dir, hex);
	buf_reader rd, *r = &rd;
	if (!buf_map_sealed(&data, path.ptr, CACHE_MAGIC, CACHE_FORMAT, r))
		goto out;
	/* Kept: the strings below are read where they are in it, tens of
	 * thousands of them, not copied one by one. */
	buf_unmap(&h->loaded);
	h->loaded = data;
	data = (buf_map){ NULL, 0 };
	if (buf_get_varint(r) != CACHE_FORMAT || !get_same(r, hex) || !get_same(r, h->prefix) ||
	    !get_same(r, h->content) || buf_get_svarint(r) != h->rename_limit)
		goto out;
	if (buf_get_varint(r)) {
		if (!get_oid(r, &h->content_tree))
			goto out;
	}
	uint64_t npages = buf_get_varint(r);
	if (r->bad || npages > h->loaded.len)
		goto out;
	/* Room for them all at once: grown page by page, the map of
	 * paths hashed its keys again at every doubling. */
	if (npages > h->pcap) {
		h->pcap = (size_t)npages;
		h->pages = xrealloc(h->pages, h->pcap * sizeof *h->pages);
	}
	size_t cap = 64;
	while (cap < (h->alive.live + npages) * 4)
		cap *= 2;
	if (cap > h->alive.cap)
		strmap_rehash(&h->alive, cap);
	for (uint64_t i = 0; i < npages; i++) {
		if (h->npages == h->pcap) {
			h->pcap = h->pcap ? h->pcap * 2 : 256;
			h->pages = xrealloc(h->pages, h->pcap * sizeof *h->pages);
		}
		ipage *ip = &h->pages[h->npages++];
		memset(ip, 0, sizeof *ip);
		ip->path = get_str(r);
		if (r->bad)
			goto out;
		if (ip->path) {
			uint32_t dup;
			if (strmap_get(&h->alive, ip->path, &dup))
				goto out;
			strmap_put(&h->alive, ip->path, (uint32_t)(h->npages - 1));
		}
	}
	uint64_t ncommits = buf_get_varint(r);
	if (r->bad || ncommits > h->loaded.len)
		goto out;
	if (ncommits > h->ccap) {
		h->ccap = (size_t)ncommits;
		h->commits = xrealloc(h->commits, h->ccap * sizeof *h->commits);
	}
	bool boundary = false;
	for (uint64_t i = 0; i < ncommits; i++) {
		icommit *ic = add_commit(h);
		if (!get_oid(r, &ic->id))
			goto out;
		ic->time = buf_get_svarint(r);
		ic->offset = (int)buf_get_svarint(r);
		ic->name = get_str(r);
		ic->email = get_str(r);
		ic->message = get_str(r);
		ic->boundary = buf_get_varint(r) != 0;
		if (r->bad || !ic->name || !ic->email || !ic->message)
			goto out;
		boundary |= ic->boundary;
	}
	/* A cache made in a shallow clone that has been deepened since would
	 * keep the unknown dates forever. */
	if (boundary && git_repository_is_shallow(h->w.repo) != 1)
		goto out;
	uint64_t nchanges = buf_get_varint(r);
	if (r->bad || nchanges > h->loaded.len)
		goto out;
	if (nchanges > h->chcap) {
		h->chcap = (size_t)nchanges;
		h->changes = xrealloc(h->changes, h->chcap * sizeof *h->changes);
	}
	for (uint64_t i = 0; i < nchanges; i++) {
		ichange *ch = add_change(h);
		uint64_t ci = buf_get_varint(r), kind = buf_get_varint(r);
		ch->path = get_str(r);
		ch->old_path = get_str(r);
		bool blob = get_oid(r, &ch->blob);
		uint64_t page = buf_get_varint(r);
		if (r->bad || !blob || !ch->path || ci >= h->ncommits || kind > HISTORY_DELETED || page >= h->npages)
			goto out;
		/* Changes come in commit order; a commit's are contiguous. */
		if (i > 0 && (uint32_t)ci < h->changes[i - 1].commit)
			goto out;
		ch->commit = (uint32_t)ci;
		ch->kind = (history_kind)kind;
		ch->page = (uint32_t)page;
		page_push(&h->pages[page], (uint32_t)i);
	}
	if (r->p != r->end)
		goto out;
	for (size_t i = 0; i < h->ncommits; i++) {
		h->commits[i].first = (uint32_t)h->nchanges;
		h->commits[i].n = 0;
	}
	for (size_t i = h->nchanges; i-- > 0;) {
		icommit *ic = &h->commits[h->changes[i].commit];
		ic->first = (uint32_t)i;
		ic->n++;
	}
	ok = true;
out:
	if (!ok)
		reset_state(h);
	buf_release(&path);
	buf_unmap(&data);
	return ok;
}

/* Keeps the newest CACHE_KEEP history files: builds of a few branches
 * in turn each find theirs, and the folder does not grow forever. */
static void cache_prune(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	typedef struct { char *path; time_t mtime; } ent;
	ent *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, "history-", 8) != 0 ||
		    (!ends_with(de->d_name, l, ".bin") && !ends_with(de->d_name, l, ".json")))
			continue;
		buf p = BUF_INIT;
		buf_printf(&p, "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(p.ptr, &st) < 0) {
			buf_release(&p);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n].path = buf_detach(&p);
		v[n].mtime = st.st_mtime;
		n++;
	}
	closedir(d);
	/* Selection of the oldest: n is small. */
	while (n > CACHE_KEEP) {
		size_t old = 0;
		for (size_t i = 1; i < n; i++)
			if (v[i].mtime < v[old].mtime)
				old = i;
		unlink(v[old].path);
		free(v[old].path);
		v[old] = v[--n];
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* What cache_save has made so far goes to the file once it is this
 * much: 2.4 MB at 10,000 articles, not made whole in memory first. */
#define SAVE_CHUNK 65536

static void save_some(buf_sealer *s, buf *b)
{
	if (b->len >= SAVE_CHUNK) {
		buf_seal_put(s, b->ptr, b->len);
		buf_clear(b);
	}
}

/* Writes the state at the build's commit; a failure only costs speed. */
static void cache_save(const history *h, const char *dir)
{
	buf b = BUF_INIT, path = BUF_INIT;
	mkdir(dir, 0777);
	cache_path(&path, dir, h->head);
	buf_sealer s;
	buf_seal_begin(&s, path.ptr, CACHE_FORMAT);
	buf_puts(&b, CACHE_MAGIC);
	buf_put_varint(&b, CACHE_FORMAT);
	buf_put_zstr(&b, h->head);
	buf_put_zstr(&b, h->prefix);
	buf_put_zstr(&b, h->content);
	buf_put_svarint(&b, h->rename_limit);
	bool tree = !git_oid_is_zero(&h->content_tree);
	buf_put_varint(&b, tree);
	if (tree)
		put_oid(&b, &h->content_tree);
	buf_put_varint(&b, h->npages);
	for (size_t i = 0; i < h->npages; i++) {
		buf_put_zstr(&b, h->pages[i].path);
		save_some(&s, &b);
	}
	buf_put_varint(&b, h->ncommits);
	for (size_t i = 0; i < h->ncommits; i++) {
		save_some(&s, &b);
		const icommit *c = &h->commits[i];
		put_oid(&b, &c->id);
		buf_put_svarint(&b, c->time);
		buf_put_svarint(&b, c->offset);
		buf_put_zstr(&b, c->name);
		buf_put_zstr(&b, c->email);
		buf_put_zstr(&b, c->message);
		buf_put_varint(&b, c->boundary);
	}
	buf_put_varint(&b, h->nchanges);
	for (size_t i = 0; i < h->nchanges; i++) {
		save_some(&s, &b);
		const ichange *c = &h->changes[i];
		buf_put_varint(&b, c->commit);
		buf_put_varint(&b, (uint64_t)c->kind);
		buf_put_zstr(&b, c->path);
		buf_put_zstr(&b, c->old_path);
		put_oid(&b, &c->blob);
		buf_put_varint(&b, c->page);
	}
	buf_seal_put(&s, b.ptr, b.len);
	if (buf_seal_end(&s))
		cache_prune(dir);
	buf_release(&b);
	buf_release(&path);
}

/* ---- the public view ------------------------------------------------------ */

/* Everything a page's history holds, hashed once here rather than by
 * each page that shows it. */
static uint64_t page_stamp(const history_page *p)
{
	uint64_t h = buf_hash64(&p->nrevs, sizeof p->nrevs, 0x68697374u);
	for (size_t i = 0; i < p->nrevs; i++) {
		const history_change *c = p->revs[i];
		h = buf_hash_cstr(c->commit->id, h);
		h = buf_hash64(&c->kind, sizeof c->kind, h);
		h = buf_hash_cstr(c->path, h);
		h = buf_hash_cstr(c->old_path, h);
		h = buf_hash_cstr(c->blob, h);
	}
	h = buf_hash_cstr(p->created ? p->created->commit->id : NULL, h);
	h = buf_hash_cstr(p->modified ? p->modified->commit->id : NULL, h);
	h = buf_hash64(&p->revisions, sizeof p->revisions, h);
	for (size_t i = 0; i < p->ncontributors; i++)
		h = buf_hash_cstr(p->contributors[i], h);
	unsigned char complete = p->complete;
	return buf_hash64(&complete, 1, h);
}

static void finish(history *h)
{
	h->pcommits = xcalloc(h->ncommits + 1, sizeof *h->pcommits);
	h->pchanges = xcalloc(h->nchanges + 1, sizeof *h->pchanges);
	h->ppages = xcalloc(h->npages + 1, sizeof *h->ppages);
	h->revs = xcalloc(h->nchanges + 1, sizeof *h->revs);
	h->names = xcalloc(h->nchanges + 1, sizeof *h->names);

	for (size_t i = 0; i < h->ncommits; i++) {
		const icommit *ic = &h->commits[i];
		history_commit *c = &h->pcommits[i];
		git_oid_tostr(c->id, sizeof c->id, &ic->id);
		c->time = ic->time;
		c->offset = ic->offset;
		const char *name = ic->name, *email = ic->email;
		if (h->mailmap)
			git_mailmap_resolve(&name, &email, h->mailmap, ic->name, ic->email);
		c->author = name;
		c->email = email;
		c->message = ic->message;
		c->boundary = ic->boundary;
		c->changes = &h->pchanges[ic->first];
		c->nchanges = ic->n;
		h->shallow |= ic->boundary;
	}
	for (size_t i = 0; i < h->nchanges; i++) {
		const ichange *ic = &h->changes[i];
		history_change *c = &h->pchanges[i];
		c->commit = &h->pcommits[ic->commit];
		c->kind = ic->kind;
		c->path = ic->path;
		c->old_path = ic->old_path;
		git_oid_tostr(c->blob, sizeof c->blob, &ic->blob);
		c->page = h->pages[ic->page].path ? &h->ppages[ic->page] : NULL;
	}
	size_t nrev = 0, nname = 0;
	for (size_t i = 0; i < h->npages; i++) {
		const ipage *ip = &h->pages[i];
		history_page *p = &h->ppages[i];
		p->path = ip->path;
		p->revs = &h->revs[nrev];
		p->nrevs = ip->n;
		p->contributors = &h->names[nname];
		p->complete = true;
		for (size_t j = 0; j < ip->n; j++) {
			const history_change *c = &h->pchanges[ip->ch[j]];
			h->revs[nrev++] = c;
			if (c->commit->boundary) {
				p->complete = false;
				continue;
			}
			p->revisions++;
			p->modified = c;
			size_t k = 0;
			while (k < p->ncontributors && strcmp(p->contributors[k], c->commit->author))
				k++;
			if (k == p->ncontributors) {
				h->names[nname++] = c->commit->author;
				p->ncontributors++;
			}
		}
		if (p->complete && p->nrevs)
			p->created = p->revs[0];
		p->stamp = page_stamp(p);
	}
}

/* ---- diffing the chain on several threads -------------------------------- */

/* A stretch of the chain, diffed by one thread with handles of its own:
 * chain[lo..hi), oldest first, into out[]. Commits are independent once
 * each has its parent's tree; only applying them needs their order, and
 * that is done afterwards on one thread. */
typedef struct job {
	const history *h;
	const git_oid *ids;    /* the chain, newest first */
	size_t n;
	size_t lo, hi;
	const git_oid *base;   /* the commit before chain[n - 1], or NULL */
	deltas *out;           /* one per chain index */
	walker *w;             /* NULL: open one */
	gen_err err;
	int rc;
} job;

static int tree_of(walker *w, const git_oid *id, git_tree **out, gen_err *err)
{
	git_commit *c = NULL;
	*out = NULL;
	if (git_commit_lookup(&c, w->repo, id) < 0)
		return git_fail(err, "cannot read commit");
	int rc = git_commit_tree(out, c) < 0 ? git_fail(err, "cannot read the commit's tree") : 0;
	git_commit_free(c);
	return rc;
}

static void *job_run(void *arg)
{
	job *j = arg;
	walker own, *w = j->w;
	git_tree *old_root = NULL, *new_root = NULL;
	int rc = 0;
	err_clear(&j->err);
	if (!w) {
		w = &own;
		if ((rc = walker_open(w, j->h, j->h->gitdir, false, &j->err)) < 0)
			goto out;
	}
	const git_oid *before = j->hi < j->n ? &j->ids[j->hi] : j->base;
	if (before && (rc = tree_of(w, before, &old_root, &j->err)) < 0)
		goto out;
	for (size_t i = j->hi; i-- > j->lo && rc == 0;) {
		if ((rc = tree_of(w, &j->ids[i], &new_root, &j->err)) < 0)
			break;
		rc = diff_trees(w, old_root, new_root, &j->out[i], &j->err);
		if (rc == 0)
			rc = find_renames(w, &j->out[i], &j->err);
		git_tree_free(old_root);
		old_root = new_root;
		new_root = NULL;
	}
out:
	git_tree_free(old_root);
	git_tree_free(new_root);
	if (w == &own)
		walker_release(w);
	j->rc = rc;
	return NULL;
}

/* Diffs every commit of the chain against its first parent, on one
 * thread unless asked for more: libgit2 shares a pack's cache of delta
 * bases between all handles, so threads working on different stretches
 * of history evict each other's bases. Measured on 10,000 articles and
 * 3,000 commits: with a pack as git gc writes it, two threads cost twice
 * the CPU for no gain in time; with a pack as git fast-import writes it,
 * they save about a third of the time. Long chains are cut into one
 * stretch per thread. */
static int diff_chain(history *h, const git_oid *ids, size_t n, const git_oid *base,
		      deltas *out, gen_err *err)
{
	size_t nj = h->jobs > 1 ? (size_t)h->jobs : 1;
	if (nj > 16)
		nj = 16;
	/* A thread must have enough commits to pay for its handles and
	 * for reading its first trees. */
	if (nj > n / 64)
		nj = n / 64 ? n / 64 : 1;
	job *jobs = xcalloc(nj, sizeof *jobs);
	for (size_t k = 0; k < nj; k++) {
		job *j = &jobs[k];
		j->h = h;
		j->ids = ids;
		j->n = n;
		j->lo = n * k / nj;
		j->hi = n * (k + 1) / nj;
		j->base = base;
		j->out = out;
		j->w = nj == 1 ? &h->w : NULL;
	}
	jobs_run(jobs, nj, sizeof *jobs, job_run);
	/* The trees kept for the walk are of no use to the build after it. */
	pack_store_trim(h->w.packs);
	/* The first error in the order of the commits. */
	int rc = 0;
	for (size_t k = 0; k < nj && rc == 0; k++) {
		if (jobs[k].rc < 0) {
			rc = jobs[k].rc;
			*err = jobs[k].err;
		}
	}
	free(jobs);
	return rc;
}

/* ---- loading -------------------------------------------------------------- */

static void release(history *h)
{
	reset_state(h);
	free(h->commits);
	free(h->changes);
	free(h->pages);
	walker_release(&h->w);
	free(h->pcommits);
	free(h->pchanges);
	free(h->ppages);
	free(h->revs);
	free(h->names);
	free(h->prefix);
	free(h->content);
	free(h->gitdir);
	git_mailmap_free(h->mailmap);
}

void history_free(history *h)
{
	if (!h)
		return;
	bool inited = h->inited;
	release(h);
	if (h->read_lock) {
		pthread_mutex_destroy(h->read_lock);
		free(h->read_lock);
	}
	free(h);
	if (inited)
		git_libgit2_shutdown();
}

static void shallow_warning(const history *h, diag_list *diags)
{
	size_t unknown = 0;
	const history_commit *b = NULL;
	for (size_t i = 0; i < h->ncommits; i++)
		if (h->pcommits[i].boundary)
			b = &h->pcommits[i];
	for (size_t i = 0; i < h->npages; i++)
		if (h->ppages[i].path && !h->ppages[i].complete)
			unknown++;
	if (!b || !unknown || !diags)
		return;
	char date[26];
	history_format_date(date, b->time, b->offset);
	diag_add(diags, DIAG_WARNING, "", 0, 0,
		 "shallow clone: history before commit %.7s (%.10s) is not in the "
		 "repository, so %zu page%s show%s no creation date and fewer "
		 "revisions; 'git fetch --unshallow' gets the full history",
		 b->id, date, unknown, unknown == 1 ? "" : "s", unknown == 1 ? "s" : "");
}

int history_load(history **out, const history_options *opt, diag_list *diags,
		 gen_err *err)
{
	history *h = xcalloc(1, sizeof *h);
	git_commit **chain = NULL;
	git_oid *ids = NULL;
	deltas *d = NULL;
	size_t n = 0, cap = 0;
	git_commit *resume = NULL;
	git_tree *resume_root = NULL;
	bool boundary = false;
	int rc;
	*out = NULL;

	if ((rc = open_repo(h, opt, err)) < 0)
		goto out;
	git_oid id;
	if (!oid_from(&id, opt->commit)) {
		rc = err_set(err, GEN_EGIT, "", 0, 0, "'%s' is not a commit id",
			     opt->commit ? opt->commit : "");
		goto out;
	}
	git_oid_tostr(h->head, sizeof h->head, &id);

	/* Back along first parents until the root, the shallow boundary, or
	 * a commit whose state is cached. */
	for (;;) {
		if (opt->cache_dir && cache_exists(opt->cache_dir, &id) &&
		    cache_load(h, opt->cache_dir, &id)) {
			/* The cached state must describe the tree it names. */
			git_oid ct;
			if (git_commit_lookup(&resume, h->w.repo, &id) == 0 &&
			    git_commit_tree(&resume_root, resume) == 0 &&
			    (content_id(&h->w, resume_root, &ct)
				     ? git_oid_equal(&ct, &h->content_tree)
				     : git_oid_is_zero(&h->content_tree)))
				break;
			reset_state(h);
			git_tree_free(resume_root);
			resume_root = NULL;
			git_commit_free(resume);
			resume = NULL;
		}
		git_commit *c = NULL;
		if (git_commit_lookup(&c, h->w.repo, &id) < 0) {
			rc = git_fail(err, "cannot read commit");
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			chain = xrealloc(chain, cap * sizeof *chain);
		}
		chain[n++] = c;
		if (git_commit_parentcount(c) == 0)
			break;
		const git_oid *parent = git_commit_parent_id(c, 0);
		if (!git_odb_exists(h->w.odb, parent)) {
			/* The edge of a shallow clone (or a damaged repository:
			 * either way, nothing before this commit can be known). */
			boundary = true;
			break;
		}
		id = *parent;
	}

	ids = xcalloc(n + 1, sizeof *ids);
	d = xcalloc(n + 1, sizeof *d);
	for (size_t i = 0; i < n; i++)
		ids[i] = *git_commit_id(chain[i]);
	if (n && (rc = diff_chain(h, ids, n, resume ? git_commit_id(resume) : NULL, d, err)) < 0)
		goto out;
	for (size_t i = n; i-- > 0;) {
		apply(h, chain[i], boundary && i == n - 1, &d[i]);
		deltas_release(&d[i]);
		h->walked++;
	}
	if (n) {
		git_tree *top = NULL;
		git_oid ct;
		if (git_commit_tree(&top, chain[0]) < 0) {
			rc = git_fail(err, "cannot read the commit's tree");
			goto out;
		}
		if (content_id(&h->w, top, &ct))
			h->content_tree = ct;
		else
			memset(&h->content_tree, 0, sizeof h->content_tree);
		git_tree_free(top);
	}
	finish(h);
	h->read_lock = xmalloc(sizeof *h->read_lock);
	pthread_mutex_init(h->read_lock, NULL);
	shallow_warning(h, diags);
	if (opt->cache_dir && n > 0)
		cache_save(h, opt->cache_dir);
	*out = h;
	h = NULL;
	rc = 0;
out:
	for (size_t i = 0; d && i < n; i++)
		deltas_release(&d[i]);
	free(d);
	free(ids);
	git_tree_free(resume_root);
	git_commit_free(resume);
	for (size_t i = 0; i < n; i++)
		git_commit_free(chain[i]);
	free(chain);
	history_free(h);
	return rc;
}

/* ---- queries -------------------------------------------------------------- */

const history_page *history_find(const history *h, const char *path)
{
	uint32_t i;
	return strmap_get(&h->alive, path, &i) ? &h->ppages[i] : NULL;
}

size_t history_commit_count(const history *h) { return h->ncommits; }

const history_commit *history_commit_at(const history *h, size_t i)
{
	return i < h->ncommits ? &h->pcommits[h->ncommits - 1 - i] : NULL;
}

bool history_shallow(const history *h) { return h->shallow; }
size_t history_walked(const history *h) { return h->walked; }

int history_read_blob(const history *h, const char *blob, buf *out, gen_err *err)
{
	git_oid id;
	git_blob *b = NULL;
	if (!oid_from(&id, blob))
		return err_set(err, GEN_EGIT, "", 0, 0, "'%s' is not a blob id", blob);
	pthread_mutex_lock(h->read_lock);
	int rc = 0;
	if (git_blob_lookup(&b, h->w.repo, &id) < 0)
		rc = git_fail(err, "cannot read blob");
	else
		buf_put(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	git_blob_free(b);
	pthread_mutex_unlock(h->read_lock);
	return rc;
}

void history_format_date(char out[26], int64_t t, int offset)
{
	time_t local = (time_t)(t + (int64_t)offset * 60);
	struct tm tm;
	gmtime_r(&local, &tm);
	int a = offset < 0 ? -offset : offset;
	int year = tm.tm_year + 1900;
	if (year >= 0 && year <= 9999) {
		/* Digit by digit: history pages show thousands of dates, and
		 * snprintf's format parsing cost more than the rest of this. */
		int v[8] = { year / 100, year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			     tm.tm_min, tm.tm_sec, (a / 60) % 100 };
		static const char after[8] = { 0, '-', '-', 'T', ':', ':', 0, ':' };
		char *p = out;
		for (int i = 0; i < 8; i++) {
			if (i == 7)
				*p++ = offset < 0 ? '-' : '+';
			*p++ = (char)('0' + v[i] / 10 % 10);
			*p++ = (char)('0' + v[i] % 10);
			if (after[i])
				*p++ = after[i];
		}
		*p++ = (char)('0' + a % 60 / 10);
		*p++ = (char)('0' + a % 10);
		*p = '\0';
		return;
	}
	char tmp[96];
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, offset < 0 ? '-' : '+', (a / 60) % 100, a % 60);
	snprintf(out, 26, "%.25s", tmp);
}

/* ---- comparing two revisions ----------------------------------------------- */

static int delta_path_cmp(const void *a, const void *b)
{
	const history_delta *x = a, *y = b;
	return strcmp(x->path, y->path);
}

static int rev_tree(history *h, const char *rev, git_tree **out, gen_err *err)
{
	git_object *obj = NULL;
	int rc = 0;
	if (git_revparse_single(&obj, h->w.repo, rev) < 0)
		return err_set(err, GEN_EGIT, "", 0, 0, "unknown revision '%s'", rev);
	if (git_object_peel((git_object **)out, obj, GIT_OBJECT_TREE) < 0)
		rc = err_set(err, GEN_EGIT, "", 0, 0, "revision '%s' does not name a commit", rev);
	git_object_free(obj);
	return rc;
}

int history_compare(history_delta **out, size_t *n, const history_options *opt,
		    const char *a, const char *b, gen_err *err)
{
	history *h = xcalloc(1, sizeof *h);
	git_tree *ta = NULL, *tb = NULL;
	deltas d = { 0 };
	history_delta *res = NULL;
	size_t nres = 0;
	int rc;
	*out = NULL;
	*n = 0;
	if ((rc = open_repo(h, opt, err)) < 0 || (rc = rev_tree(h, a, &ta, err)) < 0 ||
	    (rc = rev_tree(h, b, &tb, err)) < 0)
		goto out;
	if ((rc = diff_trees(&h->w, ta, tb, &d, err)) < 0 ||
	    (rc = find_renames(&h->w, &d, err)) < 0)
		goto out;
	res = xcalloc(d.n + 1, sizeof *res);
	for (size_t i = 0; i < d.n; i++) {
		const rawdelta *r = &d.v[i];
		if (r->kind == HISTORY_DELETED && r->pair >= 0)
			continue; /* reported with its addition, as a rename */
		history_delta *x = &res[nres++];
		x->kind = r->kind;
		x->path = xstrdup(r->path);
		if (r->kind != HISTORY_ADDED)
			git_oid_tostr(x->old_blob, sizeof x->old_blob, &r->old_id);
		if (r->kind != HISTORY_DELETED)
			git_oid_tostr(x->new_blob, sizeof x->new_blob, &r->new_id);
		if (r->kind == HISTORY_ADDED && r->pair >= 0) {
			const rawdelta *o = &d.v[r->pair];
			x->kind = HISTORY_RENAMED;
			x->old_path = xstrdup(o->path);
			git_oid_tostr(x->old_blob, sizeof x->old_blob, &o->old_id);
		}
	}
	qsort(res, nres, sizeof *res, delta_path_cmp);
	*out = res;
	*n = nres;
	res = NULL;
out:
	history_deltas_free(res, nres);
	deltas_release(&d);
	git_tree_free(ta);
	git_tree_free(tb);
	history_free(h);
	return rc;
}

void history_deltas_free(history_delta *d, size_t n)
{
	if (!d)
		return;
	for (size_t i = 0; i < n; i++) {
		free(d[i].path);
		free(d[i].old_path);
	}
	free(d);
}
