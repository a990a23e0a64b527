/* Unit tests for text: UTF-8 checks and repair, folding, slugs and word
 * counts, with the Dutch letters the handbook is full of. */
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "text.h"

static const char *fold(buf *b, const char *s)
{
	buf_clear(b);
	text_fold(b, s, strlen(s));
	return b->ptr;
}

static const char *slug(buf *b, const char *s)
{
	buf_clear(b);
	text_slug(b, s, strlen(s));
	return b->ptr;
}

static void test_valid(void)
{
	size_t bad = 99;

	ok(text_utf8_valid("", 0, &bad), "empty text is valid");
	ok(text_utf8_valid("Ideeën één ĳs 👍", strlen("Ideeën één ĳs 👍"), NULL),
	   "letters with diacritics and an emoji are valid (bad_offset may be NULL)");
	ok(!text_utf8_valid("ab\xFF" "cd", 5, &bad) && bad == 2,
	   "a stray 0xFF is invalid at its offset");
	ok(!text_utf8_valid("x\xC3", 2, &bad) && bad == 1,
	   "a sequence cut off at the end is invalid");
	ok(!text_utf8_valid("\xC0\xAF", 2, &bad) && bad == 0, "overlong '/' is invalid");
	ok(!text_utf8_valid("\xED\xA0\x80", 3, &bad) && bad == 0, "a surrogate is invalid");
	ok(!text_utf8_valid("\xF4\x90\x80\x80", 4, &bad) && bad == 0,
	   "a code point past U+10FFFF is invalid");
	ok(text_utf8_valid("\xF4\x8F\xBF\xBF", 4, NULL), "U+10FFFF itself is valid");
	ok(text_utf8_valid("a\0b", 3, NULL), "NUL is valid UTF-8");
}

static void test_repair(void)
{
	buf b = BUF_INIT;

	is(text_utf8_repair(&b, "klant", 5), 0, "valid text: no replacements");
	is_str(b.ptr, "klant", "valid text is copied unchanged");
	buf_clear(&b);
	is(text_utf8_repair(&b, "a\xFF" "b", 3), 1, "one bad byte");
	is_str(b.ptr, "a\xEF\xBF\xBD" "b", "replaced by U+FFFD");
	buf_clear(&b);
	is(text_utf8_repair(&b, "\xE2\x82" "x", 3), 1,
	   "a cut-off sequence is one replacement");
	is_str(b.ptr, "\xEF\xBF\xBD" "x", "and the byte after it is kept");
	buf_clear(&b);
	is(text_utf8_repair(&b, "\xC0\xAF", 2), 2, "an overlong form: one per byte");
	buf_clear(&b);
	is(text_utf8_repair(&b, "caf\xE9!", 5), 1, "Latin-1 é is one replacement");
	is_str(b.ptr, "caf\xEF\xBF\xBD!", "Latin-1 text repaired");
	ok(text_utf8_valid(b.ptr, b.len, NULL), "the repaired text is valid");
	buf_clear(&b);
	buf_puts(&b, "voor:");
	text_utf8_repair(&b, "na", 2);
	is_str(b.ptr, "voor:na", "repair appends");
	buf_clear(&b);
	is(text_utf8_repair(&b, "", 0), 0, "empty input");
	is_str(b.ptr, "", "empty output");
	buf_release(&b);
}

static void test_fold(void)
{
	buf b = BUF_INIT;

	is_str(fold(&b, "Ideeën Één"), "ideeen een", "diaeresis and acute, any case");
	is_str(fold(&b, "ë é ï ö ü è à ç"), "e e i o u e a c", "Dutch and French marks");
	is_str(fold(&b, "ÏÖÜ"), "iou", "upper case with marks");
	is_str(fold(&b, "\xC4\xB2sselmeer"), "ijsselmeer", "the IJ ligature becomes ij");
	is_str(fold(&b, "IJSSEL"), "ijssel", "plain IJ");
	is_str(fold(&b, "Straße"), "strasse", "sharp s folds to ss");
	is_str(fold(&b, "\xEF\xAC\x81" "ets"), "fiets", "the fi ligature is decomposed");
	is_str(fold(&b, "klant\xC2\xAD" "contact"), "klantcontact", "a soft hyphen disappears");
	is_str(fold(&b, "Klant, 'tevreden'?"), "klant, 'tevreden'?", "punctuation is kept");
	is_str(fold(&b, "👍 Top"), "👍 top", "emoji are kept");
	is_str(fold(&b, "a\xFF"), "a\xEF\xBF\xBD", "invalid bytes fold to U+FFFD");
	is_str(fold(&b, ""), "", "empty");
	buf_clear(&b);
	buf_puts(&b, "x:");
	text_fold(&b, "Één", strlen("Één"));
	is_str(b.ptr, "x:een", "fold appends");
	buf_release(&b);
}

static void test_slug(void)
{
	buf b = BUF_INIT;

	is_str(slug(&b, "Wat hier misging?"), "wat-hier-misging", "words joined by '-'");
	is_str(slug(&b, "Ideeën & één"), "ideeen-een", "diacritics folded, '&' a separator");
	is_str(slug(&b, "  "), "", "only spaces: empty");
	is_str(slug(&b, ""), "", "empty");
	is_str(slug(&b, "--Klant--"), "klant", "no leading or trailing '-'");
	is_str(slug(&b, "Tip 3: 'Leg uit' – waarom"), "tip-3-leg-uit-waarom",
	       "punctuation runs become one '-'");
	is_str(slug(&b, "Succes 🎉!"), "succes", "emoji dropped");
	is_str(slug(&b, "C++ & C#"), "c-c", "symbols dropped");
	is_str(slug(&b, "\xC4\xB2s op de Zuiderzee"), "ijs-op-de-zuiderzee", "IJ ligature");
	is_str(slug(&b, "2e kwartaal 2016"), "2e-kwartaal-2016", "digits kept");
	is_str(slug(&b, "Zeeuws-Vlaanderen"), "zeeuws-vlaanderen", "hyphens kept as one");
	is_str(slug(&b, "Αθήνα"), "", "letters without an ASCII form are dropped");
	buf_clear(&b);
	buf_puts(&b, "pre-");
	text_slug(&b, "Één", strlen("Één"));
	is_str(b.ptr, "pre-een", "slug appends");
	buf_release(&b);
}

static void test_words(void)
{
#define WORDS(s) text_word_count((s), strlen(s))
	is(WORDS(""), 0, "no words in nothing");
	is(WORDS(" \n\t "), 0, "no words in white space");
	is(WORDS("De klant is koning."), 4, "a sentence");
	is(WORDS("klant-centraal – echt"), 2, "a dash alone is not a word");
	is(WORDS("één, twee; drie"), 3, "non-ASCII letters");
	is(WORDS("collega's"), 1, "an apostrophe stays inside the word");
	is(WORDS("a\xC2\xA0" "b"), 2, "a no-break space separates");
	is(WORDS("123 45,6"), 2, "numbers are words");
	is(WORDS("… 👍 !!"), 0, "symbols and emoji are not");
#undef WORDS
}

int main(void)
{
	test_valid();
	test_repair();
	test_fold();
	test_slug();
	test_words();
	return done_testing();
}
