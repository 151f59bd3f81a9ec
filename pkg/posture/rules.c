/*
 * Canonical forms and atomic rule sets: protocols, ports and CIDRs the way AWS stores them,
 * so server-side spellings (6 for tcp, -1 with ports, unmasked CIDRs, IPv6 case) never count
 * as drift; the two normalisers (declared spec, observed AWS rules), identity order, stable
 * deduplication and the rule text.
 */
#include "posture/private/posture_private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- canonical forms */

/* Parses 1-8 decimal digits (no sign, no spaces) into *v; false otherwise. */
static bool parse_digits(const char *s, int *v)
{
    size_t len = strlen(s);
    if (len == 0 || len > 8)
        return false;
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        n = n * 10 + (s[i] - '0');
    }
    *v = n;
    return true;
}

int np_posture_protocol_canonical(const char *in, char out[8])
{
    static const struct {
        const char *name;
        const char *canon;
    } names[] = {
        {"tcp", "tcp"},       {"udp", "udp"}, {"icmp", "icmp"},
        {"icmpv6", "icmpv6"}, {"all", "-1"},  {"-1", "-1"},
    };
    static const struct {
        int number;
        const char *canon;
    } numbers[] = {{6, "tcp"}, {17, "udp"}, {1, "icmp"}, {58, "icmpv6"}};
    if (np_str_is_empty(in))
        return np_error_set(NP_EINVAL, "protocol is empty");
    for (size_t i = 0; i < NP_ARRAY_LEN(names); i++) {
        if (strcasecmp(in, names[i].name) == 0) {
            np_strlcpy(out, names[i].canon, 8);
            return 0;
        }
    }
    int v = 0;
    if (!parse_digits(in, &v) || v > 255)
        return np_error_set(NP_EINVAL,
                            "\"%.32s\" is not tcp, udp, icmp, icmpv6, all, -1 or a protocol "
                            "number 0-255",
                            in);
    for (size_t i = 0; i < NP_ARRAY_LEN(numbers); i++) {
        if (numbers[i].number == v) {
            np_strlcpy(out, numbers[i].canon, 8);
            return 0;
        }
    }
    char number[16];
    snprintf(number, sizeof(number), "%d", v);
    np_strlcpy(out, number, 8);
    return 0;
}

bool np_posture_protocol_is_icmp(const char *p)
{
    return p && (strcmp(p, "icmp") == 0 || strcmp(p, "icmpv6") == 0);
}

bool np_posture_protocol_has_ports(const char *p)
{
    return p && (strcmp(p, "tcp") == 0 || strcmp(p, "udp") == 0 || np_posture_protocol_is_icmp(p));
}

bool np_posture_cidr_parse(const char *in, bool ipv6, unsigned char bytes[16], int *prefix)
{
    char addr[64];
    const char *slash = in ? strchr(in, '/') : NULL;
    memset(bytes, 0, 16);
    if (!slash || slash == in || (size_t)(slash - in) >= sizeof(addr) ||
        !parse_digits(slash + 1, prefix) || strlen(slash + 1) > 3 || *prefix > (ipv6 ? 128 : 32))
        return false;
    memcpy(addr, in, (size_t)(slash - in));
    addr[slash - in] = '\0';
    if (inet_pton(ipv6 ? AF_INET6 : AF_INET, addr, bytes) != 1)
        return false;
    size_t len = ipv6 ? 16 : 4;
    for (size_t i = 0; i < len; i++) {
        int keep = *prefix - (int)(i * 8);
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
        bytes[i] &= mask;
    }
    return true;
}

int np_posture_cidr_canonical(char **out, const char *in, bool ipv6)
{
    unsigned char bytes[16];
    char text[INET6_ADDRSTRLEN];
    int prefix = 0;
    *out = NULL;
    if (!np_posture_cidr_parse(in, ipv6, bytes, &prefix) ||
        !inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, text, sizeof(text)))
        return np_error_set(NP_EINVAL, "\"%.64s\" is not a valid %s CIDR", in ? in : "",
                            ipv6 ? "IPv6" : "IPv4");
    *out = np_strdupf("%s/%d", text, prefix);
    return 0;
}

bool np_posture_tag_is_reserved(const char *key)
{
    return key &&
           (np_str_has_prefix(key, NP_POSTURE_TAG_PREFIX) || strncasecmp(key, "aws:", 4) == 0);
}

void np_posture_ports_canonical(const char *p, bool has_ports, int *from, int *to)
{
    if (!has_ports || !np_posture_protocol_has_ports(p)) {
        *from = -1;
        *to = -1;
        return;
    }
    if (np_posture_protocol_is_icmp(p) && *from == -1)
        *to = -1;
}

/* Lower-cases in place (ids and unparsed values; AWS ids are lowercase hex). */
void np_posture_lower(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* ---------------------------------------------------------------- rules and rule sets */

int np_posture_rule_cmp(const struct np_posture_rule *a, const struct np_posture_rule *b)
{
    if (a->direction != b->direction)
        return a->direction < b->direction ? -1 : 1;
    int c = strcmp(a->protocol ? a->protocol : "", b->protocol ? b->protocol : "");
    if (c)
        return c;
    if (a->from_port != b->from_port)
        return a->from_port < b->from_port ? -1 : 1;
    if (a->to_port != b->to_port)
        return a->to_port < b->to_port ? -1 : 1;
    if (a->peer_kind != b->peer_kind)
        return a->peer_kind < b->peer_kind ? -1 : 1;
    return strcmp(a->peer ? a->peer : "", b->peer ? b->peer : "");
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

void np_posture_ruleset_add(struct np_posture_ruleset *rs, const struct np_posture_rule *r)
{
    rs->rules = np_xrealloc(rs->rules, (rs->n + 1) * sizeof(*rs->rules));
    np_posture_rule_copy(&rs->rules[rs->n++], r);
}

struct ranked {
    struct np_posture_rule *rule;
    size_t index;
};

/* Identity, then input position: qsort becomes stable. */
static int ranked_cmp(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;
    int c = np_posture_rule_cmp(a->rule, b->rule);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

void np_posture_ruleset_sort_unique(struct np_posture_ruleset *rs)
{
    struct ranked *order = NULL;
    struct np_posture_rule *sorted = NULL;
    if (rs->n < 2)
        goto out;
    order = np_xcalloc(rs->n, sizeof(*order));
    for (size_t i = 0; i < rs->n; i++)
        order[i] = (struct ranked){&rs->rules[i], i};
    qsort(order, rs->n, sizeof(*order), ranked_cmp);
    sorted = np_xcalloc(rs->n, sizeof(*sorted));
    size_t w = 0;
    for (size_t i = 0; i < rs->n; i++) {
        struct np_posture_rule *r = order[i].rule;
        if (w > 0 && np_posture_rule_cmp(&sorted[w - 1], r) == 0) {
            /* A duplicate: keep the first, take its description if the first has none. */
            if (!sorted[w - 1].description && r->description) {
                sorted[w - 1].description = r->description;
                r->description = NULL;
            }
            np_posture_rule_clean_up(r);
            continue;
        }
        sorted[w++] = *r;
    }
    free(rs->rules);
    rs->rules = sorted;
    rs->n = w;
    sorted = NULL;
out:
    free(sorted);
    free(order);
}

/* ---------------------------------------------------------------- observed */

/* Canonical peer text of an observed rule (owned); what does not parse stays verbatim. */
static char *observed_peer(enum np_posture_peer_kind kind, const char *peer)
{
    char *out = NULL;
    if ((kind == NP_POSTURE_PEER_CIDR4 || kind == NP_POSTURE_PEER_CIDR6) &&
        np_posture_cidr_canonical(&out, peer, kind == NP_POSTURE_PEER_CIDR6) == 0)
        return out;
    out = np_strdup(peer ? peer : "");
    if (kind != NP_POSTURE_PEER_GROUP_NAME)
        np_posture_lower(out);
    return out;
}

int np_posture_observed(struct np_posture_ruleset *out, const struct np_posture_raw_rule *raw,
                        size_t n)
{
    memset(out, 0, sizeof(*out));
    out->rules = np_xcalloc(n ? n : 1, sizeof(*out->rules));
    for (size_t i = 0; i < n; i++) {
        const struct np_posture_raw_rule *in = &raw[i];
        struct np_posture_rule *r = &out->rules[out->n++];
        char proto[8];
        if (np_posture_protocol_canonical(in->protocol, proto) == 0) {
            r->protocol = np_strdup(proto);
        } else {
            r->protocol = np_strdup(in->protocol ? in->protocol : "");
            np_posture_lower(r->protocol);
        }
        r->direction = in->egress ? NP_POSTURE_EGRESS : NP_POSTURE_INGRESS;
        r->from_port = in->from_port;
        r->to_port = in->to_port;
        np_posture_ports_canonical(r->protocol, in->has_ports, &r->from_port, &r->to_port);
        r->peer_kind = in->peer_kind;
        r->peer = observed_peer(in->peer_kind, in->peer);
        r->description = np_str_is_empty(in->description) ? NULL : np_strdup(in->description);
    }
    np_posture_ruleset_sort_unique(out);
    return 0;
}

/* ---------------------------------------------------------------- desired */

/* Appends one canonical atomic rule (strings copied). */
static void add_atomic(struct np_posture_ruleset *out, enum np_posture_direction dir,
                       const char *proto, int from, int to, enum np_posture_peer_kind kind,
                       const char *peer, const char *description)
{
    struct np_posture_rule r = {dir,
                                (char *)proto,
                                from,
                                to,
                                kind,
                                (char *)peer,
                                np_str_is_empty(description) ? NULL : (char *)description};
    np_posture_ruleset_add(out, &r);
}

/* Expands one declared rule at path into atomic canonical rules appended to out. */
static int expand_rule(struct np_posture_ruleset *out, enum np_posture_direction dir,
                       const struct np_posture_rule_spec *rs, const char *path,
                       np_posture_resolve_fn resolve, void *ctx)
{
    int rc = 0;
    char *canon = NULL;
    char *gid = NULL;
    char proto[8];
    rc = np_posture_protocol_canonical(rs->protocol, proto);
    if (rc) {
        np_error_set(rc, "%s.protocol: %s", path, np_error_message());
        goto out;
    }
    int from = rs->has_from_port ? rs->from_port : -1;
    int to = rs->has_to_port ? rs->to_port : -1;
    np_posture_ports_canonical(proto, true, &from, &to);
    const char *desc = rs->description;
    const struct {
        const char *field;
        char **items;
        size_t n;
        enum np_posture_peer_kind kind;
    } lists[] = {
        {"cidrs", rs->cidrs, rs->n_cidrs, NP_POSTURE_PEER_CIDR4},
        {"ipv6Cidrs", rs->ipv6_cidrs, rs->n_ipv6_cidrs, NP_POSTURE_PEER_CIDR6},
        {"prefixListIds", rs->prefix_list_ids, rs->n_prefix_list_ids, NP_POSTURE_PEER_PREFIX_LIST},
    };
    for (size_t l = 0; l < NP_ARRAY_LEN(lists); l++) {
        for (size_t i = 0; i < lists[l].n; i++) {
            if (lists[l].kind == NP_POSTURE_PEER_PREFIX_LIST) {
                canon = np_strdup(lists[l].items[i]);
                np_posture_lower(canon);
            } else {
                rc = np_posture_cidr_canonical(&canon, lists[l].items[i],
                                               lists[l].kind == NP_POSTURE_PEER_CIDR6);
                if (rc) {
                    np_error_set(rc, "%s.%s[%zu]: %s", path, lists[l].field, i, np_error_message());
                    goto out;
                }
            }
            add_atomic(out, dir, proto, from, to, lists[l].kind, canon, desc);
            free(canon);
            canon = NULL;
        }
    }
    for (size_t i = 0; i < rs->n_security_groups; i++) {
        const struct np_posture_group_ref *g = &rs->security_groups[i];
        if (!np_str_is_empty(g->group_id)) {
            canon = np_strdup(g->group_id);
        } else if (!resolve) {
            rc = np_error_set(NP_ENOTFOUND,
                              "%s.securityGroups[%zu]: SecurityGroupPosture \"%s\" cannot be "
                              "resolved (no resolver)",
                              path, i, g->name ? g->name : "");
            goto out;
        } else {
            np_error_clear();
            rc = resolve(ctx, g->name ? g->name : "", &gid);
            if (rc == 0 && np_str_is_empty(gid))
                rc = np_error_set(NP_ENOTFOUND, "SecurityGroupPosture \"%s\" has no group id",
                                  g->name ? g->name : "");
            if (rc) {
                if (np_str_is_empty(np_error_message()))
                    np_error_set(rc, "SecurityGroupPosture \"%s\" cannot be resolved",
                                 g->name ? g->name : "");
                np_error_set(rc, "%s.securityGroups[%zu]: %s", path, i, np_error_message());
                goto out;
            }
            canon = gid;
            gid = NULL;
        }
        np_posture_lower(canon);
        add_atomic(out, dir, proto, from, to, NP_POSTURE_PEER_GROUP, canon, desc);
        free(canon);
        canon = NULL;
    }
out:
    free(gid);
    free(canon);
    return rc;
}

int np_posture_desired(struct np_posture_ruleset *out, const struct np_posture_sg_spec *spec,
                       np_posture_resolve_fn resolve, void *ctx)
{
    int rc = 0;
    memset(out, 0, sizeof(*out));
    const struct {
        const char *field;
        enum np_posture_direction dir;
        const struct np_posture_rule_spec *rules;
        size_t n;
    } lists[] = {
        {"ingress", NP_POSTURE_INGRESS, spec->ingress, spec->n_ingress},
        {"egress", NP_POSTURE_EGRESS, spec->egress, spec->n_egress},
    };
    for (size_t l = 0; l < NP_ARRAY_LEN(lists); l++) {
        for (size_t i = 0; i < lists[l].n; i++) {
            char path[64];
            snprintf(path, sizeof(path), "spec.%s[%zu]", lists[l].field, i);
            rc = expand_rule(out, lists[l].dir, &lists[l].rules[i], path, resolve, ctx);
            if (rc)
                goto out;
        }
    }
    if (spec->egress_omitted)
        add_atomic(out, NP_POSTURE_EGRESS, "-1", -1, -1, NP_POSTURE_PEER_CIDR4, "0.0.0.0/0", NULL);
    np_posture_ruleset_sort_unique(out);
out:
    if (rc)
        np_posture_ruleset_clean_up(out);
    return rc;
}

/* ---------------------------------------------------------------- text */

const char *np_posture_direction_name(enum np_posture_direction d)
{
    return d == NP_POSTURE_EGRESS ? "egress" : "ingress";
}

void np_posture_put_escaped(struct np_buf *b, const char *s, bool quote)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '\\' || (quote && *p == '"')) {
            np_buf_putc(b, '\\');
            np_buf_putc(b, (char)*p);
        } else if (*p == '\n') {
            np_buf_puts(b, "\\n");
        } else if (*p == '\t') {
            np_buf_puts(b, "\\t");
        } else if (*p == '\r') {
            np_buf_puts(b, "\\r");
        } else if (*p < 0x20 || *p == 0x7f) {
            np_buf_appendf(b, "\\x%02x", *p);
        } else {
            np_buf_putc(b, (char)*p);
        }
    }
}

char *np_posture_rule_text(const struct np_posture_rule *r)
{
    struct np_buf b = NP_BUF_INIT;
    const char *p = r->protocol ? r->protocol : "";
    if (strcmp(p, "-1") == 0) {
        np_buf_puts(&b, "all");
    } else if (np_posture_protocol_is_icmp(p)) {
        np_buf_puts(&b, p);
        if (r->from_port != -1)
            np_buf_appendf(&b, " type %d", r->from_port);
        if (r->to_port != -1)
            np_buf_appendf(&b, " code %d", r->to_port);
    } else if (np_posture_protocol_has_ports(p)) {
        np_buf_puts(&b, p);
        if (r->from_port == r->to_port)
            np_buf_appendf(&b, " %d", r->from_port);
        else
            np_buf_appendf(&b, " %d-%d", r->from_port, r->to_port);
    } else {
        np_posture_put_escaped(&b, p, false);
    }
    np_buf_putc(&b, ' ');
    if (r->peer_kind == NP_POSTURE_PEER_GROUP_NAME)
        np_buf_puts(&b, "name:");
    np_posture_put_escaped(&b, r->peer, false);
    return np_buf_take(&b);
}
