/* markdown: the Markdown body of an article, through cmark-gfm (see
 * markdown.h).
 *
 * The only file that includes cmark-gfm. markdown_parse runs the parser,
 * then walks the tree once to collect what the later stages need (plain
 * text of every top-level block, headings, tip items, links with their
 * file positions, footnote labels) and to give headings unique ids.
 * markdown_render_html walks the tree again and writes the same HTML as
 * cmark-gfm's own renderer, plus heading ids and permalinks, tip anchors
 * and link destinations passed through the caller's rewrite function.
 * It renders by itself rather than through cmark_render_html because
 * those additions need attributes cmark cannot add and because the
 * destinations differ per call while the tree must stay untouched.
 *
 * Threads. A parsed document is only read afterwards, so documents can be
 * rendered on any thread, even the same one on several. Three things in
 * cmark-gfm 0.29 need care for that:
 *  - Extension registration writes global lists: done once, pthread_once.
 *  - The inline parser keeps the extensions' special characters ('~' for
 *    strikethrough, ':' and 'w' for autolinks) in a global table that every
 *    parse switches on at its start and off at its end, so two parses at
 *    once miss strikethroughs and autolinks in each other's text (seen in
 *    1 of 4 parses with 8 threads; github/cmark-gfm#176). The lists that
 *    switch them also map delimiters to extensions, so they cannot simply
 *    be emptied (the parser then loops for ever). Parsing therefore holds
 *    parse_lock; everything around it (UTF-8 repair, the walk, ids) runs
 *    in parallel.
 *  - cmark hands out node strings (literal, url, title, info) by turning
 *    them into C strings on the first get, which writes to the node. The
 *    walk calls every getter the renderer uses, so later gets only read.
 *
 * Positions. cmark-gfm's inline source positions are wrong on the later
 * lines of a paragraph inside a container, for links whose text spans
 * lines, and for autolinks, so a link's position is cmark's when the
 * source there really opens that link, and otherwise found by scanning the
 * enclosing block's source forward from the previous link. Columns count
 * bytes, as cmark's do. */
#define _DEFAULT_SOURCE /* madvise and MADV_DONTNEED under strict C11 */
#include "markdown.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include "jobs.h"
#include "text.h"
#include "xalloc.h"

/* Beyond this cmark's int offsets are not safe; no article comes close. */
#define MAX_BODY (1u << 30)

enum { EXT_TABLE, EXT_STRIKETHROUGH, EXT_AUTOLINK, EXT_TASKLIST,
       EXT_TAGFILTER, EXT_COUNT };

static const char *const ext_names[EXT_COUNT] = {
	"table", "strikethrough", "autolink", "tasklist", "tagfilter",
};

/* Written once under init_once, read-only afterwards. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static cmark_syntax_extension *exts[EXT_COUNT];
static const char *init_missing;
/* cmark's allocator, for the parser and every node made here (cmark
 * lets a node take children of its own allocator only): xcalloc zeroes
 * small blocks itself, quicker than glibc's calloc, and a parse makes a
 * node or a string for every few words. Never written; cmark's API
 * takes it without const. */
static cmark_mem node_mem = { xcalloc, xrealloc, free };

/* Serialises cmark_parser_feed/finish; see the top of the file. */
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

static void init(void)
{
	cmark_gfm_core_extensions_ensure_registered();
	for (int i = 0; i < EXT_COUNT; i++) {
		exts[i] = cmark_find_syntax_extension(ext_names[i]);
		if (!exts[i] && !init_missing)
			init_missing = ext_names[i];
	}
}

/* ---- per-document storage ---- */

/* Strings of one document live in a chain of blocks freed at once. */
typedef struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
} arena_block;

typedef struct anchor_slot {
	const char *key; /* NULL when empty */
	int next;        /* next suffix to try for a repeated heading slug */
} anchor_slot;

struct markdown_doc {
	cmark_node *root;
	bool unsafe_html, tips_on;
	arena_block *arena;

	markdown_heading *headings;
	size_t nheadings, cap_headings;
	markdown_tip *tips;
	size_t ntips, cap_tips;
	markdown_link *links;
	size_t nlinks, cap_links;
	const char **blocks;
	size_t nblocks, cap_blocks;

	/* Footnotes, in the order cmark numbers and renders them. */
	const char **fn_labels; /* raw label of definition i */
	int *fn_refs;           /* references to definition i */
	size_t nfn, cap_fn;
	/* Per footnote reference, in tree order: definition and occurrence. */
	int *ref_def, *ref_ix;
	size_t nrefs, cap_refs;

	const char *first_paragraph;
	size_t words;

	/* The (repaired) body and its line offset, kept so that
	 * markdown_analyze can walk the tree again after filters edited it;
	 * dirty says they did. */
	const char *src;
	size_t src_len;
	int line_offset;
	bool dirty;
	unsigned edits;          /* changes to the tree so far: markdown_edits */
	bool marks_dirty; /* only ids of marks changed: anchors and heading
			   * ids need redoing, nothing else */

	anchor_slot *anchors; /* open addressing, power-of-two size */
	size_t nanchors, cap_anchors;
	/* A thawed document's anchors as a list, NUL after each, read with
	 * the rest before the replay: markdown_has_anchor looks there until
	 * the replay (which fills anchors) is read. */
	const char *anchor_list;
	size_t anchor_list_len, anchor_list_n;

	/* A document thawed from the build cache has no tree (root is
	 * NULL): rendering and the text walk replay what they produced
	 * when it was frozen. */
	struct frozen_html *html;
	size_t nhtml;
	struct frozen_text *texts;
	size_t ntexts;
	/* A thawed document that borrows: the frozen bytes its HTML and
	 * text walk point into, and whether they are a file's mapping
	 * (markdown_set_mapped), whose pages may be dropped and read back. */
	const char *borrowed;
	size_t borrowed_len;
	bool mapped;
	const void *mapping;     /* the start of that mapping */
	/* A thawed document's anchors, HTML and text walk, frozen last,
	 * are read from its bytes when first asked for: a rebuild renders
	 * few articles, and reading them for all ten thousand was a tenth
	 * of its work. The HTML and the text walk are read where they lie
	 * each time (replay_sound); the anchors' table only for a caller
	 * that needs it (replay_ready). */
	const char *replay;      /* those bytes: in borrowed, or apart */
	size_t replay_len;
	bool replay_apart;       /* thawed from two pieces (markdown_thaw_split) */
	bool replay_mapped;      /* apart, in the same mapping as borrowed */
	bool replay_strings;     /* borrow their strings (MARKDOWN_BORROW_ALL) */
	_Atomic unsigned char replay_state;
	/* With markdown_thaw_checked: the checksum those bytes were frozen
	 * with, checked when they are first read, and the flag a mismatch
	 * sets (the document then has no anchors, HTML or text walk). */
	uint64_t replay_sum;
	atomic_bool *replay_damage;
	/* A borrowing thaw's headings and tips (its "tail"), frozen after
	 * its checksum: a one-shot rebuild reads the links, anchors and
	 * first paragraphs of ten thousand articles, and these of the few it
	 * renders; with the evidence (document.c) they were two thirds of
	 * the bytes it hashed and read. tail_ready reads them when first
	 * asked for, on whichever thread asks, checked against tail_sum when
	 * tail_damage is set (which a mismatch sets: then they read as
	 * none). A thawed document's tail is frozen again as it came, read
	 * or not. */
	const char *tail;
	size_t tail_len;
	uint64_t tail_sum;
	atomic_bool *tail_damage;
	_Atomic unsigned char tail_state;
};

/* READ: the tail is in the arrays (a parsed document's, and a copying
 * thaw's, from the start). PENDING: only in the bytes. READING: a
 * thread is reading them. */
enum { TAIL_READ, TAIL_PENDING, TAIL_READING };

static void tail_ready(const markdown_doc *doc);

/* READ: the replay is in the arrays (a parsed document's is there from
 * the start; a damaged one's stays empty). PENDING: only in the bytes,
 * unchecked. SOUND: only in the bytes, which passed their check (or have
 * none to pass), so the HTML and the text walk are read from them where
 * they lie, into nothing the document keeps. READING: a thread is
 * checking or reading them. */
enum { REPLAY_READ, REPLAY_PENDING, REPLAY_READING, REPLAY_SOUND };

static void replay_ready(const markdown_doc *doc);
static unsigned char replay_sound(const markdown_doc *doc);
static void replay_skip_anchors(const markdown_doc *doc, buf_reader *r);

/* A stretch of rendered HTML, then (when url is not NULL) a link or image
 * destination, which is rewritten afresh on every render. */
typedef struct frozen_html {
	const char *html;
	size_t len;
	const char *url;
	bool image;
} frozen_html;

/* One call of markdown_walk_text's callback. */
typedef struct frozen_text {
	markdown_text_kind kind;
	const char *text;
	size_t len;
	const char *anchor;
} frozen_text;

static char *arena_alloc(markdown_doc *doc, size_t n)
{
	arena_block *b = doc->arena;
	if (!b || b->cap - b->used < n) {
		/* Blocks grow from small: a thawed document copies only a
		 * few short strings, and ten thousand of them are held. */
		size_t cap = b ? (b->cap < 4096 ? 2 * b->cap : 8192) : 512;
		if (cap < n)
			cap = n;
		b = xmalloc(sizeof *b + cap);
		b->next = doc->arena;
		b->used = 0;
		b->cap = cap;
		doc->arena = b;
	}
	char *p = b->data + b->used;
	b->used += n;
	return p;
}

static const char *arena_strndup(markdown_doc *doc, const char *s, size_t n)
{
	if (!n)
		return "";
	char *p = arena_alloc(doc, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Makes room for one more element in a growable array. */
static void *grow(void *items, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return items;
	*cap = *cap ? *cap * 2 : 16;
	return xrealloc(items, *cap * size);
}

static uint64_t hash(const char *s)
{
	return buf_hash64(s, strlen(s), 0);
}

static anchor_slot *anchor_find(const markdown_doc *doc, const char *key)
{
	if (!doc->cap_anchors)
		return NULL;
	size_t mask = doc->cap_anchors - 1;
	for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
		anchor_slot *s = &doc->anchors[i];
		if (!s->key || strcmp(s->key, key) == 0)
			return s;
	}
}

/* Adds key (an arena string); returns its slot, old or new. */
static anchor_slot *anchor_add(markdown_doc *doc, const char *key)
{
	if (2 * (doc->nanchors + 1) > doc->cap_anchors) {
		anchor_slot *old = doc->anchors;
		size_t oldcap = doc->cap_anchors;
		doc->cap_anchors = oldcap ? oldcap * 2 : 64;
		doc->anchors = xcalloc(doc->cap_anchors, sizeof *doc->anchors);
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].key)
				*anchor_find(doc, old[i].key) = old[i];
		free(old);
	}
	anchor_slot *s = anchor_find(doc, key);
	if (!s->key) {
		s->key = key;
		s->next = 1;
		doc->nanchors++;
	}
	return s;
}

/* ---- escaping, as cmark-gfm's houdini does it ---- */

static void put_escaped(buf *out, const char *s, size_t n)
{
	static const char *const rep[256] = {
		['"'] = "&quot;", ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
	};
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *r = rep[(unsigned char)s[i]];
		if (!r)
			continue;
		buf_put(out, s + start, i - start);
		buf_puts(out, r);
		start = i + 1;
	}
	buf_put(out, s + start, n - start);
}

static void put_escaped_str(buf *out, const char *s)
{
	put_escaped(out, s, strlen(s));
}

/* Characters a URL keeps as they are; the rest is percent-encoded. '&'
 * and '\'' are kept too but need an entity inside an attribute. */
static bool url_safe(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-_.+!*(),%#@?=;:/$~&'", c) != NULL;
}

/* Appends a URL for an href or src attribute. With html false it appends
 * the attribute's value as a browser reads it (for the anchor table). */
static void put_url(buf *out, const char *s, size_t n, bool html)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (html && c == '&') {
			buf_puts(out, "&amp;");
		} else if (html && c == '\'') {
			buf_puts(out, "&#x27;");
		} else if (url_safe(c)) {
			buf_putc(out, c);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}

static bool prefix_nocase(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* The schemes safe mode blanks out, as cmark does; plain images stay. */
static bool dangerous_url(const char *url)
{
	if (prefix_nocase(url, "data:image/png") ||
	    prefix_nocase(url, "data:image/gif") ||
	    prefix_nocase(url, "data:image/jpeg") ||
	    prefix_nocase(url, "data:image/webp"))
		return false;
	return prefix_nocase(url, "javascript:") ||
	       prefix_nocase(url, "vbscript:") || prefix_nocase(url, "file:") ||
	       prefix_nocase(url, "data:");
}

/* The tagfilter extension: raw HTML starting with one of these tags has
 * its '<' escaped even when raw HTML is allowed. */
static bool filtered_tag(const char *p, size_t n)
{
	static const char *const tags[] = {
		"title", "textarea", "style", "xmp", "iframe",
		"noembed", "noframes", "script", "plaintext",
	};
	if (n < 3 || p[0] != '<')
		return false;
	size_t i = p[1] == '/' ? 2 : 1;
	for (size_t t = 0; t < sizeof tags / sizeof *tags; t++) {
		size_t k = strlen(tags[t]);
		if (i + k >= n || strncasecmp(p + i, tags[t], k) != 0)
			continue;
		char c = p[i + k];
		if (c == '>' || c == ' ' || (c >= '\t' && c <= '\r'))
			return true;
		if (c == '/' && i + k + 1 < n && p[i + k + 1] == '>')
			return true;
	}
	return false;
}

/* ---- node helpers ---- */

static const char *literal(cmark_node *n)
{
	const char *s = cmark_node_get_literal(n);
	return s ? s : "";
}

static bool is_inline(cmark_node *n)
{
	return (cmark_node_get_type(n) & CMARK_NODE_TYPE_MASK) ==
	       CMARK_NODE_TYPE_INLINE;
}

/* Whether an item gets a tip anchor: any item of a top-level ordered
 * list, when the document is a tip list. */
static bool is_tip(const markdown_doc *doc, cmark_node *item)
{
	cmark_node *list = cmark_node_parent(item);
	return doc->tips_on && list &&
	       cmark_node_get_list_type(list) == CMARK_ORDERED_LIST &&
	       cmark_node_parent(list) == doc->root;
}

static bool is_tasklist(cmark_node *item)
{
	return exts[EXT_TASKLIST] &&
	       cmark_node_get_syntax_extension(item) == exts[EXT_TASKLIST];
}

/* Calls every string getter the renderer uses, so that cmark makes its
 * C strings now, while the document still has one owner. */
static void materialize(cmark_node *n)
{
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_CODE_BLOCK:
		cmark_node_get_fence_info(n);
		cmark_node_get_literal(n);
		break;
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
	case CMARK_NODE_HTML_INLINE:
	case CMARK_NODE_HTML_BLOCK:
	case CMARK_NODE_FOOTNOTE_REFERENCE:
		cmark_node_get_literal(n);
		break;
	case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		cmark_node_get_url(n);
		cmark_node_get_title(n);
		break;
	case CMARK_NODE_CUSTOM_BLOCK:
	case CMARK_NODE_CUSTOM_INLINE:
		cmark_node_get_on_enter(n);
		cmark_node_get_on_exit(n);
		break;
	default:
		break;
	}
}

/* ---- the collecting walk ---- */

typedef struct open_link {
	size_t index; /* in doc->links */
	size_t start; /* text offset in the block's plain text */
} open_link;

typedef struct walk {
	markdown_doc *doc;
	const char *src; /* the (repaired) body */
	size_t len;
	struct line {
		size_t start, end; /* offsets of the line, without its end */
	} *lines;
	size_t nlines;
	int line_offset;

	buf text;        /* plain text of the current top-level block */
	int block;       /* its index, -1 before the first */
	int first_para;  /* block index of the first top-level paragraph */
	size_t heading_start, tip_start, title_start;
	cmark_node *tip_item, *title_node;

	open_link *open;
	size_t nopen, cap_open;

	/* Link positions: the block whose source holds the current inlines,
	 * and where the next link can start (1-based line, 0-based byte). */
	int leaf_first, leaf_last;
	int cur_line;
	size_t cur_off;
	bool leaf_scan; /* false once a scan failed, to stay linear */

	/* Footnote references, to number their repeats in source order. */
	struct fnref {
		int line, seq, def;
	} *refs;
	size_t nrefs, cap_refs;
} walk;

/* Appends s to the block text with every run of white space as one space,
 * so that nested texts are substrings of it and need no copy of their own. */
static bool is_blank(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Appends s with each run of white space as one space, and none at the
 * start of b or after a space. */
static void put_plain(buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (is_blank(s[i])) {
			if (b->len && b->ptr[b->len - 1] != ' ')
				buf_putc(b, ' ');
			while (i < n && is_blank(s[i]))
				i++;
			continue;
		}
		/* A run of words with single spaces between them, nearly all
		 * text, goes in whole; bytes above the space are never blank. */
		size_t start = i;
		for (;;) {
			while (i < n && u[i] > ' ')
				i++;
			if (i < n && !is_blank(s[i]))
				i++;
			else if (i + 1 < n && s[i] == ' ' && !is_blank(s[i + 1]))
				i += 2;
			else
				break;
		}
		buf_put(b, s + start, i - start);
	}
}

static void put_space(buf *b)
{
	if (b->len && b->ptr[b->len - 1] != ' ')
		buf_putc(b, ' ');
}

/* The trimmed text from start to the end of the block text, copied. */
static const char *plain_since(walk *w, size_t start)
{
	const char *s = w->text.ptr + start;
	size_t n = w->text.len - start;
	while (n && *s == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	return arena_strndup(w->doc, s, n);
}

static void end_block(walk *w)
{
	markdown_doc *doc = w->doc;
	if (w->block < 0)
		return;
	const char *t = plain_since(w, 0);
	doc->blocks[w->block] = t;
	doc->words += text_word_count(t, strlen(t));
	if (w->block == w->first_para)
		doc->first_paragraph = t;
}

static size_t line_len(const walk *w, int line)
{
	return w->lines[line - 1].end - w->lines[line - 1].start;
}

static bool alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Whether the source at p (n bytes left on the line) can be where the
 * text of link starts: the first character must fit the first child, and
 * text must match up to its first byte that is not a letter or digit (the
 * source may have written that one as an escape or smart punctuation), or
 * up to an entity in the source. */
static bool text_fits(cmark_node *link, const char *p, size_t n)
{
	cmark_node *first = cmark_node_first_child(link);
	if (!first)
		return n && p[0] == ']';
	switch (cmark_node_get_type(first)) {
	case CMARK_NODE_TEXT:
		break;
	case CMARK_NODE_IMAGE:
		return n >= 2 && p[0] == '!' && p[1] == '[';
	case CMARK_NODE_EMPH:
	case CMARK_NODE_STRONG:
		return n && (p[0] == '*' || p[0] == '_');
	case CMARK_NODE_CODE:
		return n && p[0] == '`';
	case CMARK_NODE_HTML_INLINE:
		return n && p[0] == '<';
	default:
		if (cmark_node_get_syntax_extension(first) == exts[EXT_STRIKETHROUGH])
			return n && p[0] == '~';
		return true;
	}
	const char *s = literal(first);
	for (size_t i = 0; i < 16 && i < n && s[i]; i++) {
		if (!alnum((unsigned char)s[i]) || p[i] == '&')
			break;
		if (s[i] != p[i])
			return false;
	}
	return true;
}

/* Whether the source at p (n bytes left on the line) is the text t of an
 * autolink, which is written out in full on one line; an entity or escape
 * in the source ends the comparison, as the text has it decoded. */
static bool same_text(const char *t, const char *p, size_t n)
{
	for (size_t i = 0; t[i]; i++) {
		if (i >= n)
			return false;
		if (i && (p[i] == '&' || p[i] == '\\'))
			return true;
		if (p[i] != t[i])
			return false;
	}
	return true;
}

/* Whether a link node looks like an autolink: one text child that is the
 * destination, maybe without the scheme cmark added. */
static bool autolink_like(cmark_node *link, const char *url)
{
	cmark_node *c = cmark_node_first_child(link);
	if (!c || cmark_node_next(c) || cmark_node_get_type(c) != CMARK_NODE_TEXT)
		return false;
	const char *t = literal(c);
	size_t tl = strlen(t), ul = strlen(url);
	if (!tl || tl > ul || strcmp(url + ul - tl, t) != 0)
		return false;
	ul -= tl;
	return ul == 0 || (ul == 7 && (!strncmp(url, "http://", 7) ||
				       !strncmp(url, "mailto:", 7)));
}

/* Whether the byte at off of line is escaped by a backslash. */
static bool escaped(const char *line, size_t off)
{
	size_t k = 0;
	while (k < off && line[off - 1 - k] == '\\')
		k++;
	return k % 2 == 1;
}

static bool opens_link(const walk *w, cmark_node *link, bool image,
		       bool autolink, int line, size_t off)
{
	const char *l = w->src + w->lines[line - 1].start;
	size_t n = line_len(w, line);
	if (off >= n)
		return false;
	const char *p = l + off;
	n -= off;
	if (image)
		return n >= 2 && p[0] == '!' && p[1] == '[' && !escaped(l, off) &&
		       text_fits(link, p + 2, n - 2);
	if (p[0] == '[')
		return !escaped(l, off) &&
		       !(off && l[off - 1] == '!' && !escaped(l, off - 1)) &&
		       text_fits(link, p + 1, n - 1);
	if (!autolink)
		return false;
	const char *t = literal(cmark_node_first_child(link));
	if (p[0] == '<')
		return same_text(t, p + 1, n - 1);
	if (off && (alnum((unsigned char)l[off - 1]) || l[off - 1] == '<'))
		return false;
	return same_text(t, p, n);
}

/* Finds where link opens in the source of the current block: cmark's
 * position when it holds up, else the first opening after the previous
 * link. Returns the 1-based body line and column. */
static void locate_link(walk *w, cmark_node *link, bool image, const char *url,
			int *line, int *col)
{
	bool autolink = !image && autolink_like(link, url);
	int cl = cmark_node_get_start_line(link);
	int cc = cmark_node_get_start_column(link);
	int found_line = 0;
	size_t found_off = 0;

	if (cl >= w->leaf_first && cl <= w->leaf_last && cc >= 1 &&
	    (cl > w->cur_line ||
	     (cl == w->cur_line && (size_t)(cc - 1) >= w->cur_off)) &&
	    opens_link(w, link, image, autolink, cl, (size_t)(cc - 1))) {
		found_line = cl;
		found_off = (size_t)(cc - 1);
	} else if (w->leaf_scan) {
		for (int l = w->cur_line; l <= w->leaf_last && !found_line; l++) {
			size_t n = line_len(w, l);
			for (size_t o = l == w->cur_line ? w->cur_off : 0; o < n; o++) {
				if (opens_link(w, link, image, autolink, l, o)) {
					found_line = l;
					found_off = o;
					break;
				}
			}
		}
		if (!found_line)
			w->leaf_scan = false;
	}
	if (!found_line) {
		/* Nothing fits (an odd construct): cmark's guess, kept in
		 * the block, is better than nothing. */
		*line = cl >= w->leaf_first && cl <= w->leaf_last ? cl : w->leaf_first;
		*col = cc >= 1 ? cc : 1;
		return;
	}
	w->cur_line = found_line;
	w->cur_off = found_off + 1;
	*line = found_line;
	*col = (int)found_off + 1;
}

/* The label of a footnote definition, from the source just before where
 * cmark says its content starts: "[^label]:" and spaces. */
static const char *footnote_label(walk *w, cmark_node *def, size_t number)
{
	int line = cmark_node_get_start_line(def);
	int col = cmark_node_get_start_column(def);
	char tmp[32];

	if (line >= 1 && (size_t)line <= w->nlines && col >= 1) {
		const char *l = w->src + w->lines[line - 1].start;
		size_t i = (size_t)col - 1, n = line_len(w, line);
		if (i > n)
			i = n;
		while (i && (l[i - 1] == ' ' || l[i - 1] == '\t'))
			i--;
		if (i >= 4 && l[i - 1] == ':' && l[i - 2] == ']') {
			size_t end = i - 2, start = end;
			while (start && l[start - 1] != ']' && l[start - 1] != ' ' &&
			       l[start - 1] != '\t')
				start--;
			/* The marker opens the run of non-space bytes, after
			 * any '>' of block quotes written without a space. */
			while (start < end && l[start] == '>')
				start++;
			if (end - start >= 3 && l[start] == '[' && l[start + 1] == '^')
				return arena_strndup(w->doc, l + start + 2,
						     end - start - 2);
		}
	}
	/* Not where cmark put it: fall back to the number, still unique. */
	snprintf(tmp, sizeof tmp, "%zu", number);
	return arena_strndup(w->doc, tmp, strlen(tmp));
}

static void enter_leaf(walk *w, cmark_node *n)
{
	w->leaf_first = cmark_node_get_start_line(n);
	w->leaf_last = cmark_node_get_end_line(n);
	if (w->leaf_first < 1)
		w->leaf_first = 1;
	if ((size_t)w->leaf_first > w->nlines)
		w->leaf_first = (int)w->nlines;
	if (w->leaf_last < w->leaf_first)
		w->leaf_last = w->leaf_first;
	if ((size_t)w->leaf_last > w->nlines)
		w->leaf_last = (int)w->nlines;
	int col = cmark_node_get_start_column(n);
	w->cur_line = w->leaf_first;
	w->cur_off = col > 1 ? (size_t)col - 1 : 0;
	w->leaf_scan = true;
}

static void enter_link(walk *w, cmark_node *n, bool image)
{
	markdown_doc *doc = w->doc;
	const char *url = cmark_node_get_url(n);
	int line, col;

	if (!url)
		url = "";
	locate_link(w, n, image, url, &line, &col);
	doc->links = grow(doc->links, &doc->cap_links, doc->nlinks,
			  sizeof *doc->links);
	markdown_link *l = &doc->links[doc->nlinks];
	l->url = arena_strndup(doc, url, strlen(url));
	l->text = "";
	l->line = line + w->line_offset;
	l->col = col;
	l->image = image;
	l->block_index = w->block;
	w->open = grow(w->open, &w->cap_open, w->nopen, sizeof *w->open);
	w->open[w->nopen].index = doc->nlinks++;
	w->open[w->nopen++].start = w->text.len;
}

static void visit(walk *w, cmark_node *n, cmark_event_type ev)
{
	markdown_doc *doc = w->doc;
	bool entering = ev == CMARK_EVENT_ENTER;
	cmark_node_type type = cmark_node_get_type(n);

	if (entering) {
		materialize(n);
		if (cmark_node_parent(n) == doc->root) {
			end_block(w);
			w->block = (int)doc->nblocks;
			doc->blocks = grow(doc->blocks, &doc->cap_blocks,
					   doc->nblocks, sizeof *doc->blocks);
			doc->blocks[doc->nblocks++] = "";
			buf_clear(&w->text);
			if (type == CMARK_NODE_PARAGRAPH && w->first_para < 0)
				w->first_para = w->block;
		} else if (!is_inline(n)) {
			put_space(&w->text);
		}
	}

	switch (type) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
	case CMARK_NODE_CODE_BLOCK: {
		const char *s = literal(n);
		put_plain(&w->text, s, strlen(s));
		break;
	}
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		put_space(&w->text);
		break;
	case CMARK_NODE_PARAGRAPH:
		if (entering)
			enter_leaf(w, n);
		break;
	case CMARK_NODE_HEADING:
		if (entering) {
			enter_leaf(w, n);
			w->heading_start = w->text.len;
		} else {
			doc->headings = grow(doc->headings, &doc->cap_headings,
					     doc->nheadings, sizeof *doc->headings);
			markdown_heading *h = &doc->headings[doc->nheadings++];
			h->level = cmark_node_get_heading_level(n);
			h->text = plain_since(w, w->heading_start);
			h->id = "";
			h->line = cmark_node_get_start_line(n) + w->line_offset;
		}
		break;
	case CMARK_NODE_ITEM:
		if (!is_tip(doc, n))
			break;
		if (entering) {
			doc->tips = grow(doc->tips, &doc->cap_tips, doc->ntips,
					 sizeof *doc->tips);
			markdown_tip *t = &doc->tips[doc->ntips++];
			char id[32];
			t->n = (int)doc->ntips;
			snprintf(id, sizeof id, "tip-%d", t->n);
			t->id = arena_strndup(doc, id, strlen(id));
			t->text = t->title = "";
			t->line = cmark_node_get_start_line(n) + w->line_offset;
			w->tip_item = n;
			w->tip_start = w->text.len;
		} else {
			doc->tips[doc->ntips - 1].text = plain_since(w, w->tip_start);
			w->tip_item = NULL;
		}
		break;
	case CMARK_NODE_STRONG:
		if (entering && w->tip_item) {
			/* A title is a bold run that opens the item's first
			 * paragraph. */
			cmark_node *para = cmark_node_parent(n);
			if (cmark_node_first_child(para) == n &&
			    cmark_node_get_type(para) == CMARK_NODE_PARAGRAPH &&
			    cmark_node_parent(para) == w->tip_item &&
			    cmark_node_first_child(w->tip_item) == para) {
				w->title_node = n;
				w->title_start = w->text.len;
			}
		} else if (!entering && n == w->title_node) {
			doc->tips[doc->ntips - 1].title = plain_since(w, w->title_start);
			w->title_node = NULL;
		}
		break;
	case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		if (entering) {
			enter_link(w, n, type == CMARK_NODE_IMAGE);
		} else {
			open_link *o = &w->open[--w->nopen];
			doc->links[o->index].text = plain_since(w, o->start);
		}
		break;
	case CMARK_NODE_FOOTNOTE_DEFINITION:
		if (entering) {
			doc->fn_labels = grow(doc->fn_labels, &doc->cap_fn, doc->nfn,
					      sizeof *doc->fn_labels);
			doc->fn_labels[doc->nfn] = footnote_label(w, n, doc->nfn + 1);
			doc->nfn++;
		}
		break;
	case CMARK_NODE_FOOTNOTE_REFERENCE:
		if (entering) {
			w->refs = grow(w->refs, &w->cap_refs, w->nrefs, sizeof *w->refs);
			w->refs[w->nrefs].line = w->leaf_first;
			w->refs[w->nrefs].seq = (int)w->nrefs;
			w->refs[w->nrefs].def = atoi(literal(n));
			w->nrefs++;
		}
		break;
	default:
		/* Table cells hold inlines too; their type comes from the
		 * table extension, so ask for its name. */
		if (entering && cmark_node_get_syntax_extension(n) == exts[EXT_TABLE] &&
		    strcmp(cmark_node_get_type_string(n), "table_cell") == 0)
			enter_leaf(w, n);
		break;
	}
}

static int ref_cmp(const void *a, const void *b)
{
	const struct fnref *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Numbers repeated references to a footnote the way cmark does (in source
 * order, which the tree no longer has once the definitions moved to the
 * end) and records the footnote ids for markdown_has_anchor. */
/* The anchors of the footnotes and of their references. */
static void add_footnote_anchors(markdown_doc *doc)
{
	buf id = BUF_INIT;
	for (size_t d = 0; d < doc->nfn; d++) {
		const char *label = doc->fn_labels[d];
		for (int k = 0; k <= doc->fn_refs[d]; k++) {
			buf_clear(&id);
			buf_puts(&id, k ? "fnref-" : "fn-");
			put_url(&id, label, strlen(label), false);
			if (k > 1)
				buf_printf(&id, "-%d", k);
			anchor_add(doc, arena_strndup(doc, id.ptr, id.len));
		}
	}
	buf_release(&id);
}

static void number_footnotes(walk *w)
{
	markdown_doc *doc = w->doc;
	struct fnref *sorted = xmalloc((w->nrefs + 1) * sizeof *sorted);
	buf id = BUF_INIT;

	doc->fn_refs = xcalloc(doc->nfn + 1, sizeof *doc->fn_refs);
	doc->nrefs = w->nrefs;
	doc->ref_def = xcalloc(w->nrefs + 1, sizeof *doc->ref_def);
	doc->ref_ix = xcalloc(w->nrefs + 1, sizeof *doc->ref_ix);
	if (w->nrefs)
		memcpy(sorted, w->refs, w->nrefs * sizeof *sorted);
	qsort(sorted, w->nrefs, sizeof *sorted, ref_cmp);
	for (size_t i = 0; i < w->nrefs; i++) {
		int def = sorted[i].def, seq = sorted[i].seq;
		if (def < 1 || (size_t)def > doc->nfn)
			continue;
		doc->ref_def[seq] = def;
		doc->ref_ix[seq] = ++doc->fn_refs[def - 1];
	}
	buf_release(&id);
	free(sorted);
	add_footnote_anchors(doc);
}

/* Gives every heading an id: its slug ("kop" when empty), and on repeats
 * the first free of slug-1, slug-2, ... Tip and footnote ids are taken
 * first so that no heading can shadow them. */
static void assign_ids(markdown_doc *doc)
{
	buf slug = BUF_INIT, cand = BUF_INIT;

	for (size_t i = 0; i < doc->ntips; i++)
		anchor_add(doc, doc->tips[i].id);
	for (size_t i = 0; i < doc->nheadings; i++) {
		markdown_heading *h = &doc->headings[i];
		buf_clear(&slug);
		text_slug(&slug, h->text, strlen(h->text));
		if (!slug.len)
			buf_puts(&slug, "kop");
		anchor_slot *s = anchor_find(doc, slug.ptr);
		if (!s || !s->key) {
			h->id = arena_strndup(doc, slug.ptr, slug.len);
			anchor_add(doc, h->id);
			continue;
		}
		int k = s->next;
		for (;; k++) {
			buf_clear(&cand);
			buf_printf(&cand, "%s-%d", slug.ptr, k);
			anchor_slot *c = anchor_find(doc, cand.ptr);
			if (!c || !c->key)
				break;
		}
		h->id = arena_strndup(doc, cand.ptr, cand.len);
		/* s may move when the table grows: look the base up again. */
		anchor_add(doc, h->id);
		anchor_find(doc, slug.ptr)->next = k + 1;
	}
	buf_release(&slug);
	buf_release(&cand);
}

/* Splits the body into lines as cmark does (LF, CRLF or a lone CR). */
static struct line *index_lines(const char *s, size_t len, size_t *count)
{
	size_t n = 0, cap = 64;
	struct line *lines = xmalloc(cap * sizeof *lines);

	lines[0].start = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\n' && s[i] != '\r')
			continue;
		lines[n].end = i;
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			i++;
		if (++n == cap) {
			cap *= 2;
			lines = xrealloc(lines, cap * sizeof *lines);
		}
		lines[n].start = i + 1;
	}
	lines[n].end = len;
	*count = n + 1;
	return lines;
}

/* Reports each line with invalid UTF-8 once, at its first bad byte. */
static void warn_invalid(const char *path, const char *s, size_t len,
			 int line_offset, diag_list *diags)
{
	size_t pos = 0, line_start = 0, bad;
	int line = 1;

	while (pos < len && !text_utf8_valid(s + pos, len - pos, &bad)) {
		bad += pos;
		for (size_t i = pos; i < bad; i++) {
			if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))) {
				line++;
				line_start = i + 1;
			}
		}
		if (diags)
			diag_add(diags, DIAG_WARNING, path, line + line_offset,
				 (int)(bad - line_start) + 1,
				 "invalid UTF-8 replaced by U+FFFD");
		/* Go on from the next line. */
		pos = bad;
		while (pos < len && s[pos] != '\n' && s[pos] != '\r')
			pos++;
		if (pos < len && s[pos] == '\r' && pos + 1 < len && s[pos + 1] == '\n')
			pos++;
		if (pos < len) {
			pos++;
			line++;
			line_start = pos;
		}
	}
}

static const char *arena_copy(markdown_doc *doc, const char *s, size_t n);
static void analyze(markdown_doc *doc);

int markdown_parse(markdown_doc **out, const char *path, const char *text,
		   size_t len, const markdown_options *opt, diag_list *diags,
		   gen_err *err)
{
	static const markdown_options defaults = { 0 };
	markdown_doc *doc = NULL;
	buf repaired = BUF_INIT;
	cmark_parser *parser = NULL;
	cmark_node *root = NULL;
	int options, rc = 0;

	*out = NULL;
	if (!opt)
		opt = &defaults;
	if (!text)
		text = "";
	pthread_once(&init_once, init);
	if (init_missing) {
		rc = err_set(err, GEN_EPARSE, path, 0, 0,
			     "cmark-gfm extension '%s' is not available",
			     init_missing);
		goto out;
	}
	if (len > MAX_BODY) {
		rc = err_set(err, GEN_EPARSE, path, 0, 0,
			     "body of '%s' is too large (%zu bytes)", path, len);
		goto out;
	}
	if (!text_utf8_valid(text, len, NULL)) {
		warn_invalid(path, text, len, opt->line_offset, diags);
		text_utf8_repair(&repaired, text, len);
		text = repaired.ptr;
		len = repaired.len;
	}

	options = CMARK_OPT_SMART | CMARK_OPT_FOOTNOTES | CMARK_OPT_SOURCEPOS |
		  (opt->unsafe_html ? CMARK_OPT_UNSAFE : 0);
	parser = cmark_parser_new_with_mem(options, &node_mem);
	for (int i = 0; i < EXT_COUNT; i++)
		cmark_parser_attach_syntax_extension(parser, exts[i]);
	pthread_mutex_lock(&parse_lock);
	cmark_parser_feed(parser, text, len);
	root = cmark_parser_finish(parser);
	pthread_mutex_unlock(&parse_lock);
	cmark_parser_free(parser);

	doc = xcalloc(1, sizeof *doc);
	doc->root = root;
	doc->unsafe_html = opt->unsafe_html;
	doc->tips_on = opt->tips;
	doc->first_paragraph = "";
	doc->src = arena_copy(doc, text, len);
	doc->src_len = len;
	doc->line_offset = opt->line_offset;
	if (opt->filtered)
		doc->dirty = true;
	else
		analyze(doc);
	*out = doc;
	doc = NULL;
out:
	buf_release(&repaired);
	markdown_free(doc);
	return rc;
}

void markdown_free(markdown_doc *doc)
{
	if (!doc)
		return;
	if (doc->root)
		cmark_node_free(doc->root);
	while (doc->arena) {
		arena_block *next = doc->arena->next;
		free(doc->arena);
		doc->arena = next;
	}
	free(doc->headings);
	free(doc->tips);
	free(doc->links);
	free(doc->blocks);
	free(doc->fn_labels);
	free(doc->fn_refs);
	free(doc->ref_def);
	free(doc->ref_ix);
	free(doc->anchors);
	free(doc->html);
	free(doc->texts);
	free(doc);
}

size_t markdown_heading_count(const markdown_doc *doc)
{
	tail_ready(doc);
	return doc->nheadings;
}

const markdown_heading *markdown_heading_at(const markdown_doc *doc, size_t i)
{
	tail_ready(doc);
	return i < doc->nheadings ? &doc->headings[i] : NULL;
}

size_t markdown_tip_count(const markdown_doc *doc)
{
	tail_ready(doc);
	return doc->ntips;
}

const markdown_tip *markdown_tip_at(const markdown_doc *doc, size_t i)
{
	tail_ready(doc);
	return i < doc->ntips ? &doc->tips[i] : NULL;
}

size_t markdown_link_count(const markdown_doc *doc)
{
	return doc->nlinks;
}

const markdown_link *markdown_link_at(const markdown_doc *doc, size_t i)
{
	return i < doc->nlinks ? &doc->links[i] : NULL;
}

bool markdown_has_anchor(const markdown_doc *doc, const char *id)
{
	if (doc->anchor_list && atomic_load_explicit(&doc->replay_state,
						 memory_order_acquire) != REPLAY_READ) {
		const char *end = doc->anchor_list + doc->anchor_list_len;
		for (const char *p = doc->anchor_list; p < end; p += strlen(p) + 1)
			if (strcmp(p, id) == 0)
				return true;
		return false;
	}
	replay_ready(doc);
	const anchor_slot *s = anchor_find(doc, id);
	return s && s->key;
}

const char *markdown_block_text(const markdown_doc *doc, int block_index)
{
	if (block_index < 0 || (size_t)block_index >= doc->nblocks)
		return "";
	return doc->blocks[block_index];
}

const char *markdown_first_paragraph(const markdown_doc *doc)
{
	return doc->first_paragraph;
}

size_t markdown_word_count(const markdown_doc *doc)
{
	return doc->words;
}

/* ---- marks: an id and a class a filter put on a node ----
 *
 * Kept in the node's user data (cmark-gfm itself leaves it alone),
 * allocated in the document's arena. */

typedef struct mark {
	const char *id;  /* "" when unset */
	const char *cls;
	bool span;       /* an Emph that is a filter's Span */
} mark;

static const mark *mark_of(cmark_node *n)
{
	return cmark_node_get_user_data(n);
}

static void put_attrs(buf *out, cmark_node *n)
{
	const mark *m = mark_of(n);
	if (m && *m->id) {
		buf_puts(out, " id=\"");
		put_escaped_str(out, m->id);
		buf_putc(out, '"');
	}
	if (m && *m->cls) {
		buf_puts(out, " class=\"");
		put_escaped_str(out, m->cls);
		buf_putc(out, '"');
	}
}

/* "<tag>", with the node's mark when it has one. */
static void put_open(buf *out, const char *tag, cmark_node *n)
{
	buf_putc(out, '<');
	buf_puts(out, tag);
	put_attrs(out, n);
	buf_putc(out, '>');
}

/* ---- rendering ---- */

typedef struct render {
	buf *out;
	size_t start; /* where this body's HTML begins in out */
	const markdown_doc *doc;
	markdown_rewrite_fn rewrite;
	void *ctx;
	size_t heading, tip, ref, def;
	cmark_node *plain; /* inside this image: only its text, for alt */
	bool in_thead, in_tbody;
	bool backref_done;  /* for the current footnote definition */
	struct dest_list *rec; /* freezing: destinations are noted, not written */
} render;

/* Where each destination goes in the HTML of a document being frozen. */
typedef struct dest_list {
	struct dest { size_t at; const char *url; bool image; } *items;
	size_t n, cap;
} dest_list;

/* Starts a new line unless the output is at the start of one. */
static void cr(render *r)
{
	if (r->out->len > r->start && r->out->ptr[r->out->len - 1] != '\n')
		buf_putc(r->out, '\n');
}

static void put_destination(render *r, cmark_node *n, bool image)
{
	const char *url = cmark_node_get_url(n);
	if (!url)
		url = "";
	if (!r->doc->unsafe_html && dangerous_url(url))
		return;
	if (r->rec) {
		dest_list *l = r->rec;
		l->items = grow(l->items, &l->cap, l->n, sizeof *l->items);
		l->items[l->n++] = (struct dest){ r->out->len, url, image };
		return;
	}
	char *alt = r->rewrite ? r->rewrite(r->ctx, url, image) : NULL;
	const char *u = alt ? alt : url;
	put_url(r->out, u, strlen(u), true);
	free(alt);
}

static void put_raw_html(render *r, const char *s, bool block)
{
	size_t n = strlen(s);
	if (!r->doc->unsafe_html) {
		buf_puts(r->out, "<!-- raw HTML omitted -->");
		return;
	}
	if (!block) {
		if (filtered_tag(s, n)) {
			buf_puts(r->out, "&lt;");
			buf_put(r->out, s + 1, n - 1);
		} else {
			buf_put(r->out, s, n);
		}
		return;
	}
	const char *p = s, *end = s + n;
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		if (!lt)
			break;
		buf_put(r->out, p, (size_t)(lt - p));
		if (filtered_tag(lt, (size_t)(end - lt)))
			buf_puts(r->out, "&lt;");
		else
			buf_putc(r->out, '<');
		p = lt + 1;
	}
	buf_put(r->out, p, (size_t)(end - p));
}

/* Whether the current footnote definition still needs its links back to
 * the references. cmark also counts references inside definitions that
 * nothing refers to, which it then drops; those would be links to nowhere,
 * so they are left out here (the one place the output differs). */
static bool has_backrefs(const render *r)
{
	return !r->backref_done && r->def >= 1 && r->def <= r->doc->nfn &&
	       r->doc->fn_refs[r->def - 1] > 0;
}

static void put_backrefs(render *r)
{
	const char *label = r->doc->fn_labels[r->def - 1];
	int count = r->doc->fn_refs[r->def - 1];
	size_t ln = strlen(label);

	r->backref_done = true;
	for (int k = 1; k <= count; k++) {
		buf_puts(r->out, k > 1 ? " <a href=\"#fnref-" : "<a href=\"#fnref-");
		put_url(r->out, label, ln, true);
		if (k > 1)
			buf_printf(r->out, "-%d", k);
		buf_puts(r->out, "\" class=\"footnote-backref\" data-footnote-backref "
				 "aria-label=\"Back to content\">\xE2\x86\xA9");
		if (k > 1)
			buf_printf(r->out, "<sup class=\"footnote-ref\">%d</sup>", k);
		buf_puts(r->out, "</a>");
	}
}

static void render_table(render *r, cmark_node *n, bool entering)
{
	const char *kind = cmark_node_get_type_string(n);

	if (strcmp(kind, "table") == 0) {
		if (entering) {
			cr(r);
			put_open(r->out, "table", n);
			r->in_tbody = false;
		} else {
			if (r->in_tbody) {
				cr(r);
				buf_puts(r->out, "</tbody>");
				cr(r);
			}
			r->in_tbody = false;
			cr(r);
			buf_puts(r->out, "</table>");
			cr(r);
		}
	} else if (strcmp(kind, "table_header") == 0 ||
		   strcmp(kind, "table_row") == 0) {
		bool header = cmark_gfm_extensions_get_table_row_is_header(n);
		if (entering) {
			cr(r);
			if (header) {
				r->in_thead = true;
				buf_puts(r->out, "<thead>");
				cr(r);
			} else if (!r->in_tbody) {
				buf_puts(r->out, "<tbody>");
				cr(r);
				r->in_tbody = true;
			}
			put_open(r->out, "tr", n);
		} else {
			cr(r);
			buf_puts(r->out, "</tr>");
			if (header) {
				cr(r);
				buf_puts(r->out, "</thead>");
				r->in_thead = false;
			}
		}
	} else if (strcmp(kind, "table_cell") == 0) {
		if (!entering) {
			buf_puts(r->out, r->in_thead ? "</th>" : "</td>");
			return;
		}
		cmark_node *row = cmark_node_parent(n);
		cmark_node *table = cmark_node_parent(row);
		uint16_t cols = cmark_gfm_extensions_get_table_columns(table);
		uint8_t *align = cmark_gfm_extensions_get_table_alignments(table);
		size_t i = 0;
		for (cmark_node *c = cmark_node_first_child(row); c && c != n;
		     c = cmark_node_next(c))
			i++;
		cr(r);
		buf_puts(r->out, r->in_thead ? "<th" : "<td");
		if (align && i < cols) {
			switch (align[i]) {
			case 'l': buf_puts(r->out, " align=\"left\""); break;
			case 'c': buf_puts(r->out, " align=\"center\""); break;
			case 'r': buf_puts(r->out, " align=\"right\""); break;
			default: break;
			}
		}
		put_attrs(r->out, n);
		buf_putc(r->out, '>');
	}
}

static void render_node(render *r, cmark_node *n, cmark_event_type ev)
{
	bool entering = ev == CMARK_EVENT_ENTER;
	cmark_node_type type = cmark_node_get_type(n);
	buf *out = r->out;

	if (r->plain == n)
		r->plain = NULL;
	if (r->plain) {
		/* Image descriptions are text only. */
		switch (type) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
		case CMARK_NODE_HTML_INLINE:
			put_escaped_str(out, literal(n));
			break;
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			buf_putc(out, ' ');
			break;
		case CMARK_NODE_FOOTNOTE_REFERENCE:
			/* Not shown, but counted: the numbering is by tree
			 * order. */
			if (entering)
				r->ref++;
			break;
		default:
			break;
		}
		return;
	}

	switch (type) {
	case CMARK_NODE_DOCUMENT:
		break;
	case CMARK_NODE_BLOCK_QUOTE:
		cr(r);
		if (entering && mark_of(n)) {
			put_open(out, "blockquote", n);
			buf_putc(out, '\n');
			break;
		}
		buf_puts(out, entering ? "<blockquote>\n" : "</blockquote>\n");
		break;
	case CMARK_NODE_LIST: {
		bool bullet = cmark_node_get_list_type(n) == CMARK_BULLET_LIST;
		int start = cmark_node_get_list_start(n);
		if (!entering) {
			buf_puts(out, bullet ? "</ul>\n" : "</ol>\n");
			break;
		}
		cr(r);
		if (mark_of(n)) {
			buf_puts(out, bullet ? "<ul" : "<ol");
			if (!bullet && start != 1)
				buf_printf(out, " start=\"%d\"", start);
			put_attrs(out, n);
			buf_puts(out, ">\n");
			break;
		}
		if (bullet)
			buf_puts(out, "<ul>\n");
		else if (start == 1)
			buf_puts(out, "<ol>\n");
		else
			buf_printf(out, "<ol start=\"%d\">\n", start);
		break;
	}
	case CMARK_NODE_ITEM:
		if (!entering) {
			buf_puts(out, "</li>\n");
			break;
		}
		cr(r);
		if (is_tip(r->doc, n)) {
			size_t t = ++r->tip;
			buf_printf(out, "<li id=\"tip-%zu\" class=\"tip\"><a class=\"tip-link\" "
					"href=\"#tip-%zu\" aria-label=\"Permalink tip %zu\">#</a>",
				   t, t, t);
		} else {
			put_open(out, "li", n);
		}
		if (is_tasklist(n))
			buf_puts(out, cmark_gfm_extensions_get_tasklist_item_checked(n)
					      ? "<input type=\"checkbox\" checked=\"\" disabled=\"\" /> "
					      : "<input type=\"checkbox\" disabled=\"\" /> ");
		break;
	case CMARK_NODE_HEADING: {
		int level = cmark_node_get_heading_level(n);
		if (entering) {
			const markdown_heading *h = markdown_heading_at(r->doc, r->heading++);
			cr(r);
			buf_printf(out, "<h%d id=\"", level);
			put_escaped_str(out, h ? h->id : "");
			buf_puts(out, "\">");
			if (mark_of(n))
				put_open(out, "span", n);
		} else {
			const markdown_heading *h = markdown_heading_at(r->doc, r->heading - 1);
			if (mark_of(n))
				buf_puts(out, "</span>");
			buf_puts(out, " <a class=\"anchor\" href=\"#");
			put_escaped_str(out, h ? h->id : "");
			buf_printf(out, "\" aria-hidden=\"true\" tabindex=\"-1\">#</a></h%d>\n",
				   level);
		}
		break;
	}
	case CMARK_NODE_CODE_BLOCK: {
		const char *info = cmark_node_get_fence_info(n);
		cr(r);
		if (!info || !*info) {
			put_open(out, "pre", n);
			buf_puts(out, "<code>");
		} else {
			size_t k = 0;
			while (info[k] && info[k] != ' ' && (info[k] < '\t' || info[k] > '\r'))
				k++;
			put_open(out, "pre", n);
			buf_puts(out, "<code class=\"language-");
			put_escaped(out, info, k);
			buf_puts(out, "\">");
		}
		put_escaped_str(out, literal(n));
		buf_puts(out, "</code></pre>\n");
		break;
	}
	case CMARK_NODE_HTML_BLOCK:
		cr(r);
		put_raw_html(r, literal(n), true);
		cr(r);
		break;
	case CMARK_NODE_CUSTOM_BLOCK: {
		const char *s = entering ? cmark_node_get_on_enter(n)
					 : cmark_node_get_on_exit(n);
		cr(r);
		buf_puts(out, s ? s : "");
		cr(r);
		break;
	}
	case CMARK_NODE_THEMATIC_BREAK:
		cr(r);
		if (mark_of(n)) {
			buf_puts(out, "<hr");
			put_attrs(out, n);
			buf_puts(out, " />\n");
			break;
		}
		buf_puts(out, "<hr />\n");
		break;
	case CMARK_NODE_PARAGRAPH: {
		cmark_node *parent = cmark_node_parent(n);
		cmark_node *grand = parent ? cmark_node_parent(parent) : NULL;
		if (grand && cmark_node_get_type(grand) == CMARK_NODE_LIST &&
		    cmark_node_get_list_tight(grand)) {
			/* No <p> in a tight list: a mark goes on a span. */
			if (mark_of(n) && entering)
				put_open(out, "span", n);
			else if (mark_of(n))
				buf_puts(out, "</span>");
			break;
		}
		if (entering) {
			cr(r);
			put_open(out, "p", n);
			break;
		}
		if (cmark_node_get_type(parent) == CMARK_NODE_FOOTNOTE_DEFINITION &&
		    !cmark_node_next(n) && has_backrefs(r)) {
			buf_putc(out, ' ');
			put_backrefs(r);
		}
		buf_puts(out, "</p>\n");
		break;
	}
	case CMARK_NODE_TEXT:
		if (mark_of(n))
			put_open(out, "span", n);
		put_escaped_str(out, literal(n));
		if (mark_of(n))
			buf_puts(out, "</span>");
		break;
	case CMARK_NODE_LINEBREAK:
		buf_puts(out, "<br />\n");
		break;
	case CMARK_NODE_SOFTBREAK:
		buf_putc(out, '\n');
		break;
	case CMARK_NODE_CODE:
		put_open(out, "code", n);
		put_escaped_str(out, literal(n));
		buf_puts(out, "</code>");
		break;
	case CMARK_NODE_HTML_INLINE:
		put_raw_html(r, literal(n), false);
		break;
	case CMARK_NODE_CUSTOM_INLINE: {
		const char *s = entering ? cmark_node_get_on_enter(n)
					 : cmark_node_get_on_exit(n);
		buf_puts(out, s ? s : "");
		break;
	}
	case CMARK_NODE_STRONG:
		if (entering)
			put_open(out, "strong", n);
		else
			buf_puts(out, "</strong>");
		break;
	case CMARK_NODE_EMPH:
		/* A filter's Span is an Emph underneath (see markdown_node_new). */
		if (entering)
			put_open(out, mark_of(n) && mark_of(n)->span ? "span" : "em", n);
		else
			buf_puts(out, mark_of(n) && mark_of(n)->span ? "</span>" : "</em>");
		break;
	case CMARK_NODE_LINK:
		if (entering) {
			const char *title = cmark_node_get_title(n);
			buf_puts(out, "<a href=\"");
			put_destination(r, n, false);
			if (title && *title) {
				buf_puts(out, "\" title=\"");
				put_escaped_str(out, title);
			}
			buf_putc(out, '"');
			put_attrs(out, n);
			buf_putc(out, '>');
		} else {
			buf_puts(out, "</a>");
		}
		break;
	case CMARK_NODE_IMAGE:
		if (entering) {
			buf_puts(out, "<img src=\"");
			put_destination(r, n, true);
			buf_puts(out, "\" alt=\"");
			r->plain = n;
		} else {
			const char *title = cmark_node_get_title(n);
			if (title && *title) {
				buf_puts(out, "\" title=\"");
				put_escaped_str(out, title);
			}
			buf_puts(out, "\" />");
		}
		break;
	case CMARK_NODE_FOOTNOTE_DEFINITION:
		if (entering) {
			if (r->def++ == 0)
				buf_puts(out, "<section class=\"footnotes\" data-footnotes>\n<ol>\n");
			r->backref_done = false;
			buf_puts(out, "<li id=\"fn-");
			if (r->def <= r->doc->nfn) {
				const char *label = r->doc->fn_labels[r->def - 1];
				put_url(out, label, strlen(label), true);
			}
			buf_puts(out, "\">\n");
		} else {
			if (has_backrefs(r)) {
				put_backrefs(r);
				buf_putc(out, '\n');
			}
			buf_puts(out, "</li>\n");
		}
		break;
	case CMARK_NODE_FOOTNOTE_REFERENCE:
		if (entering) {
			size_t k = r->ref++;
			int def = k < r->doc->nrefs ? r->doc->ref_def[k] : 0;
			const char *label = def ? r->doc->fn_labels[def - 1] : "";
			size_t ln = strlen(label);
			buf_puts(out, "<sup class=\"footnote-ref\"><a href=\"#fn-");
			put_url(out, label, ln, true);
			buf_puts(out, "\" id=\"fnref-");
			put_url(out, label, ln, true);
			if (def && r->doc->ref_ix[k] > 1)
				buf_printf(out, "-%d", r->doc->ref_ix[k]);
			buf_puts(out, "\" data-footnote-ref>");
			put_escaped_str(out, literal(n));
			buf_puts(out, "</a></sup>");
		}
		break;
	default:
		if (cmark_node_get_syntax_extension(n) == exts[EXT_TABLE])
			render_table(r, n, entering);
		else if (cmark_node_get_syntax_extension(n) == exts[EXT_STRIKETHROUGH])
			buf_puts(out, entering ? "<del>" : "</del>");
		/* Anything else unknown: its children, without tags. */
		break;
	}
}

/* A stretch of frozen HTML, then its destination, rewritten, if any. */
static void put_piece(buf *out, const char *html, size_t len, const char *url, bool image,
		      markdown_rewrite_fn rewrite, void *ctx)
{
	buf_put(out, html, len);
	if (!url)
		return;
	char *alt = rewrite ? rewrite(ctx, url, image) : NULL;
	const char *u = alt ? alt : url;
	put_url(out, u, strlen(u), true);
	free(alt);
}

static void replay_html(buf *out, const markdown_doc *doc,
			markdown_rewrite_fn rewrite, void *ctx)
{
	if (replay_sound(doc) == REPLAY_SOUND) {
		buf_reader r;
		replay_skip_anchors(doc, &r);
		size_t n = buf_get_count(&r);
		for (size_t i = 0; i < n && !r.bad; i++) {
			size_t len;
			const char *html = buf_get_blob(&r, &len);
			const char *url = buf_get_zstr(&r);
			bool image = buf_get_varint(&r) != 0;
			if (!r.bad)
				put_piece(out, html, len, url, image, rewrite, ctx);
		}
		return;
	}
	for (size_t i = 0; i < doc->nhtml; i++) {
		const frozen_html *h = &doc->html[i];
		put_piece(out, h->html, h->len, h->url, h->image, rewrite, ctx);
	}
}

void markdown_render_html(buf *out, const markdown_doc *doc,
			  markdown_rewrite_fn rewrite, void *ctx)
{
	render r = { 0 };
	cmark_event_type ev;

	if (!doc->root) {
		replay_html(out, doc, rewrite, ctx);
		return;
	}
	r.out = out;
	r.start = out->len;
	r.doc = doc;
	r.rewrite = rewrite;
	r.ctx = ctx;
	cmark_iter *iter = cmark_iter_new(doc->root);
	while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE)
		render_node(&r, cmark_iter_get_node(iter), ev);
	cmark_iter_free(iter);
	if (r.def)
		buf_puts(out, "</ol>\n</section>\n");
}

/* ---- text for the search index ---- */

/* Appends the plain text of n's subtree: literals, with breaks as spaces. */
static void subtree_text(cmark_node *n, buf *b)
{
	for (cmark_node *c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
		switch (cmark_node_get_type(c)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE: {
			const char *s = literal(c);
			put_plain(b, s, strlen(s));
			break;
		}
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			put_space(b);
			break;
		default:
			if (!is_inline(c))
				put_space(b);
			subtree_text(c, b);
			break;
		}
	}
}

void markdown_walk_text(const markdown_doc *doc, markdown_text_fn fn, void *ctx)
{
	if (!doc->root && replay_sound(doc) == REPLAY_SOUND) {
		buf_reader r;
		replay_skip_anchors(doc, &r);
		size_t n = buf_get_count(&r), len;
		for (size_t i = 0; i < n && !r.bad; i++) {
			buf_get_blob(&r, &len);
			buf_get_zstr(&r);
			buf_get_varint(&r);
		}
		n = buf_get_count(&r);
		for (size_t i = 0; i < n && !r.bad; i++) {
			uint64_t kind = buf_get_varint(&r);
			const char *text = buf_get_blob(&r, &len);
			const char *anchor = buf_get_zstr(&r);
			if (r.bad || kind > MARKDOWN_TEXT_TIP)
				break;
			fn(ctx, (markdown_text_kind)kind, text && len ? text : "", text ? len : 0,
			   anchor ? anchor : "");
		}
		return;
	}
	if (!doc->root) {
		for (size_t i = 0; i < doc->ntexts; i++) {
			const frozen_text *t = &doc->texts[i];
			fn(ctx, t->kind, t->text, t->len, t->anchor);
		}
		return;
	}
	size_t hi = 0, ti = 0;
	const char *anchor = "";
	cmark_node *tip_item = NULL;
	buf b = BUF_INIT;
	cmark_iter *it = cmark_iter_new(doc->root);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		cmark_node_type type = cmark_node_get_type(n);
		if (ev == CMARK_EVENT_EXIT) {
			if (n == tip_item) {
				tip_item = NULL;
				/* Text after a tip list belongs to the last heading again. */
				anchor = hi ? doc->headings[hi - 1].id : "";
			}
			continue;
		}
		if (type == CMARK_NODE_ITEM && is_tip(doc, n) && ti < doc->ntips) {
			tip_item = n;
			anchor = doc->tips[ti++].id;
			continue;
		}
		if (is_inline(n) || type == CMARK_NODE_DOCUMENT)
			continue;
		cmark_node *first = cmark_node_first_child(n);
		const char *tname = cmark_node_get_type_string(n);
		/* A table row is read whole, its cells separated by spaces. */
		bool row = strcmp(tname, "table_row") == 0 ||
			   strcmp(tname, "table_header") == 0;
		bool leaf = row || type == CMARK_NODE_CODE_BLOCK ||
			    (first && is_inline(first));
		if (!leaf)
			continue;
		buf_clear(&b);
		if (type == CMARK_NODE_CODE_BLOCK) {
			const char *s = literal(n);
			put_plain(&b, s, strlen(s));
		} else {
			subtree_text(n, &b);
		}
		size_t start = 0;
		while (start < b.len && b.ptr[start] == ' ')
			start++;
		while (b.len > start && b.ptr[b.len - 1] == ' ')
			buf_truncate(&b, b.len - 1);
		markdown_text_kind kind = MARKDOWN_TEXT_BODY;
		if (type == CMARK_NODE_HEADING) {
			kind = MARKDOWN_TEXT_HEADING;
			if (hi < doc->nheadings)
				anchor = doc->headings[hi++].id;
		} else if (tip_item) {
			kind = MARKDOWN_TEXT_TIP;
		}
		if (b.len > start)
			fn(ctx, kind, b.ptr + start, b.len - start, anchor);
		/* A leaf's inline children were read here: skip them. */
		cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
	}
	cmark_iter_free(it);
	buf_release(&b);
}

/* ---- the tree, for filters (see markdown.h) ----
 *
 * A markdown_node is a cmark_node under another name, so that no other
 * module sees cmark-gfm. Edits set doc->dirty; markdown_analyze then
 * walks the tree again with the same code markdown_parse uses, over the
 * body kept in doc->src, so what the later stages read cannot differ
 * between a filtered and an unfiltered document. */

#define CN(n) ((cmark_node *)(n))
#define MN(n) ((markdown_node *)(n))

static const char *arena_copy(markdown_doc *doc, const char *s, size_t n)
{
	char *p = arena_alloc(doc, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* The collecting walk of markdown_parse, on the tree as it is now. */
static void analyze(markdown_doc *doc)
{
	walk w = { 0 };
	cmark_event_type ev;

	doc->nheadings = doc->ntips = doc->nlinks = doc->nblocks = 0;
	doc->nfn = doc->nrefs = 0;
	free(doc->fn_refs);
	free(doc->ref_def);
	free(doc->ref_ix);
	doc->fn_refs = doc->ref_def = doc->ref_ix = NULL;
	if (doc->anchors)
		memset(doc->anchors, 0, doc->cap_anchors * sizeof *doc->anchors);
	doc->nanchors = 0;
	doc->first_paragraph = "";
	doc->words = 0;

	w.doc = doc;
	w.src = doc->src;
	w.len = doc->src_len;
	w.lines = index_lines(doc->src, doc->src_len, &w.nlines);
	w.line_offset = doc->line_offset;
	w.block = w.first_para = -1;
	w.leaf_first = w.leaf_last = w.cur_line = 1;
	buf_init(&w.text);

	cmark_iter *iter = cmark_iter_new(doc->root);
	while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE)
		visit(&w, cmark_iter_get_node(iter), ev);
	end_block(&w);
	number_footnotes(&w);
	/* Marked passages are anchors too; taken before the headings so
	 * that a heading cannot take a filter's id. */
	cmark_iter_reset(iter, doc->root, CMARK_EVENT_ENTER);
	while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
		const mark *m = mark_of(cmark_iter_get_node(iter));
		if (ev == CMARK_EVENT_ENTER && m && *m->id)
			anchor_add(doc, m->id);
	}
	assign_ids(doc);
	cmark_iter_free(iter);
	buf_release(&w.text);
	free(w.lines);
	free(w.open);
	free(w.refs);
	doc->dirty = false;
	doc->marks_dirty = false;
}

/* After filters only marked passages with ids: the walk's findings
 * stand; the anchors are taken again in analyze's order (footnotes,
 * marks, then tips and headings), which may move a heading's id off a
 * mark's. */
static void refresh_ids(markdown_doc *doc)
{
	if (doc->anchors)
		memset(doc->anchors, 0, doc->cap_anchors * sizeof *doc->anchors);
	doc->nanchors = 0;
	add_footnote_anchors(doc);
	cmark_iter *iter = cmark_iter_new(doc->root);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
		const mark *m = mark_of(cmark_iter_get_node(iter));
		if (ev == CMARK_EVENT_ENTER && m && *m->id)
			anchor_add(doc, m->id);
	}
	cmark_iter_free(iter);
	assign_ids(doc);
	doc->marks_dirty = false;
}

void markdown_analyze(markdown_doc *doc, bool tips)
{
	if (doc->tips_on != tips) {
		doc->tips_on = tips;
		doc->dirty = true;
	}
	if (doc->dirty)
		analyze(doc);
	else if (doc->marks_dirty)
		refresh_ids(doc);
}

static const char *const type_names[MARKDOWN_NODE_TYPE_COUNT] = {
	[MARKDOWN_NODE_NONE] = "",
	[MARKDOWN_NODE_DOCUMENT] = "Document",
	[MARKDOWN_NODE_BLOCK_QUOTE] = "BlockQuote",
	[MARKDOWN_NODE_LIST] = "List",
	[MARKDOWN_NODE_ITEM] = "Item",
	[MARKDOWN_NODE_CODE_BLOCK] = "CodeBlock",
	[MARKDOWN_NODE_HTML_BLOCK] = "HtmlBlock",
	[MARKDOWN_NODE_CUSTOM_BLOCK] = "CustomBlock",
	[MARKDOWN_NODE_PARAGRAPH] = "Paragraph",
	[MARKDOWN_NODE_HEADING] = "Heading",
	[MARKDOWN_NODE_THEMATIC_BREAK] = "ThematicBreak",
	[MARKDOWN_NODE_FOOTNOTE_DEFINITION] = "FootnoteDefinition",
	[MARKDOWN_NODE_TABLE] = "Table",
	[MARKDOWN_NODE_TABLE_ROW] = "TableRow",
	[MARKDOWN_NODE_TABLE_CELL] = "TableCell",
	[MARKDOWN_NODE_TEXT] = "Text",
	[MARKDOWN_NODE_SOFT_BREAK] = "SoftBreak",
	[MARKDOWN_NODE_LINE_BREAK] = "LineBreak",
	[MARKDOWN_NODE_CODE] = "Code",
	[MARKDOWN_NODE_HTML_INLINE] = "HtmlInline",
	[MARKDOWN_NODE_EMPH] = "Emph",
	[MARKDOWN_NODE_STRONG] = "Strong",
	[MARKDOWN_NODE_LINK] = "Link",
	[MARKDOWN_NODE_IMAGE] = "Image",
	[MARKDOWN_NODE_FOOTNOTE_REFERENCE] = "FootnoteReference",
	[MARKDOWN_NODE_STRIKETHROUGH] = "Strikethrough",
	[MARKDOWN_NODE_SPAN] = "Span",
};

/* The cmark type of each type that has a fixed one (0 for the others). */
static const cmark_node_type cmark_types[MARKDOWN_NODE_TYPE_COUNT] = {
	[MARKDOWN_NODE_DOCUMENT] = CMARK_NODE_DOCUMENT,
	[MARKDOWN_NODE_BLOCK_QUOTE] = CMARK_NODE_BLOCK_QUOTE,
	[MARKDOWN_NODE_LIST] = CMARK_NODE_LIST,
	[MARKDOWN_NODE_ITEM] = CMARK_NODE_ITEM,
	[MARKDOWN_NODE_CODE_BLOCK] = CMARK_NODE_CODE_BLOCK,
	[MARKDOWN_NODE_HTML_BLOCK] = CMARK_NODE_HTML_BLOCK,
	[MARKDOWN_NODE_CUSTOM_BLOCK] = CMARK_NODE_CUSTOM_BLOCK,
	[MARKDOWN_NODE_PARAGRAPH] = CMARK_NODE_PARAGRAPH,
	[MARKDOWN_NODE_HEADING] = CMARK_NODE_HEADING,
	[MARKDOWN_NODE_THEMATIC_BREAK] = CMARK_NODE_THEMATIC_BREAK,
	[MARKDOWN_NODE_FOOTNOTE_DEFINITION] = CMARK_NODE_FOOTNOTE_DEFINITION,
	[MARKDOWN_NODE_TEXT] = CMARK_NODE_TEXT,
	[MARKDOWN_NODE_SOFT_BREAK] = CMARK_NODE_SOFTBREAK,
	[MARKDOWN_NODE_LINE_BREAK] = CMARK_NODE_LINEBREAK,
	[MARKDOWN_NODE_CODE] = CMARK_NODE_CODE,
	[MARKDOWN_NODE_HTML_INLINE] = CMARK_NODE_HTML_INLINE,
	[MARKDOWN_NODE_EMPH] = CMARK_NODE_EMPH,
	[MARKDOWN_NODE_STRONG] = CMARK_NODE_STRONG,
	[MARKDOWN_NODE_LINK] = CMARK_NODE_LINK,
	[MARKDOWN_NODE_IMAGE] = CMARK_NODE_IMAGE,
	[MARKDOWN_NODE_FOOTNOTE_REFERENCE] = CMARK_NODE_FOOTNOTE_REFERENCE,
};

const char *markdown_node_type_name(markdown_node_type t)
{
	return t > MARKDOWN_NODE_NONE && t < MARKDOWN_NODE_TYPE_COUNT ? type_names[t] : "";
}

markdown_node_type markdown_node_type_from_name(const char *name)
{
	for (int t = MARKDOWN_NODE_NONE + 1; t < MARKDOWN_NODE_TYPE_COUNT; t++)
		if (strcmp(type_names[t], name) == 0)
			return (markdown_node_type)t;
	return MARKDOWN_NODE_NONE;
}

bool markdown_node_type_is_block(markdown_node_type t)
{
	return t >= MARKDOWN_NODE_DOCUMENT && t <= MARKDOWN_NODE_TABLE_CELL;
}

markdown_node *markdown_root(markdown_doc *doc)
{
	return MN(doc->root);
}

markdown_node_type markdown_node_type_of(const markdown_node *n)
{
	cmark_node *c = CN(n);
	cmark_node_type t = cmark_node_get_type(c);
	if (t == CMARK_NODE_EMPH && mark_of(c) && mark_of(c)->span)
		return MARKDOWN_NODE_SPAN;
	for (int i = MARKDOWN_NODE_NONE + 1; i < MARKDOWN_NODE_TYPE_COUNT; i++)
		if (cmark_types[i] && cmark_types[i] == t)
			return (markdown_node_type)i;
	cmark_syntax_extension *ext = cmark_node_get_syntax_extension(c);
	if (ext && ext == exts[EXT_TABLE]) {
		const char *s = cmark_node_get_type_string(c);
		if (strcmp(s, "table") == 0)
			return MARKDOWN_NODE_TABLE;
		if (strcmp(s, "table_cell") == 0)
			return MARKDOWN_NODE_TABLE_CELL;
		return MARKDOWN_NODE_TABLE_ROW;
	}
	if (ext && ext == exts[EXT_STRIKETHROUGH])
		return MARKDOWN_NODE_STRIKETHROUGH;
	return MARKDOWN_NODE_NONE;
}

markdown_node *markdown_node_parent(const markdown_node *n)
{
	return MN(cmark_node_parent(CN(n)));
}

markdown_node *markdown_node_first_child(const markdown_node *n)
{
	return MN(cmark_node_first_child(CN(n)));
}

markdown_node *markdown_node_last_child(const markdown_node *n)
{
	return MN(cmark_node_last_child(CN(n)));
}

markdown_node *markdown_node_next(const markdown_node *n)
{
	return MN(cmark_node_next(CN(n)));
}

markdown_node *markdown_node_prev(const markdown_node *n)
{
	return MN(cmark_node_previous(CN(n)));
}

/* The node itself or its nearest ancestor with a source position. */
static cmark_node *positioned(const markdown_node *n)
{
	cmark_node *c = CN(n);
	while (c && cmark_node_get_start_line(c) < 1)
		c = cmark_node_parent(c);
	return c;
}

int markdown_node_line(const markdown_doc *doc, const markdown_node *n)
{
	cmark_node *c = positioned(n);
	return c ? cmark_node_get_start_line(c) + doc->line_offset : 0;
}

int markdown_node_col(const markdown_doc *doc, const markdown_node *n)
{
	(void)doc;
	cmark_node *c = positioned(n);
	return c ? cmark_node_get_start_column(c) : 0;
}

int markdown_node_end_line(const markdown_doc *doc, const markdown_node *n)
{
	cmark_node *c = positioned(n);
	return c && cmark_node_get_end_line(c) >= 1
		       ? cmark_node_get_end_line(c) + doc->line_offset
		       : 0;
}

static bool has_literal(cmark_node *c)
{
	switch (cmark_node_get_type(c)) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
	case CMARK_NODE_CODE_BLOCK:
	case CMARK_NODE_HTML_BLOCK:
	case CMARK_NODE_HTML_INLINE:
		return true;
	default:
		return false;
	}
}

const char *markdown_node_literal(const markdown_node *n)
{
	return has_literal(CN(n)) ? literal(CN(n)) : NULL;
}

/* cmark hands strings out by converting them on the first get, which
 * writes to the node; getting them again right after a set keeps the
 * rule that a finished document is only read. */
int markdown_node_set_literal(markdown_doc *doc, markdown_node *n, const char *s)
{
	if (!has_literal(CN(n)) || !cmark_node_set_literal(CN(n), s))
		return -1;
	materialize(CN(n));
	doc->dirty = true;
	doc->edits++;
	return 0;
}

int markdown_node_heading_level(const markdown_node *n)
{
	return cmark_node_get_type(CN(n)) == CMARK_NODE_HEADING
		       ? cmark_node_get_heading_level(CN(n))
		       : 0;
}

int markdown_node_set_heading_level(markdown_doc *doc, markdown_node *n, int level)
{
	if (cmark_node_get_type(CN(n)) != CMARK_NODE_HEADING || level < 1 || level > 6 ||
	    !cmark_node_set_heading_level(CN(n), level))
		return -1;
	doc->dirty = true;
	doc->edits++;
	return 0;
}

static bool is_link(cmark_node *c)
{
	return cmark_node_get_type(c) == CMARK_NODE_LINK ||
	       cmark_node_get_type(c) == CMARK_NODE_IMAGE;
}

const char *markdown_node_url(const markdown_node *n)
{
	const char *s = is_link(CN(n)) ? cmark_node_get_url(CN(n)) : NULL;
	return s ? s : is_link(CN(n)) ? "" : NULL;
}

int markdown_node_set_url(markdown_doc *doc, markdown_node *n, const char *url)
{
	if (!is_link(CN(n)) || !cmark_node_set_url(CN(n), url))
		return -1;
	materialize(CN(n));
	doc->dirty = true;
	doc->edits++;
	return 0;
}

const char *markdown_node_title(const markdown_node *n)
{
	const char *s = is_link(CN(n)) ? cmark_node_get_title(CN(n)) : NULL;
	return s ? s : is_link(CN(n)) ? "" : NULL;
}

int markdown_node_set_title(markdown_doc *doc, markdown_node *n, const char *title)
{
	if (!is_link(CN(n)) || !cmark_node_set_title(CN(n), title))
		return -1;
	materialize(CN(n));
	doc->dirty = true;
	doc->edits++;
	return 0;
}

const char *markdown_node_fence_info(const markdown_node *n)
{
	if (cmark_node_get_type(CN(n)) != CMARK_NODE_CODE_BLOCK)
		return NULL;
	const char *s = cmark_node_get_fence_info(CN(n));
	return s ? s : "";
}

int markdown_node_set_fence_info(markdown_doc *doc, markdown_node *n, const char *info)
{
	if (cmark_node_get_type(CN(n)) != CMARK_NODE_CODE_BLOCK ||
	    !cmark_node_set_fence_info(CN(n), info))
		return -1;
	materialize(CN(n));
	doc->dirty = true;
	doc->edits++;
	return 0;
}

static bool is_list(cmark_node *c)
{
	return cmark_node_get_type(c) == CMARK_NODE_LIST;
}

bool markdown_node_list_ordered(const markdown_node *n)
{
	return is_list(CN(n)) && cmark_node_get_list_type(CN(n)) == CMARK_ORDERED_LIST;
}

int markdown_node_set_list_ordered(markdown_doc *doc, markdown_node *n, bool ordered)
{
	if (!is_list(CN(n)) ||
	    !cmark_node_set_list_type(CN(n), ordered ? CMARK_ORDERED_LIST : CMARK_BULLET_LIST))
		return -1;
	/* A new list starts at 0, which an ordered list would show. */
	if (ordered && cmark_node_get_list_start(CN(n)) == 0)
		cmark_node_set_list_start(CN(n), 1);
	if (ordered && cmark_node_get_list_delim(CN(n)) == CMARK_NO_DELIM)
		cmark_node_set_list_delim(CN(n), CMARK_PERIOD_DELIM);
	doc->dirty = true;
	doc->edits++;
	return 0;
}

int markdown_node_list_start(const markdown_node *n)
{
	return is_list(CN(n)) ? cmark_node_get_list_start(CN(n)) : 0;
}

int markdown_node_set_list_start(markdown_doc *doc, markdown_node *n, int start)
{
	if (!is_list(CN(n)) || start < 0 || !cmark_node_set_list_start(CN(n), start))
		return -1;
	doc->dirty = true;
	doc->edits++;
	return 0;
}

bool markdown_node_list_tight(const markdown_node *n)
{
	return is_list(CN(n)) && cmark_node_get_list_tight(CN(n));
}

int markdown_node_set_list_tight(markdown_doc *doc, markdown_node *n, bool tight)
{
	if (!is_list(CN(n)) || !cmark_node_set_list_tight(CN(n), tight))
		return -1;
	doc->dirty = true;
	doc->edits++;
	return 0;
}

bool markdown_node_table_header(const markdown_node *n)
{
	return markdown_node_type_of(n) == MARKDOWN_NODE_TABLE_ROW &&
	       cmark_gfm_extensions_get_table_row_is_header(CN(n));
}

int markdown_node_task(const markdown_node *n)
{
	if (cmark_node_get_type(CN(n)) != CMARK_NODE_ITEM || !is_tasklist(CN(n)))
		return -1;
	return cmark_gfm_extensions_get_tasklist_item_checked(CN(n)) ? 1 : 0;
}

unsigned markdown_edits(const markdown_doc *doc)
{
	return doc->edits;
}

void markdown_node_text(const markdown_node *n, buf *out)
{
	size_t start = out->len;
	cmark_node *c = CN(n);
	switch (cmark_node_get_type(c)) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
	case CMARK_NODE_CODE_BLOCK: {
		const char *s = literal(c);
		put_plain(out, s, strlen(s));
		break;
	}
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		break;
	default:
		subtree_text(c, out);
		break;
	}
	/* Trim what this call appended. */
	size_t lead = start;
	while (lead < out->len && out->ptr[lead] == ' ')
		lead++;
	if (lead > start) {
		memmove(out->ptr + start, out->ptr + lead, out->len - lead);
		buf_truncate(out, out->len - (lead - start));
	}
	while (out->len > start && out->ptr[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
}

int markdown_node_set_attr(markdown_doc *doc, markdown_node *n, const char *id,
			   const char *cls)
{
	const mark *old = mark_of(CN(n));
	/* Arena memory is byte-aligned: round up for the struct. */
	char *raw = arena_alloc(doc, sizeof(mark) + _Alignof(mark));
	mark *m = (mark *)(raw + (_Alignof(mark) - (uintptr_t)raw % _Alignof(mark)) %
				 _Alignof(mark));
	m->id = id ? arena_copy(doc, id, strlen(id)) : old ? old->id : "";
	m->cls = cls ? arena_copy(doc, cls, strlen(cls)) : old ? old->cls : "";
	m->span = old && old->span;
	cmark_node_set_user_data(CN(n), m);
	/* A class is only rendered; an id is an anchor, and headings avoid it. */
	if (strcmp(m->id, old ? old->id : "") != 0)
		doc->marks_dirty = true;
	return 0;
}

const char *markdown_node_id(const markdown_node *n)
{
	const mark *m = mark_of(CN(n));
	return m ? m->id : "";
}

const char *markdown_node_class(const markdown_node *n)
{
	const mark *m = mark_of(CN(n));
	return m ? m->cls : "";
}

markdown_node *markdown_node_new(markdown_doc *doc, markdown_node_type t)
{
	switch (t) {
	case MARKDOWN_NODE_NONE:
	case MARKDOWN_NODE_DOCUMENT:
	case MARKDOWN_NODE_CUSTOM_BLOCK:
	case MARKDOWN_NODE_FOOTNOTE_DEFINITION:
	case MARKDOWN_NODE_FOOTNOTE_REFERENCE:
	case MARKDOWN_NODE_TABLE:
	case MARKDOWN_NODE_TABLE_ROW:
	case MARKDOWN_NODE_TABLE_CELL:
	case MARKDOWN_NODE_STRIKETHROUGH:
	case MARKDOWN_NODE_TYPE_COUNT:
		return NULL;
	default:
		break;
	}
	/* A Span is an Emph marked as one: cmark-gfm's custom inline would
	 * be the natural node, but table cells refuse it. */
	cmark_node *c = cmark_node_new_with_mem(
		t == MARKDOWN_NODE_SPAN ? CMARK_NODE_EMPH : cmark_types[t], &node_mem);
	materialize(c);
	if (t == MARKDOWN_NODE_SPAN) {
		markdown_node_set_attr(doc, MN(c), NULL, NULL);
		((mark *)cmark_node_get_user_data(c))->span = true;
	}
	return MN(c);
}

bool markdown_node_can_contain(const markdown_node *parent, markdown_node_type child)
{
	markdown_node_type p = markdown_node_type_of(parent);
	bool inline_child = child > MARKDOWN_NODE_TABLE_CELL && child < MARKDOWN_NODE_TYPE_COUNT;
	switch (p) {
	case MARKDOWN_NODE_DOCUMENT:
	case MARKDOWN_NODE_BLOCK_QUOTE:
	case MARKDOWN_NODE_FOOTNOTE_DEFINITION:
	case MARKDOWN_NODE_ITEM:
		return markdown_node_type_is_block(child) && child != MARKDOWN_NODE_ITEM &&
		       child != MARKDOWN_NODE_DOCUMENT && child != MARKDOWN_NODE_TABLE_ROW &&
		       child != MARKDOWN_NODE_TABLE_CELL;
	case MARKDOWN_NODE_LIST:
		return child == MARKDOWN_NODE_ITEM;
	case MARKDOWN_NODE_TABLE:
		return child == MARKDOWN_NODE_TABLE_ROW;
	case MARKDOWN_NODE_TABLE_ROW:
		return child == MARKDOWN_NODE_TABLE_CELL;
	case MARKDOWN_NODE_TABLE_CELL:
		/* The table extension's own rule: no breaks in a cell. */
		return inline_child && child != MARKDOWN_NODE_SOFT_BREAK &&
		       child != MARKDOWN_NODE_LINE_BREAK;
	case MARKDOWN_NODE_PARAGRAPH:
	case MARKDOWN_NODE_HEADING:
	case MARKDOWN_NODE_EMPH:
	case MARKDOWN_NODE_STRONG:
	case MARKDOWN_NODE_LINK:
	case MARKDOWN_NODE_IMAGE:
	case MARKDOWN_NODE_STRIKETHROUGH:
	case MARKDOWN_NODE_SPAN:
		return inline_child;
	default:
		return false;
	}
}

/* cmark checks containment itself and changes nothing when it refuses;
 * the check here keeps table rows and cells, which cmark leaves to the
 * extension, where they belong. */
static bool fits(cmark_node *parent, cmark_node *child)
{
	return parent && markdown_node_can_contain(MN(parent), markdown_node_type_of(MN(child)));
}

int markdown_node_append_child(markdown_doc *doc, markdown_node *parent,
			       markdown_node *child)
{
	if (!fits(CN(parent), CN(child)) || !cmark_node_append_child(CN(parent), CN(child)))
		return -1;
	doc->dirty = true;
	doc->edits++;
	return 0;
}

int markdown_node_insert_before(markdown_doc *doc, markdown_node *n,
				markdown_node *sibling)
{
	if (!fits(cmark_node_parent(CN(n)), CN(sibling)) ||
	    !cmark_node_insert_before(CN(n), CN(sibling)))
		return -1;
	doc->dirty = true;
	doc->edits++;
	return 0;
}

int markdown_node_insert_after(markdown_doc *doc, markdown_node *n,
			       markdown_node *sibling)
{
	if (!fits(cmark_node_parent(CN(n)), CN(sibling)) ||
	    !cmark_node_insert_after(CN(n), CN(sibling)))
		return -1;
	doc->dirty = true;
	doc->edits++;
	return 0;
}

int markdown_node_replace(markdown_doc *doc, markdown_node *old, markdown_node *node)
{
	if (old == node)
		return 0;
	if (!fits(cmark_node_parent(CN(old)), CN(node)) ||
	    !cmark_node_replace(CN(old), CN(node)))
		return -1;
	doc->dirty = true;
	doc->edits++;
	return 0;
}

void markdown_node_unlink(markdown_doc *doc, markdown_node *n)
{
	cmark_node_unlink(CN(n));
	doc->dirty = true;
	doc->edits++;
}

void markdown_node_free(markdown_node *n)
{
	if (n)
		cmark_node_free(CN(n));
}

/* ---- frozen documents, for the build cache (see markdown.h) ----
 *
 * What the later stages read of a document is what the collecting walk
 * found (headings, tips, links, blocks, anchors), the HTML and the text
 * walk. A frozen document keeps exactly those: the HTML with each link
 * destination left as a gap, filled in by the caller's rewrite function
 * on every render, because where a link points depends on the other
 * documents of the build. cmark-gfm cannot rebuild a tree with source
 * positions, tables or footnotes through its public API, so the tree
 * itself is not kept: a thawed document cannot be filtered again. */

#define FROZEN_FORMAT 5
/* What the checksums of a frozen document's replay and tail are seeded
 * with. */
#define REPLAY_SEED 0x7265706c6179ULL
#define TAIL_SEED 0x7461696cULL

typedef struct frozen_walk {
	buf b;
	size_t n;
} frozen_walk;

static void freeze_text(void *ctx, markdown_text_kind kind, const char *text,
			size_t len, const char *anchor)
{
	frozen_walk *fw = ctx;
	buf_put_varint(&fw->b, (uint64_t)kind);
	buf_put_blob(&fw->b, text, len);
	buf_put_zstr(&fw->b, anchor);
	fw->n++;
}

const char *markdown_engine(void)
{
	return "cmark-gfm " CMARK_GFM_VERSION_STRING;
}

uint64_t markdown_facts(const markdown_doc *doc, uint64_t h)
{
	if (!doc)
		return buf_hash64("", 1, h);
	tail_ready(doc);
	h = buf_hash64(&doc->nheadings, sizeof doc->nheadings, h);
	for (size_t i = 0; i < doc->nheadings; i++) {
		const markdown_heading *x = &doc->headings[i];
		h = buf_hash64(&x->level, sizeof x->level, h);
		h = buf_hash_cstr(x->text, h);
		h = buf_hash_cstr(x->id, h);
	}
	h = buf_hash64(&doc->ntips, sizeof doc->ntips, h);
	for (size_t i = 0; i < doc->ntips; i++) {
		const markdown_tip *t = &doc->tips[i];
		h = buf_hash64(&t->n, sizeof t->n, h);
		h = buf_hash_cstr(t->id, h);
		h = buf_hash_cstr(t->text, h);
		h = buf_hash_cstr(t->title, h);
	}
	h = buf_hash64(&doc->nlinks, sizeof doc->nlinks, h);
	for (size_t i = 0; i < doc->nlinks; i++) {
		const markdown_link *l = &doc->links[i];
		h = buf_hash_cstr(l->url, h);
		h = buf_hash_cstr(l->text, h);
		h = buf_hash64(&l->image, sizeof l->image, h);
		/* A block's text once, with its first link: thousands of
		 * links in a long paragraph do not hash it thousands of times. */
		unsigned char same = i > 0 && l->block_index == doc->links[i - 1].block_index;
		h = buf_hash64(&same, sizeof same, h);
		if (!same)
			h = buf_hash_cstr(markdown_block_text(doc, l->block_index), h);
	}
	h = buf_hash_cstr(doc->first_paragraph, h);
	/* A set: its slots' order depends on how it was filled, so the
	 * keys are summed, not chained. */
	replay_ready(doc);
	uint64_t sum = 0;
	for (size_t i = 0; i < doc->cap_anchors; i++)
		if (doc->anchors[i].key)
			sum += buf_hash_cstr(doc->anchors[i].key, 0x616e63u);
	h = buf_hash64(&sum, sizeof sum, h);
	return buf_hash64(&doc->nanchors, sizeof doc->nanchors, h);
}

static void freeze_replay(const markdown_doc *doc, buf *out);

/* The anchors' names before the replay as well as in it: every build
 * checks each link's #fragment against its target's (markdown_has_anchor),
 * and when they were in the replay alone a one-shot rebuild read the
 * whole replay of some 1,700 articles of 10,000 for them. A thawed
 * document's list goes back as it came; a parsed one's is made from its
 * anchors, in the order of their slots, the same for the same text. */
static void put_anchor_list(const markdown_doc *doc, buf *out)
{
	if (doc->anchor_list) {
		buf_put_varint(out, doc->anchor_list_n);
		buf_put_blob(out, doc->anchor_list, doc->anchor_list_len);
		return;
	}
	replay_ready(doc);
	buf list = BUF_INIT;
	for (size_t i = 0; i < doc->cap_anchors; i++)
		if (doc->anchors[i].key)
			buf_put(&list, doc->anchors[i].key, strlen(doc->anchors[i].key) + 1);
	buf_put_varint(out, doc->nanchors);
	buf_put_blob(out, list.ptr, list.len);
	buf_release(&list);
}

size_t markdown_freeze(const markdown_doc *doc, buf *out)
{
	return markdown_freeze_split(doc, out, out, NULL);
}

/* The headings and tips of a document that holds them (not a borrowing
 * thaw's, which are put out as they came), as thaw_tail reads them. */
static void freeze_tail(const markdown_doc *doc, buf *out)
{
	buf_put_varint(out, doc->nheadings);
	for (size_t i = 0; i < doc->nheadings; i++) {
		const markdown_heading *h = &doc->headings[i];
		buf_put_varint(out, (uint64_t)h->level);
		buf_put_zstr(out, h->text);
		buf_put_zstr(out, h->id);
		buf_put_varint(out, (uint64_t)h->line);
	}
	buf_put_varint(out, doc->ntips);
	for (size_t i = 0; i < doc->ntips; i++) {
		const markdown_tip *t = &doc->tips[i];
		buf_put_varint(out, (uint64_t)t->n);
		buf_put_zstr(out, t->id);
		buf_put_zstr(out, t->text);
		buf_put_zstr(out, t->title);
		buf_put_varint(out, (uint64_t)t->line);
	}
}

/* A piece frozen after its checksum (the tail, the replay): the bytes a
 * thawed document had (had), or made by freeze into made. */
typedef struct frozen_piece {
	const char *bytes;
	size_t len;
	uint64_t sum;
} frozen_piece;

static frozen_piece piece_of(const markdown_doc *doc, const char *had, size_t len, uint64_t sum,
			     void (*freeze)(const markdown_doc *, buf *), uint64_t seed, buf *made)
{
	if (had)
		return (frozen_piece){ had, len, sum };
	freeze(doc, made);
	return (frozen_piece){ made->ptr, made->len, buf_hash64(made->ptr, made->len, seed) };
}

size_t markdown_freeze_split(const markdown_doc *doc, buf *out, buf *replay_out,
			     size_t *tail_len)
{
	buf_put_varint(out, FROZEN_FORMAT);
	buf_put_varint(out, (doc->unsafe_html ? 1u : 0u) | (doc->tips_on ? 2u : 0u));
	buf_put_varint(out, doc->nlinks);
	for (size_t i = 0; i < doc->nlinks; i++) {
		const markdown_link *l = &doc->links[i];
		buf_put_zstr(out, l->url);
		buf_put_zstr(out, l->text);
		buf_put_varint(out, (uint64_t)l->line);
		buf_put_varint(out, (uint64_t)l->col);
		buf_put_varint(out, l->image);
		buf_put_varint(out, (uint64_t)((int64_t)l->block_index + 1));
	}
	/* A block's text is read only as the context of a link in it:
	 * the others are left out, which halves what a cache keeps. */
	buf_put_varint(out, doc->nblocks);
	unsigned char *linked = xcalloc(doc->nblocks + 1, 1);
	for (size_t i = 0; i < doc->nlinks; i++) {
		int b = doc->links[i].block_index;
		if (b >= 0 && (size_t)b < doc->nblocks)
			linked[b] = 1;
	}
	for (size_t i = 0; i < doc->nblocks; i++)
		buf_put_zstr(out, linked[i] ? doc->blocks[i] : NULL);
	free(linked);
	/* Before the tail: a card shows it for an article with no summary
	 * of its own, and lists and the print page key every card. */
	buf_put_zstr(out, doc->first_paragraph);
	buf_put_varint(out, doc->words);
	put_anchor_list(doc, out);
	/* Then the checksums of the replay and the tail, and the tail's
	 * length; then the tail (headings and tips) and the replay
	 * (anchors, HTML, text walk), so that a reader may check each only
	 * when it reads it. A thawed document's are put back as they came,
	 * checksums and all: the same bytes, and damage stays damage. */
	buf made_tail = BUF_INIT, made_replay = BUF_INIT;
	frozen_piece tail = piece_of(doc, doc->tail, doc->tail_len, doc->tail_sum, freeze_tail,
				     TAIL_SEED, &made_tail);
	frozen_piece replay = piece_of(doc, doc->replay, doc->replay_len, doc->replay_sum,
				       freeze_replay, REPLAY_SEED, &made_replay);
	buf_put(out, &replay.sum, sizeof replay.sum);
	buf_put(out, &tail.sum, sizeof tail.sum);
	buf_put_varint(out, tail.len);
	buf_put(out, tail.bytes, tail.len);
	if (tail_len)
		*tail_len = tail.len;
	buf_put(replay_out, replay.bytes, replay.len);
	buf_release(&made_tail);
	buf_release(&made_replay);
	return replay.len;
}

/* The anchors, HTML and text walk of doc, as thaw_replay reads them. */
static void freeze_replay(const markdown_doc *doc, buf *out)
{
	replay_ready(doc);
	buf_put_varint(out, doc->nanchors);
	for (size_t i = 0; i < doc->cap_anchors; i++)
		if (doc->anchors[i].key)
			buf_put_zstr(out, doc->anchors[i].key);

	/* The HTML, split at its destinations. */
	buf html = BUF_INIT;
	size_t start = 0;
	if (doc->root) {
		dest_list dests = { 0 };
		render r = { 0 };
		cmark_event_type ev;
		r.out = &html;
		r.doc = doc;
		r.rec = &dests;
		cmark_iter *iter = cmark_iter_new(doc->root);
		while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE)
			render_node(&r, cmark_iter_get_node(iter), ev);
		cmark_iter_free(iter);
		if (r.def)
			buf_puts(&html, "</ol>\n</section>\n");
		buf_put_varint(out, dests.n + 1);
		for (size_t i = 0; i < dests.n; i++) {
			buf_put_blob(out, html.ptr + start, dests.items[i].at - start);
			buf_put_zstr(out, dests.items[i].url);
			buf_put_varint(out, dests.items[i].image);
			start = dests.items[i].at;
		}
		free(dests.items);
	} else {
		/* Frozen again as it was thawed. */
		buf_put_varint(out, doc->nhtml);
		for (size_t i = 0; i < doc->nhtml; i++) {
			buf_put_blob(out, doc->html[i].html, doc->html[i].len);
			buf_put_zstr(out, doc->html[i].url);
			buf_put_varint(out, doc->html[i].image);
		}
	}
	if (doc->root) {
		buf_put_blob(out, html.ptr + start, html.len - start);
		buf_put_zstr(out, NULL);
		buf_put_varint(out, 0);
	}
	buf_release(&html);

	/* The text walk, after its count so the reader can size its array. */
	frozen_walk fw = { BUF_INIT, 0 };
	markdown_walk_text(doc, freeze_text, &fw);
	buf_put_varint(out, fw.n);
	buf_put(out, fw.b.ptr, fw.b.len);
	buf_release(&fw.b);
}

/* A string read back (NULL as it was written): with borrow the bytes
 * where they are, NUL and all, else an arena copy. */
static const char *thaw_str(markdown_doc *doc, buf_reader *r, bool borrow)
{
	const char *s = buf_get_zstr(r);
	if (r->bad)
		return "";
	return !s || borrow ? s : arena_copy(doc, s, strlen(s));
}

static const char *thaw_nonnull(markdown_doc *doc, buf_reader *r, bool borrow)
{
	const char *s = thaw_str(doc, r, borrow);
	return s ? s : "";
}

static int thaw_replay(markdown_doc *doc, buf_reader *r, bool borrow, bool strings);

/* Reads doc's tail (doc->tail, doc->tail_len) into its arrays: its
 * strings copied into the arena, or borrowed. With check, bytes that do
 * not match their checksum are not read. -1 (and no headings or tips)
 * when they do not, or are cut short. A copying thaw keeps no pointer
 * to its bytes; a borrowing one keeps it, to freeze them again as they
 * came. */
static int thaw_tail(markdown_doc *doc, bool borrow, bool check)
{
	buf_reader rd, *r = &rd;
	buf_reader_init(r, doc->tail, doc->tail_len);
	r->bad = check && buf_hash64(doc->tail, doc->tail_len, TAIL_SEED) != doc->tail_sum;
	size_t nh = r->bad ? 0 : buf_get_count(r);
	markdown_heading *headings = xcalloc(nh + 1, sizeof *headings);
	for (size_t i = 0; i < nh && !r->bad; i++) {
		markdown_heading *h = &headings[i];
		h->level = (int)buf_get_varint(r);
		h->text = thaw_nonnull(doc, r, borrow);
		h->id = thaw_nonnull(doc, r, borrow);
		h->line = (int)buf_get_varint(r);
	}
	size_t nt = r->bad ? 0 : buf_get_count(r);
	markdown_tip *tips = xcalloc(nt + 1, sizeof *tips);
	for (size_t i = 0; i < nt && !r->bad; i++) {
		markdown_tip *t = &tips[i];
		t->n = (int)buf_get_varint(r);
		t->id = thaw_nonnull(doc, r, borrow);
		t->text = thaw_nonnull(doc, r, borrow);
		t->title = thaw_nonnull(doc, r, borrow);
		t->line = (int)buf_get_varint(r);
	}
	if (r->bad || r->p != r->end) {
		free(headings);
		free(tips);
		return -1;
	}
	doc->headings = headings;
	doc->nheadings = doc->cap_headings = nh;
	doc->tips = tips;
	doc->ntips = doc->cap_tips = nt;
	if (!borrow) {
		doc->tail = NULL;
		doc->tail_len = 0;
	}
	return 0;
}

/* A borrowing thaw's tail read into its arrays, once, by whichever
 * thread asks first; the others wait for it. Damage (with the check)
 * sets the flag, and the tail reads as empty. */
static void tail_ready(const markdown_doc *cdoc)
{
	markdown_doc *doc = (markdown_doc *)cdoc;
	if (!jobs_claim(&doc->tail_state, TAIL_PENDING, TAIL_READING))
		return;
	if (thaw_tail(doc, true, doc->tail_damage != NULL) < 0 && doc->tail_damage)
		atomic_store(doc->tail_damage, true);
	atomic_store_explicit(&doc->tail_state, TAIL_READ, memory_order_release);
}

bool markdown_tail_held(const markdown_doc *doc)
{
	return atomic_load_explicit(&doc->tail_state, memory_order_acquire) == TAIL_READ;
}

int markdown_thaw(markdown_doc **out, const char *data, size_t len, markdown_borrow mode)
{
	return markdown_thaw_checked(out, data, len, mode, NULL);
}

int markdown_thaw_checked(markdown_doc **out, const char *data, size_t len,
			  markdown_borrow mode, atomic_bool *damage)
{
	return markdown_thaw_split(out, data, len, NULL, 0, mode, damage);
}

int markdown_thaw_split(markdown_doc **out, const char *data, size_t len, const char *replay,
			size_t replay_len, markdown_borrow mode, atomic_bool *damage)
{
	bool borrow = mode != MARKDOWN_COPY, strings = mode == MARKDOWN_BORROW_ALL;
	*out = NULL;
	buf_reader rd, *r = &rd;
	buf_reader_init(r, data, len);
	if (buf_get_varint(r) != FROZEN_FORMAT)
		return -1;
	markdown_doc *doc = xcalloc(1, sizeof *doc);
	uint64_t flags = buf_get_varint(r);
	doc->unsafe_html = flags & 1;
	doc->tips_on = (flags & 2) != 0;

	doc->nlinks = doc->cap_links = buf_get_count(r);
	doc->links = xcalloc(doc->nlinks + 1, sizeof *doc->links);
	for (size_t i = 0; i < doc->nlinks && !r->bad; i++) {
		markdown_link *l = &doc->links[i];
		l->url = thaw_nonnull(doc, r, strings);
		l->text = thaw_nonnull(doc, r, strings);
		l->line = (int)buf_get_varint(r);
		l->col = (int)buf_get_varint(r);
		l->image = buf_get_varint(r) != 0;
		l->block_index = (int)((int64_t)buf_get_varint(r) - 1);
	}
	doc->nblocks = doc->cap_blocks = buf_get_count(r);
	doc->blocks = xcalloc(doc->nblocks + 1, sizeof *doc->blocks);
	for (size_t i = 0; i < doc->nblocks && !r->bad; i++)
		doc->blocks[i] = thaw_nonnull(doc, r, strings);
	doc->first_paragraph = thaw_nonnull(doc, r, strings);
	doc->words = (size_t)buf_get_varint(r);
	doc->anchor_list_n = buf_get_count(r);
	size_t alen;
	const char *al = buf_get_blob(r, &alen);
	size_t names = 0;
	for (size_t i = 0; al && i < alen; i++)
		names += al[i] == '\0';
	if (!al || names != doc->anchor_list_n || (alen && al[alen - 1] != '\0'))
		r->bad = true;
	else
		doc->anchor_list = !alen ? "" : strings ? al : arena_copy(doc, al, alen);
	doc->anchor_list_len = alen;
	if (!r->bad && r->end - r->p >= (ptrdiff_t)(2 * sizeof(uint64_t))) {
		memcpy(&doc->replay_sum, r->p, sizeof doc->replay_sum);
		memcpy(&doc->tail_sum, r->p + sizeof doc->replay_sum, sizeof doc->tail_sum);
		r->p += 2 * sizeof(uint64_t);
	} else {
		r->bad = true;
	}
	uint64_t tlen = buf_get_varint(r);
	if (r->bad || tlen > (uint64_t)(r->end - r->p)) {
		r->bad = true;
	} else {
		doc->tail = (const char *)r->p;
		doc->tail_len = (size_t)tlen;
		r->p += tlen;
	}
	/* The tail: read now, or (strings borrowed, so that the read makes
	 * no copy in the arena other threads may be using) when asked for. */
	if (!r->bad && strings) {
		doc->tail_damage = damage;
		atomic_store_explicit(&doc->tail_state, TAIL_PENDING, memory_order_relaxed);
	} else if (!r->bad && thaw_tail(doc, false, damage != NULL) < 0) {
		r->bad = true;
	}
	/* The replay, where it is: after the rest, or in a piece of its own
	 * (then nothing is left here). */
	if (replay) {
		bool bad = r->bad || r->p != r->end;
		buf_reader_init(r, replay, replay_len);
		r->bad = bad;
		doc->replay_apart = true;
	}
	if (r->bad || (damage && !borrow &&
		       buf_hash64(r->p, (size_t)(r->end - r->p), REPLAY_SEED) != doc->replay_sum)) {
		markdown_free(doc);
		return -1;
	}
	if (borrow) {
		/* The bytes outlive the document: the rest is read when
		 * asked for. */
		doc->replay = (const char *)r->p;
		doc->replay_len = (size_t)(r->end - r->p);
		doc->replay_strings = strings;
		doc->replay_damage = damage;
		atomic_store_explicit(&doc->replay_state, REPLAY_PENDING, memory_order_relaxed);
		doc->borrowed = data;
		doc->borrowed_len = len;
		*out = doc;
		return 0;
	}
	if (thaw_replay(doc, r, false, false) < 0) {
		markdown_free(doc);
		return -1;
	}
	*out = doc;
	return 0;
}

/* The anchors, HTML and text walk of a frozen document, from r to its
 * end, borrowed as markdown_thaw says. Returns 0, or -1 when they do
 * not read back. */
static int thaw_replay(markdown_doc *doc, buf_reader *r, bool borrow, bool strings)
{
	size_t nanchors = buf_get_count(r);
	for (size_t i = 0; i < nanchors && !r->bad; i++)
		anchor_add(doc, thaw_nonnull(doc, r, strings));

	doc->nhtml = buf_get_count(r);
	doc->html = xcalloc(doc->nhtml + 1, sizeof *doc->html);
	for (size_t i = 0; i < doc->nhtml && !r->bad; i++) {
		frozen_html *h = &doc->html[i];
		size_t n;
		const char *s = buf_get_blob(r, &n);
		h->html = !s || !n ? "" : borrow ? s : arena_copy(doc, s, n);
		h->len = s ? n : 0;
		h->url = thaw_str(doc, r, strings);
		h->image = buf_get_varint(r) != 0;
	}
	doc->ntexts = buf_get_count(r);
	doc->texts = xcalloc(doc->ntexts + 1, sizeof *doc->texts);
	for (size_t i = 0; i < doc->ntexts && !r->bad; i++) {
		frozen_text *t = &doc->texts[i];
		t->kind = (markdown_text_kind)buf_get_varint(r);
		size_t n;
		const char *s = buf_get_blob(r, &n);
		t->text = !s || !n ? "" : borrow ? s : arena_copy(doc, s, n);
		t->len = s ? n : 0;
		t->anchor = thaw_nonnull(doc, r, strings);
		if (t->kind > MARKDOWN_TEXT_TIP)
			r->bad = true;
	}
	return r->bad || r->p != r->end ? -1 : 0;
}

/* Whether a pending replay's bytes are damaged: checked against their
 * own checksum when the document was thawed with a flag to set (then it
 * is set), else they passed the build cache's. Bytes that pass, frozen by
 * this gen (the cache's stamp), are read back as they were written; what
 * does not pass is read as far as it goes, safely, never past its end. */
static bool replay_damaged(const markdown_doc *doc)
{
	if (!doc->replay_damage ||
	    buf_hash64(doc->replay, doc->replay_len, REPLAY_SEED) == doc->replay_sum)
		return false;
	atomic_store(doc->replay_damage, true);
	return true;
}

/* Reads a thawed document's replay into its arrays, once, whichever
 * thread asks first; the others wait the few microseconds it takes. */
static void replay_ready(const markdown_doc *cdoc)
{
	markdown_doc *doc = (markdown_doc *)cdoc;
	for (;;) {
		unsigned char state =
			atomic_load_explicit(&doc->replay_state, memory_order_acquire);
		if (state == REPLAY_READ)
			return;
		if (state == REPLAY_READING) {
			sched_yield();
			continue;
		}
		if (!atomic_compare_exchange_strong(&doc->replay_state, &state, REPLAY_READING))
			continue;
		if (state == REPLAY_SOUND || !replay_damaged(doc)) {
			buf_reader r;
			buf_reader_init(&r, doc->replay, doc->replay_len);
			thaw_replay(doc, &r, true, doc->replay_strings);
		}
		atomic_store_explicit(&doc->replay_state, REPLAY_READ, memory_order_release);
		return;
	}
}

/* Checks a thawed document's replay, once, without reading it into the
 * arrays: the render and the search index read its HTML and text walk
 * from the bytes (REPLAY_SOUND), and thawing them for every article of a
 * build from nothing held 32 MB of its peak to the end. Returns
 * REPLAY_SOUND, or REPLAY_READ when the arrays are what to read: read
 * already, or left empty for damage. */
static unsigned char replay_sound(const markdown_doc *cdoc)
{
	markdown_doc *doc = (markdown_doc *)cdoc;
	if (!jobs_claim(&doc->replay_state, REPLAY_PENDING, REPLAY_READING))
		return atomic_load_explicit(&doc->replay_state, memory_order_acquire);
	unsigned char state = replay_damaged(doc) ? REPLAY_READ : REPLAY_SOUND;
	atomic_store_explicit(&doc->replay_state, state, memory_order_release);
	return state;
}

/* A reader of a sound replay's bytes past its anchors, at the HTML. */
static void replay_skip_anchors(const markdown_doc *doc, buf_reader *r)
{
	buf_reader_init(r, doc->replay, doc->replay_len);
	size_t n = buf_get_count(r);
	for (size_t i = 0; i < n && !r->bad; i++)
		buf_get_zstr(r);
}

bool markdown_replay_held(const markdown_doc *doc)
{
	return atomic_load_explicit(&doc->replay_state, memory_order_acquire) == REPLAY_READ;
}

const char *markdown_borrowed(const markdown_doc *doc)
{
	return doc->borrowed;
}

/* p moved from the bytes [from, from + len) to their copy at to; other
 * pointers ("" and arena strings) stay. */
static void move_in(const char **p, const char *from, size_t len, const char *to)
{
	uintptr_t a = (uintptr_t)from, x = (uintptr_t)*p;
	if (*p && x >= a && x - a < len)
		*p = to + (x - a);
}

/* Every pointer of doc's that may point into [from, from + len), moved
 * to the copy at to. */
static void move_all(markdown_doc *doc, const char *from, size_t len, const char *to)
{
	for (size_t i = 0; i < doc->nheadings; i++) {
		move_in(&doc->headings[i].text, from, len, to);
		move_in(&doc->headings[i].id, from, len, to);
	}
	for (size_t i = 0; i < doc->ntips; i++) {
		move_in(&doc->tips[i].id, from, len, to);
		move_in(&doc->tips[i].text, from, len, to);
		move_in(&doc->tips[i].title, from, len, to);
	}
	for (size_t i = 0; i < doc->nlinks; i++) {
		move_in(&doc->links[i].url, from, len, to);
		move_in(&doc->links[i].text, from, len, to);
	}
	for (size_t i = 0; i < doc->nblocks; i++)
		move_in(&doc->blocks[i], from, len, to);
	move_in(&doc->first_paragraph, from, len, to);
	move_in(&doc->anchor_list, from, len, to);
	for (size_t i = 0; i < doc->cap_anchors; i++)
		move_in(&doc->anchors[i].key, from, len, to);
	for (size_t i = 0; i < doc->nhtml; i++) {
		move_in(&doc->html[i].html, from, len, to);
		move_in(&doc->html[i].url, from, len, to);
	}
	for (size_t i = 0; i < doc->ntexts; i++) {
		move_in(&doc->texts[i].text, from, len, to);
		move_in(&doc->texts[i].anchor, from, len, to);
	}
	move_in(&doc->replay, from, len, to);
	move_in(&doc->tail, from, len, to);
}

const char *markdown_replay_apart(const markdown_doc *doc)
{
	return doc->replay_apart ? doc->replay : NULL;
}

void markdown_rebase_replay(markdown_doc *doc, const char *to)
{
	if (!doc->replay_apart || !to)
		return;
	move_all(doc, doc->replay, doc->replay_len, to);
}

void markdown_rebase(markdown_doc *doc, const char *to)
{
	if (!doc->borrowed || !to)
		return;
	move_all(doc, doc->borrowed, doc->borrowed_len, to);
	doc->borrowed = to;
}

void markdown_set_mapped(markdown_doc *doc, const void *mapping, const void *replay_mapping)
{
	if (doc->borrowed) {
		doc->mapped = true;
		doc->mapping = mapping;
		doc->replay_mapped = doc->replay_apart && replay_mapping == mapping;
	}
}

/* Lets go of the pages wholly inside bytes a..b: the ones at its ends
 * hold a neighbour's bytes too. */
static void drop_range(uintptr_t a, uintptr_t b)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	a = (a + page - 1) & ~(page - 1);
	b &= ~(page - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

void markdown_drop_pages(const markdown_doc *doc)
{
	if (!doc || !doc->mapped)
		return;
	drop_range((uintptr_t)doc->borrowed, (uintptr_t)doc->borrowed + doc->borrowed_len);
	if (doc->replay_mapped)
		drop_range((uintptr_t)doc->replay, (uintptr_t)doc->replay + doc->replay_len);
}

/* Bytes between two documents that still join them: a record's header
 * and key. What lies between is let go with them. */
#define DROPS_GAP 4096
/* Held at most before they are let go: a few dozen articles. */
#define DROPS_MAX (1u << 20)

static void span_flush(markdown_span *s)
{
	if (s->to > s->from)
		drop_range(s->from, s->to);
	s->from = s->to = 0;
}

/* Bytes a..b of an article into run s of q. */
static void span_add(markdown_drops *q, markdown_span *s, uintptr_t a, uintptr_t b)
{
	if (q->spread) {
		s->from = s->to > s->from && s->from < a ? s->from : a;
		s->to = b > s->to ? b : s->to;
		return;
	}
	if (s->to > s->from && a <= s->to + DROPS_GAP && b + DROPS_GAP >= s->from) {
		if (a < s->from)
			s->from = a;
		if (b > s->to)
			s->to = b;
	} else {
		span_flush(s);
		s->from = a;
		s->to = b;
	}
	if (s->to - s->from >= DROPS_MAX)
		span_flush(s);
}

void markdown_drops_add(markdown_drops *q, const markdown_doc *doc)
{
	if (!doc || !doc->mapped)
		return;
	/* Never a span across two mappings: what lies between is not ours. */
	bool held = q->heads.to > q->heads.from || q->replays.to > q->replays.from;
	if (held && q->mapping != doc->mapping)
		markdown_drops_flush(q);
	q->mapping = doc->mapping;
	uintptr_t a = (uintptr_t)doc->borrowed;
	span_add(q, &q->heads, a, a + doc->borrowed_len);
	if (doc->replay_mapped) {
		a = (uintptr_t)doc->replay;
		span_add(q, &q->replays, a, a + doc->replay_len);
	}
	if (q->spread && ++q->n >= MARKDOWN_DROPS_SPREAD)
		markdown_drops_flush(q);
}

void markdown_drops_flush(markdown_drops *q)
{
	span_flush(&q->heads);
	span_flush(&q->replays);
	q->n = 0;
}
