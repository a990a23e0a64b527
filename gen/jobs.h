/* jobs: one function over an array of jobs, on threads.
 *
 * The stages that split their work by documents (checking links, adding
 * documents to the search index, the history walk) give each thread a
 * struct of its own and join the results in order afterwards, so the
 * output does not depend on the number of threads. jobs_run is the
 * part they share: it runs fn on each of the n items of the array at
 * items (size bytes each), the first on the calling thread and the
 * others on threads of their own; an item whose thread cannot be made
 * runs on the caller as well. It returns when every item is done. */
#ifndef GEN_JOBS_H
#define GEN_JOBS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

void jobs_run(void *items, size_t n, size_t size, void *(*fn)(void *));

/* Something made once, when first asked for, by whichever thread asks
 * (a thawed article's replay, tail or evidence): its state is pending
 * until a thread claims it, making while that thread makes it, and
 * something else once made. jobs_claim returns true when the caller
 * has claimed it (it then makes it and stores the state that says so,
 * with release order); false when it is made (the state is then read
 * with acquire order), after waiting while another thread makes it. */
bool jobs_claim(_Atomic unsigned char *state, unsigned char pending, unsigned char making);

/* A monotonic clock, in seconds: what the stages and the threads that
 * run them time themselves with (--stats). */
double jobs_seconds(void);

#endif
