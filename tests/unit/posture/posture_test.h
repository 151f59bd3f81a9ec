/*
 * Helpers shared by the pkg/posture unit tests: JSON written with single quotes, a fake
 * peer table, the spec -> plan pipeline and text joining, and fixture reading.
 */
#ifndef NP_TEST_POSTURE_H
#define NP_TEST_POSTURE_H

#include "posture/posture.h"

#include <stddef.h>

/* Parses JSON written with ' for " (test tables stay readable). Owned; aborts the test on
 * bad JSON. */
json_object *t_json(const char *single_quoted);
/* Parses a spec written with single quotes; aborts the test with the message on error. */
struct np_posture_sg_spec *t_spec(const char *single_quoted);
/* Parses a spec expected to be rejected; returns the error message (owned), asserting
 * NP_EINVAL and a NULL spec. */
char *t_spec_error(const char *single_quoted);

/* The same two for a VPCPosture spec. */
struct np_posture_vpc_spec *t_vpc_spec(const char *single_quoted);
char *t_vpc_spec_error(const char *single_quoted);

/* A looked-up peer table: "db" -> sg-0db00000000000001, "cache" -> SG-0CAC0000000000002 (upper
 * case, to check lower-casing), "web" has no group yet, "gone" does not exist in namespace shop,
 * "quiet" is not resolved and says nothing, "empty" has the group id "" (static). */
extern const struct np_posture_peers t_peers;
/* np_posture_desired then np_posture_ruleset_resolve with t_peers: the rules to diff. Returns
 * the first error (out empty then). */
int t_desired(struct np_posture_ruleset *out, const struct np_posture_sg_spec *spec);

/* Joins lines as "a\nb\n" (owned; "" when none). */
char *t_join(char **lines);
/* "<direction> <rule text>" plus ` "description"` when it has one (owned). */
char *t_rule_line(const struct np_posture_rule *r);
/* Every rule of rs as t_rule_line, joined with "\n" after each (owned). */
char *t_ruleset_text(const struct np_posture_ruleset *rs);

/* "<scope> <change> <text>\n" per drift item, as np_posture_drift_scope, np_posture_change_name
 * and np_posture_drift_text give them, " [guardrail]" before the newline of a marked item
 * (owned). */
char *t_drift_text(const struct np_posture_delta *d);
/* The blast radius's view of a delta: "subtractive" (counted toward maxChangesPerSync) or
 * "safe" (never held by it), then "<scope> <change> <text>\n", per drift item (owned). */
char *t_blast_text(const struct np_posture_delta *d);

/* spec -> desired; raw -> observed; diff; plan; the plan text (owned). *count (optional) gets
 * np_posture_plan_count. Asserts every step succeeds. */
char *t_plan(const char *spec_json, const struct np_posture_raw_rule *raw, size_t n_raw,
             const struct np_posture_tag *have, size_t n_have, size_t *count);

/*
 * Suite teardown (TestSuite(x, .fini = t_leak_check)): runs LeakSanitizer after each test and
 * aborts on a leak. Criterion reports leaks printed by its workers without failing, so this
 * is what makes a leak turn the run red (the binary exits non-zero, naming the test).
 */
void t_leak_check(void);

/* The JSON file <root><name>/<file> (owned), read from the repository root; NULL when optional
 * and absent, else the test fails when it cannot be read. */
json_object *t_fixture_json(const char *root, const char *name, const char *file, bool optional);
/* Expects got to equal the golden file <root><name>/<file>; NP_UPDATE_GOLDEN=1 rewrites the
 * file from got first (review the diff). */
void t_fixture_golden(const char *root, const char *name, const char *file, const char *got);
/* The whole file (owned), or NULL when it cannot be read. */
char *t_read_file(const char *path);

#define C4 NP_POSTURE_PEER_CIDR4
#define C6 NP_POSTURE_PEER_CIDR6
#define PL NP_POSTURE_PEER_PREFIX_LIST
#define SG NP_POSTURE_PEER_GROUP

/* Observed rules as AWS reports them: with ports, without ports. */
#define IN(proto, from, to, kind, peer, desc)                                                      \
    {                                                                                              \
        false, proto, true, from, to, kind, peer, desc                                             \
    }
#define IN_NP(proto, kind, peer, desc)                                                             \
    {                                                                                              \
        false, proto, false, 0, 0, kind, peer, desc                                                \
    }
#define EG(proto, from, to, kind, peer, desc)                                                      \
    {                                                                                              \
        true, proto, true, from, to, kind, peer, desc                                              \
    }
#define EG_NP(proto, kind, peer, desc)                                                             \
    {                                                                                              \
        true, proto, false, 0, 0, kind, peer, desc                                                 \
    }
/* The AWS default egress rule. */
#define EG_DEFAULT EG_NP("-1", C4, "0.0.0.0/0", NULL)

#endif
