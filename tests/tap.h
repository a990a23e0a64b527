/* tap: a tiny Test Anything Protocol helper for gen's C unit tests.
 *
 * Each test program includes this once, calls the checks, and ends with
 * `return done_testing();`, which prints the plan and returns non-zero if
 * any check failed. Output goes to stdout for prove. */
#ifndef GEN_TAP_H
#define GEN_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2), unused)) static void diag(const char *fmt, ...)
{
	va_list ap;
	char line[4096];
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* Every line of the message gets its own "# ". */
	const char *p = line;
	while (*p) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		printf("# %.*s\n", n, p);
		p += n + (nl ? 1 : 0);
	}
	fflush(stdout);
}

__attribute__((unused)) static int tap_is(long long got, long long want, const char *name)
{
	int r = ok(got == want, "%s", name);
	if (!r)
		diag("     got: %lld\n  expected: %lld", got, want);
	return r;
}
#define is(got, want, name) tap_is((long long)(got), (long long)(want), (name))

__attribute__((unused)) static int is_str(const char *got, const char *want, const char *name)
{
	int same = (got && want) ? strcmp(got, want) == 0 : got == want;
	int r = ok(same, "%s", name);
	if (!r)
		diag("     got: '%s'\n  expected: '%s'", got ? got : "(null)",
		     want ? want : "(null)");
	return r;
}

static int done_testing(void)
{
	printf("1..%d\n", tap_run);
	if (tap_failed)
		diag("failed %d of %d tests", tap_failed, tap_run);
	return tap_failed ? 1 : 0;
}

#endif
