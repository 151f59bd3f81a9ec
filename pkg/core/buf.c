/*
 * Growable NUL-terminated byte buffers and bounded string helpers. Out-of-memory aborts:
 * a controller that cannot allocate cannot do anything useful, and every caller stays simple.
 */
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *np_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("netposture: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *np_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        fputs("netposture: out of memory\n", stderr);
        abort();
    }
    return q;
}

void np_buf_init(struct np_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void np_buf_clean_up(struct np_buf *b)
{
    free(b->data);
    np_buf_init(b);
}

void np_buf_reset(struct np_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int np_buf_reserve(struct np_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = np_xrealloc(b->data, cap);
    b->cap = cap;
    return 0;
}

int np_buf_append(struct np_buf *b, const void *data, size_t len)
{
    np_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int np_buf_puts(struct np_buf *b, const char *s)
{
    return np_buf_append(b, s, strlen(s));
}

int np_buf_putc(struct np_buf *b, char c)
{
    return np_buf_append(b, &c, 1);
}

int np_buf_vappendf(struct np_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return np_error_set(NP_EINVAL, "bad format string");
    np_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int np_buf_appendf(struct np_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = np_buf_vappendf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *np_buf_cstr(const struct np_buf *b)
{
    return b->data ? b->data : "";
}

char *np_buf_take(struct np_buf *b)
{
    char *s = b->data ? b->data : np_strdup("");
    np_buf_init(b);
    return s;
}

void np_buf_consume(struct np_buf *b, size_t n)
{
    if (n >= b->len) {
        np_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *np_strdup(const char *s)
{
    if (!s)
        return NULL;
    return np_strndup(s, strlen(s));
}

char *np_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *p = np_xcalloc(len + 1, 1);
    memcpy(p, s, len);
    return p;
}

char *np_strdupf(const char *fmt, ...)
{
    struct np_buf b = NP_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    np_buf_vappendf(&b, fmt, ap);
    va_end(ap);
    return np_buf_take(&b);
}

size_t np_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

bool np_str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool np_str_has_prefix(const char *s, const char *prefix)
{
    return s && prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

bool np_str_is_empty(const char *s)
{
    return !s || !*s;
}

int np_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (np_str_is_empty(s))
        return np_error_set(NP_EINVAL, "empty number");
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end != '\0')
        return np_error_set(NP_EINVAL, "not a whole number: \"%.64s\"", s);
    if (v < min || v > max)
        return np_error_set(NP_EINVAL, "%lld is out of range [%lld, %lld]", v, (long long)min,
                            (long long)max);
    *out = v;
    return 0;
}

void np_hex_encode(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

uint64_t np_fnv1a64(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t np_hash_str(const char *s)
{
    return np_fnv1a64(s, strlen(s), NP_FNV1A64_OFFSET);
}
