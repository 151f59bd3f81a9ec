/*
 * A UNIT-TEST STAND-IN for EC2, not a model of it: an in-memory set of security groups (and
 * one default VPC) behind the AWS client's transport hook (struct np_aws_test_hooks). It
 * decodes the form-encoded Query API requests the controller sends for security groups
 * (DescribeSecurityGroups, CreateSecurityGroup, Authorize/Revoke/UpdateSecurityGroupRule-
 * Descriptions Ingress/Egress, CreateTags, DeleteTags, DeleteSecurityGroup, DescribeVpcs) and
 * answers with the XML shapes pkg/aws's parsers read (as recorded from moto in
 * tests/fixtures/aws). It records every action called and can fail the N-th call of one.
 * Thread-safe (the region's poller thread calls it too). Rules are atomic: one peer each.
 */
#ifndef NP_TEST_FAKE_EC2_H
#define NP_TEST_FAKE_EC2_H

#include <stdbool.h>
#include <stddef.h>

struct np_aws_test_hooks;
struct fake_ec2;

#define FAKE_EC2_OWNER "123456789012"
#define FAKE_EC2_DEFAULT_VPC "vpc-0defa000000000001"

struct fake_ec2 *fake_ec2_new(void);
void fake_ec2_destroy(struct fake_ec2 *f);
/* The hooks to install on an EC2 client (borrowed; lives as long as f). */
const struct np_aws_test_hooks *fake_ec2_hooks(struct fake_ec2 *f);

/* ---------------------------------------------------------------- state, as a test sets it */

/* Adds a group (no rules, no tags) and returns its id (borrowed until destroy). */
const char *fake_ec2_add_group(struct fake_ec2 *f, const char *name, const char *description,
                               const char *vpc);
/* Sets (adds or replaces) a tag; removes it when value is NULL. False when no such group. */
bool fake_ec2_set_tag(struct fake_ec2 *f, const char *group_id, const char *key, const char *value);
/* Adds an IPv4 CIDR rule ("-1" protocol: no ports). */
bool fake_ec2_add_rule(struct fake_ec2 *f, const char *group_id, bool egress, const char *protocol,
                       int from, int to, const char *cidr, const char *description);
bool fake_ec2_remove_rule(struct fake_ec2 *f, const char *group_id, bool egress,
                          const char *protocol, int from, int to, const char *cidr);
bool fake_ec2_set_rule_description(struct fake_ec2 *f, const char *group_id, bool egress,
                                   const char *protocol, int from, int to, const char *cidr,
                                   const char *description);
/* While set, DeleteSecurityGroup of the group fails with DependencyViolation. */
bool fake_ec2_set_in_use(struct fake_ec2 *f, const char *group_id, bool in_use);

/* ---------------------------------------------------------------- state, as a test reads it */

size_t fake_ec2_group_count(struct fake_ec2 *f);
/* The id of the group named name (owned), or NULL. */
char *fake_ec2_group_by_name(struct fake_ec2 *f, const char *name);
bool fake_ec2_group_exists(struct fake_ec2 *f, const char *group_id);
/* A tag's value (owned), or NULL when the tag (or the group) is absent. */
char *fake_ec2_tag(struct fake_ec2 *f, const char *group_id, const char *key);
size_t fake_ec2_tag_count(struct fake_ec2 *f, const char *group_id);
bool fake_ec2_has_rule(struct fake_ec2 *f, const char *group_id, bool egress, const char *protocol,
                       int from, int to, const char *cidr);
/* Whether the group has a rule whose peer is the security group peer_group_id. */
bool fake_ec2_has_group_rule(struct fake_ec2 *f, const char *group_id, bool egress,
                             const char *protocol, int from, int to, const char *peer_group_id);
/* The description of a rule (owned; "" for none), or NULL when the rule is absent. */
char *fake_ec2_rule_description(struct fake_ec2 *f, const char *group_id, bool egress,
                                const char *protocol, int from, int to, const char *cidr);
size_t fake_ec2_rule_count(struct fake_ec2 *f, const char *group_id, bool egress);

/* ---------------------------------------------------------------- calls */

/* How many calls of action were received (failed ones included). */
int fake_ec2_calls(struct fake_ec2 *f, const char *action);
/* How many calls were received of actions that change state (all but Describe* and STS). */
int fake_ec2_mutations(struct fake_ec2 *f);
/* The actions received so far, one per line (owned), for assertion messages. */
char *fake_ec2_call_log(struct fake_ec2 *f);
/* Forgets the calls received so far. */
void fake_ec2_reset_calls(struct fake_ec2 *f);
/*
 * The nth (1-based) call of action from now on fails with HTTP 403 UnauthorizedOperation (not
 * retried) and changes nothing; later calls succeed again.
 */
void fake_ec2_fail_nth(struct fake_ec2 *f, const char *action, int nth);
/*
 * The nth (1-based) call of action from now on answers success but changes nothing (another
 * writer undid it at once, or a read that lags the write): verification sees it still differ.
 */
void fake_ec2_ignore_nth(struct fake_ec2 *f, const char *action, int nth);
/*
 * The nth (1-based) call of action from now on is carried out but its answer is lost: the
 * attempt times out (a transport timeout, retried by the client) as under load.
 */
void fake_ec2_lose_answer_nth(struct fake_ec2 *f, const char *action, int nth);
/*
 * While held, a poller's DescribeSecurityGroups (the one filtered on tag-key) waits, at most
 * 10 s: a test makes a first poll last while passes run.
 */
void fake_ec2_hold_polls(struct fake_ec2 *f, bool hold);
/* Every call of action answers HTTP 503 Unavailable (retried, then NP_EAGAIN) until called again
 * with NULL. */
void fake_ec2_unavailable(struct fake_ec2 *f, const char *action);

#endif
