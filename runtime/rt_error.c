/* rt_error.c - runtime errors: flush what the program printed, report `loc: error: msg`
 * on stderr, then exit 1 or, in the REPL, longjmp back to its prompt (rt_set_recovery). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rt_progress.h"
#include "rt_repl.h"

static jmp_buf *recovery;          /* set by rt_set_recovery, NULL when off */
static pthread_t recovery_thread;  /* the only thread whose errors return there */

/* A worker inside rt_catch_begin/end jumps here; the first error of all threads is held. */
static __thread jmp_buf *catcher;
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static bool held, held_has_loc;
static char held_loc[512], held_msg[1024];
/* Taken for good by the first error that exits: errors on other threads wait for the exit,
 * so a failing swarm reports once and exit is never called by two threads. */
static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;

void rt_set_recovery(jmp_buf *jb)
{
    recovery_thread = pthread_self();
    recovery = jb;
}

bool rt_recovery_active(void) { return recovery != NULL; }

void rt_catch_begin(jmp_buf *jb) { catcher = jb; }
void rt_catch_end(void) { catcher = NULL; }

static _Noreturn void hold(const char *loc, const char *msg)
{
    pthread_mutex_lock(&held_lock);
    if (!held) {
        held = true;
        held_has_loc = loc != NULL;
        snprintf(held_loc, sizeof held_loc, "%s", loc ? loc : "");
        snprintf(held_msg, sizeof held_msg, "%s", msg);
    }
    pthread_mutex_unlock(&held_lock);
    rt_interrupted = 1;   /* the other threads stop at their next poll */
    longjmp(*catcher, 1);
}

void rt_rethrow(void)
{
    if (!held)
        return;
    held = false;
    rt_interrupted = 0;
    rt_fail(held_has_loc ? held_loc : NULL, held_msg);
}

static __thread const char *context_loc, *context_what;

void rt_error_context(const char *loc, const char *what)
{
    context_loc = loc;
    context_what = what;
}

/* Prints the message and exits or recovers; a NULL loc means the error has no source
 * position. A progress bar on screen is erased first. */
_Noreturn void rt_fail(const char *loc, const char *msg)
{
    if (catcher)
        hold(loc, msg);
    bool recover = recovery && pthread_equal(pthread_self(), recovery_thread);
    if (!recover)
        pthread_mutex_lock(&exit_lock);
    rt_progress_abandon();
    fflush(stdout);
    fprintf(stderr, "%s: error: %s\n", loc ? loc : "ppl", msg);
    if (context_loc && (!loc || strcmp(loc, context_loc) != 0))
        fprintf(stderr, "%s: note: %s\n", context_loc, context_what);
    context_loc = NULL;
    if (recover)
        longjmp(*recovery, 1);
    exit(1);
}

_Noreturn void rt_failf(const char *loc, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rt_fail(loc, buf);
}

_Noreturn void rt_fail_index(const char *loc, int64_t index, int64_t len)
{
    rt_failf(loc, "index %lld out of bounds for array of length %lld",
             (long long)index, (long long)len);
}
