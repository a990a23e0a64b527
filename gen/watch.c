/* watch: what changed in a project since the last build (see watch.h).
 *
 * One inotify watch per folder of what a build reads: the root (for
 * site.toml), the content, lua/ and themes/, each folder below them
 * too. Every name an event gives goes to the listing, so that the next
 * build lists only those paths again (source.h). */
#define _DEFAULT_SOURCE /* d_type */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
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
	bool new_folders;      /* a folder appeared or moved in: watch it too */
	bool told_limit;       /* warned that inotify's limit was reached */
	bool blind;            /* a folder could not be watched */
	watched *dirs;         /* what each watch is on */
	size_t ndirs;
	/* Told every path an event names, so that the next build lists
	 * only those again (source.h). */
	source_listing *listing;
};

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

/* Reads the events waiting on w->fd; returns how many matter. */
size_t project_watch_read(project_watch *w)
{
	char data[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t matter = 0;
	for (;;) {
		ssize_t n = read(w->fd, data, sizeof data);
		if (n <= 0)
			break;
		for (char *at = data; at < data + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)at;
			at += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				source_listing_forget(w->listing);
				matter++;
				continue;
			}
			if (ev->mask & IN_IGNORED)
				continue;
			const char *name = ev->len ? ev->name : "";
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
				source_listing_forget(w->listing);
			if (ev->mask & IN_DELETE_SELF) {
				matter++;
				continue;
			}
			/* Every name, noise too: the listing has those as well. */
			const char *folder = watched_folder(w, ev->wd);
			if (!folder) {
				source_listing_forget(w->listing);
			} else if (*name) {
				buf path = BUF_INIT;
				buf_printf(&path, "%s%s%s", folder, *folder ? "/" : "", name);
				source_listing_dirty(w->listing, path.ptr);
				buf_release(&path);
			}
			if (!(ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
					  IN_CREATE)))
				continue;
			if (name_is_noise(name))
				continue;
			if (ev->wd == w->root_wd && !root_name_matters(w, name))
				continue;
			if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
				w->new_folders = true;
			if (!w->changed)
				w->changed = xstrdup(name);
			w->nchanged++;
			matter++;
		}
	}
	return matter;
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
	free(w->root);
	free(w);
}

int project_watch_fd(const project_watch *w) { return w->fd; }
bool project_watch_blind(const project_watch *w) { return w->blind; }

char *project_watch_take_changed(project_watch *w, size_t *n, bool *new_folders)
{
	char *c = w->changed;
	*n = w->nchanged;
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
