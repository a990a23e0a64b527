/* Unit tests for buf, err and value: the types every module shares. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "tap.h"
#include "value.h"
#include "xalloc.h"

static void test_buf(void)
{
	buf b = BUF_INIT;
	ok(b.ptr != NULL && b.ptr[0] == '\0', "empty buf is an empty string");
	buf_puts(&b, "klant");
	buf_putc(&b, '-');
	buf_printf(&b, "%d", 42);
	is_str(b.ptr, "klant-42", "puts, putc and printf append");
	is(b.len, 8, "length is tracked");
	for (int i = 0; i < 1000; i++)
		buf_putc(&b, 'x');
	is(b.len, 1008, "grows past its first allocation");
	buf_truncate(&b, 5);
	is_str(b.ptr, "klant", "truncate");
	buf_clear(&b);
	buf_put_html(&b, "<a href=\"x\">&'", 14);
	is_str(b.ptr, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;", "html escaping");
	char *s = buf_detach(&b);
	is_str(s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;", "detach hands over the bytes");
	ok(b.len == 0 && b.ptr[0] == '\0', "buf is empty after detach");
	free(s);
	s = buf_detach(&b);
	is_str(s, "", "detaching an empty buf gives a heap empty string");
	free(s);
	buf_release(&b);
}

static void test_err(void)
{
	gen_err e;
	err_clear(&e);
	int rc = err_set(&e, GEN_EPARSE, "site.toml", 3, 7, "unknown key '%s'", "x");
	is(rc, GEN_EPARSE, "err_set returns the code");
	char line[256];
	err_format(&e, line, sizeof line);
	is_str(line, "site.toml:3:7: unknown key 'x'", "file:line:col: message");
	err_set(&e, GEN_EIO, "", 0, 0, "no such file");
	err_format(&e, line, sizeof line);
	is_str(line, "no such file", "no place when unknown");

	diag_list l = DIAG_LIST_INIT, m = DIAG_LIST_INIT;
	diag_add(&l, DIAG_ERROR, "b.md", 2, 1, "two");
	diag_add(&m, DIAG_WARNING, "a.md", 9, 1, "one");
	diag_merge(&l, &m);
	diag_sort(&l);
	is(l.n, 2, "merge moves the items");
	is_str(l.items[0].file, "a.md", "sort orders by file");
	is(l.errors, 1, "errors counted");
	is(l.warnings, 1, "warnings counted");
	diag_release(&l);
	diag_release(&m);

	/* Alike but for what follows the tail: one line, the others counted.
	 * Another message at the same place, or one place further, stays. */
	diag_list c = DIAG_LIST_INIT;
	const char *docs[] = { "c.md", "a.md", "b.md" };
	for (size_t i = 0; i < 3; i++)
		diag_add(&c, DIAG_ERROR, "f.lua", 4, 0, "boom (while filtering %s)", docs[i]);
	diag_add(&c, DIAG_ERROR, "f.lua", 4, 0, "plof (while filtering d.md)");
	diag_add(&c, DIAG_ERROR, "f.lua", 5, 0, "boom (while filtering e.md)");
	diag_add(&c, DIAG_WARNING, "f.lua", 4, 0, "boom (while filtering f.md)");
	diag_add(&c, DIAG_ERROR, "g.md", 1, 1, "x (while filtering");
	diag_add(&c, DIAG_ERROR, "g.md", 1, 1, "x (while filtering");
	diag_collapse(&c, " (while filtering ", "articles");
	is(c.n, 6, "three alike errors become one");
	is_str(c.items[0].msg, "boom (while filtering a.md and 2 other articles)",
	       "the first by the sort, and how many others");
	is(c.items[1].severity, DIAG_WARNING, "one of another severity stays");
	is_str(c.items[2].msg, "plof (while filtering d.md)", "so does another message");
	is_str(c.items[3].msg, "boom (while filtering e.md)", "and another line");
	is_str(c.items[5].msg, "x (while filtering", "without a ')' to say it with, all stay");
	is(c.errors, 5, "the errors counted once");
	is(c.warnings, 1, "the warnings too");
	diag_release(&c);
}

static void test_value(void)
{
	value *t = value_new_table();
	value_set_cstr(t, "title", value_new_cstring("De garage"));
	value_set_cstr(t, "weight", value_new_integer(3));
	value *themes = value_new_array();
	value_push(themes, value_new_cstring("snifo-gedrag"));
	value_set_cstr(t, "themes", themes);
	value_set_cstr(t, "weight", value_new_integer(4));
	is(value_count(t), 3, "replacing a key keeps one entry");
	is(value_integer(value_get(t, "weight")), 4, "replaced value is read back");
	is_str(value_key_at(t, 2, NULL), "themes", "insertion order kept");
	value *sub = value_new_table();
	value_set_cstr(sub, "x", value_new_bool(true));
	value_set_cstr(t, "nested", sub);
	ok(value_bool(value_get_path(t, "nested.x")), "dotted path lookup");
	value *c = value_copy(t);
	ok(value_remove(t, "title"), "remove an existing key");
	ok(!value_remove(t, "title"), "remove a missing key");
	is_str(value_string(value_get(c, "title"), NULL), "De garage", "copy is deep");
	value_free(c);
	value_free(t);
	value_free(NULL);

	value_datetime dt;
	ok(value_datetime_parse("2015-10-27", 10, &dt) == 0 && dt.has_date &&
		   !dt.has_time && dt.day == 27,
	   "local date parses");
	ok(value_datetime_parse("1979-05-27T07:32:00-07:00", 25, &dt) == 0 &&
		   dt.offset_min == -420,
	   "offset date-time parses");
	is(value_datetime_epoch(&dt), 296663520, "epoch honours the offset");
	ok(value_datetime_parse("2015-13-01", 10, &dt) < 0, "month 13 is rejected");
	ok(value_datetime_parse("gisteren", 8, &dt) < 0, "words are rejected");
}

/* The build cache's binary records: numbers, strings, and refusal of
 * what was cut short. */
static void test_records(void)
{
	buf b = BUF_INIT;
	static const uint64_t nums[] = { 0, 1, 127, 128, 300, 1u << 31, UINT64_MAX };
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
		buf_put_varint(&b, nums[i]);
	buf_put_svarint(&b, -1);
	buf_put_svarint(&b, INT64_MIN);
	buf_put_svarint(&b, 42);
	buf_put_blob(&b, "a\0b", 3);
	buf_put_cstr(&b, "tekst");
	buf_put_cstr(&b, NULL);
	buf_reader r;
	buf_reader_init(&r, b.ptr, b.len);
	int same = 1;
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
		same &= buf_get_varint(&r) == nums[i];
	ok(same, "varints read back, the largest too");
	ok(buf_get_svarint(&r) == -1 && buf_get_svarint(&r) == INT64_MIN &&
		   buf_get_svarint(&r) == 42, "signed numbers read back");
	size_t n;
	const char *blob = buf_get_blob(&r, &n);
	ok(blob && n == 3 && memcmp(blob, "a\0b", 3) == 0, "a blob with a NUL in it");
	char *str = buf_get_cstr(&r);
	is_str(str, "tekst", "a string");
	free(str);
	ok(buf_get_cstr(&r) == NULL && !r.bad, "NULL reads back as NULL");
	ok(r.p == r.end, "and everything was read");
	size_t refused = 0;
	for (size_t cut = 0; cut < b.len; cut++) {
		buf_reader_init(&r, b.ptr, cut);
		for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
			buf_get_varint(&r);
		buf_get_svarint(&r);
		buf_get_svarint(&r);
		buf_get_svarint(&r);
		buf_get_blob(&r, &n);
		free(buf_get_cstr(&r));
		free(buf_get_cstr(&r));
		refused += r.bad;
	}
	is(refused, b.len, "data cut short anywhere is noticed");
	{
		/* Ten bytes that all go on: too long for 64 bits. */
		static const unsigned char over[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
						      0xff, 0xff, 0xff, 0xff, 0xff, 0x05 };
		buf_reader_init(&r, over, sizeof over);
		uint64_t first = buf_get_varint(&r);
		const unsigned char *at = r.p;
		uint64_t next = buf_get_varint(&r);
		ok(first == 0 && r.bad && next == 0 && r.p == at,
		   "a number too long is bad, and after it a one-byte number reads 0 and "
		   "nothing (%llu, %llu)", (unsigned long long)first, (unsigned long long)next);
	}
	ok(buf_hash64("abc", 3, 0) != buf_hash64("abd", 3, 0) &&
		   buf_hash64("abc", 3, 0) != buf_hash64("abc", 3, 1) &&
		   buf_hash64("abc", 3, 7) == buf_hash64("abc", 3, 7),
	   "hashes differ by bytes and seed, and repeat");
	buf_release(&b);

	/* Long inputs go through four chains: a bit flipped in any of
	 * them, or in the bytes after the last 32, changes the hash, and so
	 * does the length around where the chains begin. */
	unsigned char big[1000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 37 + 11);
	uint64_t whole = buf_hash64(big, sizeof big, 5);
	int differ = 0, back = 0;
	for (size_t i = 0; i < sizeof big; i++) {
		big[i] ^= 0x10;
		differ += buf_hash64(big, sizeof big, 5) != whole;
		big[i] ^= 0x10;
		back += buf_hash64(big, sizeof big, 5) == whole;
	}
	is(differ, (int)sizeof big, "a long input: a bit changed at any place changes the hash");
	is(back, (int)sizeof big, "and changed back, the hash is as it was");
	uint64_t around[5];
	for (size_t k = 126; k <= 130; k++)
		around[k - 126] = buf_hash64(big, k, 5);
	int distinct = 1;
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < i; j++)
			distinct &= around[i] != around[j];
	ok(distinct, "lengths 126 to 130 hash apart");
	big[40] ^= 1;
	big[48] ^= 1; /* one bit in each of two chains */
	ok(buf_hash64(big, sizeof big, 5) != whole, "changes in two chains do not cancel");
}

/* A count is believed only as far as the bytes after it could hold. */
static void test_count(void)
{
	buf b = BUF_INIT;
	buf_put_varint(&b, 3);
	buf_put(&b, "abc", 3);
	buf_reader r;
	buf_reader_init(&r, b.ptr, b.len);
	ok(buf_get_count(&r) == 3 && !r.bad, "a count the data holds");
	buf_reader_init(&r, b.ptr, b.len - 1);
	ok(buf_get_count(&r) == 0 && r.bad, "one larger than the bytes left: 0, and bad");
	buf_clear(&b);
	buf_put_varint(&b, UINT64_MAX);
	buf_reader_init(&r, b.ptr, b.len);
	ok(buf_get_count(&r) == 0 && r.bad, "the largest count: 0, and bad");
	buf_release(&b);
}

/* Strings with their NUL read back where they are, without a copy. */
static void test_zstr(void)
{
	buf b = BUF_INIT;
	buf_put_zstr(&b, "klant");
	buf_put_zstr(&b, "");
	buf_put_zstr(&b, NULL);
	buf_reader r;
	buf_reader_init(&r, b.ptr, b.len);
	const char *s = buf_get_zstr(&r);
	ok(s && strcmp(s, "klant") == 0 && s > b.ptr && s < b.ptr + b.len,
	   "zstr: read back where it is in the data");
	s = buf_get_zstr(&r);
	ok(s && *s == '\0' && !r.bad, "zstr: the empty string is not NULL");
	ok(buf_get_zstr(&r) == NULL && !r.bad && r.p == r.end, "zstr: NULL reads back as NULL");
	size_t refused = 0;
	for (size_t cut = 1; cut < b.len; cut++) {
		buf_reader_init(&r, b.ptr, cut);
		buf_get_zstr(&r);
		buf_get_zstr(&r);
		buf_get_zstr(&r);
		refused += r.bad;
	}
	is(refused, b.len - 1, "zstr: data cut short anywhere is noticed");
	b.ptr[6] = 'x'; /* the NUL after "klant" */
	buf_reader_init(&r, b.ptr, b.len);
	ok(buf_get_zstr(&r) == NULL && r.bad, "zstr: a string without its NUL is refused");
	buf_release(&b);
}

/* A sealed file reads back whole, and not at all once damaged. */
static void test_sealed(void)
{
	char path[512];
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof path, "%s/gen-sealed-%ld", tmp && *tmp ? tmp : "/tmp",
		 (long)getpid());
	buf b = BUF_INIT;
	buf_map in;
	buf_puts(&b, "magic\n");
	buf_put_varint(&b, 300);
	buf_put_cstr(&b, "inhoud");
	ok(buf_write_sealed(&b, path, 7), "a sealed file is written");
	buf_reader r;
	ok(buf_map_sealed(&in, path, "magic\n", 7, &r) && in.ptr && in.len == b.len + 8,
	   "and mapped back, whole, with its checksum");
	uint64_t n = buf_get_varint(&r);
	char *s = buf_get_cstr(&r);
	ok(n == 300 && s && strcmp(s, "inhoud") == 0 && r.p == r.end && !r.bad,
	   "its data between the magic and the checksum");
	free(s);
	/* Replaced as a build replaces it: the mapping keeps what it read. */
	buf_clear(&b);
	buf_puts(&b, "magic\nander");
	ok(buf_write_sealed(&b, path, 7) && memcmp(in.ptr + 6, "\xac\x02", 2) == 0,
	   "a mapping holds the file it mapped when a new one takes its name");
	buf_unmap(&in);
	ok(!in.ptr && !in.len, "and lets it go");
	ok(!buf_map_sealed(&in, path, "magie\n", 7, &r) && !in.ptr, "not with other magic");
	ok(!buf_map_sealed(&in, path, "magic\n", 8, &r) && !in.ptr, "nor another seed");
	FILE *f = fopen(path, "r+b");
	if (f) {
		fseek(f, 8, SEEK_SET);
		fputc('X', f);
		fclose(f);
	}
	ok(!buf_map_sealed(&in, path, "magic\n", 7, &r) && !in.ptr, "nor one byte changed");
	f = fopen(path, "wb");
	if (f) {
		fputs("mag", f);
		fclose(f);
	}
	ok(!buf_map_sealed(&in, path, "magic\n", 7, &r) && !in.ptr, "nor cut short");
	f = fopen(path, "wb");
	if (f)
		fclose(f);
	ok(!buf_map_sealed(&in, path, "magic\n", 7, &r) && !in.ptr, "nor empty");
	remove(path);
	ok(!buf_map_sealed(&in, path, "magic\n", 7, &r) && !in.ptr, "nor missing");
	buf_unmap(&in);
	buf_clear(&b);
	buf_puts(&b, "x");
	ok(!buf_write_sealed(&b, "/nonexistent-dir/sealed", 7), "a file that cannot be written");
	buf_sealer sl;
	ok(!buf_seal_begin(&sl, "/nonexistent-dir/sealed", 7), "nor begun piece by piece");
	buf_seal_put(&sl, "x", 1);
	ok(!buf_seal_end(&sl), "and not ended");

	/* Piece by piece, over several of the checksum's blocks: the file
	 * buf_write_sealed writes of the whole, and read back the same. */
	buf_clear(&b);
	buf_puts(&b, "magic\n");
	for (unsigned i = 0; b.len < 200000; i++)
		buf_putc(&b, (char)('a' + (i * 7919u) % 26));
	char whole[600];
	snprintf(whole, sizeof whole, "%s.whole", path);
	ok(buf_write_sealed(&b, whole, 7), "a file of several blocks, written whole");
	bool begun = buf_seal_begin(&sl, path, 7);
	size_t sizes[] = { 3, 65533, 1, 70000, 131072, 9 };
	for (size_t at = 0, k = 0; at < b.len; k++) {
		size_t piece = sizes[k % 6] < b.len - at ? sizes[k % 6] : b.len - at;
		buf_seal_put(&sl, b.ptr + at, piece);
		at += piece;
	}
	ok(buf_seal_end(&sl) && begun, "and written in pieces of all sizes");
	buf_map one, two;
	buf_reader r2;
	ok(buf_map_sealed(&one, whole, "magic\n", 7, &r) && buf_map_sealed(&two, path, "magic\n", 7, &r2) &&
		   one.len == two.len && memcmp(one.ptr, two.ptr, one.len) == 0 &&
		   (size_t)(r2.end - r2.p) == b.len - 6 && memcmp(r2.p, b.ptr + 6, b.len - 6) == 0,
	   "the same file, and it reads back as written");
	buf_unmap(&one);
	buf_unmap(&two);
	f = fopen(path, "r+b");
	if (f) {
		fseek(f, 150000, SEEK_SET);
		fputc('#', f);
		fclose(f);
	}
	ok(!buf_map_sealed(&in, path, "magic\n", 7, &r), "a byte changed in its third block is found");
	remove(path);
	remove(whole);
	buf_release(&b);
}

/* buf_write_all: every byte, through a pipe that takes them in pieces
 * (a reader on a thread of its own), and -1 on a descriptor that is not
 * open. */
typedef struct pipe_end {
	int fds[2];
	buf got;
} pipe_end;

static void *drain(void *arg)
{
	pipe_end *p = arg;
	char chunk[4096];
	ssize_t n;
	while ((n = read(p->fds[0], chunk, sizeof chunk)) > 0)
		buf_put(&p->got, chunk, (size_t)n);
	return NULL;
}

static void test_write_all(void)
{
	pipe_end p = { { -1, -1 }, BUF_INIT };
	if (pipe(p.fds) < 0) {
		ok(0, "buf_write_all: a pipe");
		return;
	}
	size_t len = 1 << 20;
	char *data = xmalloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 7 + i / 251);
	pthread_t t;
	bool threaded = pthread_create(&t, NULL, drain, &p) == 0;
	is(buf_write_all(p.fds[1], data, len), 0, "buf_write_all: a megabyte into a pipe");
	close(p.fds[1]);
	if (threaded)
		pthread_join(t, NULL);
	ok(threaded && p.got.len == len && memcmp(p.got.ptr, data, len) == 0,
	   "buf_write_all: every byte arrives, in order");
	close(p.fds[0]);
	is(buf_write_all(p.fds[0], "x", 1), -1, "buf_write_all: -1 on a closed descriptor");
	free(data);
	buf_release(&p.got);
}

/* buf_read_file: the whole file, appended to what b holds; a file larger
 * than any one read, an empty one, a pipe (no length to size b by) and a
 * missing one. */
static void test_read_file(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/gen-buf-read.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		ok(0, "buf_read_file: a file to read");
		return;
	}
	size_t len = (size_t)3 << 20;
	char *data = xmalloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 131 + (i >> 12));
	ok(buf_write_all(fd, data, len) == 0, "buf_read_file: three megabytes written");
	close(fd);
	buf b = BUF_INIT;
	buf_puts(&b, "kop:");
	is(buf_read_file(&b, path), 0, "buf_read_file: read");
	ok(b.len == 4 + len && memcmp(b.ptr, "kop:", 4) == 0 && memcmp(b.ptr + 4, data, len) == 0 &&
		   b.ptr[b.len] == '\0',
	   "buf_read_file: every byte, after what b held, and a NUL");
	buf_clear(&b);
	ok(truncate(path, 0) == 0 && buf_read_file(&b, path) == 0 && b.len == 0 && b.ptr[0] == '\0',
	   "buf_read_file: an empty file reads as empty");
	int p[2];
	if (pipe(p) == 0) {
		ok(write(p[1], "uit een pijp", 12) == 12, "buf_read_file: a pipe with bytes in it");
		close(p[1]);
		char dev[64];
		snprintf(dev, sizeof dev, "/proc/self/fd/%d", p[0]);
		buf_clear(&b);
		ok(buf_read_file(&b, dev) == 0 && strcmp(b.ptr, "uit een pijp") == 0,
		   "buf_read_file: a pipe, which has no length, is read to its end");
		close(p[0]);
	}
	unlink(path);
	buf_clear(&b);
	errno = 0;
	ok(buf_read_file(&b, path) == -1 && errno == ENOENT, "buf_read_file: a missing file: -1, ENOENT");
	buf_release(&b);
	free(data);
}

int main(void)
{
	test_write_all();
	test_read_file();
	test_sealed();
	test_records();
	test_count();
	test_zstr();
	test_buf();
	test_err();
	test_value();
	{
		buf n = BUF_INIT;
		buf_put_uint(&n, 0);
		buf_putc(&n, ' ');
		buf_put_uint(&n, 7);
		buf_putc(&n, ' ');
		buf_put_uint(&n, 10);
		buf_putc(&n, ' ');
		buf_put_uint(&n, 1234567890);
		buf_putc(&n, ' ');
		buf_put_uint(&n, UINT64_MAX);
		is_str(n.ptr, "0 7 10 1234567890 18446744073709551615", "buf_put_uint writes decimals");
		buf_release(&n);
		char d[21];
		size_t k = buf_uint_digits(d, 90210);
		d[k] = '\0';
		ok(k == 5 && strcmp(d, "90210") == 0, "buf_uint_digits writes the digits, no NUL");
		k = buf_uint_digits(d, UINT64_MAX);
		d[k] = '\0';
		ok(k == 20 && strcmp(d, "18446744073709551615") == 0, "buf_uint_digits: 20 digits at most");
	}
	{
		/* buf_printf formats into the room there is, and again when
		 * the text is longer than that. */
		buf p = BUF_INIT;
		buf_printf(&p, "%s", "");
		ok(p.len == 0 && p.ptr[0] == '\0', "buf_printf of nothing leaves it empty");
		buf_puts(&p, "kort");
		char longer[301];
		memset(longer, 'x', 300);
		longer[300] = '\0';
		buf_printf(&p, "-%s-%d", longer, 7);
		ok(p.len == 4 + 1 + 300 + 2 && strncmp(p.ptr, "kort-xxx", 8) == 0 &&
			   strcmp(p.ptr + p.len - 3, "x-7") == 0 && p.ptr[p.len] == '\0',
		   "buf_printf past the buffer's room");
		buf_printf(&p, "%03d", 5);
		ok(strcmp(p.ptr + p.len - 6, "x-7005") == 0, "and within it");
		buf_release(&p);
	}
	return done_testing();
}
