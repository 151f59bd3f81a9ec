/*
 * Internals of pkg/posture shared between its files: rule copies, rule-set building and
 * canonicalisation of declared rules.
 */
#ifndef NP_POSTURE_PRIVATE_H
#define NP_POSTURE_PRIVATE_H

#include "posture/posture.h"

void np_posture_rule_clean_up(struct np_posture_rule *r);
void np_posture_rule_copy(struct np_posture_rule *dst, const struct np_posture_rule *src);
void np_posture_ruleset_add(struct np_posture_ruleset *rs, const struct np_posture_rule *r);
void np_posture_ruleset_sort_unique(struct np_posture_ruleset *rs);
bool np_posture_tag_is_reserved(const char *key);
int np_posture_rule_canonicalize(struct np_posture_rule *r, bool has_from, bool has_to,
                                 const char *path);
void np_posture_lower(char *s);

#endif
