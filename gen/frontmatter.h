/* frontmatter: the block of metadata at the top of an article.
 *
 * TOML between `+++` lines or YAML between `---` lines (through libyaml).
 * The known keys are checked and copied into typed fields; every key,
 * known or not, stays in `meta` so templates and filters see it. Errors
 * point at the line and column in the article file. */
#ifndef GEN_FRONTMATTER_H
#define GEN_FRONTMATTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "value.h"

typedef enum { KIND_PAGE, KIND_STORY, KIND_TIPS } article_kind;

typedef struct frontmatter {
	char *title;        /* required, non-empty */
	article_kind kind;  /* `kind`, default KIND_PAGE */
	char *date;         /* "YYYY-MM-DD" or full RFC 3339 text; NULL if none */
	int64_t date_epoch; /* seconds since epoch (UTC) of date; 0 if none */
	char *author;       /* NULL if none */
	char *summary;      /* NULL if none */
	char **themes;      /* theme ids set by hand */
	size_t nthemes;
	char **aliases;
	size_t naliases;
	bool draft;
	int64_t weight;     /* default 0 */
	value *meta;        /* the whole table, unknown keys included; read
			     * it through frontmatter_meta */
	size_t body_offset; /* byte offset of the Markdown body in the text */
	int body_line;      /* 1-based line of the file where the body starts */
	/* The strings above (not the arrays of themes and aliases, not
	 * meta) point into a cache file's bytes: read-only, never freed
	 * (a thawed document; see document_thaw). */
	bool borrowed;
	/* A borrowing thaw's meta, still frozen (value_freeze's bytes,
	 * in the same file): made when first asked for (frontmatter_meta).
	 * A rebuild thaws ten thousand articles and shows a handful. */
	const char *meta_frozen;
	size_t meta_frozen_len;
	_Atomic unsigned char meta_state;
} frontmatter;

/* fm's meta, made from its frozen bytes the first time any thread asks
 * (the others wait for it); NULL when it has none. */
const value *frontmatter_meta(const frontmatter *fm);
/* Leaves fm's meta frozen as the len bytes at frozen (value_freeze's
 * form, checked already, outliving fm) until frontmatter_meta. */
void frontmatter_defer_meta(frontmatter *fm, const char *frozen, size_t len);

/* Parses the front matter at the start of text (the whole file). path is
 * used in messages. Fills *out (release with frontmatter_release).
 * Returns 0, or GEN_EPARSE (malformed TOML or YAML) / GEN_ECONTENT
 * (missing title, unknown kind, malformed date, wrong type) with err naming
 * path, line and column. A file without front matter is an error
 * ("missing front matter with a 'title'") at 1:1. */
int frontmatter_parse(frontmatter *out, const char *path, const char *text,
		      size_t len, gen_err *err);
void frontmatter_release(frontmatter *fm);
/* "story", "tips" or "page". */
const char *frontmatter_kind_name(article_kind k);

#endif
