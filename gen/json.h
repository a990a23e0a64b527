/* json: reading and writing value trees as JSON (RFC 8259).
 *
 * Used for the search index, `gen list --json`, template data in tests
 * and tools, and the conformance suites. Numbers without a fraction or an
 * exponent that fit in 64 bits become integers, others floats. Date-time
 * values are written as JSON strings. */
#ifndef GEN_JSON_H
#define GEN_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "value.h"

/* Parses JSON text into *out (caller frees). Returns 0, or GEN_EPARSE with
 * err naming file, line and column. */
int json_parse(value **out, const char *text, size_t len, const char *file,
	       gen_err *err);
/* Appends v as JSON; pretty indents by two spaces and ends with no newline. */
void json_write(buf *out, const value *v, bool pretty);
/* Appends s as a JSON string literal (quotes included). Bytes that are not
 * valid UTF-8 are written as U+FFFD. */
void json_put_string(buf *out, const char *s, size_t len);

#endif
