/*
 * posture: PostureGuardrail parsing, checking a rule set against guardrails, and marking the
 * drift that violates one. Include posture/posture.h.
 */
#ifndef NP_POSTURE_GUARDRAIL_H
#define NP_POSTURE_GUARDRAIL_H

#include "posture/sg.h"

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

#endif
