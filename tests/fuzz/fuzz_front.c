/* fuzz_front.c - libFuzzer target: the input is a ppl source file. Lexes, parses and checks
 * it after the prelude (as `ppl check` does); a program without errors is compiled to LLVM IR
 * and the module verified: an invalid module is a bug of the code generator, so it aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include "arena.h"
#include "check.h"
#include "codegen.h"
#include "diag.h"
#include "lex.h"
#include "parse.h"

extern const char ppl_prelude_source[];

static void parse_into(Arena *a, const Source *src, Program *prog) {
    TokenList tl = lex_source(a, src);
    parse_program(a, &tl, prog);
}

static void compile_and_verify(Program *prog) {
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = cg_program(ctx, prog, "fuzz.ppl");
    if (mod && diag_error_count() == 0) {
        char *msg = NULL;
        if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg)) {
            fprintf(stderr, "fuzz_front: invalid module:\n%s\n", msg);
            abort();
        }
        LLVMDisposeMessage(msg);
    }
    if (mod) LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    Arena a = {0};
    Program prog = {0};
    diag_reset();
    Source *prelude = source_from_string("<prelude>", ppl_prelude_source);
    Source *src = source_from_string("fuzz.ppl", text);
    parse_into(&a, prelude, &prog);
    parse_into(&a, src, &prog);
    if (diag_error_count() == 0) check_program(&a, &prog);
    if (diag_error_count() == 0) compile_and_verify(&prog);
    arena_free(&a);
    source_free(src);
    source_free(prelude);
    free(text);
    return 0;
}
