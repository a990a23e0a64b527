/* document: one article, parsed on its own.
 *
 * Everything a single Markdown file yields without looking at any other
 * file: front matter, the Markdown tree, its URL and output path. This is
 * the per-document stage of the pipeline, so it may run on any thread;
 * cross-document work (sections, links, themes) happens in site. */
#ifndef GEN_DOCUMENT_H
#define GEN_DOCUMENT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "err.h"
#include "frontmatter.h"
#include "markdown.h"
#include "source.h"

/* Why a document has a theme: the passage a filter tagged with
 * doc:tag (see filter.h). Themes set by hand in front matter have none. */
typedef struct document_evidence {
	char *theme;    /* theme id: "snifo-gedrag" */
	int line;       /* file line of the passage */
	char *excerpt;  /* plain text: the sentence of the passage that earned it */
	char *anchor;   /* id of the marked passage: "bewijs-snifo-gedrag-1" */
	char *note;     /* the filter's note, or NULL */
} document_evidence;

typedef struct document {
	char *path;      /* project-relative: "content/verhalen/de-garage.md" */
	char *rel;       /* content-relative: "verhalen/de-garage.md" */
	char *dir;       /* content-relative directory: "verhalen" or "" */
	char *url;       /* site-relative: "verhalen/de-garage/"; "" for the home page;
			    as a URL: "verhalen/Klant%20aan%20het%20woord/" for a
			    file "Klant aan het woord.md" (buf_put_url_path) */
	char *out_path;  /* "verhalen/de-garage/index.html", as the file is named;
			    the five share one allocation, freed through path */
	char id[41];     /* content hash (git blob id) */
	bool is_index;   /* an _index.md: a section's (or the home page's) intro */
	bool paths_gathered; /* the five are in a block of the site's
				(document_paths_gather), not freed with it */
	frontmatter fm;
	markdown_doc *md;
	/* In the order the filters tagged them. Read through
	 * document_evidence_count and document_evidence_at: a thawed
	 * article that borrows its strings reads them from its frozen bytes
	 * (evidence_frozen) only when first asked for. */
	document_evidence *evidence;
	size_t nevidence;
	const char *evidence_frozen;
	size_t evidence_frozen_len;
	uint64_t evidence_sum;
	atomic_bool *evidence_damage;
	_Atomic unsigned char evidence_state;
	uint64_t facts;  /* document_facts, set once the filters are done */
	uint64_t identity; /* document_identity, set with the path and id */
	uint64_t shelving; /* document_shelving, set with facts */
} document;

/* d's evidence: how many, and the i-th (NULL past the end). Safe on any
 * thread: the first ask of a borrowing thaw reads it (see document_thaw),
 * the others wait for that. document_evidence_held says whether it is
 * read. */
size_t document_evidence_count(const document *d);
const document_evidence *document_evidence_at(const document *d, size_t i);
bool document_evidence_held(const document *d);

/* Parses file f (a .md below cfg->content_dir) into *out. Warnings go to
 * diags. filtered: filter_state_run comes next and finishes the Markdown
 * (markdown_options.filtered); until it has, only the filters may read
 * out->md. Returns 0, or a negative code with err set (file:line:col). */
int document_parse(document *out, const source_file *f, const config *cfg, bool filtered,
		   diag_list *diags, gen_err *err);
void document_release(document *d);

/* Moves the paths of docs[0..n) (path, rel, dir, out_path and url) into
 * one block, in that order, and returns it: the caller frees it after
 * the documents are released. Read one after another, as every pass over
 * a site's articles reads them, the paths are then next to each other in
 * memory, not one a page apart among the other allocations of the thread
 * that parsed each article. Only for documents that go with the block
 * (not kept by a memory beyond it). */
char *document_paths_gather(document *docs, size_t n);

/* Turns a content-relative path of a Markdown file into its URL:
 * "verhalen/x.md" -> "verhalen/x/", "verhalen/_index.md" -> "verhalen/",
 * "_index.md" -> "". Caller frees. */
char *document_url_for(const char *rel);

/* The output path of the page that sends an alias (front matter
 * "aliases", an old URL of the article) on to it: the alias without its
 * leading '/', its %XX decoded, and "index.html" in the folder it names
 * ("/oud/pad" and "oud/pad/" -> "oud/pad/index.html", "oud.html" as it
 * is). Caller frees. */
char *document_alias_path(const char *alias);

/* A hash of everything other pages read of d: its paths and URL, its
 * front matter, its evidence and the facts of its Markdown (see
 * markdown_facts). A change that leaves it as it was (an edit of the
 * text that keeps title, summary, themes, links and headings) can
 * change only d's own pages, its piece of the print page and the search
 * index. Line numbers are left out: only messages show them. */
uint64_t document_facts(const document *d);
/* A hash of d's path and content id: which article, in which version.
 * Pages are kept by it, ten thousand times a build, so it is worked out
 * once (d->identity) rather than from the two strings each time. */
uint64_t document_identity(const document *d);
/* A hash of what related articles are found by besides links: whether d
 * is a section's page, its date and its themes (see related.c). */
uint64_t document_shelving(const document *d);

/* The build cache's form of a document as the filters left it (front
 * matter, evidence, the frozen Markdown; see markdown_freeze), appended
 * to out. document_thaw makes the document of file f again from it
 * (f's path and id; its bytes are not needed) and returns 0, or -1 when
 * data is damaged, with *d released; borrow as for markdown_thaw (with
 * MARKDOWN_BORROW_ALL the front matter's strings point into data too). A
 * thawed document reads and renders
 * like the parsed one but cannot be filtered again. document_freeze
 * returns the length of the Markdown's replay, which ends what it
 * appended; document_thaw_checked thaws as markdown_thaw_checked does
 * with damage, for data that no checksum covered so far (damage may be
 * NULL: then it is document_thaw), and its evidence likewise: with
 * MARKDOWN_BORROW_ALL read and checked when first asked for (damage then
 * set, and no evidence read), else at once. */
size_t document_freeze(const document *d, buf *out);
/* document_freeze with the Markdown's replay appended to replay_out, not
 * to out (markdown_freeze_split). What it appends to out begins with *head
 * bytes (head may be NULL) that say everything but the evidence and the
 * Markdown's tail (markdown_freeze_split), each after a checksum of its
 * own there: a one-shot build checks the head of ten thousand articles
 * and leaves those to be checked by the few readers that ask for them. */
size_t document_freeze_split(const document *d, buf *out, buf *replay_out, size_t *head);
int document_thaw(document *d, const source_file *f, const config *cfg,
		  const char *data, size_t len, markdown_borrow borrow);
int document_thaw_checked(document *d, const source_file *f, const config *cfg,
			  const char *data, size_t len, markdown_borrow borrow,
			  atomic_bool *damage);
/* document_thaw_checked for document_freeze_split's two pieces: data,
 * and the replay (replay_len bytes; NULL: it follows in data). */
int document_thaw_split(document *d, const source_file *f, const config *cfg, const char *data,
			size_t len, const char *replay, size_t replay_len, markdown_borrow borrow,
			atomic_bool *damage);

/* Once the filters are done nothing walks d's Markdown tree again, and
 * the tree with its parse takes several times what later stages read.
 * document_slim drops it: d becomes as if thawed. With frozen (d's own
 * document_freeze form, which must outlive d: the build cache's kept
 * copy) d borrows from it; without, d keeps a compact copy of its own.
 * f is the file d was parsed from. Should thawing fail, d is left as
 * it was. */
void document_slim(document *d, const source_file *f, const config *cfg,
		   const char *frozen, size_t len);
/* document_slim from document_freeze_split's two pieces, both kept. */
void document_slim_split(document *d, const source_file *f, const config *cfg,
			 const char *frozen, size_t len, const char *replay, size_t replay_len);

#endif
