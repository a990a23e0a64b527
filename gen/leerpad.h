/* leerpad: the learning path, an ordered list of articles in site.toml.
 *
 *     leerpad = ["verhalen/de-garage.md", "tips/snifo-voorkomen.md", ...]
 *
 * A trainer's route through the handbook: the home page starts it and
 * every article on it shows "step N of M" and the next step. Entries are
 * content-relative paths to Markdown files ("content/" in front is
 * accepted too). An entry that names no article, or one named twice, is an
 * error at its line and column in site.toml; a draft or future article
 * left out of this build is dropped with a warning, so the path still
 * works in a build without --drafts. Documents are named by their index in
 * site.docs. */
#ifndef GEN_LEERPAD_H
#define GEN_LEERPAD_H

#include <stddef.h>

#include "err.h"
#include "site.h"

typedef struct leerpad {
	size_t *steps;  /* document indexes, in path order */
	size_t n;
	size_t *step_of; /* per document: its 1-based step, 0 when not on the path */
	size_t ndocs;
} leerpad;

/* Resolves site.toml's leerpad against s. Problems go to diags (may be
 * NULL: then bad entries are silently left out). Returns the number of
 * errors added; out is usable either way (release with leerpad_release). */
size_t leerpad_resolve(leerpad *out, const site *s, diag_list *diags);
void leerpad_release(leerpad *lp);
/* The 1-based step of document doc, or 0 when it is not on the path. */
size_t leerpad_step(const leerpad *lp, size_t doc);

#endif
