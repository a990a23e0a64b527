/* output: writing the site so that a failed build loses nothing.
 *
 * Every file of a build goes into a fresh temporary directory beside the
 * output directory; only when the whole build has succeeded is it swapped
 * in, in one atomic rename. A file whose bytes are the same as in the
 * previous output is hard-linked rather than rewritten, so its mtime
 * stays and rsync or a web server's caches see no change. */
#ifndef GEN_OUTPUT_H
#define GEN_OUTPUT_H

#include <stddef.h>

#include "err.h"

typedef struct output output;

/* Starts writing a new version of dir. Refuses a dir that holds site.toml
 * or .git (a mistyped output_dir must not replace the project). Returns 0
 * and *out, or a negative code with err set. */
int output_begin(output **out, const char *dir, gen_err *err);
/* Writes one file, creating directories; rel uses '/' and must not contain
 * "..". Safe to call from several threads. */
int output_write(output *o, const char *rel, const void *data, size_t len,
		 gen_err *err);
/* Swaps the new version in and frees o (also on failure). */
int output_commit(output *o, gen_err *err);
/* Throws the new version away and frees o; accepts NULL. */
void output_abort(output *o);
/* Files written with new bytes and files kept unchanged so far. */
size_t output_changed(const output *o);
size_t output_unchanged(const output *o);

#endif
