/* new: creating an article from the command line (see new.h).
 *
 * The point is that a consultant never has to remember the front matter
 * keys: the file comes out ready to write in, marked as a draft so an
 * unfinished article cannot be published by accident. */
#include "new.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "source.h"
#include "text.h"

/* TOML basic string contents: quotes and backslashes escaped. */
static void put_toml_string(buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		if ((unsigned char)*s < 0x20)
			continue;
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}


int new_article(const char *dir, const char *kind, const char *title, int64_t now)
{
	int status = 1;
	char *root = NULL, *author = NULL;
	buf text = BUF_INIT, path = BUF_INIT, slug = BUF_INIT, body = BUF_INIT;
	config cfg;
	memset(&cfg, 0, sizeof cfg);
	gen_err err;
	err_clear(&err);

	if (source_find_root(&root, dir, &err) < 0)
		goto fail;
	buf_printf(&path, "%s/site.toml", root);
	if (buf_read_file(&text, path.ptr) < 0) {
		err_set(&err, GEN_EIO, "site.toml", 0, 0, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if (config_parse(&cfg, text.ptr, text.len, "site.toml", NULL, &err) < 0)
		goto fail;

	text_slug(&slug, title, strlen(title));
	if (!slug.len) {
		err_set(&err, GEN_EUSAGE, "", 0, 0, "title '%s' gives an empty file name", title);
		goto fail;
	}
	const char *folder = strcmp(kind, "story") == 0 ? "verhalen/"
			     : strcmp(kind, "tips") == 0 ? "tips/"
							 : "";
	buf_clear(&path);
	buf_printf(&path, "%s/%s/%s", root, cfg.content_dir, folder);
	mkdir(path.ptr, 0755); /* the content folder may be new */
	buf_printf(&path, "%s.md", slug.ptr);

	char date[32];
	time_t t = (time_t)now;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	author = source_git_config(root, "user.name");

	buf_puts(&body, "+++\ntitle = ");
	put_toml_string(&body, title);
	buf_printf(&body, "\nkind = \"%s\"\ndate = %s\n", kind, date);
	if (author && *author) {
		buf_puts(&body, "author = ");
		put_toml_string(&body, author);
		buf_putc(&body, '\n');
	}
	buf_puts(&body, "summary = \"\"\nthemes = []\ndraft = true\n+++\n\n");
	if (strcmp(kind, "tips") == 0)
		buf_puts(&body, "Een korte inleiding.\n\n1. **Eerste tip.** Uitleg.\n"
				"2. **Tweede tip.** Uitleg.\n");
	else
		buf_puts(&body, "## Wat er gebeurde\n\n");

	int fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		err_set(&err, GEN_EIO, "", 0, 0,
			errno == EEXIST ? "'%s' already exists: not overwriting it"
					: "cannot create '%s'",
			path.ptr + strlen(root) + 1);
		goto fail;
	}
	ssize_t w = write(fd, body.ptr, body.len);
	if (close(fd) < 0 || w != (ssize_t)body.len) {
		err_set(&err, GEN_EIO, "", 0, 0, "cannot write '%s'", path.ptr);
		goto fail;
	}
	printf("%s/%s%s.md\n", cfg.content_dir, folder, slug.ptr);
	status = 0;
	goto out;
fail:
	fputs("gen: ", stderr);
	err_print(&err, stderr);
out:
	config_release(&cfg);
	free(root);
	free(author);
	buf_release(&text);
	buf_release(&path);
	buf_release(&slug);
	buf_release(&body);
	return status;
}
