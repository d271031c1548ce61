/* rt_print.c - the output of `print`: reals in shortest round-trip form (rt_format.c), ints, bools,
 * strings and (nested) arrays, all through stdout's large buffer (flushed by rt_finish). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rt.h"
#include "rt_tensor.h"

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
    case RT_TENSOR: rt_print_tensor(a->at.p[k]); break;
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
