/* watch: what changed since the last build, as inotify tells it, for a
 * process that builds again and again (gen serve, gen build --resident).
 *
 * project_watch watches what a build reads from disk: site.toml in the
 * project's root, the content folder, lua/ and themes/, with every folder
 * below. Each path an event names is told to a source_listing, so that
 * the next build lists only those paths again instead of every file. A
 * folder that cannot be watched (the system's limit) makes the watch
 * blind: the listing cannot be trusted then. The same paths can go to a
 * source_status, so that git status looks again only at those.
 *
 * output_watch watches what a build writes: every folder of the output,
 * so that a process trusts the output as its last build left it only
 * while nothing else changed it there. Reading the site does not count. */
#ifndef GEN_WATCH_H
#define GEN_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "source.h"

typedef struct project_watch project_watch;

/* A watch of the project at root (its folder on disk) that tells
 * listing (borrowed; may be NULL) what changed; NULL when inotify cannot
 * be had. Nothing is watched before project_watch_all. */
project_watch *project_watch_new(const char *root, source_listing *listing);
void project_watch_free(project_watch *w);
/* Tells status (borrowed; may be NULL) too what changed: the paths, and
 * when the watch lost track. */
void project_watch_status(project_watch *w, source_status *status);
/* Watches the root and every folder a build reads, those made since
 * the last call too (a folder already watched keeps its watch). */
void project_watch_all(project_watch *w);
/* site.toml's content_dir, once a build has read it: watched from then
 * on, when it is not the one watched. */
void project_watch_content(project_watch *w, const char *content_dir);
/* The descriptor to poll: readable when events wait. */
int project_watch_fd(const project_watch *w);
/* Reads the events waiting; returns how many are about what a build
 * reads (editors' temporary files and noise in the root do not count). */
size_t project_watch_read(project_watch *w);
/* A folder could not be watched: the listing does not know all. */
bool project_watch_blind(const project_watch *w);
/* The first file changed since the last call (caller frees; NULL when
 * none), with the number of changes and whether a folder appeared (then
 * project_watch_all should run before the next build). */
char *project_watch_take_changed(project_watch *w, size_t *n, bool *new_folders);

typedef struct output_watch output_watch;

/* NULL when inotify cannot be had. Nothing is watched before
 * output_watch_all. */
output_watch *output_watch_new(void);
void output_watch_free(output_watch *w);
/* Watches the output folder dir and every folder in it, anew. */
void output_watch_all(output_watch *w, const char *dir);
/* The descriptor to poll: readable when events wait. */
int output_watch_fd(const output_watch *w);
/* Reads the events waiting. ours: they come from the build that just
 * ended, whose new folders are then watched too; otherwise any event is
 * someone else's change. */
void output_watch_read(output_watch *w, bool ours);
/* Every folder of dir is watched (else output_watch_all is due). */
bool output_watch_covers(const output_watch *w, const char *dir);
/* Whether all is watched and nothing but this process changed the output
 * since the last call; starts the count again. */
bool output_watch_untouched(output_watch *w);

#endif
