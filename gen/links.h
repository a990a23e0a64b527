/* links: links between articles, checked and rewritten, and the graph
 * they make.
 *
 * Authors link to source files ("../tips/x.md#tip-3") because that is what
 * their editor and git understand; readers need page URLs. This module
 * resolves each such link against the site, reports every link whose
 * target or anchor does not exist (file, line and column of the link),
 * and turns the rest into URLs relative to the page that holds them, so
 * the site works at any base path and from disk. External links are left
 * alone.
 *
 * Resolved once, the links form a graph: the links out of every page and
 * the backlinks into it, each with the sentence that holds the link, so a
 * page can say where it is mentioned ("Genoemd in") and a tip list can say
 * it per tip. Documents are named by their index in site.docs. */
#ifndef GEN_LINKS_H
#define GEN_LINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "markdown.h"
#include "site.h"

/* What a link destination names. */
typedef enum links_kind {
	LINKS_EXTERNAL, /* a scheme, "//host" or "/path": not ours to check */
	LINKS_LOCAL,    /* "#anchor" in the same document (or "" ) */
	LINKS_PAGE,     /* a published document */
	LINKS_ASSET,    /* a file under content/ that is not Markdown */
	LINKS_MISSING,  /* nothing there */
	LINKS_OUTSIDE,  /* climbs above the content folder */
	LINKS_SKIPPED,  /* a draft or future article left out of this build */
	LINKS_FAILED,   /* an article that could not be read (its error is out) */
} links_kind;

typedef struct links_target {
	links_kind kind;
	const document *doc; /* LINKS_PAGE */
	char *rel;           /* content-relative path (PAGE, ASSET, MISSING, SKIPPED); owned */
	const char *anchor;  /* after '#' in the destination, NULL when none; borrowed */
} links_target;

/* Works out what url, written in from's Markdown, names: folds "." and
 * "..", decodes %XX, and takes a folder ("../tips/") to its _index.md.
 * Fills *out; release it with links_target_release. */
void links_resolve(const site *s, const document *from, const char *url,
		   links_target *out);
void links_target_release(links_target *t);

/* The article the file rel (below the content folder) became through
 * renames in git's history, and (in *when) the commit of its newest
 * rename: for a link, or a leerpad entry, that broke when its file was
 * moved. NULL when rel was never renamed, the file is gone since, or the
 * build has no history. A walk over every change: for errors only. */
struct history_commit;
const document *links_renamed(const site *s, const char *rel,
			      const struct history_commit **when);

/* Checks every link and image of every document. Broken links go to diags
 * as errors (warnings when site.toml says links = "warn"); images that do
 * not exist are always errors. Returns the number of errors added. */
size_t links_check(const site *s, diag_list *diags);

/* The URL to write in from's page for a link destination url, or NULL when
 * it stays as written (external, local anchor, or not resolvable). Caller
 * frees. */
char *links_rewrite(const site *s, const document *from, const char *url,
		    bool image);
/* The same for from's Markdown shown on another page (page_url, "print/"). */
char *links_rewrite_on(const site *s, const document *from, const char *page_url,
		       const char *url, bool image);

/* "../../" for a page at "a/b/", "./" for the home page. Caller frees. */
char *links_root(const char *page_url);

/* One link from a page to another page (links to itself are left out). */
typedef struct links_edge {
	size_t from, to;            /* indexes in site.docs */
	const markdown_link *link;  /* in from's Markdown; borrowed */
	const char *anchor;         /* in to, after '#': "" for the page itself */
	long anchor_at;             /* where in link->url it begins, or -1: no '#' */
	int tip;                    /* N when anchor is to's "tip-N", else 0 */
	/* The sentence holding the link, in from's plain block text. */
	const char *block;          /* borrowed from from's Markdown */
	size_t sentence_start, sentence_end;
	size_t text_start, text_end; /* the link's own text, inside the sentence */
} links_edge;

typedef struct links_graph links_graph;

/* Resolves every link of every document of s once and reports what is
 * broken into diags (may be NULL), as links_check does. The graph borrows
 * from s, which must outlive it. Caller frees with links_graph_free. */
links_graph *links_graph_new(const site *s, diag_list *diags);
void links_graph_free(links_graph *g);
/* Errors reported while building (0 when diags was NULL or all is well). */
size_t links_graph_errors(const links_graph *g);

/* What links_graph_new_with made of each article, held by a process that
 * builds again and again (gen serve) for its next build. While the world
 * the links resolve in is as it was (every article's facts, see
 * document_facts, the assets, the drafts left out and the articles that
 * failed, site.toml), an article with the same content id has the same
 * links, leading to the same places, with the same messages: those are
 * taken from the memory, and its links are not resolved again. The
 * graph and the messages come out the same as without it. */
typedef struct links_memory links_memory;
links_memory *links_memory_new(void);
void links_memory_free(links_memory *m);
/* links_graph_new, using m (NULL: none; with diags NULL it is not used
 * either) and leaving this graph's articles to it. */
links_graph *links_graph_new_with(const site *s, links_memory *m, diag_list *diags);
/* A memory kept on disk, for the next gen build (build.c keeps it in
 * the build cache): links_memory_freeze appends m's form to out, and
 * links_memory_thaw fills an empty m from what r reads there and returns
 * true, or false with m left empty when the bytes are not such a form.
 * A thawed memory is trusted only as far as its world and each
 * article's identity reach, as a held one is: an article whose kept
 * links do not fit its Markdown is checked again. */
void links_memory_freeze(const links_memory *m, buf *out);
bool links_memory_thaw(links_memory *m, buf_reader *r);
/* Articles whose links links_graph_new_with took from the memory. */
size_t links_graph_held(const links_graph *g);
/* Everything besides an article itself that its links resolve against,
 * hashed: every article's facts (document_facts: its path, front matter,
 * links and anchors among them), the assets, the drafts left out, the
 * articles that failed, and site.toml (s->stamp). */
uint64_t links_world(const site *s);
/* links_world of the graph's site, when links_graph_new_with worked it
 * out (with a memory); else 0. */
uint64_t links_graph_world(const links_graph *g);

/* Links out of document doc, in source order. */
size_t links_out_count(const links_graph *g, size_t doc);
const links_edge *links_out_at(const links_graph *g, size_t doc, size_t i);
/* Links into document doc, by source document (site order), then in
 * source order. */
size_t links_in_count(const links_graph *g, size_t doc);
const links_edge *links_in_at(const links_graph *g, size_t doc, size_t i);

/* The context of e as three parts: the sentence before the link text,
 * the link text and the rest of the sentence. A sentence longer than max
 * bytes is cut at word boundaries on either side of the link, with "…"
 * where it was cut. Appends to the three buffers. */
void links_context(const links_edge *e, size_t max, buf *before, buf *text,
		   buf *after);

/* How far the sentence around a link is looked for on either side of
 * it: a block of one sentence a megabyte long, with thousands of links,
 * is not read whole for each. links_context cuts a context longer than
 * its max around the link, so for any max up to this the result is that
 * of the whole sentence. */
#define LINKS_SENTENCE_MAX 1024

/* The sentence of text (plain text, single spaces) that holds the bytes
 * [start, end): sets *s_start and *s_end. A sentence ends after '.', '!',
 * '?' or '…' (and closing quotes or brackets) followed by a space and a
 * capital, a digit or an opening quote, but not after an abbreviation
 * ("bijv.", "o.a.", a single letter). Not looked for further than
 * LINKS_SENTENCE_MAX bytes before start and after end. */
void links_sentence(const char *text, size_t start, size_t end,
		    size_t *s_start, size_t *s_end);

#endif
