/* search-index: time and memory of gen's search stage on one project.
 *
 * Loads the project like `gen build --worktree`, then runs the search
 * stage alone (search_render: tokenising every document, writing its text
 * file, building and writing the index, the results page) into OUT, and
 * prints its wall time and its peak memory: the process's peak RSS is
 * reset just before (Linux /proc/self/clear_refs), so the peak is the
 * stage's own on top of the loaded site. A second run builds the index in
 * memory only, writing nothing. Built and run by bench/search-bench.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "output.h"
#include "render.h"
#include "search.h"
#include "site.h"
#include "source.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User plus system CPU time of the process so far, all threads: a
 * figure that a busy machine inflates less than wall time. */
static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* VmRSS or VmHWM of this process in MB. */
static double status_mb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kb = 0;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, strlen(key)) == 0)
			kb = atof(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return kb / 1024;
}

static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PROJECT OUT\n", argv[0]);
		return 2;
	}
	diag_list diags = DIAG_LIST_INIT;
	gen_err err;
	err_clear(&err);
	source *src = NULL;
	site s;
	memset(&s, 0, sizeof s);
	renderer *r = NULL;
	output *o = NULL;
	source_options so = { argv[1], NULL, NULL, true };
	site_options opt = { 0 };
	opt.now = (int64_t)time(NULL);
	int status = 1;

	if (source_open(&src, &so, &diags, &err) < 0 ||
	    site_load(&s, src, &opt, &diags, &err) < 0 ||
	    render_new(&r, &s, argv[0], &diags, &err) < 0 ||
	    output_begin(&o, argv[2], NULL, &err) < 0)
		goto fail;

	reset_peak();
	double base = status_mb("VmRSS:");
	double t0 = now(), c0 = cpu();
	size_t kept;
	if (search_render(r, &s, o, &kept, &err) < 0)
		goto fail;
	double t1 = now(), c1 = cpu();
	double peak = status_mb("VmHWM:");
	if (output_commit(o, &err) < 0) {
		o = NULL;
		goto fail;
	}
	o = NULL;
	printf("documents            %zu\n", s.ndocs);
	printf("search stage         %.3f s wall, %.3f s CPU (index and text files written)\n",
	       t1 - t0, c1 - c0);
	printf("search stage memory  %.1f MB peak above the loaded site (%.1f MB)\n",
	       peak - base, base);

	/* The index alone, in memory. */
	search_index *ix = NULL;
	reset_peak();
	base = status_mb("VmRSS:");
	t0 = now();
	c0 = cpu();
	if (search_new(&ix, s.cfg.language, &err) < 0)
		goto fail;
	search_add_documents(ix, s.docs, s.ndocs, site_jobs(0), NULL, NULL, &err);
	double tm = now();
	search_write(ix, NULL, NULL, &err);
	t1 = now();
	c1 = cpu();
	peak = status_mb("VmHWM:");
	search_free(ix);
	printf("index in memory      %.3f s wall, %.3f s CPU (documents %.3f s on %d threads, "
	       "index %.3f s), %.1f MB peak\n", t1 - t0, c1 - c0, tm - t0, site_jobs(0), t1 - tm,
	       peak - base);
	status = 0;
	goto out;
fail:
	diag_print(&diags, stderr);
	err_print(&err, stderr);
out:
	output_abort(o);
	render_free(r);
	site_release(&s);
	source_free(src);
	diag_release(&diags);
	return status;
}
