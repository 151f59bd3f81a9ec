/*
 * Canonical forms and atomic rule sets: protocols, ports and CIDRs the way AWS stores them,
 * so server-side spellings (6 for tcp, -1 with ports, unmasked CIDRs, IPv6 case) never count
 * as drift; the two normalisers (declared spec, observed AWS rules), the resolution of peer
 * posture names from a table the caller looked up, identity order, stable deduplication and
 * the rule text.
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

/* The declared rule lists of a spec, ingress first. */
struct declared {
    const char *field;
    enum np_posture_direction dir;
    const struct np_posture_rule_spec *rules;
    size_t n;
};

static void declared_lists(const struct np_posture_sg_spec *spec, struct declared lists[2])
{
    lists[0] = (struct declared){"ingress", NP_POSTURE_INGRESS, spec->ingress, spec->n_ingress};
    lists[1] = (struct declared){"egress", NP_POSTURE_EGRESS, spec->egress, spec->n_egress};
}

/* Whether a declared peer group is referred to by name (a group id, when given, wins). */
static bool ref_by_name(const struct np_posture_group_ref *g)
{
    return np_str_is_empty(g->group_id);
}

/* The declared rule's canonical protocol and ports; NP_EINVAL when the protocol is invalid. */
static int declared_head(const struct np_posture_rule_spec *rs, char proto[8], int *from, int *to)
{
    int rc = np_posture_protocol_canonical(rs->protocol, proto);
    if (rc)
        return rc;
    *from = rs->has_from_port ? rs->from_port : -1;
    *to = rs->has_to_port ? rs->to_port : -1;
    np_posture_ports_canonical(proto, true, from, to);
    return 0;
}

/* Appends the atomic rules of the declared rule's peer groups: ids lower-cased, names kept. */
static int expand_groups(struct np_posture_ruleset *out, enum np_posture_direction dir,
                         const struct np_posture_rule_spec *rs, const char *path, const char *proto,
                         int from, int to)
{
    for (size_t i = 0; i < rs->n_security_groups; i++) {
        const struct np_posture_group_ref *g = &rs->security_groups[i];
        if (!ref_by_name(g)) {
            char *canon = np_strdup(g->group_id);
            np_posture_lower(canon);
            add_atomic(out, dir, proto, from, to, NP_POSTURE_PEER_GROUP, canon, rs->description);
            free(canon);
        } else if (np_str_is_empty(g->name)) {
            return np_error_set(NP_EINVAL, "%s.securityGroups[%zu]: groupId or name required", path,
                                i);
        } else {
            add_atomic(out, dir, proto, from, to, NP_POSTURE_PEER_GROUP_NAME, g->name,
                       rs->description);
        }
    }
    return 0;
}

/* Expands one declared rule at path into atomic canonical rules appended to out. */
static int expand_rule(struct np_posture_ruleset *out, enum np_posture_direction dir,
                       const struct np_posture_rule_spec *rs, const char *path)
{
    int rc = 0;
    char *canon = NULL;
    char proto[8];
    int from = -1, to = -1;
    rc = declared_head(rs, proto, &from, &to);
    if (rc) {
        np_error_set(rc, "%s.protocol: %s", path, np_error_message());
        goto out;
    }
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
    rc = expand_groups(out, dir, rs, path, proto, from, to);
out:
    free(canon);
    return rc;
}

int np_posture_desired(struct np_posture_ruleset *out, const struct np_posture_sg_spec *spec)
{
    int rc = 0;
    memset(out, 0, sizeof(*out));
    struct declared lists[2];
    declared_lists(spec, lists);
    for (size_t l = 0; l < NP_ARRAY_LEN(lists); l++) {
        for (size_t i = 0; i < lists[l].n; i++) {
            char path[64];
            snprintf(path, sizeof(path), "spec.%s[%zu]", lists[l].field, i);
            rc = expand_rule(out, lists[l].dir, &lists[l].rules[i], path);
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

/* ---------------------------------------------------------------- peers */

static bool name_listed(const char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(names[i], name))
            return true;
    return false;
}

int np_posture_peer_names(const char ***names, size_t *n, const struct np_posture_sg_spec *spec)
{
    struct declared lists[2];
    declared_lists(spec, lists);
    *names = NULL;
    *n = 0;
    for (size_t l = 0; l < NP_ARRAY_LEN(lists); l++) {
        for (size_t i = 0; i < lists[l].n; i++) {
            const struct np_posture_rule_spec *rs = &lists[l].rules[i];
            for (size_t g = 0; g < rs->n_security_groups; g++) {
                const char *name = rs->security_groups[g].name;
                if (!ref_by_name(&rs->security_groups[g]) || np_str_is_empty(name) ||
                    name_listed(*names, *n, name))
                    continue;
                *names = np_xrealloc(*names, (*n + 1) * sizeof(**names));
                (*names)[(*n)++] = name;
            }
        }
    }
    return 0;
}

static const struct np_posture_peer *peer_find(const struct np_posture_peers *peers,
                                               const char *name)
{
    for (size_t i = 0; peers && i < peers->n; i++)
        if (np_str_eq(peers->items[i].name, name))
            return &peers->items[i];
    return NULL;
}

static bool peer_resolved(const struct np_posture_peer *p)
{
    return p && !np_str_is_empty(p->group_id);
}

/* NP_ENOTFOUND: `[<path>: ]peer SecurityGroupPosture "<name>" <why>`. */
static int unresolved(const char *path, const char *name, const struct np_posture_peer *p)
{
    const char *why = !p                        ? "is not among the peers looked up"
                      : np_str_is_empty(p->why) ? "has no group id"
                                                : p->why;
    return np_error_set(NP_ENOTFOUND, "%s%speer SecurityGroupPosture \"%s\" %s", path ? path : "",
                        path ? ": " : "", name, why);
}

/* The first name reference of spec, in declaration order, that peers do not resolve. */
static int check_declared(const struct np_posture_sg_spec *spec,
                          const struct np_posture_peers *peers)
{
    struct declared lists[2];
    declared_lists(spec, lists);
    for (size_t l = 0; l < NP_ARRAY_LEN(lists); l++) {
        for (size_t i = 0; i < lists[l].n; i++) {
            const struct np_posture_rule_spec *rs = &lists[l].rules[i];
            for (size_t g = 0; g < rs->n_security_groups; g++) {
                const char *name = rs->security_groups[g].name ? rs->security_groups[g].name : "";
                const struct np_posture_peer *p = peer_find(peers, name);
                if (!ref_by_name(&rs->security_groups[g]) || peer_resolved(p))
                    continue;
                char path[96];
                snprintf(path, sizeof(path), "spec.%s[%zu].securityGroups[%zu]", lists[l].field, i,
                         g);
                return unresolved(path, name, p);
            }
        }
    }
    return 0;
}

/* Whether the declared rule, with a description, expands to r (a group rule, not resolved). */
static bool declares(const struct np_posture_rule_spec *d, const struct np_posture_rule *r)
{
    char proto[8];
    int from = -1, to = -1;
    if (np_str_is_empty(d->description) || declared_head(d, proto, &from, &to) != 0 ||
        !np_str_eq(proto, r->protocol) || from != r->from_port || to != r->to_port)
        return false;
    for (size_t g = 0; g < d->n_security_groups; g++) {
        const struct np_posture_group_ref *ref = &d->security_groups[g];
        bool named = ref_by_name(ref);
        if (r->peer_kind == NP_POSTURE_PEER_GROUP
                ? !named && strcasecmp(ref->group_id, r->peer) == 0
                : named && np_str_eq(ref->name, r->peer))
            return true;
    }
    return false;
}

/*
 * Where r's description comes from: the index, in declaration order, of the first declared rule
 * with a description that expands to r; rules that are no group rules, have no description or
 * no spec rank after every declared rule, by position (they merge with nothing new).
 */
static size_t description_rank(const struct np_posture_sg_spec *spec,
                               const struct np_posture_rule *r, size_t pos)
{
    size_t k = 0;
    struct declared lists[2];
    if (!spec)
        return pos;
    declared_lists(spec, lists);
    bool group =
        r->peer_kind == NP_POSTURE_PEER_GROUP || r->peer_kind == NP_POSTURE_PEER_GROUP_NAME;
    for (size_t l = 0; l < NP_ARRAY_LEN(lists); l++) {
        for (size_t i = 0; i < lists[l].n; i++, k++)
            if (group && r->description && lists[l].dir == r->direction &&
                declares(&lists[l].rules[i], r))
                return k;
    }
    return spec->n_ingress + spec->n_egress + pos;
}

struct ranked_pos {
    size_t rank;
    size_t pos;
};

static int ranked_pos_cmp(const void *x, const void *y)
{
    const struct ranked_pos *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Orders rs by description rank, so np_posture_ruleset_sort_unique keeps the description that
 * came first in declaration order when rules merge. */
static void order_by_declaration(struct np_posture_ruleset *rs,
                                 const struct np_posture_sg_spec *spec)
{
    if (rs->n < 2)
        return;
    struct ranked_pos *order = np_xcalloc(rs->n, sizeof(*order));
    struct np_posture_rule *rules = np_xcalloc(rs->n, sizeof(*rules));
    for (size_t i = 0; i < rs->n; i++)
        order[i] = (struct ranked_pos){description_rank(spec, &rs->rules[i], i), i};
    qsort(order, rs->n, sizeof(*order), ranked_pos_cmp);
    for (size_t i = 0; i < rs->n; i++)
        rules[i] = rs->rules[order[i].pos];
    free(rs->rules);
    rs->rules = rules;
    free(order);
}

int np_posture_ruleset_resolve(struct np_posture_ruleset *rs, const struct np_posture_sg_spec *spec,
                               const struct np_posture_peers *peers)
{
    int rc = spec ? check_declared(spec, peers) : 0;
    for (size_t i = 0; rc == 0 && i < rs->n; i++) {
        const struct np_posture_rule *r = &rs->rules[i];
        const struct np_posture_peer *p = peer_find(peers, r->peer);
        if (r->peer_kind == NP_POSTURE_PEER_GROUP_NAME && !peer_resolved(p))
            rc = unresolved(NULL, r->peer ? r->peer : "", p);
    }
    if (rc)
        return rc;
    order_by_declaration(rs, spec);
    for (size_t i = 0; i < rs->n; i++) {
        struct np_posture_rule *r = &rs->rules[i];
        if (r->peer_kind != NP_POSTURE_PEER_GROUP_NAME)
            continue;
        char *gid = np_strdup(peer_find(peers, r->peer)->group_id);
        np_posture_lower(gid);
        free(r->peer);
        r->peer = gid;
        r->peer_kind = NP_POSTURE_PEER_GROUP;
    }
    np_posture_ruleset_sort_unique(rs);
    return 0;
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
