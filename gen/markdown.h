/* markdown: the Markdown body of an article, through cmark-gfm.
 *
 * The only module that includes cmark-gfm's headers. It parses a body with
 * the GitHub extensions (tables, strikethrough, autolinks, task lists,
 * footnotes, smart punctuation), gives headings stable unique ids, numbers
 * the items of a tip list (#tip-N), collects the links and images for the
 * link checker, and renders HTML with links rewritten by the caller.
 * Raw HTML is dropped unless the site allows it. Positions are lines and
 * columns of the article file, not of the body. */
#ifndef GEN_MARKDOWN_H
#define GEN_MARKDOWN_H

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
} markdown_options;

typedef struct markdown_heading {
	int level;        /* 1..6 */
	const char *text; /* plain text */
	const char *id;   /* unique slug: "wat-hier-misging", "-2" suffix on repeats */
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

#endif
