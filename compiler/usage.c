/* usage.c - the driver's command-line errors. */
#include "usage.h"
#include <stdarg.h>
#include <stdio.h>

int usage_error_hint(const char *help, const char *hint, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("ppl: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nrun '%s' %s\n", help, hint);
    va_end(ap);
    return 2;
}
