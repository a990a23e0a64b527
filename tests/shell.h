/* shell: shell commands for unit tests that make git repositories as
 * fixtures. tmp is the test's scratch directory (the test makes it); sh
 * runs a command there with its output hidden and returns its status,
 * saying on a TAP diagnostic line which command failed. Include after
 * tap.h; not a test itself (it is not a .c file). */
#ifndef GEN_TESTS_SHELL_H
#define GEN_TESTS_SHELL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
