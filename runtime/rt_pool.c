/* rt_pool.c - persistent worker threads for SMC's phases (rt_pool.h): a phase is announced
 * by bumping a counter, which sleeping workers learn of through a condition variable. */
#define GC_THREADS
#include <gc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include "rt_pool.h"
#include "rt_repl.h"

/* Polls of a flag before sleeping on it: about 10 us (a pause is some 25 ns), longer than
 * the serial work between two phases, yet short enough not to steal much time from the
 * thread awaited when the cores are shared with other programs. */
enum { SPINS = 500 };

/* Under ThreadSanitizer the collector cannot stop threads that are running: TSan holds a
 * signal until the thread reaches one of its interceptors, and Boehm GC, which stops the
 * world with signals, gives up ("Signals delivery fails constantly") and aborts. So in a
 * TSan build collection is off while the workers run a phase and happens between phases,
 * when they wait in pthread_cond_wait, where TSan delivers signals at once. Other builds
 * collect whenever they allocate. */
#if defined(__SANITIZE_THREAD__)
#define POOL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define POOL_TSAN 1
#endif
#endif
#ifndef POOL_TSAN
#define POOL_TSAN 0
#endif

typedef struct Worker { rt_pool *pool; int64_t part; } Worker;

struct rt_pool {
    int64_t nthreads;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;   /* a new phase (or stop); the last worker finished */
    uint64_t phase;              /* phases announced so far (atomic) */
    int64_t pending;             /* workers still busy with the current phase (atomic) */
    rt_pool_task task;
    void *ctx;
    bool stop, catch;            /* catch: hold worker errors (REPL recovery) */
    bool gc_off;                 /* TSan builds: collection disabled during a phase */
    pthread_t *tid;
    Worker *workers;
};

static void pause_cpu(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Waits until the phase counter differs from `seen`, and returns it. */
static uint64_t wait_phase(rt_pool *pool, uint64_t seen)
{
    uint64_t ph;
    for (int i = 0; i < SPINS; i++) {
        if ((ph = __atomic_load_n(&pool->phase, __ATOMIC_ACQUIRE)) != seen) return ph;
        pause_cpu();
    }
    pthread_mutex_lock(&pool->lock);
    while ((ph = __atomic_load_n(&pool->phase, __ATOMIC_ACQUIRE)) == seen)
        pthread_cond_wait(&pool->wake, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    return ph;
}

/* A worker's part; under recovery an error in it is held and ends only this part. */
static void run_part(rt_pool *pool, int64_t part)
{
    jmp_buf jb;
    if (!pool->catch) {
        pool->task(pool->ctx, part, pool->nthreads);
        return;
    }
    if (setjmp(jb) == 0) {
        rt_catch_begin(&jb);
        pool->task(pool->ctx, part, pool->nthreads);
    }
    rt_catch_end();
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    rt_pool *pool = w->pool;
    for (uint64_t seen = 0;;) {
        seen = wait_phase(pool, seen);
        if (pool->stop) return NULL;
        run_part(pool, w->part);
        if (__atomic_sub_fetch(&pool->pending, 1, __ATOMIC_ACQ_REL) == 0) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->lock);
        }
    }
}

/* Waits until every worker has finished the current phase. */
static void wait_done(rt_pool *pool)
{
    for (int i = 0; i < SPINS; i++) {
        if (__atomic_load_n(&pool->pending, __ATOMIC_ACQUIRE) == 0) return;
        pause_cpu();
    }
    pthread_mutex_lock(&pool->lock);
    while (__atomic_load_n(&pool->pending, __ATOMIC_ACQUIRE) != 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

/* Hands the workers the next phase (or the order to stop). */
static void announce(rt_pool *pool)
{
    __atomic_store_n(&pool->pending, pool->nthreads - 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&pool->lock);
    __atomic_add_fetch(&pool->phase, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}

rt_pool *rt_pool_start(int64_t nthreads, const char *loc)
{
    rt_pool *pool = calloc(1, sizeof *pool);
    pool->nthreads = nthreads > 1 ? nthreads : 1;
    pool->tid = calloc((size_t)pool->nthreads, sizeof *pool->tid);
    pool->workers = calloc((size_t)pool->nthreads, sizeof *pool->workers);
    if (!pool->tid || !pool->workers) rt_fail(loc, "out of memory");
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    pool->catch = rt_recovery_active();
    int64_t started = 1;
    for (; started < pool->nthreads; started++) {
        pool->workers[started] = (Worker){pool, started};
        if (pthread_create(&pool->tid[started], NULL, worker_main, &pool->workers[started]) != 0) break;
    }
    if (started == pool->nthreads) return pool;
    pool->nthreads = started;
    rt_pool_stop(pool);
    rt_fail(loc, "smc: cannot start a worker thread");
}

static void gc_pause(rt_pool *pool)
{
    if (POOL_TSAN && !pool->gc_off) GC_disable(), pool->gc_off = true;
}

static void gc_resume(rt_pool *pool)
{
    if (pool->gc_off) GC_enable(), pool->gc_off = false;
}

void rt_pool_run(rt_pool *pool, rt_pool_task task, void *ctx)
{
    pool->task = task;
    pool->ctx = ctx;
    if (pool->nthreads > 1) gc_pause(pool), announce(pool);
    task(ctx, 0, pool->nthreads);
    if (pool->nthreads > 1) wait_done(pool), gc_resume(pool);
}

/* The caller may have left a phase by an error (its part longjmps out of rt_pool_run), so
 * the workers first finish that phase: the held error has raised rt_interrupted, which
 * makes them stop early. */
void rt_pool_stop(rt_pool *pool)
{
    if (pool->nthreads > 1) {
        wait_done(pool);
        gc_resume(pool);   /* after an error that left a phase */
        pool->stop = true;
        announce(pool);
    }
    for (int64_t k = 1; k < pool->nthreads; k++) pthread_join(pool->tid[k], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    free(pool->tid);
    free(pool->workers);
    free(pool);
}
