/* pattern: Lua's string patterns with a budget of steps (see pattern.h).
 *
 * A backtracking matcher over offsets into the subject and the pattern.
 * The pattern is read as it is matched: one "item" at a time (a single
 * character class, then perhaps a quantifier), with captures, %b, %f and
 * back references as items of their own. Every item tried and every
 * character a greedy item swallows is a step; a pattern whose steps pass
 * the limit ends with PATTERN_SPENT, however deep the backtracking.
 * Errors in the pattern are found where the matcher meets them, as in
 * Lua, so a malformed part that is never reached is never reported. */
#include "pattern.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ESC '%'
#define SPECIALS "^$*+?.([%-"
#define MAXDEPTH 200  /* nested calls of match: Lua's MAXCCALLS */
#define NOMATCH ((ptrdiff_t)-1)

static ptrdiff_t match(pattern_state *ms, size_t s, size_t p);

static void fail(pattern_state *ms, pattern_status status, const char *fmt, ...)
{
	if (ms->status != PATTERN_OK)
		return;
	ms->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ms->message, sizeof ms->message, fmt, ap);
	va_end(ap);
}

/* Counts a step; false once the budget is spent (or anything failed). */
static bool step(pattern_state *ms)
{
	if (ms->status != PATTERN_OK)
		return false;
	if (++ms->steps > ms->limit) {
		fail(ms, PATTERN_SPENT, "the budget of steps is spent");
		return false;
	}
	return true;
}

void pattern_begin(pattern_state *ms, const char *subject, size_t slen, const char *pat,
		   size_t plen, int64_t limit)
{
	ms->subject = subject;
	ms->slen = slen;
	ms->pat = pat;
	ms->plen = plen;
	ms->level = 0;
	/* Unused slots hold nothing from an earlier call on the stack. */
	memset(ms->capture, 0, sizeof ms->capture);
	ms->depth = MAXDEPTH;
	ms->steps = 0;
	ms->limit = limit;
	ms->status = PATTERN_OK;
	ms->message[0] = '\0';
}

bool pattern_is_plain(const char *pat, size_t plen)
{
	for (size_t i = 0; i < plen; i++)
		if (pat[i] && strchr(SPECIALS, pat[i]))
			return false;
	return true;
}

static int pat_at(const pattern_state *ms, size_t p)
{
	return p < ms->plen ? (unsigned char)ms->pat[p] : '\0';
}

/* Whether byte c is in class cl (the letter after '%'); an upper-case
 * letter is the complement, and any other character stands for itself.
 * The C library's classes, as Lua uses them. */
static bool in_class(int c, int cl)
{
	bool res;
	switch (tolower(cl)) {
	case 'a': res = isalpha(c); break;
	case 'c': res = iscntrl(c); break;
	case 'd': res = isdigit(c); break;
	case 'g': res = isgraph(c); break;
	case 'l': res = islower(c); break;
	case 'p': res = ispunct(c); break;
	case 's': res = isspace(c); break;
	case 'u': res = isupper(c); break;
	case 'w': res = isalnum(c); break;
	case 'x': res = isxdigit(c); break;
	case 'z': res = c == 0; break; /* Lua 5.1's NUL, still read by 5.4 */
	default: return cl == c;
	}
	return isupper(cl) ? !res : res;
}

/* The offset just past the single-character item at p (a character,
 * '.', %x or a [set]); 0 with ms->status set when it is malformed. */
static size_t item_end(pattern_state *ms, size_t p)
{
	int c = pat_at(ms, p++);
	if (c == ESC) {
		if (p >= ms->plen) {
			fail(ms, PATTERN_MALFORMED, "malformed pattern (ends with '%%')");
			return 0;
		}
		return p + 1;
	}
	if (c != '[')
		return p;
	if (pat_at(ms, p) == '^')
		p++;
	/* The first character of a set is part of it, even a ']'. */
	do {
		if (p >= ms->plen) {
			fail(ms, PATTERN_MALFORMED, "malformed pattern (missing ']')");
			return 0;
		}
		if (ms->pat[p++] == ESC && p < ms->plen)
			p++;
	} while (p >= ms->plen || ms->pat[p] != ']');
	return p + 1;
}

/* Whether byte c is in the set from '[' at p to its ']' at end. */
static bool in_set(const pattern_state *ms, int c, size_t p, size_t end)
{
	bool in = true;
	if (pat_at(ms, p + 1) == '^') {
		in = false;
		p++;
	}
	while (++p < end) {
		int x = pat_at(ms, p);
		if (x == ESC) {
			p++;
			if (in_class(c, pat_at(ms, p)))
				return in;
		} else if (pat_at(ms, p + 1) == '-' && p + 2 < end) {
			p += 2;
			if (x <= c && c <= pat_at(ms, p))
				return in;
		} else if (x == c) {
			return in;
		}
	}
	return !in;
}

/* Whether the subject's byte at s matches the item from p to end. */
static bool single(const pattern_state *ms, size_t s, size_t p, size_t end)
{
	if (s >= ms->slen)
		return false;
	int c = (unsigned char)ms->subject[s];
	switch (pat_at(ms, p)) {
	case '.': return true;
	case ESC: return in_class(c, pat_at(ms, p + 1));
	case '[': return in_set(ms, c, p, end - 1);
	default: return pat_at(ms, p) == c;
	}
}

/* %bxy at p (the x): a balanced run from x to its y. */
static ptrdiff_t balance(pattern_state *ms, size_t s, size_t p)
{
	if (p + 1 >= ms->plen) {
		fail(ms, PATTERN_MALFORMED, "malformed pattern (missing arguments to '%%b')");
		return NOMATCH;
	}
	int open = (unsigned char)ms->pat[p], close = (unsigned char)ms->pat[p + 1];
	if (s >= ms->slen || (unsigned char)ms->subject[s] != open)
		return NOMATCH;
	int depth = 1;
	for (s++; s < ms->slen; s++) {
		if (!step(ms))
			return NOMATCH;
		int c = (unsigned char)ms->subject[s];
		if (c == close) {
			if (--depth == 0)
				return (ptrdiff_t)s + 1;
		} else if (c == open) {
			depth++;
		}
	}
	return NOMATCH;
}

/* The item at p to end repeated as often as it matches, then the rest
 * from end + 1, giving back one repetition at a time. */
static ptrdiff_t greedy(pattern_state *ms, size_t s, size_t p, size_t end)
{
	size_t n = 0;
	while (single(ms, s + n, p, end)) {
		if (!step(ms))
			return NOMATCH;
		n++;
	}
	for (;;) {
		ptrdiff_t r = match(ms, s + n, end + 1);
		if (r != NOMATCH || ms->status != PATTERN_OK || n == 0)
			return r;
		n--;
	}
}

/* The rest first, then one more repetition of the item, and so on. */
static ptrdiff_t lazy(pattern_state *ms, size_t s, size_t p, size_t end)
{
	for (;;) {
		ptrdiff_t r = match(ms, s, end + 1);
		if (r != NOMATCH || ms->status != PATTERN_OK)
			return r;
		if (!single(ms, s, p, end))
			return NOMATCH;
		s++;
	}
}

static ptrdiff_t open_capture(pattern_state *ms, size_t s, size_t p, ptrdiff_t what)
{
	if (ms->level >= PATTERN_MAXCAPTURES) {
		fail(ms, PATTERN_MALFORMED, "too many captures");
		return NOMATCH;
	}
	ms->capture[ms->level].start = s;
	ms->capture[ms->level].len = what;
	ms->level++;
	ptrdiff_t r = match(ms, s, p);
	if (r == NOMATCH)
		ms->level--;
	return r;
}

static ptrdiff_t close_capture(pattern_state *ms, size_t s, size_t p)
{
	int l = ms->level - 1;
	while (l >= 0 && ms->capture[l].len != PATTERN_OPEN)
		l--;
	if (l < 0) {
		fail(ms, PATTERN_MALFORMED, "invalid pattern capture");
		return NOMATCH;
	}
	ms->capture[l].len = (ptrdiff_t)(s - ms->capture[l].start);
	ptrdiff_t r = match(ms, s, p);
	if (r == NOMATCH)
		ms->capture[l].len = PATTERN_OPEN;
	return r;
}

/* %1 to %9: the text of a closed capture again. */
static ptrdiff_t back_reference(pattern_state *ms, size_t s, int digit)
{
	int l = digit - '1';
	if (l < 0 || l >= ms->level || ms->capture[l].len == PATTERN_OPEN) {
		fail(ms, PATTERN_MALFORMED, "invalid capture index %%%d", l + 1);
		return NOMATCH;
	}
	ptrdiff_t len = ms->capture[l].len;
	/* A position capture has no text, and matches nothing. */
	if (len < 0 || (size_t)len > ms->slen - s ||
	    memcmp(ms->subject + ms->capture[l].start, ms->subject + s, (size_t)len) != 0)
		return NOMATCH;
	return (ptrdiff_t)(s + (size_t)len);
}

/* The subject from s against the pattern from p: where the match ends,
 * or NOMATCH. Items that need no choice are taken in the loop; each
 * choice (a quantifier, a capture) is a call, at most MAXDEPTH deep. */
static ptrdiff_t match(pattern_state *ms, size_t s, size_t p)
{
	if (ms->depth-- == 0) {
		fail(ms, PATTERN_MALFORMED, "pattern too complex");
		ms->depth++;
		return NOMATCH;
	}
	ptrdiff_t r = NOMATCH;
	for (;;) {
		if (!step(ms))
			break;
		if (p >= ms->plen) {
			r = (ptrdiff_t)s;
			break;
		}
		int c = pat_at(ms, p);
		if (c == '(') {
			r = pat_at(ms, p + 1) == ')' ? open_capture(ms, s, p + 2, PATTERN_POSITION)
						    : open_capture(ms, s, p + 1, PATTERN_OPEN);
			break;
		}
		if (c == ')') {
			r = close_capture(ms, s, p + 1);
			break;
		}
		if (c == '$' && p + 1 == ms->plen) {
			r = s == ms->slen ? (ptrdiff_t)s : NOMATCH;
			break;
		}
		if (c == ESC && p + 1 < ms->plen) {
			int next = pat_at(ms, p + 1);
			if (next == 'b' || isdigit(next)) {
				/* %bxy and %1: a run of the subject, no choice. */
				r = next == 'b' ? balance(ms, s, p + 2) : back_reference(ms, s, next);
				if (r == NOMATCH)
					break;
				s = (size_t)r;
				r = NOMATCH;
				p += next == 'b' ? 4 : 2;
				continue;
			}
			if (next == 'f') {
				p += 2;
				if (pat_at(ms, p) != '[') {
					fail(ms, PATTERN_MALFORMED, "missing '[' after '%%f' in pattern");
					break;
				}
				size_t end = item_end(ms, p);
				if (!end)
					break;
				int before = s == 0 ? '\0' : (unsigned char)ms->subject[s - 1];
				int here = s < ms->slen ? (unsigned char)ms->subject[s] : '\0';
				if (in_set(ms, before, p, end - 1) || !in_set(ms, here, p, end - 1))
					break;
				p = end;
				continue;
			}
		}
		/* A single-character item, perhaps with a quantifier. */
		size_t end = item_end(ms, p);
		if (!end)
			break;
		int q = pat_at(ms, end); /* '\0' at the pattern's end */
		if (!single(ms, s, p, end)) {
			if (q == '*' || q == '?' || q == '-') {
				p = end + 1;
				continue;
			}
			break;
		}
		if (q == '?') {
			r = match(ms, s + 1, end + 1);
			if (r != NOMATCH || ms->status != PATTERN_OK)
				break;
			p = end + 1;
			continue;
		}
		if (q == '+') {
			r = greedy(ms, s + 1, p, end);
			break;
		}
		if (q == '*') {
			r = greedy(ms, s, p, end);
			break;
		}
		if (q == '-') {
			r = lazy(ms, s, p, end);
			break;
		}
		s++;
		p = end;
	}
	ms->depth++;
	return ms->status == PATTERN_OK ? r : NOMATCH;
}

ptrdiff_t pattern_match(pattern_state *ms, size_t at, size_t from)
{
	if (ms->status != PATTERN_OK)
		return NOMATCH;
	ms->level = 0;
	ms->depth = MAXDEPTH;
	return match(ms, at, from);
}
