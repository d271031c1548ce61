/* test_layout.c - the descriptor structs shared by generated code and C (rt_layout.h): the
 * LLVM struct codegen builds from each X-macro's ABI letters has, under the target's data
 * layout, the C struct's size and every field's offsetof. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include "backend.h"
#include "cg.h"
#include "rt_program.h"
#include "rt_vi.h"

typedef struct layout { const char *name, *letters; size_t size; const size_t *offsets; } layout;

#define OFFSETS(type, FIELDS) \
    static const size_t type##_offsets[] = { FIELDS(OFFSET_OF_##type) };
#define OFFSET_OF_rt_model(field, ...) offsetof(rt_model, field),
#define OFFSET_OF_rt_vi_problem(field, ...) offsetof(rt_vi_problem, field),
#define OFFSET_OF_rt_vi_objective(field, ...) offsetof(rt_vi_objective, field),
#define OFFSET_OF_rt_model_entry(field, ...) offsetof(rt_model_entry, field),
#define OFFSET_OF_rt_program(field, ...) offsetof(rt_program, field),
#define OFFSET_OF_rt_infer_opts(field, ...) offsetof(rt_infer_opts, field),
OFFSETS(rt_model, RT_MODEL_FIELDS)
OFFSETS(rt_vi_problem, RT_VI_PROBLEM_FIELDS)
OFFSETS(rt_vi_objective, RT_VI_OBJECTIVE_FIELDS)
OFFSETS(rt_model_entry, RT_MODEL_ENTRY_FIELDS)
OFFSETS(rt_program, RT_PROGRAM_FIELDS)
OFFSETS(rt_infer_opts, RT_INFER_OPTIONS)

#define LAYOUT(type, FIELDS) { #type, FIELDS(RT_FIELD_LETTER), sizeof(type), type##_offsets }
static const layout layouts[] = {
    LAYOUT(rt_model, RT_MODEL_FIELDS), LAYOUT(rt_vi_problem, RT_VI_PROBLEM_FIELDS),
    LAYOUT(rt_vi_objective, RT_VI_OBJECTIVE_FIELDS), LAYOUT(rt_model_entry, RT_MODEL_ENTRY_FIELDS),
    LAYOUT(rt_program, RT_PROGRAM_FIELDS), LAYOUT(rt_infer_opts, RT_INFER_OPTIONS),
};

static void test_llvm_matches_c(void **state) {
    LLVMTargetMachineRef tm = backend_target_machine();
    assert_non_null(tm);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    LLVMContextRef ctx = LLVMContextCreate();
    for (size_t k = 0; k < sizeof layouts / sizeof layouts[0]; k++) {
        const layout *l = &layouts[k];
        LLVMTypeRef ty = cg_struct_type(ctx, l->letters);
        unsigned n = LLVMCountStructElementTypes(ty);
        assert_int_equal(n, strlen(l->letters));
        if (LLVMABISizeOfType(td, ty) != l->size)
            fail_msg("%s: LLVM size %llu, C size %zu", l->name, LLVMABISizeOfType(td, ty), l->size);
        for (unsigned i = 0; i < n; i++)
            if (LLVMOffsetOfElement(td, ty, i) != l->offsets[i])
                fail_msg("%s: field %u at %llu in LLVM, %zu in C", l->name, i, LLVMOffsetOfElement(td, ty, i),
                         l->offsets[i]);
    }
    LLVMContextDispose(ctx);
    LLVMDisposeTargetData(td);
    LLVMDisposeTargetMachine(tm);
}

/* Every rt_infer_opts field is an option row, and the struct has nothing else. */
static void test_opts_rows(void **state) {
    assert_int_equal(sizeof(rt_infer_opts), 8 * RT_NOPTIONS);
    assert_int_equal(strlen(RT_INFER_OPTIONS(RT_FIELD_LETTER)), RT_NOPTIONS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llvm_matches_c), cmocka_unit_test(test_opts_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
