/* toml: a TOML 1.0 parser producing a value tree.
 *
 * The whole TOML 1.0 specification is implemented and held to the
 * toml-test suite (tests/toml-conformance.c). Every value in the tree
 * keeps the line and column where it was written, so configuration and
 * front matter errors can point at the user's text. */
#ifndef GEN_TOML_H
#define GEN_TOML_H

#include <stddef.h>

#include "err.h"
#include "value.h"

/* Parses len bytes of TOML text into a new table stored in *out (caller
 * frees with value_free). file names the source in error messages, and
 * line_offset is added to every line number (front matter starts a few
 * lines into its file). Returns 0, or GEN_EPARSE with err filled in
 * (file, line, column, message) and *out set to NULL. */
int toml_parse(value **out, const char *text, size_t len, const char *file,
	       int line_offset, gen_err *err);

#endif
