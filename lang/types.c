/* types.c - construction, comparison and printing of types. */
#include "types.h"
#include <string.h>

static Type error_t = {TY_ERROR}, never_t = {TY_NEVER}, unit_t = {TY_UNIT}, bool_t = {TY_BOOL},
            int_t = {TY_INT}, real_t = {TY_REAL}, string_t = {TY_STRING}, mat_t = {TY_MAT}, tensor_t = {TY_TENSOR}, draws_t = {TY_DRAWS};
Type *ty_error = &error_t, *ty_never = &never_t, *ty_unit = &unit_t, *ty_bool = &bool_t,
     *ty_int = &int_t, *ty_real = &real_t, *ty_string = &string_t, *ty_mat = &mat_t, *ty_tensor = &tensor_t, *ty_draws = &draws_t;

Type *ty_array(Arena *a, Type *elem) {
    Type *t = arena_alloc(a, sizeof *t);
    t->kind = TY_ARRAY;
    t->elem = elem;
    return t;
}

Type *ty_tensor_shaped(Arena *a, int rank, const long long *dim) {
    Type *t = arena_alloc(a, sizeof *t);
    t->kind = TY_TENSOR;
    t->rank = rank;
    for (int k = 0; k < rank && k < 3; k++) t->dim[k] = dim[k];
    return t;
}

Type *ty_wrap(Arena *a, TypeKind kind, Type *elem) {
    Type *t = ty_array(a, elem);
    t->kind = kind;
    return t;
}

Type *ty_fn(Arena *a, Type **params, int nparams, Type *ret) {
    Type *t = arena_alloc(a, sizeof *t);
    t->kind = TY_FN;
    t->params = params;
    t->nparams = nparams;
    t->ret = ret;
    return t;
}

bool ty_equal(const Type *x, const Type *y) {
    if (x == y) return true;
    if (x->kind != y->kind) return false;
    switch (x->kind) {
    case TY_ARRAY: case TY_DIST: case TY_POSTERIOR: return ty_equal(x->elem, y->elem);
    case TY_FN:
        if (x->nparams != y->nparams || !ty_equal(x->ret, y->ret)) return false;
        for (int i = 0; i < x->nparams; i++)
            if (!ty_equal(x->params[i], y->params[i])) return false;
        return true;
    default: return true;
    }
}

bool ty_assignable(const Type *from, const Type *to) {
    if (from->kind == TY_ERROR || to->kind == TY_ERROR || from->kind == TY_NEVER) return true;
    if (from->kind == TY_INT && to->kind == TY_REAL) return true;
    return ty_equal(from, to);
}

bool ty_is_numeric(const Type *t) { return t->kind == TY_INT || t->kind == TY_REAL; }

bool ty_has_pointers(const Type *t) {
    return t->kind == TY_STRING || t->kind == TY_ARRAY || t->kind == TY_MAT || t->kind == TY_TENSOR || t->kind == TY_POSTERIOR
        || t->kind == TY_DRAWS;
}

const Type *ty_base(const Type *t, int *depth) {
    int d = 0;
    while (t->kind == TY_ARRAY) { t = t->elem; d++; }
    *depth = d;
    return t;
}

/* Arrays of arrays are written in one pass: the element type, then a "[]" per level (a name
 * built level by level would copy the growing string each time, quadratic in the depth).
 * Past 32 levels the name says how many rather than spelling them out. */
static const char *array_name(Arena *a, const Type *t) {
    int depth = 0;
    while (t->kind == TY_ARRAY) t = t->elem, depth++;
    const char *base = ty_name(a, t);
    if (depth > 32) return arena_printf(a, "%s[]...[] (%d levels)", base, depth);
    char brackets[65];
    for (int i = 0; i < depth; i++) brackets[2 * i] = '[', brackets[2 * i + 1] = ']';
    brackets[2 * depth] = 0;
    return arena_printf(a, "%s%s", base, brackets);
}

const char *ty_name(Arena *a, const Type *t) {
    switch (t->kind) {
    case TY_ERROR: return "<error>";
    case TY_NEVER: return "never";
    case TY_UNIT: return "()";
    case TY_BOOL: return "bool";
    case TY_INT: return "int";
    case TY_REAL: return "real";
    case TY_STRING: return "string";
    case TY_MAT: return "mat";
    case TY_TENSOR: return "tensor";
    case TY_ARRAY: return array_name(a, t);
    case TY_DIST: return arena_printf(a, "dist<%s>", ty_name(a, t->elem));
    case TY_POSTERIOR: return arena_printf(a, "posterior<%s>", ty_name(a, t->elem));
    case TY_DRAWS: return "draws";
    case TY_FN: {
        const char *s = "fn(";
        for (int i = 0; i < t->nparams; i++)
            s = arena_printf(a, "%s%s%s", s, i ? ", " : "", ty_name(a, t->params[i]));
        return arena_printf(a, "%s) -> %s", s, ty_name(a, t->ret));
    }
    }
    return "?";
}
