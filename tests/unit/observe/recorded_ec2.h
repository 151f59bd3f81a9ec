/*
 * A loopback stand-in answering EC2 Describe* requests with the answers recorded from moto in
 * tests/fixtures/aws, chosen by the request's Action (DescribeVpcAttribute's recorded answer is
 * of enableDnsHostnames, renamed for enableDnsSupport). The VPCs listed include
 * vpc-c454068d884c361e2 (its groups: default, shop-web, shop-db); the subnets, route tables,
 * network ACLs and flow log recorded are vpc-6a6a85ad4d0f279ea's. Sets fake AWS credentials
 * in the environment. For the cli and observe unit tests (with tests/unit/kube's fake server).
 */
#ifndef NP_TEST_RECORDED_EC2_H
#define NP_TEST_RECORDED_EC2_H

#include "../kube/fake_apiserver.h"
#include "../kube/helpers.h"

/* Starts it (stop with fake_server_stop; fake_server_url is the EC2 endpoint). */
struct fake_server *recorded_ec2_start(void);

#endif
