/* Byte strings as JSON strings or {"hex": ...} objects; see json_bytes.h. */
#include "json_bytes.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF, no NUL,
 * since jansson refuses those when it reads the file back. */
static bool json_bytes_utf8_valid(const unsigned char *s, size_t n)
{
    const unsigned char *end = s + n;
    while (s < end) {
        unsigned c = *s++;
        if (c == 0)
            return false;
        int more = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                 : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (more < 0 || (more == 1 && c < 0xc2) || (more == 3 && c > 0xf4) ||
            end - s < more)
            return false;
        unsigned cp = c & (0x3f >> more);
        for (int i = 0; i < more; i++, s++) {
            if ((*s & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (*s & 0x3f);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
    }
    return true;
}

static const char json_bytes_digits[] = "0123456789abcdef";

static json_t *json_bytes_strn(const char *s, size_t n)
{
    if (json_bytes_utf8_valid((const unsigned char *)s, n))
        return json_stringn(s, n);
    char *hex = malloc(2 * n + 1);
    if (!hex)
        return json_null();
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = json_bytes_digits[(unsigned char)s[i] >> 4];
        hex[2 * i + 1] = json_bytes_digits[(unsigned char)s[i] & 15];
    }
    json_t *o = json_object();
    json_object_set_new(o, "hex", json_stringn(hex, 2 * n));
    free(hex);
    return o;
}

json_t *json_bytes_str(const char *s)
{
    return s ? json_bytes_strn(s, strlen(s)) : json_null();
}

void json_bytes_write(FILE *f, const char *s, size_t n)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    if (!json_bytes_utf8_valid((const unsigned char *)s, n)) {
        fputs("{\"hex\": \"", f);
        for (size_t i = 0; i < n; i++) {
            putc(json_bytes_digits[(unsigned char)s[i] >> 4], f);
            putc(json_bytes_digits[(unsigned char)s[i] & 15], f);
        }
        fputs("\"}", f);
        return;
    }
    /* RFC 8259 escapes only the quote, the backslash and control characters; runs of other
     * bytes (UTF-8 included) go out in one piece */
    putc('"', f);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        fwrite(s + run, 1, i - run, f);
        run = i + 1;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else
            fprintf(f, "\\u%04x", c);
    }
    fwrite(s + run, 1, n - run, f);
    putc('"', f);
}

static int json_bytes_hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int json_bytes_get_strn(const json_t *v, arena *a, const char **out, size_t *len,
                        const char *where, const char *key, bf_err *err)
{
    *out = NULL;
    *len = 0;
    if (json_is_null(v))
        return BF_OK;
    if (json_is_string(v)) {
        *len = json_string_length(v);
        *out = arena_strndup(a, json_string_value(v), *len);
        return BF_OK;
    }
    const json_t *hex = json_is_object(v) ? json_object_get(v, "hex") : NULL;
    if (!json_is_string(hex) || json_string_length(hex) % 2)
        return err_set(err, "%s: \"%s\" must be a string, null or {\"hex\": ...}", where, key);
    const char *h = json_string_value(hex);
    size_t n = json_string_length(hex) / 2;
    char *s = arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++) {
        int hi = json_bytes_hex_digit(h[2 * i]), lo = json_bytes_hex_digit(h[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return err_set(err, "%s: \"%s\" has a bad hex string", where, key);
        s[i] = (char)(hi << 4 | lo);
    }
    *out = s;
    *len = n;
    return BF_OK;
}

int json_bytes_get_str(const json_t *v, arena *a, const char **out, const char *where,
                       const char *key, bf_err *err)
{
    size_t len;
    if (json_bytes_get_strn(v, a, out, &len, where, key, err))
        return BF_FAIL;
    if (*out && memchr(*out, '\0', len))
        return err_set(err, "%s: \"%s\" %s", where, key,
                       json_is_string(v) ? "holds a NUL character" : "has a bad hex string");
    return BF_OK;
}
