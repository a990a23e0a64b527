/* history-bench: times the history stage alone on a repository.
 *
 *   history-bench REPO [REV] [--content DIR] [--jobs N] [--runs N] [--cache DIR]
 *
 * Walks the first-parent history of REV (default HEAD) of REPO (a work
 * tree or a bare repository) the way `gen build` does, RUNS times
 * (default 3), and prints per run the wall time and the CPU time of the
 * process, then the commits walked and the pages followed. Without
 * --cache nothing is cached, so every run is a full walk. With bench/
 * history-repo.pl it measures how the stage scales with commits:
 *
 *   COMMITS=3000 perl bench/history-repo.pl | git -C r fast-import
 *   build/history-bench r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "err.h"
#include "history.h"

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int usage(void)
{
	fputs("usage: history-bench REPO [REV] [--content DIR] [--jobs N] [--runs N] "
	      "[--cache DIR]\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *repo = NULL, *rev = "HEAD", *content = "content", *cache = NULL;
	int jobs = 0, runs = 3;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--content") == 0 && next)
			content = argv[++i];
		else if (strcmp(a, "--jobs") == 0 && next)
			jobs = atoi(argv[++i]);
		else if (strcmp(a, "--runs") == 0 && next)
			runs = atoi(argv[++i]);
		else if (strcmp(a, "--cache") == 0 && next)
			cache = argv[++i];
		else if (a[0] == '-')
			return usage();
		else if (!repo)
			repo = a;
		else
			rev = a;
	}
	if (!repo || runs < 1)
		return usage();

	/* The commit id, as source would give it. */
	char cmd[1024], id[64] = "";
	snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse --verify -q '%s^{commit}'", repo, rev);
	FILE *p = popen(cmd, "r");
	if (!p || !fgets(id, sizeof id, p)) {
		fprintf(stderr, "history-bench: unknown revision '%s'\n", rev);
		if (p)
			pclose(p);
		return 1;
	}
	pclose(p);
	id[strcspn(id, "\n")] = '\0';

	for (int r = 0; r < runs; r++) {
		history_options o = { repo, NULL, id, content, cache, 0, jobs };
		history *h = NULL;
		gen_err err;
		err_clear(&err);
		diag_list dl = DIAG_LIST_INIT;
		double w0 = wall(), c0 = cpu();
		if (history_load(&h, &o, &dl, &err) < 0) {
			err_print(&err, stderr);
			return 1;
		}
		double w = wall() - w0, c = cpu() - c0;
		printf("run %d: %.3f s wall, %.3f s cpu, %zu commits walked, %zu with content "
		       "changes%s\n", r + 1, w, c, history_walked(h), history_commit_count(h),
		       history_shallow(h) ? " (shallow)" : "");
		diag_print(&dl, stderr);
		diag_release(&dl);
		history_free(h);
	}
	return 0;
}
