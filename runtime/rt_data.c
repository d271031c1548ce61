/* rt_data.c - binds `data` declarations to the --data JSON file (parsed once with Jansson):
 * checks each value's type and shape and reports mistakes by variable and element path.
 *
 * Jansson rather than cJSON: it keeps integers as int64 (cJSON reads every number through a
 * double, so 9007199254740993 became ...992 and int64's extremes were out of reach), and it
 * is strict where cJSON is lax: `01` and `1e999` are errors, and duplicate keys can be
 * refused. Its nesting limit is 2048 levels (cJSON's 1000), reported as such. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <gc.h>
#include "rt.h"
#include "rt_tensor.h"

static json_t *data_root;    /* the parsed file, kept for the whole run; NULL: no file */
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

/* Reports an error in the JSON text as PATH:LINE:COL (1-based, columns in bytes), after
 * freeing the text: a runtime error like any other, so the REPL (and the fuzzer) recover. */
_Noreturn static void fail_syntax(const char *path, char *text, const char *at, const char *msg)
{
    int line = 1, col = 1;
    for (const char *p = text; p < at; p++, col++)
        if (*p == '\n') {
            line++;
            col = 0;
        }
    char loc[512];
    snprintf(loc, sizeof loc, "%s:%d:%d", path, line, col);
    free(text);
    rt_fail(loc, msg);
}

/* Jansson's error, at the start of the token it names (its position is the byte after it). */
_Noreturn static void fail_json(const char *path, char *text, size_t len, const json_error_t *e)
{
    size_t pos = e->position > 0 ? (size_t)e->position - 1 : 0;
    char *at = text + (pos < len ? pos : len);
    const char *msg = "malformed JSON";
    char buf[160];
    switch (json_error_code(e)) {
    case json_error_numeric_overflow:
        while (at > text && strchr("0123456789+-.eE", at[-1]))
            at--;
        snprintf(buf, sizeof buf, "number %.*s is out of range (a real must be finite)",
                 (int)strspn(at, "0123456789+-.eE"), at);
        msg = buf;
        break;
    case json_error_duplicate_key:
        while (at > text && at[-1] != '"')
            at--;
        while (at > text && *--at != '"')
            ;
        msg = "duplicate key in a JSON object (each key may appear once)";
        break;
    case json_error_stack_overflow:
        msg = "JSON nested deeper than 2048 levels";
        break;
    default:
        break;
    }
    fail_syntax(path, text, at, msg);
}

static void forget_data(void)
{
    json_decref(data_root);
    free(data_path);
    data_root = NULL;
    data_path = NULL;
}

/* ---- integers beyond int64 ---- */

/* JSON allows integers of any size, but Jansson refuses those beyond int64 ("too big
 * integer"); a real variable must still read 100000000000000000000. A file that has such
 * integers is parsed again from a copy in which each of them is followed by ".0", which makes
 * it a real (and an int variable then reports it as out of range). `at` records where the
 * copy inserted text, so that an error in it is reported at its place in the original. */
typedef struct widened { char *text; size_t len, *at, n; } widened;

static bool int_overflows(const char *s, size_t n)
{
    char buf[32];
    if (n >= sizeof buf)
        return true;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    (void)strtoll(buf, NULL, 10);
    return errno == ERANGE;
}

/* The end of the number or string token at s (text outside strings and numbers is copied). */
static size_t token_end(const char *text, size_t len, size_t i, bool *is_big_int)
{
    *is_big_int = false;
    if (text[i] == '"') {
        for (i++; i < len && text[i] != '"'; i++)
            if (text[i] == '\\' && i + 1 < len)
                i++;
        return i < len ? i + 1 : len;
    }
    size_t start = i;
    if (text[i] == '-')
        i++;
    while (i < len && text[i] >= '0' && text[i] <= '9')
        i++;
    bool fraction = i < len && strchr(".eE", text[i]) && text[i];
    *is_big_int = !fraction && i > start && int_overflows(text + start, i - start);
    while (fraction && i < len && text[i] && strchr("0123456789.eE+-", text[i]))
        i++;
    return i > start ? i : start + 1;
}

static widened widen_big_ints(const char *text, size_t len)
{
    widened w = { malloc(2 * len + 1), 0, malloc(sizeof(size_t) * (len / 2 + 1)), 0 };
    if (!w.text || !w.at)
        rt_fail(NULL, "out of memory reading data");
    for (size_t i = 0; i < len;) {
        bool big = false;
        size_t end = text[i] == '"' || text[i] == '-' || (text[i] >= '0' && text[i] <= '9')
                         ? token_end(text, len, i, &big) : i + 1;
        memcpy(w.text + w.len, text + i, end - i);
        w.len += end - i;
        i = end;
        if (big) {
            w.at[w.n++] = w.len;
            memcpy(w.text + w.len, ".0", 2);
            w.len += 2;
        }
    }
    w.text[w.len] = '\0';
    return w;
}

/* A position in the widened copy as a position in the original text. */
static size_t original_position(const widened *w, size_t pos)
{
    size_t k = 0;
    while (k < w->n && w->at[k] < pos)
        k++;
    return pos - 2 * k;
}

static json_t *parse_json(const char *path, char *text, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (root)
        return root;
    if (json_error_code(&err) != json_error_numeric_overflow || !strstr(err.text, "integer"))
        fail_json(path, text, len, &err);
    widened w = widen_big_ints(text, len);
    root = json_loadb(w.text, w.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!root) {
        err.position = (int)original_position(&w, (size_t)err.position);
        free(w.text);
        free(w.at);
        fail_json(path, text, len, &err);
    }
    free(w.text);
    free(w.at);
    return root;
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
    rt_data_load_text(path, text, len);
}

void rt_data_load_text(const char *path, char *text, size_t len)
{
    forget_data();
    const char *nul = memchr(text, '\0', len);
    if (nul)
        fail_syntax(path, text, nul, "malformed JSON");
    json_t *root = parse_json(path, text, len);
    free(text);
    if (!json_is_object(root)) {
        json_decref(root);
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

static void describe(char *out, size_t size, const json_t *v)
{
    if (json_is_string(v))
        describe_string(out, size, json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, size, "number %lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        describe_number(out, size, json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, size, "bool %s", json_is_true(v) ? "true" : "false");
    else if (json_is_null(v))
        snprintf(out, size, "null");
    else if (json_is_array(v))
        snprintf(out, size, "an array");
    else
        snprintf(out, size, "an object");
}

/* `LOC: error: data variable 'NAME': [element PATH: ]expected TYPE, found VALUE` */
_Noreturn static void fail_type(const char *name, const char *loc, const char *path,
                                int64_t kind, int64_t depth, const json_t *v)
{
    char want[64], found[128];
    type_name(want, sizeof want, kind, depth);
    describe(found, sizeof found, v);
    rt_failf(loc, "data variable '%s': %s%s%sexpected %s, found %s", name,
             *path ? "element " : "", path, *path ? ": " : "", want, found);
}

/* ---- conversion ---- */

static const json_t *lookup(const char *name, const char *loc)
{
    const json_t *v = data_root ? json_object_get(data_root, name) : NULL;
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

static bool convert_real(const json_t *v, double *out)
{
    if (!json_is_number(v))
        return json_is_string(v) && special_real(json_string_value(v), out);
    *out = json_number_value(v);
    return true;
}

/* An int is a JSON integer (read exactly, int64's whole range), or a number written with a
 * fraction or exponent that is whole and at most 2^53 in magnitude (7.0, 1e3): above that a
 * double has already rounded it. */
static bool convert_int(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    double x = json_is_real(v) ? json_real_value(v) : NAN;
    if (!is_int64(x) || fabs(x) > 0x1p53)
        return false;
    *out = (int64_t)x;
    return true;
}

static bool convert_bool(const json_t *v, int64_t *out)
{
    if (!json_is_boolean(v))
        return false;
    *out = json_is_true(v) ? 1 : 0;
    return true;
}

static bool convert_string(const json_t *v, char **out)
{
    if (!json_is_string(v))
        return false;
    *out = gc_strdup(json_string_value(v));
    return true;
}

/* Converts one scalar into an 8-byte slot (double, int64_t, or char *); false on mismatch. */
static bool convert_scalar(const json_t *v, int64_t kind, void *slot)
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
static rt_array *build_array(const json_t *v, int64_t kind, int64_t depth,
                             const char *name, const char *loc, char *path)
{
    if (!json_is_array(v))
        fail_type(name, loc, path, kind, depth, v);
    bool pointers = depth > 1 || kind == RT_STRING;
    int64_t n = (int64_t)json_array_size(v);
    rt_array *a = rt_array_new(n, pointers);
    size_t plen = strlen(path);
    for (int64_t k = 0; k < n; k++) {
        const json_t *e = json_array_get(v, (size_t)k);
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
static rt_mat *build_mat(const json_t *v, const char *name, const char *loc)
{
    char path[256] = "";
    if (!json_is_array(v))
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
static rt_tensor *build_tensor(const json_t *v, const char *name, const char *loc)
{
    char path[256] = "";
    int64_t depth = 0, dim[3] = {1, 1, 1};
    for (const json_t *e = v; json_is_array(e) && depth < 4; e = json_array_get(e, 0)) {
        if (depth < 3)
            dim[depth] = (int64_t)json_array_size(e);
        depth++;
        if (json_array_size(e) == 0)
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
    return data_root && json_object_get(data_root, name) != NULL;
}

/* Fetches and converts a scalar data variable into `slot`. */
static void data_scalar(const char *name, const char *loc, int64_t kind, void *slot)
{
    const json_t *v = lookup(name, loc);
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
