/* render: template data and page rendering (see render.h).
 *
 * Every page gets the same shape of data (documented in
 * themes/default/README.md): site, i18n, root, nav, page, and for list
 * pages section, chapters or latest. URLs in the data are relative to the
 * site root and templates prefix them with root, which is relative to the
 * page ("../../"), so the output works at any base path and from disk. */
#include "render.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "authors.h"
#include "changes.h"
#include "jobs.h"
#include "links.h"
#include "print.h"
#include "search.h"
#include "source.h"
#include "template.h"
#include "toml.h"
#include "xalloc.h"
#include "xref.h"

typedef struct static_file {
	char *rel;     /* path in the output: "css/gen.css" */
	char *data;
	size_t len;
} static_file;

struct renderer {
	const site *s;
	template_partials *layouts;   /* every layout and partial of the theme */
	value *i18n;             /* UI strings of the site's language */
	static_file *statics;
	size_t nstatics;
	const char **static_paths; /* their rel, for render_theme_files */
	atomic_size_t pages;
	atomic_size_t pages_kept; /* pages whose inputs had not changed */
	int jobs;                /* worker threads for article pages */
	const links_graph *links; /* from render_set_links, or NULL */
	xref *xref;              /* backlinks, related, leerpad, authors (xref.h) */
	render_times times;      /* of the last render_site, for --stats */
	_Atomic(value *) *cards; /* every document's card, made once per render_site,
				    when first asked for */
	size_t ncards;
	_Atomic uint64_t *card_keys; /* per document: card_hash, made once per
				      * render_site when first asked for */
	size_t *sec_place;       /* per document: its place among its section's pages */
	uint64_t theme_stamp;    /* hash of the theme's files */
	uint64_t site_stamp;     /* what every page shares (render_site_stamp) */
	uint64_t *facts;         /* per document: document_facts */
	uint64_t facts_key;      /* site_stamp and every article's facts */
	bool facts_same;         /* facts_key is as in the last build */
	cache_file *page_cache;  /* per output file: the hash of what made it */
	struct search_memory *search_memory; /* render_set_search_memory */
	const char *search_memory_file;      /* render_set_search_memory_file */
	uint64_t search_memory_stamp;
	/* The search index begun before the render (render_search_begin):
	 * its thread, and what it returned. */
	struct early_search *early;
	bool print_parts;                    /* render_set_print_parts */
	bool checking;                       /* render_set_checking */
};

static const char *const months_nl[] = { "januari", "februari", "maart", "april",
	"mei", "juni", "juli", "augustus", "september", "oktober", "november", "december" };
static const char *const months_en[] = { "January", "February", "March", "April",
	"May", "June", "July", "August", "September", "October", "November", "December" };

/* Reads the theme's files from src under prefix ("themes/default/"). */
static int load_theme_files(renderer *r, const source *src, const char *prefix,
			    diag_list *diags, gen_err *err)
{
	source_file *files = NULL;
	size_t n = 0;
	int rc = source_list(src, prefix, &files, &n, err);
	if (rc < 0)
		return rc;
	size_t pl = strlen(prefix) + 1;
	char i18n_name[64];
	snprintf(i18n_name, sizeof i18n_name, "i18n/%s.toml", r->s->cfg.language);
	for (size_t i = 0; i < n && rc == 0; i++) {
		source_file *f = &files[i];
		const char *rel = f->path + pl;
		/* Every file of the theme decides pages (see render_page). */
		r->theme_stamp = buf_hash64(rel, strlen(rel) + 1, r->theme_stamp);
		r->theme_stamp = buf_hash64(f->data, f->len, r->theme_stamp);
		if (strncmp(rel, "layouts/", 8) == 0) {
			size_t l = strlen(rel + 8);
			if (l > 9 && strcmp(rel + 8 + l - 9, ".mustache") == 0) {
				char *name = xstrndup(rel + 8, l - 9);
				template *t = NULL;
				rc = template_compile(&t, f->data, f->len, f->path, err);
				if (rc == 0)
					template_partials_put(r->layouts, name, t);
				free(name);
			}
		} else if (strcmp(rel, i18n_name) == 0) {
			rc = toml_parse(&r->i18n, f->data, f->len, f->path, 0, err);
		} else if (strncmp(rel, "static/", 7) == 0) {
			r->statics = xrealloc(r->statics, (r->nstatics + 1) * sizeof *r->statics);
			static_file *sf = &r->statics[r->nstatics++];
			sf->rel = xstrdup(rel + 7);
			sf->data = f->data;
			sf->len = f->len;
			f->data = NULL;
		}
	}
	source_files_free(files, n);
	r->static_paths = xrealloc(r->static_paths, (r->nstatics + 1) * sizeof *r->static_paths);
	for (size_t i = 0; i < r->nstatics; i++)
		r->static_paths[i] = r->statics[i].rel;
	if (rc == 0 && !r->i18n) {
		if (diags)
			diag_add(diags, DIAG_WARNING, prefix, 0, 0,
				 "theme has no '%s': UI strings will be empty", i18n_name);
		r->i18n = value_new_table();
	}
	return rc;
}

/* Directories that may hold installed themes, best first. */
static void theme_dirs(const char *exe, const char *theme, buf *dirs, size_t *n)
{
	(void)theme;
	*n = 0;
	const char *env = getenv("GEN_THEMES");
	if (env && *env) {
		buf_puts(&dirs[(*n)++], env);
	}
	char self[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
	if (l > 0) {
		self[l] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			/* build/gen -> ./themes; PREFIX/bin/gen -> PREFIX/share/gen/themes */
			buf_printf(&dirs[(*n)++], "%s/../themes", self);
			buf_printf(&dirs[(*n)++], "%s/../../themes", self);
			buf_printf(&dirs[(*n)++], "%s/../share/gen/themes", self);
		}
	}
	(void)exe;
	buf_puts(&dirs[(*n)++], GEN_DATADIR "/themes");
}

int render_new(renderer **out, const site *s, const char *exe, diag_list *diags,
	       gen_err *err)
{
	int rc = 0;
	renderer *r = xcalloc(1, sizeof *r);
	r->s = s;
	r->jobs = site_jobs(s->opt_jobs);
	*out = NULL;
	r->layouts = template_partials_new();

	buf prefix = BUF_INIT;
	buf_printf(&prefix, "themes/%s", s->cfg.theme);
	source_file probe;
	buf probe_path = BUF_INIT;
	buf_printf(&probe_path, "%s/layouts/baseof.mustache", prefix.ptr);
	int found = source_read(s->src, probe_path.ptr, &probe, err);
	buf_release(&probe_path);
	if (found == 0) {
		source_file_release(&probe);
		rc = load_theme_files(r, s->src, prefix.ptr, diags, err);
	} else if (found > 0) {
		buf dirs[6];
		for (size_t i = 0; i < 6; i++)
			buf_init(&dirs[i]);
		size_t nd;
		theme_dirs(exe, s->cfg.theme, dirs, &nd);
		rc = err_set(err, GEN_EUSAGE, "site.toml", 0, 0,
			     "theme '%s' not found in themes/ nor in the installed themes",
			     s->cfg.theme);
		for (size_t i = 0; i < nd; i++) {
			buf p = BUF_INIT;
			buf_printf(&p, "%s/%s/layouts/baseof.mustache", dirs[i].ptr, s->cfg.theme);
			bool there = access(p.ptr, R_OK) == 0;
			buf_release(&p);
			if (!there)
				continue;
			source *plain = NULL;
			if ((rc = source_open_plain(&plain, dirs[i].ptr, err)) == 0) {
				rc = load_theme_files(r, plain, s->cfg.theme, diags, err);
				source_free(plain);
			}
			break;
		}
		for (size_t i = 0; i < 6; i++)
			buf_release(&dirs[i]);
	} else {
		rc = found;
	}
	buf_release(&prefix);
	if (rc < 0)
		goto out;
	if (diags)
		template_partials_check(r->layouts, diags);
	*out = r;
	r = NULL;
out:
	render_free(r);
	return rc;
}

static void free_cards(renderer *r)
{
	for (size_t i = 0; i < r->ncards; i++)
		value_free(atomic_load(&r->cards[i]));
	free((void *)r->cards);
	r->cards = NULL;
	r->ncards = 0;
	free((void *)r->card_keys);
	r->card_keys = NULL;
	free(r->sec_place);
	r->sec_place = NULL;
}

/* Where d stands among the pages of sec (its section), or sec->npages:
 * for prev and next, on every article page. */
static size_t section_place(const renderer *r, const site_section *sec, const document *d)
{
	size_t doc = (size_t)(d - r->s->docs);
	if (r->sec_place && doc < r->ncards) {
		size_t i = r->sec_place[doc];
		return i < sec->npages && sec->pages[i] == d ? i : sec->npages;
	}
	for (size_t i = 0; i < sec->npages; i++)
		if (sec->pages[i] == d)
			return i;
	return sec->npages;
}

void render_free(renderer *r)
{
	if (!r)
		return;
	template_partials_free(r->layouts);
	value_free(r->i18n);
	for (size_t i = 0; i < r->nstatics; i++) {
		free(r->statics[i].rel);
		free(r->statics[i].data);
	}
	free(r->statics);
	free(r->static_paths);
	xref_free(r->xref);
	free_cards(r);
	free(r->facts);
	if (r->early) {
		search_render_stats st;
		render_search_end(r, NULL, &st, NULL);
		free(r->early);
	}
	free(r);
}

void render_set_links(renderer *r, const links_graph *g)
{
	r->links = g;
}

int render_partial(const renderer *r, const char *name, const value *data,
		   buf *out, gen_err *err)
{
	const template *t = template_partials_get(r->layouts, name, strlen(name));
	return t ? template_render(out, t, data, r->layouts, err) : 0;
}

const render_times *render_last_times(const renderer *r)
{
	return &r->times;
}

size_t render_pages_kept(const renderer *r)
{
	return atomic_load(&r->pages_kept);
}

size_t render_page_count(const renderer *r) { return atomic_load(&r->pages); }

const char *const *render_theme_files(const renderer *r, size_t *n)
{
	*n = r->nstatics;
	return r->static_paths;
}

int render_statics(renderer *r, output *o, gen_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < r->nstatics && rc == 0 && o; i++)
		rc = output_write(o, r->statics[i].rel, r->statics[i].data,
				  r->statics[i].len, err);
	return rc;
}

/* ---- template data ---------------------------------------------------- */

static void set_str(value *t, const char *key, const char *s)
{
	value_set_cstr(t, key, value_new_cstring(s ? s : ""));
}

const char *render_i18n(const renderer *r, const char *key, const char *dflt)
{
	return value_get_string(r->i18n, key, dflt);
}

static void date_display(const renderer *r, const char *date, buf *out)
{
	value_datetime dt;
	if (!date || value_datetime_parse(date, strlen(date), &dt) < 0 || !dt.has_date)
		return;
	const char *const *m = strcmp(r->s->cfg.language, "en") == 0 ? months_en : months_nl;
	buf_printf(out, "%d %s %d", dt.day, m[dt.month - 1], dt.year);
}

static const char *kind_label(const renderer *r, article_kind k)
{
	switch (k) {
	case KIND_STORY: return render_i18n(r, "story", "Verhaal");
	case KIND_TIPS: return render_i18n(r, "tips", "Tips");
	default: return render_i18n(r, "page", "Pagina");
	}
}

static const char *doc_summary(const document *d)
{
	if (d->fm.summary && *d->fm.summary)
		return d->fm.summary;
	return markdown_first_paragraph(d->md);
}

/* A small record for lists of pages (cards, prev/next, breadcrumbs). */
value *render_page_card(const renderer *r, const document *d)
{
	value *c = value_new_table();
	set_str(c, "title", d->fm.title);
	set_str(c, "url", d->url);
	set_str(c, "kind", frontmatter_kind_name(d->fm.kind));
	set_str(c, "kind_label", kind_label(r, d->fm.kind));
	buf dd = BUF_INIT;
	date_display(r, d->fm.date, &dd);
	if (d->fm.date) {
		set_str(c, "date", d->fm.date);
		set_str(c, "date_display", dd.ptr);
	}
	buf_release(&dd);
	if (d->fm.author) {
		set_str(c, "author", d->fm.author);
		/* Section intros are not on author pages (authors.h); "" still
		 * hides an enclosing page's author_url from the template. */
		buf au = BUF_INIT;
		if (!d->is_index && *d->fm.author)
			authors_url(&au, d->fm.author);
		set_str(c, "author_url", au.ptr);
		buf_release(&au);
	}
	set_str(c, "summary", doc_summary(d));
	return c;
}

value *render_card(const renderer *r, const document *d)
{
	size_t i = (size_t)(d - r->s->docs);
	if (i >= r->ncards)
		return render_page_card(r, d);
	/* Made by the first part that needs it (a rebuild needs few); two
	 * parts at once both make it, and one copy is kept. */
	value *c = atomic_load(&r->cards[i]);
	if (!c) {
		value *made = render_page_card(r, d);
		if (atomic_compare_exchange_strong(&r->cards[i], &c, made))
			c = made;
		else
			value_free(made);
	}
	return value_new_alias(c);
}

/* The first passage a filter tagged with theme, or NULL (a theme set by
 * hand in front matter has none). */
static const document_evidence *first_evidence(const document *d, const char *theme)
{
	for (size_t i = 0; i < document_evidence_count(d); i++) {
		const document_evidence *e = document_evidence_at(d, i);
		if (strcmp(e->theme, theme) == 0)
			return e;
	}
	return NULL;
}

/* The URL of theme id's page: its folder "themas/ID/" (render_themes
 * writes it so), the id escaped where a URL must be. */
static void put_theme_url(buf *u, const char *id)
{
	buf_puts(u, "themas/");
	buf_put_url_path(u, id, strlen(id));
	buf_putc(u, '/');
}

/* The article's themes, each with its description and the passage that
 * earned it ("anchor" and "excerpt" are "" for themes set by hand). */
static value *theme_list(const renderer *r, const document *d)
{
	value *a = value_new_array();
	for (size_t i = 0; i < d->fm.nthemes; i++) {
		const config_theme *t = config_theme_find(&r->s->cfg, d->fm.themes[i]);
		const document_evidence *e = first_evidence(d, d->fm.themes[i]);
		value *o = value_new_table();
		set_str(o, "id", d->fm.themes[i]);
		set_str(o, "title", t ? t->title : d->fm.themes[i]);
		buf u = BUF_INIT;
		put_theme_url(&u, d->fm.themes[i]);
		set_str(o, "url", u.ptr);
		buf_release(&u);
		set_str(o, "description", t ? t->description : "");
		set_str(o, "anchor", e ? e->anchor : "");
		set_str(o, "excerpt", e ? e->excerpt : "");
		value_set_cstr(o, "has_evidence", value_new_bool(e != NULL));
		value_push(a, o);
	}
	return a;
}

typedef struct rewrite_ctx {
	const site *s;
	const document *d;
} rewrite_ctx;

static char *rewrite(void *ctx, const char *url, bool image)
{
	rewrite_ctx *c = ctx;
	return links_rewrite(c->s, c->d, url, image);
}

/* The data every page shares; page_url decides root and the active nav item. */
value *render_base_data(const renderer *r, const char *page_url)
{
	const config *cfg = &r->s->cfg;
	value *root = value_new_table();
	value *sv = value_new_table();
	set_str(sv, "title", cfg->title);
	set_str(sv, "language", cfg->language);
	set_str(sv, "base_url", cfg->base_url);
	set_str(sv, "description", cfg->description);
	const value *params = value_get(cfg->table, "params");
	/* Shared by every page, read-only: aliases, not copies. */
	if (params)
		value_set_cstr(sv, "params", value_new_alias(params));
	value_set_cstr(root, "site", sv);
	value_set_cstr(root, "i18n", value_new_alias(r->i18n));
	char *rp = links_root(page_url);
	set_str(root, "root", rp);
	free(rp);
	value *nav = value_new_array();
	for (size_t i = 0; i < r->s->nsections; i++) {
		const site_section *sec = &r->s->sections[i];
		if (strchr(sec->dir, '/'))
			continue; /* only top-level chapters in the menu */
		value *n = value_new_table();
		set_str(n, "title", sec->index->fm.title);
		set_str(n, "url", sec->index->url);
		size_t ul = strlen(sec->index->url);
		value_set_cstr(n, "active", value_new_bool(
			*page_url && strncmp(page_url, sec->index->url, ul) == 0));
		value_push(nav, n);
	}
	value_set_cstr(root, "nav", nav);
	return root;
}

static value *page_data(const renderer *r, const document *d, const char *html)
{
	value *p = render_page_card(r, d);
	set_str(p, "content", html);
	value_set_cstr(p, "is_story", value_new_bool(d->fm.kind == KIND_STORY));
	value_set_cstr(p, "is_tips", value_new_bool(d->fm.kind == KIND_TIPS));
	value_set_cstr(p, "is_page", value_new_bool(d->fm.kind == KIND_PAGE));
	value_set_cstr(p, "is_home", value_new_bool(d == r->s->home));
	size_t words = markdown_word_count(d->md);
	value_set_cstr(p, "reading_minutes", value_new_integer((int64_t)((words + 199) / 200)));
	value_set_cstr(p, "themes", theme_list(r, d));
	value_set_cstr(p, "has_themes", value_new_bool(d->fm.nthemes > 0 && !d->is_index));
	const value *meta = frontmatter_meta(&d->fm);
	if (meta)
		value_set_cstr(p, "params", value_copy(meta));

	/* A table of contents helps on long articles only. */
	value *toc = value_new_array();
	size_t nh = markdown_heading_count(d->md);
	if (nh >= 3 && words >= 300) {
		for (size_t i = 0; i < nh; i++) {
			const markdown_heading *h = markdown_heading_at(d->md, i);
			if (h->level < 2 || h->level > 3)
				continue;
			value *e = value_new_table();
			value_set_cstr(e, "level", value_new_integer(h->level));
			set_str(e, "id", h->id);
			set_str(e, "text", h->text);
			value_push(toc, e);
		}
	}
	value_set_cstr(p, "has_toc", value_new_bool(value_count(toc) > 0));
	value_set_cstr(p, "toc", toc);

	value *tips = value_new_array();
	for (size_t i = 0; i < markdown_tip_count(d->md); i++) {
		const markdown_tip *t = markdown_tip_at(d->md, i);
		value *e = value_new_table();
		value_set_cstr(e, "n", value_new_integer(t->n));
		set_str(e, "id", t->id);
		set_str(e, "title", t->title);
		set_str(e, "text", t->text);
		value_push(tips, e);
	}
	value_set_cstr(p, "tips", tips);

	value *crumbs = value_new_array();
	if (d != r->s->home) {
		value *home = value_new_table();
		set_str(home, "title", render_i18n(r, "home", "Home"));
		set_str(home, "url", "");
		value_push(crumbs, home);
		/* Every folder above d that is a section, outermost first
		 * ("verhalen", "verhalen/garage"); a section's own page
		 * stops before itself. */
		size_t dl = strlen(d->dir);
		for (size_t end = 1; *d->dir && end <= dl; end++) {
			if (end < dl && d->dir[end] != '/')
				continue;
			if (end == dl && d->is_index)
				break;
			for (size_t i = 0; i < r->s->nsections; i++) {
				const site_section *sec = &r->s->sections[i];
				if (strlen(sec->dir) != end || strncmp(sec->dir, d->dir, end) != 0)
					continue;
				value *c = value_new_table();
				set_str(c, "title", sec->index->fm.title);
				set_str(c, "url", sec->index->url);
				value_push(crumbs, c);
			}
		}
	}
	value_set_cstr(p, "breadcrumbs", crumbs);

	const site_section *sec = d->is_index ? NULL : site_section_of(r->s, d);
	size_t i = sec ? section_place(r, sec, d) : 0;
	if (sec && i < sec->npages) {
		if (i > 0)
			value_set_cstr(p, "prev", render_card(r, sec->pages[i - 1]));
		if (i + 1 < sec->npages)
			value_set_cstr(p, "next", render_card(r, sec->pages[i + 1]));
	}
	xref_page_data(r->xref, r, d, p);
	changes_page_data(r, r->s, d, p);
	return p;
}

static int date_desc(const void *a, const void *b)
{
	const document *x = *(document *const *)a, *y = *(document *const *)b;
	if (x->fm.date_epoch != y->fm.date_epoch)
		return x->fm.date_epoch > y->fm.date_epoch ? -1 : 1;
	return strcmp(x->rel, y->rel);
}

/* How many of a chapter's pages the home page lists; the chapter's own
 * page lists them all. A chapter of thousands would otherwise make the
 * home page megabytes of links. */
#define HOME_CHAPTER_PAGES 12

static void add_home_lists(const renderer *r, value *data)
{
	value *chapters = value_new_array();
	for (size_t i = 0; i < r->s->nsections; i++) {
		const site_section *sec = &r->s->sections[i];
		value *c = render_page_card(r, sec->index);
		value_set_cstr(c, "count", value_new_integer((int64_t)sec->npages));
		value *pages = value_new_array();
		size_t shown = sec->npages < HOME_CHAPTER_PAGES ? sec->npages : HOME_CHAPTER_PAGES;
		for (size_t j = 0; j < shown; j++)
			value_push(pages, render_card(r, sec->pages[j]));
		value_set_cstr(c, "pages", pages);
		if (shown < sec->npages)
			value_set_cstr(c, "more", value_new_integer((int64_t)(sec->npages - shown)));
		value_push(chapters, c);
	}
	value_set_cstr(data, "chapters", chapters);

	const document **dated = xcalloc(r->s->ndocs + 1, sizeof *dated);
	size_t n = 0;
	for (size_t i = 0; i < r->s->ndocs; i++)
		if (!r->s->docs[i].is_index && r->s->docs[i].fm.date &&
		    r->s->docs[i].fm.kind != KIND_PAGE)
			dated[n++] = &r->s->docs[i];
	qsort(dated, n, sizeof *dated, date_desc);
	value *latest = value_new_array();
	for (size_t i = 0; i < n && i < 6; i++)
		value_push(latest, render_card(r, dated[i]));
	free(dated);
	value_set_cstr(data, "latest", latest);
	xref_home_data(r->xref, r, data);
}

static value *section_data(const renderer *r, const site_section *sec, const char *html)
{
	value *s = render_page_card(r, sec->index);
	set_str(s, "content", html);
	value *pages = value_new_array();
	for (size_t j = 0; j < sec->npages; j++)
		value_push(pages, render_card(r, sec->pages[j]));
	value_set_cstr(s, "pages", pages);
	return s;
}

/* Where the page cache keeps the related pages (xref_memo). */
#define RELATED_MEMO "#related"

/* What the page cache keeps per output file: the hash of the layout and
 * data it was made from, and the file as the build left it (a file
 * written since, by hand, is made again). */
typedef struct page_memo {
	uint64_t hash;
	uint64_t own;  /* see render_page_kept */
	output_mark mark; /* the file as this build left it */
} page_memo;

/* Where the page cache keeps the facts key of the build that saved it. */
#define FACTS_MEMO "#facts"

bool render_facts_same(const renderer *r)
{
	return r->facts_same;
}

void render_set_page_cache(renderer *r, cache_file *pages)
{
	r->page_cache = pages;
}

void render_set_checking(renderer *r, bool checking)
{
	r->checking = checking;
}

void render_set_search_memory(renderer *r, struct search_memory *m)
{
	r->search_memory = m;
}

struct search_memory *render_search_memory(const renderer *r)
{
	return r->search_memory;
}

void render_set_search_memory_file(renderer *r, const char *path, uint64_t stamp)
{
	r->search_memory_file = path;
	r->search_memory_stamp = stamp;
}

const char *render_search_memory_file(const renderer *r, uint64_t *stamp)
{
	*stamp = r->search_memory_stamp;
	return r->search_memory_file;
}

void render_set_print_parts(renderer *r, bool parts)
{
	r->print_parts = parts;
}

bool render_print_parts(const renderer *r)
{
	return r->print_parts;
}

const char *render_memo_get(renderer *r, const char *key, size_t *len)
{
	return r->page_cache ? cache_get(r->page_cache, key, strlen(key), len) : NULL;
}

bool render_memo_keep(renderer *r, const char *key)
{
	return r->page_cache && cache_keep(r->page_cache, key, strlen(key));
}

void render_memo_put(renderer *r, const char *key, const void *data, size_t len)
{
	if (r->page_cache)
		cache_put(r->page_cache, key, strlen(key), data, len);
}

uint64_t render_theme_stamp(const renderer *r)
{
	return r->theme_stamp;
}

/* Whether the page cache can keep pages: for an output, or for gen
 * check (render_set_checking), which has none. */
static bool memo_on(const renderer *r, const output *o)
{
	return r->page_cache && (o || r->checking);
}

/* What the page cache says of the file at rel, when it has it and
 * there is an output to keep it in, or gen check asks. */
static bool memo_get(renderer *r, output *o, const char *rel, page_memo *was)
{
	size_t len;
	const char *old = memo_on(r, o) ? cache_get(r->page_cache, rel, strlen(rel), &len) : NULL;
	if (!old || len != sizeof *was)
		return false;
	memcpy(was, old, sizeof *was);
	return true;
}

/* Whether the file at rel is as the page cache's mark says: without an
 * output (gen check) there is no file, and what counts is that the same
 * inputs rendered without an error before. */
static bool kept_as(output *o, const char *rel, const output_mark *mark)
{
	return !o || output_keep(o, rel, mark);
}

bool render_file_fresh(renderer *r, output *o, const char *rel, uint64_t fp)
{
	page_memo was;
	return memo_get(r, o, rel, &was) && was.hash == fp && kept_as(o, rel, &was.mark);
}

bool render_file_mark(renderer *r, output *o, const char *rel, output_mark *mark)
{
	page_memo was;
	if (!o || !memo_get(r, o, rel, &was))
		return false;
	*mark = was.mark;
	return true;
}

bool render_page_kept(renderer *r, output *o, const char *rel, uint64_t own)
{
	page_memo was;
	if (!r->facts_same || !memo_get(r, o, rel, &was) || was.own != own ||
	    !kept_as(o, rel, &was.mark))
		return false;
	atomic_fetch_add(&r->pages_kept, 1);
	atomic_fetch_add(&r->pages, 1);
	return true;
}

static void memo_put(renderer *r, const char *rel, uint64_t fp, const output_mark *mark,
		     uint64_t own)
{
	if (r->page_cache) {
		page_memo memo = { fp, own, *mark };
		cache_put(r->page_cache, rel, strlen(rel), &memo, sizeof memo);
	}
}

/* For gen check: a page rendered without an error, with no file. */
static void memo_checked(renderer *r, output *o, const char *rel, uint64_t fp, uint64_t own)
{
	if (o || !r->checking || (!fp && !own))
		return; /* a build (memo_put), not gen check, or no inputs hashed */
	output_mark none;
	memset(&none, 0, sizeof none);
	memo_put(r, rel, fp, &none, own);
}

bool render_page_fresh(renderer *r, output *o, const char *rel, uint64_t fp)
{
	if (!render_file_fresh(r, o, rel, fp))
		return false;
	atomic_fetch_add(&r->pages_kept, 1);
	atomic_fetch_add(&r->pages, 1);
	return true;
}

int render_file_as(renderer *r, output *o, const char *rel, const char *data, size_t len,
		   uint64_t fp, gen_err *err)
{
	output_mark mark;
	int rc = o ? output_write_marked(o, rel, data, len, &mark, err) : 0;
	if (rc == 0 && o)
		memo_put(r, rel, fp, &mark, 0);
	else if (rc == 0)
		memo_checked(r, o, rel, fp, 0);
	return rc;
}

/* render_page_as, remembering own for render_page_kept. */
static int render_page_own(renderer *r, output *o, const char *layout, const char *rel,
			   const value *data, uint64_t fp, uint64_t own, gen_err *err)
{
	buf html = BUF_INIT;
	const template *t = template_partials_get(r->layouts, layout, strlen(layout));
	int rc = t ? template_render(&html, t, data, r->layouts, err)
		   : err_set(err, GEN_EUSAGE, "", 0, 0, "the theme has no layout '%s'", layout);
	output_mark mark;
	if (rc == 0 && o)
		rc = output_write_marked(o, rel, html.ptr, html.len, &mark, err);
	if (rc == 0 && o)
		memo_put(r, rel, fp, &mark, own);
	else if (rc == 0)
		memo_checked(r, o, rel, fp, own);
	buf_release(&html);
	atomic_fetch_add(&r->pages, 1);
	return rc;
}

int render_page_as(renderer *r, output *o, const char *layout, const char *rel,
		   const value *data, uint64_t fp, gen_err *err)
{
	return render_page_own(r, o, layout, rel, data, fp, 0, err);
}

/* A page written as it is rendered (render_page_late). */
typedef struct page_stream {
	output_file *f;       /* NULL: rendered only */
	size_t len;
	render_late_fn late;
	render_tap_fn tap;
	void *ctx;
} page_stream;

static int stream_flush(void *ctx, const char *data, size_t len, gen_err *err)
{
	page_stream *ps = ctx;
	if (ps->tap)
		ps->tap(ps->ctx, data, len, (uint64_t)ps->len);
	ps->len += len;
	return ps->f ? output_put(ps->f, data, len, err) : 0;
}

static void stream_late(void *ctx, buf *out, const char *key, size_t len, bool escape)
{
	page_stream *ps = ctx;
	if (!escape) {
		ps->late(ps->ctx, out, key, len, (uint64_t)(ps->len + out->len));
		return;
	}
	buf raw = BUF_INIT;
	ps->late(ps->ctx, &raw, key, len, RENDER_NOWHERE);
	buf_put_html(out, raw.ptr, raw.len);
	buf_release(&raw);
}

int render_page_late(renderer *r, output *o, const char *layout, const char *rel,
		     const value *data, uint64_t fp, render_late_fn late, render_tap_fn tap,
		     void *ctx, gen_err *err)
{
	page_stream ps = { NULL, 0, late, tap, ctx };
	template_stream st = { stream_flush, stream_late, &ps };
	const template *t = template_partials_get(r->layouts, layout, strlen(layout));
	int rc = 0;
	output_mark mark;
	if (!t) {
		rc = err_set(err, GEN_EUSAGE, "", 0, 0, "the theme has no layout '%s'", layout);
		goto out;
	}
	if (o && (rc = output_open(o, rel, &ps.f, err)) < 0)
		goto out;
	rc = template_render_stream(t, data, r->layouts, &st, err);
	if (ps.f) {
		if (rc == 0)
			rc = output_close_marked(ps.f, &mark, err);
		else
			output_discard(ps.f);
	}
	if (rc == 0 && o) {
		render_page_written(r, rel, fp, &mark);
		return 0;
	}
	if (rc == 0)
		memo_checked(r, o, rel, fp, 0);
out:
	atomic_fetch_add(&r->pages, 1);
	return rc;
}

void render_page_written(renderer *r, const char *rel, uint64_t fp, const output_mark *mark)
{
	memo_put(r, rel, fp, mark, 0);
	atomic_fetch_add(&r->pages, 1);
}

void render_file_written(renderer *r, const char *rel, uint64_t fp, const output_mark *mark)
{
	memo_put(r, rel, fp, mark, 0);
}

int render_page(renderer *r, output *o, const char *layout, const char *rel,
		const value *data, gen_err *err)
{
	/* A page is a function of the theme, its layout and its data: when
	 * they hash as in the build that wrote the file now in the output,
	 * the file is kept as it is, without rendering or reading it. */
	uint64_t fp = 0;
	if (memo_on(r, o)) {
		fp = value_hash(data, buf_hash64(layout, strlen(layout) + 1, r->theme_stamp));
		if (render_page_fresh(r, o, rel, fp))
			return 0;
	}
	return render_page_as(r, o, layout, rel, data, fp, err);
}

uint64_t render_doc_key(const document *d, uint64_t h)
{
	uint64_t id = d->identity ? d->identity : document_identity(d);
	return buf_hash64(&id, sizeof id, h);
}

static uint64_t card_hash(const document *d)
{
	uint64_t h = 0x63617264u;
	h = buf_hash_cstr(d->rel, h);
	h = buf_hash_cstr(d->fm.title, h);
	h = buf_hash64(&d->fm.kind, sizeof d->fm.kind, h);
	h = buf_hash_cstr(d->fm.date, h);
	h = buf_hash64(&d->fm.date_epoch, sizeof d->fm.date_epoch, h);
	h = buf_hash64(&d->fm.weight, sizeof d->fm.weight, h);
	h = buf_hash_cstr(d->fm.author, h);
	h = buf_hash_cstr(doc_summary(d), h);
	return buf_hash64(&d->is_index, sizeof d->is_index, h);
}

uint64_t render_card_key(const renderer *r, const document *d, uint64_t h)
{
	size_t i = (size_t)(d - r->s->docs);
	uint64_t k;
	if (r->card_keys && i < r->ncards) {
		/* Made when first asked for (a save in gen serve asks for
		 * few); 0 is not made yet, so a key has its low bit set. Two
		 * threads at once make the same key. */
		k = atomic_load_explicit(&r->card_keys[i], memory_order_relaxed);
		if (!k) {
			k = card_hash(d) | 1;
			atomic_store_explicit(&r->card_keys[i], k, memory_order_relaxed);
		}
	} else {
		k = card_hash(d) | 1;
	}
	return buf_hash64(&k, sizeof k, h);
}

uint64_t render_site_stamp(const renderer *r)
{
	return r->site_stamp;
}

/* Everything an article's page is made of, short of making it: the
 * article itself (path and content id stand for all a parse and the
 * filters made of it), where each of its links leads, the articles it
 * shows (backlinks and their sentences, related articles, its
 * neighbours in the section and on the reading path, tip mentions), its
 * history, and what every page shares (site_stamp: site.toml, filters,
 * the sections of the menu and breadcrumbs). A change to any of them
 * changes the fingerprint; an article page whose fingerprint is as when
 * its file was written is not made again. */
static uint64_t article_fingerprint(const renderer *r, const document *d)
{
	const site *s = r->s;
	size_t doc = (size_t)(d - s->docs);
	uint64_t h = buf_hash64(&r->site_stamp, sizeof r->site_stamp, r->theme_stamp);
	h = render_doc_key(d, h);
	for (size_t i = 0; i < markdown_link_count(d->md); i++) {
		/* All links_rewrite makes of the link (where it leads: the
		 * page's URL and anchor, or the file), resolved once and
		 * hashed without making the URL. */
		const markdown_link *l = markdown_link_at(d->md, i);
		links_target t;
		links_resolve(s, d, l->url, &t);
		unsigned char head[2] = { l->image, (unsigned char)t.kind };
		h = buf_hash_cstr(l->url, h);
		h = buf_hash64(head, sizeof head, h);
		h = buf_hash_cstr(t.doc ? t.doc->url : NULL, h);
		h = buf_hash_cstr(t.anchor, h);
		h = buf_hash_cstr(t.rel, h);
		links_target_release(&t);
	}
	const links_graph *g = r->links ? r->links : xref_links(r->xref);
	/* A link shows where it leads (hashed above), not what the target
	 * says: its card stands in for the target. */
	for (size_t i = 0; g && i < links_out_count(g, doc); i++)
		h = render_card_key(r, &s->docs[links_out_at(g, doc, i)->to], h);
	for (size_t i = 0; g && i < links_in_count(g, doc); i++) {
		const links_edge *e = links_in_at(g, doc, i);
		/* A backlink shows what its source says around the link:
		 * part of the source's facts. */
		h = buf_hash64(&r->facts[e->from], sizeof *r->facts, h);
		h = buf_hash64(&e->tip, sizeof e->tip, h);
		h = buf_hash64(e->anchor, strlen(e->anchor) + 1, h);
	}
	h = xref_fingerprint(r->xref, r, doc, h);
	const site_section *sec = d->is_index ? NULL : site_section_of(s, d);
	size_t place = sec ? section_place(r, sec, d) : 0;
	if (sec && place < sec->npages) {
		h = buf_hash64(&place, sizeof place, h);
		if (place > 0)
			h = render_card_key(r, sec->pages[place - 1], h);
		if (place + 1 < sec->npages)
			h = render_card_key(r, sec->pages[place + 1], h);
	}
	/* A section's page lists its articles' cards; the home page every
	 * article's (chapters, the latest): an edit that leaves an
	 * article's card as it was leaves these pages too. */
	const site_section *own = d->is_index ? site_section_of(s, d) : NULL;
	if (d == s->home) {
		h = buf_hash64(&s->ndocs, sizeof s->ndocs, h ^ 0x686f6du);
		for (size_t i = 0; i < s->ndocs; i++)
			h = render_card_key(r, &s->docs[i], h);
	} else if (own) {
		h = buf_hash64(&own->npages, sizeof own->npages, h ^ 0x736563u);
		for (size_t i = 0; i < own->npages; i++)
			h = render_card_key(r, own->pages[i], h);
	}
	return changes_fingerprint(s, d, h);
}

uint64_t render_all_docs_key(const renderer *r, uint64_t h)
{
	const site *s = r->s;
	h = buf_hash64(&r->site_stamp, sizeof r->site_stamp, h);
	h = buf_hash64(&s->ndocs, sizeof s->ndocs, h);
	for (size_t i = 0; i < s->ndocs; i++)
		h = render_doc_key(&s->docs[i], h);
	/* Links may lead to the content's own files too. */
	for (size_t i = 0; i < s->nassets; i++)
		h = buf_hash64(s->assets[i].path, strlen(s->assets[i].path) + 1, h);
	return h;
}

/* Every article's facts in site order (into r->facts), and the
 * content's other files (links may lead to them), hashed into h. */
static uint64_t render_facts_key(renderer *r, uint64_t h)
{
	const site *s = r->s;
	free(r->facts);
	r->facts = xmalloc((s->ndocs + 1) * sizeof *r->facts);
	h = buf_hash64(&s->ndocs, sizeof s->ndocs, h ^ 0x66616374u);
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		r->facts[i] = d->facts ? d->facts : document_facts(d);
		h = buf_hash64(&r->facts[i], sizeof *r->facts, h);
	}
	for (size_t i = 0; i < s->nassets; i++)
		h = buf_hash_cstr(s->assets[i].path, h);
	return h;
}

/* What an article's page depends on besides the facts of all articles:
 * the article itself and its history. Never 0 (see render_page_kept). */
static uint64_t article_own(const renderer *r, const document *d)
{
	uint64_t h = changes_fingerprint(r->s, d, render_doc_key(d, 0x6f776eu));
	return h ? h : 1;
}

static int render_document(renderer *r, output *o, const document *d, markdown_drops *drops,
			   gen_err *err)
{
	/* Every page of an article is checked by its inputs, not by its
	 * data (render_page): making the data is most of the work. */
	bool plain = true;
	uint64_t fp = 0, own = 0;
	if (plain && memo_on(r, o)) {
		own = article_own(r, d);
		if (render_page_kept(r, o, d->out_path, own))
			return 0;
		fp = article_fingerprint(r, d);
		if (render_page_fresh(r, o, d->out_path, fp))
			return 0;
	}
	buf body = BUF_INIT;
	rewrite_ctx rc_ctx = { r->s, d };
	markdown_render_html(&body, d->md, rewrite, &rc_ctx);
	markdown_drops_add(drops, d->md); /* the HTML is in body now */
	if (xref_tip_mentions(r->xref, r, d, d->url, &body, err) < 0) {
		buf_release(&body);
		return err ? err->code : GEN_ECONTENT;
	}
	value *data = render_base_data(r, d->url);
	value_set_cstr(data, "page", page_data(r, d, body.ptr));
	const char *layout = "page";
	const site_section *sec = d->is_index ? site_section_of(r->s, d) : NULL;
	if (d == r->s->home) {
		layout = "home";
		add_home_lists(r, data);
	} else if (sec) {
		layout = "section";
		value_set_cstr(data, "section", section_data(r, sec, body.ptr));
	}
	int rc = plain ? render_page_own(r, o, layout, d->out_path, data, fp, own, err)
		       : render_page(r, o, layout, d->out_path, data, err);
	value_free(data);
	buf_release(&body);
	return rc;
}

/* Theme pages: /themas/ lists every theme with how many articles,
 * stories and tips it has; /themas/ID/ its articles, each with the
 * passage that earned the theme. A theme without the "theme" and "themes"
 * layouts (an older copy of the default theme) gets section pages. */

static bool has_layout(const renderer *r, const char *name)
{
	return template_partials_get(r->layouts, name, strlen(name)) != NULL;
}

static bool has_theme(const document *d, const char *id)
{
	for (size_t k = 0; k < d->fm.nthemes; k++)
		if (strcmp(d->fm.themes[k], id) == 0)
			return true;
	return false;
}

static int kind_rank(article_kind k)
{
	return k == KIND_STORY ? 0 : k == KIND_TIPS ? 1 : 2;
}

static int theme_item_cmp(const void *a, const void *b)
{
	const document *x = *(document *const *)a, *y = *(document *const *)b;
	int c = kind_rank(x->fm.kind) - kind_rank(y->fm.kind);
	return c ? c : strcmp(x->rel, y->rel);
}

/* "3 verhalen" from a count and the UI strings for one and more. */
static void put_count(const renderer *r, buf *out, size_t n, const char *one,
		      const char *one_dflt, const char *more, const char *more_dflt)
{
	if (out->len)
		buf_puts(out, " \xC2\xB7 ");
	buf_printf(out, "%zu %s", n, n == 1 ? render_i18n(r, one, one_dflt)
					    : render_i18n(r, more, more_dflt));
}

/* The theme's record for templates; its articles' cards go into *items,
 * unless items is NULL (the overview needs only the counts). */
static value *theme_data(const renderer *r, const config_theme *t, value **items)
{
	const site *s = r->s;
	const document **docs = xcalloc(s->ndocs + 1, sizeof *docs);
	size_t n = 0, stories = 0, tips = 0;
	for (size_t j = 0; j < s->ndocs; j++) {
		const document *d = &s->docs[j];
		if (d->is_index || !has_theme(d, t->id))
			continue;
		docs[n++] = d;
		stories += d->fm.kind == KIND_STORY;
		tips += d->fm.kind == KIND_TIPS;
	}
	value *v = value_new_table();
	buf url = BUF_INIT, counts = BUF_INIT;
	put_theme_url(&url, t->id);
	set_str(v, "id", t->id);
	set_str(v, "title", t->title);
	set_str(v, "url", url.ptr);
	set_str(v, "description", t->description);
	set_str(v, "summary", t->description);
	set_str(v, "kind_label", render_i18n(r, "theme", "Thema"));
	value_set_cstr(v, "count", value_new_integer((int64_t)n));
	value_set_cstr(v, "articles", value_new_integer((int64_t)n));
	value_set_cstr(v, "stories", value_new_integer((int64_t)stories));
	value_set_cstr(v, "tips", value_new_integer((int64_t)tips));
	value_set_cstr(v, "pages", value_new_integer((int64_t)(n - stories - tips)));
	put_count(r, &counts, n, "article_one", "artikel", "articles_count", "artikelen");
	put_count(r, &counts, stories, "count_story", "verhaal", "count_stories", "verhalen");
	put_count(r, &counts, tips, "count_tiplist", "tiplijst", "count_tiplists", "tiplijsten");
	set_str(v, "counts", counts.ptr);
	buf_release(&counts);
	buf_release(&url);

	if (!items) {
		free(docs);
		return v;
	}
	qsort(docs, n, sizeof *docs, theme_item_cmp);
	*items = value_new_array();
	for (size_t j = 0; j < n; j++) {
		const document *d = docs[j];
		const document_evidence *e = first_evidence(d, t->id);
		value *c = render_page_card(r, d);
		set_str(c, "excerpt", e ? e->excerpt : "");
		buf eu = BUF_INIT;
		if (e)
			buf_printf(&eu, "%s#%s", d->url, e->anchor);
		set_str(c, "evidence_url", eu.ptr);
		buf_release(&eu);
		value_set_cstr(c, "has_evidence", value_new_bool(e != NULL));
		value_push(*items, c);
	}
	free(docs);
	return v;
}

/* Home, and the theme overview on a theme's own page. */
static value *theme_crumbs(const renderer *r, bool overview)
{
	value *a = value_new_array();
	value *home = value_new_table();
	set_str(home, "title", render_i18n(r, "home", "Home"));
	set_str(home, "url", "");
	value_push(a, home);
	if (overview) {
		value *all = value_new_table();
		set_str(all, "title", render_i18n(r, "themes", "Thema's"));
		set_str(all, "url", "themas/");
		value_push(a, all);
	}
	return a;
}

static int render_themes(renderer *r, output *o, gen_err *err)
{
	const config *cfg = &r->s->cfg;
	if (!cfg->nthemes)
		return 0;
	bool own = has_layout(r, "theme") && has_layout(r, "themes");
	/* Each theme's summary for the overview, NULL for a page kept. */
	value **summary = xcalloc(cfg->nthemes, sizeof *summary);
	int rc = 0;
	for (size_t i = 0; i < cfg->nthemes && rc == 0; i++) {
		const config_theme *t = &cfg->themes[i];
		/* A theme page shows its articles' cards and passages:
		 * known from the articles that have the theme. */
		buf rel = BUF_INIT;
		buf_printf(&rel, "themas/%s/index.html", t->id);
		/* Made of facts alone (render_page_kept). */
		if (render_page_kept(r, o, rel.ptr, 0)) {
			buf_release(&rel);
			continue;
		}
		uint64_t fp = buf_hash64(t->id, strlen(t->id) + 1,
					 r->site_stamp ^ (own ? 0x7468u : 0x7365u));
		/* Each article's card and the passage that earned the theme. */
		for (size_t j = 0; j < r->s->ndocs; j++) {
			const document *d = &r->s->docs[j];
			if (d->is_index || !has_theme(d, t->id))
				continue;
			fp = render_card_key(r, d, fp);
			const document_evidence *e = first_evidence(d, t->id);
			fp = buf_hash_cstr(e ? e->excerpt : NULL, fp);
			fp = buf_hash_cstr(e ? e->anchor : NULL, fp);
		}
		if (memo_on(r, o) && render_page_fresh(r, o, rel.ptr, fp)) {
			buf_release(&rel);
			continue;
		}
		value *items = NULL;
		value *theme = theme_data(r, t, &items);
		const char *url = value_string(value_get(theme, "url"), NULL);
		buf html = BUF_INIT;
		buf_puts(&html, "<p>");
		buf_put_html(&html, t->description, strlen(t->description));
		buf_puts(&html, "</p>");

		value *data = render_base_data(r, url);
		value *page = value_new_table();
		set_str(page, "title", t->title);
		set_str(page, "url", url);
		set_str(page, "summary", t->description);
		value_set_cstr(page, "breadcrumbs", theme_crumbs(r, true));
		value_set_cstr(data, "page", page);
		value *sec = value_new_table();
		set_str(sec, "title", t->title);
		set_str(sec, "url", url);
		set_str(sec, "summary", t->description);
		set_str(sec, "content", html.ptr);
		/* The same list as theme.items below, which owns it. */
		value_set_cstr(sec, "pages", value_new_alias(items));
		value_set_cstr(data, "section", sec);
		summary[i] = value_copy(theme);
		value_set_cstr(theme, "items", items);
		value_set_cstr(data, "theme", theme);
		rc = render_page_as(r, o, own ? "theme" : "section", rel.ptr, data, fp, err);
		value_free(data);
		buf_release(&rel);
		buf_release(&html);
	}
	/* The overview counts each theme's articles by kind. */
	value *all = NULL, *cards = NULL;
	if (rc == 0 && render_page_kept(r, o, "themas/index.html", 0))
		goto out;
	uint64_t all_fp = buf_hash64(&r->s->ndocs, sizeof r->s->ndocs, r->site_stamp ^ 0x746873u);
	for (size_t j = 0; j < r->s->ndocs; j++) {
		const document *d = &r->s->docs[j];
		all_fp = buf_hash64(&d->fm.kind, sizeof d->fm.kind, buf_hash_cstr(d->rel, all_fp));
		all_fp = buf_hash64(&d->is_index, sizeof d->is_index, all_fp);
		for (size_t k = 0; k < d->fm.nthemes; k++)
			all_fp = buf_hash_cstr(d->fm.themes[k], all_fp);
		all_fp = buf_hash64("", 1, all_fp);
	}
	if (rc == 0 && memo_on(r, o) && render_page_fresh(r, o, "themas/index.html", all_fp))
		goto out;
	all = value_new_array();
	cards = value_new_array();
	for (size_t i = 0; i < cfg->nthemes && rc == 0; i++) {
		/* A kept theme page made no summary: the overview needs it. */
		if (!summary[i])
			summary[i] = theme_data(r, &cfg->themes[i], NULL);
		value_push(all, value_copy(summary[i]));
		value_push(cards, summary[i]);
		summary[i] = NULL;
	}
	if (rc == 0) {
		value *data = render_base_data(r, "themas/");
		value *page = value_new_table();
		const char *title = render_i18n(r, "themes", "Thema's");
		set_str(page, "title", title);
		set_str(page, "url", "themas/");
		set_str(page, "summary", render_i18n(r, "themes_intro", ""));
		value_set_cstr(page, "breadcrumbs", theme_crumbs(r, false));
		value_set_cstr(data, "page", page);
		value *sec = value_new_table();
		set_str(sec, "title", title);
		set_str(sec, "url", "themas/");
		set_str(sec, "content", "");
		value_set_cstr(sec, "pages", cards);
		cards = NULL;
		value_set_cstr(data, "section", sec);
		value_set_cstr(data, "themes", all);
		all = NULL;
		rc = render_page_as(r, o, own ? "themes" : "section", "themas/index.html", data,
				    all_fp, err);
		value_free(data);
	}
out:
	for (size_t i = 0; i < cfg->nthemes; i++)
		value_free(summary[i]);
	free(summary);
	value_free(all);
	value_free(cards);
	return rc;
}

static int render_aliases(renderer *r, output *o, gen_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < r->s->ndocs && rc == 0; i++) {
		const document *d = &r->s->docs[i];
		for (size_t j = 0; j < d->fm.naliases && rc == 0; j++) {
			buf rel = BUF_INIT, page = BUF_INIT;
			char *path = document_alias_path(d->fm.aliases[j]);
			buf_puts(&rel, path);
			free(path);
			/* The alias page sits at rel; the target is relative to it. */
			char *root = links_root(rel.ptr);
			char *slash = strrchr(rel.ptr, '/');
			size_t depth_url_len = slash ? (size_t)(slash - rel.ptr) + 1 : 0;
			char *dir_url = xstrndup(rel.ptr, depth_url_len);
			free(root);
			root = links_root(dir_url);
			free(dir_url);
			buf target = BUF_INIT;
			buf_printf(&target, "%s%sindex.html", strcmp(root, "./") ? root : "", d->url);
			buf_puts(&page, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
					"<meta name=\"robots\" content=\"noindex\"><title>");
			buf_put_html(&page, d->fm.title, strlen(d->fm.title));
			buf_puts(&page, "</title><link rel=\"canonical\" href=\"");
			buf_put_html(&page, target.ptr, target.len);
			buf_puts(&page, "\"><meta http-equiv=\"refresh\" content=\"0; url=");
			buf_put_html(&page, target.ptr, target.len);
			buf_puts(&page, "\"></head><body><a href=\"");
			buf_put_html(&page, target.ptr, target.len);
			buf_puts(&page, "\">");
			buf_put_html(&page, d->fm.title, strlen(d->fm.title));
			buf_puts(&page, "</a></body></html>\n");
			if (o)
				rc = output_write(o, rel.ptr, page.ptr, page.len, err);
			free(root);
			buf_release(&target);
			buf_release(&rel);
			buf_release(&page);
		}
	}
	return rc;
}

static int sitemap_write(renderer *r, output *o, uint64_t fp, gen_err *err);

/* What the sitemap is made of: the base URL, and each article's address
 * and the date it gives (its first ten characters, when it has them). */
static uint64_t sitemap_fingerprint(const renderer *r)
{
	uint64_t h = buf_hash_cstr(r->s->cfg.base_url, 0x736d6170u);
	for (size_t i = 0; i < r->s->ndocs; i++) {
		const document *d = &r->s->docs[i];
		h = buf_hash_cstr(d->url, h);
		if (d->fm.date && strnlen(d->fm.date, 10) == 10)
			h = buf_hash64(d->fm.date, 10, h);
		else
			h = buf_hash64("", 0, h ^ 0x6e6fu);
	}
	return h;
}

static int render_sitemap(renderer *r, output *o, gen_err *err)
{
	const char *base = r->s->cfg.base_url;
	/* After an edit the addresses and dates are nearly always as they
	 * were: hashed, they keep the file the last build wrote, instead of
	 * 1.3 MB made again for the benchmark's 10,000 articles and compared
	 * with the file (the lists' part of a rebuild, under --stats: 5 ms
	 * instead of 21). */
	uint64_t fp = o && *base ? sitemap_fingerprint(r) : 0;
	r->times.sitemap_kept = o && *base && render_file_fresh(r, o, "sitemap.xml", fp);
	/* A sitemap gives every page's address in full: without base_url
	 * it could only hold "verhalen/de-garage/", which no search engine
	 * takes, so there is none. */
	int rc = r->times.sitemap_kept || !o || !*base ? 0 : sitemap_write(r, o, fp, err);
	buf x = BUF_INIT;
	buf_puts(&x, "User-agent: *\nAllow: /\n");
	if (*base)
		buf_printf(&x, "Sitemap: %ssitemap.xml\n", base);
	if (rc == 0 && o)
		rc = output_write(o, "robots.txt", x.ptr, x.len, err);
	buf_release(&x);
	return rc;
}

/* Writes the sitemap, whose fingerprint is fp, into o. */
static int sitemap_write(renderer *r, output *o, uint64_t fp, gen_err *err)
{
	const char *base = r->s->cfg.base_url;
	buf x = BUF_INIT;
	buf_puts(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
	buf loc = BUF_INIT;
	for (size_t i = 0; i < r->s->ndocs; i++) {
		const document *d = &r->s->docs[i];
		buf_clear(&loc);
		buf_puts(&loc, base);
		buf_puts(&loc, d->url);
		buf_puts(&x, "  <url><loc>");
		buf_put_html(&x, loc.ptr, loc.len);
		buf_puts(&x, "</loc>");
		if (d->fm.date && strnlen(d->fm.date, 10) == 10) {
			buf_puts(&x, "<lastmod>");
			buf_put(&x, d->fm.date, 10);
			buf_puts(&x, "</lastmod>");
		}
		buf_puts(&x, "</url>\n");
	}
	buf_puts(&x, "</urlset>\n");
	int rc = render_file_as(r, o, "sitemap.xml", x.ptr, x.len, fp, err);
	buf_release(&loc);
	buf_release(&x);
	return rc;
}

static int render_404(renderer *r, output *o, gen_err *err)
{
	/* Servers show 404.html at any path, so its links cannot be relative
	 * to where it sits: they start at the site's base path. */
	value *data = render_base_data(r, "");
	const char *base = r->s->cfg.base_url;
	const char *path = "/";
	const char *scheme = strstr(base, "://");
	if (scheme) {
		const char *p = strchr(scheme + 3, '/');
		if (p)
			path = p;
	}
	set_str(data, "root", path);
	value *page = value_new_table();
	set_str(page, "title", render_i18n(r, "not_found_title", "Pagina niet gevonden"));
	set_str(page, "url", "404.html");
	value_set_cstr(data, "page", page);
	int rc = render_page(r, o, "404", "404.html", data, err);
	value_free(data);
	return rc;
}

/* Article pages are independent of each other, so they are rendered by a
 * pool of workers taking the next few documents in turn (neighbours, so
 * that their pages in the cache file are let go together). When several
 * fail, the error of the first document in path order is the one
 * reported, so the message does not depend on thread timing. */
typedef struct render_work {
	renderer *r;
	output *o;
	atomic_size_t next;
	pthread_mutex_t lock;
	size_t failed_at;  /* index of the first failed document, or ndocs */
	gen_err err;
} render_work;

/* Documents a worker takes at once. */
#define RENDER_RUN 8

static void *render_run(void *arg)
{
	render_work *w = arg;
	const site *s = w->r->s;
	markdown_drops drops;
	memset(&drops, 0, sizeof drops);
	for (;;) {
		size_t from = atomic_fetch_add(&w->next, RENDER_RUN);
		if (from >= s->ndocs)
			break;
		size_t to = from + RENDER_RUN < s->ndocs ? from + RENDER_RUN : s->ndocs;
		for (size_t i = from; i < to; i++) {
			gen_err e;
			err_clear(&e);
			if (render_document(w->r, w->o, &s->docs[i], &drops, &e) < 0) {
				pthread_mutex_lock(&w->lock);
				if (i < w->failed_at) {
					w->failed_at = i;
					w->err = e;
				}
				pthread_mutex_unlock(&w->lock);
			}
		}
	}
	markdown_drops_flush(&drops);
	return NULL;
}

static int render_documents(renderer *r, output *o, gen_err *err)
{
	render_work w;
	memset(&w, 0, sizeof w);
	w.r = r;
	w.o = o;
	atomic_init(&w.next, 0);
	pthread_mutex_init(&w.lock, NULL);
	w.failed_at = r->s->ndocs;
	size_t nw = (size_t)r->jobs;
	if (nw > r->s->ndocs)
		nw = r->s->ndocs ? r->s->ndocs : 1;
	pthread_t *threads = xcalloc(nw, sizeof *threads);
	bool *started = xcalloc(nw, sizeof *started);
	for (size_t i = 1; i < nw; i++)
		started[i] = pthread_create(&threads[i], NULL, render_run, &w) == 0;
	render_run(&w);
	for (size_t i = 1; i < nw; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	free(threads);
	free(started);
	pthread_mutex_destroy(&w.lock);
	if (w.failed_at < r->s->ndocs) {
		if (err)
			*err = w.err;
		return w.err.code ? w.err.code : GEN_ECONTENT;
	}
	return 0;
}

/* The parts of the site after the article pages. They only read the
 * site, the cross references and the renderer, and each writes files of
 * its own, so with more than one job they run side by side. */
/* The feed apart from the history pages and the changelog: after an
 * edit it was the last of a rebuild's work, on one core. */
typedef enum { PART_LISTS, PART_PRINT, PART_SEARCH, PART_HISTORY, PART_FEED, PART_COUNT } part_id;

/* The search index on a thread of its own from render_search_begin to
 * render_search_end. */
typedef struct early_search {
	renderer *r;
	output *(*wait)(void *ctx); /* render_search_begin's */
	void *ctx;
	output *o;                  /* what wait gave, when it returned */
	pthread_t thread;
	bool joined;
	int rc;
	gen_err err;
	search_render_stats st;
} early_search;

static void *early_search_run(void *arg)
{
	early_search *e = arg;
	err_clear(&e->err);
	e->rc = search_render_index_waiting(e->r, e->r->s, e->wait, e->ctx, &e->o, &e->st,
					    &e->err);
	return NULL;
}

void render_search_begin(renderer *r, output *(*wait)(void *ctx), void *ctx)
{
	if (r->early || r->jobs < 2)
		return;
	early_search *e = xcalloc(1, sizeof *e);
	e->r = r;
	e->wait = wait;
	e->ctx = ctx;
	if (pthread_create(&e->thread, NULL, early_search_run, e) != 0) {
		free(e);
		return;
	}
	r->early = e;
}

int render_search_end(renderer *r, output *o, search_render_stats *st, gen_err *err)
{
	early_search *e = r->early;
	if (!e) {
		/* Not begun: made here (o NULL: not at all). */
		memset(st, 0, sizeof *st);
		return o ? search_render_index(r, r->s, o, st, err) : 0;
	}
	if (!e->joined) {
		pthread_join(e->thread, NULL);
		e->joined = true;
	}
	/* Its wait gave no output (the build was to stop) while this one
	 * has one: made here after all. */
	if (!e->o && o) {
		e->o = o;
		e->rc = search_render_index(r, r->s, o, &e->st, &e->err);
	}
	*st = e->st;
	if (e->rc < 0 && err)
		*err = e->err;
	return e->rc;
}

typedef struct part_task {
	renderer *r;
	output *o;
	part_id id;
	int rc;
	gen_err err;
	double seconds;
	pthread_t thread;
	bool started;
} part_task;

static int render_lists(renderer *r, output *o, gen_err *err)
{
	const site *s = r->s;
	int rc = 0;
	if (!s->home) {
		/* No content/_index.md: the home page still lists the chapters. */
		value *data = render_base_data(r, "");
		value *page = value_new_table();
		set_str(page, "title", s->cfg.title);
		set_str(page, "url", "");
		set_str(page, "summary", s->cfg.description);
		set_str(page, "content", "");
		value_set_cstr(page, "is_home", value_new_bool(true));
		value_set_cstr(data, "page", page);
		add_home_lists(r, data);
		rc = render_page(r, o, "home", "index.html", data, err);
		value_free(data);
	}
	if (rc == 0)
		rc = render_themes(r, o, err);
	if (rc == 0)
		rc = render_aliases(r, o, err);
	if (rc == 0)
		rc = render_404(r, o, err);
	if (rc == 0)
		rc = render_sitemap(r, o, err);
	if (rc == 0)
		rc = authors_render(r, s, xref_authors(r->xref), o, err);
	return rc;
}

static void *part_run(void *arg)
{
	part_task *t = arg;
	double t0 = jobs_seconds();
	err_clear(&t->err);
	switch (t->id) {
	case PART_LISTS:
		t->rc = render_lists(t->r, t->o, &t->err);
		break;
	case PART_PRINT: {
		print_stats ps;
		t->rc = print_render(t->r, t->r->xref, t->o, &ps, &t->err);
		t->r->times.print_articles = ps.articles;
		t->r->times.print_copied = ps.copied;
		t->r->times.print_framed = ps.framed;
		t->r->times.print_unread = ps.unread;
		t->r->times.print_parts = ps.parts;
		t->r->times.print_parts_written = ps.parts_written;
		t->r->times.print_patched = ps.patched;
		break;
	}
	case PART_SEARCH: {
		search_render_stats st;
		t->rc = render_search_end(t->r, t->o, &st, &t->err);
		if (t->rc == 0)
			t->rc = search_render_page(t->r, t->o, &t->err);
		t->r->times.search_kept = st.kept;
		t->r->times.search_held = st.held;
		t->r->times.search_terms_held = st.terms_held;
		t->r->times.search_terms_scored = st.terms_scored;
		t->r->times.search_terms = st.terms;
		t->r->times.search_postings_scored = st.postings_scored;
		t->r->times.search_postings = st.postings;
		t->r->times.search_whole = st.whole;
		t->r->times.search_docs = t->r->s->ndocs;
		break;
	}
	case PART_FEED:
		t->rc = changes_render_feed(t->r, t->r->s, t->o, &t->err);
		break;
	default:
		t->rc = changes_render(t->r, t->r->s, t->o, &t->err);
		break;
	}
	t->seconds = jobs_seconds() - t0;
	return NULL;
}

int render_site(renderer *r, output *o, gen_err *err)
{
	int rc = 0;
	const site *s = r->s;
	render_times *t = &r->times;
	memset(t, 0, sizeof *t);
	double t0 = jobs_seconds(), t1;
	atomic_store(&r->pages, 0);
	atomic_store(&r->pages_kept, 0);
	/* Cross references need every document; workers only read them. */
	if (!r->xref) {
		/* Related pages come from the page cache when their inputs
		 * are as in the last build. */
		size_t len = 0;
		const char *memo = render_memo_get(r, RELATED_MEMO, &len);
		r->xref = xref_new_with(s, r->links, memo, len);
		buf m = BUF_INIT;
		if (xref_memo(r->xref, &m))
			render_memo_put(r, RELATED_MEMO, m.ptr, m.len);
		else
			t->related_kept = true;
		buf_release(&m);
	}
	/* What every page shares: site.toml and the filters (s->stamp),
	 * the home page and the sections (menu, breadcrumbs), the language
	 * of dates. */
	r->site_stamp = buf_hash64(&s->stamp, sizeof s->stamp, r->theme_stamp);
	if (s->home)
		r->site_stamp = render_doc_key(s->home, r->site_stamp);
	for (size_t i = 0; i < s->nsections; i++)
		r->site_stamp = render_doc_key(s->sections[i].index, r->site_stamp);
	r->facts_key = render_facts_key(r, r->site_stamp);
	r->facts_same = false;
	if (r->page_cache) {
		size_t len = 0;
		const char *was = render_memo_get(r, FACTS_MEMO, &len);
		r->facts_same = was && len == sizeof r->facts_key &&
				memcmp(was, &r->facts_key, len) == 0;
		render_memo_put(r, FACTS_MEMO, &r->facts_key, sizeof r->facts_key);
	}
	t->facts_same = r->facts_same;
	/* Cards are listed on many pages (sections, themes, related
	 * articles): each made once, when first needed (render_card), and
	 * shared read-only after. */
	free_cards(r);
	r->cards = xcalloc(s->ndocs + 1, sizeof *r->cards);
	for (size_t i = 0; i <= s->ndocs; i++)
		atomic_init(&r->cards[i], NULL);
	r->ncards = s->ndocs;
	r->card_keys = xcalloc(s->ndocs + 1, sizeof *r->card_keys);
	for (size_t i = 0; i <= s->ndocs; i++)
		atomic_init(&r->card_keys[i], 0);
	r->sec_place = xmalloc((s->ndocs + 1) * sizeof *r->sec_place);
	for (size_t i = 0; i < s->ndocs; i++)
		r->sec_place[i] = SIZE_MAX;
	for (size_t i = 0; i < s->nsections; i++)
		for (size_t j = 0; j < s->sections[i].npages; j++)
			r->sec_place[s->sections[i].pages[j] - s->docs] = j;
	t->xref = (t1 = jobs_seconds()) - t0;
	t0 = t1;
	part_task parts[PART_COUNT];
	memset(parts, 0, sizeof parts);
	for (int i = 0; i < PART_COUNT; i++) {
		parts[i].r = r;
		parts[i].o = o;
		parts[i].id = (part_id)i;
		if (r->jobs > 1)
			parts[i].started = pthread_create(&parts[i].thread, NULL, part_run,
							  &parts[i]) == 0;
	}
	rc = render_documents(r, o, err);
	t->pages = jobs_seconds() - t0;
	/* Errors in a fixed order, whatever finished first. */
	for (int i = 0; i < PART_COUNT; i++) {
		if (parts[i].started)
			pthread_join(parts[i].thread, NULL);
		else if (rc == 0)
			part_run(&parts[i]);
		else
			continue;
		if (rc == 0 && parts[i].rc < 0) {
			rc = parts[i].rc;
			*err = parts[i].err;
		}
	}
	t->lists = parts[PART_LISTS].seconds;
	t->print = parts[PART_PRINT].seconds;
	t->search = parts[PART_SEARCH].seconds;
	t->history = parts[PART_HISTORY].seconds > parts[PART_FEED].seconds
			     ? parts[PART_HISTORY].seconds
			     : parts[PART_FEED].seconds;
	for (size_t i = 0; i < r->nstatics && rc == 0 && o; i++)
		rc = output_write(o, r->statics[i].rel, r->statics[i].data,
				  r->statics[i].len, err);
	size_t cl = strlen(s->cfg.content_dir);
	for (size_t i = 0; i < s->nassets && rc == 0 && o; i++) {
		const source_file *f = &s->assets[i];
		rc = output_write(o, f->path + cl + 1, f->data, f->len, err);
	}
	return rc;
}
