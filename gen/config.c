/* config: site.toml to typed settings (see config.h).
 *
 * The schema is a small table of known keys below; anything else is
 * reported as a warning so a misspelt key is noticed, while `params` is a
 * free-form table handed to templates untouched. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "toml.h"
#include "xalloc.h"

typedef struct ctx {
	const char *file;
	diag_list *diags;
	gen_err *err;
} ctx;

static int type_error(ctx *c, const char *key, const value *v, const char *want)
{
	return err_set(c->err, GEN_ECONTENT, c->file, value_line(v), value_col(v),
		       "'%s' must be %s, not %s", key, want,
		       value_type_name(value_type_of(v)));
}

/* Whether url is an address a reader's browser can be sent to from a
 * sitemap or a feed: http or https, a host, and neither a query, a
 * fragment nor a blank. */
static bool absolute_url(const char *url)
{
	size_t skip = strncasecmp(url, "https://", 8) == 0  ? 8
		      : strncasecmp(url, "http://", 7) == 0 ? 7
							    : 0;
	if (!skip || !url[skip] || url[skip] == '/')
		return false;
	for (const char *p = url; *p; p++)
		if (*p == '?' || *p == '#' || (unsigned char)*p <= ' ')
			return false;
	return true;
}

static int get_string(ctx *c, const value *t, const char *key, const char *dflt,
		      char **out)
{
	const value *v = value_get(t, key);
	if (!v) {
		*out = xstrdup(dflt);
		return 0;
	}
	if (value_type_of(v) != VALUE_STRING)
		return type_error(c, key, v, "a string");
	*out = xstrdup(value_string(v, NULL));
	return 0;
}

static int get_bool(ctx *c, const value *t, const char *key, bool *out)
{
	const value *v = value_get(t, key);
	if (!v)
		return 0;
	if (value_type_of(v) != VALUE_BOOL)
		return type_error(c, key, v, "true or false");
	*out = value_bool(v);
	return 0;
}

static int get_int(ctx *c, const value *t, const char *key, int64_t *out)
{
	const value *v = value_get(t, key);
	if (!v)
		return 0;
	if (value_type_of(v) != VALUE_INTEGER || value_integer(v) <= 0)
		return type_error(c, key, v, "a positive integer");
	*out = value_integer(v);
	return 0;
}

static int get_strings(ctx *c, const value *t, const char *key, char ***out,
		       size_t *n)
{
	const value *v = value_get(t, key);
	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (value_type_of(v) != VALUE_ARRAY)
		return type_error(c, key, v, "an array of strings");
	for (size_t i = 0; i < value_count(v); i++)
		if (value_type_of(value_at(v, i)) != VALUE_STRING)
			return type_error(c, key, value_at(v, i), "a string");
	*n = value_count(v);
	*out = xcalloc(*n ? *n : 1, sizeof **out);
	for (size_t i = 0; i < *n; i++)
		(*out)[i] = xstrdup(value_string(value_at(v, i), NULL));
	return 0;
}

static void free_strings(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static void warn_unknown(ctx *c, const value *t, const char *const *known,
			 const char *where)
{
	for (size_t i = 0; i < value_count(t); i++) {
		const char *k = value_key_at(t, i, NULL);
		bool found = false;
		for (size_t j = 0; known[j]; j++)
			if (strcmp(k, known[j]) == 0)
				found = true;
		if (!found && c->diags) {
			const value *v = value_at(t, i);
			diag_add(c->diags, DIAG_WARNING, c->file, value_line(v),
				 value_col(v), "unknown key '%s%s%s'", where,
				 *where ? "." : "", k);
		}
	}
}

static const char *const top_keys[] = {
	"title", "description", "language", "base_url", "baseURL", "content_dir",
	"output_dir", "theme", "filters", "themes", "leerpad", "unsafe_html",
	"links", "filter", "params", NULL,
};
static const char *const theme_keys[] = { "title", "description", "patterns", NULL };
static const char *const filter_keys[] = { "instructions", "memory", NULL };

/* Whether id can name one folder inside another: not empty, "." or "..",
 * and without '/', '\\' or control characters (a space or an accent is
 * fine: a URL escapes it). */
static bool folder_name(const char *id)
{
	if (!*id || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			return false;
	return true;
}

static int parse_themes(ctx *c, config *cfg, const value *themes)
{
	if (value_type_of(themes) != VALUE_TABLE)
		return type_error(c, "themes", themes, "a table");
	size_t n = value_count(themes);
	cfg->themes = xcalloc(n ? n : 1, sizeof *cfg->themes);
	for (size_t i = 0; i < n; i++) {
		const char *id = value_key_at(themes, i, NULL);
		const value *t = value_at(themes, i);
		config_theme *th = &cfg->themes[cfg->nthemes++];
		th->id = xstrdup(id);
		if (value_type_of(t) != VALUE_TABLE)
			return type_error(c, id, t, "a table");
		/* The id names the theme's folder, themas/ID/. */
		if (!folder_name(id))
			return err_set(c->err, GEN_ECONTENT, c->file, value_line(t), value_col(t),
				       "theme id '%s' cannot name its page's folder (themas/ID/): "
				       "use letters, digits, '-' and '_'",
				       id);
		char where[256];
		snprintf(where, sizeof where, "themes.%s", id);
		warn_unknown(c, t, theme_keys, where);
		int rc = get_string(c, t, "title", id, &th->title);
		if (rc == 0)
			rc = get_string(c, t, "description", "", &th->description);
		if (rc == 0)
			rc = get_strings(c, t, "patterns", &th->patterns, &th->npatterns);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int config_parse(config *cfg, const char *text, size_t len, const char *file,
		 diag_list *diags, gen_err *err)
{
	ctx c = { file, diags, err };
	memset(cfg, 0, sizeof *cfg);
	cfg->filter_instructions = 50000000;
	cfg->filter_memory = 64 * 1024 * 1024;
	int rc = toml_parse(&cfg->table, text, len, file, 0, err);
	if (rc < 0)
		goto out;
	const value *t = cfg->table;
	warn_unknown(&c, t, top_keys, "");

	if ((rc = get_string(&c, t, "title", "Handboek", &cfg->title)) < 0 ||
	    (rc = get_string(&c, t, "description", "", &cfg->description)) < 0 ||
	    (rc = get_string(&c, t, "language", "nl", &cfg->language)) < 0 ||
	    (rc = get_string(&c, t, "content_dir", "content", &cfg->content_dir)) < 0 ||
	    (rc = get_string(&c, t, "output_dir", "public", &cfg->output_dir)) < 0 ||
	    (rc = get_string(&c, t, "theme", "default", &cfg->theme)) < 0 ||
	    (rc = get_strings(&c, t, "filters", &cfg->filters, &cfg->nfilters)) < 0 ||
	    (rc = get_strings(&c, t, "leerpad", &cfg->leerpad, &cfg->nleerpad)) < 0 ||
	    (rc = get_bool(&c, t, "unsafe_html", &cfg->unsafe_html)) < 0)
		goto out;

	const value *lang = value_get(t, "language");
	if (strcmp(cfg->language, "nl") != 0 && strcmp(cfg->language, "en") != 0) {
		rc = err_set(err, GEN_ECONTENT, file, value_line(lang), value_col(lang),
			     "unsupported language '%s' (expected 'nl' or 'en')",
			     cfg->language);
		goto out;
	}

	const char *base_key = value_get(t, "base_url") ? "base_url" : "baseURL";
	char *base = NULL;
	if ((rc = get_string(&c, t, base_key, "", &base)) < 0)
		goto out;
	size_t bl = strlen(base);
	if (bl && !absolute_url(base)) {
		const value *b = value_get(t, base_key);
		rc = err_set(err, GEN_ECONTENT, file, value_line(b), value_col(b),
			     "%s '%s' is not an absolute http(s) URL (expected one like "
			     "\"https://handboek.example.nl/\"): the sitemap and the feed "
			     "give every page's address by it",
			     base_key, base);
		free(base);
		goto out;
	}
	if (bl && base[bl - 1] != '/') {
		cfg->base_url = xmalloc(bl + 2);
		memcpy(cfg->base_url, base, bl);
		strcpy(cfg->base_url + bl, "/");
		free(base);
	} else {
		cfg->base_url = base;
	}

	const value *links = value_get(t, "links");
	if (links) {
		const char *m = value_string(links, NULL);
		if (value_type_of(links) != VALUE_STRING ||
		    (strcmp(m, "error") != 0 && strcmp(m, "warn") != 0)) {
			rc = err_set(err, GEN_ECONTENT, file, value_line(links),
				     value_col(links),
				     "'links' must be \"error\" or \"warn\"");
			goto out;
		}
		cfg->links = strcmp(m, "warn") == 0 ? LINKS_WARN : LINKS_ERROR;
	}

	const value *filter = value_get(t, "filter");
	if (filter) {
		if (value_type_of(filter) != VALUE_TABLE) {
			rc = type_error(&c, "filter", filter, "a table");
			goto out;
		}
		warn_unknown(&c, filter, filter_keys, "filter");
		if ((rc = get_int(&c, filter, "instructions", &cfg->filter_instructions)) < 0 ||
		    (rc = get_int(&c, filter, "memory", &cfg->filter_memory)) < 0)
			goto out;
	}

	const value *params = value_get(t, "params");
	if (params && value_type_of(params) != VALUE_TABLE) {
		rc = type_error(&c, "params", params, "a table");
		goto out;
	}

	const value *themes = value_get(t, "themes");
	if (themes && (rc = parse_themes(&c, cfg, themes)) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		config_release(cfg);
	return rc;
}

void config_release(config *c)
{
	free(c->title);
	free(c->description);
	free(c->language);
	free(c->base_url);
	free(c->content_dir);
	free(c->output_dir);
	free(c->theme);
	free_strings(c->filters, c->nfilters);
	free_strings(c->leerpad, c->nleerpad);
	for (size_t i = 0; i < c->nthemes; i++) {
		free(c->themes[i].id);
		free(c->themes[i].title);
		free(c->themes[i].description);
		free_strings(c->themes[i].patterns, c->themes[i].npatterns);
	}
	free(c->themes);
	value_free(c->table);
	memset(c, 0, sizeof *c);
}

const config_theme *config_theme_find(const config *c, const char *id)
{
	for (size_t i = 0; i < c->nthemes; i++)
		if (strcmp(c->themes[i].id, id) == 0)
			return &c->themes[i];
	return NULL;
}
