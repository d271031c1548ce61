/* cg.h - the code generator's internal header, shared by codegen.c, cg_model.c and cg_ad.c:
 * the Cg state, the runtime-function and distribution tables, and the helpers the files share. */
#ifndef PPL_CG_H
#define PPL_CG_H
#include "codegen.h"
#include "builtins.h"
#include "rt_abi.h"
#include "rt_dist_table.h"
#include <stdbool.h>
#include <stdint.h>

/* Runtime functions by RT_ABI row: RTF_rt_print_real, ... (declared on first use, codegen.c). */
enum {
#define X(name, ret, params) RTF_##name,
    RT_ABI(X)
#undef X
    RTF_COUNT
};

/* Distributions by kind (the order of RT_DISTRIBUTIONS): the name, the value's ABI letter
 * ('d' or 'i'), the parameters' ABI letters and the support (RT_SUPPORT_*). */
#define X(...) + 1
enum { DIST_COUNT = 0 RT_DISTRIBUTIONS(X) };
#undef X
typedef struct { const char *name; char value; const char *params; int support; } CgDistSig;
extern const CgDistSig cg_dist_sig[DIST_COUNT];
enum { DIST_SAMPLE, DIST_LPDF };

typedef struct Cg {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMTypeRef t_real, t_int, t_bool, t_ptr, t_void;
    LLVMValueRef fn;                       /* the function being emitted */
    LLVMValueRef cx;                       /* its evaluation context (rt_ctx *), or NULL: cg_ctx */
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
    int in_branch;                         /* inside branches of an `if` that joins at a checkpoint */
    bool session;                          /* a REPL cell: show values of top-level lets and expressions */
    bool replay;                           /* emitting a model's replay function (cg_sample) */
    bool ad;                               /* a gradient specialization: reals are tape handles (i64) */
    bool calls_fn;                         /* the function being emitted calls a ppl function */
    Node *ad_guide;                        /* the guide whose specialization is being emitted */
    PtrVec ad_queue;                       /* functions whose specializations are still to define */
    /* globals of reals lifted to handles at the entry of a specialization, once per call */
    struct CgLift { Symbol *sym; LLVMValueRef fn, slot; } *lifts;
    int nlifts, lifts_cap;
    LLVMValueRef ad_fn[2][DIST_COUNT];     /* rt_ad_lpdf_D / rt_ad_lpmf_D, declared on use */
    LLVMTypeRef ad_ty[2][DIST_COUNT];
    Arena names;                           /* type names for those displays */
} Cg;

/* ---- codegen.c: types and small helpers ---- */
LLVMTypeRef cg_llvm_type(Cg *g, const Type *t);
bool cg_has_value(const Type *t);
LLVMValueRef cg_const_int(Cg *g, long long v);
LLVMBasicBlockRef cg_new_block(Cg *g, const char *name);
void cg_position(Cg *g, LLVMBasicBlockRef bb);
void cg_branch_to(Cg *g, LLVMBasicBlockRef bb);
void cg_start_dead_block(Cg *g);
LLVMBuilderRef cg_entry_builder(Cg *g);
LLVMValueRef cg_entry_alloca(Cg *g, LLVMTypeRef t, const char *name);   /* 8 bytes; a frame slot in a model */
LLVMValueRef cg_stack_alloca(Cg *g, LLVMTypeRef t, const char *name);
LLVMValueRef cg_scratch_words(Cg *g, int n);
LLVMValueRef cg_loc_string(Cg *g, Loc loc);
LLVMValueRef cg_const_global(Cg *g, LLVMValueRef init, const char *name);
LLVMValueRef cg_const_string(Cg *g, const char *s);
/* The evaluation context generated code passes on (rt_infer.h's rt_ctx): a function's or a
 * model's own, or at the top level rt_root_ctx(), called once in the entry block. */
LLVMValueRef cg_ctx(Cg *g);

/* ---- codegen.c: runtime calls, variables, expressions, statements, functions ---- */
LLVMValueRef cg_rt_call(Cg *g, int id, LLVMValueRef *args, int n);
void cg_rt_fail_call(Cg *g, int id, LLVMValueRef *args, int n);
void cg_fail_if(Cg *g, LLVMValueRef cond, Loc loc, const char *msg);
bool cg_holds_real(const Type *t);
LLVMValueRef cg_load_symbol(Cg *g, Symbol *sym);
void cg_bind_symbol(Cg *g, Symbol *sym, LLVMValueRef v);
LLVMValueRef cg_compare(Cg *g, TokKind op, bool real, LLVMValueRef l, LLVMValueRef r);
int cg_small_exponent(const Node *r);   /* 2, 3 or 4 for x^2, x^3, x^4 (products), else 0 */
LLVMValueRef cg_arg(Cg *g, Node *e, int i);
const Type *cg_arg_type(Node *e, int i);
LLVMValueRef cg_dist_build_call(Cg *g, int which, int kind, LLVMValueRef *args);
LLVMValueRef cg_dist_call(Cg *g, Node *dist, int which, LLVMValueRef first);
LLVMValueRef cg_expr(Cg *g, Node *e);
LLVMValueRef cg_mat_index(Cg *g, Node *e);
/* cg_tensor.c: tensors in plain code and (g->ad) in gradient code */
bool cg_is_tensor_call(Node *e);
LLVMValueRef cg_tensor_builtin(Cg *g, Node *e, BuiltinId id);
LLVMValueRef cg_tensor_binary(Cg *g, Node *e);
LLVMValueRef cg_tensor_neg(Cg *g, Node *e);
LLVMValueRef cg_tensor_index(Cg *g, Node *e);
bool cg_is_tensor_observe(const Node *s);
LLVMValueRef cg_tensor_observe(Cg *g, Node *s);   /* the log density term */
void cg_stmt(Cg *g, Node *s);
void cg_begin_function(Cg *g, LLVMValueRef fn, const Type *ret);
void cg_end_function(Cg *g, const Type *ret);
void cg_define_fn_as(Cg *g, Node *f, LLVMValueRef fn);

/* ---- cg_model.c: models as resumable frames ---- */
LLVMValueRef cg_frame_field(Cg *g, int64_t offset, const char *name);
/* A sample site's loop indices in scratch words (NULL outside loops). */
LLVMValueRef cg_site_indices(Cg *g, Node *e);
LLVMValueRef cg_sample(Cg *g, Node *e);
void cg_observe(Cg *g, Node *s);
LLVMValueRef cg_observe_array(Cg *g, Node *s);
void cg_reward(Cg *g, Node *s);
void cg_potential(Cg *g, Node *s);
void cg_condition(Cg *g, Node *s);
/* An `if` whose branches can weight, in a model's frames: its branches do not suspend, and
 * every particle meets one checkpoint where they join, whichever branch it took. */
bool cg_if_joins(Cg *g, Node *e);
void cg_if_join(Cg *g, Node *e);
LLVMValueRef cg_infer(Cg *g, Node *e);
LLVMValueRef cg_model_builtin(Cg *g, Node *e);   /* logp and predict */
LLVMTypeRef cg_struct_type(LLVMContextRef ctx, const char *letters);
LLVMValueRef cg_const_struct(Cg *g, const char *letters, LLVMValueRef *f);
void cg_declare_model(Cg *g, Node *m);
void cg_define_model(Cg *g, Node *m);

/* ---- cg_ad.c: gradient specializations for variational inference ---- */
LLVMValueRef cg_ad_lift(Cg *g, LLVMValueRef v, const Type *t);
LLVMValueRef cg_ad_lower(Cg *g, Node *e, LLVMValueRef v);
bool cg_ad_expr(Cg *g, Node *e, LLVMValueRef *v);
bool cg_ad_stmt(Cg *g, Node *s);
void cg_declare_vi(Cg *g, Node *n);   /* a paired guide's rt_vi_problem, a used objective's */
void cg_define_vi_problem(Cg *g, Node *q);
LLVMValueRef cg_define_model_ad(Cg *g, Node *m);   /* void ppl.ad.model.M(ctx, args) */
void cg_define_objective(Cg *g, Node *o);

#endif
