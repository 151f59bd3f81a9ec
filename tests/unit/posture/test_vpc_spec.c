/*
 * VPCPosture spec parsing: defaults, every field of the README's VPCPosture reference with its
 * canonical form (CIDRs masked, protocols, ids lowercase, routes and entries sorted, tags by key),
 * flow-log destination types, and a table of invalid specs with the exact message naming the field.
 */
#include "posture_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_vpc_spec, .fini = t_leak_check);

Test(posture_vpc_spec, defaults)
{
    struct np_posture_vpc_spec *s = t_vpc_spec("{'cidrBlock':'10.0.0.0/16'}");
    cr_assert_str_eq(s->account_ref, "default");
    cr_assert_null(s->region);
    cr_assert_str_eq(s->cidr_block, "10.0.0.0/16");
    cr_assert_eq(s->management.policy, NP_POSTURE_MANAGEMENT_CREATE);
    cr_assert_null(s->management.vpc_id);
    cr_assert_eq(s->management.deletion_policy, NP_POSTURE_DELETION_UNSET);
    cr_assert_not(s->has_enable_dns_support, "undeclared attributes are not managed");
    cr_assert_not(s->has_enable_dns_hostnames);
    cr_assert_eq(s->n_tags, 0);
    cr_assert_not(s->has_flow_logs);
    cr_assert_not(s->restrict_default_sg);
    cr_assert_eq(s->n_subnets + s->n_route_tables + s->n_network_acls, 0);
    cr_assert_eq(s->ownership, NP_POSTURE_EXCLUSIVE);
    cr_assert_eq(s->remediation.mode, NP_POSTURE_MODE_ENFORCE);
    cr_assert_eq(s->remediation.max_changes.subtractive, 20);
    np_posture_vpc_spec_destroy(s);
    np_posture_vpc_spec_destroy(NULL);
}

Test(posture_vpc_spec, every_field)
{
    struct np_posture_vpc_spec *s = t_vpc_spec(
        "{'accountRef':{'name':'prod'},'region':'eu-west-1','cidrBlock':'10.0.7.9/16',"
        "'management':{'policy':'Adopt','vpcId':'VPC-0ABC','deletionPolicy':'Retain'},"
        "'enableDnsSupport':true,'enableDnsHostnames':false,'tags':{'team':'net','env':'prod'},"
        "'flowLogs':{'enabled':true,'trafficType':'REJECT','destination':'arn:aws:s3:::logs'},"
        "'defaultSecurityGroup':{'restrictAll':true},"
        "'subnets':[{'name':'a','cidrBlock':'10.0.1.7/24','availabilityZone':'eu-west-1a',"
        "'mapPublicIpOnLaunch':false,'tags':{'tier':'private'},'subnetId':'subnet-0AB'},"
        "{'name':'b','cidrBlock':'10.0.2.0/24'}],"
        "'routeTables':[{'name':'private','subnets':['a','b'],'routes':["
        "{'destinationCidrBlock':'10.1.0.0/16','vpcPeeringConnectionId':'pcx-0F'},"
        "{'destinationCidrBlock':'0.0.0.9/0','natGatewayId':'NAT-0ABC'},"
        "{'destinationIpv6CidrBlock':'2001:DB8::/32','egressOnlyInternetGatewayId':'eigw-1'},"
        "{'destinationPrefixListId':'PL-0S3','gatewayId':'vpce-0e'},"
        "{'destinationCidrBlock':'172.16.0.0/12','coreNetworkArn':"
        "'arn:aws:networkmanager::123456789012:core-network/Core-0A'}],"
        "'tags':{'k':'v'},'routeTableId':'rtb-0ABC'}],"
        "'networkAcls':[{'name':'private','subnets':['a'],'entries':["
        "{'ruleNumber':200,'egress':true,'protocol':'-1','action':'allow',"
        "'cidrBlock':'0.0.0.0/0'},"
        "{'ruleNumber':110,'protocol':'1','action':'allow','cidrBlock':'10.0.0.0/8',"
        "'icmpType':8,'icmpCode':0},"
        "{'ruleNumber':100,'protocol':'TCP','action':'deny','cidrBlock':'10.9.9.9/8',"
        "'fromPort':22,'toPort':22},"
        "{'ruleNumber':120,'protocol':'icmpv6','action':'allow','ipv6CidrBlock':'::/0'},"
        "{'ruleNumber':130,'protocol':'udp','action':'allow','cidrBlock':'10.0.0.0/8',"
        "'fromPort':1024,'toPort':65535},"
        "{'ruleNumber':140,'protocol':'47','action':'allow','cidrBlock':'10.0.0.0/8'}],"
        "'networkAclId':'acl-0ABC'}],"
        "'ownership':'Additive','remediation':{'mode':'Propose','gracePeriod':'5m',"
        "'maxChangesPerSync':3,'exceptions':[{'rule':{'direction':'ingress','protocol':'tcp',"
        "'fromPort':22,'toPort':22,'cidrs':['203.0.113.7/32']}}]}}");
    cr_assert_str_eq(s->account_ref, "prod");
    cr_assert_str_eq(s->region, "eu-west-1");
    cr_assert_str_eq(s->cidr_block, "10.0.0.0/16", "masked");
    cr_assert_eq(s->management.policy, NP_POSTURE_MANAGEMENT_ADOPT);
    cr_assert_str_eq(s->management.vpc_id, "vpc-0abc", "ids lowercase");
    cr_assert_eq(s->management.deletion_policy, NP_POSTURE_DELETION_RETAIN);
    cr_assert(s->has_enable_dns_support && s->enable_dns_support);
    cr_assert(s->has_enable_dns_hostnames && !s->enable_dns_hostnames);
    cr_assert_eq(s->n_tags, 2);
    cr_assert_str_eq(s->tags[0].key, "env", "sorted by key");
    cr_assert_str_eq(s->tags[1].key, "team");

    cr_assert(s->has_flow_logs && s->flow_logs.enabled);
    cr_assert_str_eq(s->flow_logs.traffic_type, "REJECT");
    cr_assert_str_eq(s->flow_logs.destination, "arn:aws:s3:::logs");
    cr_assert_str_eq(s->flow_logs.destination_type, "s3");
    cr_assert_null(s->flow_logs.deliver_logs_permission_arn);
    cr_assert(s->restrict_default_sg);

    cr_assert_eq(s->n_subnets, 2);
    const struct np_posture_subnet_spec *a = &s->subnets[0];
    cr_assert_str_eq(a->name, "a");
    cr_assert_str_eq(a->cidr_block, "10.0.1.0/24");
    cr_assert_str_eq(a->availability_zone, "eu-west-1a");
    cr_assert(a->has_map_public_ip && !a->map_public_ip);
    cr_assert_eq(a->n_tags, 1);
    cr_assert_str_eq(a->tags[0].value, "private");
    cr_assert_str_eq(a->subnet_id, "subnet-0ab");
    cr_assert_null(s->subnets[1].availability_zone);
    cr_assert_not(s->subnets[1].has_map_public_ip);
    cr_assert_null(s->subnets[1].subnet_id);

    cr_assert_eq(s->n_route_tables, 1);
    const struct np_posture_route_table_spec *t = &s->route_tables[0];
    cr_assert_str_eq(t->name, "private");
    cr_assert_eq(t->n_subnets, 2);
    cr_assert_str_eq(t->subnets[1], "b");
    cr_assert_str_eq(t->route_table_id, "rtb-0abc");
    cr_assert_eq(t->n_tags, 1);
    cr_assert_eq(t->n_routes, 5);
    /* Sorted by (destination kind, destination); canonical. */
    const char *want_routes[] = {
        "0.0.0.0/0 natGatewayId nat-0abc",
        "10.1.0.0/16 vpcPeeringConnectionId pcx-0f",
        "172.16.0.0/12 coreNetworkArn arn:aws:networkmanager::123456789012:core-network/Core-0A",
        "2001:db8::/32 egressOnlyInternetGatewayId eigw-1",
        "pl-0s3 gatewayId vpce-0e",
    };
    for (size_t i = 0; i < t->n_routes; i++) {
        char *text = np_posture_route_text(&t->routes[i]);
        cr_expect_str_eq(text, want_routes[i], "route %zu", i);
        free(text);
    }
    cr_assert_eq(t->routes[3].dest_kind, NP_POSTURE_DEST_CIDR6);
    cr_assert_eq(t->routes[4].dest_kind, NP_POSTURE_DEST_PREFIX_LIST);
    cr_assert_eq(t->routes[0].target_kind, NP_POSTURE_ROUTE_NAT_GATEWAY);

    cr_assert_eq(s->n_network_acls, 1);
    const struct np_posture_network_acl_spec *n = &s->network_acls[0];
    cr_assert_str_eq(n->network_acl_id, "acl-0abc");
    cr_assert_eq(n->n_subnets, 1);
    cr_assert_eq(n->n_entries, 6);
    /* Sorted by (egress, rule number); protocols canonical; ports and ICMP only where they
     * belong. */
    const char *want_entries[] = {
        "deny tcp 22 10.0.0.0/8", "allow icmp type 8 code 0 10.0.0.0/8",
        "allow icmpv6 ::/0",      "allow udp 1024-65535 10.0.0.0/8",
        "allow 47 10.0.0.0/8",    "allow all 0.0.0.0/0",
    };
    const int numbers[] = {100, 110, 120, 130, 140, 200};
    for (size_t i = 0; i < n->n_entries; i++) {
        char *text = np_posture_nacl_entry_text(&n->entries[i]);
        cr_expect_str_eq(text, want_entries[i], "entry %zu", i);
        cr_expect_eq(n->entries[i].rule_number, numbers[i]);
        free(text);
    }
    cr_assert(n->entries[5].egress);
    cr_assert_not(n->entries[0].egress, "egress defaults to false");
    cr_assert_eq(n->entries[0].icmp_type, -1);
    cr_assert_eq(n->entries[1].from_port, -1);
    cr_assert_eq(n->entries[1].icmp_code, 0);
    cr_assert_eq(n->entries[2].icmp_type, -1, "icmp without a type: all types");
    cr_assert(n->entries[2].ipv6);
    cr_assert_eq(n->entries[4].from_port, -1);

    cr_assert_eq(s->ownership, NP_POSTURE_ADDITIVE);
    cr_assert_eq(s->remediation.mode, NP_POSTURE_MODE_PROPOSE);
    cr_assert_eq(s->remediation.grace_ms, 300000);
    cr_assert_eq(s->remediation.max_changes.subtractive, 3);
    cr_assert_eq(s->remediation.n_exceptions, 1);
    np_posture_vpc_spec_destroy(s);
}

Test(posture_vpc_spec, flow_log_destinations)
{
    static const struct {
        const char *flow_logs;
        const char *type;
        const char *role;
    } cases[] = {
        {"{'destination':'arn:aws:s3:::b/prefix/'}", "s3", NULL},
        {"{'destination':'arn:aws-cn:s3:::b'}", "s3", NULL},
        {"{'destination':'arn:aws:logs:eu-west-1:123456789012:log-group:vpc',"
         "'deliverLogsPermissionArn':'arn:aws:iam::123456789012:role/flow'}",
         "cloud-watch-logs", "arn:aws:iam::123456789012:role/flow"},
        {"{'destination':'arn:aws-us-gov:firehose:us-gov-west-1:123456789012:"
         "deliverystream/s'}",
         "kinesis-data-firehose", NULL},
        {"{'destination':'arn:aws:firehose:eu-west-1:123456789012:deliverystream/s',"
         "'deliverLogsPermissionArn':'arn:aws:iam::210987654321:role/x'}",
         "kinesis-data-firehose", "arn:aws:iam::210987654321:role/x"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        char *js = np_strdupf("{'cidrBlock':'10.0.0.0/16','flowLogs':%s}", cases[i].flow_logs);
        struct np_posture_vpc_spec *s = t_vpc_spec(js);
        cr_expect(s->flow_logs.enabled, "case %zu: enabled by default", i);
        cr_expect_str_eq(s->flow_logs.traffic_type, "ALL", "case %zu: default ALL", i);
        cr_expect_str_eq(s->flow_logs.destination_type, cases[i].type, "case %zu", i);
        if (cases[i].role)
            cr_expect_str_eq(s->flow_logs.deliver_logs_permission_arn, cases[i].role);
        else
            cr_expect_null(s->flow_logs.deliver_logs_permission_arn);
        np_posture_vpc_spec_destroy(s);
        free(js);
    }
    /* Disabled: nothing else is required. */
    struct np_posture_vpc_spec *s =
        t_vpc_spec("{'cidrBlock':'10.0.0.0/16','flowLogs':{'enabled':false}}");
    cr_assert(s->has_flow_logs);
    cr_assert_not(s->flow_logs.enabled);
    cr_assert_null(s->flow_logs.destination);
    np_posture_vpc_spec_destroy(s);
}

#define VPC(extra) "{'cidrBlock':'10.0.0.0/16'," extra "}"
#define SUBNETS                                                                                    \
    "'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24'},{'name':'b','cidrBlock':"                   \
    "'10.0.2.0/24'}]"
#define RT(routes) VPC("'routeTables':[{'name':'rt','routes':[" routes "]}]")
#define NACL(entries) VPC("'networkAcls':[{'name':'acl','entries':[" entries "]}]")
#define ENTRY(extra) "{'ruleNumber':100,'protocol':'tcp','action':'allow'," extra "}"
#define NAME_RULE                                                                                  \
    "must be 1-63 lowercase letters, digits or '-', starting and ending with a "                   \
    "letter or digit"
#define TARGETS                                                                                    \
    "gatewayId, natGatewayId, transitGatewayId, vpcPeeringConnectionId, "                          \
    "egressOnlyInternetGatewayId, carrierGatewayId, localGatewayId, coreNetworkArn, instanceId, "  \
    "networkInterfaceId"

static const struct {
    const char *spec;
    const char *message;
} invalid[] = {
    /* the VPC */
    {"{}", "spec.cidrBlock: required"},
    {"{'cidrBlock':''}", "spec.cidrBlock: required"},
    {"{'cidrBlock':16}", "spec.cidrBlock: must be a string"},
    {"{'cidrBlock':'10.0.0.0/33'}", "spec.cidrBlock: \"10.0.0.0/33\" is not a valid IPv4 CIDR"},
    {"{'cidrBlock':'2001:db8::/56'}", "spec.cidrBlock: \"2001:db8::/56\" is not a valid IPv4 CIDR"},
    {"{'cidrBlock':'10.0.0.0/8'}",
     "spec.cidrBlock: 10.0.0.0/8 is not allowed by AWS (the netmask must be /16 to /28)"},
    {"{'cidrBlock':'10.0.0.0/29'}",
     "spec.cidrBlock: 10.0.0.0/29 is not allowed by AWS (the netmask must be /16 to /28)"},
    {VPC("'accountRef':{}"), "spec.accountRef.name: required"},
    {VPC("'region':1"), "spec.region: must be a string"},
    {VPC("'management':{'policy':'Adopt'}"),
     "spec.management.vpcId: required when policy is Adopt"},
    {VPC("'management':{'policy':'Adopt','vpcId':'sg-1'}"),
     "spec.management.vpcId: \"sg-1\" is not a VPC id (vpc-...)"},
    {VPC("'management':{'deletionPolicy':'Keep'}"),
     "spec.management.deletionPolicy: \"Keep\" is not one of Delete, Retain"},
    {VPC("'enableDnsSupport':'yes'"), "spec.enableDnsSupport: must be true or false"},
    {VPC("'enableDnsHostnames':1"), "spec.enableDnsHostnames: must be true or false"},
    {VPC("'tags':{'aws:x':'y'}"),
     "spec.tags[aws:x]: keys under netposture.dev/ and aws: are reserved for netposture and AWS"},
    {VPC("'ownership':'Shared'"), "spec.ownership: \"Shared\" is not one of Exclusive, Additive"},
    {VPC("'remediation':{'mode':'Auto'}"),
     "spec.remediation.mode: \"Auto\" is not one of Enforce, Detect, Propose"},
    {VPC("'defaultSecurityGroup':{'restrictAll':'true'}"),
     "spec.defaultSecurityGroup.restrictAll: must be true or false"},
    {VPC("'defaultSecurityGroup':true"), "spec.defaultSecurityGroup: must be an object"},
    /* flow logs */
    {VPC("'flowLogs':{}"), "spec.flowLogs.destination: required when flow logs are enabled"},
    {VPC("'flowLogs':{'enabled':true,'trafficType':'all','destination':'arn:aws:s3:::b'}"),
     "spec.flowLogs.trafficType: \"all\" is not one of ACCEPT, REJECT, ALL"},
    {VPC("'flowLogs':{'destination':'arn:aws:sqs:eu-west-1:1:q'}"),
     "spec.flowLogs.destination: \"arn:aws:sqs:eu-west-1:1:q\" is not the ARN of an S3 bucket, "
     "a CloudWatch Logs log group or a Kinesis Data Firehose stream"},
    {VPC("'flowLogs':{'destination':'s3://bucket'}"),
     "spec.flowLogs.destination: \"s3://bucket\" is not the ARN of an S3 bucket, a CloudWatch "
     "Logs log group or a Kinesis Data Firehose stream"},
    {VPC("'flowLogs':{'destination':'arn:aws:s3:::'}"),
     "spec.flowLogs.destination: \"arn:aws:s3:::\" is not the ARN of an S3 bucket, a CloudWatch "
     "Logs log group or a Kinesis Data Firehose stream"},
    {VPC("'flowLogs':{'destination':'arn:aws:logs:eu-west-1:1:log-group:g'}"),
     "spec.flowLogs.deliverLogsPermissionArn: required for a CloudWatch Logs destination"},
    {VPC("'flowLogs':{'destination':'arn:aws:logs:eu-west-1:1:log-group:g',"
         "'deliverLogsPermissionArn':'flow-role'}"),
     "spec.flowLogs.deliverLogsPermissionArn: \"flow-role\" is not an IAM role ARN"},
    {VPC("'flowLogs':{'destination':'arn:aws:s3:::b','deliverLogsPermissionArn':"
         "'arn:aws:iam::1:role/r'}"),
     "spec.flowLogs.deliverLogsPermissionArn: not used for an S3 destination"},
    {VPC("'flowLogs':{'enabled':'yes'}"), "spec.flowLogs.enabled: must be true or false"},
    /* subnets */
    {VPC("'subnets':{}"), "spec.subnets: must be a list"},
    {VPC("'subnets':['a']"), "spec.subnets[0]: must be an object"},
    {VPC("'subnets':[{'cidrBlock':'10.0.1.0/24'}]"), "spec.subnets[0].name: required"},
    {VPC("'subnets':[{'name':'Private_A','cidrBlock':'10.0.1.0/24'}]"),
     "spec.subnets[0].name: \"Private_A\" " NAME_RULE},
    {VPC("'subnets':[{'name':'a-','cidrBlock':'10.0.1.0/24'}]"),
     "spec.subnets[0].name: \"a-\" " NAME_RULE},
    {VPC("'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24'},{'name':'a','cidrBlock':"
         "'10.0.2.0/24'}]"),
     "spec.subnets[1].name: \"a\" is already the name of spec.subnets[0]"},
    {VPC("'subnets':[{'name':'a'}]"), "spec.subnets[0].cidrBlock: required"},
    {VPC("'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24'},{'name':'b','cidrBlock':"
         "'10.1.0.0/24'}]"),
     "spec.subnets[1].cidrBlock: 10.1.0.0/24 is not inside the VPC's 10.0.0.0/16"},
    {VPC("'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24'},{'name':'b','cidrBlock':"
         "'10.0.1.128/25'}]"),
     "spec.subnets[1].cidrBlock: 10.0.1.128/25 overlaps spec.subnets[0] (10.0.1.0/24)"},
    {VPC("'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24'},{'name':'b','cidrBlock':"
         "'10.0.0.0/16'}]"),
     "spec.subnets[1].cidrBlock: 10.0.0.0/16 overlaps spec.subnets[0] (10.0.1.0/24)"},
    {VPC("'subnets':[{'name':'a','cidrBlock':'10.0.1.0/30'}]"),
     "spec.subnets[0].cidrBlock: 10.0.1.0/30 is not allowed by AWS (the netmask must be /16 to "
     "/28)"},
    {VPC("'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24','availabilityZone':''}]"),
     "spec.subnets[0].availabilityZone: must not be empty (omit it to let AWS pick)"},
    {VPC("'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24','mapPublicIpOnLaunch':'no'}]"),
     "spec.subnets[0].mapPublicIpOnLaunch: must be true or false"},
    {VPC("'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24','tags':{'netposture.dev/uid':'x'}}]"),
     "spec.subnets[0].tags[netposture.dev/uid]: keys under netposture.dev/ and aws: are "
     "reserved for netposture and AWS"},
    {VPC("'subnets':[{'name':'a','cidrBlock':'10.0.1.0/24','subnetId':'sub-1'}]"),
     "spec.subnets[0].subnetId: \"sub-1\" is not a subnet id (subnet-...)"},
    /* route tables */
    {VPC("'routeTables':[{'name':'rt','subnets':['a']}]"),
     "spec.routeTables[0].subnets[0]: no subnet \"a\" in spec.subnets"},
    {VPC(SUBNETS ",'routeTables':[{'name':'rt','subnets':['a','c']}]"),
     "spec.routeTables[0].subnets[1]: no subnet \"c\" in spec.subnets"},
    {VPC(SUBNETS ",'routeTables':[{'name':'rt','subnets':['a','a']}]"),
     "spec.routeTables[0].subnets[1]: subnet \"a\" is listed twice"},
    {VPC(SUBNETS ",'routeTables':[{'name':'x','subnets':['b']},{'name':'y','subnets':['a','b']}]"),
     "spec.routeTables[1].subnets[1]: subnet \"b\" is already in spec.routeTables[0]"},
    {VPC(SUBNETS ",'routeTables':[{'name':'x'},{'name':'x'}]"),
     "spec.routeTables[1].name: \"x\" is already the name of spec.routeTables[0]"},
    {VPC("'routeTables':[{'name':'rt','routeTableId':'acl-1'}]"),
     "spec.routeTables[0].routeTableId: \"acl-1\" is not a route table id (rtb-...)"},
    {RT("{'natGatewayId':'nat-1'}"),
     "spec.routeTables[0].routes[0]: set exactly one of destinationCidrBlock, "
     "destinationIpv6CidrBlock and destinationPrefixListId"},
    {RT("{'destinationCidrBlock':'0.0.0.0/0','destinationPrefixListId':'pl-1','natGatewayId':"
        "'nat-1'}"),
     "spec.routeTables[0].routes[0]: set exactly one of destinationCidrBlock, "
     "destinationIpv6CidrBlock and destinationPrefixListId"},
    {RT("{'destinationCidrBlock':'0.0.0.0/0'}"),
     "spec.routeTables[0].routes[0]: set exactly one target (" TARGETS ")"},
    {RT("{'destinationCidrBlock':'0.0.0.0/0','gatewayId':'igw-1','natGatewayId':'nat-1'}"),
     "spec.routeTables[0].routes[0]: set exactly one target (" TARGETS ")"},
    {RT("{'destinationCidrBlock':'0.0.0.0/33','natGatewayId':'nat-1'}"),
     "spec.routeTables[0].routes[0].destinationCidrBlock: \"0.0.0.0/33\" is not a valid IPv4 "
     "CIDR"},
    {RT("{'destinationIpv6CidrBlock':'10.0.0.0/8','natGatewayId':'nat-1'}"),
     "spec.routeTables[0].routes[0].destinationIpv6CidrBlock: \"10.0.0.0/8\" is not a valid IPv6 "
     "CIDR"},
    {RT("{'destinationPrefixListId':'com.amazonaws.s3','gatewayId':'vpce-1'}"),
     "spec.routeTables[0].routes[0].destinationPrefixListId: \"com.amazonaws.s3\" is not a "
     "prefix list id (pl-...)"},
    {RT("{'destinationCidrBlock':'0.0.0.0/0','natGatewayId':'igw-1'}"),
     "spec.routeTables[0].routes[0].natGatewayId: \"igw-1\" is not a natGatewayId id (nat-...)"},
    {RT("{'destinationCidrBlock':'0.0.0.0/0','gatewayId':'nat-1'}"),
     "spec.routeTables[0].routes[0].gatewayId: \"nat-1\" is not a gatewayId id (igw-..., "
     "vgw-..., vpce-...)"},
    {RT("{'destinationCidrBlock':'10.0.0.0/16','gatewayId':'local'}"),
     "spec.routeTables[0].routes[0].gatewayId: the local route is AWS's; it is never declared"},
    {RT("{'destinationCidrBlock':'0.0.0.0/0','coreNetworkArn':'core-1'}"),
     "spec.routeTables[0].routes[0].coreNetworkArn: \"core-1\" is not a core network ARN"},
    {RT("{'destinationCidrBlock':'0.0.0.0/0','natGatewayId':5}"),
     "spec.routeTables[0].routes[0].natGatewayId: must be a string"},
    {RT("{'destinationCidrBlock':'0.0.0.0/0','natGatewayId':'nat-1'},"
        "{'destinationCidrBlock':'10.1.0.0/16','vpcPeeringConnectionId':'pcx-1'},"
        "{'destinationCidrBlock':'0.0.0.1/0','gatewayId':'igw-1'}"),
     "spec.routeTables[0].routes[2]: destination 0.0.0.0/0 is declared twice (first in "
     "routes[0])"},
    {VPC("'routeTables':[{'name':'rt','routes':{}}]"),
     "spec.routeTables[0].routes: must be a list"},
    /* network ACLs */
    {VPC(SUBNETS ",'networkAcls':[{'name':'x','subnets':['a']},{'name':'y','subnets':['a']}]"),
     "spec.networkAcls[1].subnets[0]: subnet \"a\" is already in spec.networkAcls[0]"},
    {VPC(SUBNETS ",'routeTables':[{'name':'x','subnets':['a']}],'networkAcls':[{'name':'x',"
                 "'subnets':['A']}]"),
     "spec.networkAcls[0].subnets[0]: \"A\" " NAME_RULE},
    {VPC("'networkAcls':[{'name':'acl','networkAclId':'rtb-1'}]"),
     "spec.networkAcls[0].networkAclId: \"rtb-1\" is not a network ACL id (acl-...)"},
    {NACL("{'protocol':'tcp','action':'allow','cidrBlock':'0.0.0.0/0','fromPort':1,'toPort':2}"),
     "spec.networkAcls[0].entries[0].ruleNumber: required"},
    {NACL(ENTRY("'ruleNumber':0,'cidrBlock':'0.0.0.0/0','fromPort':1,'toPort':2")),
     "spec.networkAcls[0].entries[0].ruleNumber: 0 is out of range 1..32766"},
    {NACL(ENTRY("'ruleNumber':32767,'cidrBlock':'0.0.0.0/0','fromPort':1,'toPort':2")),
     "spec.networkAcls[0].entries[0].ruleNumber: 32767 is out of range 1..32766"},
    {NACL("{'ruleNumber':1,'action':'allow','cidrBlock':'0.0.0.0/0'}"),
     "spec.networkAcls[0].entries[0].protocol: required"},
    {NACL("{'ruleNumber':1,'protocol':'gre','action':'allow','cidrBlock':'0.0.0.0/0'}"),
     "spec.networkAcls[0].entries[0].protocol: \"gre\" is not tcp, udp, icmp, icmpv6, all, -1 "
     "or a protocol number 0-255"},
    {NACL("{'ruleNumber':1,'protocol':'all','cidrBlock':'0.0.0.0/0'}"),
     "spec.networkAcls[0].entries[0].action: required"},
    {NACL("{'ruleNumber':1,'protocol':'all','action':'Allow','cidrBlock':'0.0.0.0/0'}"),
     "spec.networkAcls[0].entries[0].action: \"Allow\" is not one of allow, deny"},
    {NACL("{'ruleNumber':1,'protocol':'all','action':'deny','egress':'no','cidrBlock':'::/0'}"),
     "spec.networkAcls[0].entries[0].egress: must be true or false"},
    {NACL("{'ruleNumber':1,'protocol':'all','action':'deny'}"),
     "spec.networkAcls[0].entries[0]: set exactly one of cidrBlock and ipv6CidrBlock"},
    {NACL("{'ruleNumber':1,'protocol':'all','action':'deny','cidrBlock':'0.0.0.0/0',"
          "'ipv6CidrBlock':'::/0'}"),
     "spec.networkAcls[0].entries[0]: set exactly one of cidrBlock and ipv6CidrBlock"},
    {NACL("{'ruleNumber':1,'protocol':'all','action':'deny','cidrBlock':'::/0'}"),
     "spec.networkAcls[0].entries[0].cidrBlock: \"::/0\" is not a valid IPv4 CIDR"},
    {NACL("{'ruleNumber':1,'protocol':'all','action':'deny','ipv6CidrBlock':'::/200'}"),
     "spec.networkAcls[0].entries[0].ipv6CidrBlock: \"::/200\" is not a valid IPv6 CIDR"},
    {NACL(ENTRY("'cidrBlock':'0.0.0.0/0'")),
     "spec.networkAcls[0].entries[0]: tcp entries need fromPort and toPort"},
    {NACL(ENTRY("'cidrBlock':'0.0.0.0/0','fromPort':443")),
     "spec.networkAcls[0].entries[0]: tcp entries need fromPort and toPort"},
    {NACL(ENTRY("'cidrBlock':'0.0.0.0/0','fromPort':443,'toPort':80")),
     "spec.networkAcls[0].entries[0]: fromPort 443 > toPort 80"},
    {NACL(ENTRY("'cidrBlock':'0.0.0.0/0','fromPort':-1,'toPort':80")),
     "spec.networkAcls[0].entries[0].fromPort: -1 is out of range 0..65535"},
    {NACL(ENTRY("'cidrBlock':'0.0.0.0/0','fromPort':1,'toPort':65536")),
     "spec.networkAcls[0].entries[0].toPort: 65536 is out of range 0..65535"},
    {NACL("{'ruleNumber':1,'protocol':'-1','action':'deny','cidrBlock':'0.0.0.0/0',"
          "'fromPort':1,'toPort':2}"),
     "spec.networkAcls[0].entries[0].fromPort: only tcp and udp entries have ports"},
    {NACL("{'ruleNumber':1,'protocol':'icmp','action':'deny','cidrBlock':'0.0.0.0/0',"
          "'toPort':2}"),
     "spec.networkAcls[0].entries[0].toPort: only tcp and udp entries have ports"},
    {NACL(ENTRY("'cidrBlock':'0.0.0.0/0','fromPort':1,'toPort':2,'icmpType':8")),
     "spec.networkAcls[0].entries[0].icmpType: only icmp and icmpv6 entries have a type and "
     "code"},
    {NACL("{'ruleNumber':1,'protocol':'all','action':'deny','cidrBlock':'0.0.0.0/0',"
          "'icmpCode':0}"),
     "spec.networkAcls[0].entries[0].icmpCode: only icmp and icmpv6 entries have a type and "
     "code"},
    {NACL("{'ruleNumber':1,'protocol':'icmp','action':'deny','cidrBlock':'0.0.0.0/0',"
          "'icmpType':256}"),
     "spec.networkAcls[0].entries[0].icmpType: 256 is out of range -1..255"},
    {NACL("{'ruleNumber':1,'protocol':'icmp','action':'deny','cidrBlock':'0.0.0.0/0',"
          "'icmpType':-1,'icmpCode':3}"),
     "spec.networkAcls[0].entries[0]: ICMP type -1 (all types) needs code -1, not icmpCode 3"},
    {NACL("{'ruleNumber':1,'protocol':'icmp','action':'deny','cidrBlock':'0.0.0.0/0',"
          "'icmpCode':3}"),
     "spec.networkAcls[0].entries[0]: ICMP type -1 (all types) needs code -1, not icmpCode 3"},
    {NACL("{'ruleNumber':100,'protocol':'tcp','action':'allow','cidrBlock':'0.0.0.0/0',"
          "'fromPort':1,'toPort':2},{'ruleNumber':100,'egress':true,'protocol':'all',"
          "'action':'deny','cidrBlock':'0.0.0.0/0'},{'ruleNumber':100,'protocol':'udp',"
          "'action':'allow','cidrBlock':'10.0.0.0/8','fromPort':3,'toPort':4}"),
     "spec.networkAcls[0].entries[2]: ruleNumber 100 is used twice for ingress"},
    {NACL("5"), "spec.networkAcls[0].entries[0]: must be an object"},
};

Test(posture_vpc_spec, invalid_specs_name_the_field)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(invalid); i++) {
        char *msg = t_vpc_spec_error(invalid[i].spec);
        cr_expect_str_eq(msg, invalid[i].message, "case %zu: %s\n got: %s\nwant: %s", i,
                         invalid[i].spec, msg, invalid[i].message);
        free(msg);
    }
}

Test(posture_vpc_spec, not_an_object)
{
    struct np_posture_vpc_spec *s = NULL;
    cr_assert_eq(np_posture_vpc_spec_parse(&s, NULL), NP_EINVAL);
    cr_assert_null(s);
    cr_assert_str_eq(np_error_message(), "spec: missing or not an object");
    char *msg = t_vpc_spec_error("'10.0.0.0/16'");
    cr_assert_str_eq(msg, "spec: missing or not an object");
    free(msg);
}

Test(posture_vpc_spec, limits)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "{'cidrBlock':'10.0.0.0/16','networkAcls':[{'name':'a','entries':[");
    for (int i = 1; i <= 81; i++)
        np_buf_appendf(&b,
                       "%s{'ruleNumber':%d,'protocol':'all','action':'deny','cidrBlock':"
                       "'0.0.0.0/0'}",
                       i > 1 ? "," : "", i);
    np_buf_puts(&b, "]}]}");
    char *msg = t_vpc_spec_error(np_buf_cstr(&b));
    cr_expect_str_eq(msg, "spec.networkAcls[0].entries: 81 items, at most 80");
    free(msg);
    np_buf_clean_up(&b);
}
