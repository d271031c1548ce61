/* rt_mat.c - the mat type: dense row-major real matrices built from rows, indexed, printed,
 * and multiplied by vectors with OpenBLAS (a single tape node in gradient specializations). */
#include <stdio.h>
#include <string.h>
#include <cblas.h>
#include "rt.h"
#include "rt_ad.h"
#include "rt_vi.h"

rt_mat *rt_mat_new(int64_t rows, int64_t cols)
{
    if (rows < 0 || cols < 0 || (cols > 0 && rows > (INT64_MAX / 8 - 16) / cols))
        rt_failf(NULL, "mat of %lld x %lld is too large", (long long)rows, (long long)cols);
    rt_mat *m = rt_alloc(sizeof *m + sizeof(double) * (size_t)(rows * cols), false);
    m->rows = rows, m->cols = cols;
    return m;
}

/* mat(rows): every row must have the first row's length. */
rt_mat *rt_mat_from_rows(const rt_array *rows, const char *loc)
{
    int64_t n = rows->len, cols = n ? ((const rt_array *)rows->at.p[0])->len : 0;
    for (int64_t i = 1; i < n; i++) {
        int64_t len = ((const rt_array *)rows->at.p[i])->len;
        if (len != cols)
            rt_failf(loc, "mat: row %lld has %lld elements, but row 0 has %lld (rows must have equal lengths)",
                     (long long)i, (long long)len, (long long)cols);
    }
    rt_mat *m = rt_mat_new(n, cols);
    for (int64_t i = 0; i < n; i++)
        if (cols)
            memcpy(m->d + i * cols, ((const rt_array *)rows->at.p[i])->at.d, sizeof(double) * (size_t)cols);
    return m;
}

double rt_mat_get(const rt_mat *m, int64_t i, int64_t j, const char *loc)
{
    if ((uint64_t)i >= (uint64_t)m->rows || (uint64_t)j >= (uint64_t)m->cols)
        rt_failf(loc, "index [%lld, %lld] out of bounds for a mat of %lld x %lld", (long long)i, (long long)j,
                 (long long)m->rows, (long long)m->cols);
    return m->d[i * m->cols + j];
}

static void check_product(const rt_mat *m, int64_t len, const char *loc)
{
    if (m->cols != len)
        rt_failf(loc, "mat * vector: the mat has %lld columns, but the vector has %lld elements",
                 (long long)m->cols, (long long)len);
}

rt_array *rt_mat_vec(const rt_mat *m, const rt_array *w, const char *loc)
{
    check_product(m, w->len, loc);
    rt_array *out = rt_array_new(m->rows, 0);
    if (m->rows && m->cols)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m->rows, (int)m->cols, 1.0, m->d, (int)m->cols,
                    w->at.d, 1, 0.0, out->at.d, 1);
    return out;
}

/* The same bytes as the expression that builds it: mat([[1.0, 2.0], [3.0, 4.0]]). */
void rt_print_mat(const rt_mat *m)
{
    fputs("mat([", rt_out());
    for (int64_t i = 0; i < m->rows; i++) {
        fputs(i ? ", [" : "[", rt_out());
        for (int64_t j = 0; j < m->cols; j++) {
            if (j)
                fputs(", ", rt_out());
            rt_print_real(m->d[i * m->cols + j]);
        }
        rt_putc(']');
    }
    fputs("])", rt_out());
}

/* ---- gradient specializations: w holds tape handles ---- */

/* X * w as one tape node (rt_ad_matvec): the result's handles. */
rt_array *rt_vi_matvec(const rt_mat *m, const rt_array *w, const char *loc)
{
    check_product(m, w->len, loc);
    rt_array *out = rt_array_new(m->rows, 0);
    rt_ad_matvec(m->d, m->rows, m->cols, w->at.i, out->at.i);
    return out;
}

/* mat(rows) from rows of handles: a mat is data, a constant of the gradient. */
rt_mat *rt_vi_mat(const rt_array *rows, const char *loc)
{
    rt_array *values = rt_array_new(rows->len, 1);
    for (int64_t i = 0; i < rows->len; i++)
        values->at.p[i] = rt_vi_values(rows->at.p[i]);
    return rt_mat_from_rows(values, loc);
}
