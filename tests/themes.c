/* The shipped filters on Dutch text: lua/themes.lua with the patterns of
 * the handbook's own site.toml, on labelled sentences (each theme has
 * sentences that must earn it and near misses that must not), and both
 * filters on the handbook's own articles. Reads site.toml, lua/ and
 * content/ from SRCDIR (the repository; `make check` sets it). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "document.h"
#include "filter.h"
#include "source.h"
#include "tap.h"
#include "xalloc.h"

typedef struct labelled {
	const char *theme;
	bool earns;
	const char *text;
} labelled;

static const labelled sentences[] = {
	{ "snifo-gedrag", true, "Dat staat niet in mijn functieomschrijving, meneer." },
	{ "snifo-gedrag", true, "“Ja meneer, ik kan er ook niets aan doen.”" },
	{ "snifo-gedrag", true, "IJs maken was haar taak niet, dus ze keek weg." },
	{ "snifo-gedrag", true, "Medewerkers met snifo-gedrag doen alleen wat op papier staat." },
	{ "snifo-gedrag", true, "Sorry, dit is mijn probleem niet." },
	{ "snifo-gedrag", false, "Zijn functie is hoofd van de werkplaats." },
	{ "snifo-gedrag", false, "Ik kan er niets over zeggen, want ik was er niet bij." },
	{ "snifo-gedrag", false, "Ze pakte de taak meteen op." },

	{ "specialisatie", true, "Het werk is opgeknipt in kleine stukjes." },
	{ "specialisatie", true, "Door te specialiseren werd het proces sneller." },
	{ "specialisatie", true, "Elke afdeling is gespecialiseerd in één stap." },
	{ "specialisatie", true, "Tien medewerkers bedienen elk een onsje klant." },
	{ "specialisatie", true, "Een specialist neemt het over." },
	{ "specialisatie", false, "Ze is een speciale klant voor ons." },
	{ "specialisatie", false, "We knippen het lint door bij de opening." },

	{ "feedback", true, "Vraag je klanten om feedback." },
	{ "feedback", true, "De klacht kwam pas na twee maanden binnen." },
	{ "feedback", true, "Klantsignalen bereiken de directie nooit." },
	{ "feedback", true, "We evalueren elke maand met het team." },
	{ "feedback", false, "De evenementen zijn afgelast." },
	{ "feedback", false, "Hij gaf de klant een kopje koffie." },

	{ "verantwoordelijkheid", true, "Neem verantwoordelijkheid voor het probleem van de klant." },
	{ "verantwoordelijkheid", true, "Voor de klant ben jij het aanspreekpunt." },
	{ "verantwoordelijkheid", true, "“Het ligt niet aan ons,” zei de verkoper." },
	{ "verantwoordelijkheid", true, "Help, zonder de schuld op je te nemen." },
	{ "verantwoordelijkheid", false, "De verantwoording staat in het jaarverslag." },
	{ "verantwoordelijkheid", false, "Het ligt niet aan de prijs." },

	{ "empathie", true, "Probeer eerst te begrijpen wat de klant bedoelt." },
	{ "empathie", true, "Ik voelde me niet gehoord." },
	{ "empathie", true, "Hij erkende dat het frustrerend moest zijn." },
	{ "empathie", true, "Goed luisteren is het begin." },
	{ "empathie", true, "Zet je eigen IDEEËN even opzij." },
	{ "empathie", false, "Ik hoorde de bel niet." },
	{ "empathie", false, "Begrijpen kost tijd." },

	{ "procesafspraken", true, "Maak een procesafspraak als je het resultaat niet kunt beloven." },
	{ "procesafspraken", true, "Ik beloof dat ik morgenochtend de fabrikant bel." },
	{ "procesafspraken", true, "Kom je afspraak na." },
	{ "procesafspraken", true, "Hij belt daarna terug." },
	{ "procesafspraken", true, "We spraken af dat ik zou terugbellen." },
	{ "procesafspraken", false, "De afspraakbevestiging is verstuurd." },
	{ "procesafspraken", false, "De bel ging om negen uur." },

	{ "leiderschap", true, "De leidinggevende geeft het goede voorbeeld." },
	{ "leiderschap", true, "Een kille cultuur waarin alleen KPI’s tellen." },
	{ "leiderschap", true, "Ziet de baas wat zijn mensen doen?" },
	{ "leiderschap", true, "Waarom bestaat jouw bedrijf eigenlijk?" },
	{ "leiderschap", false, "Hij leidt de klant naar de kassa." },
	{ "leiderschap", false, "De basis is goed." },

	{ "grenzen", true, "Stel grenzen op een manier die de klant accepteert." },
	{ "grenzen", true, "Dan ben je niet klantgericht, maar klantgezwicht." },
	{ "grenzen", true, "Soms moet je nee zeggen." },
	{ "grenzen", true, "Een kaal \"nee\" is niet genoeg." },
	{ "grenzen", false, "De grensrechter floot af." },
	{ "grenzen", false, "Ja zeggen is makkelijk." },

	{ "reputatie", true, "Een slechte ervaring vertellen klanten door." },
	{ "reputatie", true, "Klanten lopen weg als ze zich verwaarloosd voelen." },
	{ "reputatie", true, "Zo verspeel je je reputatie." },
	{ "reputatie", true, "Ik betrap mezelf erop dat ik terugverlang naar mijn oude dealer." },
	{ "reputatie", false, "De trein vertrok op tijd." },
	{ "reputatie", false, "Ze vertelde het aan haar collega." },
};

/* What the handbook's stories and tip lists must at least be tagged with. */
static const struct {
	const char *path;
	const char *themes;
} articles[] = {
	{ "content/verhalen/de-garage.md", "snifo-gedrag verantwoordelijkheid leiderschap" },
	{ "content/verhalen/een-onsje-klant.md", "specialisatie snifo-gedrag" },
	{ "content/verhalen/de-vloerenwinkel.md", "snifo-gedrag leiderschap feedback" },
	{ "content/verhalen/de-digitale-factuur.md", "feedback reputatie grenzen empathie" },
	{ "content/verhalen/de-versteller.md", "empathie verantwoordelijkheid procesafspraken reputatie" },
	{ "content/tips/snifo-voorkomen.md", "snifo-gedrag leiderschap" },
	{ "content/tips/specialisatie.md", "specialisatie feedback leiderschap" },
	{ "content/tips/excellente-service.md", "feedback" },
	{ "content/tips/praktische-tips-medewerkers.md", "feedback empathie grenzen verantwoordelijkheid" },
	{ "content/tips/klantcontact-als-het-tegenzit.md", "empathie verantwoordelijkheid procesafspraken" },
};

static bool has_evidence(const document *d, const char *theme)
{
	for (size_t i = 0; i < d->nevidence; i++)
		if (strcmp(d->evidence[i].theme, theme) == 0)
			return true;
	return false;
}

/* Parses text as path and runs fs on it; returns 0 or the error. */
static int filtered(document *d, const filter_set *fs, const config *cfg, const char *path,
		    const char *text, size_t len, gen_err *e)
{
	source_file f;
	memset(&f, 0, sizeof f);
	f.path = xstrdup(path);
	f.data = xstrndup(text, len);
	f.len = len;
	int rc = document_parse(d, &f, cfg, true, NULL, e);
	if (rc == 0 && (rc = filter_run(fs, d, cfg, NULL, e)) < 0)
		document_release(d);
	free(f.path);
	free(f.data);
	return rc;
}

static int add_file(filter_set *fs, const source *src, const char *path, bool as_filter)
{
	source_file f;
	gen_err e;
	if (source_read(src, path, &f, &e) != 0)
		return -1;
	int rc = filter_set_add(fs, path, f.data, f.len, as_filter, &e);
	source_file_release(&f);
	return rc;
}

int main(void)
{
	const char *dir = getenv("SRCDIR");
	source *src = NULL;
	source_file toml;
	config cfg;
	gen_err e;
	char msg[1200];

	if (!dir)
		dir = ".";
	if (source_open_plain(&src, dir, &e) < 0 || source_read(src, "site.toml", &toml, &e) != 0) {
		printf("1..0 # SKIP no handbook in '%s'\n", dir);
		return 0;
	}
	if (config_parse(&cfg, toml.data, toml.len, "site.toml", NULL, &e) < 0) {
		err_format(&e, msg, sizeof msg);
		printf("Bail out! %s\n", msg);
		return 1;
	}
	source_file_release(&toml);

	/* Only lua/themes.lua, so that each sentence is judged on its own. */
	filter_set *themes = filter_set_new();
	ok(add_file(themes, src, "lua/match.lua", false) == 0 &&
		   add_file(themes, src, "lua/themes.lua", true) == 0,
	   "lua/themes.lua and lua/match.lua compile");
	for (size_t i = 0; i < sizeof sentences / sizeof *sentences; i++) {
		const labelled *l = &sentences[i];
		buf text = BUF_INIT;
		document d;
		buf_printf(&text, "+++\ntitle = \"Zin\"\nkind = \"story\"\n+++\n%s\n", l->text);
		if (filtered(&d, themes, &cfg, "content/zin.md", text.ptr, text.len, &e) < 0) {
			err_format(&e, msg, sizeof msg);
			ok(0, "%s: %s", l->text, msg);
		} else {
			bool got = has_evidence(&d, l->theme);
			if (!ok(got == l->earns, "%s %s: %s", l->earns ? "earns" : "does not earn",
				l->theme, l->text)) {
				for (size_t k = 0; k < d.nevidence; k++)
					diag("tagged %s: %s", d.evidence[k].theme, d.evidence[k].note);
			}
			document_release(&d);
		}
		buf_release(&text);
	}
	{
		document d;
		const char *page = "+++\ntitle = \"Over\"\n+++\nOver snifo, feedback en grenzen.\n";
		if (filtered(&d, themes, &cfg, "content/over.md", page, strlen(page), &e) == 0) {
			is(d.nevidence, 0, "plain pages are not tagged");
			document_release(&d);
		}
	}
	filter_set_free(themes);

	/* match.themes(), gen's matcher of site.toml's patterns, finds what
	 * a matcher compiled from site.themes by hand finds. */
	{
		static const char probe_lua[] =
			"local match = require('match')\n"
			"local list, owners = {}, {}\n"
			"for _, t in ipairs(site.themes) do\n"
			"  for _, p in ipairs(t.patterns) do\n"
			"    list[#list + 1] = p\n"
			"    owners[#owners + 1] = t.id\n"
			"  end\n"
			"end\n"
			"local by_hand, shared = match.compile(list, owners), match.themes()\n"
			"local function show(m, text)\n"
			"  local o = {}\n"
			"  for _, h in ipairs(m:all(text)) do\n"
			"    o[#o + 1] = h.value .. ':' .. h.pattern .. ':' .. h.first .. '-' .. h.last\n"
			"  end\n"
			"  return table.concat(o, ' ')\n"
			"end\n"
			"local function show_each(m, text)\n"
			"  local o = {}\n"
			"  for value, first, last, pattern in m:each(text) do\n"
			"    o[#o + 1] = value .. ':' .. pattern .. ':' .. first .. '-' .. last\n"
			"  end\n"
			"  return table.concat(o, ' ')\n"
			"end\n"
			"return { Document = function(d)\n"
			"  local a, b = show(by_hand, d:text()), show(shared, d:text())\n"
			"  local c = show_each(shared, d:text())\n"
			"  doc.meta.out = (a == b and a == c and 'same ' or 'differ ') ..\n"
			"    #shared:all(d:text())\n"
			"end }\n";
		filter_set *probe = filter_set_new();
		int rc = add_file(probe, src, "lua/match.lua", false);
		if (rc == 0)
			rc = filter_set_add(probe, "lua/probe.lua", probe_lua, strlen(probe_lua), true,
					    &e);
		buf text = BUF_INIT;
		buf_puts(&text, "+++\ntitle = \"Zinnen\"\nkind = \"story\"\n+++\n");
		for (size_t i = 0; i < sizeof sentences / sizeof *sentences; i++)
			buf_printf(&text, "%s\n\n", sentences[i].text);
		document d;
		if (rc == 0)
			rc = filtered(&d, probe, &cfg, "content/zinnen.md", text.ptr, text.len, &e);
		if (rc < 0) {
			err_format(&e, msg, sizeof msg);
			ok(0, "match.themes: %s", msg);
		} else {
			const char *out = value_string(value_get(d.fm.meta, "out"), NULL);
			ok(out && !strncmp(out, "same ", 5) && atoi(out + 5) > 20,
			   "match.themes() finds what match.compile of site.themes finds, "
			   "and each() what all() does (%s)",
			   out ? out : "no answer");
			document_release(&d);
		}
		buf_release(&text);
		filter_set_free(probe);
	}

	/* Both shipped filters, as site.toml lists them, on the handbook. */
	filter_set *all = NULL;
	if (filter_load(&all, src, &cfg, &e) < 0) {
		err_format(&e, msg, sizeof msg);
		printf("Bail out! %s\n", msg);
		return 1;
	}
	is(filter_count(all), 2, "site.toml runs two filters");
	for (size_t i = 0; i < sizeof articles / sizeof *articles; i++) {
		source_file f;
		document d;
		if (source_read(src, articles[i].path, &f, &e) != 0) {
			ok(0, "%s can be read", articles[i].path);
			continue;
		}
		int rc = filtered(&d, all, &cfg, articles[i].path, f.data, f.len, &e);
		source_file_release(&f);
		if (rc < 0) {
			err_format(&e, msg, sizeof msg);
			ok(0, "%s: %s", articles[i].path, msg);
			continue;
		}
		char *want = xstrdup(articles[i].themes);
		for (char *t = strtok(want, " "); t; t = strtok(NULL, " "))
			ok(has_evidence(&d, t), "%s shows %s", articles[i].path, t);
		free(want);
		size_t marked = 0;
		for (size_t k = 0; k < d.nevidence; k++)
			marked += markdown_has_anchor(d.md, d.evidence[k].anchor);
		is(marked, d.nevidence, "every passage has its anchor");
		document_release(&d);
	}
	{
		source_file f;
		document d;
		buf html = BUF_INIT;
		if (source_read(src, "content/verhalen/de-garage.md", &f, &e) == 0 &&
		    filtered(&d, all, &cfg, f.path, f.data, f.len, &e) == 0) {
			markdown_render_html(&html, d.md, NULL, NULL);
			ok(strstr(html.ptr, "<blockquote class=\"callout callout-killer\">") != NULL,
			   "the quoted killer phrase is a callout");
			ok(strstr(html.ptr, "<span class=\"killer-phrase\">ik kan er ook niets aan "
					    "doen</span>") != NULL,
			   "a killer phrase in running text is marked");
			is_str(d.evidence[0].excerpt, "Ja meneer, ik kan er ook niets aan doen.",
			       "the garage's first evidence is the quote");
			document_release(&d);
			source_file_release(&f);
		} else {
			ok(0, "de-garage.md filtered");
		}
		buf_release(&html);
	}
	filter_set_free(all);
	config_release(&cfg);
	source_free(src);
	return done_testing();
}
