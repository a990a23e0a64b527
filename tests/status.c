/* Unit tests for source_count_changes with a source_status: git status
 * of the content that looks again only at what may have changed (the
 * paths a watch names, what the index and HEAD changed, what differed
 * last time), on a fixture repository made with git. Each count is
 * checked against a status that looks at every file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"
#include "tap.h"
#include "shell.h"

/* Counts with st, and checks the count against a status of every file
 * and how many paths st's status asked about (SIZE_MAX: all). */
static void check(source_status *st, int want, size_t looked, const char *name)
{
	source *s = open_fixture();
	int got = source_count_changes(s, "content", st);
	int all = source_count_changes(s, "content", NULL);
	source_free(s);
	ok(got == want && all == want, "%s: %d file(s) differ (%d, all files: %d)", name, want,
	   got, all);
	if (looked == SIZE_MAX)
		ok(source_status_looked(st) == SIZE_MAX, "%s: looked at every file", name);
	else
		ok(source_status_looked(st) == looked, "%s: asked about %zu path(s) (%zu)", name,
		   looked, source_status_looked(st));
}

#define COMMIT "git -c user.name=T -c user.email=t@example.org commit -q"

/* check, and how many of the paths libgit2 was asked about. */
static void check_asked(source_status *st, int want, size_t looked, size_t asked,
			const char *name)
{
	check(st, want, looked, name);
	ok(source_status_asked(st) == asked, "%s: libgit2 asked about %zu (%zu)", name, asked,
	   source_status_asked(st));
}

int main(void)
{
	if (!tmp_make("status"))
		return 1;
	sh("mkdir -p p/content/verhalen p/content/tips && cd p && git init -q && "
	   "echo 'title = \"T\"' > site.toml && echo a > content/verhalen/a.md && "
	   "echo b > content/verhalen/b.md && echo c > content/tips/c.md && "
	   "echo x > buiten.md && git add -A && " COMMIT " -m een");

	source_status *st = source_status_new();
	check(st, 0, SIZE_MAX, "the first status");
	check(st, 0, 0, "nothing changed");
	{
		/* content_dir = "content/" is the same folder. */
		source_status *slash = source_status_new();
		source *s = open_fixture();
		int first = source_count_changes(s, "content/", slash);
		sh("echo meer >> p/content/tips/c.md");
		source_status_dirty(slash, "content/tips/c.md");
		int again = source_count_changes(s, "content/", slash);
		source_free(s);
		ok(first == 0 && again == 1 && source_status_looked(slash) == 1,
		   "a folder written with a '/' at its end (%d, then %d)", first, again);
		source_status_free(slash);
		sh("cd p && git checkout -q -- content/tips/c.md");
	}

	sh("echo meer >> p/content/verhalen/a.md");
	source_status_dirty(st, "content/verhalen/a.md");
	check(st, 1, 1, "an edit the watch saw");

	sh("cd p && " COMMIT " -am twee");
	check(st, 0, 1, "committed (index and HEAD changed)");
	sh("cd p && git reset -q --soft HEAD~1");
	check(st, 1, 1, "HEAD moved back, nothing else changed");
	sh("cd p && " COMMIT " -m twee");
	check(st, 0, 1, "committed again");

	sh("echo nieuw > p/content/tips/d.md");
	source_status_dirty(st, "content/tips/d.md");
	source_status_dirty(st, "buiten.md"); /* outside content: not asked */
	check(st, 1, 1, "an untracked file");

	sh("cd p && git add content/tips/d.md");
	check(st, 1, 1, "staged");

	sh("cd p && " COMMIT " -m drie && git reset -q --soft HEAD~1");
	check(st, 1, 1, "a commit undone, its file still staged");

	sh("cd p && git reset -q --mixed HEAD");
	check(st, 1, 1, "unstaged again");

	sh("cd p && git rm -q --cached content/verhalen/b.md");
	check(st, 2, 2, "a file taken out of the index only (nothing on disk changed)");
	sh("cd p && git add content/verhalen/b.md");
	check(st, 1, 2, "and put back");

	sh("cd p && rm content/tips/d.md");
	source_status_dirty(st, "content/tips/d.md");
	check(st, 0, 1, "removed");

	sh("mkdir -p p/content/verhalen/map && echo m > p/content/verhalen/map/m.md && "
	   "echo n > p/content/verhalen/map/n.md");
	source_status_dirty(st, "content/verhalen/map");
	check(st, 2, 1, "a new folder with two files");

	sh("cd p && echo map > content/.gitignore");
	source_status_dirty(st, "content/.gitignore");
	check(st, 1, SIZE_MAX, "a .gitignore changed: every file again");

	sh("cd p && git add -A && " COMMIT " -m vier && echo b2 >> content/verhalen/b.md");
	source_status_forget(st);
	check(st, 1, SIZE_MAX, "the watch lost track: every file again");

	/* What the watch does not name is not looked at: that is its job. */
	sh("echo stil >> p/content/tips/c.md");
	source *s = open_fixture();
	int got = source_count_changes(s, "content", st);
	int all = source_count_changes(s, "content", NULL);
	source_free(s);
	ok(got == 1 && all == 2 && source_status_looked(st) == 1,
	   "an edit no watch named is not looked at (%d, all files: %d)", got, all);

	/* The status keeps its repository open between calls: another one
	 * put in its place is read anew, not through the old handle. */
	sh("rm -rf p && mkdir -p p/content/verhalen && cd p && git init -q && "
	   "echo 'title = \"T\"' > site.toml && echo z > content/verhalen/z.md && "
	   "git add -A && " COMMIT " -m ander && echo y > content/verhalen/y.md && "
	   "echo zz >> content/verhalen/z.md");
	check(st, 2, SIZE_MAX, "another repository in the same place");
	sh("cd p && git add -A && " COMMIT " -m verder");
	check(st, 0, 2, "and a commit there: the two files asked about again");

	/* A path a status asks about goes to libgit2 only when its stat is
	 * not the one the index keeps (or was taken in the index's own
	 * tick), or it is not in the index. */
	{
		source_status *ask = source_status_new();
		check(ask, 0, SIZE_MAX, "a status kept for the asking");
		sh("echo e >> p/content/verhalen/z.md && sleep 0.03 && cd p && " COMMIT " -qam e");
		check_asked(ask, 0, 1, 0, "an edit committed a tick later");
		sh("echo f >> p/content/verhalen/z.md");
		source_status_dirty(ask, "content/verhalen/z.md");
		check_asked(ask, 1, 1, 1, "an edit not committed");
		sh("cd p && git checkout -q -- content/verhalen/z.md && sleep 0.03 && "
		   "touch .git/index");
		check_asked(ask, 0, 1, 0, "the edit undone, the index a tick younger");
		sh("echo g > p/content/verhalen/nieuw.md && touch -d '2001-01-01' p/.git/index");
		source_status_dirty(ask, "content/verhalen/nieuw.md");
		source_status_dirty(ask, "content/verhalen/z.md");
		check_asked(ask, 1, 2, 2, "a new file, and a file no older than the index");
		sh("rm p/content/verhalen/nieuw.md && sleep 0.03 && touch p/.git/index");
		source_status_dirty(ask, "content/verhalen/nieuw.md");
		sh("echo i >> p/content/verhalen/y.md && cd p && git add content/verhalen/y.md");
		source_status_dirty(ask, "content/verhalen/y.md");
		check_asked(ask, 1, 2, 2, "a staged edit");
		source_status_free(ask);
	}

	source_status_free(st);
	sh("rm -rf '%s'", tmp);
	return done_testing();
}
