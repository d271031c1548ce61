/* backend.h - from an LLVM module to running code: optimization, the ORC JIT, objects, linking.
 * `ppl run` and `ppl build` share one target machine recipe and one pass pipeline (DESIGN.md 4). */
#ifndef PPL_BACKEND_H
#define PPL_BACKEND_H
#include <stdbool.h>
#include <llvm-c/Core.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/TargetMachine.h>

/* A target machine for the host (triple, CPU, features; PIC; default code model and -O level).
 * Every use, JIT or object file, makes its machine here. NULL (after a message) on failure;
 * the caller disposes it with LLVMDisposeTargetMachine. */
LLVMTargetMachineRef backend_target_machine(void);

/* Verifies the module, gives it tm's triple and data layout, and runs "default<O2>".
 * False (after a message) when the module is invalid or the pipeline fails. */
bool backend_optimize(LLVMModuleRef mod, LLVMTargetMachineRef tm);

/* Compiles `mod` (made in the context of `tsc`) with an LLJIT and runs its `ppl_program`
 * through rt_program_main(argc, argv), whose exit code goes to *status. Takes ownership of
 * `mod` in every case. False (after a message) on a JIT error. */
bool backend_jit_run(LLVMModuleRef mod, LLVMOrcThreadSafeContextRef tsc, int argc, char **argv, int *status);

/* A JIT that lives for a REPL session, with the runtime's symbols defined (NULL after a
 * message on failure), and adding one cell's module to it: returns the address of its
 * function `entry` (NULL after a message). Modules are never removed: code that may still
 * run is never freed. */
LLVMOrcLLJITRef backend_jit_session(void);
void (*backend_jit_add(LLVMOrcLLJITRef jit, LLVMModuleRef mod, LLVMOrcThreadSafeContextRef tsc,
                        const char *entry))(void);

/* Writes `mod` as an object file. The module must not be used again except to be disposed:
 * code generation rewrites it in place. */
bool backend_emit_object(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *path);

/* Links an object with libpplrt.a and PPL_LINK_FLAGS into an executable, with `cc`.
 * The program's main() is libpplrt.a's rt_main.o, which runs ppl_program. */
bool backend_link(const char *obj_path, const char *out_path);

#endif
