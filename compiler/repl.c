/* repl.c - the interactive session: cells read with readline, each compiled to its own module
 * and added to one LLJIT; definitions and top-level variables persist from cell to cell.
 *
 * Every cell's module holds the current version of every function and model, re-parsed
 * from the cells that defined them, so redefining a function takes effect everywhere,
 * callers defined earlier included, and a redefinition that breaks a caller is refused by
 * the checker like any type error. Top-level variables live in the runtime's session table
 * (rt_session.c) between cells. Modules are never removed from the JIT. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <readline/history.h>
#include <readline/readline.h>
#include "backend.h"
#include "builtins.h"
#include "check.h"
#include "codegen.h"
#include "lex.h"
#include "parse.h"
#include "repl.h"
#include "rt.h"
#include "rt_dist_table.h"
#include "rt_repl.h"

extern const char ppl_prelude_source[];

typedef struct Definition { const char *name; int cell; } Definition;

typedef struct Session {
    Arena arena;                   /* lives as long as the session: sources, names, types */
    Source *prelude;
    PtrVec cells;                  /* Source* of every cell that ran, by number */
    Definition *defs;              /* the current function or model of each name */
    int ndefs, defs_cap;
    SessionGlobal *globals;        /* top-level variables */
    int nglobals, globals_cap;
    LLVMOrcLLJITRef jit;
    int modules;                   /* cells compiled so far: entry names stay unique */
    int inputs;                    /* cells typed so far: their names in messages */
    bool timing, interactive;
} Session;

static Session S;

/* ---- the program a cell runs in ---- */

static int find_def(const char *name) {
    for (int i = 0; i < S.ndefs; i++)
        if (strcmp(S.defs[i].name, name) == 0) return i;
    return -1;
}



/* The prelude, then the current definitions from earlier cells (not the ones the new cell
 * redefines), then the new cell's items. */
static void build_program(Arena *a, Program *prog, const Source *cell) {
    TokenList tl = lex_source(a, S.prelude);
    parse_program(a, &tl, prog);
    Program fresh = {0};
    tl = lex_source(a, cell);
    parse_program(a, &tl, &fresh);
    for (int c = 0; c < S.cells.len; c++) {
        Program old = {0};
        tl = lex_source(a, S.cells.items[c]);
        parse_program(a, &tl, &old);
        for (int i = 0; i < old.items.len; i++) {
            Node *n = old.items.items[i];
            if (!ast_is_definition(n)) continue;
            int d = find_def(n->fn.name);
            bool replaced = false;
            for (int j = 0; j < fresh.items.len; j++) {
                Node *f = fresh.items.items[j];
                replaced = replaced || (ast_is_definition(f) && strcmp(f->fn.name, n->fn.name) == 0);
            }
            if (d >= 0 && S.defs[d].cell == c && !replaced) vec_push(a, &prog->items, n);
        }
    }
    for (int i = 0; i < fresh.items.len; i++) vec_push(a, &prog->items, fresh.items.items[i]);
}

/* ---- remembering what a cell defined ---- */

static Type *clone_type(const Type *t) {
    if (t->kind == TY_ARRAY || t->kind == TY_POSTERIOR || t->kind == TY_DIST)
        return ty_wrap(&S.arena, t->kind, clone_type(t->elem));
    if (t->kind == TY_TENSOR)   /* a tensor's static shape lives in the cell's arena */
        return t->rank ? ty_tensor_shaped(&S.arena, t->rank, t->dim) : ty_tensor;
    return (Type *)t;   /* scalars are shared singletons */
}

static void remember_global(const char *name, const Type *t, bool is_var) {
    for (int i = 0; i < S.nglobals; i++)
        if (strcmp(S.globals[i].name, name) == 0) {
            S.globals[i].type = clone_type(t);
            S.globals[i].is_var = is_var;
            return;
        }
    if (S.nglobals == S.globals_cap) {
        S.globals_cap = S.globals_cap ? 2 * S.globals_cap : 16;
        S.globals = realloc(S.globals, sizeof *S.globals * (size_t)S.globals_cap);
    }
    S.globals[S.nglobals++] = (SessionGlobal){arena_strndup(&S.arena, name, strlen(name)), clone_type(t), is_var, NULL};
}

static void remember_def(const char *name, int cell) {
    int d = find_def(name);
    if (d >= 0) {
        S.defs[d].cell = cell;
        return;
    }
    if (S.ndefs == S.defs_cap) {
        S.defs_cap = S.defs_cap ? 2 * S.defs_cap : 16;
        S.defs = realloc(S.defs, sizeof *S.defs * (size_t)S.defs_cap);
    }
    S.defs[S.ndefs++] = (Definition){arena_strndup(&S.arena, name, strlen(name)), cell};
}

/* After a cell ran to its end: its definitions and top-level variables become the session's. */
static void commit(Program *prog, Source *cell) {
    int number = S.cells.len;
    vec_push(&S.arena, &S.cells, cell);
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->loc.src != cell) continue;
        if (ast_is_definition(n)) remember_def(n->fn.name, number);
        else if ((n->kind == N_LET || n->kind == N_DATA) && n->let.sym && n->let.sym->type->kind != TY_ERROR)
            remember_global(n->let.name, n->let.sym->type, n->let.sym->is_var);
    }
}

/* ---- running a cell ---- */

static jmp_buf run_jmp;
static volatile sig_atomic_t running;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

/* Runs the cell's entry; false when it stopped on a run-time error or Ctrl-C. */
static bool run_entry(void (*entry)(void)) {
    rt_interrupted = 0;
    rt_set_recovery(&run_jmp);
    running = 1;
    bool ok = setjmp(run_jmp) == 0;
    if (ok) entry();
    running = 0;
    rt_set_recovery(NULL);
    fflush(stdout);
    return ok;
}

static LLVMModuleRef compile_cell(Program *prog, LLVMOrcThreadSafeContextRef tsc, char *entry, size_t size) {
    snprintf(entry, size, "ppl.cell.%d", S.modules++);
    LLVMModuleRef mod = cg_cell(LLVMOrcThreadSafeContextGetContext(tsc), prog, S.globals, S.nglobals, entry);
    LLVMTargetMachineRef tm = backend_target_machine();
    bool ok = tm && backend_optimize(mod, tm);
    if (tm) LLVMDisposeTargetMachine(tm);
    if (!ok) LLVMDisposeModule(mod);
    return ok ? mod : NULL;
}

/* Checks, compiles and runs one cell's text; the session changes only if all succeed. */
static void run_cell(Source *cell) {
    double t0 = now_ms();
    Arena a = {0};
    Program prog = {0};
    diag_reset();
    build_program(&a, &prog, cell);
    if (diag_error_count() == 0 && check_session(&a, &prog, S.globals, S.nglobals)) {
        LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
        char entry[64];
        LLVMModuleRef mod = compile_cell(&prog, tsc, entry, sizeof entry);
        void (*fn)(void) = mod ? backend_jit_add(S.jit, mod, tsc, entry) : NULL;
        LLVMOrcDisposeThreadSafeContext(tsc);
        if (fn && run_entry(fn)) commit(&prog, cell);
    }
    else if (diag_error_count() > 0 && diag_error_outside(cell))
        fputs("note: the cell would break the definitions above, so it was not run\n", stderr);
    arena_free(&a);
    fflush(stdout);
    if (S.timing) fprintf(stderr, "time: %.1f ms\n", now_ms() - t0);
}

/* :type EXPR - the type of an expression, without running it. */
static void show_type(const char *text) {
    Arena a = {0};
    Program prog = {0};
    Source *src = source_from_string("<type>", text);
    diag_reset();
    build_program(&a, &prog, src);
    if (diag_error_count() == 0 && check_session(&a, &prog, S.globals, S.nglobals)) {
        Node *last = prog.items.len ? prog.items.items[prog.items.len - 1] : NULL;
        if (last && last->loc.src == src && last->kind == N_EXPR_STMT)
            printf("%s : %s\n", text, ty_name(&a, last->stmt.expr->type));
        else
            fputs("ppl: error: :type takes an expression\n", stderr);
    }
    arena_free(&a);
    source_free(src);
}

/* :ir NAME - the optimized IR of a function or model of the session. */
static void show_ir(const char *name) {
    Arena a = {0};
    Program prog = {0};
    Source *empty = source_from_string("<ir>", "");
    diag_reset();
    build_program(&a, &prog, empty);
    if (check_session(&a, &prog, S.globals, S.nglobals)) {
        LLVMContextRef ctx = LLVMContextCreate();
        LLVMModuleRef mod = cg_cell(ctx, &prog, S.globals, S.nglobals, "ppl.ir");
        LLVMTargetMachineRef tm = backend_target_machine();
        char fn_name[512], model_name[512];
        snprintf(fn_name, sizeof fn_name, "ppl.%s", name);
        snprintf(model_name, sizeof model_name, "ppl.resume.%s", name);
        LLVMValueRef f = LLVMGetNamedFunction(mod, fn_name), m = LLVMGetNamedFunction(mod, model_name);
        /* keep the definition alive through the optimizer, which drops unused internal code */
        if (f) LLVMSetLinkage(f, LLVMExternalLinkage);
        if (m) LLVMSetLinkage(m, LLVMExternalLinkage);
        if ((f || m) && tm && backend_optimize(mod, tm)) {
            char *ir = LLVMPrintValueToString(f ? f : m);
            printf("%s\n", ir);
            LLVMDisposeMessage(ir);
        } else if (!f && !m) {
            fprintf(stderr, "ppl: error: no function or model named '%s'\n", name);
        }
        if (tm) LLVMDisposeTargetMachine(tm);
        LLVMDisposeModule(mod);
        LLVMContextDispose(ctx);
    }
    arena_free(&a);
    source_free(empty);
}

static void reset_session(void) {
    S.cells.len = 0;
    S.ndefs = 0;
    S.nglobals = 0;
    S.modules = 0;
    S.inputs = 0;
    rt_session_reset();
    /* the old JIT's code is never freed (nothing of it runs again) */
    S.jit = backend_jit_session();
}

static Source *new_cell_source(const char *name, const char *text) {
    char label[64];
    if (!name) snprintf(label, sizeof label, "<cell %d>", ++S.inputs);
    return source_from_string(name ? name : label, text);
}

static void load_file(const char *path) {
    Source *src = source_read(path);
    if (!src) {
        fprintf(stderr, "ppl: error: cannot read '%s'\n", path);
        return;
    }
    run_cell(src);
}

/* ---- commands ---- */

static const char help_text[] =
    "Type definitions (fn, model, data), top-level let/var, statements and expressions;\n"
    "a cell continues while brackets are open or the line ends in an operator.\n"
    "Expressions and lets show their values; `infer` runs inference, plot(post) draws it.\n"
    "Commands:\n"
    "  :help          this text\n"
    "  :type EXPR     the type of an expression, without running it\n"
    "  :load FILE     run a .ppl file into the session\n"
    "  :reset         forget every definition and variable\n"
    "  :ir NAME       the optimized LLVM IR of a function or model\n"
    "  :time          toggle timing of each cell\n"
    "  :quit          leave (so does Ctrl-D); Ctrl-C stops a running cell\n";

static const char *arg_of(const char *line, const char *cmd) {
    size_t n = strlen(cmd);
    if (strncmp(line, cmd, n) != 0 || (line[n] && line[n] != ' ')) return NULL;
    line += n;
    while (*line == ' ') line++;
    return line;
}

/* Returns false for :quit. */
static bool command(const char *line) {
    const char *arg;
    if (arg_of(line, ":quit") || arg_of(line, ":q")) return false;
    if (arg_of(line, ":help")) fputs(help_text, stdout);
    else if ((arg = arg_of(line, ":type"))) show_type(arg);
    else if ((arg = arg_of(line, ":load"))) load_file(arg);
    else if (arg_of(line, ":reset")) reset_session(), puts("session reset");
    else if ((arg = arg_of(line, ":ir"))) show_ir(arg);
    else if (arg_of(line, ":time")) S.timing = !S.timing, printf("timing %s\n", S.timing ? "on" : "off");
    else fprintf(stderr, "ppl: error: unknown command '%s' (:help lists them)\n", line);
    fflush(stdout);
    return true;
}

/* ---- reading cells ---- */

/* Whether text needs more lines: an open bracket, string or comment, or a last token that
 * cannot end a statement (an operator, a comma). */
static bool incomplete(const char *text) {
    int depth = 0;
    char last = 0;
    for (const char *p = text; *p; p++) {
        if (p[0] == '/' && p[1] == '/') { while (*p && *p != '\n') p++; if (!*p) break; continue; }
        if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            if (!end) return true;
            p = end + 1;
            continue;
        }
        if (*p == '"') {
            for (p++; *p && *p != '"' && *p != '\n'; p++)
                if (*p == '\\' && p[1]) p++;
            if (*p != '"') return *p == 0;
        }
        if (strchr("([{", *p)) depth++;
        if (strchr(")]}", *p)) depth--;
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') last = *p;
    }
    return depth > 0 || (last && strchr("+-*/%^=<>&|!,~.", last));
}

static char *read_line(const char *prompt) {
    if (S.interactive) return readline(prompt);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) { free(line); return NULL; }
    if (n && line[n - 1] == '\n') line[n - 1] = 0;
    return line;
}

static char *append_line(char *cell, const char *line) {
    size_t n = cell ? strlen(cell) : 0;
    cell = realloc(cell, n + strlen(line) + 2);
    if (n) cell[n++] = '\n';
    strcpy(cell + n, line);
    return cell;
}

/* Reads lines until a cell is complete; NULL at end of input. */
static char *read_cell(void) {
    char *cell = NULL, *line;
    while ((line = read_line(cell ? "...> " : "ppl> "))) {
        cell = append_line(cell, line);
        free(line);
        const char *p = cell;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == ':' || !incomplete(cell)) return cell;   /* a command is one line */
    }
    if (cell && S.interactive) putchar('\n');
    return cell;   /* an unfinished cell at end of input is run as it is (and reported) */
}

/* ---- completion ---- */

static const char *const keywords[] = {
#define X(k, s) s,
    TOKEN_KEYWORDS(X)
#undef X
#define X(id, name, fn) name,
    MATH_BUILTINS(X)
#undef X
#define X(id, name) name,
    OTHER_BUILTINS(X)
#undef X
#define X(name, ...) #name,
    RT_DISTRIBUTIONS(X)
#undef X
    "is", "smc", "plot", "real", "int", "bool", "string", ":help", ":type", ":load", ":reset",
    ":ir", ":time", ":quit", NULL};

static char *complete_name(const char *text, int state) {
    static int k, d, g;
    if (!state) k = d = g = 0;
    size_t n = strlen(text);
    while (keywords[k])
        if (!strncmp(keywords[k++], text, n)) return strdup(keywords[k - 1]);
    while (d < S.ndefs)
        if (!strncmp(S.defs[d++].name, text, n)) return strdup(S.defs[d - 1].name);
    while (g < S.nglobals)
        if (!strncmp(S.globals[g++].name, text, n)) return strdup(S.globals[g - 1].name);
    return NULL;
}

static char **complete(const char *text, int start, int end) {
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, complete_name);
}

/* ---- the loop ---- */

/* Ctrl-C: while a cell runs, a flag that compiled loops and inference engines poll; while
 * typing, it abandons the line. */
static void on_interrupt(int sig) {
    (void)sig;
    if (running) rt_interrupted = 1;
    else if (S.interactive) {
        rl_replace_line("", 0);
        rl_crlf();
        rl_on_new_line();
        rl_redisplay();
    }
}

static char history_path[1024];

static void start_readline(void) {
    const char *home = getenv("HOME");
    if (!S.interactive || !home) return;
    snprintf(history_path, sizeof history_path, "%s/.ppl_history", home);
    read_history(history_path);
    rl_readline_name = "ppl";
    rl_attempted_completion_function = complete;
    rl_basic_word_break_characters = " \t\n()[]{},;+-*/%^=<>&|!~";
    printf("ppl %s: :help for help, Ctrl-D to leave\n", PPL_VERSION);
}

static void remember_history(const char *cell) {
    if (!S.interactive || !*cell) return;
    add_history(cell);
    if (history_path[0] && append_history(1, history_path) != 0) write_history(history_path);   /* no file yet */
}

int repl_main(void) {
    S.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    S.prelude = source_from_string("<prelude>", ppl_prelude_source);
    rt_options opt = {0};
    rt_init(&opt);
    S.jit = backend_jit_session();
    if (!S.jit) return 1;
    signal(SIGINT, on_interrupt);
    start_readline();
    char *cell;
    while ((cell = read_cell())) {
        const char *p = cell;
        while (*p == ' ' || *p == '\t') p++;
        remember_history(cell);
        bool go_on = *p != ':' || command(p);
        if (*p && *p != ':') run_cell(new_cell_source(NULL, cell));
        free(cell);
        if (!go_on) break;
    }
    rt_finish();
    return 0;
}
