/* Unit tests for value: aliases (shared read-only data in template
 * trees), copies, and the build cache's frozen form. */
#include <string.h>

#include "buf.h"
#include "value.h"
#include "tap.h"

static value *sample(void)
{
	value *t = value_new_table();
	value_set_cstr(t, "title", value_new_cstring("Welkom"));
	value_set_cstr(t, "n", value_new_integer(-42));
	value_set_cstr(t, "f", value_new_float(2.5));
	value_set_cstr(t, "on", value_new_bool(true));
	value_set_cstr(t, "date", value_new_datetime(VALUE_DATE_LOCAL, "2024-03-01", 10));
	value *a = value_new_array();
	value_push(a, value_new_cstring("een"));
	value_push(a, value_new(VALUE_NULL));
	value_set_cstr(t, "list", a);
	/* Keys on both sides of what an entry holds itself (15 bytes). */
	value_set_cstr(t, "fifteen-bytes-k", value_new_cstring("kort"));
	value_set_cstr(t, "sixteen-bytes-ke", value_new_cstring("lang"));
	value_set_cstr(t, "a-key-of-forty-bytes-to-be-kept-apart-xx",
		       value_new_string("met\0nul", 7));
	value_set_pos(value_get(t, "title"), 5, 9);
	value_set_pos(t, 3, 7);
	return t;
}

/* The same reads give the same answers. */
static int same(const value *a, const value *b)
{
	if (value_type_of(a) != value_type_of(b) || value_count(a) != value_count(b))
		return 0;
	size_t la, lb;
	const char *sa = value_string(a, &la), *sb = value_string(b, &lb);
	if (la != lb || memcmp(sa, sb, la) || value_integer(a) != value_integer(b) ||
	    value_float(a) != value_float(b) || value_bool(a) != value_bool(b))
		return 0;
	for (size_t i = 0; i < value_count(a); i++) {
		const char *ka = value_key_at(a, i, NULL), *kb = value_key_at(b, i, NULL);
		if ((ka || kb) && (!ka || !kb || strcmp(ka, kb)))
			return 0;
		if (!same(value_at(a, i), value_at(b, i)))
			return 0;
	}
	return 1;
}

int main(void)
{
	value *t = sample();
	value *alias = value_new_alias(t);
	ok(value_is_alias(alias) && !value_is_alias(t), "an alias knows it is one");
	ok(same(alias, t), "an alias reads as its target");
	is_str(value_string(value_get(alias, "title"), NULL), "Welkom", "lookups go through");
	is(value_line(alias), 3, "and positions");
	value_set_cstr(alias, "title", value_new_cstring("Anders"));
	is_str(value_string(value_get(t, "title"), NULL), "Welkom",
	       "an alias cannot change its target");
	value *inner = value_new_alias(alias);
	ok(same(inner, t), "an alias of an alias reads as the target");
	value *holder = value_new_table();
	value_set_cstr(holder, "shared", value_new_alias(t));
	value *copy = value_copy(holder);
	ok(value_is_alias(value_get(copy, "shared")) &&
		   same(value_get(copy, "shared"), t),
	   "copying a tree keeps aliases as aliases");
	value_free(copy);
	value_free(holder);
	value_free(inner);
	value_free(alias);

	value *c = value_copy(t);
	ok(same(c, t), "a deep copy reads the same");
	value_set_cstr(c, "title", value_new_cstring("Kopie"));
	is_str(value_string(value_get(t, "title"), NULL), "Welkom", "and is separate");
	value_free(c);

	buf b = BUF_INIT;
	value_freeze(t, &b);
	buf_reader r;
	buf_reader_init(&r, b.ptr, b.len);
	value *back = value_thaw(&r);
	ok(back && same(back, t) && !r.bad && r.p == r.end, "frozen and thawed");
	is(value_line(back), 3, "with its position");
	is(value_type_of(value_get(back, "date")), VALUE_DATE_LOCAL, "and its kinds");
	ok(value_line(value_get(back, "title")) == 5 && value_col(value_get(back, "title")) == 9,
	   "a string keeps its position");
	value_free(back);
	size_t refused = 0;
	for (size_t n = 0; n < b.len; n++) {
		buf_reader_init(&r, b.ptr, n);
		value *v = value_thaw(&r);
		if (!v)
			refused++;
		value_free(v);
	}
	is(refused, b.len, "every cut-short form is refused");
	buf_release(&b);

	/* Keys long and short: found, replaced and removed alike. */
	size_t len;
	is_str(value_string(value_get(t, "fifteen-bytes-k"), NULL), "kort", "a 15-byte key");
	is_str(value_string(value_get(t, "sixteen-bytes-ke"), NULL), "lang", "a 16-byte key");
	const char *nul = value_string(value_get(t, "a-key-of-forty-bytes-to-be-kept-apart-xx"),
				       &len);
	ok(len == 7 && !memcmp(nul, "met\0nul", 8), "a long key, a string with a NUL");
	ok(!value_get(t, "fifteen-bytes-") && !value_get(t, "sixteen-bytes-k"),
	   "a key's prefix is another key");
	value_set_cstr(t, "sixteen-bytes-ke", value_new_cstring("vervangen"));
	is_str(value_string(value_get(t, "sixteen-bytes-ke"), NULL), "vervangen",
	       "setting a key again replaces its value");
	size_t n = value_count(t);
	ok(value_remove(t, "fifteen-bytes-k") && value_remove(t, "title"), "keys removed");
	ok(value_count(t) == n - 2 && !value_get(t, "title") &&
		   !strcmp(value_key_at(t, 0, NULL), "n") &&
		   !strcmp(value_key_at(t, n - 3, &len), "a-key-of-forty-bytes-to-be-kept-apart-xx") &&
		   len == 40,
	   "the others keep their order and keys");
	is_str(value_string(value_get(t, "sixteen-bytes-ke"), NULL), "vervangen",
	       "and their values");
	value *empty = value_new(VALUE_DATE_LOCAL);
	ok(value_type_of(empty) == VALUE_DATE_LOCAL && !strcmp(value_string(empty, &len), "") &&
		   len == 0,
	   "a new date-time is an empty text");
	value_free(empty);
	value_free(t);
	return done_testing();
}
