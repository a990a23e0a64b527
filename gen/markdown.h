/* markdown: the Markdown body of an article, through cmark-gfm.
 *
 * The only module that includes cmark-gfm's headers. It parses a body with
 * the GitHub extensions (tables, strikethrough, autolinks, task lists,
 * footnotes, smart punctuation), gives headings stable unique ids, numbers
 * the items of a tip list (#tip-N), collects the links and images for the
 * link checker, and renders HTML with links rewritten by the caller.
 * Raw HTML is dropped unless the site allows it. Positions are lines and
 * columns (counted in bytes) of the article file, not of the body. */
#ifndef GEN_MARKDOWN_H
#define GEN_MARKDOWN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

typedef struct markdown_doc markdown_doc;

typedef struct markdown_options {
	bool unsafe_html; /* pass raw HTML through (site.toml unsafe_html) */
	bool tips;        /* a tip list: number the items of top-level ordered lists */
	int line_offset;  /* added to body line numbers (body_line - 1) */
	int col_offset_first_line; /* reserved; 0 */
	/* Filters edit the tree next: the walk that collects headings, tips,
	 * links and text is left to the markdown_analyze that follows them,
	 * which must then be called before anything but the node API reads
	 * the document. Most filters edit most articles, and the walk done
	 * here would be done again. */
	bool filtered;
} markdown_options;

typedef struct markdown_heading {
	int level;        /* 1..6 */
	const char *text; /* plain text */
	const char *id;   /* unique slug: "wat-hier-misging", then "wat-hier-misging-1", "-2", ... */
	int line;         /* file line */
} markdown_heading;

typedef struct markdown_tip {
	int n;            /* 1-based */
	const char *id;   /* "tip-N" */
	const char *text; /* plain text of the whole item */
	const char *title;/* plain text of a leading bold run ("Leg uit waarom."), or "" */
	int line;
} markdown_tip;

typedef struct markdown_link {
	const char *url;  /* destination as written */
	const char *text; /* plain text of the link */
	int line, col;    /* file position of the link's opening '[' (or '<' / start of autolink) */
	bool image;       /* an image (![alt](src)) rather than a link */
	int block_index;  /* index of the enclosing top-level block, for context */
} markdown_link;

/* Parses a body of len bytes. Invalid UTF-8 is replaced by U+FFFD and
 * reported as a warning (with its line) into diags (may be NULL). path is
 * for messages. Returns 0 and *out (caller frees with markdown_free), or a
 * negative code with err filled. */
int markdown_parse(markdown_doc **out, const char *path, const char *text,
		   size_t len, const markdown_options *opt, diag_list *diags,
		   gen_err *err);
void markdown_free(markdown_doc *doc);

size_t markdown_heading_count(const markdown_doc *doc);
const markdown_heading *markdown_heading_at(const markdown_doc *doc, size_t i);
size_t markdown_tip_count(const markdown_doc *doc);
const markdown_tip *markdown_tip_at(const markdown_doc *doc, size_t i);
size_t markdown_link_count(const markdown_doc *doc);
const markdown_link *markdown_link_at(const markdown_doc *doc, size_t i);
/* Whether id is a heading id, a tip id or a footnote id of this document. */
bool markdown_has_anchor(const markdown_doc *doc, const char *id);
/* Plain text of the top-level block with this index (context of a link). */
const char *markdown_block_text(const markdown_doc *doc, int block_index);
/* Plain text of the first paragraph ("" when none): summary fallback. */
const char *markdown_first_paragraph(const markdown_doc *doc);
/* Number of words of the body (reading time). */
size_t markdown_word_count(const markdown_doc *doc);

/* Kinds of text a document yields for the search index. */
typedef enum {
	MARKDOWN_TEXT_BODY,
	MARKDOWN_TEXT_HEADING,
	MARKDOWN_TEXT_TIP
} markdown_text_kind;
/* Called once per block of plain text, in document order. anchor is the id
 * of the nearest heading or tip item at or before this text ("" before
 * any), so a search result can link to "#tip-3" or "#wat-hier-misging". */
typedef void (*markdown_text_fn)(void *ctx, markdown_text_kind kind,
				 const char *text, size_t len, const char *anchor);
/* Walks the plain text of every leaf block (paragraphs, headings, code
 * blocks, table rows) in document order. */
void markdown_walk_text(const markdown_doc *doc, markdown_text_fn fn, void *ctx);

/* Rewrites a link destination while rendering: returns a new URL the
 * renderer takes ownership of (malloc'd), or NULL to keep the original.
 * image tells whether it is an image source. */
typedef char *(*markdown_rewrite_fn)(void *ctx, const char *url, bool image);

/* Appends the body as HTML. Headings carry their id and a permalink
 * anchor; tip items are <li id="tip-N" class="tip"> with a permalink.
 * Thread safe for distinct documents. */
void markdown_render_html(buf *out, const markdown_doc *doc,
			  markdown_rewrite_fn rewrite, void *ctx);

/* ---- the tree, for filters ----
 *
 * Lua filters walk and edit the parsed tree through these functions, so
 * that only this module knows cmark-gfm. A markdown_node is a node of one
 * document's tree, or a node made for it and not yet attached. Nodes are
 * borrowed from the document; an unattached node is freed with
 * markdown_node_free (attaching it hands it to the document). Functions
 * that change the tree take the document, which then needs
 * markdown_analyze before its headings, tips, links, blocks and anchors
 * are read again. Nothing here is thread safe for one document. */

typedef struct markdown_node markdown_node;

typedef enum markdown_node_type {
	MARKDOWN_NODE_NONE,
	/* blocks */
	MARKDOWN_NODE_DOCUMENT,
	MARKDOWN_NODE_BLOCK_QUOTE,
	MARKDOWN_NODE_LIST,
	MARKDOWN_NODE_ITEM,
	MARKDOWN_NODE_CODE_BLOCK,
	MARKDOWN_NODE_HTML_BLOCK,
	MARKDOWN_NODE_CUSTOM_BLOCK,
	MARKDOWN_NODE_PARAGRAPH,
	MARKDOWN_NODE_HEADING,
	MARKDOWN_NODE_THEMATIC_BREAK,
	MARKDOWN_NODE_FOOTNOTE_DEFINITION,
	MARKDOWN_NODE_TABLE,
	MARKDOWN_NODE_TABLE_ROW,  /* the header row too (markdown_node_table_header) */
	MARKDOWN_NODE_TABLE_CELL,
	/* inlines */
	MARKDOWN_NODE_TEXT,
	MARKDOWN_NODE_SOFT_BREAK,
	MARKDOWN_NODE_LINE_BREAK,
	MARKDOWN_NODE_CODE,
	MARKDOWN_NODE_HTML_INLINE,
	MARKDOWN_NODE_EMPH,
	MARKDOWN_NODE_STRONG,
	MARKDOWN_NODE_LINK,
	MARKDOWN_NODE_IMAGE,
	MARKDOWN_NODE_FOOTNOTE_REFERENCE,
	MARKDOWN_NODE_STRIKETHROUGH,
	MARKDOWN_NODE_SPAN,       /* made by filters only: <span id class> */
	MARKDOWN_NODE_TYPE_COUNT
} markdown_node_type;

/* The filter name of a type: "Paragraph", "BlockQuote", "SoftBreak", ...
 * ("" for MARKDOWN_NODE_NONE). */
const char *markdown_node_type_name(markdown_node_type t);
/* The type with that filter name, or MARKDOWN_NODE_NONE. */
markdown_node_type markdown_node_type_from_name(const char *name);
bool markdown_node_type_is_block(markdown_node_type t);

/* The document node. */
markdown_node *markdown_root(markdown_doc *doc);
markdown_node_type markdown_node_type_of(const markdown_node *n);
/* Navigation; NULL at the ends. */
markdown_node *markdown_node_parent(const markdown_node *n);
markdown_node *markdown_node_first_child(const markdown_node *n);
markdown_node *markdown_node_last_child(const markdown_node *n);
markdown_node *markdown_node_next(const markdown_node *n);
markdown_node *markdown_node_prev(const markdown_node *n);

/* File line and column (bytes) where n starts, and the line where it
 * ends. A node without a position of its own (breaks, nodes made by a
 * filter) reports its nearest ancestor's; 0 when none has one. */
int markdown_node_line(const markdown_doc *doc, const markdown_node *n);
int markdown_node_col(const markdown_doc *doc, const markdown_node *n);
int markdown_node_end_line(const markdown_doc *doc, const markdown_node *n);

/* Fields. Getters return NULL (strings) or 0 when the type has no such
 * field; setters return 0, or -1 when it has none or the value is out of
 * range. Strings are copied. */
const char *markdown_node_literal(const markdown_node *n); /* Text, Code, CodeBlock, Html* */
int markdown_node_set_literal(markdown_doc *doc, markdown_node *n, const char *s);
int markdown_node_heading_level(const markdown_node *n);   /* 1..6 */
int markdown_node_set_heading_level(markdown_doc *doc, markdown_node *n, int level);
const char *markdown_node_url(const markdown_node *n);     /* Link, Image */
int markdown_node_set_url(markdown_doc *doc, markdown_node *n, const char *url);
const char *markdown_node_title(const markdown_node *n);   /* Link, Image */
int markdown_node_set_title(markdown_doc *doc, markdown_node *n, const char *title);
const char *markdown_node_fence_info(const markdown_node *n); /* CodeBlock */
int markdown_node_set_fence_info(markdown_doc *doc, markdown_node *n, const char *info);
/* List: ordered or bullet, the first number, tight (items without <p>). */
bool markdown_node_list_ordered(const markdown_node *n);
int markdown_node_set_list_ordered(markdown_doc *doc, markdown_node *n, bool ordered);
int markdown_node_list_start(const markdown_node *n);
int markdown_node_set_list_start(markdown_doc *doc, markdown_node *n, int start);
bool markdown_node_list_tight(const markdown_node *n);
int markdown_node_set_list_tight(markdown_doc *doc, markdown_node *n, bool tight);
/* Whether a TableRow is the header row. */
bool markdown_node_table_header(const markdown_node *n);
/* A task list item's box: -1 not a task, 0 open, 1 checked. */
int markdown_node_task(const markdown_node *n);

/* Appends the plain text of n and everything below it: literals, breaks
 * and block boundaries as single spaces, trimmed (as in link texts and
 * markdown_block_text). */
void markdown_node_text(const markdown_node *n, buf *out);
/* A count of the changes made to doc's tree through the functions here
 * (literals, links, headings, lists, nodes moved), not its ids and
 * classes: while it stays the same, so does every node's text. */
unsigned markdown_edits(const markdown_doc *doc);

/* Marks a node for the renderer: an id and a class (either may be NULL
 * to leave it as it is, "" to clear it). Blocks get them on their element
 * (<p id="x" class="y">, <blockquote>, <li>, <pre>, <tr>, ...); a heading,
 * a paragraph of a tight list and a Text node, which have no element of
 * their own to spare, on a <span> around their content; Span, Emph,
 * Strong, Link and Code on theirs. Marks on other nodes (tip items,
 * breaks, images, raw HTML) are kept but not shown. Ids become anchors of
 * the document (markdown_has_anchor), and headings avoid them. Returns 0. */
int markdown_node_set_attr(markdown_doc *doc, markdown_node *n, const char *id,
			   const char *cls);
/* The mark's id and class, "" when unset. */
const char *markdown_node_id(const markdown_node *n);
const char *markdown_node_class(const markdown_node *n);

/* Makes a node of type t for doc, unattached (caller frees it with
 * markdown_node_free unless it attaches it). Returns NULL for types that
 * cannot be made on their own: Document, tables, footnotes, custom
 * blocks, strikethrough. A new List is a bullet list; a new Heading has
 * level 1. */
markdown_node *markdown_node_new(markdown_doc *doc, markdown_node_type t);
/* Tree edits. A node that is elsewhere in a tree is moved. They return
 * 0, or -1 when the parent cannot hold the node there (a Paragraph in a
 * Heading, an Item outside a List, an ancestor inside its descendant)
 * and nothing changed. */
int markdown_node_append_child(markdown_doc *doc, markdown_node *parent,
			       markdown_node *child);
int markdown_node_insert_before(markdown_doc *doc, markdown_node *n,
				markdown_node *sibling);
int markdown_node_insert_after(markdown_doc *doc, markdown_node *n,
			       markdown_node *sibling);
/* Puts node where old is; old is unlinked (and still the caller's). */
int markdown_node_replace(markdown_doc *doc, markdown_node *old, markdown_node *node);
/* Whether a node of type child could go into parent. */
bool markdown_node_can_contain(const markdown_node *parent, markdown_node_type child);
/* Takes n out of its tree; the caller then owns it (markdown_node_free). */
void markdown_node_unlink(markdown_doc *doc, markdown_node *n);
/* Frees an unattached node and everything below it; accepts NULL. */
void markdown_node_free(markdown_node *n);

/* Recomputes what markdown_parse collected (headings and their ids,
 * tips, links, blocks, first paragraph, word count, anchors) after the
 * tree was edited; tips says whether this is a tip list (the kind may have
 * changed). Does nothing when nothing changed. Line numbers of links in
 * text a filter made are those of the enclosing block, or the body's
 * first line when that is new as well. */
void markdown_analyze(markdown_doc *doc, bool tips);

/* ---- frozen documents, for the build cache ----
 *
 * markdown_freeze appends to out what the later stages read of doc (its
 * headings, tips, links, blocks, anchors, word count, text walk, and its
 * HTML with every link destination left to be rewritten). markdown_thaw
 * makes a document of that again: every reading function above gives
 * the same results (markdown_block_text only for a block that holds a
 * link, the one use of it; others read as "") and markdown_render_html
 * the same HTML for the same
 * rewrites, but it has no tree (markdown_root is NULL), so it cannot be
 * filtered. Returns 0 and *out (caller frees with markdown_free), or -1
 * when data is not a frozen document of this version (damaged, cut
 * short): the cache then parses the article again. Borrowing (see
 * markdown_borrow) makes the document point into data, which must then
 * outlive it (a mapped cache file): the HTML and the text walk, and with
 * MARKDOWN_BORROW_ALL its strings too, which saves a thawed article its
 * allocations but keeps the pages of data they lie in in use. A
 * borrowing document also reads its anchors, HTML and text walk (its
 * "replay", frozen last, after a checksum of its own) from data only
 * when first asked for them, on whichever thread asks (a rebuild renders
 * few of the articles it thaws): markdown_thaw does not check them, so
 * data must be whole (the build cache's checksum); bytes that are not
 * are read as far as they go, never past their end. Its HTML and text
 * walk are read where they lie each time they are asked for, into
 * nothing the document keeps; only its anchors' table, for a caller that
 * needs more than the list of their names (markdown_facts), is read into
 * memory and kept (markdown_replay_held). In the same way, with
 * MARKDOWN_BORROW_ALL, its headings and tips (its "tail", frozen after
 * a checksum of their own, before the replay) are read when first asked
 * for (markdown_tail_held): a rebuild reads every article's links,
 * anchors and first paragraph, and these of the few it renders.
 * markdown_freeze returns the length of the replay, which ends what it
 * appended; a borrowing document's tail and replay are put out again as
 * they came, read or not. */
size_t markdown_freeze(const markdown_doc *doc, buf *out);
/* Whether doc holds its replay read into memory: a parsed document or a
 * copying thaw's always, a borrowing one's once markdown_facts asked. */
bool markdown_replay_held(const markdown_doc *doc);
/* Whether doc's headings and tips are read: a parsed
 * document's and any thaw's but MARKDOWN_BORROW_ALL's from the start, a
 * MARKDOWN_BORROW_ALL one's once anything asked for them. */
bool markdown_tail_held(const markdown_doc *doc);
/* markdown_freeze with the replay (the bytes it counts) appended to
 * replay_out instead, the rest to out. The tail ends what goes to out
 * before the replay; *tail_len (when not NULL) is its length, so that a
 * caller who checks what comes before it may leave it to the reader. */
size_t markdown_freeze_split(const markdown_doc *doc, buf *out, buf *replay_out,
			     size_t *tail_len);

/* What other pages read of doc, hashed into h: headings (level, text,
 * id), tips, links (destination, text, image or not, and the text of the
 * block around each, shown as a backlink's context), the first paragraph
 * and the anchors links may point at. Left out: the HTML and the number
 * of words, which only the document's own page and its piece of the
 * print page show, and line numbers, which only messages show. A parsed
 * document and the same one thawed hash alike. */
uint64_t markdown_facts(const markdown_doc *doc, uint64_t h);
/* The parser and its version ("cmark-gfm 0.29.0.gfm.6"), for cache keys. */
const char *markdown_engine(void);
typedef enum markdown_borrow {
	MARKDOWN_COPY,        /* everything copied */
	MARKDOWN_BORROW_TEXT, /* the HTML and the text walk point into data */
	MARKDOWN_BORROW_ALL,  /* and every string: headings, links, anchors */
} markdown_borrow;
int markdown_thaw(markdown_doc **out, const char *data, size_t len, markdown_borrow borrow);
/* markdown_thaw for data whose tail and replay no checksum has covered
 * (a one-shot build checks an article's record in the build cache only
 * up to them): a thaw that reads the tail at once checks it at once, and
 * a copying thaw its replay too, and fails as for damage; a borrowing
 * one checks each when first asked for it, and when it does not match
 * sets *damage and reads as if the document had no headings and tips
 * (the tail), or no anchors, HTML or text (the replay).
 * *damage must outlive the document. */
int markdown_thaw_checked(markdown_doc **out, const char *data, size_t len,
			  markdown_borrow borrow, atomic_bool *damage);
/* markdown_thaw_checked for frozen bytes in two pieces, as
 * markdown_freeze_split makes them: data up to the replay (its checksum
 * included), and the replay elsewhere (NULL: it follows in data). A
 * borrowing document points into both; markdown_borrowed names data,
 * markdown_replay_apart the replay. */
int markdown_thaw_split(markdown_doc **out, const char *data, size_t len, const char *replay,
			size_t replay_len, markdown_borrow borrow, atomic_bool *damage);

/* A borrowing document's frozen bytes (the data it was thawed from), or
 * NULL. markdown_rebase points it at an identical copy of them at to
 * (the same bytes, read back from the file they were written to), so
 * the first copy may be freed. markdown_set_mapped tells it that they
 * are in a file's read-only mapping, which starts at mapping: then
 * markdown_drop_pages lets the kernel drop the pages they fill (they are
 * read back from the file when next touched), which keeps a build's
 * memory to the articles it is working on. Without the mark,
 * markdown_drop_pages does nothing. */
const char *markdown_borrowed(const markdown_doc *doc);
void markdown_rebase(markdown_doc *doc, const char *to);
/* The same for a replay thawed apart (markdown_thaw_split): where it
 * is (NULL for a document without one apart), and the move to a copy. */
const char *markdown_replay_apart(const markdown_doc *doc);
void markdown_rebase_replay(markdown_doc *doc, const char *to);
/* replay_mapping: the mapping a replay apart is in (NULL: none); its
 * pages are dropped with the rest when it is mapping too. */
void markdown_set_mapped(markdown_doc *doc, const void *mapping, const void *replay_mapping);
void markdown_drop_pages(const markdown_doc *doc);

/* markdown_drop_pages for a run of documents: a stage that goes through
 * the articles in order adds each one it is done with, and neighbours in
 * the file are let go together, with one call to the kernel where there
 * were dozens (each call interrupts the other cores to flush their
 * TLBs). A page is let go once the documents added cover it, give or take
 * a record's header between them; a run never spans two mappings.
 * Zero-initialised, owned by one thread; markdown_drops_flush lets go of
 * what is still held, and must come before the mapping goes. */
typedef struct markdown_span {
	uintptr_t from, to;
} markdown_span;
typedef struct markdown_drops {
	/* The bytes added since the last flush: the articles' records, and
	 * their replays where those lie apart (in a run of their own in the
	 * file, see cache_put_document). */
	markdown_span heads, replays;
	const void *mapping; /* the mapping they are in */
	/* For a stage that goes through the articles in another order than
	 * the file's (the print page, by section): the whole span of every
	 * MARKDOWN_DROPS_SPREAD articles is let go at once, the pages of
	 * articles between them too. Those are read back from the page
	 * cache when next touched, which costs far less than a call to the
	 * kernel for each article. */
	bool spread;
	unsigned n;         /* articles added since the last flush */
} markdown_drops;
#define MARKDOWN_DROPS_SPREAD 256
void markdown_drops_add(markdown_drops *q, const markdown_doc *doc);
void markdown_drops_flush(markdown_drops *q);

#endif
