/* template: Mustache templates, compiled once and rendered many times.
 *
 * The whole Mustache specification is implemented (interpolation,
 * sections, inverted sections, comments, partials, set delimiters) plus
 * the optional inheritance (parents `{{<p}}` and blocks `{{$b}}`) and
 * dynamic names (`{{>*name}}`) modules; lambdas are not. The spec's own
 * test suite is the conformance test (tests/mustache-conformance.c).
 *
 * Data is a value tree. Tables are hashes, arrays are lists, everything
 * else is a scalar. Falsey are: a missing name, null, false, an empty array
 * and an empty string; everything else (0 and empty tables included) is
 * truthy. Scalars interpolate as their text: integers in decimal, floats
 * as the shortest text that reads back the same ("1.5", "2"), booleans as
 * "true"/"false", date-times as written; tables and arrays as nothing.
 * `{{x}}` escapes & < > " and ' as HTML entities, `{{{x}}}` and `{{&x}}`
 * do not.
 *
 * Partials and parents are found by name in a template_partials set at
 * render time; a name that is not there renders as nothing (the spec's
 * rule). Block overrides reach through partials and nested parents.
 *
 * Threads: a compiled template and a partials set are never changed by
 * rendering, so any number of threads may render them at once, provided
 * nobody adds to the partials set meanwhile. */
#ifndef GEN_TEMPLATE_H
#define GEN_TEMPLATE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "value.h"

typedef struct template template;
typedef struct template_partials template_partials;

/* Deepest nesting of partials and parents while rendering; deeper is
 * taken as runaway recursion and fails with GEN_ECONTENT. */
#define TEMPLATE_MAX_DEPTH 100

/* Compiles len bytes of Mustache text (a copy is kept, text may be freed
 * after). name is what errors call the template, usually its path.
 * Returns 0 and *out (caller frees with template_free), or GEN_EPARSE
 * with err giving name, line and column of the offending tag and a
 * message such as "unclosed section 'tips'"; *out is then NULL. */
int template_compile(template **out, const char *text, size_t len,
		     const char *name, gen_err *err);

/* Reads and compiles the file at path (errors name it by path). Returns
 * 0 and *out (caller frees), GEN_EIO when it cannot be read, GEN_EPARSE. */
int template_load_file(template **out, const char *path, gen_err *err);

/* Frees t; accepts NULL. */
void template_free(template *t);

/* The name given at compile time (borrowed). */
const char *template_name(const template *t);

/* Renders t with data (may be NULL) as the root context and appends the
 * result to out. partials may be NULL (every partial is then missing).
 * Returns 0, or GEN_ECONTENT when partials or parents nest deeper than
 * TEMPLATE_MAX_DEPTH, with err naming the template, line and column of
 * the tag that went too deep; out then holds partial output. */
int template_render(buf *out, const template *t, const value *data,
		    const template_partials *partials, gen_err *err);

/* Rendering a page too big to hold: the output goes to flush in pieces
 * of about TEMPLATE_FLUSH bytes (the last may be shorter or empty), and
 * a string value whose flags (value_set_flags) include TEMPLATE_LATE is
 * a stand-in: late writes to out what it stands for (its text is a key
 * of the caller's), HTML-escaped when escape is set, in place of the
 * text. Without late, such a value renders as its text. */
#define TEMPLATE_LATE (1u << 15)
#define TEMPLATE_FLUSH ((size_t)1 << 18)
typedef struct template_stream {
	/* Returns 0, or a negative code with err set: rendering stops and
	 * template_render_stream returns it. */
	int (*flush)(void *ctx, const char *data, size_t len, gen_err *err);
	void (*late)(void *ctx, buf *out, const char *key, size_t len, bool escape);
	void *ctx;
} template_stream;
/* As template_render, into st instead of a buffer. */
int template_render_stream(const template *t, const value *data,
			   const template_partials *partials, const template_stream *st,
			   gen_err *err);

/* A set of named templates for partial and parent tags. Caller frees
 * with template_partials_free, which frees every template in it. */
template_partials *template_partials_new(void);
void template_partials_free(template_partials *p);

/* Adds t under name, taking ownership of t. A template already there
 * under that name is freed and replaced, so loading a theme's partials
 * and then the site's lets the site override the theme. */
void template_partials_put(template_partials *p, const char *name,
			   template *t);

/* Compiles text and adds it under name (also its name in errors).
 * Returns 0 or GEN_EPARSE (the set is then unchanged). */
int template_partials_add(template_partials *p, const char *name,
			  const char *text, size_t len, gen_err *err);

/* Adds every DIR/NAME.mustache file below dir, subdirectories included,
 * under NAME: dir/partials/header.mustache becomes "partials/header".
 * Files and folders starting with '.' are skipped. Templates are compiled
 * now, so rendering never touches the disk. Returns 0, GEN_EIO when dir
 * or a file cannot be read, or GEN_EPARSE for a template error (err names
 * the file as dir/NAME.mustache). Partials added before the error stay. */
int template_partials_load_dir(template_partials *p, const char *dir,
			       gen_err *err);

/* The template added under the len bytes of name, or NULL (borrowed). */
const template *template_partials_get(const template_partials *p,
				      const char *name, size_t len);

/* Warns in diags of every partial and parent tag of p's templates that
 * names a template p does not hold ({{> partials/kop}} for a file that
 * is not there): by the spec it renders as nothing, which is seldom what
 * a theme's author meant. Dynamic names ({{>*name}}) are known only
 * while rendering, and are not looked at. Returns how many it found. */
size_t template_partials_check(const template_partials *p, diag_list *diags);

/* Number of templates in the set. */
size_t template_partials_count(const template_partials *p);

#endif
