/* rt_ad.c - reverse-mode AD: a per-thread tape of nodes carrying forward-pass partials, swept
 * once backwards by rt_ad_grad; log densities and matrix-vector products are single nodes. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <gsl/gsl_sf_psi.h>
#include "rt.h"
#include "rt_ad.h"
#include "rt_dist.h"
#include "rt_tensor.h"

/* ---- the tape ----
 * Node i's value is val[i] and its adjoint adj[i]: flat arrays, so the adjoints of a
 * matvec's outputs are one contiguous vector for BLAS. A node lists its operands and the
 * partials d value / d operand, inline for up to AD_INLINE operands, else in the pool
 * (parg, pd) from offset arg[0]. The backward pass is then one generic loop,
 * adj[arg[k]] += d[k] * adj[i], with matvec's head node the only special case. Every array
 * grows by doubling and is kept by rt_ad_begin, so a tape of steady size allocates nothing
 * after its first run. The storage is malloc'd, not collected: it holds no GC pointers and
 * is freed by a thread-exit destructor. */
#define AD_INLINE 3
#define AD_MIN_CAP 1024

enum ad_op {
    AD_OP_const, AD_OP_input, AD_OP_stop_grad,
#define AD_OP_ENUM(name, ...) AD_OP_##name,
    RT_AD_UNARY(AD_OP_ENUM) RT_AD_BINARY(AD_OP_ENUM)
#undef AD_OP_ENUM
#define AD_OP_DIST(name, ...) AD_OP_lpdf_##name,
    RT_DISTRIBUTIONS(AD_OP_DIST)
#undef AD_OP_DIST
    AD_OP_sum, AD_OP_logsumexp, AD_OP_dot_const, AD_OP_sum_bernoulli_logit, AD_OP_sum_normal,
    AD_OP_matvec,       /* head: arg[0] = pool offset of {rows, cols, w...}, arg[1] = X's */
    AD_OP_matvec_out,   /* the rows outputs, right after the head */
    AD_OP_tensor,       /* a tensor operation: arg[0] = its record in rt_tensor_ad.c's state */
};

typedef struct ad_node {     /* 64 bytes: one cache line */
    int32_t op;              /* enum ad_op: for matvec, and for reading a tape in a debugger */
    int32_t unused;
    int64_t nargs;
    int64_t arg[AD_INLINE];  /* operand indices, or arg[0] = their offset in the pool */
    double d[AD_INLINE];     /* partials, when inline */
} ad_node;

typedef struct ad_tape {
    ad_node *node;
    double *val, *adj;
    int64_t n, cap;
    int64_t *input, ninput, input_cap;   /* node index of input k */
    int64_t *parg;                       /* pool: out-of-line operands ... */
    double *pd;                          /* ... and their partials */
    int64_t pn, pcap;
    double *mat;                         /* matrices copied by rt_ad_matvec */
    int64_t mn, mcap;
    void *tmp;                           /* scratch: gathered vectors, categorical's array */
    int64_t tmp_cap;                     /* in bytes */
    void *tens;                          /* tensor records and adjoints (rt_tensor_ad.c), or NULL */
    uint64_t gen;                        /* this tape's run: tensors made on it carry it */
} ad_tape;

static _Noreturn void out_of_memory(void)
{
    rt_fail(NULL, "out of memory growing the gradient tape");
}

/* The capacity, at least AD_MIN_CAP, doubled until it holds `need`. */
static int64_t grown(int64_t cap, int64_t need)
{
    if (need > INT64_MAX / 4)
        out_of_memory();
    cap = cap < AD_MIN_CAP ? AD_MIN_CAP : cap;
    while (cap < need)
        cap *= 2;
    return cap;
}

static void *resize(void *p, int64_t n, size_t elem)
{
    if ((uint64_t)n > SIZE_MAX / elem)
        out_of_memory();
    void *q = realloc(p, (size_t)n * elem);
    if (!q)
        out_of_memory();
    return q;
}

static void reserve_nodes(ad_tape *t, int64_t extra)
{
    if (t->n + extra <= t->cap)
        return;
    t->cap = grown(t->cap, t->n + extra);
    t->node = resize(t->node, t->cap, sizeof *t->node);
    t->val = resize(t->val, t->cap, sizeof *t->val);
    t->adj = resize(t->adj, t->cap, sizeof *t->adj);
}

static void reserve_pool(ad_tape *t, int64_t extra)
{
    if (t->pn + extra <= t->pcap)
        return;
    t->pcap = grown(t->pcap, t->pn + extra);
    t->parg = resize(t->parg, t->pcap, sizeof *t->parg);
    t->pd = resize(t->pd, t->pcap, sizeof *t->pd);
}

static void reserve_mat(ad_tape *t, int64_t extra)
{
    if (t->mn + extra <= t->mcap)
        return;
    t->mcap = grown(t->mcap, t->mn + extra);
    t->mat = resize(t->mat, t->mcap, sizeof *t->mat);
}

/* Scratch space for `bytes`, overwritten by the next call. */
static void *scratch(ad_tape *t, int64_t bytes)
{
    if (bytes > t->tmp_cap) {
        t->tmp_cap = grown(t->tmp_cap, bytes);
        free(t->tmp);
        t->tmp = resize(NULL, t->tmp_cap, 1);
    }
    return t->tmp;
}

/* ---- one tape per thread ---- */

static __thread ad_tape *cur;
static pthread_key_t tape_key;          /* its destructor frees a thread's tape at exit */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void tape_release(void *p)
{
    ad_tape *t = p;
    free(t->node), free(t->val), free(t->adj), free(t->input);
    free(t->parg), free(t->pd), free(t->mat), free(t->tmp);
    if (t->tens)
        rt_tad_state_free(t->tens);
    free(t);
    if (cur == t)
        cur = NULL;
}

static void key_create(void)
{
    if (pthread_key_create(&tape_key, tape_release) != 0)
        rt_fail(NULL, "cannot create the gradient tape's thread key");
}

static uint64_t next_gen(void);

static ad_tape *tape(void)
{
    if (cur)
        return cur;
    pthread_once(&key_once, key_create);
    ad_tape *t = calloc(1, sizeof *t);
    if (!t)
        out_of_memory();
    t->gen = next_gen();
    pthread_setspecific(tape_key, t);
    return cur = t;
}

/* A fresh generation for each run of a tape, so tensors made on an earlier run (or another
 * tape) read as constants. */
static uint64_t next_gen(void)
{
    static _Atomic uint64_t gen = 1;
    return gen++;
}

static void restart(ad_tape *t)
{
    t->n = t->ninput = t->pn = t->mn = 0;
    t->gen = next_gen();
    if (t->tens)
        rt_tad_state_reset(t->tens);
}

void rt_ad_begin(void)
{
    restart(tape());
}

void rt_ad_free(void)
{
    if (!cur)
        return;
    pthread_setspecific(tape_key, NULL);
    tape_release(cur);
}

/* The thread's tape while a pushed one is in use is kept by the pusher; the last popped tape
 * is kept for the next push, so a sampler scoring a model step after step reuses its storage. */
static __thread ad_tape *spare;

void *rt_ad_push(void)
{
    ad_tape *outer = tape();
    ad_tape *t = spare ? spare : calloc(1, sizeof *t);
    if (!t)
        out_of_memory();
    spare = NULL;
    restart(t);
    pthread_setspecific(tape_key, t);
    cur = t;
    return outer;
}

void rt_ad_pop(void *outer)
{
    if (spare)
        tape_release(spare);
    spare = cur;
    pthread_setspecific(tape_key, outer);
    cur = outer;
}

rt_ad_mark rt_ad_mark_here(void)
{
    ad_tape *t = tape();
    return (rt_ad_mark){t->n, t->pn, t->mn};
}

void rt_ad_rewind(rt_ad_mark m)
{
    ad_tape *t = tape();
    if (m.n > t->n || m.pn > t->pn || m.mn > t->mn || (t->ninput && t->input[t->ninput - 1] >= m.n))
        rt_fail(NULL, "internal error: rewinding the gradient tape past its inputs or forwards");
    t->n = m.n, t->pn = m.pn, t->mn = m.mn;
}

int64_t rt_ad_ninputs(void) { return tape()->ninput; }
int64_t rt_ad_size(void) { return tape()->n; }

/* ---- nodes ---- */

static _Noreturn void bad_handle(const ad_tape *t, int64_t h)
{
    rt_failf(NULL, "internal error: gradient handle %lld is not on the tape (%lld nodes)",
             (long long)h, (long long)t->n);
}

static double value_of(const ad_tape *t, int64_t h)
{
    if ((uint64_t)h >= (uint64_t)t->n)
        bad_handle(t, h);
    return t->val[h];
}

double rt_ad_value(int64_t h) { return value_of(tape(), h); }

bool rt_ad_is_const(int64_t h)
{
    ad_tape *t = tape();
    value_of(t, h);
    return t->node[h].op == AD_OP_const;
}

/* Validates n handles (and n itself) before a node that reads them is appended. */
static void check_handles(const ad_tape *t, const int64_t *hs, int64_t n)
{
    if (n < 0)
        rt_failf(NULL, "internal error: negative operand count %lld", (long long)n);
    for (int64_t k = 0; k < n; k++)
        value_of(t, hs[k]);
}

/* Appends a node of nargs operands with value v; *args and *d receive where its operand
 * indices and partials go, which the caller fills before appending anything else. */
static int64_t node_new(ad_tape *t, int op, double v, int64_t nargs, int64_t **args, double **d)
{
    if (t->n == t->cap)
        reserve_nodes(t, 1);
    int64_t i = t->n++;
    ad_node *nd = &t->node[i];
    nd->op = op, nd->nargs = nargs;
    t->val[i] = v;
    if (nargs <= AD_INLINE) {
        *args = nd->arg, *d = nd->d;
        return i;
    }
    reserve_pool(t, nargs);
    nd->arg[0] = t->pn;
    *args = t->parg + t->pn, *d = t->pd + t->pn;
    t->pn += nargs;
    return i;
}

static int64_t leaf(ad_tape *t, int op, double v)
{
    int64_t *a;
    double *d;
    return node_new(t, op, v, 0, &a, &d);
}

static int64_t push1(ad_tape *t, int op, double z, int64_t x, double dx)
{
    int64_t *a;
    double *d;
    int64_t i = node_new(t, op, z, 1, &a, &d);
    a[0] = x, d[0] = dx;
    return i;
}

static int64_t push2(ad_tape *t, int op, double z, int64_t x, int64_t y, double dx, double dy)
{
    int64_t *a;
    double *d;
    int64_t i = node_new(t, op, z, 2, &a, &d);
    a[0] = x, a[1] = y, d[0] = dx, d[1] = dy;
    return i;
}

int64_t rt_ad_const(double v) { return leaf(tape(), AD_OP_const, v); }

int64_t rt_ad_input(double v)
{
    ad_tape *t = tape();
    if (t->ninput == t->input_cap) {
        t->input_cap = grown(t->input_cap, t->ninput + 1);
        t->input = resize(t->input, t->input_cap, sizeof *t->input);
    }
    int64_t i = leaf(t, AD_OP_input, v);
    t->input[t->ninput++] = i;
    return i;
}

int64_t rt_ad_stop_grad(int64_t h)
{
    ad_tape *t = tape();
    return leaf(t, AD_OP_stop_grad, value_of(t, h));
}

/* ---- elementary operations: the tables of rt_ad.h ---- */

static double ad_lgamma(double x)    /* lgamma without the global signgam (thread-safe) */
{
    int sign;
    return lgamma_r(x, &sign);
}

/* GSL's digamma, whose error handler would abort at the poles: they (and -inf, NaN) give
 * NaN here; +inf gives +inf. */
static double ad_digamma(double x)
{
    if (isnan(x) || (x <= 0 && x == floor(x)))
        return NAN;
    return x == INFINITY ? INFINITY : gsl_sf_psi(x);
}

static double ad_inv_logit(double x)       /* never forms exp of a large positive number */
{
    if (x >= 0)
        return 1 / (1 + exp(-x));
    double e = exp(x);
    return e / (1 + e);
}

static double ad_softplus(double x)        /* log(1 + exp(x)), as the prelude computes it */
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* d x^y / dx = y x^(y-1): by the power rule, so x < 0 works for integral y (where
 * non-integral y gives NaN, as the value does); 0 when y = 0, x^0 being constant. */
static double ad_pow_dx(double x, double y)
{
    return y == 0 ? 0 : y * pow(x, y - 1);
}

/* d x^y / dy = x^y log x for x > 0. For x < 0, x^y is only defined at integral y, so
 * there is no derivative in y: 0 is returned (NaN where the value is NaN). For x = 0,
 * 0^y is constant on either side of y = 0: 0. A value of 0 (underflow) gives 0. */
static double ad_pow_dy(double x, double y, double z)
{
    if (x > 0 && z != 0)
        return z * log(x);
    return isnan(z) ? NAN : 0;
}

#define AD_UNARY_DEF(name, value, deriv) \
    int64_t rt_ad_##name(int64_t h) \
    { \
        ad_tape *t = tape(); \
        double x = value_of(t, h), z = (value); \
        return push1(t, AD_OP_##name, z, h, (deriv)); \
    }
RT_AD_UNARY(AD_UNARY_DEF)
#undef AD_UNARY_DEF

#define AD_BINARY_DEF(name, value, dx, dy) \
    int64_t rt_ad_##name(int64_t hx, int64_t hy) \
    { \
        ad_tape *t = tape(); \
        double x = value_of(t, hx), y = value_of(t, hy), z = (value); \
        return push2(t, AD_OP_##name, z, hx, hy, (dx), (dy)); \
    }
RT_AD_BINARY(AD_BINARY_DEF)
#undef AD_BINARY_DEF

/* ---- reductions ---- */

/* A node reading the n handles hs, all validated; its partials are left to the caller. */
static int64_t nary(ad_tape *t, int op, const int64_t *hs, int64_t n, double **d)
{
    check_handles(t, hs, n);
    int64_t *a;
    int64_t i = node_new(t, op, 0, n, &a, d);
    if (n > 0)
        memcpy(a, hs, (size_t)n * sizeof *hs);
    return i;
}

int64_t rt_ad_sum(const int64_t *hs, int64_t n)
{
    ad_tape *t = tape();
    double *d, s = 0;
    int64_t i = nary(t, AD_OP_sum, hs, n, &d);
    for (int64_t k = 0; k < n; k++)
        s += t->val[hs[k]], d[k] = 1;
    t->val[i] = s;
    return i;
}

int64_t rt_ad_dot_const(const double *a, const int64_t *hs, int64_t n)
{
    ad_tape *t = tape();
    double *d, s = 0;
    int64_t i = nary(t, AD_OP_dot_const, hs, n, &d);
    for (int64_t k = 0; k < n; k++)
        s += a[k] * t->val[hs[k]], d[k] = a[k];
    t->val[i] = s;
    return i;
}

static void fill(double *d, int64_t n, double v)
{
    for (int64_t k = 0; k < n; k++)
        d[k] = v;
}

/* rt_logsumexp's value by the same operations in the same order; softmax into d. */
static double lse(const double *val, const int64_t *hs, int64_t n, double *d)
{
    if (n == 0)
        return -INFINITY;
    int64_t arg = 0;
    for (int64_t k = 0; k < n; k++) {
        if (isnan(val[hs[k]]))
            return fill(d, n, NAN), NAN;
        if (val[hs[k]] > val[hs[arg]])
            arg = k;
    }
    double m = val[hs[arg]], s = 0;
    if (isinf(m))
        return fill(d, n, 0), m;
    for (int64_t k = 0; k < n; k++)
        if (k != arg)
            s += exp(val[hs[k]] - m);
    for (int64_t k = 0; k < n; k++)      /* exp(v - m) / (1 + s): v - m is exact near m */
        d[k] = exp(val[hs[k]] - m) / (1 + s);
    return m + log1p(s);
}

int64_t rt_ad_logsumexp(const int64_t *hs, int64_t n)
{
    ad_tape *t = tape();
    double *d;
    int64_t i = nary(t, AD_OP_logsumexp, hs, n, &d);
    t->val[i] = lse(t->val, hs, n, d);
    return i;
}

/* ---- matrix-vector product ----
 * Head node h (no operands; its pool record is {rows, cols, w[0..cols)}, arg[1] the offset
 * of its copy of X) followed by the rows outputs h+1..h+rows. Going backwards the outputs'
 * adjoints are complete when the head is reached, and w's adjoints gain X^T adj[h+1..]. */

static void check_dims(int64_t rows, int64_t cols)
{
    if (rows < 0 || cols < 0 || rows > INT32_MAX || cols > INT32_MAX
        || (cols > 0 && rows > INT64_MAX / 8 / cols))
        rt_failf(NULL, "internal error: matrix of %lld x %lld for the gradient tape",
                 (long long)rows, (long long)cols);
}

/* Appends the head and its record; returns the head's index. */
static int64_t matvec_head(ad_tape *t, const double *X, int64_t rows, int64_t cols,
                           const int64_t *w)
{
    reserve_nodes(t, rows + 1), reserve_pool(t, cols + 2), reserve_mat(t, rows * cols);
    int64_t h = t->n++;
    t->node[h] = (ad_node){.op = AD_OP_matvec, .arg = {t->pn, t->mn}};
    t->val[h] = 0;
    int64_t *rec = t->parg + t->pn;
    rec[0] = rows, rec[1] = cols;
    if (cols > 0)
        memcpy(rec + 2, w, (size_t)cols * sizeof *w);
    t->pn += cols + 2;
    if (rows * cols > 0)
        memcpy(t->mat + t->mn, X, (size_t)(rows * cols) * sizeof *X);
    t->mn += rows * cols;
    return h;
}

void rt_ad_matvec(const double *X, int64_t rows, int64_t cols, const int64_t *w, int64_t *out)
{
    ad_tape *t = tape();
    check_dims(rows, cols);
    check_handles(t, w, cols);
    if (rows == 0)
        return;
    int64_t h = matvec_head(t, X, rows, cols, w);
    double *wv = scratch(t, cols * (int64_t)sizeof(double)), *y = t->val + h + 1;
    for (int64_t j = 0; j < cols; j++)
        wv[j] = t->val[w[j]];
    for (int64_t r = 0; r < rows; r++) {
        t->node[h + 1 + r] = (ad_node){.op = AD_OP_matvec_out};
        out[r] = h + 1 + r;
    }
    t->n += rows;
    if (cols == 0)
        memset(y, 0, (size_t)rows * sizeof *y);
    else
        cblas_dgemv(CblasRowMajor, CblasNoTrans, rows, cols, 1.0, t->mat + t->node[h].arg[1],
                    cols, wv, 1, 0.0, y, 1);
}

static void matvec_backward(ad_tape *t, int64_t h)
{
    const int64_t *rec = t->parg + t->node[h].arg[0], *w = rec + 2;
    int64_t rows = rec[0], cols = rec[1];
    if (cols == 0)
        return;
    double *g = scratch(t, cols * (int64_t)sizeof(double));
    cblas_dgemv(CblasRowMajor, CblasTrans, rows, cols, 1.0, t->mat + t->node[h].arg[1], cols,
                t->adj + h + 1, 1, 0.0, g, 1);
    for (int64_t j = 0; j < cols; j++)
        t->adj[w[j]] += g[j];
}

/* ---- the backward pass ---- */

static void backward(ad_tape *t, int64_t out)
{
    double *adj = t->adj;
    for (int64_t i = out; i >= 0; i--) {
        const ad_node *nd = &t->node[i];
        if (nd->op == AD_OP_matvec) {
            matvec_backward(t, i);
            continue;
        }
        if (nd->op == AD_OP_tensor) {
            rt_tad_backward(t->tens, nd->arg[0], i, adj);
            continue;
        }
        double a = adj[i];
        if (a == 0 || nd->nargs == 0)   /* a zero adjoint cannot spread (not even 0 * inf) */
            continue;
        bool inl = nd->nargs <= AD_INLINE;
        const int64_t *args = inl ? nd->arg : t->parg + nd->arg[0];
        const double *d = inl ? nd->d : t->pd + nd->arg[0];
        for (int64_t k = 0; k < nd->nargs; k++)
            adj[args[k]] += d[k] * a;
    }
}

static void backward_from(ad_tape *t, int64_t out)
{
    value_of(t, out);
    memset(t->adj, 0, (size_t)t->n * sizeof *t->adj);   /* matvec outputs past out too */
    if (t->tens)
        rt_tad_zero_adjoints(t->tens);
    t->adj[out] = 1;
    backward(t, out);
}

void rt_ad_grad(int64_t out, double *grad, int64_t ninputs)
{
    ad_tape *t = tape();
    backward_from(t, out);
    for (int64_t k = 0; k < ninputs; k++)
        grad[k] = k < t->ninput ? t->adj[t->input[k]] : 0;
}

/* Whether node i's operation is linear in each operand when the others are constants. */
static bool linear_op(int op)
{
    return op == AD_OP_neg || op == AD_OP_add || op == AD_OP_sub || op == AD_OP_sum || op == AD_OP_dot_const;
}

/* Per node from the first of h to out: 0 no dependence on h, 1 affine in h, 2 otherwise. */
bool rt_ad_affine(int64_t out, const int64_t *h, int64_t n)
{
    ad_tape *t = tape();
    value_of(t, out);
    int64_t lo = out;
    for (int64_t k = 0; k < n; k++)
        lo = h[k] < lo ? (value_of(t, h[k]), h[k]) : lo;
    unsigned char *state = calloc((size_t)(out - lo + 1), 1);
    if (!state)
        out_of_memory();
    for (int64_t k = 0; k < n; k++)
        if (h[k] <= out)
            state[h[k] - lo] = 1;
    for (int64_t i = lo; i <= out; i++) {
        const ad_node *nd = &t->node[i];
        if (nd->op == AD_OP_tensor)   /* its operands are in its record: assume the worst */
            state[i - lo] = 2;
        if (state[i - lo] || nd->nargs == 0)
            continue;
        bool inl = nd->nargs <= AD_INLINE, matvec = nd->op == AD_OP_matvec || nd->op == AD_OP_matvec_out;
        const int64_t *args = inl ? nd->arg : t->parg + nd->arg[0];
        int deps = 0, most = 0;
        for (int64_t k = 0; !matvec && k < nd->nargs; k++) {
            int s = args[k] >= lo ? state[args[k] - lo] : 0;
            deps += s > 0;
            most = s > most ? s : most;
        }
        bool scaled = (nd->op == AD_OP_mul && deps == 1) || (nd->op == AD_OP_div && deps == 1 && !(args[1] >= lo && state[args[1] - lo]));
        state[i - lo] = matvec ? 2 : most == 0 ? 0 : most == 1 && (linear_op(nd->op) || scaled) ? 1 : 2;
    }
    bool affine = state[out - lo] <= 1;
    free(state);
    return affine;
}

void rt_ad_adjoints(int64_t out, const int64_t *h, int64_t n, double *adj)
{
    ad_tape *t = tape();
    backward_from(t, out);
    for (int64_t k = 0; k < n; k++)
        adj[k] = (value_of(t, h[k]), t->adj[h[k]]);   /* value_of checks the handle */
}

/* ---- continuous log densities ----
 * d_D(v, d): the partials of log density D with respect to (x, params...) = v[0..], used
 * where the value is not -inf. psi is the digamma function; z the standardized value. */

static double xdivy(double x, double y)    /* x / y with 0 / 0 = 0, as xlogy's derivative */
{
    return x == 0 ? 0 : x / y;
}

static void d_normal(const double *v, double *d)
{
    double s = v[2], z = (v[0] - v[1]) / s;
    d[0] = -z / s, d[1] = z / s, d[2] = (z * z - 1) / s;
}

/* log N(log x; mu, sigma) - log x */
static void d_lognormal(const double *v, double *d)
{
    double s = v[2], z = (log(v[0]) - v[1]) / s;
    d[0] = -(z / s + 1) / v[0], d[1] = z / s, d[2] = (z * z - 1) / s;
}

/* -log(hi - lo) on [lo, hi]; hi - lo may overflow, as in rt_lpdf_uniform. */
static void d_uniform(const double *v, double *d)
{
    double lo = v[1], hi = v[2], w = hi - lo;
    double inv = isfinite(w) ? 1 / w : 0.5 / (0.5 * hi - 0.5 * lo);
    d[0] = 0, d[1] = inv, d[2] = -inv;
}

/* (a-1) log x + (b-1) log(1-x) - log B(a, b); d log B(a,b) / da = psi(a) - psi(a+b) */
static void d_beta(const double *v, double *d)
{
    double x = v[0], a = v[1], b = v[2], pab = ad_digamma(a + b);
    d[0] = xdivy(a - 1, x) - xdivy(b - 1, 1 - x);
    d[1] = log(x) - ad_digamma(a) + pab;
    d[2] = log1p(-x) - ad_digamma(b) + pab;
}

/* shape log rate - lgamma(shape) + (shape-1) log x - rate x */
static void d_gamma(const double *v, double *d)
{
    double x = v[0], shape = v[1], rate = v[2];
    d[0] = xdivy(shape - 1, x) - rate;
    d[1] = log(rate) - ad_digamma(shape) + log(x);
    d[2] = shape / rate - x;
}

static void d_exponential(const double *v, double *d)
{
    d[0] = -v[1], d[1] = 1 / v[1] - v[0];
}

/* -(nu+1)/2 log(1 + z^2/nu) - log(nu)/2 - log B(1/2, nu/2) - log sigma, z = (x-mu)/sigma.
 * With r = nu + z^2: d/dz = -(nu+1) z / r, dz/dx = 1/sigma, dz/dsigma = -z/sigma, and
 * d/dnu = -log(1 + z^2/nu)/2 + (nu+1) z^2 / (2 nu r) - 1/(2 nu) - psi(nu/2)/2
 *         + psi((nu+1)/2)/2   (log B(1/2, nu/2) = lgamma(1/2) + lgamma(nu/2) - lgamma((nu+1)/2)). */
/* z^2 / (c + z^2), which is 1 once z^2 overflows (inf / inf would be NaN), and z / (c + z^2),
 * which is 0 then: the heavy tails' partials stay finite where their densities do. */
static double sq_share(double zz, double c) { return isinf(zz) ? 1 : zz / (c + zz); }
static double over_sq(double z, double zz, double c) { return isinf(zz) ? 0 : z / (c + zz); }

static void d_student_t(const double *v, double *d)
{
    double nu = v[1], s = v[3], z = (v[0] - v[2]) / s, zz = z * z;
    d[0] = -(nu + 1) * over_sq(z, zz, nu) / s;
    d[1] = 0.5 * (-rt_log1p_sq(v[0], v[2], s, nu) + (nu + 1) * sq_share(zz, nu) / nu - 1 / nu
                  - ad_digamma(0.5 * nu) + ad_digamma(0.5 * (nu + 1)));
    d[2] = -d[0];
    d[3] = ((nu + 1) * sq_share(zz, nu) - 1) / s;
}

/* -log pi - log sigma - log(1 + z^2): d/dz = -2z / (1 + z^2) */
static void d_cauchy(const double *v, double *d)
{
    double s = v[2], z = (v[0] - v[1]) / s, zz = z * z;
    d[0] = -2 * over_sq(z, zz, 1) / s, d[1] = -d[0], d[2] = (2 * sq_share(zz, 1) - 1) / s;
}

static void d_half_normal(const double *v, double *d)
{
    double s = v[1], z = v[0] / s;
    d[0] = -z / s, d[1] = (z * z - 1) / s;
}

static void d_half_cauchy(const double *v, double *d)
{
    double s = v[1], z = v[0] / s, zz = z * z;
    d[0] = -2 * over_sq(z, zz, 1) / s, d[1] = (2 * sq_share(zz, 1) - 1) / s;
}

/* A density node over the handles h with values v; lp from rt_lpdf_D, already checked. */
static int64_t density(ad_tape *t, int op, double lp, const int64_t *h, const double *v,
                       int64_t n, void (*partials)(const double *, double *))
{
    int64_t *a;
    double *d;
    int64_t i = node_new(t, op, lp, n, &a, &d);
    memcpy(a, h, (size_t)n * sizeof *h);
    if (lp == -INFINITY)
        fill(d, n, 0);
    else
        partials(v, d);
    return i;
}

/* rt_ad_lpdf_D for a continuous row with np parameters. */
#define AD_LPDF_1(name) \
    int64_t rt_ad_lpdf_##name(int64_t x, int64_t p1, const char *loc) \
    { \
        ad_tape *t = tape(); \
        int64_t h[] = {x, p1}; \
        double v[] = {value_of(t, x), value_of(t, p1)}; \
        return density(t, AD_OP_lpdf_##name, rt_lpdf_##name(v[0], v[1], loc), h, v, 2, \
                       d_##name); \
    }
#define AD_LPDF_2(name) \
    int64_t rt_ad_lpdf_##name(int64_t x, int64_t p1, int64_t p2, const char *loc) \
    { \
        ad_tape *t = tape(); \
        int64_t h[] = {x, p1, p2}; \
        double v[] = {value_of(t, x), value_of(t, p1), value_of(t, p2)}; \
        return density(t, AD_OP_lpdf_##name, rt_lpdf_##name(v[0], v[1], v[2], loc), h, v, 3, \
                       d_##name); \
    }
#define AD_LPDF_3(name) \
    int64_t rt_ad_lpdf_##name(int64_t x, int64_t p1, int64_t p2, int64_t p3, const char *loc) \
    { \
        ad_tape *t = tape(); \
        int64_t h[] = {x, p1, p2, p3}; \
        double v[] = {value_of(t, x), value_of(t, p1), value_of(t, p2), value_of(t, p3)}; \
        return density(t, AD_OP_lpdf_##name, rt_lpdf_##name(v[0], v[1], v[2], v[3], loc), \
                       h, v, 4, d_##name); \
    }
/* Every continuous row of RT_DISTRIBUTIONS: a new one needs its d_D above. */
#define AD_LPDF_DEF_REAL(name, np) AD_LPDF_##np(name)
#define AD_LPDF_DEF_INT(name, np)
#define AD_LPDF_DEF(name, np, vt, types, ...) AD_LPDF_DEF_##vt(name, np)
RT_DISTRIBUTIONS(AD_LPDF_DEF)
#undef AD_LPDF_DEF

/* ---- discrete log densities: dm_D(y, param) = d log p(y) / d param ---- */

static double dm_bernoulli(int64_t y, double p)
{
    return y == 1 ? 1 / p : -1 / (1 - p);
}

/* y - inv_logit(t), formed without cancellation for either y */
static double dm_bernoulli_logit(int64_t y, double logit_p)
{
    return y == 1 ? ad_inv_logit(-logit_p) : -ad_inv_logit(logit_p);
}

static double dm_poisson(int64_t y, double rate)
{
    return xdivy((double)y, rate) - 1;
}

static double dm_poisson_log(int64_t y, double log_rate)
{
    return (double)y - exp(log_rate);
}

#define AD_LPMF1_DEF(name) \
    int64_t rt_ad_lpmf_##name(int64_t y, int64_t param, const char *loc) \
    { \
        ad_tape *t = tape(); \
        double v = value_of(t, param), lp = rt_lpdf_##name(y, v, loc); \
        return push1(t, AD_OP_lpdf_##name, lp, param, lp == -INFINITY ? 0 : dm_##name(y, v)); \
    }
RT_AD_LPMF1(AD_LPMF1_DEF)
#undef AD_LPMF1_DEF

/* y log p + (n - y) log(1 - p) + log C(n, y) */
int64_t rt_ad_lpmf_binomial(int64_t y, int64_t n, int64_t p, const char *loc)
{
    ad_tape *t = tape();
    double v = value_of(t, p), lp = rt_lpdf_binomial(y, n, v, loc);
    double dp = lp == -INFINITY ? 0 : xdivy((double)y, v) - xdivy((double)(n - y), 1 - v);
    return push1(t, AD_OP_lpdf_binomial, lp, p, dp);
}

/* log p[y] - log sum p: d/dp[k] = [k = y] / p[y] - 1 / sum p */
int64_t rt_ad_lpmf_categorical(int64_t y, const int64_t *probs, int64_t n, const char *loc)
{
    ad_tape *t = tape();
    check_handles(t, probs, n);
    rt_array *a = scratch(t, RT_ARRAY_HEADER + (n + 1) * (int64_t)sizeof(double));
    a->len = n;
    double total = 0, *d;
    for (int64_t k = 0; k < n; k++)
        total += a->at.d[k] = t->val[probs[k]];
    double lp = rt_lpdf_categorical(y, a, loc);
    int64_t i = nary(t, AD_OP_lpdf_categorical, probs, n, &d);
    t->val[i] = lp;
    for (int64_t k = 0; k < n; k++)
        d[k] = lp == -INFINITY ? 0 : (k == y ? 1 / t->val[probs[k]] : 0) - 1 / total;
    return i;
}

/* ---- vectorized observations ----
 * The partials go to scratch space first and the node is appended last, so that an
 * invalid parameter (a runtime error, which may return to the REPL) leaves the tape as it
 * was. */

/* Appends a node over hs[0..n) and then, if extra >= 0, the handle extra, with the
 * partials in d; returns it with value v. */
static int64_t append(ad_tape *t, int op, double v, const int64_t *hs, int64_t n,
                      int64_t extra, const double *d)
{
    int64_t *a, m = n + (extra >= 0);
    double *pd;
    int64_t i = node_new(t, op, v, m, &a, &pd);
    for (int64_t k = 0; k < n; k++)
        a[k] = hs[k];
    if (extra >= 0)
        a[n] = extra;
    if (m > 0)
        memcpy(pd, d, (size_t)m * sizeof *d);
    return i;
}

int64_t rt_ad_sum_lpmf_bernoulli_logit(const int64_t *y, const int64_t *eta, int64_t n,
                                       const char *loc)
{
    ad_tape *t = tape();
    check_handles(t, eta, n);
    double *d = scratch(t, n * (int64_t)sizeof(double)), s = 0;
    for (int64_t k = 0; k < n; k++) {
        double v = t->val[eta[k]], lp = rt_lpdf_bernoulli_logit(y[k], v, loc);
        s += lp;
        d[k] = lp == -INFINITY ? 0 : dm_bernoulli_logit(y[k], v);
    }
    return append(t, AD_OP_sum_bernoulli_logit, s, eta, n, -1, d);
}

/* Operands mu[0..n) then sigma; sigma's partial is the sum of the terms' (z^2 - 1) / sigma. */
int64_t rt_ad_sum_lpdf_normal(const double *y, const int64_t *mu, int64_t n, int64_t sigma,
                              const char *loc)
{
    ad_tape *t = tape();
    double sv = value_of(t, sigma);
    check_handles(t, mu, n);
    double *d = scratch(t, (n + 1) * (int64_t)sizeof(double)), s = 0, ds = 0;
    for (int64_t k = 0; k < n; k++) {
        double lp = rt_lpdf_normal(y[k], t->val[mu[k]], sv, loc);
        double z = (y[k] - t->val[mu[k]]) / sv;
        s += lp;
        d[k] = 0;
        if (lp != -INFINITY)
            d[k] = z / sv, ds += (z * z - 1) / sv;
    }
    d[n] = ds;
    return append(t, AD_OP_sum_normal, s, mu, n, sigma, d);
}

/* ---- tensor nodes (rt_tensor_ad.c keeps their records) ---- */

void *rt_ad_tensor_state(void)
{
    ad_tape *t = tape();
    if (!t->tens)
        t->tens = rt_tad_state_new();
    return t->tens;
}

uint64_t rt_ad_gen(void) { return tape()->gen; }

int64_t rt_ad_tensor_node(int64_t rec, double v)
{
    ad_tape *t = tape();
    int64_t i = leaf(t, AD_OP_tensor, v);
    t->node[i].arg[0] = rec;
    return i;
}

int64_t rt_ad_tensor_rec(int64_t h)
{
    ad_tape *t = tape();
    if ((uint64_t)h >= (uint64_t)t->n || t->node[h].op != AD_OP_tensor)
        return -1;
    return t->node[h].arg[0];
}
