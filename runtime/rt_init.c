/* rt_init.c - starting and ending a run: runtime flags (--data, --seed), collector and
 * output setup, data loading and GC roots (a program's main() is rt_program.c). */
#define GC_THREADS
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gc.h>
#include "rt.h"

uint64_t rt_seed;   /* the run's RNG seed: --seed N, else 0 */
const char *rt_program_file;

bool rt_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* `usage: PROG [ARGS BEFORE first] [--data FILE.json] [--seed N]` on `out`. */
static void print_usage(FILE *out, int argc, char **argv, int first)
{
    fputs("usage:", out);
    for (int k = 0; k < first && k < argc; k++)
        fprintf(out, " %s", argv[k]);
    fputs(" [--data FILE.json] [--seed N]\n", out);
}

static bool usage_error(int argc, char **argv, int first, const char *msg, const char *arg)
{
    fprintf(stderr, "ppl: error: %s '%s'\n", msg, arg);
    print_usage(stderr, argc, argv, first);
    return false;
}

/* A seed is decimal digits only, below 2^64 (strtoull alone would accept "-1" and " 7"). */
static bool parse_seed(const char *s, uint64_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    *out = v;
    return errno == 0;
}

/* If argv[*k] is `--NAME VALUE` or `--NAME=VALUE`, stores VALUE (NULL when it is missing
 * after a bare `--NAME`), advances *k past it and returns true. */
static bool option_value(int argc, char **argv, int *k, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*k], name, n) != 0)
        return false;
    if (argv[*k][n] == '=')
        *value = argv[*k] + n + 1;
    else if (argv[*k][n] == '\0')
        *value = *k + 1 < argc ? argv[++*k] : NULL;
    else
        return false;
    return true;
}

bool rt_parse_options(int argc, char **argv, int first, rt_options *opt)
{
    *opt = (rt_options){ NULL, 0, false };
    for (int k = first; k < argc; k++) {
        const char *arg = argv[k], *value;
        if (option_value(argc, argv, &k, "--data", &value)) {
            if (!value || !*value)
                return usage_error(argc, argv, first, "missing file name after", "--data");
            opt->data_path = value;
        } else if (option_value(argc, argv, &k, "--seed", &value)) {
            if (!value)
                return usage_error(argc, argv, first, "missing number after", "--seed");
            if (!parse_seed(value, &opt->seed))
                return usage_error(argc, argv, first,
                                   "--seed needs a non-negative integer below 2^64, not", value);
            opt->seed_given = true;
        } else if (arg[0] == '-')
            return usage_error(argc, argv, first, "unknown option", arg);
        else
            return usage_error(argc, argv, first, "unexpected argument", arg);
    }
    return true;
}

/* Full buffering for files and pipes; a terminal still sees each line as it is printed. */
static void setup_stdout(void)
{
    static char buf[1 << 16];
    static bool done;
    if (done)
        return;
    done = true;
    setvbuf(stdout, buf, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, sizeof buf);
}

/* The collector's warnings (such as "repeated allocation of very large block", which large
 * traces trigger) are advice for its developers, not for a ppl user. */
static void ignore_gc_warning(char *msg, GC_word arg) { (void)msg, (void)arg; }

/* May be called again (tests, the REPL): the collector starts once, the data is reloaded. */
void rt_init(const rt_options *opt)
{
    GC_INIT();
    GC_set_warn_proc(ignore_gc_warning);
    setup_stdout();
    rt_seed = opt->seed_given ? opt->seed : 0;
    rt_data_load(opt->data_path);
}

void rt_finish(void)
{
    fflush(stdout);
}

/* Output that could not be written is an error (a full disk, a closed pipe): status 1 when
 * the run would otherwise succeed. A failed write sets the stream's error flag for good, so
 * this one check at the end covers every write; it reports once however often it is called. */
int rt_check_stdout(int status)
{
    static bool reported;
    errno = 0;
    bool bad = fflush(stdout) != 0 || ferror(stdout);
    if (!bad || reported)
        return bad && !status ? 1 : status;
    reported = true;
    if (errno)
        fprintf(stderr, "ppl: error: cannot write standard output: %s\n", strerror(errno));
    else
        fprintf(stderr, "ppl: error: cannot write standard output\n");
    return status ? status : 1;
}

void rt_gc_root(void *addr)
{
    GC_add_roots(addr, (char *)addr + sizeof(void *));
}
