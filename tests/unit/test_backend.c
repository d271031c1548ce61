/* test_backend.c - unit tests of compiler/backend.c on a module built by hand.
 * Checks the JIT runs ppl_main against the runtime, the target machine is stable, objects are written. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend.h"
#include "rt.h"
#include "test_util.h"

/* define void @ppl_main() { call void @rt_print_int(i64 42); ret void }
 * @ppl_program = constant { ptr, i64, i64, ptr } { @ppl_main, 1 (a script), 0, null } */
static LLVMModuleRef print_42_module(LLVMContextRef ctx) {
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("test", ctx);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(ctx), void_ty = LLVMVoidTypeInContext(ctx);
    LLVMTypeRef print_ty = LLVMFunctionType(void_ty, &i64, 1, 0);
    LLVMValueRef print = LLVMAddFunction(mod, "rt_print_int", print_ty);
    LLVMValueRef main_fn = LLVMAddFunction(mod, "ppl_main", LLVMFunctionType(void_ty, NULL, 0, 0));
    LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, main_fn, "entry"));
    LLVMValueRef arg = LLVMConstInt(i64, 42, 0);
    LLVMBuildCall2(b, print_ty, print, &arg, 1, "");
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    LLVMValueRef fields[4] = {main_fn, LLVMConstInt(i64, 1, 0), LLVMConstInt(i64, 0, 0),
                              LLVMConstNull(LLVMPointerTypeInContext(ctx, 0))};
    LLVMValueRef init = LLVMConstStructInContext(ctx, fields, 4, 0);
    LLVMValueRef program = LLVMAddGlobal(mod, LLVMTypeOf(init), "ppl_program");
    LLVMSetInitializer(program, init);
    return mod;
}

/* Runs the module's ppl_program under the JIT (rt_program_main initializes the runtime)
 * with stdout sent to a temp file; returns what was printed. */
static char *jit_output(LLVMModuleRef mod, LLVMOrcThreadSafeContextRef tsc) {
    static char text[256];
    redirect r = redirect_begin(STDOUT_FILENO);
    char *argv[] = {"test", NULL};
    int status = -1;
    bool ok = backend_jit_run(mod, tsc, 1, argv, &status);
    assert_int_equal(status, 0);
    rt_finish();
    redirect_end(r, text, sizeof text);
    assert_true(ok);
    return text;
}

static void test_jit_prints_42(void **state) {
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMModuleRef mod = print_42_module(LLVMOrcThreadSafeContextGetContext(tsc));
    LLVMTargetMachineRef tm = backend_target_machine();
    assert_non_null(tm);
    assert_true(backend_optimize(mod, tm));
    LLVMDisposeTargetMachine(tm);
    assert_string_equal(jit_output(mod, tsc), "42");   /* rt_print_int adds no newline */
    LLVMOrcDisposeThreadSafeContext(tsc);
}

static void test_target_machine_is_stable(void **state) {
    LLVMTargetMachineRef a = backend_target_machine(), b = backend_target_machine();
    char *cpu_a = LLVMGetTargetMachineCPU(a), *cpu_b = LLVMGetTargetMachineCPU(b);
    char *feat_a = LLVMGetTargetMachineFeatureString(a), *feat_b = LLVMGetTargetMachineFeatureString(b);
    assert_string_equal(cpu_a, cpu_b);
    assert_string_equal(feat_a, feat_b);
    LLVMDisposeMessage(cpu_a);
    LLVMDisposeMessage(cpu_b);
    LLVMDisposeMessage(feat_a);
    LLVMDisposeMessage(feat_b);
    LLVMDisposeTargetMachine(a);
    LLVMDisposeTargetMachine(b);
}

static void test_emit_object(void **state) {
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = print_42_module(ctx);
    LLVMTargetMachineRef tm = backend_target_machine();
    assert_true(backend_optimize(mod, tm));
    char path[] = "/tmp/ppl-test-backend-XXXXXX.o";
    int fd = mkstemps(path, 2);
    assert_true(fd >= 0);
    close(fd);
    assert_true(backend_emit_object(mod, tm, path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 0);
    unlink(path);
    LLVMDisposeTargetMachine(tm);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}

/* An invalid module (a block without a terminator) is refused before any pass runs. */
static void test_optimize_rejects_invalid_module(void **state) {
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("bad", ctx);
    LLVMValueRef fn = LLVMAddFunction(mod, "ppl_main",
                                      LLVMFunctionType(LLVMVoidTypeInContext(ctx), NULL, 0, 0));
    LLVMAppendBasicBlockInContext(ctx, fn, "entry");
    LLVMTargetMachineRef tm = backend_target_machine();
    assert_false(backend_optimize(mod, tm));
    LLVMDisposeTargetMachine(tm);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jit_prints_42),
        cmocka_unit_test(test_target_machine_is_stable),
        cmocka_unit_test(test_emit_object),
        cmocka_unit_test(test_optimize_rejects_invalid_module),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
