/* Unit tests for history: fixture repositories made with git in a
 * temporary directory, with fixed authors and dates. Checks created,
 * modified, revisions and contributors per page, renames (plain and with
 * edits), first-parent merges, the cache (a rebuild walks only the new
 * commit; a corrupt file is ignored), a shallow clone, a bare repository,
 * a project in a subfolder, and history_compare. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "history.h"
#include "tap.h"
#include "shell.h"

static void write_file(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	sh("mkdir -p '%s'", path);
	*slash = '/';
	FILE *fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
}

static void commit(const char *repo, const char *author, const char *date, const char *msg)
{
	sh("cd %s && git add -A && GIT_AUTHOR_NAME='%s' GIT_AUTHOR_EMAIL='%s@example.org' "
	   "GIT_AUTHOR_DATE='%s' GIT_COMMITTER_DATE='%s' git commit -q -m '%s'",
	   repo, author, author, date, date, msg);
}

/* The output of a shell command in the fixture, first line, trimmed. */
static void capture(char *out, size_t size, const char *cmd)
{
	char full[2048];
	snprintf(full, sizeof full, "cd '%s' && %s", tmp, cmd);
	FILE *p = popen(full, "r");
	out[0] = '\0';
	if (p) {
		if (!fgets(out, (int)size, p))
			out[0] = '\0';
		pclose(p);
	}
	out[strcspn(out, "\n")] = '\0';
}

static history *load(const char *repo, const char *root, const char *rev,
		     const char *cache, diag_list *dl)
{
	char path[512], id[64], cmd[600];
	snprintf(path, sizeof path, "%s/%s", tmp, repo);
	snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse '%s'", path, rev);
	capture(id, sizeof id, cmd);
	char rootpath[512], cachepath[512];
	if (root)
		snprintf(rootpath, sizeof rootpath, "%s/%s", tmp, root);
	if (cache)
		snprintf(cachepath, sizeof cachepath, "%s/%s", tmp, cache);
	history_options o = { root ? NULL : path, root ? rootpath : NULL, id, "content",
			      cache ? cachepath : NULL, 0, 0 };
	history *h = NULL;
	gen_err e;
	err_clear(&e);
	if (history_load(&h, &o, dl, &e) < 0)
		diag("history_load: %s", e.msg);
	return h;
}

static const char *long_text(int variant)
{
	static char text[3][2048];
	char *t = text[variant];
	snprintf(t, sizeof text[0],
		 "+++\ntitle = \"Lang verhaal\"\n+++\n"
		 "De klant kwam binnen en vroeg naar de monteur. Die was er niet.\n"
		 "De baliemedewerker zei dat hij er ook niets aan kon doen.\n"
		 "Toen werd het stil in de garage, en de klant keek om zich heen.\n"
		 "Er hing een bord met de openingstijden, maar niemand keek ernaar.\n"
		 "Een collega kwam erbij en stelde voor om een afspraak te maken.\n"
		 "De klant knikte, maar zijn gezicht zei iets anders.\n"
		 "Later bleek dat hij al drie keer eerder was teruggestuurd.\n"
		 "%s\n",
		 variant == 0 ? "Einde." : variant == 1 ? "Einde, met een nieuwe zin erbij."
							: "Een heel ander slot.");
	return t;
}

static const history_change *rev_at(const history_page *p, size_t i)
{
	return p && i < p->nrevs ? p->revs[i] : NULL;
}

static void test_walk(void)
{
	sh("git init -q -b main r");
	write_file("r/site.toml", "title = \"T\"\n");
	write_file("r/content/a.md", "+++\ntitle = \"A\"\n+++\nEen.\n");
	write_file("r/content/b.md", long_text(0));
	write_file("r/content/plaatje.png", "PNG");
	write_file("r/content/.verborgen.md", "+++\ntitle = \"x\"\n+++\n");
	commit("r", "Anna", "2015-03-12T10:00:00+01:00", "eerste versie");
	write_file("r/content/a.md", "+++\ntitle = \"A\"\n+++\nEen. Twee.\n");
	commit("r", "Bram", "2015-04-01T09:00:00+02:00", "a uitgebreid");
	sh("cd r && git mv content/b.md content/c.md");
	commit("r", "Cor", "2015-05-01T12:00:00-05:00", "b heet nu c");
	sh("cd r && mkdir -p content/sub && git mv content/c.md content/sub/d.md");
	write_file("r/content/sub/d.md", long_text(1));
	commit("r", "Anna", "2015-06-01T08:00:00+02:00", "verplaatst en bewerkt");
	write_file("r/site.toml", "title = \"T2\"\n");
	commit("r", "Dirk", "2015-06-15T08:00:00+02:00", "alleen configuratie");
	/* A side branch of two commits, merged without fast-forward. */
	sh("cd r && git checkout -q -b zij");
	write_file("r/content/a.md", "+++\ntitle = \"A\"\n+++\nEen. Twee. Drie.\n");
	commit("r", "Eva", "2015-07-01T10:00:00+02:00", "zij 1");
	write_file("r/content/e.md", "+++\ntitle = \"E\"\n+++\nNieuw.\n");
	commit("r", "Eva", "2015-07-02T10:00:00+02:00", "zij 2");
	sh("cd r && git checkout -q main && GIT_AUTHOR_NAME=Frank GIT_AUTHOR_EMAIL=f@example.org "
	   "GIT_AUTHOR_DATE='2015-08-01T10:00:00+02:00' GIT_COMMITTER_DATE='2015-08-01T10:00:00+02:00' "
	   "git merge -q --no-ff -m 'Merge zij' zij");

	diag_list dl = DIAG_LIST_INIT;
	history *h = load("r", "r", "HEAD", NULL, &dl);
	ok(h != NULL, "history of a repository with renames and a merge");
	if (!h)
		return;
	is(dl.n, 0, "no warnings");
	ok(!history_shallow(h), "not shallow");
	/* eerste versie, a uitgebreid, b->c, c->d, the merge; not the
	 * configuration commit, not the side branch's own commits. */
	is(history_commit_count(h), 5, "five commits changed content (first parent)");
	const history_commit *top = history_commit_at(h, 0);
	is_str(top ? top->message : NULL, "Merge zij", "newest first: the merge");
	is_str(top ? top->author : NULL, "Frank", "merge author");

	const history_page *a = history_find(h, "content/a.md");
	ok(a != NULL, "a.md followed");
	is(a ? a->revisions : 0, 3, "a.md: 3 revisions (merge counts once)");
	is_str(a && a->created ? a->created->commit->author : NULL, "Anna", "a.md created by Anna");
	char date[26];
	if (a && a->created) {
		history_format_date(date, a->created->commit->time, a->created->commit->offset);
		is_str(date, "2015-03-12T10:00:00+01:00", "a.md created date, author's offset");
	}
	is_str(a && a->modified ? a->modified->commit->message : NULL, "Merge zij",
	       "a.md last changed by the merge");
	is(a ? a->ncontributors : 0, 3, "a.md: three contributors");
	ok(a && a->ncontributors == 3 && strcmp(a->contributors[0], "Anna") == 0 &&
	   strcmp(a->contributors[1], "Bram") == 0 && strcmp(a->contributors[2], "Frank") == 0,
	   "contributors in the order of their first contribution");
	ok(a && a->complete, "a.md history complete");

	ok(history_find(h, "content/b.md") == NULL, "b.md is gone");
	ok(history_find(h, "content/c.md") == NULL, "c.md is gone");
	const history_page *d = history_find(h, "content/sub/d.md");
	ok(d != NULL, "sub/d.md followed");
	is(d ? d->nrevs : 0, 3, "d.md: created, renamed, renamed with edits");
	is_str(d && d->created ? d->created->path : NULL, "content/b.md",
	       "d.md's history starts at b.md");
	is(rev_at(d, 1) ? (int)rev_at(d, 1)->kind : -1, HISTORY_RENAMED, "plain rename followed");
	is_str(rev_at(d, 1) ? rev_at(d, 1)->old_path : NULL, "content/b.md", "rename source");
	is(rev_at(d, 2) ? (int)rev_at(d, 2)->kind : -1, HISTORY_RENAMED,
	   "rename with edits followed (similarity)");
	is_str(rev_at(d, 2) ? rev_at(d, 2)->old_path : NULL, "content/c.md",
	       "second rename source");
	is_str(rev_at(d, 2) ? rev_at(d, 2)->path : NULL, "content/sub/d.md", "path at revision");
	if (d && d->modified) {
		history_format_date(date, d->modified->commit->time, d->modified->commit->offset);
		is_str(date, "2015-06-01T08:00:00+02:00", "d.md last changed");
	}
	if (rev_at(d, 1)) {
		const history_change *c = rev_at(d, 1);
		history_format_date(date, c->commit->time, c->commit->offset);
		is_str(date, "2015-05-01T12:00:00-05:00", "a negative UTC offset");
	}
	const history_page *e = history_find(h, "content/e.md");
	is_str(e && e->created ? e->created->commit->message : NULL, "Merge zij",
	       "a file added on a merged branch is created by the merge");
	ok(history_find(h, "content/plaatje.png") == NULL, "non-Markdown files are not followed");
	ok(history_find(h, "content/.verborgen.md") == NULL, "dotfiles are not followed");

	/* The changelog view: the rename commit lists its change with the
	 * page as it is now. */
	const history_commit *rc = history_commit_at(h, 2);
	ok(rc && rc->nchanges == 1 && rc->changes[0].kind == HISTORY_RENAMED &&
	   rc->changes[0].page == d, "a commit's changes point at today's page");

	/* Blobs. */
	buf b = BUF_INIT;
	gen_err err;
	ok(d && d->created && history_read_blob(h, d->created->blob, &b, &err) == 0 &&
	   strcmp(b.ptr, long_text(0)) == 0, "the first version's blob");
	buf_release(&b);

	/* Against git log. */
	char want[128];
	capture(want, sizeof want, "git -C r log --first-parent --follow --format=%H -- content/sub/d.md | wc -l");
	is(atoi(want), d ? (long long)d->nrevs : -1, "d.md: as many revisions as git log --follow");
	capture(want, sizeof want, "git -C r log -1 --first-parent --format=%H -- content/a.md");
	is_str(a && a->modified ? a->modified->commit->id : NULL, want, "a.md: last commit as git log");
	history_free(h);
	diag_release(&dl);

	/* An older revision. */
	h = load("r", "r", "HEAD~3", NULL, NULL);
	ok(h && history_find(h, "content/c.md") && !history_find(h, "content/sub/d.md"),
	   "an older revision sees its own paths");
	history_free(h);
}

static void test_cache(void)
{
	diag_list dl = DIAG_LIST_INIT;
	sh("rm -rf cache");
	history *h = load("r", "r", "HEAD", "cache", &dl);
	size_t full = h ? history_walked(h) : 0;
	is(full, 6, "a first build walks every first-parent commit");
	history_free(h);
	h = load("r", "r", "HEAD", "cache", &dl);
	is(h ? history_walked(h) : 99, 0, "a rebuild of the same commit walks nothing");
	const history_page *a = h ? history_find(h, "content/a.md") : NULL;
	is(a ? a->revisions : 0, 3, "cached: same revisions");
	ok(a && a->ncontributors == 3 && strcmp(a->contributors[2], "Frank") == 0,
	   "cached: same contributors");
	history_free(h);

	write_file("r/content/a.md", "+++\ntitle = \"A\"\n+++\nEen. Twee. Drie. Vier.\n");
	commit("r", "Gert", "2015-09-01T10:00:00+02:00", "a weer");
	h = load("r", "r", "HEAD", "cache", &dl);
	is(h ? history_walked(h) : 99, 1, "after one new commit only that commit is walked");
	a = h ? history_find(h, "content/a.md") : NULL;
	is(a ? a->revisions : 0, 4, "the new revision is counted");
	is_str(a && a->modified ? a->modified->commit->author : NULL, "Gert", "and is the last");
	const history_page *d = h ? history_find(h, "content/sub/d.md") : NULL;
	is(d ? d->nrevs : 0, 3, "renames survive the cache");
	history_free(h);

	/* A corrupt cache file is ignored and rewritten. */
	sh("for f in cache/history-*.bin; do printf 'gen history\\n\\002' > $f; done");
	h = load("r", "r", "HEAD", "cache", &dl);
	ok(h && history_walked(h) >= 7, "a corrupt cache is ignored: full walk");
	a = h ? history_find(h, "content/a.md") : NULL;
	is(a ? a->revisions : 0, 4, "and the result is the same");
	history_free(h);
	h = load("r", "r", "HEAD", "cache", &dl);
	is(h ? history_walked(h) : 99, 0, "and the cache was rewritten");
	history_free(h);
	is(dl.n, 0, "the cache makes no noise");
	diag_release(&dl);
}

static void test_shallow_and_bare(void)
{
	char url[400];
	snprintf(url, sizeof url, "file://%s/r", tmp);
	sh("git clone -q --depth 2 '%s' ondiep", url);
	diag_list dl = DIAG_LIST_INIT;
	history *h = load("ondiep", "ondiep", "HEAD", NULL, &dl);
	ok(h != NULL, "a shallow clone loads");
	ok(h && history_shallow(h), "a shallow clone is recognised");
	is(dl.warnings, 1, "one warning");
	ok(dl.n && strstr(dl.items[0].msg, "shallow clone") != NULL, "the warning says so");
	const history_page *a = h ? history_find(h, "content/a.md") : NULL;
	ok(a && a->created == NULL && !a->complete, "creation unknown, not a wrong date");
	is_str(a && a->modified ? a->modified->commit->author : NULL, "Gert",
	       "the last change is still known");
	const history_page *e = h ? history_find(h, "content/e.md") : NULL;
	ok(e && !e->created && !e->modified && e->revisions == 0,
	   "a page unchanged since the boundary: nothing is claimed");
	history_free(h);
	diag_release(&dl);

	sh("git clone -q --bare '%s' kaal.git", url);
	h = load("kaal.git", NULL, "HEAD", NULL, NULL);
	ok(h != NULL, "a bare repository loads");
	a = h ? history_find(h, "content/a.md") : NULL;
	is(a ? a->revisions : 0, 4, "bare: same history");
	history_free(h);
}

static void test_subfolder(void)
{
	sh("git init -q -b main mono");
	write_file("mono/README", "code\n");
	write_file("mono/handboek/site.toml", "title = \"T\"\n");
	write_file("mono/handboek/content/x.md", "+++\ntitle = \"X\"\n+++\nX.\n");
	write_file("mono/content/niet.md", "+++\ntitle = \"Niet\"\n+++\n");
	commit("mono", "Hans", "2016-01-01T10:00:00+01:00", "alles");
	history *h = load("mono", "mono/handboek", "HEAD", NULL, NULL);
	ok(h && history_find(h, "content/x.md") != NULL,
	   "a project in a subfolder: paths relative to the project");
	ok(h && history_commit_count(h) == 1 && history_commit_at(h, 0)->nchanges == 1,
	   "content outside the project is not followed");
	history_free(h);
}

static void test_compare(void)
{
	char path[400];
	snprintf(path, sizeof path, "%s/r", tmp);
	sh("cd r && git checkout -q -b review");
	write_file("r/content/nieuw.md", "---\ntitle: Een heel nieuw artikel\nkind: story\n---\nMet een eigen tekst, die nergens op lijkt.\n");
	sh("cd r && git mv content/sub/d.md content/d.md && git rm -q content/e.md");
	write_file("r/content/a.md", "+++\ntitle = \"A\"\n+++\nAnders.\n");
	commit("r", "Ida", "2016-02-01T10:00:00+01:00", "review");
	history_options o = { path, NULL, NULL, "content", NULL, 0, 0 };
	history_delta *d = NULL;
	size_t n = 0;
	gen_err err;
	int rc = history_compare(&d, &n, &o, "main", "review", &err);
	ok(rc == 0, "history_compare main review");
	is(n, 4, "four changes");
	if (n == 4) {
		/* Sorted by path: a.md, d.md, e.md, nieuw.md. */
		ok(d[0].kind == HISTORY_MODIFIED && strcmp(d[0].path, "content/a.md") == 0 &&
		   d[0].old_blob[0] && d[0].new_blob[0], "modified");
		ok(d[1].kind == HISTORY_RENAMED && strcmp(d[1].old_path, "content/sub/d.md") == 0,
		   "renamed, with its old path");
		ok(d[2].kind == HISTORY_DELETED && !d[2].new_blob[0], "deleted");
		ok(d[3].kind == HISTORY_ADDED && !d[3].old_blob[0], "added");
	}
	history_deltas_free(d, n);
	rc = history_compare(&d, &n, &o, "main", "geen-tak", &err);
	ok(rc == GEN_EGIT && strstr(err.msg, "unknown revision 'geen-tak'"), "unknown revision");
}

/* The cap: a commit with more additions x deletions than the rename
 * limit squared gets exact renames only. */
static void test_rename_limit(void)
{
	sh("git init -q -b main cap");
	for (int i = 0; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof name, "cap/content/oud%d.md", i);
		write_file(name, long_text(0));
	}
	write_file("cap/content/zelfde.md", "+++\ntitle = \"Zelfde\"\n+++\nOngewijzigd.\n");
	commit("cap", "Anna", "2016-01-01T10:00:00+01:00", "drie");
	sh("cd cap && git rm -q content/oud0.md content/oud1.md content/oud2.md && "
	   "git mv content/zelfde.md content/hetzelfde.md");
	for (int i = 0; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof name, "cap/content/nieuw%d.md", i);
		write_file(name, long_text(1));
	}
	commit("cap", "Anna", "2016-01-02T10:00:00+01:00", "hernoemd en bewerkt");
	char path[400];
	snprintf(path, sizeof path, "%s/cap", tmp);
	for (int limit = 1; limit <= 100; limit += 99) {
		history_options o = { path, NULL, NULL, "content", NULL, limit, 0 };
		history_delta *d = NULL;
		size_t n = 0, renames = 0;
		gen_err err;
		if (history_compare(&d, &n, &o, "HEAD~1", "HEAD", &err) < 0)
			diag("%s", err.msg);
		for (size_t i = 0; i < n; i++)
			renames += d[i].kind == HISTORY_RENAMED;
		if (limit == 1)
			is(renames, 1, "over the rename limit: only the exact rename");
		else
			is(renames, 4, "under it: the similar files too");
		history_deltas_free(d, n);
	}
}

/* A longer history, made with git fast-import: 300 commits adding,
 * editing and renaming files in three folders. The walk split over
 * threads must give what one thread gives. */
/* How many changes of a and b differ (kind, path, blob, page and its
 * number of revisions); counts a's changes and renames. */
static size_t history_differences(const history *a, const history *b, size_t *pages,
				  size_t *renames)
{
	size_t differ = 0;
	*pages = *renames = 0;
	if (history_commit_count(a) != history_commit_count(b))
		return 1;
	for (size_t i = 0; i < history_commit_count(a); i++) {
		const history_commit *c0 = history_commit_at(a, i);
		const history_commit *c1 = history_commit_at(b, i);
		if (strcmp(c0->id, c1->id) || c0->nchanges != c1->nchanges) {
			differ++;
			continue;
		}
		for (size_t j = 0; j < c0->nchanges; j++) {
			const history_change *x = &c0->changes[j], *y = &c1->changes[j];
			*renames += x->kind == HISTORY_RENAMED;
			if (x->kind != y->kind || strcmp(x->path, y->path) ||
			    strcmp(x->blob, y->blob) || !x->page != !y->page ||
			    (x->page && (strcmp(x->page->path, y->page->path) ||
					 x->page->nrevs != y->page->nrevs)))
				differ++;
			(*pages)++;
		}
	}
	return differ;
}

static void test_threads(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/fi.txt", tmp);
	FILE *fp = fopen(path, "w");
	static char names[2000][64];
	size_t nnames = 0;
	int mark = 0, prev = 0;
	for (int c = 0; c < 300; c++) {
		int blobs[2];
		char paths[2][64];
		for (int k = 0; k < 2; k++) {
			char text[256];
			int id = (c * 7 + k * 13) % (c + 3);
			snprintf(paths[k], sizeof paths[k], "content/d%d/a%03d.md", id % 3, id);
			int len = snprintf(text, sizeof text,
					   "+++\ntitle = \"A%d\"\n+++\nVersie %d van artikel %d.\n",
					   id, c, id);
			fprintf(fp, "blob\nmark :%d\ndata %d\n%s\n", ++mark, len, text);
			blobs[k] = mark;
			bool known = false;
			for (size_t q = 0; q < nnames && !known; q++)
				known = strcmp(names[q], paths[k]) == 0;
			if (!known && nnames < 2000)
				snprintf(names[nnames++], sizeof names[0], "%s", paths[k]);
		}
		fprintf(fp, "commit refs/heads/main\nmark :%d\n", ++mark);
		fprintf(fp, "author Auteur %d <a%d@example.org> %d +0100\n", c % 5, c % 5,
			1420070400 + c * 3600);
		fprintf(fp, "committer T <t@example.org> %d +0100\n", 1420070400 + c * 3600);
		fprintf(fp, "data 10\ncommit %03d\n", c);
		if (prev)
			fprintf(fp, "from :%d\n", prev);
		prev = mark;
		for (int k = 0; k < 2; k++)
			fprintf(fp, "M 100644 :%d %s\n", blobs[k], paths[k]);
		/* Every tenth commit also renames an older file to another
		 * folder (not one this commit wrote). */
		if (c % 10 == 9) {
			size_t q = (size_t)c % nnames;
			while (strcmp(names[q], paths[0]) == 0 || strcmp(names[q], paths[1]) == 0)
				q = (q + 1) % nnames;
			char to[64];
			snprintf(to, sizeof to, "content/d%d/b%03d.md", (c + 1) % 3, c);
			fprintf(fp, "R %s %s\n", names[q], to);
			snprintf(names[q], sizeof names[0], "%s", to);
		}
		fprintf(fp, "\n");
	}
	fclose(fp);
	sh("git init -q -b main lang && cd lang && git fast-import --quiet < ../fi.txt && "
	   "git checkout -q main");
	char id[64], cmd[600];
	snprintf(cmd, sizeof cmd, "git -C '%s/lang' rev-parse HEAD", tmp);
	capture(id, sizeof id, cmd);
	snprintf(path, sizeof path, "%s/lang", tmp);
	/* One thread and four, reading trees from the pack fast-import
	 * wrote (pack.h); then one thread through libgit2 alone, which the
	 * walk uses when GIT_OBJECT_DIRECTORY is set. */
	history *h[3] = { NULL, NULL, NULL };
	char objects[600];
	snprintf(objects, sizeof objects, "%s/.git/objects", path);
	for (int k = 0; k < 3; k++) {
		history_options o = { path, NULL, id, "content", NULL, 0, k == 1 ? 4 : 1 };
		gen_err e;
		if (k == 2)
			setenv("GIT_OBJECT_DIRECTORY", objects, 1);
		if (history_load(&h[k], &o, NULL, &e) < 0)
			diag("%s", e.msg);
		unsetenv("GIT_OBJECT_DIRECTORY");
	}
	ok(h[0] && h[1] && h[2], "a 300-commit history on one thread and on four");
	if (h[0] && h[1] && h[2]) {
		is(history_walked(h[1]), 300, "every commit walked");
		is(history_commit_count(h[0]), history_commit_count(h[1]), "same commits");
		size_t pages = 0, renames = 0;
		is(history_differences(h[0], h[1], &pages, &renames), 0,
		   "the same changes, pages and revisions");
		ok(pages > 500 && renames > 20, "with many changes and renames");
		is(history_differences(h[0], h[2], &pages, &renames), 0,
		   "trees read from the pack give what libgit2's give");
	}
	for (int k = 0; k < 3; k++)
		history_free(h[k]);
}

static void test_dates(void)
{
	char d[26];
	history_format_date(d, 0, 0);
	is_str(d, "1970-01-01T00:00:00+00:00", "epoch");
	history_format_date(d, 1426150800, 60);
	is_str(d, "2015-03-12T10:00:00+01:00", "local time of the author");
	history_format_date(d, 1426150800, -330);
	is_str(d, "2015-03-12T03:30:00-05:30", "half-hour negative offset");
	history_format_date(d, 253402300800, 0);
	is_str(d, "10000-01-01T00:00:00+00:0", "a year past 9999 is cut at 25 bytes");
	history_format_date(d, 1426150800, 840);
	is_str(d, "2015-03-12T23:00:00+14:00", "the widest offset");
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "%s/gen-history-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_COMMITTER_NAME", "Test", 1);
	setenv("GIT_COMMITTER_EMAIL", "test@example.org", 1);
	setenv("TZ", "UTC", 1);
	unsetenv("GIT_DIR");
	test_dates();
	test_walk();
	test_cache();
	test_shallow_and_bare();
	test_subfolder();
	test_compare();
	test_rename_limit();
	test_threads();
	if (!getenv("KEEP")) sh("rm -rf '%s'", tmp);
	return done_testing();
}
