/* rt_data.c - binds `data` declarations to the --data JSON file (parsed once with cJSON):
 * checks each value's type and shape and reports mistakes by variable and element path. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <gc.h>
#include "rt.h"
#include "rt_tensor.h"

static cJSON *data_root;    /* the parsed file, kept for the whole run; NULL: no file */
static char *data_path;

/* ---- loading ---- */

/* Reads a whole file into a malloc'd, NUL-terminated buffer; on failure returns NULL
 * with errno set. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - 1 - n, f)) > 0) {
        n += got;
        if (n == cap - 1) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf || err) {
        free(buf);
        errno = buf ? err : ENOMEM;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Reports a JSON syntax error as PATH:LINE:COL (1-based, columns in bytes). */
_Noreturn static void fail_syntax(const char *path, const char *text, const char *at)
{
    int line = 1, col = 1;
    for (const char *p = text; p < at; p++, col++)
        if (*p == '\n') {
            line++;
            col = 0;
        }
    fflush(stdout);
    fprintf(stderr, "%s:%d:%d: error: malformed JSON\n", path, line, col);
    exit(1);
}

static void forget_data(void)
{
    cJSON_Delete(data_root);
    free(data_path);
    data_root = NULL;
    data_path = NULL;
}

/* Loads PATH (NULL: no data file); exits 1 with a message if it is unreadable or bad. */
void rt_data_load(const char *path)
{
    forget_data();
    if (!path)
        return;
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text)
        rt_failf(NULL, "cannot read data file '%s': %s", path, strerror(errno));
    const char *nul = memchr(text, '\0', len), *end = NULL;
    if (nul)
        fail_syntax(path, text, nul);   /* cJSON would stop there and accept a prefix */
    /* The length counts the final NUL, which is how cJSON checks for trailing text. */
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (!root)
        fail_syntax(path, text, end ? end : text);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        rt_fail(path, "data file must hold a JSON object");
    }
    data_root = root;
    data_path = strdup(path);
}

/* ---- describing values for error messages ---- */

static const char *kind_name(int64_t kind)
{
    static const char *names[] = { "real", "int", "bool", "string" };
    return kind >= 0 && kind <= RT_STRING ? names[kind] : "value";
}

/* The expected type as the program spells it: real, int[], bool[][], ... */
static void type_name(char *out, size_t size, int64_t kind, int64_t depth)
{
    int n = snprintf(out, size, "%s", kind_name(kind));
    for (int64_t k = 0; k < depth && n + 2 < (int)size; k++)
        n += snprintf(out + n, size - (size_t)n, "[]");
}

/* A double that is a whole number in int64's range. */
static bool is_int64(double x)
{
    return x == floor(x) && x >= -0x1p63 && x < 0x1p63;
}

static void describe_number(char *out, size_t size, double x)
{
    char num[40];
    if (is_int64(x)) {
        snprintf(out, size, "number %lld", (long long)x);
        return;
    }
    rt_format_real(num, sizeof num, x);
    snprintf(out, size, "%s %s", x == floor(x) ? "number" : "real", num);
}

/* string "..." with quotes and backslashes escaped, shortened past 40 bytes. */
static void describe_string(char *out, size_t size, const char *s)
{
    size_t n = (size_t)snprintf(out, size, "string \"");
    for (size_t k = 0; s[k] && n + 8 < size; k++) {
        if (k == 40) {
            n += (size_t)snprintf(out + n, size - n, "...");
            break;
        }
        if (s[k] == '"' || s[k] == '\\')
            out[n++] = '\\';
        out[n++] = s[k] == '\n' ? ' ' : s[k];
    }
    snprintf(out + n, size - n, "\"");
}

static void describe(char *out, size_t size, const cJSON *v)
{
    if (cJSON_IsString(v))
        describe_string(out, size, v->valuestring);
    else if (cJSON_IsNumber(v))
        describe_number(out, size, v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(out, size, "bool %s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(out, size, "null");
    else if (cJSON_IsArray(v))
        snprintf(out, size, "an array");
    else
        snprintf(out, size, "an object");
}

/* `LOC: error: data variable 'NAME': [element PATH: ]expected TYPE, found VALUE` */
_Noreturn static void fail_type(const char *name, const char *loc, const char *path,
                                int64_t kind, int64_t depth, const cJSON *v)
{
    char want[64], found[128];
    type_name(want, sizeof want, kind, depth);
    describe(found, sizeof found, v);
    rt_failf(loc, "data variable '%s': %s%s%sexpected %s, found %s", name,
             *path ? "element " : "", path, *path ? ": " : "", want, found);
}

/* ---- conversion ---- */

static const cJSON *lookup(const char *name, const char *loc)
{
    const cJSON *v = data_root ? cJSON_GetObjectItemCaseSensitive(data_root, name) : NULL;
    if (v)
        return v;
    if (!data_root)
        rt_failf(loc, "data variable '%s' has no default and no --data file was given", name);
    rt_failf(loc, "data variable '%s' is missing from %s", name, data_path);
}

/* Stan writes non-finite reals as strings. */
static bool special_real(const char *s, double *out)
{
    static const struct { const char *text; double value; } specials[] = {
        { "NaN", NAN }, { "Inf", INFINITY }, { "-Inf", -INFINITY },
        { "Infinity", INFINITY }, { "-Infinity", -INFINITY },
    };
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++)
        if (strcmp(s, specials[k].text) == 0) {
            *out = specials[k].value;
            return true;
        }
    return false;
}

static char *gc_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = GC_MALLOC_ATOMIC(n);
    if (!copy)
        rt_fail(NULL, "out of memory reading data");
    return memcpy(copy, s, n);
}

static bool convert_real(const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v))
        return cJSON_IsString(v) && special_real(v->valuestring, out);
    *out = v->valuedouble;
    return true;
}

/* JSON has one number type: an int is a number that is whole and fits int64 (7 or 7.0). */
static bool convert_int(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v) || !is_int64(v->valuedouble))
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static bool convert_bool(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return true;
}

static bool convert_string(const cJSON *v, char **out)
{
    if (!cJSON_IsString(v))
        return false;
    *out = gc_strdup(v->valuestring);
    return true;
}

/* Converts one scalar into an 8-byte slot (double, int64_t, or char *); false on mismatch. */
static bool convert_scalar(const cJSON *v, int64_t kind, void *slot)
{
    switch (kind) {
    case RT_REAL: return convert_real(v, slot);
    case RT_INT: return convert_int(v, slot);
    case RT_BOOL: return convert_bool(v, slot);
    case RT_STRING: return convert_string(v, slot);
    }
    return false;
}

/* Builds an array of `depth` levels from v; `path` holds the element path so far
 * ("[1][0]") and has room for 256 bytes. Inner arrays may differ in length. */
static rt_array *build_array(const cJSON *v, int64_t kind, int64_t depth,
                             const char *name, const char *loc, char *path)
{
    if (!cJSON_IsArray(v))
        fail_type(name, loc, path, kind, depth, v);
    bool pointers = depth > 1 || kind == RT_STRING;
    rt_array *a = rt_array_new(cJSON_GetArraySize(v), pointers);
    size_t plen = strlen(path);
    int64_t k = 0;
    for (const cJSON *e = v->child; e; e = e->next, k++) {
        snprintf(path + plen, 256 - plen, "[%lld]", (long long)k);
        if (depth > 1)
            a->at.p[k] = build_array(e, kind, depth - 1, name, loc, path);
        else if (!convert_scalar(e, kind, &a->at.i[k]))
            fail_type(name, loc, path, kind, 0, e);
    }
    path[plen] = '\0';
    return a;
}

/* A mat: a JSON array of rows, each an array of reals, all of one length. */
static rt_mat *build_mat(const cJSON *v, const char *name, const char *loc)
{
    char path[256] = "";
    if (!cJSON_IsArray(v))
        rt_failf(loc, "data variable '%s': expected a mat (an array of equal-length rows of reals), found %s",
                 name, (describe(path, sizeof path, v), path));
    rt_array *rows = build_array(v, RT_REAL, 2, name, loc, path);
    for (int64_t i = 1; i < rows->len; i++) {
        int64_t len = ((rt_array *)rows->at.p[i])->len, first = ((rt_array *)rows->at.p[0])->len;
        if (len != first)
            rt_failf(loc, "data variable '%s': a mat's rows must have equal lengths, but row [%lld] has %lld "
                     "elements and row [0] has %lld", name, (long long)i, (long long)len, (long long)first);
    }
    return rt_mat_from_rows(rows, loc);
}

/* A tensor: nested JSON arrays of numbers, 1 to 3 deep, every array at one depth of one
 * length (the first one's). */
static rt_tensor *build_tensor(const cJSON *v, const char *name, const char *loc)
{
    char path[256] = "";
    int64_t depth = 0, dim[3] = {1, 1, 1};
    for (const cJSON *e = v; cJSON_IsArray(e) && depth < 4; e = e->child) {
        if (depth < 3)
            dim[depth] = cJSON_GetArraySize(e);
        depth++;
        if (!e->child)
            break;
    }
    if (depth < 1 || depth > 3)
        rt_failf(loc, "data variable '%s': expected a tensor (nested arrays of numbers, 1 to 3 deep), found %s",
                 name, (describe(path, sizeof path, v), path));
    rt_array *a = build_array(v, RT_REAL, depth, name, loc, path);
    rt_tensor *t = rt_tensor_new(depth, dim, loc);
    int64_t n = 0;
    for (int64_t i = 0; i < dim[0]; i++) {
        const rt_array *r1 = depth > 1 ? a->at.p[i] : a;
        for (int64_t j = 0; depth > 1 && j < dim[1]; j++) {
            const rt_array *r2 = depth > 2 ? r1->at.p[j] : r1;
            if (r1->len != dim[1] || (depth > 2 && r2->len != dim[2]))
                rt_failf(loc, "data variable '%s': a tensor's arrays must have equal lengths at each depth "
                         "(element [%lld] differs from element [0])", name, (long long)i);
            for (int64_t k = 0; depth > 2 && k < dim[2]; k++)
                t->d[n++] = (float)r2->at.d[k];
            if (depth == 2)
                t->d[n++] = (float)r1->at.d[j];
        }
        if (depth == 1)
            t->d[n++] = (float)a->at.d[i];
    }
    return t;
}

/* ---- called by generated code ---- */

int64_t rt_data_has(const char *name)
{
    return data_root && cJSON_GetObjectItemCaseSensitive(data_root, name) != NULL;
}

/* Fetches and converts a scalar data variable into `slot`. */
static void data_scalar(const char *name, const char *loc, int64_t kind, void *slot)
{
    const cJSON *v = lookup(name, loc);
    if (!convert_scalar(v, kind, slot))
        fail_type(name, loc, "", kind, 0, v);
}

double rt_data_real(const char *name, const char *loc)
{
    double x;
    data_scalar(name, loc, RT_REAL, &x);
    return x;
}

int64_t rt_data_int(const char *name, const char *loc)
{
    int64_t x;
    data_scalar(name, loc, RT_INT, &x);
    return x;
}

int64_t rt_data_bool(const char *name, const char *loc)
{
    int64_t x;
    data_scalar(name, loc, RT_BOOL, &x);
    return x;
}

rt_array *rt_data_array(const char *name, int64_t base_kind, int64_t depth, const char *loc)
{
    char path[256] = "";
    return build_array(lookup(name, loc), base_kind, depth < 1 ? 1 : depth, name, loc, path);
}

rt_mat *rt_data_mat(const char *name, const char *loc)
{
    return build_mat(lookup(name, loc), name, loc);
}

rt_tensor *rt_data_tensor(const char *name, const char *loc)
{
    return build_tensor(lookup(name, loc), name, loc);
}
