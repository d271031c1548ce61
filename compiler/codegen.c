/* codegen.c - lowers a checked Program to LLVM IR through the LLVM-C API (models: cg_model.c, vi: cg_ad.c).
 * Locals live in entry-block allocas (mem2reg promotes them); arrays are runtime rt_array values. */
#include "cg.h"
#include "rt_program.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name, *ret, *params; } rt_sig[] = {
#define X(name, ret, params) {#name, ret, params},
    RT_ABI(X)
#undef X
};

enum { ARRAY_HEADER_WORDS = 2 };   /* rt_array: len, pad, then 8-byte elements */

#define RT_DIST_LETTER_REAL 'd'
#define RT_DIST_LETTER_INT 'i'
const CgDistSig cg_dist_sig[DIST_COUNT] = {
#define X(name, np, vt, types, support, ...) {#name, RT_DIST_LETTER_##vt, types, RT_SUPPORT_##support},
    RT_DISTRIBUTIONS(X)
#undef X
};

/* ---- types and small helpers ---- */

LLVMTypeRef cg_llvm_type(Cg *g, const Type *t) {
    switch (t->kind) {
    case TY_REAL: return g->ad ? g->t_int : g->t_real;
    case TY_INT: return g->t_int;
    case TY_BOOL: return g->t_bool;
    case TY_STRING: case TY_MAT: case TY_TENSOR: case TY_ARRAY: case TY_POSTERIOR: case TY_DRAWS: return g->t_ptr;
    default: return g->t_void;
    }
}

bool cg_has_value(const Type *t) {
    return (t->kind >= TY_BOOL && t->kind <= TY_ARRAY) || t->kind == TY_POSTERIOR || t->kind == TY_DRAWS;
}

LLVMValueRef cg_const_int(Cg *g, long long v) { return LLVMConstInt(g->t_int, (unsigned long long)v, 1); }

LLVMBasicBlockRef cg_new_block(Cg *g, const char *name) { return LLVMAppendBasicBlockInContext(g->ctx, g->fn, name); }

void cg_position(Cg *g, LLVMBasicBlockRef bb) { LLVMPositionBuilderAtEnd(g->b, bb); }

/* Branches to `bb` unless the current block already ended (after return/break). */
void cg_branch_to(Cg *g, LLVMBasicBlockRef bb) {
    if (!LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b))) LLVMBuildBr(g->b, bb);
}

/* After a jump, code that follows is unreachable; emit it into a block of its own. */
void cg_start_dead_block(Cg *g) { cg_position(g, cg_new_block(g, "dead")); }

/* A builder at the top of the current function's entry block. */
LLVMBuilderRef cg_entry_builder(Cg *g) {
    LLVMBuilderRef eb = LLVMCreateBuilderInContext(g->ctx);
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(g->fn);
    LLVMValueRef first = LLVMGetFirstInstruction(entry);
    if (first) LLVMPositionBuilderBefore(eb, first);
    else LLVMPositionBuilderAtEnd(eb, entry);
    return eb;
}

/* Storage for a variable: an alloca, or in a model a field of the frame, so that its value
 * survives the model's suspension at a checkpoint. `words` 8-byte words. */
static LLVMValueRef entry_slots(Cg *g, LLVMTypeRef t, int words, const char *name) {
    if (g->frame) {
        LLVMValueRef p = cg_frame_field(g, g->frame_bytes, name);
        g->frame_bytes += 8 * words;
        return p;
    }
    LLVMBuilderRef eb = cg_entry_builder(g);
    LLVMValueRef slot = words == 1 ? LLVMBuildAlloca(eb, t, name)
                                   : LLVMBuildArrayAlloca(eb, g->t_int, cg_const_int(g, words), name);
    LLVMDisposeBuilder(eb);
    return slot;
}

LLVMValueRef cg_entry_alloca(Cg *g, LLVMTypeRef t, const char *name) { return entry_slots(g, t, 1, name); }

/* A value of any type on the stack even in a model: for what never lives across a checkpoint. */
LLVMValueRef cg_stack_alloca(Cg *g, LLVMTypeRef t, const char *name) {
    LLVMBuilderRef eb = cg_entry_builder(g);
    LLVMValueRef slot = LLVMBuildAlloca(eb, t, name);
    LLVMDisposeBuilder(eb);
    return slot;
}

/* n words on the stack even in a model: for values that never live across a checkpoint. */
LLVMValueRef cg_scratch_words(Cg *g, int n) {
    LLVMBuilderRef eb = cg_entry_builder(g);
    LLVMValueRef p = LLVMBuildArrayAlloca(eb, g->t_int, cg_const_int(g, n), "scratch");
    LLVMDisposeBuilder(eb);
    return p;
}

LLVMValueRef cg_loc_string(Cg *g, Loc loc) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s:%d:%d", loc.src ? loc.src->name : "?", loc.line, loc.col);
    return LLVMBuildGlobalStringPtr(g->b, buf, "loc");
}

LLVMValueRef cg_const_global(Cg *g, LLVMValueRef init, const char *name) {
    LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    return gv;
}

LLVMValueRef cg_const_string(Cg *g, const char *s) {
    return cg_const_global(g, LLVMConstStringInContext(g->ctx, s, (unsigned)strlen(s), 0), "str");
}

/* ---- runtime calls (declared on first use from the RT_ABI table) ---- */

static LLVMTypeRef abi_type(Cg *g, char c) {
    switch (c) {
    case 'd': return g->t_real;
    case 'i': return g->t_int;
    case 'p': return g->t_ptr;
    default: return g->t_void;
    }
}

static void declare_rt(Cg *g, int id) {
    const char *ps = rt_sig[id].params;
    LLVMTypeRef params[16];   /* rt_abi.h's longest list has 9 */
    int n = (int)strlen(ps);
    for (int i = 0; i < n; i++) params[i] = abi_type(g, ps[i]);
    g->rt_ty[id] = LLVMFunctionType(abi_type(g, rt_sig[id].ret[0]), params, (unsigned)n, 0);
    g->rt_fn[id] = LLVMAddFunction(g->mod, rt_sig[id].name, g->rt_ty[id]);
    if (rt_sig[id].ret[0] == 'n') {
        unsigned kind = LLVMGetEnumAttributeKindForName("noreturn", 8);
        LLVMAddAttributeAtIndex(g->rt_fn[id], LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->ctx, kind, 0));
    }
}

/* A runtime call built with builder b (g->b or an entry-block builder). */
static LLVMValueRef rt_call_with(Cg *g, LLVMBuilderRef b, int id, LLVMValueRef *args, int n) {
    if (!g->rt_fn[id]) declare_rt(g, id);
    return LLVMBuildCall2(b, g->rt_ty[id], g->rt_fn[id], args, (unsigned)n, "");
}

LLVMValueRef cg_rt_call(Cg *g, int id, LLVMValueRef *args, int n) { return rt_call_with(g, g->b, id, args, n); }

LLVMValueRef cg_ctx(Cg *g) {
    if (g->cx) return g->cx;
    LLVMBuilderRef eb = cg_entry_builder(g);
    g->cx = rt_call_with(g, eb, RTF_rt_root_ctx, NULL, 0);
    LLVMDisposeBuilder(eb);
    return g->cx;
}

/* Calls a runtime function that never returns and continues in an unreachable block. */
void cg_rt_fail_call(Cg *g, int id, LLVMValueRef *args, int n) {
    cg_rt_call(g, id, args, n);
    LLVMBuildUnreachable(g->b);
}

void cg_fail_if(Cg *g, LLVMValueRef cond, Loc loc, const char *msg) {
    LLVMBasicBlockRef bad = cg_new_block(g, "fail"), ok = cg_new_block(g, "ok");
    LLVMBuildCondBr(g->b, cond, bad, ok);
    cg_position(g, bad);
    LLVMValueRef args[2] = {cg_loc_string(g, loc), LLVMBuildGlobalStringPtr(g->b, msg, "msg")};
    cg_rt_fail_call(g, RTF_rt_fail, args, 2);
    cg_position(g, ok);
}

/* ---- arrays ---- */

static LLVMValueRef array_len(Cg *g, LLVMValueRef arr) { return LLVMBuildLoad2(g->b, g->t_int, arr, "len"); }

static LLVMValueRef elem_addr(Cg *g, LLVMValueRef arr, LLVMValueRef idx) {
    LLVMValueRef i = LLVMBuildAdd(g->b, idx, cg_const_int(g, ARRAY_HEADER_WORDS), "");
    return LLVMBuildGEP2(g->b, g->t_int, arr, &i, 1, "elem");
}

static void bounds_check(Cg *g, LLVMValueRef arr, LLVMValueRef idx, Loc loc) {
    LLVMValueRef len = array_len(g, arr);
    LLVMValueRef bad = LLVMBuildICmp(g->b, LLVMIntUGE, idx, len, "oob");
    LLVMBasicBlockRef fail = cg_new_block(g, "oob"), ok = cg_new_block(g, "inbounds");
    LLVMBuildCondBr(g->b, bad, fail, ok);
    cg_position(g, fail);
    LLVMValueRef args[3] = {cg_loc_string(g, loc), idx, len};
    cg_rt_fail_call(g, RTF_rt_fail_index, args, 3);
    cg_position(g, ok);
}

/* Elements are 8 bytes: bools are stored widened to i64. */
static LLVMValueRef load_elem(Cg *g, LLVMValueRef arr, LLVMValueRef idx, const Type *t) {
    LLVMValueRef p = elem_addr(g, arr, idx);
    if (t->kind == TY_BOOL)
        return LLVMBuildICmp(g->b, LLVMIntNE, LLVMBuildLoad2(g->b, g->t_int, p, ""), cg_const_int(g, 0), "");
    return LLVMBuildLoad2(g->b, cg_llvm_type(g, t), p, "");
}

static void store_elem(Cg *g, LLVMValueRef arr, LLVMValueRef idx, const Type *t, LLVMValueRef v) {
    if (t->kind == TY_BOOL) v = LLVMBuildZExt(g->b, v, g->t_int, "");
    LLVMBuildStore(g->b, v, elem_addr(g, arr, idx));
}

static LLVMValueRef array_new(Cg *g, LLVMValueRef len, const Type *elem) {
    LLVMValueRef args[2] = {len, cg_const_int(g, ty_has_pointers(elem))};
    return cg_rt_call(g, RTF_rt_array_new, args, 2);
}

static LLVMValueRef array_copy(Cg *g, LLVMValueRef arr, const Type *elem) {
    LLVMValueRef args[2] = {arr, cg_const_int(g, ty_has_pointers(elem))};
    return cg_rt_call(g, RTF_rt_array_copy, args, 2);
}

/* ---- variables ---- */

/* A local's slot if it was made in the function being emitted, else NULL: a body emitted
 * twice (as itself and as its gradient specialization) gets fresh slots the second time. */
static LLVMValueRef local_slot(Cg *g, Symbol *sym) {
    LLVMValueRef v = sym->cg;
    if (v && LLVMIsAInstruction(v) && LLVMGetBasicBlockParent(LLVMGetInstructionParent(v)) != g->fn) return NULL;
    return v;
}

bool cg_holds_real(const Type *t) {
    int depth;
    return ty_base(t, &depth)->kind == TY_REAL;
}


/* In a gradient specialization, a global holding reals is read as constant handles. */
/* A global array of reals as handles in a gradient specialization: lifted once per call,
 * at the function's entry, and not at every read (which would make a loop over a data
 * array quadratic). */
static LLVMValueRef lifted_global(Cg *g, Symbol *sym) {
    for (int i = 0; i < g->nlifts; i++)
        if (g->lifts[i].sym == sym && g->lifts[i].fn == g->fn) return LLVMBuildLoad2(g->b, g->t_ptr, g->lifts[i].slot, sym->name);
    if (g->nlifts == g->lifts_cap) {
        g->lifts_cap = g->lifts_cap ? 2 * g->lifts_cap : 8;
        g->lifts = realloc(g->lifts, sizeof *g->lifts * (size_t)g->lifts_cap);
    }
    LLVMValueRef slot = cg_entry_alloca(g, g->t_ptr, sym->name);
    LLVMBuilderRef eb = LLVMCreateBuilderInContext(g->ctx);   /* right after the slot */
    LLVMValueRef next = LLVMGetNextInstruction(slot);
    if (next) LLVMPositionBuilderBefore(eb, next);
    else LLVMPositionBuilderAtEnd(eb, LLVMGetInstructionParent(slot));
    int depth;
    ty_base(sym->type, &depth);
    LLVMValueRef args[2] = {LLVMBuildLoad2(eb, g->t_ptr, sym->cg, sym->name), cg_const_int(g, depth)};
    LLVMBuildStore(eb, rt_call_with(g, eb, RTF_rt_vi_lift_array, args, 2), slot);
    LLVMDisposeBuilder(eb);
    g->lifts[g->nlifts++] = (struct CgLift){sym, g->fn, slot};
    return LLVMBuildLoad2(g->b, g->t_ptr, slot, sym->name);
}

LLVMValueRef cg_load_symbol(Cg *g, Symbol *sym) {
    if (g->ad && sym->kind == SYM_GLOBAL && cg_holds_real(sym->type)) {
        if (sym->type->kind != TY_REAL) return lifted_global(g, sym);
        return cg_ad_lift(g, LLVMBuildLoad2(g->b, g->t_real, sym->cg, sym->name), sym->type);
    }
    return LLVMBuildLoad2(g->b, cg_llvm_type(g, sym->type), sym->cg, sym->name);
}

/* Creates storage for a let/var/loop variable: a global at top level, else an alloca. */
void cg_bind_symbol(Cg *g, Symbol *sym, LLVMValueRef v) {
    if (!sym) return;
    if (!local_slot(g, sym)) sym->cg = cg_entry_alloca(g, cg_llvm_type(g, sym->type), sym->name);
    LLVMBuildStore(g->b, v, sym->cg);
}

/* ---- expressions ---- */

static LLVMValueRef cg_unary(Cg *g, Node *e) {
    if (e->type->kind == TY_TENSOR) return cg_tensor_neg(g, e);
    LLVMValueRef v = cg_expr(g, e->binary.lhs);
    if (e->binary.op == TK_NOT) return LLVMBuildNot(g->b, v, "not");
    return e->type->kind == TY_REAL ? LLVMBuildFNeg(g->b, v, "neg") : LLVMBuildNeg(g->b, v, "neg");
}

/* && and || evaluate their right side only when needed. */
static LLVMValueRef cg_logical(Cg *g, Node *e) {
    bool is_and = e->binary.op == TK_AND;
    LLVMValueRef l = cg_expr(g, e->binary.lhs);
    LLVMBasicBlockRef lhs_bb = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef rhs_bb = cg_new_block(g, "rhs"), done = cg_new_block(g, "logic");
    LLVMBuildCondBr(g->b, l, is_and ? rhs_bb : done, is_and ? done : rhs_bb);
    cg_position(g, rhs_bb);
    LLVMValueRef r = cg_expr(g, e->binary.rhs);
    LLVMBasicBlockRef rhs_end = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, done);
    cg_position(g, done);
    LLVMValueRef phi = LLVMBuildPhi(g->b, g->t_bool, "logic");
    LLVMValueRef vals[2] = {LLVMConstInt(g->t_bool, !is_and, 0), r};
    LLVMBasicBlockRef bbs[2] = {lhs_bb, rhs_end};
    LLVMAddIncoming(phi, vals, bbs, 2);
    return phi;
}

LLVMValueRef cg_compare(Cg *g, TokKind op, bool real, LLVMValueRef l, LLVMValueRef r) {
    if (real) {
        LLVMRealPredicate p = op == TK_LT ? LLVMRealOLT : op == TK_LE ? LLVMRealOLE : op == TK_GT ? LLVMRealOGT
                            : op == TK_GE ? LLVMRealOGE : op == TK_EQ ? LLVMRealOEQ : LLVMRealUNE;
        return LLVMBuildFCmp(g->b, p, l, r, "cmp");
    }
    LLVMIntPredicate p = op == TK_LT ? LLVMIntSLT : op == TK_LE ? LLVMIntSLE : op == TK_GT ? LLVMIntSGT
                       : op == TK_GE ? LLVMIntSGE : op == TK_EQ ? LLVMIntEQ : LLVMIntNE;
    return LLVMBuildICmp(g->b, p, l, r, "cmp");
}

/* Integer quotient or remainder: division by zero is a runtime error, and x / -1 is
 * computed as a negation so INT64_MIN / -1 wraps instead of trapping. */
static LLVMValueRef cg_int_divide(Cg *g, LLVMValueRef l, LLVMValueRef r, bool rem, Loc loc) {
    cg_fail_if(g, LLVMBuildICmp(g->b, LLVMIntEQ, r, cg_const_int(g, 0), ""), loc,
            rem ? "integer modulo by zero" : "integer division by zero");
    LLVMValueRef minus_one = LLVMBuildICmp(g->b, LLVMIntEQ, r, cg_const_int(g, -1), "");
    LLVMValueRef safe = LLVMBuildSelect(g->b, minus_one, cg_const_int(g, 1), r, "");
    LLVMValueRef q = rem ? LLVMBuildSRem(g->b, l, safe, "") : LLVMBuildSDiv(g->b, l, safe, "");
    LLVMValueRef special = rem ? cg_const_int(g, 0) : LLVMBuildNeg(g->b, l, "");
    return LLVMBuildSelect(g->b, minus_one, special, q, rem ? "rem" : "quot");
}

/* x^2, x^3, x^4 with an integer literal exponent, as products (lang/SPEC.md, operators): x*x
 * is the correctly rounded square, x*x*x and (x*x)*(x*x) round twice; a call of pow costs
 * more than the rest of a typical reward. */
/* 2, 3 or 4 for such a literal (the checker has made it a real), else 0. */
int cg_small_exponent(const Node *r) {
    if (r->kind == N_CONVERT) r = r->binary.lhs;
    return r->kind == N_INT && r->ival >= 2 && r->ival <= 4 ? (int)r->ival : 0;
}

static LLVMValueRef cg_small_power(Cg *g, LLVMValueRef x, int n) {
    LLVMValueRef x2 = LLVMBuildFMul(g->b, x, x, "sq");
    if (n == 2) return x2;
    return LLVMBuildFMul(g->b, x2, n == 3 ? x : x2, "pow");
}

static LLVMValueRef cg_arith(Cg *g, TokKind op, bool real, LLVMValueRef l, LLVMValueRef r) {
    switch (op) {
    case TK_PLUS: return real ? LLVMBuildFAdd(g->b, l, r, "") : LLVMBuildAdd(g->b, l, r, "");
    case TK_MINUS: return real ? LLVMBuildFSub(g->b, l, r, "") : LLVMBuildSub(g->b, l, r, "");
    case TK_STAR: return real ? LLVMBuildFMul(g->b, l, r, "") : LLVMBuildMul(g->b, l, r, "");
    case TK_SLASH: return LLVMBuildFDiv(g->b, l, r, "");
    default: {
        LLVMValueRef args[2] = {l, r};
        return cg_rt_call(g, RTF_rt_pow, args, 2);
    }
    }
}

static LLVMValueRef cg_binary(Cg *g, Node *e) {
    TokKind op = e->binary.op;
    if (op == TK_AND || op == TK_OR) return cg_logical(g, e);
    if (e->type->kind == TY_TENSOR) return cg_tensor_binary(g, e);
    LLVMValueRef l = cg_expr(g, e->binary.lhs), r = cg_expr(g, e->binary.rhs);
    bool real = e->binary.lhs->type->kind == TY_REAL;
    if (e->binary.lhs->type->kind == TY_STRING) {
        LLVMValueRef eq = cg_rt_call(g, RTF_rt_str_eq, (LLVMValueRef[]){l, r}, 2);
        return LLVMBuildICmp(g->b, op == TK_EQ ? LLVMIntNE : LLVMIntEQ, eq, cg_const_int(g, 0), "streq");
    }
    if (e->binary.lhs->type->kind == TY_MAT) {   /* X * w */
        LLVMValueRef args[3] = {l, r, cg_loc_string(g, e->loc)};
        return cg_rt_call(g, RTF_rt_mat_vec, args, 3);
    }
    switch (op) {
    case TK_LT: case TK_LE: case TK_GT: case TK_GE: case TK_EQ: case TK_NE:
        return cg_compare(g, op, real, l, r);
    case TK_PERCENT:
        return cg_int_divide(g, l, r, true, e->loc);
    case TK_CARET: {
        int n = cg_small_exponent(e->binary.rhs);
        return n ? cg_small_power(g, l, n) : cg_arith(g, op, real, l, r);
    }
    default:
        return cg_arith(g, op, real, l, r);
    }
}

/* X[i, j]: a double (the runtime checks both bounds). */
LLVMValueRef cg_mat_index(Cg *g, Node *e) {
    LLVMValueRef x = cg_expr(g, e->index.base), i = cg_expr(g, e->index.index), j = cg_expr(g, e->index.col);
    return cg_rt_call(g, RTF_rt_mat_get, (LLVMValueRef[]){x, i, j, cg_loc_string(g, e->loc)}, 4);
}

static LLVMValueRef cg_index(Cg *g, Node *e) {
    if (e->index.base->type->kind == TY_TENSOR) return cg_tensor_index(g, e);
    if (e->index.col) return cg_mat_index(g, e);
    LLVMValueRef arr = cg_expr(g, e->index.base);
    LLVMValueRef idx = cg_expr(g, e->index.index);
    bounds_check(g, arr, idx, e->loc);
    return load_elem(g, arr, idx, e->type);
}

static LLVMValueRef cg_array(Cg *g, Node *e) {
    const Type *elem = e->type->elem;
    LLVMValueRef arr = array_new(g, cg_const_int(g, e->array.elems.len), elem);
    for (int i = 0; i < e->array.elems.len; i++)
        store_elem(g, arr, cg_const_int(g, i), elem, cg_expr(g, e->array.elems.items[i]));
    return arr;
}

/* In a REPL cell, every loop turn checks the Ctrl-C flag (rt_interrupted, an i32 of the
 * runtime) and stops with `interrupted` at the loop when it is set. */
static void cg_poll(Cg *g, Loc loc) {
    if (!g->session) return;
    LLVMTypeRef i32 = LLVMInt32TypeInContext(g->ctx);
    LLVMValueRef flag = LLVMGetNamedGlobal(g->mod, "rt_interrupted");
    if (!flag) flag = LLVMAddGlobal(g->mod, i32, "rt_interrupted");
    LLVMValueRef v = LLVMBuildLoad2(g->b, i32, flag, "interrupted");
    LLVMSetOrdering(v, LLVMAtomicOrderingMonotonic);   /* the runtime's _Atomic int, relaxed */
    LLVMSetAlignment(v, 4);
    LLVMBasicBlockRef stop = cg_new_block(g, "interrupted"), go = cg_new_block(g, "go");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, v, LLVMConstInt(i32, 0, 0), ""), stop, go);
    cg_position(g, stop);
    LLVMValueRef where = cg_loc_string(g, loc);
    cg_rt_fail_call(g, RTF_rt_interrupt, &where, 1);
    cg_position(g, go);
}

/* Emits `for var in lo .. hi { body(i) }` with break/continue targets; `body` gets the index. */
typedef void (*LoopBody)(Cg *g, void *env, LLVMValueRef i);

/* The loop variable's own slot is the counter (the body cannot assign it). The counter and
 * the bound live in slots (frame fields in a model), and no SSA value crosses the body, so
 * a model may suspend inside the body and resume there. */
static void cg_range_loop(Cg *g, Symbol *var, LLVMValueRef lo, LLVMValueRef hi, LoopBody body, void *env, Loc loc) {
    if (!local_slot(g, var)) var->cg = cg_entry_alloca(g, g->t_int, var->name);
    LLVMValueRef slot = var->cg, hi_slot = cg_entry_alloca(g, g->t_int, "hi");
    LLVMBuildStore(g->b, lo, slot);
    LLVMBuildStore(g->b, hi, hi_slot);
    LLVMBasicBlockRef cond = cg_new_block(g, "for.cond"), loop = cg_new_block(g, "for.body"),
                      step = cg_new_block(g, "for.step"), done = cg_new_block(g, "for.end");
    LLVMBuildBr(g->b, cond);
    cg_position(g, cond);
    cg_poll(g, loc);
    LLVMValueRef i = LLVMBuildLoad2(g->b, g->t_int, slot, "i");
    hi = LLVMBuildLoad2(g->b, g->t_int, hi_slot, "hi");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, i, hi, ""), loop, done);
    cg_position(g, loop);
    LLVMBasicBlockRef saved_break = g->break_bb, saved_continue = g->continue_bb;
    g->break_bb = done;
    g->continue_bb = step;
    body(g, env, i);
    g->break_bb = saved_break;
    g->continue_bb = saved_continue;
    cg_branch_to(g, step);
    cg_position(g, step);
    i = LLVMBuildLoad2(g->b, g->t_int, slot, "i");
    LLVMBuildStore(g->b, LLVMBuildAdd(g->b, i, cg_const_int(g, 1), ""), slot);
    LLVMBuildBr(g->b, cond);
    cg_position(g, done);
}

typedef struct { Node *e; LLVMValueRef arr, lo; } ComprEnv;

static void compr_body(Cg *g, void *env, LLVMValueRef i) {
    ComprEnv *c = env;
    LLVMValueRef v = cg_expr(g, c->e->compr.body);
    store_elem(g, c->arr, LLVMBuildSub(g->b, i, c->lo, ""), c->e->type->elem, v);
}

static LLVMValueRef cg_comprehension(Cg *g, Node *e) {
    LLVMValueRef lo = cg_expr(g, e->compr.lo), hi = cg_expr(g, e->compr.hi);
    LLVMValueRef args[3] = {lo, hi, cg_loc_string(g, e->loc)};
    LLVMValueRef n = cg_rt_call(g, RTF_rt_range_len, args, 3);
    ComprEnv env = {e, array_new(g, n, e->type->elem), lo};
    cg_range_loop(g, e->compr.sym, lo, hi, compr_body, &env, e->loc);
    return env.arr;
}

/* Evaluates a branch of an if and stores its value (when it has one) into `slot`. */
static void cg_branch(Cg *g, Node *branch, LLVMValueRef slot, LLVMBasicBlockRef merge) {
    LLVMValueRef v = cg_expr(g, branch);
    if (slot && v && !LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b))) LLVMBuildStore(g->b, v, slot);
    cg_branch_to(g, merge);
}

static LLVMValueRef cg_if(Cg *g, Node *e) {
    LLVMValueRef slot = cg_has_value(e->type) ? cg_entry_alloca(g, cg_llvm_type(g, e->type), "ifval") : NULL;
    LLVMValueRef cond = cg_expr(g, e->if_.cond);
    LLVMBasicBlockRef then = cg_new_block(g, "then"), els = cg_new_block(g, "else"), merge = cg_new_block(g, "endif");
    LLVMBuildCondBr(g->b, cond, then, els);
    bool joins = cg_if_joins(g, e);
    g->in_branch += joins;
    cg_position(g, then);
    cg_branch(g, e->if_.then, slot, merge);
    cg_position(g, els);
    if (e->if_.els) cg_branch(g, e->if_.els, slot, merge);
    cg_branch_to(g, merge);
    cg_position(g, merge);
    g->in_branch -= joins;
    if (joins && !g->in_branch) cg_if_join(g, e);
    if (e->type->kind == TY_NEVER) LLVMBuildUnreachable(g->b), cg_start_dead_block(g);
    return slot ? LLVMBuildLoad2(g->b, cg_llvm_type(g, e->type), slot, "if") : NULL;
}

static LLVMValueRef cg_block(Cg *g, Node *e) {
    for (int i = 0; i < e->block.stmts.len; i++) cg_stmt(g, e->block.stmts.items[i]);
    return e->block.value ? cg_expr(g, e->block.value) : NULL;
}

/* ---- calls ---- */

static int math_runtime_fn(BuiltinId id) {
    switch (id) {
#define X(bid, name, fn) case BI_##bid: return RTF_##fn;
    MATH_BUILTINS(X)
#undef X
    default: return -1;
    }
}

LLVMValueRef cg_arg(Cg *g, Node *e, int i) { return cg_expr(g, e->call.args.items[i]); }

const Type *cg_arg_type(Node *e, int i) { return ((Node *)e->call.args.items[i])->type; }

static void cg_print_value(Cg *g, LLVMValueRef v, const Type *t) {
    if (g->ad && t->kind == TY_REAL) v = cg_rt_call(g, RTF_rt_ad_value, &v, 1);
    switch (t->kind) {
    case TY_REAL: cg_rt_call(g, RTF_rt_print_real, &v, 1); break;
    case TY_INT: cg_rt_call(g, RTF_rt_print_int, &v, 1); break;
    case TY_BOOL: v = LLVMBuildZExt(g->b, v, g->t_int, ""); cg_rt_call(g, RTF_rt_print_bool, &v, 1); break;
    case TY_STRING: cg_rt_call(g, RTF_rt_print_string, &v, 1); break;
    case TY_POSTERIOR: cg_rt_call(g, RTF_rt_print_posterior, &v, 1); break;
    case TY_MAT: cg_rt_call(g, RTF_rt_print_mat, &v, 1); break;
    case TY_TENSOR: cg_rt_call(g, RTF_rt_print_tensor, &v, 1); break;
    case TY_ARRAY: {
        int depth;
        const Type *base = ty_base(t, &depth);
        long long kind = base->kind == TY_REAL ? 0 : base->kind == TY_INT ? 1 : base->kind == TY_BOOL ? 2
                       : base->kind == TY_MAT ? 4 : base->kind == TY_TENSOR ? 5 : 3;   /* rt.h's RT_REAL ... RT_TENSOR */
        LLVMValueRef args[3] = {v, cg_const_int(g, kind), cg_const_int(g, depth)};
        cg_rt_call(g, RTF_rt_print_array, args, 3);
        break;
    }
    default: break;
    }
}

static LLVMValueRef cg_print(Cg *g, Node *e) {
    for (int i = 0; i < e->call.args.len; i++) {
        if (i) cg_rt_call(g, RTF_rt_print_space, NULL, 0);
        cg_print_value(g, cg_arg(g, e, i), cg_arg_type(e, i));
    }
    cg_rt_call(g, RTF_rt_print_newline, NULL, 0);
    return NULL;
}

/* sum, mean, min, max over one int[] or real[] array. */
static LLVMValueRef cg_reduction(Cg *g, Node *e, BuiltinId id) {
    bool real = cg_arg_type(e, 0)->elem->kind == TY_REAL;
    LLVMValueRef args[2] = {cg_arg(g, e, 0), cg_loc_string(g, e->loc)};
    switch (id) {
    case BI_SUM: return cg_rt_call(g, real ? RTF_rt_sum_real : RTF_rt_sum_int, args, 1);
    case BI_MEAN: return cg_rt_call(g, real ? RTF_rt_mean_real : RTF_rt_mean_int, args, 2);
    case BI_MIN: return cg_rt_call(g, real ? RTF_rt_min_real : RTF_rt_min_int, args, 2);
    default: return cg_rt_call(g, real ? RTF_rt_max_real : RTF_rt_max_int, args, 2);
    }
}

static LLVMValueRef cg_min_max(Cg *g, Node *e, BuiltinId id) {
    if (e->call.args.len == 1) return cg_reduction(g, e, id);
    LLVMValueRef l = cg_arg(g, e, 0), r = cg_arg(g, e, 1);
    bool real = e->type->kind == TY_REAL;
    LLVMValueRef less = cg_compare(g, TK_LT, real, l, r);
    return id == BI_MIN ? LLVMBuildSelect(g->b, less, l, r, "min") : LLVMBuildSelect(g->b, less, r, l, "max");
}

/* A call of an LLVM intrinsic on one double (llvm.fabs, llvm.sqrt: exact, so the same
 * bits as libm's, and the optimizer knows them). */
static LLVMValueRef real_intrinsic(Cg *g, const char *name, LLVMValueRef x) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMTypeRef ty = g->t_real;
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->mod, id, &ty, 1);
    return LLVMBuildCall2(g->b, LLVMIntrinsicGetType(g->ctx, id, &ty, 1), fn, &x, 1, "");
}

static LLVMValueRef cg_abs(Cg *g, Node *e) {
    LLVMValueRef x = cg_arg(g, e, 0);
    if (e->type->kind == TY_INT) {
        LLVMValueRef neg = LLVMBuildICmp(g->b, LLVMIntSLT, x, cg_const_int(g, 0), "");
        return LLVMBuildSelect(g->b, neg, LLVMBuildNeg(g->b, x, ""), x, "abs");
    }
    return real_intrinsic(g, "llvm.fabs", x);
}

static LLVMValueRef cg_posterior_stat(Cg *g, Node *e, BuiltinId id) {
    LLVMValueRef post = cg_arg(g, e, 0);
    LLVMValueRef loc = cg_loc_string(g, e->loc);
    if (e->call.args.len == (id == BI_QUANTILE ? 3 : 2)) {   /* a site's: mean(post, "x[3]") */
        LLVMValueRef q = id == BI_QUANTILE ? cg_arg(g, e, 1) : LLVMConstReal(g->t_real, 0);
        LLVMValueRef stat = cg_const_int(g, id == BI_MEAN ? 0 : id == BI_SD ? 1 : 2);
        LLVMValueRef args[5] = {post, cg_arg(g, e, e->call.args.len - 1), stat, q, loc};
        return cg_rt_call(g, RTF_rt_post_site_stat, args, 5);
    }
    if (id == BI_MEAN) return cg_rt_call(g, RTF_rt_post_mean, (LLVMValueRef[]){post, loc}, 2);
    if (id == BI_SD) return cg_rt_call(g, RTF_rt_post_sd, (LLVMValueRef[]){post, loc}, 2);
    LLVMValueRef args[3] = {post, cg_arg(g, e, 1), cg_loc_string(g, e->loc)};
    return cg_rt_call(g, RTF_rt_post_quantile, args, 3);
}

static LLVMValueRef cg_builtin(Cg *g, Node *e, BuiltinId id) {
    if (cg_is_tensor_call(e)) return cg_tensor_builtin(g, e, id);
    if (id == BI_SD || id == BI_QUANTILE || (id == BI_MEAN && cg_arg_type(e, 0)->kind == TY_POSTERIOR))
        return cg_posterior_stat(g, e, id);
    if (id == BI_LPDF) return cg_dist_call(g, e->call.args.items[0], DIST_LPDF, cg_arg(g, e, 1));
    if (id == BI_LOGP || id == BI_PREDICT) return cg_model_builtin(g, e);
    if (id == BI_STOP_GRAD) return cg_arg(g, e, 0);   /* only gradients see it */
    if (id == BI_FAIL) {
        LLVMValueRef msg = cg_arg(g, e, 0);
        cg_rt_fail_call(g, RTF_rt_fail, (LLVMValueRef[]){cg_loc_string(g, e->loc), msg}, 2);
        cg_start_dead_block(g);
        return NULL;
    }
    if (id == BI_PLOT) {
        LLVMValueRef post = cg_arg(g, e, 0);
        cg_rt_call(g, RTF_rt_plot_posterior, (LLVMValueRef[]){post, cg_loc_string(g, e->loc)}, 2);
        return NULL;
    }
    switch (id) {
    case BI_PRINT: return cg_print(g, e);
    case BI_LEN: return array_len(g, cg_arg(g, e, 0));
    case BI_ROWS: case BI_COLS: {   /* rt_mat: rows, then cols */
        LLVMValueRef at = cg_const_int(g, id == BI_COLS);
        return LLVMBuildLoad2(g->b, g->t_int, LLVMBuildGEP2(g->b, g->t_int, cg_arg(g, e, 0), &at, 1, ""), "dim");
    }
    case BI_MAT: {
        LLVMValueRef args[2] = {cg_arg(g, e, 0), cg_loc_string(g, e->loc)};
        return cg_rt_call(g, RTF_rt_mat_from_rows, args, 2);
    }
    case BI_SUM: case BI_MEAN: return cg_reduction(g, e, id);
    case BI_MIN: case BI_MAX: return cg_min_max(g, e, id);
    case BI_ABS: return cg_abs(g, e);
    case BI_SQRT: return real_intrinsic(g, "llvm.sqrt", cg_arg(g, e, 0));
    case BI_LOGSUMEXP: {
        LLVMValueRef a = cg_arg(g, e, 0);
        return cg_rt_call(g, RTF_rt_logsumexp, &a, 1);
    }
    case BI_DIV: {
        LLVMValueRef l = cg_arg(g, e, 0), r = cg_arg(g, e, 1);
        return cg_int_divide(g, l, r, false, e->loc);
    }
    default: {
        LLVMValueRef x = cg_arg(g, e, 0);
        return cg_rt_call(g, math_runtime_fn(id), &x, 1);
    }
    }
}

static LLVMValueRef cg_call(Cg *g, Node *e) {
    if (e->call.builtin) return cg_builtin(g, e, (BuiltinId)e->call.builtin);
    Symbol *sym = e->call.callee->name.sym;
    int n = e->call.args.len;
    LLVMValueRef args[n + 1];
    args[0] = cg_ctx(g);
    for (int i = 0; i < n; i++) args[i + 1] = cg_arg(g, e, i);
    LLVMValueRef fn = sym->cg;
    g->calls_fn = true;
    LLVMValueRef v = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(fn), fn, args, (unsigned)n + 1, "");
    return cg_has_value(sym->type->ret) ? v : NULL;
}

/* ---- distributions ---- */

/* The declaration of rt_sample_D or rt_lpdf_D; it also fills in g->dist_ty[which][kind]. */
static LLVMValueRef dist_function(Cg *g, int which, int kind) {
    if (g->dist_fn[which][kind]) return g->dist_fn[which][kind];
    const char *ps = cg_dist_sig[kind].params;
    int n = (int)strlen(ps);
    LLVMTypeRef params[8];
    params[0] = which == DIST_SAMPLE ? g->t_ptr : abi_type(g, cg_dist_sig[kind].value);
    for (int i = 0; i < n; i++) params[i + 1] = abi_type(g, ps[i]);
    params[n + 1] = g->t_ptr;
    LLVMTypeRef ret = which == DIST_SAMPLE ? abi_type(g, cg_dist_sig[kind].value) : g->t_real;
    char name[128];
    snprintf(name, sizeof name, "rt_%s_%s", which == DIST_SAMPLE ? "sample" : "lpdf", cg_dist_sig[kind].name);
    g->dist_ty[which][kind] = LLVMFunctionType(ret, params, (unsigned)n + 2, 0);
    return g->dist_fn[which][kind] = LLVMAddFunction(g->mod, name, g->dist_ty[which][kind]);
}

/* A call of rt_sample_D or rt_lpdf_D with its n + 2 arguments. The declaration is made
 * first, in a statement of its own: it sets the function type that LLVMBuildCall2 reads, and
 * C leaves the order in which a call's arguments are evaluated unspecified (clang reads the
 * type before it exists when both are arguments of one call). */
LLVMValueRef cg_dist_build_call(Cg *g, int which, int kind, LLVMValueRef *args) {
    LLVMValueRef fn = dist_function(g, which, kind);
    unsigned n = (unsigned)strlen(cg_dist_sig[kind].params) + 2;
    return LLVMBuildCall2(g->b, g->dist_ty[which][kind], fn, args, n, "");
}

/* rt_sample_D(rng, params..., loc) or rt_lpdf_D(value, params..., loc) for a constructor call. */
LLVMValueRef cg_dist_call(Cg *g, Node *dist, int which, LLVMValueRef first) {
    int kind = dist->call.dist - 1, n = dist->call.args.len;
    LLVMValueRef args[n + 2];
    args[0] = first;
    for (int i = 0; i < n; i++) args[i + 1] = cg_expr(g, dist->call.args.items[i]);
    args[n + 1] = cg_loc_string(g, dist->loc);
    return cg_dist_build_call(g, which, kind, args);
}

/* post.log_evidence, post.ess, post.resamples, post.ess_history, post.pareto_k, post.ancestors,
 * post.min_ess, post.weights, post.values; vi: post.params, post.history;
 * in an objective d.logw and d.logq of draws (rt_draws: two pointers) */
static LLVMValueRef cg_field(Cg *g, Node *e) {
    LLVMValueRef post = cg_expr(g, e->field.base);
    const char *f = e->field.field;
    if (e->field.base->type->kind == TY_DRAWS) {   /* logw, logq, then logz (a handle) */
        bool logz = strcmp(f, "logz") == 0;
        LLVMValueRef at = cg_const_int(g, logz ? 2 : strcmp(f, "logw") == 0 ? 0 : 1);
        LLVMTypeRef t = logz ? g->t_int : g->t_ptr;
        return LLVMBuildLoad2(g->b, t, LLVMBuildGEP2(g->b, t, post, &at, 1, ""), f);
    }
    int fn = strcmp(f, "log_evidence") == 0 ? RTF_rt_post_log_evidence
           : strcmp(f, "ess") == 0 ? RTF_rt_post_ess
           : strcmp(f, "resamples") == 0 ? RTF_rt_post_resamples
           : strcmp(f, "pareto_k") == 0 ? RTF_rt_post_pareto_k
           : strcmp(f, "ancestors") == 0 ? RTF_rt_post_ancestors
           : strcmp(f, "min_ess") == 0 ? RTF_rt_post_min_ess
           : strcmp(f, "weights") == 0 ? RTF_rt_post_weights
           : strcmp(f, "values") == 0 ? RTF_rt_post_values
           : strcmp(f, "params") == 0 ? RTF_rt_vi_params
           : strcmp(f, "history") == 0 ? RTF_rt_vi_history : RTF_rt_post_ess_history;
    return cg_rt_call(g, fn, &post, 1);
}

static LLVMValueRef cg_expr_kind(Cg *g, Node *e);

/* An expression's value. One that never yields (fail, or an if whose branches all return)
 * but stands where a value is expected has that value's type (check_coerce): its code ends
 * in a dead block, where an undefined value of the type stands for it. */
LLVMValueRef cg_expr(Cg *g, Node *e) {
    LLVMValueRef v;
    if (!(g->ad && cg_ad_expr(g, e, &v))) v = cg_expr_kind(g, e);
    return v || !cg_has_value(e->type) ? v : LLVMGetUndef(cg_llvm_type(g, e->type));
}

static LLVMValueRef cg_expr_kind(Cg *g, Node *e) {
    switch (e->kind) {
    case N_INT: return cg_const_int(g, e->ival);
    case N_REAL: return LLVMConstReal(g->t_real, e->rval);
    case N_BOOL: return LLVMConstInt(g->t_bool, e->bval, 0);
    case N_STRING: return LLVMBuildGlobalStringPtr(g->b, e->str.s, "str");
    case N_NAME: return cg_load_symbol(g, e->name.sym);
    case N_UNARY: return cg_unary(g, e);
    case N_BINARY: return cg_binary(g, e);
    case N_CONVERT: return LLVMBuildSIToFP(g->b, cg_expr(g, e->binary.lhs), g->t_real, "real");
    case N_CALL: return cg_call(g, e);
    case N_INDEX: return cg_index(g, e);
    case N_ARRAY: return cg_array(g, e);
    case N_COMPREHENSION: return cg_comprehension(g, e);
    case N_IF: return cg_if(g, e);
    case N_BLOCK: return cg_block(g, e);
    case N_SAMPLE: return cg_sample(g, e);
    case N_INFER: return cg_infer(g, e);
    case N_FIELD: return cg_field(g, e);
    default:
        fprintf(stderr, "ppl: internal error: cannot generate code for %s\n", ast_kind_name(e->kind));
        exit(70);
    }
}

/* ---- statements ---- */

/* a[i][j] = v on a var array: indices are evaluated once, root first; each array on the path
 * is copied with one element replaced, and the new root is stored back. */
static void cg_assign(Cg *g, Node *s) {
    int n = 0;
    Node *root = s->assign.target;
    for (; root->kind == N_INDEX; root = root->index.base) n++;
    LLVMValueRef v = cg_expr(g, s->assign.value);
    Node **path = malloc(sizeof(Node *) * (size_t)(n + 1));
    LLVMValueRef *arrs = malloc(sizeof(LLVMValueRef) * (size_t)(n + 1));
    LLVMValueRef *idxs = malloc(sizeof(LLVMValueRef) * (size_t)(n + 1));
    int k = n;
    for (Node *t = s->assign.target; t->kind == N_INDEX; t = t->index.base) path[--k] = t;
    LLVMValueRef cur = n ? cg_load_symbol(g, root->name.sym) : NULL;
    for (k = 0; k < n; k++) {
        idxs[k] = cg_expr(g, path[k]->index.index);
        bounds_check(g, cur, idxs[k], path[k]->loc);
        arrs[k] = cur;
        if (k + 1 < n) cur = load_elem(g, cur, idxs[k], path[k]->type);
    }
    for (k = n - 1; k >= 0; k--) {
        LLVMValueRef copy = array_copy(g, arrs[k], path[k]->type);
        store_elem(g, copy, idxs[k], path[k]->type, v);
        v = copy;
    }
    if (g->ad && root->name.sym->kind == SYM_GLOBAL && root->name.sym->type->kind == TY_REAL)
        v = cg_rt_call(g, RTF_rt_ad_value, &v, 1);   /* a global keeps the plain value */
    LLVMBuildStore(g->b, v, root->name.sym->cg);
    free(path), free(arrs), free(idxs);
}

static void for_body(Cg *g, void *env, LLVMValueRef i) {
    Node *s = env;
    cg_expr(g, s->for_.body);
}

static void cg_for(Cg *g, Node *s) {
    LLVMValueRef lo = cg_expr(g, s->for_.lo), hi = cg_expr(g, s->for_.hi);
    cg_range_loop(g, s->for_.sym, lo, hi, for_body, s, s->loc);
}

static void cg_while(Cg *g, Node *s) {
    LLVMBasicBlockRef cond = cg_new_block(g, "while.cond"), loop = cg_new_block(g, "while.body"),
                      done = cg_new_block(g, "while.end");
    LLVMBuildBr(g->b, cond);
    cg_position(g, cond);
    cg_poll(g, s->loc);
    LLVMBuildCondBr(g->b, cg_expr(g, s->while_.cond), loop, done);
    cg_position(g, loop);
    LLVMBasicBlockRef saved_break = g->break_bb, saved_continue = g->continue_bb;
    g->break_bb = done;
    g->continue_bb = cond;
    cg_expr(g, s->while_.body);
    g->break_bb = saved_break;
    g->continue_bb = saved_continue;
    cg_branch_to(g, cond);
    cg_position(g, done);
}

static void cg_jump(Cg *g, LLVMBasicBlockRef target) {
    LLVMBuildBr(g->b, target);
    cg_start_dead_block(g);
}

static void cg_return(Cg *g, Node *s) {
    if (s->stmt.expr) {
        LLVMValueRef v = cg_expr(g, s->stmt.expr);
        if (g->ret_slot && v) LLVMBuildStore(g->b, v, g->ret_slot);
    }
    cg_jump(g, g->ret_bb);
}

void cg_stmt(Cg *g, Node *s) {
    if (g->ad && cg_ad_stmt(g, s)) return;
    switch (s->kind) {
    case N_LET: cg_bind_symbol(g, s->let.sym, cg_expr(g, s->let.init)); break;
    case N_ASSIGN: cg_assign(g, s); break;
    case N_EXPR_STMT: cg_expr(g, s->stmt.expr); break;
    case N_FOR: cg_for(g, s); break;
    case N_WHILE: cg_while(g, s); break;
    case N_RETURN: cg_return(g, s); break;
    case N_BREAK: cg_jump(g, g->break_bb); break;
    case N_CONTINUE: cg_jump(g, g->continue_bb); break;
    case N_OBSERVE: cg_observe(g, s); break;
    case N_REWARD: cg_reward(g, s); break;
    case N_POTENTIAL: cg_potential(g, s); break;
    case N_CONDITION: cg_condition(g, s); break;
    default: cg_expr(g, s); break;
    }
}

/* ---- functions ---- */

/* Every function takes the evaluation context first, then its parameters. */
static void declare_fn(Cg *g, Node *f) {
    Type *t = f->fn.sym->type;
    LLVMTypeRef params[t->nparams + 1];
    params[0] = g->t_ptr;
    for (int i = 0; i < t->nparams; i++) params[i + 1] = cg_llvm_type(g, t->params[i]);
    LLVMTypeRef fty = LLVMFunctionType(cg_llvm_type(g, t->ret), params, (unsigned)t->nparams + 1, 0);
    char name[512];
    snprintf(name, sizeof name, "ppl.%s", f->fn.name);
    LLVMValueRef fn = LLVMAddFunction(g->mod, name, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    f->fn.sym->cg = fn;
}

void cg_begin_function(Cg *g, LLVMValueRef fn, const Type *ret) {
    g->fn = fn;
    g->cx = NULL;
    cg_position(g, cg_new_block(g, "entry"));
    g->ret_bb = cg_new_block(g, "return");
    g->ret_slot = cg_has_value(ret) ? cg_entry_alloca(g, cg_llvm_type(g, ret), "ret") : NULL;
}

void cg_end_function(Cg *g, const Type *ret) {
    cg_branch_to(g, g->ret_bb);
    cg_position(g, g->ret_bb);
    if (g->ret_slot) LLVMBuildRet(g->b, LLVMBuildLoad2(g->b, cg_llvm_type(g, ret), g->ret_slot, "ret"));
    else LLVMBuildRetVoid(g->b);
}

/* A function that calls functions checks the stack on entry (rt_stack.c), so that deep
 * recursion is an error naming it. A leaf needs no check: the margin below the check covers
 * its frame, and leaves are where small hot functions are. */
static void stack_check(Cg *g, Node *f) {
    LLVMBuilderRef eb = cg_entry_builder(g);
    LLVMValueRef args[2] = {LLVMBuildGlobalStringPtr(eb, f->fn.name, "fn"), cg_loc_string(g, f->loc)};
    rt_call_with(g, eb, RTF_rt_stack_check, args, 2);
    LLVMDisposeBuilder(eb);
}

void cg_define_fn_as(Cg *g, Node *f, LLVMValueRef fn) {
    Type *ret = f->fn.sym->type->ret;
    cg_begin_function(g, fn, ret);
    g->cx = LLVMGetParam(g->fn, 0);
    g->calls_fn = false;
    for (int i = 0; i < f->fn.params.len; i++) {
        Param *p = f->fn.params.items[i];
        cg_bind_symbol(g, p->sym, LLVMGetParam(g->fn, (unsigned)i + 1));
    }
    LLVMValueRef v = cg_expr(g, f->fn.body);
    if (g->ret_slot && v && !LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b)))
        LLVMBuildStore(g->b, v, g->ret_slot);
    if (g->calls_fn) stack_check(g, f);
    cg_end_function(g, ret);
}

static void define_fn(Cg *g, Node *f) { cg_define_fn_as(g, f, f->fn.sym->cg); }

/* ---- globals, data and the entry point ---- */

static LLVMValueRef pointer_default(Cg *g, const Type *t) {
    return t->kind == TY_STRING ? g->empty_string : g->empty_array;
}

/* Top-level let/var/data become internal globals; pointers start as an empty value. */
static void declare_global(Cg *g, Symbol *sym) {
    if (!sym || sym->cg || !cg_has_value(sym->type)) return;
    LLVMTypeRef t = cg_llvm_type(g, sym->type);
    char name[512];
    snprintf(name, sizeof name, "ppl.global.%s", sym->name);
    LLVMValueRef gv = LLVMAddGlobal(g->mod, t, name);
    LLVMSetLinkage(gv, LLVMInternalLinkage);
    LLVMSetInitializer(gv, ty_has_pointers(sym->type) ? pointer_default(g, sym->type) : LLVMConstNull(t));
    sym->cg = gv;
}

static void make_empty_values(Cg *g) {
    LLVMValueRef zeros[2] = {cg_const_int(g, 0), cg_const_int(g, 0)};
    LLVMValueRef init = LLVMConstStructInContext(g->ctx, zeros, 2, 0);
    g->empty_array = LLVMAddGlobal(g->mod, LLVMTypeOf(init), "ppl.empty_array");
    LLVMSetInitializer(g->empty_array, init);
    LLVMSetGlobalConstant(g->empty_array, 1);
    LLVMSetLinkage(g->empty_array, LLVMPrivateLinkage);
    LLVMValueRef str = LLVMConstStringInContext(g->ctx, "", 0, 0);
    g->empty_string = LLVMAddGlobal(g->mod, LLVMTypeOf(str), "ppl.empty_string");
    LLVMSetInitializer(g->empty_string, str);
    LLVMSetGlobalConstant(g->empty_string, 1);
    LLVMSetLinkage(g->empty_string, LLVMPrivateLinkage);
}

/* Reads a value of type t from the --data file by name (rt_data.c checks it). */
static LLVMValueRef data_read(Cg *g, const Type *t, LLVMValueRef name, LLVMValueRef loc) {
    int depth;
    const Type *base = ty_base(t, &depth);
    long long kind = base->kind == TY_REAL ? 0 : base->kind == TY_INT ? 1 : 2;
    if (base->kind == TY_MAT || base->kind == TY_TENSOR) {   /* the checker allows no arrays of these as data */
        LLVMValueRef args[2] = {name, loc};
        return cg_rt_call(g, base->kind == TY_MAT ? RTF_rt_data_mat : RTF_rt_data_tensor, args, 2);
    }
    if (depth > 0) {
        LLVMValueRef args[4] = {name, cg_const_int(g, kind), cg_const_int(g, depth), loc};
        return cg_rt_call(g, RTF_rt_data_array, args, 4);
    }
    LLVMValueRef args[2] = {name, loc};
    if (base->kind == TY_REAL) return cg_rt_call(g, RTF_rt_data_real, args, 2);
    if (base->kind == TY_INT) return cg_rt_call(g, RTF_rt_data_int, args, 2);
    return LLVMBuildICmp(g->b, LLVMIntNE, cg_rt_call(g, RTF_rt_data_bool, args, 2), cg_const_int(g, 0), "");
}

/* data x: T [= default]: the --data value when present, else the default. */
static void cg_data(Cg *g, Node *d) {
    Symbol *sym = d->let.sym;
    if (!sym || !sym->cg) return;
    LLVMValueRef name = LLVMBuildGlobalStringPtr(g->b, d->let.name, "name");
    LLVMValueRef loc = cg_loc_string(g, d->loc);
    if (!d->let.init) {
        LLVMBuildStore(g->b, data_read(g, d->let.ann, name, loc), sym->cg);
        return;
    }
    LLVMValueRef has = cg_rt_call(g, RTF_rt_data_has, &name, 1);
    LLVMBasicBlockRef given = cg_new_block(g, "data.given"), dflt = cg_new_block(g, "data.default"),
                      done = cg_new_block(g, "data.done");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, has, cg_const_int(g, 0), ""), given, dflt);
    cg_position(g, given);
    LLVMBuildStore(g->b, data_read(g, d->let.ann, name, loc), sym->cg);
    LLVMBuildBr(g->b, done);
    cg_position(g, dflt);
    LLVMBuildStore(g->b, cg_expr(g, d->let.init), sym->cg);
    cg_branch_to(g, done);
    cg_position(g, done);
}

static Symbol *global_symbol(Node *n) {
    if (n->kind == N_DATA || (n->kind == N_LET)) return n->let.sym;
    return NULL;
}

static void register_roots(Cg *g, Program *prog) {
    for (int i = 0; i < prog->items.len; i++) {
        Symbol *sym = global_symbol(prog->items.items[i]);
        if (sym && sym->cg && ty_has_pointers(sym->type)) cg_rt_call(g, RTF_rt_gc_root, (LLVMValueRef *)&sym->cg, 1);
    }
}

/* REPL display: `name : type = value` (name "-" for an expression's value). */
static void display(Cg *g, const char *name, const Type *t, LLVMValueRef v) {
    const char *fmt = t->kind == TY_POSTERIOR ? "%s : %s =\n" : "%s : %s = ";
    LLVMValueRef head = LLVMBuildGlobalStringPtr(g->b, arena_printf(&g->names, fmt, name, ty_name(&g->names, t)), "show");
    cg_rt_call(g, RTF_rt_print_string, &head, 1);
    cg_print_value(g, v, t);
    cg_rt_call(g, RTF_rt_print_newline, NULL, 0);
}

/* A top-level statement; in a REPL cell, lets and expressions show their values. */
static void cg_top_stmt(Cg *g, Node *n) {
    if (g->session && n->kind == N_EXPR_STMT && cg_has_value(n->stmt.expr->type)) {
        display(g, "-", n->stmt.expr->type, cg_expr(g, n->stmt.expr));
        return;
    }
    cg_stmt(g, n);
    if (g->session && n->kind == N_LET && n->let.sym && cg_has_value(n->let.sym->type))
        display(g, n->let.name, n->let.sym->type, cg_load_symbol(g, n->let.sym));
}

static LLVMValueRef define_main(Cg *g, Program *prog) {
    LLVMValueRef fn = LLVMAddFunction(g->mod, "ppl.main", LLVMFunctionType(g->t_void, NULL, 0, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    cg_begin_function(g, fn, ty_unit);
    register_roots(g, prog);
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_DATA) cg_data(g, n);
        else if (!ast_is_definition(n)) cg_top_stmt(g, n);
    }
    cg_end_function(g, ty_unit);
    return fn;
}

/* ---- the program descriptor (rt_program.h) ---- */

static Node *data_named(Program *prog, const char *name) {
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_DATA && strcmp(n->let.name, name) == 0 && n->let.sym) return n;
    }
    return NULL;
}

/* void bind(args): each parameter from the data declaration of its name (same type), or
 * else from the --data file by name. */
static LLVMValueRef define_bind_args(Cg *g, Program *prog, Node *m) {
    char name[512];
    snprintf(name, sizeof name, "ppl.bind.%s", m->fn.name);
    LLVMValueRef fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(g->t_void, &g->t_ptr, 1, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    cg_begin_function(g, fn, ty_unit);
    for (int i = 0; i < m->fn.params.len; i++) {
        Param *p = m->fn.params.items[i];
        Node *d = data_named(prog, p->name);
        int depth;
        if (ty_base(p->type, &depth)->kind == TY_STRING) {
            LLVMValueRef args[2] = {cg_loc_string(g, p->loc),
                LLVMBuildGlobalStringPtr(g->b, "string parameters cannot be read from --data", "msg")};
            cg_rt_fail_call(g, RTF_rt_fail, args, 2);
            cg_start_dead_block(g);
            continue;
        }
        LLVMValueRef v = d && ty_equal(d->let.ann, p->type) ? cg_load_symbol(g, d->let.sym)
                       : data_read(g, p->type, LLVMBuildGlobalStringPtr(g->b, p->name, "name"), cg_loc_string(g, p->loc));
        LLVMValueRef off = cg_const_int(g, 8 * i);
        LLVMBuildStore(g->b, v, LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), LLVMGetParam(fn, 0), &off, 1, ""));
    }
    cg_end_function(g, ty_unit);
    return fn;
}

static bool is_statement(const Node *n) {
    return !ast_is_definition(n) && n->kind != N_DATA;
}

/* const rt_program ppl_program = { main, is_script, nmodels, models, nobjectives, objectives } */
static void define_program(Cg *g, Program *prog, LLVMValueRef main_fn) {
    LLVMTypeRef entry_ty = cg_struct_type(g->ctx, RT_MODEL_ENTRY_FIELDS(RT_FIELD_LETTER));
    LLVMValueRef entries[prog->items.len + 1];
    int nmodels = 0;
    bool script = false;
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        script = script || is_statement(n);
        if (n->kind != N_MODEL || !n->fn.sym) continue;
        LLVMValueRef guides[prog->items.len + 1];
        int nguides = 0;
        for (int j = 0; j < prog->items.len; j++) {
            Node *q = prog->items.items[j];
            if (q->kind == N_GUIDE && q->fn.paired == n && q->fn.sym && q->fn.sym->cg) guides[nguides++] = q->fn.sym->cg;
        }
        LLVMValueRef f[RT_MODEL_ENTRY_NFIELDS] = {
            [RT_MODEL_ENTRY_F_model] = n->fn.sym->cg, [RT_MODEL_ENTRY_F_bind_args] = define_bind_args(g, prog, n),
            [RT_MODEL_ENTRY_F_nparams] = cg_const_int(g, n->fn.params.len),
            [RT_MODEL_ENTRY_F_nguides] = cg_const_int(g, nguides),
            [RT_MODEL_ENTRY_F_guides] = cg_const_global(g, LLVMConstArray2(g->t_ptr, guides, (uint64_t)nguides), "guides")};
        entries[nmodels++] = cg_const_struct(g, RT_MODEL_ENTRY_FIELDS(RT_FIELD_LETTER), f);
    }
    LLVMValueRef table = cg_const_global(g, LLVMConstArray2(entry_ty, entries, (uint64_t)nmodels), "ppl.models");
    LLVMValueRef objectives[prog->items.len + 1];
    int nobjectives = 0;
    for (int i = 0; i < prog->items.len; i++) {   /* those model mode's --objective can name */
        Node *o = prog->items.items[i];
        if (o->kind == N_OBJECTIVE && o->fn.used && o->fn.params.len == 0) objectives[nobjectives++] = o->fn.sym->cg;
    }
    LLVMValueRef f[RT_PROGRAM_NFIELDS] = {
        [RT_PROGRAM_F_main] = main_fn, [RT_PROGRAM_F_is_script] = cg_const_int(g, script || nmodels == 0),
        [RT_PROGRAM_F_nmodels] = cg_const_int(g, nmodels), [RT_PROGRAM_F_models] = table,
        [RT_PROGRAM_F_nobjectives] = cg_const_int(g, nobjectives),
        [RT_PROGRAM_F_objectives] = cg_const_global(g, LLVMConstArray2(g->t_ptr, objectives, (uint64_t)nobjectives),
                                                    "ppl.objectives")};
    LLVMValueRef init = cg_const_struct(g, RT_PROGRAM_FIELDS(RT_FIELD_LETTER), f);
    LLVMValueRef program = LLVMAddGlobal(g->mod, LLVMTypeOf(init), "ppl_program");
    LLVMSetInitializer(program, init);
    LLVMSetGlobalConstant(program, 1);
}

static void init_cg(Cg *g, LLVMContextRef ctx, const char *name) {
    memset(g, 0, sizeof *g);
    g->ctx = ctx;
    g->mod = LLVMModuleCreateWithNameInContext(name, ctx);
    g->b = LLVMCreateBuilderInContext(ctx);
    g->t_real = LLVMDoubleTypeInContext(ctx);
    g->t_int = LLVMInt64TypeInContext(ctx);
    g->t_bool = LLVMInt1TypeInContext(ctx);
    g->t_ptr = LLVMPointerTypeInContext(ctx, 0);
    g->t_void = LLVMVoidTypeInContext(ctx);
    make_empty_values(g);
}

static void define_all(Cg *g, Program *prog);

LLVMModuleRef cg_program(LLVMContextRef ctx, Program *prog, const char *module_name) {
    Cg g;
    init_cg(&g, ctx, module_name);
    define_all(&g, prog);
    define_program(&g, prog, define_main(&g, prog));
    LLVMDisposeBuilder(g.b);
    arena_free(&g.names);
    free(g.lifts);
    return g.mod;
}

/* ---- REPL cells ---- */

/* An 8-byte session value as a value of type t, and back (rt_session.c stores int64s). */
static LLVMValueRef from_bits(Cg *g, LLVMValueRef bits, const Type *t) {
    switch (t->kind) {
    case TY_REAL: return LLVMBuildBitCast(g->b, bits, g->t_real, "");
    case TY_BOOL: return LLVMBuildICmp(g->b, LLVMIntNE, bits, cg_const_int(g, 0), "");
    case TY_INT: return bits;
    default: return LLVMBuildIntToPtr(g->b, bits, g->t_ptr, "");
    }
}

static LLVMValueRef to_bits(Cg *g, LLVMValueRef v, const Type *t) {
    switch (t->kind) {
    case TY_REAL: return LLVMBuildBitCast(g->b, v, g->t_int, "");
    case TY_BOOL: return LLVMBuildZExt(g->b, v, g->t_int, "");
    case TY_INT: return v;
    default: return LLVMBuildPtrToInt(g->b, v, g->t_int, "");
    }
}

static void session_transfer(Cg *g, Symbol *sym, bool store) {
    if (!sym || !sym->cg || !cg_has_value(sym->type)) return;
    LLVMValueRef name = LLVMBuildGlobalStringPtr(g->b, sym->name, "name");
    if (store) {
        LLVMValueRef args[2] = {name, to_bits(g, cg_load_symbol(g, sym), sym->type)};
        cg_rt_call(g, RTF_rt_session_store, args, 2);
    } else {
        LLVMBuildStore(g->b, from_bits(g, cg_rt_call(g, RTF_rt_session_load, &name, 1), sym->type), sym->cg);
        if (ty_has_pointers(sym->type)) cg_rt_call(g, RTF_rt_gc_root, (LLVMValueRef *)&sym->cg, 1);
    }
}

/* void entry(): loads the earlier cells' globals, runs the cell, stores every global back
 * (a cell stopped by an error stores nothing, so it changes no global). */
static void define_entry(Cg *g, Program *prog, SessionGlobal *sg, int n, LLVMValueRef main_fn, const char *entry) {
    LLVMValueRef fn = LLVMAddFunction(g->mod, entry, LLVMFunctionType(g->t_void, NULL, 0, 0));
    cg_begin_function(g, fn, ty_unit);
    for (int i = 0; i < n; i++) session_transfer(g, sg[i].sym, false);
    LLVMBuildCall2(g->b, LLVMGlobalGetValueType(main_fn), main_fn, NULL, 0, "");
    for (int i = 0; i < n; i++) session_transfer(g, sg[i].sym, true);
    for (int i = 0; i < prog->items.len; i++) session_transfer(g, global_symbol(prog->items.items[i]), true);
    cg_end_function(g, ty_unit);
}

LLVMModuleRef cg_cell(LLVMContextRef ctx, Program *prog, SessionGlobal *globals, int nglobals, const char *entry) {
    Cg g;
    init_cg(&g, ctx, entry);
    g.session = true;
    for (int i = 0; i < nglobals; i++) declare_global(&g, globals[i].sym);
    define_all(&g, prog);
    define_entry(&g, prog, globals, nglobals, define_main(&g, prog), entry);
    LLVMDisposeBuilder(g.b);
    arena_free(&g.names);
    free(g.lifts);
    return g.mod;
}

/* Declares every function, model and global, then defines the models and functions. */
static void define_all(Cg *g, Program *prog) {
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_FN) declare_fn(g, n);
        else if (n->kind == N_MODEL) cg_declare_model(g, n);
        else if ((n->kind == N_GUIDE && n->fn.paired) || (n->kind == N_OBJECTIVE && n->fn.used)) cg_declare_vi(g, n);
        else declare_global(g, global_symbol(n));
    }
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_MODEL) cg_define_model(g, n);
    }
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_GUIDE && n->fn.paired) cg_define_vi_problem(g, n);
        if (n->kind == N_OBJECTIVE && n->fn.used) cg_define_objective(g, n);
    }
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_FN) define_fn(g, n);
    }
}
