/*
 * posture: netposture's pure domain logic — parse and validate SecurityGroupPosture and
 * VPCPosture specs, normalise desired and observed state to canonical forms, diff them (with
 * tags), plan make-before-break changes with a stable text form, fingerprint an observed group,
 * check guardrails and decide what the mode allows. No I/O, no clock, no globals.
 */
#ifndef NP_POSTURE_POSTURE_H
#define NP_POSTURE_POSTURE_H

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
#define NP_POSTURE_DEFAULT_MAX_CHANGES 20

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

/* spec.remediation; shared in shape with the other posture kinds. */
struct np_posture_remediation {
    enum np_posture_mode mode; /* default Enforce */
    int64_t grace_ms;          /* default 0 */
    int max_changes;           /* maxChangesPerSync, default 20 */
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
 * Resolves a SecurityGroupPosture name (same namespace) to its group id. On success sets
 * *group_id (heap, owned by the caller of np_posture_desired, which frees it) and returns 0;
 * otherwise returns a negative NP_E* code with a message (np_error_set).
 */
typedef int (*np_posture_resolve_fn)(void *ctx, const char *name, char **group_id);

/*
 * The desired atomic rules of a parsed spec: each declared rule expanded to one atomic rule
 * per peer, canonicalised, group names resolved through resolve (may be NULL when no rule
 * names a group), the AWS default egress {-1, 0.0.0.0/0} when egress was omitted,
 * deduplicated (the first non-empty description in declaration order wins) and sorted.
 * *out is owned by the caller (np_posture_ruleset_clean_up); empty on error.
 * Errors: the resolver's code, message prefixed with the field path
 * (`spec.ingress[0].securityGroups[1]: ...`); NP_EINVAL for a spec that was not validated.
 */
int np_posture_desired(struct np_posture_ruleset *out, const struct np_posture_sg_spec *spec,
                       np_posture_resolve_fn resolve, void *ctx);

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
 * Compares desired and observed rule sets (both as built by np_posture_desired and
 * np_posture_observed: sorted, unique) and tags (borrowed, any order). Rules: Missing,
 * Extra (Exclusive only; Additive ignores undeclared rules), DescriptionChanged. Tags:
 * declared tags must be present with the declared value (TagMissing, TagChanged); undeclared
 * tags are TagExtra in Exclusive mode and ignored in Additive; keys under netposture.dev/ and
 * aws: are never drift on either side. *out is owned by the caller
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
/* Atomic changes in the plan (rules plus tags), compared with maxChangesPerSync. */
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
/* Frees a vector from np_posture_plan_text; NULL is a no-op. */
void np_posture_lines_free(char **lines);

/* ---------------------------------------------------------------- guardrails */

enum np_posture_enforcement { NP_POSTURE_GUARDRAIL_DENY = 0, NP_POSTURE_GUARDRAIL_WARN };

/* A posture a guardrail rule does not apply to (spec.rules[].exceptions[]). */
struct np_posture_guardrail_exception {
    char *ns;      /* namespace; required */
    char *posture; /* posture name; NULL: every posture of the namespace */
};

/*
 * One rule of a PostureGuardrail (spec.rules[]): it denies atomic rules that match every
 * given criterion. An absent criterion matches anything:
 *   direction      the rule's direction;
 *   protocols      canonical ("tcp", "udp", "icmp", "icmpv6", "-1" for all, numbers); a rule
 *                  with protocol -1 (all traffic) matches any listed protocol;
 *   ports          a rule matches when its port range holds one of them; a rule whose
 *                  protocol has no ports (-1, or a number other than tcp/udp) opens every port
 *                  and so matches; icmp/icmpv6 never match a port list;
 *   cidrs          canonical IPv4/IPv6 CIDRs; a rule matches when its CIDR peer COVERS one of
 *                  them (0.0.0.0/0 covers 0.0.0.0/0 only; 10.0.0.0/8 covers 10.1.0.0/16), so
 *                  "0.0.0.0/0" means "open to the whole internet"; peers that are not CIDRs
 *                  (prefix lists, groups) never match a cidrs list.
 */
struct np_posture_guardrail_rule {
    char *id;
    char **references; /* e.g. "CIS AWS Foundations 5.2" */
    size_t n_references;
    bool has_direction;
    enum np_posture_direction direction;
    char **protocols;
    size_t n_protocols;
    int *ports;
    size_t n_ports;
    char **cidrs;
    size_t n_cidrs;
    struct np_posture_guardrail_exception *exceptions;
    size_t n_exceptions;
    /* What the deny criteria above apply to (spec.rules[].deny.resources): a bit set of
     * NP_POSTURE_GUARDRAIL_*; 0 when the rule has no deny block. Default: security groups. */
    unsigned resources;
    /* spec.rules[].require: what every governed VPCPosture must have. */
    bool require_flow_logs;             /* flow logs enabled (CIS "VPC flow logging") */
    bool require_default_sg_restricted; /* defaultSecurityGroup.restrictAll (CIS 5.4) */
};

/* Bits of np_posture_guardrail_rule.resources. */
#define NP_POSTURE_GUARDRAIL_SECURITY_GROUPS 1u /* security-group rules, the default SG's too */
#define NP_POSTURE_GUARDRAIL_NETWORK_ACLS 2u    /* allow entries of network ACLs */

/* A parsed PostureGuardrail (its namespaceSelector is the controller's business: labels). */
struct np_posture_guardrail {
    char *name;
    enum np_posture_enforcement enforcement; /* default Deny */
    struct np_posture_guardrail_rule *rules;
    size_t n_rules;
};

/*
 * Parses and validates a PostureGuardrail .spec (borrowed). On success *out is owned by the
 * caller (np_posture_guardrail_destroy). Each rule has exactly one of deny (criteria, with
 * deny.resources: securityGroups | networkAcls, default [securityGroups]) and require
 * (flowLogs, defaultSecurityGroupRestricted: at least one true). Errors: NP_EINVAL naming the
 * field path, e.g. `spec.rules[0].deny.cidrs[1]: "10.0.0.0/33" is not a valid CIDR`, duplicate
 * rule ids, a deny with no criterion at all, `spec.rules[0]: set exactly one of deny and
 * require`.
 */
int np_posture_guardrail_parse(struct np_posture_guardrail **out, const char *name,
                               json_object *spec);
void np_posture_guardrail_destroy(struct np_posture_guardrail *g);
/* "Deny" or "Warn" (static). */
const char *np_posture_enforcement_name(enum np_posture_enforcement e);

/* Whether a canonical atomic rule matches a guardrail rule's deny criteria (no exceptions).
 * Security-group rules only: false for a rule whose resources lack
 * NP_POSTURE_GUARDRAIL_SECURITY_GROUPS (networkAcls-only and require-only rules); for VPC drift
 * items use np_posture_vpc_guardrail_forbids. */
bool np_posture_guardrail_rule_matches(const struct np_posture_guardrail_rule *gr,
                                       const struct np_posture_rule *r);
/* Whether the guardrail rule's exceptions exempt the posture ns/name. */
bool np_posture_guardrail_exempts(const struct np_posture_guardrail_rule *gr, const char *ns,
                                  const char *name);

/* One violation: which guardrail rule an atomic rule breaks (borrowed pointers). */
struct np_posture_violation {
    const struct np_posture_guardrail *guardrail;
    const struct np_posture_guardrail_rule *rule;
    const struct np_posture_rule *atomic; /* the offending rule (in the checked set) */
};

/*
 * Checks a rule set (desired or observed) of posture ns/name against the guardrails that
 * govern it (the caller has applied namespaceSelector): one violation per (atomic rule,
 * guardrail rule) pair that matches and is not exempt, in rule-set order then guardrail order.
 * *out (owned array, free()) and *n are set; *out is NULL when there is none. Returns 0.
 */
int np_posture_guardrail_check(struct np_posture_violation **out, size_t *n,
                               const struct np_posture_guardrail *const *guardrails,
                               size_t n_guardrails, const char *ns, const char *name,
                               const struct np_posture_ruleset *rules);

/*
 * Marks the drift of a delta that violates a governing guardrail (Deny or Warn): every Extra
 * rule item that matches gets guardrail = true (so the plan revokes it first and the policy
 * skips its grace period). With Additive ownership, observed rules that are not desired and
 * violate a guardrail are added to the delta as Extra items with guardrail = true (a
 * guardrail forbids them even though the posture does not own them), keeping the delta's
 * order (rule items in identity order, then tag items). Returns 0.
 */
int np_posture_guardrail_mark(struct np_posture_delta *delta,
                              const struct np_posture_ruleset *desired,
                              const struct np_posture_ruleset *observed,
                              enum np_posture_ownership ownership,
                              const struct np_posture_guardrail *const *guardrails,
                              size_t n_guardrails, const char *ns, const char *name);

/* ---------------------------------------------------------------- policy */

/* What the policy decided for one drift item (the status item's `state` derives from it). */
enum np_posture_item_state {
    NP_POSTURE_ITEM_APPLY = 0, /* repaired in this pass (Authorized/Revoked/Updated/Tagged) */
    NP_POSTURE_ITEM_PENDING,   /* inside the grace period: repaired at until_ms */
    NP_POSTURE_ITEM_REPORTED,  /* Detect mode */
    NP_POSTURE_ITEM_PROPOSED,  /* Propose mode, or Enforce over the blast radius */
    NP_POSTURE_ITEM_EXCEPTED,  /* matches a live exception */
    NP_POSTURE_ITEM_CONTESTED, /* flapping: no longer repaired, still reported */
};

/* "Apply", "Pending", "Reported", "Proposed", "Excepted", "Contested" (static). */
const char *np_posture_item_state_name(enum np_posture_item_state s);

/*
 * What the controller remembers of one drift item across passes (parallel to delta->items;
 * zero means "new, nothing known").
 */
struct np_posture_item_history {
    int64_t first_seen_ms; /* 0: first seen now */
    const char *actor;     /* who made the change (event-driven mode), NULL when unknown */
    int occurrences;       /* times this item appeared as new drift inside the flapping window,
                              this pass included (0 is read as 1) */
    bool contested;        /* it was contested before and not reset since */
    bool actor_verified;   /* the actor was confirmed by a source the sender of the event
                              cannot forge (CloudTrail LookupEvents); an unverified actor is
                              shown but never matches exceptions[].actors */
};

#define NP_POSTURE_DEFAULT_FLAP_THRESHOLD 3
#define NP_POSTURE_DEFAULT_FLAP_WINDOW_MS (10LL * 60 * 1000)

/*
 * What the policy decides from. Zero-initialise it (designated initialisers) and set what
 * you have: fields added later default to "off" at zero.
 */
struct np_posture_policy_input {
    const struct np_posture_remediation *remediation; /* required */
    const struct np_posture_delta *delta;             /* required (may hold no item) */
    const struct np_posture_item_history *history;    /* parallel to delta->items, or NULL */
    int flap_threshold;                               /* 0: NP_POSTURE_DEFAULT_FLAP_THRESHOLD */
    int64_t now_ms; /* the reconcile's wall clock (grace and exception expiry) */
};

/*
 * What keeps a posture from converged once the items due now are applied: the first that
 * holds, in this precedence (the Ready condition's reason derives from it, and nothing else
 * orders them):
 *   BLAST_RADIUS  Enforce items held because there were more than the limit
 *   PROPOSED      items wait for a human to approve the plan (Propose mode)
 *   REPORTED      items are only reported (Detect mode)
 *   CONTESTED     items are no longer repaired (flapping)
 *   GRACE         items wait for their grace period
 *   CONVERGED     nothing is left, or only items tolerated by an exception
 */
enum np_posture_standing {
    NP_POSTURE_STANDING_CONVERGED = 0,
    NP_POSTURE_STANDING_BLAST_RADIUS,
    NP_POSTURE_STANDING_PROPOSED,
    NP_POSTURE_STANDING_REPORTED,
    NP_POSTURE_STANDING_CONTESTED,
    NP_POSTURE_STANDING_GRACE,
};
/* "Converged", "BlastRadiusExceeded", "Proposed", "Reported", "Contested", "GracePeriod". */
const char *np_posture_standing_name(enum np_posture_standing s);

/* The policy's verdict. Release with np_posture_verdict_clean_up. */
struct np_posture_verdict {
    enum np_posture_standing standing;
    size_t changes; /* atomic changes that would be applied (APPLY + PROPOSED items) */
    size_t limit;   /* the effective maxChangesPerSync */
    /* Per drift item, parallel to delta->items (owned; NULL without a delta): */
    enum np_posture_item_state *states;
    int64_t *until_ms; /* PENDING: when it will be repaired; EXCEPTED: the exception's expiry
                          (0 when it has none); else 0 */
    size_t n;
    size_t n_apply, n_pending, n_reported, n_proposed, n_excepted, n_contested;
    int64_t next_ms; /* the earliest time a PENDING item or an exception expires (0: none):
                        the controller re-checks then */
};

/*
 * Decides, per drift item, in this order:
 *   1. Detect mode: REPORTED (never mutate).
 *   2. Contested: history.contested, or history.occurrences >= flap threshold, and the item
 *      is not guardrail-violating: CONTESTED (a guardrail-violating item keeps being repaired).
 *   3. A live exception (not expired at now_ms; direction and the given criteria of the rule
 *      pattern match the item's atomic rule: protocol, ports as a range that must equal the
 *      item's, cidrs/ipv6Cidrs/prefixListIds/securityGroups ids as the peer; actors, if given,
 *      must glob-match (`*` matches any run of characters) a known and VERIFIED history.actor —
 *      an unknown or unverified actor never matches an exception with actors) and the item is a
 * rule item and not guardrail-violating: EXCEPTED.
 *   4. Grace: not guardrail-violating and now_ms < first_seen + gracePeriod: PENDING until
 *      first_seen + gracePeriod.
 *   5. Propose mode: PROPOSED.
 *   6. Enforce: APPLY; but when the APPLY items are more than maxChangesPerSync (<= 0 means
 *      the default 20), all of them become PROPOSED (reason BlastRadiusExceeded).
 * standing: what is left once the APPLY items are applied (see enum np_posture_standing).
 * Errors: NP_EINVAL when remediation or delta is NULL.
 */
int np_posture_policy_decide(struct np_posture_verdict *out,
                             const struct np_posture_policy_input *in);
/* The standing once a human approved and applied the PROPOSED items: they count as applied
 * (neither the blast radius nor the proposal holds anything any more). */
enum np_posture_standing np_posture_standing_once_approved(const struct np_posture_verdict *v);
/* Releases what a verdict owns; safe to call twice. */
void np_posture_verdict_clean_up(struct np_posture_verdict *v);

/*
 * Copies the items of delta whose verdict state is `state` into *out (owned; the caller
 * frees it with np_posture_delta_clean_up), keeping order and the guardrail marks: build the
 * plan to apply (APPLY) or to propose (PROPOSED) from it. Returns 0.
 */
int np_posture_delta_select(struct np_posture_delta *out, const struct np_posture_delta *delta,
                            const struct np_posture_verdict *v, enum np_posture_item_state state);

/* ================================================================ VPC postures (DESIGN 1.2) */

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

/* The VPC side of a drift item (np_posture_drift.vpc). All strings owned by the item. */
struct np_posture_vpc_drift {
    enum np_posture_vpc_item item;
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
 * and entry creations, the flow log, route and entry replacements, associations, attributes,
 * tag sets, tag deletes, and last the removals: route deletes, entry deletes, disassociations,
 * default-SG revokes. Delta order inside a kind. *out is owned (np_posture_vpc_plan_clean_up).
 * Returns 0.
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
