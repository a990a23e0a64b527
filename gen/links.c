/* links: resolving, checking and rewriting article links (see links.h). */
#include "links.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

/* A destination with a scheme ("https:", "mailto:") or starting with "//"
 * or "/" points outside the handbook's sources. */
static bool is_external(const char *url)
{
	if (url[0] == '/' )
		return true;
	for (const char *p = url; *p && *p != '/' && *p != '#' && *p != '?'; p++)
		if (*p == ':')
			return true;
	return false;
}

/* Joins dir and a relative path, folding "." and ".." segments. Returns
 * NULL when the path climbs above the content root. Caller frees. */
static char *join_path(const char *dir, const char *path, size_t plen)
{
	buf in = BUF_INIT;
	if (*dir) {
		buf_puts(&in, dir);
		buf_putc(&in, '/');
	}
	buf_put(&in, path, plen);
	char **seg = xcalloc(in.len + 1, sizeof *seg);
	size_t n = 0;
	char *save = NULL;
	bool ok = true;
	for (char *t = strtok_r(in.ptr, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (strcmp(t, ".") == 0)
			continue;
		if (strcmp(t, "..") == 0) {
			if (n == 0) {
				ok = false;
				break;
			}
			n--;
			continue;
		}
		seg[n++] = t;
	}
	char *res = NULL;
	if (ok) {
		buf out = BUF_INIT;
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_putc(&out, '/');
			buf_puts(&out, seg[i]);
		}
		if (plen && path[plen - 1] == '/' && out.len)
			buf_putc(&out, '/');
		res = buf_detach(&out);
	}
	free(seg);
	buf_release(&in);
	return res;
}

char *links_root(const char *page_url)
{
	buf r = BUF_INIT;
	for (const char *p = page_url; *p; p++)
		if (*p == '/')
			buf_puts(&r, "../");
	if (!r.len)
		buf_puts(&r, "./");
	return buf_detach(&r);
}

typedef struct target {
	char *rel;          /* content-relative path, NULL when unresolvable */
	const char *frag;   /* points into the url, after '#', or NULL */
	size_t pathlen;
} target;

static void split(const char *url, target *t, const document *from)
{
	size_t plen = strcspn(url, "#?");
	const char *hash = strchr(url, '#');
	t->frag = hash ? hash + 1 : NULL;
	t->pathlen = plen;
	t->rel = plen ? join_path(from->dir, url, plen) : NULL;
}

static bool ends_md(const char *s)
{
	size_t n = strlen(s);
	return n > 3 && strcmp(s + n - 3, ".md") == 0;
}

char *links_rewrite(const site *s, const document *from, const char *url,
		    bool image)
{
	(void)image;
	if (!*url || is_external(url) || url[0] == '#')
		return NULL;
	target t;
	split(url, &t, from);
	if (!t.rel)
		return NULL;
	buf out = BUF_INIT;
	char *root = links_root(from->url);
	if (ends_md(t.rel)) {
		const document *d = site_find(s, t.rel);
		if (d) {
			/* "./" only matters when nothing follows. */
			if (strcmp(root, "./") != 0 || !*d->url)
				buf_puts(&out, root);
			buf_puts(&out, d->url);
		}
	} else {
		if (strcmp(root, "./") != 0)
			buf_puts(&out, root);
		buf_puts(&out, t.rel);
	}
	if (out.len && t.frag) {
		buf_putc(&out, '#');
		buf_puts(&out, t.frag);
	}
	free(root);
	free(t.rel);
	if (!out.len) {
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out);
}

size_t links_check(const site *s, diag_list *diags)
{
	size_t errors = 0;
	diag_severity sev = s->cfg.links == LINKS_WARN ? DIAG_WARNING : DIAG_ERROR;
	for (size_t i = 0; i < s->ndocs; i++) {
		const document *d = &s->docs[i];
		for (size_t j = 0; j < markdown_link_count(d->md); j++) {
			const markdown_link *l = markdown_link_at(d->md, j);
			const char *url = l->url;
			if (!*url || is_external(url))
				continue;
			if (url[0] == '#') {
				if (url[1] && !markdown_has_anchor(d->md, url + 1)) {
					diag_add(diags, sev, d->path, l->line, l->col,
						 "link target '%s' does not exist", url);
					errors += sev == DIAG_ERROR;
				}
				continue;
			}
			target t;
			split(url, &t, d);
			if (!t.rel) {
				diag_add(diags, sev, d->path, l->line, l->col,
					 "link target '%s' is outside the content", url);
				errors += sev == DIAG_ERROR;
				continue;
			}
			if (ends_md(t.rel)) {
				const document *to = site_find(s, t.rel);
				if (!to) {
					if (site_is_skipped(s, t.rel))
						diag_add(diags, sev, d->path, l->line, l->col,
							 "link target '%s' is a draft or dated in the future "
							 "and left out of this build", url);
					else
						diag_add(diags, sev, d->path, l->line, l->col,
							 "link target '%s' does not exist", url);
					errors += sev == DIAG_ERROR;
				} else if (t.frag && *t.frag && !markdown_has_anchor(to->md, t.frag)) {
					diag_add(diags, sev, d->path, l->line, l->col,
						 "link target '%s' does not exist: no anchor '#%s' in '%s'",
						 url, t.frag, to->path);
					errors += sev == DIAG_ERROR;
				}
			} else if (!site_has_asset(s, t.rel)) {
				diag_add(diags, sev, d->path, l->line, l->col,
					 "%s '%s' does not exist", l->image ? "image" : "link target",
					 url);
				errors += sev == DIAG_ERROR;
			}
			free(t.rel);
		}
	}
	return errors;
}
