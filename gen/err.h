/* err: error records and diagnostics.
 *
 * A function that can fail returns 0 or a negative code and fills a
 * caller-provided gen_err with where and what (file, line, column,
 * message). The record is fixed-size so that reporting an error never
 * allocates. Warnings and errors that do not stop the work (a build reports
 * every broken link, not only the first) are collected in a diag_list,
 * one per thread of work, and printed at the end. */
#ifndef GEN_ERR_H
#define GEN_ERR_H

#include <stddef.h>
#include <stdio.h>

enum {
	GEN_OK = 0,
	GEN_EIO = -1,      /* reading or writing a file failed */
	GEN_EPARSE = -2,   /* malformed input (TOML, front matter, template) */
	GEN_ECONTENT = -3, /* well-formed input that breaks a content rule */
	GEN_EUSAGE = -4,   /* bad command line */
	GEN_EGIT = -5,     /* the repository could not be read */
	GEN_EFILTER = -6,  /* a Lua filter failed */
};

typedef struct gen_err {
	int code;        /* one of the GEN_E* codes, 0 when unset */
	char file[512];  /* path as the user knows it, "" when none */
	int line, col;   /* 1-based; 0 when unknown */
	char msg[1024];  /* lowercase, no full stop, subject quoted */
} gen_err;

void err_clear(gen_err *e);
/* Fills e (may be NULL) and returns code, so callers can write
 * `return err_set(e, GEN_EPARSE, path, l, c, "...")`. */
int err_set(gen_err *e, int code, const char *file, int line, int col,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Writes "file:line:col: message" (the parts that are known). */
void err_format(const gen_err *e, char *out, size_t size);
void err_print(const gen_err *e, FILE *fp);

typedef enum { DIAG_WARNING, DIAG_ERROR, DIAG_NOTICE } diag_severity;

typedef struct gen_diag {
	diag_severity severity;
	char *file; /* owned; NULL when none */
	int line, col;
	char *msg;  /* owned */
} gen_diag;

typedef struct diag_list {
	gen_diag *items;
	size_t n, cap;
	size_t errors, warnings;
} diag_list;

#define DIAG_LIST_INIT { NULL, 0, 0, 0, 0 }

void diag_add(diag_list *l, diag_severity sev, const char *file, int line,
	      int col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Adds an error record as a diagnostic of severity ERROR. */
void diag_add_err(diag_list *l, const gen_err *e);
/* Moves every item of from to the end of into; from is left empty. */
void diag_merge(diag_list *into, diag_list *from);
/* Sorts by file, line, column so output does not depend on thread order. */
void diag_sort(diag_list *l);
/* Merges the diagnostics of l that are alike but for what follows the
 * last tail in their message: an error of a filter, the same at the same
 * line for every article it ran on, is one line, not ten thousand. The
 * first (in diag_sort's order) stays, its message ending "... and N
 * other OTHERS)" when it ends with ')'; the counts follow. Sorts l. */
void diag_collapse(diag_list *l, const char *tail, const char *others);
/* Prints "file:line:col: warning: msg" lines; colour when fp is a terminal. */
void diag_print(const diag_list *l, FILE *fp);
void diag_release(diag_list *l);

#endif
