/*
 * The VPC posture fixture (vpc_fixture.h): a converged observed state of VPC_SPEC in plain
 * arrays, the observed view over them, and the drift text of a delta.
 */
#include "vpc_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

void t_vpc_fixture(struct vpc_fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->vpc_tags[f->n_vpc_tags++] = (struct np_posture_tag){"env", "prod"};
    f->vpc_tags[f->n_vpc_tags++] = (struct np_posture_tag){"netposture.dev/owner", "shop/net"};
    f->vpc_tags[f->n_vpc_tags++] = (struct np_posture_tag){"aws:cloudformation:stack-name", "s"};
    f->subnets[0] = (struct np_posture_subnet_observed){
        true, "subnet-a", "10.0.1.0/24", "eu-west-1a", false, NULL, 0};
    f->subnets[1] = (struct np_posture_subnet_observed){
        true, "subnet-b", "10.0.2.0/24", "eu-west-1b", true, NULL, 0};
    f->routes[f->n_routes++] = (struct np_posture_raw_route)RT4(
        "10.0.0.0/16", NP_POSTURE_ROUTE_GATEWAY, "local", "CreateRouteTable");
    f->routes[f->n_routes++] = (struct np_posture_raw_route)RT4(
        "0.0.0.0/0", NP_POSTURE_ROUTE_NAT_GATEWAY, "NAT-0ABC", "CreateRoute");
    f->routes[f->n_routes++] = (struct np_posture_raw_route){
        NP_POSTURE_DEST_PREFIX_LIST, "pl-0s3", true, NP_POSTURE_ROUTE_GATEWAY, "vpce-0e", NULL};
    f->routes[f->n_routes++] = (struct np_posture_raw_route)RT4(
        "192.168.0.0/16", NP_POSTURE_ROUTE_GATEWAY, "vgw-1", "EnableVgwRoutePropagation");
    f->entries[f->n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(100, "6", true, "10.0.0.0/8", true, 443, 443);
    f->entries[f->n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(200, "-1", false, "0.0.0.0/0", false, 0, 0);
    f->entries[f->n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(32767, "-1", false, "0.0.0.0/0", false, 0, 0);
    f->entries[f->n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_OUT(100, "-1", true, "0.0.0.0/0");
    f->entries[f->n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_OUT(32767, "-1", false, "0.0.0.0/0");
    f->rt_assocs[f->n_rt_assocs++] = (struct np_posture_assoc){"subnet-a", "rtbassoc-a", "rtb-1"};
    f->rt_assocs[f->n_rt_assocs++] = (struct np_posture_assoc){"subnet-b", "rtbassoc-b", "rtb-1"};
    f->nacl_assocs[f->n_nacl_assocs++] =
        (struct np_posture_assoc){"subnet-a", "aclassoc-a", "acl-1"};
    f->nacl_assocs[f->n_nacl_assocs++] =
        (struct np_posture_assoc){"subnet-b", "aclassoc-b", "acl-default"};
    f->flow_logs[f->n_flow_logs++] =
        (struct np_posture_flow_log_observed){"fl-1", "REJECT", "s3", "arn:aws:s3:::logs/"};
    f->obs.vpc_id = "vpc-1";
    f->obs.cidr_block = "10.0.0.0/16";
    f->obs.enable_dns_support = true;
    f->obs.enable_dns_hostnames = true;
    f->rt.present = true;
    f->rt.route_table_id = "rtb-1";
    f->acl.present = true;
    f->acl.network_acl_id = "acl-1";
    f->obs.default_nacl_id = "acl-default";
    f->obs.default_sg_id = "sg-default";
    t_vpc_fixture_sync(f);
}

void t_vpc_fixture_sync(struct vpc_fixture *f)
{
    struct np_posture_vpc_observed *o = &f->obs;
    o->tags = f->vpc_tags;
    o->n_tags = f->n_vpc_tags;
    o->subnets = f->subnets;
    f->rt.routes = f->routes;
    f->rt.n_routes = f->n_routes;
    o->route_tables = &f->rt;
    f->acl.entries = f->entries;
    f->acl.n_entries = f->n_entries;
    o->network_acls = &f->acl;
    o->rt_assocs = f->rt_assocs;
    o->n_rt_assocs = f->n_rt_assocs;
    o->nacl_assocs = f->nacl_assocs;
    o->n_nacl_assocs = f->n_nacl_assocs;
    o->flow_logs = f->flow_logs;
    o->n_flow_logs = f->n_flow_logs;
    np_posture_ruleset_clean_up(&f->sg);
    np_posture_observed(&f->sg, f->sg_rules, f->n_sg_rules);
    o->default_sg_rules = &f->sg;
}

void t_vpc_fixture_clean_up(struct vpc_fixture *f)
{
    np_posture_ruleset_clean_up(&f->sg);
}

struct np_posture_vpc_spec *t_vpc_diff(struct np_posture_delta *out, const char *spec_json,
                                       struct vpc_fixture *f)
{
    struct np_posture_vpc_spec *s = t_vpc_spec(spec_json);
    t_vpc_fixture_sync(f);
    cr_assert_eq(np_posture_vpc_diff(out, s, &f->obs), 0, "%s", np_error_message());
    return s;
}
