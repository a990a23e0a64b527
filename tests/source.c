/* Unit tests for source's listing of files on disk kept between builds
 * (source_listing, as gen serve uses it): a listing from it is the last
 * one with the paths named since looked at again, and only those; files,
 * folders, removals and hidden names; what makes it list everything
 * again (forget, the content folder named, another folder, a symbolic
 * link); and the file memo it writes for the next process. Also that
 * libgit2's set-up parses no certificates (source.c's own definitions of
 * mbed TLS's two functions are the ones the process calls). */
#define _GNU_SOURCE /* symlink, dladdr */
#include "fixture.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

static void put(const char *rel, const char *text)
{
	fixture_write(rel, text);
}

/* One listing: every path with the first characters of its id, and
 * how many files were read to make it. */
typedef struct listing {
	buf text;
	size_t read;
	int rc;
} listing;

static listing list(const source *src, const char *dir, const char *memo, source_listing *known)
{
	listing l = { BUF_INIT, 0, 0 };
	source_file *files = NULL;
	size_t n = 0;
	gen_err err;
	l.rc = source_list_ids(src, dir, memo, known, &files, &n, NULL, &err);
	for (size_t i = 0; l.rc == 0 && i < n; i++) {
		buf_printf(&l.text, "%s %.7s\n", files[i].path, files[i].id);
		l.read += files[i].data != NULL;
	}
	source_files_free(files, n);
	return l;
}

/* Whether a and b list the same files with the same ids. */
static bool same(const listing *a, const listing *b)
{
	return a->rc == 0 && b->rc == 0 && a->text.len == b->text.len &&
	       memcmp(a->text.ptr, b->text.ptr, a->text.len) == 0;
}

static bool has(const listing *l, const char *path)
{
	buf line = BUF_INIT;
	buf_printf(&line, "\n%s ", path);
	buf all = BUF_INIT;
	buf_putc(&all, '\n');
	buf_put(&all, l->text.ptr, l->text.len);
	bool found = strstr(all.ptr, line.ptr) != NULL;
	buf_release(&line);
	buf_release(&all);
	return found;
}

static void release(listing *l)
{
	buf_release(&l->text);
}

int main(void)
{
	fixture_begin();
	mkdir(fixture_path("cache"), 0777);
	put("content/verhalen/garage.md", "De garage.\n");
	put("content/verhalen/bakker.md", "De bakker.\n");
	put("content/tips/luisteren.md", "Luister.\n");
	put("content/logo.png", "PNG");
	source *src = NULL;
	gen_err err;
	if (source_open_plain(&src, fixture_dir, &err) < 0) {
		ok(0, "the project opens");
		return done_testing();
	}
	char memo[600];
	snprintf(memo, sizeof memo, "%s/cache/worktree-ids", fixture_dir);
	source_listing *k = source_listing_new();

	listing first = list(src, "content", memo, k);
	listing plain = list(src, "content", NULL, NULL);
	ok(same(&first, &plain), "a first listing with a memory lists what one without does");
	is(first.read, 4, "reading every file, as nothing is known yet");
	release(&plain);

	listing again = list(src, "content", memo, k);
	ok(same(&again, &first), "nothing named: the same listing");
	is(again.read, 0, "and no file read");
	release(&again);

	/* A change nobody names is not seen: that is what the watch is
	 * for, and what shows the memory is used at all. */
	put("content/verhalen/bakker.md", "De bakker, stilletjes herschreven.\n");
	listing unseen = list(src, "content", memo, k);
	ok(same(&unseen, &first), "a change no watch named is not looked for");
	source_listing_dirty(k, "content/verhalen/bakker.md");
	listing seen = list(src, "content", memo, k);
	plain = list(src, "content", NULL, NULL);
	ok(same(&seen, &plain), "named, the file is listed again, with its new id");
	is(seen.read, 1, "and only it is read");
	ok(!same(&seen, &first), "which differs from the old one");
	release(&unseen);
	release(&plain);
	release(&seen);

	/* A new file, a file gone, a new folder with files. */
	put("content/tips/vragen.md", "Vraag door.\n");
	source_listing_dirty(k, "content/tips/vragen.md");
	unlink(fixture_path("content/verhalen/garage.md"));
	source_listing_dirty(k, "content/verhalen/garage.md");
	mkdir(fixture_path("content/verhalen/2024"), 0777);
	put("content/verhalen/2024/nieuw.md", "Nieuw.\n");
	put("content/verhalen/2024/ook.md", "Ook nieuw.\n");
	source_listing_dirty(k, "content/verhalen/2024");
	/* A file in it named too: listed once, under its folder. */
	source_listing_dirty(k, "content/verhalen/2024/ook.md");
	listing changed = list(src, "content", memo, k);
	plain = list(src, "content", NULL, NULL);
	ok(same(&changed, &plain), "a file added, one removed, a new folder: as a full listing");
	ok(has(&changed, "content/tips/vragen.md"), "the new file is in it");
	ok(!has(&changed, "content/verhalen/garage.md"), "the removed one is not");
	ok(has(&changed, "content/verhalen/2024/ook.md") &&
	   has(&changed, "content/verhalen/2024/nieuw.md"), "the new folder's files are");
	is(changed.read, 3, "three files read: the new ones");
	release(&changed);
	release(&plain);

	/* A folder renamed: both of its names come from the watch. */
	rename(fixture_path("content/verhalen/2024"), fixture_path("content/verhalen/archief"));
	source_listing_dirty(k, "content/verhalen/2024");
	source_listing_dirty(k, "content/verhalen/archief");
	listing moved = list(src, "content", memo, k);
	plain = list(src, "content", NULL, NULL);
	ok(same(&moved, &plain), "a folder renamed: as a full listing");
	ok(has(&moved, "content/verhalen/archief/nieuw.md") &&
	   !has(&moved, "content/verhalen/2024/nieuw.md"), "its files under the new name only");
	release(&moved);
	release(&plain);

	/* Names the listing leaves out: hidden ones, and what is outside the
	 * content; a folder of that name elsewhere is not the content. */
	put("content/verhalen/.garage.md.swp", "swap");
	source_listing_dirty(k, "content/verhalen/.garage.md.swp");
	source_listing_dirty(k, "site.toml");
	source_listing_dirty(k, "contentje/x.md");
	put("content/verhalen/bakker.md~", "backup");
	source_listing_dirty(k, "content/verhalen/bakker.md~");
	listing hidden = list(src, "content", memo, k);
	plain = list(src, "content", NULL, NULL);
	ok(same(&hidden, &plain), "hidden files and other folders named: as a full listing");
	ok(!has(&hidden, "content/verhalen/.garage.md.swp"), "without the hidden file");
	ok(has(&hidden, "content/verhalen/bakker.md~"), "with an editor's backup file, as gen lists it");
	is(hidden.read, 1, "only the backup file read");
	release(&hidden);
	release(&plain);

	/* The content folder itself named (moved away and back, say):
	 * everything is looked at, with the file memo's help. */
	put("content/tips/luisteren.md", "Luister goed.\n");
	source_listing_dirty(k, "content");
	listing whole = list(src, "content", memo, k);
	plain = list(src, "content", NULL, NULL);
	ok(same(&whole, &plain), "the content folder named: a full listing");
	release(&whole);
	release(&plain);

	/* forget: a watch that lost track (its queue overflowed). */
	put("content/tips/vragen.md", "Vraag verder door.\n");
	source_listing_forget(k);
	listing forgot = list(src, "content", memo, k);
	plain = list(src, "content", NULL, NULL);
	ok(same(&forgot, &plain), "after forget: a full listing, with what no watch named");
	release(&forgot);
	release(&plain);

	/* Another folder than the last listing's is listed in full. */
	listing tips = list(src, "content/tips", memo, k);
	plain = list(src, "content/tips", NULL, NULL);
	ok(same(&tips, &plain), "another folder: a full listing of it");
	release(&tips);
	release(&plain);
	listing back = list(src, "content", memo, k);
	release(&back);

	/* A symbolic link: what it points to is not watched, so every
	 * listing looks at everything. */
	mkdir(fixture_path("elders"), 0777);
	put("elders/extra.md", "Van elders.\n");
	int linked = symlink(fixture_path("elders"), fixture_path("content/elders"));
	source_listing_dirty(k, "content/elders");
	listing withlink = list(src, "content", memo, k);
	put("elders/extra.md", "Van elders, anders.\n");
	listing after = list(src, "content", memo, k);
	plain = list(src, "content", NULL, NULL);
	ok(linked == 0 && has(&withlink, "content/elders/extra.md"),
	   "a linked folder's files are listed");
	ok(same(&after, &plain), "a change behind a link, named by no watch, is seen");
	release(&withlink);
	release(&after);
	release(&plain);
	unlink(fixture_path("content/elders"));
	source_listing_forget(k);

	/* The file memo it writes serves a process that starts afresh. */
	listing last = list(src, "content", memo, k);
	put("content/verhalen/bakker.md", "De bakker, weer anders.\n");
	source_listing_dirty(k, "content/verhalen/bakker.md");
	release(&last);
	last = list(src, "content", memo, k);
	listing fresh = list(src, "content", memo, NULL);
	ok(same(&fresh, &last), "a new process with the file memo lists the same");
	release(&last);
	release(&fresh);

	release(&first);
	source_listing_free(k);
	source_free(src);

	/* Where the process finds mbed TLS's certificate parsers: in this
	 * executable (source.c's), not in the library. NULL when libgit2
	 * here uses no mbed TLS, which has nothing to skip. */
	const char *const parsers[] = { "mbedtls_x509_crt_parse_file",
					"mbedtls_x509_crt_parse_path" };
	for (size_t i = 0; i < 2; i++) {
		void *fn = dlsym(RTLD_DEFAULT, parsers[i]);
		Dl_info where;
		if (!fn) {
			ok(1, "# SKIP %s: libgit2 uses no mbed TLS here", parsers[i]);
			continue;
		}
		bool own = dladdr(fn, &where) && where.dli_fname &&
			   !strstr(where.dli_fname, "mbed");
		ok(own, "%s is source.c's, which parses nothing (found in %s)", parsers[i],
		   where.dli_fname ? where.dli_fname : "?");
	}
	fixture_end();
	return done_testing();
}
