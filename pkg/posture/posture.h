/*
 * posture: netposture's pure domain logic for security groups — parse and validate a
 * SecurityGroupPosture spec, normalise desired and observed rules to atomic rules, diff them
 * (with tags), and plan make-before-break changes with a stable text form. No I/O, no clock,
 * no globals: time and lookups come in as arguments.
 */
#ifndef NP_POSTURE_POSTURE_H
#define NP_POSTURE_POSTURE_H

#include "core/core.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_POSTURE_TAG_PREFIX "netposture.dev/"

enum np_posture_mode { NP_POSTURE_MODE_ENFORCE = 0, NP_POSTURE_MODE_DETECT, NP_POSTURE_MODE_PROPOSE };
enum np_posture_ownership { NP_POSTURE_EXCLUSIVE = 0, NP_POSTURE_ADDITIVE };
enum np_posture_management_policy { NP_POSTURE_MANAGEMENT_CREATE = 0, NP_POSTURE_MANAGEMENT_ADOPT };
enum np_posture_deletion {
    NP_POSTURE_DELETION_UNSET = 0, /* Delete if created, Retain if adopted */
    NP_POSTURE_DELETION_DELETE,
    NP_POSTURE_DELETION_RETAIN,
};
enum np_posture_direction { NP_POSTURE_INGRESS = 0, NP_POSTURE_EGRESS = 1 };
enum np_posture_peer_kind {
    NP_POSTURE_PEER_CIDR4 = 0,
    NP_POSTURE_PEER_CIDR6,
    NP_POSTURE_PEER_PREFIX_LIST,
    NP_POSTURE_PEER_GROUP,      /* a group id */
    NP_POSTURE_PEER_GROUP_NAME, /* a SecurityGroupPosture name, resolved by np_posture_desired */
};

struct np_posture_tag {
    char *key;
    char *value;
};

/*
 * One atomic rule: a direction, a protocol, a port range and ONE peer. In canonical form
 * (after parsing or np_posture_observed): protocol "tcp", "udp", "icmp", "icmpv6", "-1" or a
 * decimal number; ports -1/-1 where the protocol has none (ICMP keeps type/code); CIDRs
 * masked, IPv6 in compressed lowercase text. Identity excludes the description.
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

struct np_posture_ruleset {
    struct np_posture_rule *rules;
    size_t n;
};

/* A tolerated-drift pattern (spec.remediation.exceptions[]); used by the safety policy. */
struct np_posture_exception {
    enum np_posture_direction direction;
    char *protocol; /* canonical, or NULL for any */
    int from_port, to_port; /* -2 for any */
    char **cidrs;   /* canonical; IPv4 and IPv6 together */
    size_t n_cidrs;
    char **actors;
    size_t n_actors;
    int64_t expires_ms; /* 0: never */
};

struct np_posture_sg_spec {
    char *account_ref; /* NULL: "default" */
    char *region;      /* NULL: the account's */
    char *vpc_id;
    char *vpc_ref;
    char *group_name;
    char *description;
    struct np_posture_tag *tags;
    size_t n_tags;
    struct np_posture_rule *ingress; /* atomic and canonical; GROUP_NAME peers unresolved */
    size_t n_ingress;
    struct np_posture_rule *egress;
    size_t n_egress;
    bool egress_omitted; /* true: the AWS default egress (all to 0.0.0.0/0) is desired */
    enum np_posture_ownership ownership;
    struct {
        enum np_posture_management_policy policy;
        char *group_id;
        enum np_posture_deletion deletion_policy;
    } management;
    struct {
        enum np_posture_mode mode;
        int64_t grace_ms;
        int max_changes; /* default 20 */
        struct np_posture_exception *exceptions;
        size_t n_exceptions;
    } remediation;
};

/*
 * Parses and validates a SecurityGroupPosture .spec (borrowed). *out is owned by the caller
 * (np_posture_sg_spec_destroy). Errors: NP_EINVAL with a message naming the field path, e.g.
 * `spec.ingress[2].cidrs[0]: "10.0.0.0/33" is not a valid IPv4 CIDR`.
 */
int np_posture_sg_spec_parse(struct np_posture_sg_spec **out, json_object *spec);
void np_posture_sg_spec_destroy(struct np_posture_sg_spec *spec);

const char *np_posture_mode_name(enum np_posture_mode mode);

/* ---------------------------------------------------------------- canonical forms */

/* Canonical protocol for a name or number ("TCP", "6" -> "tcp"; "all", "-1" -> "-1"). Writes
 * into out (8 bytes). Errors: NP_EINVAL. */
int np_posture_protocol_canonical(const char *in, char out[8]);
/* Whether the protocol keeps ports (tcp, udp, icmp, icmpv6). */
bool np_posture_protocol_has_ports(const char *canonical);
/* Masked CIDR text of the given family (owned). Errors: NP_EINVAL. */
int np_posture_cidr_canonical(char **out, const char *in, bool ipv6);

/* ---------------------------------------------------------------- rule sets */

/* Resolves a SecurityGroupPosture name in the posture's namespace to its group id (owned). */
typedef int (*np_posture_resolve_fn)(void *ctx, const char *name, char **group_id);

/*
 * The desired atomic rules of spec: declared ingress and egress (the AWS default egress when
 * egress is omitted), group names resolved through resolve, deduplicated, sorted. *out is
 * owned (np_posture_ruleset_clean_up). Errors: the resolver's code with its message.
 */
int np_posture_desired(struct np_posture_ruleset *out, const struct np_posture_sg_spec *spec,
                       np_posture_resolve_fn resolve, void *ctx);

/* A rule as AWS returns it (see pkg/aws): the controller maps its type to this. */
struct np_posture_raw_rule {
    bool egress;
    const char *protocol;
    bool has_ports;
    int from_port;
    int to_port;
    enum np_posture_peer_kind peer_kind;
    const char *peer;
    const char *description;
};

/* Normalises observed rules (deduplicated, sorted). Unparseable peers are kept verbatim. */
int np_posture_observed(struct np_posture_ruleset *out, const struct np_posture_raw_rule *raw,
                        size_t n);
void np_posture_ruleset_clean_up(struct np_posture_ruleset *rs);

/* Identity comparison (direction, protocol, ports, peer kind, peer): <0, 0, >0. */
int np_posture_rule_cmp(const struct np_posture_rule *a, const struct np_posture_rule *b);
/* "tcp 443 10.0.0.0/8", "all 0.0.0.0/0", "icmp type 8 code 0 10.0.0.0/8", "47 10.0.0.0/8",
 * "tcp 1000-2000 sg-0def" (no direction, no description). Owned. */
char *np_posture_rule_text(const struct np_posture_rule *r);
const char *np_posture_direction_name(enum np_posture_direction d);

/* ---------------------------------------------------------------- diff */

enum np_posture_change {
    NP_POSTURE_MISSING = 0,     /* declared, not in AWS */
    NP_POSTURE_EXTRA,           /* in AWS, not declared (Exclusive ownership) */
    NP_POSTURE_DESCRIPTION,     /* same rule, other description */
    NP_POSTURE_TAG_MISSING,
    NP_POSTURE_TAG_CHANGED,
    NP_POSTURE_TAG_EXTRA,       /* undeclared user tag (Exclusive ownership) */
};

/* "Missing", "Extra", "DescriptionChanged", "TagMissing", "TagChanged", "TagExtra". */
const char *np_posture_change_name(enum np_posture_change c);

struct np_posture_drift {
    enum np_posture_change change;
    struct np_posture_rule rule; /* rule changes: desired (Missing, Description) or observed */
    char *observed_description;  /* Description: what AWS has */
    struct np_posture_tag tag;   /* tag changes: desired (Missing, Changed) or observed (Extra) */
    char *observed_value;        /* TagChanged: what AWS has */
    bool guardrail;              /* violates a guardrail: revoked first, no grace */
};

struct np_posture_delta {
    struct np_posture_drift *items; /* rules first (sorted), then tags (by key) */
    size_t n;
};

/*
 * Compares desired and observed rules and tags. Tags under netposture.dev/ and aws: are
 * never drift. Additive ownership ignores undeclared rules and tags. *out is owned
 * (np_posture_delta_clean_up).
 */
int np_posture_diff(struct np_posture_delta *out, const struct np_posture_ruleset *desired,
                    const struct np_posture_ruleset *observed,
                    const struct np_posture_tag *want_tags, size_t n_want,
                    const struct np_posture_tag *have_tags, size_t n_have,
                    enum np_posture_ownership ownership);
void np_posture_delta_clean_up(struct np_posture_delta *d);
/* "ingress", "egress" or "tags". */
const char *np_posture_drift_scope(const struct np_posture_drift *d);
/* The rule text, or "key=value" for tags (observed value for TagExtra). Owned. */
char *np_posture_drift_text(const struct np_posture_drift *d);

/* ---------------------------------------------------------------- plan */

enum np_posture_action_kind {
    NP_POSTURE_AUTHORIZE = 0,
    NP_POSTURE_DESCRIBE, /* fix descriptions in place */
    NP_POSTURE_TAG_SET,
    NP_POSTURE_TAG_DELETE,
    NP_POSTURE_REVOKE,
};

struct np_posture_action {
    enum np_posture_action_kind kind;
    enum np_posture_direction direction;
    struct np_posture_rule *rules; /* AUTHORIZE, DESCRIBE (desired description), REVOKE */
    size_t n_rules;
    struct np_posture_tag *tags;   /* TAG_SET (key, value), TAG_DELETE (key) */
    size_t n_tags;
    bool guardrail;                /* a revoke of guardrail-violating rules, ordered first */
};

struct np_posture_plan {
    struct np_posture_action *actions;
    size_t n;
};

/*
 * Make-before-break: revoke guardrail-violating rules, then authorize missing (one action
 * per direction), fix descriptions, set tags, delete tags, revoke extra. *out is owned.
 */
int np_posture_plan_build(struct np_posture_plan *out, const struct np_posture_delta *delta);
void np_posture_plan_clean_up(struct np_posture_plan *p);
/* Atomic changes in the plan (rules and tags), for maxChangesPerSync. */
size_t np_posture_plan_count(const struct np_posture_plan *p);
/*
 * One text line per atomic change: `authorize ingress tcp 443 10.0.0.0/8`,
 * `describe ingress tcp 443 10.0.0.0/8 "https"`, `tag set team=shop`, `tag delete owner`,
 * `revoke ingress tcp 22 0.0.0.0/0`. *lines is an owned NULL-terminated vector
 * (np_posture_lines_free); *n optional.
 */
int np_posture_plan_text(char ***lines, size_t *n, const struct np_posture_plan *p);
void np_posture_lines_free(char **lines);

/* ---------------------------------------------------------------- decisions */

enum np_posture_decision {
    NP_POSTURE_DECIDE_APPLY = 0, /* Enforce within the blast radius */
    NP_POSTURE_DECIDE_REPORT,    /* Detect: report only */
    NP_POSTURE_DECIDE_HOLD,      /* Propose, or a plan over maxChangesPerSync: wait for approval */
};

enum np_posture_decision np_posture_decide(enum np_posture_mode mode, size_t plan_count,
                                           int max_changes);

#endif
