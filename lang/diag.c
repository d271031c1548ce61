/* diag.c - error messages with the offending source line and a caret.
 * After DIAG_MAX_ERRORS errors the rest are counted but not printed. */
#include "diag.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int error_count;
static bool error_elsewhere;    /* an error in another source than the one asked about */
static const Source *last_error_src;

Source *source_from_string(const char *name, const char *text) {
    Source *s = calloc(1, sizeof *s);
    s->name = strdup(name);
    s->text = strdup(text);
    s->len = (int)strlen(s->text);
    return s;
}

Source *source_read(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) { free(buf); return NULL; }
    buf[n] = 0;
    Source *s = calloc(1, sizeof *s);
    s->name = strdup(path);
    s->text = buf;
    s->len = (int)strlen(buf);
    return s;
}

void source_free(Source *s) {
    if (!s) return;
    free((char *)s->name);
    free((char *)s->text);
    free(s);
}

static void print_source_line(Loc loc) {
    if (!loc.src || loc.line <= 0) return;
    const char *start = loc.src->text + loc.offset - (loc.col - 1);
    const char *end = strchr(start, '\n');
    int n = end ? (int)(end - start) : (int)strlen(start);
    if (n > 0 && start[n - 1] == '\r') n--;
    fprintf(stderr, "%.*s\n", n, start);
    for (int i = 0; i < loc.col - 1 && i < n; i++) fputc(start[i] == '\t' ? '\t' : ' ', stderr);
    fputs("^\n", stderr);
}

static void report(Loc loc, const char *kind, const char *fmt, va_list ap) {
    if (loc.src) fprintf(stderr, "%s:%d:%d: %s: ", loc.src->name, loc.line, loc.col, kind);
    else fprintf(stderr, "ppl: %s: ", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    print_source_line(loc);
}

void diag_error(Loc loc, const char *fmt, ...) {
    if (error_count > 0 && loc.src != last_error_src) error_elsewhere = true;
    last_error_src = loc.src;
    if (++error_count > DIAG_MAX_ERRORS) {
        if (error_count == DIAG_MAX_ERRORS + 1) fputs("ppl: too many errors; stopping\n", stderr);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    report(loc, "error", fmt, ap);
    va_end(ap);
}

void diag_note(Loc loc, const char *fmt, ...) {
    if (error_count > DIAG_MAX_ERRORS) return;
    va_list ap;
    va_start(ap, fmt);
    report(loc, "note", fmt, ap);
    va_end(ap);
}

int diag_error_count(void) { return error_count; }
void diag_reset(void) { error_count = 0; error_elsewhere = false; last_error_src = NULL; }
bool diag_error_outside(const Source *src) {
    return error_count > 0 && (error_elsewhere || last_error_src != src);
}

const char *diag_loc_string(Loc loc) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s:%d:%d", loc.src ? loc.src->name : "?", loc.line, loc.col);
    return strdup(buf);
}
