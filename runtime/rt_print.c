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
    fputs(buf, stdout);
}

void rt_print_int(int64_t x) { printf("%lld", (long long)x); }
void rt_print_bool(int64_t x) { fputs(x ? "true" : "false", stdout); }
void rt_print_string(const char *s) { fputs(s ? s : "", stdout); }
int64_t rt_str_eq(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }
void rt_print_space(void) { putchar(' '); }
void rt_print_newline(void) { putchar('\n'); }

/* A string inside an array is quoted, with \" \\ \n \t \r and \xHH for other control bytes. */
static void print_quoted(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                printf("\\x%02x", *p);
            else
                putchar(*p);
        }
    }
    putchar('"');
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
    putchar('[');
    for (int64_t k = 0; a && k < a->len; k++) {
        if (k > 0)
            fputs(", ", stdout);
        if (depth > 1)
            rt_print_array(a->at.p[k], base_kind, depth - 1);
        else
            print_element(a, k, base_kind);
    }
    putchar(']');
}
