/* rt_program.h - what a compiled ppl program hands the runtime: its entry point and its models.
 * A file with top-level statements runs as a script; one with only models (and functions and
 * data declarations) runs in model mode, where the command line picks a model and a method. */
#ifndef PPL_RT_PROGRAM_H
#define PPL_RT_PROGRAM_H
#include <stdint.h>
#include "rt_infer.h"

typedef struct rt_model_entry {
    const rt_model *model;
    /* Fills the model's args block (8 bytes per parameter, rt_frame_new(8 * nparams)): a
     * parameter named like a data declaration takes that declaration's value (after the
     * program's main has bound the data), any other is read from the --data file by name,
     * with the same checks and messages as a data declaration. */
    void (*bind_args)(void *args);
    int64_t nparams;
    int64_t nguides;                       /* guides paired with the model (for --method vi) */
    const struct rt_vi_problem *const *guides;
} rt_model_entry;

/* The compiler emits one of these, named `ppl_program`, in every module. */
typedef struct rt_program {
    void (*main)(void);           /* binds the data declarations, then runs the statements */
    int64_t is_script;            /* the file has top-level statements */
    int64_t nmodels;
    const rt_model_entry *models;
    int64_t nobjectives;                  /* --objective's choices: objectives without arguments */
    const struct rt_vi_objective *const *objectives;
} rt_program;

/* main() of a built binary and of `ppl run` (argv[0] is the program's name as usage lines
 * should show it, e.g. "ppl run model.ppl" or "./model"). Script mode takes --data and
 * --seed; model mode takes the flags `--help` lists. Returns the exit code: 0 success,
 * 1 a model, data or run-time error (those exit directly), 2 a usage error. */
int rt_program_main(int argc, char **argv, const rt_program *prog);

#endif
