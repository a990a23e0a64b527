/* text: UTF-8 utilities shared by the stages: repair, folding and slugs.
 *
 * Folding (case and diacritics, through utf8proc) is what makes "Ideeën"
 * match "ideeen" in anchors and search; slugs are the folded text reduced to
 * [a-z0-9-], the form of heading ids and page URLs. */
#ifndef GEN_TEXT_H
#define GEN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Whether s[0..len) is valid UTF-8; *bad_offset (may be NULL) receives
 * the offset of the first invalid byte. */
bool text_utf8_valid(const char *s, size_t len, size_t *bad_offset);
/* Appends s with every invalid sequence replaced by U+FFFD. Returns the
 * number of replacements. */
size_t text_utf8_repair(buf *out, const char *s, size_t len);
/* Appends s lowercased with diacritics removed (NFKD, marks stripped). */
void text_fold(buf *out, const char *s, size_t len);
/* Appends the slug of s: folded, letters and digits kept, runs of
 * anything else turned into one '-', no leading or trailing '-'.
 * "Wat hier misging?" -> "wat-hier-misging"; "Ideeën" -> "ideeen". */
void text_slug(buf *out, const char *s, size_t len);
/* The version of the folding's library (utf8proc's, "2.8.0"), for what
 * keeps folded text from one build to the next. */
const char *text_engine(void);
/* Number of words in s: runs of non-space characters with at least one
 * letter or digit in them ("klant-centraal" is one word, "–" none). */
size_t text_word_count(const char *s, size_t len);

#endif
