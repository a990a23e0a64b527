/* mustache-render: renders one Mustache template with JSON data.
 *
 *   mustache-render TEMPLATE DATA.json [PARTIALS_DIR]
 *
 * Partials and parents come from PARTIALS_DIR/NAME.mustache (folders
 * included). The result goes to stdout exactly, with no newline added.
 * Errors print as "file:line:col: message" and exit 1; a bad command line
 * exits 2. Used to try templates by hand and by tests/mustache-render.sh. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "template.h"
#include "value.h"

static int read_file(const char *path, buf *out, gen_err *err)
{
	if (buf_read_file(out, path) < 0)
		return err_set(err, GEN_EIO, path, 0, 0, "cannot read: %s",
			       strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: mustache-render TEMPLATE DATA.json [PARTIALS_DIR]\n");
		return 2;
	}
	template *t = NULL;
	template_partials *partials = template_partials_new();
	value *data = NULL;
	buf text = BUF_INIT, out = BUF_INIT;
	gen_err err;
	int rc;

	err_clear(&err);
	rc = template_load_file(&t, argv[1], &err);
	if (rc < 0)
		goto out;
	rc = read_file(argv[2], &text, &err);
	if (rc < 0)
		goto out;
	rc = json_parse(&data, text.ptr, text.len, argv[2], &err);
	if (rc < 0)
		goto out;
	if (argc == 4) {
		rc = template_partials_load_dir(partials, argv[3], &err);
		if (rc < 0)
			goto out;
	}
	rc = template_render(&out, t, data, partials, &err);
	if (rc < 0)
		goto out;
	if (fwrite(out.ptr, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		rc = err_set(&err, GEN_EIO, "", 0, 0, "cannot write the output: %s",
			     strerror(errno));
out:
	if (rc < 0)
		err_print(&err, stderr);
	buf_release(&text);
	buf_release(&out);
	value_free(data);
	template_free(t);
	template_partials_free(partials);
	return rc < 0 ? 1 : 0;
}
