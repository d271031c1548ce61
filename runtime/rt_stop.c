/* rt_stop.c - SIGINT and SIGTERM for scripts, model mode and built binaries (the REPL has its
 * own Ctrl-C, rt_repl.c): stop, keep what the program printed, exit 130 or 143. */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "rt.h"

static sigset_t stop_signals;

/* A thread of its own waits for the signals (blocked in every other thread, which inherit the
 * mask), so that the stop runs outside any signal handler: it may flush stdout, which a
 * handler may not (the program could be in the middle of a write, holding the stream's
 * lock). It waits for that lock up to a second: a write blocked on a full pipe must not keep
 * the program from stopping. The thread is not the collector's and never allocates. */
static void *watch(void *arg)
{
    int sig;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    rt_interrupted = 1;
    for (int i = 0; i < 100; i++) {
        if (ftrylockfile(stdout) == 0) {
            fflush(stdout);
            break;
        }
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    }
    _exit(128 + sig);
}

/* A signal that was ignored when the program started (nohup, a background job) stays ignored. */
static void add_unless_ignored(int sig)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaddset(&stop_signals, sig);
}

void rt_install_stop_handler(void)
{
    static bool installed;
    if (installed)
        return;
    installed = true;
    sigemptyset(&stop_signals);
    add_unless_ignored(SIGINT);
    add_unless_ignored(SIGTERM);
    sigset_t old;
    if (pthread_sigmask(SIG_BLOCK, &stop_signals, &old) != 0)
        return;
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, watch, NULL) != 0)
        pthread_sigmask(SIG_SETMASK, &old, NULL);   /* no watcher: the default actions */
    pthread_attr_destroy(&attr);
}
