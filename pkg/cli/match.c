/*
 * Matching as kube-apiserver does for the CRDs: their `pattern`s and CEL matches() are ECMA /
 * RE2 expressions, translated here to POSIX extended expressions (escapes inside brackets, \s,
 * \d); and CIDRs as CEL's isCIDR() / containsCIDR() read them.
 */
#include "cli/private/cli_private.h"

#include <arpa/inet.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* Appends one bracket expression ([...] at *p, past the '[') in POSIX form: ']' first, '-'
 * last, escapes as literals. Returns the position after the closing ']'. */
static const char *bracket_to_posix(const char *p, struct np_buf *out)
{
    struct np_buf body;
    np_buf_init(&body);
    bool negate = *p == '^', close = false, dash = false;
    if (negate)
        p++;
    for (; *p && *p != ']'; p++) {
        char c = *p;
        if (c == '\\' && p[1]) {
            c = *++p;
            if (c == 's') {
                np_buf_puts(&body, "[:space:]");
                continue;
            }
            if (c == 'd') {
                np_buf_puts(&body, "0-9");
                continue;
            }
        } else if (c == '-' && body.len > 0 && p[1] && p[1] != ']') {
            np_buf_putc(&body, '-'); /* a range */
            continue;
        }
        if (c == ']')
            close = true;
        else if (c == '-')
            dash = true;
        else
            np_buf_putc(&body, c);
    }
    np_buf_puts(out, negate ? "[^" : "[");
    if (close)
        np_buf_putc(out, ']');
    np_buf_puts(out, np_buf_cstr(&body));
    if (dash)
        np_buf_putc(out, '-');
    np_buf_putc(out, ']');
    np_buf_clean_up(&body);
    return *p ? p + 1 : p;
}

static char *pattern_to_posix(const char *pattern)
{
    struct np_buf out;
    np_buf_init(&out);
    for (const char *p = pattern; *p;) {
        if (*p == '[') {
            p = bracket_to_posix(p + 1, &out);
        } else if (*p == '\\' && p[1]) {
            if (p[1] == 's')
                np_buf_puts(&out, "[[:space:]]");
            else if (p[1] == 'd')
                np_buf_puts(&out, "[0-9]");
            else
                np_buf_appendf(&out, "\\%c", p[1]);
            p += 2;
        } else {
            np_buf_putc(&out, *p++);
        }
    }
    return np_buf_take(&out);
}

bool np_cli_pattern_matches(const char *pattern, const char *s, bool *ok)
{
    char *posix = pattern_to_posix(pattern);
    regex_t re;
    *ok = regcomp(&re, posix, REG_EXTENDED | REG_NOSUB) == 0;
    free(posix);
    if (!*ok)
        return false;
    bool m = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return m;
}

/* The prefix length: decimal digits without a leading zero, at most max. */
static bool parse_bits(const char *s, int max, int *bits)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 3 || (s[0] == '0' && s[1]))
        return false;
    *bits = (int)strtol(s, NULL, 10);
    return *bits <= max;
}

bool np_cli_cidr_parse(const char *s, struct np_cli_cidr *out)
{
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= 64)
        return false;
    char addr[64];
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    memset(out, 0, sizeof(*out));
    if (strchr(addr, ':')) {
        out->family = 6;
        return inet_pton(AF_INET6, addr, out->addr) == 1 && parse_bits(slash + 1, 128, &out->bits);
    }
    out->family = 4;
    return inet_pton(AF_INET, addr, out->addr) == 1 && parse_bits(slash + 1, 32, &out->bits);
}

bool np_cli_cidr_contains(const struct np_cli_cidr *a, const struct np_cli_cidr *b)
{
    if (a->family != b->family || a->bits > b->bits)
        return false;
    int full = a->bits / 8, rest = a->bits % 8;
    if (memcmp(a->addr, b->addr, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->addr[full] & mask) == (b->addr[full] & mask);
}
