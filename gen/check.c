/* check: whole-site content rules (see check.h).
 *
 * Duplicate URLs are found by sorting every output path a build would
 * write for a page (articles, their aliases, gen's own pages) and looking
 * at neighbours, so the check costs O(n log n) for any number of pages. */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "authors.h"
#include "buf.h"
#include "leerpad.h"
#include "print.h"
#include "text.h"
#include "value.h"
#include "xalloc.h"

typedef enum claim_kind { CLAIM_GEN, CLAIM_PAGE, CLAIM_ALIAS } claim_kind;

/* The folder of the search index's files (search.h). */
#define SEARCH_DIR "zoeken"

typedef struct claim {
	char *out;         /* output path: "verhalen/x/index.html" */
	claim_kind kind;
	const char *file;  /* the source; NULL for gen's own pages */
	int line, col;
	char *what;        /* gen's page ("the print page") or the alias as written */
	size_t seq;        /* order of adding, to keep sorting stable */
} claim;

typedef struct claims {
	claim *items;
	size_t n, cap;
} claims;

/* Takes out and what (may be NULL). */
static void add_claim(claims *c, char *out, claim_kind kind, const char *file,
		      int line, int col, char *what)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->items = xrealloc(c->items, c->cap * sizeof *c->items);
	}
	claim *k = &c->items[c->n];
	k->out = out;
	k->kind = kind;
	k->file = file;
	k->line = line;
	k->col = col;
	k->what = what;
	k->seq = c->n++;
}

/* By output path alone (for bsearch in claims sorted by claim_cmp). */
static int out_cmp(const void *a, const void *b)
{
	return strcmp(((const claim *)a)->out, ((const claim *)b)->out);
}

static int claim_cmp(const void *a, const void *b)
{
	const claim *x = a, *y = b;
	int c = strcmp(x->out, y->out);
	if (c)
		return c;
	/* gen's own pages, then pages, then aliases: the first keeps the URL
	 * and the others are reported. */
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static char *printf_dup(const char *fmt, const char *arg)
{
	buf b = BUF_INIT;
	buf_printf(&b, fmt, arg);
	return buf_detach(&b);
}

/* The URL shown for an output path: "x/index.html" -> "x/". */
static void url_of(buf *out, const char *path)
{
	size_t n = strlen(path);
	if (n >= 10 && strcmp(path + n - 10, "index.html") == 0 &&
	    (n == 10 || path[n - 11] == '/'))
		n -= 10;
	buf_put(out, path, n);
}

/* Reports claim a, which wants the URL that f already has. */
static void report_clash(diag_list *diags, const claim *a, const claim *f,
			 const char *url)
{
	bool same = f->file && strcmp(f->file, a->file) == 0;
	buf subject = BUF_INIT, other = BUF_INIT;
	if (a->kind == CLAIM_ALIAS)
		buf_printf(&subject, "alias '%s'", a->what);
	else
		buf_printf(&subject, "the URL '%s' of this page", url);
	switch (f->kind) {
	case CLAIM_GEN:
		buf_printf(&other, "is where gen puts %s", f->what);
		break;
	case CLAIM_PAGE:
		if (same)
			buf_puts(&other, "is this page's own URL");
		else
			buf_printf(&other, "is the URL of '%s'", f->file);
		break;
	case CLAIM_ALIAS:
		if (same)
			buf_puts(&other, "is given twice");
		else
			buf_printf(&other, "is also an alias of '%s'", f->file);
		break;
	}
	diag_add(diags, DIAG_ERROR, a->file, a->line, a->col, "%s %s", subject.ptr,
		 other.ptr);
	buf_release(&subject);
	buf_release(&other);
}

static size_t check_urls(const site *s, const check_theme *theme, diag_list *diags)
{
	claims c = { 0 };
	size_t errors = 0;
	const config *cfg = &s->cfg;

	if (!s->home)
		add_claim(&c, xstrdup("index.html"), CLAIM_GEN, NULL, 0, 0,
			  xstrdup("the home page"));
	add_claim(&c, xstrdup("404.html"), CLAIM_GEN, NULL, 0, 0, xstrdup("the 404 page"));
	add_claim(&c, xstrdup(PRINT_URL "index.html"), CLAIM_GEN, NULL, 0, 0,
		  xstrdup("the print page"));
	add_claim(&c, xstrdup("auteurs/index.html"), CLAIM_GEN, NULL, 0, 0,
		  xstrdup("the list of authors"));
	add_claim(&c, xstrdup("zoeken/index.html"), CLAIM_GEN, NULL, 0, 0,
		  xstrdup("the search page"));
	/* The search index's files, whose number only the index knows:
	 * the folder as a whole, which an alias may not go into. */
	add_claim(&c, xstrdup(SEARCH_DIR), CLAIM_GEN, NULL, 0, 0, xstrdup("the search index"));
	add_claim(&c, xstrdup("sitemap.xml"), CLAIM_GEN, NULL, 0, 0, xstrdup("the sitemap"));
	add_claim(&c, xstrdup("robots.txt"), CLAIM_GEN, NULL, 0, 0, xstrdup("robots.txt"));
	if (s->history) {
		add_claim(&c, xstrdup("wijzigingen/index.html"), CLAIM_GEN, NULL, 0, 0,
			  xstrdup("the list of changes"));
		add_claim(&c, xstrdup("feed.xml"), CLAIM_GEN, NULL, 0, 0,
			  xstrdup("the Atom feed"));
	}
	if (cfg->nthemes)
		add_claim(&c, xstrdup("themas/index.html"), CLAIM_GEN, NULL, 0, 0,
			  xstrdup("the list of themes"));
	for (size_t i = 0; i < cfg->nthemes; i++)
		add_claim(&c, printf_dup("themas/%s/index.html", cfg->themes[i].id),
			  CLAIM_GEN, NULL, 0, 0,
			  printf_dup("the page of theme '%s'", cfg->themes[i].id));
	authors au;
	authors_collect(&au, s);
	for (size_t i = 0; i < au.n; i++)
		add_claim(&c, printf_dup("auteurs/%s/index.html", au.items[i].slug),
			  CLAIM_GEN, NULL, 0, 0,
			  printf_dup("the page of author '%s'", au.items[i].name));
	authors_release(&au);
	for (size_t i = 0; theme && i < theme->n; i++)
		add_claim(&c, xstrdup(theme->files[i]), CLAIM_GEN, NULL, 0, 0,
			  printf_dup("the theme's file '%s'", theme->files[i]));

	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		add_claim(&c, xstrdup(d->out_path), CLAIM_PAGE, d->path, 1, 1, NULL);
		/* Looked up only when there are some: ten thousand articles'
		 * front matter lies all over memory. */
		const value *al = d->fm.naliases ? value_get(frontmatter_meta(&d->fm), "aliases")
						 : NULL;
		for (size_t j = 0; j < d->fm.naliases; j++) {
			const value *v = value_type_of(al) == VALUE_ARRAY ? value_at(al, j) : al;
			int line = v ? value_line(v) : 1, col = v ? value_col(v) : 1;
			/* The output writes no path with "..": said here, at
			 * the alias, rather than by the render, at no line.
			 * Looked for where the page would go, "%2e%2e" too. */
			char *out = document_alias_path(d->fm.aliases[j]);
			if (strstr(out, "..")) {
				diag_add(diags, DIAG_ERROR, d->path, line, col,
					 "alias '%s' holds '..', which no URL of the site may "
					 "(it would lead outside the site)",
					 d->fm.aliases[j]);
				errors++;
				free(out);
				continue;
			}
			add_claim(&c, out, CLAIM_ALIAS, d->path, line, col,
				  xstrdup(d->fm.aliases[j]));
		}
	}
	if (c.n > 1)
		qsort(c.items, c.n, sizeof *c.items, claim_cmp);

	buf url = BUF_INIT;
	size_t first = 0;
	for (size_t i = 1; i < c.n; i++) {
		if (strcmp(c.items[first].out, c.items[i].out) != 0) {
			first = i;
			continue;
		}
		buf_clear(&url);
		url_of(&url, c.items[i].out);
		report_clash(diags, &c.items[i], &c.items[first], url.ptr);
		errors++;
	}
	/* An alias's page in a folder where gen or the theme puts a file
	 * ("feed.xml" asks for feed.xml/index.html, "css/gen.css" for
	 * css/gen.css/index.html) or its search index: the two would stop
	 * each other's writing. */
	for (size_t i = 0; i < c.n; i++) {
		const claim *a = &c.items[i];
		if (a->kind != CLAIM_ALIAS)
			continue;
		for (const char *slash = strchr(a->out, '/'); slash; slash = strchr(slash + 1, '/')) {
			claim key = { 0 };
			key.out = xstrndup(a->out, (size_t)(slash - a->out));
			const claim *f = bsearch(&key, c.items, c.n, sizeof *c.items, out_cmp);
			free(key.out);
			if (f && f->kind != CLAIM_ALIAS) {
				buf_clear(&url);
				url_of(&url, a->out);
				report_clash(diags, a, f, url.ptr);
				errors++;
				break;
			}
		}
	}
	/* An article's page below a file of gen's or the theme's
	 * ("content/css/gen.css/x.md"): the same, for the few claims that
	 * are files, not pages (the search index's folder may hold pages). */
	const claim **files = xmalloc((c.n + 1) * sizeof *files);
	size_t *flen = xmalloc((c.n + 1) * sizeof *flen);
	size_t nfiles = 0;
	for (size_t i = 0; i < c.n; i++) {
		const claim *f = &c.items[i];
		size_t l = strlen(f->out);
		if (f->kind == CLAIM_GEN && strcmp(f->out, SEARCH_DIR) != 0 &&
		    !(l >= 10 && strcmp(f->out + l - 10, "index.html") == 0)) {
			flen[nfiles] = l;
			files[nfiles++] = f;
		}
	}
	for (size_t i = 0; nfiles && i < c.n; i++) {
		const claim *a = &c.items[i];
		if (a->kind != CLAIM_PAGE)
			continue;
		for (size_t k = 0; k < nfiles; k++) {
			size_t l = flen[k];
			if (strncmp(a->out, files[k]->out, l) == 0 && a->out[l] == '/') {
				buf_clear(&url);
				url_of(&url, a->out);
				report_clash(diags, a, files[k], url.ptr);
				errors++;
				break;
			}
		}
	}
	free(files);
	free(flen);
	buf_release(&url);
	for (size_t i = 0; i < c.n; i++) {
		free(c.items[i].out);
		free(c.items[i].what);
	}
	free(c.items);
	return errors;
}

static size_t check_themes(const site *s, diag_list *diags)
{
	const config *cfg = &s->cfg;
	size_t errors = 0;
	buf known = BUF_INIT;
	for (size_t i = 0; i < cfg->nthemes; i++)
		buf_printf(&known, "%s'%s'", i ? ", " : "", cfg->themes[i].id);
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		/* fm.themes holds the ids as written and what the filters
		 * added (only known ones): when all are known, so are those
		 * written, and the front matter need not be looked up. */
		bool all_known = true;
		for (size_t j = 0; j < d->fm.nthemes && all_known; j++)
			all_known = config_theme_find(cfg, d->fm.themes[j]) != NULL;
		if (all_known)
			continue;
		/* The ids as written; meta keeps their positions. */
		const value *th = value_get(frontmatter_meta(&d->fm), "themes");
		size_t n = value_type_of(th) == VALUE_ARRAY ? value_count(th) : th ? 1 : 0;
		for (size_t j = 0; j < n; j++) {
			const value *v = value_type_of(th) == VALUE_ARRAY ? value_at(th, j) : th;
			const char *id = value_string(v, NULL);
			if (config_theme_find(cfg, id))
				continue;
			if (!cfg->nthemes)
				diag_add(diags, DIAG_ERROR, d->path, value_line(v), value_col(v),
					 "unknown theme '%s': site.toml defines no themes", id);
			else if (cfg->nthemes <= 12)
				diag_add(diags, DIAG_ERROR, d->path, value_line(v), value_col(v),
					 "unknown theme '%s' (site.toml defines %s)", id,
					 known.ptr);
			else
				diag_add(diags, DIAG_ERROR, d->path, value_line(v), value_col(v),
					 "unknown theme '%s': it is not a [themes.ID] in "
					 "site.toml", id);
			errors++;
		}
	}
	buf_release(&known);
	return errors;
}

static void check_empty(const site *s, diag_list *diags)
{
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		if (d->is_index || markdown_word_count(d->md) > 0)
			continue;
		diag_add(diags, DIAG_WARNING, d->path, d->fm.body_line, 1,
			 "article '%s' has no text", d->fm.title);
	}
}

/* A page's URL is its file's path, escaped where a URL must be
 * (buf_put_url_path), so a space or a '#' in a name works. A name that
 * is not UTF-8 works too, but shows as nonsense wherever a path is shown
 * (git, a file manager, this report); said once per file, at its first
 * line. */
static size_t check_names(const site *s, diag_list *diags)
{
	size_t said = 0;
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		if (!text_utf8_valid(d->rel, strlen(d->rel), NULL)) {
			diag_add(diags, DIAG_WARNING, d->path, 1, 1,
				 "the file's name is not UTF-8; rename the file (letters, "
				 "digits and '-')");
			said++;
		}
	}
	return said;
}

size_t check_site(const site *s, diag_list *diags)
{
	return check_site_with(s, NULL, 0, NULL, diags);
}

size_t check_site_with(const site *s, check_memory *m, uint64_t world, const check_theme *theme,
		       diag_list *diags)
{
	/* The pages gen adds itself depend on the history too, the theme's
	 * files on the theme. */
	if (world) {
		world = buf_hash64(&world, sizeof world, s->history ? 0x68697374u : 0x6e6f6e65u);
		for (size_t i = 0; theme && i < theme->n; i++)
			world = buf_hash_cstr(theme->files[i], world);
	}
	if (m)
		m->held = world && m->world == world && m->clean;
	if (m && m->held) {
		check_empty(s, diags);
		/* The same paths as the last check: their names read
		 * again only when one was reported then (it is again). */
		if (!m->names_clean)
			m->names_clean = check_names(s, diags) == 0;
		return 0;
	}
	size_t before = diags ? diags->n : 0;
	size_t errors = check_themes(s, diags);
	errors += check_urls(s, theme, diags);
	leerpad lp;
	errors += leerpad_resolve(&lp, s, diags);
	leerpad_release(&lp);
	if (m) {
		m->world = world;
		m->clean = diags && diags->n == before;
	}
	check_empty(s, diags);
	size_t named = check_names(s, diags);
	if (m)
		m->names_clean = named == 0;
	return errors;
}
