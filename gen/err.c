/* err: error records and diagnostic lists (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

void err_clear(gen_err *e)
{
	memset(e, 0, sizeof *e);
}

int err_set(gen_err *e, int code, const char *file, int line, int col,
	    const char *fmt, ...)
{
	if (!e)
		return code;
	e->code = code;
	snprintf(e->file, sizeof e->file, "%s", file ? file : "");
	e->line = line;
	e->col = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return code;
}

static void format_place(char *out, size_t size, const char *file, int line,
			 int col)
{
	if (!file || !*file) {
		if (line > 0 && col > 0)
			snprintf(out, size, "%d:%d: ", line, col);
		else
			*out = '\0';
	} else if (line > 0 && col > 0) {
		snprintf(out, size, "%s:%d:%d: ", file, line, col);
	} else if (line > 0) {
		snprintf(out, size, "%s:%d: ", file, line);
	} else {
		snprintf(out, size, "%s: ", file);
	}
}

void err_format(const gen_err *e, char *out, size_t size)
{
	char place[600];
	format_place(place, sizeof place, e->file, e->line, e->col);
	snprintf(out, size, "%s%s", place, e->msg);
}

void err_print(const gen_err *e, FILE *fp)
{
	char line[2048];
	err_format(e, line, sizeof line);
	fprintf(fp, "%s\n", line);
}

void diag_add(diag_list *l, diag_severity sev, const char *file, int line,
	      int col, const char *fmt, ...)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof *l->items);
	}
	gen_diag *d = &l->items[l->n++];
	d->severity = sev;
	d->file = file && *file ? xstrdup(file) : NULL;
	d->line = line;
	d->col = col;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	d->msg = xstrdup(msg);
	if (sev == DIAG_ERROR)
		l->errors++;
	else if (sev == DIAG_WARNING)
		l->warnings++;
}

void diag_add_err(diag_list *l, const gen_err *e)
{
	diag_add(l, DIAG_ERROR, e->file, e->line, e->col, "%s", e->msg);
}

void diag_merge(diag_list *into, diag_list *from)
{
	for (size_t i = 0; i < from->n; i++) {
		if (into->n == into->cap) {
			into->cap = into->cap ? into->cap * 2 : 8;
			into->items = xrealloc(into->items,
					       into->cap * sizeof *into->items);
		}
		into->items[into->n++] = from->items[i];
	}
	into->errors += from->errors;
	into->warnings += from->warnings;
	free(from->items);
	memset(from, 0, sizeof *from);
}

static int diag_cmp(const void *a, const void *b)
{
	const gen_diag *x = a, *y = b;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return strcmp(x->msg, y->msg);
}

void diag_sort(diag_list *l)
{
	if (l->n > 1)
		qsort(l->items, l->n, sizeof *l->items, diag_cmp);
}

/* Where the last tail (not empty) in d's message starts, or 0 when it
 * has none. */
static size_t before_tail(const gen_diag *d, const char *tail)
{
	size_t at = 0;
	for (const char *p = d->msg; (p = strstr(p, tail)); p++)
		at = (size_t)(p - d->msg);
	return at;
}

/* Whether b is a's diagnostic but for what follows the last tail, which
 * starts at len in a's message. */
static bool alike(const gen_diag *a, const gen_diag *b, size_t len, const char *tail)
{
	return a->severity == b->severity && a->line == b->line && a->col == b->col &&
	       strcmp(a->file ? a->file : "", b->file ? b->file : "") == 0 &&
	       before_tail(b, tail) == len && strncmp(a->msg, b->msg, len) == 0;
}

void diag_collapse(diag_list *l, const char *tail, const char *others)
{
	diag_sort(l);
	size_t out = 0;
	for (size_t i = 0; i < l->n;) {
		gen_diag kept = l->items[i];
		size_t len = before_tail(&kept, tail);
		size_t j = i + 1;
		while (len && j < l->n && alike(&kept, &l->items[j], len, tail))
			j++;
		size_t more = j - i - 1, mlen = strlen(kept.msg);
		if (!more || kept.msg[mlen - 1] != ')') {
			/* Alone, or nothing to say the others with. */
			while (i < j)
				l->items[out++] = l->items[i++];
			continue;
		}
		size_t size = mlen + strlen(others) + 32;
		char *msg = xmalloc(size);
		snprintf(msg, size, "%.*s and %zu other %s)", (int)(mlen - 1), kept.msg, more,
			 others);
		free(kept.msg);
		kept.msg = msg;
		for (size_t k = i + 1; k < j; k++) {
			free(l->items[k].file);
			free(l->items[k].msg);
		}
		if (kept.severity == DIAG_ERROR)
			l->errors -= more;
		else if (kept.severity == DIAG_WARNING)
			l->warnings -= more;
		l->items[out++] = kept;
		i = j;
	}
	l->n = out;
}

void diag_print(const diag_list *l, FILE *fp)
{
	int colour = isatty(fileno(fp)) && !getenv("NO_COLOR");
	for (size_t i = 0; i < l->n; i++) {
		const gen_diag *d = &l->items[i];
		char place[600];
		format_place(place, sizeof place, d->file, d->line, d->col);
		const char *word = d->severity == DIAG_ERROR ? "error"
				   : d->severity == DIAG_WARNING ? "warning"
								 : "notice";
		const char *on = "", *off = "";
		if (colour) {
			on = d->severity == DIAG_ERROR ? "\033[1;31m"
			     : d->severity == DIAG_WARNING ? "\033[1;33m"
							   : "\033[1;36m";
			off = "\033[0m";
		}
		fprintf(fp, "%s%s%s:%s %s\n", place, on, word, off, d->msg);
	}
}

void diag_release(diag_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].file);
		free(l->items[i].msg);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}
