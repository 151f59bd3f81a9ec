/*
 * The VPC fixture of vpc_fixture.h.
 */
#include "vpc_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

static struct np_aws_tag vpc_tags[3], sub_a_tags[3], rt_tags[3], acl_tags[3];
static struct np_aws_vpc vpc;
static struct np_aws_subnet subnets[2];
static struct np_aws_route routes[2];
static struct np_aws_rt_assoc rt_assocs[1], main_assocs[1];
static struct np_aws_route_table rts[2];
static struct np_aws_nacl_entry entries[2], default_entries[1];
static struct np_aws_nacl_assoc acl_assocs[1], default_assocs[1];
static struct np_aws_nacl nacls[2];

static void ours(struct np_aws_tag *t, const char *piece)
{
    t[0] = (struct np_aws_tag){"netposture.dev/owner", "shop/main"};
    t[1] = (struct np_aws_tag){"netposture.dev/uid", TEST_VPC_UID};
    t[2] = (struct np_aws_tag){piece ? NP_OBSERVE_TAG_PIECE : "team",
                               (char *)(piece ? piece : "shop")};
}

static void fill_routes(void)
{
    routes[0] = (struct np_aws_route){
        NP_AWS_ROUTE_DEST_CIDR4, "10.0.0.0/16", true, NP_AWS_ROUTE_GATEWAY, "local",
        "CreateRouteTable",      "active"};
    routes[1] = (struct np_aws_route){
        NP_AWS_ROUTE_DEST_CIDR4, "0.0.0.0/0",   true,    NP_AWS_ROUTE_NAT_GATEWAY,
        "nat-0a000001",          "CreateRoute", "active"};
    rt_assocs[0] = (struct np_aws_rt_assoc){"rtbassoc-a", "subnet-0a00000a", false};
    main_assocs[0] = (struct np_aws_rt_assoc){"rtbassoc-main", NULL, true};
    ours(rt_tags, "routeTable/private");
    rts[0] = (struct np_aws_route_table){
        "rtb-0a000001", "vpc-0a000001", routes, 2, rt_assocs, 1, rt_tags, 3};
    rts[1] = (struct np_aws_route_table){
        "rtb-0a0000aa", "vpc-0a000001", routes, 1, main_assocs, 1, NULL, 0};
}

static void fill_acls(void)
{
    entries[0] = (struct np_aws_nacl_entry){100, false, "6", true, "10.0.0.0/8", NULL, true, 443,
                                            443, false, 0,   0};
    entries[1] = (struct np_aws_nacl_entry){32767, false, "-1", false, "0.0.0.0/0", NULL,
                                            false, 0,     0,    false, 0,           0};
    default_entries[0] = (struct np_aws_nacl_entry){100,   false, "-1", true,  "0.0.0.0/0", NULL,
                                                    false, 0,     0,    false, 0,           0};
    acl_assocs[0] = (struct np_aws_nacl_assoc){"aclassoc-a", "subnet-0a00000a"};
    default_assocs[0] = (struct np_aws_nacl_assoc){"aclassoc-x", "subnet-0a0000ff"};
    ours(acl_tags, "networkAcl/private");
    nacls[0] = (struct np_aws_nacl){
        "acl-0a000001", "vpc-0a000001", false, entries, 2, acl_assocs, 1, acl_tags, 3};
    nacls[1] = (struct np_aws_nacl){
        "acl-0a0000dd", "vpc-0a000001", true, default_entries, 1, default_assocs, 1, NULL, 0};
}

void test_vpc_fill(struct np_observe_vpc *o)
{
    memset(o, 0, sizeof(*o));
    ours(vpc_tags, NULL);
    vpc = (struct np_aws_vpc){
        "vpc-0a000001", "10.0.0.0/16", "available", "123456789012", false, vpc_tags, 3};
    ours(sub_a_tags, "subnet/a");
    subnets[0] =
        (struct np_aws_subnet){"subnet-0a00000a", "vpc-0a000001", "10.0.1.0/24", "us-east-1a",
                               "available",       false,          sub_a_tags,    3};
    subnets[1] =
        (struct np_aws_subnet){"subnet-0a0000ff", "vpc-0a000001", "10.0.9.0/24", "us-east-1b",
                               "available",       false,          NULL,          0};
    fill_routes();
    fill_acls();
    o->vpc = &vpc;
    o->dns_support = true;
    o->subnets = subnets;
    o->n_subnets = 2;
    o->rts = rts;
    o->n_rts = 2;
    o->nacls = nacls;
    o->n_nacls = 2;
    o->read = true;
}

void test_vpc_release(struct np_observe_vpc *o)
{
    o->vpc = NULL;
    o->subnets = NULL;
    o->rts = NULL;
    o->nacls = NULL;
    o->fls = NULL;
    o->dsg = NULL;
    o->n_subnets = o->n_rts = o->n_nacls = o->n_fls = 0;
    np_observe_vpc_clean_up(o);
}

struct np_posture_vpc_spec *test_vpc_spec(const char *json)
{
    json_object *obj = json_tokener_parse(json);
    cr_assert_not_null(obj, "bad JSON: %s", json);
    struct np_posture_vpc_spec *spec = NULL;
    int rc = np_posture_vpc_spec_parse(&spec, obj);
    json_object_put(obj);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    return spec;
}
