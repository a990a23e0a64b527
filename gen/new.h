/* new: `gen new`, starting an article with its front matter filled in. */
#ifndef GEN_NEW_H
#define GEN_NEW_H

#include <stdint.h>

/* Creates content/verhalen/SLUG.md (story), content/tips/SLUG.md (tips) or
 * content/SLUG.md (page) in the project found from dir, with title, kind,
 * today's date (from now), the author from git's user.name and draft =
 * true. Never overwrites. Prints the new path on stdout, problems on
 * stderr. Returns the exit status: 0, or 1 on failure. */
int new_article(const char *dir, const char *kind, const char *title, int64_t now);

#endif
