/* review: `gen diff A B` (see review.h).
 *
 * Both revisions go through the same stages a build runs (source, site,
 * links), so the report sees what readers would: a page that becomes a
 * draft is removed, a filter that starts tagging a theme shows as themes
 * gained on pages whose text did not change. Which file became which
 * comes from history_compare, with the walk's rename detection; pages are
 * then matched by path through those renames. */
#include "review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "history.h"
#include "links.h"
#include "output.h"
#include "render.h"
#include "textdiff.h"
#include "xalloc.h"

typedef enum { PAGE_ADDED, PAGE_REMOVED, PAGE_RENAMED, PAGE_CHANGED, PAGE_THEMES } page_status;

typedef struct rpage {
	page_status status;
	const document *a, *b;     /* the page at A and at B; one may be NULL */
	const char *path;          /* project path at B (at A when removed) */
	const char *old_path;      /* renamed: at A */
	bool text_changed;         /* renamed with edits, or changed */
	const char **gained, **lost; /* theme ids, borrowed from the documents */
	size_t ngained, nlost;
} rpage;

typedef struct review {
	const review_options *opt;
	source *sa, *sb;
	site a, b;
	bool loaded_a, loaded_b;
	history_delta *deltas;
	size_t ndeltas;
	rpage *pages;
	size_t npages, cap;
	char **broken, **fixed;    /* "file:line:col: message" */
	size_t nbroken, nfixed;
	size_t counts[5];
} review;

/* ---- matching pages --------------------------------------------------------- */

static const document *doc_at(const site *s, const char *path)
{
	size_t cl = strlen(s->cfg.content_dir);
	if (!path || strncmp(path, s->cfg.content_dir, cl) != 0 || path[cl] != '/')
		return NULL;
	return site_find(s, path + cl + 1);
}

static rpage *add_page(review *rv, page_status st, const document *a, const document *b)
{
	if (rv->npages == rv->cap) {
		rv->cap = rv->cap ? rv->cap * 2 : 16;
		rv->pages = xrealloc(rv->pages, rv->cap * sizeof *rv->pages);
	}
	rpage *p = &rv->pages[rv->npages++];
	memset(p, 0, sizeof *p);
	p->status = st;
	p->a = a;
	p->b = b;
	p->path = b ? b->path : a->path;
	return p;
}

static bool has_theme(const document *d, const char *id)
{
	for (size_t i = 0; d && i < d->fm.nthemes; i++)
		if (strcmp(d->fm.themes[i], id) == 0)
			return true;
	return false;
}

/* Themes of one side that the other lacks. */
static size_t theme_diff(const document *from, const document *other, const char ***out)
{
	size_t n = 0;
	*out = NULL;
	if (!from)
		return 0;
	*out = xcalloc(from->fm.nthemes + 1, sizeof **out);
	for (size_t i = 0; i < from->fm.nthemes; i++)
		if (!has_theme(other, from->fm.themes[i]))
			(*out)[n++] = from->fm.themes[i];
	return n;
}

static void compare_themes(rpage *p)
{
	p->ngained = theme_diff(p->b, p->a, &p->gained);
	p->nlost = theme_diff(p->a, p->b, &p->lost);
}

static int rpage_cmp(const void *x, const void *y)
{
	const rpage *a = x, *b = y;
	if (a->status != b->status)
		return (int)a->status - (int)b->status;
	return strcmp(a->path, b->path);
}

/* The path a page of B had at A: its rename source, else its own. */
static const char *path_at_a(const review *rv, const char *path_b)
{
	for (size_t i = 0; i < rv->ndeltas; i++)
		if (rv->deltas[i].kind == HISTORY_RENAMED && strcmp(rv->deltas[i].path, path_b) == 0)
			return rv->deltas[i].old_path;
	return path_b;
}

static void match_pages(review *rv)
{
	/* Files that changed, by what git says. */
	bool *seen = xcalloc(rv->b.ndocs + 1, sizeof *seen);
	for (size_t i = 0; i < rv->ndeltas; i++) {
		const history_delta *d = &rv->deltas[i];
		const document *a = NULL, *b = NULL;
		switch (d->kind) {
		case HISTORY_ADDED: b = doc_at(&rv->b, d->path); break;
		case HISTORY_DELETED: a = doc_at(&rv->a, d->path); break;
		case HISTORY_RENAMED:
			a = doc_at(&rv->a, d->old_path);
			b = doc_at(&rv->b, d->path);
			break;
		case HISTORY_MODIFIED:
			a = doc_at(&rv->a, d->path);
			b = doc_at(&rv->b, d->path);
			break;
		}
		if (!a && !b)
			continue; /* a draft on both sides: not a page of either */
		page_status st = !a ? PAGE_ADDED : !b ? PAGE_REMOVED
			       : d->kind == HISTORY_RENAMED ? PAGE_RENAMED : PAGE_CHANGED;
		rpage *p = add_page(rv, st, a, b);
		if (st == PAGE_RENAMED)
			p->old_path = d->old_path;
		p->text_changed = strcmp(d->old_blob, d->new_blob) != 0 && a && b;
		compare_themes(p);
		if (b)
			seen[b - rv->b.docs] = true;
	}
	/* Pages whose file did not change can still gain or lose themes: a
	 * filter or site.toml changed. */
	for (size_t i = 0; i < rv->b.ndocs; i++) {
		if (seen[i])
			continue;
		const document *b = &rv->b.docs[i];
		const document *a = doc_at(&rv->a, path_at_a(rv, b->path));
		if (!a) {
			/* Published now, a draft (or in the future) before. */
			rpage *p = add_page(rv, PAGE_ADDED, NULL, b);
			compare_themes(p);
			continue;
		}
		rpage probe;
		memset(&probe, 0, sizeof probe);
		probe.a = a;
		probe.b = b;
		compare_themes(&probe);
		if (probe.ngained || probe.nlost) {
			rpage *p = add_page(rv, PAGE_THEMES, a, b);
			p->gained = probe.gained;
			p->lost = probe.lost;
			p->ngained = probe.ngained;
			p->nlost = probe.nlost;
		} else {
			free(probe.gained);
			free(probe.lost);
		}
	}
	/* And pages of A that are gone without their file going. */
	for (size_t i = 0; i < rv->a.ndocs; i++) {
		const document *a = &rv->a.docs[i];
		bool found = false;
		for (size_t j = 0; j < rv->npages && !found; j++)
			found = rv->pages[j].a == a;
		if (found)
			continue;
		const char *pb = a->path;
		for (size_t j = 0; j < rv->ndeltas; j++)
			if (rv->deltas[j].kind == HISTORY_RENAMED &&
			    strcmp(rv->deltas[j].old_path, a->path) == 0)
				pb = rv->deltas[j].path;
		if (!doc_at(&rv->b, pb)) {
			rpage *p = add_page(rv, PAGE_REMOVED, a, NULL);
			compare_themes(p);
		}
	}
	free(seen);
	if (rv->npages > 1)
		qsort(rv->pages, rv->npages, sizeof *rv->pages, rpage_cmp);
	for (size_t i = 0; i < rv->npages; i++)
		rv->counts[rv->pages[i].status]++;
}

/* ---- links ---------------------------------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Link problems of a site as "file\tmessage" keys (line numbers move with
 * every edit, so they are not part of the key), files of A renamed to
 * their paths at B, and the full "file:line:col: message" beside each. */
static size_t link_problems(review *rv, const site *s, bool at_a, char ***keys, char ***full)
{
	diag_list dl = DIAG_LIST_INIT;
	links_check(s, &dl);
	diag_sort(&dl);
	*keys = xcalloc(dl.n + 1, sizeof **keys);
	*full = xcalloc(dl.n + 1, sizeof **full);
	for (size_t i = 0; i < dl.n; i++) {
		const gen_diag *d = &dl.items[i];
		const char *file = d->file ? d->file : "";
		if (at_a)
			for (size_t j = 0; j < rv->ndeltas; j++)
				if (rv->deltas[j].kind == HISTORY_RENAMED &&
				    strcmp(rv->deltas[j].old_path, file) == 0)
					file = rv->deltas[j].path;
		buf k = BUF_INIT, f = BUF_INIT;
		buf_printf(&k, "%s\t%s\t%zu", file, d->msg, i);
		buf_printf(&f, "%s:%d:%d: %s", d->file ? d->file : "", d->line, d->col, d->msg);
		(*keys)[i] = buf_detach(&k);
		(*full)[i] = buf_detach(&f);
	}
	size_t n = dl.n;
	diag_release(&dl);
	return n;
}

/* The part of a key before its index. */
static size_t key_len(const char *k)
{
	const char *t = strrchr(k, '\t');
	return t ? (size_t)(t - k) : strlen(k);
}

/* Problems of one side that the other does not have, as a multiset: two
 * identical broken links of which one was fixed count as one fixed. */
static void only_in(char **x, size_t nx, char **y, size_t ny, char **fullx,
		    char ***out, size_t *nout)
{
	bool *used = xcalloc(ny + 1, sizeof *used);
	*out = xcalloc(nx + 1, sizeof **out);
	*nout = 0;
	for (size_t i = 0; i < nx; i++) {
		size_t l = key_len(x[i]);
		bool match = false;
		for (size_t j = 0; j < ny && !match; j++)
			if (!used[j] && key_len(y[j]) == l && memcmp(x[i], y[j], l) == 0)
				match = used[j] = true;
		if (!match) {
			size_t idx = (size_t)strtoul(x[i] + l + 1, NULL, 10);
			(*out)[(*nout)++] = xstrdup(fullx[idx]);
		}
	}
	free(used);
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void compare_links(review *rv)
{
	char **ka, **fa, **kb, **fb;
	size_t na = link_problems(rv, &rv->a, true, &ka, &fa);
	size_t nb = link_problems(rv, &rv->b, false, &kb, &fb);
	only_in(kb, nb, ka, na, fb, &rv->broken, &rv->nbroken);
	only_in(ka, na, kb, nb, fa, &rv->fixed, &rv->nfixed);
	if (rv->nbroken > 1)
		qsort(rv->broken, rv->nbroken, sizeof *rv->broken, str_cmp);
	if (rv->nfixed > 1)
		qsort(rv->fixed, rv->nfixed, sizeof *rv->fixed, str_cmp);
	free_strs(ka, na);
	free_strs(fa, na);
	free_strs(kb, nb);
	free_strs(fb, nb);
}

/* ---- loading ---------------------------------------------------------------- */

static int load_side(review *rv, const char *rev, source **src, site *s, bool *loaded,
		     diag_list *diags, gen_err *err)
{
	source_options so = rv->opt->src;
	so.rev = rev;
	so.worktree = false;
	int rc = source_open(src, &so, NULL, err);
	if (rc < 0)
		return rc;
	if (!source_has_git(*src))
		return err_set(err, GEN_EUSAGE, "", 0, 0,
			       "'%s' is not in a git repository: gen diff compares revisions",
			       source_root(*src) ? source_root(*src) : ".");
	rc = site_load(s, *src, &rv->opt->site, diags, err);
	if (rc == 0)
		*loaded = true;
	return rc;
}

static int read_text(const source *src, const char *path, buf *out)
{
	source_file f;
	gen_err e;
	int rc = source_read(src, path, &f, &e);
	if (rc == 0) {
		buf_put(out, f.data, f.len);
		source_file_release(&f);
	}
	return rc;
}

/* The Markdown diff of a page that changed; false when there is none. */
static bool page_diff(const review *rv, const rpage *p, bool html, bool color, buf *out,
		      textdiff_stats *st)
{
	if (!p->text_changed || !p->a || !p->b)
		return false;
	buf a = BUF_INIT, b = BUF_INIT;
	bool ok = read_text(rv->sa, p->a->path, &a) == 0 && read_text(rv->sb, p->b->path, &b) == 0;
	if (ok) {
		textdiff_options o = { 3, color };
		if (html)
			textdiff_html(out, a.ptr, a.len, b.ptr, b.len, &o, st);
		else
			textdiff_text(out, a.ptr, a.len, b.ptr, b.len, &o, st);
	}
	buf_release(&a);
	buf_release(&b);
	return ok;
}

/* ---- the terminal report --------------------------------------------------- */

#define BOLD "\033[1m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define CYAN "\033[36m"
#define RESET "\033[m"

static void print_themes(buf *o, const rpage *p, bool color)
{
	for (size_t i = 0; i < p->ngained; i++)
		buf_printf(o, " %s+%s%s", color ? GREEN : "", p->gained[i], color ? RESET : "");
	for (size_t i = 0; i < p->nlost; i++)
		buf_printf(o, " %s-%s%s", color ? RED : "", p->lost[i], color ? RESET : "");
}

static void print_report(const review *rv, FILE *fp, bool color)
{
	buf o = BUF_INIT;
	const char *b0 = color ? BOLD : "", *r0 = color ? RESET : "";
	buf_printf(&o, "%sgen diff %s %s%s (%.7s..%.7s): %zu added, %zu removed, %zu renamed, "
		       "%zu changed",
		   b0, rv->opt->a, rv->opt->b, r0, source_commit(rv->sa), source_commit(rv->sb),
		   rv->counts[PAGE_ADDED], rv->counts[PAGE_REMOVED], rv->counts[PAGE_RENAMED],
		   rv->counts[PAGE_CHANGED]);
	if (rv->counts[PAGE_THEMES])
		buf_printf(&o, ", %zu with other themes", rv->counts[PAGE_THEMES]);
	buf_printf(&o, "; links: %zu broken, %zu fixed\n", rv->nbroken, rv->nfixed);

	static const char *const heads[] = { "Added pages", "Removed pages", "Renamed pages",
					     "Changed pages", "Themes changed (text unchanged)" };
	static const char signs[] = { '+', '-', '>', '~', '*' };
	const char *cols[] = { GREEN, RED, CYAN, YELLOW, YELLOW };
	for (int st = PAGE_ADDED; st <= PAGE_THEMES; st++) {
		if (!rv->counts[st])
			continue;
		buf_printf(&o, "\n%s%s%s\n", b0, heads[st], r0);
		for (size_t i = 0; i < rv->npages; i++) {
			const rpage *p = &rv->pages[i];
			if ((int)p->status != st)
				continue;
			const document *d = p->b ? p->b : p->a;
			buf_printf(&o, "  %s%c%s ", color ? cols[st] : "", signs[st], r0);
			if (p->old_path)
				buf_printf(&o, "%s -> ", p->old_path);
			buf_printf(&o, "%s  \"%s\"", p->path, d->fm.title);
			if (p->status == PAGE_RENAMED && p->text_changed)
				buf_puts(&o, " (and edited)");
			if (p->ngained || p->nlost) {
				buf_puts(&o, "  themes:");
				print_themes(&o, p, color);
			}
			buf_putc(&o, '\n');
		}
	}
	if (rv->nbroken || rv->nfixed) {
		buf_printf(&o, "\n%sLinks%s\n", b0, r0);
		for (size_t i = 0; i < rv->nbroken; i++)
			buf_printf(&o, "  %sbroken%s %s\n", color ? RED : "", r0, rv->broken[i]);
		for (size_t i = 0; i < rv->nfixed; i++)
			buf_printf(&o, "  %sfixed%s  %s\n", color ? GREEN : "", r0, rv->fixed[i]);
	}
	if (!rv->opt->quiet) {
		for (size_t i = 0; i < rv->npages; i++) {
			const rpage *p = &rv->pages[i];
			buf d = BUF_INIT;
			if (page_diff(rv, p, false, color, &d, NULL)) {
				buf_printf(&o, "\n%s--- %s\n+++ %s%s\n", b0,
					   p->old_path ? p->old_path : p->path, p->path, r0);
				buf_put(&o, d.ptr, d.len);
			}
			buf_release(&d);
		}
	}
	fwrite(o.ptr, 1, o.len, fp);
	buf_release(&o);
}

/* ---- the HTML report --------------------------------------------------------- */

static void set_str(value *t, const char *key, const char *s)
{
	value_set_cstr(t, key, value_new_cstring(s ? s : ""));
}

static value *theme_values(const site *s, const char **ids, size_t n)
{
	value *a = value_new_array();
	for (size_t i = 0; i < n; i++) {
		const config_theme *t = config_theme_find(&s->cfg, ids[i]);
		value *o = value_new_table();
		set_str(o, "id", ids[i]);
		set_str(o, "title", t ? t->title : ids[i]);
		value_push(a, o);
	}
	return a;
}

static value *strings(char **v, size_t n)
{
	value *a = value_new_array();
	for (size_t i = 0; i < n; i++)
		value_push(a, value_new_cstring(v[i]));
	return a;
}

static value *report_data(const review *rv, renderer *r)
{
	value *data = render_base_data(r, "");
	/* The report stands alone in its folder: the site's menu would lead
	 * nowhere. */
	value_set_cstr(data, "nav", value_new_array());
	value *page = value_new_table();
	buf title = BUF_INIT;
	buf_printf(&title, "%s: %s → %s", render_i18n(r, "review_title", "Review"),
		   rv->opt->a, rv->opt->b);
	set_str(page, "title", title.ptr);
	set_str(page, "url", "");
	set_str(page, "summary", "");
	value_set_cstr(data, "page", page);
	buf_release(&title);

	value *v = value_new_table();
	char sa[8], sb[8];
	snprintf(sa, sizeof sa, "%.7s", source_commit(rv->sa));
	snprintf(sb, sizeof sb, "%.7s", source_commit(rv->sb));
	set_str(v, "a", rv->opt->a);
	set_str(v, "b", rv->opt->b);
	set_str(v, "a_commit", source_commit(rv->sa));
	set_str(v, "b_commit", source_commit(rv->sb));
	set_str(v, "a_short", sa);
	set_str(v, "b_short", sb);
	static const char *const keys[] = { "added", "removed", "renamed", "changed", "themes" };
	value *counts = value_new_table();
	for (int i = 0; i <= PAGE_THEMES; i++)
		value_set_cstr(counts, keys[i], value_new_integer((int64_t)rv->counts[i]));
	value_set_cstr(v, "counts", counts);
	static const char *const labels[][2] = {
		{ "review_added", "Nieuw" }, { "review_removed", "Verwijderd" },
		{ "review_renamed", "Verplaatst" }, { "review_changed", "Gewijzigd" },
		{ "review_themes", "Andere thema's" } };
	value *pages = value_new_array();
	const char *base = rv->b.cfg.base_url;
	for (size_t i = 0; i < rv->npages; i++) {
		const rpage *p = &rv->pages[i];
		const document *d = p->b ? p->b : p->a;
		value *o = value_new_table();
		set_str(o, "status", keys[p->status]);
		set_str(o, "status_label", render_i18n(r, labels[p->status][0], labels[p->status][1]));
		set_str(o, "title", d->fm.title);
		set_str(o, "path", p->path);
		set_str(o, "old_path", p->old_path);
		buf url = BUF_INIT;
		if (p->b && *base)
			buf_printf(&url, "%s%s", base, p->b->url);
		set_str(o, "url", url.ptr);
		buf_release(&url);
		value_set_cstr(o, "gained", theme_values(&rv->b, p->gained, p->ngained));
		value_set_cstr(o, "lost", theme_values(&rv->a, p->lost, p->nlost));
		value_set_cstr(o, "has_themes", value_new_bool(p->ngained || p->nlost));
		buf diff = BUF_INIT;
		textdiff_stats st = { 0, 0, 0 };
		bool has = page_diff(rv, p, true, false, &diff, &st);
		value_set_cstr(o, "has_diff", value_new_bool(has));
		if (has) {
			set_str(o, "diff", diff.ptr);
			value_set_cstr(o, "lines_added", value_new_integer((int64_t)st.added));
			value_set_cstr(o, "lines_removed", value_new_integer((int64_t)st.removed));
		}
		buf_release(&diff);
		value_push(pages, o);
	}
	value_set_cstr(v, "has_pages", value_new_bool(rv->npages > 0));
	value_set_cstr(v, "pages", pages);
	value_set_cstr(v, "broken", strings(rv->broken, rv->nbroken));
	value_set_cstr(v, "fixed", strings(rv->fixed, rv->nfixed));
	value_set_cstr(v, "has_links", value_new_bool(rv->nbroken || rv->nfixed));
	value_set_cstr(data, "review", v);
	return data;
}

static int write_html(const review *rv, diag_list *diags, gen_err *err)
{
	renderer *r = NULL;
	output *o = NULL;
	value *data = NULL;
	int rc = render_new(&r, &rv->b, rv->opt->exe, diags, err);
	if (rc < 0)
		goto out;
	if ((rc = output_begin(&o, rv->opt->html_dir, NULL, err)) < 0)
		goto out;
	data = report_data(rv, r);
	if ((rc = render_page(r, o, "review", "index.html", data, err)) < 0)
		goto out;
	if ((rc = render_statics(r, o, err)) < 0)
		goto out;
	rc = output_commit(o, err);
	o = NULL;
out:
	output_abort(o);
	value_free(data);
	render_free(r);
	return rc;
}

/* ---- running ----------------------------------------------------------------- */

static bool use_color(void)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	return isatty(fileno(stdout)) && !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
}

int review_run(const review_options *opt)
{
	review rv;
	memset(&rv, 0, sizeof rv);
	rv.opt = opt;
	diag_list diags = DIAG_LIST_INIT;
	gen_err err;
	err_clear(&err);
	int status = 1, rc;

	if ((rc = load_side(&rv, opt->a, &rv.sa, &rv.a, &rv.loaded_a, &diags, &err)) < 0 ||
	    (rc = load_side(&rv, opt->b, &rv.sb, &rv.b, &rv.loaded_b, &diags, &err)) < 0) {
		if (err.file[0] || err.code != GEN_ECONTENT)
			diag_add_err(&diags, &err);
		status = err.code == GEN_EUSAGE ? 2 : 1;
		goto out;
	}
	history_options ho = { opt->src.repo, source_root(rv.sb), NULL,
			       rv.b.cfg.content_dir, NULL, 0, 0 };
	if ((rc = history_compare(&rv.deltas, &rv.ndeltas, &ho, source_commit(rv.sa),
				  source_commit(rv.sb), &err)) < 0) {
		diag_add_err(&diags, &err);
		goto out;
	}
	match_pages(&rv);
	compare_links(&rv);
	print_report(&rv, stdout, use_color());
	if (opt->html_dir) {
		if (write_html(&rv, &diags, &err) < 0) {
			diag_add_err(&diags, &err);
			goto out;
		}
		fprintf(stderr, "wrote the review to %s/index.html\n", opt->html_dir);
	}
	status = 0;
out:
	/* Warnings of loading (unknown keys, notices) are the build's
	 * business; a review shows only what stopped it. */
	if (status) {
		diag_sort(&diags);
		diag_print(&diags, stderr);
	}
	diag_release(&diags);
	for (size_t i = 0; i < rv.npages; i++) {
		free(rv.pages[i].gained);
		free(rv.pages[i].lost);
	}
	free(rv.pages);
	free_strs(rv.broken, rv.nbroken);
	free_strs(rv.fixed, rv.nfixed);
	history_deltas_free(rv.deltas, rv.ndeltas);
	if (rv.loaded_a)
		site_release(&rv.a);
	if (rv.loaded_b)
		site_release(&rv.b);
	source_free(rv.sa);
	source_free(rv.sb);
	return status;
}
