/* config: the handbook's configuration, read from site.toml.
 *
 * Turns the TOML table into typed settings with defaults, checks types
 * (an error, with the line and column of the value) and warns about keys
 * it does not know (a typo in site.toml should not pass silently). The
 * whole table is kept as well, so templates can read `params`. */
#ifndef GEN_CONFIG_H
#define GEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "value.h"

typedef struct config_theme {
	char *id;          /* the key of [themes.ID] */
	char *title;
	char *description;
	char **patterns;   /* phrases for the theme filter */
	size_t npatterns;
} config_theme;

typedef enum { LINKS_ERROR, LINKS_WARN } config_links_mode;

typedef struct config {
	char *title;
	char *description;
	char *language;     /* "nl" (default) or "en" */
	char *base_url;     /* "" when unset; ends with '/' when set */
	char *content_dir;  /* "content" */
	char *output_dir;   /* "public" */
	char *theme;        /* "default" */
	char **filters;     /* Lua filter paths, in order */
	size_t nfilters;
	config_theme *themes;
	size_t nthemes;
	char **leerpad;     /* learning path: content paths in order */
	size_t nleerpad;
	bool unsafe_html;
	config_links_mode links;
	int64_t filter_instructions; /* instruction budget per document */
	int64_t filter_memory;       /* bytes per document */
	value *table;       /* the whole parsed file (owned) */
} config;

/* Parses site.toml text. file is the name used in messages ("site.toml").
 * Unknown keys are warnings in diags (may be NULL); wrong types and bad
 * values are errors: returns GEN_EPARSE/GEN_ECONTENT with err set, and out
 * holds nothing. On success the caller releases out with config_release. */
int config_parse(config *out, const char *text, size_t len, const char *file,
		 diag_list *diags, gen_err *err);
void config_release(config *c);
/* The theme with this id, or NULL. */
const config_theme *config_theme_find(const config *c, const char *id);

#endif
