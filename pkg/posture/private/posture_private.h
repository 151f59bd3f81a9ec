/*
 * Internals of pkg/posture shared between its files: rule copies, rule-set building, port
 * canonicalisation and the escaping used by every text form.
 */
#ifndef NP_POSTURE_PRIVATE_H
#define NP_POSTURE_PRIVATE_H

#include "posture/posture.h"

/* Frees a rule's strings and zeroes it. */
void np_posture_rule_clean_up(struct np_posture_rule *r);
/* Deep copy of src into dst (dst is overwritten, not freed). */
void np_posture_rule_copy(struct np_posture_rule *dst, const struct np_posture_rule *src);
/* Appends a deep copy of r. */
void np_posture_ruleset_add(struct np_posture_ruleset *rs, const struct np_posture_rule *r);
/* Sorts by identity, stable, and drops duplicates: the first non-empty description wins. */
void np_posture_ruleset_sort_unique(struct np_posture_ruleset *rs);
/* Frees a declared rule's contents and zeroes it. */
void np_posture_rule_spec_clean_up(struct np_posture_rule_spec *r);
/* Canonical ports for a canonical protocol: -1/-1 unless it has ports (or !has_ports);
 * ICMP type -1 forces code -1. */
void np_posture_ports_canonical(const char *protocol, bool has_ports, int *from, int *to);
/* Whether a canonical protocol is icmp or icmpv6. */
bool np_posture_protocol_is_icmp(const char *canonical);
/*
 * Parses a CIDR of the given family into its network bytes (host bits cleared; 4 bytes used
 * for IPv4, the rest zero) and prefix length. False when it is not a valid CIDR.
 */
bool np_posture_cidr_parse(const char *in, bool ipv6, unsigned char bytes[16], int *prefix);
/* Whether network a/alen contains network b/blen (as np_posture_cidr_parse gives them, same
 * family; guardrail.c). */
bool np_posture_net_covers(const unsigned char *a, int alen, const unsigned char *b, int blen);

/* Appends a zeroed drift item to d and returns it (owned by d). */
struct np_posture_drift *np_posture_delta_add(struct np_posture_delta *d);
/* Appends a rule drift item holding a deep copy of r. */
void np_posture_delta_add_rule(struct np_posture_delta *d, enum np_posture_change change,
                               const struct np_posture_rule *r);
/*
 * Appends the tag drift of want (declared) against have (observed), sorted by key: TagMissing,
 * TagChanged, and TagExtra with Exclusive ownership; reserved keys are never drift.
 */
void np_posture_diff_tags(struct np_posture_delta *out, const struct np_posture_tag *want,
                          size_t n_want, const struct np_posture_tag *have, size_t n_have,
                          enum np_posture_ownership ownership);
/* Frees one drift item's strings (and its VPC details) and zeroes it. */
void np_posture_drift_clean_up(struct np_posture_drift *it);
/* Deep copy of src into dst (dst is overwritten, not freed), VPC details and guardrail mark
 * included. */
void np_posture_drift_copy(struct np_posture_drift *dst, const struct np_posture_drift *src);

/* Lower-cases in place (ids and values that did not parse). */
void np_posture_lower(char *s);

/* VPC canonical forms (vpc_diff.c), shared by the spec parser and the diff. */
/* Canonical route destination (owned): CIDRs masked, prefix list ids lowercase. Errors:
 * NP_EINVAL for a CIDR that does not parse (*out NULL). */
int np_posture_route_dest_canonical(char **out, enum np_posture_route_dest kind, const char *in);
/* Canonical route target (owned): ids lowercase, a core network ARN as written. */
char *np_posture_route_target_canonical(enum np_posture_route_target kind, const char *in);
/* Sets an entry's ports and ICMP type/code from what was given, for its canonical protocol:
 * ports only for tcp/udp, type/code only for icmp/icmpv6 (type -1 forces code -1), else -1. */
void np_posture_nacl_entry_ranges(struct np_posture_nacl_entry *e, bool has_ports, int from, int to,
                                  bool has_icmp, int type, int code);
/* Identity orders: routes by (destination kind, destination), entries by (egress, number). */
int np_posture_route_identity_cmp(const struct np_posture_route *a,
                                  const struct np_posture_route *b);
int np_posture_nacl_entry_identity_cmp(const struct np_posture_nacl_entry *a,
                                       const struct np_posture_nacl_entry *b);
/* "ingress 100" (owned): an entry's identity as text. */
char *np_posture_nacl_entry_key(const struct np_posture_nacl_entry *e);

/* The canonical entries of an observed network ACL (owned array; free each with
 * np_posture_nacl_entry_clean_up), without AWS's default entries (rule 32767), sorted by
 * identity and unique. */
struct np_posture_nacl_entry *
np_posture_vpc_observed_entries(const struct np_posture_network_acl_observed *o, size_t *n);

/* VPC drift details (vpc_diff.c). */
/* Frees a route's strings and zeroes it. */
void np_posture_route_clean_up(struct np_posture_route *r);
/* Deep copy of src into dst (dst is overwritten, not freed). */
void np_posture_route_copy(struct np_posture_route *dst, const struct np_posture_route *src);
/* Frees an entry's strings and zeroes it. */
void np_posture_nacl_entry_clean_up(struct np_posture_nacl_entry *e);
/* Deep copy of src into dst (dst is overwritten, not freed). */
void np_posture_nacl_entry_copy(struct np_posture_nacl_entry *dst,
                                const struct np_posture_nacl_entry *src);
/* Frees the VPC side of a drift item; NULL is a no-op. */
void np_posture_vpc_drift_free(struct np_posture_vpc_drift *v);
/* A deep copy (owned), or NULL for NULL. */
struct np_posture_vpc_drift *np_posture_vpc_drift_dup(const struct np_posture_vpc_drift *v);
/* The status text of a VPC drift item (d->vpc set; owned; vpc_plan.c). */
char *np_posture_vpc_drift_text(const struct np_posture_drift *d);

/*
 * Typed access to a spec's JSON (spec.c), for every spec parser of the module. path is the
 * field path of o ("spec", "spec.rules[2]"); errors are NP_EINVAL with "<path>.<k>: ...".
 */
/* Member k of o, or NULL when absent or JSON null. */
json_object *np_posture_json_member(json_object *o, const char *k);
/* Optional string member: *out borrowed, NULL when absent. */
int np_posture_json_string(json_object *o, const char *k, const char *path, const char **out);
/* Optional object / list member: *out borrowed, NULL when absent. */
int np_posture_json_object(json_object *o, const char *k, const char *path, json_object **out);
int np_posture_json_array(json_object *o, const char *k, const char *path, json_object **out);
/* Optional integer member in min..max: *has tells whether it was there. */
int np_posture_json_int(json_object *o, const char *k, const char *path, int64_t min, int64_t max,
                        bool *has, int64_t *out);
/* Optional enum member (case-sensitive, as the CRDs): absent gives def, else the index into
 * names. */
int np_posture_json_enum(json_object *o, const char *k, const char *path, const char *const *names,
                         size_t n, int def, int *out);
/*
 * Optional list of strings o.k: each item is checked with check(item, "<path>.<k>[i]") and
 * appended (copied) to *items / *n, which the caller frees even on error (both start zeroed).
 */
int np_posture_json_string_list(json_object *o, const char *k, const char *path, char ***items,
                                size_t *n, int (*check)(const char *s, const char *item_path));

/* Optional boolean member: *has tells whether it was there. */
int np_posture_json_bool(json_object *o, const char *k, const char *path, bool *has, bool *out);
/* A reference object o.k with a required name (accountRef): *name borrowed, NULL when o.k is
 * absent. Errors name "spec.<k>.name". */
int np_posture_json_ref(json_object *o, const char *k, const char **name);
/* Checks that spec is an object and reads accountRef.name (*account_ref, the default account
 * when omitted) and region (*region, NULL when omitted or empty); both owned by the caller even
 * on error. */
int np_posture_json_placement(json_object *spec, char **account_ref, char **region);
/* o.tags, a map of user tags (reserved keys refused), into *tags / *n sorted by key; the caller
 * frees them (np_posture_tags_free) even on error (both start zeroed). path: "spec",
 * "spec.subnets[0]". */
int np_posture_json_tags(json_object *o, const char *path, struct np_posture_tag **tags, size_t *n);
void np_posture_tags_free(struct np_posture_tag *tags, size_t n);
/* The kind of AWS id a posture adopts: its spec field, prefix and name for messages. */
struct np_posture_id_kind {
    const char *field;  /* "groupId", "vpcId" */
    const char *prefix; /* "sg-", "vpc-" */
    const char *what;   /* "security group id", "VPC id" */
};
/* spec.management {policy, <id field> (required for Adopt), deletionPolicy}; *id_out owned by
 * the caller even on error. Absent fields leave the zero defaults. */
int np_posture_json_management(json_object *spec, const struct np_posture_id_kind *id,
                               enum np_posture_management_policy *policy, char **id_out,
                               enum np_posture_deletion *deletion_policy);
/* spec.remediation (shared by every posture kind): defaults filled in; the caller frees it
 * with np_posture_remediation_clean_up even on error. */
int np_posture_json_remediation(json_object *spec, struct np_posture_remediation *rem);
void np_posture_remediation_clean_up(struct np_posture_remediation *rem);
/* An AWS id: prefix ("sg-") followed by one or more letters or digits (any case). */
bool np_posture_is_aws_id(const char *s, const char *prefix);
/* A DNS label (RFC 1123) of at most max characters: lowercase letters, digits and '-',
 * alphanumeric at both ends (guardrail.c). */
bool np_posture_is_dns_label(const char *s, size_t max);

/* Whether r matches a guardrail rule's deny criteria, whatever its resources (false for a rule
 * without a deny block). */
bool np_posture_guardrail_deny_matches(const struct np_posture_guardrail_rule *gr,
                                       const struct np_posture_rule *r);
/* Whether r violates a deny rule of a governing guardrail whose resources include resource
 * (NP_POSTURE_GUARDRAIL_*), not exempting ns/name. */
bool np_posture_guardrail_violates(const struct np_posture_guardrail *const *guardrails,
                                   size_t n_guardrails, const char *ns, const char *name,
                                   unsigned resource, const struct np_posture_rule *r);

/* Appends s with control characters written as \n, \t, \r or \xHH; with quote also `"` and
 * `\` escaped (for the quoted description). */
void np_posture_put_escaped(struct np_buf *b, const char *s, bool quote);

#endif
