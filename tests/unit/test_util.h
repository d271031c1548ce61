/* test_util.h - helpers shared by the cmocka unit tests: temp files, output captured in a
 * buffer, and functions run in forked children whose exit status and output are checked.
 * Include after <cmocka.h>. */
#ifndef PPL_TEST_UTIL_H
#define PPL_TEST_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- temp files ---- */

#define TEMP_TEMPLATE "/tmp/ppl_test_XXXXXX"

/* A new temp file, its name left in path (at least sizeof TEMP_TEMPLATE bytes). */
static inline int temp_file(char *path)
{
    strcpy(path, TEMP_TEMPLATE);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    return fd;
}

/* A new temp file already unlinked: gone once fd is closed. */
static inline int temp_fd(void)
{
    char path[sizeof TEMP_TEMPLATE];
    int fd = temp_file(path);
    unlink(path);
    return fd;
}

/* Creates the file named by the mkstemps template path (its last suffix_len characters
 * kept) holding text. */
static inline void write_temp(char *path, int suffix_len, const char *text)
{
    int fd = mkstemps(path, suffix_len);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* fd's file from its start into buf, NUL-terminated (at most size - 1 bytes); closes fd.
 * Returns what pread returned. */
static inline ssize_t slurp(int fd, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return n;
}

/* The whole of fd's file as a malloc'd string; closes fd. */
static inline char *slurp_all(int fd)
{
    off_t len = lseek(fd, 0, SEEK_END);
    assert_true(len >= 0);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    ssize_t n = pread(fd, buf, (size_t)len, 0);
    assert_int_equal(n, len);
    buf[len] = '\0';
    close(fd);
    return buf;
}

/* ---- output captured in this process ---- */

/* Sends file descriptor `which` to a temp file until redirect_end, which reads it back. */
typedef struct redirect { int which, fd, saved; } redirect;

static inline redirect redirect_begin(int which)
{
    fflush(stdout), fflush(stderr);
    redirect r = { which, temp_fd(), dup(which) };
    assert_true(r.saved >= 0);
    dup2(r.fd, which);
    return r;
}

/* Returns the number of bytes read back (what pread returned). */
static inline ssize_t redirect_end(redirect r, char *buf, size_t size)
{
    fflush(stdout), fflush(stderr);
    dup2(r.saved, r.which);
    close(r.saved);
    return slurp(r.fd, buf, size);
}

/* Runs fn(arg) with stdout sent to a temp file; leaves what it printed in buf and returns
 * its length (what pread returned). */
static inline ssize_t capture_stdout(void (*fn)(const void *), const void *arg, char *buf,
                                     size_t size)
{
    redirect r = redirect_begin(STDOUT_FILENO);
    fn(arg);
    return redirect_end(r, buf, size);
}

/* ---- child processes ---- */

/* Ends a child with status rc, its output flushed (_exit skips the parent's atexit work). */
static inline void child_exit(int rc)
{
    fflush(stdout), fflush(stderr);
    _exit(rc);
}

/* Runs fn(arg) in a forked child with stdout sent to out_fd and stderr to err_fd (-1: left
 * alone); the child exits 0 if fn returns. Returns the child's exit status, or -1 if it died
 * of a signal. */
static inline int run_forked(void (*fn)(const void *), const void *arg, int out_fd, int err_fd)
{
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (out_fd >= 0)
            dup2(out_fd, STDOUT_FILENO);
        if (err_fd >= 0)
            dup2(err_fd, STDERR_FILENO);
        fn(arg);
        child_exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct child_thunk { void (*fn)(void); } child_thunk;

static inline void child_call_thunk(const void *thunk) { ((const child_thunk *)thunk)->fn(); }

/* Runs fn in a forked child with stderr sent to a temp file; returns its exit status
 * (-1 if it died of a signal) and leaves what it printed on stderr in err. */
static inline int run_child(void (*fn)(void), char *err, size_t size)
{
    child_thunk t = { fn };
    int fd = temp_fd();
    int status = run_forked(child_call_thunk, &t, -1, fd);
    slurp(fd, err, size);
    return status;
}

typedef struct child_out {
    int status;          /* exit code, or -1 if the child died of a signal */
    char out[4096];      /* its stdout */
    char err[4096];      /* its stderr */
} child_out;

/* Runs fn(arg) in a forked child with stdout and stderr sent to temp files. */
static inline void run_child_io(void (*fn)(const void *), const void *arg, child_out *r)
{
    int out_fd = temp_fd(), err_fd = temp_fd();
    r->status = run_forked(fn, arg, out_fd, err_fd);
    slurp(out_fd, r->out, sizeof r->out);
    slurp(err_fd, r->err, sizeof r->err);
}

/* Fails unless a child exited with want_status having printed exactly want on stderr
 * (contains: want anywhere in it). */
static inline void check_exit(int status, const char *err, int want_status, const char *want,
                              bool contains)
{
    if (status != want_status || !(contains ? strstr(err, want) != NULL : strcmp(err, want) == 0))
        fail_msg("status %d, stderr: %s\nwanted: %s", status, err, want);
}

/* Runs fn in a child: it must exit with want_status, printing exactly want on stderr. */
static inline void expect_child_stderr(void (*fn)(void), int want_status, const char *want)
{
    char err[1024];
    int status = run_child(fn, err, sizeof err);
    check_exit(status, err, want_status, want, false);
}

/* Runs fn in a child: it must exit with want_status, printing want somewhere on stderr. */
static inline void expect_child_failure(void (*fn)(void), int want_status, const char *want)
{
    char err[1024];
    int status = run_child(fn, err, sizeof err);
    check_exit(status, err, want_status, want, true);
}

/* Case i of a table of bad distribution parameters: fn must exit 1 with stderr starting
 * `loc: error: dist: ` and naming param. */
static inline void expect_dist_error(void (*fn)(void), const char *loc, const char *dist,
                                     const char *param, size_t i)
{
    char err[1024], prefix[256];
    int status = run_child(fn, err, sizeof err);
    snprintf(prefix, sizeof prefix, "%s: error: %s: ", loc, dist);
    if (status != 1 || strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, param))
        fail_msg("case %zu (%s, %s): status %d, stderr: %s", i, dist, param, status, err);
}

#endif
