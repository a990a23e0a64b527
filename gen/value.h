/* value: the tree of typed values that TOML, JSON, YAML front matter and
 * templates share.
 *
 * A value is a table (keys kept in insertion order), an array, or a scalar:
 * string, integer, float, bool, or one of TOML's four date-time kinds.
 * Date-times are kept as their RFC 3339 text (as written, 'T' separator);
 * value_datetime_parse turns them into numbers when needed. Every value
 * remembers the line and column it came from, so a wrong type in site.toml
 * or in front matter can be reported where the user wrote it.
 *
 * Ownership: a container owns its children. value_set and value_push take
 * ownership of the value passed in. Pointers returned by lookups are
 * borrowed from the tree. */
#ifndef GEN_VALUE_H
#define GEN_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef enum value_type {
	VALUE_NULL, /* JSON null; TOML has none */
	VALUE_TABLE,
	VALUE_ARRAY,
	VALUE_STRING,
	VALUE_INTEGER,
	VALUE_FLOAT,
	VALUE_BOOL,
	VALUE_DATETIME,       /* offset date-time: 1979-05-27T07:32:00Z */
	VALUE_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
	VALUE_DATE_LOCAL,     /* 1979-05-27 */
	VALUE_TIME_LOCAL,     /* 07:32:00 */
} value_type;

typedef struct value value;

/* Constructors; the caller owns the result (value_free). */
value *value_new(value_type type);
value *value_new_table(void);
value *value_new_array(void);
value *value_new_string(const char *s, size_t len);
value *value_new_cstring(const char *s);
value *value_new_integer(int64_t i);
value *value_new_float(double f);
value *value_new_bool(bool b);
/* A date-time kind (VALUE_DATETIME..VALUE_TIME_LOCAL) with its text. */
value *value_new_datetime(value_type type, const char *text, size_t len);
/* A value that reads exactly as target (every getter follows it) but
 * owns nothing: for data many trees share, like a theme's UI strings
 * in every page's template data. target must outlive it; it cannot be
 * changed through the alias (setters ignore it and free what they were
 * given). Caller frees the alias alone. */
value *value_new_alias(const value *target);
bool value_is_alias(const value *v);
/* Deep copy (an alias is copied as an alias); caller frees. */
value *value_copy(const value *v);
/* Frees v and everything below it; accepts NULL. */
void value_free(value *v);

value_type value_type_of(const value *v);
/* "table", "array", "string", "integer", "float", "bool", "datetime",
 * "datetime-local", "date-local", "time-local", "null". */
const char *value_type_name(value_type t);
bool value_is_datetime(const value *v);

/* Source position (1-based; 0 when unknown). */
int value_line(const value *v);
int value_col(const value *v);
void value_set_pos(value *v, int line, int col);

/* Free bits for parsers (TOML uses them to track how a table was made);
 * bit 15 is the template's TEMPLATE_LATE, for values made to be rendered. */
unsigned value_flags(const value *v);
void value_set_flags(value *v, unsigned flags);

/* Scalars. value_string works for strings and date-times and returns ""
 * for anything else; len (may be NULL) receives the byte length. */
const char *value_string(const value *v, size_t *len);
int64_t value_integer(const value *v);
/* The number as a double for floats and integers, 0 otherwise. */
double value_float(const value *v);
bool value_bool(const value *v);

/* Containers: number of entries of a table or items of an array. */
size_t value_count(const value *v);
/* Array item i, or the value of table entry i; NULL when out of range. */
value *value_at(const value *v, size_t i);
/* Key of table entry i (NUL-terminated; klen may be NULL). */
const char *value_key_at(const value *v, size_t i, size_t *klen);
/* Table lookup; NULL when v is not a table or has no such key. */
value *value_get(const value *v, const char *key);
value *value_getn(const value *v, const char *key, size_t klen);
/* Looks up a dotted path "a.b.c" through nested tables. */
value *value_get_path(const value *v, const char *path);
/* Sets key to child (taking ownership), replacing and freeing any old value. */
void value_set(value *table, const char *key, size_t klen, value *child);
void value_set_cstr(value *table, const char *key, value *child);
/* Removes key (freeing its value); returns whether it was there. */
bool value_remove(value *table, const char *key);
/* Appends child (taking ownership) to an array. */
void value_push(value *array, value *child);

/* Convenience getters with defaults, for reading configuration. */
const char *value_get_string(const value *table, const char *key,
			     const char *dflt);

/* Breaks a date or date-time value's text into parts. Missing parts
 * (time of a local date) are 0; offset_min is the UTC offset in minutes
 * (0 for local kinds). Returns 0, or -1 when the text is not a date. */
typedef struct value_datetime {
	int year, month, day, hour, minute, second;
	long nanosecond;
	int offset_min;
	bool has_date, has_time, has_offset;
} value_datetime;
int value_datetime_parse(const char *text, size_t len, value_datetime *out);
/* Seconds since the epoch (UTC) for a parsed date-time; local kinds are
 * taken as UTC. */
int64_t value_datetime_epoch(const value_datetime *dt);

/* A hash of everything a reader can see of v (types, keys in order,
 * strings, numbers; aliases read through; not positions or flags),
 * continuing from h: equal trees hash alike, for the build cache. */
uint64_t value_hash(const value *v, uint64_t h);

/* The build cache's form of a value: value_freeze appends v (positions,
 * flags and key order kept); value_thaw reads one back, or returns NULL
 * with r->bad set when the data is damaged. */
void value_freeze(const value *v, buf *out);
value *value_thaw(buf_reader *r);

#endif
