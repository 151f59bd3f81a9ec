/*
 * pkg/observe's VPC matching and view without AWS: each declared piece is the adopted id, the
 * id a previous status recorded (unless another posture's uid marks it), or the object carrying
 * our uid and piece tag; the view lists every association and the default ACL; a spec matching
 * the fixture diffs to nothing.
 */
#include "vpc_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static json_object *status_of(const char *json)
{
    json_object *o = json_tokener_parse(json);
    cr_assert_not_null(o);
    return o;
}

Test(observe_vpc, pieces_are_matched_by_uid_and_piece_tag)
{
    struct np_observe_vpc o;
    test_vpc_fill(&o);
    struct np_posture_vpc_spec *spec = test_vpc_spec(TEST_VPC_SPEC "}");
    np_observe_vpc_settle(&o, spec, TEST_VPC_UID, NULL);
    cr_assert_eq(o.at[NP_OBSERVE_SUBNET][0], 0);
    cr_assert_eq(o.at[NP_OBSERVE_ROUTE_TABLE][0], 0);
    cr_assert_eq(o.at[NP_OBSERVE_NETWORK_ACL][0], 0);
    cr_assert_str_eq(o.view.subnets[0].subnet_id, "subnet-0a00000a");
    cr_assert_str_eq(o.view.default_nacl_id, "acl-0a0000dd");
    cr_assert_eq(o.view.n_rt_assocs, 1, "the main association names no subnet");
    cr_assert_eq(o.view.n_nacl_assocs, 2);
    struct np_posture_delta d = {0};
    cr_assert_eq(np_posture_vpc_diff(&d, spec, &o.view), 0);
    cr_assert_eq(d.n, 0, "the fixture is what the spec declares");
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(spec);
    test_vpc_release(&o);
}

Test(observe_vpc, another_uid_matches_nothing)
{
    struct np_observe_vpc o;
    test_vpc_fill(&o);
    struct np_posture_vpc_spec *spec = test_vpc_spec(TEST_VPC_SPEC "}");
    np_observe_vpc_settle(&o, spec, "uid-2", NULL);
    for (int k = 0; k < NP_OBSERVE_PIECE_KINDS; k++)
        cr_assert_eq(o.at[k][0], -1);
    np_observe_vpc_settle(&o, spec, NULL, NULL); /* no uid (a file): nothing by tag either */
    cr_assert_eq(o.at[NP_OBSERVE_SUBNET][0], -1);
    np_posture_vpc_spec_destroy(spec);
    test_vpc_release(&o);
}

Test(observe_vpc, the_adopted_id_wins_and_must_be_in_the_vpc)
{
    struct np_observe_vpc o;
    test_vpc_fill(&o);
    struct np_posture_vpc_spec *spec = test_vpc_spec(
        "{\"cidrBlock\": \"10.0.0.0/16\", \"subnets\": [{\"name\": \"x\", \"cidrBlock\": "
        "\"10.0.9.0/24\", \"subnetId\": \"subnet-0a0000ff\"}, {\"name\": \"gone\", \"cidrBlock\": "
        "\"10.0.8.0/24\", \"subnetId\": \"subnet-0a0000ee\"}]}");
    np_observe_vpc_settle(&o, spec, TEST_VPC_UID, NULL);
    cr_assert_eq(o.at[NP_OBSERVE_SUBNET][0], 1);
    cr_assert_eq(o.at[NP_OBSERVE_SUBNET][1], -1);
    cr_assert(o.view.subnets[0].present);
    cr_assert_not(o.view.subnets[1].present);
    np_posture_vpc_spec_destroy(spec);
    test_vpc_release(&o);
}

Test(observe_vpc, a_recorded_id_is_kept_unless_another_uid_marks_it)
{
    struct np_observe_vpc o;
    test_vpc_fill(&o);
    struct np_posture_vpc_spec *spec = test_vpc_spec(
        "{\"cidrBlock\": \"10.0.0.0/16\", \"subnets\": [{\"name\": \"b\", \"cidrBlock\": "
        "\"10.0.9.0/24\"}, {\"name\": \"c\", \"cidrBlock\": \"10.0.1.0/24\"}]}");
    /* b: recorded as x (untagged): kept; c: recorded as a, which our uid marks
     * as subnet/a — still ours, so kept too; with another posture's uid it would not be. */
    json_object *st =
        status_of("{\"subnets\": [{\"name\": \"b\", \"subnetId\": \"subnet-0a0000ff\"}, "
                  "{\"name\": \"c\", \"subnetId\": \"subnet-0a00000a\"}]}");
    np_observe_vpc_settle(&o, spec, TEST_VPC_UID, st);
    cr_assert_eq(o.at[NP_OBSERVE_SUBNET][0], 1);
    cr_assert_eq(o.at[NP_OBSERVE_SUBNET][1], 0);
    np_observe_vpc_settle(&o, spec, "uid-2", st);
    cr_assert_eq(o.at[NP_OBSERVE_SUBNET][0], 1, "untagged: the record stands");
    cr_assert_eq(o.at[NP_OBSERVE_SUBNET][1], -1, "another posture's uid marks a");
    const char *adopt = NULL;
    cr_assert_str_eq(
        np_observe_status_piece_id(st, np_observe_declared(spec, NP_OBSERVE_SUBNET, 0, &adopt)),
        "subnet-0a0000ff");
    json_object_put(st);
    np_posture_vpc_spec_destroy(spec);
    test_vpc_release(&o);
}

Test(observe_vpc, piece_names_and_texts)
{
    struct np_observe_piece p = {NP_OBSERVE_ROUTE_TABLE, "private"};
    char *t = np_observe_piece_text(p);
    cr_assert_str_eq(t, "routeTable/private");
    free(t);
    cr_assert_str_eq(np_observe_piece_names(NP_OBSERVE_NETWORK_ACL)->status_id, "networkAclId");
    enum np_observe_piece_kind k;
    cr_assert(np_observe_piece_kind_of(NP_POSTURE_PIECE_SUBNET, &k) && k == NP_OBSERVE_SUBNET);
    cr_assert_not(np_observe_piece_kind_of(NP_POSTURE_PIECE_FLOW_LOGS, &k));
}

Test(observe_sg, rules_and_tags_as_posture_reads_them)
{
    struct np_aws_perm in[1] = {{.protocol = "6",
                                 .has_ports = true,
                                 .from_port = 443,
                                 .to_port = 443,
                                 .peer_kind = NP_AWS_PEER_CIDR4,
                                 .peer = "10.1.2.3/8",
                                 .description = "https"}};
    struct np_aws_tag tags[1] = {{"team", "shop"}};
    struct np_aws_sg sg = {
        .group_id = "sg-1", .ingress = in, .n_ingress = 1, .tags = tags, .n_tags = 1};
    struct np_posture_ruleset rs = {0};
    np_observe_sg_rules(&sg, &rs);
    cr_assert_eq(rs.n, 1);
    cr_assert_str_eq(rs.rules[0].protocol, "tcp");
    cr_assert_str_eq(rs.rules[0].peer, "10.0.0.0/8");
    cr_assert_str_eq(rs.rules[0].description, "https");
    np_posture_ruleset_clean_up(&rs);
    struct np_posture_tag pt[1];
    np_observe_tags(pt, tags, 1);
    cr_assert_str_eq(pt[0].key, "team");
    cr_assert_str_eq(pt[0].value, "shop");
}
