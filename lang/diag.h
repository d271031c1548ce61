/* diag.h - source files, locations and error reporting for every stage.
 * Every error prints `file:line:col: error: message`, the source line and a caret. */
#ifndef PPL_DIAG_H
#define PPL_DIAG_H
#include <stdbool.h>

typedef struct Source {
    const char *name;   /* as given on the command line, printed in messages */
    const char *text;   /* NUL-terminated contents */
    int len;
} Source;

typedef struct Loc {
    const Source *src;
    int line, col;      /* 1-based; col counts bytes */
    int offset;         /* byte offset into src->text */
} Loc;

/* Reads a whole file; NULL (with errno set) when it cannot. Text with a NUL byte is cut there. */
Source *source_read(const char *path);
Source *source_from_string(const char *name, const char *text);
void source_free(Source *s);

void diag_error(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_note(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int diag_error_count(void);
/* Whether an error since the last diag_reset was reported in a source other than src. */
bool diag_error_outside(const Source *src);
void diag_reset(void);
/* "file:line:col" in static storage that lives for the process (used for runtime errors). */
const char *diag_loc_string(Loc loc);

enum { DIAG_MAX_ERRORS = 20 };

#endif
