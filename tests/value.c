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
	value_free(t);
	return done_testing();
}
