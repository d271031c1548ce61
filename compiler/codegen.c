/* codegen.c - lowers a checked Program to LLVM IR through the LLVM-C API.
 * Locals live in entry-block allocas (mem2reg promotes them); arrays are runtime rt_array values. */
#include "codegen.h"
#include "builtins.h"
#include "rt_abi.h"
#include "rt_dist_table.h"
#include "rt_infer.h"
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
#define X(name, ret, params) RTF_##name,
    RT_ABI(X)
#undef X
    RTF_COUNT
};

static const struct { const char *name, *ret, *params; } rt_sig[] = {
#define X(name, ret, params) {#name, ret, params},
    RT_ABI(X)
#undef X
};

enum { ARRAY_HEADER_WORDS = 2 };   /* rt_array: len, pad, then 8-byte elements */

#define RT_DIST_LETTER_REAL 'd'
#define RT_DIST_LETTER_INT 'i'
static const struct { const char *name; char value; const char *params; } dist_sig[] = {
#define X(name, np, vt, types, ...) {#name, RT_DIST_LETTER_##vt, types},
    RT_DISTRIBUTIONS(X)
#undef X
};
enum { DIST_COUNT = sizeof dist_sig / sizeof dist_sig[0] };
enum { DIST_SAMPLE, DIST_LPDF };

typedef struct Cg {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMTypeRef t_real, t_int, t_bool, t_ptr, t_void;
    LLVMValueRef fn;                       /* the function being emitted */
    LLVMValueRef ret_slot;                 /* where `return` stores its value (or NULL) */
    LLVMBasicBlockRef ret_bb;
    LLVMBasicBlockRef break_bb, continue_bb;
    LLVMValueRef rt_fn[RTF_COUNT];
    LLVMTypeRef rt_ty[RTF_COUNT];
    LLVMValueRef empty_array, empty_string;
    LLVMValueRef dist_fn[2][DIST_COUNT];   /* [DIST_SAMPLE or DIST_LPDF][kind], declared on use */
    LLVMTypeRef dist_ty[2][DIST_COUNT];
    /* while emitting a model's resume function: */
    LLVMValueRef frame, particle;          /* its two parameters */
    int64_t frame_bytes;                   /* next free byte offset in the frame */
    LLVMValueRef dispatch;                 /* the switch on the resume state */
    int nstates;
    Node *final_checkpoint;                /* runs without suspending (see last_checkpoint) */
    bool session;                          /* a REPL cell: show values of top-level lets and expressions */
    bool ad;                               /* a gradient specialization: reals are tape handles (i64) */
    Node *ad_guide;                        /* the guide whose specialization is being emitted */
    PtrVec ad_queue;                       /* functions whose specializations are still to define */
    LLVMValueRef ad_fn[2][DIST_COUNT];     /* rt_ad_lpdf_D / rt_ad_lpmf_D, declared on use */
    LLVMTypeRef ad_ty[2][DIST_COUNT];
    Arena names;                           /* type names for those displays */
} Cg;

static LLVMValueRef cg_expr(Cg *g, Node *e);
static void cg_stmt(Cg *g, Node *s);
static LLVMValueRef cg_dist_call(Cg *g, Node *dist, int which, LLVMValueRef first);

/* ---- types and small helpers ---- */

static LLVMTypeRef llvm_type(Cg *g, const Type *t) {
    switch (t->kind) {
    case TY_REAL: return g->ad ? g->t_int : g->t_real;
    case TY_INT: return g->t_int;
    case TY_BOOL: return g->t_bool;
    case TY_STRING: case TY_ARRAY: case TY_POSTERIOR: return g->t_ptr;
    default: return g->t_void;
    }
}

static bool has_value(const Type *t) {
    return (t->kind >= TY_BOOL && t->kind <= TY_ARRAY) || t->kind == TY_POSTERIOR;
}

static LLVMValueRef const_int(Cg *g, long long v) { return LLVMConstInt(g->t_int, (unsigned long long)v, 1); }

static LLVMBasicBlockRef new_block(Cg *g, const char *name) { return LLVMAppendBasicBlockInContext(g->ctx, g->fn, name); }

static void position(Cg *g, LLVMBasicBlockRef bb) { LLVMPositionBuilderAtEnd(g->b, bb); }

/* Branches to `bb` unless the current block already ended (after return/break). */
static void branch_to(Cg *g, LLVMBasicBlockRef bb) {
    if (!LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b))) LLVMBuildBr(g->b, bb);
}

/* After a jump, code that follows is unreachable; emit it into a block of its own. */
static void start_dead_block(Cg *g) { position(g, new_block(g, "dead")); }

/* A builder at the top of the current function's entry block. */
static LLVMBuilderRef entry_builder(Cg *g) {
    LLVMBuilderRef eb = LLVMCreateBuilderInContext(g->ctx);
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(g->fn);
    LLVMValueRef first = LLVMGetFirstInstruction(entry);
    if (first) LLVMPositionBuilderBefore(eb, first);
    else LLVMPositionBuilderAtEnd(eb, entry);
    return eb;
}

static LLVMValueRef const_int(Cg *g, long long v);

/* The address of a frame field, computed once in the entry block. */
static LLVMValueRef frame_field(Cg *g, int64_t offset, const char *name) {
    LLVMBuilderRef eb = entry_builder(g);
    LLVMValueRef off = const_int(g, offset);
    LLVMValueRef p = LLVMBuildGEP2(eb, LLVMInt8TypeInContext(g->ctx), g->frame, &off, 1, name);
    LLVMDisposeBuilder(eb);
    return p;
}

/* Storage for a variable: an alloca, or in a model a field of the frame, so that its value
 * survives the model's suspension at a checkpoint. `words` 8-byte words. */
static LLVMValueRef entry_slots(Cg *g, LLVMTypeRef t, int words, const char *name) {
    if (g->frame) {
        LLVMValueRef p = frame_field(g, g->frame_bytes, name);
        g->frame_bytes += 8 * words;
        return p;
    }
    LLVMBuilderRef eb = entry_builder(g);
    LLVMValueRef slot = words == 1 ? LLVMBuildAlloca(eb, t, name)
                                   : LLVMBuildArrayAlloca(eb, g->t_int, const_int(g, words), name);
    LLVMDisposeBuilder(eb);
    return slot;
}

static LLVMValueRef entry_alloca(Cg *g, LLVMTypeRef t, const char *name) { return entry_slots(g, t, 1, name); }

/* n words on the stack even in a model: for values that never live across a checkpoint. */
static LLVMValueRef scratch_words(Cg *g, int n) {
    LLVMBuilderRef eb = entry_builder(g);
    LLVMValueRef p = LLVMBuildArrayAlloca(eb, g->t_int, const_int(g, n), "scratch");
    LLVMDisposeBuilder(eb);
    return p;
}

static LLVMValueRef loc_string(Cg *g, Loc loc) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s:%d:%d", loc.src ? loc.src->name : "?", loc.line, loc.col);
    return LLVMBuildGlobalStringPtr(g->b, buf, "loc");
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
    LLVMTypeRef params[8];
    int n = (int)strlen(ps);
    for (int i = 0; i < n; i++) params[i] = abi_type(g, ps[i]);
    g->rt_ty[id] = LLVMFunctionType(abi_type(g, rt_sig[id].ret[0]), params, (unsigned)n, 0);
    g->rt_fn[id] = LLVMAddFunction(g->mod, rt_sig[id].name, g->rt_ty[id]);
    if (rt_sig[id].ret[0] == 'n') {
        unsigned kind = LLVMGetEnumAttributeKindForName("noreturn", 8);
        LLVMAddAttributeAtIndex(g->rt_fn[id], LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->ctx, kind, 0));
    }
}

static LLVMValueRef rt_call(Cg *g, int id, LLVMValueRef *args, int n) {
    if (!g->rt_fn[id]) declare_rt(g, id);
    return LLVMBuildCall2(g->b, g->rt_ty[id], g->rt_fn[id], args, (unsigned)n, "");
}

/* Calls a runtime function that never returns and continues in an unreachable block. */
static void rt_fail_call(Cg *g, int id, LLVMValueRef *args, int n) {
    rt_call(g, id, args, n);
    LLVMBuildUnreachable(g->b);
}

static void fail_if(Cg *g, LLVMValueRef cond, Loc loc, const char *msg) {
    LLVMBasicBlockRef bad = new_block(g, "fail"), ok = new_block(g, "ok");
    LLVMBuildCondBr(g->b, cond, bad, ok);
    position(g, bad);
    LLVMValueRef args[2] = {loc_string(g, loc), LLVMBuildGlobalStringPtr(g->b, msg, "msg")};
    rt_fail_call(g, RTF_rt_fail, args, 2);
    position(g, ok);
}

/* ---- arrays ---- */

static LLVMValueRef array_len(Cg *g, LLVMValueRef arr) { return LLVMBuildLoad2(g->b, g->t_int, arr, "len"); }

static LLVMValueRef elem_addr(Cg *g, LLVMValueRef arr, LLVMValueRef idx) {
    LLVMValueRef i = LLVMBuildAdd(g->b, idx, const_int(g, ARRAY_HEADER_WORDS), "");
    return LLVMBuildGEP2(g->b, g->t_int, arr, &i, 1, "elem");
}

static void bounds_check(Cg *g, LLVMValueRef arr, LLVMValueRef idx, Loc loc) {
    LLVMValueRef len = array_len(g, arr);
    LLVMValueRef bad = LLVMBuildICmp(g->b, LLVMIntUGE, idx, len, "oob");
    LLVMBasicBlockRef fail = new_block(g, "oob"), ok = new_block(g, "inbounds");
    LLVMBuildCondBr(g->b, bad, fail, ok);
    position(g, fail);
    LLVMValueRef args[3] = {loc_string(g, loc), idx, len};
    rt_fail_call(g, RTF_rt_fail_index, args, 3);
    position(g, ok);
}

/* Elements are 8 bytes: bools are stored widened to i64. */
static LLVMValueRef load_elem(Cg *g, LLVMValueRef arr, LLVMValueRef idx, const Type *t) {
    LLVMValueRef p = elem_addr(g, arr, idx);
    if (t->kind == TY_BOOL)
        return LLVMBuildICmp(g->b, LLVMIntNE, LLVMBuildLoad2(g->b, g->t_int, p, ""), const_int(g, 0), "");
    return LLVMBuildLoad2(g->b, llvm_type(g, t), p, "");
}

static void store_elem(Cg *g, LLVMValueRef arr, LLVMValueRef idx, const Type *t, LLVMValueRef v) {
    if (t->kind == TY_BOOL) v = LLVMBuildZExt(g->b, v, g->t_int, "");
    LLVMBuildStore(g->b, v, elem_addr(g, arr, idx));
}

static LLVMValueRef array_new(Cg *g, LLVMValueRef len, const Type *elem) {
    LLVMValueRef args[2] = {len, const_int(g, ty_has_pointers(elem))};
    return rt_call(g, RTF_rt_array_new, args, 2);
}

static LLVMValueRef array_copy(Cg *g, LLVMValueRef arr, const Type *elem) {
    LLVMValueRef args[2] = {arr, const_int(g, ty_has_pointers(elem))};
    return rt_call(g, RTF_rt_array_copy, args, 2);
}

/* ---- variables ---- */

/* A local's slot if it was made in the function being emitted, else NULL: a body emitted
 * twice (as itself and as its gradient specialization) gets fresh slots the second time. */
static LLVMValueRef local_slot(Cg *g, Symbol *sym) {
    LLVMValueRef v = sym->cg;
    if (v && LLVMIsAInstruction(v) && LLVMGetBasicBlockParent(LLVMGetInstructionParent(v)) != g->fn) return NULL;
    return v;
}

static bool holds_real(const Type *t) {
    int depth;
    return ty_base(t, &depth)->kind == TY_REAL;
}

static LLVMValueRef ad_lift(Cg *g, LLVMValueRef v, const Type *t);

/* In a gradient specialization, a global holding reals is read as constant handles. */
static LLVMValueRef load_symbol(Cg *g, Symbol *sym) {
    if (g->ad && sym->kind == SYM_GLOBAL && holds_real(sym->type)) {
        LLVMTypeRef plain = sym->type->kind == TY_REAL ? g->t_real : g->t_ptr;
        return ad_lift(g, LLVMBuildLoad2(g->b, plain, sym->cg, sym->name), sym->type);
    }
    return LLVMBuildLoad2(g->b, llvm_type(g, sym->type), sym->cg, sym->name);
}

/* Creates storage for a let/var/loop variable: a global at top level, else an alloca. */
static void bind_symbol(Cg *g, Symbol *sym, LLVMValueRef v) {
    if (!sym) return;
    if (!local_slot(g, sym)) sym->cg = entry_alloca(g, llvm_type(g, sym->type), sym->name);
    LLVMBuildStore(g->b, v, sym->cg);
}

/* ---- expressions ---- */

static LLVMValueRef cg_unary(Cg *g, Node *e) {
    LLVMValueRef v = cg_expr(g, e->binary.lhs);
    if (e->binary.op == TK_NOT) return LLVMBuildNot(g->b, v, "not");
    return e->type->kind == TY_REAL ? LLVMBuildFNeg(g->b, v, "neg") : LLVMBuildNeg(g->b, v, "neg");
}

/* && and || evaluate their right side only when needed. */
static LLVMValueRef cg_logical(Cg *g, Node *e) {
    bool is_and = e->binary.op == TK_AND;
    LLVMValueRef l = cg_expr(g, e->binary.lhs);
    LLVMBasicBlockRef lhs_bb = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef rhs_bb = new_block(g, "rhs"), done = new_block(g, "logic");
    LLVMBuildCondBr(g->b, l, is_and ? rhs_bb : done, is_and ? done : rhs_bb);
    position(g, rhs_bb);
    LLVMValueRef r = cg_expr(g, e->binary.rhs);
    LLVMBasicBlockRef rhs_end = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, done);
    position(g, done);
    LLVMValueRef phi = LLVMBuildPhi(g->b, g->t_bool, "logic");
    LLVMValueRef vals[2] = {LLVMConstInt(g->t_bool, !is_and, 0), r};
    LLVMBasicBlockRef bbs[2] = {lhs_bb, rhs_end};
    LLVMAddIncoming(phi, vals, bbs, 2);
    return phi;
}

static LLVMValueRef cg_compare(Cg *g, TokKind op, bool real, LLVMValueRef l, LLVMValueRef r) {
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
    fail_if(g, LLVMBuildICmp(g->b, LLVMIntEQ, r, const_int(g, 0), ""), loc,
            rem ? "integer modulo by zero" : "integer division by zero");
    LLVMValueRef minus_one = LLVMBuildICmp(g->b, LLVMIntEQ, r, const_int(g, -1), "");
    LLVMValueRef safe = LLVMBuildSelect(g->b, minus_one, const_int(g, 1), r, "");
    LLVMValueRef q = rem ? LLVMBuildSRem(g->b, l, safe, "") : LLVMBuildSDiv(g->b, l, safe, "");
    LLVMValueRef special = rem ? const_int(g, 0) : LLVMBuildNeg(g->b, l, "");
    return LLVMBuildSelect(g->b, minus_one, special, q, rem ? "rem" : "quot");
}

static LLVMValueRef cg_arith(Cg *g, TokKind op, bool real, LLVMValueRef l, LLVMValueRef r) {
    switch (op) {
    case TK_PLUS: return real ? LLVMBuildFAdd(g->b, l, r, "") : LLVMBuildAdd(g->b, l, r, "");
    case TK_MINUS: return real ? LLVMBuildFSub(g->b, l, r, "") : LLVMBuildSub(g->b, l, r, "");
    case TK_STAR: return real ? LLVMBuildFMul(g->b, l, r, "") : LLVMBuildMul(g->b, l, r, "");
    case TK_SLASH: return LLVMBuildFDiv(g->b, l, r, "");
    default: {
        LLVMValueRef args[2] = {l, r};
        return rt_call(g, RTF_rt_pow, args, 2);
    }
    }
}

static LLVMValueRef cg_binary(Cg *g, Node *e) {
    TokKind op = e->binary.op;
    if (op == TK_AND || op == TK_OR) return cg_logical(g, e);
    LLVMValueRef l = cg_expr(g, e->binary.lhs), r = cg_expr(g, e->binary.rhs);
    bool real = e->binary.lhs->type->kind == TY_REAL;
    switch (op) {
    case TK_LT: case TK_LE: case TK_GT: case TK_GE: case TK_EQ: case TK_NE:
        return cg_compare(g, op, real, l, r);
    case TK_PERCENT:
        return cg_int_divide(g, l, r, true, e->loc);
    default:
        return cg_arith(g, op, real, l, r);
    }
}

static LLVMValueRef cg_index(Cg *g, Node *e) {
    LLVMValueRef arr = cg_expr(g, e->index.base);
    LLVMValueRef idx = cg_expr(g, e->index.index);
    bounds_check(g, arr, idx, e->loc);
    return load_elem(g, arr, idx, e->type);
}

static LLVMValueRef cg_array(Cg *g, Node *e) {
    const Type *elem = e->type->elem;
    LLVMValueRef arr = array_new(g, const_int(g, e->array.elems.len), elem);
    for (int i = 0; i < e->array.elems.len; i++)
        store_elem(g, arr, const_int(g, i), elem, cg_expr(g, e->array.elems.items[i]));
    return arr;
}

/* Emits `for var in lo .. hi { body(i) }` with break/continue targets; `body` gets the index. */
typedef void (*LoopBody)(Cg *g, void *env, LLVMValueRef i);

/* The loop variable's own slot is the counter (the body cannot assign it). The counter and
 * the bound live in slots (frame fields in a model), and no SSA value crosses the body, so
 * a model may suspend inside the body and resume there. */
static void cg_range_loop(Cg *g, Symbol *var, LLVMValueRef lo, LLVMValueRef hi, LoopBody body, void *env) {
    if (!local_slot(g, var)) var->cg = entry_alloca(g, g->t_int, var->name);
    LLVMValueRef slot = var->cg, hi_slot = entry_alloca(g, g->t_int, "hi");
    LLVMBuildStore(g->b, lo, slot);
    LLVMBuildStore(g->b, hi, hi_slot);
    LLVMBasicBlockRef cond = new_block(g, "for.cond"), loop = new_block(g, "for.body"),
                      step = new_block(g, "for.step"), done = new_block(g, "for.end");
    LLVMBuildBr(g->b, cond);
    position(g, cond);
    LLVMValueRef i = LLVMBuildLoad2(g->b, g->t_int, slot, "i");
    hi = LLVMBuildLoad2(g->b, g->t_int, hi_slot, "hi");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, i, hi, ""), loop, done);
    position(g, loop);
    LLVMBasicBlockRef saved_break = g->break_bb, saved_continue = g->continue_bb;
    g->break_bb = done;
    g->continue_bb = step;
    body(g, env, i);
    g->break_bb = saved_break;
    g->continue_bb = saved_continue;
    branch_to(g, step);
    position(g, step);
    i = LLVMBuildLoad2(g->b, g->t_int, slot, "i");
    LLVMBuildStore(g->b, LLVMBuildAdd(g->b, i, const_int(g, 1), ""), slot);
    LLVMBuildBr(g->b, cond);
    position(g, done);
}

typedef struct { Node *e; LLVMValueRef arr, lo; } ComprEnv;

static void compr_body(Cg *g, void *env, LLVMValueRef i) {
    ComprEnv *c = env;
    LLVMValueRef v = cg_expr(g, c->e->compr.body);
    store_elem(g, c->arr, LLVMBuildSub(g->b, i, c->lo, ""), c->e->type->elem, v);
}

static LLVMValueRef cg_comprehension(Cg *g, Node *e) {
    LLVMValueRef lo = cg_expr(g, e->compr.lo), hi = cg_expr(g, e->compr.hi);
    LLVMValueRef n = LLVMBuildSub(g->b, hi, lo, "n");
    LLVMValueRef neg = LLVMBuildICmp(g->b, LLVMIntSLT, n, const_int(g, 0), "");
    n = LLVMBuildSelect(g->b, neg, const_int(g, 0), n, "n");
    ComprEnv env = {e, array_new(g, n, e->type->elem), lo};
    cg_range_loop(g, e->compr.sym, lo, hi, compr_body, &env);
    return env.arr;
}

/* Evaluates a branch of an if and stores its value (when it has one) into `slot`. */
static void cg_branch(Cg *g, Node *branch, LLVMValueRef slot, LLVMBasicBlockRef merge) {
    LLVMValueRef v = cg_expr(g, branch);
    if (slot && v && !LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b))) LLVMBuildStore(g->b, v, slot);
    branch_to(g, merge);
}

static LLVMValueRef cg_if(Cg *g, Node *e) {
    LLVMValueRef slot = has_value(e->type) ? entry_alloca(g, llvm_type(g, e->type), "ifval") : NULL;
    LLVMValueRef cond = cg_expr(g, e->if_.cond);
    LLVMBasicBlockRef then = new_block(g, "then"), els = new_block(g, "else"), merge = new_block(g, "endif");
    LLVMBuildCondBr(g->b, cond, then, els);
    position(g, then);
    cg_branch(g, e->if_.then, slot, merge);
    position(g, els);
    if (e->if_.els) cg_branch(g, e->if_.els, slot, merge);
    branch_to(g, merge);
    position(g, merge);
    if (e->type->kind == TY_NEVER) LLVMBuildUnreachable(g->b), start_dead_block(g);
    return slot ? LLVMBuildLoad2(g->b, llvm_type(g, e->type), slot, "if") : NULL;
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

static LLVMValueRef arg(Cg *g, Node *e, int i) { return cg_expr(g, e->call.args.items[i]); }

static const Type *arg_type(Node *e, int i) { return ((Node *)e->call.args.items[i])->type; }

static void cg_print_value(Cg *g, LLVMValueRef v, const Type *t) {
    if (g->ad && t->kind == TY_REAL) v = rt_call(g, RTF_rt_ad_value, &v, 1);
    switch (t->kind) {
    case TY_REAL: rt_call(g, RTF_rt_print_real, &v, 1); break;
    case TY_INT: rt_call(g, RTF_rt_print_int, &v, 1); break;
    case TY_BOOL: v = LLVMBuildZExt(g->b, v, g->t_int, ""); rt_call(g, RTF_rt_print_bool, &v, 1); break;
    case TY_STRING: rt_call(g, RTF_rt_print_string, &v, 1); break;
    case TY_POSTERIOR: rt_call(g, RTF_rt_print_posterior, &v, 1); break;
    case TY_ARRAY: {
        int depth;
        const Type *base = ty_base(t, &depth);
        long long kind = base->kind == TY_REAL ? 0 : base->kind == TY_INT ? 1 : base->kind == TY_BOOL ? 2 : 3;
        LLVMValueRef args[3] = {v, const_int(g, kind), const_int(g, depth)};
        rt_call(g, RTF_rt_print_array, args, 3);
        break;
    }
    default: break;
    }
}

static LLVMValueRef cg_print(Cg *g, Node *e) {
    for (int i = 0; i < e->call.args.len; i++) {
        if (i) rt_call(g, RTF_rt_print_space, NULL, 0);
        cg_print_value(g, arg(g, e, i), arg_type(e, i));
    }
    rt_call(g, RTF_rt_print_newline, NULL, 0);
    return NULL;
}

/* sum, mean, min, max over one int[] or real[] array. */
static LLVMValueRef cg_reduction(Cg *g, Node *e, BuiltinId id) {
    bool real = arg_type(e, 0)->elem->kind == TY_REAL;
    LLVMValueRef args[2] = {arg(g, e, 0), loc_string(g, e->loc)};
    switch (id) {
    case BI_SUM: return rt_call(g, real ? RTF_rt_sum_real : RTF_rt_sum_int, args, 1);
    case BI_MEAN: return rt_call(g, real ? RTF_rt_mean_real : RTF_rt_mean_int, args, 2);
    case BI_MIN: return rt_call(g, real ? RTF_rt_min_real : RTF_rt_min_int, args, 2);
    default: return rt_call(g, real ? RTF_rt_max_real : RTF_rt_max_int, args, 2);
    }
}

static LLVMValueRef cg_min_max(Cg *g, Node *e, BuiltinId id) {
    if (e->call.args.len == 1) return cg_reduction(g, e, id);
    LLVMValueRef l = arg(g, e, 0), r = arg(g, e, 1);
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
    LLVMValueRef x = arg(g, e, 0);
    if (e->type->kind == TY_INT) {
        LLVMValueRef neg = LLVMBuildICmp(g->b, LLVMIntSLT, x, const_int(g, 0), "");
        return LLVMBuildSelect(g->b, neg, LLVMBuildNeg(g->b, x, ""), x, "abs");
    }
    return real_intrinsic(g, "llvm.fabs", x);
}

static LLVMValueRef cg_posterior_stat(Cg *g, Node *e, BuiltinId id) {
    LLVMValueRef post = arg(g, e, 0);
    if (id == BI_MEAN) return rt_call(g, RTF_rt_post_mean, &post, 1);
    if (id == BI_SD) return rt_call(g, RTF_rt_post_sd, &post, 1);
    LLVMValueRef args[3] = {post, arg(g, e, 1), loc_string(g, e->loc)};
    return rt_call(g, RTF_rt_post_quantile, args, 3);
}

static LLVMValueRef cg_builtin(Cg *g, Node *e, BuiltinId id) {
    if (id == BI_SD || id == BI_QUANTILE || (id == BI_MEAN && arg_type(e, 0)->kind == TY_POSTERIOR))
        return cg_posterior_stat(g, e, id);
    if (id == BI_LPDF) return cg_dist_call(g, e->call.args.items[0], DIST_LPDF, arg(g, e, 1));
    if (id == BI_PLOT) {
        LLVMValueRef post = arg(g, e, 0);
        rt_call(g, RTF_rt_plot_posterior, &post, 1);
        return NULL;
    }
    switch (id) {
    case BI_PRINT: return cg_print(g, e);
    case BI_LEN: return array_len(g, arg(g, e, 0));
    case BI_SUM: case BI_MEAN: return cg_reduction(g, e, id);
    case BI_MIN: case BI_MAX: return cg_min_max(g, e, id);
    case BI_ABS: return cg_abs(g, e);
    case BI_SQRT: return real_intrinsic(g, "llvm.sqrt", arg(g, e, 0));
    case BI_LOGSUMEXP: {
        LLVMValueRef a = arg(g, e, 0);
        return rt_call(g, RTF_rt_logsumexp, &a, 1);
    }
    case BI_DIV: {
        LLVMValueRef l = arg(g, e, 0), r = arg(g, e, 1);
        return cg_int_divide(g, l, r, false, e->loc);
    }
    default: {
        LLVMValueRef x = arg(g, e, 0);
        return rt_call(g, math_runtime_fn(id), &x, 1);
    }
    }
}

static LLVMValueRef cg_call(Cg *g, Node *e) {
    if (e->call.builtin) return cg_builtin(g, e, (BuiltinId)e->call.builtin);
    Symbol *sym = e->call.callee->name.sym;
    int n = e->call.args.len;
    LLVMValueRef args[n + 1];
    for (int i = 0; i < n; i++) args[i] = arg(g, e, i);
    LLVMValueRef fn = sym->cg;
    LLVMValueRef v = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(fn), fn, args, (unsigned)n, "");
    return has_value(sym->type->ret) ? v : NULL;
}

/* ---- distributions, sample sites and checkpoints ---- */

static LLVMValueRef dist_function(Cg *g, int which, int kind) {
    if (g->dist_fn[which][kind]) return g->dist_fn[which][kind];
    const char *ps = dist_sig[kind].params;
    int n = (int)strlen(ps);
    LLVMTypeRef params[8];
    params[0] = which == DIST_SAMPLE ? g->t_ptr : abi_type(g, dist_sig[kind].value);
    for (int i = 0; i < n; i++) params[i + 1] = abi_type(g, ps[i]);
    params[n + 1] = g->t_ptr;
    LLVMTypeRef ret = which == DIST_SAMPLE ? abi_type(g, dist_sig[kind].value) : g->t_real;
    char name[128];
    snprintf(name, sizeof name, "rt_%s_%s", which == DIST_SAMPLE ? "sample" : "lpdf", dist_sig[kind].name);
    g->dist_ty[which][kind] = LLVMFunctionType(ret, params, (unsigned)n + 2, 0);
    return g->dist_fn[which][kind] = LLVMAddFunction(g->mod, name, g->dist_ty[which][kind]);
}

/* rt_sample_D(rng, params..., loc) or rt_lpdf_D(value, params..., loc) for a constructor call. */
static LLVMValueRef cg_dist_call(Cg *g, Node *dist, int which, LLVMValueRef first) {
    int kind = dist->call.dist - 1, n = dist->call.args.len;
    LLVMValueRef fn = dist_function(g, which, kind);
    LLVMValueRef args[n + 2];
    args[0] = first;
    for (int i = 0; i < n; i++) args[i + 1] = cg_expr(g, dist->call.args.items[i]);
    args[n + 1] = loc_string(g, dist->loc);
    return LLVMBuildCall2(g->b, g->dist_ty[which][kind], fn, args, (unsigned)n + 2, "");
}

static LLVMValueRef particle_field(Cg *g, size_t offset) {
    LLVMValueRef off = const_int(g, (long long)offset);
    return LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), g->particle, &off, 1, "");
}

static void add_log_weight(Cg *g, LLVMValueRef delta) {
    LLVMValueRef p = particle_field(g, offsetof(rt_particle, logw));
    LLVMValueRef w = LLVMBuildLoad2(g->b, g->t_real, p, "logw");
    LLVMBuildStore(g->b, LLVMBuildFAdd(g->b, w, delta, "logw"), p);
}

/* Suspends the model: records where to resume and returns 1; resumption continues here. */
static void cg_checkpoint(Cg *g) {
    int k = ++g->nstates;
    LLVMBuildStore(g->b, const_int(g, k), g->frame);
    LLVMBuildRet(g->b, LLVMConstInt(LLVMInt32TypeInContext(g->ctx), 1, 0));
    LLVMBasicBlockRef resume = new_block(g, "resume");
    LLVMAddCase(g->dispatch, const_int(g, k), resume);
    position(g, resume);
}

/* Appends (site, loop indices, value) to the particle's trace. */
static void cg_record(Cg *g, Node *e, LLVMValueRef v) {
    int n = e->sample.indices.len;
    LLVMValueRef idx = n ? scratch_words(g, n) : LLVMConstNull(g->t_ptr);
    for (int i = 0; i < n; i++) {
        LLVMValueRef at = const_int(g, i);
        LLVMValueRef p = LLVMBuildGEP2(g->b, g->t_int, idx, &at, 1, "");
        LLVMBuildStore(g->b, load_symbol(g, e->sample.indices.items[i]), p);
    }
    if (e->type->kind == TY_INT) v = LLVMBuildSIToFP(g->b, v, g->t_real, "");
    LLVMValueRef args[5] = {g->particle, const_int(g, e->sample.site), const_int(g, n), idx, v};
    rt_call(g, RTF_rt_record, args, 5);
}

static LLVMValueRef cg_sample(Cg *g, Node *e) {
    LLVMValueRef v = cg_dist_call(g, e->sample.dist, DIST_SAMPLE, g->particle);
    cg_record(g, e, v);
    return v;
}

static void cg_observe(Cg *g, Node *s) {
    LLVMValueRef v = cg_expr(g, s->observe.value);
    add_log_weight(g, cg_dist_call(g, s->observe.dist, DIST_LPDF, v));
    if (s != g->final_checkpoint) cg_checkpoint(g);
}

/* A reward or potential must be a number below +inf (-inf kills the particle). */
static LLVMValueRef cg_weight_value(Cg *g, Node *s, const char *what) {
    LLVMValueRef v = cg_expr(g, s->stmt.expr);
    LLVMValueRef bad = LLVMBuildFCmp(g->b, LLVMRealUEQ, v, LLVMConstReal(g->t_real, INFINITY), "");
    char msg[64];
    snprintf(msg, sizeof msg, "%s is NaN or +inf", what);
    fail_if(g, bad, s->stmt.expr->loc, msg);
    return v;
}

static void cg_reward(Cg *g, Node *s) {
    add_log_weight(g, cg_weight_value(g, s, "reward"));
    if (s != g->final_checkpoint) cg_checkpoint(g);
}

/* potential v: adds v - (previous potential); the last one is removed when the model ends. */
static void cg_potential(Cg *g, Node *s) {
    LLVMValueRef v = cg_weight_value(g, s, "potential");
    LLVMValueRef p = particle_field(g, offsetof(rt_particle, potential));
    LLVMValueRef old = LLVMBuildLoad2(g->b, g->t_real, p, "potential");
    add_log_weight(g, LLVMBuildFSub(g->b, v, old, ""));
    LLVMBuildStore(g->b, v, p);
    if (s != g->final_checkpoint) cg_checkpoint(g);
}

/* infer M(args) by is(particles = N): the arguments in a block of 8-byte words (traced by
 * the collector), then the engine. */
static LLVMValueRef cg_infer(Cg *g, Node *e) {
    Node *call = e->infer.model_call;
    Symbol *model = call->call.callee->name.sym;
    LLVMValueRef desc = model->cg;
    LLVMValueRef size = const_int(g, 8 * (long long)call->call.args.len);
    LLVMValueRef frame = rt_call(g, RTF_rt_frame_new, &size, 1);
    for (int i = 0; i < call->call.args.len; i++) {
        LLVMValueRef off = const_int(g, 8 * i);
        LLVMValueRef p = LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), frame, &off, 1, "");
        LLVMBuildStore(g->b, cg_expr(g, call->call.args.items[i]), p);
    }
    LLVMValueRef n = e->infer.particles ? cg_expr(g, e->infer.particles) : const_int(g, 1000);
    LLVMValueRef record = e->infer.trace ? LLVMBuildZExt(g->b, cg_expr(g, e->infer.trace), g->t_int, "")
                                         : const_int(g, 1);
    if (e->infer.kind == INFER_IS) {
        LLVMValueRef args[5] = {desc, frame, n, record, loc_string(g, e->loc)};
        return rt_call(g, RTF_rt_infer_is, args, 5);
    }
    if (e->infer.kind == INFER_VI) {
        LLVMValueRef k = e->infer.particles ? n : const_int(g, 1);
        LLVMValueRef steps = e->infer.steps ? cg_expr(g, e->infer.steps) : const_int(g, 1000);
        LLVMValueRef lr = e->infer.lr ? cg_expr(g, e->infer.lr) : LLVMConstReal(g->t_real, 0.01);
        LLVMValueRef args[7] = {e->infer.guide->cg, frame, k, steps, const_int(g, e->infer.optimizer), lr,
                                loc_string(g, e->loc)};
        return rt_call(g, RTF_rt_infer_vi, args, 7);
    }
    LLVMValueRef ess = e->infer.ess ? cg_expr(g, e->infer.ess) : LLVMConstReal(g->t_real, 0.5);
    LLVMValueRef threads = e->infer.threads ? cg_expr(g, e->infer.threads) : const_int(g, 1);
    LLVMValueRef args[8] = {desc, frame, n, const_int(g, e->infer.scheme), ess, threads, record,
                            loc_string(g, e->loc)};
    return rt_call(g, RTF_rt_infer_smc, args, 8);
}

/* post.log_evidence, post.ess, post.resamples, post.ess_history; vi: post.params, post.history */
static LLVMValueRef cg_field(Cg *g, Node *e) {
    LLVMValueRef post = cg_expr(g, e->field.base);
    const char *f = e->field.field;
    int fn = strcmp(f, "log_evidence") == 0 ? RTF_rt_post_log_evidence
           : strcmp(f, "ess") == 0 ? RTF_rt_post_ess
           : strcmp(f, "resamples") == 0 ? RTF_rt_post_resamples
           : strcmp(f, "params") == 0 ? RTF_rt_vi_params
           : strcmp(f, "history") == 0 ? RTF_rt_vi_history : RTF_rt_post_ess_history;
    return rt_call(g, fn, &post, 1);
}

static bool cg_ad_expr(Cg *g, Node *e, LLVMValueRef *v);
static bool cg_ad_stmt(Cg *g, Node *s);

static LLVMValueRef cg_expr(Cg *g, Node *e) {
    LLVMValueRef v;
    if (g->ad && cg_ad_expr(g, e, &v)) return v;
    switch (e->kind) {
    case N_INT: return const_int(g, e->ival);
    case N_REAL: return LLVMConstReal(g->t_real, e->rval);
    case N_BOOL: return LLVMConstInt(g->t_bool, e->bval, 0);
    case N_STRING: return LLVMBuildGlobalStringPtr(g->b, e->str.s, "str");
    case N_NAME: return load_symbol(g, e->name.sym);
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
    LLVMValueRef cur = n ? load_symbol(g, root->name.sym) : NULL;
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
        v = rt_call(g, RTF_rt_ad_value, &v, 1);   /* a global keeps the plain value */
    LLVMBuildStore(g->b, v, root->name.sym->cg);
    free(path), free(arrs), free(idxs);
}

static void for_body(Cg *g, void *env, LLVMValueRef i) {
    Node *s = env;
    cg_expr(g, s->for_.body);
}

static void cg_for(Cg *g, Node *s) {
    LLVMValueRef lo = cg_expr(g, s->for_.lo), hi = cg_expr(g, s->for_.hi);
    cg_range_loop(g, s->for_.sym, lo, hi, for_body, s);
}

static void cg_while(Cg *g, Node *s) {
    LLVMBasicBlockRef cond = new_block(g, "while.cond"), loop = new_block(g, "while.body"),
                      done = new_block(g, "while.end");
    LLVMBuildBr(g->b, cond);
    position(g, cond);
    LLVMBuildCondBr(g->b, cg_expr(g, s->while_.cond), loop, done);
    position(g, loop);
    LLVMBasicBlockRef saved_break = g->break_bb, saved_continue = g->continue_bb;
    g->break_bb = done;
    g->continue_bb = cond;
    cg_expr(g, s->while_.body);
    g->break_bb = saved_break;
    g->continue_bb = saved_continue;
    branch_to(g, cond);
    position(g, done);
}

static void cg_jump(Cg *g, LLVMBasicBlockRef target) {
    LLVMBuildBr(g->b, target);
    start_dead_block(g);
}

static void cg_return(Cg *g, Node *s) {
    if (s->stmt.expr) {
        LLVMValueRef v = cg_expr(g, s->stmt.expr);
        if (g->ret_slot && v) LLVMBuildStore(g->b, v, g->ret_slot);
    }
    cg_jump(g, g->ret_bb);
}

static void cg_stmt(Cg *g, Node *s) {
    if (g->ad && cg_ad_stmt(g, s)) return;
    switch (s->kind) {
    case N_LET: bind_symbol(g, s->let.sym, cg_expr(g, s->let.init)); break;
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
    default: cg_expr(g, s); break;
    }
}

/* ---- functions ---- */

static void declare_fn(Cg *g, Node *f) {
    Type *t = f->fn.sym->type;
    LLVMTypeRef params[t->nparams + 1];
    for (int i = 0; i < t->nparams; i++) params[i] = llvm_type(g, t->params[i]);
    LLVMTypeRef fty = LLVMFunctionType(llvm_type(g, t->ret), params, (unsigned)t->nparams, 0);
    char name[512];
    snprintf(name, sizeof name, "ppl.%s", f->fn.name);
    LLVMValueRef fn = LLVMAddFunction(g->mod, name, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    f->fn.sym->cg = fn;
}

static void begin_function(Cg *g, LLVMValueRef fn, const Type *ret) {
    g->fn = fn;
    position(g, new_block(g, "entry"));
    g->ret_bb = new_block(g, "return");
    g->ret_slot = has_value(ret) ? entry_alloca(g, llvm_type(g, ret), "ret") : NULL;
}

static void end_function(Cg *g, const Type *ret) {
    branch_to(g, g->ret_bb);
    position(g, g->ret_bb);
    if (g->ret_slot) LLVMBuildRet(g->b, LLVMBuildLoad2(g->b, llvm_type(g, ret), g->ret_slot, "ret"));
    else LLVMBuildRetVoid(g->b);
}

static void define_fn_as(Cg *g, Node *f, LLVMValueRef fn) {
    Type *ret = f->fn.sym->type->ret;
    begin_function(g, fn, ret);
    for (int i = 0; i < f->fn.params.len; i++) {
        Param *p = f->fn.params.items[i];
        bind_symbol(g, p->sym, LLVMGetParam(g->fn, (unsigned)i));
    }
    LLVMValueRef v = cg_expr(g, f->fn.body);
    if (g->ret_slot && v && !LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b)))
        LLVMBuildStore(g->b, v, g->ret_slot);
    end_function(g, ret);
}

static void define_fn(Cg *g, Node *f) { define_fn_as(g, f, f->fn.sym->cg); }

/* ---- models: resume functions over frames, and their descriptors ---- */

/* Whether a statement or expression holds a statement of one of the given kinds (only
 * checkpoints are looked for: they are statements in statement position). */
static bool contains(const Node *n, bool (*is)(const Node *)) {
    if (!n) return false;
    if (is(n)) return true;
    switch (n->kind) {
    case N_BLOCK:
        for (int i = 0; i < n->block.stmts.len; i++)
            if (contains(n->block.stmts.items[i], is)) return true;
        return contains(n->block.value, is);
    case N_IF: return contains(n->if_.then, is) || contains(n->if_.els, is);
    case N_FOR: return contains(n->for_.body, is);
    case N_WHILE: return contains(n->while_.body, is);
    case N_EXPR_STMT: return contains(n->stmt.expr, is);
    default: return false;
    }
}

static bool is_checkpoint(const Node *n) { return n->kind == N_OBSERVE || n->kind == N_REWARD || n->kind == N_POTENTIAL; }
static bool is_potential(const Node *n) { return n->kind == N_POTENTIAL; }
static bool has_checkpoint(const Node *n) { return contains(n, is_checkpoint); }
static bool has_potential(const Node *n) { return contains(n, is_potential); }

static LLVMTypeRef resume_type(Cg *g) {
    LLVMTypeRef params[2] = {g->t_ptr, g->t_ptr};
    return LLVMFunctionType(LLVMInt32TypeInContext(g->ctx), params, 2, 0);
}

/* The descriptor is declared first (infer sites load its frame size) and filled in later. */
static LLVMTypeRef descriptor_type(Cg *g) {
    LLVMTypeRef f[10] = {g->t_ptr, g->t_ptr, g->t_int, g->t_int, g->t_int, g->t_ptr, g->t_ptr, g->t_ptr,
                         g->t_int, g->t_int};
    return LLVMStructTypeInContext(g->ctx, f, 10, 0);
}

static void declare_model(Cg *g, Node *m) {
    char name[512];
    snprintf(name, sizeof name, "ppl.model.%s", m->fn.name);
    LLVMValueRef desc = LLVMAddGlobal(g->mod, descriptor_type(g), name);
    LLVMSetLinkage(desc, LLVMInternalLinkage);
    LLVMSetGlobalConstant(desc, 1);
    m->fn.sym->cg = desc;
}

static LLVMValueRef const_global(Cg *g, LLVMValueRef init, const char *name) {
    LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    return gv;
}

static LLVMValueRef const_string(Cg *g, const char *s) {
    return const_global(g, LLVMConstStringInContext(g->ctx, s, (unsigned)strlen(s), 0), "str");
}

static long long runtime_kind(const Type *t) {
    switch (t->kind) {
    case TY_REAL: return RT_REAL;
    case TY_INT: return RT_INT;
    case TY_BOOL: return RT_BOOL;
    default: return -1;
    }
}

/* Site tables: names, number of indices, value kinds, by site id. */
static void site_tables(Cg *g, Node *m, LLVMValueRef out[3]) {
    int n = m->fn.sites.len;
    LLVMValueRef names[n + 1], nidx[n + 1], kinds[n + 1];
    for (int i = 0; i < n; i++) {
        Node *site = m->fn.sites.items[i];
        names[i] = const_string(g, site->sample.as_name);
        nidx[i] = const_int(g, site->sample.indices.len);
        kinds[i] = const_int(g, runtime_kind(site->type));
    }
    out[0] = const_global(g, LLVMConstArray2(g->t_ptr, names, (uint64_t)n), "site_names");
    out[1] = const_global(g, LLVMConstArray2(g->t_int, nidx, (uint64_t)n), "site_nidx");
    out[2] = const_global(g, LLVMConstArray2(g->t_int, kinds, (uint64_t)n), "site_kind");
}

static void define_descriptor(Cg *g, Node *m, LLVMValueRef resume) {
    LLVMValueRef tables[3];
    site_tables(g, m, tables);
    Type *ret = m->fn.sym->type->ret;
    LLVMValueRef f[10] = {const_string(g, m->fn.name), resume, const_int(g, g->frame_bytes),
                          const_int(g, runtime_kind(ret)), const_int(g, m->fn.sites.len),
                          tables[0], tables[1], tables[2], const_int(g, m->fn.params.len),
                          const_int(g, has_potential(m->fn.body))};
    LLVMSetInitializer(m->fn.sym->cg, LLVMConstStructInContext(g->ctx, f, 10, 0));
}

/* A bool result is widened to 8 bytes in the frame's return field (real and int results
 * are stored there directly). */
static void store_model_result(Cg *g, const Type *ret) {
    if (!g->ret_slot || ret->kind != TY_BOOL) return;
    LLVMValueRef v = LLVMBuildLoad2(g->b, llvm_type(g, ret), g->ret_slot, "ret");
    if (ret->kind == TY_BOOL) v = LLVMBuildZExt(g->b, v, g->t_int, "");
    LLVMValueRef off = const_int(g, RT_FRAME_RETURN);
    LLVMBuildStore(g->b, v, LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), g->frame, &off, 1, ""));
}


/* The model body's last checkpoint, when it is a statement of the body itself after which
 * nothing can suspend: suspending there would only let SMC resample between its weight
 * and the removal of the last potential at the end, which adds variance and nothing else. */
static Node *last_checkpoint(Node *body) {
    PtrVec *stmts = &body->block.stmts;
    if (has_checkpoint(body->block.value)) return NULL;
    for (int i = stmts->len - 1; i >= 0; i--) {
        Node *s = stmts->items[i];
        if (!has_checkpoint(s)) continue;
        return is_checkpoint(s) ? s : NULL;
    }
    return NULL;
}

/* i32 resume(frame, particle): a switch on the saved state jumps to the start or to the
 * statement after the checkpoint where the model stopped. Every variable lives in the frame. */
static void define_model(Cg *g, Node *m) {
    char name[512];
    snprintf(name, sizeof name, "ppl.resume.%s", m->fn.name);
    g->fn = LLVMAddFunction(g->mod, name, resume_type(g));
    LLVMSetLinkage(g->fn, LLVMInternalLinkage);
    g->frame = LLVMGetParam(g->fn, 0);
    g->particle = LLVMGetParam(g->fn, 1);
    g->frame_bytes = RT_FRAME_VARS;
    g->nstates = 0;
    g->final_checkpoint = last_checkpoint(m->fn.body);
    position(g, new_block(g, "entry"));
    LLVMValueRef args = LLVMBuildLoad2(g->b, g->t_ptr, particle_field(g, offsetof(rt_particle, args)), "args");
    for (int i = 0; i < m->fn.params.len; i++) {
        Param *p = m->fn.params.items[i];
        LLVMValueRef off = const_int(g, 8 * i);
        p->sym->cg = LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), args, &off, 1, p->name);
    }
    LLVMBasicBlockRef start = new_block(g, "start");
    g->dispatch = LLVMBuildSwitch(g->b, LLVMBuildLoad2(g->b, g->t_int, g->frame, "state"), start, 4);
    position(g, start);
    Type *ret = m->fn.sym->type->ret;
    g->ret_bb = new_block(g, "return");
    g->ret_slot = !has_value(ret) ? NULL : ret->kind == TY_BOOL ? entry_alloca(g, g->t_bool, "ret")
                : frame_field(g, RT_FRAME_RETURN, "ret");
    LLVMValueRef v = cg_expr(g, m->fn.body);
    if (g->ret_slot && v && !LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b)))
        LLVMBuildStore(g->b, v, g->ret_slot);
    branch_to(g, g->ret_bb);
    position(g, g->ret_bb);
    store_model_result(g, ret);
    LLVMBuildRet(g->b, LLVMConstInt(LLVMInt32TypeInContext(g->ctx), 0, 0));
    define_descriptor(g, m, g->fn);
    g->frame = g->particle = NULL;
    g->final_checkpoint = NULL;
}

/* ---- gradient specializations for variational inference ----
 * In a specialization every real is a handle on the runtime's AD tape (rt_ad.h): literals
 * and data become constants, arithmetic and math builtins become tape operations, and
 * comparisons compare the values. A model's specialization takes its sample sites' values
 * from the guide and adds log densities to log p; a guide's draws reparameterized values. */

static LLVMValueRef ad_const(Cg *g, LLVMValueRef x) { return rt_call(g, RTF_rt_ad_const, &x, 1); }
static LLVMValueRef ad_value(Cg *g, LLVMValueRef h) { return rt_call(g, RTF_rt_ad_value, &h, 1); }

static LLVMValueRef ad_lift(Cg *g, LLVMValueRef v, const Type *t) {
    if (t->kind == TY_REAL) return ad_const(g, v);
    int depth;
    ty_base(t, &depth);
    LLVMValueRef args[2] = {v, const_int(g, depth)};
    return rt_call(g, RTF_rt_vi_lift_array, args, 2);
}

static LLVMValueRef ad_binary_op(Cg *g, int id, LLVMValueRef l, LLVMValueRef r) {
    LLVMValueRef args[2] = {l, r};
    return rt_call(g, id, args, 2);
}

/* An expression evaluated the ordinary way, its real result made a constant handle (for
 * what has no derivative: floor, posterior statistics). */
static LLVMValueRef ad_plain(Cg *g, Node *e) {
    g->ad = false;
    LLVMValueRef v = cg_expr(g, e);
    g->ad = true;
    return ad_const(g, v);
}

static int ad_arith_fn(TokKind op) {
    switch (op) {
    case TK_PLUS: return RTF_rt_ad_add;
    case TK_MINUS: return RTF_rt_ad_sub;
    case TK_STAR: return RTF_rt_ad_mul;
    case TK_SLASH: return RTF_rt_ad_div;
    case TK_CARET: return RTF_rt_ad_pow;
    default: return -1;
    }
}

static bool ad_binary(Cg *g, Node *e, LLVMValueRef *v) {
    if (e->binary.lhs->type->kind != TY_REAL) return false;
    TokKind op = e->binary.op;
    LLVMValueRef l = cg_expr(g, e->binary.lhs), r = cg_expr(g, e->binary.rhs);
    int fn = ad_arith_fn(op);
    *v = fn >= 0 ? ad_binary_op(g, fn, l, r) : cg_compare(g, op, true, ad_value(g, l), ad_value(g, r));
    return true;
}

static int ad_math_fn(BuiltinId id) {
    switch (id) {
    case BI_EXP: return RTF_rt_ad_exp;
    case BI_LOG: return RTF_rt_ad_log;
    case BI_SQRT: return RTF_rt_ad_sqrt;
    case BI_SIN: return RTF_rt_ad_sin;
    case BI_COS: return RTF_rt_ad_cos;
    case BI_TAN: return RTF_rt_ad_tan;
    case BI_ATAN: return RTF_rt_ad_atan;
    case BI_TANH: return RTF_rt_ad_tanh;
    case BI_LGAMMA: return RTF_rt_ad_lgamma;
    case BI_LOG1P: return RTF_rt_ad_log1p;
    case BI_EXPM1: return RTF_rt_ad_expm1;
    default: return -1;
    }
}

/* rt_ad_lpdf_D(x, params..., loc) or, for discrete D, rt_ad_lpmf_D(y, params..., loc). */
static LLVMValueRef ad_dist_call(Cg *g, Node *dist, LLVMValueRef x) {
    int kind = dist->call.dist - 1, n = dist->call.args.len, discrete = dist_sig[kind].value == 'i';
    if (!g->ad_fn[discrete][kind]) {
        LLVMTypeRef params[8];
        params[0] = g->t_int;
        for (int i = 0; i < n; i++) params[i + 1] = dist_sig[kind].params[i] == 'p' ? g->t_ptr : g->t_int;
        params[n + 1] = g->t_ptr;
        char name[128];
        snprintf(name, sizeof name, "rt_ad_%s_%s", discrete ? "lpmf" : "lpdf", dist_sig[kind].name);
        if (!strcmp(dist_sig[kind].name, "categorical")) snprintf(name, sizeof name, "rt_vi_lpmf_categorical");
        g->ad_ty[discrete][kind] = LLVMFunctionType(g->t_int, params, (unsigned)n + 2, 0);
        g->ad_fn[discrete][kind] = LLVMAddFunction(g->mod, name, g->ad_ty[discrete][kind]);
    }
    LLVMValueRef args[n + 2];
    args[0] = x;
    for (int i = 0; i < n; i++) args[i + 1] = cg_expr(g, dist->call.args.items[i]);
    args[n + 1] = loc_string(g, dist->loc);
    return LLVMBuildCall2(g->b, g->ad_ty[discrete][kind], g->ad_fn[discrete][kind], args, (unsigned)n + 2, "");
}

static void ad_unsupported(Cg *g, Node *e, const char *what) {
    char msg[160];
    snprintf(msg, sizeof msg, "vi: %s cannot be differentiated (yet)", what);
    LLVMValueRef args[2] = {loc_string(g, e->loc), LLVMBuildGlobalStringPtr(g->b, msg, "msg")};
    rt_fail_call(g, RTF_rt_fail, args, 2);
    start_dead_block(g);
}

static LLVMValueRef ad_function(Cg *g, Symbol *sym);

static bool ad_builtin(Cg *g, Node *e, LLVMValueRef *v) {
    BuiltinId id = (BuiltinId)e->call.builtin;
    bool real = e->type->kind == TY_REAL;
    int fn = ad_math_fn(id);
    if (fn >= 0) *v = rt_call(g, fn, (LLVMValueRef[]){arg(g, e, 0)}, 1);
    else if (id == BI_FLOOR || id == BI_CEIL || id == BI_SD || id == BI_QUANTILE) *v = ad_plain(g, e);
    else if (id == BI_LPDF) *v = ad_dist_call(g, e->call.args.items[0], arg(g, e, 1));
    else if (!real) return false;
    else if (id == BI_ABS) *v = rt_call(g, RTF_rt_ad_abs, (LLVMValueRef[]){arg(g, e, 0)}, 1);
    else if (arg_type(e, 0)->kind == TY_POSTERIOR) *v = ad_plain(g, e);
    else if ((id == BI_MIN || id == BI_MAX) && e->call.args.len == 2)
        *v = ad_binary_op(g, id == BI_MIN ? RTF_rt_ad_min : RTF_rt_ad_max, arg(g, e, 0), arg(g, e, 1));
    else if (id == BI_SUM) *v = rt_call(g, RTF_rt_vi_sum, (LLVMValueRef[]){arg(g, e, 0)}, 1);
    else if (id == BI_MEAN) *v = rt_call(g, RTF_rt_vi_mean, (LLVMValueRef[]){arg(g, e, 0), loc_string(g, e->loc)}, 2);
    else if (id == BI_LOGSUMEXP) *v = rt_call(g, RTF_rt_vi_logsumexp, (LLVMValueRef[]){arg(g, e, 0)}, 1);
    else ad_unsupported(g, e, "this builtin"), *v = ad_const(g, LLVMConstReal(g->t_real, 0));
    return true;
}

static bool ad_call(Cg *g, Node *e, LLVMValueRef *v) {
    if (e->call.builtin) return ad_builtin(g, e, v);
    if (e->call.dist) return false;
    Symbol *sym = e->call.callee->name.sym;
    int n = e->call.args.len;
    LLVMValueRef args[n + 1], fn = ad_function(g, sym);
    for (int i = 0; i < n; i++) args[i] = arg(g, e, i);
    LLVMValueRef r = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(fn), fn, args, (unsigned)n, "");
    *v = has_value(sym->type->ret) ? r : NULL;
    return true;
}

/* A guide site without a reparameterization (beta, gamma, ...): drawn with the parameters'
 * values, its log density (a function of the params) joins log q and the score-function
 * term of the objective (rt_vi.c), which keeps the gradient unbiased. */
static LLVMValueRef ad_score_sample(Cg *g, Node *e, LLVMValueRef idx, LLVMValueRef loc) {
    Node *d = e->sample.dist;
    int kind = d->call.dist - 1, n = d->call.args.len;
    bool discrete = dist_sig[kind].value == 'i';
    LLVMValueRef fn = dist_function(g, DIST_SAMPLE, kind), args[n + 2];
    args[0] = rt_call(g, RTF_rt_vi_rng, NULL, 0);
    for (int i = 0; i < n; i++) {
        LLVMValueRef a = cg_expr(g, d->call.args.items[i]);
        char letter = dist_sig[kind].params[i];   /* d: a handle; i: a plain int; p: handles */
        args[i + 1] = letter == 'd' ? ad_value(g, a) : letter == 'p' ? rt_call(g, RTF_rt_vi_values, &a, 1) : a;
    }
    args[n + 1] = loc;
    LLVMValueRef x = LLVMBuildCall2(g->b, g->dist_ty[DIST_SAMPLE][kind], fn, args, (unsigned)n + 2, "");
    if (!discrete) x = ad_const(g, x);
    LLVMValueRef rec[6] = {const_int(g, e->sample.pair), const_int(g, e->sample.indices.len), idx, x,
                           ad_dist_call(g, d, x), loc};
    return rt_call(g, discrete ? RTF_rt_vi_guide_score_int : RTF_rt_vi_guide_score, rec, 6);
}

/* A sample site: in the guide a reparameterized draw, in the model the guide's value. */
static LLVMValueRef ad_sample(Cg *g, Node *e) {
    int n = e->sample.indices.len;
    LLVMValueRef idx = n ? scratch_words(g, n) : LLVMConstNull(g->t_ptr);
    for (int i = 0; i < n; i++) {
        LLVMValueRef at = const_int(g, i);
        LLVMBuildStore(g->b, load_symbol(g, e->sample.indices.items[i]), LLVMBuildGEP2(g->b, g->t_int, idx, &at, 1, ""));
    }
    LLVMValueRef loc = loc_string(g, e->loc);
    if (g->ad_guide) {
        Node *d = e->sample.dist;
        const char *name = dist_sig[d->call.dist - 1].name;
        bool lognormal = strcmp(name, "lognormal") == 0;
        if (!lognormal && strcmp(name, "normal") != 0) return ad_score_sample(g, e, idx, loc);
        LLVMValueRef args[6] = {const_int(g, e->sample.pair), const_int(g, n), idx,
                                cg_expr(g, d->call.args.items[0]), cg_expr(g, d->call.args.items[1]), loc};
        return rt_call(g, lognormal ? RTF_rt_vi_guide_lognormal : RTF_rt_vi_guide_normal, args, 6);
    }
    LLVMValueRef args[4] = {const_int(g, e->sample.site), const_int(g, n), idx, loc};
    LLVMValueRef x = rt_call(g, RTF_rt_vi_model_site, args, 4);   /* a handle, or an int site's value */
    LLVMValueRef lp = ad_dist_call(g, e->sample.dist, x);
    rt_call(g, RTF_rt_vi_add_logp, &lp, 1);
    return x;
}

static bool cg_ad_expr(Cg *g, Node *e, LLVMValueRef *v) {
    switch (e->kind) {
    case N_REAL: *v = ad_const(g, LLVMConstReal(g->t_real, e->rval)); return true;
    case N_CONVERT: *v = ad_const(g, LLVMBuildSIToFP(g->b, cg_expr(g, e->binary.lhs), g->t_real, "")); return true;
    case N_UNARY:
        if (e->type->kind != TY_REAL) return false;
        *v = rt_call(g, RTF_rt_ad_neg, (LLVMValueRef[]){cg_expr(g, e->binary.lhs)}, 1);
        return true;
    case N_BINARY: return ad_binary(g, e, v);
    case N_CALL: return ad_call(g, e, v);
    case N_SAMPLE: *v = ad_sample(g, e); return true;
    case N_FIELD:
        if (e->type->kind != TY_REAL) return false;
        *v = ad_plain(g, e);
        return true;
    case N_INFER:
        ad_unsupported(g, e, "infer");
        *v = LLVMConstNull(g->t_ptr);
        return true;
    default: return false;
    }
}

static int gparam_index(Node *guide, Node *decl) {
    for (int i = 0; i < guide->fn.gparams.len; i++)
        if (guide->fn.gparams.items[i] == decl) return i;
    return -1;
}

/* observe and reward add to log p; potentials only steer SMC; params are the tape's inputs. */
static bool cg_ad_stmt(Cg *g, Node *s) {
    LLVMValueRef v;
    switch (s->kind) {
    case N_OBSERVE:
        v = ad_dist_call(g, s->observe.dist, cg_expr(g, s->observe.value));
        rt_call(g, RTF_rt_vi_add_logp, &v, 1);
        return true;
    case N_REWARD:
        v = cg_expr(g, s->stmt.expr);
        rt_call(g, RTF_rt_vi_add_logp, &v, 1);
        return true;
    case N_POTENTIAL: return true;
    case N_PARAM_DECL:
        v = const_int(g, gparam_index(g->ad_guide, s));
        bind_symbol(g, s->let.sym, rt_call(g, RTF_rt_vi_param, &v, 1));
        return true;
    default: return false;
    }
}

/* The specialization of a function, declared on first use and defined later (drain). */
static LLVMValueRef ad_function(Cg *g, Symbol *sym) {
    char name[512];
    snprintf(name, sizeof name, "ppl.ad.%s", sym->name);
    LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
    if (fn) return fn;
    Type *t = sym->type;
    LLVMTypeRef params[t->nparams + 1];
    for (int i = 0; i < t->nparams; i++) params[i] = llvm_type(g, t->params[i]);
    fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(llvm_type(g, t->ret), params, (unsigned)t->nparams, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    vec_push(&g->names, &g->ad_queue, sym);
    return fn;
}

static void drain_ad_functions(Cg *g) {
    g->ad = true;
    for (int i = 0; i < g->ad_queue.len; i++) {
        Symbol *sym = g->ad_queue.items[i];
        define_fn_as(g, sym->decl, ad_function(g, sym));
    }
    g->ad_queue.len = 0;
    g->ad = false;
}

/* Reads the args block into the parameters' storage (reals lifted in a specialization). */
static void bind_args(Cg *g, Node *def, LLVMValueRef args) {
    for (int i = 0; i < def->fn.params.len; i++) {
        Param *p = def->fn.params.items[i];
        LLVMValueRef off = const_int(g, 8 * i);
        LLVMValueRef at = LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), args, &off, 1, "");
        LLVMTypeRef plain = p->type->kind == TY_REAL ? g->t_real : llvm_type(g, p->type);
        LLVMValueRef v = LLVMBuildLoad2(g->b, plain, at, p->name);
        bind_symbol(g, p->sym, g->ad && holds_real(p->type) ? ad_lift(g, v, p->type) : v);
    }
}

static LLVMValueRef void_function(Cg *g, const char *fmt, const char *name, int nparams) {
    char full[512];
    snprintf(full, sizeof full, fmt, name);
    LLVMTypeRef params[2] = {g->t_ptr, g->t_ptr};
    LLVMValueRef fn = LLVMAddFunction(g->mod, full, LLVMFunctionType(g->t_void, params, (unsigned)nparams, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    return fn;
}

/* void model_ad(args): the body on the tape; the return value goes to rt_vi_return. */
static LLVMValueRef define_ad_model(Cg *g, Node *m) {
    Type *ret = m->fn.sym->type->ret;
    g->ad = true;
    LLVMValueRef fn = void_function(g, "ppl.ad.model.%s", m->fn.name, 1);
    begin_function(g, fn, ret);
    bind_args(g, m, LLVMGetParam(fn, 0));
    LLVMValueRef v = cg_expr(g, m->fn.body);
    if (g->ret_slot && v && !LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b))) LLVMBuildStore(g->b, v, g->ret_slot);
    branch_to(g, g->ret_bb);
    position(g, g->ret_bb);
    if (g->ret_slot) {
        LLVMValueRef r = LLVMBuildLoad2(g->b, llvm_type(g, ret), g->ret_slot, "ret");
        if (ret->kind == TY_REAL) rt_call(g, RTF_rt_vi_return, &r, 1);
        else rt_call(g, RTF_rt_vi_return_value, (LLVMValueRef[]){LLVMBuildUIToFP(g->b, r, g->t_real, "")}, 1);
    }
    LLVMBuildRetVoid(g->b);
    g->ad = false;
    return fn;
}

static LLVMValueRef define_ad_guide(Cg *g, Node *q) {
    g->ad = true;
    g->ad_guide = q;
    LLVMValueRef fn = void_function(g, "ppl.ad.guide.%s", q->fn.name, 1);
    begin_function(g, fn, ty_unit);
    bind_args(g, q, LLVMGetParam(fn, 0));
    cg_expr(g, q->fn.body);
    end_function(g, ty_unit);
    g->ad_guide = NULL;
    g->ad = false;
    return fn;
}

/* void init(args, out): the params' initial values, in order (each may use earlier ones). */
static LLVMValueRef define_guide_init(Cg *g, Node *q) {
    LLVMValueRef fn = void_function(g, "ppl.vi.init.%s", q->fn.name, 2);
    begin_function(g, fn, ty_unit);
    bind_args(g, q, LLVMGetParam(fn, 0));
    for (int k = 0; k < q->fn.gparams.len; k++) {
        Node *d = q->fn.gparams.items[k];
        LLVMValueRef v = cg_expr(g, d->let.init), at = const_int(g, k);
        bind_symbol(g, d->let.sym, v);
        LLVMBuildStore(g->b, v, LLVMBuildGEP2(g->b, g->t_real, LLVMGetParam(fn, 1), &at, 1, ""));
    }
    end_function(g, ty_unit);
    return fn;
}

/* The rt_vi_problem of a guide and the model it is paired with, in the guide's symbol. */
static void define_vi_problem(Cg *g, Node *q) {
    Node *m = q->fn.paired;
    char name[512];
    snprintf(name, sizeof name, "ppl.ad.model.%s", m->fn.name);
    LLVMValueRef model_ad = LLVMGetNamedFunction(g->mod, name);
    if (!model_ad) model_ad = define_ad_model(g, m);
    LLVMValueRef guide_ad = define_ad_guide(g, q), init = define_guide_init(g, q);
    drain_ad_functions(g);
    int n = q->fn.gparams.len;
    LLVMValueRef names[n + 1];
    for (int k = 0; k < n; k++) names[k] = const_string(g, ((Node *)q->fn.gparams.items[k])->let.name);
    LLVMValueRef f[7] = {m->fn.sym->cg, model_ad, guide_ad, init, const_int(g, n),
                         const_global(g, LLVMConstArray2(g->t_ptr, names, (uint64_t)n), "param_names"),
                         const_string(g, q->fn.name)};
    q->fn.sym->cg = const_global(g, LLVMConstStructInContext(g->ctx, f, 7, 0), "ppl.vi");
}

/* ---- globals, data and the entry point ---- */

static LLVMValueRef pointer_default(Cg *g, const Type *t) {
    return t->kind == TY_STRING ? g->empty_string : g->empty_array;
}

/* Top-level let/var/data become internal globals; pointers start as an empty value. */
static void declare_global(Cg *g, Symbol *sym) {
    if (!sym || sym->cg || !has_value(sym->type)) return;
    LLVMTypeRef t = llvm_type(g, sym->type);
    char name[512];
    snprintf(name, sizeof name, "ppl.global.%s", sym->name);
    LLVMValueRef gv = LLVMAddGlobal(g->mod, t, name);
    LLVMSetLinkage(gv, LLVMInternalLinkage);
    LLVMSetInitializer(gv, ty_has_pointers(sym->type) ? pointer_default(g, sym->type) : LLVMConstNull(t));
    sym->cg = gv;
}

static void make_empty_values(Cg *g) {
    LLVMValueRef zeros[2] = {const_int(g, 0), const_int(g, 0)};
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
    if (depth > 0) {
        LLVMValueRef args[4] = {name, const_int(g, kind), const_int(g, depth), loc};
        return rt_call(g, RTF_rt_data_array, args, 4);
    }
    LLVMValueRef args[2] = {name, loc};
    if (base->kind == TY_REAL) return rt_call(g, RTF_rt_data_real, args, 2);
    if (base->kind == TY_INT) return rt_call(g, RTF_rt_data_int, args, 2);
    return LLVMBuildICmp(g->b, LLVMIntNE, rt_call(g, RTF_rt_data_bool, args, 2), const_int(g, 0), "");
}

/* data x: T [= default]: the --data value when present, else the default. */
static void cg_data(Cg *g, Node *d) {
    Symbol *sym = d->let.sym;
    if (!sym || !sym->cg) return;
    LLVMValueRef name = LLVMBuildGlobalStringPtr(g->b, d->let.name, "name");
    LLVMValueRef loc = loc_string(g, d->loc);
    if (!d->let.init) {
        LLVMBuildStore(g->b, data_read(g, d->let.ann, name, loc), sym->cg);
        return;
    }
    LLVMValueRef has = rt_call(g, RTF_rt_data_has, &name, 1);
    LLVMBasicBlockRef given = new_block(g, "data.given"), dflt = new_block(g, "data.default"),
                      done = new_block(g, "data.done");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, has, const_int(g, 0), ""), given, dflt);
    position(g, given);
    LLVMBuildStore(g->b, data_read(g, d->let.ann, name, loc), sym->cg);
    LLVMBuildBr(g->b, done);
    position(g, dflt);
    LLVMBuildStore(g->b, cg_expr(g, d->let.init), sym->cg);
    branch_to(g, done);
    position(g, done);
}

static Symbol *global_symbol(Node *n) {
    if (n->kind == N_DATA || (n->kind == N_LET)) return n->let.sym;
    return NULL;
}

static void register_roots(Cg *g, Program *prog) {
    for (int i = 0; i < prog->items.len; i++) {
        Symbol *sym = global_symbol(prog->items.items[i]);
        if (sym && sym->cg && ty_has_pointers(sym->type)) rt_call(g, RTF_rt_gc_root, (LLVMValueRef *)&sym->cg, 1);
    }
}

/* REPL display: `name : type = value` (name "-" for an expression's value). */
static void display(Cg *g, const char *name, const Type *t, LLVMValueRef v) {
    const char *fmt = t->kind == TY_POSTERIOR ? "%s : %s =\n" : "%s : %s = ";
    LLVMValueRef head = LLVMBuildGlobalStringPtr(g->b, arena_printf(&g->names, fmt, name, ty_name(&g->names, t)), "show");
    rt_call(g, RTF_rt_print_string, &head, 1);
    cg_print_value(g, v, t);
    rt_call(g, RTF_rt_print_newline, NULL, 0);
}

/* A top-level statement; in a REPL cell, lets and expressions show their values. */
static void cg_top_stmt(Cg *g, Node *n) {
    if (g->session && n->kind == N_EXPR_STMT && has_value(n->stmt.expr->type)) {
        display(g, "-", n->stmt.expr->type, cg_expr(g, n->stmt.expr));
        return;
    }
    cg_stmt(g, n);
    if (g->session && n->kind == N_LET && n->let.sym && has_value(n->let.sym->type))
        display(g, n->let.name, n->let.sym->type, load_symbol(g, n->let.sym));
}

static LLVMValueRef define_main(Cg *g, Program *prog) {
    LLVMValueRef fn = LLVMAddFunction(g->mod, "ppl.main", LLVMFunctionType(g->t_void, NULL, 0, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    begin_function(g, fn, ty_unit);
    register_roots(g, prog);
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_DATA) cg_data(g, n);
        else if (n->kind != N_FN && n->kind != N_MODEL && n->kind != N_GUIDE) cg_top_stmt(g, n);
    }
    end_function(g, ty_unit);
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
    begin_function(g, fn, ty_unit);
    for (int i = 0; i < m->fn.params.len; i++) {
        Param *p = m->fn.params.items[i];
        Node *d = data_named(prog, p->name);
        int depth;
        if (ty_base(p->type, &depth)->kind == TY_STRING) {
            LLVMValueRef args[2] = {loc_string(g, p->loc),
                LLVMBuildGlobalStringPtr(g->b, "string parameters cannot be read from --data", "msg")};
            rt_fail_call(g, RTF_rt_fail, args, 2);
            start_dead_block(g);
            continue;
        }
        LLVMValueRef v = d && ty_equal(d->let.ann, p->type) ? load_symbol(g, d->let.sym)
                       : data_read(g, p->type, LLVMBuildGlobalStringPtr(g->b, p->name, "name"), loc_string(g, p->loc));
        LLVMValueRef off = const_int(g, 8 * i);
        LLVMBuildStore(g->b, v, LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), LLVMGetParam(fn, 0), &off, 1, ""));
    }
    end_function(g, ty_unit);
    return fn;
}

static bool is_statement(const Node *n) {
    return n->kind != N_FN && n->kind != N_MODEL && n->kind != N_GUIDE && n->kind != N_DATA;
}

/* const rt_program ppl_program = { main, is_script, nmodels, models } */
static void define_program(Cg *g, Program *prog, LLVMValueRef main_fn) {
    LLVMTypeRef entry_fields[5] = {g->t_ptr, g->t_ptr, g->t_int, g->t_int, g->t_ptr};
    LLVMTypeRef entry_ty = LLVMStructTypeInContext(g->ctx, entry_fields, 5, 0);
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
        LLVMValueRef f[5] = {n->fn.sym->cg, define_bind_args(g, prog, n), const_int(g, n->fn.params.len),
                             const_int(g, nguides),
                             const_global(g, LLVMConstArray2(g->t_ptr, guides, (uint64_t)nguides), "guides")};
        entries[nmodels++] = LLVMConstStructInContext(g->ctx, f, 5, 0);
    }
    LLVMValueRef table = const_global(g, LLVMConstArray2(entry_ty, entries, (uint64_t)nmodels), "ppl.models");
    LLVMValueRef f[4] = {main_fn, const_int(g, script || nmodels == 0), const_int(g, nmodels), table};
    LLVMValueRef init = LLVMConstStructInContext(g->ctx, f, 4, 0);
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
    return g.mod;
}

/* ---- REPL cells ---- */

/* An 8-byte session value as a value of type t, and back (rt_session.c stores int64s). */
static LLVMValueRef from_bits(Cg *g, LLVMValueRef bits, const Type *t) {
    switch (t->kind) {
    case TY_REAL: return LLVMBuildBitCast(g->b, bits, g->t_real, "");
    case TY_BOOL: return LLVMBuildICmp(g->b, LLVMIntNE, bits, const_int(g, 0), "");
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
    if (!sym || !sym->cg || !has_value(sym->type)) return;
    LLVMValueRef name = LLVMBuildGlobalStringPtr(g->b, sym->name, "name");
    if (store) {
        LLVMValueRef args[2] = {name, to_bits(g, load_symbol(g, sym), sym->type)};
        rt_call(g, RTF_rt_session_store, args, 2);
    } else {
        LLVMBuildStore(g->b, from_bits(g, rt_call(g, RTF_rt_session_load, &name, 1), sym->type), sym->cg);
        if (ty_has_pointers(sym->type)) rt_call(g, RTF_rt_gc_root, (LLVMValueRef *)&sym->cg, 1);
    }
}

/* void entry(): loads the earlier cells' globals, runs the cell, stores every global back
 * (a cell stopped by an error stores nothing, so it changes no global). */
static void define_entry(Cg *g, Program *prog, SessionGlobal *sg, int n, LLVMValueRef main_fn, const char *entry) {
    LLVMValueRef fn = LLVMAddFunction(g->mod, entry, LLVMFunctionType(g->t_void, NULL, 0, 0));
    begin_function(g, fn, ty_unit);
    for (int i = 0; i < n; i++) session_transfer(g, sg[i].sym, false);
    LLVMBuildCall2(g->b, LLVMGlobalGetValueType(main_fn), main_fn, NULL, 0, "");
    for (int i = 0; i < n; i++) session_transfer(g, sg[i].sym, true);
    for (int i = 0; i < prog->items.len; i++) session_transfer(g, global_symbol(prog->items.items[i]), true);
    end_function(g, ty_unit);
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
    return g.mod;
}

/* Declares every function, model and global, then defines the models and functions. */
static void define_all(Cg *g, Program *prog) {
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_FN) declare_fn(g, n);
        else if (n->kind == N_MODEL) declare_model(g, n);
        else declare_global(g, global_symbol(n));
    }
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_MODEL) define_model(g, n);
    }
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_GUIDE && n->fn.paired) define_vi_problem(g, n);
    }
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_FN) define_fn(g, n);
    }
}
