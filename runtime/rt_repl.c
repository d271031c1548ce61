/* rt_repl.c - Ctrl-C for the REPL: a SIGINT handler that only raises a flag, and the runtime
 * error that code polling the flag raises (recovered like any other, see rt_error.c). */
#include <signal.h>
#include <stdbool.h>
#include "rt_repl.h"

_Atomic int rt_interrupted;   /* 0 or 1; an int so JIT code can load it (atomically) as an i32 */

static struct sigaction saved;   /* the handler before rt_install_interrupt_handler */
static bool installed;

/* Async-signal-safe: a store to a volatile int and nothing else. */
static void on_sigint(int sig) { rt_interrupted = 1; }

void rt_install_interrupt_handler(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, installed ? NULL : &saved) == 0)
        installed = true;
}

void rt_restore_interrupt_handler(void)
{
    if (installed)
        sigaction(SIGINT, &saved, NULL);
    installed = false;
}

_Noreturn void rt_interrupt(const char *loc)
{
    rt_interrupted = 0;
    rt_fail(loc, "interrupted");
}
