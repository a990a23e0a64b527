/* leerpad: resolving the learning path (see leerpad.h). */
#include "leerpad.h"

#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "links.h"
#include "value.h"
#include "xalloc.h"

size_t leerpad_resolve(leerpad *lp, const site *s, diag_list *diags)
{
	const config *cfg = &s->cfg;
	const value *list = value_get(cfg->table, "leerpad");
	size_t errors = 0;
	memset(lp, 0, sizeof *lp);
	lp->ndocs = s->ndocs;
	lp->step_of = xcalloc(s->ndocs + 1, sizeof *lp->step_of);
	lp->steps = xcalloc(cfg->nleerpad + 1, sizeof *lp->steps);
	size_t cl = strlen(cfg->content_dir);
	for (size_t i = 0; i < cfg->nleerpad; i++) {
		const char *rel = cfg->leerpad[i];
		/* config checked the types, so item i is this string. */
		const value *v = value_at(list, i);
		int line = v ? value_line(v) : 0, col = v ? value_col(v) : 0;
		if (strncmp(rel, cfg->content_dir, cl) == 0 && rel[cl] == '/')
			rel += cl + 1;
		const document *d = site_find(s, rel);
		if (!d && site_is_failed(s, rel))
			continue; /* its own error says enough */
		if (!d && site_is_skipped(s, rel)) {
			if (diags)
				diag_add(diags, DIAG_WARNING, "site.toml", line, col,
					 "leerpad entry '%s' is a draft or dated in the "
					 "future and left out of this build", cfg->leerpad[i]);
			continue;
		}
		if (!d) {
			const history_commit *when = NULL;
			const document *moved = diags ? links_renamed(s, rel, &when) : NULL;
			if (moved)
				diag_add(diags, DIAG_ERROR, "site.toml", line, col,
					 "leerpad entry '%s' does not exist: it was renamed to "
					 "'%s' in commit %.7s",
					 cfg->leerpad[i], moved->rel, when->id);
			else if (diags)
				diag_add(diags, DIAG_ERROR, "site.toml", line, col,
					 "leerpad entry '%s' does not exist (expected a path "
					 "below '%s', like \"verhalen/de-garage.md\")",
					 cfg->leerpad[i], cfg->content_dir);
			errors += diags != NULL;
			continue;
		}
		size_t doc = (size_t)(d - s->docs);
		if (lp->step_of[doc]) {
			if (diags) {
				diag_add(diags, DIAG_ERROR, "site.toml", line, col,
					 "leerpad entry '%s' is already step %zu",
					 cfg->leerpad[i], lp->step_of[doc]);
				errors++;
			}
			continue;
		}
		lp->steps[lp->n++] = doc;
		lp->step_of[doc] = lp->n;
	}
	return errors;
}

void leerpad_release(leerpad *lp)
{
	free(lp->steps);
	free(lp->step_of);
	memset(lp, 0, sizeof *lp);
}

size_t leerpad_step(const leerpad *lp, size_t doc)
{
	return doc < lp->ndocs ? lp->step_of[doc] : 0;
}
