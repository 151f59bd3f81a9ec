/*
 * The VPC pieces a VPCPosture manages as typed EC2 operations: VPCs and their DNS attributes,
 * subnets, route tables with their routes and associations, network ACLs with their entries and
 * associations, and flow logs. Each builds its Query form from a table of parameters, calls,
 * and checks or decodes the answer (Describe calls through the shared pager).
 */
#include "aws/private/aws_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* AWS's largest MaxResults per action. */
#define SUBNETS_PAGE 1000
#define ROUTE_TABLES_PAGE 100
#define NACLS_PAGE 1000
#define FLOW_LOGS_PAGE 1000

static const char *const target_names[NP_AWS_ROUTE_TARGET_COUNT] = {
    [NP_AWS_ROUTE_GATEWAY] = "gatewayId",
    [NP_AWS_ROUTE_NAT_GATEWAY] = "natGatewayId",
    [NP_AWS_ROUTE_TRANSIT_GATEWAY] = "transitGatewayId",
    [NP_AWS_ROUTE_VPC_PEERING] = "vpcPeeringConnectionId",
    [NP_AWS_ROUTE_EGRESS_ONLY_IGW] = "egressOnlyInternetGatewayId",
    [NP_AWS_ROUTE_CARRIER_GATEWAY] = "carrierGatewayId",
    [NP_AWS_ROUTE_LOCAL_GATEWAY] = "localGatewayId",
    [NP_AWS_ROUTE_CORE_NETWORK] = "coreNetworkArn",
    [NP_AWS_ROUTE_INSTANCE] = "instanceId",
    [NP_AWS_ROUTE_NETWORK_INTERFACE] = "networkInterfaceId",
};

static const char *const dest_names[] = {
    [NP_AWS_ROUTE_DEST_CIDR4] = "destinationCidrBlock",
    [NP_AWS_ROUTE_DEST_CIDR6] = "destinationIpv6CidrBlock",
    [NP_AWS_ROUTE_DEST_PREFIX_LIST] = "destinationPrefixListId",
};

const char *np_aws_route_target_name(enum np_aws_route_target t)
{
    return (unsigned)t < NP_ARRAY_LEN(target_names) ? target_names[t] : NULL;
}

const char *np_aws_route_dest_name(enum np_aws_route_dest d)
{
    return (unsigned)d < NP_ARRAY_LEN(dest_names) ? dest_names[d] : NULL;
}

/* The Query parameter of a response member and a suffix: "gatewayId", "" -> "GatewayId". */
static void query_name(char *out, size_t size, const char *member, const char *suffix)
{
    snprintf(out, size, "%s%s", member, suffix);
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

/* ---------------------------------------------------------------- calls */

/* One Query parameter; an optional one is left out when its value is NULL or empty. */
struct param {
    const char *key;
    const char *value;
    bool optional;
};

/* The tags a Create* call attaches, and the resource type they are for. */
struct tag_spec {
    const char *resource_type;
    const struct np_aws_tag *tags;
    size_t n;
};

/*
 * Starts the form of action with params, then the tags as TagSpecification.1 (ts NULL: none).
 * NP_EINVAL names the action and the missing parameter or keyless tag.
 */
static int form_build(struct np_buf *form, const char *action, const struct param *p, size_t n,
                      const struct tag_spec *ts)
{
    int rc = np_aws_form_begin(form, action, NP_AWS_EC2_VERSION);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!np_str_is_empty(p[i].value))
            rc = np_aws_form_add(form, p[i].key, p[i].value);
        else if (!p[i].optional)
            return np_error_set(NP_EINVAL, "%s: %s is required", action, p[i].key);
    }
    if (rc == 0 && ts) {
        rc = np_aws_form_add_tag_spec(form, ts->resource_type, ts->tags, ts->n);
        if (rc)
            rc = np_error_set(rc, "%s: %s", action, np_error_message());
    }
    return rc;
}

/*
 * Sends form as action. With name, *out gets the text of <parent>/<name> in the answer (owned;
 * NP_EPARSE when absent); without, the answer's <return> is checked.
 */
static int send_form(struct np_aws_ec2 *c, const char *action, const struct np_buf *form,
                     const char *parent, const char *name, char **out)
{
    if (!name)
        return np_aws_ec2_return_call(c, action, form, false);
    struct np_buf body = NP_BUF_INIT;
    char root[96];
    snprintf(root, sizeof(root), "%sResponse", action);
    int rc = np_aws_query_call(c, NP_AWS_SERVICE_EC2, action, form, &body);
    if (rc == 0)
        rc = np_aws_xml_decode_value(body.data, body.len, root, parent, name, out);
    np_buf_clean_up(&body);
    return rc;
}

/* A call whose answer is only <return>. */
static int call(struct np_aws_ec2 *c, const char *action, const struct param *p, size_t n)
{
    struct np_buf form = NP_BUF_INIT;
    int rc = form_build(&form, action, p, n, NULL);
    if (rc == 0)
        rc = send_form(c, action, &form, NULL, NULL, NULL);
    np_buf_clean_up(&form);
    return rc;
}

/*
 * A call that answers one value at <parent>/<name> (a Create*'s id, an association id, an
 * attribute). *out (owned) may be NULL to drop the value; it is NULL on error.
 */
static int call_for_value(struct np_aws_ec2 *c, const char *action, const struct param *p, size_t n,
                          const struct tag_spec *ts, const char *parent, const char *name,
                          char **out)
{
    struct np_buf form = NP_BUF_INIT;
    char *value = NULL;
    if (out)
        *out = NULL;
    int rc = form_build(&form, action, p, n, ts);
    if (rc == 0)
        rc = send_form(c, action, &form, parent, name, &value);
    if (rc == 0 && out) {
        *out = value;
        value = NULL;
    }
    free(value);
    np_buf_clean_up(&form);
    return rc;
}

static const char *bool_str(bool v)
{
    return v ? "true" : "false";
}

/* ---------------------------------------------------------------- VPCs */

int np_aws_ec2_create_vpc(struct np_aws_ec2 *c, char **vpc_id, const char *cidr_block,
                          const struct np_aws_tag *tags, size_t n_tags)
{
    const struct param p[] = {{"CidrBlock", cidr_block, false}};
    const struct tag_spec ts = {"vpc", tags, n_tags};
    return call_for_value(c, "CreateVpc", p, NP_ARRAY_LEN(p), &ts, "vpc", "vpcId", vpc_id);
}

int np_aws_ec2_delete_vpc(struct np_aws_ec2 *c, const char *vpc_id)
{
    const struct param p[] = {{"VpcId", vpc_id, false}};
    return call(c, "DeleteVpc", p, NP_ARRAY_LEN(p));
}

/* The attribute's response member ("enableDnsSupport"); NULL outside the enum. */
static const char *vpc_attribute_name(enum np_aws_vpc_attribute attr)
{
    switch (attr) {
    case NP_AWS_VPC_DNS_SUPPORT: return "enableDnsSupport";
    case NP_AWS_VPC_DNS_HOSTNAMES: return "enableDnsHostnames";
    }
    return NULL;
}

int np_aws_ec2_describe_vpc_attribute(struct np_aws_ec2 *c, const char *vpc_id,
                                      enum np_aws_vpc_attribute attr, bool *value)
{
    const char *name = vpc_attribute_name(attr);
    char *text = NULL;
    if (!name)
        return np_error_set(NP_EINVAL, "DescribeVpcAttribute: unknown attribute %d", (int)attr);
    const struct param p[] = {{"VpcId", vpc_id, false}, {"Attribute", name, false}};
    int rc =
        call_for_value(c, "DescribeVpcAttribute", p, NP_ARRAY_LEN(p), NULL, name, "value", &text);
    if (rc == 0)
        rc = np_aws_xml_parse_bool(text, name, value);
    free(text);
    return rc;
}

int np_aws_ec2_modify_vpc_attribute(struct np_aws_ec2 *c, const char *vpc_id,
                                    enum np_aws_vpc_attribute attr, bool value)
{
    const char *name = vpc_attribute_name(attr);
    char key[64];
    if (!name)
        return np_error_set(NP_EINVAL, "ModifyVpcAttribute: unknown attribute %d", (int)attr);
    query_name(key, sizeof(key), name, ".Value");
    const struct param p[] = {{"VpcId", vpc_id, false}, {key, bool_str(value), false}};
    return call(c, "ModifyVpcAttribute", p, NP_ARRAY_LEN(p));
}

/* ---------------------------------------------------------------- subnets */

int np_aws_ec2_describe_subnets(struct np_aws_ec2 *c, struct np_aws_subnet **out, size_t *n_out,
                                const struct np_aws_filter *filters, size_t n_filters)
{
    void *items = NULL;
    int rc = np_aws_ec2_describe_list(c, "DescribeSubnets", SUBNETS_PAGE, &np_aws_xml_subnets,
                                      filters, n_filters, &items, n_out);
    *out = items;
    return rc;
}

int np_aws_ec2_create_subnet(struct np_aws_ec2 *c, char **subnet_id, const char *vpc_id,
                             const char *cidr_block, const char *availability_zone,
                             const struct np_aws_tag *tags, size_t n_tags)
{
    const struct param p[] = {{"VpcId", vpc_id, false},
                              {"CidrBlock", cidr_block, false},
                              {"AvailabilityZone", availability_zone, true}};
    const struct tag_spec ts = {"subnet", tags, n_tags};
    return call_for_value(c, "CreateSubnet", p, NP_ARRAY_LEN(p), &ts, "subnet", "subnetId",
                          subnet_id);
}

int np_aws_ec2_delete_subnet(struct np_aws_ec2 *c, const char *subnet_id)
{
    const struct param p[] = {{"SubnetId", subnet_id, false}};
    return call(c, "DeleteSubnet", p, NP_ARRAY_LEN(p));
}

int np_aws_ec2_modify_subnet_map_public_ip(struct np_aws_ec2 *c, const char *subnet_id, bool value)
{
    const struct param p[] = {{"SubnetId", subnet_id, false},
                              {"MapPublicIpOnLaunch.Value", bool_str(value), false}};
    return call(c, "ModifySubnetAttribute", p, NP_ARRAY_LEN(p));
}

/* ---------------------------------------------------------------- route tables */

int np_aws_ec2_describe_route_tables(struct np_aws_ec2 *c, struct np_aws_route_table **out,
                                     size_t *n_out, const struct np_aws_filter *filters,
                                     size_t n_filters)
{
    void *items = NULL;
    int rc = np_aws_ec2_describe_list(c, "DescribeRouteTables", ROUTE_TABLES_PAGE,
                                      &np_aws_xml_route_tables, filters, n_filters, &items, n_out);
    *out = items;
    return rc;
}

int np_aws_ec2_create_route_table(struct np_aws_ec2 *c, char **route_table_id, const char *vpc_id,
                                  const char *client_token, const struct np_aws_tag *tags,
                                  size_t n_tags)
{
    const struct param p[] = {{"VpcId", vpc_id, false}, {"ClientToken", client_token, true}};
    const struct tag_spec ts = {"route-table", tags, n_tags};
    return call_for_value(c, "CreateRouteTable", p, NP_ARRAY_LEN(p), &ts, "routeTable",
                          "routeTableId", route_table_id);
}

int np_aws_ec2_delete_route_table(struct np_aws_ec2 *c, const char *route_table_id)
{
    const struct param p[] = {{"RouteTableId", route_table_id, false}};
    return call(c, "DeleteRouteTable", p, NP_ARRAY_LEN(p));
}

/* CreateRoute / ReplaceRoute: RouteTableId, the destination and the target. */
static int route_call(struct np_aws_ec2 *c, const char *action, const char *route_table_id,
                      const struct np_aws_route *r)
{
    char dest_key[64], target_key[64];
    if (!r || !np_aws_route_dest_name(r->dest_kind) || !r->has_target ||
        !np_aws_route_target_name(r->target_kind))
        return np_error_set(NP_EINVAL,
                            "%s: a route with a known destination and target kind is "
                            "required",
                            action);
    query_name(dest_key, sizeof(dest_key), np_aws_route_dest_name(r->dest_kind), "");
    query_name(target_key, sizeof(target_key), np_aws_route_target_name(r->target_kind), "");
    struct param p[] = {{"RouteTableId", route_table_id, false},
                        {dest_key, r->destination, false},
                        {target_key, r->target, false}};
    /* ReplaceRoute puts the local route back on its target with LocalTarget. */
    if (strcmp(action, "ReplaceRoute") == 0 && r->target_kind == NP_AWS_ROUTE_GATEWAY &&
        np_str_eq(r->target, "local"))
        p[2] = (struct param){"LocalTarget", "true", false};
    return call(c, action, p, NP_ARRAY_LEN(p));
}

int np_aws_ec2_create_route(struct np_aws_ec2 *c, const char *route_table_id,
                            const struct np_aws_route *route)
{
    return route_call(c, "CreateRoute", route_table_id, route);
}

int np_aws_ec2_replace_route(struct np_aws_ec2 *c, const char *route_table_id,
                             const struct np_aws_route *route)
{
    return route_call(c, "ReplaceRoute", route_table_id, route);
}

int np_aws_ec2_delete_route(struct np_aws_ec2 *c, const char *route_table_id,
                            enum np_aws_route_dest dest_kind, const char *destination)
{
    char dest_key[64];
    if (!np_aws_route_dest_name(dest_kind))
        return np_error_set(NP_EINVAL, "DeleteRoute: unknown destination kind %d", (int)dest_kind);
    query_name(dest_key, sizeof(dest_key), np_aws_route_dest_name(dest_kind), "");
    const struct param p[] = {{"RouteTableId", route_table_id, false},
                              {dest_key, destination, false}};
    return call(c, "DeleteRoute", p, NP_ARRAY_LEN(p));
}

int np_aws_ec2_associate_route_table(struct np_aws_ec2 *c, const char *route_table_id,
                                     const char *subnet_id, char **association_id)
{
    const struct param p[] = {{"RouteTableId", route_table_id, false},
                              {"SubnetId", subnet_id, false}};
    return call_for_value(c, "AssociateRouteTable", p, NP_ARRAY_LEN(p), NULL, NULL, "associationId",
                          association_id);
}

int np_aws_ec2_disassociate_route_table(struct np_aws_ec2 *c, const char *association_id)
{
    const struct param p[] = {{"AssociationId", association_id, false}};
    return call(c, "DisassociateRouteTable", p, NP_ARRAY_LEN(p));
}

int np_aws_ec2_replace_route_table_association(struct np_aws_ec2 *c, const char *association_id,
                                               const char *route_table_id,
                                               char **new_association_id)
{
    const struct param p[] = {{"AssociationId", association_id, false},
                              {"RouteTableId", route_table_id, false}};
    return call_for_value(c, "ReplaceRouteTableAssociation", p, NP_ARRAY_LEN(p), NULL, NULL,
                          "newAssociationId", new_association_id);
}

/* ---------------------------------------------------------------- network ACLs */

int np_aws_ec2_describe_network_acls(struct np_aws_ec2 *c, struct np_aws_nacl **out, size_t *n_out,
                                     const struct np_aws_filter *filters, size_t n_filters)
{
    void *items = NULL;
    int rc = np_aws_ec2_describe_list(c, "DescribeNetworkAcls", NACLS_PAGE, &np_aws_xml_nacls,
                                      filters, n_filters, &items, n_out);
    *out = items;
    return rc;
}

int np_aws_ec2_create_network_acl(struct np_aws_ec2 *c, char **network_acl_id, const char *vpc_id,
                                  const char *client_token, const struct np_aws_tag *tags,
                                  size_t n_tags)
{
    const struct param p[] = {{"VpcId", vpc_id, false}, {"ClientToken", client_token, true}};
    const struct tag_spec ts = {"network-acl", tags, n_tags};
    return call_for_value(c, "CreateNetworkAcl", p, NP_ARRAY_LEN(p), &ts, "networkAcl",
                          "networkAclId", network_acl_id);
}

int np_aws_ec2_delete_network_acl(struct np_aws_ec2 *c, const char *network_acl_id)
{
    const struct param p[] = {{"NetworkAclId", network_acl_id, false}};
    return call(c, "DeleteNetworkAcl", p, NP_ARRAY_LEN(p));
}

/* CreateNetworkAclEntry / ReplaceNetworkAclEntry. */
static int entry_call(struct np_aws_ec2 *c, const char *action, const char *network_acl_id,
                      const struct np_aws_nacl_entry *e)
{
    char rule[16], from[16], to[16], type[16], code[16];
    if (!e || e->rule_number < 1 || e->rule_number > 32766)
        return np_error_set(NP_EINVAL,
                            "%s: an entry with a rule number from 1 to 32766 is "
                            "required",
                            action);
    if (np_str_is_empty(e->cidr) == np_str_is_empty(e->ipv6_cidr))
        return np_error_set(NP_EINVAL,
                            "%s: entry %d needs exactly one of a CIDR block and an "
                            "IPv6 CIDR block",
                            action, e->rule_number);
    snprintf(rule, sizeof(rule), "%d", e->rule_number);
    snprintf(from, sizeof(from), "%d", e->from_port);
    snprintf(to, sizeof(to), "%d", e->to_port);
    snprintf(type, sizeof(type), "%d", e->icmp_type);
    snprintf(code, sizeof(code), "%d", e->icmp_code);
    const struct param p[] = {
        {"NetworkAclId", network_acl_id, false},
        {"RuleNumber", rule, false},
        {"Protocol", e->protocol, false},
        {"RuleAction", e->allow ? "allow" : "deny", false},
        {"Egress", bool_str(e->egress), false},
        {"CidrBlock", e->cidr, true},
        {"Ipv6CidrBlock", e->ipv6_cidr, true},
        {"PortRange.From", e->has_ports ? from : NULL, true},
        {"PortRange.To", e->has_ports ? to : NULL, true},
        {"Icmp.Type", e->has_icmp ? type : NULL, true},
        {"Icmp.Code", e->has_icmp ? code : NULL, true},
    };
    return call(c, action, p, NP_ARRAY_LEN(p));
}

int np_aws_ec2_create_network_acl_entry(struct np_aws_ec2 *c, const char *network_acl_id,
                                        const struct np_aws_nacl_entry *e)
{
    return entry_call(c, "CreateNetworkAclEntry", network_acl_id, e);
}

int np_aws_ec2_replace_network_acl_entry(struct np_aws_ec2 *c, const char *network_acl_id,
                                         const struct np_aws_nacl_entry *e)
{
    return entry_call(c, "ReplaceNetworkAclEntry", network_acl_id, e);
}

int np_aws_ec2_delete_network_acl_entry(struct np_aws_ec2 *c, const char *network_acl_id,
                                        int rule_number, bool egress)
{
    char rule[16];
    snprintf(rule, sizeof(rule), "%d", rule_number);
    const struct param p[] = {{"NetworkAclId", network_acl_id, false},
                              {"RuleNumber", rule, false},
                              {"Egress", bool_str(egress), false}};
    return call(c, "DeleteNetworkAclEntry", p, NP_ARRAY_LEN(p));
}

int np_aws_ec2_replace_network_acl_association(struct np_aws_ec2 *c, const char *association_id,
                                               const char *network_acl_id,
                                               char **new_association_id)
{
    const struct param p[] = {{"AssociationId", association_id, false},
                              {"NetworkAclId", network_acl_id, false}};
    return call_for_value(c, "ReplaceNetworkAclAssociation", p, NP_ARRAY_LEN(p), NULL, NULL,
                          "newAssociationId", new_association_id);
}

/* ---------------------------------------------------------------- flow logs */

int np_aws_ec2_describe_flow_logs(struct np_aws_ec2 *c, struct np_aws_flow_log **out, size_t *n_out,
                                  const struct np_aws_filter *filters, size_t n_filters)
{
    void *items = NULL;
    int rc = np_aws_ec2_describe_list(c, "DescribeFlowLogs", FLOW_LOGS_PAGE, &np_aws_xml_flow_logs,
                                      filters, n_filters, &items, n_out);
    *out = items;
    return rc;
}

/* What flow_logs_check decodes of a flow-log answer: the created id (NULL: not wanted) and the
 * NP code of an unsuccessful item (0: the code's mapping). */
struct flow_logs_answer {
    int unsuccessful_rc;
    char **flow_log_id;
};

/* Decodes a flow-log answer inside the call: a non-empty unsuccessful set fails it with the
 * first item's code and message, so the attempt is observed as that error. */
static int flow_logs_check(void *ctx, const char *action, const struct np_buf *body)
{
    const struct flow_logs_answer *a = ctx;
    char root[64];
    char *code = NULL, *message = NULL;
    size_t n_unsuccessful = 0;
    snprintf(root, sizeof(root), "%sResponse", action);
    int rc = np_aws_xml_decode_flow_logs_result(body->data, body->len, root, a->flow_log_id,
                                                &n_unsuccessful, &code, &message);
    if (rc == 0 && n_unsuccessful > 0) {
        const char *aws_code = np_str_is_empty(code) ? "Unsuccessful" : code;
        rc = np_aws_error_record(action, aws_code, message ? message : "(no message)",
                                 a->unsuccessful_rc ? a->unsuccessful_rc
                                                    : np_aws_error_map(aws_code, 400));
    }
    free(code);
    free(message);
    return rc;
}

/* Sends a flow-log form; see flow_logs_check for the answer. */
static int flow_logs_send(struct np_aws_ec2 *c, const char *action, const struct np_buf *form,
                          int unsuccessful_rc, char **flow_log_id)
{
    struct flow_logs_answer a = {unsuccessful_rc, flow_log_id};
    return np_aws_ec2_checked_call(c, action, form, flow_logs_check, &a);
}

int np_aws_ec2_create_flow_log(struct np_aws_ec2 *c, char **flow_log_id,
                               const struct np_aws_flow_log_spec *spec, const char *client_token,
                               const struct np_aws_tag *tags, size_t n_tags)
{
    struct np_buf form = NP_BUF_INIT;
    char *id = NULL;
    int rc = 0;
    *flow_log_id = NULL;
    if (!spec)
        return np_error_set(NP_EINVAL, "CreateFlowLogs: a flow log spec is required");
    const struct param p[] = {
        {"ResourceId.1", spec->resource_id, false},
        {"ResourceType", "VPC", false},
        {"TrafficType", spec->traffic_type, false},
        {"LogDestinationType", spec->log_destination_type, true},
        {"LogDestination", spec->log_destination, false},
        {"DeliverLogsPermissionArn", spec->deliver_logs_permission_arn, true},
        {"ClientToken", client_token, true},
    };
    const struct tag_spec ts = {"vpc-flow-log", tags, n_tags};
    rc = form_build(&form, "CreateFlowLogs", p, NP_ARRAY_LEN(p), &ts);
    if (rc == 0)
        rc = flow_logs_send(c, "CreateFlowLogs", &form, NP_EINVAL, &id);
    if (rc == 0 && np_str_is_empty(id))
        rc = np_error_set(NP_EPARSE, "XML: CreateFlowLogsResponse has no flowLogIdSet item");
    if (rc == 0) {
        *flow_log_id = id;
        id = NULL;
    }
    free(id);
    np_buf_clean_up(&form);
    return rc;
}

int np_aws_ec2_delete_flow_logs(struct np_aws_ec2 *c, const char *const *flow_log_ids, size_t n)
{
    struct np_buf form = NP_BUF_INIT;
    int rc = 0;
    if (n == 0)
        return 0;
    rc = np_aws_form_begin(&form, "DeleteFlowLogs", NP_AWS_EC2_VERSION);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (np_str_is_empty(flow_log_ids[i]))
            rc = np_error_set(NP_EINVAL, "DeleteFlowLogs: flow log id %zu is empty", i + 1);
        else
            rc = np_aws_form_addf(&form, flow_log_ids[i], "FlowLogId.%zu", i + 1);
    }
    if (rc == 0)
        rc = flow_logs_send(c, "DeleteFlowLogs", &form, 0, NULL);
    np_buf_clean_up(&form);
    return rc;
}
