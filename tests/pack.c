/* Unit tests for pack: a fixture repository made with git, packed with
 * deep delta chains (bases by offset, then by id), each of its objects
 * read through a store and compared with what git cat-file gives; a tiny
 * budget (every object let go, the same bytes); loose objects and a
 * folder without packs ("not here"); a damaged pack, which may refuse an
 * object but never give wrong bytes; a damaged index, skipped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "pack.h"
#include "tap.h"
#include "shell.h"

/* Every object of the repository as git sees it. */
typedef struct truth {
	unsigned char id[20];
	int type;
	unsigned char *data;
	size_t len;
} truth;

static int type_of(const char *name)
{
	return strcmp(name, "commit") == 0 ? PACK_COMMIT : strcmp(name, "tree") == 0 ? PACK_TREE
		: strcmp(name, "blob") == 0 ? PACK_BLOB : strcmp(name, "tag") == 0 ? PACK_TAG : 0;
}

static void hex_to_id(const char *hex, unsigned char *id)
{
	for (int i = 0; i < 20; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		id[i] = (unsigned char)v;
	}
}

/* git cat-file --batch --batch-all-objects: "<id> <type> <size>\n",
 * the bytes, "\n", for each. */
static truth *read_truth(size_t *n)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cd '%s' && git cat-file --batch --batch-all-objects", tmp);
	FILE *f = popen(cmd, "r");
	truth *t = NULL;
	*n = 0;
	char line[256];
	while (f && fgets(line, sizeof line, f)) {
		char hex[64], type[16];
		size_t len;
		if (sscanf(line, "%63s %15s %zu", hex, type, &len) != 3 || strlen(hex) != 40)
			break;
		t = realloc(t, (*n + 1) * sizeof *t);
		truth *o = &t[(*n)++];
		hex_to_id(hex, o->id);
		o->type = type_of(type);
		o->len = len;
		o->data = malloc(len + 1);
		if (fread(o->data, 1, len, f) != len || fgetc(f) != '\n') {
			(*n)--;
			free(o->data);
			break;
		}
	}
	if (f)
		pclose(f);
	return t;
}

static void free_truth(truth *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].data);
	free(t);
}

/* Reads every object through ps; counts those found, those whose bytes
 * and type are git's, and those given wrong. */
static void read_all(pack_store *ps, const truth *t, size_t n, size_t *found, size_t *same,
		     size_t *trees, size_t *wrong)
{
	*found = *same = *trees = *wrong = 0;
	for (size_t i = 0; i < n; i++) {
		pack_object *o;
		if (pack_read(ps, t[i].id, &o) != 0)
			continue;
		(*found)++;
		size_t len;
		const unsigned char *d = pack_object_data(o, &len);
		bool ok_bytes = len == t[i].len && memcmp(d, t[i].data, len) == 0 &&
				pack_object_type(o) == t[i].type;
		*same += ok_bytes;
		*wrong += !ok_bytes;
		*trees += ok_bytes && t[i].type == PACK_TREE;
		pack_object_release(ps, o);
	}
}

/* A blob given inline to fast-import. */
static void put_file(FILE *fp, const char *path, const char *text)
{
	fprintf(fp, "M 100644 inline %s\ndata %zu\n%s\n", path, strlen(text), text);
}

/* A folder of 1,200 articles with long names (a tree of 84 KB, so that
 * deltas copy from offsets past 64 KB and in runs of 64 KB, the most one
 * copy takes), then 60 commits that each change one and add one. Made
 * with one git fast-import: a git process per commit that looked at all
 * 1,200 files took seconds. */
static void make_history(void)
{
	char path[600], text[200];
	snprintf(path, sizeof path, "%s/import.txt", tmp);
	FILE *fp = fopen(path, "w");
	if (!fp)
		return;
	for (int c = 0; c <= 60; c++) {
		fprintf(fp, "commit refs/heads/main\ncommitter T <t@x> %d +0100\ndata 8\ncommit%02d\n",
			1420070400 + c * 3600, c);
		if (c == 0) {
			for (int i = 1; i <= 1200; i++) {
				snprintf(path, sizeof path,
					 "content/verhalen/een-tamelijk-lange-naam-voor-verhaal-%d.md", i);
				snprintf(text, sizeof text, "Titel %d\n\nTekst over klant %d.\n", i, i);
				put_file(fp, path, text);
			}
			put_file(fp, "content/verhalen/leeg.md", "");
			continue;
		}
		snprintf(path, sizeof path,
			 "content/verhalen/een-tamelijk-lange-naam-voor-verhaal-%d.md", c * 5);
		snprintf(text, sizeof text, "Titel %d\n\nTekst over klant %d.\nRegel %d.\n", c * 5,
			 c * 5, c);
		put_file(fp, path, text);
		snprintf(path, sizeof path, "content/verhalen/nieuw-%d.md", c);
		put_file(fp, path, "x\n");
	}
	fclose(fp);
	sh("git init -q -b main . && git fast-import --quiet < import.txt && rm import.txt");
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/gen-pack-XXXXXX");
	if (!mkdtemp(tmp)) {
		ok(0, "a temporary directory");
		return done_testing();
	}
	make_history();
	char objects[512];
	snprintf(objects, sizeof objects, "%s/.git/objects", tmp);

	sh("git init -q -b main leeg");
	char empty[600];
	snprintf(empty, sizeof empty, "%s/leeg/.git/objects", tmp);
	ok(pack_store_open(empty, 1 << 20) == NULL, "a repository without packs: no store");
	pack_object *o = (pack_object *)1;
	unsigned char id[20] = { 0 };
	ok(pack_read(NULL, id, &o) == 1 && o == NULL, "no store: not here");

	sh("git repack -adfq --depth=50 --window=250");
	size_t n;
	truth *t = read_truth(&n);
	ok(n > 600, "the repository has its objects (%zu)", n);

	size_t found, same, trees, wrong;
	pack_store *ps = pack_store_open(objects, 64 << 20);
	ok(ps != NULL, "a store over the pack");
	read_all(ps, t, n, &found, &same, &trees, &wrong);
	is(found, n, "bases by offset: every object is found");
	is(same, n, "and is what git gives, type and bytes");
	ok(trees > 60, "trees among them (%zu)", trees);
	size_t deltas = pack_store_deltas(ps);
	/* The folder's tree has 61 versions: all but one are deltas. */
	ok(deltas >= 50, "the folder's versions were made from deltas (%zu)", deltas);
	/* Read again: everything is kept, so no delta is applied twice. */
	read_all(ps, t, n, &found, &same, &trees, &wrong);
	ok(same == n && pack_store_deltas(ps) == deltas,
	   "a second reading takes every object from the store");
	ok(pack_store_bytes(ps) > 0, "which holds them");
	pack_store_trim(ps);
	is(pack_store_bytes(ps), 0, "trim lets go of every object not handed out");
	/* One handed out stays through a trim. */
	ok(pack_read(ps, t[0].id, &o) == 0, "an object handed out");
	pack_store_trim(ps);
	size_t len;
	pack_object_data(o, &len);
	is(pack_store_bytes(ps), len, "stays through a trim");
	pack_object_release(ps, o);
	pack_store_free(ps);

	/* A budget of one byte: each object is let go once given back, and
	 * chains are applied again and again, to the same bytes. */
	ps = pack_store_open(objects, 1);
	read_all(ps, t, n, &found, &same, &trees, &wrong);
	ok(same == n && wrong == 0, "with a budget of one byte every object still reads right");
	is(pack_store_bytes(ps), 0, "and nothing is kept");
	/* Many times the number of deltas: chains are longer than one. */
	ok(pack_store_deltas(ps) > 5 * deltas, "chains were applied again (%zu deltas)",
	   pack_store_deltas(ps));
	pack_store_free(ps);

	/* Bases named by id (a pack as an old git or a fetch leaves it). */
	sh("git -c repack.useDeltaBaseOffset=false repack -adfq --depth=50 --window=250");
	ps = pack_store_open(objects, 64 << 20);
	read_all(ps, t, n, &found, &same, &trees, &wrong);
	ok(found == n && same == n, "bases by id: every object reads right");
	ok(pack_store_deltas(ps) >= 50, "made from deltas as well (%zu)", pack_store_deltas(ps));
	pack_store_free(ps);

	/* An object written after the repack is loose: not here, for
	 * libgit2. */
	char hex[64] = "";
	FILE *f = NULL;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cd '%s' && printf 'los\\n' | git hash-object -w --stdin", tmp);
	if ((f = popen(cmd, "r"))) {
		if (!fgets(hex, sizeof hex, f))
			hex[0] = '\0';
		pclose(f);
	}
	ps = pack_store_open(objects, 64 << 20);
	if (strlen(hex) >= 40)
		hex_to_id(hex, id);
	ok(strlen(hex) >= 40 && pack_read(ps, id, &o) == 1, "a loose object is not here");
	pack_store_free(ps);

	/* Damage: every 61st byte of the objects flipped. An object may be
	 * refused; none may come back with other bytes. */
	sh("p=$(ls .git/objects/pack/*.pack) && cp $p damaged.pack && "
	   "perl -e 'open my $f, \"+<\", $ARGV[0] or die; binmode $f; my $n = -s $f; "
	   "for (my $i = 40; $i < $n - 20; $i += 61) { seek $f, $i, 0; read $f, my $c, 1; "
	   "seek $f, $i, 0; print $f chr(ord($c) ^ 0x5a) } close $f' damaged.pack && "
	   "mkdir -p damaged/pack && mv damaged.pack damaged/pack/x.pack && "
	   "cp .git/objects/pack/*.idx damaged/pack/x.idx");
	char dmg[512];
	snprintf(dmg, sizeof dmg, "%s/damaged", tmp);
	ps = pack_store_open(dmg, 64 << 20);
	read_all(ps, t, n, &found, &same, &trees, &wrong);
	ok(ps && found < n, "a damaged pack refuses objects (%zu of %zu read)", found, n);
	is(wrong, 0, "and gives none wrong");
	pack_store_free(ps);

	/* A cut index is no index: the pack is skipped. */
	sh("truncate -s 500 damaged/pack/x.idx");
	ok(pack_store_open(dmg, 64 << 20) == NULL, "a cut index: the pack is skipped");

	free_truth(t, n);
	sh("cd / && rm -rf '%s'", tmp);
	return done_testing();
}
