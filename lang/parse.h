/* parse.h - recursive-descent parser from tokens to the syntax tree.
 * Errors are reported through diag_error with recovery, so one run reports several. */
#ifndef PPL_PARSE_H
#define PPL_PARSE_H
#include "ast.h"

/* Parses tokens into `prog` (appending, so a prelude and a file can share one Program). */
void parse_program(Arena *a, const TokenList *tl, Program *prog);

#endif
