/*
 * netposturectl render terraform: postures as Terraform HCL for teams that apply changes through
 * their IaC pipeline. A SecurityGroupPosture becomes an aws_security_group and one
 * aws_vpc_security_group_{ingress,egress}_rule per atomic rule (pkg/posture's expansion: the
 * same rules the controller converges on); a VPCPosture its aws_vpc, subnets, route tables with
 * routes and associations, network ACLs with rules, flow log and default security group.
 * --import-blocks adds import {} blocks for the ids the postures name.
 */
#include "cli/private/cli_private.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- HCL writing */

/* A quoted HCL string: `"` and `\` escaped, control characters as \n, \t, \r or \uXXXX, and
 * template introducers ${ and %{ doubled so nothing is interpolated. */
static void hcl_string(struct np_buf *b, const char *s)
{
    np_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            np_buf_appendf(b, "\\%c", *p);
        else if (*p == '\n')
            np_buf_puts(b, "\\n");
        else if (*p == '\t')
            np_buf_puts(b, "\\t");
        else if (*p == '\r')
            np_buf_puts(b, "\\r");
        else if (*p < 0x20 || *p == 0x7f)
            np_buf_appendf(b, "\\u%04x", *p);
        else if ((*p == '$' || *p == '%') && p[1] == '{')
            np_buf_appendf(b, "%c%c", *p, *p);
        else
            np_buf_putc(b, (char)*p);
    }
    np_buf_putc(b, '"');
}

/* A Terraform identifier from a name: letters, digits, '_' and '-'; others as '_'; a leading
 * digit or '-' gets a '_' before it. */
static void ident(struct np_buf *b, const char *name)
{
    if (!name || !*name || (*name >= '0' && *name <= '9') || *name == '-')
        np_buf_putc(b, '_');
    for (const char *p = name ? name : ""; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
        np_buf_putc(b, ok ? *p : '_');
    }
}

/* `resource "type" "<ident(a)>[_<ident(b)>][_<suffix>]" {` */
static void open_resource(struct np_buf *b, const char *type, const char *a, const char *bname,
                          const char *suffix)
{
    np_buf_appendf(b, "resource \"%s\" \"", type);
    ident(b, a);
    if (bname) {
        np_buf_putc(b, '_');
        ident(b, bname);
    }
    if (suffix)
        np_buf_appendf(b, "_%s", suffix);
    np_buf_puts(b, "\" {\n");
}

static void close_block(struct np_buf *b)
{
    np_buf_puts(b, "}\n\n");
}

static void attr_str(struct np_buf *b, const char *key, const char *value)
{
    if (!value)
        return;
    np_buf_appendf(b, "  %s = ", key);
    hcl_string(b, value);
    np_buf_putc(b, '\n');
}

static void attr_int(struct np_buf *b, const char *key, int value)
{
    np_buf_appendf(b, "  %s = %d\n", key, value);
}

static void attr_bool(struct np_buf *b, const char *key, bool value)
{
    np_buf_appendf(b, "  %s = %s\n", key, value ? "true" : "false");
}

/* `key = <type>.<ident(a)>[_<ident(b)>].id` */
static void attr_ref(struct np_buf *b, const char *key, const char *type, const char *a,
                     const char *bname)
{
    np_buf_appendf(b, "  %s = %s.", key, type);
    ident(b, a);
    if (bname) {
        np_buf_putc(b, '_');
        ident(b, bname);
    }
    np_buf_puts(b, ".id\n");
}

static void attr_tags(struct np_buf *b, const struct np_posture_tag *tags, size_t n)
{
    if (n == 0)
        return;
    np_buf_puts(b, "  tags = {\n");
    for (size_t i = 0; i < n; i++) {
        np_buf_puts(b, "    ");
        hcl_string(b, tags[i].key);
        np_buf_puts(b, " = ");
        hcl_string(b, tags[i].value);
        np_buf_putc(b, '\n');
    }
    np_buf_puts(b, "  }\n");
}

/* `import { to = <type>.<ident(a)>[_<ident(b)>]  id = "<id>" }` when id is known. */
static void import_block(struct np_buf *b, const char *type, const char *a, const char *bname,
                         const char *id)
{
    if (np_str_is_empty(id))
        return;
    np_buf_appendf(b, "import {\n  to = %s.", type);
    ident(b, a);
    if (bname) {
        np_buf_putc(b, '_');
        ident(b, bname);
    }
    np_buf_puts(b, "\n  id = ");
    hcl_string(b, id);
    np_buf_puts(b, "\n}\n\n");
}

/* ---------------------------------------------------------------- security groups */

/* The peer of an atomic rule as its rule-resource attribute. */
static void rule_peer(struct np_buf *b, const struct np_posture_rule *r)
{
    switch (r->peer_kind) {
    case NP_POSTURE_PEER_CIDR4: attr_str(b, "cidr_ipv4", r->peer); break;
    case NP_POSTURE_PEER_CIDR6: attr_str(b, "cidr_ipv6", r->peer); break;
    case NP_POSTURE_PEER_PREFIX_LIST: attr_str(b, "prefix_list_id", r->peer); break;
    case NP_POSTURE_PEER_GROUP: attr_str(b, "referenced_security_group_id", r->peer); break;
    default:
        attr_ref(b, "referenced_security_group_id", "aws_security_group", r->peer, NULL);
        break;
    }
}

static void render_rule(struct np_buf *b, const char *sg, const struct np_posture_rule *r,
                        size_t index)
{
    bool eg = r->direction == NP_POSTURE_EGRESS;
    char suffix[32];
    snprintf(suffix, sizeof(suffix), "%s_%zu", eg ? "egress" : "ingress", index);
    open_resource(b,
                  eg ? "aws_vpc_security_group_egress_rule" : "aws_vpc_security_group_ingress_rule",
                  sg, NULL, suffix);
    attr_ref(b, "security_group_id", "aws_security_group", sg, NULL);
    attr_str(b, "ip_protocol", r->protocol);
    if (np_posture_protocol_has_ports(r->protocol)) {
        attr_int(b, "from_port", r->from_port);
        attr_int(b, "to_port", r->to_port);
    }
    rule_peer(b, r);
    attr_str(b, "description", r->description);
    close_block(b);
}

static void render_sg(struct np_buf *b, const char *name, const struct np_posture_sg_spec *s,
                      const struct np_posture_ruleset *rules)
{
    open_resource(b, "aws_security_group", name, NULL, NULL);
    attr_str(b, "name", s->group_name);
    attr_str(b, "description", s->description);
    if (s->vpc_ref)
        attr_ref(b, "vpc_id", "aws_vpc", s->vpc_ref, NULL);
    else
        attr_str(b, "vpc_id", s->vpc_id);
    attr_tags(b, s->tags, s->n_tags);
    close_block(b);
    size_t n_in = 0, n_out = 0;
    for (size_t i = 0; i < rules->n; i++) {
        bool eg = rules->rules[i].direction == NP_POSTURE_EGRESS;
        render_rule(b, name, &rules->rules[i], eg ? n_out++ : n_in++);
    }
}

static int render_sgp(struct np_buf *b, json_object *obj, bool imports)
{
    const char *name = np_json_path_str(obj, "metadata", "name", NP_JSON_END);
    struct np_posture_sg_spec *spec = NULL;
    struct np_posture_ruleset rules = {0};
    int rc = np_posture_sg_spec_parse(&spec, np_json_path(obj, "spec", NP_JSON_END));
    if (rc == 0)
        rc = np_posture_desired(&rules, spec);
    if (rc == 0 && imports)
        import_block(b, "aws_security_group", name, NULL,
                     spec->management.group_id
                         ? spec->management.group_id
                         : np_json_path_str(obj, "status", "groupId", NP_JSON_END));
    if (rc == 0)
        render_sg(b, name, spec, &rules);
    np_posture_ruleset_clean_up(&rules);
    np_posture_sg_spec_destroy(spec);
    return rc;
}

/* ---------------------------------------------------------------- VPCs */

static void render_vpc_itself(struct np_buf *b, const char *vpc,
                              const struct np_posture_vpc_spec *s)
{
    open_resource(b, "aws_vpc", vpc, NULL, NULL);
    attr_str(b, "cidr_block", s->cidr_block);
    if (s->has_enable_dns_support)
        attr_bool(b, "enable_dns_support", s->enable_dns_support);
    if (s->has_enable_dns_hostnames)
        attr_bool(b, "enable_dns_hostnames", s->enable_dns_hostnames);
    attr_tags(b, s->tags, s->n_tags);
    close_block(b);
}

static void render_subnet(struct np_buf *b, const char *vpc, const struct np_posture_subnet_spec *s)
{
    open_resource(b, "aws_subnet", vpc, s->name, NULL);
    attr_ref(b, "vpc_id", "aws_vpc", vpc, NULL);
    attr_str(b, "cidr_block", s->cidr_block);
    attr_str(b, "availability_zone", s->availability_zone);
    if (s->has_map_public_ip)
        attr_bool(b, "map_public_ip_on_launch", s->map_public_ip);
    attr_tags(b, s->tags, s->n_tags);
    close_block(b);
}

/* The aws_route attribute of a target kind. */
static const char *route_target_attr(enum np_posture_route_target t)
{
    static const char *const attrs[] = {"gateway_id",
                                        "nat_gateway_id",
                                        "transit_gateway_id",
                                        "vpc_peering_connection_id",
                                        "egress_only_gateway_id",
                                        "carrier_gateway_id",
                                        "local_gateway_id",
                                        "core_network_arn",
                                        "instance_id",
                                        "network_interface_id"};
    return (size_t)t < NP_ARRAY_LEN(attrs) ? attrs[t] : "gateway_id";
}

/* `key = <type>.<vpc>_<piece>.id` for a piece of this VPC. */
static void attr_piece_ref(struct np_buf *b, const char *key, const char *type, const char *vpc,
                           const char *piece)
{
    np_buf_appendf(b, "  %s = %s.", key, type);
    ident(b, vpc);
    np_buf_putc(b, '_');
    ident(b, piece);
    np_buf_puts(b, ".id\n");
}

static void render_route(struct np_buf *b, const char *vpc, const char *rt,
                         const struct np_posture_route *r, size_t index)
{
    static const char *const dests[] = {"destination_cidr_block", "destination_ipv6_cidr_block",
                                        "destination_prefix_list_id"};
    char suffix[32];
    snprintf(suffix, sizeof(suffix), "route_%zu", index);
    open_resource(b, "aws_route", vpc, rt, suffix);
    attr_piece_ref(b, "route_table_id", "aws_route_table", vpc, rt);
    attr_str(b, (size_t)r->dest_kind < NP_ARRAY_LEN(dests) ? dests[r->dest_kind] : dests[0],
             r->destination);
    attr_str(b, route_target_attr(r->target_kind), r->target);
    close_block(b);
}

static void render_route_table(struct np_buf *b, const char *vpc,
                               const struct np_posture_route_table_spec *t)
{
    open_resource(b, "aws_route_table", vpc, t->name, NULL);
    attr_ref(b, "vpc_id", "aws_vpc", vpc, NULL);
    attr_tags(b, t->tags, t->n_tags);
    close_block(b);
    for (size_t i = 0; i < t->n_routes; i++)
        render_route(b, vpc, t->name, &t->routes[i], i);
    for (size_t i = 0; i < t->n_subnets; i++) {
        struct np_buf suffix = NP_BUF_INIT;
        ident(&suffix, t->subnets[i]);
        open_resource(b, "aws_route_table_association", vpc, t->name, np_buf_cstr(&suffix));
        attr_piece_ref(b, "subnet_id", "aws_subnet", vpc, t->subnets[i]);
        attr_piece_ref(b, "route_table_id", "aws_route_table", vpc, t->name);
        close_block(b);
        np_buf_clean_up(&suffix);
    }
}

static void render_nacl_entry(struct np_buf *b, const char *vpc, const char *acl,
                              const struct np_posture_nacl_entry *e)
{
    char suffix[32];
    snprintf(suffix, sizeof(suffix), "%s_%d", e->egress ? "egress" : "ingress", e->rule_number);
    open_resource(b, "aws_network_acl_rule", vpc, acl, suffix);
    attr_piece_ref(b, "network_acl_id", "aws_network_acl", vpc, acl);
    attr_int(b, "rule_number", e->rule_number);
    attr_bool(b, "egress", e->egress);
    attr_str(b, "protocol", e->protocol);
    attr_str(b, "rule_action", e->allow ? "allow" : "deny");
    attr_str(b, e->ipv6 ? "ipv6_cidr_block" : "cidr_block", e->cidr);
    if (strcmp(e->protocol, "tcp") == 0 || strcmp(e->protocol, "udp") == 0) {
        attr_int(b, "from_port", e->from_port);
        attr_int(b, "to_port", e->to_port);
    } else if (strcmp(e->protocol, "icmp") == 0 || strcmp(e->protocol, "icmpv6") == 0) {
        attr_int(b, "icmp_type", e->icmp_type);
        attr_int(b, "icmp_code", e->icmp_code);
    }
    close_block(b);
}

static void render_nacl(struct np_buf *b, const char *vpc,
                        const struct np_posture_network_acl_spec *a)
{
    open_resource(b, "aws_network_acl", vpc, a->name, NULL);
    attr_ref(b, "vpc_id", "aws_vpc", vpc, NULL);
    if (a->n_subnets > 0) {
        np_buf_puts(b, "  subnet_ids = [\n");
        for (size_t i = 0; i < a->n_subnets; i++) {
            np_buf_puts(b, "    aws_subnet.");
            ident(b, vpc);
            np_buf_putc(b, '_');
            ident(b, a->subnets[i]);
            np_buf_puts(b, ".id,\n");
        }
        np_buf_puts(b, "  ]\n");
    }
    attr_tags(b, a->tags, a->n_tags);
    close_block(b);
    for (size_t i = 0; i < a->n_entries; i++)
        render_nacl_entry(b, vpc, a->name, &a->entries[i]);
}

static void render_vpc_extras(struct np_buf *b, const char *vpc,
                              const struct np_posture_vpc_spec *s)
{
    if (s->has_flow_logs && s->flow_logs.enabled) {
        open_resource(b, "aws_flow_log", vpc, NULL, NULL);
        attr_ref(b, "vpc_id", "aws_vpc", vpc, NULL);
        attr_str(b, "traffic_type", s->flow_logs.traffic_type);
        attr_str(b, "log_destination_type", s->flow_logs.destination_type);
        attr_str(b, "log_destination", s->flow_logs.destination);
        attr_str(b, "iam_role_arn", s->flow_logs.deliver_logs_permission_arn);
        close_block(b);
    }
    if (s->restrict_default_sg) { /* no rule blocks: Terraform removes every rule */
        open_resource(b, "aws_default_security_group", vpc, NULL, NULL);
        attr_ref(b, "vpc_id", "aws_vpc", vpc, NULL);
        close_block(b);
    }
}

/* import {} blocks for the VPC and the pieces the spec adopts by id. */
static void vpc_imports(struct np_buf *b, const char *vpc, const struct np_posture_vpc_spec *s,
                        json_object *obj)
{
    import_block(b, "aws_vpc", vpc, NULL,
                 s->management.vpc_id ? s->management.vpc_id
                                      : np_json_path_str(obj, "status", "vpcId", NP_JSON_END));
    for (size_t i = 0; i < s->n_subnets; i++)
        import_block(b, "aws_subnet", vpc, s->subnets[i].name, s->subnets[i].subnet_id);
    for (size_t i = 0; i < s->n_route_tables; i++)
        import_block(b, "aws_route_table", vpc, s->route_tables[i].name,
                     s->route_tables[i].route_table_id);
    for (size_t i = 0; i < s->n_network_acls; i++)
        import_block(b, "aws_network_acl", vpc, s->network_acls[i].name,
                     s->network_acls[i].network_acl_id);
}

static int render_vpcp(struct np_buf *b, json_object *obj, bool imports)
{
    const char *vpc = np_json_path_str(obj, "metadata", "name", NP_JSON_END);
    struct np_posture_vpc_spec *s = NULL;
    int rc = np_posture_vpc_spec_parse(&s, np_json_path(obj, "spec", NP_JSON_END));
    if (rc)
        return rc;
    if (imports)
        vpc_imports(b, vpc, s, obj);
    render_vpc_itself(b, vpc, s);
    for (size_t i = 0; i < s->n_subnets; i++)
        render_subnet(b, vpc, &s->subnets[i]);
    for (size_t i = 0; i < s->n_route_tables; i++)
        render_route_table(b, vpc, &s->route_tables[i]);
    for (size_t i = 0; i < s->n_network_acls; i++)
        render_nacl(b, vpc, &s->network_acls[i]);
    render_vpc_extras(b, vpc, s);
    np_posture_vpc_spec_destroy(s);
    return 0;
}

/* ---------------------------------------------------------------- the command */

int np_cli_render_terraform(struct np_buf *out, const struct np_cli_docs *docs, bool imports)
{
    int rc = 0;
    size_t rendered = 0;
    for (size_t i = 0; rc == 0 && i < docs->n; i++) {
        json_object *obj = docs->items[i].root;
        const char *kind = np_json_path_str(obj, "kind", NP_JSON_END);
        const char *name = np_json_path_str(obj, "metadata", "name", NP_JSON_END);
        bool sgp = np_str_eq(kind, "SecurityGroupPosture"), vpcp = np_str_eq(kind, "VPCPosture");
        if ((!sgp && !vpcp) || !name)
            continue;
        rc = sgp ? render_sgp(out, obj, imports) : render_vpcp(out, obj, imports);
        if (rc)
            rc = np_error_set(rc, "%s %s: %s", kind, name, np_error_message());
        rendered++;
    }
    if (rc == 0 && rendered == 0)
        rc = np_error_set(NP_EINVAL, "no SecurityGroupPosture or VPCPosture to render");
    return rc;
}

static int run_render(const char *prog, const char *path, bool imports)
{
    char *data = NULL;
    size_t len = 0;
    struct np_cli_docs docs = {0};
    struct np_buf out = NP_BUF_INIT;
    int line = 0, col = 0;
    int rc = np_cli_read_input(&data, &len, path);
    if (rc == 0 && (rc = np_cli_yaml_load(&docs, data, len, &line, &col)) != 0)
        rc = np_error_set(rc, "%s:%d:%d: %s", path, line, col, np_error_message());
    if (rc == 0)
        rc = np_cli_render_terraform(&out, &docs, imports);
    if (rc == 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = np_error_set(NP_EIO, "cannot write the output");
    if (rc)
        np_cli_print_error(prog, "render");
    np_buf_clean_up(&out);
    np_cli_docs_clean_up(&docs);
    free(data);
    return rc ? NP_CLI_EXIT_USAGE : NP_CLI_EXIT_OK;
}

static const char RENDER_USAGE[] =
    "usage: %s render terraform [--import-blocks] FILE | -\n"
    "\n"
    "Writes the postures of FILE as Terraform HCL (hashicorp/aws provider), for teams that\n"
    "apply changes through their IaC pipeline. A SecurityGroupPosture becomes an\n"
    "aws_security_group and one aws_vpc_security_group_ingress_rule / _egress_rule per atomic\n"
    "rule (one protocol, port range and peer: the rules the controller converges on, the AWS\n"
    "default egress included when egress is omitted), with its tags; peers named by posture\n"
    "refer to that posture's aws_security_group. A VPCPosture becomes aws_vpc, aws_subnet,\n"
    "aws_route_table with aws_route and aws_route_table_association, aws_network_acl with\n"
    "aws_network_acl_rule, aws_flow_log and aws_default_security_group (restrictAll).\n"
    "Ownership tags (netposture.dev/) are never written.\n"
    "\n"
    "      --import-blocks     add import {} blocks for the ids the postures name (management\n"
    "                          ids, status.groupId / status.vpcId, adopted pieces)\n"
    "\n"
    "Exit status: 0 written, 2 usage, unreadable file or a posture that does not parse.\n";

int np_cli_cmd_render(const char *prog, int argc, char **argv)
{
    static const struct option longopts[] = {{"import-blocks", no_argument, NULL, 'i'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    bool imports = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fprintf(stdout, RENDER_USAGE, prog);
            return NP_CLI_EXIT_OK;
        }
        if (c != 'i')
            return np_cli_usage_error(prog, "render", "bad option%s", "");
        imports = true;
    }
    if (argc - optind != 2 || strcmp(argv[optind], "terraform") != 0)
        return np_cli_usage_error(prog, "render", "usage: render terraform FILE%s", "");
    return run_render(prog, argv[optind + 1], imports);
}
