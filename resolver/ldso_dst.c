/* Dynamic string tokens: $ORIGIN, $PLATFORM, $LIB and their braced forms (docs/LDSO.md §4,
 * glibc's is_dst and _dl_dst_substitute), with the secure-mode rules of §10.3. */
#include <string.h>

#include "ldso_internal.h"

static bool ldso_is_ident_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Length of the token `ref` at in (just after '$'), braces included; 0 if it is not that
 * token. An unbraced token must not run on into identifier characters ($ORIGINX is not one). */
static size_t ldso_dst_len(const char *in, const char *ref)
{
    bool curly = in[0] == '{';
    const char *p = in + curly;
    size_t rlen = strlen(ref);
    if (strncmp(p, ref, rlen) != 0)
        return 0;
    if (curly ? p[rlen] != '}' : ldso_is_ident_char(p[rlen]))
        return 0;
    return rlen + (curly ? 2 : 0);
}

bool ldso_has_dst(const char *s)
{
    for (const char *p = strchr(s, '$'); p; p = strchr(p + 1, '$'))
        if (ldso_dst_len(p + 1, "ORIGIN") || ldso_dst_len(p + 1, "PLATFORM") ||
            ldso_dst_len(p + 1, "LIB"))
            return true;
    return false;
}

/* is_trusted_path_normalize: the path with "." and ".." components and repeated slashes
 * folded must lie in a system directory. */
static bool ldso_trusted_after_normalize(ldso_session *s, const char *path)
{
    size_t len = strlen(path);
    if (len == 0)
        return false;
    char *norm = arena_alloc(s->a, len + 2);
    char *w = norm;
    for (const char *p = path; *p;) {
        if (p[0] == '/') {
            if (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0')) {
                while (w > norm && *--w != '/')
                    ;
                p += 3;
                continue;
            }
            if (p[1] == '.' && (p[2] == '/' || p[2] == '\0')) {
                p += 2;
                continue;
            }
            if (w > norm && w[-1] == '/') {
                p++;
                continue;
            }
        }
        *w++ = *p++;
    }
    if (w == norm || w[-1] != '/')
        *w++ = '/';
    size_t nlen = (size_t)(w - norm);
    for (size_t i = 0; i < s->host->nsystem_dirs; i++) {
        const char *d = s->host->system_dirs[i];
        size_t dl = strlen(d);
        if (nlen >= dl && memcmp(norm, d, dl) == 0)
            return true;
    }
    return false;
}

static const char *ldso_origin_of(ldso_session *s, const ldso_obj *o)
{
    if (o->origin)
        return o->origin;
    /* The main program's origin is unknown only when /proc/self/exe could not be read; then
     * glibc falls back on LD_ORIGIN_PATH outside secure mode. */
    if (o->kind == LDSO_OBJ_MAIN && !s->opts.secure && s->opts.origin_path &&
        s->opts.origin_path[0])
        return s->opts.origin_path;
    return NULL;
}

/* Appends len bytes of src to the growing string *out (n used, cap allocated). */
static void ldso_put(arena *a, char **out, size_t *n, size_t *cap, const char *src, size_t len)
{
    if (*n + len + 1 > *cap) {
        size_t ncap = *cap * 2 > *n + len + 1 ? *cap * 2 : *n + len + 1;
        *out = arena_grow(a, *out, *n, ncap, 1);
        *cap = ncap;
    }
    memcpy(*out + *n, src, len);
    *n += len;
}

const char *ldso_dst_expand(ldso_session *s, const ldso_obj *o, const char *in)
{
    if (!strchr(in, '$'))
        return in;
    size_t cap = strlen(in) + 1, n = 0;
    char *out = arena_alloc(s->a, cap);
    bool check_trusted = false;
    for (const char *p = in; *p;) {
        if (*p != '$') {
            ldso_put(s->a, &out, &n, &cap, p++, 1);
            continue;
        }
        const char *tok = p + 1;
        const char *repl = NULL;
        size_t len;
        bool refused = false;
        if ((len = ldso_dst_len(tok, "ORIGIN"))) {
            /* In secure mode $ORIGIN is kept only as the whole first component. */
            if (s->opts.secure && !(p == in && (tok[len] == '\0' || tok[len] == '/')))
                refused = true;
            else
                repl = ldso_origin_of(s, o);
            check_trusted = s->opts.secure && o->kind == LDSO_OBJ_MAIN;
        } else if ((len = ldso_dst_len(tok, "PLATFORM"))) {
            repl = s->host->platform;
        } else if ((len = ldso_dst_len(tok, "LIB"))) {
            repl = s->host->lib;
        }
        if (len == 0) {
            /* Not a token we know: the '$' stays, literally. */
            ldso_put(s->a, &out, &n, &cap, p++, 1);
            continue;
        }
        if (refused || !repl)
            return NULL;
        ldso_put(s->a, &out, &n, &cap, repl, strlen(repl));
        p = tok + len;
    }
    out[n] = '\0';
    if (check_trusted && !ldso_trusted_after_normalize(s, out))
        return NULL;
    return out;
}
