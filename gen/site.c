/* site: loading every document and grouping them (see site.h). */
#include "site.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int doc_cmp(const void *a, const void *b)
{
	return strcmp(((const document *)a)->rel, ((const document *)b)->rel);
}

static int page_cmp(const void *a, const void *b)
{
	const document *x = *(document *const *)a, *y = *(document *const *)b;
	if (x->fm.weight != y->fm.weight)
		return x->fm.weight < y->fm.weight ? -1 : 1;
	int c = strcoll(x->fm.title, y->fm.title);
	return c ? c : strcmp(x->rel, y->rel);
}

static int section_cmp(const void *a, const void *b)
{
	const site_section *x = a, *y = b;
	return page_cmp(&x->index, &y->index);
}

static int read_config(site *s, diag_list *diags, gen_err *err)
{
	source_file f;
	int rc = source_read(s->src, "site.toml", &f, err);
	if (rc > 0)
		return err_set(err, GEN_EUSAGE, "site.toml", 0, 0,
			       "'site.toml' is not in %s", source_describe(s->src));
	if (rc < 0)
		return rc;
	rc = config_parse(&s->cfg, f.data, f.len, "site.toml", diags, err);
	source_file_release(&f);
	return rc;
}

static void add_skipped(site *s, const char *rel)
{
	s->skipped = xrealloc(s->skipped, (s->nskipped + 1) * sizeof *s->skipped);
	s->skipped[s->nskipped++] = xstrdup(rel);
}

static void build_sections(site *s)
{
	for (size_t i = 0; i < s->ndocs; i++) {
		document *d = &s->docs[i];
		if (!d->is_index)
			continue;
		if (!*d->dir) {
			s->home = d;
			continue;
		}
		s->sections = xrealloc(s->sections, (s->nsections + 1) * sizeof *s->sections);
		site_section *sec = &s->sections[s->nsections++];
		memset(sec, 0, sizeof *sec);
		sec->dir = xstrdup(d->dir);
		sec->index = d;
	}
	for (size_t i = 0; i < s->nsections; i++) {
		site_section *sec = &s->sections[i];
		for (size_t j = 0; j < s->ndocs; j++) {
			document *d = &s->docs[j];
			if (d->is_index || strcmp(d->dir, sec->dir) != 0)
				continue;
			sec->pages = xrealloc(sec->pages, (sec->npages + 1) * sizeof *sec->pages);
			sec->pages[sec->npages++] = d;
		}
		if (sec->npages > 1)
			qsort(sec->pages, sec->npages, sizeof *sec->pages, page_cmp);
	}
	if (s->nsections > 1)
		qsort(s->sections, s->nsections, sizeof *s->sections, section_cmp);
}

int site_load(site *s, const source *src, const site_options *opt,
	      diag_list *diags, gen_err *err)
{
	source_file *files = NULL;
	size_t nfiles = 0;
	int rc;
	memset(s, 0, sizeof *s);
	s->src = src;
	if ((rc = read_config(s, diags, err)) < 0)
		goto out;
	if ((rc = source_list(src, s->cfg.content_dir, &files, &nfiles, err)) < 0)
		goto out;
	if (nfiles == 0 && diags)
		diag_add(diags, DIAG_WARNING, s->cfg.content_dir, 0, 0,
			 "no content in '%s'", s->cfg.content_dir);

	s->docs = xcalloc(nfiles ? nfiles : 1, sizeof *s->docs);
	s->assets = xcalloc(nfiles ? nfiles : 1, sizeof *s->assets);
	size_t errors = 0;
	for (size_t i = 0; i < nfiles; i++) {
		source_file *f = &files[i];
		if (!ends_with(f->path, ".md")) {
			s->assets[s->nassets] = *f;
			memset(f, 0, sizeof *f);
			s->nassets++;
			continue;
		}
		document *d = &s->docs[s->ndocs];
		gen_err e;
		err_clear(&e);
		if (document_parse(d, f, &s->cfg, diags, &e) < 0) {
			if (diags)
				diag_add_err(diags, &e);
			else
				*err = e;
			errors++;
			continue;
		}
		bool draft = d->fm.draft && !opt->drafts;
		bool future = d->fm.date && d->fm.date_epoch > opt->now && !opt->future;
		if ((draft || future) && !opt->all) {
			add_skipped(s, d->rel);
			document_release(d);
			continue;
		}
		s->ndocs++;
	}
	if (errors) {
		rc = err_set(err, GEN_ECONTENT, "", 0, 0, "%zu article%s could not be read",
			     errors, errors == 1 ? "" : "s");
		goto out;
	}
	if (s->ndocs > 1)
		qsort(s->docs, s->ndocs, sizeof *s->docs, doc_cmp);
	build_sections(s);
	rc = 0;
out:
	source_files_free(files, nfiles);
	if (rc < 0)
		site_release(s);
	return rc;
}

void site_release(site *s)
{
	for (size_t i = 0; i < s->ndocs; i++)
		document_release(&s->docs[i]);
	free(s->docs);
	for (size_t i = 0; i < s->nsections; i++) {
		free(s->sections[i].dir);
		free(s->sections[i].pages);
	}
	free(s->sections);
	source_files_free(s->assets, s->nassets);
	for (size_t i = 0; i < s->nskipped; i++)
		free(s->skipped[i]);
	free(s->skipped);
	config_release(&s->cfg);
	memset(s, 0, sizeof *s);
}

document *site_find(const site *s, const char *rel)
{
	size_t lo = 0, hi = s->ndocs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->docs[mid].rel, rel);
		if (c == 0)
			return &s->docs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool site_is_skipped(const site *s, const char *rel)
{
	for (size_t i = 0; i < s->nskipped; i++)
		if (strcmp(s->skipped[i], rel) == 0)
			return true;
	return false;
}

bool site_has_asset(const site *s, const char *rel)
{
	size_t cl = strlen(s->cfg.content_dir);
	for (size_t i = 0; i < s->nassets; i++) {
		const char *p = s->assets[i].path;
		if (strncmp(p, s->cfg.content_dir, cl) == 0 && p[cl] == '/' &&
		    strcmp(p + cl + 1, rel) == 0)
			return true;
	}
	return false;
}

const site_section *site_section_of(const site *s, const document *d)
{
	for (size_t i = 0; i < s->nsections; i++)
		if (strcmp(s->sections[i].dir, d->dir) == 0)
			return &s->sections[i];
	return NULL;
}
