/* jobs: one function over an array of jobs, on threads (see jobs.h). */
#include "jobs.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "xalloc.h"

void jobs_run(void *items, size_t n, size_t size, void *(*fn)(void *))
{
	if (!n)
		return;
	char *at = items;
	pthread_t *threads = xcalloc(n, sizeof *threads);
	bool *started = xcalloc(n, sizeof *started);
	for (size_t k = 1; k < n; k++)
		started[k] = pthread_create(&threads[k], NULL, fn, at + k * size) == 0;
	fn(at);
	for (size_t k = 1; k < n; k++) {
		if (started[k])
			pthread_join(threads[k], NULL);
		else
			fn(at + k * size); /* no thread to be had: do it here */
	}
	free(threads);
	free(started);
}

bool jobs_claim(_Atomic unsigned char *state, unsigned char pending, unsigned char making)
{
	for (;;) {
		unsigned char now = atomic_load_explicit(state, memory_order_acquire);
		if (now == making) {
			sched_yield();
			continue;
		}
		if (now != pending)
			return false;
		if (atomic_compare_exchange_strong(state, &now, making))
			return true;
	}
}

double jobs_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
