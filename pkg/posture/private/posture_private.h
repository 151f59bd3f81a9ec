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

/* Appends a zeroed drift item to d and returns it (owned by d). */
struct np_posture_drift *np_posture_delta_add(struct np_posture_delta *d);
/* Appends a rule drift item holding a deep copy of r. */
void np_posture_delta_add_rule(struct np_posture_delta *d, enum np_posture_change change,
                               const struct np_posture_rule *r);
/* Frees one drift item's strings and zeroes it. */
void np_posture_drift_clean_up(struct np_posture_drift *it);

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

/* Appends s with control characters written as \n, \t, \r or \xHH; with quote also `"` and
 * `\` escaped (for the quoted description). */
void np_posture_put_escaped(struct np_buf *b, const char *s, bool quote);

#endif
