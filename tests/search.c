/* Tests for search: tokenising (folding, stemming, stop words), compound
 * splitting, BM25 ordering, the shard files (layout, postings, facets,
 * snippets) and their determinism, and the build cache's records (read
 * back, they give the same files; malformed ones are refused). The index
 * files are read back the way the browser reads them: the JavaScript
 * literal unescaped, then JSON. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "json.h"
#include "search.h"
#include "stopwords.h"
#include "tap.h"
#include "xalloc.h"

typedef struct file {
	char *rel;
	char *data;
	size_t len;
} file;

typedef struct files {
	file *f;
	size_t n;
} files;

static pthread_mutex_t collect_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keeps every file emitted; called from several threads by
 * search_add_documents. */
static int collect(void *ctx, const char *rel, const char *data, size_t len, gen_err *err)
{
	(void)err;
	files *fs = ctx;
	pthread_mutex_lock(&collect_lock);
	fs->f = xrealloc(fs->f, (fs->n + 1) * sizeof *fs->f);
	fs->f[fs->n].rel = xstrdup(rel);
	fs->f[fs->n].data = xstrndup(data, len);
	fs->f[fs->n++].len = len;
	pthread_mutex_unlock(&collect_lock);
	return 0;
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const file *)a)->rel, ((const file *)b)->rel);
}

static void files_release(files *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->f[i].rel);
		free(fs->f[i].data);
	}
	free(fs->f);
	fs->f = NULL;
	fs->n = 0;
}

/* The files of fs sorted by path, each path on a line before its bytes,
 * in one string (the caller's); fs is emptied. */
static char *files_joined(files *fs)
{
	qsort(fs->f, fs->n, sizeof *fs->f, compare_files);
	buf all = BUF_INIT;
	for (size_t i = 0; i < fs->n; i++)
		buf_printf(&all, "%s\n%s", fs->f[i].rel, fs->f[i].data);
	files_release(fs);
	return buf_detach(&all);
}

static const file *find_file(const files *fs, const char *rel)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].rel, rel) == 0)
			return &fs->f[i];
	return NULL;
}

/* The value a data file registers: JSON.parse('...') undone. */
static value *file_value(const file *f)
{
	if (!f)
		return NULL;
	const char *a = strstr(f->data, "JSON.parse('");
	const char *b = f->data + f->len;
	if (!a || f->len < 5 || strcmp(b - 5, "'));\n") != 0)
		return NULL;
	a += 12;
	b -= 5;
	buf json = BUF_INIT;
	for (const char *p = a; p < b; p++) {
		if (*p == '\\')
			p++;
		buf_putc(&json, *p);
	}
	value *v = NULL;
	gen_err err;
	if (json_parse(&v, json.ptr, json.len, f->rel, &err) < 0)
		v = NULL;
	buf_release(&json);
	return v;
}

static const char *terms(search_index *ix, const char *text)
{
	static char out[512];
	buf b = BUF_INIT;
	search_terms(ix, text, strlen(text), &b);
	snprintf(out, sizeof out, "%s", b.ptr);
	buf_release(&b);
	return out;
}

static void add(search_index *ix, const char *url, const char *kind, const char *title,
		const char *body, const char *const *themes, size_t nthemes, files *fs)
{
	search_doc d = { url, title, kind, "2015-03-12", themes, nthemes };
	search_doc_begin(ix, &d);
	search_doc_text(ix, SEARCH_TITLE, title, strlen(title), "");
	search_doc_text(ix, SEARCH_BODY, body, strlen(body), "");
	gen_err err;
	search_doc_end(ix, fs ? collect : NULL, fs, &err);
}

/* Decodes a postings string like search.js does; returns the number of
 * documents and fills docs (ascending) up to max. */
static int digit(char c)
{
	const char *d = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
	const char *p = strchr(d, c);
	return p && c ? (int)(p - d) : -1;
}

static unsigned varint(const char **s)
{
	unsigned x = 0;
	for (;;) {
		int c = digit(*(*s)++);
		if (c < 0)
			return x;
		if (c >= 32) {
			x = x * 32 + (unsigned)(c - 32);
		} else {
			return x * 32 + (unsigned)c;
		}
	}
}

static size_t decode(const char *s, unsigned *docs, size_t max, size_t *exact)
{
	size_t n = 0;
	unsigned prev = 0;
	if (*s == '!')
		s++;
	while (*s && *s != '.') {
		prev += varint(&s);
		s++; /* score */
		if (n < max)
			docs[n] = prev;
		n++;
	}
	*exact = n;
	if (*s != '.')
		return n;
	s += 2;
	if (*s == '~') {
		s++;
		unsigned at = varint(&s);
		for (; *s; s++, at += 6)
			for (int b = 0; b < 6; b++)
				if (digit(*s) & (1 << b)) {
					if (n < max)
						docs[n] = at + (unsigned)b;
					n++;
				}
	} else {
		prev = 0;
		while (*s) {
			prev += varint(&s);
			if (n < max)
				docs[n] = prev;
			n++;
		}
	}
	return n;
}

/* The value of key in the term shards, and which shard holds it. */
static const value *lookup(value *const *shards, size_t nshards, const value *bounds,
			   const char *key, size_t *which)
{
	size_t at = 0;
	for (size_t i = 0; i < value_count(bounds); i++)
		if (strcmp(value_string(value_at(bounds, i), NULL), key) <= 0)
			at = i;
	if (which)
		*which = at;
	return at < nshards ? value_get(shards[at], key) : NULL;
}

static void test_stopwords(void)
{
	const char *langs[] = { "nl", "en" };
	for (size_t l = 0; l < 2; l++) {
		size_t n;
		const char *const *list = stopwords_list(langs[l], &n);
		int sorted = n > 50;
		for (size_t i = 1; i < n; i++)
			sorted = sorted && strcmp(list[i - 1], list[i]) < 0;
		ok(sorted, "%s stop words: a sorted list of %zu", langs[l], n);
	}
	ok(stopwords_contains("nl", "het", 3), "'het' is a Dutch stop word");
	ok(!stopwords_contains("nl", "klant", 5), "'klant' is not");
	ok(!stopwords_contains("nl", "nee", 3), "'nee' (nee zeggen) is not");
	ok(stopwords_contains("en", "the", 3), "'the' is an English stop word");
	ok(!stopwords_contains("fr", "le", 2), "no list for French");
}

static void test_tokenizer(void)
{
	search_index *ix = NULL;
	gen_err err;
	ok(search_new(&ix, "nl", &err) == 0, "Dutch index created");
	is_str(terms(ix, "Klachten"), "klacht", "'klachten' stems to 'klacht'");
	is_str(terms(ix, "klacht klagen"), "klacht klag", "verb and noun");
	is_str(terms(ix, "Ideeën IDEEEN ideeen"), "ideeen ideeen ideeen",
	       "case and diacritics folded: 'Ideeën' = 'ideeen'");
	is_str(terms(ix, "Wat zeg ik als ik een klant niet kan helpen?"), "zeg klant help",
	       "stop words dropped");
	is_str(terms(ix, "de tevredenheid van klanten"), "tevred klant", "inflections");
	is_str(terms(ix, "e-mail, klant-centraal"), "mail email klant central klantcentral",
	       "hyphenated words also joined");
	is_str(terms(ix, "‘Staat niet in mijn functieomschrijving’ — snifo!"),
	       "stat functieomschrijv snifo", "curly quotes and dashes split words");
	is_str(terms(ix, "ijs\xc2\xad" "salon caf\x65\xcc\x81"), "ijssalon caf",
	       "soft hyphen and combining accent stay inside the word");
	is_str(terms(ix, "a b 1 x2 2015"), "x2 2015", "one-character words dropped");
	is_str(terms(ix, "auto's"), "auto", "apostrophe splits, lone 's' dropped");
	char longw[64];
	memset(longw, 'a', 45);
	longw[45] = '\0';
	is_str(terms(ix, longw), "", "words of more than 40 characters dropped");
	search_free(ix);

	ok(search_new(&ix, "en", &err) == 0, "English index created");
	is_str(terms(ix, "The customers' complaints"), "custom complaint", "English stemming");
	search_free(ix);
	ok(search_new(&ix, "xx", &err) == 0, "unknown language: no stemming");
	is_str(terms(ix, "Klachten de"), "klachten de", "folded, nothing else");
	search_free(ix);
}

static void test_compounds(void)
{
	search_index *ix = NULL;
	gen_err err;
	search_new(&ix, "nl", &err);
	add(ix, "a/", "story", "Klant", "De klant en de klant. Een klant met tevredenheid.",
	    NULL, 0, NULL);
	add(ix, "b/", "story", "Meten", "Wij meten de klanttevredenheid elk jaar.", NULL, 0, NULL);
	add(ix, "c/", "story", "Regels", "Veiligheidsregels en veiligheid, en regels.", NULL, 0,
	    NULL);
	add(ix, "d/", "story", "Verstand", "Gebruik je verstand, verstand, verstand. Vers brood en "
	    "een tand.", NULL, 0, NULL);
	ok(search_write(ix, NULL, NULL, &err) == 0, "index written");
	buf b = BUF_INIT;
	search_split(ix, "klanttevredenheid", &b);
	is_str(b.ptr, "klant+tevredenheid", "'klanttevredenheid' split into known words");
	buf_clear(&b);
	search_split(ix, "veiligheidsregels", &b);
	is_str(b.ptr, "veiligheid+regels", "linking 's' between parts");
	buf_clear(&b);
	search_split(ix, "verstand", &b);
	is_str(b.ptr, "", "'verstand' not split: more common than 'vers' and 'tand'");
	buf_release(&b);

	size_t docs[8];
	size_t n = search_query(ix, "tevredenheid", docs, NULL, 8);
	is(n, 2, "'tevredenheid' finds two articles");
	ok(n == 2 && (docs[0] == 1 || docs[1] == 1), "one of them has only 'klanttevredenheid'");
	n = search_query(ix, "klanttevredenheid", docs, NULL, 8);
	ok(n == 1 && docs[0] == 1, "the compound itself finds its article");
	n = search_query(ix, "regel", docs, NULL, 8);
	is(n, 1, "a part through a linking 's' is found");
	search_free(ix);
}

static void test_ranking(void)
{
	search_index *ix = NULL;
	gen_err err;
	search_new(&ix, "nl", &err);
	/* 0: the word in the title; 1: twice in a short text; 2: once in a
	 * long text; 3: not at all; 4: with a heading. */
	add(ix, "0/", "story", "Klachten", "Over de balie en de garage.", NULL, 0, NULL);
	add(ix, "1/", "story", "Balie", "Een klacht en nog een klacht.", NULL, 0,
	    NULL);
	add(ix, "2/", "story", "Garage",
	    "Een lang verhaal over auto's, monteurs, wachtende klanten, koffie, laptops, "
	    "sleutels, balies, dealers, garanties, reparaties en uiteindelijk één klacht.",
	    NULL, 0, NULL);
	add(ix, "3/", "story", "Ijssalon", "Ijs en wachtrijen.", NULL, 0, NULL);
	search_doc d = { "4/", "Reparatie", "tips", NULL, NULL, 0 };
	search_doc_begin(ix, &d);
	search_doc_text(ix, SEARCH_TITLE, "Reparatie", 9, "");
	search_doc_text(ix, SEARCH_HEADING, "Een klacht", 10, "een-klacht");
	search_doc_text(ix, SEARCH_BODY, "Over de garage.", 15, "een-klacht");
	search_doc_end(ix, NULL, NULL, &err);
	search_write(ix, NULL, NULL, &err);

	size_t docs[8];
	double sc[8];
	size_t n = search_query(ix, "klachten", docs, sc, 8);
	is(n, 4, "four articles mention a complaint");
	ok(n == 4 && docs[0] == 0, "title match first");
	ok(n == 4 && docs[1] == 4, "heading match second");
	ok(n == 4 && docs[2] == 1, "two mentions in a short text third");
	ok(n == 4 && docs[3] == 2, "one mention in a long text last");
	ok(n == 4 && sc[0] > sc[1] && sc[1] > sc[2] && sc[2] > sc[3], "scores strictly decrease");
	n = search_query(ix, "klacht garage", docs, NULL, 8);
	is(n, 3, "all words: three articles have both");
	n = search_query(ix, "klacht ijs", docs, NULL, 8);
	is(n, 5, "no article has both: any word");
	n = search_query(ix, "de het een", docs, NULL, 8);
	is(n, 0, "stop words only: nothing");
	n = search_query(ix, "onbekendwoord", docs, NULL, 8);
	is(n, 0, "unknown word: nothing");
	search_free(ix);
}

static char *build(files *fs, size_t ndocs)
{
	search_index *ix = NULL;
	gen_err err;
	search_new(&ix, "nl", &err);
	search_set_theme(ix, "empathie", "Empathie");
	search_set_theme(ix, "feedback", "Feedbacklus");
	search_set_string(ix, "search_more", "Meer resultaten");
	static const char *const th1[] = { "feedback" };
	static const char *const th2[] = { "feedback", "empathie" };
	for (size_t i = 0; i < ndocs; i++) {
		char url[32], title[64], body[512];
		snprintf(url, sizeof url, "artikel-%zu/", i);
		snprintf(title, sizeof title, "Artikel %zu over klant%zu", i, i % 7);
		snprintf(body, sizeof body,
			 "De klant belt over woord%zu en woordje%zu. Zeldzaam%zu. "
			 "Een klacht%s over 'aanhalingstekens' en \\backslash\\.",
			 i, i * 7 % 1000, i % 3, i % 2 ? "en" : "");
		const char *kind = i % 3 == 0 ? "tips" : "story";
		search_doc d = { url, title, kind, "2016-01-19T10:00:00+01:00",
				 i % 2 ? th1 : th2, i % 2 ? 1 : 2 };
		search_doc_begin(ix, &d);
		search_doc_text(ix, SEARCH_TITLE, title, strlen(title), "");
		search_doc_text(ix, SEARCH_BODY, body, strlen(body), "");
		search_doc_text(ix, SEARCH_HEADING, "Wat hier misging", 16, "wat-hier-misging");
		search_doc_text(ix, SEARCH_BODY, "Tekst onder de kop.", 19, "wat-hier-misging");
		search_doc_text(ix, SEARCH_TIP, "Leg uit waarom.", 15, "tip-1");
		search_doc_end(ix, collect, fs, &err);
	}
	search_write(ix, collect, fs, &err);
	search_free(ix);
	buf all = BUF_INIT;
	for (size_t i = 0; i < fs->n; i++)
		buf_printf(&all, "%s\n%s", fs->f[i].rel, fs->f[i].data);
	return buf_detach(&all);
}

/* The level of a posting, as search_level gives it from its table, is the
 * one the definition gives: the highest q in 1..63 whose lower bound,
 * top * 1.12^(q - 63.5) computed as the index does, the impact reaches.
 * Checked on every bound and the floats around it, across the whole
 * range on a log scale, and at the edges (0, tiny, huge, infinite). */
static unsigned level_by_definition(double top, float impact)
{
	unsigned q = 1;
	for (unsigned k = 2; k <= 63; k++)
		if ((double)impact >= top * pow(1.12, (double)k - 63 - 0.5))
			q = k;
	return q;
}

static void test_levels(void)
{
	search_index *ix = NULL;
	gen_err err;
	search_new(&ix, "nl", &err);
	add(ix, "0/", "story", "Klachten", "Over de balie en de garage.", NULL, 0, NULL);
	add(ix, "1/", "story", "Balie", "Een klacht en nog een klacht aan de balie.", NULL, 0,
	    NULL);
	add(ix, "2/", "story", "Garage", "Wachtende klanten bij de garage.", NULL, 0, NULL);
	search_write(ix, NULL, NULL, &err);
	double top = search_top_impact(ix);
	ok(top > 0, "levels: the index has a top score");
	size_t bad = 0, checked = 0;
	float first_bad = 0;
	for (unsigned k = 1; k <= 63; k++) {
		float b = (float)(top * pow(1.12, (double)k - 63 - 0.5));
		float around[] = { nextafterf(b, 0), b, nextafterf(b, INFINITY),
				   nextafterf(nextafterf(b, INFINITY), INFINITY) };
		for (size_t i = 0; i < sizeof around / sizeof *around; i++, checked++)
			if (search_level(ix, around[i]) != level_by_definition(top, around[i]) &&
			    !bad++)
				first_bad = around[i];
	}
	for (int i = 0; i <= 200000; i++, checked++) {
		/* From a millionth of the top score to twice it. */
		float f = (float)(top * pow(10, -6 + 6.3 * i / 200000.0));
		if (search_level(ix, f) != level_by_definition(top, f) && !bad++)
			first_bad = f;
	}
	float edges[] = { 0, -0.0f, -1, 1e-40f, FLT_MIN, FLT_MAX, INFINITY };
	for (size_t i = 0; i < sizeof edges / sizeof *edges; i++, checked++)
		if (search_level(ix, edges[i]) != level_by_definition(top, edges[i]) && !bad++)
			first_bad = edges[i];
	if (bad)
		diag("first mismatch at %.9g: %u, by definition %u", (double)first_bad,
		     search_level(ix, first_bad), level_by_definition(top, first_bad));
	is((long)bad, 0, "levels: as defined, for each of the floats tried");
	ok(checked > 200000, "levels: over 200,000 floats tried");
	search_free(ix);
}

static void test_shards(void)
{
	files a = { NULL, 0 }, b = { NULL, 0 };
	char *one = build(&a, 600), *two = build(&b, 600);
	ok(strcmp(one, two) == 0, "two builds are byte-identical (%zu files)", a.n);
	free(one);
	free(two);
	files_release(&b);

	value *meta = file_value(find_file(&a, "zoeken/meta.js"));
	ok(meta != NULL, "meta.js registers JSON");
	ok(find_file(&a, "zoeken/meta.js") &&
	   strncmp(find_file(&a, "zoeken/meta.js")->data, "genSearch.meta(JSON.parse('", 27) == 0,
	   "meta.js calls genSearch.meta");
	is(value_integer(value_get(meta, "docs")), 600, "document count");
	const value *bounds = value_get(meta, "shards");
	size_t ns = value_count(bounds);
	ok(ns > 3, "the terms are split into %zu shards", ns);
	int sorted = ns > 0 && strcmp(value_string(value_at(bounds, 0), NULL), "") == 0;
	for (size_t i = 1; i < ns; i++)
		sorted = sorted && strcmp(value_string(value_at(bounds, i - 1), NULL),
					  value_string(value_at(bounds, i), NULL)) < 0;
	ok(sorted, "shard boundaries start at \"\" and ascend");

	value **shards = xcalloc(ns + 1, sizeof *shards);
	int keys_in_range = 1, sizes_ok = 1;
	size_t nkeys = 0;
	for (size_t i = 0; i < ns; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "zoeken/w/%zu.js", i);
		const file *f = find_file(&a, rel);
		shards[i] = file_value(f);
		if (!shards[i]) {
			keys_in_range = 0;
			continue;
		}
		if (f->len > 8000)
			sizes_ok = 0;
		const char *lo = value_string(value_at(bounds, i), NULL);
		const char *hi = i + 1 < ns ? value_string(value_at(bounds, i + 1), NULL) : NULL;
		for (size_t k = 0; k < value_count(shards[i]); k++) {
			const char *key = value_key_at(shards[i], k, NULL);
			if (strcmp(key, lo) < 0 || (hi && strcmp(key, hi) >= 0))
				keys_in_range = 0;
			nkeys++;
		}
	}
	ok(keys_in_range, "every key lies in its shard's range (%zu keys)", nkeys);
	ok(sizes_ok, "no shard is much larger than the target");
	char rel[64];
	snprintf(rel, sizeof rel, "zoeken/w/%zu.js", ns);
	ok(find_file(&a, rel) == NULL, "no shard beyond the boundaries");

	const value *v = lookup(shards, ns, bounds, "klant", NULL);
	ok(v && value_type_of(v) == VALUE_STRING, "'klant' is a term with postings");
	unsigned docs[700];
	size_t exact = 0;
	size_t n = v ? decode(value_string(v, NULL), docs, 700, &exact) : 0;
	is(n, 600, "'klant' postings list every document");
	is(exact, 128, "exact scores for the best 128 only");
	const char *ps = v ? value_string(v, NULL) : "";
	ok(strchr(ps, '~') != NULL, "the rest of a term in every document is a bitmap");
	ok(strlen(ps) < 128 * 3 + 600 / 6 + 10, "and costs about a character per six documents "
	   "(%zu bytes)", strlen(ps));
	int ascending = 1;
	for (size_t i = 1; i < exact && i < n; i++)
		ascending = ascending && docs[i] > docs[i - 1];
	ok(ascending, "exact postings ascend");

	v = lookup(shards, ns, bounds, "klachten", NULL);
	ok(v && value_type_of(v) == VALUE_INTEGER && value_integer(v) == 2,
	   "'klachten' points to 'klacht' by cutting 2 characters");
	v = lookup(shards, ns, bounds, "klacht", NULL);
	size_t nk = v ? decode(value_string(v, NULL), docs, 700, &exact) : 0;
	is(nk, 600, "'klacht' has the documents of 'klacht' and 'klachten'");
	v = lookup(shards, ns, bounds, "zeldzaam1", NULL);
	n = v ? decode(value_string(v, NULL), docs, 700, &exact) : 0;
	is(n, 200, "a term in a third of the documents");
	v = lookup(shards, ns, bounds, "aanhalingsteken", NULL);
	ok(v && value_string(v, NULL)[0] == '!', "a stem that is not a word is marked '!'");

	/* Facets: documents ordered by kind then themes, as runs. */
	const char *runs = value_string(value_get(meta, "runs"), NULL);
	ok(runs && strlen(runs) < 40, "facets of 600 documents in %zu bytes", strlen(runs));
	const value *themes = value_get(meta, "themes");
	is_str(value_string(value_at(value_at(themes, 1), 1), NULL), "Feedbacklus",
	       "theme titles in meta");
	size_t nstop;
	stopwords_list("nl", &nstop);
	is(value_count(value_get(meta, "stop")), nstop, "the stop words go to the browser");
	is_str(value_string(value_get(value_get(meta, "ui"), "search_more"), NULL),
	       "Meer resultaten", "UI strings in meta");

	value *d0 = file_value(find_file(&a, "zoeken/d/0.js"));
	is(value_count(d0), SEARCH_DOCS_PER_FILE, "document table: a few documents per file");
	const value *r0 = value_at(d0, 0);
	/* Stories come first; of those, article 2 has the first theme. */
	is_str(value_string(value_at(r0, 1), NULL), "Artikel 2 over klant2",
	       "index order: by kind, then themes");
	is_str(value_string(value_at(r0, 2), NULL), "2016-01-19", "date cut to the day");
	is(value_integer(value_at(r0, 3)), 2, "with its text file number");
	snprintf(rel, sizeof rel, "zoeken/d/%d.js", (600 + SEARCH_DOCS_PER_FILE - 1) /
		 SEARCH_DOCS_PER_FILE - 1);
	ok(find_file(&a, rel) != NULL, "the last document table file");

	value *t5 = file_value(find_file(&a, "zoeken/t/5.js"));
	ok(t5 && value_count(t5) == 3, "text of a document: three sections");
	is_str(value_string(value_at(value_at(t5, 1), 0), NULL), "wat-hier-misging",
	       "a heading section with its anchor");
	is_str(value_string(value_at(value_at(t5, 1), 1), NULL), "Wat hier misging",
	       "and its heading");
	is_str(value_string(value_at(value_at(t5, 2), 0), NULL), "tip-1", "a tip section");
	ok(t5 && strstr(value_string(value_at(value_at(t5, 0), 2), NULL),
			"'aanhalingstekens' en \\backslash\\") != NULL,
	   "quotes and backslashes survive the JavaScript literal");

	value_free(t5);
	value_free(d0);
	for (size_t i = 0; i < ns; i++)
		value_free(shards[i]);
	free(shards);
	value_free(meta);
	files_release(&a);
}

/* n documents of a site, for the tests on threads. */
static document *site_docs(size_t n)
{
	static const char *const th[] = { "feedback", "empathie", "grenzen", "feedback" };
	document *docs = xcalloc(n, sizeof *docs);
	char text[256];
	for (size_t i = 0; i < n; i++) {
		document *d = &docs[i];
		snprintf(text, sizeof text, "verhalen/stuk-%zu/", i);
		d->url = xstrdup(text);
		snprintf(text, sizeof text, "Verhaal %zu over klanten%zu", i, i % 13);
		d->fm.title = xstrdup(text);
		snprintf(text, sizeof text, "Een samenvatting met woord%zu, klachten en "
			 "klanttevredenheid%zu bij tevredenheid%zu.", i % 41, i % 5, i % 5);
		d->fm.summary = xstrdup(text);
		d->fm.kind = i % 4 ? KIND_STORY : KIND_TIPS;
		d->fm.themes = (char **)th + i % 3;
		d->fm.nthemes = 1 + (i % 2);
	}
	return docs;
}

static void site_docs_free(document *docs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(docs[i].url);
		free(docs[i].fm.title);
		free(docs[i].fm.summary);
	}
	free(docs);
}

/* The site's documents on several threads give the same files as on one. */
static char *build_site_docs(size_t jobs, size_t *nfiles)
{
	/* Enough postings for the terms to be encoded on several threads. */
	enum { N = 1000 };
	document *docs = site_docs(N);
	search_index *ix = NULL;
	gen_err err;
	files fs = { NULL, 0 };
	search_new(&ix, "nl", &err);
	search_add_documents(ix, docs, N, (int)jobs, collect, &fs, &err);
	search_write(ix, collect, &fs, &err);
	search_free(ix);
	*nfiles = fs.n;
	site_docs_free(docs, N);
	return files_joined(&fs);
}

static void test_threads(void)
{
	size_t n1, n4;
	char *one = build_site_docs(1, &n1), *four = build_site_docs(4, &n4);
	ok(n1 > 1000 && n1 == n4 && strcmp(one, four) == 0,
	   "four threads write the same %zu files as one", n1);
	free(one);
	free(four);
}

/* An emit that fails at one text file, as a full disk would. */
static int fail_at(void *ctx, const char *rel, const char *data, size_t len, gen_err *err)
{
	(void)data;
	(void)len;
	if (strcmp(rel, ctx) != 0)
		return 0;
	err_set(err, GEN_EIO, rel, 0, 0, "no room left");
	return GEN_EIO;
}

/* A thread whose emit fails stops there: the documents after it in its
 * share are never begun, and the index, freed, must not take them for
 * documents. */
static void test_threads_fail(void)
{
	enum { N = 200 };
	document *docs = site_docs(N);
	search_index *ix = NULL;
	gen_err err;
	err_clear(&err);
	search_new(&ix, "nl", &err);
	int rc = search_add_documents(ix, docs, N, 4, fail_at, (void *)"zoeken/t/7.js", &err);
	ok(rc == GEN_EIO && strcmp(err.file, "zoeken/t/7.js") == 0 &&
		   strstr(err.msg, "no room left") != NULL,
	   "the error of the failed text file comes back");
	/* AddressSanitizer fills new memory: an unfilled slot taken for a
	 * document would be freed here, and the test would die. */
	search_free(ix);
	site_docs_free(docs, N);
}

static void test_empty(void)
{
	search_index *ix = NULL;
	gen_err err;
	files fs = { NULL, 0 };
	search_new(&ix, "nl", &err);
	ok(search_write(ix, collect, &fs, &err) == 0, "an empty index is written");
	value *meta = file_value(find_file(&fs, "zoeken/meta.js"));
	is(value_integer(value_get(meta, "docs")), 0, "with no documents");
	ok(find_file(&fs, "zoeken/w/0.js") != NULL, "and one empty shard");
	size_t d[1];
	is(search_query(ix, "klant", d, NULL, 1), 0, "which finds nothing");
	value_free(meta);
	files_release(&fs);
	search_free(ix);
}

/* ---- the build cache ---- */

enum { CACHED_DOCS = 120 };

/* Articles with headings, tips, hyphens, quotes and backslashes: body i
 * of variant v (another variant is other text under the same path and
 * content id, as a changed filter would make). */
static void cached_doc(document *d, size_t i, int variant)
{
	static const char *const th[] = { "feedback", "empathie", "grenzen", "feedback" };
	static const char *const th_other[] = { "grenzen", "feedback" };
	char text[4096];
	snprintf(text, sizeof text, "content/verhalen/stuk-%zu.md", i);
	d->path = xstrdup(text);
	snprintf(d->id, sizeof d->id, "%040zx", i * 7919);
	snprintf(text, sizeof text, "verhalen/stuk-%zu/", i);
	d->url = xstrdup(text);
	/* Variant 8 brings a word of its own, many times and in the title:
	 * the index's highest posting; 10 has it once, in its text. */
	snprintf(text, sizeof text, "Verhaal %zu over klanten%zu%s", i, i % 13,
		 variant == 5 ? ", de klant"
		 : variant == 8 ? ", onvergelijkbaar onvergelijkbaar"
		 : variant == 11 ? ", een wachtrijbord" : "");
	d->fm.title = xstrdup(text);
	/* A rare compound: split once its second part is a word of the
	 * handbook too (variant 6 brings it). */
	snprintf(text, sizeof text, "Een samenvatting met woord%zu en klanttevredenheid%s.", i % 41,
		 i % 40 == 1 ? ", na een klantgesprek" : "");
	d->fm.summary = xstrdup(text);
	d->fm.kind = i % 4 ? KIND_STORY : KIND_TIPS;
	d->fm.themes = (char **)th + i % 3;
	d->fm.nthemes = 1 + (i % 2);
	/* Variant 3 has two themes in the other order, 4 none; 5 has
	 * more of the same words, in its title too. */
	if (variant == 3) {
		d->fm.themes = (char **)th_other;
		d->fm.nthemes = 2;
	} else if (variant == 4) {
		d->fm.nthemes = 0;
	}
	/* Variant 9 is ten times as long, in words every article has. 11
	 * has a compound once, in its title and text, and its two parts
	 * four times each: the compound splits, and the parts' counts, the
	 * highest of the index, hold parts of 0.7, which no float holds
	 * exactly. */
	size_t at = (size_t)snprintf(text, sizeof text,
		 "## Wat er gebeurde\n\nDe klant%zu belde over de e-mail en klant-centraal "
		 "werk. Zeldzaam%zu, 'aanhalingstekens' en \\backslash, ideeën.\n\n"
		 "## Wat beter kon\n\nEen klacht%s over tevredenheid%s.%s\n\n"
		 "1. Luister naar de klant.\n2. Vraag door%zu.\n",
		 i, i % 3, i % 2 ? "en" : "", variant == 1 ? " en veiligheidsregels" : "",
		 variant == 5 ? " De klant belde over de klacht, en over de klacht."
		 : variant == 6 ? " Het gesprek ging goed."
		 : variant == 7 ? " Samenvat het."
		 : variant == 8 ? " Onvergelijkbaar, onvergelijkbaar."
		 : variant == 10 ? " Onvergelijkbaar."
		 : variant == 11 ? " Een wachtrij, een wachtrij, een bord, een bord, een bord,"
				   " een wachtrij en een bord: het wachtrijbord."
		 : "", i % 5);
	for (int k = 0; variant == 9 && k < 60 && at + 40 < sizeof text; k++)
		at += (size_t)snprintf(text + at, sizeof text - at, "De klant belde over de klacht.\n");
	/* Variant 12 has the complaint again a number of times of its own:
	 * a term in every document, at many levels. */
	for (size_t k = 0; variant == 12 && k < i % 9 && at + 40 < sizeof text; k++)
		at += (size_t)snprintf(text + at, sizeof text - at, "Weer een klacht.\n");
	markdown_options opt = { .tips = d->fm.kind == KIND_TIPS };
	gen_err e;
	if (markdown_parse(&d->md, d->path, text, strlen(text), &opt, NULL, &e) < 0)
		d->md = NULL;
}

/* Gives document i its other variant's text, as an edit would (the same
 * path: the content id changes with the bytes). */
static void document_swap_text(document *d, size_t i, int variant)
{
	free(d->path);
	free(d->url);
	free(d->fm.title);
	free(d->fm.summary);
	markdown_free(d->md);
	memset(d, 0, sizeof *d);
	cached_doc(d, i, variant);
	snprintf(d->id, sizeof d->id, "%040zx", i * 7919 + 1 + (size_t)variant);
}

static void cached_docs_free(document *docs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(docs[i].path);
		free(docs[i].url);
		free(docs[i].fm.title);
		free(docs[i].fm.summary);
		markdown_free(docs[i].md);
	}
	free(docs);
}

/* An output for the text files (a search_keeper): each file with the
 * fingerprint it was written with, and whether this build wrote or kept
 * it. */
typedef struct disk {
	const char *cache_dir; /* a build cache for each build, as gen's */
	files fs;
	uint64_t *fp;
	bool *used;
	size_t written;   /* text files written by this build */
	size_t written_d; /* files of the document table */
	size_t looked;    /* files looked for (the keeper's fresh) */
	pthread_mutex_t lock;
} disk;

static long disk_find(const disk *d, const char *rel)
{
	for (size_t i = 0; i < d->fs.n; i++)
		if (strcmp(d->fs.f[i].rel, rel) == 0)
			return (long)i;
	return -1;
}

static bool disk_fresh(void *ctx, const char *rel, uint64_t fp)
{
	disk *d = ctx;
	pthread_mutex_lock(&d->lock);
	d->looked++;
	long i = disk_find(d, rel);
	bool fresh = i >= 0 && d->fp[i] == fp;
	if (fresh)
		d->used[i] = true;
	pthread_mutex_unlock(&d->lock);
	return fresh;
}

static int disk_write(void *ctx, const char *rel, const char *data, size_t len, uint64_t fp,
		      gen_err *err)
{
	(void)err;
	disk *d = ctx;
	pthread_mutex_lock(&d->lock);
	long i = disk_find(d, rel);
	if (i < 0) {
		i = (long)d->fs.n++;
		d->fs.f = xrealloc(d->fs.f, d->fs.n * sizeof *d->fs.f);
		d->fp = xrealloc(d->fp, d->fs.n * sizeof *d->fp);
		d->used = xrealloc(d->used, d->fs.n * sizeof *d->used);
		d->fs.f[i].rel = xstrdup(rel);
	} else {
		free(d->fs.f[i].data);
	}
	d->fs.f[i].data = xstrndup(data, len);
	d->fs.f[i].len = len;
	d->fp[i] = fp;
	d->used[i] = true;
	d->written += strncmp(rel, "zoeken/t/", 9) == 0;
	d->written_d += strncmp(rel, "zoeken/d/", 9) == 0;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static void disk_release(disk *d)
{
	files_release(&d->fs);
	free(d->fp);
	free(d->used);
}

/* Every file of an index of docs, added on jobs threads through the
 * cache c and the memory m (either may be NULL), the text files through
 * dk when not NULL (those it wrote or kept are among the files);
 * *held (may be NULL) gets how many documents it took from m. */
/* search_merge_ranges, search_terms_scored and search_term_count of
 * build_with's last index. */
static size_t last_merge_ranges, last_terms_scored, last_terms;
static size_t last_postings_scored, last_postings_touched;
/* The last build's highest score, exactly (search_top_impact). */
static double last_top;
/* Files its keeper was asked about before search_write. */
static size_t last_looked_early;

static char *build_with(const document *docs, size_t n, int jobs, cache_file *c,
			search_memory *m, uint64_t text_stamp, size_t *held, disk *dk,
			size_t *terms_held)
{
	search_index *ix = NULL;
	gen_err err;
	files fs = { NULL, 0 };
	search_new(&ix, "nl", &err);
	cache_file *own = dk && dk->cache_dir && !c
				  ? cache_open(dk->cache_dir, "search.pack", 7, NULL)
				  : NULL;
	search_set_cache(ix, own ? own : c, text_stamp);
	search_set_memory(ix, m);
	if (dk) {
		search_keeper k = { disk_fresh, disk_write, dk };
		search_set_keeper(ix, &k);
		if (dk->fs.n)
			memset(dk->used, 0, dk->fs.n * sizeof *dk->used);
		dk->written = dk->written_d = dk->looked = 0;
	}
	search_add_documents(ix, docs, n, jobs, collect, &fs, &err);
	last_looked_early = dk ? dk->looked : 0;
	if (held)
		*held = search_held(ix);
	search_write(ix, collect, &fs, &err);
	if (terms_held)
		*terms_held = search_terms_held(ix);
	last_merge_ranges = search_merge_ranges(ix);
	last_terms_scored = search_terms_scored(ix);
	last_terms = search_term_count(ix);
	last_postings_scored = search_postings_scored(ix, &last_postings_touched);
	last_top = search_top_impact(ix);
	search_free(ix);
	cache_save(own, NULL);
	cache_close(own);
	for (size_t i = 0; dk && i < dk->fs.n; i++)
		if (dk->used[i])
			collect(&fs, dk->fs.f[i].rel, dk->fs.f[i].data, dk->fs.f[i].len, &err);
	return files_joined(&fs);
}

static char *build_cached(const document *docs, size_t n, int jobs, cache_file *c,
			  uint64_t text_stamp)
{
	return build_with(docs, n, jobs, c, NULL, text_stamp, NULL, NULL, NULL);
}

static char *build_remembered(const document *docs, size_t n, int jobs, search_memory *m,
			      uint64_t text_stamp, size_t *held, disk *dk, size_t *terms_held)
{
	return build_with(docs, n, jobs, NULL, m, text_stamp, held, dk, terms_held);
}

/* What lies between two one-shot builds: the memory goes to its file and
 * comes back from it (with memfile NULL, as in a resident process, it stays
 * as it is). *lost counts the round trips that failed. */
static search_memory *through_file(search_memory *m, const char *memfile, int *lost)
{
	if (!memfile)
		return m;
	bool had = search_memory_taken(m);
	if (had && search_memory_save(m, memfile, 7) != 0)
		(*lost)++;
	search_memory_free(m);
	search_memory *back = search_memory_new();
	if (search_memory_load(back, memfile, 7) != 0 && had)
		(*lost)++;
	return back;
}

/* The memory of a resident process: whatever changed between two builds,
 * the index is the one a build without the memory makes. With an output
 * for the text files (dk), a held document whose text file is kept there
 * is not read at all: what the index shows of it comes from the memory.
 * With memfile, the memory goes through that file before every build, as a
 * one-shot build's does: all the same holds. */
static void memory_steps(disk *dk, const char *memfile)
{
	enum { N = CACHED_DOCS };
	const char *with = memfile ? " (through a file)" : dk ? " (text files kept)" : "";
	int lost = 0;
	document *docs = xcalloc(N + 1, sizeof *docs);
	for (size_t i = 0; i < N; i++)
		cached_doc(&docs[i], i, 0);
	search_memory *m = search_memory_new();
	size_t held = 0;
	char *ref = build_cached(docs, N, 1, NULL, 1);
	char *got = build_remembered(docs, N, 4, m, 1, &held, dk, NULL);
	ok(strcmp(got, ref) == 0, "memory%s: an empty one gives the index as without", with);
	is(held, 0, "memory: and takes nothing from it");
	free(got);
	m = through_file(m, memfile, &lost);
	got = build_remembered(docs, N, 4, m, 1, &held, dk, NULL);
	ok(strcmp(got, ref) == 0, "memory%s: nothing changed: the same index", with);
	is(held, N, "memory: every document from the memory");
	free(got);
	free(ref);

	/* Each change, then a build with the memory against one without. */
	const char *what[] = { "an article's text changed", "the first article, with a new word",
			       "an article gone from the middle", "an article added at the end",
			       "an article renamed", "nothing again",
			       "the new word gone from both articles",
			       "the first article's themes in another order",
			       "the first article without themes",
			       "an article with more of the words it had",
			       "a new word that other articles' compound splits into",
			       "a new word that is the stem of others" };
	size_t n = N, every_term = 0;
	for (int step = 0; step < 12; step++) {
		document gone;
		switch (step) {
		case 0:
			document_swap_text(&docs[5], 5, 1);
			break;
		case 1:
			document_swap_text(&docs[0], 0, 1);
			break;
		case 2:
			gone = docs[60];
			memmove(&docs[60], &docs[61], (n - 61) * sizeof *docs);
			docs[n - 1] = gone; /* freed with the others */
			n--;
			break;
		case 3:
			/* The one that went comes back at the end, renumbered. */
			n++;
			break;
		case 4:
			free(docs[7].path);
			docs[7].path = xstrdup("content/verhalen/hernoemd.md");
			break;
		case 6:
			document_swap_text(&docs[0], 0, 2);
			document_swap_text(&docs[5], 5, 2);
			break;
		case 7:
			/* "grenzen" and "feedback" get the first numbers, in
			 * that order ... */
			document_swap_text(&docs[0], 0, 3);
			break;
		case 8:
			/* ... and lose them again: the held articles' themes
			 * are numbered in the order they are written, which
			 * is not the order of their old numbers. */
			document_swap_text(&docs[0], 0, 4);
			break;
		case 9:
			document_swap_text(&docs[9], 9, 5);
			break;
		case 10:
			document_swap_text(&docs[11], 11, 6);
			break;
		case 11:
			/* "samenvat", which "samenvatting" stems to: the term
			 * is a word now, which its postings say. */
			document_swap_text(&docs[13], 13, 7);
			break;
		default:
			break;
		}
		ref = build_cached(docs, n, 1, NULL, 1);
		size_t terms = 0;
		m = through_file(m, memfile, &lost);
		got = build_remembered(docs, n, 2, m, 1, &held, dk, &terms);
		ok(strcmp(got, ref) == 0, "memory%s: %s: the same index as without", with,
		   what[step]);
		/* With the documents at the same numbers and in the same
		 * order, the postings of all but the changed ones come from
		 * the memory's last index, also when a word came or went:
		 * all of them when nothing changed, most when one article
		 * did. Not when numbers moved or themes changed the order. */
		bool postings = step != 2 && step != 3 && step != 7 && step != 8 && step != 10;
		if (step == 5)
			every_term = terms;
		if (postings)
			ok(step == 9 ? terms > 0 && terms < every_term : terms > 0,
			   "memory%s: %s: postings of %zu terms from the last index", with,
			   what[step], terms);
		else
			is(terms, 0, "memory: postings made anew");
		/* One gone from the middle renumbers half of them: those are
		 * added as without the memory. Otherwise the others are held. */
		size_t want = step == 2 ? 0 : step == 5 ? n : step == 6 ? n - 2 : n - 1;
		char name[160];
		snprintf(name, sizeof name, "memory%s: %s: %zu documents from the memory", with,
			 what[step], want);
		is(held, want, name);
		/* Renumbered documents have text files to write; otherwise
		 * only the changed ones. */
		size_t changed = step == 5 ? 0 : step == 6 ? 2 : 1;
		if (dk && step != 2 && step != 3)
			ok(dk->written == changed,
			   "memory (text files kept): %s: %zu text file%s written", what[step],
			   changed, changed == 1 ? "" : "s");
		/* The output is looked at only to write the index: the held
		 * documents' text files are looked for by search_write
		 * (texts_settle), so a site's index is made while the
		 * output is still being read. */
		if (dk && step != 2 && step != 3)
			is(last_looked_early, 0, "memory (text files kept): no file looked for "
						 "before the index is written");
		/* The document table: with the order as before, only the
		 * file of a document that shows otherwise (a new URL). */
		if (dk && (step == 4 || step == 5 || step == 9))
			is(dk->written_d, step == 9 ? 1 : 0, step == 9
			   ? "memory (text files kept): another title: one file of the document table written"
			   : "memory (text files kept): the document table kept");
		free(got);
		free(ref);
	}

	/* Another text stamp (site.toml, the filters): nothing is taken. */
	ref = build_cached(docs, n, 1, NULL, 2);
	m = through_file(m, memfile, &lost);
	got = build_remembered(docs, n, 2, m, 2, &held, dk, NULL);
	ok(strcmp(got, ref) == 0 && held == 0, "memory%s: another stamp: built as without", with);
	free(got);
	free(ref);
	if (memfile)
		is(lost, 0, "memory (through a file): every build's written and read back");
	search_memory_free(m);
	cached_docs_free(docs, N);
}

/* A disk with its cache in a fresh directory under TMPDIR (dir). */
static bool disk_new(disk *dk, char dir[512])
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, 512, "%s/gen-search.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	memset(dk, 0, sizeof *dk);
	if (!mkdtemp(dir))
		return false;
	dk->cache_dir = dir;
	pthread_mutex_init(&dk->lock, NULL);
	return true;
}

static void disk_gone(disk *dk, const char *dir)
{
	pthread_mutex_destroy(&dk->lock);
	disk_release(dk);
	char path[600];
	snprintf(path, sizeof path, "%s/search.pack", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/memory", dir);
	unlink(path);
	rmdir(dir);
}

static void test_memory(void)
{
	memory_steps(NULL, NULL);
	char dir[512];
	disk dk;
	if (!disk_new(&dk, dir)) {
		ok(0, "a directory for the cache");
		return;
	}
	memory_steps(&dk, NULL);
	disk_gone(&dk, dir);
	if (!disk_new(&dk, dir)) {
		ok(0, "a directory for the cache");
		return;
	}
	char memfile[600];
	snprintf(memfile, sizeof memfile, "%s/memory", dir);
	memory_steps(&dk, memfile);
	disk_gone(&dk, dir);
}

static bool read_whole(const char *path, buf *b)
{
	buf_clear(b);
	return buf_read_file(b, path) == 0;
}

static bool write_whole(const char *path, const buf *b)
{
	FILE *f = fopen(path, "wb");
	bool good = f && fwrite(b->ptr, 1, b->len, f) == b->len;
	return f && fclose(f) == 0 && good;
}

/* The checksum at the end made again for what comes before it, as
 * search_memory_save makes it (stamp 7): chained over blocks of 256 KB. */
static void reseal(buf *b)
{
	const size_t block = (size_t)1 << 18, len = b->len - 8;
	uint64_t sum = 7;
	for (size_t at = 0; at < len; at += block)
		sum = buf_hash64(b->ptr + at, len - at < block ? len - at : block, sum);
	memcpy(b->ptr + b->len - 8, &sum, 8);
}

/* How many documents a build with the memory in memfile took from it; the
 * index must be the one made without. */
static size_t held_from(const char *memfile, const document *docs, size_t n, const char *ref,
			bool *same)
{
	search_memory *m = search_memory_new();
	search_memory_load(m, memfile, 7);
	size_t held = 0;
	char *got = build_remembered(docs, n, 2, m, 1, &held, NULL, NULL);
	*same = strcmp(got, ref) == 0;
	free(got);
	search_memory_free(m);
	return held;
}

/* A disk in a fresh directory (dir), the memory file's path in it
 * (memfile) and n cached articles (one more slot, for a test that moves
 * one to the end); NULL, having said so, without a directory. */
static document *memory_fixture(disk *dk, char dir[512], char memfile[600], size_t n)
{
	if (!disk_new(dk, dir)) {
		ok(0, "a directory for the memory");
		return NULL;
	}
	snprintf(memfile, 600, "%s/memory", dir);
	document *docs = xcalloc(n + 1, sizeof *docs);
	for (size_t i = 0; i < n; i++)
		cached_doc(&docs[i], i, 0);
	return docs;
}

/* The file a one-shot build keeps the memory in: read back only when it
 * is whole, of this gen (the stamp) and sound; anything else is
 * refused and costs the build time, never its index. */
static void test_memory_file(void)
{
	enum { N = CACHED_DOCS };
	char dir[512], memfile[600];
	disk dk;
	document *docs = memory_fixture(&dk, dir, memfile, N);
	if (!docs)
		return;
	char *ref = build_cached(docs, N, 1, NULL, 1);
	search_memory *m = search_memory_new();
	is(search_memory_save(m, memfile, 7), -1, "memory file: an empty memory is not written");
	ok(!search_memory_taken(m), "memory file: an empty memory has taken no index");
	size_t held = 0;
	char *got = build_remembered(docs, N, 2, m, 1, &held, NULL, NULL);
	free(got);
	ok(search_memory_taken(m), "memory file: a build gives the memory its index");
	is(search_memory_save(m, memfile, 7), 0, "memory file: written");
	search_memory_free(m);

	bool same = false;
	is(held_from(memfile, docs, N, ref, &same), N, "memory file: read back, every document held");
	ok(same, "memory file: and the index is the one made without it");
	m = search_memory_new();
	is(search_memory_load(m, memfile, 8), -1, "memory file: another stamp (another gen) is refused");
	ok(!search_memory_taken(m), "memory file: a refused file leaves the memory empty");
	search_memory_free(m);

	buf good = BUF_INIT, b = BUF_INIT;
	ok(read_whole(memfile, &good) && good.len > 64, "memory file: read as bytes");
	char other[640];
	snprintf(other, sizeof other, "%s.other", memfile);
	struct {
		const char *what;
		int how;
	} cases[] = {
		{ "a byte changed in the middle", 0 },
		{ "cut short", 1 },
		{ "empty", 2 },
		{ "resealed after its numbers were overwritten", 3 },
		{ "resealed as it was", 4 },
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		buf_clear(&b);
		buf_put(&b, good.ptr, good.len);
		uint64_t head;
		memcpy(&head, b.ptr, 8);
		size_t arrays = (size_t)((8 + head + 7) / 8 * 8);
		switch (cases[k].how) {
		case 0:
			b.ptr[b.len / 2] ^= 0x20;
			break;
		case 1:
			b.len /= 2;
			break;
		case 2:
			b.len = 0;
			break;
		case 3:
			/* Every number after the head points past what it
			 * indexes; only the checks after the checksum see it. */
			if (arrays < b.len - 8)
				memset(b.ptr + arrays, 0xff, b.len - 8 - arrays);
			reseal(&b);
			break;
		default:
			reseal(&b);
			break;
		}
		bool written = write_whole(other, &b);
		m = search_memory_new();
		int rc = search_memory_load(m, other, 7);
		search_memory_free(m);
		char name[160];
		snprintf(name, sizeof name, "memory file: %s: %s", cases[k].what,
			 cases[k].how == 4 ? "read back" : "refused");
		ok(written && rc == (cases[k].how == 4 ? 0 : -1), "%s", name);
		if (cases[k].how != 4) {
			size_t h = held_from(other, docs, N, ref, &same);
			snprintf(name, sizeof name,
				 "memory file: %s: a build takes nothing from it, the same index",
				 cases[k].what);
			ok(h == 0 && same, "%s", name);
		}
	}
	unlink(other);
	m = search_memory_new();
	is(search_memory_load(m, other, 7), -1, "memory file: a missing file is refused");
	search_memory_free(m);
	buf_release(&good);
	buf_release(&b);
	free(ref);
	cached_docs_free(docs, N);
	disk_gone(&dk, dir);
}

/* The files of an index of docs with no memory but a memory file
 * (search_set_memory_file): it writes the file as it goes. */
static char *build_streamed(const document *docs, size_t n, int jobs, const char *memfile)
{
	search_index *ix = NULL;
	gen_err err;
	files fs = { NULL, 0 };
	search_new(&ix, "nl", &err);
	search_set_cache(ix, NULL, 1);
	search_set_memory_file(ix, memfile, 7);
	search_add_documents(ix, docs, n, jobs, collect, &fs, &err);
	search_write(ix, collect, &fs, &err);
	search_free(ix);
	return files_joined(&fs);
}

/* A build that found no memory has its index write the file as it goes,
 * letting go of each part once written (see search.c, "the memory
 * streamed"): the file must be, byte for byte, the one the memory such
 * an index leaves is saved as, and serve the next build as that one
 * does. */
static void test_memory_streamed(void)
{
	/* More documents than TIER, with a term at many levels in all of
	 * them (variant 12): the tiers change its levels after the raw
	 * levels were written. */
	enum { N = 3 * CACHED_DOCS };
	char dir[512], memfile[600], streamed[640];
	disk dk;
	document *docs = memory_fixture(&dk, dir, memfile, N);
	if (!docs)
		return;
	for (size_t i = 0; i < N; i++)
		document_swap_text(&docs[i], i, 12);
	snprintf(streamed, sizeof streamed, "%s.streamed", memfile);
	char *ref = build_cached(docs, N, 1, NULL, 1);
	search_memory *m = search_memory_new();
	char *got = build_remembered(docs, N, 2, m, 1, NULL, NULL, NULL);
	free(got);
	is(search_memory_save(m, memfile, 7), 0, "memory streamed: the memory taken, saved");
	search_memory_free(m);
	got = build_streamed(docs, N, 2, streamed);
	ok(strcmp(got, ref) == 0, "memory streamed: the index is the one made without a file");
	free(got);
	buf want = BUF_INIT, have = BUF_INIT;
	ok(read_whole(memfile, &want) && read_whole(streamed, &have),
	   "memory streamed: the file is there");
	ok(want.len > 64 && want.len == have.len && memcmp(want.ptr, have.ptr, want.len) == 0,
	   "memory streamed: byte for byte the memory's saved file (%zu and %zu bytes)", want.len,
	   have.len);
	bool same = false;
	is(held_from(streamed, docs, N, ref, &same), N,
	   "memory streamed: read back, every document held");
	ok(same, "memory streamed: and the index is the one made without it");
	/* Documents added in two goes make no index a memory could take:
	 * no file. */
	unlink(streamed);
	search_index *ix = NULL;
	gen_err err;
	files fs = { NULL, 0 };
	search_new(&ix, "nl", &err);
	search_set_memory_file(ix, streamed, 7);
	search_add_documents(ix, docs, N / 2, 1, collect, &fs, &err);
	search_add_documents(ix, docs + N / 2, N - N / 2, 1, collect, &fs, &err);
	search_write(ix, collect, &fs, &err);
	search_free(ix);
	files_release(&fs);
	ok(access(streamed, F_OK) != 0, "memory streamed: none for documents added in two goes");
	buf_release(&want);
	buf_release(&have);
	free(ref);
	cached_docs_free(docs, N);
	disk_gone(&dk, dir);
}

/* A one-shot build writes the memory's file again only when it lags
 * (search_memory_due): more than eight articles (of 120) changed since
 * it was written, or any article gone, which moves the documents. A
 * build with a file some edits behind takes every other article's words
 * from it and makes the index made without it. The memory is lean, as a
 * one-shot build's is (search_memory_lean): one left not due is not
 * taken (its words stay in the file's mapping), one due is, whole. */
static void test_memory_lagging(void)
{
	enum { N = CACHED_DOCS, EDITS = 12 };
	char dir[512], memfile[600];
	disk dk;
	document *docs = memory_fixture(&dk, dir, memfile, N);
	if (!docs)
		return;
	search_memory *m = search_memory_new();
	size_t held = 0, terms = 0;
	free(build_remembered(docs, N, 2, m, 1, &held, NULL, NULL));
	ok(search_memory_due(m), "lagging memory: one not read from a file is due");
	is(search_memory_save(m, memfile, 7), 0, "lagging memory: written");
	size_t behind = 0; /* articles changed since the file was written */
	int writes = 0, loaded = 0, due_right = 0, taken_right = 0;
	bool same = true, held_right = true;
	for (size_t e = 0; e < EDITS; e++) {
		search_memory_free(m);
		m = search_memory_new();
		loaded += search_memory_load(m, memfile, 7) == 0;
		search_memory_lean(m);
		document_swap_text(&docs[10 + e], 10 + e, 1);
		behind++;
		char *ref = build_cached(docs, N, 1, NULL, 1);
		char *got = build_remembered(docs, N, 2, m, 1, &held, NULL, &terms);
		same = same && strcmp(got, ref) == 0;
		held_right = held_right && held == N - behind && terms > 0;
		due_right += search_memory_due(m) == (behind > 8);
		taken_right += search_memory_taken(m) == (behind > 8);
		if (search_memory_due(m) && search_memory_save(m, memfile, 7) == 0) {
			writes++;
			behind = 0;
		}
		free(got);
		free(ref);
	}
	is(loaded, EDITS, "lagging memory: read back before every build");
	ok(same, "lagging memory: every index is the one made without the memory");
	ok(held_right, "lagging memory: every build takes the words and postings of all "
		       "articles but those changed since the file was written");
	is(due_right, EDITS, "lagging memory: due when more than eight articles changed");
	is(writes, 1, "lagging memory: written once in twelve edits");
	is(taken_right, EDITS, "lagging memory: lean, taken only when due");

	/* Themes in another order change the documents' order: no posting
	 * is taken from the file, and it is due at once, though it has the
	 * words of all but a few articles. */
	search_memory_free(m);
	m = search_memory_new();
	search_memory_load(m, memfile, 7);
	search_memory_lean(m);
	document_swap_text(&docs[0], 0, 3);
	char *ref = build_cached(docs, N, 1, NULL, 1);
	char *got = build_remembered(docs, N, 2, m, 1, &held, NULL, &terms);
	ok(strcmp(got, ref) == 0 && terms == 0 && held == N - behind - 1,
	   "lagging memory: themes in another order: the index made without, no postings taken");
	ok(search_memory_due(m), "lagging memory: themes in another order: due at once");
	free(got);
	free(ref);

	/* An article gone from the middle renumbers the others: due. */
	search_memory_free(m);
	m = search_memory_new();
	search_memory_load(m, memfile, 7);
	search_memory_lean(m);
	document gone = docs[60];
	memmove(&docs[60], &docs[61], (N - 61) * sizeof *docs);
	docs[N - 1] = gone; /* freed with the others */
	ref = build_cached(docs, N - 1, 1, NULL, 1);
	got = build_remembered(docs, N - 1, 2, m, 1, &held, NULL, NULL);
	ok(strcmp(got, ref) == 0, "lagging memory: an article gone: the index made without");
	ok(search_memory_due(m), "lagging memory: an article gone: due");
	free(got);
	free(ref);
	search_memory_free(m);
	cached_docs_free(docs, N);
	disk_gone(&dk, dir);
}

/* A build after the memory's last index scores only the terms the
 * changed articles have or had when no other posting's score can have
 * moved (score_touched), and every term when one can: a new highest
 * posting moves every level, an average length past a point of its grid
 * every score. Either way the index is the one made without the memory,
 * with the memory kept in the process and read back from its file. */
static void test_memory_touched(void)
{
	enum { N = CACHED_DOCS };
	static const struct {
		size_t doc;
		int variant;
		bool few; /* only the touched terms scored */
		const char *what;
	} edits[] = {
		{ 7, 1, true, "a word added" },
		{ 40, 5, true, "more of the same words" },
		{ 50, 8, false, "a new highest posting" },
		{ 51, 1, true, "a word added after that" },
		{ 52, 10, false, "the word of the highest posting in another article too" },
		{ 50, 10, true, "the word less often, the highest posting now another's" },
		{ 50, 1, true, "the word gone from that article" },
		{ 70, 9, false, "the average length past a point of its grid" },
		{ 71, 1, true, "a word added after that" },
		/* A count kept as a float (the memory's ptf), and every score
		 * made from it so rounded: the compound's parts' posting, a
		 * count with parts of 0.7 that no float holds exactly, scores
		 * the same from the memory's counts as from the text. */
		{ 60, 11, false, "a compound's parts the highest posting" },
	};
	for (int through = 0; through < 2; through++) {
		char dir[512], memfile[600];
		disk dk;
		document *docs = memory_fixture(&dk, dir, memfile, N);
		if (!docs)
			return;
		search_memory *m = search_memory_new();
		free(build_remembered(docs, N, 2, m, 1, NULL, NULL, NULL));
		int lost = 0;
		for (size_t e = 0; e < sizeof edits / sizeof *edits; e++) {
			m = through_file(m, through ? memfile : NULL, &lost);
			document_swap_text(&docs[edits[e].doc], edits[e].doc, edits[e].variant);
			char *ref = build_cached(docs, N, 1, NULL, 1);
			double ref_top = last_top;
			char *got = build_remembered(docs, N, 2, m, 1, NULL, NULL, NULL);
			char name[200];
			snprintf(name, sizeof name, "touched terms%s: %s: the index made without the memory",
				 through ? ", through the file" : "", edits[e].what);
			ok(strcmp(got, ref) == 0, "%s", name);
			snprintf(name, sizeof name,
				 "touched terms%s: %s: the highest score, to the bit (%.17g, %.17g)",
				 through ? ", through the file" : "", edits[e].what, last_top, ref_top);
			ok(last_top == ref_top && ref_top > 0, "%s", name);
			snprintf(name, sizeof name, "touched terms%s: %s: %s (%zu of %zu)",
				 through ? ", through the file" : "", edits[e].what,
				 edits[e].few ? "only the touched terms scored" : "every term scored",
				 last_terms_scored, last_terms);
			ok(last_terms > 0 && (edits[e].few ? last_terms_scored < last_terms / 2
							   : last_terms_scored == last_terms),
			   "%s", name);
			/* Of a touched term whose number of documents stayed,
			 * only the changed article's posting: every edit here
			 * keeps some of the article's words, which others have
			 * too. */
			snprintf(name, sizeof name, "touched terms%s: %s: %s (%zu of %zu)",
				 through ? ", through the file" : "", edits[e].what,
				 edits[e].few ? "fewer postings scored than the touched terms have"
					      : "every posting scored",
				 last_postings_scored, last_postings_touched);
			ok(last_postings_scored > 0 &&
				   (edits[e].few ? last_postings_scored < last_postings_touched
						 : last_postings_scored == last_postings_touched),
			   "%s", name);
			free(got);
			free(ref);
		}
		ok(lost == 0, "touched terms%s: the memory kept", through ? ", through the file" : "");
		search_memory_free(m);
		cached_docs_free(docs, N);
		disk_gone(&dk, dir);
	}
}

/* An index large enough (65,536 postings and more) that the memory's
 * postings are merged with the changed articles' in two ranges of terms
 * at once, the second counting where the first's end: with articles
 * changed whose old postings (gone) and new ones fall in both ranges,
 * every index is the one made without the memory. */
static void test_memory_two_ranges(void)
{
	enum { N = 3000 };
	document *docs = xcalloc(N + 1, sizeof *docs);
	for (size_t i = 0; i < N; i++)
		cached_doc(&docs[i], i, 0);
	search_memory *m = search_memory_new();
	size_t held = 0, terms = 0;
	free(build_remembered(docs, N, 2, m, 1, &held, NULL, NULL));
	/* Each a variant with other words than the article had: new ones,
	 * more of the same, a stem of others' words (a word that splits
	 * others' compounds changes their terms: no postings are taken). */
	const struct { size_t doc; int variant; } edits[] = {
		{ 5, 1 }, { 1200, 5 }, { 0, 5 }, { 2999, 7 }, { 5, 2 }, { 640, 1 },
	};
	size_t n_edits = sizeof edits / sizeof *edits;
	int same = 0, merged = 0, took = 0;
	for (size_t e = 0; e < n_edits; e++) {
		document_swap_text(&docs[edits[e].doc], edits[e].doc, edits[e].variant);
		char *ref = build_cached(docs, N, 1, NULL, 1);
		char *got = build_remembered(docs, N, 2, m, 1, &held, NULL, &terms);
		same += strcmp(got, ref) == 0;
		merged += last_merge_ranges == 2;
		took += held == N - 1 && terms > 0;
		free(got);
		free(ref);
	}
	is(merged, (int)n_edits, "memory, two ranges: every build merged in two ranges of terms");
	is(took, (int)n_edits, "memory, two ranges: with all but the changed article from it");
	is(same, (int)n_edits, "memory, two ranges: every index is the one made without it");
	search_memory_free(m);
	cached_docs_free(docs, N);
}

/* The cache's vocabulary as search.c writes it: the generation, then
 * the words it numbers. */
#define VOCAB_KEY "\0gen search vocabulary 1"
#define VOCAB_KEY_LEN (sizeof VOCAB_KEY - 1)

typedef struct test_vocab {
	uint64_t gen;
	buf words;           /* as the value has them: blobs */
	size_t n;
} test_vocab;

/* Reads c's vocabulary into v; false when there is none. */
static bool vocab_of(cache_file *c, test_vocab *v)
{
	size_t len;
	const char *data = cache_get(c, VOCAB_KEY, VOCAB_KEY_LEN, &len);
	if (!data || len < 8)
		return false;
	memcpy(&v->gen, data, 8);
	buf_reader r;
	buf_reader_init(&r, data + 8, len - 8);
	v->n = (size_t)buf_get_varint(&r);
	buf_init(&v->words);
	buf_put(&v->words, r.p, (size_t)(r.end - r.p));
	return !r.bad;
}

/* The number of word w (len bytes, strlen's when 0) in v, added at the
 * end when v does not have it. */
static size_t vocab_number(test_vocab *v, const char *w, size_t len)
{
	if (!len)
		len = strlen(w);
	buf_reader r;
	buf_reader_init(&r, v->words.ptr, v->words.len);
	for (size_t i = 0; i < v->n; i++) {
		size_t wl;
		const char *x = buf_get_blob(&r, &wl);
		if (wl == len && memcmp(x, w, len) == 0)
			return i;
	}
	buf_put_blob(&v->words, w, len);
	return v->n++;
}

/* Gives c the vocabulary v, with generation gen. */
static void vocab_put(cache_file *c, const test_vocab *v, uint64_t gen)
{
	buf b = BUF_INIT;
	buf_put(&b, &gen, 8);
	buf_put_varint(&b, v->n);
	buf_put(&b, v->words.ptr, v->words.len);
	cache_put(c, VOCAB_KEY, VOCAB_KEY_LEN, b.ptr, b.len);
	buf_release(&b);
}

/* A record as search.c writes one: the generation, then its words by
 * number, each with its weighted count and its count. */
static void record(buf *out, uint64_t gen, const size_t *words, const unsigned *tf,
		   const unsigned *count, size_t n)
{
	buf_clear(out);
	buf_put(out, &gen, 8);
	buf_put_varint(out, n);
	for (size_t i = 0; i < n; i++) {
		buf_put_varint(out, words[i]);
		buf_put_varint(out, tf[i]);
		buf_put_varint(out, count[i]);
	}
}

/* One build of docs through the cache at dir, saved: its files (caller
 * frees), and how many values it read and wrote. */
static char *cached_round(const char *dir, uint64_t stamp, const document *docs, size_t n,
			  int jobs, size_t *hits, size_t *puts)
{
	cache_file *c = cache_open(dir, "search.pack", stamp, NULL);
	char *got = build_cached(docs, n, jobs, c, 1);
	*hits = cache_hits(c);
	*puts = cache_puts(c);
	cache_save(c, NULL);
	cache_close(c);
	return got;
}

static void test_cache(void)
{
	enum { N = CACHED_DOCS };
	document *docs = xcalloc(N, sizeof *docs);
	for (size_t i = 0; i < N; i++)
		cached_doc(&docs[i], i, 0);
	char dir[512];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/gen-search.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		ok(0, "a directory for the cache");
		cached_docs_free(docs, N);
		return;
	}
	const uint64_t stamp = 7;
	char *ref = build_cached(docs, N, 1, NULL, 1);

	cache_file *c = cache_open(dir, "search.pack", stamp, NULL);
	char *got = build_cached(docs, N, 4, c, 1);
	ok(strcmp(got, ref) == 0, "an empty cache: the same files as without one");
	is(cache_puts(c), N + 1, "every document's record is kept, and the vocabulary");
	cache_save(c, NULL);
	cache_close(c);
	free(got);

	for (int jobs = 1; jobs <= 4; jobs += 3) {
		c = cache_open(dir, "search.pack", stamp, NULL);
		got = build_cached(docs, N, jobs, c, 1);
		ok(cache_hits(c) == N + 1, "every document is read back (%d thread%s)", jobs,
		   jobs == 1 ? "" : "s");
		is(cache_puts(c), 0, "and none tokenised again");
		ok(strcmp(got, ref) == 0, "records read back give the same files (%d thread%s)",
		   jobs, jobs == 1 ? "" : "s");
		cache_close(c);
		free(got);
	}

	/* A record is found by language, path, content id and the stamp of
	 * what else decides the text: other text under the same path and
	 * content id (a changed filter) comes with another stamp, and is
	 * not taken from the record of the old text. */
	buf key = BUF_INIT, key2 = BUF_INIT;
	search_index *ix = NULL, *en = NULL;
	gen_err err;
	search_new(&ix, "nl", &err);
	search_new(&en, "en", &err);
	search_set_cache(ix, NULL, 1);
	search_set_cache(en, NULL, 1);
	search_cache_key(ix, &docs[5], &key);
	search_cache_key(en, &docs[5], &key2);
	ok(key.len != key2.len || memcmp(key.ptr, key2.ptr, key.len) != 0,
	   "the key depends on the language");
	buf_clear(&key2);
	search_cache_key(ix, &docs[6], &key2);
	ok(key.len != key2.len || memcmp(key.ptr, key2.ptr, key.len) != 0,
	   "on the document");
	search_set_cache(ix, NULL, 2);
	buf_clear(&key2);
	search_cache_key(ix, &docs[5], &key2);
	ok(key.len != key2.len || memcmp(key.ptr, key2.ptr, key.len) != 0,
	   "and on the stamp");
	search_set_cache(ix, NULL, 1);
	document old = docs[5];
	cached_doc(&docs[5], 5, 1);
	char *ref5 = build_cached(docs, N, 1, NULL, 2);
	c = cache_open(dir, "search.pack", stamp, NULL);
	got = build_cached(docs, N, 4, c, 2);
	is(cache_hits(c), 1, "another stamp: no record is read, only the vocabulary");
	ok(cache_puts(c) >= N, "every document is tokenised again");
	ok(strcmp(got, ref5) == 0, "and the words are the new ones");
	cache_close(c);
	free(got);
	free(ref5);
	free(docs[5].path);
	free(docs[5].url);
	free(docs[5].fm.title);
	free(docs[5].fm.summary);
	markdown_free(docs[5].md);
	docs[5] = old;

	/* Records that are whole (checksums fine) but not what search.c
	 * writes: each is refused, its document tokenised again. The
	 * vocabulary gets a stop word, for a record to name. */
	static const unsigned t2[] = { 2, 2 }, c1[] = { 1, 1 }, t1[] = { 1 }, t13[] = { 13 },
			      none[] = { 0 };
	c = cache_open(dir, "search.pack", stamp, NULL);
	free(build_cached(docs, N, 1, c, 1)); /* what a build reads is kept */
	test_vocab v;
	ok(vocab_of(c, &v), "the cache holds the vocabulary");
	size_t klant = vocab_number(&v, "klant", 0), de = vocab_number(&v, "de", 0);
	vocab_put(c, &v, v.gen);
	const size_t stop[] = { klant, de }, twice[] = { klant, klant }, one[] = { klant },
		     beyond[] = { v.n };
	buf rec = BUF_INIT;
	size_t bad = 0;
	for (size_t i = 0; i < N; i += 10) {
		buf_clear(&key);
		search_cache_key(ix, &docs[i], &key);
		size_t len;
		const char *real = cache_get(c, key.ptr, key.len, &len);
		buf_clear(&rec);
		switch (i / 10) {
		case 0: buf_put(&rec, real, len ? len - 1 : 0); break;  /* cut short */
		case 1: buf_put(&rec, real, len); buf_putc(&rec, 0); break; /* a byte more */
		case 2: break;                                           /* empty */
		case 3: record(&rec, v.gen, stop, t2, c1, 2); break;     /* a stop word */
		case 4: record(&rec, v.gen, twice, t2, c1, 2); break;    /* a word twice */
		case 5: record(&rec, v.gen, one, t1, c1, 1); break;      /* a weight too small */
		case 6: record(&rec, v.gen, one, t13, c1, 1); break;     /* a weight too large */
		case 7: record(&rec, v.gen, one, none, none, 1); break;  /* no occurrence */
		case 8: record(&rec, v.gen, beyond, t2, c1, 1); break;   /* no such number */
		case 9: record(&rec, v.gen + 1, one, t2, c1, 1); break;  /* another vocabulary */
		default: continue;
		}
		cache_put(c, key.ptr, key.len, rec.ptr, rec.len);
		bad++;
	}
	cache_save(c, NULL);
	cache_close(c);
	c = cache_open(dir, "search.pack", stamp, NULL);
	got = build_cached(docs, N, 4, c, 1);
	ok(cache_hits(c) == N + 1 - bad, "%zu malformed records are not used (%zu)", bad,
	   cache_hits(c));
	ok(cache_puts(c) >= bad, "their documents are tokenised again");
	ok(strcmp(got, ref) == 0, "and the files are those of a build without a cache");
	cache_save(c, NULL);
	cache_close(c);
	free(got);
	c = cache_open(dir, "search.pack", stamp, NULL);
	got = build_cached(docs, N, 1, c, 1);
	is(cache_hits(c), N + 1, "the next build reads every document back");
	ok(strcmp(got, ref) == 0, "with the same files");
	cache_close(c);
	free(got);

	/* A vocabulary with a word tokenising never gives (one letter, a
	 * NUL) is refused whole: every record of its generation with it,
	 * and every document is tokenised again, into a new one. */
	static const char *const odd[] = { "k", "kl\0ant", "klanttevr\0edenheid" };
	static const size_t odd_len[] = { 1, 6, 18 };
	for (size_t k = 0; k < sizeof odd / sizeof *odd; k++) {
		c = cache_open(dir, "search.pack", stamp, NULL);
		free(build_cached(docs, N, 1, c, 1));
		test_vocab w;
		ok(vocab_of(c, &w), "the vocabulary is there (%zu)", k);
		vocab_number(&w, odd[k], odd_len[k]);
		vocab_put(c, &w, w.gen);
		buf_release(&w.words);
		cache_save(c, NULL);
		cache_close(c);
		size_t hits, puts;
		got = cached_round(dir, stamp, docs, N, 4, &hits, &puts);
		ok(hits == 0 && puts == N + 1,
		   "a vocabulary with an odd word (%zu) is not used: every document again", k);
		ok(strcmp(got, ref) == 0, "with the same files (%zu)", k);
		free(got);
	}
	size_t hits, puts;
	free(cached_round(dir, stamp, docs, N, 1, &hits, &puts));
	is(hits, N + 1, "and the build after reads every document back");
	buf_release(&v.words);

	/* A vocabulary grown far past the index's words (numbers of words
	 * no document has any more) is begun again by the next build that
	 * writes a record: that record is of the new one, and the build
	 * after reads it and tokenises the others once into it. */
	c = cache_open(dir, "search.pack", stamp, NULL);
	free(build_cached(docs, N, 1, c, 1));
	test_vocab big;
	ok(vocab_of(c, &big), "the vocabulary before it grows");
	size_t before = big.n;
	char word[32];
	for (int k = 0; k < 30000; k++) {
		snprintf(word, sizeof word, "vergeten%05d", k);
		vocab_number(&big, word, 0);
	}
	vocab_put(c, &big, big.gen);
	buf_clear(&key);
	search_cache_key(ix, &docs[3], &key);
	cache_put(c, key.ptr, key.len, "", 0); /* document 3 is tokenised again */
	cache_save(c, NULL);
	cache_close(c);
	got = cached_round(dir, stamp, docs, N, 2, &hits, &puts);
	ok(strcmp(got, ref) == 0, "a grown vocabulary: the same files");
	free(got);
	c = cache_open(dir, "search.pack", stamp, NULL);
	test_vocab fresh = { 0 };
	bool begun = vocab_of(c, &fresh) && fresh.gen != big.gen && fresh.n > 0 &&
		     fresh.n < before;
	ok(begun, "it was begun again, with the words of the record written (%zu of %zu)",
	   fresh.n, big.n);
	cache_close(c);
	got = cached_round(dir, stamp, docs, N, 2, &hits, &puts);
	ok(hits == 2 && puts == N, "the next build reads that record and the vocabulary, "
	   "and tokenises the others (%zu, %zu)", hits, puts);
	ok(strcmp(got, ref) == 0, "with the same files");
	free(got);
	buf_release(&big.words);
	buf_release(&fresh.words);

	search_free(ix);
	search_free(en);
	buf_release(&rec);
	buf_release(&key);
	buf_release(&key2);
	free(ref);
	cached_docs_free(docs, N);
	char path[600];
	snprintf(path, sizeof path, "%s/search.pack", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_stopwords();
	test_tokenizer();
	test_compounds();
	test_ranking();
	test_levels();
	test_shards();
	test_threads();
	test_threads_fail();
	test_empty();
	test_cache();
	test_memory();
	test_memory_file();
	test_memory_streamed();
	test_memory_lagging();
	test_memory_touched();
	test_memory_two_ranges();
	return done_testing();
}
