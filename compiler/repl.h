/* repl.h - the interactive session (`ppl` with no arguments, or `ppl repl`).
 * Reads cells from a terminal with readline, or from a pipe (no prompts), until Ctrl-D or :quit. */
#ifndef PPL_REPL_H
#define PPL_REPL_H

int repl_main(void);

#endif
