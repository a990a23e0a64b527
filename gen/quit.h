/* quit: ending the process without making whoever waits for it wait for
 * the kernel to take its memory down.
 *
 * A build of ten thousand articles ends with some 190 MB mapped, and the
 * kernel frees every page of it as the process exits: 11-14 ms on one
 * core, after the last file is written, that a shell, make or an
 * editor's hook waits through. quit hands the address space to a small
 * process of its own (an heir, sharing the memory, not copying it) and
 * exits; the heir ends once the process is gone, and the memory goes
 * down with the heir, after the wait is over. */
#ifndef GEN_QUIT_H
#define GEN_QUIT_H

#include <stdnoreturn.h>

/* Ends the process with status as exit(status) does (stdio flushed,
 * atexit handlers run), its memory taken down by an heir when one can
 * be started, else as exit would. Call it when every other thread is
 * done and every file the process writes is written and closed: the
 * heir holds no file open, so none stays open or locked after the exit.
 * A build with sanitizers exits plainly: their checks at the exit are
 * the process's own. */
noreturn void quit(int status);

#endif
