/* pattern: Lua's string patterns, matched with a budget of steps.
 *
 * Lua's own matcher (string.find, match, gmatch, gsub) runs in C, where
 * the filters' instruction budget never looks: a pattern that backtracks
 * (string.rep("a*", 20) .. "b" against forty a's) would hold a build for
 * ever. The filters' sandbox matches through this module instead. It
 * reads patterns as Lua 5.4 does (classes, sets, the four quantifiers,
 * captures and position captures, %1-%9, %b, %f, anchors) and gives the
 * same matches, but counts every step of its backtracking and stops when
 * the budget is spent. Lua values (captures pushed, replacements) are the
 * caller's business: this module knows only bytes. */
#ifndef GEN_PATTERN_H
#define GEN_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATTERN_MAXCAPTURES 32

/* A capture's length while it is open, and for a position capture "()". */
#define PATTERN_OPEN (-1)
#define PATTERN_POSITION (-2)

typedef struct pattern_capture {
	size_t start;   /* offset in the subject */
	ptrdiff_t len;  /* bytes, or PATTERN_OPEN, PATTERN_POSITION */
} pattern_capture;

typedef enum pattern_status {
	PATTERN_OK = 0,
	PATTERN_MALFORMED,  /* the pattern is wrong: message says how */
	PATTERN_SPENT,      /* the budget of steps ran out */
} pattern_status;

/* One match attempt after another over one subject and one pattern
 * (both borrowed, and may hold NUL bytes). Lives on the caller's stack;
 * pattern_begin fills it. */
typedef struct pattern_state {
	const char *subject;
	size_t slen;
	const char *pat;
	size_t plen;
	int level;                          /* captures made so far */
	pattern_capture capture[PATTERN_MAXCAPTURES];
	int depth;                          /* recursion left */
	int64_t steps, limit;               /* taken, allowed */
	pattern_status status;
	char message[96];                   /* for PATTERN_MALFORMED */
} pattern_state;

/* Starts matching pat (plen bytes) against subject (slen bytes), with
 * limit steps for everything matched through ms from now on. */
void pattern_begin(pattern_state *ms, const char *subject, size_t slen, const char *pat,
		   size_t plen, int64_t limit);
/* Whether pat (plen bytes) has none of the characters that make it a
 * pattern, so that it can be searched for as plain text. */
bool pattern_is_plain(const char *pat, size_t plen);
/* Matches the pattern from its byte from (1 after a '^' the caller has
 * taken as an anchor) at subject offset at. Returns the offset where the
 * match ends, or -1 for no match or when ms->status is set (it then
 * stays set, and every later call returns -1). The captures are in
 * ms->capture[0 .. ms->level) until the next call. */
ptrdiff_t pattern_match(pattern_state *ms, size_t at, size_t from);

#endif
