/* rt_pool.h - worker threads that persist for one parallel computation (an SMC run): the
 * caller hands them one phase after another and does a part of each phase itself. */
#ifndef PPL_RT_POOL_H
#define PPL_RT_POOL_H
#include <stdint.h>

/* One part of a phase: part k of nparts, k = 0 on the calling thread. */
typedef void (*rt_pool_task)(void *ctx, int64_t part, int64_t nparts);

typedef struct rt_pool rt_pool;

/* Starts nthreads - 1 workers (none for nthreads <= 1); a thread that cannot start is a
 * runtime error at loc. Workers are registered with the collector (GC_THREADS). */
rt_pool *rt_pool_start(int64_t nthreads, const char *loc);

/* Runs task(ctx, k, nthreads) for every k < nthreads, part 0 on the calling thread, and
 * returns when all parts are done. Between phases the workers spin briefly, then sleep.
 * If REPL recovery was on when the pool started, a runtime error in a worker's part is
 * held (rt_catch_begin, rt_repl.h): the caller reports it with rt_rethrow once it has
 * stopped the pool, and should itself run inside an rt_catch so that its own errors stop
 * the pool too. */
void rt_pool_run(rt_pool *pool, rt_pool_task task, void *ctx);

/* Ends and joins the workers (once the current phase is done) and frees the pool. */
void rt_pool_stop(rt_pool *pool);

#endif
