/* build: running the pipeline for build, check and list (see build.h). */
#define _GNU_SOURCE /* SCHED_IDLE */
#include "build.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "check.h"
#include "history.h"
#include "jobs.h"
#include "json.h"
#include "links.h"
#include "output.h"
#include "render.h"
#include "search.h"
#include "xalloc.h"

static void print_diags_json(const diag_list *l)
{
	value *a = value_new_array();
	for (size_t i = 0; i < l->n; i++) {
		const gen_diag *d = &l->items[i];
		value *o = value_new_table();
		value_set_cstr(o, "file", value_new_cstring(d->file ? d->file : ""));
		value_set_cstr(o, "line", value_new_integer(d->line));
		value_set_cstr(o, "column", value_new_integer(d->col));
		value_set_cstr(o, "severity", value_new_cstring(
			d->severity == DIAG_ERROR ? "error"
			: d->severity == DIAG_WARNING ? "warning" : "notice"));
		value_set_cstr(o, "message", value_new_cstring(d->msg));
		value_push(a, o);
	}
	buf b = BUF_INIT;
	json_write(&b, a, true);
	printf("%s\n", b.ptr);
	buf_release(&b);
	value_free(a);
}

/* Prints what was collected; returns whether there were errors. */
static bool report(const build_options *opt, diag_list *diags)
{
	diag_sort(diags);
	if (opt->json && !opt->write)
		print_diags_json(diags);
	else if (!opt->quiet)
		diag_print(diags, stderr);
	else {
		/* --quiet still shows every problem, only notices are dropped. */
		diag_list problems = DIAG_LIST_INIT;
		for (size_t i = 0; i < diags->n; i++)
			if (diags->items[i].severity != DIAG_NOTICE) {
				const gen_diag *d = &diags->items[i];
				diag_add(&problems, d->severity, d->file, d->line, d->col,
					 "%s", d->msg);
			}
		diag_print(&problems, stderr);
		diag_release(&problems);
	}
	/* gen check's last line, for a long list and for git hooks. */
	if (!opt->write && !opt->json && diags->errors)
		fprintf(stderr, "gen check: %zu error%s, %zu warning%s\n", diags->errors,
			diags->errors == 1 ? "" : "s", diags->warnings,
			diags->warnings == 1 ? "" : "s");
	return diags->errors > 0;
}

static int fail(gen_err *err, diag_list *diags, const build_options *opt)
{
	diag_add_err(diags, err);
	report(opt, diags);
	return err->code == GEN_EUSAGE ? 2 : 1;
}

/* Wall time per stage for --stats; stages that have not run stay 0. */
typedef struct stage_times {
	double source, documents, site, history, render, output;
	double output_begin; /* reading the previous site, beside the documents */
	double theme;        /* part of render: loading the theme */
	size_t output_dirs;  /* directories of the output read one entry at a time */
} stage_times;

static void print_stats(const stage_times *t, const site *s, const renderer *r,
			size_t links_held, bool checks_held, double total)
{
	const render_times *rt = render_last_times(r);
	/* What a rebuild took from the last one, when there was one. */
	buf print_note = BUF_INIT, search_note = BUF_INIT, source_note = BUF_INIT;
	buf memory_note = BUF_INIT, links_note = BUF_INIT, filter_note = BUF_INIT;
	/* The filters run inside the documents' stage, each article's on the
	 * thread that parsed it: their time is given as its share of the
	 * stage's, the time on all its threads divided by their number. */
	double filters = s->filter_threads ? s->filter_seconds / (double)s->filter_threads : 0;
	if (!s->nfilters)
		buf_puts(&filter_note, "no Lua filters");
	else
		buf_printf(&filter_note, "Lua, within the documents' time: %zu article%s filtered,\n"
					 "                     %.3f s summed over %zu thread%s",
			   s->filtered, s->filtered == 1 ? "" : "s", s->filter_seconds,
			   s->filter_threads, s->filter_threads == 1 ? "" : "s");
	if (links_held)
		buf_printf(&links_note, ";\n                     the links of %zu articles as in the last build",
			   links_held);
	if (checks_held)
		buf_puts(&links_note, ";\n                     the site's checks as in the last build");
	if (s->memory_hits)
		buf_printf(&memory_note, ",\n                     %zu of them kept in memory since the last",
			   s->memory_hits);
	if (s->files_read)
		buf_printf(&source_note, "  (%zu of %zu files read to list them)", s->files_read,
			   s->files_listed);
	if (rt->print_articles)
		buf_printf(&print_note, ";\n                     %zu of %zu articles copied from the last%s",
			   rt->print_copied, rt->print_articles,
			   rt->print_framed ? ",\n                     and all around them" : "");
	if (rt->print_copied && rt->print_unread)
		buf_puts(&print_note, ",\n                     unread: the last page is as written");
	if (rt->print_parts && rt->print_patched)
		buf_printf(&print_note, ";\n                     over the page before the last:\n"
					"                     %zu of its %zu parts written",
			   rt->print_parts_written, rt->print_parts);
	else if (rt->print_parts)
		buf_printf(&print_note, ";\n                     in %zu parts, %zu of them written",
			   rt->print_parts, rt->print_parts_written);
	if (rt->search_docs)
		buf_printf(&search_note, ";\n                     the text of %zu of %zu kept",
			   rt->search_kept, rt->search_docs);
	if (rt->search_held)
		buf_printf(&search_note, ";\n                     the words of %zu and the postings\n"
					 "                     of %zu terms from an earlier build",
			   rt->search_held, rt->search_terms_held);
	if (rt->search_held && rt->search_terms_scored < rt->search_terms)
		buf_printf(&search_note, ";\n                     %zu of %zu terms touched,\n"
					 "                     %zu of %zu postings scored again",
			   rt->search_terms_scored, rt->search_terms, rt->search_postings_scored,
			   rt->search_postings);
	if (rt->search_whole)
		buf_puts(&search_note, ",\n                     and every file of the index: as in\n"
				       "                     the last build");
	fprintf(stderr,
		"stage       seconds\n"
		"source      %7.3f%s\n"
		"documents   %7.3f  (front matter, Markdown, filters; %zu of %zu from the cache%s)\n"
		"filters     %7.3f  (%s)\n"
		"site        %7.3f  (sections, links%s)\n"
		"history     %7.3f  (git history, and what the output holds: the wait\n"
		"                     for them, as they are read beside the documents;\n"
		"                     reading the output took %.3f, %zu folders\n"
		"                     read, the others known from the last build)\n"
		"render      %7.3f  (everything below)\n"
		"  theme     %7.3f  (templates and static files)\n"
		"  xref      %7.3f  (backlinks, related articles%s, reading order)\n"
		"  pages     %7.3f  (article and section pages; with -j > 1 the four\n"
		"                     below run beside them%s)\n"
		"  lists     %7.3f  (home, themes, authors, sitemap%s)\n"
		"  print     %7.3f  (the whole handbook on one page%s)\n"
		"  search    %7.3f  (index and results page%s)\n"
		"  history   %7.3f  (history pages, changes, feed)\n"
		"output      %7.3f  (putting changed files in place, removing stale ones)\n"
		"total       %7.3f\n"
		"pages kept  %7zu  (their inputs had not changed: not rendered again)\n",
		t->source, source_note.ptr, t->documents, s->cache_hits, s->ndocs + s->nskipped,
		memory_note.ptr, filters, filter_note.ptr, t->site, links_note.ptr, t->history,
		t->output_begin, t->output_dirs, t->render, t->theme, rt->xref,
		rt->related_kept ? "\n                     as in the last build" : "", rt->pages,
		rt->facts_same ? ";\n                     every article's facts as in the last\n"
				 "                     build: only pages of changed articles\n"
				 "                     looked at" : "",
		rt->lists, rt->sitemap_kept ? ";\n                     the sitemap as in the last build" : "",
		rt->print, print_note.ptr, rt->search, search_note.ptr, rt->history, t->output,
		total, render_pages_kept(r));
	buf_release(&print_note);
	buf_release(&search_note);
	buf_release(&source_note);
	buf_release(&memory_note);
	buf_release(&links_note);
	buf_release(&filter_note);
}

/* The history stage: one walk over the git history of the content,
 * cached in .gen-cache/ beside the output directory. Off (NULL) for a
 * work-tree build or a folder that is not a repository; a repository it
 * cannot read costs the history, not the build (a warning). */
static struct history *load_history(const build_options *opt, const source *src,
				    const char *content_dir, const char *cache_dir,
				    int jobs, diag_list *diags)
{
	if (!source_has_git(src) || !*source_commit(src))
		return NULL;
	history_options ho = { opt->src.repo, source_root(src), source_commit(src),
			       content_dir, cache_dir, 0, jobs };
	history *h = NULL;
	gen_err e;
	err_clear(&e);
	if (history_load(&h, &ho, diags, &e) < 0) {
		diag_add(diags, DIAG_WARNING, e.file[0] ? e.file : NULL, e.line, e.col,
			 "history is off: %s", e.msg);
		h = NULL;
	}
	return h;
}

/* output_lock's lock, held from before a build reads its caches or its
 * output until it is done with them (NULL until then, or without). */
typedef struct build_lock {
	const build_options *opt;
	output_hold *hold;
	bool tried;
	double waited; /* seconds, for another build to end */
} build_lock;

/* Takes the lock on the folder that holds cache_dir (output_lock) for
 * a build that writes its output or uses its cache; once. */
static void lock_begin(build_lock *l, const char *cache_dir)
{
	if (l->tried || (!l->opt->write && !l->opt->site.cache))
		return;
	l->tried = true;
	double t = jobs_seconds();
	l->hold = output_lock(cache_dir, l->opt->quiet);
	l->waited = jobs_seconds() - t;
}

static void lock_end(build_lock *l)
{
	output_unlock(l->hold);
	l->hold = NULL;
}

/* An output in the content folder on disk would be read back by the
 * next build from the work tree: its pages and the search index's
 * files taken for the articles' images and attachments, copied into the
 * site again, one level deeper each time. Returns 0, or GEN_EUSAGE. */
static int inside_content(const source *src, const site *s, const char *out_dir,
			  gen_err *err)
{
	const char *root = source_root(src);
	if (!root)
		return 0;
	buf content = BUF_INIT;
	buf_printf(&content, "%s/%s", root, s->cfg.content_dir);
	char *c = output_absolute(content.ptr), *o = output_absolute(out_dir);
	size_t cl = strlen(c);
	int rc = 0;
	if (strncmp(o, c, cl) == 0 && (o[cl] == '/' || o[cl] == '\0'))
		rc = err_set(err, GEN_EUSAGE, "", 0, 0,
			     "the output '%s' is inside the content folder '%s': the next build "
			     "would take the pages for files of the handbook; name a folder "
			     "outside it",
			     out_dir, s->cfg.content_dir);
	free(c);
	free(o);
	buf_release(&content);
	return rc;
}

/* Two jobs need only site.toml, so they run on threads of their own
 * while the articles are parsed: the history walk (mostly one core's
 * work, which would otherwise hold up the render) and reading what the
 * output directory holds (output_begin: a rebuild compares every page
 * with it, and on a large site the scan costs as much as reading the
 * cached articles). A third, git status, only feeds the report. */
typedef struct early_job {
	const build_options *opt;
	const source *src;
	char *content_dir, *cache_dir;
	int jobs;
	diag_list diags;      /* the walk's own: the parse reports beside it */
	struct history *h;
	uint64_t program_stamp; /* the site's, which stamps its caches */
	/* With the cache: the history's word diffs and the search's records,
	 * opened after the walk on its thread (their indexes take a tenth
	 * of the parse on a large site), handed to the site by early_end */
	cache_file *diff_cache, *search_cache;
	/* A one-shot build's search memory (search.h), read from the file
	 * the last one left there (words_path), read on the same thread */
	char *words_path;
	search_memory *words;
	pthread_t words_saver; /* writing it for the next, beside the commit */
	bool words_saving, words_threaded;
	pthread_t thread;
	bool begun, threaded;
	/* the output, with opt->write */
	char *out_dir;
	char *manifest;       /* what the output held after the last build */
	output *o;
	int out_rc;
	gen_err out_err;
	double out_seconds;
	size_t out_dirs_read; /* directories read entry by entry */
	pthread_t scan;
	bool scanning, scan_threaded;
	bool scan_begun;      /* by build_once (-o) or early_begin */
	/* The scan's end, for the search index that waits for it
	 * (scan_output): what scan_run left in o, kept here as the build
	 * takes o over; the search told to make nothing (search_stop) */
	pthread_mutex_t scan_lock;
	pthread_cond_t scan_cond;
	bool scan_done, search_stop;
	output *scanned;
	/* files of the content that differ from the revision built: git
	 * status reads the whole work tree, on a thread that runs only when
	 * a core would otherwise be idle (status_begin) */
	int changed;
	char *status_dir;
	pthread_t status;
	bool status_begun, status_threaded, status_noted;
	build_lock lock;
} early_job;

static void *history_run(void *arg)
{
	early_job *j = arg;
	j->h = load_history(j->opt, j->src, j->content_dir, j->cache_dir, j->jobs, &j->diags);
	if (j->opt->site.cache) {
		const build_caches *c = j->opt->caches;
		/* What builds that were stopped left there, before this one
		 * adds its own. */
		cache_sweep(j->cache_dir);
		if (j->h) {
			j->diff_cache = cache_open_after(c ? c->diffs : NULL, j->cache_dir,
							 "diffs.pack", j->program_stamp, &j->diags);
			cache_keep_unused(j->diff_cache);
		}
		j->search_cache = cache_open_after(c ? c->search : NULL, j->cache_dir,
						   "search.pack", j->program_stamp, &j->diags);
	}
	/* Without a memory to read, a build that finds no search records
	 * either (a first build, a new gen) makes the index without one:
	 * what a memory keeps would raise its peak by a tenth. The index
	 * writes the file as it goes instead (search_set_memory_file). */
	if (j->words_path) {
		j->words = search_memory_new();
		if (search_memory_load(j->words, j->words_path, j->program_stamp) < 0 &&
		    cache_fresh(j->search_cache)) {
			search_memory_free(j->words);
			j->words = NULL;
		}
		/* Written back only when due (words_save_begin). */
		search_memory_lean(j->words);
	}
	return NULL;
}

/* A hash of the absolute path of the output directory dir: the cache
 * files that describe one output are named by it. */
static uint64_t output_key(const char *dir)
{
	char *abs = output_absolute(dir);
	uint64_t h = buf_hash64(abs, strlen(abs), 0);
	free(abs);
	return h;
}

static void *scan_run(void *arg)
{
	early_job *j = arg;
	double t = jobs_seconds();
	err_clear(&j->out_err);
	if (j->opt->own_output) {
		j->out_rc = output_begin_trusting(&j->o, j->out_dir, j->manifest,
						  j->opt->output_memory, &j->out_err);
	} else {
		output_memory_forget(j->opt->output_memory);
		j->out_rc = output_begin(&j->o, j->out_dir, j->manifest, &j->out_err);
	}
	j->out_seconds = jobs_seconds() - t;
	j->out_dirs_read = j->o ? output_dirs_read(j->o) : 0;
	pthread_mutex_lock(&j->scan_lock);
	j->scanned = j->out_rc == 0 ? j->o : NULL;
	j->scan_done = true;
	pthread_cond_broadcast(&j->scan_cond);
	pthread_mutex_unlock(&j->scan_lock);
	return NULL;
}

/* render_search_begin's wait: the output once the scan has read it;
 * NULL when the scan failed or the build stops before its render
 * (scan_stop_search). */
static output *scan_output(void *ctx)
{
	early_job *j = ctx;
	pthread_mutex_lock(&j->scan_lock);
	while (j->scan_begun && !j->scan_done && !j->search_stop)
		pthread_cond_wait(&j->scan_cond, &j->scan_lock);
	output *o = j->search_stop ? NULL : j->scanned;
	pthread_mutex_unlock(&j->scan_lock);
	return o;
}

/* Tells a search index still waiting for the output to make nothing. */
static void scan_stop_search(early_job *j)
{
	pthread_mutex_lock(&j->scan_lock);
	j->search_stop = true;
	pthread_cond_broadcast(&j->scan_cond);
	pthread_mutex_unlock(&j->scan_lock);
}

/* Whether the notice could be seen: a quiet build drops notices
 * (report), so its git status, a stat of every file of the content, is
 * not read; JSON and a report for gen serve keep them. A process that
 * keeps a status memory (--resident) reads it on every build, so that
 * the next one starts from what this one found. */
static bool status_wanted(const build_options *opt)
{
	/* The staged content is what a commit is about to hold: what the
	 * work tree has besides is not the build's to say. */
	if (opt->src.staged)
		return false;
	return !opt->quiet || opt->json || opt->report || opt->status_memory;
}

static void *status_run(void *arg)
{
	early_job *j = arg;
	j->changed = source_count_changes(j->src, j->status_dir, j->opt->status_memory);
	return NULL;
}

/* Starts git status for the notice that files of the content differ
 * from the revision built. Nothing waits for it before the report, so
 * its thread gets a core only when no other thread of the build wants
 * one (SCHED_IDLE): the stages' waits and the commit's single thread
 * leave it time enough, and it does not slow what the pages need. */
static void status_begin(early_job *j, const char *content_dir)
{
	if (j->status_begun || j->status_noted || !status_wanted(j->opt))
		return;
	j->status_dir = xstrdup(content_dir);
	j->status_begun = true;
	j->status_threaded = pthread_create(&j->status, NULL, status_run, j) == 0;
	if (j->status_threaded) {
		struct sched_param idle = { 0 };
		pthread_setschedparam(j->status, SCHED_IDLE, &idle);
	} else {
		status_run(j);
	}
}

static void status_join(early_job *j)
{
	if (j->status_begun && j->status_threaded)
		pthread_join(j->status, NULL);
	j->status_begun = false;
	free(j->status_dir);
	j->status_dir = NULL;
}

/* Adds the notice to diags, once, running git status first when no
 * status_begin did: every report of a build that read its articles has
 * it, a failed one too (the fix may be an edit not yet committed). */
static void status_note(early_job *j, const site *s, const source *src, diag_list *diags)
{
	if (j->status_noted)
		return;
	status_begin(j, s->cfg.content_dir);
	status_join(j);
	j->status_noted = true;
	int n = j->changed;
	if (n > 0)
		diag_add(diags, DIAG_NOTICE, "", 0, 0,
			 "%d file%s in '%s' differ%s from %s; they are not in this build "
			 "(use --worktree to include them)",
			 n, n == 1 ? "" : "s", s->cfg.content_dir, n == 1 ? "s" : "",
			 source_describe(src));
}

/* Starts the reading of the output: j->out_dir, which is set to out_dir
 * when it is not yet; its manifest is in cache_dir. */
static void scan_begin(early_job *j, const char *out_dir, const char *cache_dir)
{
	if (!j->out_dir)
		j->out_dir = xstrdup(out_dir);
	/* Named here: the scan may outlive cache_dir (early_end). */
	if (j->opt->site.cache) {
		buf manifest = BUF_INIT;
		buf_printf(&manifest, "%s/output-%016llx.list", cache_dir,
			   (unsigned long long)output_key(j->out_dir));
		j->manifest = buf_detach(&manifest);
	}
	j->scan_begun = true;
	j->scanning = true;
	j->scan_threaded = pthread_create(&j->scan, NULL, scan_run, j) == 0;
	if (!j->scan_threaded)
		scan_run(j);
}

/* site_options.configured: starts the walk, git status and the reading
 * of the output (unless -o named it, and build_once started that). */
static int early_begin(void *ctx, const site *s, gen_err *err)
{
	early_job *j = ctx;
	/* Before anything is read or written beside the output. */
	if (j->opt->write) {
		char *out = site_output_dir(s, j->opt->output);
		int rc = inside_content(j->src, s, out, err);
		free(out);
		if (rc < 0)
			return rc;
	}
	j->content_dir = xstrdup(s->cfg.content_dir);
	j->cache_dir = site_cache_dir(s, j->opt->output);
	j->program_stamp = s->program_stamp;
	lock_begin(&j->lock, j->cache_dir);
	/* One walker: the parse keeps the other cores busy, and a second
	 * walker mostly doubles the CPU (see history.c, diff_chain). */
	j->jobs = 1;
	j->begun = true;
	if (j->opt->write && !j->out_dir)
		j->out_dir = site_output_dir(s, j->opt->output);
	/* Named by the output, like the page cache: what it says of the
	 * search index's files is true of one output only. A process that
	 * holds a memory of its own (gen serve, --resident) needs none. */
	if (j->opt->write && j->opt->site.cache && !j->opt->search_memory) {
		buf path = BUF_INIT;
		buf_printf(&path, "%s/search-%016llx.mem", j->cache_dir,
			   (unsigned long long)output_key(j->out_dir));
		j->words_path = buf_detach(&path);
	}
	j->threaded = pthread_create(&j->thread, NULL, history_run, j) == 0;
	if (!j->threaded)
		history_run(j);
	status_begin(j, s->cfg.content_dir);
	if (j->opt->write && !j->scan_begun)
		scan_begin(j, j->out_dir, j->cache_dir);
	return 0;
}

static void *words_save_run(void *arg)
{
	early_job *j = arg;
	search_memory_save(j->words, j->words_path, j->program_stamp);
	return NULL;
}

/* Writes the search memory for the next build, when the file lags too
 * far behind this build's index (search_memory_due), on a thread of its
 * own: the commit and the page cache, which follow, are one thread's
 * work. */
static void words_save_begin(early_job *j)
{
	if (!j->words || !j->words_path || !search_memory_due(j->words))
		return;
	j->words_saving = true;
	j->words_threaded = pthread_create(&j->words_saver, NULL, words_save_run, j) == 0;
	if (!j->words_threaded)
		words_save_run(j);
}

static void words_save_join(early_job *j)
{
	if (j->words_saving && j->words_threaded)
		pthread_join(j->words_saver, NULL);
	j->words_saving = false;
}

/* Waits for the reading of the output, which only the render needs: the
 * link graph and the checks run beside it. The output (j->o, or the
 * error) is taken from j by the caller. */
static void scan_end(early_job *j)
{
	if (j->scanning && j->scan_threaded)
		pthread_join(j->scan, NULL);
	j->scanning = false;
	free(j->manifest);
	j->manifest = NULL;
}

/* Waits for the walk, and hands over what it found, opened and said. */
static void early_end(early_job *j, site *s, diag_list *diags)
{
	if (!j->begun)
		return;
	if (j->threaded)
		pthread_join(j->thread, NULL);
	j->begun = false;
	diag_merge(diags, &j->diags);
	diag_release(&j->diags);
	free(j->content_dir);
	free(j->cache_dir);
	s->history = j->h;
	s->diff_cache = j->diff_cache;
	s->search_cache = j->search_cache;
}

/* The page cache of the output directory dir: one file per directory
 * ("pages-HASH.pack"), because what it says is true of one output only,
 * stamped with gen and the theme. */
static cache_file *open_page_cache(const site *s, const build_options *opt,
				   const char *dir, const renderer *r, diag_list *diags)
{
	cache_file *prev = opt->caches ? opt->caches->pages : NULL;
	buf name = BUF_INIT;
	char *cdir = site_cache_dir(s, opt->output);
	/* gen check's has no output: what it says is only that a page's
	 * inputs rendered without an error (render_set_checking). A build's
	 * says that too, for the pages it wrote or kept: the first check
	 * after a build starts from the build's. */
	if (dir) {
		buf_printf(&name, "pages-%016llx.pack", (unsigned long long)output_key(dir));
	} else {
		char *built = site_output_dir(s, NULL);
		buf from = BUF_INIT;
		buf_printf(&from, "pages-%016llx.pack", (unsigned long long)output_key(built));
		buf_puts(&name, "pages-check.pack");
		cache_seed(cdir, name.ptr, cdir, from.ptr);
		buf_release(&from);
		free(built);
	}
	uint64_t theme = render_theme_stamp(r);
	uint64_t stamp = buf_hash64(&theme, sizeof theme, s->program_stamp);
	cache_file *c = cache_open_after(prev, cdir, name.ptr, stamp, diags);
	free(cdir);
	buf_release(&name);
	return c;
}

/* The build cache's files that describe the content (the history's word
 * diffs, the search's records), saved on a thread of their own while
 * the output is committed. */
typedef struct content_saves {
	const site *s;
	diag_list diags;
	pthread_t thread;
	bool begun, threaded;
} content_saves;

static void *content_saves_run(void *arg)
{
	content_saves *cs = arg;
	cache_save(cs->s->diff_cache, &cs->diags);
	cache_save(cs->s->search_cache, &cs->diags);
	return NULL;
}

static void content_saves_begin(content_saves *cs, const site *s)
{
	cs->s = s;
	cs->begun = true;
	cs->threaded = pthread_create(&cs->thread, NULL, content_saves_run, cs) == 0;
	if (!cs->threaded)
		content_saves_run(cs);
}

/* Waits for the saves, and adds what they said to diags (once). */
static void content_saves_end(content_saves *cs, diag_list *diags)
{
	if (!cs->begun)
		return;
	if (cs->threaded)
		pthread_join(cs->thread, NULL);
	cs->begun = false;
	diag_merge(diags, &cs->diags);
	diag_release(&cs->diags);
}

void build_caches_release(build_caches *c)
{
	cache_close(c->diffs);
	cache_close(c->search);
	cache_close(c->pages);
	memset(c, 0, sizeof *c);
}

void build_report_release(build_report *r)
{
	diag_release(&r->diags);
	free(r->content_dir);
	free(r->output_dir);
	memset(r, 0, sizeof *r);
}

/* Hands what the build found to opt->report, emptying diags. */
static void fill_report(const build_options *opt, const site *s, const char *output_dir,
			diag_list *diags, double seconds)
{
	build_report *r = opt->report;
	if (!r)
		return;
	build_report_release(r);
	diag_sort(diags);
	diag_merge(&r->diags, diags);
	if (s->cfg.content_dir)
		r->content_dir = xstrdup(s->cfg.content_dir);
	if (output_dir)
		r->output_dir = xstrdup(output_dir);
	r->seconds = seconds;
}

/* A share of index_history's lookups. */
typedef struct history_share {
	site *s;
	size_t from, to;
} history_share;

static void *index_share(void *arg)
{
	history_share *h = arg;
	for (size_t i = h->from; i < h->to; i++)
		h->s->doc_history[i] = history_find(h->s->history, h->s->docs[i].path);
	return NULL;
}

/* Each article's page in the history, looked up once (site.h), on the
 * build's threads: 10,000 lookups are 3 ms before the render can start. */
static void index_history(site *s)
{
	if (!s->history || !s->ndocs)
		return;
	s->doc_history = xmalloc(s->ndocs * sizeof *s->doc_history);
	size_t jobs = (size_t)site_jobs(s->opt_jobs);
	size_t n = jobs > 1 && s->ndocs >= 1024 ? jobs : 1;
	history_share *shares = xmalloc(n * sizeof *shares);
	for (size_t k = 0; k < n; k++)
		shares[k] = (history_share){ s, s->ndocs * k / n, s->ndocs * (k + 1) / n };
	jobs_run(shares, n, sizeof *shares, index_share);
	free(shares);
}

/* What gen serve and the resident hold of the links and the site's
 * checks from one build to the next (links_memory, check_memory), kept
 * by a one-shot build in the build cache: resolving 25,000 links again
 * costs more than reading what they resolved to, while every article's
 * facts stay as they were (an edit of an article's text). The file is
 * sealed and stamped with gen's own stamp; a memory that does not read
 * back is no memory, and the links are resolved as in a first build. */
#define LINKS_FILE "links.bin"
#define LINKS_MAGIC "gen links 1\n"
#define LINKS_SEED 0x6c696e6b2e62696eu

typedef struct kept_links {
	links_memory *links; /* NULL: not kept (the process holds its own) */
	check_memory checks;
	char *path;
	/* Written on a thread of its own while the pages are made: the
	 * memory is not changed once the checks are done. */
	const site *s;
	pthread_t writer;
	bool writing;
} kept_links;

static void kept_links_load(kept_links *k, const site *s, const build_options *opt)
{
	memset(k, 0, sizeof *k);
	if (opt->links_memory || !opt->site.cache || !opt->write || !s->program_stamp)
		return;
	char *dir = site_cache_dir(s, opt->output);
	buf path = BUF_INIT;
	buf_map b;
	buf_printf(&path, "%s/%s", dir, LINKS_FILE);
	free(dir);
	k->path = buf_detach(&path);
	k->links = links_memory_new();
	buf_reader r;
	if (buf_map_sealed(&b, k->path, LINKS_MAGIC, LINKS_SEED, &r) &&
	    buf_get_varint(&r) == s->program_stamp) {
		k->checks.world = buf_get_varint(&r);
		uint64_t clean = buf_get_varint(&r);
		k->checks.clean = (clean & 1) != 0;
		k->checks.names_clean = (clean & 2) != 0;
		if (r.bad || !links_memory_thaw(k->links, &r))
			k->checks = (check_memory){ 0 };
	}
	buf_unmap(&b);
}

/* Writes the memory back (kept_links_save's thread). */
static void *kept_links_write(void *arg)
{
	kept_links *k = arg;
	const site *s = k->s;
	buf b = BUF_INIT;
	buf_puts(&b, LINKS_MAGIC);
	buf_put_varint(&b, s->program_stamp);
	buf_put_varint(&b, k->checks.world);
	buf_put_varint(&b, (uint64_t)k->checks.clean | (uint64_t)k->checks.names_clean << 1);
	links_memory_freeze(k->links, &b);
	if (!buf_write_sealed(&b, k->path, LINKS_SEED))
		unlink(k->path);
	buf_release(&b);
	return NULL;
}

/* Writes the memory back when this build changed it: when some article's
 * links were resolved or the checks were run; after the checks, once
 * the memory is whole. Even a build that fails later leaves it right:
 * it says what the links of these articles resolve to. A cache that
 * cannot be written costs the next build time, not this one its
 * result. */
static void kept_links_save(kept_links *k, const site *s, const links_graph *g)
{
	if (!k->links || (links_graph_held(g) == s->ndocs && k->checks.held))
		return;
	k->s = s;
	k->writing = pthread_create(&k->writer, NULL, kept_links_write, k) == 0;
	if (!k->writing)
		kept_links_write(k);
}

static void kept_links_release(kept_links *k)
{
	if (k->writing)
		pthread_join(k->writer, NULL);
	links_memory_free(k->links);
	free(k->path);
	memset(k, 0, sizeof *k);
}

/* Whether a build that checks articles' replays late (see cache.h) met
 * one that did not check out: then all it made since is thrown away. */
static bool damaged_late(const site *s)
{
	return cache_damaged_late(s->doc_cache);
}

/* One build; with late, a one-shot's: the articles' replays are checked
 * when read. Sets *again, and reports nothing, when one did not check
 * out: the caller builds again without. */
static int build_once(const build_options *opt, bool late, bool *again)
{
	double t0 = jobs_seconds(), t = t0;
	stage_times st = { 0 };
	diag_list diags = DIAG_LIST_INIT;
	gen_err err;
	err_clear(&err);
	source *src = NULL;
	site s;
	memset(&s, 0, sizeof s);
	renderer *r = NULL;
	links_graph *graph = NULL;
	output *o = NULL;
	cache_file *pages = NULL;
	char *dir = NULL;
	int status = 1;
	early_job ej;
	memset(&ej, 0, sizeof ej);
	pthread_mutex_init(&ej.scan_lock, NULL);
	pthread_cond_init(&ej.scan_cond, NULL);
	kept_links kl;
	memset(&kl, 0, sizeof kl);
	content_saves cs;
	memset(&cs, 0, sizeof cs);

	/* With -o, where the output is does not wait for site.toml: its
	 * reading, a rebuild's longest chain, starts beside libgit2's
	 * set-up (which parses the system's certificates) and the reading
	 * of the project. A build that fails before it needs the output
	 * waits for the reading and throws it away (out). */
	ej.opt = opt;
	ej.lock = (build_lock){ opt, NULL, false, 0 };
	if (opt->output) {
		char *cache_dir = site_cache_dir_of(opt->output);
		lock_begin(&ej.lock, cache_dir);
		if (opt->write)
			scan_begin(&ej, opt->output, cache_dir);
		free(cache_dir);
	}
	/* The times below are the build's own: a wait for another build
	 * (here, or where site.toml names the output) is said apart. */
	double waited = ej.lock.waited;
	t0 += waited;
	t = t0;
	if (source_open(&src, &opt->src, &diags, &err) < 0) {
		status = fail(&err, &diags, opt);
		goto out;
	}
	st.source = jobs_seconds() - t;
	t = jobs_seconds();
	/* Every problem at once: an article that cannot be read does not
	 * hide the broken links of the others. */
	site_options so = opt->site;
	so.keep_going = true;
	so.check_late = late;
	ej.src = src;
	so.configured = early_begin;
	so.configured_ctx = &ej;
	int lrc = site_load(&s, src, &so, &diags, &err);
	double ts = jobs_seconds();
	early_end(&ej, &s, &diags);
	index_history(&s);
	/* What the two took beyond the parse. */
	st.history = jobs_seconds() - ts;
	dir = ej.out_dir;
	if (lrc < 0) {
		/* Article errors are in diags already; err then only sums them up. */
		if (err.file[0] || err.code != GEN_ECONTENT)
			diag_add_err(&diags, &err);
		report(opt, &diags);
		status = err.code == GEN_EUSAGE ? 2 : 1;
		goto out;
	}
	st.documents = jobs_seconds() - t - st.history - (ej.lock.waited - waited);
	t0 += ej.lock.waited - waited;
	waited = ej.lock.waited;
	t = jobs_seconds();
	/* A build that writes takes the theme and the output now and starts
	 * the search index, which needs neither the links nor the checks,
	 * beside them (render_search_begin). What the theme and the page
	 * cache report joins the report after the checks', as before; a
	 * build that stops at the checks never reports it. */
	diag_list theme_diags = DIAG_LIST_INIT;
	gen_err theme_err, out_err;
	err_clear(&theme_err);
	err_clear(&out_err);
	int nrc = 0, orc = 0;
	/* An article that failed stops the build at the checks below: no
	 * index is begun for it. */
	if (opt->write && !diags.errors) {
		double tt = jobs_seconds();
		nrc = render_new(&r, &s, opt->exe, &theme_diags, &theme_err);
		st.theme = jobs_seconds() - tt;
		/* The search index is made on its own thread beside the
		 * links and the checks below, and waits for the output, the
		 * longest chain of a rebuild, only to write its files. */
		if (nrc == 0) {
			if (opt->site.cache)
				pages = open_page_cache(&s, opt, dir, r, &theme_diags);
			render_set_page_cache(r, pages);
			render_set_search_memory(r, opt->search_memory ? opt->search_memory
								: ej.words);
			/* None to read: the index writes one as it goes. */
			if (!opt->search_memory && !ej.words)
				render_set_search_memory_file(r, ej.words_path,
							      ej.program_stamp);
			render_search_begin(r, scan_output, &ej);
		}
	}
	t = jobs_seconds();
	kept_links_load(&kl, &s, opt);
	links_memory *links = kl.links ? kl.links : opt->links_memory;
	check_memory *checks = kl.links ? &kl.checks : opt->check_memory;
	graph = links_graph_new_with(&s, links, &diags);
	st.site = jobs_seconds() - t;
	t = jobs_seconds();
	/* gen check takes the theme here, like a build above: its files
	 * are paths of the site the checks know. */
	if (!opt->write) {
		double tt = jobs_seconds();
		nrc = render_new(&r, &s, opt->exe, &diags, &err);
		st.theme = jobs_seconds() - tt;
		/* Pages whose inputs a check rendered without an error are
		 * not rendered again: a second check of 10,000 articles takes
		 * a fraction of the first. */
		if (nrc == 0 && opt->site.cache) {
			pages = open_page_cache(&s, opt, NULL, r, &diags);
			render_set_page_cache(r, pages);
			render_set_checking(r, true);
		}
	}
	check_theme theme = { NULL, 0 };
	if (r)
		theme.files = render_theme_files(r, &theme.n);
	/* After the history: with it come pages of gen's own (wijzigingen/,
	 * feed.xml) that no article may take. */
	check_site_with(&s, checks, links_graph_world(graph), r ? &theme : NULL, &diags);
	/* The checks read anchors: what they found stays unsaved and
	 * unreported when one was damaged. */
	if (late && damaged_late(&s)) {
		*again = true;
		goto out;
	}
	kept_links_save(&kl, &s, graph);
	st.site += jobs_seconds() - t;
	if (opt->write && r && !diags.errors) {
		/* Read beside the parse (early_begin). The output is this
		 * build's from here: freed or committed below. */
		double tw = jobs_seconds();
		scan_end(&ej);
		st.history += jobs_seconds() - tw;
		o = ej.o;
		ej.o = NULL;
		st.output_begin = ej.out_seconds;
		st.output_dirs = ej.out_dirs_read;
		if (ej.out_rc < 0) {
			orc = ej.out_rc;
			out_err = ej.out_err;
		}
	}
	t = jobs_seconds();
	/* A build stops here; check goes on to find template errors too. */
	if (diags.errors && opt->write) {
		diag_release(&theme_diags);
		status_note(&ej, &s, src, &diags);
		report(opt, &diags);
		goto out;
	}
	if (opt->write) {
		diag_merge(&diags, &theme_diags);
		diag_release(&theme_diags);
		if (nrc < 0)
			err = theme_err;
	}
	if (nrc < 0) {
		status_note(&ej, &s, src, &diags);
		status = fail(&err, &diags, opt);
		goto out;
	}
	if (orc < 0) {
		err = out_err;
		status_note(&ej, &s, src, &diags);
		status = fail(&err, &diags, opt);
		goto out;
	}
	render_set_links(r, graph);
	render_set_print_parts(r, opt->print_parts);
	int src_rc = render_site(r, o, &err);
	if (late && damaged_late(&s)) {
		*again = true;
		goto out;
	}
	/* What the history's word diffs and the search's records hold is
	 * the content's, not the output's: written beside the commit, which
	 * is one thread's work. */
	content_saves_begin(&cs, &s);
	if (src_rc < 0) {
		content_saves_end(&cs, &diags);
		output_abort(o);
		o = NULL;
		status_note(&ej, &s, src, &diags);
		status = fail(&err, &diags, opt);
		goto out;
	}
	st.render = jobs_seconds() - t;
	t = jobs_seconds();
	if (!opt->write)
		cache_save(pages, &diags);
	words_save_begin(&ej);
	size_t changed_files = o ? output_changed(o) : 0;
	size_t kept = o ? output_unchanged(o) : 0;
	if (o) {
		/* The manifest is written beside the page cache. */
		output_finish *fin = NULL;
		int rc = output_commit_early(o, &fin, &err);
		o = NULL;
		if (rc < 0) {
			content_saves_end(&cs, &diags);
			status_note(&ej, &s, src, &diags);
			status = fail(&err, &diags, opt);
			goto out;
		}
		/* Only now does the output hold what the page cache says. */
		cache_save(pages, &diags);
		output_finished(fin);
	}
	content_saves_end(&cs, &diags);
	words_save_join(&ej);
	st.output = jobs_seconds() - t;
	status_note(&ej, &s, src, &diags);
	if (report(opt, &diags))
		goto out;
	status = 0;
	if (opt->stats)
		print_stats(&st, &s, r, links_graph_held(graph), checks && checks->held,
			    jobs_seconds() - t0);
	if (opt->json)
		goto out;
	if (opt->write && !opt->quiet && waited >= 0.05)
		fprintf(stderr, "built %zu pages from %s into %s (%zu files written, "
				"%zu unchanged) in %.2f s, after %.2f s waiting for another build\n",
			render_page_count(r), source_describe(src), dir, changed_files,
			kept, jobs_seconds() - t0, waited);
	else if (opt->write && !opt->quiet)
		fprintf(stderr, "built %zu pages from %s into %s (%zu files written, "
				"%zu unchanged) in %.2f s\n",
			render_page_count(r), source_describe(src), dir, changed_files,
			kept, jobs_seconds() - t0);
	else if (!opt->write && !opt->quiet && diags.warnings)
		fprintf(stderr, "checked %zu articles from %s: no errors, %zu warning%s\n",
			s.ndocs, source_describe(src), diags.warnings,
			diags.warnings == 1 ? "" : "s");
	else if (!opt->write && !opt->quiet)
		fprintf(stderr, "checked %zu articles from %s: no problems\n", s.ndocs,
			source_describe(src));
out:
	content_saves_end(&cs, &diags);
	/* A build that stopped before its render still waits for the
	 * reading of the output, and throws it away; a search index that
	 * has not begun makes nothing. */
	scan_stop_search(&ej);
	scan_end(&ej);
	status_join(&ej);
	words_save_join(&ej);
	if (ej.out_dir != dir)
		free(ej.out_dir); /* a build that stopped before it took it */
	kept_links_release(&kl);
	/* The search index begun beside the links writes into o. */
	if (r) {
		search_render_stats ignored;
		render_search_end(r, NULL, &ignored, NULL);
	}
	/* Only now: an index that had the output before the build stopped
	 * may still be reading where to write its memory (the renderer
	 * borrows the path until render_search_end). */
	free(ej.words_path);
	output_abort(ej.o);
	output_abort(o);
	if (!*again)
		fill_report(opt, &s, dir, &diags, jobs_seconds() - t0);
	if (opt->finished && !*again)
		opt->finished(opt->finished_ctx, status);
#ifndef GEN_FREE_AT_EXIT
	/* Like git's UNLEAK: ten thousand articles take a tenth of a second
	 * to free one by one, and the exit frees them at once. */
	if (opt->exiting && !*again)
		goto left;
#endif
	render_free(r);
	search_memory_free(ej.words);
	links_graph_free(graph);
	history_free(s.history);
	if (opt->caches) {
		/* The next build takes over this one's, which hold what
		 * the last ones did. */
		build_caches_release(opt->caches);
		*opt->caches = (build_caches){ s.diff_cache, s.search_cache, pages };
	} else {
		cache_close(s.diff_cache);
		cache_close(s.search_cache);
		cache_close(pages);
	}
	site_release(&s);
	source_free(src);
#ifndef GEN_FREE_AT_EXIT
left:
#endif
	/* Every file of the build written: the next build may begin. */
	lock_end(&ej.lock);
	pthread_mutex_destroy(&ej.scan_lock);
	pthread_cond_destroy(&ej.scan_cond);
	diag_release(&diags);
	free(dir);
	return status;
}

int build_run(const build_options *opt)
{
	/* A one-shot build reads ten thousand cached articles and renders
	 * a handful: it checks the bulk of each (its HTML and text) only
	 * when it reads it. A process that keeps its articles for the next
	 * build checks them whole. */
	bool late = opt->site.cache && !opt->site.memory && !opt->caches;
	bool again = false;
	int status = build_once(opt, late, &again);
	if (again) {
		again = false;
		status = build_once(opt, false, &again);
	}
	return status;
}

/* { commit, date, author[, message] } of a page's history, or null. */
static value *list_commit(const history_change *c, bool message)
{
	if (!c)
		return value_new(VALUE_NULL);
	value *o = value_new_table();
	char date[26];
	history_format_date(date, c->commit->time, c->commit->offset);
	value_set_cstr(o, "commit", value_new_cstring(c->commit->id));
	value_set_cstr(o, "date", value_new_cstring(date));
	value_set_cstr(o, "author", value_new_cstring(c->commit->author));
	if (message)
		value_set_cstr(o, "message", value_new_cstring(c->commit->message));
	return o;
}

static value *list_record(const site *s, const document *d)
{
	value *o = value_new_table();
	value_set_cstr(o, "path", value_new_cstring(d->path));
	value_set_cstr(o, "url", value_new_cstring(d->url));
	value_set_cstr(o, "title", value_new_cstring(d->fm.title));
	value_set_cstr(o, "kind", value_new_cstring(frontmatter_kind_name(d->fm.kind)));
	value_set_cstr(o, "date", d->fm.date ? value_new_cstring(d->fm.date)
					     : value_new(VALUE_NULL));
	value_set_cstr(o, "author", d->fm.author ? value_new_cstring(d->fm.author)
						 : value_new(VALUE_NULL));
	value *themes = value_new_array();
	for (size_t i = 0; i < d->fm.nthemes; i++)
		value_push(themes, value_new_cstring(d->fm.themes[i]));
	value_set_cstr(o, "themes", themes);
	/* Why: per theme, the passages a filter tagged ([] for themes set
	 * by hand). */
	value *evidence = value_new_table();
	for (size_t i = 0; i < d->fm.nthemes; i++) {
		value *list = value_new_array();
		for (size_t j = 0; j < document_evidence_count(d); j++) {
			const document_evidence *e = document_evidence_at(d, j);
			if (strcmp(e->theme, d->fm.themes[i]) != 0)
				continue;
			value *ev = value_new_table();
			value_set_cstr(ev, "line", value_new_integer(e->line));
			value_set_cstr(ev, "excerpt", value_new_cstring(e->excerpt));
			value_push(list, ev);
		}
		value_set_cstr(evidence, d->fm.themes[i], list);
	}
	value_set_cstr(o, "evidence", evidence);
	value_set_cstr(o, "draft", value_new_bool(d->fm.draft));
	/* From git: null without history, created null when unknown
	 * (a shallow clone). */
	const history_page *hp = s->history ? history_find(s->history, d->path) : NULL;
	value_set_cstr(o, "created", list_commit(hp ? hp->created : NULL, false));
	value_set_cstr(o, "modified", list_commit(hp ? hp->modified : NULL, true));
	value_set_cstr(o, "revisions", hp ? value_new_integer((int64_t)hp->revisions)
					  : value_new(VALUE_NULL));
	value *names = hp ? value_new_array() : value_new(VALUE_NULL);
	for (size_t i = 0; hp && i < hp->ncontributors; i++)
		value_push(names, value_new_cstring(hp->contributors[i]));
	value_set_cstr(o, "contributors", names);
	return o;
}

/* site_options.configured of gen list: the lock of a build that uses
 * the build cache (lock_begin), before the cache is read. */
static int list_configured(void *ctx, const site *s, gen_err *err)
{
	(void)err;
	build_lock *l = ctx;
	char *cache_dir = site_cache_dir(s, l->opt->output);
	lock_begin(l, cache_dir);
	free(cache_dir);
	return 0;
}

int build_list(const build_options *opt)
{
	diag_list diags = DIAG_LIST_INIT;
	gen_err err;
	err_clear(&err);
	source *src = NULL;
	site s;
	memset(&s, 0, sizeof s);
	int status = 1;
	build_lock lock = { opt, NULL, false, 0 };
	site_options so = opt->site;
	so.configured = list_configured;
	so.configured_ctx = &lock;
	if (source_open(&src, &opt->src, &diags, &err) < 0) {
		status = fail(&err, &diags, opt);
		goto out;
	}
	if (site_load(&s, src, &so, &diags, &err) < 0) {
		/* Article errors are in diags already; err then only sums them up. */
		if (err.file[0] || err.code != GEN_ECONTENT)
			diag_add_err(&diags, &err);
		report(opt, &diags);
		status = err.code == GEN_EUSAGE ? 2 : 1;
		goto out;
	}
	if (opt->json) {
		char *cdir = site_cache_dir(&s, opt->output);
		s.history = load_history(opt, src, s.cfg.content_dir, cdir, s.opt_jobs, &diags);
		free(cdir);
	}
	if (!opt->quiet) {
		/* Notices (not a repository) still go to stderr; stdout stays data. */
		diag_sort(&diags);
		diag_print(&diags, stderr);
	}
	if (opt->json) {
		value *a = value_new_array();
		for (size_t i = 0; i < s.ndocs; i++)
			value_push(a, list_record(&s, &s.docs[i]));
		buf b = BUF_INIT;
		json_write(&b, a, true);
		printf("%s\n", b.ptr);
		buf_release(&b);
		value_free(a);
	} else {
		for (size_t i = 0; i < s.ndocs; i++) {
			const document *d = &s.docs[i];
			printf("%-5s  %-10.10s  %s%s  %s\n", frontmatter_kind_name(d->fm.kind),
			       d->fm.date ? d->fm.date : "-", d->path,
			       d->fm.draft ? " (draft)" : "", d->fm.title);
		}
	}
	status = 0;
out:
	history_free(s.history);
	site_release(&s);
	source_free(src);
	lock_end(&lock);
	diag_release(&diags);
	return status;
}
