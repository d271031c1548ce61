/* codegen.h - lowering of a checked Program to one LLVM module.
 * The same module serves the JIT (`ppl run`) and object emission (`ppl build`). */
#ifndef PPL_CODEGEN_H
#define PPL_CODEGEN_H
#include <llvm-c/Core.h>
#include "ast.h"
#include "check.h"

/* Builds a module in `ctx` that defines `const rt_program ppl_program` (rt_program.h, external
 * linkage): its main binds the data declarations and runs the top-level statements in order;
 * its models can be run by the runtime in model mode. Everything else is internal. */
LLVMModuleRef cg_program(LLVMContextRef ctx, Program *prog, const char *module_name);

/* A REPL cell's module: the program's definitions (all internal) and `void entry(void)`,
 * which loads the session's globals (checked by check_session) from rt_session, runs the
 * cell's statements showing the values of top-level lets and expressions, and stores the
 * globals back. */
LLVMModuleRef cg_cell(LLVMContextRef ctx, Program *prog, SessionGlobal *globals, int nglobals, const char *entry);

#endif
