/* rt_progress.h - the progress bar of inference runs (see rt_progress.c).
 * rt_progress_enabled = false (--quiet) turns it off. */
#ifndef PPL_RT_PROGRESS_H
#define PPL_RT_PROGRESS_H
#include <stdbool.h>

typedef struct rt_progress {
    const char *what;
    double start, last;
    bool active, shown;
} rt_progress;

extern bool rt_progress_enabled;
void rt_progress_start(rt_progress *p, const char *what);
void rt_progress_update(rt_progress *p, double done, double total);
void rt_progress_end(rt_progress *p);
/* Erases the bar on screen, if any, and forgets it: rt_fail calls it before reporting. */
void rt_progress_abandon(void);

#endif
