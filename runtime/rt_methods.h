/* rt_methods.h - the inference methods and their options, in one table: the checker
 * (lang/check_prob.c), the code generator (compiler/cg_model.c), model mode's flags and
 * --help (rt_program.c, compiler/main.c) and the engines' run-time checks all read it.
 *
 * Adding a method is a row of RT_METHODS, its rows in RT_METHOD_OPTIONS, its engine and the
 * engine's rt_abi.h row (codegen names RTF_<engine>, so a missing one does not compile);
 * adding an option is a row of RT_INFER_OPTIONS (a field of rt_infer_opts) and the rows of
 * the methods that take it. A method that takes `guide` has its guide paired with the model
 * by the checker (check_pair_vi). Nothing else lists methods or options: the tests check
 * --help, lang/SPEC.md's `infer ... by METHOD(...)` lines and README.md against the table. */
#ifndef PPL_RT_METHODS_H
#define PPL_RT_METHODS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rt_layout.h"
#include "rt_resample.h"

/* X(id, name, engine): `by NAME(...)` and the engine generated code calls, always as
 * ENGINE(const rt_model *, const void *args, const rt_infer_opts *, const char *loc). */
#define RT_METHODS(X) \
    X(IS, "is", rt_infer_is) \
    X(SMC, "smc", rt_infer_smc) \
    X(VI, "vi", rt_infer_vi) \
    X(ENUMERATE, "enumerate", rt_infer_enumerate)

enum rt_method {
#define X(id, name, engine) RT_METHOD_##id,
    RT_METHODS(X)
#undef X
    RT_NMETHODS
};

/* X(id, name): optimizers, `optimizer = adam(lr = 0.01)` and --optimizer adam. */
#define RT_OPTIMIZERS(X) X(ADAM, "adam") X(SGD, "sgd")

enum rt_optimizer {
#define X(id, name) RT_OPT_##id,
    RT_OPTIMIZERS(X)
#undef X
    RT_NOPTIMIZERS
};

/* How an option is written and what its field holds. */
enum rt_option_type {
    RT_OTYPE_INT,         /* `particles = N`, an int64_t */
    RT_OTYPE_REAL,        /* `ess = X`, a double */
    RT_OTYPE_BOOL,        /* `trace = true`, an int64_t 0 or 1 */
    RT_OTYPE_CHOICE,      /* `resample = "stratified"`: one of the values' names, its index */
    RT_OTYPE_CALL,        /* `optimizer = adam(lr = 0.01)`: a value's name called with the
                           * options written inside it (`inside` names this one); its index */
    RT_OTYPE_GUIDE,       /* `guide = q`: the guide's rt_vi_problem; required */
    RT_OTYPE_OBJECTIVE,   /* `objective = iwae(10)`: an rt_vi_objective, and its arguments
                           * in the next field (an args block, 8 bytes each) */
    RT_OTYPE_ARGS,        /* not written: filled with the option before it */
};

/* A range check, done by the checker on a constant and by the engine at run time. */
enum rt_option_check {
    RT_CHECK_NONE,
    RT_CHECK_AT_LEAST,    /* lo <= v ("must be at least 1"; for lo = 0 "must not be negative") */
    RT_CHECK_BETWEEN,     /* lo <= v <= hi, NaN refused */
    RT_CHECK_POSITIVE,    /* 0 < v < inf */
};

#define RT_NO_VALUES(X)

/* X(field, C type, ABI letter, type, values, check, lo, hi, inside, meta, help): the options,
 * each a field of rt_infer_opts, in the order model mode's --help and its configuration
 * lines list them. values is an X-macro of (id, name) rows for CHOICE and CALL types;
 * inside names the option this one is written in (lr: optimizer = adam(lr = ...)); meta is
 * the value's name in `--FIELD META` (NULL: no model-mode flag); the ABI letters are
 * rt_abi.h's (every field is 8 bytes). */
#define RT_INFER_OPTIONS(X) \
    X(particles, int64_t, i, RT_OTYPE_INT, RT_NO_VALUES, RT_CHECK_AT_LEAST, 1, 0, NULL, "N", \
      "is, smc: particles; vi: draws per gradient step") \
    X(ess, double, d, RT_OTYPE_REAL, RT_NO_VALUES, RT_CHECK_BETWEEN, 0, 1, NULL, "X", \
      "smc: resample when ESS / particles < X") \
    X(resample, int64_t, i, RT_OTYPE_CHOICE, RT_RESAMPLE_SCHEMES, RT_CHECK_NONE, 0, 0, NULL, "SCHEME", \
      "smc: how to resample") \
    X(threads, int64_t, i, RT_OTYPE_INT, RT_NO_VALUES, RT_CHECK_BETWEEN, 1, 256, NULL, "K", \
      "smc: worker threads (the same results for any)") \
    X(guide, const struct rt_vi_problem *, p, RT_OTYPE_GUIDE, RT_NO_VALUES, RT_CHECK_NONE, 0, 0, NULL, \
      "NAME", "vi: the guide to fit (one whose sites match the model's)") \
    X(steps, int64_t, i, RT_OTYPE_INT, RT_NO_VALUES, RT_CHECK_AT_LEAST, 0, 0, NULL, "N", \
      "vi: optimization steps") \
    X(objective, const struct rt_vi_objective *, p, RT_OTYPE_OBJECTIVE, RT_NO_VALUES, RT_CHECK_NONE, 0, 0, \
      NULL, "NAME", "vi: an objective without arguments (elbo, rws, or the file's own)") \
    X(objective_args, const void *, p, RT_OTYPE_ARGS, RT_NO_VALUES, RT_CHECK_NONE, 0, 0, NULL, NULL, \
      "the objective's arguments") \
    X(optimizer, int64_t, i, RT_OTYPE_CALL, RT_OPTIMIZERS, RT_CHECK_NONE, 0, 0, NULL, "NAME", \
      "vi: the optimizer") \
    X(lr, double, d, RT_OTYPE_REAL, RT_NO_VALUES, RT_CHECK_POSITIVE, 0, 0, "optimizer", "X", \
      "vi: the learning rate") \
    X(trace, int64_t, i, RT_OTYPE_BOOL, RT_NO_VALUES, RT_CHECK_NONE, 0, 0, NULL, NULL, \
      "keep the sample sites' values") \
    X(draws, int64_t, i, RT_OTYPE_BOOL, RT_NO_VALUES, RT_CHECK_NONE, 0, 0, NULL, NULL, \
      "is: keep every draw's value and weight (false: running sums for mean, sd, evidence, ESS)")

enum rt_option {
#define X(field, ...) RT_OPTION_##field,
    RT_INFER_OPTIONS(X)
#undef X
    RT_NOPTIONS
};

/* X(method, option, default, model-mode default): the options each method takes, in the
 * order error messages list them. A default is a number (an int, a real, a bool as 0 or 1,
 * a value's index); a guide has none (it is required) and an objective's is the prelude's
 * RT_DEFAULT_OBJECTIVE. Model mode runs vi with more draws per step than a program's
 * default of one, and always keeps the trace. */
#define RT_METHOD_OPTIONS(X) \
    X(IS, particles, 1000, 1000) X(IS, trace, 1, 1) X(IS, draws, 1, 1) \
    X(SMC, particles, 1000, 1000) X(SMC, resample, RT_RESAMPLE_SYSTEMATIC, RT_RESAMPLE_SYSTEMATIC) \
    X(SMC, ess, 0.5, 0.5) X(SMC, threads, 1, 1) X(SMC, trace, 1, 1) \
    X(VI, guide, 0, 0) X(VI, particles, 1, 10) X(VI, steps, 1000, 1000) \
    X(VI, optimizer, RT_OPT_ADAM, RT_OPT_ADAM) X(VI, lr, 0.01, 0.01) X(VI, objective, 0, 0) \
    X(VI, objective_args, 0, 0) \
    X(ENUMERATE, trace, 1, 1)

#define RT_DEFAULT_OBJECTIVE "elbo"

/* The options block every engine takes, one field per RT_INFER_OPTIONS row (rt_layout.h:
 * generated code builds it as the LLVM struct of RT_INFER_OPTIONS(RT_FIELD_LETTER)). A
 * field the method does not take is zero. */
typedef struct rt_infer_opts {
    RT_INFER_OPTIONS(RT_FIELD_DECL)
} rt_infer_opts;
#define X(field, ctype, ...) RT_LAYOUT_CHECK(rt_infer_opts, field, ctype, RT_OPTION_##field)
RT_INFER_OPTIONS(X)
#undef X

typedef struct rt_option_info {
    const char *name;             /* as written, `particles = ...` */
    int type;                     /* rt_option_type */
    const char *const *values;    /* CHOICE, CALL: the names, NULL-terminated; else NULL */
    int nvalues;
    int check;                    /* rt_option_check */
    double lo, hi;
    const char *inside;           /* NULL, or the option this one is written inside */
    const char *meta, *help;      /* model mode's `--NAME META` (meta NULL: no flag) */
    size_t offset;                /* in rt_infer_opts */
} rt_option_info;

typedef struct rt_method_option {
    int method, option;
    double def, model_mode_def;
} rt_method_option;

extern const char *const rt_method_names[RT_NMETHODS];
extern const rt_option_info rt_option_table[RT_NOPTIONS];
extern const rt_method_option rt_method_options[];
extern const int rt_nmethod_options;

int rt_method_lookup(const char *name);                 /* -1 when unknown */
int rt_option_lookup(const char *name);                 /* -1 when unknown */
int rt_option_value(int option, const char *name);      /* a value's index, -1 when unknown */
/* The row of a method's option, or NULL when the method does not take it. */
const rt_method_option *rt_method_option_row(int method, int option);
/* Whether v passes the option's range check; else writes what it must be into why
 * ("must be at least 1"). */
bool rt_option_in_range(int option, double v, char *why, size_t size);
/* The range as --help shows it ("at least 1", "0 to 1", "positive"), "" for none. */
const char *rt_option_range_text(int option, char *buf, size_t size);
/* A method's defaults (model_mode: model mode's), every other field zero. */
void rt_infer_opts_init(rt_infer_opts *o, int method, bool model_mode);
/* A field as a number (ints and indices converted); pointers give 0. */
double rt_infer_opts_get(const rt_infer_opts *o, int option);
void rt_infer_opts_set(rt_infer_opts *o, int option, double v);
/* The engines' run-time checks of o for method, from the table: a failure is a runtime
 * error at loc, `smc: threads must be between 1 and 256, found 0`. */
void rt_infer_check(int method, const rt_infer_opts *o, const char *loc);

#endif
