/* main.c - the `ppl` driver: reads the command line, then calls each stage in turn.
 * Exit status: 0 ok; 1 compile, data or runtime error; 2 usage error. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <llvm-c/Core.h>
#include "usage.h"
#include "arena.h"
#include "backend.h"
#include "check.h"
#include "codegen.h"
#include "diag.h"
#include "lex.h"
#include "parse.h"
#include "rt.h"
#include "rt_program.h"
#include "repl.h"
#include "summary.h"

#ifndef PPL_VERSION
#define PPL_VERSION "unknown"
#endif

extern const char ppl_prelude_source[];   /* stdlib/prelude.ppl, embedded by the Makefile */

/* Which flags a command accepts. */
enum { F_DUMP = 1, F_DUMP_IR = 2, F_RUNTIME = 4, F_OUTPUT = 8 };

typedef struct Options {
    const char *file;
    const char *out;                        /* build: -o */
    bool dump_tokens, dump_ast, dump_ir, help;
    int rt_argc;
    char **rt_argv;                         /* "ppl run FILE", then the runtime flags */
    char rt_name[1024];
} Options;

typedef struct Command {
    const char *name;
    int (*run)(Arena *a, const Options *o);
    unsigned flags;
} Command;

/* A compiled program: the module and the context it lives in. */
typedef struct Compiled { LLVMOrcThreadSafeContextRef tsc; LLVMModuleRef mod; } Compiled;

static const char usage_head[] =
    "usage: ppl COMMAND [FLAGS] FILE.ppl   (no arguments: the interactive session)\n"
    "\n"
    "commands:\n"
    "  run FILE        compile FILE and run it under the JIT\n"
    "  build FILE      compile FILE to a standalone binary (which takes the same flags as run)\n"
    "  check FILE      parse and type-check FILE; prints nothing when it is fine\n"
    "  ir FILE         print FILE's LLVM IR before and after optimization\n"
    "  repl            the interactive session (also `ppl` alone)\n"
    "  summary F.csv.. summarize draws in CSV files (see 'ppl summary --help')\n"
    "\n"
    "flags:\n"
    "  --seed N        run: seed of the random number generator (scripts: default 0)\n"
    "  --data F.json   run: bind the program's `data` declarations from a JSON file\n";
/* between them, model mode's flags (rt_program_list_flags) */
static const char usage_tail[] =
    "                  run: for a file of models without top-level statements (model mode);\n"
    "                  'ppl run FILE --help' lists them with their defaults\n"
    "  -o BIN          build: name of the binary (default: FILE's name without .ppl)\n"
    "  --dump-tokens   run, build, check, ir: print FILE's tokens\n"
    "  --dump-ast      run, build, check, ir: print the syntax tree (prelude included)\n"
    "  --dump-ir       run, build: print the optimized LLVM IR on stderr\n"
    "\n"
    "  ppl --help      print this message\n"
    "  ppl --version   print the versions of ppl and LLVM\n";

static void print_version(void) {
    unsigned major, minor, patch;
    LLVMGetVersion(&major, &minor, &patch);
    printf("ppl %s (LLVM %u.%u.%u)\n", PPL_VERSION, major, minor, patch);
}

#define usage_error(...) usage_error_hint("ppl --help", "for the commands and flags", __VA_ARGS__)

/* ---- command line ---- */

static void print_usage(void) {
    fputs(usage_head, stdout);
    rt_program_list_flags(stdout, "  ", 84);
    fputs(usage_tail, stdout);
}


/* Handles argv[*i], a flag; advances *i past a flag's value. Returns 0 or an exit status. */
static int parse_flag(int argc, char **argv, int *i, const Command *cmd, Options *o) {
    const char *arg = argv[*i];
    unsigned f = cmd->flags;
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
        o->help = true;   /* with `run FILE`, the program's own help (rt_program_main) */
        if (f & F_RUNTIME) o->rt_argv[o->rt_argc++] = argv[*i];
    }
    else if ((f & F_DUMP) && !strcmp(arg, "--dump-tokens")) o->dump_tokens = true;
    else if ((f & F_DUMP) && !strcmp(arg, "--dump-ast")) o->dump_ast = true;
    else if ((f & F_DUMP_IR) && !strcmp(arg, "--dump-ir")) o->dump_ir = true;
    else if ((f & F_OUTPUT) && !strcmp(arg, "-o")) {
        if (*i + 1 >= argc) return usage_error("'-o' needs a file name");
        o->out = argv[++*i];
    } else if (f & F_RUNTIME) {
        o->rt_argv[o->rt_argc++] = argv[*i];
        if (rt_program_flag_takes_value(arg) && *i + 1 < argc) o->rt_argv[o->rt_argc++] = argv[++*i];
    } else return usage_error("'%s' is not a flag of 'ppl %s'", arg, cmd->name);
    return 0;
}

static int parse_args(int argc, char **argv, const Command *cmd, Options *o) {
    o->rt_argv = calloc(argc + 1, sizeof *o->rt_argv);
    o->rt_argv[o->rt_argc++] = o->rt_name;  /* the runtime's usage lines read "ppl run FILE" */
    for (int i = 2; i < argc; i++) {
        int status = 0;
        if (argv[i][0] == '-' && argv[i][1]) status = parse_flag(argc, argv, &i, cmd, o);
        else if (o->file) status = usage_error("unexpected argument '%s' (one FILE only)", argv[i]);
        else o->file = argv[i];
        if (status) return status;
    }
    if (!o->file && !o->help) return usage_error("'ppl %s' needs a FILE", cmd->name);
    snprintf(o->rt_name, sizeof o->rt_name, "ppl %s %s", cmd->name, o->file ? o->file : "");
    return 0;
}

/* ---- front end ---- */

/* Sources live until the driver exits: tokens, messages and runtime locations point into them. */
static Source *prelude_src, *file_src;

static void parse_source(Arena *a, const Source *src, Program *prog, bool dump_tokens) {
    TokenList tl = lex_source(a, src);
    if (dump_tokens) lex_dump(&tl);
    parse_program(a, &tl, prog);
}

/* Reads, lexes and parses the prelude and FILE into one Program, then checks it.
 * The checker only runs on a tree that parsed cleanly. False after errors. */
static bool front_end(Arena *a, const Options *o, Program *prog) {
    file_src = source_read(o->file);
    if (!file_src) {
        fprintf(stderr, "ppl: error: cannot read '%s': %s\n", o->file, strerror(errno));
        return false;
    }
    prelude_src = source_from_string("<prelude>", ppl_prelude_source);
    parse_source(a, prelude_src, prog, false);
    parse_source(a, file_src, prog, o->dump_tokens);
    if (o->dump_ast) ast_dump(prog);
    if (diag_error_count() == 0) check_program(a, prog);
    return diag_error_count() == 0;
}

static void discard(Compiled *c) {
    if (c->mod) LLVMDisposeModule(c->mod);
    if (c->tsc) LLVMOrcDisposeThreadSafeContext(c->tsc);
    *c = (Compiled){0};
}

/* Front end, then code generation into a fresh thread-safe context. */
static bool compile(Arena *a, const Options *o, Compiled *c) {
    Program prog = {0};
    *c = (Compiled){0};
    if (!front_end(a, o, &prog)) return false;
    c->tsc = LLVMOrcCreateNewThreadSafeContext();
    c->mod = cg_program(LLVMOrcThreadSafeContextGetContext(c->tsc), &prog, o->file);
    if (c->mod && diag_error_count() == 0) return true;
    discard(c);
    return false;
}

static void print_module(FILE *f, LLVMModuleRef mod) {
    char *text = LLVMPrintModuleToString(mod);
    fputs(text, f);
    LLVMDisposeMessage(text);
}

static bool optimize(Compiled *c, const Options *o, LLVMTargetMachineRef tm) {
    if (!backend_optimize(c->mod, tm)) return false;
    if (o->dump_ir) print_module(stderr, c->mod);
    return true;
}

static void dispose_tm(LLVMTargetMachineRef tm) {
    if (tm) LLVMDisposeTargetMachine(tm);
}

/* ---- commands ---- */

static int cmd_check(Arena *a, const Options *o) {
    Program prog = {0};
    return front_end(a, o, &prog) ? 0 : 1;
}

static int cmd_ir(Arena *a, const Options *o) {
    Compiled c;
    if (!compile(a, o, &c)) return 1;
    puts("; ---- before optimization ----");
    print_module(stdout, c.mod);
    LLVMTargetMachineRef tm = backend_target_machine();
    bool ok = backend_optimize(c.mod, tm);
    if (ok) puts("; ---- after optimization (" "default<O2>" ") ----");
    if (ok) print_module(stdout, c.mod);
    dispose_tm(tm);
    discard(&c);
    return ok ? 0 : 1;
}

/* The runtime parses the flags after FILE, as a built binary would (rt_program_main). */
static int cmd_run(Arena *a, const Options *o) {
    Compiled c;
    if (!compile(a, o, &c)) return 1;
    LLVMTargetMachineRef tm = backend_target_machine();
    bool ok = optimize(&c, o, tm);
    dispose_tm(tm);
    int status = 1;
    if (ok) {
        rt_program_file = o->file;
        ok = backend_jit_run(c.mod, c.tsc, o->rt_argc, o->rt_argv, &status);   /* consumes the module */
        c.mod = NULL;
    }
    discard(&c);
    return ok ? status : 1;
}

/* FILE's base name without ".ppl", into buf; NULL when FILE does not end in .ppl. */
static const char *default_output(const char *file, char *buf, size_t size) {
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    size_t n = strlen(base);
    if (n <= 4 || strcmp(base + n - 4, ".ppl")) return NULL;
    snprintf(buf, size, "%.*s", (int)(n - 4), base);
    return buf;
}

/* A fresh empty file $TMPDIR/ppl-XXXXXX.o (or under /tmp), its name in buf. */
static bool temp_object(char *buf, size_t size) {
    const char *dir = getenv("TMPDIR");
    snprintf(buf, size, "%s/ppl-XXXXXX.o", dir && *dir ? dir : "/tmp");
    int fd = mkstemps(buf, 2);
    if (fd < 0) {
        fprintf(stderr, "ppl: error: cannot create a temporary file in '%s': %s\n",
                dir && *dir ? dir : "/tmp", strerror(errno));
        return false;
    }
    close(fd);
    return true;
}

static bool emit_and_link(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *out) {
    char obj[PATH_MAX];
    if (!temp_object(obj, sizeof obj)) return false;
    bool ok = backend_emit_object(mod, tm, obj) && backend_link(obj, out);
    unlink(obj);
    return ok;
}

static int cmd_build(Arena *a, const Options *o) {
    char buf[PATH_MAX];
    const char *out = o->out ? o->out : default_output(o->file, buf, sizeof buf);
    if (!out) return usage_error("'%s' does not end in .ppl; name the binary with -o", o->file);
    if (rt_same_file(out, o->file)) return usage_error("-o '%s' is the source file; refusing to overwrite it", out);
    Compiled c;
    if (!compile(a, o, &c)) return 1;
    LLVMTargetMachineRef tm = backend_target_machine();
    bool ok = optimize(&c, o, tm) && emit_and_link(c.mod, tm, out);
    dispose_tm(tm);
    discard(&c);
    return ok ? 0 : 1;
}

static const Command commands[] = {
    {"run", cmd_run, F_DUMP | F_DUMP_IR | F_RUNTIME},
    {"build", cmd_build, F_DUMP | F_DUMP_IR | F_OUTPUT},
    {"check", cmd_check, F_DUMP},
    {"ir", cmd_ir, F_DUMP},
};

static const Command *find_command(const char *name) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

/* ---- main ---- */

static int run_command(int argc, char **argv) {
    const Command *cmd = find_command(argv[1]);
    if (!cmd && argv[1][0] == '-') return usage_error("unknown flag '%s'", argv[1]);
    if (!cmd) return usage_error("unknown command '%s'", argv[1]);
    Options o = {0};
    Arena arena = {0};
    int status = parse_args(argc, argv, cmd, &o);
    if (!status && o.help && !(o.file && (cmd->flags & F_RUNTIME))) print_usage();
    else if (!status) status = cmd->run(&arena, &o);
    arena_free(&arena);
    source_free(prelude_src);
    source_free(file_src);
    free(o.rt_argv);
    return status;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) return repl_main();   /* no arguments: the interactive session */
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return print_usage(), 0;
    if (!strcmp(argv[1], "--version")) return print_version(), 0;
    if (!strcmp(argv[1], "summary")) return summary_main(argc - 2, argv + 2);   /* own flags */
    if (!strcmp(argv[1], "repl")) return repl_main();
    return run_command(argc, argv);
}

/* Every command's output is checked once at the end: a write that failed is status 1. */
int main(int argc, char **argv) { return rt_check_stdout(dispatch(argc, argv)); }
