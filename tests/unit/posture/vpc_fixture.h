/*
 * A VPC posture fixture for the VPC tests: one spec (VPC_SPEC) and an observed state that has
 * converged on it (t_vpc_fixture), held in plain arrays a test edits before diffing.
 */
#ifndef NP_TEST_VPC_FIXTURE_H
#define NP_TEST_VPC_FIXTURE_H

#include "posture_test.h"

/* The fixture's spec, with extra top-level members (may be empty) before the closing brace. */
#define VPC_SPEC(extra)                                                                            \
    "{'cidrBlock':'10.0.0.0/16','enableDnsSupport':true,'enableDnsHostnames':true,"                \
    "'tags':{'env':'prod'},"                                                                       \
    "'flowLogs':{'trafficType':'REJECT','destination':'arn:aws:s3:::logs'},"                       \
    "'defaultSecurityGroup':{'restrictAll':true},"                                                 \
    "'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24','availabilityZone':'eu-west-1a',"            \
    "'mapPublicIpOnLaunch':false},{'name':'b','cidrBlock':'10.0.2.0/24',"                          \
    "'availabilityZone':'eu-west-1b'}],"                                                           \
    "'routeTables':[{'name':'private','subnets':['a','b'],'routes':["                              \
    "{'destinationCidrBlock':'0.0.0.0/0','natGatewayId':'nat-0abc'},"                              \
    "{'destinationPrefixListId':'pl-0s3','gatewayId':'vpce-0e'}]}],"                               \
    "'networkAcls':[{'name':'private','subnets':['a'],'entries':["                                 \
    "{'ruleNumber':100,'protocol':'tcp','action':'allow','cidrBlock':'10.0.0.0/8',"                \
    "'fromPort':443,'toPort':443},"                                                                \
    "{'ruleNumber':200,'protocol':'all','action':'deny','cidrBlock':'0.0.0.0/0'},"                 \
    "{'ruleNumber':100,'egress':true,'protocol':'all','action':'allow','cidrBlock':'0.0.0.0/0'}"   \
    "]}]" extra "}"

#define FX_MAX 12

/* Observed state as plain arrays; obs points into them (t_vpc_fixture_sync after edits). */
struct vpc_fixture {
    struct np_posture_vpc_observed obs;
    struct np_posture_tag vpc_tags[FX_MAX];
    size_t n_vpc_tags;
    struct np_posture_subnet_observed subnets[2];
    struct np_posture_tag subnet_tags[FX_MAX];
    struct np_posture_route_table_observed rt;
    struct np_posture_raw_route routes[FX_MAX];
    size_t n_routes;
    struct np_posture_network_acl_observed acl;
    struct np_posture_raw_nacl_entry entries[FX_MAX];
    size_t n_entries;
    struct np_posture_assoc rt_assocs[FX_MAX];
    size_t n_rt_assocs;
    struct np_posture_assoc nacl_assocs[FX_MAX];
    size_t n_nacl_assocs;
    struct np_posture_flow_log_observed flow_logs[FX_MAX];
    size_t n_flow_logs;
    struct np_posture_raw_rule sg_rules[FX_MAX]; /* the default group's, as AWS lists them */
    size_t n_sg_rules;
    struct np_posture_ruleset sg; /* built by t_vpc_fixture_sync */
};

/*
 * Fills f with the converged state of VPC_SPEC: vpc-1 (DNS attributes on, env=prod plus
 * ownership and aws: tags), subnet-a / subnet-b, rtb-1 (with the local route and a propagated
 * route, spelled as AWS does), acl-1 (with the 32767 entries, protocol numbers), subnet-a in
 * acl-1 and subnet-b in the default acl-default, a REJECT flow log to arn:aws:s3:::logs/, and
 * a default group sg-default without rules.
 */
void t_vpc_fixture(struct vpc_fixture *f);
/* Points f->obs at the arrays again (counts included) and rebuilds f->sg. */
void t_vpc_fixture_sync(struct vpc_fixture *f);
void t_vpc_fixture_clean_up(struct vpc_fixture *f);

/* spec JSON + f -> np_posture_vpc_diff (asserted) into *out, with the parsed spec (owned). */
struct np_posture_vpc_spec *t_vpc_diff(struct np_posture_delta *out, const char *spec_json,
                                       struct vpc_fixture *f);

/* Raw routes and entries as AWS lists them. */
#define RT4(dest, target_kind, target, origin)                                                     \
    {                                                                                              \
        NP_POSTURE_DEST_CIDR4, dest, true, target_kind, target, origin                             \
    }
#define NACL_IN(num, proto, allow, cidr, has_ports, from, to)                                      \
    {                                                                                              \
        num, false, proto, allow, cidr, NULL, has_ports, from, to, false, 0, 0                     \
    }
#define NACL_OUT(num, proto, allow, cidr)                                                          \
    {                                                                                              \
        num, true, proto, allow, cidr, NULL, false, 0, 0, false, 0, 0                              \
    }

#endif
