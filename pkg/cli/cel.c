/*
 * The CRDs' x-kubernetes-validations rules, each ported to C (no CEL interpreter): a table keyed
 * by the rule's exact text, so a rule added to crds/ without a port is reported (and the unit
 * test that walks every CRD rule fails). messageExpressions are concatenations of string
 * literals with self or self.<field>, evaluated as such.
 */
#include "cli/private/cli_private.h"
#include "posture/posture.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static bool has(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v) &&
           v != NULL;
}

static const char *str(json_object *o, const char *k)
{
    return json_object_get_string(json_object_object_get(o, k));
}

static int64_t num(json_object *o, const char *k)
{
    return json_object_get_int64(json_object_object_get(o, k));
}

static bool flag(json_object *o, const char *k)
{
    return json_object_get_boolean(json_object_object_get(o, k));
}

static size_t count(json_object *o, const char *k)
{
    json_object *v = json_object_object_get(o, k);
    if (json_object_is_type(v, json_type_object))
        return (size_t)json_object_object_length(v);
    return np_cli_len(v);
}

static bool in(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static const char *const TCP_UDP[] = {"tcp", "udp", "6", "17", NULL};
static const char *const ICMP_ANY[] = {"icmp", "icmpv6", "1", "58", NULL};
static const char *const ICMP4[] = {"icmp", "1", NULL};

static bool matches(const char *s, const char *pattern)
{
    bool ok = true;
    return s && np_cli_pattern_matches(pattern, s, &ok);
}

static bool cidr_family(const char *s, int family)
{
    struct np_cli_cidr c;
    return s && np_cli_cidr_parse(s, &c) && c.family == family;
}

/* ---------------------------------------------------------------- shared rules */

static bool region_name(json_object *self)
{
    return matches(json_object_get_string(self),
                   "^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]{2,16}-[0-9]{1,2}$");
}

static bool tag_keys(json_object *self)
{
    if (!json_object_is_type(self, json_type_object))
        return true;
    json_object_object_foreach(self, k, v)
    {
        (void)v;
        size_t n = strlen(k);
        if (n < 1 || n > 128 || np_str_has_prefix(k, "netposture.dev/") ||
            np_str_has_prefix(k, "aws:"))
            return false;
    }
    return true;
}

static bool number_string_max_255(const char *s)
{
    return !matches(s, "^[0-9]+$") || strtoll(s, NULL, 10) <= 255;
}

static bool self_protocol_number(json_object *self)
{
    return number_string_max_255(json_object_get_string(self));
}

static bool field_protocol_number(json_object *self)
{
    return number_string_max_255(str(self, "protocol"));
}

static bool is_cidr(json_object *self)
{
    struct np_cli_cidr c;
    return np_cli_cidr_parse(json_object_get_string(self), &c);
}

static bool ipv4_cidr(json_object *self)
{
    return cidr_family(json_object_get_string(self), 4);
}

static bool ipv6_cidr(json_object *self)
{
    return cidr_family(json_object_get_string(self), 6);
}

static bool block_16_to_28(json_object *self)
{
    struct np_cli_cidr c;
    if (!np_cli_cidr_parse(json_object_get_string(self), &c) || c.family != 4)
        return true;
    return c.bits >= 16 && c.bits <= 28;
}

static bool tcp_udp_need_ports(json_object *self)
{
    return !in(str(self, "protocol"), TCP_UDP) || (has(self, "fromPort") && has(self, "toPort"));
}

/* ---------------------------------------------------------------- CloudAccount */

static bool secret_needs_ref(json_object *self)
{
    json_object *cr = json_object_object_get(self, "credentials");
    return !has(self, "credentials") || !np_str_eq(str(cr, "source"), "Secret") ||
           has(cr, "secretRef");
}

static bool ref_only_for_secret(json_object *self)
{
    json_object *cr = json_object_object_get(self, "credentials");
    return !has(self, "credentials") || !has(cr, "secretRef") ||
           np_str_eq(str(cr, "source"), "Secret");
}

static bool web_identity_fields(json_object *self)
{
    json_object *cr = json_object_object_get(self, "credentials");
    return !has(self, "credentials") || (!has(cr, "roleArn") && !has(cr, "tokenFile")) ||
           np_str_eq(str(cr, "source"), "WebIdentity");
}

static bool assume_role_fields(json_object *self)
{
    return (!has(self, "externalId") && !has(self, "sessionName") &&
            !has(self, "durationSeconds")) ||
           (has(self, "assumeRoleArn") && !np_str_eq(str(self, "assumeRoleArn"), ""));
}

static bool one_ec2_endpoint(json_object *self)
{
    return !has(self, "endpoint") || np_str_eq(str(self, "endpoint"), "") ||
           !has(self, "endpoints") || !has(json_object_object_get(self, "endpoints"), "ec2");
}

static bool selector_tags_or_ids(json_object *self)
{
    return has(self, "tags") || has(self, "ids");
}

/* ---------------------------------------------------------------- PostureGuardrail */

static bool match_expression_values(json_object *self)
{
    static const char *const SET_OPS[] = {"In", "NotIn", NULL};
    bool sized = has(self, "values") && count(self, "values") > 0;
    return in(str(self, "operator"), SET_OPS) ? sized : !sized;
}

static bool deny_xor_require(json_object *self)
{
    return has(self, "deny") != has(self, "require");
}

static bool deny_has_criterion(json_object *self)
{
    return has(self, "direction") || has(self, "protocols") || has(self, "ports") ||
           has(self, "cidrs");
}

static bool require_something(json_object *self)
{
    return (has(self, "flowLogs") && flag(self, "flowLogs")) ||
           (has(self, "defaultSecurityGroupRestricted") &&
            flag(self, "defaultSecurityGroupRestricted"));
}

/* ---------------------------------------------------------------- SecurityGroupPosture */

static bool one_vpc_field(json_object *self)
{
    return !(has(self, "vpcId") && has(self, "vpcRef"));
}

static bool adopt_needs(json_object *self, const char *id)
{
    json_object *m = json_object_object_get(self, "management");
    return !has(self, "management") || !np_str_eq(str(m, "policy"), "Adopt") || has(m, id);
}

static bool adopt_needs_group_id(json_object *self)
{
    return adopt_needs(self, "groupId");
}

static bool group_name_not_sg(json_object *self)
{
    const char *s = json_object_get_string(self);
    return !(s && strncasecmp(s, "sg-", 3) == 0);
}

static bool rule_has_peer(json_object *self)
{
    return count(self, "cidrs") + count(self, "ipv6Cidrs") + count(self, "prefixListIds") +
               count(self, "securityGroups") >
           0;
}

static bool rule_ports_ordered(json_object *self)
{
    return !in(str(self, "protocol"), TCP_UDP) || !has(self, "fromPort") || !has(self, "toPort") ||
           (num(self, "fromPort") >= 0 && num(self, "fromPort") <= num(self, "toPort"));
}

static bool icmp_type_max(json_object *self)
{
    return !in(str(self, "protocol"), ICMP_ANY) || !has(self, "fromPort") ||
           num(self, "fromPort") <= 255;
}

static bool icmp_code_max(json_object *self)
{
    return !in(str(self, "protocol"), ICMP_ANY) || !has(self, "toPort") ||
           num(self, "toPort") <= 255;
}

static bool icmp_all_types_all_codes(json_object *self)
{
    return !in(str(self, "protocol"), ICMP4) || !has(self, "fromPort") ||
           num(self, "fromPort") != -1 || !has(self, "toPort") || num(self, "toPort") == -1;
}

static bool group_id_xor_name(json_object *self)
{
    return has(self, "groupId") != has(self, "name");
}

/* ---------------------------------------------------------------- VPCPosture */

static bool adopt_needs_vpc_id(json_object *self)
{
    return adopt_needs(self, "vpcId");
}

static bool subnet_declared(json_object *spec, const char *name)
{
    json_object *subnets = json_object_object_get(spec, "subnets");
    for (size_t i = 0; i < np_cli_len(subnets); i++)
        if (np_str_eq(str(json_object_array_get_idx(subnets, i), "name"), name))
            return true;
    return false;
}

/* Calls fn(spec, pieces, piece, subnet name) on every subnet named by spec.<key>[].subnets;
 * false as soon as fn is. */
static bool each_piece_subnet(json_object *spec, const char *key,
                              bool (*fn)(json_object *, json_object *, const char *))
{
    json_object *pieces = json_object_object_get(spec, key);
    for (size_t i = 0; i < np_cli_len(pieces); i++) {
        json_object *subs = json_object_object_get(json_object_array_get_idx(pieces, i), "subnets");
        for (size_t j = 0; j < np_cli_len(subs); j++)
            if (!fn(spec, pieces, json_object_get_string(json_object_array_get_idx(subs, j))))
                return false;
    }
    return true;
}

static bool declared(json_object *spec, json_object *pieces, const char *name)
{
    (void)pieces;
    return subnet_declared(spec, name);
}

static bool listed_once(json_object *spec, json_object *pieces, const char *name)
{
    (void)spec;
    size_t n = 0;
    for (size_t i = 0; i < np_cli_len(pieces); i++) {
        json_object *subs = json_object_object_get(json_object_array_get_idx(pieces, i), "subnets");
        for (size_t j = 0; j < np_cli_len(subs); j++)
            if (np_str_eq(json_object_get_string(json_object_array_get_idx(subs, j)), name)) {
                n++;
                break;
            }
    }
    return n == 1;
}

static bool route_table_subnets_declared(json_object *self)
{
    return each_piece_subnet(self, "routeTables", declared);
}

static bool acl_subnets_declared(json_object *self)
{
    return each_piece_subnet(self, "networkAcls", declared);
}

static bool route_table_subnets_once(json_object *self)
{
    return each_piece_subnet(self, "routeTables", listed_once);
}

static bool acl_subnets_once(json_object *self)
{
    return each_piece_subnet(self, "networkAcls", listed_once);
}

static bool subnets_inside_vpc(json_object *self)
{
    struct np_cli_cidr vpc, sub;
    if (!np_cli_cidr_parse(str(self, "cidrBlock") ? str(self, "cidrBlock") : "", &vpc))
        return true;
    json_object *subnets = json_object_object_get(self, "subnets");
    for (size_t i = 0; i < np_cli_len(subnets); i++) {
        const char *b = str(json_object_array_get_idx(subnets, i), "cidrBlock");
        if (b && np_cli_cidr_parse(b, &sub) && !np_cli_cidr_contains(&vpc, &sub))
            return false;
    }
    return true;
}

static bool flow_logs_destination(json_object *self)
{
    return !flag(self, "enabled") || has(self, "destination");
}

static bool logs_need_role(json_object *self)
{
    return !has(self, "destination") || !matches(str(self, "destination"), "^arn:[^:]+:logs:") ||
           has(self, "deliverLogsPermissionArn");
}

static bool s3_takes_no_role(json_object *self)
{
    return !has(self, "deliverLogsPermissionArn") || !has(self, "destination") ||
           !matches(str(self, "destination"), "^arn:[^:]+:s3:");
}

static bool flow_log_arn(json_object *self)
{
    return matches(json_object_get_string(self),
                   "^arn:aws[a-z-]*:(s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|logs:[a-z0-9-]+:"
                   "[0-9]{12}:log-group:[^:*]+(:\\*)?|firehose:[a-z0-9-]+:[0-9]{12}:"
                   "deliverystream/.+)$");
}

static bool subnets_disjoint(json_object *self)
{
    size_t n = np_cli_len(self);
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(self, i);
        struct np_cli_cidr ca, cb;
        if (!np_cli_cidr_parse(str(a, "cidrBlock") ? str(a, "cidrBlock") : "", &ca))
            continue;
        for (size_t j = 0; j < n; j++) {
            json_object *b = json_object_array_get_idx(self, j);
            if (np_str_eq(str(a, "name"), str(b, "name")) ||
                !np_cli_cidr_parse(str(b, "cidrBlock") ? str(b, "cidrBlock") : "", &cb))
                continue;
            if (np_cli_cidr_contains(&ca, &cb) || np_cli_cidr_contains(&cb, &ca))
                return false;
        }
    }
    return true;
}

/* Whether two routes have the same destination (CIDRs compared as CEL does: each contains the
 * other). */
static bool same_destination(json_object *a, json_object *b)
{
    static const char *const CIDR_KEYS[] = {"destinationCidrBlock", "destinationIpv6CidrBlock"};
    for (size_t k = 0; k < NP_ARRAY_LEN(CIDR_KEYS); k++) {
        if (!has(a, CIDR_KEYS[k]))
            continue;
        struct np_cli_cidr ca, cb;
        if (!has(b, CIDR_KEYS[k]) || !np_cli_cidr_parse(str(a, CIDR_KEYS[k]), &ca) ||
            !np_cli_cidr_parse(str(b, CIDR_KEYS[k]), &cb))
            return false;
        return np_cli_cidr_contains(&ca, &cb) && np_cli_cidr_contains(&cb, &ca);
    }
    return has(a, "destinationPrefixListId") &&
           np_str_eq(str(a, "destinationPrefixListId"), str(b, "destinationPrefixListId"));
}

/* Every item has exactly one item equal to it under same (itself): CEL's all(exists_one). */
static bool unique_by(json_object *self, bool (*same)(json_object *, json_object *),
                      bool (*skip)(json_object *))
{
    size_t n = np_cli_len(self);
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(self, i);
        if (skip && skip(a))
            continue;
        size_t hits = 0;
        for (size_t j = 0; j < n; j++)
            hits += same(a, json_object_array_get_idx(self, j));
        if (hits != 1)
            return false;
    }
    return true;
}

/* A route whose destination is not a valid CIDR is not compared (the rule skips it). */
static bool destination_unparsable(json_object *a)
{
    struct np_cli_cidr c;
    const char *k = has(a, "destinationCidrBlock")       ? "destinationCidrBlock"
                    : has(a, "destinationIpv6CidrBlock") ? "destinationIpv6CidrBlock"
                                                         : NULL;
    if (k)
        return !np_cli_cidr_parse(str(a, k), &c);
    return !has(a, "destinationPrefixListId");
}

static bool routes_unique(json_object *self)
{
    return unique_by(self, same_destination, destination_unparsable);
}

static bool route_one_destination(json_object *self)
{
    return has(self, "destinationCidrBlock") + has(self, "destinationIpv6CidrBlock") +
               has(self, "destinationPrefixListId") ==
           1;
}

static bool route_one_target(json_object *self)
{
    int n = 0;
    for (int t = 0; t < NP_POSTURE_ROUTE_TARGET_COUNT; t++)
        n += has(self, np_posture_route_target_name((enum np_posture_route_target)t));
    return n == 1;
}

static bool eigw_ipv6_only(json_object *self)
{
    return !has(self, "egressOnlyInternetGatewayId") || !has(self, "destinationCidrBlock");
}

static bool same_entry(json_object *a, json_object *b)
{
    return num(a, "ruleNumber") == num(b, "ruleNumber") && has(a, "ruleNumber") &&
           has(b, "ruleNumber") && flag(a, "egress") == flag(b, "egress");
}

static bool entries_unique(json_object *self)
{
    return unique_by(self, same_entry, NULL);
}

static bool entry_one_cidr(json_object *self)
{
    return has(self, "cidrBlock") != has(self, "ipv6CidrBlock");
}

static bool entry_ports_only_tcp_udp(json_object *self)
{
    return in(str(self, "protocol"), TCP_UDP) || (!has(self, "fromPort") && !has(self, "toPort"));
}

static bool entry_ports_ordered(json_object *self)
{
    return !has(self, "fromPort") || !has(self, "toPort") ||
           num(self, "fromPort") <= num(self, "toPort");
}

static bool entry_icmp_only(json_object *self)
{
    return in(str(self, "protocol"), ICMP_ANY) ||
           (!has(self, "icmpType") && !has(self, "icmpCode"));
}

static bool entry_icmp_code_needs_type(json_object *self)
{
    return !in(str(self, "protocol"), ICMP_ANY) ||
           (has(self, "icmpType") && num(self, "icmpType") != -1) || !has(self, "icmpCode") ||
           num(self, "icmpCode") == -1;
}

/* ---------------------------------------------------------------- the table */

struct port {
    const char *rule;
    bool (*holds)(json_object *self);
};

#define CIDR4 "isCIDR(self) && cidr(self).ip().family() == 4"
#define CIDR6 "isCIDR(self) && cidr(self).ip().family() == 6"
#define TAGS                                                                                       \
    "self.all(k, size(k) >= 1 && size(k) <= 128 && !k.startsWith('netposture.dev/') && "           \
    "!k.startsWith('aws:'))"
#define BLOCK_SIZE                                                                                 \
    "!isCIDR(self) || cidr(self).ip().family() != 4 || (cidr(self).prefixLength() >= 16 && "       \
    "cidr(self).prefixLength() <= 28)"
#define ADOPT(id)                                                                                  \
    "!has(self.management) || self.management.policy != 'Adopt' || has(self.management." id ")"
#define ONLY_ONE(key, var)                                                                         \
    "!has(self." key ") || self." key ".all(" var ", !has(" var ".subnets) || " var                \
    ".subnets.all(n, self." key ".exists_one(u, has(u.subnets) && n in u.subnets)))"
#define DECLARED(key, var)                                                                         \
    "!has(self." key ") || self." key ".all(" var ", !has(" var ".subnets) || " var                \
    ".subnets.all(n, has(self.subnets) && self.subnets.exists(s, s.name == n)))"

static const struct port PORTS[] = {
    /* shared */
    {"self.matches('^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]{2,16}-[0-9]{1,2}$')", region_name},
    {TAGS, tag_keys},
    {CIDR4, ipv4_cidr},
    {CIDR6, ipv6_cidr},
    {BLOCK_SIZE, block_16_to_28},
    {"!(self.protocol in ['tcp', 'udp', '6', '17']) || (has(self.fromPort) && has(self.toPort))",
     tcp_udp_need_ports},
    {"!self.protocol.matches('^[0-9]+$') || int(self.protocol) <= 255", field_protocol_number},
    /* CloudAccount */
    {"!has(self.credentials) || self.credentials.source != 'Secret' || "
     "has(self.credentials.secretRef)",
     secret_needs_ref},
    {"!has(self.credentials) || !has(self.credentials.secretRef) || self.credentials.source == "
     "'Secret'",
     ref_only_for_secret},
    {"!has(self.credentials) || (!has(self.credentials.roleArn) && "
     "!has(self.credentials.tokenFile)) || self.credentials.source == 'WebIdentity'",
     web_identity_fields},
    {"(!has(self.externalId) && !has(self.sessionName) && !has(self.durationSeconds)) || "
     "(has(self.assumeRoleArn) && self.assumeRoleArn != '')",
     assume_role_fields},
    {"!has(self.endpoint) || self.endpoint == '' || !has(self.endpoints) || "
     "!has(self.endpoints.ec2)",
     one_ec2_endpoint},
    {"has(self.tags) || has(self.ids)", selector_tags_or_ids},
    /* PostureGuardrail */
    {"self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : "
     "(!has(self.values) || size(self.values) == 0)",
     match_expression_values},
    {"has(self.deny) != has(self.require)", deny_xor_require},
    {"has(self.direction) || has(self.protocols) || has(self.ports) || has(self.cidrs)",
     deny_has_criterion},
    {"!self.matches('^[0-9]+$') || int(self) <= 255", self_protocol_number},
    {"isCIDR(self)", is_cidr},
    {"(has(self.flowLogs) && self.flowLogs) || (has(self.defaultSecurityGroupRestricted) && "
     "self.defaultSecurityGroupRestricted)",
     require_something},
    /* SecurityGroupPosture */
    {"!(has(self.vpcId) && has(self.vpcRef))", one_vpc_field},
    {ADOPT("groupId"), adopt_needs_group_id},
    {"!self.lowerAscii().startsWith('sg-')", group_name_not_sg},
    {"(has(self.cidrs) ? size(self.cidrs) : 0) + (has(self.ipv6Cidrs) ? size(self.ipv6Cidrs) : "
     "0) + (has(self.prefixListIds) ? size(self.prefixListIds) : 0) + (has(self.securityGroups) "
     "? size(self.securityGroups) : 0) > 0",
     rule_has_peer},
    {"!(self.protocol in ['tcp', 'udp', '6', '17']) || !has(self.fromPort) || !has(self.toPort) "
     "|| (self.fromPort >= 0 && self.fromPort <= self.toPort)",
     rule_ports_ordered},
    {"!(self.protocol in ['icmp', 'icmpv6', '1', '58']) || !has(self.fromPort) || self.fromPort "
     "<= 255",
     icmp_type_max},
    {"!(self.protocol in ['icmp', 'icmpv6', '1', '58']) || !has(self.toPort) || self.toPort <= "
     "255",
     icmp_code_max},
    {"!(self.protocol in ['icmp', '1']) || !has(self.fromPort) || self.fromPort != -1 || "
     "!has(self.toPort) || self.toPort == -1",
     icmp_all_types_all_codes},
    {"has(self.groupId) != has(self.name)", group_id_xor_name},
    /* VPCPosture */
    {ADOPT("vpcId"), adopt_needs_vpc_id},
    {DECLARED("routeTables", "t"), route_table_subnets_declared},
    {DECLARED("networkAcls", "a"), acl_subnets_declared},
    {ONLY_ONE("routeTables", "t"), route_table_subnets_once},
    {ONLY_ONE("networkAcls", "a"), acl_subnets_once},
    {"!has(self.subnets) || !isCIDR(self.cidrBlock) || self.subnets.all(s, !isCIDR(s.cidrBlock) "
     "|| cidr(self.cidrBlock).containsCIDR(s.cidrBlock))",
     subnets_inside_vpc},
    {"!self.enabled || has(self.destination)", flow_logs_destination},
    {"!has(self.destination) || !self.destination.matches('^arn:[^:]+:logs:') || "
     "has(self.deliverLogsPermissionArn)",
     logs_need_role},
    {"!has(self.deliverLogsPermissionArn) || !has(self.destination) || "
     "!self.destination.matches('^arn:[^:]+:s3:')",
     s3_takes_no_role},
    {"self.matches('^arn:aws[a-z-]*:(s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|logs:[a-z0-9-]+:"
     "[0-9]{12}:log-group:[^:*]+(:\\\\*)?|firehose:[a-z0-9-]+:[0-9]{12}:deliverystream/.+)$')",
     flow_log_arn},
    {"self.all(a, self.all(b, a.name == b.name || !isCIDR(a.cidrBlock) || !isCIDR(b.cidrBlock) "
     "|| !(cidr(a.cidrBlock).containsCIDR(b.cidrBlock) || "
     "cidr(b.cidrBlock).containsCIDR(a.cidrBlock))))",
     subnets_disjoint},
    {"self.all(a, has(a.destinationCidrBlock) ? !isCIDR(a.destinationCidrBlock) || "
     "self.exists_one(b, has(b.destinationCidrBlock) && isCIDR(b.destinationCidrBlock) && "
     "cidr(a.destinationCidrBlock).containsCIDR(b.destinationCidrBlock) && "
     "cidr(b.destinationCidrBlock).containsCIDR(a.destinationCidrBlock)) : "
     "has(a.destinationIpv6CidrBlock) ? !isCIDR(a.destinationIpv6CidrBlock) || "
     "self.exists_one(b, has(b.destinationIpv6CidrBlock) && isCIDR(b.destinationIpv6CidrBlock) "
     "&& cidr(a.destinationIpv6CidrBlock).containsCIDR(b.destinationIpv6CidrBlock) && "
     "cidr(b.destinationIpv6CidrBlock).containsCIDR(a.destinationIpv6CidrBlock)) : "
     "!has(a.destinationPrefixListId) || self.exists_one(b, has(b.destinationPrefixListId) && "
     "b.destinationPrefixListId == a.destinationPrefixListId))",
     routes_unique},
    {"(has(self.destinationCidrBlock) ? 1 : 0) + (has(self.destinationIpv6CidrBlock) ? 1 : 0) + "
     "(has(self.destinationPrefixListId) ? 1 : 0) == 1",
     route_one_destination},
    {"(has(self.gatewayId) ? 1 : 0) + (has(self.natGatewayId) ? 1 : 0) + "
     "(has(self.transitGatewayId) ? 1 : 0) + (has(self.vpcPeeringConnectionId) ? 1 : 0) + "
     "(has(self.egressOnlyInternetGatewayId) ? 1 : 0) + (has(self.carrierGatewayId) ? 1 : 0) + "
     "(has(self.localGatewayId) ? 1 : 0) + (has(self.coreNetworkArn) ? 1 : 0) + "
     "(has(self.instanceId) ? 1 : 0) + (has(self.networkInterfaceId) ? 1 : 0) == 1",
     route_one_target},
    {"!has(self.egressOnlyInternetGatewayId) || !has(self.destinationCidrBlock)", eigw_ipv6_only},
    {"self.all(a, self.exists_one(b, b.ruleNumber == a.ruleNumber && (has(b.egress) && "
     "b.egress) == (has(a.egress) && a.egress)))",
     entries_unique},
    {"has(self.cidrBlock) != has(self.ipv6CidrBlock)", entry_one_cidr},
    {"(self.protocol in ['tcp', 'udp', '6', '17']) || (!has(self.fromPort) && "
     "!has(self.toPort))",
     entry_ports_only_tcp_udp},
    {"!has(self.fromPort) || !has(self.toPort) || self.fromPort <= self.toPort",
     entry_ports_ordered},
    {"(self.protocol in ['icmp', 'icmpv6', '1', '58']) || (!has(self.icmpType) && "
     "!has(self.icmpCode))",
     entry_icmp_only},
    {"!(self.protocol in ['icmp', 'icmpv6', '1', '58']) || (has(self.icmpType) && self.icmpType "
     "!= -1) || !has(self.icmpCode) || self.icmpCode == -1",
     entry_icmp_code_needs_type},
};

/* ---------------------------------------------------------------- messageExpression */

/* One term of a concatenation: a quoted literal (escapes undone) or self[.field]. */
static int message_term(struct np_buf *out, const char **pp, json_object *self)
{
    const char *p = *pp;
    if (*p == '\'') {
        for (p++; *p && *p != '\''; p++)
            np_buf_putc(out, *p == '\\' && p[1] ? *++p : *p);
        if (*p != '\'')
            return np_error_set(NP_ENOTSUP, "unterminated literal in a messageExpression");
        *pp = p + 1;
        return 0;
    }
    if (strncmp(p, "self", 4) != 0)
        return np_error_set(NP_ENOTSUP, "messageExpression term not ported: %s", p);
    p += 4;
    json_object *v = self;
    if (*p == '.') {
        size_t n = strspn(++p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        char *field = np_strndup(p, n);
        v = json_object_object_get(self, field);
        free(field);
        p += n;
    }
    np_buf_puts(out, json_object_get_string(v) ? json_object_get_string(v) : "");
    *pp = p;
    return 0;
}

/* A messageExpression of the form 'literal' + self + 'literal' + self.field ... */
static int message_eval(const char *expr, json_object *self, char **out)
{
    struct np_buf b;
    np_buf_init(&b);
    const char *p = expr;
    int rc = 0;
    while (rc == 0 && *p) {
        p += strspn(p, " ");
        rc = message_term(&b, &p, self);
        p += strspn(p, " ");
        if (rc == 0 && *p && *p++ != '+')
            rc = np_error_set(NP_ENOTSUP, "messageExpression not ported: %s", expr);
    }
    *out = rc ? NULL : np_buf_take(&b);
    np_buf_clean_up(&b);
    return rc;
}

/* ---------------------------------------------------------------- entry points */

bool np_cli_cel_is_transition(const char *rule)
{
    return rule && strstr(rule, "oldSelf") != NULL;
}

int np_cli_cel_check(const char *rule, const char *message_expression, json_object *self,
                     bool *holds, char **message)
{
    *holds = true;
    *message = NULL;
    for (size_t i = 0; i < NP_ARRAY_LEN(PORTS); i++) {
        if (!np_str_eq(PORTS[i].rule, rule))
            continue;
        *holds = PORTS[i].holds(self);
        if (*holds || !message_expression)
            return 0;
        return message_eval(message_expression, self, message);
    }
    return np_error_set(NP_ENOTSUP, "the CRD rule %s has no C port in pkg/cli/cel.c",
                        rule ? rule : "(none)");
}
