/* types.h - the static types of ppl values.
 * Scalars are singletons; array and function types are built in the compilation's arena. */
#ifndef PPL_TYPES_H
#define PPL_TYPES_H
#include <stdbool.h>
#include "arena.h"

typedef enum TypeKind {
    TY_ERROR,    /* the type of an expression that already produced an error: matches anything */
    TY_NEVER,    /* an expression that never yields (it returns, breaks or continues) */
    TY_UNIT,     /* statements, functions with no result */
    TY_BOOL, TY_INT, TY_REAL, TY_STRING,
    TY_MAT,      /* a dense row-major matrix of reals (immutable) */
    TY_TENSOR,   /* an fp32 array of rank 1 to 3 (immutable); its shape, where the checker knows it */
    TY_ARRAY,    /* elem[] */
    TY_FN,       /* params -> ret (functions and models) */
    TY_DIST,     /* a distribution over elem (real or int); only used by sample, observe, lpdf */
    TY_POSTERIOR,/* weighted draws of a model's return value elem */
    TY_DRAWS,    /* draws(K) in an objective: the log weights and log q of K guide draws */
} TypeKind;

typedef struct Type Type;
struct Type {
    TypeKind kind;
    Type *elem;          /* TY_ARRAY */
    Type **params;       /* TY_FN */
    int nparams;
    Type *ret;           /* TY_FN */
    int rank;            /* TY_TENSOR: 0 when the shape is not known statically */
    long long dim[3];    /* TY_TENSOR: each 0 when not known */
};

extern Type *ty_error, *ty_never, *ty_unit, *ty_bool, *ty_int, *ty_real, *ty_string, *ty_mat, *ty_tensor, *ty_draws;

Type *ty_array(Arena *a, Type *elem);
Type *ty_fn(Arena *a, Type **params, int nparams, Type *ret);
/* A tensor type of known rank (dims 0 where unknown); ty_tensor is the one of unknown shape.
 * Shapes do not take part in ty_equal: they only let the checker report mismatches early. */
Type *ty_tensor_shaped(Arena *a, int rank, const long long *dim);
Type *ty_wrap(Arena *a, TypeKind kind, Type *elem);   /* TY_DIST or TY_POSTERIOR over elem */
bool ty_equal(const Type *x, const Type *y);
/* true when a value of type `from` may be used where `to` is expected (int -> real, error -> any). */
bool ty_assignable(const Type *from, const Type *to);
bool ty_is_numeric(const Type *t);        /* int or real */
bool ty_has_pointers(const Type *t);      /* values the GC must trace: strings, arrays, mats */
/* For arrays: the scalar at the bottom and the nesting depth (real[][] -> real, 2). */
const Type *ty_base(const Type *t, int *depth);
const char *ty_name(Arena *a, const Type *t);   /* "real[][]", "fn(int, real) -> bool" */

#endif
