/* rt.h - libpplrt: the runtime that compiled ppl programs call.
 * Functions called from generated code are listed in rt_abi.h and must match it exactly. */
#ifndef PPL_RT_H
#define PPL_RT_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

/* Arrays: an immutable length followed by 8-byte elements (double, int64_t, bool as int64_t
 * 0/1, or a pointer to a string or another array). Arrays of scalars are allocated with
 * GC_malloc_atomic; arrays of pointers with GC_malloc so the collector traces them. */
typedef struct rt_array {
    int64_t len;
    int64_t pad;        /* keeps elements 16-byte aligned */
    union { double d[1]; int64_t i[1]; void *p[1]; } at;
} rt_array;

#define RT_ARRAY_HEADER 16   /* byte offset of element 0; the code generator relies on it */

/* Scalar kinds at the bottom of an array type, as generated code passes them (RT_MAT:
 * an array of mats, for printing). */
enum { RT_REAL = 0, RT_INT = 1, RT_BOOL = 2, RT_STRING = 3, RT_MAT = 4, RT_TENSOR = 5 };

/* A mat: a dense row-major matrix of doubles, immutable, allocated with GC_malloc_atomic.
 * Element (i, j) is d[i * cols + j]. The header has the size of rt_array's, so an empty
 * rt_array (the code generator's default value) reads as a 0 x 0 mat. */
typedef struct rt_mat {
    int64_t rows, cols;
    double d[];
} rt_mat;

/* ---- called by generated code (see rt_abi.h) ---- */
void rt_print_real(double x);
void rt_print_int(int64_t x);
void rt_print_bool(int64_t x);
/* Where the program's print, print(post) and plot write: stdout, or stderr after
 * rt_print_to_stderr (model mode writing its CSV to stdout). rt_putc writes one character. */
FILE *rt_out(void);
void rt_print_to_stderr(void);
void rt_putc(int c);
void rt_print_string(const char *s);
int64_t rt_str_eq(const char *a, const char *b);   /* 1 when the texts are equal */
void rt_print_array(const rt_array *a, int64_t base_kind, int64_t depth);
void rt_print_space(void);
void rt_print_newline(void);

rt_array *rt_array_new(int64_t len, int64_t has_pointers);
/* Zeroed collector memory (traced when it may hold pointers); out of memory is a runtime
 * error, so the result is never NULL. */
void *rt_alloc(size_t bytes, bool traced);
/* rt_alloc of count * elem bytes; a negative count or a size that wraps fails at loc, naming what. */
void *rt_alloc_n(int64_t count, size_t elem, bool traced, const char *what, const char *loc);
int64_t rt_range_len(int64_t lo, int64_t hi, const char *loc);   /* length of lo .. hi, checked */
/* p, holding len elements of elem bytes in a capacity of *cap, if that is at least need;
 * else a copy in rt_alloc memory with room for need or more (doubling; *cap updated). */
void *rt_grow(void *p, int64_t len, int64_t *cap, int64_t need, size_t elem, bool traced);
rt_array *rt_array_copy(const rt_array *a, int64_t has_pointers);
double rt_sum_real(const rt_array *a);
int64_t rt_sum_int(const rt_array *a);
double rt_mean_real(const rt_array *a, const char *loc);   /* empty array: runtime error at loc */
double rt_mean_int(const rt_array *a, const char *loc);
double rt_min_real(const rt_array *a, const char *loc);
double rt_max_real(const rt_array *a, const char *loc);
int64_t rt_min_int(const rt_array *a, const char *loc);
int64_t rt_max_int(const rt_array *a, const char *loc);
double rt_logsumexp(const rt_array *a);                     /* empty array: -inf */

/* mats (rt_mat.c); errors at loc */
rt_mat *rt_mat_new(int64_t rows, int64_t cols);
rt_mat *rt_mat_from_rows(const rt_array *rows, const char *loc);      /* mat(rows) */
double rt_mat_get(const rt_mat *m, int64_t i, int64_t j, const char *loc);
rt_array *rt_mat_vec(const rt_mat *m, const rt_array *w, const char *loc);   /* X * w, dgemv */
void rt_print_mat(const rt_mat *m);   /* mat([[1.0, 2.0], [3.0, 4.0]]) */
/* In gradient specializations (real[] values are arrays of tape handles): X * w as one
 * rt_ad_matvec node, and mat(rows) (a mat is a constant of the gradient). */
rt_array *rt_vi_matvec(const rt_mat *m, const rt_array *w, const char *loc);
rt_mat *rt_vi_mat(const rt_array *rows, const char *loc);

/* observe ys ~ normal(mu, sigma) and observe ys ~ bernoulli_logit(eta) for arrays ys
 * (rt_observe.c): the sum of the elements' log densities. An array parameter (non-NULL)
 * must have ys's length (else an error at loc); a NULL one is the scalar after it, for
 * every element. The rt_vi_ forms take tape handles for reals (gradient specializations)
 * and return one node: rt_ad_sum_lpdf_normal or rt_ad_sum_lpmf_bernoulli_logit. */
double rt_obs_normal(const rt_array *y, const rt_array *mu, double mu1, double sigma, const char *loc);
double rt_obs_bernoulli_logit(const rt_array *y, const rt_array *eta, double eta1, const char *loc);
int64_t rt_vi_obs_normal(const rt_array *y, const rt_array *mu, int64_t mu1, int64_t sigma, const char *loc);
int64_t rt_vi_obs_bernoulli_logit(const rt_array *y, const rt_array *eta, int64_t eta1, const char *loc);

double rt_exp(double), rt_log(double), rt_sqrt(double), rt_sin(double), rt_cos(double),
       rt_tan(double), rt_atan(double), rt_tanh(double), rt_lgamma(double), rt_log1p(double),
       rt_expm1(double), rt_floor(double), rt_ceil(double), rt_pow(double, double);

/* Runtime errors: print `loc: error: msg` on stderr (after flushing stdout) and exit 1, or
 * in the REPL return to its recovery point (rt_set_recovery, rt_repl.h). */
_Noreturn void rt_fail(const char *loc, const char *msg);
/* A runtime error at loc when the calling thread's stack is nearly used up (rt_stack.c). */
void rt_stack_check(const char *name, const char *loc);
/* While set, an error elsewhere (in the prelude, say) is followed by a note pointing here:
 * `loc: note: what`. Cleared by the next error or by rt_error_context(NULL, NULL). */
void rt_error_context(const char *loc, const char *what);
_Noreturn void rt_fail_index(const char *loc, int64_t index, int64_t len);
_Noreturn void rt_failf(const char *loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ctrl-C in the REPL (rt_repl.c): its handler sets rt_interrupted to 1; code that polls the
 * flag and finds it set calls rt_interrupt, which clears it and fails with `interrupted`. */
extern _Atomic int rt_interrupted;   /* atomic: signal handlers and threads set it */
_Noreturn void rt_interrupt(const char *loc);

/* Data binding from the --data JSON file. `loc` is the declaration's "file:line:col";
 * a missing variable or a value of the wrong type or shape is an error naming the variable. */
int64_t rt_data_has(const char *name);
double rt_data_real(const char *name, const char *loc);
int64_t rt_data_int(const char *name, const char *loc);
int64_t rt_data_bool(const char *name, const char *loc);
rt_array *rt_data_array(const char *name, int64_t base_kind, int64_t depth, const char *loc);
rt_mat *rt_data_mat(const char *name, const char *loc);   /* an array of equal-length rows */

void rt_gc_root(void *addr);   /* registers an 8-byte global holding a GC pointer */

/* REPL sessions (rt_session.c): top-level variables by name, as 8-byte values. */
void rt_session_store(const char *name, int64_t bits);
int64_t rt_session_load(const char *name);   /* 0 for a name never stored */
void rt_session_reset(void);

/* ---- called by the driver and by a built binary's main ---- */
typedef struct rt_options {
    const char *data_path;   /* NULL: no data file */
    uint64_t seed;
    bool seed_given;
} rt_options;

/* Parses script-mode flags (--data FILE, --seed N) from argv[first..]; on a usage error
 * prints a message and returns false. main() itself is rt_program_main (rt_program.h). */
bool rt_parse_options(int argc, char **argv, int first, rt_options *opt);
/* Initializes the collector and loads the data file; exits 1 with a message on bad data. */
void rt_init(const rt_options *opt);
void rt_finish(void);                 /* flushes output */
int rt_check_stdout(int status);      /* flushes; a failed write is reported, and status 1 */
/* SIGINT and SIGTERM stop the run with status 130 or 143 after flushing stdout (rt_stop.c);
 * call before any thread starts (they inherit the blocked signals). */
void rt_install_stop_handler(void);
/* `ppl run`: the source file being run (set by the driver; NULL in a built binary), which
 * model mode's --output must not overwrite. */
extern const char *rt_program_file;
bool rt_same_file(const char *a, const char *b);   /* both exist and are one file */
/* Loads the --data file (NULL: none), replacing any loaded before; rt_init calls it. */
void rt_data_load(const char *path);
/* The same from text already read (malloc'd, len bytes; freed): PATH names it in messages. */
void rt_data_load_text(const char *path, char *text, size_t len);
/* The run's seed (--seed N, else 0), set by rt_init; the RNG derives every stream from it. */
extern uint64_t rt_seed;

/* Formats a real the way print does (shortest round-trip form, "1.0", "inf", "nan";
 * rt_format.c). rt_format_real_to writes at most 25 bytes and a NUL into out (which must
 * have room for 32) and returns the length. */
void rt_format_real(char *buf, int size, double x);
int rt_format_real_to(char *out, double x);

#endif
