/* textdiff: what changed between two versions of a text, for editors.
 *
 * A line diff (Myers' O(ND) algorithm in linear space) of the Markdown
 * source, and inside each pair of lines that changed together a second
 * diff of their words, so that a paragraph with one word changed shows
 * that word rather than two walls of text. The result is written as an
 * HTML table (history pages, review reports) or as text for a terminal
 * (`gen diff`). Texts are bytes; words are runs of letters, digits and
 * non-ASCII characters, so UTF-8 is never split. */
#ifndef GEN_TEXTDIFF_H
#define GEN_TEXTDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef enum { TEXTDIFF_SAME, TEXTDIFF_DEL, TEXTDIFF_INS } textdiff_op;

/* One run of the edit script: count items of a kept (SAME), removed from
 * a (DEL) or added from b (INS). */
typedef struct textdiff_run {
	textdiff_op op;
	size_t count;
} textdiff_run;

typedef struct textdiff_stats {
	size_t added;   /* lines only in the new text */
	size_t removed; /* lines only in the old text */
	size_t compared; /* pairs of a removed and an added line diffed word
			  * by word (lines too unlike by their length are not) */
} textdiff_stats;

typedef struct textdiff_options {
	int context;     /* unchanged lines around a change; < 0 = all lines */
	bool color;      /* text output: ANSI colours (else [-…-] and {+…+}) */
} textdiff_options;

/* The shortest edit script turning a[0..n) into b[0..m), items compared
 * by value. Consecutive runs never share an op. Returns the number of
 * runs and *out (caller frees). When the texts are so different that the
 * search would take too long, the middle part is given as one deletion
 * and one insertion: still correct, only not minimal. */
size_t textdiff_ids(textdiff_run **out, const uint32_t *a, size_t n,
		    const uint32_t *b, size_t m);

/* The line edit script of two texts (lines end at '\n'; a last line
 * without one counts). Returns the number of runs and *out (caller frees). */
size_t textdiff_lines(textdiff_run **out, const char *a, size_t alen,
		      const char *b, size_t blen);

/* Appends the changes from a to b as an HTML table (class "diff"): one row
 * per line with old and new line numbers, removed lines in <del>, added
 * ones in <ins>, and inside changed line pairs the changed words as
 * <del class="diff-word"> / <ins class="diff-word">. Unchanged stretches
 * beyond the context become one "diff-skip" row. stats may be NULL. */
void textdiff_html(buf *out, const char *a, size_t alen, const char *b,
		   size_t blen, const textdiff_options *opt, textdiff_stats *stats);

/* The same as text for a terminal: "@@ -l,n +l,n @@" hunk heads, lines
 * prefixed ' ', '-' or '+', changed words in reverse video when
 * opt->color, else marked [-old-] and {+new+}. */
void textdiff_text(buf *out, const char *a, size_t alen, const char *b,
		   size_t blen, const textdiff_options *opt, textdiff_stats *stats);

#endif
