/* document: front matter plus Markdown for one file (see document.h). */
#include "document.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

char *document_url_for(const char *rel)
{
	buf u = BUF_INIT;
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	size_t dirlen = slash ? (size_t)(slash - rel) + 1 : 0;
	const char *dot = strrchr(base, '.');
	size_t stemlen = dot ? (size_t)(dot - base) : strlen(base);
	buf_put(&u, rel, dirlen);
	bool index = (stemlen == 6 && strncmp(base, "_index", 6) == 0) ||
		     (stemlen == 5 && strncmp(base, "index", 5) == 0);
	if (!index) {
		buf_put(&u, base, stemlen);
		buf_putc(&u, '/');
	}
	return buf_detach(&u);
}

int document_parse(document *d, const source_file *f, const config *cfg,
		   diag_list *diags, gen_err *err)
{
	int rc;
	memset(d, 0, sizeof *d);
	size_t cl = strlen(cfg->content_dir);
	d->path = xstrdup(f->path);
	d->rel = xstrdup(strncmp(f->path, cfg->content_dir, cl) == 0 && f->path[cl] == '/'
				 ? f->path + cl + 1
				 : f->path);
	const char *slash = strrchr(d->rel, '/');
	d->dir = slash ? xstrndup(d->rel, (size_t)(slash - d->rel)) : xstrdup("");
	const char *base = slash ? slash + 1 : d->rel;
	d->is_index = strcmp(base, "_index.md") == 0 || strcmp(base, "index.md") == 0;
	d->url = document_url_for(d->rel);
	buf out = BUF_INIT;
	buf_printf(&out, "%sindex.html", d->url);
	d->out_path = buf_detach(&out);
	memcpy(d->id, f->id, sizeof d->id);

	if ((rc = frontmatter_parse(&d->fm, d->path, f->data, f->len, err)) < 0)
		goto out;
	markdown_options mo = { 0 };
	mo.unsafe_html = cfg->unsafe_html;
	mo.tips = d->fm.kind == KIND_TIPS;
	mo.line_offset = d->fm.body_line - 1;
	rc = markdown_parse(&d->md, d->path, f->data + d->fm.body_offset,
			    f->len - d->fm.body_offset, &mo, diags, err);
out:
	if (rc < 0)
		document_release(d);
	return rc;
}

void document_release(document *d)
{
	free(d->path);
	free(d->rel);
	free(d->dir);
	free(d->url);
	free(d->out_path);
	frontmatter_release(&d->fm);
	markdown_free(d->md);
	for (size_t i = 0; i < d->nevidence; i++) {
		free(d->evidence[i].theme);
		free(d->evidence[i].excerpt);
		free(d->evidence[i].anchor);
		free(d->evidence[i].note);
	}
	free(d->evidence);
	memset(d, 0, sizeof *d);
}
