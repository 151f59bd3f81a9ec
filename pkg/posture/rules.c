/*
 * Canonical forms and atomic rule sets: protocols, ports and CIDRs the way AWS stores them,
 * so that server-filled spellings (6, -1 with ports, unmasked CIDRs, IPv6 case) never count
 * as drift; identity comparison, sorting, deduplication and the stable rule text.
 */
#include "posture/private/posture_private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int np_posture_protocol_canonical(const char *in, char out[8])
{
    static const struct {
        const char *name;
        const char *canon;
    } names[] = {
        {"tcp", "tcp"}, {"6", "tcp"},       {"udp", "udp"},      {"17", "udp"}, {"icmp", "icmp"},
        {"1", "icmp"},  {"icmpv6", "icmpv6"}, {"58", "icmpv6"}, {"all", "-1"}, {"-1", "-1"},
    };
    if (np_str_is_empty(in))
        return np_error_set(NP_EINVAL, "empty protocol");
    for (size_t i = 0; i < NP_ARRAY_LEN(names); i++) {
        if (strcasecmp(in, names[i].name) == 0) {
            np_strlcpy(out, names[i].canon, 8);
            return 0;
        }
    }
    int64_t v;
    if (np_parse_int64(in, 0, 255, &v) != 0)
        return np_error_set(NP_EINVAL,
                            "protocol \"%.16s\" is not tcp, udp, icmp, icmpv6, all or 0-255", in);
    snprintf(out, 8, "%d", (int)v);
    return 0;
}

bool np_posture_protocol_has_ports(const char *p)
{
    return p && (strcmp(p, "tcp") == 0 || strcmp(p, "udp") == 0 || strcmp(p, "icmp") == 0 ||
                 strcmp(p, "icmpv6") == 0);
}

static bool is_icmp(const char *p)
{
    return strcmp(p, "icmp") == 0 || strcmp(p, "icmpv6") == 0;
}

int np_posture_cidr_canonical(char **out, const char *in, bool ipv6)
{
    *out = NULL;
    const char *slash = in ? strchr(in, '/') : NULL;
    char addr[64];
    if (!slash || (size_t)(slash - in) >= sizeof(addr))
        goto bad;
    memcpy(addr, in, (size_t)(slash - in));
    addr[slash - in] = '\0';
    int64_t prefix;
    if (np_parse_int64(slash + 1, 0, ipv6 ? 128 : 32, &prefix) != 0)
        goto bad;
    unsigned char bytes[16];
    if (inet_pton(ipv6 ? AF_INET6 : AF_INET, addr, bytes) != 1)
        goto bad;
    size_t len = ipv6 ? 16 : 4;
    for (size_t i = 0; i < len; i++) {
        int keep = (int)prefix - (int)(i * 8);
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
        bytes[i] &= mask;
    }
    char text[INET6_ADDRSTRLEN];
    inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, text, sizeof(text));
    *out = np_strdupf("%s/%d", text, (int)prefix);
    return 0;
bad:
    return np_error_set(NP_EINVAL, "\"%.64s\" is not a valid %s CIDR", in ? in : "",
                        ipv6 ? "IPv6" : "IPv4");
}

/* Canonical ports for a canonical protocol: none (-1/-1) unless the protocol has them;
 * ICMP type -1 forces code -1. */
static void canonical_ports(const char *proto, bool has_ports, int *from, int *to)
{
    if (!np_posture_protocol_has_ports(proto) || !has_ports) {
        *from = -1;
        *to = -1;
        return;
    }
    if (is_icmp(proto) && *from == -1)
        *to = -1;
}

int np_posture_rule_cmp(const struct np_posture_rule *a, const struct np_posture_rule *b)
{
    if (a->direction != b->direction)
        return (int)a->direction - (int)b->direction;
    int c = strcmp(a->protocol, b->protocol);
    if (c)
        return c;
    if (a->from_port != b->from_port)
        return a->from_port < b->from_port ? -1 : 1;
    if (a->to_port != b->to_port)
        return a->to_port < b->to_port ? -1 : 1;
    if (a->peer_kind != b->peer_kind)
        return (int)a->peer_kind - (int)b->peer_kind;
    return strcmp(a->peer, b->peer);
}

static int rule_qsort_cmp(const void *a, const void *b)
{
    return np_posture_rule_cmp(a, b);
}

void np_posture_rule_clean_up(struct np_posture_rule *r)
{
    free(r->protocol);
    free(r->peer);
    free(r->description);
    memset(r, 0, sizeof(*r));
}

void np_posture_rule_copy(struct np_posture_rule *dst, const struct np_posture_rule *src)
{
    *dst = *src;
    dst->protocol = np_strdup(src->protocol);
    dst->peer = np_strdup(src->peer);
    dst->description = np_strdup(src->description);
}

void np_posture_ruleset_clean_up(struct np_posture_ruleset *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        np_posture_rule_clean_up(&rs->rules[i]);
    free(rs->rules);
    rs->rules = NULL;
    rs->n = 0;
}

/* Appends a copy of r to rs. */
void np_posture_ruleset_add(struct np_posture_ruleset *rs, const struct np_posture_rule *r)
{
    rs->rules = np_xrealloc(rs->rules, (rs->n + 1) * sizeof(*rs->rules));
    np_posture_rule_copy(&rs->rules[rs->n++], r);
}

/* Sorts by identity and drops duplicates (the first description wins). */
void np_posture_ruleset_sort_unique(struct np_posture_ruleset *rs)
{
    if (rs->n < 2)
        return;
    qsort(rs->rules, rs->n, sizeof(*rs->rules), rule_qsort_cmp);
    size_t w = 1;
    for (size_t i = 1; i < rs->n; i++) {
        if (np_posture_rule_cmp(&rs->rules[w - 1], &rs->rules[i]) == 0) {
            if (!rs->rules[w - 1].description && rs->rules[i].description) {
                rs->rules[w - 1].description = rs->rules[i].description;
                rs->rules[i].description = NULL;
            }
            np_posture_rule_clean_up(&rs->rules[i]);
            continue;
        }
        rs->rules[w++] = rs->rules[i];
    }
    rs->n = w;
}

/* Canonicalises a peer of the given kind (owned). Unparseable CIDRs are kept verbatim. */
static char *canonical_peer(enum np_posture_peer_kind kind, const char *peer)
{
    char *out = NULL;
    if ((kind == NP_POSTURE_PEER_CIDR4 || kind == NP_POSTURE_PEER_CIDR6) &&
        np_posture_cidr_canonical(&out, peer, kind == NP_POSTURE_PEER_CIDR6) == 0)
        return out;
    return np_strdup(peer ? peer : "");
}

int np_posture_observed(struct np_posture_ruleset *out, const struct np_posture_raw_rule *raw,
                        size_t n)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        char proto[8];
        if (np_posture_protocol_canonical(raw[i].protocol, proto) != 0)
            np_strlcpy(proto, raw[i].protocol ? raw[i].protocol : "?", sizeof(proto));
        struct np_posture_rule r = {
            raw[i].egress ? NP_POSTURE_EGRESS : NP_POSTURE_INGRESS,
            proto,
            raw[i].from_port,
            raw[i].to_port,
            raw[i].peer_kind,
            NULL,
            np_str_is_empty(raw[i].description) ? NULL : (char *)raw[i].description,
        };
        canonical_ports(proto, raw[i].has_ports, &r.from_port, &r.to_port);
        r.peer = canonical_peer(raw[i].peer_kind, raw[i].peer);
        np_posture_ruleset_add(out, &r);
        free(r.peer);
    }
    np_posture_ruleset_sort_unique(out);
    return 0;
}

int np_posture_desired(struct np_posture_ruleset *out, const struct np_posture_sg_spec *spec,
                       np_posture_resolve_fn resolve, void *ctx)
{
    memset(out, 0, sizeof(*out));
    const struct {
        const struct np_posture_rule *rules;
        size_t n;
    } lists[] = {{spec->ingress, spec->n_ingress}, {spec->egress, spec->n_egress}};
    for (size_t l = 0; l < NP_ARRAY_LEN(lists); l++) {
        for (size_t i = 0; i < lists[l].n; i++) {
            const struct np_posture_rule *src = &lists[l].rules[i];
            if (src->peer_kind != NP_POSTURE_PEER_GROUP_NAME) {
                np_posture_ruleset_add(out, src);
                continue;
            }
            char *gid = NULL;
            int rc = resolve ? resolve(ctx, src->peer, &gid)
                             : np_error_set(NP_ENOTFOUND, "no resolver for group names");
            if (rc) {
                np_posture_ruleset_clean_up(out);
                return rc;
            }
            struct np_posture_rule r = *src;
            r.peer_kind = NP_POSTURE_PEER_GROUP;
            r.peer = gid;
            np_posture_ruleset_add(out, &r);
            free(gid);
        }
    }
    if (spec->egress_omitted) {
        struct np_posture_rule def = {NP_POSTURE_EGRESS, "-1", -1, -1, NP_POSTURE_PEER_CIDR4,
                                      "0.0.0.0/0", NULL};
        np_posture_ruleset_add(out, &def);
    }
    np_posture_ruleset_sort_unique(out);
    return 0;
}

const char *np_posture_direction_name(enum np_posture_direction d)
{
    return d == NP_POSTURE_EGRESS ? "egress" : "ingress";
}

char *np_posture_rule_text(const struct np_posture_rule *r)
{
    struct np_buf b = NP_BUF_INIT;
    const char *p = r->protocol;
    if (strcmp(p, "-1") == 0) {
        np_buf_puts(&b, "all");
    } else if (is_icmp(p)) {
        np_buf_puts(&b, p);
        if (r->from_port != -1) {
            np_buf_appendf(&b, " type %d", r->from_port);
            if (r->to_port != -1)
                np_buf_appendf(&b, " code %d", r->to_port);
        }
    } else {
        np_buf_puts(&b, p);
        if (np_posture_protocol_has_ports(p)) {
            if (r->from_port == r->to_port)
                np_buf_appendf(&b, " %d", r->from_port);
            else
                np_buf_appendf(&b, " %d-%d", r->from_port, r->to_port);
        }
    }
    np_buf_appendf(&b, " %s", r->peer ? r->peer : "");
    return np_buf_take(&b);
}

/* Case-insensitive check used to keep tag keys in their reserved spaces. */
bool np_posture_tag_is_reserved(const char *key)
{
    return np_str_has_prefix(key, NP_POSTURE_TAG_PREFIX) || strncasecmp(key, "aws:", 4) == 0;
}

/* Validates and canonicalises one declared atomic rule in place (path names the field). */
int np_posture_rule_canonicalize(struct np_posture_rule *r, bool has_from, bool has_to,
                                 const char *path)
{
    char proto[8];
    if (np_posture_protocol_canonical(r->protocol, proto) != 0)
        return np_error_set(NP_EINVAL, "%s.protocol: %s", path, np_error_message());
    free(r->protocol);
    r->protocol = np_strdup(proto);
    if (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0) {
        if (!has_from || !has_to)
            return np_error_set(NP_EINVAL, "%s: %s rules need fromPort and toPort", path, proto);
        if (r->from_port < 0 || r->to_port > 65535 || r->from_port > r->to_port)
            return np_error_set(NP_EINVAL, "%s: fromPort %d > toPort %d or out of 0-65535",
                                path, r->from_port, r->to_port);
    } else if (is_icmp(proto)) {
        if (!has_from)
            r->from_port = -1;
        if (!has_to)
            r->to_port = -1;
        if (r->from_port < -1 || r->from_port > 255 || r->to_port < -1 || r->to_port > 255)
            return np_error_set(NP_EINVAL, "%s: ICMP type and code must be -1 or 0-255", path);
    }
    canonical_ports(proto, true, &r->from_port, &r->to_port);
    if (r->peer_kind == NP_POSTURE_PEER_CIDR4 || r->peer_kind == NP_POSTURE_PEER_CIDR6) {
        char *c = NULL;
        if (np_posture_cidr_canonical(&c, r->peer, r->peer_kind == NP_POSTURE_PEER_CIDR6) != 0)
            return np_error_set(NP_EINVAL, "%s: %s", path, np_error_message());
        free(r->peer);
        r->peer = c;
    }
    return 0;
}

/* Lower-cases in place (prefix list and group ids are case-insensitive hex). */
void np_posture_lower(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}
