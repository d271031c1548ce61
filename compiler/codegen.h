/* codegen.h - lowering of a checked Program to one LLVM module.
 * The same module serves the JIT (`ppl run`) and object emission (`ppl build`). */
#ifndef PPL_CODEGEN_H
#define PPL_CODEGEN_H
#include <llvm-c/Core.h>
#include "ast.h"

/* Builds a module in `ctx` that defines `const rt_program ppl_program` (rt_program.h, external
 * linkage): its main binds the data declarations and runs the top-level statements in order;
 * its models can be run by the runtime in model mode. Everything else is internal. */
LLVMModuleRef cg_program(LLVMContextRef ctx, Program *prog, const char *module_name);

#endif
