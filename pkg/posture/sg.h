/*
 * posture (SecurityGroupPosture half): the shared enums and tags, parsing and validating the
 * spec, canonical forms, atomic rules, the diff of desired and observed rules and tags, and the
 * make-before-break plan with its stable text form. Include posture/posture.h.
 */
#ifndef NP_POSTURE_SG_H
#define NP_POSTURE_SG_H

#include "core/core.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tags under this prefix are netposture's own (ownership): never drift, never user tags. */
#define NP_POSTURE_TAG_PREFIX "netposture.dev/"
#define NP_POSTURE_TAG_OWNER "netposture.dev/owner" /* <namespace>/<name> */
#define NP_POSTURE_TAG_UID "netposture.dev/uid"     /* the CR's metadata.uid */
#define NP_POSTURE_DEFAULT_ACCOUNT "default"
#define NP_POSTURE_DEFAULT_DESCRIPTION "Managed by netposture"
#define NP_POSTURE_DEFAULT_MAX_CHANGES 20 /* maxChangesPerSync: subtractive changes per pass */
#define NP_POSTURE_MAX_CHANGES_LIMIT 1000 /* the largest cap either form accepts */

enum np_posture_mode {
    NP_POSTURE_MODE_ENFORCE = 0,
    NP_POSTURE_MODE_DETECT,
    NP_POSTURE_MODE_PROPOSE
};
enum np_posture_ownership { NP_POSTURE_EXCLUSIVE = 0, NP_POSTURE_ADDITIVE };
enum np_posture_management_policy { NP_POSTURE_MANAGEMENT_CREATE = 0, NP_POSTURE_MANAGEMENT_ADOPT };
enum np_posture_deletion {
    NP_POSTURE_DELETION_UNSET = 0, /* Delete if created, Retain if adopted */
    NP_POSTURE_DELETION_DELETE,
    NP_POSTURE_DELETION_RETAIN,
};
enum np_posture_direction { NP_POSTURE_INGRESS = 0, NP_POSTURE_EGRESS = 1 };
/* The first four match enum np_aws_peer_kind value for value (the controller casts). */
enum np_posture_peer_kind {
    NP_POSTURE_PEER_CIDR4 = 0,
    NP_POSTURE_PEER_CIDR6,
    NP_POSTURE_PEER_PREFIX_LIST,
    NP_POSTURE_PEER_GROUP,      /* a group id (sg-...) */
    NP_POSTURE_PEER_GROUP_NAME, /* a SecurityGroupPosture name, not resolved yet */
};

struct np_posture_tag {
    char *key;
    char *value;
};

struct np_posture_vpc_drift; /* VPC posture drift details (below) */

/* ---------------------------------------------------------------- spec */

/* A peer group of a declared rule: exactly one of group_id and name is set. */
struct np_posture_group_ref {
    char *group_id; /* sg-..., as declared */
    char *name;     /* a SecurityGroupPosture in the same namespace */
};

/*
 * One entry of spec.ingress[] or spec.egress[] as declared (validated, not canonical, not
 * expanded): np_posture_desired turns it into atomic canonical rules. Also the rule pattern
 * of an exception, where protocol, ports and peers may be absent (meaning "any").
 */
struct np_posture_rule_spec {
    char *protocol; /* as written: "tcp", "6", "all", "-1", "47", ...; NULL only in exceptions */
    bool has_from_port;
    bool has_to_port;
    int from_port; /* meaningful when has_from_port */
    int to_port;   /* meaningful when has_to_port */
    char **cidrs;
    size_t n_cidrs;
    char **ipv6_cidrs;
    size_t n_ipv6_cidrs;
    char **prefix_list_ids;
    size_t n_prefix_list_ids;
    struct np_posture_group_ref *security_groups;
    size_t n_security_groups;
    char *description; /* NULL when none */
};

/* A tolerated-drift pattern (spec.remediation.exceptions[]); applied by the safety policy. */
struct np_posture_exception {
    enum np_posture_direction direction;
    struct np_posture_rule_spec rule; /* absent protocol, ports or peers match any */
    char **actors;                    /* ARN globs; empty: any actor */
    size_t n_actors;
    bool has_expires;
    int64_t expires_ms; /* epoch ms, when has_expires */
};

/*
 * spec.remediation.maxChangesPerSync, the blast radius: `N` or `{subtractive: N, total: M}`.
 * A cap <= 0 means: subtractive the default (NP_POSTURE_DEFAULT_MAX_CHANGES), total none.
 */
struct np_posture_blast_radius {
    int subtractive; /* changes that can reduce reachability per pass (the plain integer form);
                        default 20 */
    int total;       /* every change per pass; 0: no cap (the default) */
};

/* spec.remediation; shared in shape with the other posture kinds. */
struct np_posture_remediation {
    enum np_posture_mode mode;                  /* default Enforce */
    int64_t grace_ms;                           /* default 0 */
    struct np_posture_blast_radius max_changes; /* maxChangesPerSync */
    struct np_posture_exception *exceptions;
    size_t n_exceptions;
};

struct np_posture_sg_spec {
    char *account_ref; /* accountRef.name; NP_POSTURE_DEFAULT_ACCOUNT when omitted */
    char *region;      /* NULL: the account's region */
    char *vpc_id;      /* at most one of vpc_id and vpc_ref; neither: the default VPC */
    char *vpc_ref;     /* vpcRef.name */
    char *group_name;
    char *description;           /* NP_POSTURE_DEFAULT_DESCRIPTION when omitted */
    struct np_posture_tag *tags; /* user tags, sorted by key */
    size_t n_tags;
    struct np_posture_rule_spec *ingress;
    size_t n_ingress;
    struct np_posture_rule_spec *egress;
    size_t n_egress;
    bool egress_omitted; /* true: egress absent, the AWS default (all to 0.0.0.0/0) is desired;
                            false with n_egress 0: `egress: []`, no egress at all */
    enum np_posture_ownership ownership; /* default Exclusive */
    struct {
        enum np_posture_management_policy policy; /* default Create */
        char *group_id;                           /* required for Adopt */
        enum np_posture_deletion deletion_policy; /* default unset */
    } management;
    struct np_posture_remediation remediation;
};

/*
 * Parses and validates a SecurityGroupPosture .spec (borrowed, not modified). On success
 * *out is owned by the caller (np_posture_sg_spec_destroy); on error *out is NULL.
 * Errors: NP_EINVAL with a message naming the field path, e.g.
 * `spec.ingress[2].cidrs[0]: "10.0.0.0/33" is not a valid IPv4 CIDR` or
 * `spec.ingress[0]: fromPort 80 > toPort 22`.
 */
int np_posture_sg_spec_parse(struct np_posture_sg_spec **out, json_object *spec);
/* Frees a parsed spec; NULL is a no-op. */
void np_posture_sg_spec_destroy(struct np_posture_sg_spec *spec);

/* "Enforce", "Detect", "Propose" (static). */
const char *np_posture_mode_name(enum np_posture_mode mode);

/* ---------------------------------------------------------------- canonical forms */

/*
 * Canonical protocol of a name or number, case-insensitive: "TCP", "6" -> "tcp"; "17" -> "udp";
 * "1" -> "icmp"; "58" -> "icmpv6"; "all", "-1" -> "-1"; other numbers 0-255 -> decimal ("047"
 * -> "47"). Writes into out (8 bytes). Errors: NP_EINVAL (message names the value).
 */
int np_posture_protocol_canonical(const char *in, char out[8]);
/* Whether a canonical protocol keeps ports (tcp, udp) or type/code (icmp, icmpv6). */
bool np_posture_protocol_has_ports(const char *canonical);
/*
 * Canonical CIDR of the given family: host bits masked (10.1.2.3/8 -> 10.0.0.0/8), IPv6 in
 * compressed lowercase text. *out is owned by the caller. Errors: NP_EINVAL, with the message
 * `"<in>" is not a valid IPv4 CIDR` (or IPv6).
 */
int np_posture_cidr_canonical(char **out, const char *in, bool ipv6);
/* Whether a tag key is reserved: under netposture.dev/ (ours) or aws: (AWS's). */
bool np_posture_tag_is_reserved(const char *key);

/* ---------------------------------------------------------------- atomic rules */

/*
 * One atomic rule: a direction, a protocol, a port range and ONE peer, in canonical form:
 * protocol "tcp", "udp", "icmp", "icmpv6", "-1" or a decimal number; from/to -1/-1 where the
 * protocol has no ports (ICMP keeps type/code as AWS encodes them, type -1 forces code -1);
 * CIDRs masked, IPv6 compressed lowercase, ids lowercase. Identity is (direction, protocol,
 * from, to, peer kind, peer); the description is not part of it.
 */
struct np_posture_rule {
    enum np_posture_direction direction;
    char *protocol;
    int from_port;
    int to_port;
    enum np_posture_peer_kind peer_kind;
    char *peer;
    char *description; /* NULL when none */
};

/* A set of atomic rules, owned; sorted by identity and without duplicates when built here. */
struct np_posture_ruleset {
    struct np_posture_rule *rules;
    size_t n;
};

/*
 * The desired atomic rules of a parsed spec: each declared rule expanded to one atomic rule
 * per peer, canonicalised, the AWS default egress {-1, 0.0.0.0/0} when egress was omitted,
 * deduplicated (the first non-empty description in declaration order wins) and sorted. A
 * `securityGroups: [{name}]` peer stays a name: an NP_POSTURE_PEER_GROUP_NAME rule whose peer
 * is the name as declared (rule text "name:<name>"); guardrails can be checked on this set,
 * np_posture_ruleset_resolve turns it into the set to diff. *out is owned by the caller
 * (np_posture_ruleset_clean_up); empty on error.
 * Errors: NP_EINVAL for a spec that was not validated (message with the field path).
 */
int np_posture_desired(struct np_posture_ruleset *out, const struct np_posture_sg_spec *spec);

/*
 * The SecurityGroupPosture names the spec's rules refer to (securityGroups: [{name}]), each
 * once, in declaration order (ingress, then egress): what the caller looks up before
 * np_posture_ruleset_resolve. *names is an owned array (free()) of n strings borrowed from spec
 * (valid while spec lives); NULL when there are none. Returns 0.
 */
int np_posture_peer_names(const char ***names, size_t *n, const struct np_posture_sg_spec *spec);

/* A peer posture as the caller looked it up (all strings borrowed). */
struct np_posture_peer {
    const char *name;     /* a SecurityGroupPosture in the posture's namespace */
    const char *group_id; /* its group id (any case); NULL or "": not resolved */
    const char *why;      /* not resolved: why, completing `peer SecurityGroupPosture "<name>" ...`,
                             e.g. "has no group yet"; NULL: "has no group id" */
};

/* The looked-up peers (borrowed; any order; a name not listed counts as not resolved). */
struct np_posture_peers {
    const struct np_posture_peer *items;
    size_t n;
};

/*
 * Resolves the NP_POSTURE_PEER_GROUP_NAME rules of rs (as np_posture_desired built it from
 * spec) in place: each becomes an NP_POSTURE_PEER_GROUP rule with its peer's group id, lower
 * cased; then the set is sorted and deduplicated again with the same outcome np_posture_desired
 * gives for ids declared directly (a name and the id it resolves to, or two names of one group,
 * are one rule; the first non-empty description in declaration order wins). spec (borrowed)
 * gives the field paths of messages and the declaration order; NULL: no paths, and among rules
 * merged here the first in rs order gives the description. peers is borrowed.
 * Errors: NP_ENOTFOUND when a referenced name is not resolved, naming the first such reference
 * in declaration order, e.g. `spec.ingress[1].securityGroups[1]: peer SecurityGroupPosture
 * "web" has no group yet` (the why of its entry; "is not among the peers looked up" when it
 * has none); rs is left unchanged.
 */
int np_posture_ruleset_resolve(struct np_posture_ruleset *rs, const struct np_posture_sg_spec *spec,
                               const struct np_posture_peers *peers);

/* A rule as AWS returns it (DescribeSecurityGroups, one peer): the controller maps its type
 * to this. Strings are borrowed. */
struct np_posture_raw_rule {
    bool egress;
    const char *protocol; /* "tcp", "6", "-1", ... */
    bool has_ports;       /* fromPort/toPort present in the response */
    int from_port;
    int to_port;
    enum np_posture_peer_kind peer_kind;
    const char *peer;        /* CIDR, prefix list id or group id */
    const char *description; /* NULL or "" when none */
};

/*
 * Normalises observed rules to canonical atomic rules, deduplicated (first non-empty
 * description wins) and sorted. Values that do not parse (an unknown protocol name, a bad
 * CIDR) are kept verbatim, lower-cased, so they still show up as drift. *out is owned by the
 * caller (np_posture_ruleset_clean_up). Returns 0 (it has no failure mode today).
 */
int np_posture_observed(struct np_posture_ruleset *out, const struct np_posture_raw_rule *raw,
                        size_t n);
/* Frees the rules and leaves rs empty; safe on an empty set. */
void np_posture_ruleset_clean_up(struct np_posture_ruleset *rs);

/* Identity order (direction, protocol, from, to, peer kind, peer): <0, 0, >0. */
int np_posture_rule_cmp(const struct np_posture_rule *a, const struct np_posture_rule *b);
/*
 * The rule's text without direction and description (owned by the caller):
 * "tcp 443 10.0.0.0/8", "tcp 1000-2000 sg-0def", "all 0.0.0.0/0",
 * "icmp type 8 code 0 10.0.0.0/8", "icmp type 3 10.0.0.0/8" (all codes), "icmp 10.0.0.0/8"
 * (all types), "47 10.0.0.0/8", "udp 53 pl-0abc", "tcp 5432 name:db" (unresolved name).
 */
char *np_posture_rule_text(const struct np_posture_rule *r);
/* "ingress" or "egress" (static). */
const char *np_posture_direction_name(enum np_posture_direction d);

/* ---------------------------------------------------------------- diff */

enum np_posture_change {
    NP_POSTURE_MISSING = 0, /* declared, not in AWS */
    NP_POSTURE_EXTRA,       /* in AWS, not declared (Exclusive ownership) */
    NP_POSTURE_DESCRIPTION, /* same rule, other description */
    NP_POSTURE_TAG_MISSING,
    NP_POSTURE_TAG_CHANGED,
    NP_POSTURE_TAG_EXTRA, /* undeclared user tag (Exclusive ownership) */
    NP_POSTURE_CHANGED,   /* VPC postures: a value differs (attribute, route target, entry) */
};

/* "Missing", "Extra", "DescriptionChanged", "TagMissing", "TagChanged", "TagExtra", "Changed"
 * (static). */
const char *np_posture_change_name(enum np_posture_change c);

/* One drift item. All strings are owned by the delta. */
struct np_posture_drift {
    enum np_posture_change change;
    struct np_posture_rule rule; /* rule changes: desired (Missing, Description) or observed */
    char *observed_description;  /* DescriptionChanged: what AWS has (NULL: none) */
    struct np_posture_tag tag;   /* tag changes: desired (Missing, Changed) or observed (Extra) */
    char *observed_value;        /* TagChanged: what AWS has */
    bool guardrail; /* set by the guardrail check: an Extra rule revoked before anything else */
    struct np_posture_vpc_drift *vpc; /* VPC posture items (owned); NULL for security groups */
};

struct np_posture_delta {
    struct np_posture_drift *items; /* rule items in identity order, then tag items by key */
    size_t n;
};

/*
 * Compares desired and observed rule sets (as built by np_posture_desired then
 * np_posture_ruleset_resolve, and np_posture_observed: sorted, unique) and tags (borrowed, any
 * order). Rules: Missing, Extra (Exclusive only; Additive ignores undeclared rules),
 * DescriptionChanged. Tags: declared tags must be present with the declared value (TagMissing,
 * TagChanged); undeclared tags are TagExtra in Exclusive mode and ignored in Additive; keys under
 * netposture.dev/ and aws: are never drift on either side. *out is owned by the caller
 * (np_posture_delta_clean_up). Returns 0.
 */
int np_posture_diff(struct np_posture_delta *out, const struct np_posture_ruleset *desired,
                    const struct np_posture_ruleset *observed,
                    const struct np_posture_tag *want_tags, size_t n_want,
                    const struct np_posture_tag *have_tags, size_t n_have,
                    enum np_posture_ownership ownership);
/* Frees the items and leaves d empty. */
void np_posture_delta_clean_up(struct np_posture_delta *d);
/* For status drift items {direction, change, rule}: "ingress", "egress" or "tags" (static);
 * for VPC items their piece ("vpc", "subnet/a", "flowLogs", ...; owned by the item). */
const char *np_posture_drift_scope(const struct np_posture_drift *d);
/* The status `rule` text (owned): the rule text, or "key=value" for tags (the declared value;
 * the observed one for TagExtra). VPC items (deterministic: also their identity in status
 * history): PIECE the piece's summary ("10.0.0.0/16", "10.0.1.0/24 eu-west-1a", "route table",
 * "network ACL"); ATTRIBUTE "enableDnsHostnames=true (is false)"; TAG "key=value"; ROUTE
 * "0.0.0.0/0 natGatewayId nat-0abc", Changed adding " (is gatewayId igw-1)"; NACL_ENTRY
 * "ingress 100 allow tcp 443 10.0.0.0/8", Changed adding " (is deny tcp 22 0.0.0.0/0)";
 * *_ASSOC "subnet a" (Missing) or "subnet subnet-0123" (Extra); FLOW_LOG "ALL to s3
 * arn:aws:s3:::b"; DEFAULT_SG "ingress all 0.0.0.0/0". */
char *np_posture_drift_text(const struct np_posture_drift *d);
/*
 * Whether a and b are the same drift item: the same change of the same thing, compared by
 * structure, not text. Rule items: the rule's identity (np_posture_rule_cmp: direction,
 * protocol, ports, peer). Tag items: the key. VPC items: the item kind and piece, then the tag
 * key (TAG), the rule's identity (DEFAULT_SG) or the item's key (every other kind: the
 * attribute, route destination, entry, subnet, traffic type, piece summary). Observed values
 * ("is ..." parts, a TagChanged value) are not identity: a route still pointing elsewhere after
 * a repair is the same item.
 */
bool np_posture_drift_same(const struct np_posture_drift *a, const struct np_posture_drift *b);

/*
 * A stable 64-bit fingerprint (FNV-1a) of an observed group's canonical state: its atomic
 * rules with descriptions and its tags (all of them, ownership tags included), each sorted
 * first, so input order never matters. Equal states give equal fingerprints across runs and
 * builds; any rule, description or tag change gives another one (barring hash collisions).
 */
uint64_t np_posture_fingerprint(const struct np_posture_ruleset *observed,
                                const struct np_posture_tag *tags, size_t n_tags);

/* ---------------------------------------------------------------- plan */

enum np_posture_action_kind {
    NP_POSTURE_AUTHORIZE = 0,
    NP_POSTURE_DESCRIBE, /* fix descriptions in place */
    NP_POSTURE_TAG_SET,
    NP_POSTURE_TAG_DELETE,
    NP_POSTURE_REVOKE,
};

/* One API call's worth of changes. */
struct np_posture_action {
    enum np_posture_action_kind kind;
    enum np_posture_direction direction; /* rule actions; NP_POSTURE_INGRESS for tag actions */
    struct np_posture_rule *rules; /* AUTHORIZE, DESCRIBE (with the desired description), REVOKE */
    size_t n_rules;
    struct np_posture_tag *tags; /* TAG_SET (key, value), TAG_DELETE (key, observed value) */
    size_t n_tags;
    bool guardrail; /* a revoke of guardrail-violating rules: ordered first */
};

struct np_posture_plan {
    struct np_posture_action *actions;
    size_t n;
};

/*
 * Builds the make-before-break plan for a delta: revoke guardrail-violating Extra rules
 * (ingress, egress), then authorize Missing rules (one action per direction, ingress first),
 * fix descriptions (per direction), set tags (one action), delete tags (one action), and
 * revoke the other Extra rules (per direction). Rules keep identity order inside an action.
 * *out is owned by the caller (np_posture_plan_clean_up). Returns 0.
 */
int np_posture_plan_build(struct np_posture_plan *out, const struct np_posture_delta *delta);
/* Frees the actions and leaves p empty. */
void np_posture_plan_clean_up(struct np_posture_plan *p);
/* Atomic changes in the plan (rules plus tags). */
size_t np_posture_plan_count(const struct np_posture_plan *p);
/*
 * One text line per atomic change, in plan order:
 *   authorize <dir> <rule>       revoke <dir> <rule>      describe <dir> <rule> "<description>"
 *   tag set <key>=<value>        tag delete <key>
 * with <rule> as np_posture_rule_text. In the description `"` and `\` are escaped with `\`;
 * control characters anywhere are written as \n, \t or \xHH, so a line never breaks.
 * *lines is an owned NULL-terminated vector (np_posture_lines_free); *n is optional (the
 * number of lines, equal to np_posture_plan_count). Returns 0.
 */
int np_posture_plan_text(char ***lines, size_t *n, const struct np_posture_plan *p);
/* A SHA-256 as lowercase hex into out (the caller's: pkg/posture hashes nothing itself). */
typedef void (*np_posture_sha256_fn)(char out[65], const void *data, size_t len);
/*
 * The id of a plan (owned): "sha256:" and the hash of its text lines (as np_posture_plan_text
 * gives them, each ending in a newline) followed by "observed:<fingerprint as 16 hex digits>",
 * the fingerprint of the observed state it was computed from. The controller publishes it in
 * status.plan.id and applies a plan only when the approval names it; netposturectl plan prints
 * the same. Returns NULL for NULL lines.
 */
char *np_posture_plan_id(char *const *lines, uint64_t observed_fp, np_posture_sha256_fn sha256);
/* Frees a vector from np_posture_plan_text; NULL is a no-op. */
void np_posture_lines_free(char **lines);

#endif
