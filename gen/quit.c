/* quit: the process ends, its memory goes down after it (see quit.h).
 *
 * The heir is started with clone(CLONE_VM): it shares the process's
 * memory, so the kernel's reference to that memory outlives the process,
 * and the process's exit does not free it. The heir asks to be killed
 * when the process is gone (PR_SET_PDEATHSIG), closes every file it got
 * a copy of, tells the process so through a pipe and waits. The kill
 * comes as the process's exit ends, after it let go of the memory and
 * closed its files; the memory goes down as the heir dies.
 *
 * The heir runs on a stack of its own and only makes system calls: it
 * shares the process's memory while the process runs its exit. Once the
 * process is gone it is an orphan, which init (or the nearest
 * subreaper) collects, as it does every orphan. */
#define _GNU_SOURCE /* clone, pipe2 */
#include "quit.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(GEN_FREE_AT_EXIT)
#define QUIT_PLAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUIT_PLAIN 1
#endif
#endif

#ifndef QUIT_PLAIN
/* The heir's stack: it makes a few system calls, nothing more. */
static _Alignas(64) char heir_stack[16384];

static int heir_run(void *arg)
{
	int told = *(const int *)arg;
	/* No handler of the process's runs here (a Ctrl-C reaches the
	 * heir too): every signal blocked, but the kill, which cannot be. */
	sigset_t all;
	sigfillset(&all);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, (size_t)(_NSIG / 8));
	/* Before the word below: the process exits only after it. */
	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* Every copy but told's: a file the process had open (a lock,
	 * the output's folder, a pipe someone reads to its end) is not
	 * kept open by the heir. */
	if (told > 0)
		syscall(SYS_close_range, 0u, (unsigned)told - 1, 0u);
	syscall(SYS_close_range, (unsigned)told + 1, ~0u, 0u);
	char c = 1;
	syscall(SYS_write, told, &c, 1);
	syscall(SYS_close, told);
	for (;;)
		syscall(SYS_ppoll, NULL, 0, NULL, NULL, 0);
	return 0;
}
#endif

noreturn void quit(int status)
{
#ifndef QUIT_PLAIN
	int told[2];
	if (pipe2(told, O_CLOEXEC) == 0) {
		pid_t pid = clone(heir_run, heir_stack + sizeof heir_stack, CLONE_VM | SIGCHLD,
				  &told[1]);
		close(told[1]);
		if (pid > 0) {
			char c;
			/* A byte, or the end when the heir died first. */
			while (read(told[0], &c, 1) < 0)
				; /* EINTR */
		}
		close(told[0]);
	}
#endif
	exit(status);
}
