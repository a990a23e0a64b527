/* text: UTF-8 repair, folding, slugs and word counts (see text.h).
 *
 * The only module that includes utf8proc. These functions run on every
 * word of every document (anchors, search tokens, reading time), and most
 * of a Dutch text is ASCII, so ASCII takes a fast path that never calls
 * into utf8proc; only the other code points are decomposed one by one.
 * Invalid UTF-8 is never an error here: each ill-formed sequence counts as
 * one U+FFFD, the way browsers and the Unicode standard's "maximal subpart"
 * practice treat it, so every function gives a defined answer on any bytes. */
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "xalloc.h"

#define REPLACEMENT "\xEF\xBF\xBD"

/* Case folding, compatibility decomposition, marks and default-ignorable
 * characters (soft hyphen, zero-width joiner) removed: "Ĳsselmeer" and
 * "ijs\u00ADselmeer" both become "ijsselmeer". */
#define FOLD_OPTIONS                                                   \
	(UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT |     \
	 UTF8PROC_STRIPMARK | UTF8PROC_IGNORE)

/* Decodes the sequence at s[0..len), len > 0. Returns its length and sets
 * *cp, or returns minus the length of the maximal ill-formed subpart (at
 * least 1) that one U+FFFD replaces. The ranges are the Unicode standard's
 * table of well-formed byte sequences, so overlong forms, surrogates and
 * code points past U+10FFFF are all rejected. */
static int decode(const unsigned char *s, size_t len, int32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	int need;
	int32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xC2) {
		return -1;
	} else if (c < 0xE0) {
		need = 1;
		v = c & 0x1F;
	} else if (c < 0xF0) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c < 0xF5) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return -1;
	}
	for (int i = 1; i <= need; i++) {
		if ((size_t)i >= len || s[i] < lo || s[i] > hi)
			return -i;
		v = (v << 6) | (s[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = v;
	return need + 1;
}

bool text_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int32_t cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		int n = decode(p + i, len - i, &cp);
		if (n < 0) {
			if (bad_offset)
				*bad_offset = i;
			return false;
		}
		i += (size_t)n;
	}
	return true;
}

size_t text_utf8_repair(buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, count = 0;
	int32_t cp;

	buf_grow(out, len);
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		int n = decode(p + i, len - i, &cp);
		if (n > 0) {
			i += (size_t)n;
			continue;
		}
		/* Copy the valid run in one piece, then the replacement. */
		buf_put(out, s + run, i - run);
		buf_put(out, REPLACEMENT, 3);
		count++;
		i += (size_t)-n;
		run = i;
	}
	buf_put(out, s + run, len - run);
	return count;
}

static void put_cp(buf *out, int32_t cp)
{
	utf8proc_uint8_t tmp[4];
	utf8proc_ssize_t n = utf8proc_encode_char(cp, tmp);
	if (n > 0)
		buf_put(out, tmp, (size_t)n);
}

/* Appends the folded form of one non-ASCII code point. */
static void fold_cp(buf *out, int32_t cp)
{
	/* Decompositions are short (the longest, U+FDFA, is 18 code
	 * points); the loop below copes with anything longer anyway. */
	utf8proc_int32_t small[32], *dst = small;
	utf8proc_ssize_t cap = 32, n;
	int boundclass = 0;

	n = utf8proc_decompose_char(cp, dst, cap, FOLD_OPTIONS, &boundclass);
	if (n > cap) {
		cap = n;
		dst = xmalloc((size_t)cap * sizeof *dst);
		n = utf8proc_decompose_char(cp, dst, cap, FOLD_OPTIONS,
					    &boundclass);
	}
	if (n < 0) {
		put_cp(out, cp);
	} else {
		for (utf8proc_ssize_t i = 0; i < n; i++) {
			int32_t c = dst[i];
			if (c < 0x80)
				buf_putc(out, c >= 'A' && c <= 'Z' ? c + 32 : c);
			else
				put_cp(out, c);
		}
	}
	if (dst != small)
		free(dst);
}

void text_fold(buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int32_t cp;

	buf_grow(out, len);
	while (i < len) {
		if (p[i] < 0x80) {
			/* Lower-case the whole ASCII run in place. */
			size_t start = i;
			while (i < len && p[i] < 0x80)
				i++;
			buf_grow(out, i - start);
			char *w = out->ptr + out->len;
			for (size_t k = start; k < i; k++) {
				unsigned char c = p[k];
				*w++ = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
			out->len += i - start;
			out->ptr[out->len] = '\0';
			continue;
		}
		int n = decode(p + i, len - i, &cp);
		if (n < 0) {
			buf_put(out, REPLACEMENT, 3);
			i += (size_t)-n;
		} else {
			fold_cp(out, cp);
			i += (size_t)n;
		}
	}
}

void text_slug(buf *out, const char *s, size_t len)
{
	size_t start = out->len, w = start;
	bool gap = false;

	/* Fold into out, then squeeze the folded bytes in place: the slug
	 * is never longer than the folded text, so no second buffer. */
	text_fold(out, s, len);
	for (size_t r = start; r < out->len; r++) {
		char c = out->ptr[r];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (gap && w > start)
				out->ptr[w++] = '-';
			gap = false;
			out->ptr[w++] = c;
		} else {
			gap = true;
		}
	}
	out->len = w;
	out->ptr[w] = '\0';
}

static bool is_word_cp(int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

static bool is_space_cp(int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_ZS:
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
		return true;
	default:
		return cp == 0x85;
	}
}

const char *text_engine(void)
{
	return utf8proc_version();
}

size_t text_word_count(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, words = 0;
	bool counted = false; /* the current run already has its letter */
	int32_t cp;

	while (i < len) {
		unsigned char c = p[i];
		if (c < 0x80) {
			i++;
			if (c == ' ' || (unsigned)(c - '\t') < 5) {
				counted = false;
			} else if (!counted && ((unsigned)((c | 32) - 'a') < 26 ||
						(unsigned)(c - '0') < 10)) {
				words++;
				counted = true;
			}
			continue;
		}
		int n = decode(p + i, len - i, &cp);
		if (n < 0) {
			i += (size_t)-n;
			continue;
		}
		i += (size_t)n;
		if (is_space_cp(cp)) {
			counted = false;
		} else if (!counted && is_word_cp(cp)) {
			/* A run of punctuation ("–", "...") is not a word; a
			 * run with a letter or digit in it counts once. */
			words++;
			counted = true;
		}
	}
	return words;
}
