/* usage.h - the driver's command-line errors: `ppl: error: ...` and where to find help. */
#ifndef PPL_USAGE_H
#define PPL_USAGE_H

/* Prints `ppl: error: MESSAGE` and `run 'HELP' HINT` on stderr; returns 2, the exit status
 * of a usage error. */
int usage_error_hint(const char *help, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
