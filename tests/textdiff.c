/* Unit tests for textdiff: the edit script is valid and minimal (checked
 * against a dynamic-programming LCS on random inputs), and the HTML and
 * terminal renderings mark changed lines and words. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "textdiff.h"

/* Applies runs to a and checks the result is b; returns the number of
 * deleted plus inserted items, or -1 when the script is wrong. */
static long apply(const textdiff_run *runs, size_t nr, const uint32_t *a, size_t n,
		  const uint32_t *b, size_t m)
{
	size_t i = 0, j = 0;
	long d = 0;
	for (size_t r = 0; r < nr; r++) {
		if (r > 0 && runs[r].op == runs[r - 1].op)
			return -1;
		for (size_t c = 0; c < runs[r].count; c++) {
			switch (runs[r].op) {
			case TEXTDIFF_SAME:
				if (i >= n || j >= m || a[i] != b[j])
					return -1;
				i++;
				j++;
				break;
			case TEXTDIFF_DEL:
				if (i >= n)
					return -1;
				i++;
				d++;
				break;
			case TEXTDIFF_INS:
				if (j >= m)
					return -1;
				j++;
				d++;
				break;
			}
		}
	}
	return i == n && j == m ? d : -1;
}

static long lcs_distance(const uint32_t *a, size_t n, const uint32_t *b, size_t m)
{
	size_t *row = calloc(m + 1, sizeof *row), *prev = calloc(m + 1, sizeof *prev);
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			if (a[i - 1] == b[j - 1])
				row[j] = prev[j - 1] + 1;
			else
				row[j] = row[j - 1] > prev[j] ? row[j - 1] : prev[j];
		}
		size_t *t = prev;
		prev = row;
		row = t;
	}
	long l = (long)prev[m];
	free(row);
	free(prev);
	return (long)n + (long)m - 2 * l;
}

static void test_ids(void)
{
	/* The example of Myers' paper: ABCABBA -> CBABAC, D = 5. */
	uint32_t a[] = { 'A', 'B', 'C', 'A', 'B', 'B', 'A' };
	uint32_t b[] = { 'C', 'B', 'A', 'B', 'A', 'C' };
	textdiff_run *runs = NULL;
	size_t nr = textdiff_ids(&runs, a, 7, b, 6);
	is(apply(runs, nr, a, 7, b, 6), 5, "Myers' example: valid script with D = 5");
	free(runs);

	nr = textdiff_ids(&runs, a, 7, a, 7);
	ok(nr == 1 && runs[0].op == TEXTDIFF_SAME && runs[0].count == 7,
	   "identical input is one SAME run");
	free(runs);
	nr = textdiff_ids(&runs, NULL, 0, b, 6);
	ok(nr == 1 && runs[0].op == TEXTDIFF_INS && runs[0].count == 6, "from empty: one INS run");
	free(runs);
	nr = textdiff_ids(&runs, a, 7, NULL, 0);
	ok(nr == 1 && runs[0].op == TEXTDIFF_DEL, "to empty: one DEL run");
	free(runs);
	nr = textdiff_ids(&runs, NULL, 0, NULL, 0);
	is(nr, 0, "both empty: no runs");
	free(runs);

	/* Random inputs over small alphabets: valid and minimal. */
	srand(7);
	int bad_valid = 0, bad_min = 0;
	for (int t = 0; t < 400; t++) {
		size_t n = (size_t)(rand() % 60), m = (size_t)(rand() % 60);
		uint32_t x[60], y[60];
		uint32_t alpha = (uint32_t)(2 + rand() % 6);
		for (size_t i = 0; i < n; i++)
			x[i] = (uint32_t)rand() % alpha;
		for (size_t i = 0; i < m; i++)
			y[i] = (uint32_t)rand() % alpha;
		/* Half the cases are edits of x rather than unrelated strings. */
		if (t % 2) {
			m = n;
			memcpy(y, x, n * sizeof *x);
			for (int e = 0; e < 3 && m; e++)
				y[rand() % m] = (uint32_t)rand() % alpha;
		}
		nr = textdiff_ids(&runs, x, n, y, m);
		long d = apply(runs, nr, x, n, y, m);
		if (d < 0)
			bad_valid++;
		else if (d != lcs_distance(x, n, y, m))
			bad_min++;
		free(runs);
	}
	is(bad_valid, 0, "400 random pairs: every script turns a into b");
	is(bad_min, 0, "400 random pairs: every script is minimal");

	/* A large input stays correct. */
	size_t big = 20000;
	uint32_t *x = malloc(big * sizeof *x), *y = malloc(big * sizeof *y);
	for (size_t i = 0; i < big; i++) {
		x[i] = (uint32_t)rand() % 50;
		y[i] = i % 7 ? x[i] : (uint32_t)rand() % 50;
	}
	nr = textdiff_ids(&runs, x, big, y, big);
	ok(apply(runs, nr, x, big, y, big) >= 0, "20,000 items: valid script");
	free(runs);
	free(x);
	free(y);
}

static void test_lines(void)
{
	const char *a = "een\ntwee\ndrie\n";
	const char *b = "een\nTWEE\ndrie\nvier\n";
	textdiff_run *runs = NULL;
	size_t nr = textdiff_lines(&runs, a, strlen(a), b, strlen(b));
	ok(nr == 5 && runs[0].op == TEXTDIFF_SAME && runs[1].op == TEXTDIFF_DEL &&
	   runs[2].op == TEXTDIFF_INS && runs[3].op == TEXTDIFF_SAME &&
	   runs[4].op == TEXTDIFF_INS, "line script: same, del, ins, same, ins");
	free(runs);
	nr = textdiff_lines(&runs, "x", 1, "x\n", 2);
	ok(nr == 1 && runs[0].op == TEXTDIFF_SAME, "a missing final newline is not a change");
	free(runs);
}

static void test_html(void)
{
	const char *a = "+++\ntitle = \"De garage\"\n+++\n"
			"De klant kwam binnen en de medewerker keek niet op.\n"
			"Regel vier.\nRegel vijf.\nRegel zes.\nRegel zeven.\nRegel acht.\n"
			"Regel negen.\nRegel tien.\nRegel elf.\n";
	const char *b = "+++\ntitle = \"De garage\"\n+++\n"
			"De klant kwam binnen en de monteur keek meteen op.\n"
			"Regel vier.\nRegel vijf.\nRegel zes.\nRegel zeven.\nRegel acht.\n"
			"Regel negen.\nRegel tien.\nRegel elf.\nEen <b>nieuwe</b> zin & meer.\n";
	buf out = BUF_INIT;
	textdiff_stats st;
	textdiff_options opt = { 2, false };
	textdiff_html(&out, a, strlen(a), b, strlen(b), &opt, &st);
	is(st.removed, 1, "one line removed");
	is(st.added, 2, "two lines added");
	ok(strstr(out.ptr, "<table class=\"diff\">") != NULL, "an HTML table");
	ok(strstr(out.ptr, "en de <del class=\"diff-word\">medewerker</del> keek "
			   "<del class=\"diff-word\">niet</del> op.") != NULL,
	   "changed words of the old line marked");
	ok(strstr(out.ptr, "en de <ins class=\"diff-word\">monteur</ins> keek "
			   "<ins class=\"diff-word\">meteen</ins> op.") != NULL,
	   "changed words of the new line marked");
	ok(strstr(out.ptr, "De klant kwam binnen en de ") != NULL, "unchanged words shown plain");
	ok(strstr(out.ptr, "<ins>Een &lt;b&gt;nieuwe&lt;/b&gt; zin &amp; meer.</ins>") != NULL,
	   "an added line is one <ins>, escaped");
	ok(strstr(out.ptr, "class=\"diff-skip\"") != NULL, "lines beyond the context are skipped");
	ok(strstr(out.ptr, "Regel zes.") == NULL, "a line far from any change is not shown");
	ok(strstr(out.ptr, "<td class=\"diff-ln\">4</td><td class=\"diff-ln\"></td>") != NULL,
	   "removed line carries its old line number only");
	ok(strstr(out.ptr, "<td class=\"diff-ln\"></td><td class=\"diff-ln\">13</td>") != NULL,
	   "added line carries its new line number only");
	buf_release(&out);

	/* Lines too different are not paired word by word. */
	const char *c = "Alpha beta gamma delta.\n", *d = "Volstrekt andere inhoud hier.\n";
	textdiff_html(&out, c, strlen(c), d, strlen(d), NULL, NULL);
	ok(strstr(out.ptr, "<del>Alpha beta gamma delta.</del>") &&
	   strstr(out.ptr, "<ins>Volstrekt andere inhoud hier.</ins>"),
	   "unrelated lines shown whole");
	buf_release(&out);

	/* A line of 100 KB replaced by thousands of short ones: too unlike
	 * by their length to be compared word by word, each of them (it was
	 * once the whole long line again for every short one). */
	{
		buf longer = BUF_INIT, many = BUF_INIT;
		for (int i = 0; i < 25000; i++)
			buf_puts(&longer, "> [");
		buf_puts(&longer, "diep\n");
		for (int i = 0; i < 5000; i++)
			buf_printf(&many, "- punt %d\n", i);
		textdiff_stats lst;
		textdiff_html(&out, longer.ptr, longer.len, many.ptr, many.len, NULL, &lst);
		is(lst.removed, 1, "the long line removed");
		is(lst.added, 5000, "the short ones added");
		is(lst.compared, 0, "no pair compared word by word");
		ok(strstr(out.ptr, "<ins>- punt 4999</ins>") != NULL, "each shown whole");
		buf_clear(&out);
		/* Lines of alike length are still compared. */
		const char *x = "een twee drie vier\n", *y = "een twee DRIE vier\nvijf\n";
		textdiff_html(&out, x, strlen(x), y, strlen(y), NULL, &lst);
		is(lst.compared, 1, "two lines of alike length are compared");
		ok(strstr(out.ptr, "<ins class=\"diff-word\">DRIE</ins>") != NULL, "and their words marked");
		buf_release(&out);
		buf_release(&longer);
		buf_release(&many);
	}

	/* The same words in another order: alike as bags of words, unlike
	 * as text, so not paired either. */
	const char *r1 = "een twee drie vier vijf zes\n", *r2 = "zes vijf vier drie twee een\n";
	textdiff_html(&out, r1, strlen(r1), r2, strlen(r2), NULL, NULL);
	ok(strstr(out.ptr, "<del>een twee drie vier vijf zes</del>") &&
	   strstr(out.ptr, "<ins>zes vijf vier drie twee een</ins>"),
	   "the same words reordered are shown whole");
	buf_release(&out);

	/* Blanks between two changed words join them into one mark. */
	const char *g = "een twee drie vier\n", *h = "een TWEE DRIE vier\n";
	textdiff_html(&out, g, strlen(g), h, strlen(h), NULL, NULL);
	ok(strstr(out.ptr, "een <del class=\"diff-word\">twee drie</del> vier") != NULL,
	   "adjacent changed words are one mark");
	buf_release(&out);

	/* Blanks at the edge of a change are not part of the mark. */
	const char *w1 = "Dat werkt.\n", *w2 = "Dat werkt altijd.\n";
	textdiff_html(&out, w1, strlen(w1), w2, strlen(w2), NULL, NULL);
	ok(strstr(out.ptr, "Dat werkt <ins class=\"diff-word\">altijd</ins>.") != NULL,
	   "a mark starts at the word, not at the blank before it");
	buf_release(&out);

	/* Unpaired: the removed line comes first. */
	const char *u1 = "De baliemedewerker zei\n", *u2 = "De medewerker aan de balie zei\n";
	textdiff_html(&out, u1, strlen(u1), u2, strlen(u2), NULL, NULL);
	const char *pd = strstr(out.ptr, "<del>"), *pi = strstr(out.ptr, "<ins>");
	ok(pd && pi && pd < pi, "an unpaired removal is shown before the addition");
	buf_release(&out);

	/* UTF-8 words are never split. */
	const char *e = "Ideeën zijn welkom.\n", *f = "Ideeen zijn welkom.\n";
	textdiff_html(&out, e, strlen(e), f, strlen(f), NULL, NULL);
	ok(strstr(out.ptr, "<del class=\"diff-word\">Ideeën</del>") != NULL,
	   "a word with a diacritic is marked whole");
	buf_release(&out);

	/* Context < 0: every line. */
	opt.context = -1;
	textdiff_html(&out, a, strlen(a), b, strlen(b), &opt, NULL);
	ok(strstr(out.ptr, "Regel zes.") && !strstr(out.ptr, "diff-skip"), "context -1 shows all lines");
	buf_release(&out);

	/* A new file: all lines added. */
	textdiff_html(&out, "", 0, c, strlen(c), NULL, &st);
	ok(st.added == 1 && st.removed == 0 && strstr(out.ptr, "<ins>Alpha"), "new file: all added");
	buf_release(&out);
}

static void test_text(void)
{
	const char *a = "een\ntwee drie vier\nvijf\n";
	const char *b = "een\ntwee DRIE vier\nvijf\nzes\n";
	buf out = BUF_INIT;
	textdiff_options opt = { 3, false };
	textdiff_text(&out, a, strlen(a), b, strlen(b), &opt, NULL);
	is_str(out.ptr, "@@ -1,3 +1,4 @@\n een\n-twee [-drie-] vier\n+twee {+DRIE+} vier\n vijf\n+zes\n",
	       "terminal diff without colour");
	buf_clear(&out);
	opt.color = true;
	textdiff_text(&out, a, strlen(a), b, strlen(b), &opt, NULL);
	ok(strstr(out.ptr, "\033[31m-twee \033[7mdrie\033[27m vier\033[m") != NULL,
	   "colour: removed word in reverse red");
	buf_clear(&out);
	opt.color = false;
	opt.context = 0;
	const char *c = "1\n2\n3\n4\n5\n6\n", *d = "1\n2\n3\n4\n5\n";
	textdiff_text(&out, c, strlen(c), d, strlen(d), &opt, NULL);
	is_str(out.ptr, "@@ -6,1 +5,0 @@\n-6\n", "an empty side names the line before");
	buf_release(&out);
}

int main(void)
{
	test_ids();
	test_lines();
	test_html();
	test_text();
	return done_testing();
}
