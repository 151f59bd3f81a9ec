/*
 * posture (VPCPosture half): the spec, the observed state as plain borrowed values, the drift,
 * the plan and the guardrails of a VPC and its pieces. Include posture/posture.h.
 */
#ifndef NP_POSTURE_VPC_H
#define NP_POSTURE_VPC_H

#include "posture/policy.h"

/* ================================================================ VPC postures */

/*
 * VPCPosture: one VPC and the pieces inside it — attributes, tags, subnets, route tables,
 * network ACLs, flow logs and the default security group. Parsed and validated here, diffed
 * against what the controller observed (passed in as plain borrowed values), planned
 * make-before-break with a stable text form; the policy above decides per drift item exactly
 * as for security groups (items carry np_posture_drift.vpc).
 */

/* Route destinations and targets; value for value equal to enum np_aws_route_dest and enum
 * np_aws_route_target (the controller casts). */
enum np_posture_route_dest {
    NP_POSTURE_DEST_CIDR4 = 0,   /* destinationCidrBlock */
    NP_POSTURE_DEST_CIDR6,       /* destinationIpv6CidrBlock */
    NP_POSTURE_DEST_PREFIX_LIST, /* destinationPrefixListId */
};
enum np_posture_route_target {
    NP_POSTURE_ROUTE_GATEWAY = 0,       /* gatewayId */
    NP_POSTURE_ROUTE_NAT_GATEWAY,       /* natGatewayId */
    NP_POSTURE_ROUTE_TRANSIT_GATEWAY,   /* transitGatewayId */
    NP_POSTURE_ROUTE_VPC_PEERING,       /* vpcPeeringConnectionId */
    NP_POSTURE_ROUTE_EGRESS_ONLY_IGW,   /* egressOnlyInternetGatewayId */
    NP_POSTURE_ROUTE_CARRIER_GATEWAY,   /* carrierGatewayId */
    NP_POSTURE_ROUTE_LOCAL_GATEWAY,     /* localGatewayId */
    NP_POSTURE_ROUTE_CORE_NETWORK,      /* coreNetworkArn */
    NP_POSTURE_ROUTE_INSTANCE,          /* instanceId */
    NP_POSTURE_ROUTE_NETWORK_INTERFACE, /* networkInterfaceId */
    NP_POSTURE_ROUTE_TARGET_COUNT
};
/* The spec field of a target: "gatewayId", "natGatewayId", ... (static). */
const char *np_posture_route_target_name(enum np_posture_route_target t);

/* A route in canonical form: CIDRs masked (IPv6 compressed lowercase), ids lowercase
 * (coreNetworkArn kept as written). Identity is the destination. */
struct np_posture_route {
    enum np_posture_route_dest dest_kind;
    char *destination;
    enum np_posture_route_target target_kind;
    char *target;
};

/*
 * A network ACL entry in canonical form. Identity is (egress, rule_number). protocol is
 * canonical as np_posture_protocol_canonical ("tcp", "udp", "icmp", "icmpv6", "-1", "47");
 * ports are -1/-1 unless tcp/udp; icmp_type/icmp_code are -1/-1 (all) unless icmp/icmpv6.
 */
struct np_posture_nacl_entry {
    int rule_number; /* 1..32766; 32767 is AWS's default "*" entry, never ours */
    bool egress;
    char *protocol;
    bool allow;
    bool ipv6; /* cidr is an IPv6 CIDR */
    char *cidr;
    int from_port;
    int to_port;
    int icmp_type;
    int icmp_code;
};

struct np_posture_subnet_spec {
    char *name;
    char *cidr_block;        /* canonical */
    char *availability_zone; /* NULL: AWS picks */
    bool has_map_public_ip;  /* mapPublicIpOnLaunch declared (else not managed) */
    bool map_public_ip;
    struct np_posture_tag *tags; /* user tags, sorted by key */
    size_t n_tags;
    char *subnet_id; /* adopt this subnet (spec subnets[].subnetId); NULL: find by tag or create */
};

struct np_posture_route_table_spec {
    char *name;
    char **subnets; /* names of subnets of this spec */
    size_t n_subnets;
    struct np_posture_route *routes; /* sorted by destination, unique */
    size_t n_routes;
    struct np_posture_tag *tags;
    size_t n_tags;
    char *route_table_id; /* adopt; NULL: find by tag or create */
};

struct np_posture_network_acl_spec {
    char *name;
    char **subnets;
    size_t n_subnets;
    struct np_posture_nacl_entry *entries; /* sorted by (egress, rule number), unique */
    size_t n_entries;
    struct np_posture_tag *tags;
    size_t n_tags;
    char *network_acl_id; /* adopt; NULL: find by tag or create */
};

struct np_posture_flow_logs_spec {
    bool enabled;           /* default true when flowLogs is declared */
    char *traffic_type;     /* ACCEPT | REJECT | ALL (default ALL) */
    char *destination;      /* the destination ARN; required when enabled */
    char *destination_type; /* from the ARN: "s3", "cloud-watch-logs", "kinesis-data-firehose" */
    char *deliver_logs_permission_arn; /* required for cloud-watch-logs, optional for
                                          kinesis-data-firehose, refused for s3; else NULL */
};

struct np_posture_vpc_spec {
    char *account_ref; /* NP_POSTURE_DEFAULT_ACCOUNT when omitted */
    char *region;      /* NULL: the account's region */
    char *cidr_block;  /* canonical; required */
    struct {
        enum np_posture_management_policy policy; /* default Create */
        char *vpc_id;                             /* required for Adopt */
        enum np_posture_deletion deletion_policy;
    } management;
    bool has_enable_dns_support; /* declared (else not managed) */
    bool enable_dns_support;
    bool has_enable_dns_hostnames;
    bool enable_dns_hostnames;
    struct np_posture_tag *tags; /* user tags of the VPC, sorted by key */
    size_t n_tags;
    bool has_flow_logs;
    struct np_posture_flow_logs_spec flow_logs;
    bool restrict_default_sg; /* defaultSecurityGroup.restrictAll */
    struct np_posture_subnet_spec *subnets;
    size_t n_subnets;
    struct np_posture_route_table_spec *route_tables;
    size_t n_route_tables;
    struct np_posture_network_acl_spec *network_acls;
    size_t n_network_acls;
    /* What undeclared tags, routes, entries and associations mean; default Exclusive. */
    enum np_posture_ownership ownership;
    struct np_posture_remediation remediation;
};

/*
 * Parses and validates a VPCPosture .spec (borrowed). On success *out is owned by the caller
 * (np_posture_vpc_spec_destroy). Errors: NP_EINVAL naming the field path, e.g.
 * `spec.networkAcls[0].entries[2]: ruleNumber 100 is used twice for ingress`,
 * `spec.routeTables[0].subnets[1]: no subnet "c" in spec.subnets`,
 * `spec.subnets[1].cidrBlock: 10.1.0.0/24 is not inside the VPC's 10.0.0.0/16`.
 */
int np_posture_vpc_spec_parse(struct np_posture_vpc_spec **out, json_object *spec);
/* The flow-log destination type of a destination ARN (vpc_spec.c): "s3", "cloud-watch-logs",
 * "kinesis-data-firehose" (static), or NULL when it is none of them. */
const char *np_posture_flow_log_destination_type(const char *arn);
void np_posture_vpc_spec_destroy(struct np_posture_vpc_spec *spec);

/* ---------------------------------------------------------------- VPC observed state */

/* A route as AWS lists it (borrowed strings). */
struct np_posture_raw_route {
    enum np_posture_route_dest dest_kind;
    const char *destination;
    bool has_target;
    enum np_posture_route_target target_kind;
    const char *target;
    const char *origin; /* routes whose origin is not "CreateRoute" (the local route,
                           propagated routes) and gatewayId "local" are never drift; NULL (not
                           reported) counts as "CreateRoute" */
};

/* A network ACL entry as AWS lists it (borrowed strings). */
struct np_posture_raw_nacl_entry {
    int rule_number;
    bool egress;
    const char *protocol; /* "-1", "6", ... */
    bool allow;
    const char *cidr;      /* or NULL */
    const char *ipv6_cidr; /* or NULL */
    bool has_ports;
    int from_port;
    int to_port;
    bool has_icmp;
    int icmp_type;
    int icmp_code;
};

/* One subnet's association with a route table or a network ACL (borrowed). */
struct np_posture_assoc {
    const char *subnet_id;
    const char *association_id;
    const char *owner_id; /* the route table or network ACL */
};

struct np_posture_subnet_observed {
    bool present;
    const char *subnet_id;
    const char *cidr_block;
    const char *availability_zone;
    bool map_public_ip;
    const struct np_posture_tag *tags;
    size_t n_tags;
};

struct np_posture_route_table_observed {
    bool present;
    const char *route_table_id;
    const struct np_posture_raw_route *routes;
    size_t n_routes;
    const struct np_posture_tag *tags;
    size_t n_tags;
};

struct np_posture_network_acl_observed {
    bool present;
    const char *network_acl_id;
    const struct np_posture_raw_nacl_entry *entries;
    size_t n_entries;
    const struct np_posture_tag *tags;
    size_t n_tags;
};

struct np_posture_flow_log_observed {
    const char *flow_log_id;
    const char *traffic_type;
    const char *destination_type;
    const char *destination;
};

/*
 * What the controller read of a VPC, all borrowed. The piece arrays are parallel to the
 * spec's subnets, route_tables and network_acls (the controller matched each declared piece
 * to the AWS object it owns or adopts; present = false when there is none).
 */
struct np_posture_vpc_observed {
    const char *vpc_id; /* NULL: the VPC does not exist (only a Missing item results) */
    const char *cidr_block;
    bool enable_dns_support;
    bool enable_dns_hostnames;
    const struct np_posture_tag *tags;
    size_t n_tags;
    const struct np_posture_subnet_observed *subnets;
    const struct np_posture_route_table_observed *route_tables;
    const struct np_posture_network_acl_observed *network_acls;
    /* Every explicit subnet association of the VPC's route tables and network ACLs. */
    const struct np_posture_assoc *rt_assocs;
    size_t n_rt_assocs;
    const struct np_posture_assoc *nacl_assocs;
    size_t n_nacl_assocs;
    const char *default_nacl_id; /* where an undeclared subnet goes back to */
    const struct np_posture_flow_log_observed *flow_logs; /* of this VPC */
    size_t n_flow_logs;
    const char *default_sg_id;                         /* NULL when not found */
    const struct np_posture_ruleset *default_sg_rules; /* np_posture_observed; may be NULL */
};

/* ---------------------------------------------------------------- VPC drift */

enum np_posture_vpc_item {
    NP_POSTURE_VPC_ITEM_PIECE = 0,   /* Missing: the VPC, a subnet, route table or network ACL */
    NP_POSTURE_VPC_ITEM_ATTRIBUTE,   /* Changed: enableDnsSupport, enableDnsHostnames,
                                        mapPublicIpOnLaunch */
    NP_POSTURE_VPC_ITEM_TAG,         /* TagMissing / TagChanged / TagExtra (tag in drift.tag) */
    NP_POSTURE_VPC_ITEM_ROUTE,       /* Missing / Extra / Changed (retargeted) */
    NP_POSTURE_VPC_ITEM_ROUTE_ASSOC, /* Missing: a declared subnet elsewhere; Extra: an
                                        undeclared subnet associated with the table */
    NP_POSTURE_VPC_ITEM_NACL_ENTRY,  /* Missing / Extra / Changed (replaced) */
    NP_POSTURE_VPC_ITEM_NACL_ASSOC,  /* Missing / Extra (moved back to the default ACL) */
    NP_POSTURE_VPC_ITEM_FLOW_LOG,    /* Missing */
    NP_POSTURE_VPC_ITEM_DEFAULT_SG,  /* Extra: a rule on the default security group (drift.rule) */
};

/* Which piece of a VPCPosture a drift item is about (its text form is vpc_drift.piece). */
enum np_posture_vpc_piece {
    NP_POSTURE_PIECE_VPC = 0,
    NP_POSTURE_PIECE_SUBNET,      /* "subnet/<name>" */
    NP_POSTURE_PIECE_ROUTE_TABLE, /* "routeTable/<name>" */
    NP_POSTURE_PIECE_NETWORK_ACL, /* "networkAcl/<name>" */
    NP_POSTURE_PIECE_FLOW_LOGS,   /* "flowLogs" */
    NP_POSTURE_PIECE_DEFAULT_SG,  /* "defaultSecurityGroup" */
};

/* The VPC side of a drift item (np_posture_drift.vpc). All strings owned by the item. */
struct np_posture_vpc_drift {
    enum np_posture_vpc_item item;
    enum np_posture_vpc_piece piece_kind; /* the piece, typed */
    char *piece;       /* "vpc", "subnet/<name>", "routeTable/<name>", "networkAcl/<name>",
                          "flowLogs", "defaultSecurityGroup" */
    int piece_index;   /* index into the spec's subnets / route_tables / network_acls; -1 else */
    char *resource_id; /* the AWS id a repair acts on (VPC, subnet, table, ACL, group); NULL for
                          a missing piece */
    char *key;         /* PIECE: its summary ("10.0.0.0/16", "10.0.1.0/24 eu-west-1a",
                          "route table", "network ACL"); ATTRIBUTE: the attribute; ROUTE: the
                          destination; NACL_ENTRY: "ingress 100"; *_ASSOC: the subnet (its name,
                          or its id when Extra); FLOW_LOG: the traffic type */
    bool value;        /* ATTRIBUTE: the desired value */
    struct np_posture_route route;      /* ROUTE: desired (Missing, Changed) or observed (Extra) */
    struct np_posture_route have_route; /* ROUTE Changed: what AWS has */
    struct np_posture_nacl_entry entry; /* NACL_ENTRY: desired (Missing, Changed) or
                                           observed (Extra) */
    struct np_posture_nacl_entry have_entry; /* NACL_ENTRY Changed: what AWS has */
    char *subnet_id;                         /* *_ASSOC: the subnet */
    char *association_id; /* *_ASSOC: its current association (NULL: none, so associate) */
    char *target_id;      /* *_ASSOC Missing: our table / ACL; NACL_ASSOC Extra: the default
                             ACL the subnet goes back to; FLOW_LOG: the destination ARN (its
                             type as in the spec's flow_logs.destination_type) */
};
/*
 * Besides vpc, VPC items use these members of np_posture_drift: tag (TAG items, with
 * observed_value for TagChanged), rule (DEFAULT_SG items: the observed rule; NACL_ENTRY items
 * of allow entries: np_posture_nacl_entry_rule of the observed entry for Extra and Changed, of
 * the declared one for Missing, so exceptions and guardrails match entries as rules; zero for
 * deny entries) and guardrail. resource_id is the VPC for VPC items, flow logs included, and
 * the default group for DEFAULT_SG items.
 */

/*
 * Diffs a VPC posture: the VPC's attributes (when declared) and tags; per declared subnet,
 * route table and network ACL (a missing one gives one PIECE Missing item and nothing below
 * it): mapPublicIpOnLaunch, tags, routes, entries and associations; flow logs (Missing when no
 * flow log of the VPC has the declared traffic type and destination); the default security
 * group's rules when restrictAll (each an Extra DEFAULT_SG item with drift.rule set, direction
 * and all). Ownership Additive ignores undeclared tags, routes, entries and associations.
 * Tags under netposture.dev/ and aws: are never drift. Items come in this order: vpc, subnets,
 * route tables, network ACLs (spec order), flow logs, default security group; inside a piece:
 * attributes, routes or entries, associations, tags. *out is owned by the caller
 * (np_posture_delta_clean_up). Returns 0, or NP_EINVAL when spec or observed is NULL.
 */
int np_posture_vpc_diff(struct np_posture_delta *out, const struct np_posture_vpc_spec *spec,
                        const struct np_posture_vpc_observed *observed);

/* ---------------------------------------------------------------- VPC plan */

enum np_posture_vpc_action_kind {
    NP_POSTURE_VPC_CREATE_SUBNET = 0,
    NP_POSTURE_VPC_CREATE_ROUTE_TABLE,
    NP_POSTURE_VPC_CREATE_NETWORK_ACL,
    NP_POSTURE_VPC_SET_ATTRIBUTE,
    NP_POSTURE_VPC_TAG_SET,
    NP_POSTURE_VPC_TAG_DELETE,
    NP_POSTURE_VPC_ROUTE_CREATE,
    NP_POSTURE_VPC_ROUTE_REPLACE,
    NP_POSTURE_VPC_ROUTE_DELETE,
    NP_POSTURE_VPC_RT_ASSOCIATE, /* associate, or replace the subnet's association */
    NP_POSTURE_VPC_RT_DISASSOCIATE,
    NP_POSTURE_VPC_ENTRY_CREATE,
    NP_POSTURE_VPC_ENTRY_REPLACE,
    NP_POSTURE_VPC_ENTRY_DELETE,
    NP_POSTURE_VPC_NACL_ASSOCIATE,    /* replace the subnet's ACL association with ours */
    NP_POSTURE_VPC_NACL_DISASSOCIATE, /* replace it with the default ACL */
    NP_POSTURE_VPC_FLOW_LOG_CREATE,
    NP_POSTURE_VPC_REVOKE_DEFAULT_SG,
};

/* One atomic change: one API call (a CREATE_* is followed by its tags). */
struct np_posture_vpc_action {
    enum np_posture_vpc_action_kind kind;
    struct np_posture_drift item; /* deep copy of the drift item it repairs (item.vpc set) */
};

struct np_posture_vpc_plan {
    struct np_posture_vpc_action *actions;
    size_t n;
};

/*
 * The make-before-break plan of a VPC delta (normally the items the policy selected): first
 * the guardrail-marked removals (entry deletes and replaces, default-SG revokes), then piece
 * creations (subnets, route tables, network ACLs; the VPC itself is the controller's), route
 * creations and the network ACL entries that only widen what is allowed (allow entries
 * created, deny entries deleted or replaced by an allow), the flow log, route and other entry
 * replacements, associations, attributes, tag sets, tag deletes, and last the removals: route
 * deletes, the entries that narrow (allow entries deleted, deny entries created),
 * disassociations, default-SG revokes. Delta order inside a rank. *out is owned
 * (np_posture_vpc_plan_clean_up). Returns 0.
 */
int np_posture_vpc_plan_build(struct np_posture_vpc_plan *out,
                              const struct np_posture_delta *delta);
void np_posture_vpc_plan_clean_up(struct np_posture_vpc_plan *p);
/*
 * One line per action, e.g.
 *   create subnet/a 10.0.1.0/24 eu-west-1a      create routeTable/private     create
 * networkAcl/private set vpc enableDnsHostnames true             set subnet/a mapPublicIpOnLaunch
 * false tag set subnet/a env=prod                   tag delete vpc owner route create
 * routeTable/private 0.0.0.0/0 natGatewayId nat-0abc route replace routeTable/private 0.0.0.0/0
 * natGatewayId nat-0abc route delete routeTable/private 0.0.0.0/0 associate routeTable/private
 * subnet/a       disassociate routeTable/private subnet-0123 entry create networkAcl/private
 * ingress 100 allow tcp 443 10.0.0.0/8 entry replace networkAcl/private ingress 100 allow tcp
 * 443 10.0.0.0/8 entry delete networkAcl/private ingress 100 associate networkAcl/private subnet/a
 * disassociate networkAcl/private subnet-0123 flow-log create vpc REJECT s3 arn:aws:s3:::logs
 *   revoke defaultSecurityGroup ingress all sg-0abc
 * Control characters are escaped as in np_posture_plan_text. *lines is a NULL-terminated
 * vector (np_posture_lines_free); *n optional. Returns 0.
 */
int np_posture_vpc_plan_text(char ***lines, size_t *n, const struct np_posture_vpc_plan *p);
/* The fingerprint of the observed VPC a plan is computed from (np_posture_plan_id): its id
 * and every drift item's scope, change and text (observed values in), hashed. The controller
 * and netposturectl plan compute a VPCPosture's plan id with it. */
uint64_t np_posture_vpc_fingerprint(const struct np_posture_delta *delta, const char *vpc_id);

/* The text of a NACL entry without its rule number and direction:
 * "allow tcp 443 10.0.0.0/8", "deny all 0.0.0.0/0", "allow icmp type 8 code 0 10.0.0.0/8"
 * (owned). */
char *np_posture_nacl_entry_text(const struct np_posture_nacl_entry *e);
/* "0.0.0.0/0 natGatewayId nat-0abc" (owned). */
char *np_posture_route_text(const struct np_posture_route *r);
/* The atomic rule an ALLOW entry opens, for guardrail and exception matching: direction from
 * egress, the protocol, ports (or ICMP type/code) and the CIDR as peer. *out is owned
 * (free its strings with the module's rule clean-up through np_posture_ruleset_clean_up on a
 * one-rule set, or free protocol, peer and description). False (out untouched) for a deny
 * entry. */
bool np_posture_nacl_entry_rule(const struct np_posture_nacl_entry *e, struct np_posture_rule *out);

/* ---------------------------------------------------------------- VPC guardrails */

/* A guardrail violation of a VPC posture's declared state (owned what). */
struct np_posture_vpc_violation {
    const struct np_posture_guardrail *guardrail;
    const struct np_posture_guardrail_rule *rule;
    char *what; /* "networkAcl/public ingress 100 allow tcp 22 0.0.0.0/0", "flowLogs not enabled",
                   "defaultSecurityGroup not restricted" */
};
void np_posture_vpc_violations_free(struct np_posture_vpc_violation *v, size_t n);

/*
 * Checks a VPC posture's declared state against the governing guardrails: allow entries of
 * its network ACLs against deny rules whose resources include networkAcls; require.flowLogs
 * against flowLogs.enabled; require.defaultSecurityGroupRestricted against
 * defaultSecurityGroup.restrictAll. Exceptions exempt as for security groups. *out (owned,
 * np_posture_vpc_violations_free; NULL when none) and *n are set. Returns 0.
 */
int np_posture_vpc_guardrail_check(struct np_posture_vpc_violation **out, size_t *n,
                                   const struct np_posture_guardrail *const *guardrails,
                                   size_t n_guardrails, const char *ns, const char *name,
                                   const struct np_posture_vpc_spec *spec);
/*
 * Marks the drift of a VPC delta that a governing guardrail forbids (guardrail = true, so the
 * plan removes it first and the policy skips grace, exceptions and flapping): NACL_ENTRY
 * Extra and Changed items whose observed entry is an allow entry matching a networkAcls deny
 * rule; DEFAULT_SG items matching a securityGroups deny rule or any require
 * defaultSecurityGroupRestricted rule; FLOW_LOG Missing under a require flowLogs rule. With
 * Additive ownership, observed allow entries of our ACLs that are not declared and violate a
 * rule are added as Extra NACL_ENTRY items with guardrail = true (observed is needed for
 * that; it may be NULL otherwise). Returns 0.
 */
int np_posture_vpc_guardrail_mark(struct np_posture_delta *delta,
                                  const struct np_posture_vpc_spec *spec,
                                  const struct np_posture_vpc_observed *observed,
                                  const struct np_posture_guardrail *const *guardrails,
                                  size_t n_guardrails, const char *ns, const char *name);
/*
 * Whether the guardrail rule gr forbids the VPC drift item d, as np_posture_vpc_guardrail_mark
 * decides it (exemptions not applied: see np_posture_guardrail_exempts): a FLOW_LOG Missing
 * item under require.flowLogs; a DEFAULT_SG Extra item under require
 * defaultSecurityGroupRestricted or matching a securityGroups deny rule; a NACL_ENTRY Extra or
 * Changed item whose observed entry is an allow entry matching a networkAcls deny rule.
 */
bool np_posture_vpc_guardrail_forbids(const struct np_posture_guardrail_rule *gr,
                                      const struct np_posture_drift *d);

#endif
