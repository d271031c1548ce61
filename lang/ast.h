/* ast.h - the syntax tree produced by the parser and annotated by the checker.
 * One Node struct for items, statements and expressions; NODE_KINDS is the single list of kinds. */
#ifndef PPL_AST_H
#define PPL_AST_H
#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "diag.h"
#include "lex.h"
#include "types.h"

/* X(kind, name-for-dumps) */
#define NODE_KINDS(X) \
    /* expressions */ \
    X(INT, "int") X(REAL, "real") X(BOOL, "bool") X(STRING, "string") X(NAME, "name") \
    X(UNARY, "unary") X(BINARY, "binary") X(CALL, "call") X(INDEX, "index") X(FIELD, "field") \
    X(ARRAY, "array") X(COMPREHENSION, "comprehension") X(IF, "if") X(BLOCK, "block") \
    X(SAMPLE, "sample") X(INFER, "infer") \
    X(CONVERT, "convert") /* int -> real, inserted by the checker; operand in binary.lhs */ \
    /* statements */ \
    X(LET, "let") X(ASSIGN, "assign") X(EXPR_STMT, "expr") X(FOR, "for") X(WHILE, "while") \
    X(RETURN, "return") X(BREAK, "break") X(CONTINUE, "continue") \
    X(OBSERVE, "observe") X(REWARD, "reward") X(POTENTIAL, "potential") X(CONDITION, "condition") \
    /* items */ \
    X(FN, "fn") X(MODEL, "model") X(GUIDE, "guide") X(OBJECTIVE, "objective") X(DATA, "data") \
    X(PARAM_DECL, "param")

typedef enum NodeKind {
#define X(k, s) N_##k,
    NODE_KINDS(X)
#undef X
} NodeKind;

typedef struct Node Node;
typedef struct Symbol Symbol;

/* How a guide site's draw enters the gradient (§9.11): the default is REPARAM for normal
 * and lognormal sites and SCORE for the others. */
typedef enum Estimator { EST_DEFAULT, EST_REPARAM, EST_SCORE, EST_ENUM } Estimator;

typedef enum SymKind { SYM_LOCAL, SYM_PARAM, SYM_GLOBAL, SYM_FN, SYM_MODEL, SYM_GUIDE, SYM_OBJECTIVE } SymKind;

/* What a name refers to; made by the checker, read by the code generator. */
struct Symbol {
    SymKind kind;
    const char *name;
    Type *type;
    bool is_var;        /* assignable (declared with `var`) */
    Loc loc;            /* of the declaration */
    Node *decl;         /* NULL for a global carried over from an earlier REPL cell */
    void *cg;           /* code generator's storage: alloca, global or function */
    const char *used_by;   /* a global: the first function or model that reads it */
    bool reads_sites, reads_draws;   /* a posterior whose sites, or draws, the program may read */
};

/* A function or model parameter (`x: real`) */
typedef struct Param { const char *name; Type *type; Loc loc; Symbol *sym; } Param;

struct Node {
    NodeKind kind;
    Loc loc;
    Type *type;          /* expressions: set by the checker */
    union {
        long long ival;                  /* INT */
        double rval;                     /* REAL */
        bool bval;                       /* BOOL */
        struct { const char *s; int len; } str;                     /* STRING (decoded) */
        struct { const char *name; Symbol *sym; } name;             /* NAME */
        struct { TokKind op; Node *lhs, *rhs; } binary;             /* BINARY; UNARY uses lhs */
        /* CALL: callee is a NAME; argnames[i] is NULL for positional args, else the name
         * of a named argument (`particles = 100`). The checker sets builtin (a BuiltinId, 0 = none)
         * or dist (a distribution constructor: its rt_dist_kind + 1, 0 = none). */
        struct { Node *callee; PtrVec args; PtrVec argnames; int builtin; int dist; } call;
        struct { Node *base, *index, *col, *third; } index;   /* INDEX base[index], a mat's or tensor's base[index, col], a tensor's base[index, col, third] */
        struct { Node *base; const char *field; } field;            /* FIELD */
        struct { PtrVec elems; } array;                             /* ARRAY literal */
        /* COMPREHENSION [body for var in lo .. hi] */
        struct { Node *body; const char *var; Node *lo, *hi; Symbol *sym; } compr;
        struct { Node *cond, *then, *els; } if_;                    /* IF; els may be NULL */
        /* BLOCK: statements; value is the trailing expression statement's expr or NULL */
        struct { PtrVec stmts; Node *value; } block;
        /* SAMPLE dist [as "name"] [by "estimator"]: the checker sets the model-wide site id,
         * the loop variables (Symbol*) whose values index the site's address, outermost
         * first, and in a guide the gradient estimator (an Estimator). */
        struct { Node *dist; const char *as_name, *by; Loc by_loc; int site; PtrVec indices; int pair;
                 int estimator; } sample;
        /* INFER model_call by method(options); the checker fills in the method (an rt_method,
         * rt_methods.h) and, by rt_option, each option's value (opt[k], NULL: the default)
         * and for a choice or call its value's number (choice[k], the default when not
         * given); guide and objective_sym are the symbols they name (the default objective);
         * drop_sites, drop_draws: trace's and draws' defaults are false, the program reading no
         * site, no draw (site_reads.c). */
        struct { Node *model_call, *method; int kind; Node **opt; int64_t *choice;
                 Symbol *guide, *objective_sym; bool drop_sites, drop_draws; } infer;
        /* LET / DATA / PARAM_DECL: `let x: T = init`, `var x = init`, `data x: T = default`,
         * `param x: T = init`. ann (the annotation) and init may be NULL. */
        struct { const char *name; bool is_var; Type *ann; Node *init; Symbol *sym; } let;
        struct { Node *target, *value; } assign;                    /* ASSIGN target = value */
        /* EXPR_STMT, RETURN (expr may be NULL), REWARD, POTENTIAL, CONDITION */
        struct { Node *expr; } stmt;
        struct { const char *var; Node *lo, *hi, *body; Symbol *sym; } for_;   /* FOR */
        struct { Node *cond, *body; } while_;                       /* WHILE */
        struct { Node *value, *dist; } observe;                     /* OBSERVE value ~ dist */
        /* FN / MODEL: params is a vector of Param*; ret may be NULL (unit) */
        /* models and guides also get their sample sites (Node* of N_SAMPLE, by site id);
         * guides their `param` declarations (Node* of N_PARAM_DECL, in order) and the model
         * they were paired with by a vi infer (its sites pair with theirs by address);
         * objectives whether a vi uses them (only those are compiled) */
        struct { const char *name; PtrVec params; Type *ret; Node *body; Symbol *sym; PtrVec sites;
                 PtrVec gparams; Node *paired; bool used; } fn;
    };
};

/* A parsed file: items (fn, model, data) and top-level statements, in source order. */
typedef struct Program { PtrVec items; } Program;

Node *ast_new(Arena *a, NodeKind kind, Loc loc);
const char *ast_kind_name(NodeKind k);
bool ast_is_definition(const Node *n);   /* fn, model, guide or objective */
void ast_dump(const Program *p);   /* --dump-ast: an indented tree on stdout */

#endif
