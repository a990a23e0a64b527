/* filter: Lua filters that walk and edit each document.
 *
 * site.toml lists filter files (`filters = ["lua/themes.lua", ...]`); each
 * returns a table of functions keyed by node type, run on every document
 * after it is parsed and before anything reads it (doc/filters.md is the
 * user's reference). The only module that includes Lua's headers.
 *
 * A build reads the filters and every module under lua/ from the same
 * snapshot as the content, compiles them once (filter_load), and then runs
 * them per document (filter_run, or filter_state_run on a state each
 * worker keeps) with globals of that document's own: nothing a filter
 * does to one document can be seen while filtering the next, so
 * documents can be filtered on any thread, in any order. The
 * state is a sandbox (no io, no os beyond date and time, no bytecode, no
 * require outside lua/) with an instruction budget and a memory cap from
 * site.toml's [filter] table. */
#ifndef GEN_FILTER_H
#define GEN_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "document.h"
#include "err.h"
#include "source.h"

/* How a filter's error names the article it was running on: "MESSAGE
 * (while filtering content/x.md)". */
#define FILTER_WHILE " (while filtering "

typedef struct filter_set filter_set;

/* Reads and compiles the filters named in cfg->filters and the modules
 * under lua/ from src. Returns 0 and *out (caller frees with
 * filter_set_free; an empty set when there are no filters), GEN_EUSAGE
 * when a listed filter does not exist (err names site.toml and the line),
 * or GEN_EFILTER when one does not compile (err names the filter file and
 * line; filter_error keeps it for the documents, see below). */
int filter_load(filter_set **out, const source *src, const config *cfg,
		gen_err *err);

/* A set built from texts in memory, for tests and tools: add modules with
 * filter_set_add (path "lua/x.lua"; as_filter runs it on documents, in
 * the order added, else it is only there for require). Returns 0, or
 * GEN_EFILTER with err naming path and line when it does not compile. */
filter_set *filter_set_new(void);
int filter_set_add(filter_set *fs, const char *path, const char *text, size_t len,
		   bool as_filter, gen_err *err);
void filter_set_free(filter_set *fs);
/* A hash of every module's path and text, which ones run as filters and
 * in what order, and the Lua release: what decides how the filters
 * treat a document, for the build cache. */
uint64_t filter_set_hash(const filter_set *fs);
/* Number of filters run on each document. */
size_t filter_count(const filter_set *fs);

/* Runs every filter on d, in order, then brings d up to date: the
 * Markdown tree re-analysed, front matter edits (doc.meta) checked and
 * copied into d->fm, tagged themes added to d->fm.themes after the manual
 * ones, and their evidence in d->evidence. gen.warn and print go to diags
 * (may be NULL), with the document's path and line. Returns 0, or
 * GEN_EFILTER with err set to "lua/FILTER.lua:LINE: message (while
 * filtering content/x.md)": a Lua error, the instruction budget or the
 * memory cap; d then holds what the filters had done so far and is only
 * fit for document_release. Thread safe for distinct documents. */
int filter_run(const filter_set *fs, document *d, const config *cfg,
	       diag_list *diags, gen_err *err);

/* What one worker thread filters with: a Lua state kept from document to
 * document, each document given globals of its own (fresh library tables,
 * no modules loaded, a new doc), so that what a filter does to one is
 * still not seen by the next; after a failure the state is made anew.
 * fs and cfg must outlive it. filter_state_new cannot fail (the state is
 * opened by the first document); caller frees with filter_state_free. */
typedef struct filter_state filter_state;
filter_state *filter_state_new(const filter_set *fs, const config *cfg);
void filter_state_free(filter_state *st);
/* filter_run on the state of one thread: the same result and errors.
 * Not thread safe for one st. */
int filter_state_run(filter_state *st, document *d, diag_list *diags, gen_err *err);

#endif
