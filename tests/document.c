/* Unit tests for document_facts: what other pages read of an article.
 * An edit that only they would not show (words of the text, lines moved)
 * leaves the facts as they were; an edit of anything another page shows
 * (title, summary, themes, a link, the sentence around a link, a heading,
 * a tip, an anchor, the first paragraph) changes them. A thawed article
 * has the facts of the parsed one. The build's use of them (pages kept
 * without their fingerprints) is tested in cache.sh. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "document.h"
#include "fixture.h"
#include "tap.h"
#include "xalloc.h"

static config cfg;

#define FRONT "+++\ntitle = \"De garage\"\nkind = \"story\"\nthemes = [\"grenzen\"]\n" \
	      "summary = \"Een klant belt.\"\n+++\n"

static const char *const base =
	FRONT
	"De klant komt binnen.\n"
	"\n"
	"## Aan de balie\n"
	"\n"
	"Zie [de tips](../tips/x.md#tip-1) voor meer.\n"
	"\n"
	"Het regent buiten.\n"
	"\n"
	"Een voetnoot[^1].\n"
	"\n"
	"[^1]: Uit het archief.\n";

/* The facts of text parsed as content/verhalen/garage.md, or 0 when it
 * does not parse. With thawed, of the document frozen and thawed. */
static uint64_t facts_of(const char *text, bool thawed)
{
	source_file f;
	char path[] = "content/verhalen/garage.md";
	fixture_source(&f, path, text, strlen(text));
	document d;
	gen_err e;
	if (document_parse(&d, &f, &cfg, false, NULL, &e) < 0) {
		diag("%s:%d:%d: %s", e.file, e.line, e.col, e.msg);
		return 0;
	}
	uint64_t h = document_facts(&d);
	if (thawed) {
		buf frozen = BUF_INIT;
		document_freeze(&d, &frozen);
		document t;
		h = document_thaw(&t, &f, &cfg, frozen.ptr, frozen.len, MARKDOWN_COPY) == 0 ? t.facts : 0;
		if (h)
			document_release(&t);
		buf_release(&frozen);
	}
	document_release(&d);
	return h;
}

/* base with its first from replaced by to. */
static char *edited(const char *from, const char *to)
{
	const char *at = strstr(base, from);
	if (!at)
		return NULL;
	buf b = BUF_INIT;
	buf_put(&b, base, (size_t)(at - base));
	buf_puts(&b, to);
	buf_puts(&b, at + strlen(from));
	return buf_detach(&b);
}

/* Whether the edit from -> to of base changes its facts, as it should. */
static void check_edit(const char *from, const char *to, bool change, const char *what)
{
	char *t = edited(from, to);
	uint64_t a = facts_of(base, false), b = t ? facts_of(t, false) : 0;
	ok(t && a && b && (a != b) == change, "%s: %s", change ? "facts change" : "facts as before",
	   what);
	free(t);
}


/* Four threads ask for one deferred table at once: each gets the one
 * table, made once. */
typedef struct asker {
	const frontmatter *fm;
	pthread_barrier_t *start;
	const value *got;
} asker;

static void *ask_meta(void *arg)
{
	asker *a = arg;
	pthread_barrier_wait(a->start);
	a->got = frontmatter_meta(a->fm);
	return NULL;
}

static void test_meta_threads(const source_file *f, const buf *frozen)
{
	size_t same = 0, rounds = 50;
	for (size_t r = 0; r < rounds; r++) {
		document th;
		if (document_thaw(&th, f, &cfg, frozen->ptr, frozen->len, MARKDOWN_BORROW_ALL) < 0)
			break;
		pthread_barrier_t start;
		pthread_barrier_init(&start, NULL, 4);
		asker a[4];
		pthread_t t[4];
		for (int i = 0; i < 4; i++) {
			a[i] = (asker){ &th.fm, &start, NULL };
			pthread_create(&t[i], NULL, ask_meta, &a[i]);
		}
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&start);
		same += a[0].got && a[0].got == a[1].got && a[1].got == a[2].got &&
			a[2].got == a[3].got && a[0].got == th.fm.meta;
		document_release(&th);
	}
	is(same, rounds, "deferred: four threads at once get the one table, 50 times over");
}

/* A borrowing thaw leaves the front matter's table frozen until it is
 * asked for (frontmatter_meta), and gives the parsed one then; frozen
 * again, the article's bytes are as before, asked or not. */
static void test_meta_deferred(void)
{
	/* FRONT ends the block: a key of its own goes before the end. */
	buf t = BUF_INIT;
	buf_put(&t, FRONT, strlen(FRONT) - 4);
	buf_puts(&t, "niveau = \"basis\"\n+++\nDe klant komt binnen.\n");
	source_file f;
	char path[] = "content/verhalen/garage.md";
	fixture_source(&f, path, t.ptr, t.len);
	document d;
	gen_err e;
	if (!ok(document_parse(&d, &f, &cfg, false, NULL, &e) == 0, "deferred: parses")) {
		diag("%s:%d:%d: %s", e.file, e.line, e.col, e.msg);
		buf_release(&t);
		return;
	}
	buf frozen = BUF_INIT, again = BUF_INIT, twice = BUF_INIT;
	document_freeze(&d, &frozen);
	document th;
	if (ok(document_thaw(&th, &f, &cfg, frozen.ptr, frozen.len, MARKDOWN_BORROW_ALL) == 0,
	       "deferred: thaws")) {
		ok(th.fm.meta == NULL && th.fm.meta_frozen != NULL, "deferred: the table is left frozen");
		document_freeze(&th, &again);
		ok(again.len == frozen.len && memcmp(again.ptr, frozen.ptr, frozen.len) == 0,
		   "deferred: frozen again unread, the same bytes");
		const value *m = frontmatter_meta(&th.fm);
		ok(m && value_hash(m, 0) == value_hash(d.fm.meta, 0),
		   "deferred: asked for, the parsed table");
		is_str(value_string(value_get(m, "niveau"), NULL), "basis", "deferred: with its own key");
		ok(frontmatter_meta(&th.fm) == m, "deferred: made once");
		document_freeze(&th, &twice);
		ok(twice.len == frozen.len && memcmp(twice.ptr, frozen.ptr, frozen.len) == 0,
		   "deferred: and after, the same bytes");
		document_release(&th);
	}
	test_meta_threads(&f, &frozen);
	document copy;
	if (ok(document_thaw(&copy, &f, &cfg, frozen.ptr, frozen.len, MARKDOWN_COPY) == 0,
	       "deferred: a copying thaw")) {
		ok(copy.fm.meta && value_hash(copy.fm.meta, 0) == value_hash(d.fm.meta, 0),
		   "deferred: makes the table at once");
		document_release(&copy);
	}
	buf_release(&frozen);
	buf_release(&again);
	buf_release(&twice);
	buf_release(&t);
	document_release(&d);
}

/* Threads that ask a borrowing thaw for its evidence and its headings at
 * once: each gets what the one read made. */
typedef struct tail_asker {
	const document *d;
	pthread_barrier_t *start;
	bool headings;
	const void *got;
	size_t n;
} tail_asker;

static void *ask_tail(void *arg)
{
	tail_asker *a = arg;
	pthread_barrier_wait(a->start);
	if (a->headings) {
		a->n = markdown_heading_count(a->d->md);
		a->got = markdown_heading_at(a->d->md, 0);
	} else {
		a->n = document_evidence_count(a->d);
		a->got = document_evidence_at(a->d, 0);
	}
	return NULL;
}

/* An article's evidence, like its Markdown's tail, comes after the head
 * a one-shot build checks, with a checksum of its own: a borrowing thaw
 * reads and checks it when first asked for; damage found then reads as
 * none, and sets the flag the build starts again on. */
static void test_evidence_deferred(void)
{
	source_file f;
	char path[] = "content/verhalen/garage.md";
	fixture_source(&f, path, base, strlen(base));
	document d;
	gen_err e;
	if (!ok(document_parse(&d, &f, &cfg, false, NULL, &e) == 0, "evidence: parses")) {
		diag("%s:%d:%d: %s", e.file, e.line, e.col, e.msg);
		return;
	}
	/* As a filter leaves it (filter.c). */
	d.nevidence = 2;
	d.evidence = calloc(2, sizeof *d.evidence);
	d.evidence[0] = (document_evidence){ strdup("grenzen"), 7, strdup("Het regent buiten."),
					     strdup("bewijs-grenzen-1"), NULL };
	d.evidence[1] = (document_evidence){ strdup("feedback"), 9, strdup("Een voetnoot."),
					     strdup("bewijs-feedback-1"), strdup("een noot") };
	d.facts = document_facts(&d);
	buf frozen = BUF_INIT, replay = BUF_INIT, again = BUF_INIT;
	size_t head = 0;
	document_freeze_split(&d, &frozen, &replay, &head);
	const char *excerpt = "Het regent buiten.";
	const char *at = NULL;
	for (size_t i = head; !at && i + strlen(excerpt) <= frozen.len; i++)
		if (memcmp(frozen.ptr + i, excerpt, strlen(excerpt)) == 0)
			at = frozen.ptr + i;
	ok(head > 0 && head < frozen.len && at, "evidence: after the head (%zu of %zu bytes)", head,
	   frozen.len);
	atomic_bool damage = false;
	document th;
	if (ok(document_thaw_split(&th, &f, &cfg, frozen.ptr, frozen.len, replay.ptr, replay.len,
				   MARKDOWN_BORROW_ALL, &damage) == 0,
	       "evidence: thaws")) {
		ok(!document_evidence_held(&th) && !markdown_tail_held(th.md) &&
			   th.facts == d.facts,
		   "evidence: left unread, and the Markdown's tail, with the facts there");
		is((int)document_evidence_count(&th), 2, "evidence: asked for, both");
		const document_evidence *x = document_evidence_at(&th, 1);
		ok(document_evidence_held(&th) && x && strcmp(x->theme, "feedback") == 0 &&
			   x->line == 9 && strcmp(x->note, "een noot") == 0 &&
			   document_evidence_at(&th, 2) == NULL && !atomic_load(&damage),
		   "evidence: read whole, as it was");
		ok(document_facts(&th) == d.facts, "evidence: the facts made again are the same");
		document_freeze_split(&th, &again, NULL, NULL);
		buf parsed = BUF_INIT;
		document_freeze_split(&d, &parsed, NULL, NULL);
		ok(again.len == parsed.len && memcmp(again.ptr, parsed.ptr, parsed.len) == 0,
		   "evidence: frozen again, the same bytes");
		buf_release(&parsed);
		document_release(&th);
	}
	/* Many threads asking at once. */
	for (int round = 0; round < 20; round++) {
		if (document_thaw_split(&th, &f, &cfg, frozen.ptr, frozen.len, replay.ptr,
					replay.len, MARKDOWN_BORROW_ALL, &damage) < 0)
			break;
		pthread_barrier_t start;
		pthread_barrier_init(&start, NULL, 4);
		tail_asker a[4];
		pthread_t tid[4];
		for (int i = 0; i < 4; i++) {
			a[i] = (tail_asker){ &th, &start, i % 2 == 1, NULL, 0 };
			pthread_create(&tid[i], NULL, ask_tail, &a[i]);
		}
		for (int i = 0; i < 4; i++)
			pthread_join(tid[i], NULL);
		pthread_barrier_destroy(&start);
		bool same = a[0].n == 2 && a[1].n == 1 && a[0].got == a[2].got &&
			    a[1].got == a[3].got && a[2].n == 2 && a[3].n == 1 && a[0].got &&
			    a[1].got;
		document_release(&th);
		if (!same || round == 19) {
			ok(same, "evidence: four threads at once get what one read made (round %d)",
			   round);
			break;
		}
	}
	/* A byte of the evidence changed. */
	frozen.ptr[at - frozen.ptr + 3] ^= 0x20;
	if (ok(document_thaw_split(&th, &f, &cfg, frozen.ptr, frozen.len, replay.ptr, replay.len,
				   MARKDOWN_BORROW_ALL, &damage) == 0 &&
		       !atomic_load(&damage),
	       "evidence: damaged, it thaws unread")) {
		ok(strcmp(th.fm.title, "De garage") == 0 && markdown_link_count(th.md) == 1 &&
			   !atomic_load(&damage),
		   "evidence: the rest reads without it");
		ok(document_evidence_count(&th) == 0 && atomic_load(&damage),
		   "evidence: the first read finds the damage: none");
		buf_clear(&again);
		buf again_replay = BUF_INIT;
		document_freeze_split(&th, &again, &again_replay, NULL);
		ok(again.len == frozen.len && memcmp(again.ptr, frozen.ptr, frozen.len) == 0,
		   "evidence: frozen again damage and all");
		buf_release(&again_replay);
		document_release(&th);
	}
	atomic_store(&damage, false);
	ok(document_thaw_split(&th, &f, &cfg, frozen.ptr, frozen.len, replay.ptr, replay.len,
			       MARKDOWN_BORROW_TEXT, &damage) < 0,
	   "evidence: a thaw that copies it refuses it damaged");
	buf_release(&frozen);
	buf_release(&replay);
	buf_release(&again);
	document_release(&d);
}

/* Where pages go and what links to them say: a file's name as it is,
 * the URL escaped; an alias's page where the old URL leads. */
static void test_paths(void)
{
	static const struct {
		const char *alias, *path;
	} aliases[] = {
		{ "/oud/pad/", "oud/pad/index.html" },
		{ "oud/pad", "oud/pad/index.html" },
		{ "/oud.html", "oud.html" },
		{ "/", "index.html" },
		{ "/oude%20plek/", "oude plek/index.html" },
		{ "caf%C3%A9", "caf\xc3\xa9/index.html" },
		{ "%2e%2e/buiten", "../buiten/index.html" },
		{ "50%korting", "50%korting/index.html" },
	};
	for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++) {
		char *got = document_alias_path(aliases[i].alias);
		char name[128];
		snprintf(name, sizeof name, "alias '%s': its page at the path it names",
			 aliases[i].alias);
		is_str(got, aliases[i].path, name);
		free(got);
	}
	source_file f;
	char path[] = "content/verhalen/Klant aan het woord.md";
	static const char text[] = "+++\ntitle = \"K\"\n+++\nTekst.\n";
	fixture_source(&f, path, text, strlen(text));
	document d;
	gen_err e;
	if (document_parse(&d, &f, &cfg, false, NULL, &e) < 0) {
		ok(0, "document_parse: %s", e.msg);
		return;
	}
	is_str(d.url, "verhalen/Klant%20aan%20het%20woord/", "a name with spaces: its URL escaped");
	is_str(d.out_path, "verhalen/Klant aan het woord/index.html",
	       "and its page under the name as it is");
	document_release(&d);
}

/* document_paths_gather: each article's five paths read as before, from
 * one block, each article's after the one before. */
static void test_paths_gathered(void)
{
	static const char *names[] = { "content/verhalen/de-garage.md",
				       "content/tips/_index.md",
				       "content/verhalen/Klant aan het woord.md" };
	enum { N = 3 };
	static const char text[] = "+++\ntitle = \"K\"\n+++\nTekst.\n";
	document d[N];
	char *before[N][5];
	for (size_t i = 0; i < N; i++) {
		source_file f;
		char path[128];
		snprintf(path, sizeof path, "%s", names[i]);
		fixture_source(&f, path, text, strlen(text));
		gen_err e;
		if (document_parse(&d[i], &f, &cfg, false, NULL, &e) < 0) {
			ok(0, "gathered paths: document_parse: %s", e.msg);
			for (size_t k = 0; k < i; k++)
				document_release(&d[k]);
			return;
		}
		const char *p[5] = { d[i].path, d[i].rel, d[i].dir, d[i].out_path, d[i].url };
		for (size_t k = 0; k < 5; k++)
			before[i][k] = xstrdup(p[k]);
	}
	char *block = document_paths_gather(d, N);
	int same = 0, next = 0;
	for (size_t i = 0; i < N; i++) {
		const char *p[5] = { d[i].path, d[i].rel, d[i].dir, d[i].out_path, d[i].url };
		for (size_t k = 0; k < 5; k++)
			same += strcmp(p[k], before[i][k]) == 0;
		next += d[i].path == (i ? d[i - 1].url + strlen(d[i - 1].url) + 1 : block);
	}
	is(same, N * 5, "gathered paths: every path as it was");
	is(next, N, "gathered paths: each article's right after the one before, in one block");
	is_str(d[2].url, "verhalen/Klant%20aan%20het%20woord/", "gathered paths: an escaped URL kept");
	for (size_t i = 0; i < N; i++) {
		document_release(&d[i]);
		for (size_t k = 0; k < 5; k++)
			free(before[i][k]);
	}
	free(block);
}

int main(void)
{
	static const char site_toml[] = "title = \"Test\"\n";
	gen_err e;
	if (config_parse(&cfg, site_toml, strlen(site_toml), "site.toml", NULL, &e) < 0) {
		err_print(&e, stdout);
		return 1;
	}
	uint64_t parsed = facts_of(base, false);
	ok(parsed != 0, "an article has facts");
	is((int)(facts_of(base, true) == parsed), 1, "thawed from the cache, the same facts");
	is((int)(facts_of(base, false) == parsed), 1, "the same article, the same facts");

	static const struct {
		const char *from, *to;
		bool change;
		const char *what;
	} edits[] = {
		{ "Het regent buiten.", "Het regent buiten, en het waait.", false,
		  "words added to a paragraph without a link" },
		{ "Het regent buiten.\n", "Het regent buiten.\n\nEen nieuwe alinea.\n", false,
		  "a paragraph added without a link" },
		{ FRONT, FRONT "\n\n", false, "lines moved down (only messages show line numbers)" },
		{ "title = \"De garage\"", "title = \"De werkplaats\"", true, "the title" },
		{ "summary = \"Een klant belt.\"", "summary = \"Een klant mailt.\"", true,
		  "the summary" },
		{ "themes = [\"grenzen\"]", "themes = [\"grenzen\", \"feedback\"]", true, "the themes" },
		{ "kind = \"story\"", "kind = \"tips\"", true, "the kind" },
		{ "+++\nDe", "date = 2020-01-02\n+++\nDe", true, "the date" },
		{ "summary =", "author = \"Femke\"\nsummary =", true, "the author" },
		{ "summary =", "weight = 3\nsummary =", true, "the weight" },
		{ "summary =", "aliases = [\"oud/\"]\nsummary =", true, "the aliases" },
		{ "summary =", "niveau = \"basis\"\nsummary =", true,
		  "a key of its own in the front matter" },
		{ "De klant komt binnen.", "De klant komt boos binnen.", true,
		  "the first paragraph (the summary when there is none)" },
		{ "## Aan de balie", "## Bij de balie", true, "a heading (its text and id)" },
		{ "## Aan de balie", "### Aan de balie", true, "a heading's level" },
		{ "../tips/x.md#tip-1", "../tips/x.md#tip-2", true, "where a link leads" },
		{ "[de tips]", "[het lijstje]", true, "a link's text" },
		{ "Zie [de tips]", "Lees [de tips]", true, "the sentence around a link (its context)" },
		{ "Zie [de tips]", "Zie ![de tips]", true, "a link made an image" },
		{ "[^1]: Uit het archief.", "[^2]: Uit het archief.", true, "a footnote's anchor" },
	};
	for (size_t i = 0; i < sizeof edits / sizeof *edits; i++)
		check_edit(edits[i].from, edits[i].to, edits[i].change, edits[i].what);
	test_meta_deferred();
	test_evidence_deferred();
	test_paths();
	test_paths_gathered();
	config_release(&cfg);
	return done_testing();
}
