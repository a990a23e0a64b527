/* resident: `gen build --resident`, a build that stays for the next one.
 *
 * A one-shot gen build after an edit reads what the last build left
 * (10,000 cached articles, the search index's word lists, a stat of
 * every file in the output) before it can know that only one article
 * changed: about half a second for a large handbook. With --resident the
 * command hands its build to a process that keeps all of that in memory
 * from one build to the next, as gen serve does, and starts one when none
 * runs for the same options; like Gradle's daemon, it ends by itself
 * after some idle minutes. Its stdout and stderr are the command's own
 * (passed over the socket), so what the user sees, and the exit status,
 * are those of a build run in place.
 *
 * The resident writes public/ as gen build does and trusts the output as
 * its last build left it only while inotify reports nothing changed
 * there since; anything else (a page deleted or edited by hand, the
 * folder moved) makes the next build look at every file again. With
 * --worktree it also watches the content as gen serve does (watch.h),
 * so that a build lists only the files changed since the last. */
#ifndef GEN_RESIDENT_H
#define GEN_RESIDENT_H

#include "build.h"

/* How long a resident waits for the next build when --resident gives no
 * number of minutes. */
#define RESIDENT_IDLE_MINUTES 15

/* The command: builds through the resident for these options (args: the
 * words after `gen build`, --resident among them, which say what the
 * resident is for), starting one when none answers; builds in this
 * process when none can be started. idle_minutes 0 ends the resident
 * after this build, and builds in this process when none runs. Returns
 * the build's exit status. */
int resident_build(const build_options *opt, int argc, char **argv, int idle_minutes);

/* The resident itself, started by resident_build as
 * `gen build --resident-serve NAME ARGS...`: listens on the abstract
 * socket NAME and builds for each command that connects, until it has
 * waited idle_minutes without one. Returns the process's exit status. */
int resident_run(const build_options *opt, const char *name, int idle_minutes);

#endif
