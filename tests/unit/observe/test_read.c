/*
 * np_observe_vpc_read and np_observe_vpc_describe against recorded EC2 answers served on
 * loopback: the pieces of the VPC read are kept, pieces the answers list for another VPC are
 * dropped, the default group must be the VPC's, and a described VPC must be the one asked for.
 */
#include "recorded_ec2.h"

#include "observe/observe.h"

#include <criterion/criterion.h>

static struct fake_server *srv;
static struct np_aws_ec2 *ec2;

static void setup(void)
{
    srv = recorded_ec2_start();
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, "AKIDEXAMPLE", "secret", NULL), 0);
    struct np_aws_ec2_config cfg = {
        .region = "us-east-1", .endpoint = fake_server_url(srv), .credentials = &creds};
    cr_assert_eq(np_aws_ec2_new(&ec2, &cfg), 0, "%s", np_error_message());
    np_aws_credentials_clean_up(&creds);
}

static void teardown(void)
{
    np_aws_ec2_destroy(ec2);
    fake_server_stop(srv);
}

/* Reads VPC vpc_id (a VPC value with only its id). */
static void read_vpc(struct np_observe_vpc *o, const char *vpc_id)
{
    memset(o, 0, sizeof(*o));
    o->vpc = np_xcalloc(1, sizeof(*o->vpc));
    o->vpc->vpc_id = np_strdup(vpc_id);
    cr_assert_eq(np_observe_vpc_read(o, ec2), 0, "%s", np_error_message());
}

Test(observe_read, the_pieces_of_the_vpc_read_are_kept, .init = setup, .fini = teardown)
{
    struct np_observe_vpc o;
    read_vpc(&o, "vpc-6a6a85ad4d0f279ea");
    cr_assert(o.read);
    cr_assert_eq(o.n_subnets, 2);
    cr_assert_eq(o.n_rts, 2);
    cr_assert_gt(o.n_nacls, 0);
    cr_assert_eq(o.n_fls, 1);
    cr_assert(o.dns_support);
    cr_assert_null(o.dsg, "the only default group answered is another VPC's");
    np_observe_vpc_clean_up(&o);
}

Test(observe_read, pieces_and_groups_of_another_vpc_are_dropped, .init = setup, .fini = teardown)
{
    struct np_observe_vpc o;
    read_vpc(&o, "vpc-c454068d884c361e2");
    cr_assert_eq(o.n_subnets + o.n_rts + o.n_nacls + o.n_fls, 0,
                 "every piece answered is vpc-6a6a85ad4d0f279ea's");
    cr_assert_not_null(o.dsg);
    cr_assert_str_eq(o.dsg->group_name, "default");
    cr_assert_str_eq(o.dsg->vpc_id, "vpc-c454068d884c361e2");
    np_observe_vpc_clean_up(&o);
}

Test(observe_read, a_described_vpc_is_the_one_asked_for, .init = setup, .fini = teardown)
{
    /* The recorded answer lists two VPCs whatever the filter: the one asked for is picked, by
     * id or by tag, and a VPC it does not hold is not found. */
    struct np_aws_vpc *v = NULL;
    cr_assert_eq(np_observe_vpc_describe(ec2, "vpc-id", "vpc-c454068d884c361e2", &v), 0);
    cr_assert_str_eq(v->vpc_id, "vpc-c454068d884c361e2");
    np_aws_vpcs_free(v, 1);
    cr_assert_eq(np_observe_vpc_describe(ec2, "tag:Name", "shop", &v), 0);
    cr_assert_str_eq(v->vpc_id, "vpc-c454068d884c361e2");
    np_aws_vpcs_free(v, 1);
    cr_assert_eq(np_observe_vpc_describe(ec2, "vpc-id", "vpc-0000000000000000", &v), NP_ENOTFOUND);
    cr_assert_null(v);
    cr_assert_eq(np_observe_vpc_describe(ec2, "tag:netposture.dev/uid", "u-1", &v), NP_ENOTFOUND);
}
