/* check.h - name resolution and static type checking.
 * Annotates every expression with its type and every name with its Symbol. */
#ifndef PPL_CHECK_H
#define PPL_CHECK_H
#include "ast.h"

/* Returns false (after reporting) when the program has errors. */
bool check_program(Arena *a, Program *prog);

#endif
