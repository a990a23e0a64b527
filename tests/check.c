/* Unit tests for check's memory (check_site_with), as gen serve uses it:
 * while the world the checks look at is as it was and the last check
 * found nothing, the site's checks are not run again, and the messages
 * are always those check_site gives. The rules themselves are tested
 * through the command line in check.sh. */
#include "fixture.h"

#include <string.h>

#include "check.h"
#include "links.h"
#include "tap.h"

/* The messages of diags, one a line. */
static char *messages(const diag_list *d)
{
	buf out = BUF_INIT;
	for (size_t i = 0; i < d->n; i++)
		buf_printf(&out, "%s:%d:%d: %s\n", d->items[i].file, d->items[i].line,
			   d->items[i].col, d->items[i].msg);
	return buf_detach(&out);
}

static void write_article(int i, const char *theme, const char *extra)
{
	char path[64], text[512];
	snprintf(path, sizeof path, "content/verhalen/a%02d.md", i);
	snprintf(text, sizeof text,
		 "+++\ntitle = \"Verhaal %d\"\nkind = \"story\"\nthemes = [\"%s\"]\n+++\n"
		 "Een klant belde.%s\n",
		 i, theme, extra);
	fixture_write(path, text);
}

int main(void)
{
	fixture_begin();
	fixture_write("site.toml", "title = \"T\"\n[themes.feedback]\ntitle = \"Feedback\"\n"
				   "[themes.grenzen]\ntitle = \"Grenzen\"\n");
	for (int i = 0; i < 20; i++)
		write_article(i, i % 2 ? "feedback" : "grenzen", "");
	/* Without text: a warning every build, whatever the memory says. */
	fixture_write("content/verhalen/leeg.md",
		      "+++\ntitle = \"Leeg\"\nkind = \"story\"\nthemes = [\"feedback\"]\n+++\n");
	check_memory m;
	memset(&m, 0, sizeof m);
	const char *what[] = { "a first check", "nothing changed", "an article's text changed",
			       "an unknown theme", "the unknown theme still there",
			       "the theme fixed", "nothing changed again" };
	const bool held[] = { false, true, true, false, false, false, true };
	for (int step = 0; step < 7; step++) {
		if (step == 2)
			write_article(4, "grenzen", "\n\nNog een alinea, die de feiten laat zoals ze waren.");
		if (step == 3)
			write_article(7, "geen-thema", "");
		if (step == 5)
			write_article(7, "feedback", "");
		site s;
		source *src = NULL;
		diag_list d = DIAG_LIST_INIT;
		if (fixture_load(&s, &src, &d) < 0) {
			ok(0, "%s: the site loads", what[step]);
			break;
		}
		diag_list ref = DIAG_LIST_INIT, got = DIAG_LIST_INIT;
		size_t ref_errors = check_site(&s, &ref);
		size_t got_errors = check_site_with(&s, &m, links_world(&s), NULL, &got);
		diag_sort(&ref);
		diag_sort(&got);
		char *a = messages(&ref), *b = messages(&got);
		ok(strcmp(a, b) == 0 && ref_errors == got_errors,
		   "check memory: %s: the messages check_site gives", what[step]);
		if (strcmp(a, b) != 0)
			diag("want:\n%s\ngot:\n%s", a, b);
		ok(m.held == held[step], "check memory: %s: %s", what[step],
		   held[step] ? "the checks as in the last build" : "checked");
		ok(strstr(b, "has no text") != NULL, "check memory: %s: the empty article warned of",
		   what[step]);
		if (step == 3 || step == 4)
			ok(strstr(b, "a07.md:4:11: unknown theme 'geen-thema'") != NULL,
			   "check memory: %s: reported at its line and column", what[step]);
		free(a);
		free(b);
		diag_release(&ref);
		diag_release(&got);
		diag_release(&d);
		site_release(&s);
		source_free(src);
	}
	fixture_end();
	return done_testing();
}
