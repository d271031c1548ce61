/* fuzz_json.c - libFuzzer target: the input is a --data file. Loads it and binds a few data
 * variables of every type from it (keys x, y, n, b, s, X), as generated code would; every
 * error is a runtime error, which returns here through the REPL's recovery (rt_repl.h). */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gc.h>
#include "rt.h"
#include "rt_repl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    GC_INIT();
    return 0;
}

typedef void (*Bind)(void);
static void real_x(void) { rt_data_real("x", "fuzz:x"); }
static void int_n(void) { rt_data_int("n", "fuzz:n"); }
static void bool_b(void) { rt_data_bool("b", "fuzz:b"); }
static void reals_y(void) { rt_data_array("y", RT_REAL, 1, "fuzz:y"); }
static void ints_y(void) { rt_data_array("y", RT_INT, 2, "fuzz:y"); }
static void strings_s(void) { rt_data_array("s", RT_STRING, 1, "fuzz:s"); }
static void mat_x(void) { rt_data_mat("X", "fuzz:X"); }

/* Runs f; a runtime error in it (printed on stderr) ends only this call. */
static void try(Bind f) {
    jmp_buf jb;
    if (setjmp(jb) == 0) {
        rt_set_recovery(&jb);
        f();
    }
    rt_set_recovery(NULL);
}

static const uint8_t *input;
static size_t input_size;

static void load(void) {
    char *text = malloc(input_size + 1);
    memcpy(text, input, input_size);
    text[input_size] = 0;
    rt_data_load_text("fuzz.json", text, input_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const Bind binds[] = {real_x, int_n, bool_b, reals_y, ints_y, strings_s, mat_x};
    input = data, input_size = size;
    try(load);
    if (rt_data_has("x") || rt_data_has("y") || rt_data_has("n") || rt_data_has("X") ||
        rt_data_has("b") || rt_data_has("s"))
        for (size_t k = 0; k < sizeof binds / sizeof binds[0]; k++) try(binds[k]);
    rt_data_load(NULL);
    return 0;
}
