/*
 * PostureGuardrail: parsing a guardrail spec (deny rules for security groups and/or network
 * ACLs, require rules for VPC postures), matching canonical atomic rules against deny criteria
 * (protocol, port, CIDR coverage for IPv4 and IPv6), exemptions, checking a security group's
 * rule set, and marking the drift a guardrail forbids so it is revoked first and skips grace.
 */
#include "posture/private/posture_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RULES 100
#define MAX_REFERENCES 16
#define MAX_REFERENCE_LEN 256
#define MAX_DESCRIPTION_LEN 1024
#define MAX_PROTOCOLS 16
#define MAX_PORTS 64
#define MAX_CIDRS 32
#define MAX_EXCEPTIONS 64
#define MAX_RESOURCES 8
#define RULE_PATH_LEN 48              /* spec.rules[99] */
#define PATH_LEN (RULE_PATH_LEN + 48) /* ...exceptions[63] */

/* ---------------------------------------------------------------- parse */

/* A DNS label (RFC 1123): lowercase letters, digits and '-', alphanumeric at both ends. */
bool np_posture_is_dns_label(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len == 0 || len > max || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* A DNS subdomain (RFC 1123): dot-separated labels, at most 253 characters. */
static bool is_dns_subdomain(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253)
        return false;
    char label[64];
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n >= sizeof(label))
            return false;
        memcpy(label, p, n);
        label[n] = '\0';
        if (!np_posture_is_dns_label(label, 63))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}

static int check_reference(const char *s, const char *path)
{
    size_t len = strlen(s);
    if (len == 0 || len > MAX_REFERENCE_LEN)
        return np_error_set(NP_EINVAL, "%s: must be 1-%d characters", path, MAX_REFERENCE_LEN);
    return 0;
}

/* IPv6 when it has a ':', else IPv4. */
static bool cidr_is_ipv6(const char *s)
{
    return strchr(s, ':') != NULL;
}

static int check_cidr(const char *s, const char *path)
{
    unsigned char bytes[16];
    int prefix = 0;
    if (!np_posture_cidr_parse(s, cidr_is_ipv6(s), bytes, &prefix))
        return np_error_set(NP_EINVAL, "%s: \"%.64s\" is not a valid CIDR", path, s);
    return 0;
}

static int check_protocol(const char *s, const char *path)
{
    char canon[8];
    int rc = np_posture_protocol_canonical(s, canon);
    return rc ? np_error_set(rc, "%s: %s", path, np_error_message()) : 0;
}

/* Frees the strings of a list and the list. */
static void free_strings(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

/* Replaces each item with its canonical form (a validated CIDR or protocol) and drops
 * duplicates, keeping the first occurrence. */
static void canonicalise(char **items, size_t *n, bool cidrs)
{
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        char *canon = NULL;
        if (cidrs) {
            if (np_posture_cidr_canonical(&canon, items[i], cidr_is_ipv6(items[i])) != 0)
                canon = np_strdup(items[i]); /* not reached: validated before */
        } else {
            char proto[8];
            canon =
                np_strdup(np_posture_protocol_canonical(items[i], proto) == 0 ? proto : items[i]);
        }
        free(items[i]);
        items[i] = NULL;
        bool dup = false;
        for (size_t j = 0; j < w && !dup; j++)
            dup = strcmp(items[j], canon) == 0;
        if (dup)
            free(canon);
        else
            items[w++] = canon;
    }
    *n = w;
}

/* A list member o.k that, when present, must have 1..max items. */
static int bounded_list(json_object *o, const char *k, const char *path, size_t max,
                        json_object **arr)
{
    int rc = np_posture_json_array(o, k, path, arr);
    if (rc || !*arr)
        return rc;
    size_t m = json_object_array_length(*arr);
    if (m == 0)
        return np_error_set(NP_EINVAL, "%s.%s: must not be empty (omit it to match any)", path, k);
    if (m > max)
        return np_error_set(NP_EINVAL, "%s.%s: %zu items, at most %zu", path, k, m, max);
    return 0;
}

static int parse_ports(json_object *deny, const char *path, struct np_posture_guardrail_rule *r)
{
    json_object *arr = NULL;
    int rc = bounded_list(deny, "ports", path, MAX_PORTS, &arr);
    if (rc || !arr)
        return rc;
    size_t m = json_object_array_length(arr);
    r->ports = np_xcalloc(m, sizeof(*r->ports));
    for (size_t i = 0; i < m; i++) {
        json_object *item = json_object_array_get_idx(arr, i);
        if (!item || !json_object_is_type(item, json_type_int))
            return np_error_set(NP_EINVAL, "%s.ports[%zu]: must be an integer", path, i);
        int64_t v = json_object_get_int64(item);
        if (v < 0 || v > 65535)
            return np_error_set(NP_EINVAL, "%s.ports[%zu]: %lld is out of range 0..65535", path, i,
                                (long long)v);
        bool dup = false;
        for (size_t j = 0; j < r->n_ports && !dup; j++)
            dup = r->ports[j] == (int)v;
        if (!dup)
            r->ports[r->n_ports++] = (int)v;
    }
    return 0;
}

/* deny.resources: what the criteria apply to; default security groups only. */
static int parse_resources(json_object *deny, const char *path, struct np_posture_guardrail_rule *r)
{
    static const struct {
        const char *name;
        unsigned bit;
    } kinds[] = {
        {"securityGroups", NP_POSTURE_GUARDRAIL_SECURITY_GROUPS},
        {"networkAcls", NP_POSTURE_GUARDRAIL_NETWORK_ACLS},
    };
    json_object *arr = NULL;
    int rc = np_posture_json_array(deny, "resources", path, &arr);
    if (rc)
        return rc;
    if (!arr) {
        r->resources = NP_POSTURE_GUARDRAIL_SECURITY_GROUPS;
        return 0;
    }
    size_t m = json_object_array_length(arr);
    if (m == 0 || m > MAX_RESOURCES)
        return np_error_set(NP_EINVAL, "%s.resources: 1-%d items (omit it for securityGroups only)",
                            path, MAX_RESOURCES);
    for (size_t i = 0; i < m; i++) {
        json_object *item = json_object_array_get_idx(arr, i);
        if (!item || !json_object_is_type(item, json_type_string))
            return np_error_set(NP_EINVAL, "%s.resources[%zu]: must be a string", path, i);
        const char *name = json_object_get_string(item);
        size_t k = 0;
        while (k < NP_ARRAY_LEN(kinds) && strcmp(kinds[k].name, name) != 0)
            k++;
        if (k == NP_ARRAY_LEN(kinds))
            return np_error_set(NP_EINVAL,
                                "%s.resources[%zu]: \"%.32s\" is not one of securityGroups, "
                                "networkAcls",
                                path, i, name);
        r->resources |= kinds[k].bit;
    }
    return 0;
}

static int parse_deny(json_object *deny, const char *rpath, struct np_posture_guardrail_rule *r)
{
    int rc = 0;
    json_object *arr = NULL;
    char path[PATH_LEN];
    static const char *const directions[] = {"ingress", "egress"};
    int v = 0;
    snprintf(path, sizeof(path), "%s.deny", rpath);
    r->has_direction = np_posture_json_member(deny, "direction") != NULL;
    if ((rc = np_posture_json_enum(deny, "direction", path, directions, 2, 0, &v)) != 0)
        return rc;
    r->direction = (enum np_posture_direction)v;
    if ((rc = bounded_list(deny, "protocols", path, MAX_PROTOCOLS, &arr)) != 0 ||
        (rc = np_posture_json_string_list(deny, "protocols", path, &r->protocols, &r->n_protocols,
                                          check_protocol)) != 0)
        return rc;
    canonicalise(r->protocols, &r->n_protocols, false);
    if ((rc = parse_ports(deny, path, r)) != 0)
        return rc;
    if ((rc = bounded_list(deny, "cidrs", path, MAX_CIDRS, &arr)) != 0 ||
        (rc = np_posture_json_string_list(deny, "cidrs", path, &r->cidrs, &r->n_cidrs,
                                          check_cidr)) != 0)
        return rc;
    canonicalise(r->cidrs, &r->n_cidrs, true);
    if ((rc = parse_resources(deny, path, r)) != 0)
        return rc;
    if (!r->has_direction && r->n_protocols + r->n_ports + r->n_cidrs == 0)
        return np_error_set(NP_EINVAL,
                            "%s: needs at least one criterion (direction, protocols, ports or "
                            "cidrs); a guardrail rule may not deny every rule",
                            path);
    return 0;
}

/* require: what every governed VPCPosture must have; at least one of it. */
static int parse_require(json_object *req, const char *rpath, struct np_posture_guardrail_rule *r)
{
    char path[PATH_LEN];
    bool has = false;
    int rc = 0;
    snprintf(path, sizeof(path), "%s.require", rpath);
    if ((rc = np_posture_json_bool(req, "flowLogs", path, &has, &r->require_flow_logs)) != 0 ||
        (rc = np_posture_json_bool(req, "defaultSecurityGroupRestricted", path, &has,
                                   &r->require_default_sg_restricted)) != 0)
        return rc;
    if (!r->require_flow_logs && !r->require_default_sg_restricted)
        return np_error_set(
            NP_EINVAL, "%s: needs flowLogs or defaultSecurityGroupRestricted set to true", path);
    return 0;
}

static int parse_exceptions(json_object *jr, const char *rpath, struct np_posture_guardrail_rule *r)
{
    json_object *arr = NULL;
    int rc = np_posture_json_array(jr, "exceptions", rpath, &arr);
    if (rc || !arr)
        return rc;
    size_t m = json_object_array_length(arr);
    if (m > MAX_EXCEPTIONS)
        return np_error_set(NP_EINVAL, "%s.exceptions: %zu items, at most %d", rpath, m,
                            MAX_EXCEPTIONS);
    r->exceptions = np_xcalloc(m ? m : 1, sizeof(*r->exceptions));
    for (size_t i = 0; i < m; i++) {
        char path[PATH_LEN];
        const char *ns = NULL, *posture = NULL;
        snprintf(path, sizeof(path), "%s.exceptions[%zu]", rpath, i);
        json_object *e = json_object_array_get_idx(arr, i);
        if (!e || !json_object_is_type(e, json_type_object))
            return np_error_set(NP_EINVAL, "%s: must be an object", path);
        if ((rc = np_posture_json_string(e, "namespace", path, &ns)) != 0 ||
            (rc = np_posture_json_string(e, "posture", path, &posture)) != 0)
            return rc;
        if (!ns)
            return np_error_set(NP_EINVAL, "%s.namespace: required", path);
        if (!np_posture_is_dns_label(ns, 63))
            return np_error_set(NP_EINVAL, "%s.namespace: \"%.64s\" is not a namespace name", path,
                                ns);
        if (posture && !is_dns_subdomain(posture))
            return np_error_set(NP_EINVAL,
                                "%s.posture: \"%.64s\" is not a posture name (omit it to exempt "
                                "the whole namespace)",
                                path, posture);
        struct np_posture_guardrail_exception *x = &r->exceptions[r->n_exceptions++];
        x->ns = np_strdup(ns);
        x->posture = np_strdup(posture);
    }
    return 0;
}

static int parse_rule(json_object *jr, const char *path, struct np_posture_guardrail_rule *r)
{
    int rc = 0;
    const char *id = NULL, *desc = NULL;
    if (!jr || !json_object_is_type(jr, json_type_object))
        return np_error_set(NP_EINVAL, "%s: must be an object", path);
    if ((rc = np_posture_json_string(jr, "id", path, &id)) != 0)
        return rc;
    if (!id)
        return np_error_set(NP_EINVAL, "%s.id: required", path);
    if (!np_posture_is_dns_label(id, 63))
        return np_error_set(NP_EINVAL,
                            "%s.id: \"%.64s\" must be 1-63 lowercase letters, digits or '-', "
                            "starting and ending with a letter or digit",
                            path, id);
    r->id = np_strdup(id);
    if ((rc = np_posture_json_string(jr, "description", path, &desc)) != 0)
        return rc;
    if (desc && strlen(desc) > MAX_DESCRIPTION_LEN)
        return np_error_set(NP_EINVAL, "%s.description: at most %d characters", path,
                            MAX_DESCRIPTION_LEN);
    json_object *refs = NULL;
    if ((rc = np_posture_json_array(jr, "references", path, &refs)) != 0)
        return rc;
    if (refs && json_object_array_length(refs) > MAX_REFERENCES)
        return np_error_set(NP_EINVAL, "%s.references: %zu items, at most %d", path,
                            json_object_array_length(refs), MAX_REFERENCES);
    if ((rc = np_posture_json_string_list(jr, "references", path, &r->references, &r->n_references,
                                          check_reference)) != 0)
        return rc;
    json_object *deny = NULL, *require = NULL;
    if ((rc = np_posture_json_object(jr, "deny", path, &deny)) != 0 ||
        (rc = np_posture_json_object(jr, "require", path, &require)) != 0)
        return rc;
    if (!deny == !require)
        return np_error_set(NP_EINVAL, "%s: set exactly one of deny and require", path);
    if ((rc = deny ? parse_deny(deny, path, r) : parse_require(require, path, r)) != 0)
        return rc;
    return parse_exceptions(jr, path, r);
}

static void rule_clean_up(struct np_posture_guardrail_rule *r)
{
    free(r->id);
    free_strings(r->references, r->n_references);
    free_strings(r->protocols, r->n_protocols);
    free(r->ports);
    free_strings(r->cidrs, r->n_cidrs);
    for (size_t i = 0; i < r->n_exceptions; i++) {
        free(r->exceptions[i].ns);
        free(r->exceptions[i].posture);
    }
    free(r->exceptions);
    memset(r, 0, sizeof(*r));
}

int np_posture_guardrail_parse(struct np_posture_guardrail **out, const char *name,
                               json_object *spec)
{
    int rc = 0;
    json_object *arr = NULL;
    static const char *const enforcement[] = {"Deny", "Warn"};
    int v = 0;
    struct np_posture_guardrail *g = np_xcalloc(1, sizeof(*g));
    *out = NULL;
    g->name = np_strdup(name);
    if (!spec || !json_object_is_type(spec, json_type_object)) {
        rc = np_error_set(NP_EINVAL, "spec: missing or not an object");
        goto out;
    }
    if ((rc = np_posture_json_enum(spec, "enforcement", "spec", enforcement, 2, 0, &v)) != 0)
        goto out;
    g->enforcement = (enum np_posture_enforcement)v;
    if ((rc = np_posture_json_array(spec, "rules", "spec", &arr)) != 0)
        goto out;
    size_t m = arr ? json_object_array_length(arr) : 0;
    if (m == 0) {
        rc = np_error_set(NP_EINVAL, "spec.rules: required, at least one rule");
        goto out;
    }
    if (m > MAX_RULES) {
        rc = np_error_set(NP_EINVAL, "spec.rules: %zu rules, at most %d", m, MAX_RULES);
        goto out;
    }
    g->rules = np_xcalloc(m, sizeof(*g->rules));
    for (size_t i = 0; i < m; i++) {
        char path[RULE_PATH_LEN];
        snprintf(path, sizeof(path), "spec.rules[%zu]", i);
        /* Counted first so the destroy path frees a partly parsed rule too. */
        g->n_rules++;
        if ((rc = parse_rule(json_object_array_get_idx(arr, i), path, &g->rules[i])) != 0)
            goto out;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(g->rules[j].id, g->rules[i].id) == 0) {
                rc = np_error_set(NP_EINVAL, "%s.id: \"%s\" is already the id of spec.rules[%zu]",
                                  path, g->rules[i].id, j);
                goto out;
            }
        }
    }
out:
    if (rc) {
        np_posture_guardrail_destroy(g);
        return rc;
    }
    *out = g;
    return 0;
}

void np_posture_guardrail_destroy(struct np_posture_guardrail *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_rules; i++)
        rule_clean_up(&g->rules[i]);
    free(g->rules);
    free(g->name);
    free(g);
}

const char *np_posture_enforcement_name(enum np_posture_enforcement e)
{
    return e == NP_POSTURE_GUARDRAIL_WARN ? "Warn" : "Deny";
}

/* ---------------------------------------------------------------- matching */

static bool protocol_matches(const struct np_posture_guardrail_rule *gr,
                             const struct np_posture_rule *r)
{
    if (gr->n_protocols == 0)
        return true;
    const char *p = r->protocol ? r->protocol : "";
    if (strcmp(p, "-1") == 0)
        return true; /* all traffic includes every listed protocol */
    for (size_t i = 0; i < gr->n_protocols; i++)
        if (strcmp(gr->protocols[i], p) == 0)
            return true;
    return false;
}

static bool ports_match(const struct np_posture_guardrail_rule *gr, const struct np_posture_rule *r)
{
    if (gr->n_ports == 0)
        return true;
    const char *p = r->protocol ? r->protocol : "";
    if (np_posture_protocol_is_icmp(p))
        return false; /* type/code, not ports */
    if (!np_posture_protocol_has_ports(p))
        return true; /* all traffic, or a protocol without ports: every port is open */
    if (r->from_port < 0 || r->to_port < 0)
        return true; /* tcp/udp without a range (never from AWS): read as every port */
    for (size_t i = 0; i < gr->n_ports; i++)
        if (r->from_port <= gr->ports[i] && gr->ports[i] <= r->to_port)
            return true;
    return false;
}

/* Whether network a/alen contains network b/blen (same family, len bytes). */
bool np_posture_net_covers(const unsigned char *a, int alen, const unsigned char *b, int blen)
{
    if (alen > blen)
        return false;
    int full = alen / 8, rest = alen % 8;
    if (memcmp(a, b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

static bool cidrs_match(const struct np_posture_guardrail_rule *gr, const struct np_posture_rule *r)
{
    if (gr->n_cidrs == 0)
        return true;
    if (r->peer_kind != NP_POSTURE_PEER_CIDR4 && r->peer_kind != NP_POSTURE_PEER_CIDR6)
        return false; /* prefix lists and groups are not address ranges we can judge */
    bool v6 = r->peer_kind == NP_POSTURE_PEER_CIDR6;
    unsigned char peer[16], want[16];
    int peer_len = 0, want_len = 0;
    if (!np_posture_cidr_parse(r->peer, v6, peer, &peer_len))
        return false;
    for (size_t i = 0; i < gr->n_cidrs; i++) {
        if (cidr_is_ipv6(gr->cidrs[i]) != v6 ||
            !np_posture_cidr_parse(gr->cidrs[i], v6, want, &want_len))
            continue;
        if (np_posture_net_covers(peer, peer_len, want, want_len))
            return true;
    }
    return false;
}

bool np_posture_guardrail_deny_matches(const struct np_posture_guardrail_rule *gr,
                                       const struct np_posture_rule *r)
{
    if (!gr || !r || gr->resources == 0)
        return false;
    if (gr->has_direction && gr->direction != r->direction)
        return false;
    return protocol_matches(gr, r) && ports_match(gr, r) && cidrs_match(gr, r);
}

bool np_posture_guardrail_rule_matches(const struct np_posture_guardrail_rule *gr,
                                       const struct np_posture_rule *r)
{
    return gr && (gr->resources & NP_POSTURE_GUARDRAIL_SECURITY_GROUPS) &&
           np_posture_guardrail_deny_matches(gr, r);
}

bool np_posture_guardrail_exempts(const struct np_posture_guardrail_rule *gr, const char *ns,
                                  const char *name)
{
    if (!gr)
        return false;
    for (size_t i = 0; i < gr->n_exceptions; i++) {
        const struct np_posture_guardrail_exception *x = &gr->exceptions[i];
        if (!np_str_eq(x->ns ? x->ns : "", ns ? ns : ""))
            continue;
        if (!x->posture || np_str_eq(x->posture, name ? name : ""))
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- check and mark */

bool np_posture_guardrail_violates(const struct np_posture_guardrail *const *guardrails,
                                   size_t n_guardrails, const char *ns, const char *name,
                                   unsigned resource, const struct np_posture_rule *r)
{
    for (size_t g = 0; guardrails && g < n_guardrails; g++) {
        for (size_t k = 0; guardrails[g] && k < guardrails[g]->n_rules; k++) {
            const struct np_posture_guardrail_rule *gr = &guardrails[g]->rules[k];
            if ((gr->resources & resource) && np_posture_guardrail_deny_matches(gr, r) &&
                !np_posture_guardrail_exempts(gr, ns, name))
                return true;
        }
    }
    return false;
}

/* Whether r violates a security-group rule of a governing guardrail. */
static bool violates(const struct np_posture_guardrail *const *guardrails, size_t n_guardrails,
                     const char *ns, const char *name, const struct np_posture_rule *r)
{
    return np_posture_guardrail_violates(guardrails, n_guardrails, ns, name,
                                         NP_POSTURE_GUARDRAIL_SECURITY_GROUPS, r);
}

int np_posture_guardrail_check(struct np_posture_violation **out, size_t *n,
                               const struct np_posture_guardrail *const *guardrails,
                               size_t n_guardrails, const char *ns, const char *name,
                               const struct np_posture_ruleset *rules)
{
    *out = NULL;
    *n = 0;
    if (!rules || !guardrails)
        return 0;
    for (size_t i = 0; i < rules->n; i++) {
        const struct np_posture_rule *r = &rules->rules[i];
        for (size_t g = 0; g < n_guardrails; g++) {
            if (!guardrails[g])
                continue;
            for (size_t k = 0; k < guardrails[g]->n_rules; k++) {
                const struct np_posture_guardrail_rule *gr = &guardrails[g]->rules[k];
                if (!np_posture_guardrail_rule_matches(gr, r) ||
                    np_posture_guardrail_exempts(gr, ns, name))
                    continue;
                *out = np_xrealloc(*out, (*n + 1) * sizeof(**out));
                (*out)[(*n)++] = (struct np_posture_violation){guardrails[g], gr, r};
            }
        }
    }
    return 0;
}

static bool is_tag_item(const struct np_posture_drift *d)
{
    return d->change == NP_POSTURE_TAG_MISSING || d->change == NP_POSTURE_TAG_CHANGED ||
           d->change == NP_POSTURE_TAG_EXTRA;
}

/* Whether a sorted, unique rule set holds a rule with r's identity. */
static bool ruleset_has(const struct np_posture_ruleset *rs, const struct np_posture_rule *r)
{
    size_t lo = 0, hi = rs ? rs->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = np_posture_rule_cmp(&rs->rules[mid], r);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* The delta's Extra item for r's identity, or NULL. */
static struct np_posture_drift *find_extra(struct np_posture_delta *d,
                                           const struct np_posture_rule *r)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].change == NP_POSTURE_EXTRA &&
            np_posture_rule_cmp(&d->items[i].rule, r) == 0)
            return &d->items[i];
    return NULL;
}

int np_posture_guardrail_mark(struct np_posture_delta *delta,
                              const struct np_posture_ruleset *desired,
                              const struct np_posture_ruleset *observed,
                              enum np_posture_ownership ownership,
                              const struct np_posture_guardrail *const *guardrails,
                              size_t n_guardrails, const char *ns, const char *name)
{
    const struct np_posture_rule **add = NULL;
    size_t n_add = 0;
    struct np_posture_delta merged = {0};
    if (!delta || !guardrails || n_guardrails == 0)
        goto out;
    for (size_t i = 0; i < delta->n; i++) {
        struct np_posture_drift *it = &delta->items[i];
        if (it->change == NP_POSTURE_EXTRA &&
            violates(guardrails, n_guardrails, ns, name, &it->rule))
            it->guardrail = true;
    }
    if (ownership != NP_POSTURE_ADDITIVE || !observed || observed->n == 0)
        goto out;
    /* Undeclared observed rules a guardrail forbids, in identity order (observed is sorted). */
    add = np_xcalloc(observed->n, sizeof(*add));
    for (size_t j = 0; j < observed->n; j++) {
        const struct np_posture_rule *r = &observed->rules[j];
        if (ruleset_has(desired, r) || !violates(guardrails, n_guardrails, ns, name, r))
            continue;
        struct np_posture_drift *known = find_extra(delta, r);
        if (known)
            known->guardrail = true;
        else
            add[n_add++] = r;
    }
    if (n_add == 0)
        goto out;
    /* Merge them into the rule items by identity; tag items stay last. */
    size_t i = 0, k = 0;
    while (i < delta->n || k < n_add) {
        bool take_new = k < n_add && (i >= delta->n || is_tag_item(&delta->items[i]) ||
                                      np_posture_rule_cmp(add[k], &delta->items[i].rule) < 0);
        if (take_new) {
            np_posture_delta_add_rule(&merged, NP_POSTURE_EXTRA, add[k++]);
            merged.items[merged.n - 1].guardrail = true;
        } else {
            *np_posture_delta_add(&merged) = delta->items[i++]; /* moved: strings change owner */
        }
    }
    free(delta->items);
    *delta = merged;
out:
    free(add);
    return 0;
}
