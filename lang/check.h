/* check.h - name resolution and static type checking.
 * Annotates every expression with its type and every name with its Symbol. */
#ifndef PPL_CHECK_H
#define PPL_CHECK_H
#include "ast.h"

/* Returns false (after reporting) when the program has errors. */
bool check_program(Arena *a, Program *prog);

/* A top-level variable that lives across REPL cells. The checker makes its Symbol (sym). */
typedef struct SessionGlobal {
    const char *name;
    Type *type;
    bool is_var;
    Symbol *sym;
} SessionGlobal;

/* Checks a REPL cell's program, whose names may also refer to the globals of earlier cells.
 * A top-level `let` (or `var`, `data`) of an existing global's name assigns that global when
 * its type allows; with another type it makes a new global, unless a function or model of
 * the program reads the old one (an error naming it). */
bool check_session(Arena *a, Program *prog, SessionGlobal *globals, int nglobals);
/* After checking a file: marks the infer calls whose sites the program never reads
 * (site_reads.c), so that trace defaults to false for them. */
void check_site_reads(Arena *a, Program *prog);

#endif
