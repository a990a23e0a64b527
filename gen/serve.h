/* serve: the preview server, `gen serve`.
 *
 * A consultant writing an article wants to see it as readers will, each
 * time the file is saved. serve builds the work tree (uncommitted edits
 * and drafts included) into a preview folder of its own, so the release
 * build in public/ never holds a draft, serves that folder over HTTP on
 * this machine, and builds again whenever site.toml or a file under the
 * content, lua/ or themes/ folders changes (inotify). Every HTML page it
 * serves carries a small script that reloads the page after a build, or
 * lays the build's errors over it (file:line:col, as on the terminal)
 * while the previous pages stay served. This module is the only one that
 * includes microhttpd.h. */
#ifndef GEN_SERVE_H
#define GEN_SERVE_H

#include "build.h"

typedef struct serve_options {
	build_options build;  /* build.output NULL: <root>/.gen-cache/preview/public */
	const char *bind;     /* the address to listen on; NULL: 127.0.0.1 */
	int port;             /* -1: 5180, or a free port when it is taken;
				 0: a free port (printed when serving starts) */
} serve_options;

/* Builds, serves and watches until SIGINT or SIGTERM. Returns 0 after
 * such a signal, 1 when the server cannot start (the port is taken, say;
 * the message is on stderr), 2 for usage errors. A failing build does not
 * end it: its errors are shown and the previous pages stay. */
int serve_run(const serve_options *opt);

#endif
