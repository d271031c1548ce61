/* backend.c - target machine, optimization pipeline, ORC LLJIT, object emission and linking.
 * JIT and object file use the same target machine recipe and passes, so results are bit-identical. */
#include "backend.h"
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include "rt.h"
#include "rt_abi.h"
#include "rt_dist.h"
#include "rt_infer.h"
#include "rt_program.h"
#include "rt_ad.h"
#include "rt_tensor.h"
#include "rt_vi.h"
#include "rt_replay.h"

#ifndef PPL_LINK_FLAGS
#define PPL_LINK_FLAGS "-ljansson -lgc -lopenblas -lm -lpthread"
#endif
#ifndef PPL_LIBDIR
#define PPL_LIBDIR "/usr/local/lib/ppl"
#endif

#define PIPELINE "default<O2>"

/* ---- target machine and optimization ---- */

static void init_native_target(void) {
    static bool done;
    if (done) return;
    done = true;
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    LLVMInitializeNativeAsmParser();
}

LLVMTargetMachineRef backend_target_machine(void) {
    init_native_target();
    char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
    LLVMTargetRef target;
    LLVMTargetMachineRef tm = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &err)) {
        fprintf(stderr, "ppl: error: no LLVM target for '%s': %s\n", triple, err);
        LLVMDisposeMessage(err);
    } else {
        char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
        tm = LLVMCreateTargetMachine(target, triple, cpu, features, LLVMCodeGenLevelDefault,
                                     LLVMRelocPIC, LLVMCodeModelDefault);
        LLVMDisposeMessage(cpu);
        LLVMDisposeMessage(features);
    }
    LLVMDisposeMessage(triple);
    return tm;
}

/* Prints and consumes an LLVM error. Always false, so callers can `return report(...)`. */
static bool report(const char *what, LLVMErrorRef err) {
    char *msg = LLVMGetErrorMessage(err);
    fprintf(stderr, "ppl: error: %s: %s\n", what, msg);
    LLVMDisposeErrorMessage(msg);
    return false;
}

static bool verify(LLVMModuleRef mod) {
    char *msg = NULL;
    bool bad = LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg);
    if (bad) fprintf(stderr, "ppl: internal error: the generated LLVM module is invalid:\n%s\n", msg);
    LLVMDisposeMessage(msg);
    return !bad;
}

static void set_target(LLVMModuleRef mod, LLVMTargetMachineRef tm) {
    char *triple = LLVMGetTargetMachineTriple(tm);
    LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
    LLVMSetTarget(mod, triple);
    LLVMSetModuleDataLayout(mod, layout);
    LLVMDisposeTargetData(layout);
    LLVMDisposeMessage(triple);
}

bool backend_optimize(LLVMModuleRef mod, LLVMTargetMachineRef tm) {
    if (!tm || !verify(mod)) return false;
    set_target(mod, tm);
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMErrorRef err = LLVMRunPasses(mod, PIPELINE, tm, opts);
    LLVMDisposePassBuilderOptions(opts);
    return err ? report("optimization failed", err) : true;
}

/* ---- JIT ---- */

typedef struct RuntimeSymbol { const char *name; uintptr_t addr; } RuntimeSymbol;

/* The symbols JIT-compiled code may call, from rt_abi.h's tables. (LLVM 19's LLJIT also links
 * the main JITDylib to a "<Process Symbols>" one that the C API cannot turn off, so names the
 * `ppl` executable exports dynamically, libc and libm, resolve too; rt_ names do not.) */
static size_t runtime_symbols(RuntimeSymbol *out) {
    size_t n = 0;
#define ABI_SYM(name, ret, params) out[n++] = (RuntimeSymbol){#name, (uintptr_t)&name};
#define LIBC_SYM(name) out[n++] = (RuntimeSymbol){#name, (uintptr_t)&name};
#define AD_SYM_REAL(name) out[n++] = (RuntimeSymbol){"rt_ad_lpdf_" #name, (uintptr_t)&rt_ad_lpdf_##name};
#define AD_SYM_INT(name) out[n++] = (RuntimeSymbol){"rt_ad_lpmf_" #name, (uintptr_t)&rt_ad_lpmf_##name};
#define DIST_SYM(name, np, vt, ...) \
    out[n++] = (RuntimeSymbol){"rt_sample_" #name, (uintptr_t)&rt_sample_##name}; \
    out[n++] = (RuntimeSymbol){"rt_lpdf_" #name, (uintptr_t)&rt_lpdf_##name}; \
    AD_SYM_##vt(name)
    RT_ABI(ABI_SYM)
    RT_LIBC(LIBC_SYM)
    RT_DATA(LIBC_SYM)
    RT_DISTRIBUTIONS(DIST_SYM)
#undef ABI_SYM
#undef LIBC_SYM
#undef DIST_SYM
    return n;
}

#define ABI_COUNT(name, ret, params) +1
#define LIBC_COUNT(name) +1
#define DIST_COUNT(name, ...) +3
enum { RUNTIME_SYMBOL_COUNT = 0 RT_ABI(ABI_COUNT) RT_LIBC(LIBC_COUNT) RT_DATA(LIBC_COUNT) RT_DISTRIBUTIONS(DIST_COUNT) };
#undef DIST_COUNT
#undef ABI_COUNT
#undef LIBC_COUNT

static bool define_runtime(LLVMOrcLLJITRef jit) {
    RuntimeSymbol syms[RUNTIME_SYMBOL_COUNT];
    LLVMOrcCSymbolMapPair pairs[RUNTIME_SYMBOL_COUNT];
    size_t n = runtime_symbols(syms);
    LLVMJITSymbolFlags flags = {
        LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable, 0};
    for (size_t i = 0; i < n; i++)
        pairs[i] = (LLVMOrcCSymbolMapPair){LLVMOrcLLJITMangleAndIntern(jit, syms[i].name),
                                           {syms[i].addr, flags}};
    LLVMOrcMaterializationUnitRef mu = LLVMOrcAbsoluteSymbols(pairs, n);
    LLVMErrorRef err = LLVMOrcJITDylibDefine(LLVMOrcLLJITGetMainJITDylib(jit), mu);
    if (!err) return true;
    LLVMOrcDisposeMaterializationUnit(mu);
    return report("cannot define the runtime symbols for the JIT", err);
}

/* Failures ORC cannot hand back to a caller, such as a symbol missing at link time. */
static void report_session_error(void *ctx, LLVMErrorRef err) {
    report("JIT", err);
}

static LLVMOrcLLJITRef create_jit(void) {
    LLVMTargetMachineRef tm = backend_target_machine();
    if (!tm) return NULL;
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    /* Both calls take ownership: of tm, then of the machine builder. */
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
        builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    LLVMOrcLLJITRef jit = NULL;
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&jit, builder);   /* consumes the builder */
    if (err) return report("cannot create the JIT", err), NULL;
    LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(jit),
                                            report_session_error, NULL);
    return jit;
}

static bool call_main(LLVMOrcLLJITRef jit, int argc, char **argv, int *status) {
    LLVMOrcExecutorAddress addr = 0;
    LLVMErrorRef err = LLVMOrcLLJITLookup(jit, &addr, "ppl_program");
    if (err) return report("JIT compilation failed", err);
    *status = rt_program_main(argc, argv, (const rt_program *)(uintptr_t)addr);
    return true;
}

bool backend_jit_run(LLVMModuleRef mod, LLVMOrcThreadSafeContextRef tsc, int argc, char **argv, int *status) {
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
    LLVMOrcLLJITRef jit = create_jit();
    if (!jit || !define_runtime(jit)) {
        LLVMOrcDisposeThreadSafeModule(tsm);
        if (jit) LLVMConsumeError(LLVMOrcDisposeLLJIT(jit));
        return false;
    }
    LLVMErrorRef err = LLVMOrcLLJITAddLLVMIRModule(jit, LLVMOrcLLJITGetMainJITDylib(jit), tsm);
    bool ok = err ? report("cannot add the module to the JIT", err) : call_main(jit, argc, argv, status);
    err = LLVMOrcDisposeLLJIT(jit);
    if (err) ok = report("JIT shutdown failed", err);
    return ok;
}

/* A JIT for a REPL session: the runtime symbols defined once, modules added cell by cell. */
LLVMOrcLLJITRef backend_jit_session(void) {
    LLVMOrcLLJITRef jit = create_jit();
    if (jit && !define_runtime(jit)) {
        LLVMConsumeError(LLVMOrcDisposeLLJIT(jit));
        return NULL;
    }
    return jit;
}

void (*backend_jit_add(LLVMOrcLLJITRef jit, LLVMModuleRef mod, LLVMOrcThreadSafeContextRef tsc,
                        const char *entry))(void) {
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
    LLVMErrorRef err = LLVMOrcLLJITAddLLVMIRModule(jit, LLVMOrcLLJITGetMainJITDylib(jit), tsm);
    if (err) return report("cannot add the module to the JIT", err), NULL;
    LLVMOrcExecutorAddress addr = 0;
    err = LLVMOrcLLJITLookup(jit, &addr, entry);
    if (err) return report("JIT compilation failed", err), NULL;
    return (void (*)(void))(uintptr_t)addr;
}

/* ---- standalone binaries ---- */

bool backend_emit_object(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *path) {
    char *err = NULL;
    if (!tm) return false;
    if (!LLVMTargetMachineEmitToFile(tm, mod, path, LLVMObjectFile, &err)) return true;
    fprintf(stderr, "ppl: error: cannot write the object file '%s': %s\n", path, err);
    LLVMDisposeMessage(err);
    return false;
}

/* The directory holding the running `ppl`, into buf ("" when unknown). */
static void exe_dir(char *buf, size_t size) {
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
    char *slash = strrchr(buf, '/');
    if (slash) *slash = 0;
    else buf[0] = 0;
}

/* libpplrt.a: $PPL_RUNTIME_LIB, else build/ next to `ppl` (source tree), else ../lib/ppl
 * next to it (an installed tree, wherever it was moved), else PPL_LIBDIR. */
static bool find_runtime(char *buf, size_t size) {
    const char *env = getenv("PPL_RUNTIME_LIB");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        if (access(buf, R_OK) == 0) return true;
        fprintf(stderr, "ppl: error: cannot read the runtime library '%s' (from PPL_RUNTIME_LIB): %s\n",
                buf, strerror(errno));
        return false;
    }
    char dir[PATH_MAX];
    exe_dir(dir, sizeof dir);
    const char *candidates[] = {"%s/build/libpplrt.a", "%s/../lib/ppl/libpplrt.a"};
    for (int i = 0; dir[0] && i < 2; i++) {
        snprintf(buf, size, candidates[i], dir);
        if (access(buf, R_OK) == 0) return true;
    }
    snprintf(buf, size, "%s", PPL_LIBDIR "/libpplrt.a");
    if (access(buf, R_OK) == 0) return true;
    fprintf(stderr, "ppl: error: cannot find the runtime library libpplrt.a (looked in '%s/build', "
            "'%s/../lib/ppl' and '%s'); set PPL_RUNTIME_LIB to its path\n", dir, dir, PPL_LIBDIR);
    return false;
}

/* Runs argv (no shell) and waits; false (after a message) unless it exits with status 0. */
static bool run_command(char **argv) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "ppl: error: cannot start '%s': %s\n", argv[0], strerror(errno));
        return false;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "ppl: error: cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return false;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return false;   /* already reported */
    fprintf(stderr, "ppl: error: linking failed ('%s' %s %d)\n", argv[0],
            WIFEXITED(status) ? "exited with status" : "was killed by signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return false;
}

enum { MAX_LINK_ARGS = 64 };

bool backend_link(const char *obj_path, const char *out_path) {
    char lib[PATH_MAX + 32], flags[] = PPL_LINK_FLAGS;
    if (!find_runtime(lib, sizeof lib)) return false;
    char *argv[MAX_LINK_ARGS];
    int n = 0;
    argv[n++] = "cc";
    argv[n++] = (char *)obj_path;
    argv[n++] = lib;
    for (char *save, *t = strtok_r(flags, " ", &save); t && n < MAX_LINK_ARGS - 3;
         t = strtok_r(NULL, " ", &save))
        argv[n++] = t;
    argv[n++] = "-o";
    argv[n++] = (char *)out_path;
    argv[n] = NULL;
    return run_command(argv);
}
