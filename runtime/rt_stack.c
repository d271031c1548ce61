/* rt_stack.c - deep recursion as a runtime error: a ppl function that calls functions checks
 * on entry that its thread's stack has room left, instead of running into the guard page. */
#include <pthread.h>
#include <stdint.h>
#include "rt.h"

/* Room kept below the check for what a function may still do without checking: leaf calls,
 * runtime calls (a collection, printing) and rt_fail itself. */
enum { RT_STACK_MARGIN = 256 * 1024 };

/* The lowest stack address a checked function may run at; 0 until the thread's first check. */
static __thread uintptr_t stack_floor;

/* The stack's lowest address plus the margin, from pthread's view of this thread (for the
 * main thread, glibc derives it from the stack's mapping and RLIMIT_STACK). */
static uintptr_t find_floor(uintptr_t sp)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return 1;   /* unknown: never fails */
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0 || size <= 2 * RT_STACK_MARGIN || sp < (uintptr_t)addr)
        return 1;
    return (uintptr_t)addr + RT_STACK_MARGIN;
}

void rt_stack_check(const char *name, const char *loc)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    if (!stack_floor)
        stack_floor = find_floor(sp);
    if (sp < stack_floor)
        rt_failf(loc, "stack overflow: the calls of function '%s' nest too deeply (unbounded recursion?)", name);
}
