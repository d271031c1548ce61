/* rt_error.c - runtime errors: flush what the program printed, report `loc: error: msg`
 * on stderr and exit 1. Every runtime failure (bad index, empty mean, bad data) ends here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "rt.h"

/* Prints the message and exits; a NULL loc means the error has no source position. */
_Noreturn void rt_fail(const char *loc, const char *msg)
{
    fflush(stdout);
    fprintf(stderr, "%s: error: %s\n", loc ? loc : "ppl", msg);
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
