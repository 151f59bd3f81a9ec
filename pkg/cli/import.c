/*
 * netposturectl import: baselining. Live security groups become SecurityGroupPostures that
 * adopt them (a VPC becomes a VPCPosture: import_vpc.c) (management.policy: Adopt), in the
 * canonical atomic-rule form (one entry per protocol, port range and peer, as pkg/posture
 * normalises observed rules) with peers, rule descriptions and user tags preserved, so applying the
 * output yields a posture with no drift. Written in Detect mode by default: adopting changes
 * nothing in AWS until the user chooses.
 */
#include "cli/private/cli_private.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 63

/* ---------------------------------------------------------------- the mapping (no I/O) */

/* A DNS-1123 label from a group name: lower case, other characters as '-', trimmed to 63;
 * the group id when nothing is left (owned). */
char *np_cli_import_name(const char *group_name, const char *group_id)
{
    char out[NAME_MAX_LEN + 1];
    size_t n = 0;
    for (const char *p = group_name ? group_name : ""; *p && n < NAME_MAX_LEN; p++) {
        char c = (char)tolower((unsigned char)*p);
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (ok || (n > 0 && out[n - 1] != '-'))
            out[n++] = ok ? c : '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    return np_strdup(n > 0 ? out : group_id);
}

/* The protocol as a posture spells it: "all" for -1, else the canonical name or number. */
static const char *spec_protocol(const char *canonical)
{
    return strcmp(canonical, "-1") == 0 ? "all" : canonical;
}

static void put_int(json_object *o, const char *key, int v)
{
    json_object_object_add(o, key, json_object_new_int(v));
}

/* The one peer of an atomic rule as its list field. */
static void put_peer(json_object *o, const struct np_posture_rule *r)
{
    static const char *const fields[] = {"cidrs", "ipv6Cidrs", "prefixListIds", "securityGroups"};
    json_object *list = json_object_new_array();
    if (r->peer_kind == NP_POSTURE_PEER_GROUP) {
        json_object *g = json_object_new_object();
        np_json_put_str(g, "groupId", r->peer);
        json_object_array_add(list, g);
    } else {
        json_object_array_add(list, json_object_new_string(r->peer));
    }
    size_t k = (size_t)r->peer_kind < NP_ARRAY_LEN(fields) ? (size_t)r->peer_kind : 0;
    json_object_object_add(o, fields[k], list);
}

/* One atomic rule as a spec rule entry: protocol, ports (tcp, udp) or type and code (ICMP),
 * the peer, the description. */
static json_object *rule_entry(const struct np_posture_rule *r)
{
    json_object *o = json_object_new_object();
    np_json_put_str(o, "protocol", spec_protocol(r->protocol));
    bool icmp = strcmp(r->protocol, "icmp") == 0 || strcmp(r->protocol, "icmpv6") == 0;
    if (np_posture_protocol_has_ports(r->protocol) && (!icmp || r->from_port != -1)) {
        put_int(o, "fromPort", r->from_port);
        put_int(o, "toPort", r->to_port);
    }
    put_peer(o, r);
    if (!np_str_is_empty(r->description))
        np_json_put_str(o, "description", r->description);
    return o;
}

/* spec.ingress and spec.egress from the group's rules (both always written: an absent egress
 * would mean AWS's default, an empty one none). */
static void put_rules(json_object *spec, const struct np_aws_sg *sg)
{
    struct np_posture_ruleset rules = {0};
    np_observe_sg_rules(sg, &rules);
    json_object *in = json_object_new_array(), *out = json_object_new_array();
    for (size_t i = 0; i < rules.n; i++)
        json_object_array_add(rules.rules[i].direction == NP_POSTURE_EGRESS ? out : in,
                              rule_entry(&rules.rules[i]));
    json_object_object_add(spec, "ingress", in);
    json_object_object_add(spec, "egress", out);
    np_posture_ruleset_clean_up(&rules);
}

json_object *np_cli_user_tags(const struct np_aws_tag *tags, size_t n)
{
    json_object *o = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!tags[i].key || np_posture_tag_is_reserved(tags[i].key))
            continue;
        if (!o)
            o = json_object_new_object();
        np_json_put_str(o, tags[i].key, tags[i].value ? tags[i].value : "");
    }
    return o;
}

json_object *np_cli_new_object(const char *kind, const char *name, const char *ns)
{
    json_object *obj = json_object_new_object(), *meta = json_object_new_object();
    np_json_put_str(obj, "apiVersion", "netposture.dev/v1alpha1");
    np_json_put_str(obj, "kind", kind);
    np_json_put_str(meta, "name", name);
    np_json_put_str(meta, "namespace", ns);
    json_object_object_add(obj, "metadata", meta);
    return obj;
}

json_object *np_cli_import_sg(const struct np_aws_sg *sg, const struct np_cli_import_opts *o)
{
    char *name = o->name ? np_strdup(o->name) : np_cli_import_name(sg->group_name, sg->group_id);
    json_object *obj = np_cli_new_object("SecurityGroupPosture", name, o->ns);
    json_object *spec = json_object_new_object();
    np_json_put_str(spec, "region", o->region);
    np_json_put_str(spec, "vpcId", sg->vpc_id);
    np_json_put_str(spec, "groupName", sg->group_name);
    if (!np_str_is_empty(sg->description))
        np_json_put_str(spec, "description", sg->description);
    json_object *tags = np_cli_user_tags(sg->tags, sg->n_tags);
    if (tags)
        json_object_object_add(spec, "tags", tags);
    put_rules(spec, sg);
    json_object *mgmt = json_object_new_object();
    np_json_put_str(mgmt, "policy", "Adopt");
    np_json_put_str(mgmt, "groupId", sg->group_id);
    json_object_object_add(spec, "management", mgmt);
    json_object *rem = json_object_new_object();
    np_json_put_str(rem, "mode", o->mode ? o->mode : "Detect");
    json_object_object_add(spec, "remediation", rem);
    json_object_object_add(obj, "spec", spec);
    free(name);
    return obj;
}

/* ---------------------------------------------------------------- reading AWS */

int np_cli_check_import_owner(const char *owner, const char *noun, const char *id, const char *ns,
                              const char *name)
{
    char *self = np_strdupf("%s/%s", ns, name);
    bool other = owner && strcmp(owner, self) != 0;
    free(self);
    if (other)
        return np_error_set(NP_EDENIED,
                            "%s %s is owned by the posture %s (tag %s): a posture may not adopt it",
                            noun, id, owner, NP_POSTURE_TAG_OWNER);
    return 0;
}

/* Appends the posture of one group to items (after the ownership check). */
static int import_group(const struct np_aws_sg *sg, const struct np_cli_import_opts *o,
                        json_object *items)
{
    char *name = o->name ? np_strdup(o->name) : np_cli_import_name(sg->group_name, sg->group_id);
    int rc = np_cli_check_import_owner(np_aws_tag_get(sg->tags, sg->n_tags, NP_POSTURE_TAG_OWNER),
                                       "security group", sg->group_id, o->ns, name);
    free(name);
    if (rc == 0)
        json_object_array_add(items, np_cli_import_sg(sg, o));
    return rc;
}

/* --group-id: exactly the group asked for. */
static int import_group_id(struct np_aws_ec2 *ec2, const struct np_cli_import_opts *o,
                           json_object *items)
{
    struct np_aws_sg *sg = NULL;
    int rc = np_cli_describe_group(ec2, o->group_id, &sg);
    if (rc == 0)
        rc = import_group(sg, o, items);
    np_aws_sg_free(sg);
    return rc;
}

/* --vpc-id --all-in-vpc: every group of the VPC but its default group (the VPCPosture's
 * defaultSecurityGroup) and those another posture owns (skipped with a note), each named after
 * its group. */
static int import_vpc_groups(struct np_aws_ec2 *ec2, const struct np_cli_import_opts *o,
                             json_object *items)
{
    const char *vpcs[] = {o->vpc_id};
    struct np_aws_filter f = {"vpc-id", vpcs, 1};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    int rc = np_aws_ec2_describe_security_groups(ec2, &sgs, &n, &f, 1, NULL, 0);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!np_str_eq(sgs[i].vpc_id, o->vpc_id) || np_str_eq(sgs[i].group_name, "default"))
            continue;
        rc = import_group(&sgs[i], o, items);
        if (rc == NP_EDENIED) { /* managed already: the others are still imported */
            fprintf(stderr, "skipped: %s\n", np_error_message());
            rc = 0;
        }
    }
    np_aws_sgs_free(sgs, n);
    return rc;
}

/* ---------------------------------------------------------------- checking */

int np_cli_import_validate(json_object *items, const char *ns)
{
    struct np_cli_validator *v = NULL;
    struct np_cli_findings f = {0};
    int rc = np_cli_validator_new(&v);
    for (size_t i = 0; rc == 0 && i < np_cli_len(items); i++) {
        const char *text = json_object_to_json_string_ext(json_object_array_get_idx(items, i),
                                                          JSON_C_TO_STRING_PLAIN);
        np_cli_validate_text(v, "(import)", text, strlen(text), ns, &f);
    }
    for (size_t i = 0; rc == 0 && i < f.n; i++)
        if (f.items[i].severity == NP_CLI_ERROR) {
            char *line = np_cli_finding_text(&f.items[i]);
            rc = np_error_set(NP_EINVAL,
                              "the posture written would be refused (nothing printed): %s; "
                              "declare this resource by hand or leave it out",
                              line);
            free(line);
        }
    np_cli_findings_clean_up(&f);
    np_cli_validator_destroy(v);
    return rc;
}

/* ---------------------------------------------------------------- output */

/* YAML: one document per posture; JSON: a v1 List, both as kubectl apply reads them. */
static int print_items(json_object *items, enum np_cli_format fmt)
{
    if (fmt == NP_CLI_JSON) {
        json_object *list = json_object_new_object();
        np_json_put_str(list, "apiVersion", "v1");
        np_json_put_str(list, "kind", "List");
        json_object_object_add(list, "items", json_object_get(items));
        int rc = np_cli_print_data(stdout, list, fmt);
        json_object_put(list);
        return rc;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < np_cli_len(items); i++) {
        if (i > 0)
            fputs("---\n", stdout);
        rc = np_cli_print_data(stdout, json_object_array_get_idx(items, i), NP_CLI_YAML);
    }
    return rc;
}

static int run_import(const char *prog, const struct np_cli_import_opts *o,
                      const struct np_cli_aws_opts *aws)
{
    struct np_aws_ec2 *ec2 = NULL;
    json_object *items = json_object_new_array();
    struct np_cli_import_opts io = *o;
    int rc = np_cli_ec2_new(&ec2, aws, NULL);
    if (rc == 0) {
        io.region = np_aws_ec2_region(ec2);
        rc = o->group_id ? import_group_id(ec2, &io, items) : np_cli_import_vpc_id(ec2, &io, items);
        if (rc == NP_EDENIED && o->all_in_vpc) { /* managed already: its groups still come */
            fprintf(stderr, "skipped: %s\n", np_error_message());
            rc = 0;
        }
        /* the groups' postures name their own, so a VPC's name never passes to them */
        io.name = NULL;
        if (rc == 0 && o->all_in_vpc)
            rc = import_vpc_groups(ec2, &io, items);
        if (rc == 0)
            rc = np_cli_import_validate(items, o->ns);
    }
    if (rc == 0)
        rc = print_items(items, o->format);
    if (rc)
        fprintf(stderr, "%s import: %s\n", prog, np_error_message());
    json_object_put(items);
    np_aws_ec2_destroy(ec2);
    return rc ? NP_CLI_EXIT_USAGE : NP_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- options */

static const char IMPORT_USAGE[] =
    "usage: %s import --group-id sg-... [--name NAME] [options]\n"
    "       %s import --vpc-id vpc-... [--name NAME] [--all-in-vpc] [options]\n"
    "\n"
    "Reads live resources and writes postures that adopt them (management.policy: Adopt).\n"
    "--group-id: a SecurityGroupPosture, every rule in the canonical atomic form (one protocol,\n"
    "port range and peer per entry) with its peer and description, the group's user tags, its\n"
    "VPC and region. --vpc-id: a VPCPosture, the VPC's CIDR, DNS attributes and user tags and\n"
    "every piece by id: subnets, route tables (routes and subnet associations), network ACLs\n"
    "(entries and associations), the first active flow log, and defaultSecurityGroup.restrictAll\n"
    "when the default group has no rule; pieces are named after their Name tag, else their id\n"
    "(\"main\" and \"default\" for the main route table and default ACL). With --all-in-vpc,\n"
    "also every security group of the VPC except its default group, each named after its group\n"
    "name (groups other postures own are skipped with a note on stderr).\n"
    "Applied as written, a posture is Ready with no drift and the controller makes no change in\n"
    "AWS: the mode is Detect unless --mode says otherwise (Enforce tags what it adopts on its\n"
    "first pass). A group or VPC another posture owns is refused.\n"
    "\n"
    "  -o, --output FORMAT     yaml (default; text is the same) or json (a v1 List)\n"
    "  -n, --namespace NS      the postures' namespace (default \"default\")\n"
    "      --name NAME         the posture's name (default: the group's name or the VPC's Name\n"
    "                          tag as a DNS label, else its id)\n"
    "      --mode MODE         Detect (default), Propose or Enforce\n"
    "      --region REGION     default AWS_REGION, AWS_DEFAULT_REGION\n"
    "      --endpoint-url URL  the EC2 endpoint (default: AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL)\n"
    "\n"
    "Exit status: 0 written, 2 usage, AWS error, a group or VPC missing or owned by another\n"
    "posture.\n";

static bool mode_ok(const char *m)
{
    return np_str_eq(m, "Detect") || np_str_eq(m, "Propose") || np_str_eq(m, "Enforce");
}

/* Checks the combination of options; returns -1 when they are fine. */
static int check_import_opts(const char *prog, const struct np_cli_import_opts *o, int extra)
{
    if (extra > 0)
        return np_cli_usage_error(prog, "import", "unexpected argument%s", "");
    if (!o->group_id == !o->vpc_id)
        return np_cli_usage_error(prog, "import", "give --group-id or --vpc-id%s", "");
    if (o->group_id && o->all_in_vpc)
        return np_cli_usage_error(prog, "import", "--all-in-vpc goes with --vpc-id%s", "");
    if (o->mode && !mode_ok(o->mode))
        return np_cli_usage_error(prog, "import", "--mode %s: use Detect, Propose or Enforce",
                                  o->mode);
    return -1;
}

int np_cli_cmd_import(const char *prog, int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"namespace", required_argument, NULL, 'n'},
                                             {"group-id", required_argument, NULL, 'g'},
                                             {"vpc-id", required_argument, NULL, 'v'},
                                             {"all-in-vpc", no_argument, NULL, 'a'},
                                             {"name", required_argument, NULL, 'N'},
                                             {"mode", required_argument, NULL, 'm'},
                                             {"region", required_argument, NULL, 'r'},
                                             {"endpoint-url", required_argument, NULL, 'e'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct np_cli_import_opts o = {.ns = "default", .format = NP_CLI_YAML};
    struct np_cli_aws_opts aws = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "o:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o.ns = optarg; break;
        case 'g': o.group_id = optarg; break;
        case 'v': o.vpc_id = optarg; break;
        case 'a': o.all_in_vpc = true; break;
        case 'N': o.name = optarg; break;
        case 'm': o.mode = optarg; break;
        case 'r': aws.region = optarg; break;
        case 'e': aws.endpoint = optarg; break;
        case 'h': fprintf(stdout, IMPORT_USAGE, prog, prog); return NP_CLI_EXIT_OK;
        case 'o':
            if (np_cli_format_parse(&o.format, optarg) == 0)
                break;
            return np_cli_usage_error(prog, "import", "%s", np_error_message());
        default: return np_cli_usage_error(prog, "import", "bad option%s", "");
        }
    }
    int rc = check_import_opts(prog, &o, argc - optind);
    return rc >= 0 ? rc : run_import(prog, &o, &aws);
}
