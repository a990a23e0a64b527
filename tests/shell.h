/* shell: shell commands for unit tests that make git repositories as
 * fixtures. tmp is the test's scratch directory (tmp_make makes it); sh
 * runs a command there with its output hidden and returns its status,
 * saying on a TAP diagnostic line which command failed; open_fixture
 * opens the project at tmp/p. Include after tap.h; not a test itself
 * (it is not a .c file). */
#ifndef GEN_TESTS_SHELL_H
#define GEN_TESTS_SHELL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "source.h"

static char tmp[256];

__attribute__((format(printf, 1, 2), unused)) static int sh(const char *fmt, ...)
{
	char cmd[4096], full[4600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "cd '%s' && (%s) >/dev/null 2>&1", tmp, cmd);
	int rc = system(full);
	if (rc != 0)
		diag("command failed (%d): %s", rc, cmd);
	return rc;
}

/* The project at tmp/p, opened as a build opens it (NULL when it cannot
 * be, said on a TAP diagnostic line). Free with source_free. */
__attribute__((unused)) static source *open_fixture(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/p", tmp);
	source_options o = { dir, NULL, NULL, false, false };
	source *s = NULL;
	diag_list dl = DIAG_LIST_INIT;
	gen_err e;
	err_clear(&e);
	if (source_open(&s, &o, &dl, &e) < 0)
		diag("source_open: %s", e.msg);
	diag_release(&dl);
	return s;
}

/* Makes tmp a fresh directory "gen-NAME-XXXXXX" under $TMPDIR (or
 * /tmp); false, with the reason on stderr, when it cannot. */
__attribute__((unused)) static bool tmp_make(const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmp, sizeof tmp, "%s/gen-%s-XXXXXX", t ? t : "/tmp", name);
	if (mkdtemp(tmp))
		return true;
	perror("mkdtemp");
	return false;
}

#endif
