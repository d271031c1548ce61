/* rt_repl.h - runtime support for the REPL: Ctrl-C as a flag that running code polls, and
 * runtime errors that return to the REPL's prompt (a jmp_buf) instead of exiting. */
#ifndef PPL_RT_REPL_H
#define PPL_RT_REPL_H
#include <setjmp.h>
#include <stdbool.h>
#include "rt.h"

/* ---- interruption (rt_repl.c) ----
 * rt_interrupted and rt_interrupt are declared in rt.h, since generated code uses them:
 * at loop back-edges it calls rt_interrupt(loc) when it finds the flag set. The inference
 * engines poll the flag too (IS before every particle, SMC at every step). */

/* Installs a SIGINT handler that only sets rt_interrupted (SA_RESTART, so reads and writes
 * under way resume), keeping the previous handler for rt_restore_interrupt_handler. The
 * flag stays set until someone polls it: the REPL should clear it before running a cell. */
void rt_install_interrupt_handler(void);
void rt_restore_interrupt_handler(void);

/* ---- recovery (rt_error.c) ---- */

/* With jb set, a runtime error on the thread that called this (rt_fail, rt_failf,
 * rt_fail_index, rt_interrupt) prints its message as usual and then longjmp(*jb, 1)s
 * instead of exiting; NULL turns recovery off. jb stays in use until it is replaced, so the
 * frame that called setjmp on it must stay live. Errors on other threads still exit, except
 * inside an rt_catch (below). */
void rt_set_recovery(jmp_buf *jb);
bool rt_recovery_active(void);

/* For engines that run model code on worker threads while recovery is on: between
 * rt_catch_begin and rt_catch_end, a runtime error on this thread is held (the first one
 * of all threads wins), sets rt_interrupted so the other threads stop at their next poll,
 * and longjmps to jb without printing. Once the threads are joined, rt_rethrow on the
 * recovering thread clears the flag and reports the held error, if any, through rt_fail. */
void rt_catch_begin(jmp_buf *jb);
void rt_catch_end(void);
void rt_rethrow(void);

#endif
