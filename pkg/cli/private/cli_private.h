/*
 * cli internals shared by its files: patterns (the CRDs' ECMA/RE2 regular expressions run
 * through POSIX regex), CIDRs as CEL's isCIDR and containsCIDR see them, the embedded CRD texts.
 */
#ifndef NP_CLI_PRIVATE_H
#define NP_CLI_PRIVATE_H

#include "aws/aws.h"
#include "cli/cli.h"
#include "observe/observe.h"
#include "posture/posture.h"

#include <stdint.h>

/* The length of an array; 0 for NULL or anything else (json-c asserts on a non-array). */
static inline size_t np_cli_len(json_object *a)
{
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* Whether s matches the pattern (the subset of ECMA-262 / RE2 syntax the CRDs use: anchors,
 * classes with escapes, \s, groups, alternation, counted repetition). *ok is false when the
 * pattern cannot be compiled. */
bool np_cli_pattern_matches(const char *pattern, const char *s, bool *ok);

/* A CIDR as CEL's cidr() parses it (host bits allowed, no zone, no leading zeros). */
struct np_cli_cidr {
    int family; /* 4 or 6 */
    uint8_t addr[16];
    int bits;
};
/* Whether s is a CIDR (CEL isCIDR); fills *out when it is. */
bool np_cli_cidr_parse(const char *s, struct np_cli_cidr *out);
/* CEL cidr(a).containsCIDR(b): same family, a's prefix no longer than b's, b inside a. */
bool np_cli_cidr_contains(const struct np_cli_cidr *a, const struct np_cli_cidr *b);

/* Calls fn(ctx, rule object, rule text) on each x-kubernetes-validations rule of one schema node
 * that can be checked offline (transition rules, which compare with oldSelf, are skipped). */
typedef void (*np_cli_rule_fn)(void *ctx, json_object *rule_obj, const char *rule);
void np_cli_schema_each_rule(json_object *schema, np_cli_rule_fn fn, void *ctx);

/* The embedded CRD texts (build/gen/crds.c, generated from crds/ by hack/embed-crds.sh). */
struct np_cli_embedded {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct np_cli_embedded np_cli_embedded_crds[];
extern const size_t np_cli_embedded_crds_n;

/* The valid PostureGuardrails added to v (np_cli_validator_add_guardrails), borrowed. */
const struct np_posture_guardrail *const *
np_cli_validator_guardrails(const struct np_cli_validator *v, size_t *n);

/* ---------------------------------------------------------------- commands */

/* A subcommand: run(prog, argc, argv) with argv[0] the command's name; returns the exit code. */
struct np_cli_command {
    const char *name;
    const char *summary;
    const char *usage; /* printf format taking the program name */
    int (*run)(const char *prog, int argc, char **argv);
};

/* "kubectl netposture" when argv0's base name starts with kubectl-, else "netposturectl". */
const char *np_cli_prog(const char *argv0);
const struct np_cli_command *np_cli_command_find(const char *name);
void np_cli_usage(FILE *out, const char *prog, const struct np_cli_command *cmd);
/* Prints `prog cmd: <fmt with arg>` and a --help hint on stderr; returns NP_CLI_EXIT_USAGE. */
int np_cli_usage_error(const char *prog, const char *cmd, const char *fmt, const char *arg);
/* Reads a whole file ("-": stdin) into *out (owned, NUL-terminated). Errors: NP_EIO. */
int np_cli_read_input(char **out, size_t *len, const char *path);

int np_cli_cmd_validate(const char *prog, int argc, char **argv);
int np_cli_cmd_status(const char *prog, int argc, char **argv);
int np_cli_cmd_approve(const char *prog, int argc, char **argv);
int np_cli_cmd_plan(const char *prog, int argc, char **argv);
int np_cli_cmd_import(const char *prog, int argc, char **argv);
int np_cli_cmd_inject_drift(const char *prog, int argc, char **argv);
int np_cli_cmd_render(const char *prog, int argc, char **argv);

/* status: one posture object as a row {kind, namespace, name, ready, reason, drifted,
 * contested, mode, plan, drift} (owned); the rows as a table, drift items under each. */
json_object *np_cli_status_row(json_object *obj);
void np_cli_status_table(FILE *out, json_object *rows);
/* approve: the held plan (status.plan) of a posture object: id, reason, one action a line. */
void np_cli_plan_print(FILE *out, json_object *obj);

/* How a command that prints data ends (np_cli_report). */
struct np_cli_report_ops {
    enum np_cli_format format;
    void (*text)(FILE *out, json_object *data); /* the text form */
    bool (*findings)(json_object *data);        /* true: exit 1 */
};
/* With rc 0: prints data (ops->text, or JSON/YAML) and returns 1 when ops->findings says so,
 * else 0. With an error (or a failed write): `prog cmd: message` on stderr and 2. */
int np_cli_report(const char *prog, const char *cmd, int rc, json_object *data,
                  const struct np_cli_report_ops *ops);

/* ---------------------------------------------------------------- cluster */

struct np_kube_client;
struct np_kube_resource;
extern const struct np_kube_resource np_cli_res_sgp;
extern const struct np_kube_resource np_cli_res_vpcp;
/* A client as the controller makes one (--kubeconfig, $KUBECONFIG, in-cluster,
 * ~/.kube/config). *client owned (np_kube_client_destroy). */
int np_cli_kube_connect(struct np_kube_client **client, const char *kubeconfig);

/* ---------------------------------------------------------------- AWS */

/* --region and --endpoint-url (NULL when not given). */
struct np_cli_aws_opts {
    const char *region;
    const char *endpoint;
};
/*
 * An EC2 client as the controller makes one for credentials source Default: the provider chain
 * of pkg/aws, the region of o, else spec_region, else AWS_REGION, AWS_DEFAULT_REGION; the
 * endpoint o->endpoint (https, or http to loopback only) else AWS_ENDPOINT_URL_EC2,
 * AWS_ENDPOINT_URL. *out owned (np_aws_ec2_destroy). Errors: NP_EINVAL (no or bad region,
 * endpoint).
 */
int np_cli_ec2_new(struct np_aws_ec2 **out, const struct np_cli_aws_opts *o,
                   const char *spec_region);
/* *ec2 kept when it is for the region o and spec_region pick, else replaced by a new client
 * (np_cli_ec2_new; *ec2 NULL on error). */
int np_cli_ec2_for(struct np_aws_ec2 **ec2, const struct np_cli_aws_opts *o,
                   const char *spec_region);
/* Describes one group by id (*out owned: the answer's group with that id, whatever else it
 * lists). NP_ENOTFOUND with a message when it does not exist. */
int np_cli_describe_group(struct np_aws_ec2 *ec2, const char *group_id, struct np_aws_sg **out);
/* The first group carrying tag key=value (*out owned). NP_ENOTFOUND when none does. */
int np_cli_find_group_by_tag(struct np_aws_ec2 *ec2, const char *key, const char *value,
                             struct np_aws_sg **out);

/* ---------------------------------------------------------------- plan */

/* The plan of one posture against what AWS holds. */
struct np_cli_plan {
    char **lines;    /* owned, NULL-terminated (pkg/posture's plan text) */
    size_t n;        /* lines */
    char *id;        /* np_posture_plan_id (owned); NULL for an empty plan or nothing to plan on */
    size_t add;      /* authorize, tag to add, piece or group to create */
    size_t change;   /* descriptions, tag values, attributes, routes and entries replaced */
    size_t remove;   /* revokes, tags to delete, routes, entries and associations removed */
    size_t excepted; /* drift a live exception tolerates (not in the plan) */
};
void np_cli_plan_clean_up(struct np_cli_plan *p);
/* Prepends a first line (owned) to the plan, counted as an addition: a creation. */
void np_cli_plan_prepend(struct np_cli_plan *out, char *line);

/* The guardrails a plan marks drift with (--guardrails; borrowed): as governing the posture. */
struct np_cli_guardrails {
    const struct np_posture_guardrail *const *items;
    size_t n;
};

/*
 * The items of delta the controller would propose (its policy in Propose mode, no grace
 * period, no history; now_ms decides which exceptions are live) into *sel (owned), and their
 * add/change/remove and excepted counts into out.
 */
int np_cli_plan_select(struct np_cli_plan *out, struct np_posture_delta *sel,
                       const struct np_posture_remediation *rem,
                       const struct np_posture_delta *delta, int64_t now_ms);
/*
 * The plan the controller would propose for SecurityGroupPosture ns/name (spec; want: its
 * desired rules, peers resolved) against sg, or against a new group (sg NULL: AWS's default
 * egress only; the first line is "create security group <groupName>"), drift marked by the
 * guardrails gr (may be NULL). *out owned (np_cli_plan_clean_up).
 */
int np_cli_sg_plan_compute(struct np_cli_plan *out, const struct np_posture_sg_spec *spec,
                           const struct np_posture_ruleset *want, const struct np_aws_sg *sg,
                           const struct np_cli_guardrails *gr, const char *ns, const char *name,
                           int64_t now_ms);
/*
 * The same for VPCPosture ns/name against the VPC o read and matched (np_observe_vpc_settle),
 * or, o NULL, against a VPC still to be created (the first line "create vpc <cidr>", then what
 * an empty VPC would need: its pieces, flow logs, attributes AWS does not default to).
 */
int np_cli_vpc_plan_compute(struct np_cli_plan *out, const struct np_posture_vpc_spec *spec,
                            const struct np_observe_vpc *o, const struct np_cli_guardrails *gr,
                            const char *ns, const char *name, int64_t now_ms);

/* A posture to plan: its object (borrowed) and where it comes from. */
struct np_cli_plan_target {
    json_object *obj;
    const char *ns;
    const char *name;
    bool from_cluster; /* status ids and metadata.uid are the controller's */
};
/* A plan as `plan -o json` prints it: {kind, namespace, name, <id_key>: resource_id, region,
 * create, id, actions, summary, excepted} (owned). */
json_object *np_cli_plan_json(const struct np_cli_plan_target *t, const char *kind,
                              const char *id_key, const char *resource_id,
                              const struct np_cli_plan *p, const char *region);
/*
 * Plans one VPCPosture and appends its plan to plans: the VPC is management.vpcId (Adopt), else
 * status.vpcId or the one tagged with the posture's uid (cluster), else the one tagged
 * netposture.dev/owner=NS/NAME. *ec2 is the client, replaced when the posture's region differs.
 */
int np_cli_plan_vpcp(struct np_aws_ec2 **ec2, const struct np_cli_aws_opts *aws,
                     const struct np_cli_plan_target *t, const struct np_cli_guardrails *gr,
                     json_object *plans);
/* NP_EDENIED saying the controller refuses a posture a Deny guardrail rule forbids. */
int np_cli_guardrail_refusal(const char *guardrail, const char *rule, const char *what);
/* The plans of `plan -o json` as text, each: heading, changes, id, `+A ~C -R`. */
void np_cli_plan_text(FILE *out, json_object *plans);

/* ---------------------------------------------------------------- import */

struct np_cli_import_opts {
    const char *ns;       /* the postures' namespace */
    const char *name;     /* the posture's name; NULL: from the group name */
    const char *group_id; /* --group-id, or: */
    const char *vpc_id;   /* --vpc-id: the VPC's VPCPosture (and with all_in_vpc its groups') */
    bool all_in_vpc;
    const char *mode;   /* remediation.mode; NULL: Detect */
    const char *region; /* spec.region (the client's) */
    enum np_cli_format format;
};
/* A DNS-1123 label for a posture from a group name (owned); the group id when none is left. */
char *np_cli_import_name(const char *group_name, const char *group_id);
/* The user tags of an AWS object as a spec's tags (netposture.dev/ and aws: keys are not the
 * user's), or NULL for none (owned). */
json_object *np_cli_user_tags(const struct np_aws_tag *tags, size_t n);
/* A new object (owned) with apiVersion, kind and metadata {name, namespace}. */
json_object *np_cli_new_object(const char *kind, const char *name, const char *ns);
/* NP_EDENIED (saying so) when owner, the object's netposture.dev/owner tag, names another
 * posture than ns/name: a posture may not adopt what another owns. */
int np_cli_check_import_owner(const char *owner, const char *noun, const char *id, const char *ns,
                              const char *name);
/* The VPCPosture (owned) adopting the VPC o read (np_observe_vpc_read): its CIDR, attributes,
 * user tags, every subnet, route table and network ACL by id with routes, entries and
 * associations, the first active flow log a spec can state, defaultSecurityGroup.restrictAll
 * when the default group has no rule, region, remediation.mode. */
json_object *np_cli_import_vpc(const struct np_observe_vpc *o,
                               const struct np_cli_import_opts *opts);
/* --vpc-id: reads the VPC and appends its VPCPosture to items (after the ownership check). */
int np_cli_import_vpc_id(struct np_aws_ec2 *ec2, const struct np_cli_import_opts *opts,
                         json_object *items);
/* Validates postures about to be written as `validate` does (the CRD schemas, CEL rules and
 * the controller's parse): NP_EINVAL naming the first error (a subnet outside the VPC's
 * primary CIDR, more pieces than the CRD allows, ...). */
int np_cli_import_validate(json_object *items, const char *ns);
/* The SecurityGroupPosture (owned) adopting sg: canonical atomic rules with peers and
 * descriptions, user tags, vpcId, region, management {Adopt, groupId}, remediation.mode. */
json_object *np_cli_import_sg(const struct np_aws_sg *sg, const struct np_cli_import_opts *o);

/* ---------------------------------------------------------------- inject-drift */

enum np_cli_drift_kind {
    NP_CLI_DRIFT_OPEN_PORT = 0,
    NP_CLI_DRIFT_REMOVE_RULE,
    NP_CLI_DRIFT_DELETE_TAG,
    NP_CLI_DRIFT_CHANGE_DESCRIPTION,
    NP_CLI_DRIFT_NACL_ENTRY, /* VPCPostures (inject_vpc.c) */
    NP_CLI_DRIFT_ROUTE,
};
/* "open-port", ... -> *out. NP_EINVAL (message listing the kinds) for anything else. */
int np_cli_drift_kind_parse(const char *s, enum np_cli_drift_kind *out);

/* One out-of-band change to a group and what undoing it looks like. Owned strings. */
struct np_cli_injection {
    enum np_cli_drift_kind kind;
    char *group_id;
    struct np_aws_perm perm; /* the rule added (OPEN_PORT), removed (REMOVE_RULE), or whose
                                description is changed (its description: the original) */
    bool egress;
    char *tag_key; /* DELETE_TAG: the tag and its value */
    char *tag_value;
    char *text;     /* "authorize ingress tcp 22 0.0.0.0/0", "tag delete team", ... */
    char *piece_id; /* NACL_ENTRY, ROUTE: the network ACL or route table */
    struct np_aws_nacl_entry entry; /* NACL_ENTRY: the entry added */
    struct np_aws_route route;      /* ROUTE: the declared route deleted */
};
/*
 * Whether sg carries the ownership tags of posture ns/name with this uid (the controller's
 * tags); NP_EDENIED naming what it carries otherwise.
 */
int np_cli_check_owner(const struct np_aws_sg *sg, const char *ns, const char *name,
                       const char *uid);
/*
 * Picks the change of a run against sg, a group of the posture spec: OPEN_PORT, tcp from
 * 0.0.0.0/0 on the round-th of 22, 3389, 23, 445, ... the group neither has nor the posture
 * declares; REMOVE_RULE and CHANGE_DESCRIPTION, the first live rule the posture declares;
 * DELETE_TAG, the first declared tag the group carries with its value. *out owned
 * (np_cli_injection_clean_up). NP_ENOTFOUND when there is nothing to change, NP_ENOTSUP for the
 * VPC kinds (np_cli_nacl_injection_choose, np_cli_route_injection_choose below).
 */
int np_cli_injection_choose(struct np_cli_injection *out, enum np_cli_drift_kind kind,
                            const struct np_aws_sg *sg, const struct np_posture_sg_spec *spec,
                            int round);
/* Whether the group as read shows the change undone. */
bool np_cli_injection_undone(const struct np_cli_injection *inj, const struct np_aws_sg *sg);
void np_cli_injection_clean_up(struct np_cli_injection *inj);

/* Whether tags carry the ownership tags of posture ns/name with this uid; NP_EDENIED naming
 * what (e.g. "acl-0123") carries otherwise. */
int np_cli_check_tags_owner(const struct np_aws_tag *tags, size_t n, const char *what,
                            const char *ns, const char *name, const char *uid);
/* NACL_ENTRY: an ingress entry allowing tcp 22 from 0.0.0.0/0 numbered 50 + round, or the next
 * number acl does not use; piece is the ACL's name in the spec. *out owned. */
int np_cli_nacl_injection_choose(struct np_cli_injection *out, const struct np_aws_nacl *acl,
                                 const char *piece, int round);
/* Undone once acl has no ingress entry of that number any more. */
bool np_cli_nacl_injection_undone(const struct np_cli_injection *inj,
                                  const struct np_aws_nacl *acl);
/* ROUTE: the first route of the spec's route table that rt holds with its declared target, to
 * be deleted. *out owned. NP_ENOTFOUND when rt holds none. */
int np_cli_route_injection_choose(struct np_cli_injection *out, const struct np_aws_route_table *rt,
                                  const struct np_posture_route_table_spec *spec);
/* Undone once rt holds that route with that target again. */
bool np_cli_route_injection_undone(const struct np_cli_injection *inj,
                                   const struct np_aws_route_table *rt);

/* A network ACL or route table as read (for NACL_ENTRY / ROUTE). */
struct np_cli_piece {
    struct np_aws_nacl *acls; /* the answer (owned) */
    struct np_aws_route_table *rts;
    size_t n;
    const struct np_aws_nacl *acl; /* the one with the id asked for, in the answer */
    const struct np_aws_route_table *rt;
};
/* Describes the network ACL (NACL_ENTRY) or route table (ROUTE) id of the VPC vpc_id. *out
 * owned (np_cli_piece_clean_up). NP_ENOTFOUND when the answer does not hold it. */
int np_cli_describe_piece(struct np_aws_ec2 *ec2, enum np_cli_drift_kind kind, const char *vpc_id,
                          const char *id, struct np_cli_piece *out);
void np_cli_piece_clean_up(struct np_cli_piece *p);
bool np_cli_piece_undone(const struct np_cli_injection *inj, const struct np_cli_piece *p);
/* Makes the piece change (forward) or puts it back. */
int np_cli_piece_change(struct np_aws_ec2 *ec2, const struct np_cli_injection *inj, bool forward);

/* ---------------------------------------------------------------- render */

/*
 * The SecurityGroupPostures and VPCPostures of docs as Terraform HCL appended to out (other
 * documents are skipped); imports adds import {} blocks for the ids they name. Errors: NP_EINVAL
 * for a posture whose spec does not parse (message naming it), or when there is none.
 */
int np_cli_render_terraform(struct np_buf *out, const struct np_cli_docs *docs, bool imports);

#endif
