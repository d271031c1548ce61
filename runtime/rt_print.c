/* rt_print.c - the output of `print`: reals in shortest round-trip form, ints, bools,
 * strings and (nested) arrays, all through stdout's large buffer (flushed by rt_finish). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rt.h"

/* Shortest digits that read back as the same double, laid out like Python's repr: fixed
 * notation when 1e-4 <= |x| < 1e16, else exponent form; ".0" marks an integral real.
 * (Plain shortest %g would print 100.0 as "1e+02".) */
static void format_finite(char *out, size_t size, double x)
{
    int prec = 0;
    for (; prec < 16; prec++) {
        snprintf(out, size, "%.*e", prec, x);
        if (strtod(out, NULL) == x)
            break;
    }
    snprintf(out, size, "%.*e", prec, x);
    int exp10 = atoi(strchr(out, 'e') + 1);
    if (exp10 < -4 || exp10 >= 16)
        return;                                     /* keep the exponent form: 1.5e-07 */
    snprintf(out, size, "%.*f", prec > exp10 ? prec - exp10 : 0, x);
    if (!strchr(out, '.'))
        strcat(out, ".0");
}

void rt_format_real(char *buf, int size, double x)
{
    char tmp[64];
    if (isnan(x))
        strcpy(tmp, "nan");
    else if (isinf(x))
        strcpy(tmp, x < 0 ? "-inf" : "inf");
    else
        format_finite(tmp, sizeof tmp, x);
    if (size > 0)
        snprintf(buf, (size_t)size, "%s", tmp);
}

void rt_print_real(double x)
{
    char buf[40];
    rt_format_real(buf, sizeof buf, x);
    fputs(buf, rt_out());
}

static FILE *print_file;

FILE *rt_out(void) { return print_file ? print_file : stdout; }
void rt_print_to_stderr(void) { print_file = stderr; }
void rt_putc(int c) { fputc(c, rt_out()); }

void rt_print_int(int64_t x) { fprintf(rt_out(), "%lld", (long long)x); }
void rt_print_bool(int64_t x) { fputs(x ? "true" : "false", rt_out()); }
void rt_print_string(const char *s) { fputs(s ? s : "", rt_out()); }
int64_t rt_str_eq(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }
void rt_print_space(void) { rt_putc(' '); }
void rt_print_newline(void) { rt_putc('\n'); }

/* A string inside an array is quoted, with \" \\ \n \t \r and \xHH for other control bytes. */
static void print_quoted(const char *s)
{
    rt_putc('"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", rt_out()); break;
        case '\\': fputs("\\\\", rt_out()); break;
        case '\n': fputs("\\n", rt_out()); break;
        case '\t': fputs("\\t", rt_out()); break;
        case '\r': fputs("\\r", rt_out()); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(rt_out(), "\\x%02x", *p);
            else
                rt_putc(*p);
        }
    }
    rt_putc('"');
}

static void print_element(const rt_array *a, int64_t k, int64_t base_kind)
{
    switch (base_kind) {
    case RT_REAL: rt_print_real(a->at.d[k]); break;
    case RT_INT: rt_print_int(a->at.i[k]); break;
    case RT_BOOL: rt_print_bool(a->at.i[k]); break;
    case RT_MAT: rt_print_mat(a->at.p[k]); break;
    default: print_quoted(a->at.p[k]); break;
    }
}

/* `depth` counts the brackets of the type: 1 for real[], 2 for real[][]. */
void rt_print_array(const rt_array *a, int64_t base_kind, int64_t depth)
{
    rt_putc('[');
    for (int64_t k = 0; a && k < a->len; k++) {
        if (k > 0)
            fputs(", ", rt_out());
        if (depth > 1)
            rt_print_array(a->at.p[k], base_kind, depth - 1);
        else
            print_element(a, k, base_kind);
    }
    rt_putc(']');
}
