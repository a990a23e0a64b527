/* serve: the preview server (see serve.h).
 *
 * Three parts share one record, the preview: the main thread builds and
 * watches, libmicrohttpd's threads (one per connection) answer requests.
 * A build writes the preview folder the way `gen build` writes public/
 * (output.c: unchanged files are left alone, a failed build changes
 * nothing), so requests are served straight from disk while a build runs;
 * the record says only which build is the latest and what it reported.
 * A page waits for the next build with a long poll on /_gen/wait, which
 * needs no WebSocket and works through any proxy. */
#include "serve.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "check.h"
#include "json.h"
#include "links.h"
#include "output.h"
#include "parts.h"
#include "search.h"
#include "source.h"
#include "watch.h"
#include "xalloc.h"

/* The port when none is given: taken, serve picks a free one (as Hugo's
 * server does) instead of failing. */
#define DEFAULT_PORT 5180
/* How long a page's poll waits for a build before it is answered anyway,
 * well below the idle time after which proxies drop a connection. */
#define WAIT_SECONDS 25
/* Quiet time after a change before building. An editor's save is a
 * write, a rename and a chmod within a millisecond or two: after the
 * first of them the build waits SAVE_SETTLE_MS of quiet. Changes that
 * keep coming after that (a checkout, a script writing many files) are
 * a burst, and the build waits for SETTLE_MS of quiet. */
#define SAVE_SETTLE_MS 5
#define SETTLE_MS 25

/* ---- libmicrohttpd, opened when a preview starts ----
 *
 * Only gen serve needs an HTTP server, but every command that builds
 * starts twice (xalloc.c, "the heap's pages"), and a binary linked with
 * libmicrohttpd loads it and the nine libraries it needs, GnuTLS among
 * them, each time: 2 ms of the dynamic loader's work per start, on the
 * path of every rebuild. So gen is not linked with it: serve opens it here, by the
 * name the Makefile found when gen was built, and takes the functions
 * it calls from it. The library stays loaded until the process ends
 * (unloaded, what GnuTLS set up when loaded would look leaked). */
#ifndef GEN_MHD_SONAME
#define GEN_MHD_SONAME "libmicrohttpd.so.12"
#endif

typedef struct httpd {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *response_from_buffer;
	__typeof__(MHD_create_response_from_fd64) *response_from_fd64;
	__typeof__(MHD_add_response_header) *add_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_lookup_connection_value) *lookup_value;
} httpd;

/* Takes symbol name from lib into *fn (a function pointer's address):
 * through memcpy, as ISO C has no cast from void * to a function. */
static bool httpd_take(void *lib, const char *name, void *fn, gen_err *err)
{
	void *sym = dlsym(lib, name);
	if (!sym) {
		err_set(err, GEN_EIO, "", 0, 0, "gen serve: %s has no %s", GEN_MHD_SONAME, name);
		return false;
	}
	memcpy(fn, &sym, sizeof sym);
	return true;
}

/* Fills h from libmicrohttpd. Returns 0, or GEN_EIO with err set. */
static int httpd_open(httpd *h, gen_err *err)
{
	void *lib = dlopen(GEN_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *why = dlerror();
		err_set(err, GEN_EIO, "", 0, 0,
			"gen serve: cannot load the HTTP server's library %s: %s",
			GEN_MHD_SONAME, why ? why : "not found");
		return GEN_EIO;
	}
	if (httpd_take(lib, "MHD_start_daemon", &h->start_daemon, err) &&
	    httpd_take(lib, "MHD_stop_daemon", &h->stop_daemon, err) &&
	    httpd_take(lib, "MHD_create_response_from_buffer", &h->response_from_buffer, err) &&
	    httpd_take(lib, "MHD_create_response_from_fd64", &h->response_from_fd64, err) &&
	    httpd_take(lib, "MHD_add_response_header", &h->add_header, err) &&
	    httpd_take(lib, "MHD_queue_response", &h->queue_response, err) &&
	    httpd_take(lib, "MHD_destroy_response", &h->destroy_response, err) &&
	    httpd_take(lib, "MHD_lookup_connection_value", &h->lookup_value, err))
		return 0;
	return GEN_EIO;
}

typedef struct preview {
	pthread_mutex_t lock;
	pthread_cond_t built;  /* signalled after every build and at the end */
	unsigned long build;   /* builds finished; the first is 1 */
	bool ok;               /* the latest build succeeded */
	char *problems;        /* its errors and warnings, one per line */
	double seconds;
	bool stopping;
	const char *dir;       /* the folder served */
	/* Ctrl-C: the signal thread's, for the main thread */
	atomic_int stops;      /* SIGINT and SIGTERM received */
	atomic_bool building;  /* the main thread is in a build */
	int stop_pipe[2];      /* written at the first signal */
	int sigfd;
	httpd http;            /* the server's functions, set before it starts */
} preview;

/* ---- answering requests ---- */

/* The script every served page carries. It asks at once how the latest
 * build went (the page may be older than it), then waits for the next:
 * a good build reloads the page, a failed one lays its errors over it. */
static const char live_js[] =
	"(function () {\n"
	"\t'use strict';\n"
	"\tvar me = document.currentScript;\n"
	"\tvar seen = Number(me && me.getAttribute('data-build')) || 0;\n"
	"\tvar box = null;\n"
	"\tvar lost = false;\n"
	"\tfunction show(text) {\n"
	"\t\tif (!box) {\n"
	"\t\t\tbox = document.createElement('pre');\n"
	"\t\t\tbox.id = 'gen-preview-problems';\n"
	"\t\t\tbox.setAttribute('role', 'alert');\n"
	"\t\t\tbox.style.cssText = 'position:fixed;left:0;right:0;bottom:0;max-height:50vh;'\n"
	"\t\t\t\t+ 'overflow:auto;margin:0;padding:1em;background:#fff4f4;color:#5c0000;'\n"
	"\t\t\t\t+ 'border-top:4px solid #b00000;font:14px/1.45 monospace;'\n"
	"\t\t\t\t+ 'white-space:pre-wrap;z-index:2147483647';\n"
	"\t\t\tdocument.body.appendChild(box);\n"
	"\t\t}\n"
	"\t\tbox.textContent = 'gen serve: de laatste build is mislukt; je ziet de pagina '\n"
	"\t\t\t+ 'van de build ervoor.\\n\\n' + text;\n"
	"\t}\n"
	"\tfunction hide() {\n"
	"\t\tif (box) box.remove();\n"
	"\t\tbox = null;\n"
	"\t}\n"
	"\tfunction poll(first) {\n"
	"\t\tfetch('/_gen/wait' + (first ? '' : '?after=' + seen), { cache: 'no-store' })\n"
	"\t\t\t.then(function (r) { return r.json(); })\n"
	"\t\t\t.then(function (s) {\n"
	"\t\t\t\t/* Back after the server was gone: it may be another\n"
	"\t\t\t\t * run, counting its builds from 1 again. */\n"
	"\t\t\t\tif ((s.build > seen || lost) && s.ok) {\n"
	"\t\t\t\t\tlocation.reload();\n"
	"\t\t\t\t\treturn;\n"
	"\t\t\t\t}\n"
	"\t\t\t\tseen = lost ? s.build : Math.max(seen, s.build);\n"
	"\t\t\t\tlost = false;\n"
	"\t\t\t\tif (s.ok) hide(); else show(s.problems);\n"
	"\t\t\t\tpoll(false);\n"
	"\t\t\t}, function () {\n"
	"\t\t\t\t/* The server stopped or restarts: try again in a while. */\n"
	"\t\t\t\tlost = true;\n"
	"\t\t\t\tsetTimeout(function () { poll(true); }, 2000);\n"
	"\t\t\t});\n"
	"\t}\n"
	"\tpoll(true);\n"
	"})();\n";

static const struct {
	const char *ext, *type;
} content_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "xml", "application/xml" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "avif", "image/avif" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "woff2", "font/woff2" },
	{ "woff", "font/woff" },
	{ "pdf", "application/pdf" },
};

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof content_types / sizeof *content_types; i++)
			if (strcasecmp(dot + 1, content_types[i].ext) == 0)
				return content_types[i].type;
	return "application/octet-stream";
}

static enum MHD_Result send_response(const httpd *h, struct MHD_Connection *c,
				     unsigned status, struct MHD_Response *r, const char *type)
{
	if (!r)
		return MHD_NO;
	if (type)
		h->add_header(r, "Content-Type", type);
	/* A preview changes under the reader: never from a cache. */
	h->add_header(r, "Cache-Control", "no-store");
	enum MHD_Result rc = h->queue_response(c, status, r);
	h->destroy_response(r);
	return rc;
}

static enum MHD_Result send_text(const httpd *h, struct MHD_Connection *c, unsigned status,
				 const char *text)
{
	struct MHD_Response *r = h->response_from_buffer(strlen(text), (void *)text,
							 MHD_RESPMEM_MUST_COPY);
	return send_response(h, c, status, r, "text/plain; charset=utf-8");
}

/* Sends html (taken) with the live script before its last </body>, or
 * at its end. */
static enum MHD_Result send_html(const httpd *h, struct MHD_Connection *c, unsigned status,
				 buf *html, unsigned long build)
{
	char tag[96];
	int tl = snprintf(tag, sizeof tag,
			  "<script src=\"/_gen/live.js\" data-build=\"%lu\"></script>", build);
	size_t at = html->len;
	for (size_t i = html->len; i >= 7; i--)
		if (strncasecmp(html->ptr + i - 7, "</body>", 7) == 0) {
			at = i - 7;
			break;
		}
	buf out = BUF_INIT;
	buf_grow(&out, html->len + (size_t)tl);
	buf_put(&out, html->ptr, at);
	buf_put(&out, tag, (size_t)tl);
	buf_put(&out, html->ptr + at, html->len - at);
	buf_release(html);
	size_t len = out.len;
	struct MHD_Response *r = h->response_from_buffer(len, buf_detach(&out),
							 MHD_RESPMEM_MUST_FREE);
	return send_response(h, c, status, r, "text/html; charset=utf-8");
}

/* The latest build, as the live script reads it. */
static void status_json(preview *p, buf *out)
{
	buf_printf(out, "{\"build\":%lu,\"ok\":%s,\"seconds\":%.3f,\"problems\":", p->build,
		   p->ok ? "true" : "false", p->seconds);
	json_put_string(out, p->problems ? p->problems : "",
			p->problems ? strlen(p->problems) : 0);
	buf_puts(out, "}");
}

/* GET /_gen/wait[?after=N]: at once without after, or when a build later
 * than N has finished; otherwise when one does, or after WAIT_SECONDS. */
static enum MHD_Result answer_wait(preview *p, struct MHD_Connection *c)
{
	const char *after = p->http.lookup_value(c, MHD_GET_ARGUMENT_KIND, "after");
	char *end = NULL;
	unsigned long n = after ? strtoul(after, &end, 10) : 0;
	if (after && (!*after || *end))
		return send_text(&p->http, c, MHD_HTTP_BAD_REQUEST,
				 "after= needs a build number\n");
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_SECONDS;
	buf out = BUF_INIT;
	pthread_mutex_lock(&p->lock);
	while (after && p->build <= n && !p->stopping)
		if (pthread_cond_timedwait(&p->built, &p->lock, &until) == ETIMEDOUT)
			break;
	status_json(p, &out);
	pthread_mutex_unlock(&p->lock);
	size_t len = out.len;
	struct MHD_Response *r = p->http.response_from_buffer(len, buf_detach(&out),
							      MHD_RESPMEM_MUST_FREE);
	return send_response(&p->http, c, MHD_HTTP_OK, r, "application/json");
}

static unsigned long current_build(preview *p)
{
	pthread_mutex_lock(&p->lock);
	unsigned long b = p->build;
	pthread_mutex_unlock(&p->lock);
	return b;
}

/* The site's 404.html, or a page of our own when the site has none yet
 * (its first build failed, say: the live script shows why). */
static enum MHD_Result answer_missing(preview *p, struct MHD_Connection *c, const char *url)
{
	buf page = BUF_INIT, path = BUF_INIT;
	buf_printf(&path, "%s/404.html", p->dir);
	if (buf_read_file(&page, path.ptr) < 0) {
		buf_clear(&page);
		buf_puts(&page, "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
				"<title>Niet gevonden</title></head><body><h1>Niet gevonden</h1>"
				"<p>Deze preview heeft geen pagina <code>");
		buf_put_html(&page, url, strlen(url));
		buf_puts(&page, "</code>.</p></body></html>\n");
	}
	buf_release(&path);
	return send_html(&p->http, c, MHD_HTTP_NOT_FOUND, &page, current_build(p));
}

/* Whether url names something inside the served folder: no ".." part
 * (libmicrohttpd has decoded %2e%2e already) and no NUL. */
static bool url_is_safe(const char *url)
{
	if (url[0] != '/')
		return false;
	for (const char *s = url; *s;) {
		while (*s == '/')
			s++;
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if (l == 2 && s[0] == '.' && s[1] == '.')
			return false;
		s += l;
	}
	return true;
}

/* Before the first build is done there is nothing to show: a page that
 * says so, and reloads when it is. */
static enum MHD_Result answer_first(const httpd *h, struct MHD_Connection *c)
{
	buf page = BUF_INIT;
	buf_puts(&page, "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
			"<title>Bezig met bouwen</title></head><body><h1>Bezig met bouwen</h1>"
			"<p>gen serve bouwt het handboek; deze pagina laadt vanzelf opnieuw "
			"als het klaar is.</p></body></html>\n");
	return send_html(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, &page, 0);
}

static enum MHD_Result answer_file(preview *p, struct MHD_Connection *c, const char *url)
{
	if (!url_is_safe(url))
		return send_text(&p->http, c, MHD_HTTP_BAD_REQUEST, "bad path\n");
	if (current_build(p) == 0)
		return answer_first(&p->http, c);
	buf path = BUF_INIT;
	buf_printf(&path, "%s%s", p->dir, url);
	enum MHD_Result rc;
	struct stat st;
	if (stat(path.ptr, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (url[strlen(url) - 1] != '/') {
			/* verhalen -> verhalen/, so that the page's relative
			 * links resolve from the folder; url came decoded, and
			 * goes back as a URL ("met spatie" as "met%20spatie"). */
			buf to = BUF_INIT;
			buf_put_url_path(&to, url, strlen(url));
			buf_putc(&to, '/');
			struct MHD_Response *r =
				p->http.response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
			if (r)
				p->http.add_header(r, "Location", to.ptr);
			rc = send_response(&p->http, c, MHD_HTTP_MOVED_PERMANENTLY, r, NULL);
			buf_release(&to);
			goto out;
		}
		buf_puts(&path, "index.html");
	}
	int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		rc = answer_missing(p, c, url);
		goto out;
	}
	const char *type = content_type(path.ptr);
	if (strncmp(type, "text/html", 9) == 0) {
		close(fd);
		unsigned long build = current_build(p);
		buf html = BUF_INIT;
		/* A page in parts (the print page): a build may replace the
		 * list while the parts are read; the list is then read again. */
		int tries = 0, got;
		while ((got = buf_read_file(&html, path.ptr)) == 0 &&
		       parts_read(path.ptr, &html) < 0 && ++tries < 5) {
			buf_clear(&html);
			build = current_build(p);
		}
		if (got < 0 || tries == 5) {
			buf_release(&html);
			rc = answer_missing(p, c, url);
		} else {
			rc = send_html(&p->http, c, MHD_HTTP_OK, &html, build);
		}
		goto out;
	}
	/* libmicrohttpd owns fd from here, also when it fails. */
	struct MHD_Response *r = p->http.response_from_fd64((uint64_t)st.st_size, fd);
	if (!r)
		close(fd);
	rc = send_response(&p->http, c, MHD_HTTP_OK, r, type);
out:
	buf_release(&path);
	return rc;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	preview *p = cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		struct MHD_Response *r = p->http.response_from_buffer(
			19, (void *)"method not allowed\n", MHD_RESPMEM_PERSISTENT);
		if (r)
			p->http.add_header(r, "Allow", "GET, HEAD");
		return send_response(&p->http, c, MHD_HTTP_METHOD_NOT_ALLOWED, r,
				     "text/plain; charset=utf-8");
	}
	if (strcmp(url, "/_gen/live.js") == 0)
		return send_response(&p->http, c, MHD_HTTP_OK,
				     p->http.response_from_buffer(sizeof live_js - 1,
								  (void *)live_js,
								  MHD_RESPMEM_PERSISTENT),
				     "text/javascript; charset=utf-8");
	if (strcmp(url, "/_gen/wait") == 0)
		return answer_wait(p, c);
	return answer_file(p, c, url);
}

/* ---- listening ---- */

/* Opens the listening socket for bind:port; *port gets the port bound
 * (the one the system picked for 0). Returns the socket, or -1 with
 * err set. */
static int listen_on(const char *bind_to, int *port, int *family, gen_err *err)
{
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	char service[16];
	snprintf(service, sizeof service, "%d", *port);
	int rc = getaddrinfo(bind_to, service, &hints, &ai);
	if (rc != 0) {
		err_set(err, GEN_EUSAGE, "", 0, 0, "cannot listen on '%s': %s", bind_to,
			gai_strerror(rc));
		return -1;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		err_set(err, GEN_EIO, "", 0, 0, "cannot listen on %s port %d: %s", bind_to,
			*port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	*family = ai->ai_family;
	freeaddrinfo(ai);
	struct sockaddr_storage sa;
	socklen_t sl = sizeof sa;
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		*port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						       : ((struct sockaddr_in *)&sa)->sin_port);
	return fd;
}

/* ---- building ---- */

typedef struct build_turn {
	preview *p;
	build_report *rep;
	int status;
} build_turn;

/* build_options.finished: tells the waiting pages, before the build
 * frees its memory. */
static void publish(void *ctx, int status)
{
	build_turn *t = ctx;
	build_report *rep = t->rep;
	t->status = status;
	/* Only what a writer must act on: errors and warnings. */
	buf text = BUF_INIT;
	for (size_t i = 0; i < rep->diags.n; i++) {
		const gen_diag *d = &rep->diags.items[i];
		if (d->severity == DIAG_NOTICE)
			continue;
		if (d->file && *d->file) {
			buf_puts(&text, d->file);
			if (d->line > 0)
				buf_printf(&text, ":%d", d->line);
			if (d->line > 0 && d->col > 0)
				buf_printf(&text, ":%d", d->col);
			buf_puts(&text, ": ");
		}
		buf_printf(&text, "%s: %s\n", d->severity == DIAG_ERROR ? "error" : "warning",
			   d->msg);
	}
	preview *p = t->p;
	pthread_mutex_lock(&p->lock);
	p->build++;
	p->ok = status == 0;
	free(p->problems);
	p->problems = buf_detach(&text);
	p->seconds = rep->seconds;
	pthread_cond_broadcast(&p->built);
	pthread_mutex_unlock(&p->lock);
}

/* Builds once; the pages hear of it from publish. *trusted says whether
 * the preview folder is as this process's last build left it: a build
 * that failed may have left it anyhow, and before the first, another
 * process (or an older gen serve that was killed) may have. */
static void build_once(preview *p, const serve_options *opt, project_watch *w,
		       source_listing *listing, build_report *rep,
		       bool *trusted)
{
	build_turn turn = { p, rep, 1 };
	build_options bo = opt->build;
	bo.report = rep;
	bo.finished = publish;
	bo.finished_ctx = &turn;
	bo.own_output = *trusted;
	/* An article dated later today shows once its time has come. */
	bo.site.now = (int64_t)time(NULL);
	if (project_watch_blind(w))
		source_listing_forget(listing);
	bo.site.listing = listing;
	atomic_store(&p->building, true);
	build_run(&bo);
	atomic_store(&p->building, false);
	*trusted = turn.status == 0;
	/* site.toml may name another content folder now. */
	project_watch_content(w, rep->content_dir);
}

/* Reads SIGINT and SIGTERM, which every other thread blocks. The first
 * stops the server: at once when it waits for changes, after the build
 * when one runs (a build cut short would leave its staging folder
 * behind). A second one during that build ends the process at once. */
static void *signal_run(void *arg)
{
	preview *p = arg;
	struct signalfd_siginfo si;
	for (;;) {
		ssize_t n = read(p->sigfd, &si, sizeof si);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof si)
			break;
		if (atomic_fetch_add(&p->stops, 1) == 0) {
			if (atomic_load(&p->building))
				fprintf(stderr, "gen serve: stopping after this build "
						"(Ctrl-C again to stop now)\n");
			if (write(p->stop_pipe[1], "x", 1) < 0)
				_exit(130);
		} else if (atomic_load(&p->building)) {
			_exit(130);
		}
	}
	return NULL;
}

/* Waits up to ms for stopfd or (when fd >= 0) for fd; returns 1 when
 * stopfd is readable (a signal came), 2 when fd is, 0 on time out. */
static int wait_for(int stopfd, int fd, int ms)
{
	struct pollfd pf[2] = { { stopfd, POLLIN, 0 }, { fd, POLLIN, 0 } };
	for (;;) {
		int n = poll(pf, fd >= 0 ? 2 : 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (pf[0].revents)
			return 1;
		return 2;
	}
}

/* The preview folder when -o is not given: inside .gen-cache/, which
 * git ignores, and away from public/, which must never hold a draft. */
static char *preview_dir(const serve_options *opt, char **root, gen_err *err)
{
	source *src = NULL;
	diag_list quiet = DIAG_LIST_INIT;
	char *dir = NULL;
	if (source_open(&src, &opt->build.src, &quiet, err) < 0)
		goto out;
	if (!source_root(src)) {
		err_set(err, GEN_EUSAGE, "", 0, 0,
			"gen serve needs a project on disk, not a bare repository");
		goto out;
	}
	*root = xstrdup(source_root(src));
	if (opt->build.output) {
		dir = xstrdup(opt->build.output);
		goto out;
	}
	buf p = BUF_INIT;
	buf_printf(&p, "%s/.gen-cache", *root);
	mkdir(p.ptr, 0777);
	buf_puts(&p, "/preview");
	mkdir(p.ptr, 0777);
	/* So that git status stays quiet in a project whose .gitignore does
	 * not name .gen-cache/. */
	size_t l = p.len;
	buf_puts(&p, "/.gitignore");
	FILE *fp = fopen(p.ptr, "wx");
	if (fp) {
		fputs("*\n", fp);
		fclose(fp);
	}
	buf_truncate(&p, l);
	buf_puts(&p, "/public");
	dir = buf_detach(&p);
out:
	diag_release(&quiet);
	source_free(src);
	return dir;
}

int serve_run(const serve_options *opt)
{
	int status = 1, sock = -1, sigfd = -1, family = AF_INET;
	struct MHD_Daemon *daemon = NULL;
	char *root = NULL, *dir = NULL;
	site_memory *memory = NULL;
	search_memory *words = NULL;
	links_memory *links = NULL;
	output_memory *paths = NULL;
	build_report rep;
	build_caches caches = { 0 };
	memset(&rep, 0, sizeof rep);
	project_watch *w = NULL;
	source_listing *listing = source_listing_new();
	preview p;
	memset(&p, 0, sizeof p);
	p.ok = true; /* nothing has failed yet */
	p.stop_pipe[0] = p.stop_pipe[1] = -1;
	pthread_t signals;
	bool signals_started = false;
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.built, NULL);
	gen_err err;
	err_clear(&err);
	/* Each build allocates tens of megabytes in large blocks (the
	 * search index's postings, the print page) and frees them at its
	 * end. Left to glibc, each is a fresh mapping, and its first touch
	 * in the next build a page fault per page: kept in the heap, the
	 * next build reuses them as they are. */
	mallopt(M_MMAP_THRESHOLD, 512 << 20);
	mallopt(M_TRIM_THRESHOLD, 1024 << 20);
	source_hold();

	if (!(dir = preview_dir(opt, &root, &err))) {
		status = err.code == GEN_EUSAGE ? 2 : 1;
		goto fail;
	}
	serve_options so = *opt;
	so.build.output = dir;
	so.build.site.output = dir; /* and the cache beside it */
	/* The first build takes the articles a gen build of the project
	 * left, instead of parsing them all again. */
	so.build.site.seed_cache = true;
	/* The articles stay in memory from one build to the next. */
	memory = site_memory_new();
	so.build.site.memory = memory;
	words = search_memory_new();
	so.build.search_memory = words;
	links = links_memory_new();
	so.build.links_memory = links;
	paths = output_memory_new();
	so.build.output_memory = paths;
	check_memory checks;
	memset(&checks, 0, sizeof checks);
	so.build.check_memory = &checks;
	so.build.caches = &caches;
	so.build.write = true;
	so.build.exiting = false;
	/* The print page is sent by answer_file, which puts it together. */
	so.build.print_parts = true;
	p.dir = dir;

	/* Before any thread starts, so that all of them leave SIGINT and
	 * SIGTERM to the signal fd, read by this thread between builds. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &stop, SFD_CLOEXEC);
	p.sigfd = sigfd;
	w = project_watch_new(root, listing);
	if (sigfd < 0 || !w || pipe(p.stop_pipe) < 0) {
		err_set(&err, GEN_EIO, "", 0, 0, "cannot watch the project: %s", strerror(errno));
		goto fail;
	}

	if (httpd_open(&p.http, &err) < 0) {
		status = 1;
		goto fail;
	}
	const char *bind_to = opt->bind ? opt->bind : "127.0.0.1";
	int port = opt->port >= 0 ? opt->port : DEFAULT_PORT;
	sock = listen_on(bind_to, &port, &family, &err);
	if (sock < 0 && opt->port < 0 && err.code == GEN_EIO) {
		fprintf(stderr, "gen serve: port %d is taken; using another\n", DEFAULT_PORT);
		err_clear(&err);
		port = 0;
		sock = listen_on(bind_to, &port, &family, &err);
	}
	if (sock < 0) {
		status = err.code == GEN_EUSAGE ? 2 : 1;
		goto fail;
	}

	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	daemon = p.http.start_daemon(flags, (uint16_t)port, NULL, NULL, answer, &p,
				     MHD_OPTION_LISTEN_SOCKET, sock,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(WAIT_SECONDS * 4),
				     MHD_OPTION_END);
	if (!daemon) {
		err_set(&err, GEN_EIO, "", 0, 0, "cannot start the HTTP server on %s port %d",
			bind_to, port);
		goto fail;
	}
	sock = -1; /* the daemon's now */
	if (pthread_create(&signals, NULL, signal_run, &p) != 0) {
		err_set(&err, GEN_EIO, "", 0, 0, "cannot start a thread: %s", strerror(errno));
		goto fail;
	}
	signals_started = true;
	/* The address first: a large handbook's first build takes a while,
	 * and a page opened meanwhile says so and reloads when it is done. */
	fprintf(stderr, "gen serve: http://%s%s%s:%d/ (work tree%s; built into %s)\n"
			"gen serve: rebuilds when a file changes; Ctrl-C stops\n",
		family == AF_INET6 ? "[" : "", bind_to, family == AF_INET6 ? "]" : "", port,
		opt->build.site.drafts ? ", drafts included" : "", dir);

	/* Watch first: an edit made during the first build is not lost. */
	project_watch_all(w);
	bool trusted = false;
	build_once(&p, &so, w, listing, &rep, &trusted);

	for (;;) {
		if (atomic_load(&p.stops))
			break;
		int fd = project_watch_fd(w);
		int why = wait_for(p.stop_pipe[0], fd, -1);
		if (why == 1)
			break;
		if (!project_watch_read(w))
			continue;
		/* Let the save, or the burst, settle. */
		int more = 0;
		while ((why = wait_for(p.stop_pipe[0], fd, more < 2 ? SAVE_SETTLE_MS : SETTLE_MS)) == 2) {
			project_watch_read(w);
			more++;
		}
		if (why == 1)
			break;
		size_t nchanged;
		bool new_folders;
		char *changed = project_watch_take_changed(w, &nchanged, &new_folders);
		fprintf(stderr, "gen serve: %s%s changed\n", changed ? changed : "a file",
			nchanged > 1 ? " and more" : "");
		free(changed);
		/* A new folder is watched before the build reads it, so an
		 * article saved into it meanwhile starts the next build. */
		if (new_folders)
			project_watch_all(w);
		build_once(&p, &so, w, listing, &rep, &trusted);
	}
	fprintf(stderr, "gen serve: stopped\n");
	status = 0;
	goto out;
fail:
	err_print(&err, stderr);
out:
	pthread_mutex_lock(&p.lock);
	p.stopping = true;
	pthread_cond_broadcast(&p.built);
	pthread_mutex_unlock(&p.lock);
	if (daemon)
		p.http.stop_daemon(daemon);
	if (signals_started) {
		/* It waits in read(), where it can be cancelled. */
		pthread_cancel(signals);
		pthread_join(signals, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (p.stop_pipe[i] >= 0)
			close(p.stop_pipe[i]);
	if (sock >= 0)
		close(sock);
	if (sigfd >= 0)
		close(sigfd);
	project_watch_free(w);
	source_listing_free(listing);
	build_report_release(&rep);
	build_caches_release(&caches);
	site_memory_free(memory);
	search_memory_free(words);
	links_memory_free(links);
	output_memory_free(paths);
	free(p.problems);
	pthread_cond_destroy(&p.built);
	pthread_mutex_destroy(&p.lock);
	free(root);
	free(dir);
	source_unhold();
	return status;
}
