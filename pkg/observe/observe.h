/*
 * observe: what was read from AWS (pkg/aws) as pkg/posture diffs it — a security group's rules
 * and tags, and a VPC with every piece inside it, each declared piece of a VPCPosture matched
 * to the AWS object it is. The controller and netposturectl both observe through here, so the
 * CLI's plan is the controller's plan over the same observed state, never a second mapping.
 */
#ifndef NP_OBSERVE_H
#define NP_OBSERVE_H

#include "aws/aws.h"
#include "posture/posture.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Which declared piece of a VPC an AWS object is: "subnet/a" (with the ownership tags). */
#define NP_OBSERVE_TAG_PIECE "netposture.dev/piece"
/* The piece tag of the flow logs (not a declared piece with a name). */
#define NP_OBSERVE_PIECE_FLOW_LOGS "flowLogs"

/* ---------------------------------------------------------------- security groups */

/* pkg/aws and pkg/posture tags are the same pair of borrowed strings: copies n of them. */
void np_observe_tags(struct np_posture_tag *out, const struct np_aws_tag *in, size_t n);
/* One AWS permission as pkg/posture's raw observed rule (strings borrowed from p). */
struct np_posture_raw_rule np_observe_raw_rule(const struct np_aws_perm *p, bool egress);
/* A group's rules as pkg/posture reads them (canonical, atomic): *out owned
 * (np_posture_ruleset_clean_up). */
void np_observe_sg_rules(const struct np_aws_sg *sg, struct np_posture_ruleset *out);

/* ---------------------------------------------------------------- VPC pieces */

/* The kinds of piece a VPCPosture declares by name. */
enum np_observe_piece_kind {
    NP_OBSERVE_SUBNET = 0,
    NP_OBSERVE_ROUTE_TABLE,
    NP_OBSERVE_NETWORK_ACL,
    NP_OBSERVE_PIECE_KINDS
};

/* How a kind is spelled: the piece tag's prefix ("subnet"), the status list ("subnets") and
 * the id member of its items ("subnetId"). Static. */
struct np_observe_piece_names {
    const char *prefix;
    const char *status_list;
    const char *status_id;
};
const struct np_observe_piece_names *np_observe_piece_names(enum np_observe_piece_kind k);

/* A declared piece: its kind and its name (borrowed from the spec). */
struct np_observe_piece {
    enum np_observe_piece_kind kind;
    const char *name;
};
/* How many pieces of kind k spec declares. */
size_t np_observe_declared_count(const struct np_posture_vpc_spec *spec,
                                 enum np_observe_piece_kind k);
/* The i-th declared piece of kind k, and in *adopt_id the id spec says to adopt (or NULL). */
struct np_observe_piece np_observe_declared(const struct np_posture_vpc_spec *spec,
                                            enum np_observe_piece_kind k, size_t i,
                                            const char **adopt_id);
/* The piece tag's value, "subnet/a" (owned). */
char *np_observe_piece_text(struct np_observe_piece piece);
/* The declared kind of a drift item's piece; false for the VPC's own (the VPC, its flow logs,
 * its default security group). */
bool np_observe_piece_kind_of(enum np_posture_vpc_piece piece, enum np_observe_piece_kind *out);

/* ---------------------------------------------------------------- a VPC */

/*
 * A VPC and everything read inside it (all owned), the match of the declared pieces and the
 * pkg/posture view of it. Zero-initialise; set vpc (np_observe_vpc_describe), then
 * np_observe_vpc_read reads the pieces, np_observe_vpc_match and np_observe_vpc_view (or
 * np_observe_vpc_settle, all three) make the view.
 */
struct np_observe_vpc {
    struct np_aws_vpc *vpc; /* NULL when none */
    bool dns_support;
    bool dns_hostnames;
    struct np_aws_subnet *subnets;
    size_t n_subnets;
    struct np_aws_route_table *rts;
    size_t n_rts;
    struct np_aws_nacl *nacls;
    size_t n_nacls;
    struct np_aws_flow_log *fls;
    size_t n_fls;
    struct np_aws_sg *dsg; /* the default security group, NULL when not found */
    /* The AWS object each declared piece is (index into the arrays above), -1 when none: one
     * array per kind, parallel to the spec's (set by np_observe_vpc_match; NULL before). */
    long *at[NP_OBSERVE_PIECE_KINDS];
    bool read; /* the arrays above hold a reading */
    /* The view for pkg/posture (borrowed strings; valid until the next read or clean-up). */
    struct np_posture_vpc_observed view;
    struct np_posture_ruleset dsg_rules;
    void **views;
    size_t n_views;
};

/* The first VPC with filter=value (e.g. "vpc-id", "tag:netposture.dev/uid"): *out owned
 * (np_aws_vpcs_free(*out, 1)). NP_ENOTFOUND when none; pkg/aws errors. */
int np_observe_vpc_describe(struct np_aws_ec2 *ec2, const char *filter, const char *value,
                            struct np_aws_vpc **out);
/* Reads the attributes and every piece of o->vpc (subnets, route tables, network ACLs, flow
 * logs, the default security group); what was read before is dropped first. pkg/aws errors. */
int np_observe_vpc_read(struct np_observe_vpc *o, struct np_aws_ec2 *ec2);
/* How many objects of kind k were read; the id and tags of the i-th. */
size_t np_observe_vpc_count(const struct np_observe_vpc *o, enum np_observe_piece_kind k);
const char *np_observe_vpc_object(const struct np_observe_vpc *o, enum np_observe_piece_kind k,
                                  size_t i, const struct np_aws_tag **tags, size_t *n);
/*
 * Matches each declared piece of spec to the object it is: the adopted id, else the id a
 * previous status (its subnets/routeTables/networkAcls lists; may be NULL) recorded, unless
 * another posture's uid marks that object now, else the object carrying uid and the piece tag.
 */
void np_observe_vpc_match(struct np_observe_vpc *o, const struct np_posture_vpc_spec *spec,
                          const char *uid, json_object *old_status);
/* Builds o->view from what was read and matched. */
void np_observe_vpc_view(struct np_observe_vpc *o, const struct np_posture_vpc_spec *spec);
/* The id a status object (its subnets/routeTables/networkAcls lists) records for a declared
 * piece, or NULL (borrowed from status). */
const char *np_observe_status_piece_id(json_object *status, struct np_observe_piece piece);
/* Match and view in one step. */
void np_observe_vpc_settle(struct np_observe_vpc *o, const struct np_posture_vpc_spec *spec,
                           const char *uid, json_object *old_status);
/* Drops what np_observe_vpc_read read, the match and the view (o->vpc stays). */
void np_observe_vpc_forget(struct np_observe_vpc *o);
/* Frees everything, o->vpc included; o is zeroed. */
void np_observe_vpc_clean_up(struct np_observe_vpc *o);

#endif
