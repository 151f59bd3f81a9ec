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
/* Appends s with control characters written as \n, \t, \r or \xHH; with quote also `"` and
 * `\` escaped (for the quoted description). */
void np_posture_put_escaped(struct np_buf *b, const char *s, bool quote);

#endif
