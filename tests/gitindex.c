/* Unit tests for gitindex_look_at: which files of a work tree may differ
 * from git's index, read from the index file, on fixture repositories
 * made with git. Each case also checks the notice's count
 * (source_count_changes without a kept status, which asks libgit2 only
 * about the paths the look names) against git's own status. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitindex.h"
#include "source.h"
#include "tap.h"
#include "shell.h"

#define COMMIT "git -c user.name=T -c user.email=t@example.org commit -q"

/* The first line a command run in tmp prints, without its newline. */
static void first_line(char *out, size_t size, const char *cmd)
{
	char full[1024];
	snprintf(full, sizeof full, "cd '%s' && %s 2>/dev/null", tmp, cmd);
	out[0] = '\0';
	FILE *f = popen(full, "r");
	if (!f)
		return;
	if (fgets(out, (int)size, f))
		out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

/* HEAD's tree at p/content, as 20 bytes; false when it has none. */
static bool content_tree(unsigned char id[20])
{
	char hex[64];
	first_line(hex, sizeof hex, "git -C p rev-parse --verify -q HEAD:content");
	if (strlen(hex) != 40)
		return false;
	for (int i = 0; i < 20; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		id[i] = (unsigned char)v;
	}
	return true;
}

/* Looks at p's content folder: the return value, and the paths joined
 * with spaces into out. */
static int look(char *out, size_t size, size_t max)
{
	char workdir[512], index[512];
	snprintf(workdir, sizeof workdir, "%s/p", tmp);
	snprintf(index, sizeof index, "%s/p/.git/index", tmp);
	unsigned char id[20];
	bool have = content_tree(id);
	gitindex_look l = GITINDEX_LOOK_INIT;
	int rc = gitindex_look_at(workdir, index, "content", have ? id : NULL, max, &l);
	out[0] = '\0';
	for (size_t i = 0; i < l.npaths; i++) {
		size_t len = strlen(out);
		snprintf(out + len, size - len, "%s%s", i ? " " : "", l.paths[i]);
	}
	if (rc != 1 && l.npaths)
		diag("paths given with %d", rc);
	gitindex_look_release(&l);
	return rc;
}

/* The notice's count, against git status of the content folder. */
static void count_is(const char *name)
{
	char line[64];
	source *s = open_fixture();
	int got = s ? source_count_changes(s, "content", NULL) : -1;
	source_free(s);
	first_line(line, sizeof line,
		   "git -C p status --porcelain -uall --no-renames -- content | wc -l");
	ok(got == atoi(line), "%s: the notice counts %d file(s), as git status does (%s)", name,
	   got, line);
}

/* After git wrote files and the index in one clock tick: the index's
 * cache tree made whole (git update-index leaves it invalid) and the
 * index a tick younger than the files, as it is after a commit made a
 * moment after the files were saved. */
static void settle(void)
{
	sh("cd p && git write-tree && sleep 0.03 && touch .git/index");
}

/* One case: what the look returns and names, and the count. */
static void check(int want_rc, const char *want_paths, const char *name)
{
	char paths[4096];
	int rc = look(paths, sizeof paths, 256);
	ok(rc == want_rc && strcmp(paths, want_paths) == 0, "%s: %d, '%s' (got %d, '%s')", name,
	   want_rc, want_paths, rc, paths);
	count_is(name);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* An index file made here, of version 3, with one entry for
 * q/content/x.md with the stat st (flagged intent-to-add with kind 1,
 * in a conflict's second stage with kind 2), the
 * cache tree naming tree as the content folder's, the extension ext
 * (four letters and four bytes; NULL: none) and the hash at its end cut
 * off with cut. What the look at q returns with it when HEAD's tree
 * there is head: 2 when it names the file. */
static int crafted(const struct stat *at, const unsigned char tree[20],
		   const unsigned char head[20], int kind, const char *ext, bool cut)
{
	char index[512];
	snprintf(index, sizeof index, "%s/q/index", tmp);
	struct stat st = *at;
	unsigned char b[512];
	size_t n = 0;
	memset(b, 0, sizeof b);
	memcpy(b, "DIRC", 4);
	put32(b + 4, 3);
	put32(b + 8, 1);
	n = 12;
	unsigned char *e = b + n;
	uint32_t nums[10] = { (uint32_t)st.st_ctim.tv_sec, (uint32_t)st.st_ctim.tv_nsec,
			      (uint32_t)st.st_mtim.tv_sec, (uint32_t)st.st_mtim.tv_nsec,
			      (uint32_t)st.st_dev,         (uint32_t)st.st_ino,
			      0100644,                     (uint32_t)st.st_uid,
			      (uint32_t)st.st_gid,         (uint32_t)st.st_size };
	for (int i = 0; i < 10; i++)
		put32(e + 4 * i, nums[i]);
	const char *name = "content/x.md";
	size_t len = strlen(name);
	e[60] = (unsigned char)((len >> 8) | (kind == 1 ? 0x40 : kind == 2 ? 0x20 : 0));
	e[61] = (unsigned char)len;
	size_t fixed = 62;
	if (kind == 1) {
		e[62] = 0x20;
		fixed = 64;
	}
	memcpy(e + fixed, name, len);
	n += (fixed + len + 8) & ~(size_t)7;
	/* The cache tree: the root, then content below it. */
	unsigned char tr[128];
	size_t t = 0;
	memcpy(tr + t, "\0" "1 1\n", 5);
	t += 5;
	memset(tr + t, 0x22, 20);
	t += 20;
	memcpy(tr + t, "content\0" "1 0\n", 12);
	t += 12;
	memcpy(tr + t, tree, 20);
	t += 20;
	memcpy(b + n, "TREE", 4);
	put32(b + n + 4, (uint32_t)t);
	memcpy(b + n + 8, tr, t);
	n += 8 + t;
	if (ext) {
		memcpy(b + n, ext, 4);
		put32(b + n + 4, 4);
		memcpy(b + n + 8, "zzzz", 4);
		n += 12;
	}
	n += cut ? 7 : 20; /* the hash: not checked, only its room */
	FILE *f = fopen(index, "wb");
	if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0)
		return -1;
	char workdir[512];
	snprintf(workdir, sizeof workdir, "%s/q", tmp);
	gitindex_look l = GITINDEX_LOOK_INIT;
	int rc = gitindex_look_at(workdir, index, "content", head, 16, &l);
	if (rc == 1 && l.npaths)
		rc = 2; /* one to ask about: the file is not as written */
	gitindex_look_release(&l);
	return rc;
}

static void test_crafted(void)
{
	sh("mkdir -p q/content && echo x > q/content/x.md && sleep 0.03");
	char path[512];
	snprintf(path, sizeof path, "%s/q/content/x.md", tmp);
	struct stat st;
	if (lstat(path, &st) < 0)
		diag("no %s", path);
	unsigned char tree[20], other[20];
	memset(tree, 0x11, sizeof tree);
	memset(other, 0x33, sizeof other);
	is(crafted(&st, tree, tree, 0, NULL, false), 1, "an index made here: read, nothing to ask");
	is(crafted(&st, tree, tree, 0, "ABCD", false), 1, "an extension that may be skipped");
	is(crafted(&st, tree, tree, 0, "abcd", false), 0,
	   "an extension that changes what the entries mean: cannot tell");
	is(crafted(&st, tree, other, 0, NULL, false), 0, "a cache tree that is not HEAD's");
	is(crafted(&st, tree, tree, 1, NULL, false), 0, "a file meant to be added");
	is(crafted(&st, tree, tree, 2, NULL, false), 0, "a conflict");
	is(crafted(&st, tree, tree, 0, NULL, true), 0, "an index cut short");
	sh("echo y >> q/content/x.md");
	is(crafted(&st, tree, tree, 0, NULL, false), 2, "its file changed since");
}

int main(void)
{
	if (!tmp_make("gitindex"))
		return 1;
	sh("mkdir -p p/content/verhalen p/content/tips && cd p && git init -q && "
	   "echo 'title = \"T\"' > site.toml && echo a > content/verhalen/a.md && "
	   "echo b > content/verhalen/b.md && echo c > content/tips/c.md && "
	   "echo '*.swp' > content/.gitignore && ln -s a.md content/verhalen/link.md && "
	   "echo x > buiten.md && git add -A && " COMMIT " -m een");

	check(1, "", "just committed");

	sh("echo meer >> p/content/verhalen/a.md");
	check(1, "content/verhalen/a.md", "an edited file");
	sh("cd p && git checkout -q -- content/verhalen/a.md");
	settle();
	check(1, "", "put back");

	/* Same size, same mtime: only the ctime tells. */
	sh("cd p && printf 'B\\n' > content/verhalen/b.md && " COMMIT " -qam b");
	settle();
	sh("cd p && cp -p content/verhalen/b.md z && printf 'C\\n' > content/verhalen/b.md && "
	   "touch -r z content/verhalen/b.md && rm z");
	check(1, "content/verhalen/b.md", "an edit that kept the size and the mtime");
	sh("cd p && git checkout -q -- content/verhalen/b.md");
	settle();

	/* The index's mode changed, the file did not. */
	sh("cd p && git update-index --chmod=+x content/verhalen/b.md && " COMMIT " -qm x");
	settle();
	check(1, "content/verhalen/b.md", "executable in the index only");
	sh("cd p && git update-index --chmod=-x content/verhalen/b.md && " COMMIT " -qm nx");
	settle();
	check(1, "", "and back");

	/* Meant to be added: in the index, not in its tree. */
	sh("echo n > p/content/tips/later.md && cd p && git add -N content/tips/later.md");
	settle();
	check(0, "", "a file meant to be added");
	sh("cd p && git rm -q --cached content/tips/later.md && rm content/tips/later.md");
	settle();

	sh("rm p/content/tips/c.md");
	check(1, "content/tips/c.md", "a removed file");
	sh("cd p && git checkout -q -- content/tips/c.md");
	settle();

	sh("echo n > p/content/tips/nieuw.md && echo s > p/content/tips/c.md.swp");
	check(1, "content/tips/c.md.swp content/tips/nieuw.md",
	      "an untracked file, and an ignored one git has the last word on");
	sh("rm p/content/tips/nieuw.md p/content/tips/c.md.swp");

	sh("chmod +x p/content/tips/c.md");
	check(1, "content/tips/c.md", "a file made executable");
	/* git compares whole seconds: its refresh leaves the entry's ctime
	 * as it was, which this look (and libgit2) would then ask about. */
	sh("chmod -x p/content/tips/c.md && cd p && git rm -q --cached content/tips/c.md && "
	   "git add content/tips/c.md");
	settle();

	sh("mkdir p/content/map && echo m > p/content/map/m.md && echo n > p/content/map/n.md");
	check(0, "", "a new folder: git lists it");
	sh("rm -r p/content/map");

	sh("mkdir p/content/verhalen/.git");
	check(0, "", "a repository in a folder of the content");
	sh("rmdir p/content/verhalen/.git");

	sh("echo meer >> p/content/verhalen/a.md && cd p && git add content/verhalen/a.md");
	check(0, "", "a staged edit: the cache tree is not HEAD's");
	sh("cd p && " COMMIT " -m twee");
	settle();
	check(1, "", "committed");

	sh("cd p && git update-index --assume-unchanged content/verhalen/b.md");
	check(0, "", "git update-index: the cache tree is not whole");
	settle();
	sh("echo meer >> p/content/verhalen/b.md");
	check(1, "content/verhalen/b.md", "assume-unchanged and edited: git has the last word");
	sh("cd p && git update-index --no-assume-unchanged content/verhalen/b.md && "
	   "git checkout -q -- content/verhalen/b.md");
	settle();

	/* A file changed in the tick the index was written keeps its stat:
	 * every file no older than the index is asked about. */
	sh("touch -d '2001-02-03 04:05:06' p/.git/index");
	check(1,
	      "content/.gitignore content/tips/c.md content/verhalen/a.md content/verhalen/b.md "
	      "content/verhalen/link.md",
	      "an index older than its files");
	{
		/* git status, which count_is ran, wrote the index again. */
		sh("touch -d '2001-02-03 04:05:06' p/.git/index");
		char paths[4096];
		ok(look(paths, sizeof paths, 3) == 0 && !paths[0],
		   "more files to ask about than asked for: ask about every file");
	}
	settle();
	check(1, "", "the index written again");

	/* Version 4 spells each path by what it shares with the one before. */
	sh("cd p && for n in 1 2 3 4 5; do echo $n > content/verhalen/lang-verhaal-$n.md; done && "
	   "git add -A && " COMMIT " -m drie && git update-index --index-version 4");
	settle();
	check(1, "", "index version 4");
	sh("echo meer >> p/content/verhalen/lang-verhaal-4.md");
	check(1, "content/verhalen/lang-verhaal-4.md", "index version 4, an edited file");
	sh("cd p && git checkout -q -- content && git update-index --index-version 2");
	settle();
	check(1, "", "index version 2 again");

	sh("cd p && git update-index --split-index");
	settle();
	check(0, "", "a split index: its entries are in another file");
	sh("cd p && git update-index --no-split-index");
	settle();
	check(1, "", "one index again");

	/* A submodule: git looks inside it. */
	sh("cd p && git update-index --add --cacheinfo 160000,$(git rev-parse HEAD),content/sub && "
	   COMMIT " -m vier");
	check(0, "", "a submodule in the content");
	sh("cd p && git rm -q --cached content/sub && " COMMIT " -m vijf");
	settle();
	check(1, "", "the submodule gone");

	/* A conflict. */
	sh("cd p && git checkout -q -b zij && echo zij > content/tips/c.md && " COMMIT
	   " -qam zij && git checkout -q - && echo hier > content/tips/c.md && " COMMIT
	   " -qam hier && git merge -q zij; true");
	check(0, "", "a merge with a conflict");
	sh("cd p && git merge --abort");
	settle();
	check(1, "", "the merge undone");

	sh("cd p && git rm -rq --cached content && " COMMIT " -m zes");
	{
		char paths[4096];
		ok(look(paths, sizeof paths, 256) == 0, "HEAD without the content folder");
	}
	count_is("HEAD without the content folder");

	test_crafted();

	sh("rm -rf '%s'", tmp);
	return done_testing();
}
