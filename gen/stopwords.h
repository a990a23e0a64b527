/* stopwords: the words a search ignores, one list per language.
 *
 * Function words ("de", "het", "niet", "the", "of") occur in nearly every
 * article, so they carry no weight in ranking and only make the index and
 * the shards a query loads larger. The lists are written for this
 * handbook's languages and hold folded forms (lowercase, no diacritics),
 * because they are checked after folding. The search UI gets the same
 * list through the index, so both sides drop the same words. */
#ifndef GEN_STOPWORDS_H
#define GEN_STOPWORDS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the folded word w[0..len) is a stop word of language ("nl",
 * "en"; other languages have no list, so nothing is a stop word). */
bool stopwords_contains(const char *language, const char *w, size_t len);
/* The sorted list of language (NULL and *n = 0 when there is none).
 * Borrowed, static. */
const char *const *stopwords_list(const char *language, size_t *n);

#endif
