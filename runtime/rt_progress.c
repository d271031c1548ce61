/* rt_progress.c - a progress bar for long inference runs, on stderr, only when stderr is a
 * terminal, only after the run has taken a second, and erased when the run ends. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "rt_progress.h"

bool rt_progress_enabled = true;
static rt_progress *current;   /* the bar on screen, if any: rt_progress_abandon erases it */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void rt_progress_start(rt_progress *p, const char *what) {
    p->what = what;
    p->start = now();
    p->last = 0;
    p->shown = false;
    p->active = rt_progress_enabled && isatty(STDERR_FILENO);
    if (p->active) current = p;
}

/* Redraws at most ten times a second. `done` of `total` (total 0: unknown, show the count). */
void rt_progress_update(rt_progress *p, double done, double total) {
    if (!p->active) return;
    double t = now();
    if (t - p->start < 1.0 || t - p->last < 0.1) return;
    p->last = t;
    p->shown = true;
    if (total <= 0) {
        fprintf(stderr, "\r%s: %.0f, %.1f s", p->what, done, t - p->start);
    } else {
        int width = 30, fill = (int)(width * done / total);
        fprintf(stderr, "\r%s [", p->what);
        for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] %3.0f%%, %.1f s", 100 * done / total, t - p->start);
    }
    fflush(stderr);
}

void rt_progress_end(rt_progress *p) {
    if (p->shown) fputs("\r\033[K", stderr);
    fflush(stderr);
    if (current == p) current = NULL;
}

/* The run is being left by a runtime error (the bar's frame is about to go away). */
void rt_progress_abandon(void) {
    if (current) rt_progress_end(current);
}
