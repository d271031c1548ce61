/* summary_csv.c - reads one CSV file of draws in Stan's layout: `#` comment lines (one may
 * say `# log_evidence = X`), a header row of column names (RFC 4180: a quoted name may hold
 * commas, "" for a quote, and line breaks), then a row of numbers per draw. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "summary.h"

/* Sets t->error to "FILE:LINE: error: ..." ("FILE: error: ..." when line is 0). */
static bool fail(Arena *a, SummaryTable *t, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail(Arena *a, SummaryTable *t, int line, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line) t->error = arena_printf(a, "%s:%d: error: %s", t->file, line, msg);
    else t->error = arena_printf(a, "%s: error: %s", t->file, msg);
    return false;
}

static const char *skip_space(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

/* Drops the line end ("\n" or "\r\n") and trailing blanks. */
static void chomp(char *s) {
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
}

/* `# KEY = X` for a number X: true and *v when the comment is one for key. */
static bool comment_number(const char *s, const char *key, double *v) {
    size_t n = strlen(key);
    if (strncmp(s, key, n)) return false;
    s = skip_space(s + n);
    if (*s != '=') return false;
    char *end;
    *v = strtod(s + 1, &end);
    return end != s + 1 && !*skip_space(end);
}

/* `# log_evidence = X` sets the evidence, `# ancestors = A` and `# pareto_k = K` the
 * diagnostics; other comments are ignored. */
static void read_comment(const char *s, SummaryTable *t) {
    s = skip_space(s + 1);
    double v;
    if (comment_number(s, "log_evidence", &v)) t->has_evidence = true, t->log_evidence = v;
    else if (comment_number(s, "ancestors", &v)) t->ancestors = v;
    else if (comment_number(s, "pareto_k", &v)) t->pareto_k = v;
}

static int count_cells(const char *s) {
    int n = 1;
    for (; *s; s++) n += *s == ',';
    return n;
}

/* An unquoted header cell without surrounding blanks. */
static char *plain_name(Arena *a, const char *s, size_t len) {
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    return arena_strndup(a, s, len);
}

/* A quoted header cell as RFC 4180 has it (and rt_csv.c writes it): "..." in which "" is a
 * quote, and commas and line breaks are text. *s is at the opening quote and moves past the
 * closing one; NULL when the quote is not closed. */
static char *quoted_name(Arena *a, const char **s) {
    const char *p = *s + 1;
    size_t n = 0;
    char *out = arena_alloc(a, strlen(p) + 1);
    for (; *p; p++) {
        if (*p == '"' && p[1] != '"') break;
        out[n++] = *p;
        if (*p == '"') p++;
    }
    if (!*p) return NULL;
    out[n] = 0;
    *s = p + 1;
    return out;
}

/* The header row: cells separated by commas, each plain or quoted (blanks around a quoted
 * cell are allowed). False for a quote that is not closed or text after a closing quote. */
static bool read_header(Arena *a, const char *line, int lineno, SummaryTable *t) {
    int cap = 8, n = 0;
    char **names = arena_alloc(a, (size_t)cap * sizeof *names);
    for (const char *s = line;; s++) {
        if (n == cap) {
            char **bigger = arena_alloc(a, (size_t)(cap *= 2) * sizeof *names);
            names = memcpy(bigger, names, (size_t)n * sizeof *names);
        }
        const char *start = skip_space(s);
        if (*start == '"') {
            s = start;
            if (!(names[n++] = quoted_name(a, &s)))
                return fail(a, t, lineno, "header: a quoted column name is not closed");
            s = skip_space(s);
            if (*s != ',' && *s) return fail(a, t, lineno, "header: text after a quoted column name");
        } else {
            const char *end = strchr(s, ',');
            if (!end) end = s + strlen(s);
            names[n++] = plain_name(a, s, (size_t)(end - s));
            s = end;
        }
        if (!*s) break;
    }
    t->names = names;
    t->ncols = n;
    t->header_line = lineno;
    for (int j = 0; j < n; j++)
        if (!strcmp(names[j], "log_weight__")) t->lw = j;
    return true;
}

/* A header line with an open quote continues on the next line (a column name may hold a
 * line break): true when *line has as many quotes as it needs. */
static bool header_complete(const char *line) {
    int quotes = 0;
    for (; *line; line++) quotes += *line == '"';
    return quotes % 2 == 0;
}

/* Room for one more row: the buffer doubles (the old one is left to the arena). */
static double *new_row(Arena *a, SummaryTable *t) {
    if (t->nrows == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        double *cells = arena_alloc(a, (size_t)cap * t->ncols * sizeof *cells);
        if (t->nrows) memcpy(cells, t->cells, (size_t)t->nrows * t->ncols * sizeof *cells);
        t->cells = cells;
        t->cap = cap;
    }
    return t->cells + (size_t)t->nrows++ * t->ncols;
}

/* One cell: a number (strtod's syntax, so also nan, inf, NaN, Inf) with optional blanks
 * around it, ending at the next comma or the end of the line. *s moves past the comma. */
static bool parse_cell(const char **s, double *out) {
    const char *start = skip_space(*s);
    char *end;
    *out = strtod(start, &end);
    const char *after = skip_space(end);
    if (end == start || (*after != ',' && *after != 0)) return false;
    *s = *after ? after + 1 : after;
    return true;
}

/* The cell text at s, up to 30 bytes, for a message. */
static const char *cell_text(Arena *a, const char *s) {
    size_t n = strcspn(s, ",");
    return arena_strndup(a, s, n > 30 ? 30 : n);
}

static bool read_row(Arena *a, const char *line, int lineno, SummaryTable *t) {
    int n = count_cells(line);
    if (n != t->ncols)
        return fail(a, t, lineno, "wrong number of cells: %d, but the header has %d", n,
                    t->ncols);
    double *row = new_row(a, t);
    for (int j = 0; j < n; j++) {
        const char *cell = line;
        if (!parse_cell(&line, &row[j]))
            return fail(a, t, lineno, "cell %d (column '%s') is not a number: '%s'", j + 1,
                        t->names[j], cell_text(a, skip_space(cell)));
    }
    /* A log weight is a number below +inf, or -inf for a draw of weight 0 (ppl never writes
     * NaN): any other would turn every weighted statistic into NaN. */
    if (t->lw >= 0 && (isnan(row[t->lw]) || row[t->lw] == INFINITY))
        return fail(a, t, lineno, "log_weight__ is %s; a log weight must be a number below +inf",
                    isnan(row[t->lw]) ? "nan" : "+inf");
    t->live += t->lw >= 0 && row[t->lw] > -INFINITY;
    return true;
}

/* Sorts one line: a comment, a blank line, the header or a row. */
static bool read_line(Arena *a, char *line, int lineno, SummaryTable *t) {
    chomp(line);
    const char *s = skip_space(line);
    if (*s == '#') read_comment(s, t);
    else if (*s == 0) return true;
    else if (!t->names) return read_header(a, line, lineno, t);
    else return read_row(a, line, lineno, t);
    return true;
}

/* Appends the next line of f to *line (a header whose quoted name holds a line break). */
static bool continue_line(FILE *f, char **line, size_t *size, int *lineno) {
    char *more = NULL;
    size_t more_size = 0;
    if (getline(&more, &more_size, f) < 0) return free(more), false;
    size_t n = strlen(*line), m = strlen(more);
    if (n + m + 1 > *size) *line = realloc(*line, *size = n + m + 1);
    memcpy(*line + n, more, m + 1);
    free(more);
    ++*lineno;
    return true;
}

/* The reader itself, on an open stream (the CSV fuzz target reads from memory). */
bool summary_read_stream(Arena *a, FILE *f, SummaryTable *t) {
    t->ancestors = t->pareto_k = NAN;   /* until comment lines give them */
    char *line = NULL;
    size_t size = 0;
    bool ok = true;
    for (int lineno = 1; ok && getline(&line, &size, f) >= 0; lineno++) {
        int first = lineno;
        if (!t->names && *skip_space(line) != '#')
            while (!header_complete(line) && continue_line(f, &line, &size, &lineno)) {}
        ok = read_line(a, line, first, t);
    }
    if (ok && ferror(f)) ok = fail(a, t, 0, "cannot read the file: %s", strerror(errno));
    free(line);
    if (ok && !t->names) return fail(a, t, 0, "no header row (a line of column names)");
    if (ok && t->nrows == 0) return fail(a, t, 0, "no draws (no rows after the header)");
    if (ok && t->lw >= 0 && t->live == 0)
        return fail(a, t, 0, "every draw has log_weight__ -inf (weight 0): there are no weighted draws to summarize");
    return ok;
}

bool summary_read_csv(Arena *a, const char *file, SummaryTable *t) {
    *t = (SummaryTable){.file = file, .lw = -1};
    FILE *f = fopen(file, "r");
    if (!f) return fail(a, t, 0, "cannot read the file: %s", strerror(errno));
    bool ok = summary_read_stream(a, f, t);
    fclose(f);
    return ok;
}

double *summary_column(Arena *a, const SummaryTable *t, int j) {
    double *col = arena_alloc(a, (t->nrows ? (size_t)t->nrows : 1) * sizeof *col);
    for (int i = 0; i < t->nrows; i++) col[i] = t->cells[(size_t)i * t->ncols + j];
    return col;
}
