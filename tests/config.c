/* Unit tests for config: site.toml to settings, with warnings and errors
 * that point at the line and column. */
#include <string.h>

#include "config.h"
#include "tap.h"

static int parse(config *c, const char *text, diag_list *d, gen_err *e)
{
	err_clear(e);
	return config_parse(c, text, strlen(text), "site.toml", d, e);
}

int main(void)
{
	config c;
	gen_err e;
	diag_list d = DIAG_LIST_INIT;
	char line[1200];

	is(parse(&c, "", &d, &e), 0, "an empty site.toml is valid");
	is_str(c.language, "nl", "language defaults to nl");
	is_str(c.content_dir, "content", "content_dir default");
	is_str(c.output_dir, "public", "output_dir default");
	is_str(c.theme, "default", "theme default");
	is_str(c.base_url, "", "no base_url");
	is(c.links, LINKS_ERROR, "broken links are errors by default");
	config_release(&c);

	const char *full =
		"title = \"Handboek\"\n"
		"language = \"en\"\n"
		"base_url = \"https://x.org/h\"\n"
		"filters = [\"lua/themes.lua\", \"lua/callouts.lua\"]\n"
		"leerpad = [\"verhalen/a.md\"]\n"
		"links = \"warn\"\n"
		"unsafe_html = true\n"
		"[filter]\ninstructions = 1000\nmemory = 2048\n"
		"[params]\nanything = 1\n"
		"[themes.snifo]\ntitle = \"Snifo\"\ndescription = \"Niet mijn taak\"\n"
		"patterns = [\"functieomschrijving\"]\n"
		"[themes.feedback]\n";
	is(parse(&c, full, &d, &e), 0, "a full site.toml parses");
	is_str(c.title, "Handboek", "title");
	is_str(c.language, "en", "language en is supported");
	is_str(c.base_url, "https://x.org/h/", "base_url gains a trailing slash");
	config_release(&c);
	is(parse(&c, "base_url = \"HTTP://Intranet:8080/handboek/\"\n", &d, &e), 0,
	   "an http base_url with a port, in capitals");
	is_str(c.base_url, "HTTP://Intranet:8080/handboek/", "is taken as written");
	config_release(&c);
	is(parse(&c, full, &d, &e), 0, "the full site.toml again");
	is(c.nfilters, 2, "filters in order");
	is_str(c.filters[1], "lua/callouts.lua", "second filter");
	is(c.nleerpad, 1, "learning path");
	is(c.links, LINKS_WARN, "links = warn");
	ok(c.unsafe_html, "unsafe_html");
	is(c.filter_instructions, 1000, "instruction budget");
	is(c.filter_memory, 2048, "memory cap");
	is(c.nthemes, 2, "two themes");
	is_str(c.themes[0].id, "snifo", "theme id from the table key");
	is_str(c.themes[0].patterns[0], "functieomschrijving", "theme patterns");
	is_str(config_theme_find(&c, "feedback")->title, "feedback",
	       "a theme without title is titled by its id");
	ok(config_theme_find(&c, "nope") == NULL, "unknown theme id");
	is(d.n, 0, "no warnings for known keys and params");
	config_release(&c);

	is(parse(&c, "[themes.\"klant centraal\"]\n[themes.\"één\"]\n", NULL, &e), 0,
	   "a theme id with a space or an accent is fine (its URL escapes it)");
	config_release(&c);

	is(parse(&c, "title = \"x\"\ntitel = \"typo\"\n[themes.a]\nkleur = 1\n", &d, &e), 0,
	   "unknown keys are not errors");
	is(d.warnings, 2, "but each one is a warning");
	ok(d.n == 2 && d.items[0].line == 2 && d.items[0].col == 9,
	   "warning points at the unknown key's value");
	ok(d.n == 2 && strstr(d.items[0].msg, "unknown key 'titel'") != NULL,
	   "warning names the key");
	ok(d.n == 2 && strstr(d.items[1].msg, "unknown key 'themes.a.kleur'") != NULL,
	   "nested unknown key named with its table");
	config_release(&c);
	diag_release(&d);

	struct {
		const char *text, *want;
	} bad[] = {
		{ "title = 3\n", "site.toml:1:9: 'title' must be a string, not integer" },
		{ "\nfilters = \"a.lua\"\n", "site.toml:2:11: 'filters' must be an array of strings, not string" },
		{ "filters = [1]\n", "site.toml:1:12: 'filters' must be a string, not integer" },
		{ "language = \"fr\"\n", "site.toml:1:12: unsupported language 'fr' (expected 'nl' or 'en')" },
		{ "base_url = \"handboek\"\n",
		  "site.toml:1:12: base_url 'handboek' is not an absolute http(s) URL (expected one "
		  "like \"https://handboek.example.nl/\"): the sitemap and the feed give every "
		  "page's address by it" },
		{ "\nbaseURL = \"https:///handboek/\"\n",
		  "site.toml:2:11: baseURL 'https:///handboek/' is not an absolute http(s) URL "
		  "(expected one like \"https://handboek.example.nl/\"): the sitemap and the feed "
		  "give every page's address by it" },
		{ "base_url = \"https://a.nl/h?x=1\"\n",
		  "site.toml:1:12: base_url 'https://a.nl/h?x=1' is not an absolute http(s) URL "
		  "(expected one like \"https://handboek.example.nl/\"): the sitemap and the feed "
		  "give every page's address by it" },
		{ "unsafe_html = \"ja\"\n", "site.toml:1:15: 'unsafe_html' must be true or false, not string" },
		{ "links = \"soms\"\n", "site.toml:1:9: 'links' must be \"error\" or \"warn\"" },
		{ "[filter]\nmemory = -1\n", "site.toml:2:10: 'memory' must be a positive integer, not integer" },
		{ "themes = 1\n", "site.toml:1:10: 'themes' must be a table, not integer" },
		{ "[themes.\"a/b\"]\ntitle = \"AB\"\n",
		  "site.toml:1:1: theme id 'a/b' cannot name its page's folder (themas/ID/): "
		  "use letters, digits, '-' and '_'" },
		{ "\n[themes.\"..\"]\n",
		  "site.toml:2:1: theme id '..' cannot name its page's folder (themas/ID/): "
		  "use letters, digits, '-' and '_'" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ok(parse(&c, bad[i].text, NULL, &e) < 0, "bad config %zu rejected", i);
		err_format(&e, line, sizeof line);
		is_str(line, bad[i].want, "error message and position");
	}
	ok(parse(&c, "title = \"x\n", NULL, &e) == GEN_EPARSE && e.line == 1,
	   "TOML syntax errors come with a line");
	return done_testing();
}
