/* filter: Lua filters, run on every document (see filter.h and, for the
 * API filters see, doc/filters.md).
 *
 * The only file that includes Lua. Its rules stop at this edge:
 *  - Lua raises errors with longjmp, so scripts are only ever called
 *    inside one lua_pcall per document (run_all), and no C function that
 *    Lua calls holds malloc'd memory across a call that can raise. What
 *    must outlive a raise (evidence, warnings, nodes made by filters, the
 *    front matter being converted back, the walk's stack) belongs to the
 *    run record, which filter_run frees after the state is closed.
 *  - The tree is reached only through markdown.h's node API. Nodes are
 *    never freed while filters run: a node taken out of the tree or made
 *    and dropped goes to the run's graveyard, and whatever of it is still
 *    detached when the state is closed is freed then. So a Lua value
 *    naming a node can never dangle, whatever the script keeps.
 *  - Each worker thread keeps a Lua state (filter_state, lua_newstate
 *    with an allocator that counts against the memory cap) and runs
 *    document after document in it, the filters compiled to bytecode
 *    once per build and loaded once per state (push_chunk), each run
 *    afresh for each document. Each document gets globals of its own,
 *    copied from a base put aside when the state was made (new_globals):
 *    a filter can reach nothing another document's filters could change
 *    but the read-only views of site.config, which are checked after
 *    each document (views_intact), and compiled matchers, which cannot
 *    be changed. After any failure the state is closed and made anew.
 *    Nodes of earlier documents are never reached again: the table of
 *    node values is new for each document, and so is the one of their
 *    texts (push_text). filter_run is thread safe.
 *
 * Lua's table order (pairs) is seeded per state, so nothing here lets it
 * reach the output: front matter written back keeps its keys' order, new
 * keys sorted; site.config iterates in site.toml's order. */
#include "filter.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "buf.h"
#include "pattern.h"
#include "text.h"
#include "value.h"
#include "xalloc.h"

/* Instructions between two looks at the budget. */
#define HOOK_STEP 1000
/* Warnings one document may give before the rest are dropped. */
#define MAX_WARNINGS 100
/* Nesting of front matter tables written back (deeper is a cycle). */
#define MAX_DEPTH 32
/* Longest excerpt of a passage, in bytes. */
#define EXCERPT_MAX 300
/* What a node a filter makes costs against the memory cap, besides its
 * strings (cmark's node is about this size). */
#define NODE_COST 160

#define NODE_MT "gen.node"
#define RO_MT "gen.readonly"

/* ---- the compiled set ---- */

typedef struct chunk {
	char *path;     /* "lua/themes.lua" */
	char *code;     /* bytecode; NULL when it did not compile */
	size_t len;
	gen_err err;    /* why it did not compile */
} chunk;

struct filter_set {
	chunk *chunks;
	size_t n;
	size_t *filters; /* indexes into chunks, in the order they run */
	size_t nfilters;
	uint64_t hash;   /* of every text added, for the build cache */
};

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
	(void)L;
	buf_put(ud, p, sz);
	return 0;
}

/* Splits "lua/x.lua:12: message" into file, line and message. Returns
 * false when msg does not start with a position. */
static bool split_where(const char *msg, char *file, size_t fsize, int *line,
			const char **rest)
{
	for (const char *p = msg; *p && p - msg < 400; p++) {
		if (*p != ':' || p[1] < '0' || p[1] > '9')
			continue;
		const char *q = p + 1;
		int l = 0;
		while (*q >= '0' && *q <= '9' && l < 10000000)
			l = l * 10 + (*q++ - '0');
		if (q[0] != ':' || q[1] != ' ')
			continue;
		snprintf(file, fsize, "%.*s", (int)(p - msg), msg);
		*line = l;
		*rest = q + 2;
		return true;
	}
	return false;
}

static chunk *find_chunk(const filter_set *fs, const char *path)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->chunks[i].path, path) == 0)
			return &fs->chunks[i];
	return NULL;
}

/* Compiles text into c; a syntax error is kept in c->err. */
static void compile(chunk *c, const char *text, size_t len)
{
	lua_State *L = luaL_newstate();
	if (!L) {
		err_set(&c->err, GEN_EFILTER, c->path, 0, 0, "out of memory");
		return;
	}
	buf name = BUF_INIT;
	buf_printf(&name, "@%s", c->path);
	if (luaL_loadbufferx(L, text, len, name.ptr, "t") != LUA_OK) {
		const char *msg = lua_tostring(L, -1), *rest = msg;
		char file[512];
		int line = 0;
		if (!msg)
			msg = rest = "cannot be loaded";
		if (!split_where(msg, file, sizeof file, &line, &rest))
			snprintf(file, sizeof file, "%s", c->path);
		err_set(&c->err, GEN_EFILTER, file, line, 0, "%s", rest);
	} else {
		buf code = BUF_INIT;
		lua_dump(L, dump_writer, &code, 0);
		c->len = code.len;
		c->code = buf_detach(&code);
	}
	buf_release(&name);
	lua_close(L);
}

filter_set *filter_set_new(void)
{
	return xcalloc(1, sizeof(filter_set));
}

int filter_set_add(filter_set *fs, const char *path, const char *text, size_t len,
		   bool as_filter, gen_err *err)
{
	/* Paths, texts and their roles, in the order added. */
	fs->hash = buf_hash64(path, strlen(path) + 1, fs->hash);
	fs->hash = buf_hash64(text, len, fs->hash ^ (as_filter ? 0x51u : 0x17u));
	chunk *c = find_chunk(fs, path);
	if (!c) {
		fs->chunks = xrealloc(fs->chunks, (fs->n + 1) * sizeof *fs->chunks);
		c = &fs->chunks[fs->n++];
		memset(c, 0, sizeof *c);
		c->path = xstrdup(path);
		compile(c, text, len);
	}
	if (as_filter) {
		fs->filters = xrealloc(fs->filters, (fs->nfilters + 1) * sizeof *fs->filters);
		fs->filters[fs->nfilters++] = (size_t)(c - fs->chunks);
		if (!c->code) {
			if (err)
				*err = c->err;
			return GEN_EFILTER;
		}
	}
	return 0;
}

uint64_t filter_set_hash(const filter_set *fs)
{
	uint64_t h = buf_hash64(LUA_RELEASE, strlen(LUA_RELEASE), 0);
	return fs ? buf_hash64(&fs->hash, sizeof fs->hash, h) : h;
}

void filter_set_free(filter_set *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->chunks[i].path);
		free(fs->chunks[i].code);
	}
	free(fs->chunks);
	free(fs->filters);
	free(fs);
}

size_t filter_count(const filter_set *fs)
{
	return fs ? fs->nfilters : 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int filter_load(filter_set **out, const source *src, const config *cfg,
		gen_err *err)
{
	filter_set *fs = filter_set_new();
	source_file *files = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (cfg->nfilters == 0)
		goto done;
	/* Every module under lua/, for require; one that does not compile
	 * is only an error when something requires it. */
	if ((rc = source_list(src, "lua", &files, &n, err)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (ends_with(files[i].path, ".lua"))
			filter_set_add(fs, files[i].path, files[i].data, files[i].len,
				       false, NULL);
	for (size_t i = 0; i < cfg->nfilters; i++) {
		const char *path = cfg->filters[i];
		if (!find_chunk(fs, path)) {
			source_file f;
			rc = source_read(src, path, &f, err);
			if (rc > 0) {
				const value *v = value_at(value_get(cfg->table, "filters"), i);
				rc = err_set(err, GEN_EUSAGE, "site.toml", value_line(v),
					     value_col(v), "filter '%s' does not exist in %s",
					     path, source_describe(src));
			}
			if (rc < 0)
				goto fail;
			filter_set_add(fs, path, f.data, f.len, false, NULL);
			source_file_release(&f);
		}
		if ((rc = filter_set_add(fs, path, NULL, 0, true, err)) < 0)
			goto fail;
	}
done:
	source_files_free(files, n);
	*out = fs;
	return 0;
fail:
	source_files_free(files, n);
	filter_set_free(fs);
	return rc;
}

/* ---- the state's memory ----
 *
 * Lua makes and drops small blocks at a high rate: the tables, strings
 * and closures of every document. Blocks up to POOL_MAX bytes come from
 * free lists, one per POOL_STEP bytes of size, carved from slabs that
 * the state keeps until it is closed: glibc's malloc and free cost
 * several times a list's push and pop. Under AddressSanitizer every
 * block is malloc's, so that it sees each one. */

#define POOL_STEP 16
#define POOL_MAX 256
#define SLAB_SIZE (64 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ON 0
#endif
#endif
#ifndef POOL_ON
#define POOL_ON 1
#endif

typedef struct pool {
	void *free[POOL_MAX / POOL_STEP]; /* each block's first word: the next */
	char *at, *end;                   /* what is left of the newest slab */
	void *slabs;                      /* each slab's first word: the older */
} pool;

static void *pool_get(pool *p, size_t n)
{
	size_t k = (n - 1) / POOL_STEP;
	void *b = p->free[k];
	if (b) {
		p->free[k] = *(void **)b;
		return b;
	}
	size_t size = (k + 1) * POOL_STEP;
	if ((size_t)(p->end - p->at) < size) {
		char *slab = malloc(SLAB_SIZE);
		if (!slab)
			return NULL;
		*(void **)slab = p->slabs;
		p->slabs = slab;
		/* The link takes a step of its own: blocks stay aligned. */
		p->at = slab + POOL_STEP;
		p->end = slab + SLAB_SIZE;
	}
	b = p->at;
	p->at += size;
	return b;
}

static void pool_put(pool *p, void *b, size_t n)
{
	size_t k = (n - 1) / POOL_STEP;
	*(void **)b = p->free[k];
	p->free[k] = b;
}

/* Lets every slab go: only once the state that used them is closed. */
static void pool_release(pool *p)
{
	while (p->slabs) {
		void *next = *(void **)p->slabs;
		free(p->slabs);
		p->slabs = next;
	}
	memset(p, 0, sizeof *p);
}

/* Lua's allocator over the pool: realloc's contract, osize the block's
 * size when ptr is not NULL. */
static void *pool_realloc(pool *p, void *ptr, size_t osize, size_t nsize)
{
	bool small_old = ptr && osize <= POOL_MAX, small_new = nsize <= POOL_MAX;
	if (!POOL_ON || (ptr && !small_old && !small_new) || (!ptr && !small_new))
		return realloc(ptr, nsize);
	if (ptr && small_old && small_new &&
	    (osize - 1) / POOL_STEP == (nsize - 1) / POOL_STEP)
		return ptr;
	void *b = small_new ? pool_get(p, nsize) : malloc(nsize);
	if (!b)
		return NULL;
	if (ptr) {
		memcpy(b, ptr, osize < nsize ? osize : nsize);
		if (small_old)
			pool_put(p, ptr, osize);
		else
			free(ptr);
	}
	return b;
}

static void pool_free(pool *p, void *ptr, size_t osize)
{
	if (POOL_ON && osize <= POOL_MAX)
		pool_put(p, ptr, osize);
	else
		free(ptr);
}

/* ---- one document's run ---- */

typedef struct run {
	const filter_set *fs;
	const config *cfg;
	document *d;
	markdown_doc *md;

	/* The memory cap: bytes the state holds, nodes made included
	 * (charged, given back when the document is done). */
	size_t mem, mem_cap, charged;
	bool mem_refused;    /* the last growing allocation was refused */
	pool pool;           /* where the state's small blocks are */
	/* The metatables of nodes and matchers (lua_topointer), for telling
	 * them from other values without looking their names up. */
	const void *node_mt, *matcher_mt;
	/* Registry slots (luaL_ref) of what a walk looks up for every node,
	 * quicker by number than by name: the node metatable, the table of
	 * the document's node values (push_node) and of their texts
	 * (push_text), both new for each document (new_globals). */
	int ref_node_mt, ref_nodes, ref_texts;
	/* The instruction budget. */
	int64_t steps, budget;
	int step;
	char where[LUA_IDSIZE + 24]; /* "lua/x.lua:12": last place the hook saw */

	const char *current;      /* path of the filter running */
	markdown_node *node;      /* node being filtered, for gen.warn */

	/* Results, owned here until filter_run hands them over. */
	document_evidence *ev;
	markdown_node **ev_passage; /* the passage each evidence marked */
	size_t nev, cap_ev;
	markdown_node **grave;    /* detached or made: freed at the end if still loose */
	size_t ngrave, cap_grave;
	markdown_node **stack;    /* the walk's ancestors */
	size_t nstack, cap_stack;
	diag_list diags;
	size_t nwarnings;
	buf scratch;              /* for strings on their way into Lua */
	buf folded;               /* matcher:matches: the words of the texts */
	struct mword *words;      /* of this document, where they are, */
	size_t nwords, cap_words;
	buf worded;               /* the texts they are of, */
	struct wtext *wtexts;     /* and which are whose (text_words) */
	size_t nwtexts, cap_wtexts;
	uint32_t *wslots;         /* wtexts by hash: index + 1, 0 empty */
	size_t wmask;
	size_t *hits;             /* and what matched (see find_matches) */
	size_t cap_hits;
	unsigned matching;        /* calls of matcher:matches so far */
	unsigned texts_edits;     /* markdown_edits when the texts' table was made */
	size_t nmatchers;         /* matchers the state keeps (gen_matcher) */
	value *meta;              /* doc.meta converted back, after the last filter */
	value *building;          /* the conversion under way */
	const char *meta_key;     /* the key of doc.meta being converted, or NULL */
	/* Whether the running filter set a key of doc.meta, and whether a
	 * table of it reached a filter (read, set or a whole new doc.meta)
	 * in this document: that table may change at any later time. With
	 * neither, doc.meta is as the last conversion left it. */
	bool meta_set, meta_escaped;
	char place_source[256];   /* the last place push_caller_place made */
	int place_line;           /* (0: none) */
} run;

static run *get_run(lua_State *L)
{
	return *(run **)lua_getextraspace(L);
}

/* Counts every byte the state holds against the cap. Lua collects garbage
 * and asks again before it gives up, so mem_refused is cleared by the
 * next allocation that succeeds. */
static void *run_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	run *c = ud;
	size_t old = ptr ? osize : 0;
	if (nsize == 0) {
		if (ptr)
			pool_free(&c->pool, ptr, osize);
		c->mem -= old;
		return NULL;
	}
	if (nsize > old && c->mem + (nsize - old) > c->mem_cap) {
		c->mem_refused = true;
		return NULL;
	}
	void *p = pool_realloc(&c->pool, ptr, old, nsize);
	if (!p)
		return NULL;
	c->mem = c->mem - old + nsize;
	if (nsize > old)
		c->mem_refused = false;
	return p;
}

static void ignore_warning(void *ud, const char *msg, int tocont)
{
	(void)ud;
	(void)msg;
	(void)tocont;
}

static void format_size(char *out, size_t size, int64_t bytes)
{
	if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
		snprintf(out, size, "%lld MiB", (long long)(bytes / (1024 * 1024)));
	else if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(out, size, "%lld KiB", (long long)(bytes / 1024));
	else
		snprintf(out, size, "%lld bytes", (long long)bytes);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
	run *c = get_run(L);
	c->steps += c->step;
	if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
		snprintf(c->where, sizeof c->where, "%s:%d", ar->short_src, ar->currentline);
	if (c->steps > c->budget) {
		lua_pushfstring(L, "%s: instruction budget of %I exceeded (an endless loop? "
				   "site.toml [filter] instructions)",
				c->where[0] ? c->where : c->current, (lua_Integer)c->budget);
		lua_error(L);
	}
}

/* Charges what a filter makes outside Lua's own memory. The state may
 * still hold garbage of earlier documents: that is collected before the
 * cap is called exceeded. */
static void charge(lua_State *L, run *c, size_t bytes)
{
	if (c->mem + bytes > c->mem_cap)
		lua_gc(L, LUA_GCCOLLECT);
	if (c->mem + bytes > c->mem_cap) {
		char cap[32];
		format_size(cap, sizeof cap, (int64_t)c->mem_cap);
		luaL_error(L, "memory cap of %s exceeded (site.toml [filter] memory)", cap);
	}
	c->mem += bytes;
	c->charged += bytes;
}

static void bury(run *c, markdown_node *n)
{
	if (c->ngrave == c->cap_grave) {
		c->cap_grave = c->cap_grave ? 2 * c->cap_grave : 64;
		c->grave = xrealloc(c->grave, c->cap_grave * sizeof *c->grave);
	}
	c->grave[c->ngrave++] = n;
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (markdown_node *const *)a;
	uintptr_t y = (uintptr_t) * (markdown_node *const *)b;
	return x < y ? -1 : x > y;
}

/* Frees what is still detached. All roots are found before any is freed:
 * a buried node may sit inside another buried node. */
static void empty_graveyard(run *c)
{
	markdown_node *root = c->md ? markdown_root(c->md) : NULL;
	size_t k = 0;
	if (c->ngrave > 1)
		qsort(c->grave, c->ngrave, sizeof *c->grave, ptr_cmp);
	for (size_t i = 0; i < c->ngrave; i++) {
		markdown_node *n = c->grave[i];
		if ((k && c->grave[k - 1] == n) || n == root || markdown_node_parent(n))
			continue;
		c->grave[k++] = n;
	}
	for (size_t i = 0; i < k; i++)
		markdown_node_free(c->grave[i]);
	c->ngrave = 0;
}

/* "lua/x.lua:12" for the function at idx (where it is defined). */
static void function_where(lua_State *L, int idx, char *out, size_t size)
{
	lua_Debug ar;
	lua_pushvalue(L, idx);
	if (lua_getinfo(L, ">S", &ar) && ar.linedefined > 0)
		snprintf(out, size, "%s:%d", ar.short_src, ar.linedefined);
	else
		snprintf(out, size, "%s", get_run(L)->current);
}

/* ---- nodes in Lua ---- */

typedef struct lnode {
	markdown_node *n;
} lnode;

/* Pushes the one Lua value of node n (nil for NULL), so that nodes can be
 * compared and used as table keys. */
static void push_node(lua_State *L, markdown_node *n)
{
	if (!n) {
		lua_pushnil(L);
		return;
	}
	run *c = get_run(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref_nodes);
	if (lua_rawgetp(L, -1, n) == LUA_TUSERDATA) {
		lua_remove(L, -2);
		return;
	}
	lua_pop(L, 1);
	lnode *u = lua_newuserdatauv(L, sizeof *u, 0);
	u->n = n;
	lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref_node_mt);
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	lua_rawsetp(L, -3, n);
	lua_remove(L, -2);
}

/* The block of the userdata at idx when its metatable is mt, else NULL:
 * luaL_testudata without the look-up of the metatable by name, which a
 * walk pays for every node a filter touches. */
static void *udata_of(lua_State *L, int idx, const void *mt)
{
	void *p = lua_touserdata(L, idx);
	if (!p || !lua_getmetatable(L, idx))
		return NULL;
	bool ours = lua_topointer(L, -1) == mt;
	lua_pop(L, 1);
	return ours ? p : NULL;
}

static markdown_node *to_node(lua_State *L, int idx)
{
	lnode *u = udata_of(L, idx, get_run(L)->node_mt);
	return u ? u->n : NULL;
}

static markdown_node *check_node(lua_State *L, int idx)
{
	lnode *u = udata_of(L, idx, get_run(L)->node_mt);
	if (!u)
		luaL_typeerror(L, idx, NODE_MT);
	return u->n;
}

static const char *tname(const markdown_node *n)
{
	return n ? markdown_node_type_name(markdown_node_type_of(n)) : "node out of the tree";
}

static bool is_block(const markdown_node *n)
{
	return markdown_node_type_is_block(markdown_node_type_of(n));
}

/* A node made for the document, charged and buried until attached. */
static markdown_node *make(lua_State *L, run *c, markdown_node_type t)
{
	charge(L, c, NODE_COST);
	markdown_node *n = markdown_node_new(c->md, t);
	if (!n)
		luaL_error(L, "a %s cannot be made by a filter", markdown_node_type_name(t));
	bury(c, n);
	return n;
}

static markdown_node *make_text(lua_State *L, run *c, const char *s, size_t len)
{
	charge(L, c, len);
	markdown_node *n = make(L, c, MARKDOWN_NODE_TEXT);
	markdown_node_set_literal(c->md, n, s);
	return n;
}

/* The node for content item idx: a node as it is, a string as Text (or
 * as a Paragraph holding it where blocks go); NULL for anything else. */
static markdown_node *item_node(lua_State *L, run *c, int idx, bool blocks)
{
	if (lua_type(L, idx) == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		markdown_node *t = make_text(L, c, s, len);
		if (!blocks)
			return t;
		markdown_node *p = make(L, c, MARKDOWN_NODE_PARAGRAPH);
		markdown_node_append_child(c->md, p, t);
		return p;
	}
	return to_node(L, idx);
}

static void append(lua_State *L, run *c, markdown_node *parent, markdown_node *child,
		   const char *who)
{
	if (markdown_node_append_child(c->md, parent, child) < 0)
		luaL_error(L, "%s: cannot put a %s inside a %s", who, tname(child), tname(parent));
}

/* Appends one content item; where blocks go, inline nodes in a row share
 * a Paragraph (*para, NULL after a block). */
static void append_item(lua_State *L, run *c, markdown_node *parent, markdown_node *child,
			bool blocks, markdown_node **para, const char *who)
{
	if (markdown_node_type_of(parent) == MARKDOWN_NODE_LIST &&
	    markdown_node_type_of(child) != MARKDOWN_NODE_ITEM) {
		/* What goes into a list goes into an item of its own. */
		markdown_node *item = make(L, c, MARKDOWN_NODE_ITEM), *inner = NULL;
		append(L, c, parent, item, who);
		append_item(L, c, item, child, true, &inner, who);
		return;
	}
	if (blocks && !is_block(child)) {
		if (!*para) {
			*para = make(L, c, MARKDOWN_NODE_PARAGRAPH);
			append(L, c, parent, *para, who);
		}
		append(L, c, *para, child, who);
		return;
	}
	*para = NULL;
	append(L, c, parent, child, who);
}

/* Appends content (a string, a node, or a list of them) to parent. */
static void fill(lua_State *L, run *c, markdown_node *parent, int idx, const char *who)
{
	bool blocks = markdown_node_can_contain(parent, MARKDOWN_NODE_PARAGRAPH);
	markdown_node *para = NULL;
	idx = lua_absindex(L, idx);
	int t = lua_type(L, idx);
	if (t == LUA_TNONE || t == LUA_TNIL)
		return;
	if (t == LUA_TTABLE && !to_node(L, idx)) {
		lua_Unsigned n = lua_rawlen(L, idx);
		for (lua_Unsigned i = 1; i <= n; i++) {
			lua_rawgeti(L, idx, (lua_Integer)i);
			markdown_node *child = item_node(L, c, -1, blocks);
			if (!child)
				luaL_error(L, "%s: item %I of the content is a %s, not a node or a string",
					   who, (lua_Integer)i, luaL_typename(L, -1));
			append_item(L, c, parent, child, blocks, &para, who);
			lua_pop(L, 1);
		}
		return;
	}
	markdown_node *child = item_node(L, c, idx, blocks);
	if (!child)
		luaL_error(L, "%s: content must be a node, a string or a list of them, not a %s",
			   who, luaL_typename(L, idx));
	append_item(L, c, parent, child, blocks, &para, who);
}

/* node.content = ...: the children go (buried), the new ones come. The
 * new content is read first: it may hold the old children. */
static void set_content(lua_State *L, run *c, markdown_node *n, int idx)
{
	markdown_node *child;
	while ((child = markdown_node_first_child(n))) {
		markdown_node_unlink(c->md, child);
		bury(c, child);
	}
	fill(L, c, n, idx, "content");
}

/* Pushes the text of n. Filters ask for the same paragraph's text one
 * after another (themes.lua, then callouts.lua, then doc:tag): it is made
 * once and kept by node in a registry table (ref_texts), made anew
 * when the tree changes (markdown_edits) and for each document. */
static void push_text(lua_State *L, run *c, markdown_node *n)
{
	unsigned edits = markdown_edits(c->md);
	if (lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref_texts) != LUA_TTABLE ||
	    c->texts_edits != edits) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawseti(L, LUA_REGISTRYINDEX, c->ref_texts);
		c->texts_edits = edits;
	}
	if (lua_rawgetp(L, -1, n) != LUA_TSTRING) {
		lua_pop(L, 1);
		buf_clear(&c->scratch);
		markdown_node_text(n, &c->scratch);
		lua_pushlstring(L, c->scratch.ptr, c->scratch.len);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, -3, n);
	}
	lua_remove(L, -2);
}

static int node_text(lua_State *L)
{
	push_text(L, get_run(L), check_node(L, 1));
	return 1;
}

static int node_is_block(lua_State *L)
{
	lua_pushboolean(L, is_block(check_node(L, 1)));
	return 1;
}

static void push_string_or_nil(lua_State *L, const char *s)
{
	if (s)
		lua_pushstring(L, s);
	else
		lua_pushnil(L);
}

static void push_int_or_nil(lua_State *L, int i)
{
	if (i)
		lua_pushinteger(L, i);
	else
		lua_pushnil(L);
}

/* b as a boolean, or nil when it is negative. */
static void push_bool_or_nil(lua_State *L, int b)
{
	if (b < 0)
		lua_pushnil(L);
	else
		lua_pushboolean(L, b);
}

/* The fields node_index knows. */
typedef enum node_field {
	NF_NONE, NF_TYPE, NF_LINE, NF_COL, NF_END_LINE, NF_PARENT, NF_NEXT, NF_PREV,
	NF_FIRST_CHILD, NF_LAST_CHILD, NF_CONTENT, NF_LITERAL, NF_LEVEL, NF_URL,
	NF_TITLE, NF_INFO, NF_LIST_TYPE, NF_START, NF_TIGHT, NF_HEADER, NF_CHECKED,
	NF_ID, NF_CLASS, NF_TEXT, NF_IS_BLOCK,
} node_field;

static const struct {
	const char *name;
	node_field field;
} node_fields[] = {
	{ "type", NF_TYPE }, { "t", NF_TYPE }, { "parent", NF_PARENT }, { "text", NF_TEXT },
	{ "line", NF_LINE }, { "col", NF_COL }, { "end_line", NF_END_LINE },
	{ "next", NF_NEXT }, { "prev", NF_PREV }, { "first_child", NF_FIRST_CHILD },
	{ "last_child", NF_LAST_CHILD }, { "content", NF_CONTENT }, { "literal", NF_LITERAL },
	{ "level", NF_LEVEL }, { "url", NF_URL }, { "title", NF_TITLE }, { "info", NF_INFO },
	{ "list_type", NF_LIST_TYPE }, { "start", NF_START }, { "tight", NF_TIGHT },
	{ "header", NF_HEADER }, { "checked", NF_CHECKED }, { "id", NF_ID },
	{ "class", NF_CLASS }, { "is_block", NF_IS_BLOCK },
};

/* A filter reads node.type and node.parent, and calls node:text(), for
 * every node it is handed: names are told apart by their first byte
 * before any is compared whole. */
static node_field node_field_of(const char *k)
{
	for (size_t i = 0; i < sizeof node_fields / sizeof *node_fields; i++)
		if (node_fields[i].name[0] == k[0] && !strcmp(node_fields[i].name, k))
			return node_fields[i].field;
	return NF_NONE;
}

static int node_index(lua_State *L)
{
	run *c = get_run(L);
	markdown_node *n = check_node(L, 1);
	const char *k = luaL_checkstring(L, 2);
	markdown_node_type t = markdown_node_type_of(n);

	switch (node_field_of(k)) {
	case NF_TYPE: lua_pushstring(L, markdown_node_type_name(t)); break;
	case NF_LINE: push_int_or_nil(L, markdown_node_line(c->md, n)); break;
	case NF_COL: push_int_or_nil(L, markdown_node_col(c->md, n)); break;
	case NF_END_LINE: push_int_or_nil(L, markdown_node_end_line(c->md, n)); break;
	case NF_PARENT: push_node(L, markdown_node_parent(n)); break;
	case NF_NEXT: push_node(L, markdown_node_next(n)); break;
	case NF_PREV: push_node(L, markdown_node_prev(n)); break;
	case NF_FIRST_CHILD: push_node(L, markdown_node_first_child(n)); break;
	case NF_LAST_CHILD: push_node(L, markdown_node_last_child(n)); break;
	case NF_CONTENT: {
		lua_newtable(L);
		lua_Integer i = 1;
		for (markdown_node *ch = markdown_node_first_child(n); ch;
		     ch = markdown_node_next(ch)) {
			push_node(L, ch);
			lua_rawseti(L, -2, i++);
		}
		break;
	}
	case NF_LITERAL: push_string_or_nil(L, markdown_node_literal(n)); break;
	case NF_LEVEL: push_int_or_nil(L, markdown_node_heading_level(n)); break;
	case NF_URL: push_string_or_nil(L, markdown_node_url(n)); break;
	case NF_TITLE: push_string_or_nil(L, markdown_node_title(n)); break;
	case NF_INFO: push_string_or_nil(L, markdown_node_fence_info(n)); break;
	case NF_LIST_TYPE:
		push_string_or_nil(L, t != MARKDOWN_NODE_LIST ? NULL
				      : markdown_node_list_ordered(n) ? "ordered" : "bullet");
		break;
	case NF_START:
		if (t == MARKDOWN_NODE_LIST)
			lua_pushinteger(L, markdown_node_list_start(n));
		else
			lua_pushnil(L);
		break;
	case NF_TIGHT:
		push_bool_or_nil(L, t == MARKDOWN_NODE_LIST ? markdown_node_list_tight(n) : -1);
		break;
	case NF_HEADER:
		push_bool_or_nil(L, t == MARKDOWN_NODE_TABLE_ROW ? markdown_node_table_header(n) : -1);
		break;
	case NF_CHECKED:
		push_bool_or_nil(L, markdown_node_task(n) < 0 ? -1 : markdown_node_task(n) == 1);
		break;
	case NF_ID: lua_pushstring(L, markdown_node_id(n)); break;
	case NF_CLASS: lua_pushstring(L, markdown_node_class(n)); break;
	case NF_TEXT: lua_pushcfunction(L, node_text); break;
	case NF_IS_BLOCK: lua_pushcfunction(L, node_is_block); break;
	default: lua_pushnil(L); break;
	}
	return 1;
}

static int no_field(lua_State *L, markdown_node *n, const char *k)
{
	return luaL_error(L, "a %s has no field '%s' to set", tname(n), k);
}

static int node_newindex(lua_State *L)
{
	run *c = get_run(L);
	markdown_node *n = check_node(L, 1);
	const char *k = luaL_checkstring(L, 2);
	markdown_doc *md = c->md;
	int rc = 0;

	if (!strcmp(k, "content")) {
		set_content(L, c, n, 3);
		return 0;
	}
	if (!strcmp(k, "id") || !strcmp(k, "class")) {
		const char *s = lua_isnil(L, 3) ? "" : luaL_checkstring(L, 3);
		bool id = k[0] == 'i';
		charge(L, c, strlen(s));
		markdown_node_set_attr(md, n, id ? s : NULL, id ? NULL : s);
		return 0;
	}
	if (!strcmp(k, "literal") || !strcmp(k, "url") || !strcmp(k, "title") ||
	    !strcmp(k, "info")) {
		size_t len;
		const char *s = luaL_checklstring(L, 3, &len);
		if (strlen(s) != len)
			return luaL_error(L, "'%s' cannot hold a NUL byte", k);
		charge(L, c, len);
		rc = k[0] == 'l'   ? markdown_node_set_literal(md, n, s)
		     : k[0] == 'u' ? markdown_node_set_url(md, n, s)
		     : k[0] == 't' ? markdown_node_set_title(md, n, s)
				   : markdown_node_set_fence_info(md, n, s);
	} else if (!strcmp(k, "level")) {
		lua_Integer l = luaL_checkinteger(L, 3);
		if (markdown_node_type_of(n) == MARKDOWN_NODE_HEADING && (l < 1 || l > 6))
			return luaL_error(L, "a heading level is 1 to 6, not %I", l);
		rc = markdown_node_set_heading_level(md, n, (int)l);
	} else if (!strcmp(k, "list_type")) {
		const char *s = luaL_checkstring(L, 3);
		if (strcmp(s, "ordered") && strcmp(s, "bullet"))
			return luaL_error(L, "list_type is \"ordered\" or \"bullet\", not \"%s\"", s);
		rc = markdown_node_set_list_ordered(md, n, s[0] == 'o');
	} else if (!strcmp(k, "start")) {
		lua_Integer s = luaL_checkinteger(L, 3);
		if (s < 0 || s > 999999999)
			return luaL_error(L, "a list start is 0 to 999999999, not %I", s);
		rc = markdown_node_set_list_start(md, n, (int)s);
	} else if (!strcmp(k, "tight")) {
		rc = markdown_node_set_list_tight(md, n, lua_toboolean(L, 3));
	} else if (!strcmp(k, "text")) {
		return luaL_error(L, "'text' is a method (node:text()); set 'literal' "
				     "or 'content' instead");
	} else {
		static const char *const ro[] = { "type", "t", "line", "col", "end_line",
			"parent", "next", "prev", "first_child", "last_child", "header",
			"checked", "is_block", NULL };
		for (size_t i = 0; ro[i]; i++)
			if (!strcmp(k, ro[i]))
				return luaL_error(L, "'%s' of a node is read-only", k);
		return no_field(L, n, k);
	}
	if (rc < 0)
		return no_field(L, n, k);
	return 0;
}

static int node_eq(lua_State *L)
{
	lua_pushboolean(L, to_node(L, 1) == to_node(L, 2));
	return 1;
}

static int node_tostring(lua_State *L)
{
	run *c = get_run(L);
	markdown_node *n = check_node(L, 1);
	int line = markdown_node_line(c->md, n);
	if (line)
		lua_pushfstring(L, "%s (line %d)", tname(n), line);
	else
		lua_pushstring(L, tname(n));
	return 1;
}

/* ---- constructors: gen.Text, gen.Paragraph, ... ---- */

static int new_literal(lua_State *L, markdown_node_type t)
{
	run *c = get_run(L);
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	charge(L, c, len);
	markdown_node *n = make(L, c, t);
	markdown_node_set_literal(c->md, n, s);
	if (t == MARKDOWN_NODE_CODE_BLOCK && !lua_isnoneornil(L, 2))
		markdown_node_set_fence_info(c->md, n, luaL_checkstring(L, 2));
	push_node(L, n);
	return 1;
}

static int new_container(lua_State *L, markdown_node_type t, int content, const char *who)
{
	run *c = get_run(L);
	markdown_node *n = make(L, c, t);
	fill(L, c, n, content, who);
	push_node(L, n);
	return 1;
}

static void set_attrs(lua_State *L, run *c, markdown_node *n, int idx)
{
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_getfield(L, idx, "id");
	lua_getfield(L, idx, "class");
	const char *id = lua_isnil(L, -2) ? NULL : luaL_checkstring(L, -2);
	const char *cls = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
	charge(L, c, (id ? strlen(id) : 0) + (cls ? strlen(cls) : 0));
	markdown_node_set_attr(c->md, n, id, cls);
	lua_pop(L, 2);
}

static int gen_text(lua_State *L) { return new_literal(L, MARKDOWN_NODE_TEXT); }
static int gen_code(lua_State *L) { return new_literal(L, MARKDOWN_NODE_CODE); }
static int gen_code_block(lua_State *L) { return new_literal(L, MARKDOWN_NODE_CODE_BLOCK); }
static int gen_emph(lua_State *L) { return new_container(L, MARKDOWN_NODE_EMPH, 1, "gen.Emph"); }
static int gen_strong(lua_State *L) { return new_container(L, MARKDOWN_NODE_STRONG, 1, "gen.Strong"); }
static int gen_paragraph(lua_State *L) { return new_container(L, MARKDOWN_NODE_PARAGRAPH, 1, "gen.Paragraph"); }
static int gen_block_quote(lua_State *L) { return new_container(L, MARKDOWN_NODE_BLOCK_QUOTE, 1, "gen.BlockQuote"); }
static int gen_item(lua_State *L) { return new_container(L, MARKDOWN_NODE_ITEM, 1, "gen.Item"); }

static int new_empty(lua_State *L, markdown_node_type t)
{
	push_node(L, make(L, get_run(L), t));
	return 1;
}

static int gen_soft_break(lua_State *L) { return new_empty(L, MARKDOWN_NODE_SOFT_BREAK); }
static int gen_line_break(lua_State *L) { return new_empty(L, MARKDOWN_NODE_LINE_BREAK); }
static int gen_thematic_break(lua_State *L) { return new_empty(L, MARKDOWN_NODE_THEMATIC_BREAK); }

static int gen_span(lua_State *L)
{
	new_container(L, MARKDOWN_NODE_SPAN, 1, "gen.Span");
	set_attrs(L, get_run(L), to_node(L, -1), 2);
	return 1;
}

static int new_link(lua_State *L, markdown_node_type t, const char *who)
{
	run *c = get_run(L);
	size_t ul, tl = 0;
	const char *url = luaL_checklstring(L, 2, &ul);
	const char *title = luaL_optlstring(L, 3, "", &tl);
	charge(L, c, ul + tl);
	new_container(L, t, 1, who);
	markdown_node *n = to_node(L, -1);
	markdown_node_set_url(c->md, n, url);
	markdown_node_set_title(c->md, n, title);
	return 1;
}

static int gen_link(lua_State *L) { return new_link(L, MARKDOWN_NODE_LINK, "gen.Link"); }
static int gen_image(lua_State *L) { return new_link(L, MARKDOWN_NODE_IMAGE, "gen.Image"); }

static int gen_heading(lua_State *L)
{
	lua_Integer level = luaL_checkinteger(L, 1);
	if (level < 1 || level > 6)
		return luaL_error(L, "gen.Heading: level is 1 to 6, not %I", level);
	new_container(L, MARKDOWN_NODE_HEADING, 2, "gen.Heading");
	markdown_node_set_heading_level(get_run(L)->md, to_node(L, -1), (int)level);
	return 1;
}

/* gen.List(items [, {type = "ordered", start = 3, tight = false}]):
 * items that are not Items become one. */
static int gen_list(lua_State *L)
{
	run *c = get_run(L);
	markdown_node *list = make(L, c, MARKDOWN_NODE_LIST);
	markdown_node_set_list_tight(c->md, list, true);
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "type");
		if (!lua_isnil(L, -1)) {
			const char *s = luaL_checkstring(L, -1);
			if (strcmp(s, "ordered") && strcmp(s, "bullet"))
				return luaL_error(L, "gen.List: type is \"ordered\" or \"bullet\", not \"%s\"", s);
			markdown_node_set_list_ordered(c->md, list, s[0] == 'o');
		}
		lua_getfield(L, 2, "start");
		if (!lua_isnil(L, -1))
			markdown_node_set_list_start(c->md, list, (int)luaL_checkinteger(L, -1));
		lua_getfield(L, 2, "tight");
		if (!lua_isnil(L, -1))
			markdown_node_set_list_tight(c->md, list, lua_toboolean(L, -1));
		lua_pop(L, 3);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_Unsigned n = lua_rawlen(L, 1);
	for (lua_Unsigned i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, (lua_Integer)i);
		markdown_node *item = to_node(L, -1);
		if (!item || markdown_node_type_of(item) != MARKDOWN_NODE_ITEM) {
			item = make(L, c, MARKDOWN_NODE_ITEM);
			fill(L, c, item, -1, "gen.List");
		}
		append(L, c, list, item, "gen.List");
		lua_pop(L, 1);
	}
	push_node(L, list);
	return 1;
}

/* ---- gen: helpers ---- */

static int gen_fold(lua_State *L)
{
	run *c = get_run(L);
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	buf_clear(&c->scratch);
	text_fold(&c->scratch, s, len);
	lua_pushlstring(L, c->scratch.ptr, c->scratch.len);
	return 1;
}

/* Whether code point cp belongs to a word: letters and digits, not the
 * punctuation and symbols of U+0080..U+00BF, U+2000..U+2BFF (quotes,
 * dashes, ellipsis, arrows) and U+3000..U+303F. */
static bool word_char(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		       (cp >= 'A' && cp <= 'Z');
	return cp >= 0xC0 && cp != 0xD7 && cp != 0xF7 && !(cp >= 0x2000 && cp <= 0x2BFF) &&
	       !(cp >= 0x3000 && cp <= 0x303F) && cp != 0xFEFF && cp != 0xFFFD;
}

/* The code point at s (n bytes left) and its length; a broken sequence
 * is one byte of U+FFFD. */
static uint32_t next_char(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t cp = s[0];
	size_t k = cp < 0x80 ? 1 : cp >= 0xF0 ? 4 : cp >= 0xE0 ? 3 : cp >= 0xC2 ? 2 : 0;
	if (k == 0 || k > n) {
		*len = 1;
		return 0xFFFD;
	}
	cp = k == 1 ? cp : k == 2 ? cp & 0x1F : k == 3 ? cp & 0x0F : cp & 0x07;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*len = 1;
			return 0xFFFD;
		}
		cp = cp << 6 | (s[i] & 0x3F);
	}
	*len = k;
	return cp;
}

/* Whether ASCII byte ch belongs to a word (word_char, without the
 * branches). */
static bool ascii_word(unsigned char ch)
{
	return (unsigned)((ch | 0x20) - 'a') < 26 || (unsigned)(ch - '0') < 10;
}

/* The next word of s (len bytes) at or after *pos, folded (as gen.fold)
 * and appended to out; its first byte in *start and *pos past its last.
 * Returns false when there is none. */
static bool next_word(const char *s, size_t len, size_t *pos, size_t *start, buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = *pos, k;
	while (i < len) {
		size_t from = i;
		/* Most words are ASCII: lowered into out as they are read
		 * (| 0x20 lowers a letter and keeps a digit). */
		buf_grow(out, len - i);
		char *p = out->ptr + out->len;
		while (i < len && ascii_word(u[i]))
			*p++ = (char)(u[i++] | 0x20);
		bool ascii = true;
		while (i < len) {
			if (u[i] < 0x80) {
				if (!ascii_word(u[i]))
					break;
				i++;
			} else if (word_char(next_char(u + i, len - i, &k))) {
				ascii = false;
				i += k;
			} else {
				break;
			}
		}
		if (i == from) {
			if (u[i] < 0x80)
				i++;
			else
				next_char(u + i, len - i, &k), i += k;
			continue;
		}
		if (ascii) {
			out->len += i - from;
			out->ptr[out->len] = '\0';
		} else {
			/* Folded whole, over what the ASCII run put there. */
			text_fold(out, s + from, i - from);
		}
		*start = from;
		*pos = i;
		return true;
	}
	*pos = i;
	return false;
}

/* gen.words(s) -> words, first, last: the words of s folded (as
 * gen.fold), and the byte positions where each starts and ends in s. */
static int gen_words(lua_State *L)
{
	run *c = get_run(L);
	size_t len, pos = 0, start;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_settop(L, 1);
	lua_newtable(L);
	lua_newtable(L);
	lua_newtable(L);
	lua_Integer n = 0;
	buf_clear(&c->scratch);
	while (next_word(s, len, &pos, &start, &c->scratch)) {
		n++;
		lua_pushlstring(L, c->scratch.ptr, c->scratch.len);
		lua_rawseti(L, 2, n);
		lua_pushinteger(L, (lua_Integer)start + 1);
		lua_rawseti(L, 3, n);
		lua_pushinteger(L, (lua_Integer)pos);
		lua_rawseti(L, 4, n);
		buf_clear(&c->scratch);
	}
	return 3;
}

static int gen_slug(lua_State *L)
{
	run *c = get_run(L);
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	buf_clear(&c->scratch);
	text_slug(&c->scratch, s, len);
	lua_pushlstring(L, c->scratch.ptr, c->scratch.len);
	return 1;
}

/* ---- gen.matcher: the phrase matching of lua/match.lua ----
 *
 * match.lua compiles its patterns here and asks for the matches here; the
 * rules (whole words, * for any ending or beginning, (word) optional) are
 * described there. A matcher is a userdata whose C memory is its own
 * (freed by __gc), so nothing malloc'd is held across a raise, and it
 * cannot be changed from Lua. */

#define MATCHER_MT "gen.matcher"
/* Matchers a state keeps for the next documents. */
#define MATCHERS_KEPT 32

typedef struct mtok {
	char *w;
	size_t len;
	size_t h; /* key_hash of w: a word is compared whole only when it agrees */
	bool before, after, optional;
} mtok;

typedef struct mentry {
	lua_Integer idx; /* the pattern's position in the list */
	mtok *toks;
	size_t ntoks;
} mentry;

/* The entries whose first word is key (exact) or starts with key (prefix),
 * in the order of the patterns. */
typedef struct mbucket {
	char *key;
	size_t len;
	size_t *entries;
	size_t n;
} mbucket;

/* A hash index of buckets: slots hold a bucket's index + 1, 0 is empty. */
typedef struct mindex {
	mbucket *b;
	size_t n;
	uint32_t *slots;
	size_t mask;
} mindex;

/* Bits of first_bits: a word whose first three bytes (or fewer, when it
 * is shorter) have no bit set starts no pattern in exact or prefix, and
 * most words of a text are such words. */
#define FIRST_BITS 4096

typedef struct matcher {
	mentry *e;
	size_t ne;
	mindex exact, prefix;
	uint64_t first_bits[FIRST_BITS / 64];
	size_t *other;
	size_t nother;
} matcher;

/* The bit of a word whose first three bytes hash to h3. */
static void first_bit_set(matcher *m, size_t h3)
{
	size_t b = h3 & (FIRST_BITS - 1);
	m->first_bits[b / 64] |= (uint64_t)1 << (b % 64);
}

static bool first_bit_has(const matcher *m, size_t h3)
{
	size_t b = h3 & (FIRST_BITS - 1);
	return m->first_bits[b / 64] >> (b % 64) & 1;
}

static void matcher_release(matcher *m)
{
	for (size_t i = 0; i < m->ne; i++) {
		for (size_t k = 0; k < m->e[i].ntoks; k++)
			free(m->e[i].toks[k].w);
		free(m->e[i].toks);
	}
	free(m->e);
	for (mindex *x = &m->exact; x; x = x == &m->exact ? &m->prefix : NULL) {
		for (size_t i = 0; i < x->n; i++) {
			free(x->b[i].key);
			free(x->b[i].entries);
		}
		free(x->b);
		free(x->slots);
	}
	free(m->other);
	memset(m, 0, sizeof *m);
}

static matcher *check_matcher(lua_State *L, int idx)
{
	matcher *m = udata_of(L, idx, get_run(L)->matcher_mt);
	if (!m)
		luaL_typeerror(L, idx, MATCHER_MT);
	return m;
}

static int matcher_gc(lua_State *L)
{
	matcher_release(check_matcher(L, 1));
	return 0;
}

#define KEY_SEED 14695981039346656037u

static uint64_t key_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * 1099511628211u;
}

static size_t key_end(uint64_t h)
{
	return (size_t)(h ^ h >> 29);
}

static size_t key_hash(const char *s, size_t len)
{
	uint64_t h = KEY_SEED;
	for (size_t i = 0; i < len; i++)
		h = key_step(h, (unsigned char)s[i]);
	return key_end(h);
}

/* The bucket of key in x, or NULL; h is key_hash(key, len). */
static mbucket *bucket_find_hashed(const mindex *x, const char *key, size_t len, size_t h)
{
	if (!x->slots)
		return NULL;
	for (size_t i = h & x->mask;; i = (i + 1) & x->mask) {
		uint32_t v = x->slots[i];
		if (!v)
			return NULL;
		mbucket *b = &x->b[v - 1];
		if (b->len == len && !memcmp(b->key, key, len))
			return b;
	}
}

static mbucket *bucket_find(const mindex *x, const char *key, size_t len)
{
	return bucket_find_hashed(x, key, len, key_hash(key, len));
}

/* Adds entry e to the bucket of key, making the bucket if need be. */
static void bucket_add(mindex *x, const char *key, size_t len, size_t e)
{
	mbucket *b = bucket_find(x, key, len);
	if (!b) {
		if (2 * (x->n + 1) > x->mask + 1 || !x->slots) {
			/* Grow to keep the table at most half full. */
			size_t size = x->slots ? 2 * (x->mask + 1) : 16;
			free(x->slots);
			x->slots = xcalloc(size, sizeof *x->slots);
			x->mask = size - 1;
			for (size_t k = 0; k < x->n; k++) {
				size_t i = key_hash(x->b[k].key, x->b[k].len) & x->mask;
				while (x->slots[i])
					i = (i + 1) & x->mask;
				x->slots[i] = (uint32_t)k + 1;
			}
		}
		x->b = xrealloc(x->b, (x->n + 1) * sizeof *x->b);
		b = &x->b[x->n++];
		b->key = xstrndup(key, len);
		b->len = len;
		b->entries = NULL;
		b->n = 0;
		size_t i = key_hash(key, len) & x->mask;
		while (x->slots[i])
			i = (i + 1) & x->mask;
		x->slots[i] = (uint32_t)x->n;
	}
	b->entries = xrealloc(b->entries, (b->n + 1) * sizeof *b->entries);
	b->entries[b->n++] = e;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

/* Compiles pattern p (the idx-th) into m. */
static void matcher_add(matcher *m, run *c, const char *p, size_t plen, lua_Integer idx)
{
	mentry e = { idx, NULL, 0 };
	size_t i = 0;
	while (i < plen) {
		while (i < plen && is_space(p[i]))
			i++;
		if (i == plen)
			break;
		const char *raw = p + i;
		size_t len = 0;
		while (i < plen && !is_space(p[i]))
			i++, len++;
		bool optional = len >= 2 && raw[0] == '(' && raw[len - 1] == ')';
		if (optional)
			raw++, len -= 2;
		bool before = len && raw[0] == '*';
		if (before)
			raw++, len--;
		bool after = len && raw[len - 1] == '*';
		if (after)
			len--;
		size_t pos = 0, start, first = e.ntoks;
		buf_clear(&c->scratch);
		while (next_word(raw, len, &pos, &start, &c->scratch)) {
			e.toks = xrealloc(e.toks, (e.ntoks + 1) * sizeof *e.toks);
			mtok *t = &e.toks[e.ntoks++];
			t->len = c->scratch.len;
			t->w = xstrndup(c->scratch.ptr, c->scratch.len);
			t->h = key_hash(t->w, t->len);
			t->before = before && e.ntoks - 1 == first;
			t->after = false;
			t->optional = optional;
			buf_clear(&c->scratch);
		}
		if (after && e.ntoks > first)
			e.toks[e.ntoks - 1].after = true;
	}
	if (!e.ntoks)
		return;
	size_t n = m->ne;
	m->e = xrealloc(m->e, (n + 1) * sizeof *m->e);
	m->e[m->ne++] = e;
	/* An index on the first word keeps the search linear in the text. */
	const mtok *t = &e.toks[0];
	if (t->optional || t->before || (t->after && t->len < 3)) {
		m->other = xrealloc(m->other, (m->nother + 1) * sizeof *m->other);
		m->other[m->nother++] = n;
	} else if (!t->after) {
		bucket_add(&m->exact, t->w, t->len, n);
		first_bit_set(m, key_hash(t->w, t->len < 3 ? t->len : 3));
	} else {
		bucket_add(&m->prefix, t->w, 3, n);
		first_bit_set(m, key_hash(t->w, 3));
	}
}

/* gen.matcher(patterns) -> a matcher of the list of patterns. A state
 * keeps the last MATCHERS_KEPT it made, by their patterns, for the next
 * documents: a matcher cannot be changed, so that is no state a filter
 * could leave behind. */
static int gen_matcher(lua_State *L)
{
	run *c = get_run(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	luaL_Buffer key;
	luaL_buffinit(L, &key);
	for (lua_Integer i = 1; lua_rawgeti(L, 1, i) != LUA_TNIL; i++) {
		luaL_checkstring(L, -1);
		luaL_addvalue(&key);
		luaL_addchar(&key, '\0');
	}
	lua_pop(L, 1);
	luaL_pushresult(&key);
	int k = lua_gettop(L);
	if (lua_getfield(L, LUA_REGISTRYINDEX, "gen.matchers") != LUA_TTABLE ||
	    c->nmatchers >= MATCHERS_KEPT) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, "gen.matchers");
		c->nmatchers = 0;
	}
	int cache = lua_gettop(L);
	lua_pushvalue(L, k);
	if (lua_rawget(L, cache) == LUA_TUSERDATA)
		return 1;
	lua_pop(L, 1);
	matcher *m = lua_newuserdatauv(L, sizeof *m, 0);
	memset(m, 0, sizeof *m);
	luaL_setmetatable(L, MATCHER_MT);
	size_t bytes = 0;
	for (lua_Integer i = 1; lua_rawgeti(L, 1, i) != LUA_TNIL; i++) {
		size_t len;
		const char *p = luaL_checklstring(L, -1, &len);
		matcher_add(m, c, p, len, i);
		bytes += 2 * len + 64;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	charge(L, c, bytes);
	lua_pushvalue(L, k);
	lua_pushvalue(L, -2);
	lua_rawset(L, cache);
	c->nmatchers++;
	return 1;
}

static void push_value(lua_State *L, const value *v, bool readonly);

/* gen.theme_matcher() -> matcher, patterns, themes: one matcher over the
 * patterns of every theme in site.toml, in the order of site.themes;
 * patterns[i] is the i-th pattern and themes[i] the id of its theme, both
 * read-only lists. Made once per state and the same for every document:
 * a filter that gathered the list itself would walk site.themes and
 * compile it again for each article. */
static int gen_theme_matcher(lua_State *L)
{
	run *c = get_run(L);
	if (lua_getfield(L, LUA_REGISTRYINDEX, "gen.theme_matcher") != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_createtable(L, 3, 0);
		int made = lua_gettop(L);
		matcher *m = lua_newuserdatauv(L, sizeof *m, 0);
		memset(m, 0, sizeof *m);
		luaL_setmetatable(L, MATCHER_MT);
		lua_rawseti(L, made, 1);
		/* The lists hang from the run until they are pushed: pushing
		 * can raise. */
		value *lists = value_new_array();
		value *patterns = value_new_array(), *themes = value_new_array();
		value_push(lists, patterns);
		value_push(lists, themes);
		value_free(c->building);
		c->building = lists;
		size_t bytes = 0;
		lua_Integer idx = 0;
		for (size_t i = 0; i < c->cfg->nthemes; i++) {
			const config_theme *t = &c->cfg->themes[i];
			for (size_t j = 0; j < t->npatterns; j++) {
				size_t len = strlen(t->patterns[j]);
				matcher_add(m, c, t->patterns[j], len, ++idx);
				bytes += 2 * len + 64;
				value_push(patterns, value_new_cstring(t->patterns[j]));
				value_push(themes, value_new_cstring(t->id));
			}
		}
		push_value(L, patterns, true);
		lua_rawseti(L, made, 2);
		push_value(L, themes, true);
		lua_rawseti(L, made, 3);
		value_free(c->building);
		c->building = NULL;
		charge(L, c, bytes);
		lua_pushvalue(L, made);
		lua_setfield(L, LUA_REGISTRYINDEX, "gen.theme_matcher");
	}
	int made = lua_gettop(L);
	lua_rawgeti(L, made, 1);
	lua_rawgeti(L, made, 2);
	lua_rawgeti(L, made, 3);
	return 3;
}

/* A word to match: its folded bytes, and for a text the bytes it spans
 * (first, last: 1-based, as gen.words gives them). */
typedef struct mword {
	const char *s;
	size_t len, off;
	size_t first, last;
	size_t h3, h; /* key_hash of its first three bytes (or fewer), of all */
} mword;

static void word_hash(mword *w)
{
	const unsigned char *p = (const unsigned char *)w->s;
	uint64_t h = KEY_SEED;
	size_t i = 0;
	for (; i < w->len && i < 3; i++)
		h = key_step(h, p[i]);
	w->h3 = key_end(h);
	for (; i < w->len; i++)
		h = key_step(h, p[i]);
	w->h = key_end(h);
}

static bool fits(const mtok *t, const mword *w)
{
	if (!t->before && !t->after)
		return w->len == t->len && w->h == t->h && !memcmp(w->s, t->w, t->len);
	if (t->len > w->len)
		return false;
	if (t->before && t->after) {
		for (size_t i = 0; i + t->len <= w->len; i++)
			if (!memcmp(w->s + i, t->w, t->len))
				return true;
		return false;
	}
	if (t->after)
		return !memcmp(w->s, t->w, t->len);
	return !memcmp(w->s + w->len - t->len, t->w, t->len);
}

/* Whether toks[k..] match at w[i..]; *end is then one past the last word
 * of the match (i when only optional words were left). */
static bool match_at(const mword *w, size_t n, size_t i, const mtok *toks, size_t ntoks,
		     size_t k, size_t *end)
{
	if (k == ntoks) {
		*end = i;
		return true;
	}
	const mtok *t = &toks[k];
	if (i < n && fits(t, &w[i]) && match_at(w, n, i + 1, toks, ntoks, k + 1, end))
		return true;
	return t->optional && match_at(w, n, i, toks, ntoks, k + 1, end);
}

/* The matches of m in w[0..n) into c->hits, three numbers each: the
 * entry, the first word and one past the last; only the first when
 * first_only. Returns how many. Calls no Lua. */
static size_t find_matches(run *c, const matcher *m, const mword *w, size_t n,
			   bool first_only)
{
	size_t nh = 0;
	for (size_t i = 0; i < n; i++) {
		bool indexed = first_bit_has(m, w[i].h3);
		for (int pass = indexed ? 0 : 2; pass < 3; pass++) {
			const size_t *list = NULL;
			size_t nl = 0;
			const mbucket *b = NULL;
			if (pass == 0)
				b = bucket_find_hashed(&m->exact, w[i].s, w[i].len, w[i].h);
			else if (pass == 1 && w[i].len >= 3)
				b = bucket_find_hashed(&m->prefix, w[i].s, 3, w[i].h3);
			if (b) {
				list = b->entries;
				nl = b->n;
			} else if (pass == 2) {
				list = m->other;
				nl = m->nother;
			}
			for (size_t x = 0; x < nl; x++) {
				const mentry *e = &m->e[list[x]];
				size_t end;
				/* The exact bucket's first words are the word itself. */
				bool first_known = pass == 0;
				if (!match_at(w, n, first_known ? i + 1 : i, e->toks, e->ntoks,
					      first_known ? 1 : 0, &end) ||
				    end <= i)
					continue;
				if (nh + 3 > c->cap_hits) {
					c->cap_hits = c->cap_hits ? 2 * c->cap_hits : 48;
					c->hits = xrealloc(c->hits, c->cap_hits * sizeof *c->hits);
				}
				c->hits[nh++] = list[x];
				c->hits[nh++] = i;
				c->hits[nh++] = end;
				if (first_only)
					return nh / 3;
			}
		}
	}
	return nh / 3;
}

/* A text whose words were made: its bytes at off in worded, its words
 * from index from in words. */
typedef struct wtext {
	uint64_t hash;
	size_t off, len;
	size_t from, n;
} wtext;

/* Bytes of text kept before they are all let go: a filter that matches
 * endless different texts must not grow gen's memory without end. */
#define WORDED_MAX (1u << 20)

static void words_forget(run *c)
{
	buf_clear(&c->folded);
	buf_clear(&c->worded);
	c->nwords = c->nwtexts = 0;
	if (c->wslots)
		memset(c->wslots, 0, (c->wmask + 1) * sizeof *c->wslots);
}

static void wtext_index(run *c, size_t i)
{
	size_t k = (size_t)c->wtexts[i].hash & c->wmask;
	while (c->wslots[k])
		k = (k + 1) & c->wmask;
	c->wslots[k] = (uint32_t)i + 1;
}

/* The words of text s, in c->words from *from on; returns how many. The
 * filters of one document match the same paragraphs (themes.lua, then
 * callouts.lua): each text's words are made once for the document, and
 * found again by its hash. Hashing and comparing the bytes costs far
 * less than folding them. Calls no Lua. */
static size_t text_words(run *c, const char *s, size_t len, size_t *from)
{
	uint64_t h = buf_hash64(s, len, 0x776f726473u);
	for (size_t k = c->wslots ? (size_t)h & c->wmask : 0; c->wslots && c->wslots[k];
	     k = (k + 1) & c->wmask) {
		const wtext *t = &c->wtexts[c->wslots[k] - 1];
		if (t->hash == h && t->len == len && !memcmp(c->worded.ptr + t->off, s, len)) {
			/* folded may have moved since. */
			for (size_t i = t->from; i < t->from + t->n; i++)
				c->words[i].s = c->folded.ptr + c->words[i].off;
			*from = t->from;
			return t->n;
		}
	}
	if (c->worded.len > WORDED_MAX)
		words_forget(c);
	const unsigned char *u = (const unsigned char *)s;
	size_t pos = 0, start, first = c->nwords;
	for (;;) {
		/* Most words are ASCII: lowered and hashed as they are read
		 * (as next_word and word_hash would); any other, from its
		 * first byte, by those two. */
		while (pos < len && u[pos] < 0x80 && !ascii_word(u[pos]))
			pos++;
		if (c->folded.cap - c->folded.len <= len - pos)
			buf_grow(&c->folded, len - pos);
		size_t at = c->folded.len, end = pos;
		char *out = c->folded.ptr + at;
		uint64_t wh = KEY_SEED, h3 = 0;
		while (end < len && ascii_word(u[end])) {
			unsigned char ch = u[end] | 0x20;
			out[end - pos] = (char)ch;
			wh = key_step(wh, ch);
			if (++end - pos == 3)
				h3 = key_end(wh);
		}
		bool ascii = end > pos && (end == len || u[end] < 0x80);
		if (ascii) {
			start = pos;
			out[end - pos] = '\0';
			c->folded.len += end - pos;
			pos = end;
		} else if (!next_word(s, len, &pos, &start, &c->folded)) {
			break;
		}
		if (c->nwords == c->cap_words) {
			c->cap_words = c->cap_words ? 2 * c->cap_words : 256;
			c->words = xrealloc(c->words, c->cap_words * sizeof *c->words);
		}
		mword *w = &c->words[c->nwords++];
		w->off = at;
		w->len = c->folded.len - at;
		w->first = start + 1;
		w->last = pos;
		if (ascii) {
			w->h = key_end(wh);
			w->h3 = w->len < 3 ? w->h : h3;
		} else {
			w->s = c->folded.ptr + at; /* until folded grows again */
			word_hash(w);
		}
	}
	for (size_t i = first; i < c->nwords; i++)
		c->words[i].s = c->folded.ptr + c->words[i].off;
	if (c->nwtexts == c->cap_wtexts) {
		c->cap_wtexts = c->cap_wtexts ? 2 * c->cap_wtexts : 64;
		c->wtexts = xrealloc(c->wtexts, c->cap_wtexts * sizeof *c->wtexts);
	}
	c->wtexts[c->nwtexts++] = (wtext){ h, c->worded.len, len, first, c->nwords - first };
	buf_put(&c->worded, s, len);
	if (!c->worded.ptr)
		buf_grow(&c->worded, 0); /* the empty text is a text too */
	if (2 * c->nwtexts > c->wmask) {
		/* Kept at most half full. */
		free(c->wslots);
		c->wmask = c->wmask ? 2 * c->wmask + 1 : 127;
		c->wslots = xcalloc(c->wmask + 1, sizeof *c->wslots);
		for (size_t i = 0; i < c->nwtexts; i++)
			wtext_index(c, i);
	} else {
		wtext_index(c, c->nwtexts - 1);
	}
	*from = first;
	return c->nwords - first;
}

/* matcher:matches(words [, first_only]) -> { idx, i, j, ... }: for every
 * pattern (idx, its place in the list) that matches words i..j, by i,
 * patterns earlier in the list first at one i; only the first match when
 * first_only. words is what match.words returns, or a text: then each
 * match also has the bytes of the text it spans, { idx, i, j, first,
 * last, ... }. */
static int matcher_matches(lua_State *L)
{
	run *c = get_run(L);
	const matcher *m = check_matcher(L, 1);
	bool first_only = lua_toboolean(L, 3);
	bool text = lua_type(L, 2) == LUA_TSTRING;
	const char *s = NULL;
	size_t len = 0, n = 0;
	mword *tw = NULL;
	lua_settop(L, 2);
	if (text) {
		s = lua_tolstring(L, 2, &len);
	} else {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "n");
		lua_Integer count = luaL_checkinteger(L, -1);
		if (lua_getfield(L, 2, "w") != LUA_TTABLE)
			return luaL_error(L, "matcher:matches: words.w is not a list");
		n = lua_rawlen(L, 4);
		if (count >= 0 && (lua_Unsigned)count < n)
			n = (size_t)count;
		/* The words stay in words.w, on the stack: their bytes stay put. */
		tw = lua_newuserdatauv(L, (n ? n : 1) * sizeof *tw, 0);
		for (size_t i = 0; i < n; i++) {
			lua_rawgeti(L, 4, (lua_Integer)i + 1);
			if (lua_type(L, -1) != LUA_TSTRING)
				return luaL_error(L, "matcher:matches: word %I is not a string",
						  (lua_Integer)i + 1);
			tw[i].s = lua_tolstring(L, -1, &tw[i].len);
			tw[i].first = tw[i].last = 0;
			word_hash(&tw[i]);
			lua_pop(L, 1);
		}
	}
	/* Making the result table is the one allocation: a finalizer it runs
	 * may call this again and reuse c's arrays, and then the matching is
	 * done over. Filling the table allocates nothing. */
	for (;;) {
		size_t from = 0;
		if (text)
			n = text_words(c, s, len, &from);
		const mword *w = text ? c->words + from : tw;
		size_t nh = find_matches(c, m, w, n, first_only);
		unsigned call = ++c->matching;
		int k = text ? 5 : 3;
		lua_createtable(L, (int)(nh * (size_t)k), 0);
		if (call != c->matching) {
			lua_pop(L, 1);
			continue;
		}
		for (size_t h = 0; h < nh; h++) {
			const size_t *x = &c->hits[3 * h];
			lua_Integer v[5] = { m->e[x[0]].idx, (lua_Integer)x[1] + 1, (lua_Integer)x[2],
					     text ? (lua_Integer)w[x[1]].first : 0,
					     text ? (lua_Integer)w[x[2] - 1].last : 0 };
			for (int j = 0; j < k; j++) {
				lua_pushinteger(L, v[j]);
				lua_rawseti(L, -2, (lua_Integer)h * k + j + 1);
			}
		}
		return 1;
	}
}

/* "lua/x.lua:12" of the Lua code calling the current C function. */
static void caller_where(lua_State *L, char *out, size_t size)
{
	lua_Debug ar;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
		snprintf(out, size, "%s:%d", ar.short_src, ar.currentline);
	else
		snprintf(out, size, "%s", get_run(L)->current);
}

static void report(lua_State *L, diag_severity sev, const char *msg, markdown_node *n)
{
	run *c = get_run(L);
	char where[LUA_IDSIZE + 24];
	if (c->nwarnings++ >= MAX_WARNINGS) {
		if (c->nwarnings == MAX_WARNINGS + 1)
			diag_add(&c->diags, DIAG_WARNING, c->d->path, 0, 0,
				 "more than %d messages from filters; the rest are left out",
				 MAX_WARNINGS);
		return;
	}
	caller_where(L, where, sizeof where);
	diag_add(&c->diags, sev, c->d->path, n ? markdown_node_line(c->md, n) : 0, 0,
		 "%s (%s)", msg, where);
}

static int gen_warn(lua_State *L)
{
	run *c = get_run(L);
	const char *msg = luaL_checkstring(L, 1);
	markdown_node *n = lua_isnoneornil(L, 2) ? c->node : check_node(L, 2);
	report(L, DIAG_WARNING, msg, n);
	return 0;
}

/* print goes to the diagnostics as a notice: stdout is the data of
 * `gen list --json`. */
static int sandbox_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	report(L, DIAG_NOTICE, lua_tostring(L, -1), get_run(L)->node);
	return 0;
}

/* load, for text only: the mode argument is always "t". */
static int sandbox_load(lua_State *L)
{
	int n = lua_gettop(L);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	if (n >= 2)
		lua_pushvalue(L, 2);
	else
		lua_pushnil(L);
	lua_pushliteral(L, "t");
	if (n >= 4)
		lua_pushvalue(L, 4);
	lua_call(L, n >= 4 ? 4 : 3, LUA_MULTRET);
	return lua_gettop(L) - n;
}

/* Pushes the main function of chunk ch with env (a stack index) as its
 * _ENV. The function is made from the bytecode once per state and kept
 * in the registry's gen.chunks: undumping it again for every document was
 * most of what a small filter cost. Nothing of one document reaches the
 * next through it: each call makes the chunk's functions and tables
 * anew, and the _ENV they see is the one set here. */
static void push_chunk(lua_State *L, const chunk *ch, int env)
{
	env = lua_absindex(L, env);
	lua_getfield(L, LUA_REGISTRYINDEX, "gen.chunks");
	if (lua_rawgetp(L, -1, ch) != LUA_TFUNCTION) {
		lua_pop(L, 1);
		if (luaL_loadbufferx(L, ch->code, ch->len, ch->path, "b") != LUA_OK)
			lua_error(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, -3, ch);
	}
	lua_remove(L, -2);
	lua_pushvalue(L, env);
	lua_setupvalue(L, -2, 1);
}

/* require("x.y") loads lua/x/y.lua from the snapshot, once per document. */
static int sandbox_require(lua_State *L)
{
	run *c = get_run(L);
	const char *name = luaL_checkstring(L, 1);
	char path[300];
	lua_settop(L, 1);
	lua_getfield(L, LUA_REGISTRYINDEX, "gen.loaded");
	if (lua_getfield(L, 2, name) != LUA_TNIL) {
		if (lua_islightuserdata(L, -1))
			return luaL_error(L, "module '%s' requires itself", name);
		return 1;
	}
	lua_pop(L, 1);
	if (strlen(name) > 200 || strstr(name, "..") || strchr(name, '/'))
		return luaL_error(L, "module '%s' not found: write require(\"name\") for "
				     "lua/name.lua, require(\"a.b\") for lua/a/b.lua", name);
	snprintf(path, sizeof path, "lua/%s.lua", name);
	for (char *p = path + 4; *p; p++)
		if (*p == '.' && strcmp(p, ".lua") != 0)
			*p = '/';
	const chunk *ch = find_chunk(c->fs, path);
	if (!ch)
		return luaL_error(L, "module '%s' not found: no '%s' in the snapshot", name, path);
	if (!ch->code)
		return luaL_error(L, "%s:%d: %s", ch->err.file, ch->err.line, ch->err.msg);
	lua_pushlightuserdata(L, (void *)ch); /* loading: a cycle shows as this */
	lua_setfield(L, 2, name);
	lua_pushglobaltable(L);
	push_chunk(L, ch, -1);
	lua_remove(L, -2);
	lua_call(L, 0, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, 2, name);
	return 1;
}

/* ---- read-only tables: site.config, site.themes ---- */

static int readonly_newindex(lua_State *L)
{
	return luaL_error(L, "site.config is read-only");
}

static int readonly_len(lua_State *L)
{
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "__index");
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
	return 1;
}

/* The iterator of pairs over a read-only table: keys in file order. */
static int readonly_next(lua_State *L)
{
	lua_getmetatable(L, 1);
	int mt = lua_gettop(L);
	lua_getfield(L, mt, "order");
	lua_getfield(L, mt, "pos");
	lua_Integer i = 0;
	if (!lua_isnil(L, 2)) {
		lua_pushvalue(L, 2);
		lua_rawget(L, mt + 2);
		i = lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	if (lua_rawgeti(L, mt + 1, i + 1) == LUA_TNIL)
		return 1;
	lua_getfield(L, mt, "__index");
	lua_pushvalue(L, -2);
	lua_rawget(L, -2);
	lua_remove(L, -2);
	return 2;
}

static int readonly_pairs(lua_State *L)
{
	lua_pushcfunction(L, readonly_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

static void push_value(lua_State *L, const value *v, bool readonly);

/* A read-only view of a table or an array: an empty table whose
 * metatable holds the data, the key order and their positions. */
static void push_readonly(lua_State *L, const value *v)
{
	bool array = value_type_of(v) == VALUE_ARRAY;
	size_t n = value_count(v);
	lua_newtable(L);                          /* the view */
	lua_createtable(L, 0, 8);                 /* its metatable */
	lua_createtable(L, array ? (int)n : 0, array ? 0 : (int)n); /* data */
	lua_createtable(L, (int)n, 0);            /* order */
	lua_createtable(L, 0, (int)n);            /* pos */
	for (size_t i = 0; i < n; i++) {
		if (array)
			lua_pushinteger(L, (lua_Integer)i + 1);
		else
			lua_pushstring(L, value_key_at(v, i, NULL));
		lua_pushvalue(L, -1);
		lua_rawseti(L, -4, (lua_Integer)i + 1);
		lua_pushvalue(L, -1);
		lua_pushinteger(L, (lua_Integer)i + 1);
		lua_rawset(L, -4);
		push_value(L, value_at(v, i), true);
		lua_rawset(L, -5);
	}
	lua_setfield(L, -4, "pos");
	lua_setfield(L, -3, "order");
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, readonly_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, readonly_len);
	lua_setfield(L, -2, "__len");
	lua_pushcfunction(L, readonly_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_pushliteral(L, "read-only");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	/* Remembered: a view outlives the document, so rawset on it is
	 * looked for after each one (views_intact). */
	if (lua_getfield(L, LUA_REGISTRYINDEX, "gen.views") != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, "gen.views");
	}
	lua_pushvalue(L, -2);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 1);
}

/* A value as Lua sees it: tables and arrays as tables, date-times as their
 * text, integers as integers. */
static void push_value(lua_State *L, const value *v, bool readonly)
{
	/* Front matter can nest as deep as YAML lets it. */
	luaL_checkstack(L, 8, "front matter is nested too deeply");
	switch (value_type_of(v)) {
	case VALUE_NULL:
		lua_pushnil(L);
		break;
	case VALUE_TABLE:
	case VALUE_ARRAY: {
		if (readonly) {
			push_readonly(L, v);
			break;
		}
		bool array = value_type_of(v) == VALUE_ARRAY;
		size_t n = value_count(v);
		lua_createtable(L, array ? (int)n : 0, array ? 0 : (int)n);
		for (size_t i = 0; i < n; i++) {
			push_value(L, value_at(v, i), false);
			if (array)
				lua_rawseti(L, -2, (lua_Integer)i + 1);
			else
				lua_setfield(L, -2, value_key_at(v, i, NULL));
		}
		break;
	}
	case VALUE_INTEGER:
		lua_pushinteger(L, value_integer(v));
		break;
	case VALUE_FLOAT:
		lua_pushnumber(L, value_float(v));
		break;
	case VALUE_BOOL:
		lua_pushboolean(L, value_bool(v));
		break;
	default: {
		size_t len;
		const char *s = value_string(v, &len);
		lua_pushlstring(L, s, len);
		break;
	}
	}
}

/* ---- doc.meta: the front matter, where a filter touched it ----
 *
 * Front matter a filter broke is found only once the filter returned
 * (read_meta), by which time Lua no longer knows which line did it. So
 * doc.meta is a stand-in: an empty table whose metatable reads and writes
 * through to the front matter's table (the "data"), and notes where a
 * filter last set each of its keys, and last read one that holds a table
 * (a list changed in place is reached that way). An error then names
 * that line. The notes live in the registry's gen.meta, one table per
 * document:
 *   META_DATA   the front matter's table
 *   META_SET    key -> "file:line" of its last assignment
 *   META_READ   key -> "file:line" where a table under it was last read
 *   META_WHOLE  "file:line" where doc.meta was last replaced whole
 *   META_PROXY  the stand-in itself
 * The notes are the running filter's: read_meta begins them anew. */
enum { META_DATA = 1, META_SET, META_READ, META_WHOLE, META_PROXY, META_LAST };

/* Pushes "file:line" of the Lua code that called the running C function
 * (a metamethod: the line that indexed), or nil when that is not a line
 * of a file. A filter that reads doc.meta in a loop asks from one line
 * again and again: the last place made is kept (META_LAST of the state
 * at st, c->place_*) and given again. */
static void push_caller_place(lua_State *L, int st)
{
	lua_Debug ar;
	if (!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0 ||
	    ar.source[0] != '@') {
		lua_pushnil(L);
		return;
	}
	run *c = get_run(L);
	bool same = c->place_line == ar.currentline && strcmp(c->place_source, ar.source) == 0;
	if (same && lua_rawgeti(L, st, META_LAST) == LUA_TSTRING)
		return;
	if (same)
		lua_pop(L, 1);
	lua_pushfstring(L, "%s:%d", ar.source + 1, ar.currentline);
	lua_pushvalue(L, -1);
	lua_rawseti(L, st, META_LAST);
	size_t n = strlen(ar.source);
	c->place_line = n < sizeof c->place_source ? ar.currentline : 0;
	memcpy(c->place_source, ar.source, n < sizeof c->place_source ? n + 1 : 1);
}

/* Notes the caller's place under the key at kidx in notes[which] of the
 * state at sidx (both absolute), when the key is a string. */
static void note_place(lua_State *L, int sidx, int which, int kidx)
{
	if (lua_type(L, kidx) != LUA_TSTRING)
		return;
	lua_rawgeti(L, sidx, which);
	lua_pushvalue(L, kidx);
	push_caller_place(L, sidx);
	if (lua_isnil(L, -1))
		lua_pop(L, 2);
	else
		lua_rawset(L, -3);
	lua_pop(L, 1);
}

/* Begins the notes in the state at st (absolute) anew, with the value on
 * top of the stack (popped: a place, or nil) as where doc.meta was last
 * replaced whole. */
static void notes_begin(lua_State *L, int st)
{
	lua_rawseti(L, st, META_WHOLE);
	lua_newtable(L);
	lua_rawseti(L, st, META_SET);
	lua_newtable(L);
	lua_rawseti(L, st, META_READ);
}

/* __index of the stand-in: (stand-in, key). */
static int meta_get(lua_State *L)
{
	int st = lua_upvalueindex(1);
	lua_rawgeti(L, st, META_DATA);
	lua_pushvalue(L, 2);
	if (lua_gettable(L, -2) == LUA_TTABLE) {
		get_run(L)->meta_escaped = true;
		note_place(L, st, META_READ, 2);
	}
	return 1;
}

/* __newindex of the stand-in: (stand-in, key, value). */
static int meta_set(lua_State *L)
{
	int st = lua_upvalueindex(1);
	run *c = get_run(L);
	c->meta_set = true;
	c->meta_escaped = c->meta_escaped || lua_istable(L, 3);
	note_place(L, st, META_SET, 2);
	lua_rawgeti(L, st, META_DATA);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_settable(L, -3);
	return 0;
}

static int meta_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

/* __pairs: the data's keys, as pairs on a plain table gives them. */
static int meta_pairs(lua_State *L)
{
	lua_pushcfunction(L, meta_next);
	lua_rawgeti(L, lua_upvalueindex(1), META_DATA);
	lua_pushnil(L);
	return 3;
}

static int meta_len(lua_State *L)
{
	lua_rawgeti(L, lua_upvalueindex(1), META_DATA);
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
	return 1;
}

/* Empties the table at idx (absolute) without its metamethods. */
static void clear_raw(lua_State *L, int idx)
{
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_pushnil(L);
		lua_rawset(L, idx);
	}
}

/* __index of doc: (doc, key); only meta is not doc's own. */
static int doc_get(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "meta") == 0)
		lua_rawgeti(L, lua_upvalueindex(1), META_PROXY);
	else
		lua_pushnil(L);
	return 1;
}

/* __newindex of doc: (doc, key, value). A new doc.meta replaces the
 * data; the stand-in stays, so a filter that kept it sees the new one. */
static int doc_set(lua_State *L)
{
	int st = lua_upvalueindex(1);
	if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "meta") != 0) {
		lua_rawset(L, 1);
		return 0;
	}
	lua_rawgeti(L, st, META_PROXY);
	if (lua_rawequal(L, 3, -1))
		return 0;
	if (!lua_istable(L, 3))
		return luaL_error(L, "doc.meta must be a table, not a %s", luaL_typename(L, 3));
	get_run(L)->meta_escaped = true;
	/* What rawset put on the stand-in was the old table's. */
	clear_raw(L, lua_gettop(L));
	lua_pushvalue(L, 3);
	lua_rawseti(L, st, META_DATA);
	push_caller_place(L, st);
	notes_begin(L, st);
	return 0;
}

/* Makes the table at docidx (absolute) hold the front matter at the top
 * of the stack (popped) as doc.meta, behind the stand-in. */
static void meta_open(lua_State *L, int docidx)
{
	lua_createtable(L, 5, 0);
	lua_insert(L, -2);
	int st = lua_gettop(L) - 1;
	lua_rawseti(L, st, META_DATA);
	lua_pushnil(L);
	notes_begin(L, st);
	lua_newtable(L); /* the stand-in */
	lua_createtable(L, 0, 5);
	static const luaL_Reg proxy[] = {
		{ "__index", meta_get }, { "__newindex", meta_set }, { "__pairs", meta_pairs },
		{ "__len", meta_len },   { NULL, NULL },
	};
	lua_pushvalue(L, st);
	luaL_setfuncs(L, proxy, 1);
	lua_pushliteral(L, "doc.meta");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_rawseti(L, st, META_PROXY);
	lua_createtable(L, 0, 3);
	static const luaL_Reg docm[] = { { "__index", doc_get }, { "__newindex", doc_set },
					 { NULL, NULL } };
	lua_pushvalue(L, st);
	luaL_setfuncs(L, docm, 1);
	lua_setmetatable(L, docidx);
	lua_setfield(L, LUA_REGISTRYINDEX, "gen.meta");
}

/* Where the running filter last set key of doc.meta (else last read a
 * table under it, else replaced doc.meta whole), pushed: "file:line" or
 * nil. key may be NULL. */
static void push_meta_place(lua_State *L, const char *key)
{
	lua_getfield(L, LUA_REGISTRYINDEX, "gen.meta");
	int st = lua_gettop(L);
	lua_pushnil(L);
	for (int which = META_SET; key && which <= META_READ && lua_isnil(L, -1); which++) {
		lua_pop(L, 1);
		lua_rawgeti(L, st, which);
		lua_getfield(L, -1, key);
		lua_remove(L, -2);
	}
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_rawgeti(L, st, META_WHOLE);
	}
	lua_remove(L, st);
}

/* Raises a problem with doc.meta (key: its top-level key, or NULL) as
 * "file:line: message", blamed on where the running filter touched that
 * key, or on the filter itself when that is not known. */
static int meta_fail(lua_State *L, run *c, const char *key, const char *fmt, ...)
{
	va_list ap;
	push_meta_place(L, key);
	const char *place = lua_isstring(L, -1) ? lua_tostring(L, -1) : c->current;
	lua_pushfstring(L, "%s: ", place);
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_concat(L, 2);
	return lua_error(L);
}

/* ---- doc.meta back to front matter ---- */

/* Converts the Lua value at idx and attaches it to parent (pushed to an
 * array, or set at key). Containers are attached before they are filled,
 * so that all of it hangs from c->building whatever raises. hint is the
 * value that was there before: it keeps date-times date-times and tells
 * an empty table from an empty list. */
static void attach_value(lua_State *L, run *c, int idx, value *parent, const char *key,
			 const value *hint, char *path, int depth);

static void put_child(value *parent, const char *key, value *child)
{
	if (key)
		value_set_cstr(parent, key, child);
	else
		value_push(parent, child);
}

/* Sorts the strings of the Lua array at idx (insertion sort: front
 * matter has few keys). */
static void sort_strings(lua_State *L, int idx)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
	for (lua_Integer i = 2; i <= n; i++) {
		for (lua_Integer j = i; j > 1; j--) {
			lua_rawgeti(L, idx, j - 1);
			lua_rawgeti(L, idx, j);
			bool swap = strcmp(lua_tostring(L, -2), lua_tostring(L, -1)) > 0;
			if (!swap) {
				lua_pop(L, 2);
				break;
			}
			lua_rawseti(L, idx, j - 1);
			lua_rawseti(L, idx, j);
		}
	}
}

static void fill_table(lua_State *L, run *c, int idx, value *t, const value *hint,
		       char *path, int depth)
{
	size_t pl = strlen(path);
	/* Keys the table had keep their place; new ones follow, sorted. */
	for (size_t i = 0; hint && i < value_count(hint); i++) {
		const char *k = value_key_at(hint, i, NULL);
		if (lua_getfield(L, idx, k) != LUA_TNIL) {
			snprintf(path + pl, 256 - pl, ".%s", k);
			if (depth == 0)
				c->meta_key = k;
			attach_value(L, c, lua_gettop(L), t, k, value_at(hint, i), path, depth + 1);
			path[pl] = '\0';
		}
		lua_pop(L, 1);
	}
	lua_newtable(L);
	int fresh = lua_gettop(L);
	lua_Integer n = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		/* lua_tostring would turn a number key into a string in
		 * place, which lua_next cannot follow. */
		if (lua_type(L, -1) != LUA_TSTRING)
			meta_fail(L, c, depth ? c->meta_key : NULL,
				  "doc.meta%s has a key that is not a string", path);
		if (!value_get(hint, lua_tostring(L, -1))) {
			lua_pushvalue(L, -1);
			lua_rawseti(L, fresh, ++n);
		}
	}
	sort_strings(L, fresh);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, fresh, i);
		const char *k = lua_tostring(L, -1);
		lua_pushvalue(L, -1);
		lua_rawget(L, idx);
		snprintf(path + pl, 256 - pl, ".%s", k);
		if (depth == 0)
			c->meta_key = k;
		attach_value(L, c, lua_gettop(L), t, k, NULL, path, depth + 1);
		path[pl] = '\0';
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
}

static void attach_value(lua_State *L, run *c, int idx, value *parent, const char *key,
			 const value *hint, char *path, int depth)
{
	int t = lua_type(L, idx);
	if (depth > MAX_DEPTH)
		meta_fail(L, c, c->meta_key,
			  "doc.meta%s is nested too deeply (a table inside itself?)", path);
	luaL_checkstack(L, 8, "doc.meta is nested too deeply");
	if (t == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		size_t hl;
		const char *hs = value_is_datetime(hint) ? value_string(hint, &hl) : NULL;
		put_child(parent, key, hs && hl == len && memcmp(hs, s, len) == 0
					       ? value_copy(hint)
					       : value_new_string(s, len));
	} else if (t == LUA_TNUMBER) {
		put_child(parent, key, lua_isinteger(L, idx) ? value_new_integer(lua_tointeger(L, idx))
							     : value_new_float(lua_tonumber(L, idx)));
	} else if (t == LUA_TBOOLEAN) {
		put_child(parent, key, value_new_bool(lua_toboolean(L, idx)));
	} else if (t == LUA_TTABLE && !to_node(L, idx)) {
		/* A list has exactly the keys 1..n; a table only strings. */
		lua_Integer count = 0, strings = 0, max = 0;
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			lua_pop(L, 1);
			count++;
			if (lua_type(L, -1) == LUA_TSTRING)
				strings++;
			else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > max)
				max = lua_tointeger(L, -1);
		}
		bool array = count ? strings == 0 && max == count
				   : value_type_of(hint) != VALUE_TABLE;
		if (count && !array && strings != count)
			meta_fail(L, c, c->meta_key, "doc.meta%s mixes list items and named keys",
				  path);
		value *v = array ? value_new_array() : value_new_table();
		put_child(parent, key, v);
		if (array) {
			size_t pl = strlen(path);
			for (lua_Integer i = 1; i <= count; i++) {
				lua_rawgeti(L, idx, i);
				snprintf(path + pl, 256 - pl, "[%lld]", (long long)i);
				const value *h = value_type_of(hint) == VALUE_ARRAY
							 ? value_at(hint, (size_t)i - 1)
							 : NULL;
				attach_value(L, c, lua_gettop(L), v, NULL, h, path, depth + 1);
				path[pl] = '\0';
				lua_pop(L, 1);
			}
		} else {
			fill_table(L, c, idx, v, value_type_of(hint) == VALUE_TABLE ? hint : NULL,
				   path, depth);
		}
	} else {
		meta_fail(L, c, c->meta_key, "doc.meta%s is a %s, which front matter cannot hold",
			  path, luaL_typename(L, idx));
	}
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

static bool all_strings(const value *v)
{
	if (value_type_of(v) != VALUE_ARRAY)
		return false;
	for (size_t i = 0; i < value_count(v); i++)
		if (value_type_of(value_at(v, i)) != VALUE_STRING)
			return false;
	return true;
}

/* The rules frontmatter applies to the keys gen knows; NULL when meta
 * keeps them, else what is wrong, and in *key the key it is wrong with. */
static const char *meta_problem(const value *meta, const char **key)
{
	const value *v = value_get(meta, *key = "title");
	if (!v || value_type_of(v) != VALUE_STRING || blank(value_string(v, NULL)))
		return "doc.meta.title must be a non-empty string";
	if ((v = value_get(meta, *key = "kind"))) {
		const char *k = value_string(v, NULL);
		if (value_type_of(v) != VALUE_STRING ||
		    (strcmp(k, "story") && strcmp(k, "tips") && strcmp(k, "page")))
			return "doc.meta.kind must be \"story\", \"tips\" or \"page\"";
	}
	if ((v = value_get(meta, *key = "date"))) {
		size_t n;
		const char *s = value_string(v, &n);
		value_datetime dt;
		if ((value_type_of(v) != VALUE_STRING && !value_is_datetime(v)) ||
		    value_datetime_parse(s, n, &dt) < 0 || !dt.has_date)
			return "doc.meta.date must be a date (\"2015-03-12\")";
	}
	if ((v = value_get(meta, *key = "author")) && value_type_of(v) != VALUE_STRING)
		return "doc.meta.author must be a string";
	if ((v = value_get(meta, *key = "summary")) && value_type_of(v) != VALUE_STRING)
		return "doc.meta.summary must be a string";
	if ((v = value_get(meta, *key = "themes")) && !all_strings(v))
		return "doc.meta.themes must be a list of strings";
	if ((v = value_get(meta, *key = "aliases")) && !all_strings(v))
		return "doc.meta.aliases must be a list of strings";
	if ((v = value_get(meta, *key = "draft")) && value_type_of(v) != VALUE_BOOL)
		return "doc.meta.draft must be true or false";
	if ((v = value_get(meta, *key = "weight")) && value_type_of(v) != VALUE_INTEGER)
		return "doc.meta.weight must be an integer";
	return NULL;
}

/* Reads doc.meta back after a filter, so that a broken edit is blamed on
 * the filter that made it. */
static void read_meta(lua_State *L, run *c, int docidx)
{
	char path[256] = "";
	lua_getfield(L, LUA_REGISTRYINDEX, "gen.meta");
	int st = lua_gettop(L);
	/* doc.meta set with rawset passes the stand-in by. */
	if (lua_getfield(L, docidx, "meta") != LUA_TTABLE)
		luaL_error(L, "%s: doc.meta must be a table, not a %s", c->current,
			   luaL_typename(L, -1));
	lua_rawgeti(L, st, META_PROXY);
	if (!lua_rawequal(L, -1, -2)) {
		/* The table is the data from now on, behind the stand-in
		 * again for the filters after this one. */
		c->meta_escaped = true;
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_rawseti(L, st, META_DATA);
		lua_pushliteral(L, "meta");
		lua_pushnil(L);
		lua_rawset(L, docidx);
	} else {
		/* Nothing set, and nothing put on the stand-in with rawset:
		 * nothing to read back. */
		lua_pushnil(L);
		bool raw = lua_next(L, -2) != 0;
		lua_pop(L, raw ? 3 : 1);
		if (!raw && !c->meta_set && !c->meta_escaped) {
			lua_settop(L, st - 1);
			return;
		}
	}
	lua_pop(L, 1);
	lua_rawgeti(L, st, META_DATA);
	int data = lua_gettop(L);
	/* Keys put on the stand-in with rawset belong to the data too. */
	lua_rawgeti(L, st, META_PROXY);
	int proxy = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, proxy)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, data);
	}
	clear_raw(L, proxy);
	lua_pop(L, 1);
	value_free(c->building);
	c->building = value_new_table();
	c->meta_key = NULL;
	fill_table(L, c, data, c->building, c->d->fm.meta, path, 0);
	c->meta_key = NULL;
	const char *key;
	const char *problem = meta_problem(c->building, &key);
	if (problem)
		meta_fail(L, c, key, "%s", problem);
	value_free(c->meta);
	c->meta = c->building;
	c->building = NULL;
	/* The next filter's touches are its own. */
	c->meta_set = false;
	lua_pushnil(L);
	notes_begin(L, st);
	lua_settop(L, st - 1);
}

static bool value_equal(const value *a, const value *b)
{
	value_type t = value_type_of(a);
	if (t != value_type_of(b))
		return false;
	switch (t) {
	case VALUE_NULL:
		return true;
	case VALUE_INTEGER:
		return value_integer(a) == value_integer(b);
	case VALUE_FLOAT:
		return value_float(a) == value_float(b);
	case VALUE_BOOL:
		return value_bool(a) == value_bool(b);
	case VALUE_TABLE:
	case VALUE_ARRAY:
		if (value_count(a) != value_count(b))
			return false;
		for (size_t i = 0; i < value_count(a); i++) {
			if (t == VALUE_TABLE &&
			    strcmp(value_key_at(a, i, NULL), value_key_at(b, i, NULL)) != 0)
				return false;
			if (!value_equal(value_at(a, i), value_at(b, i)))
				return false;
		}
		return true;
	default: {
		size_t la, lb;
		const char *sa = value_string(a, &la), *sb = value_string(b, &lb);
		return la == lb && memcmp(sa, sb, la) == 0;
	}
	}
}

static char *dup_string(const value *meta, const char *key)
{
	const value *v = value_get(meta, key);
	return v ? xstrdup(value_string(v, NULL)) : NULL;
}

static void dup_strings(const value *meta, const char *key, char ***out, size_t *n)
{
	const value *v = value_get(meta, key);
	*n = v ? value_count(v) : 0;
	*out = *n ? xcalloc(*n, sizeof **out) : NULL;
	for (size_t i = 0; i < *n; i++)
		(*out)[i] = xstrdup(value_string(value_at(v, i), NULL));
}

static void free_strings(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

/* Copies checked front matter (meta_problem said yes) into the typed
 * fields; fm takes meta. */
static void apply_meta(frontmatter *fm, value *meta)
{
	const value *v;
	free(fm->title);
	fm->title = dup_string(meta, "title");
	v = value_get(meta, "kind");
	fm->kind = !v ? KIND_PAGE
		   : !strcmp(value_string(v, NULL), "story") ? KIND_STORY
		   : !strcmp(value_string(v, NULL), "tips") ? KIND_TIPS : KIND_PAGE;
	free(fm->date);
	fm->date = NULL;
	fm->date_epoch = 0;
	if ((v = value_get(meta, "date"))) {
		size_t n;
		const char *s = value_string(v, &n);
		value_datetime dt;
		value_datetime_parse(s, n, &dt);
		fm->date = xstrdup(s);
		fm->date_epoch = value_datetime_epoch(&dt);
	}
	free(fm->author);
	fm->author = dup_string(meta, "author");
	free(fm->summary);
	fm->summary = dup_string(meta, "summary");
	free_strings(fm->themes, fm->nthemes);
	dup_strings(meta, "themes", &fm->themes, &fm->nthemes);
	free_strings(fm->aliases, fm->naliases);
	dup_strings(meta, "aliases", &fm->aliases, &fm->naliases);
	v = value_get(meta, "draft");
	fm->draft = v && value_bool(v);
	v = value_get(meta, "weight");
	fm->weight = v ? value_integer(v) : 0;
	value_free(fm->meta);
	fm->meta = meta;
}

/* ---- doc:tag ---- */

static bool is_passage(markdown_node_type t)
{
	return t == MARKDOWN_NODE_PARAGRAPH || t == MARKDOWN_NODE_HEADING ||
	       t == MARKDOWN_NODE_CODE_BLOCK || t == MARKDOWN_NODE_TABLE_ROW;
}

/* The passage that shows a tag: the paragraph, heading, code block or
 * table row at or around n; for a container, the first one inside. */
static markdown_node *passage_of(markdown_node *n)
{
	for (markdown_node *p = n; p; p = markdown_node_parent(p))
		if (is_passage(markdown_node_type_of(p)))
			return p;
	markdown_node *p = markdown_node_first_child(n);
	while (p) {
		if (is_passage(markdown_node_type_of(p)))
			return p;
		if (markdown_node_first_child(p)) {
			p = markdown_node_first_child(p);
			continue;
		}
		while (p && p != n && !markdown_node_next(p))
			p = markdown_node_parent(p);
		p = p && p != n ? markdown_node_next(p) : NULL;
	}
	return NULL;
}

static bool closing_mark(const char *s)
{
	return *s == '"' || *s == '\'' || *s == ')' ||
	       !strncmp(s, "\xE2\x80\x9D", 3) || !strncmp(s, "\xE2\x80\x99", 3) ||
	       !strncmp(s, "\xC2\xBB", 2);
}

/* Appends the sentence of text holding note (the first sentence without
 * a note, or when it is not there), at most EXCERPT_MAX bytes, cut at a
 * space with an ellipsis. */
static void excerpt(buf *out, const char *text, const char *note)
{
	const char *at = note && *note ? strstr(text, note) : NULL;
	const char *start = text, *p = text;
	for (;;) {
		/* The end of the sentence that starts at start: . ! ? or an
		 * ellipsis (U+2026). A byte at a time, as this runs over every
		 * passage a theme marks. */
		while (*p && *p != '.' && *p != '!' && *p != '?' &&
		       !(p[0] == '\xE2' && p[1] == '\x80' && p[2] == '\xA6'))
			p++;
		if (!*p)
			break;
		p += *p == '\xE2' ? 3 : 1;
		while (*p && closing_mark(p))
			p += (unsigned char)*p < 0x80 ? 1 : *p == '\xC2' ? 2 : 3;
		if (*p && *p != ' ')
			continue;
		if (!at || at < p)
			break;
		while (*p == ' ')
			p++;
		start = p;
	}
	size_t len = (size_t)(p - start);
	size_t from = 0;
	if (at && at >= start && (size_t)(at - start) + strlen(note) > EXCERPT_MAX) {
		/* Keep the note in view: start a while before it. */
		from = (size_t)(at - start) - EXCERPT_MAX / 3;
		while (from < len && start[from] != ' ')
			from++;
		buf_puts(out, "\xE2\x80\xA6");
	}
	if (len - from > EXCERPT_MAX) {
		size_t cut = from + EXCERPT_MAX;
		while (cut > from && start[cut] != ' ')
			cut--;
		buf_put(out, start + from, (cut > from ? cut : from + EXCERPT_MAX) - from);
		while (out->len && out->ptr[out->len - 1] == ' ')
			buf_truncate(out, out->len - 1);
		buf_puts(out, "\xE2\x80\xA6");
		return;
	}
	while (from < len && start[from] == ' ')
		from++;
	buf_put(out, start + from, len - from);
}

/* Length of the double quotation mark s starts with, 0 when none; *open
 * says whether it opens (“ „) or closes (”); '"' does both. Single marks
 * are left alone: ’ is the Dutch apostrophe too (auto’s). */
static size_t quote_at(const char *s, size_t n, bool *open)
{
	*open = true;
	if (n >= 1 && *s == '"')
		return 1;
	if (n >= 3 && (!strncmp(s, "\xE2\x80\x9C", 3) || !strncmp(s, "\xE2\x80\x9E", 3)))
		return 3;
	*open = false;
	if (n >= 3 && !strncmp(s, "\xE2\x80\x9D", 3))
		return 3;
	return 0;
}

/* Takes the quotation marks off an excerpt that is one quote, or whose
 * other mark stayed behind in the passage: templates quote it themselves.
 * A mark that pairs with one inside stays. */
static void unquote(buf *b)
{
	bool open;
	size_t lead = quote_at(b->ptr, b->len, &open);
	if (!open)
		lead = 0;
	size_t trail = 0;
	if (b->len > lead && b->ptr[b->len - 1] == '"')
		trail = 1;
	else if (b->len >= lead + 3 && quote_at(b->ptr + b->len - 3, 3, &open) == 3 && !open)
		trail = 3;
	if (!lead && !trail)
		return;
	size_t opens = 0, closes = 0, plain = 0;
	for (size_t i = lead; i + trail < b->len;) {
		size_t q = quote_at(b->ptr + i, b->len - trail - i, &open);
		if (q == 1)
			plain++;
		else if (q == 3)
			open ? opens++ : closes++;
		i += q ? q : 1;
	}
	bool ok = plain == 0 && (lead && trail ? opens == closes
				 : trail ? opens <= closes : closes <= opens);
	if (!ok)
		return;
	buf_truncate(b, b->len - trail);
	memmove(b->ptr, b->ptr + lead, b->len - lead + 1);
	b->len -= lead;
}

static bool has_class(const char *classes, const char *cls)
{
	size_t n = strlen(cls);
	for (const char *p = classes; (p = strstr(p, cls)); p += n)
		if ((p == classes || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* doc:tag(theme, node [, note]) -> the anchor of the marked passage */
static int doc_tag(lua_State *L)
{
	run *c = get_run(L);
	int base = lua_istable(L, 1) ? 1 : 0; /* doc:tag or doc.tag */
	const char *theme = luaL_checkstring(L, base + 1);
	markdown_node *n = check_node(L, base + 2);
	const char *note = luaL_optstring(L, base + 3, NULL);

	if (!config_theme_find(c->cfg, theme))
		return luaL_error(L, "doc:tag: unknown theme '%s' (site.toml has no [themes.%s])",
				  theme, theme);
	markdown_node *p = passage_of(n);
	if (!p)
		return luaL_error(L, "doc:tag: there is no passage to mark in this %s", tname(n));
	size_t count = 0;
	for (size_t i = 0; i < c->nev; i++) {
		if (strcmp(c->ev[i].theme, theme) != 0)
			continue;
		if (c->ev_passage[i] == p) {
			lua_pushstring(L, c->ev[i].anchor);
			return 1;
		}
		count++;
	}
	/* A row reads as its cells, told apart; anything else as its text,
	 * most likely known already. */
	bool row = markdown_node_type_of(p) == MARKDOWN_NODE_TABLE_ROW;
	const char *text = NULL;
	if (!row) {
		push_text(L, c, p);
		text = lua_tostring(L, -1);
	}
	charge(L, c, 2 * EXCERPT_MAX + strlen(theme) + 64);

	/* From here on no Lua call until the evidence is stored. */
	buf anchor = BUF_INIT, cls = BUF_INIT;
	if (*markdown_node_id(p)) {
		buf_puts(&anchor, markdown_node_id(p));
	} else {
		buf_printf(&anchor, "bewijs-%s-%zu", theme, count + 1);
		markdown_node_set_attr(c->md, p, anchor.ptr, NULL);
	}
	if (!has_class(markdown_node_class(p), "evidence")) {
		buf_puts(&cls, markdown_node_class(p));
		if (cls.len)
			buf_putc(&cls, ' ');
		buf_puts(&cls, "evidence");
		markdown_node_set_attr(c->md, p, NULL, cls.ptr);
	}
	buf_release(&cls);
	if (c->nev == c->cap_ev) {
		c->cap_ev = c->cap_ev ? 2 * c->cap_ev : 16;
		c->ev = xrealloc(c->ev, c->cap_ev * sizeof *c->ev);
		c->ev_passage = xrealloc(c->ev_passage, c->cap_ev * sizeof *c->ev_passage);
	}
	document_evidence *e = &c->ev[c->nev];
	c->ev_passage[c->nev++] = p;
	if (row) {
		buf_clear(&c->scratch);
		for (markdown_node *cell = markdown_node_first_child(p); cell;
		     cell = markdown_node_next(cell)) {
			if (c->scratch.len)
				buf_puts(&c->scratch, " | ");
			markdown_node_text(cell, &c->scratch);
		}
		text = c->scratch.ptr ? c->scratch.ptr : "";
	}
	buf ex = BUF_INIT;
	excerpt(&ex, text, note);
	unquote(&ex);
	e->theme = xstrdup(theme);
	e->line = markdown_node_line(c->md, p);
	e->excerpt = buf_detach(&ex);
	e->anchor = buf_detach(&anchor);
	e->note = note ? xstrdup(note) : NULL;

	lua_pushstring(L, e->anchor);
	return 1;
}

/* doc:tags() -> { {theme=, line=, excerpt=, anchor=, note=}, ... } */
static int doc_tags(lua_State *L)
{
	run *c = get_run(L);
	lua_createtable(L, (int)c->nev, 0);
	for (size_t i = 0; i < c->nev; i++) {
		lua_createtable(L, 0, 5);
		lua_pushstring(L, c->ev[i].theme);
		lua_setfield(L, -2, "theme");
		lua_pushinteger(L, c->ev[i].line);
		lua_setfield(L, -2, "line");
		lua_pushstring(L, c->ev[i].excerpt);
		lua_setfield(L, -2, "excerpt");
		lua_pushstring(L, c->ev[i].anchor);
		lua_setfield(L, -2, "anchor");
		push_string_or_nil(L, c->ev[i].note);
		lua_setfield(L, -2, "note");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* ---- string patterns, on the budget ----
 *
 * string.find, match, gmatch and gsub as Lua 5.4 has them, matched by
 * pattern.c, whose steps count against the instruction budget: Lua's own
 * matcher runs where the count hook never looks, so one backtracking
 * pattern could hold the build for ever. What they return, and when they
 * fail, is Lua's (tests/pattern.c holds them to the library's own). */

static void where_called(lua_State *L, run *c)
{
	lua_Debug ar;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
		snprintf(c->where, sizeof c->where, "%s:%d", ar.short_src, ar.currentline);
}

/* One match attempt, its steps charged to the budget; an error (a
 * malformed pattern, the budget spent) is raised here. */
static ptrdiff_t budget_match(lua_State *L, pattern_state *ms, size_t at, size_t from)
{
	run *c = get_run(L);
	int64_t left = c->budget - c->steps;
	ms->steps = 0;
	ms->limit = left > 0 ? left : 0;
	ptrdiff_t e = pattern_match(ms, at, from);
	c->steps += ms->steps;
	if (ms->status == PATTERN_SPENT) {
		/* As the count hook says it: the place, then what happened. */
		where_called(L, c);
		lua_pushfstring(L, "%s: instruction budget of %I exceeded in a string pattern "
				   "(one that backtracks? site.toml [filter] instructions)",
				c->where[0] ? c->where : c->current, (lua_Integer)c->budget);
		lua_error(L);
	} else if (ms->status != PATTERN_OK) {
		luaL_error(L, "%s", ms->message);
	}
	return e;
}

/* Lua's reading of a start position: 1-based, negative from the end. */
static size_t start_of(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	if (pos == 0 || pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

/* Capture i of the match s..e: the whole match when there are none. */
static void push_capture(lua_State *L, const pattern_state *ms, int i, size_t s, size_t e)
{
	if (i >= ms->level) {
		if (i != 0)
			luaL_error(L, "invalid capture index %%%d", i + 1);
		lua_pushlstring(L, ms->subject + s, e - s);
		return;
	}
	const pattern_capture *cap = &ms->capture[i];
	if (cap->len == PATTERN_OPEN)
		luaL_error(L, "unfinished capture");
	else if (cap->len == PATTERN_POSITION)
		lua_pushinteger(L, (lua_Integer)cap->start + 1);
	else
		lua_pushlstring(L, ms->subject + cap->start, (size_t)cap->len);
}

/* Every capture, or the whole match when there are none and whole. */
static int push_captures(lua_State *L, const pattern_state *ms, size_t s, size_t e, bool whole)
{
	int n = ms->level == 0 && whole ? 1 : ms->level;
	luaL_checkstack(L, n, "too many captures");
	for (int i = 0; i < n; i++)
		push_capture(L, ms, i, s, e);
	return n;
}

static int find_or_match(lua_State *L, bool find)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_of(luaL_optinteger(L, 3, 1), ls) - 1;
	if (init > ls) {
		luaL_pushfail(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || pattern_is_plain(p, lp))) {
		/* Plain text: no backtracking to budget. */
		for (size_t at = init; lp <= ls - at; at++) {
			if (memcmp(s + at, p, lp) == 0) {
				lua_pushinteger(L, (lua_Integer)at + 1);
				lua_pushinteger(L, (lua_Integer)(at + lp));
				return 2;
			}
			const char *next = lp ? memchr(s + at + 1, p[0], ls - at - 1) : NULL;
			if (!next)
				break;
			at = (size_t)(next - s) - 1;
		}
		luaL_pushfail(L);
		return 1;
	}
	pattern_state ms;
	pattern_begin(&ms, s, ls, p, lp, 0);
	bool anchor = lp && p[0] == '^';
	size_t from = anchor ? 1 : 0;
	for (size_t at = init; at <= ls; at++) {
		ptrdiff_t e = budget_match(L, &ms, at, from);
		if (e >= 0) {
			if (!find)
				return push_captures(L, &ms, at, (size_t)e, true);
			lua_pushinteger(L, (lua_Integer)at + 1);
			lua_pushinteger(L, (lua_Integer)e);
			return push_captures(L, &ms, at, (size_t)e, false) + 2;
		}
		if (anchor)
			break;
	}
	luaL_pushfail(L);
	return 1;
}

static int str_find(lua_State *L)
{
	return find_or_match(L, true);
}

static int str_match(lua_State *L)
{
	return find_or_match(L, false);
}

/* gmatch's iterator: upvalues subject, pattern, where to look next and
 * where the last match ended (-1: none yet), so that an empty match
 * right after another is passed over. */
static int gmatch_next(lua_State *L)
{
	size_t ls, lp;
	const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
	const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
	lua_Integer src = lua_tointeger(L, lua_upvalueindex(3));
	lua_Integer last = lua_tointeger(L, lua_upvalueindex(4));
	pattern_state ms;
	pattern_begin(&ms, s, ls, p, lp, 0);
	for (size_t at = (size_t)src; at <= ls; at++) {
		ptrdiff_t e = budget_match(L, &ms, at, 0);
		if (e >= 0 && e != last) {
			lua_pushinteger(L, e);
			lua_copy(L, -1, lua_upvalueindex(3));
			lua_replace(L, lua_upvalueindex(4));
			return push_captures(L, &ms, at, (size_t)e, true);
		}
	}
	return 0;
}

static int str_gmatch(lua_State *L)
{
	size_t ls;
	luaL_checklstring(L, 1, &ls);
	luaL_checkstring(L, 2);
	size_t init = start_of(luaL_optinteger(L, 3, 1), ls) - 1;
	if (init > ls)
		init = ls + 1;
	lua_settop(L, 2);
	lua_pushinteger(L, (lua_Integer)init);
	lua_pushinteger(L, -1);
	lua_pushcclosure(L, gmatch_next, 4);
	return 1;
}

/* gsub's replacement string for the match s..e: %0 to %9 and %%. */
static void add_replacement(lua_State *L, luaL_Buffer *b, const pattern_state *ms, size_t s,
			    size_t e)
{
	size_t l;
	const char *r = lua_tolstring(L, 3, &l);
	const char *end = r + l, *esc;
	while ((esc = memchr(r, '%', (size_t)(end - r))) != NULL) {
		luaL_addlstring(b, r, (size_t)(esc - r));
		int c = esc + 1 < end ? (unsigned char)esc[1] : '\0';
		if (c == '%') {
			luaL_addchar(b, '%');
		} else if (c == '0') {
			luaL_addlstring(b, ms->subject + s, e - s);
		} else if (c >= '1' && c <= '9') {
			push_capture(L, ms, c - '1', s, e);
			luaL_tolstring(L, -1, NULL);
			lua_remove(L, -2);
			luaL_addvalue(b);
		} else {
			luaL_error(L, "invalid use of '%%' in replacement string");
		}
		r = esc + 2;
	}
	luaL_addlstring(b, r, (size_t)(end - r));
}

/* Adds what replaces the match s..e; returns whether it differs from it
 * (a function or table that gives false or nil keeps the match). */
static bool add_value(lua_State *L, luaL_Buffer *b, const pattern_state *ms, size_t s,
		      size_t e, int tr)
{
	if (tr == LUA_TFUNCTION) {
		lua_pushvalue(L, 3);
		int n = push_captures(L, ms, s, e, true);
		lua_call(L, n, 1);
	} else if (tr == LUA_TTABLE) {
		push_capture(L, ms, 0, s, e);
		lua_gettable(L, 3);
	} else {
		add_replacement(L, b, ms, s, e);
		return true;
	}
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		luaL_addlstring(b, ms->subject + s, e - s);
		return false;
	}
	if (!lua_isstring(L, -1))
		luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	luaL_addvalue(b);
	return true;
}

static int str_gsub(lua_State *L)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	int tr = lua_type(L, 3);
	lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
	luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
				    tr == LUA_TTABLE,
			 3, "string/function/table");
	bool anchor = lp && p[0] == '^';
	size_t from = anchor ? 1 : 0;
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	pattern_state ms;
	pattern_begin(&ms, s, ls, p, lp, 0);
	size_t at = 0;
	ptrdiff_t last = -1;
	lua_Integer n = 0;
	bool changed = false;
	while (n < max) {
		ptrdiff_t e = budget_match(L, &ms, at, from);
		if (e >= 0 && e != last) {
			n++;
			changed = add_value(L, &b, &ms, at, (size_t)e, tr) || changed;
			at = (size_t)e;
			last = e;
		} else if (at < ls) {
			luaL_addchar(&b, s[at++]);
		} else {
			break;
		}
		if (anchor)
			break;
	}
	if (!changed) {
		lua_pushvalue(L, 1);
	} else {
		luaL_addlstring(&b, s + at, ls - at);
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n);
	return 2;
}

/* Puts the budgeted matchers in the string table at the top. */
static void budget_patterns(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "find", str_find },   { "match", str_match }, { "gmatch", str_gmatch },
		{ "gsub", str_gsub },   { NULL, NULL },
	};
	luaL_setfuncs(L, fns, 0);
}

/* ---- the sandbox ---- */

static void open_lib(lua_State *L, const char *name, lua_CFunction open)
{
	luaL_requiref(L, name, open, 1);
	lua_pop(L, 1);
}

static void set_global_nil(lua_State *L, const char *name)
{
	lua_pushnil(L);
	lua_setglobal(L, name);
}

static void new_metatables(lua_State *L)
{
	static const luaL_Reg node_mt[] = {
		{ "__index", node_index },
		{ "__newindex", node_newindex },
		{ "__eq", node_eq },
		{ "__tostring", node_tostring },
		{ NULL, NULL },
	};
	run *c = get_run(L);
	luaL_newmetatable(L, NODE_MT);
	c->node_mt = lua_topointer(L, -1);
	lua_pushvalue(L, -1);
	c->ref_node_mt = luaL_ref(L, LUA_REGISTRYINDEX);
	/* Slots for the nodes' and the texts' tables, filled for each
	 * document. */
	lua_pushboolean(L, 0);
	c->ref_nodes = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushboolean(L, 0);
	c->ref_texts = luaL_ref(L, LUA_REGISTRYINDEX);
	luaL_setfuncs(L, node_mt, 0);
	lua_pushliteral(L, "gen.node");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);

	luaL_newmetatable(L, MATCHER_MT);
	c->matcher_mt = lua_topointer(L, -1);
	lua_pushcfunction(L, matcher_gc);
	lua_setfield(L, -2, "__gc");
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, matcher_matches);
	lua_setfield(L, -2, "matches");
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "gen.matcher");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
}

static void open_gen(lua_State *L)
{
	static const luaL_Reg gen[] = {
		{ "Text", gen_text },
		{ "Code", gen_code },
		{ "SoftBreak", gen_soft_break },
		{ "LineBreak", gen_line_break },
		{ "Emph", gen_emph },
		{ "Strong", gen_strong },
		{ "Span", gen_span },
		{ "Link", gen_link },
		{ "Image", gen_image },
		{ "Paragraph", gen_paragraph },
		{ "Heading", gen_heading },
		{ "BlockQuote", gen_block_quote },
		{ "CodeBlock", gen_code_block },
		{ "List", gen_list },
		{ "Item", gen_item },
		{ "ThematicBreak", gen_thematic_break },
		{ "fold", gen_fold },
		{ "words", gen_words },
		{ "slug", gen_slug },
		{ "matcher", gen_matcher },
		{ "theme_matcher", gen_theme_matcher },
		{ "warn", gen_warn },
		{ NULL, NULL },
	};
	luaL_newlib(L, gen);
	lua_setglobal(L, "gen");
}

static void open_site(lua_State *L, const config *cfg)
{
	lua_createtable(L, 0, 2);
	push_value(L, cfg->table, true);
	lua_setfield(L, -2, "config");
	/* site.themes: the themes in site.toml's order, read-only. */
	value *themes = value_new_array();
	for (size_t i = 0; i < cfg->nthemes; i++) {
		const config_theme *t = &cfg->themes[i];
		value *o = value_new_table();
		value_set_cstr(o, "id", value_new_cstring(t->id));
		value_set_cstr(o, "title", value_new_cstring(t->title));
		value_set_cstr(o, "description", value_new_cstring(t->description));
		value *p = value_new_array();
		for (size_t j = 0; j < t->npatterns; j++)
			value_push(p, value_new_cstring(t->patterns[j]));
		value_set_cstr(o, "patterns", p);
		value_push(themes, o);
	}
	/* The copy must not leak if pushing raises: it hangs from the run
	 * until it is pushed. */
	run *c = get_run(L);
	value_free(c->building);
	c->building = themes;
	push_value(L, themes, true);
	value_free(c->building);
	c->building = NULL;
	lua_setfield(L, -2, "themes");
	lua_setglobal(L, "site");
}

static void open_doc(lua_State *L, run *c)
{
	document *d = c->d;
	lua_createtable(L, 0, 8);
	lua_pushstring(L, d->path);
	lua_setfield(L, -2, "path");
	lua_pushstring(L, d->url);
	lua_setfield(L, -2, "url");
	lua_pushstring(L, frontmatter_kind_name(d->fm.kind));
	lua_setfield(L, -2, "kind");
	push_value(L, d->fm.meta, false);
	c->meta_set = c->meta_escaped = false;
	c->place_line = 0;
	meta_open(L, lua_gettop(L) - 1);
	push_node(L, markdown_root(c->md));
	lua_setfield(L, -2, "root");
	lua_pushcfunction(L, doc_tag);
	lua_setfield(L, -2, "tag");
	lua_pushcfunction(L, doc_tags);
	lua_setfield(L, -2, "tags");
	lua_pushvalue(L, -1);
	lua_setglobal(L, "doc");
}

static uint32_t seed_of(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Opens what a filter may use into the globals. */
static void open_sandbox(lua_State *L, const run *c)
{
	open_lib(L, "_G", luaopen_base);
	set_global_nil(L, "dofile");
	set_global_nil(L, "loadfile");
	set_global_nil(L, "warn");
	lua_getglobal(L, "load");
	lua_pushcclosure(L, sandbox_load, 1);
	lua_setglobal(L, "load");
	lua_register(L, "print", sandbox_print);
	lua_register(L, "require", sandbox_require);

	open_lib(L, "string", luaopen_string);
	lua_getglobal(L, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	budget_patterns(L);
	lua_pop(L, 1);
	open_lib(L, "table", luaopen_table);
	open_lib(L, "utf8", luaopen_utf8);
	open_lib(L, "math", luaopen_math);
	luaL_requiref(L, "os", luaopen_os, 0);
	lua_createtable(L, 0, 2);
	lua_getfield(L, -2, "date");
	lua_setfield(L, -2, "date");
	lua_getfield(L, -2, "time");
	lua_setfield(L, -2, "time");
	lua_setglobal(L, "os");
	lua_pop(L, 1);

	new_metatables(L);
	open_gen(L);
	open_site(L, c->cfg);
}

/* Makes the state a worker keeps for document after document: the
 * sandbox's globals are opened once and put aside as the base that each
 * document's globals are copied from (new_globals). Run under lua_pcall. */
static int setup(lua_State *L)
{
	open_sandbox(L, get_run(L));
	lua_pushglobaltable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "gen.base");
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "gen.chunks");
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, "gen.strmeta");
	lua_pop(L, 1);
	return 0;
}

/* Pushes a copy of the table at idx, one level deep. */
static void copy_table(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	lua_createtable(L, 0, 32);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -4);
	}
}

/* Gives the document globals of its own, as fresh as a new state's: the
 * base's functions in new tables (string, table, math, utf8, os, gen,
 * site copied, so a filter that changes string.upper changes its own
 * copy), the string metatable pointing at the new string, no modules
 * loaded, no nodes known, the collector as Lua starts it, and
 * math.random seeded by the document's path. What stays from one document
 * to the next can no longer be reached from Lua, but for the read-only
 * views of site.config and site.themes, which views_intact checks. */
static void new_globals(lua_State *L, run *c)
{
	/* Restarting sets the collector's debt to nothing, which makes it
	 * step at once: only when a filter stopped it. */
	if (!lua_gc(L, LUA_GCISRUNNING))
		lua_gc(L, LUA_GCRESTART);
	lua_gc(L, LUA_GCINC, 200, 100, 13); /* Lua's defaults (luaconf.h) */

	lua_getfield(L, LUA_REGISTRYINDEX, "gen.base");
	int base = lua_gettop(L);
	lua_createtable(L, 0, 48);
	int env = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, base)) {
		if (lua_type(L, -2) == LUA_TSTRING && !strcmp(lua_tostring(L, -2), "_G")) {
			lua_pop(L, 1);
			continue;
		}
		if (lua_istable(L, -1)) {
			copy_table(L, -1);
			lua_remove(L, -2);
		}
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, env);
	}
	lua_pushvalue(L, env);
	lua_setfield(L, env, "_G");
	lua_pushvalue(L, env);
	lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);

	/* ("x"):upper() is this document's string.upper. */
	lua_getfield(L, LUA_REGISTRYINDEX, "gen.strmeta");
	copy_table(L, -1);
	lua_getfield(L, env, "string");
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "");
	lua_insert(L, -2);
	lua_setmetatable(L, -2);
	lua_pop(L, 2);

	lua_newtable(L); /* node -> its Lua value, weakly */
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "v");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_rawseti(L, LUA_REGISTRYINDEX, c->ref_nodes);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "gen.loaded");
	lua_pushboolean(L, 0); /* no texts known (push_text) */
	lua_rawseti(L, LUA_REGISTRYINDEX, c->ref_texts);

	/* The same numbers on every build of this document. */
	lua_getfield(L, env, "math");
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, seed_of(c->d->path));
	lua_call(L, 1, 0);
	lua_settop(L, base - 1);
}

/* Whether the read-only views are still empty: rawset can write into
 * them, and the next document would see it. */
static bool views_intact(lua_State *L)
{
	bool ok = true;
	if (lua_getfield(L, LUA_REGISTRYINDEX, "gen.views") == LUA_TTABLE) {
		lua_Unsigned n = lua_rawlen(L, -1);
		for (lua_Unsigned i = 1; ok && i <= n; i++) {
			lua_rawgeti(L, -1, (lua_Integer)i);
			lua_pushnil(L);
			if (lua_next(L, -2)) {
				ok = false;
				lua_pop(L, 2);
			}
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	return ok;
}

/* ---- the walk ---- */

enum { H_BLOCK = MARKDOWN_NODE_TYPE_COUNT, H_INLINE, H_COUNT };

/* Which handlers the filter table at fidx has; checks its keys. */
static void find_handlers(lua_State *L, int fidx, bool *has)
{
	memset(has, 0, H_COUNT * sizeof *has);
	lua_pushnil(L);
	while (lua_next(L, fidx)) {
		if (lua_type(L, -2) == LUA_TSTRING && lua_isfunction(L, -1)) {
			const char *k = lua_tostring(L, -2);
			markdown_node_type t = markdown_node_type_from_name(k);
			if (t != MARKDOWN_NODE_NONE)
				has[t] = true;
			else if (!strcmp(k, "Block"))
				has[H_BLOCK] = true;
			else if (!strcmp(k, "Inline"))
				has[H_INLINE] = true;
			else {
				char where[LUA_IDSIZE + 24];
				function_where(L, lua_gettop(L), where, sizeof where);
				luaL_error(L, "%s: '%s' is not a node type (doc/filters.md lists them)",
					   where, k);
			}
		}
		lua_pop(L, 1);
	}
}

static void push_frame(run *c, markdown_node *n)
{
	if (c->nstack == c->cap_stack) {
		c->cap_stack = c->cap_stack ? 2 * c->cap_stack : 32;
		c->stack = xrealloc(c->stack, c->cap_stack * sizeof *c->stack);
	}
	c->stack[c->nstack++] = n;
}

static void descend(run *c)
{
	markdown_node *child;
	while ((child = markdown_node_first_child(c->stack[c->nstack - 1])))
		push_frame(c, child);
}

/* Puts what a handler returned (at the top of the stack) in cur's place. */
static void apply_result(lua_State *L, run *c, int fn, markdown_node *cur, const char *key)
{
	char where[LUA_IDSIZE + 24];
	int t = lua_type(L, -1);
	markdown_node *root = markdown_root(c->md);
	if (t == LUA_TNIL || to_node(L, -1) == cur)
		return;
	function_where(L, fn, where, sizeof where);
	if (cur == root)
		luaL_error(L, "%s: the Document function may return nil or the document, "
			      "not a %s", where, luaL_typename(L, -1));
	bool inl = !is_block(cur);
	markdown_node *parent = markdown_node_parent(cur);
	if (t == LUA_TTABLE && !to_node(L, -1)) {
		int list = lua_gettop(L);
		lua_Unsigned n = lua_rawlen(L, list);
		markdown_node *last = NULL;
		bool kept = false;
		for (lua_Unsigned i = 1; i <= n; i++) {
			lua_rawgeti(L, list, (lua_Integer)i);
			markdown_node *x = lua_type(L, -1) == LUA_TSTRING && inl
						   ? item_node(L, c, -1, false)
						   : to_node(L, -1);
			if (!x)
				luaL_error(L, "%s: item %I of the list the %s function returned is "
					      "a %s, not a node", where, (lua_Integer)i, key,
					   luaL_typename(L, -1));
			if (x == cur) {
				kept = true;
				last = cur;
			} else if ((last ? markdown_node_insert_after(c->md, last, x)
					 : markdown_node_insert_before(c->md, cur, x)) < 0) {
				luaL_error(L, "%s: the %s function returned a %s, which cannot go "
					      "inside a %s", where, key, tname(x), tname(parent));
			} else if (last) {
				last = x;
			}
			lua_pop(L, 1);
		}
		if (!kept) {
			markdown_node_unlink(c->md, cur);
			bury(c, cur);
		}
		return;
	}
	markdown_node *x = t == LUA_TSTRING && inl ? item_node(L, c, -1, false) : to_node(L, -1);
	if (!x)
		luaL_error(L, "%s: the %s function returned a %s; expected nil, a node or "
			      "a list of nodes", where, key, luaL_typename(L, -1));
	if (markdown_node_replace(c->md, cur, x) < 0)
		luaL_error(L, "%s: the %s function returned a %s, which cannot go inside a %s",
			   where, key, tname(x), tname(parent));
	bury(c, cur);
}

static void call_handler(lua_State *L, run *c, int fidx, int docidx, markdown_node *cur,
			 const char *key)
{
	lua_getfield(L, fidx, key);
	int fn = lua_gettop(L);
	lua_pushvalue(L, fn);
	push_node(L, cur);
	lua_pushvalue(L, docidx);
	c->node = cur;
	lua_call(L, 2, 1);
	c->node = NULL;
	apply_result(L, c, fn, cur, key);
	lua_settop(L, fn - 1);
}

/* Depth first, children before their parent, the Document last. The next
 * sibling and the ancestors are taken before a node's handler runs, so
 * what a handler puts in the tree is not walked again, and what it takes
 * out is not walked at all. */
static void walk(lua_State *L, run *c, int fidx, int docidx)
{
	bool has[H_COUNT];
	find_handlers(L, fidx, has);
	c->nstack = 0;
	push_frame(c, markdown_root(c->md));
	descend(c);
	while (c->nstack) {
		markdown_node *cur = c->stack[c->nstack - 1];
		markdown_node *next = c->nstack > 1 ? markdown_node_next(cur) : NULL;
		markdown_node_type t = markdown_node_type_of(cur);
		const char *key = NULL;
		if (t != MARKDOWN_NODE_NONE && has[t])
			key = markdown_node_type_name(t);
		else if (t != MARKDOWN_NODE_DOCUMENT && is_block(cur) && has[H_BLOCK])
			key = "Block";
		else if (t != MARKDOWN_NODE_DOCUMENT && !is_block(cur) && has[H_INLINE])
			key = "Inline";
		if (key)
			call_handler(L, c, fidx, docidx, cur, key);
		c->nstack--;
		if (next && c->nstack &&
		    markdown_node_parent(next) == c->stack[c->nstack - 1]) {
			push_frame(c, next);
			descend(c);
		}
	}
}

/* Everything Lua does for one document, under one lua_pcall. */
static int run_all(lua_State *L)
{
	run *c = get_run(L);
	new_globals(L, c);
	open_doc(L, c);
	int docidx = lua_gettop(L);
	for (size_t i = 0; i < c->fs->nfilters; i++) {
		const chunk *ch = &c->fs->chunks[c->fs->filters[i]];
		c->current = ch->path;
		c->where[0] = '\0';
		/* Each filter file gets its own globals, over the shared ones. */
		lua_newtable(L);
		lua_createtable(L, 0, 1);
		lua_pushglobaltable(L);
		lua_setfield(L, -2, "__index");
		lua_setmetatable(L, -2);
		push_chunk(L, ch, -1);
		lua_remove(L, -2);
		lua_call(L, 0, 1);
		int ret = lua_gettop(L);
		if (!lua_istable(L, ret))
			luaL_error(L, "%s: a filter returns a table of functions, not a %s",
				   ch->path, luaL_typename(L, ret));
		/* A list of filter tables runs each in turn. */
		lua_rawgeti(L, ret, 1);
		bool list = lua_istable(L, -1) && !to_node(L, -1);
		lua_pop(L, 1);
		lua_Unsigned n = list ? lua_rawlen(L, ret) : 1;
		for (lua_Unsigned k = 1; k <= n; k++) {
			if (list) {
				lua_rawgeti(L, ret, (lua_Integer)k);
				luaL_checktype(L, -1, LUA_TTABLE);
			} else {
				lua_pushvalue(L, ret);
			}
			walk(L, c, lua_gettop(L), docidx);
			lua_pop(L, 1);
		}
		lua_settop(L, docidx);
		read_meta(L, c, docidx);
	}
	return 0;
}

/* The message handler of the pcalls below. An error raised in a C
 * function (ipairs over nil, a wrong argument to string.rep or gen.*)
 * has no place in its message; it gets the line of the innermost frame
 * of one of the filters' own files, the line that made the call, so that
 * fail can name it. */
static int where_handler(lua_State *L)
{
	const char *msg = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : NULL;
	run *c = *(run **)lua_getextraspace(L);
	char file[512];
	int line;
	const char *rest;
	if (!msg || (split_where(msg, file, sizeof file, &line, &rest) && find_chunk(c->fs, file)))
		return 1;
	lua_Debug ar;
	for (int level = 1; lua_getstack(L, level, &ar); level++) {
		if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0 || ar.source[0] != '@' ||
		    !find_chunk(c->fs, ar.source + 1))
			continue;
		lua_pushfstring(L, "%s:%d: %s", ar.source + 1, ar.currentline, msg);
		return 1;
	}
	return 1;
}

/* Turns what lua_pcall left into err. */
static int fail(lua_State *L, run *c, int status, gen_err *err)
{
	char text[1200], file[512];
	const char *rest;
	int line = 0;
	if (status == LUA_ERRMEM && c->mem_refused) {
		char cap[32];
		format_size(cap, sizeof cap, (int64_t)c->mem_cap);
		snprintf(text, sizeof text, "%s: memory cap of %s exceeded (site.toml [filter] memory)",
			 c->where[0] ? c->where : c->current, cap);
	} else if (status == LUA_ERRMEM) {
		snprintf(text, sizeof text, "%s: out of memory", c->current);
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		snprintf(text, sizeof text, "%s", lua_tostring(L, -1));
	} else {
		snprintf(text, sizeof text, "%s: error object is a %s value", c->current,
			 luaL_typename(L, -1));
	}
	/* Blame a position in one of our files; anything else (a chunk a
	 * filter loaded itself) is the running filter's. */
	if (!split_where(text, file, sizeof file, &line, &rest) || !find_chunk(c->fs, file)) {
		size_t cl = strlen(c->current);
		rest = text;
		line = 0;
		snprintf(file, sizeof file, "%s", c->current);
		if (!strncmp(text, c->current, cl) && text[cl] == ':' && text[cl + 1] == ' ')
			rest = text + cl + 2;
	}
	return err_set(err, GEN_EFILTER, file, line, 0, "%s" FILTER_WHILE "%s)", rest,
		       c->d->path);
}

static void add_theme(frontmatter *fm, const char *id)
{
	for (size_t i = 0; i < fm->nthemes; i++)
		if (!strcmp(fm->themes[i], id))
			return;
	fm->themes = xrealloc(fm->themes, (fm->nthemes + 1) * sizeof *fm->themes);
	fm->themes[fm->nthemes++] = xstrdup(id);
}

/* A worker's Lua state and the record its allocator and hook count in. */
struct filter_state {
	run c;
	lua_State *L; /* NULL before the first document and after a failure */
};

filter_state *filter_state_new(const filter_set *fs, const config *cfg)
{
	filter_state *st = xcalloc(1, sizeof *st);
	st->c.fs = fs;
	st->c.cfg = cfg;
	st->c.mem_cap = cfg->filter_memory > 0 ? (size_t)cfg->filter_memory : SIZE_MAX;
	st->c.budget = cfg->filter_instructions > 0 ? cfg->filter_instructions : INT64_MAX;
	st->c.step = st->c.budget < HOOK_STEP ? (int)st->c.budget : HOOK_STEP;
	return st;
}

static void close_state(filter_state *st)
{
	if (st->L)
		lua_close(st->L);
	st->L = NULL;
	st->c.mem = 0;
	pool_release(&st->c.pool);
}

void filter_state_free(filter_state *st)
{
	if (!st)
		return;
	close_state(st);
	run *c = &st->c;
	buf_release(&c->folded);
	buf_release(&c->worded);
	free(c->words);
	free(c->hits);
	free(c->wtexts);
	free(c->wslots);
	free(st);
}

/* Opens st's state for the document in st->c. Returns 0, or GEN_EFILTER. */
static int open_state(filter_state *st, gen_err *err)
{
	run *c = &st->c;
	c->mem = 0;
	lua_State *L = lua_newstate(run_alloc, c);
	if (!L) {
		pool_release(&c->pool);
		return err_set(err, GEN_EFILTER, c->current, 0, 0,
			       "cannot start Lua (memory cap too small?)" FILTER_WHILE "%s)",
			       c->d->path);
	}
	*(run **)lua_getextraspace(L) = c;
	lua_setwarnf(L, ignore_warning, NULL);
	lua_settop(L, 0);
	lua_pushcfunction(L, where_handler);
	lua_pushcfunction(L, setup);
	int status = lua_pcall(L, 0, 0, 1);
	if (status != LUA_OK) {
		int rc = fail(L, c, status, err);
		lua_close(L);
		c->mem = 0;
		pool_release(&c->pool);
		return rc;
	}
	lua_settop(L, 0);
	st->L = L;
	return 0;
}

int filter_state_run(filter_state *st, document *d, diag_list *diags, gen_err *err)
{
	run *c = &st->c;
	const filter_set *fs = c->fs;
	int rc = 0;

	if (!fs || !fs->nfilters)
		return 0;
	/* What is left of the previous document is the state and its count
	 * of bytes; the rest starts afresh. */
	c->d = d;
	c->md = d->md;
	c->charged = 0;
	c->mem_refused = false;
	c->steps = 0;
	c->where[0] = '\0';
	c->current = fs->chunks[fs->filters[0]].path;
	c->node = NULL;
	c->nev = c->cap_ev = c->ngrave = c->cap_grave = c->nstack = c->cap_stack = 0;
	c->ev = NULL;
	c->ev_passage = NULL;
	c->grave = NULL;
	c->stack = NULL;
	c->nwarnings = 0;
	c->meta = c->building = NULL;
	memset(&c->diags, 0, sizeof c->diags);
	buf_init(&c->scratch);
	/* The words of the last document's texts are no use to this one;
	 * their memory is (it is kept for the state's life). */
	words_forget(c);

	if (!st->L && (rc = open_state(st, err)) < 0)
		goto out;
	lua_State *L = st->L;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, c->step);
	lua_settop(L, 0);
	lua_pushcfunction(L, where_handler);
	lua_pushcfunction(L, run_all);
	int status = lua_pcall(L, 0, 0, 1);
	if (status != LUA_OK)
		rc = fail(L, c, status, err);
	lua_settop(L, 0);
	c->mem -= c->charged;
	/* After a failure (the memory cap, the budget, an error half way)
	 * the state is not trusted with another document. */
	if (rc < 0 || !views_intact(L))
		close_state(st);
	empty_graveyard(c);
	if (rc < 0)
		goto out;

	/* The filters are done: bring the document up to date. */
	if (c->meta && !value_equal(c->meta, d->fm.meta)) {
		apply_meta(&d->fm, c->meta);
		c->meta = NULL;
	}
	for (size_t i = 0; i < c->nev; i++)
		add_theme(&d->fm, c->ev[i].theme);
	d->evidence = c->ev;
	d->nevidence = c->nev;
	c->ev = NULL;
	c->nev = 0;
	markdown_analyze(d->md, d->fm.kind == KIND_TIPS);
out:
	if (diags)
		diag_merge(diags, &c->diags);
	diag_release(&c->diags);
	for (size_t i = 0; i < c->nev; i++) {
		free(c->ev[i].theme);
		free(c->ev[i].excerpt);
		free(c->ev[i].anchor);
		free(c->ev[i].note);
	}
	free(c->ev);
	free(c->ev_passage);
	free(c->grave);
	free(c->stack);
	buf_release(&c->scratch);
	value_free(c->meta);
	value_free(c->building);
	c->ev = NULL;
	c->ev_passage = NULL;
	c->grave = NULL;
	c->stack = NULL;
	c->meta = c->building = NULL;
	c->d = NULL;
	c->md = NULL;
	return rc;
}

int filter_run(const filter_set *fs, document *d, const config *cfg,
	       diag_list *diags, gen_err *err)
{
	if (!fs || !fs->nfilters)
		return 0;
	filter_state *st = filter_state_new(fs, cfg);
	int rc = filter_state_run(st, d, diags, err);
	filter_state_free(st);
	return rc;
}
