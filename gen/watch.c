/* watch: what changed since the last build (see watch.h).
 *
 * One inotify watch per folder of what a build reads: the root (for
 * site.toml), the content, lua/ and themes/, each folder below them
 * too. Every name an event gives goes to the listing, so that the next
 * build lists only those paths again (source.h). And one per folder of
 * the output, where any event between two builds is someone else's. */
#define _DEFAULT_SOURCE /* d_type */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "xalloc.h"

typedef struct watched {
	int wd;
	char *rel;             /* the folder, relative to the root ("" for it) */
} watched;

struct project_watch {
	int fd;
	int root_wd;
	char *root;            /* the project's folder, owned */
	char *content_dir;     /* site.toml's, "content" until a build read it */
	char *changed;         /* the first file changed since the last build */
	size_t nchanged;
	bool changed_made;     /* changed was named when written: it may be
				  a temporary file (note_changed) */
	char *created;         /* the first file made, for when nothing else
				  is named */
	bool new_folders;      /* a folder appeared or moved in: watch it too */
	bool told_limit;       /* warned that inotify's limit was reached */
	bool blind;            /* a folder could not be watched */
	watched *dirs;         /* what each watch is on */
	size_t ndirs;
	/* Told every path an event names, so that the next build lists
	 * only those again, and the next git status looks only at those
	 * (source.h); either may be NULL. */
	source_listing *listing;
	source_status *status;
};

/* The watch lost track: neither the listing nor the status can learn
 * from it. */
static void tell_forget(project_watch *w)
{
	if (w->listing)
		source_listing_forget(w->listing);
	if (w->status)
		source_status_forget(w->status);
}

static void tell_dirty(project_watch *w, const char *path)
{
	if (w->listing)
		source_listing_dirty(w->listing, path);
	if (w->status)
		source_status_dirty(w->status, path);
}

/* Notes that wd watches the folder at path (absolute, below the root):
 * a folder renamed keeps its watch, which then gets the new path. */
static void watched_note(project_watch *w, int wd, const char *path)
{
	size_t rl = strlen(w->root);
	const char *rel = strncmp(path, w->root, rl) == 0 ? path + rl : path;
	while (*rel == '/')
		rel++;
	for (size_t i = 0; i < w->ndirs; i++) {
		if (w->dirs[i].wd != wd)
			continue;
		if (strcmp(w->dirs[i].rel, rel) != 0) {
			free(w->dirs[i].rel);
			w->dirs[i].rel = xstrdup(rel);
		}
		return;
	}
	w->dirs = xrealloc(w->dirs, (w->ndirs + 1) * sizeof *w->dirs);
	w->dirs[w->ndirs++] = (watched){ wd, xstrdup(rel) };
}

static const char *watched_folder(const project_watch *w, int wd)
{
	for (size_t i = 0; i < w->ndirs; i++)
		if (w->dirs[i].wd == wd)
			return w->dirs[i].rel;
	return NULL;
}

/* Temporary and hidden files of editors and of git: not the content. */
static bool name_is_noise(const char *name)
{
	size_t l = strlen(name);
	return !l || name[0] == '.' || name[l - 1] == '~' || strcmp(name, "4913") == 0 ||
	       (l > 4 && (strcmp(name + l - 4, ".swp") == 0 || strcmp(name + l - 4, ".swx") == 0 ||
			  strcmp(name + l - 4, ".tmp") == 0));
}

/* A build starts on the first six; the others only tell the listing
 * what to look at again (a file written and not yet closed, touched,
 * or a folder moved). */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | \
		    IN_DELETE_SELF | IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_ONLYDIR)

/* Watches dir and every folder below it. inotify_add_watch gives the
 * same watch for a folder already watched, so this runs after every
 * build and picks up folders made since. */
static void watch_tree(project_watch *w, buf *dir)
{
	int wd = inotify_add_watch(w->fd, dir->ptr, WATCH_MASK);
	if (wd < 0) {
		/* A folder that is not there is nothing to watch; too many
		 * folders is the system's limit, which the user can raise.
		 * Either way the listing cannot learn from a watch there. */
		if (errno != ENOENT && errno != ENOTDIR)
			w->blind = true;
		if (errno == ENOSPC && !w->told_limit) {
			fprintf(stderr, "gen: warning: cannot watch %s: the system's limit of "
					"folders to watch is reached (sysctl fs.inotify.max_user_watches); "
					"edits there are not seen\n", dir->ptr);
			w->told_limit = true;
		}
		return;
	}
	watched_note(w, wd, dir->ptr);
	DIR *d = opendir(dir->ptr);
	if (!d)
		return;
	size_t len = dir->len;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		buf_truncate(dir, len);
		buf_printf(dir, "/%s", e->d_name);
		struct stat st;
		if (e->d_type == DT_DIR ||
		    (e->d_type == DT_UNKNOWN && lstat(dir->ptr, &st) == 0 && S_ISDIR(st.st_mode)))
			watch_tree(w, dir);
	}
	buf_truncate(dir, len);
	closedir(d);
}

/* What a build reads from disk: site.toml in the root, the content,
 * the filters and the theme. */
void project_watch_all(project_watch *w)
{
	w->root_wd = inotify_add_watch(w->fd, w->root, WATCH_MASK);
	if (w->root_wd >= 0)
		watched_note(w, w->root_wd, w->root);
	else
		w->blind = true;
	const char *dirs[] = { w->content_dir, "lua", "themes" };
	for (size_t i = 0; i < 3; i++) {
		buf d = BUF_INIT;
		buf_printf(&d, "%s/%s", w->root, dirs[i]);
		watch_tree(w, &d);
		buf_release(&d);
	}
}

/* Whether an event in the root is about what a build reads. */
static bool root_name_matters(const project_watch *w, const char *name)
{
	size_t cl = strcspn(w->content_dir, "/");
	return strcmp(name, "site.toml") == 0 || strcmp(name, "lua") == 0 ||
	       strcmp(name, "themes") == 0 ||
	       (strlen(name) == cl && strncmp(name, w->content_dir, cl) == 0);
}

/* Calls fn for each event waiting on fd (non-blocking). */
static void each_event(int fd, void (*fn)(void *ctx, const struct inotify_event *ev),
		       void *ctx)
{
	char data[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(fd, data, sizeof data);
		if (n <= 0)
			break;
		for (char *at = data; at < data + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)at;
			at += sizeof *ev + ev->len;
			fn(ctx, ev);
		}
	}
}

struct project_read {
	project_watch *w;
	size_t matter;
};

/* Keeps the name the terminal gives for what changed: the file a save
 * left, not the temporary one it went through. sed -i and editors that
 * save safely write a new file and move it over the old: create and
 * close "sedS677NX", move it away, move "de-garage.md" in. A file made
 * is named when it is closed; one that moves away after it was named is
 * forgotten; one named again is not counted twice. */
static void note_changed(project_watch *w, uint32_t mask, const char *name)
{
	bool same = w->changed && strcmp(w->changed, name) == 0;
	if ((mask & IN_CREATE) && !(mask & IN_ISDIR)) {
		/* Named if nothing else is: a symbolic link is only made. */
		if (!w->created)
			w->created = xstrdup(name);
		return;
	}
	if ((mask & (IN_MOVED_FROM | IN_DELETE)) && same && w->changed_made) {
		free(w->changed);
		w->changed = NULL;
		w->nchanged--;
		return;
	}
	if (same)
		return;
	if (!w->changed) {
		w->changed = xstrdup(name);
		w->changed_made = (mask & IN_CLOSE_WRITE) != 0;
	}
	w->nchanged++;
}

/* One event for project_watch_read. */
static void project_event(void *ctx, const struct inotify_event *ev)
{
	struct project_read *rd = ctx;
	project_watch *w = rd->w;
	if (ev->mask & IN_Q_OVERFLOW) {
		tell_forget(w);
		rd->matter++;
		return;
	}
	if (ev->mask & IN_IGNORED)
		return;
	const char *name = ev->len ? ev->name : "";
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
		tell_forget(w);
	if (ev->mask & IN_DELETE_SELF) {
		rd->matter++;
		return;
	}
	/* Every name, noise too: the listing has those as well. */
	const char *folder = watched_folder(w, ev->wd);
	if (!folder) {
		tell_forget(w);
	} else if (*name) {
		buf path = BUF_INIT;
		buf_printf(&path, "%s%s%s", folder, *folder ? "/" : "", name);
		tell_dirty(w, path.ptr);
		buf_release(&path);
	}
	if (!(ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
			  IN_CREATE)))
		return;
	if (name_is_noise(name))
		return;
	if (ev->wd == w->root_wd && !root_name_matters(w, name))
		return;
	if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
		w->new_folders = true;
	rd->matter++;
	note_changed(w, ev->mask, name);
}

size_t project_watch_read(project_watch *w)
{
	struct project_read rd = { w, 0 };
	each_event(w->fd, project_event, &rd);
	return rd.matter;
}

project_watch *project_watch_new(const char *root, source_listing *listing)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return NULL;
	project_watch *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->root_wd = -1;
	w->root = xstrdup(root);
	w->content_dir = xstrdup("content");
	w->listing = listing;
	return w;
}

void project_watch_status(project_watch *w, source_status *status)
{
	w->status = status;
}

void project_watch_free(project_watch *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w->content_dir);
	for (size_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i].rel);
	free(w->dirs);
	free(w->changed);
	free(w->created);
	free(w->root);
	free(w);
}

int project_watch_fd(const project_watch *w) { return w->fd; }
bool project_watch_blind(const project_watch *w) { return w->blind; }

char *project_watch_take_changed(project_watch *w, size_t *n, bool *new_folders)
{
	char *c = w->changed;
	*n = w->nchanged;
	if (!c) {
		c = w->created;
		w->created = NULL;
		*n = c != NULL;
	}
	free(w->created);
	w->created = NULL;
	*new_folders = w->new_folders;
	w->changed = NULL;
	w->nchanged = 0;
	w->new_folders = false;
	return c;
}

void project_watch_content(project_watch *w, const char *content_dir)
{
	if (!content_dir || strcmp(content_dir, w->content_dir) == 0)
		return;
	free(w->content_dir);
	w->content_dir = xstrdup(content_dir);
	project_watch_all(w);
}

/* ---- the output ---- */

/* What a change by someone else looks like; reading the site does not
 * count (IN_ACCESS, IN_OPEN and IN_CLOSE_NOWRITE are left out). */
#define OUT_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | \
		  IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | \
		  IN_DONT_FOLLOW)

struct output_watch {
	int fd;         /* inotify */
	char *root;     /* the output folder the watches are on, or NULL */
	int root_wd;
	char **paths;   /* by watch descriptor: its folder, or NULL */
	size_t npaths;
	bool whole;     /* every folder of root is watched */
	bool foreign;   /* something happened there since the last build */
};

static void output_watch_drop(output_watch *w)
{
	for (size_t i = 0; i < w->npaths; i++) {
		if (w->paths[i])
			inotify_rm_watch(w->fd, (int)i);
		free(w->paths[i]);
	}
	free(w->paths);
	w->paths = NULL;
	w->npaths = 0;
	free(w->root);
	w->root = NULL;
	w->root_wd = -1;
	w->whole = false;
}

/* Watches the folder at path (path's bytes are kept up to its length)
 * and every folder below it; false when one could not be watched. */
static bool output_watch_tree(output_watch *w, buf *path)
{
	int wd = inotify_add_watch(w->fd, path->ptr, OUT_MASK);
	if (wd < 0)
		return errno == ENOENT || errno == ENOTDIR;
	if ((size_t)wd >= w->npaths) {
		size_t n = (size_t)wd * 2 + 64;
		w->paths = xrealloc(w->paths, n * sizeof *w->paths);
		memset(w->paths + w->npaths, 0, (n - w->npaths) * sizeof *w->paths);
		w->npaths = n;
	}
	free(w->paths[wd]);
	w->paths[wd] = xstrdup(path->ptr);
	int dfd = open(path->ptr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return true; /* gone again: nothing below it to watch */
	}
	bool ok = true;
	size_t len = path->len;
	struct dirent *e;
	while ((e = readdir(d)) && ok) {
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
			continue;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (e->d_type == DT_UNKNOWN &&
		    (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)))
			continue;
		buf_truncate(path, len);
		buf_printf(path, "/%s", e->d_name);
		ok = output_watch_tree(w, path);
	}
	buf_truncate(path, len);
	closedir(d);
	return ok;
}

void output_watch_all(output_watch *w, const char *dir)
{
	output_watch_drop(w);
	w->root = xstrdup(dir);
	buf p = BUF_INIT;
	buf_puts(&p, dir);
	w->whole = output_watch_tree(w, &p);
	buf_release(&p);
	w->root_wd = -1;
	for (size_t i = 0; i < w->npaths; i++)
		if (w->paths[i] && strcmp(w->paths[i], dir) == 0)
			w->root_wd = (int)i;
	/* No folder, or one too many for the system's limit
	 * (fs.inotify.max_user_watches): the builds look at every file. */
	if (w->root_wd < 0)
		w->whole = false;
}

struct output_read {
	output_watch *w;
	bool ours;
};

/* One event for output_watch_read. */
static void output_event(void *ctx, const struct inotify_event *ev)
{
	struct output_read *rd = ctx;
	output_watch *w = rd->w;
	if (!rd->ours)
		w->foreign = true;
	if (ev->mask & IN_Q_OVERFLOW) {
		w->whole = false;
		return;
	}
	bool known = ev->wd >= 0 && (size_t)ev->wd < w->npaths && w->paths[ev->wd];
	if (ev->mask & IN_IGNORED) {
		if (known) {
			free(w->paths[ev->wd]);
			w->paths[ev->wd] = NULL;
		}
		return;
	}
	if (ev->wd == w->root_wd && (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))) {
		w->whole = false;
		return;
	}
	/* A folder renamed by someone else keeps its watch under a name
	 * that is no longer true: start again. */
	if (!rd->ours && (ev->mask & IN_ISDIR) && (ev->mask & IN_MOVED_FROM))
		w->whole = false;
	if (known && ev->len && (ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
	    w->whole) {
		buf p = BUF_INIT;
		buf_printf(&p, "%s/%s", w->paths[ev->wd], ev->name);
		if (!output_watch_tree(w, &p))
			w->whole = false;
		buf_release(&p);
	}
}

void output_watch_read(output_watch *w, bool ours)
{
	struct output_read rd = { w, ours };
	each_event(w->fd, output_event, &rd);
}

output_watch *output_watch_new(void)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return NULL;
	output_watch *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->root_wd = -1;
	return w;
}

void output_watch_free(output_watch *w)
{
	if (!w)
		return;
	output_watch_drop(w);
	close(w->fd);
	free(w);
}

int output_watch_fd(const output_watch *w) { return w->fd; }

bool output_watch_covers(const output_watch *w, const char *dir)
{
	return w->whole && w->root && strcmp(w->root, dir) == 0;
}

bool output_watch_untouched(output_watch *w)
{
	bool untouched = w->whole && !w->foreign;
	w->foreign = false;
	return untouched;
}
