/*
 * A VPC as Describe decodes it, for the observe and cli unit tests (vpc_fixture.c): VPC
 * vpc-0a000001 (10.0.0.0/16) with subnets subnet-0a00000a ("a" below: ours, "subnet/a") and
 * subnet-0a0000ff ("x": not ours), route table rtb-0a000001 (ours, "routeTable/private": local
 * route, 0.0.0.0/0 to nat-0a000001, a associated) and the main table rtb-0a0000aa, network ACL
 * acl-0a000001 (ours, "networkAcl/private": ingress 100 allow tcp 443 10.0.0.0/8, a) and the
 * default ACL acl-0a0000dd (x).
 * Everything borrowed from static storage: release with test_vpc_release, never clean-up.
 */
#ifndef NP_TEST_VPC_FIXTURE_H
#define NP_TEST_VPC_FIXTURE_H

#include "observe/observe.h"

#define TEST_VPC_UID "uid-1"

/* The spec matching the fixture exactly (JSON text of .spec). */
#define TEST_VPC_SPEC                                                                              \
    "{\"cidrBlock\": \"10.0.0.0/16\", \"tags\": {\"team\": \"shop\"}, "                            \
    "\"subnets\": [{\"name\": \"a\", \"cidrBlock\": \"10.0.1.0/24\"}], "                           \
    "\"routeTables\": [{\"name\": \"private\", \"subnets\": [\"a\"], \"routes\": "                 \
    "[{\"destinationCidrBlock\": \"0.0.0.0/0\", \"natGatewayId\": \"nat-0a000001\"}]}], "          \
    "\"networkAcls\": [{\"name\": \"private\", \"subnets\": [\"a\"], \"entries\": "                \
    "[{\"ruleNumber\": 100, \"protocol\": \"tcp\", \"action\": \"allow\", \"cidrBlock\": "         \
    "\"10.0.0.0/8\", \"fromPort\": 443, \"toPort\": 443}]}]"

/* Fills o with the fixture (fresh static storage each call). */
void test_vpc_fill(struct np_observe_vpc *o);
/* Drops the borrowed arrays from o and frees what np_observe_vpc_* allocated. */
void test_vpc_release(struct np_observe_vpc *o);
/* Parses a VPCPosture .spec (JSON text); fails the test when it does not parse. Owned. */
struct np_posture_vpc_spec *test_vpc_spec(const char *json);

#endif
