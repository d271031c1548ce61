/* rt_program.h - what a compiled ppl program hands the runtime: its entry point and its models.
 * A file with top-level statements runs as a script; one with only models (and functions and
 * data declarations) runs in model mode, where the command line picks a model and a method. */
#ifndef PPL_RT_PROGRAM_H
#define PPL_RT_PROGRAM_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "rt_infer.h"

/* bind_args fills the model's args block (8 bytes per parameter, rt_frame_new(8 * nparams)):
 * a parameter named like a data declaration takes that declaration's value (after the
 * program's main has bound the data), any other is read from the --data file by name,
 * with the same checks and messages as a data declaration. X(field, C type, ABI letter):
 * the rows of rt_model_entry (rt_layout.h; codegen.c's define_program fills them). */
typedef void rt_bind_args_fn(void *args);
#define RT_MODEL_ENTRY_FIELDS(X) \
    X(model, const rt_model *, p) \
    X(bind_args, rt_bind_args_fn *, p) \
    X(nparams, int64_t, i) \
    X(nguides, int64_t, i)                    /* guides paired with the model (for --method vi) */ \
    X(guides, const struct rt_vi_problem *const *, p)

typedef struct rt_model_entry {
    RT_MODEL_ENTRY_FIELDS(RT_FIELD_DECL)
} rt_model_entry;
enum {
#define X(field, ...) RT_MODEL_ENTRY_F_##field,
    RT_MODEL_ENTRY_FIELDS(X)
#undef X
    RT_MODEL_ENTRY_NFIELDS
};
#define X(field, ctype, ...) RT_LAYOUT_CHECK(rt_model_entry, field, ctype, RT_MODEL_ENTRY_F_##field)
RT_MODEL_ENTRY_FIELDS(X)
#undef X

/* The compiler emits one of these, named `ppl_program`, in every module. */
typedef void rt_main_fn(void);
#define RT_PROGRAM_FIELDS(X) \
    X(main, rt_main_fn *, p)                  /* binds the data declarations, then runs the statements */ \
    X(is_script, int64_t, i)                  /* the file has top-level statements */ \
    X(nmodels, int64_t, i) \
    X(models, const rt_model_entry *, p) \
    X(nobjectives, int64_t, i)                /* --objective's choices: objectives without arguments */ \
    X(objectives, const struct rt_vi_objective *const *, p)

typedef struct rt_program {
    RT_PROGRAM_FIELDS(RT_FIELD_DECL)
} rt_program;
enum {
#define X(field, ...) RT_PROGRAM_F_##field,
    RT_PROGRAM_FIELDS(X)
#undef X
    RT_PROGRAM_NFIELDS
};
#define X(field, ctype, ...) RT_LAYOUT_CHECK(rt_program, field, ctype, RT_PROGRAM_F_##field)
RT_PROGRAM_FIELDS(X)
#undef X

/* main() of a built binary and of `ppl run` (argv[0] is the program's name as usage lines
 * should show it, e.g. "ppl run model.ppl" or "./model"). Script mode takes --data and
 * --seed; model mode takes the flags `--help` lists. Returns the exit code: 0 success,
 * 1 a model, data or run-time error (those exit directly), 2 a usage error. */
int rt_program_main(int argc, char **argv, const rt_program *prog);

/* For the `ppl` driver, which passes runtime flags through: whether flag (`--particles`)
 * is a script or model mode flag that takes a value (the next argument when not written
 * `--flag=VALUE`), and the flags model mode adds to a script's --data and --seed, listed as
 * `--model, --method, ...` in lines of at most width characters, each starting with indent. */
bool rt_program_flag_takes_value(const char *flag);
void rt_program_list_flags(FILE *out, const char *indent, int width);

#endif
