/* quit: a process that quits exits with its status, its buffered output
 * written, no file of it left open once it is gone; its memory goes down
 * with an heir that is ended after it (not in the sanitizer build,
 * which exits plainly). The test is the subreaper of what it starts, so
 * the heir, an orphan once the process is gone, comes back to it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "quit.h"
#include "tap.h"

#define MEMORY (32u << 20)

/* The last thing the quitting process does before its exit: its output
 * flushed and closed, a pause in which the end of its output can only be
 * seen if no heir holds a copy of it. */
static void linger(void)
{
	fflush(stdout);
	close(STDOUT_FILENO);
	usleep(300 * 1000);
}

/* The process that quits: it holds a lock on path and a written block of
 * memory, writes to out through stdio without a flush, and quits. */
static noreturn void quitter(int out, const char *path, int status)
{
	if (dup2(out, STDOUT_FILENO) < 0)
		_exit(100);
	close(out);
	int lock = open(path, O_RDWR | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		_exit(101);
	char *mem = malloc(MEMORY);
	if (!mem)
		_exit(102);
	memset(mem, 0x5a, MEMORY);
	atexit(linger);
	printf("geschreven voor het einde: %d\n", mem[MEMORY - 1]);
	quit(status);
}

int main(void)
{
	char path[] = "/tmp/gen-quit-XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0, "a file to lock");
	ok(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "the test collects the orphans of what it starts");

	for (int status = 0; status <= 3; status += 3) {
		int p[2];
		if (pipe(p) < 0)
			return 1;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			quitter(p[1], path, status);
		}
		close(p[1]);
		char got[128] = "";
		size_t n = 0;
		ssize_t k;
		while (n < sizeof got - 1 && (k = read(p[0], got + n, sizeof got - 1 - n)) > 0)
			n += (size_t)k;
		got[n] = '\0';
		close(p[0]);
		is_str(got, "geschreven voor het einde: 90\n", "its buffered output is written");
		int st = 0;
		/* The output ended while the process lingers in its exit: the
		 * heir, started before, holds no copy of it. */
		ok(waitpid(pid, &st, WNOHANG) == 0, "its output ends before it does: no heir holds it");

		ok(waitpid(pid, &st, 0) == pid, "the process ends (status %d)", status);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == status, "with the status it quit with: %d",
		   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		/* Taken at once, while an heir may still be taking the memory
		 * down: quit exits only once the heir has closed its copies. */
		ok(flock(fd, LOCK_EX | LOCK_NB) == 0, "no file of it is open once it is gone");
		flock(fd, LOCK_UN);

#ifdef GEN_FREE_AT_EXIT
		(void)st;
		ok(waitpid(-1, &st, WNOHANG) <= 0, "the sanitizer build leaves no heir");
#else
		pid_t heir = waitpid(-1, &st, 0);
		ok(heir > 0 && heir != pid, "an heir took the memory down after it");
		ok(heir > 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		   "and was ended as the process was gone");
#endif
		errno = 0;
		ok(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD, "nothing else is left");
	}
	close(fd);
	unlink(path);
	return done_testing();
}
