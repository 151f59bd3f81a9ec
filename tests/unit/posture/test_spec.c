/*
 * SecurityGroupPosture spec parsing: defaults, every field of the README's SecurityGroupPosture
 * reference, egress omitted vs [], and a table of invalid specs with the exact message (which names
 * the field path).
 */
#include "posture_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_spec, .fini = t_leak_check);

Test(posture_spec, defaults)
{
    struct np_posture_sg_spec *s = t_spec("{'groupName':'g'}");
    cr_assert_str_eq(s->account_ref, "default");
    cr_assert_null(s->region);
    cr_assert_null(s->vpc_id);
    cr_assert_null(s->vpc_ref);
    cr_assert_str_eq(s->group_name, "g");
    cr_assert_str_eq(s->description, "Managed by netposture");
    cr_assert_eq(s->n_tags, 0);
    cr_assert_eq(s->n_ingress, 0);
    cr_assert_eq(s->n_egress, 0);
    cr_assert(s->egress_omitted);
    cr_assert_eq(s->ownership, NP_POSTURE_EXCLUSIVE);
    cr_assert_eq(s->management.policy, NP_POSTURE_MANAGEMENT_CREATE);
    cr_assert_null(s->management.group_id);
    cr_assert_eq(s->management.deletion_policy, NP_POSTURE_DELETION_UNSET);
    cr_assert_eq(s->remediation.mode, NP_POSTURE_MODE_ENFORCE);
    cr_assert_eq(s->remediation.grace_ms, 0);
    cr_assert_eq(s->remediation.max_changes.subtractive, 20);
    cr_assert_eq(s->remediation.max_changes.total, 0);
    cr_assert_eq(s->remediation.n_exceptions, 0);
    np_posture_sg_spec_destroy(s);
}

Test(posture_spec, every_field)
{
    struct np_posture_sg_spec *s = t_spec(
        "{'accountRef':{'name':'prod'},'region':'eu-west-1','vpcRef':{'name':'main'},"
        "'groupName':'shop-web','description':'web tier','tags':{'team':'shop','env':'prod'},"
        "'ingress':[{'protocol':'TCP','fromPort':443,'toPort':443,'cidrs':['10.1.2.3/8'],"
        "'ipv6Cidrs':['2001:DB8::/32'],'prefixListIds':['pl-0abc1234'],"
        "'securityGroups':[{'groupId':'sg-0def1234'},{'name':'db'}],'description':'https'},"
        "{'protocol':'icmp','fromPort':8,'cidrs':['10.0.0.0/8']}],"
        "'egress':[],'ownership':'Additive',"
        "'management':{'policy':'Adopt','groupId':'sg-0123abcd','deletionPolicy':'Delete'},"
        "'remediation':{'mode':'Propose','gracePeriod':'1m30s','maxChangesPerSync':5,"
        "'exceptions':[{'rule':{'direction':'ingress','protocol':'tcp','fromPort':22,"
        "'toPort':22,'cidrs':['203.0.113.7/32'],'ipv6Cidrs':['2001:db8::1/128']},"
        "'actors':['arn:aws:sts::*:assumed-role/break-glass/*'],"
        "'expires':'2026-12-01T00:00:00Z'},{'rule':{'direction':'egress'}}]}}");
    cr_assert_str_eq(s->account_ref, "prod");
    cr_assert_str_eq(s->region, "eu-west-1");
    cr_assert_str_eq(s->vpc_ref, "main");
    cr_assert_str_eq(s->group_name, "shop-web");
    cr_assert_str_eq(s->description, "web tier");
    cr_assert_eq(s->n_tags, 2);
    cr_assert_str_eq(s->tags[0].key, "env", "tags are sorted by key");
    cr_assert_str_eq(s->tags[0].value, "prod");
    cr_assert_str_eq(s->tags[1].key, "team");
    cr_assert_str_eq(s->tags[1].value, "shop");

    cr_assert_eq(s->n_ingress, 2);
    const struct np_posture_rule_spec *r = &s->ingress[0];
    cr_assert_str_eq(r->protocol, "TCP", "kept as declared; np_posture_desired canonicalises");
    cr_assert(r->has_from_port && r->has_to_port);
    cr_assert_eq(r->from_port, 443);
    cr_assert_eq(r->to_port, 443);
    cr_assert_eq(r->n_cidrs, 1);
    cr_assert_str_eq(r->cidrs[0], "10.1.2.3/8");
    cr_assert_eq(r->n_ipv6_cidrs, 1);
    cr_assert_str_eq(r->ipv6_cidrs[0], "2001:DB8::/32");
    cr_assert_eq(r->n_prefix_list_ids, 1);
    cr_assert_str_eq(r->prefix_list_ids[0], "pl-0abc1234");
    cr_assert_eq(r->n_security_groups, 2);
    cr_assert_str_eq(r->security_groups[0].group_id, "sg-0def1234");
    cr_assert_null(r->security_groups[0].name);
    cr_assert_null(r->security_groups[1].group_id);
    cr_assert_str_eq(r->security_groups[1].name, "db");
    cr_assert_str_eq(r->description, "https");
    r = &s->ingress[1];
    cr_assert(r->has_from_port);
    cr_assert_not(r->has_to_port);
    cr_assert_null(r->description);

    cr_assert_eq(s->n_egress, 0);
    cr_assert_not(s->egress_omitted, "egress: [] is not omitted");
    cr_assert_eq(s->ownership, NP_POSTURE_ADDITIVE);
    cr_assert_eq(s->management.policy, NP_POSTURE_MANAGEMENT_ADOPT);
    cr_assert_str_eq(s->management.group_id, "sg-0123abcd");
    cr_assert_eq(s->management.deletion_policy, NP_POSTURE_DELETION_DELETE);
    cr_assert_eq(s->remediation.mode, NP_POSTURE_MODE_PROPOSE);
    cr_assert_eq(s->remediation.grace_ms, 90000);
    cr_assert_eq(s->remediation.max_changes.subtractive, 5);
    cr_assert_eq(s->remediation.max_changes.total, 0);

    cr_assert_eq(s->remediation.n_exceptions, 2);
    const struct np_posture_exception *x = &s->remediation.exceptions[0];
    cr_assert_eq(x->direction, NP_POSTURE_INGRESS);
    cr_assert_str_eq(x->rule.protocol, "tcp");
    cr_assert(x->rule.has_from_port && x->rule.has_to_port);
    cr_assert_eq(x->rule.from_port, 22);
    cr_assert_eq(x->rule.n_cidrs, 1);
    cr_assert_str_eq(x->rule.cidrs[0], "203.0.113.7/32");
    cr_assert_eq(x->rule.n_ipv6_cidrs, 1);
    cr_assert_eq(x->n_actors, 1);
    cr_assert_str_eq(x->actors[0], "arn:aws:sts::*:assumed-role/break-glass/*");
    cr_assert(x->has_expires);
    cr_assert_eq(x->expires_ms, 1796083200000LL);
    x = &s->remediation.exceptions[1];
    cr_assert_eq(x->direction, NP_POSTURE_EGRESS);
    cr_assert_null(x->rule.protocol, "an exception may match any protocol");
    cr_assert_not(x->rule.has_from_port);
    cr_assert_not(x->has_expires);
    np_posture_sg_spec_destroy(s);
}

/* maxChangesPerSync: the plain integer caps subtractive changes; the object form caps either
 * or both; an absent subtractive keeps the default 20. */
Test(posture_spec, max_changes_per_sync_forms)
{
    static const struct {
        const char *value;
        int subtractive, total;
    } cases[] = {
        {"7", 7, 0},
        {"{'subtractive':3}", 3, 0},
        {"{'total':50}", 20, 50},
        {"{'subtractive':3,'total':50}", 3, 50},
        {"{'subtractive':1000,'total':1}", 1000, 1},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        char *json =
            np_strdupf("{'groupName':'g','remediation':{'maxChangesPerSync':%s}}", cases[i].value);
        struct np_posture_sg_spec *s = t_spec(json);
        cr_expect_eq(s->remediation.max_changes.subtractive, cases[i].subtractive, "%s",
                     cases[i].value);
        cr_expect_eq(s->remediation.max_changes.total, cases[i].total, "%s", cases[i].value);
        np_posture_sg_spec_destroy(s);
        free(json);
    }
}

Test(posture_spec, egress_omitted_null_and_empty)
{
    struct {
        const char *spec;
        bool omitted;
        size_t n;
    } cases[] = {
        {"{'groupName':'g'}", true, 0},
        {"{'groupName':'g','egress':null}", true, 0},
        {"{'groupName':'g','egress':[]}", false, 0},
        {"{'groupName':'g','egress':[{'protocol':'all','cidrs':['10.0.0.0/8']}]}", false, 1},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct np_posture_sg_spec *s = t_spec(cases[i].spec);
        cr_expect_eq(s->egress_omitted, cases[i].omitted, "case %zu: %s", i, cases[i].spec);
        cr_expect_eq(s->n_egress, cases[i].n, "case %zu: %s", i, cases[i].spec);
        np_posture_sg_spec_destroy(s);
    }
}

Test(posture_spec, deletion_policy_retain_and_detect)
{
    struct np_posture_sg_spec *s = t_spec("{'groupName':'g','management':{'deletionPolicy':"
                                          "'Retain'},'remediation':{'mode':'Detect'}}");
    cr_assert_eq(s->management.deletion_policy, NP_POSTURE_DELETION_RETAIN);
    cr_assert_eq(s->remediation.mode, NP_POSTURE_MODE_DETECT);
    cr_assert_str_eq(np_posture_mode_name(s->remediation.mode), "Detect");
    cr_assert_str_eq(np_posture_mode_name(NP_POSTURE_MODE_ENFORCE), "Enforce");
    cr_assert_str_eq(np_posture_mode_name(NP_POSTURE_MODE_PROPOSE), "Propose");
    np_posture_sg_spec_destroy(s);
}

#define RULE(extra) "{'groupName':'g','ingress':[{" extra "}]}"
#define TCP_RULE(extra) RULE("'protocol':'tcp','fromPort':1,'toPort':2," extra)
#define EXC(extra) "{'groupName':'g','remediation':{'exceptions':[" extra "]}}"
#define AWS_CHARS "(use letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*)"

static const struct {
    const char *spec;
    const char *message;
} invalid[] = {
    /* the group */
    {"{}", "spec.groupName: required"},
    {"{'groupName':''}", "spec.groupName: required"},
    {"{'groupName':5}", "spec.groupName: must be a string"},
    {"{'groupName':'sg-web'}", "spec.groupName: \"sg-web\" starts with sg- (AWS reserves it)"},
    {"{'groupName':'SG-web'}", "spec.groupName: \"SG-web\" starts with sg- (AWS reserves it)"},
    {"{'groupName':'web<1>'}", "spec.groupName: character '<' is not allowed by AWS " AWS_CHARS},
    {"{'groupName':'g','description':'caf\\u00e9'}",
     "spec.description: byte 0xc3 is not allowed by AWS " AWS_CHARS},
    {"{'groupName':'g','accountRef':'prod'}", "spec.accountRef: must be an object"},
    {"{'groupName':'g','accountRef':{}}", "spec.accountRef.name: required"},
    {"{'groupName':'g','region':7}", "spec.region: must be a string"},
    {"{'groupName':'g','vpcId':'vpc-0abc12345','vpcRef':{'name':'main'}}",
     "spec: set at most one of vpcId and vpcRef"},
    {"{'groupName':'g','vpcId':'subnet-1'}", "spec.vpcId: \"subnet-1\" is not a VPC id (vpc-...)"},
    {"{'groupName':'g','vpcRef':{'name':''}}", "spec.vpcRef.name: required"},
    /* tags */
    {"{'groupName':'g','tags':[]}", "spec.tags: must be an object"},
    {"{'groupName':'g','tags':{'team':5}}", "spec.tags[team]: must be a string"},
    {"{'groupName':'g','tags':{'netposture.dev/owner':'x'}}",
     "spec.tags[netposture.dev/owner]: keys under netposture.dev/ and aws: are reserved for "
     "netposture and AWS"},
    {"{'groupName':'g','tags':{'AWS:cloudformation:stack-name':'x'}}",
     "spec.tags[AWS:cloudformation:stack-name]: keys under netposture.dev/ and aws: are "
     "reserved for netposture and AWS"},
    {"{'groupName':'g','tags':{'':'x'}}", "spec.tags[]: keys must be 1-128 characters"},
    /* rule lists and rules */
    {"{'groupName':'g','ingress':{}}", "spec.ingress: must be a list"},
    {"{'groupName':'g','egress':'none'}", "spec.egress: must be a list"},
    {"{'groupName':'g','ingress':[5]}", "spec.ingress[0]: must be an object"},
    {RULE("'cidrs':['10.0.0.0/8']"), "spec.ingress[0].protocol: required"},
    {RULE("'protocol':'gre','cidrs':['10.0.0.0/8']"),
     "spec.ingress[0].protocol: \"gre\" is not tcp, udp, icmp, icmpv6, all, -1 or a protocol "
     "number 0-255"},
    {RULE("'protocol':'256','cidrs':['10.0.0.0/8']"),
     "spec.ingress[0].protocol: \"256\" is not tcp, udp, icmp, icmpv6, all, -1 or a protocol "
     "number 0-255"},
    {RULE("'protocol':6,'cidrs':['10.0.0.0/8']"), "spec.ingress[0].protocol: must be a string"},
    {"{'groupName':'g','ingress':[{'protocol':'tcp','fromPort':22,'toPort':22,'cidrs':["
     "'10.0.0.0/8']},{'protocol':'udp','fromPort':53,'toPort':53,'cidrs':['10.0.0.0/8']},"
     "{'protocol':'tcp','fromPort':1,'toPort':2,'cidrs':['10.0.0.0/33']}]}",
     "spec.ingress[2].cidrs[0]: \"10.0.0.0/33\" is not a valid IPv4 CIDR"},
    {RULE("'protocol':'tcp','fromPort':80,'toPort':22,'cidrs':['10.0.0.0/8']"),
     "spec.ingress[0]: fromPort 80 > toPort 22"},
    {"{'groupName':'g','egress':[{'protocol':'tcp','fromPort':1,'toPort':2,'cidrs':["
     "'10.0.0.0/8','2001:db8::/32']}]}",
     "spec.egress[0].cidrs[1]: \"2001:db8::/32\" is an IPv6 CIDR; put it in ipv6Cidrs"},
    {TCP_RULE("'ipv6Cidrs':['10.0.0.0/8']"),
     "spec.ingress[0].ipv6Cidrs[0]: \"10.0.0.0/8\" is an IPv4 CIDR; put it in cidrs"},
    {TCP_RULE("'ipv6Cidrs':['2001:db8::g/32']"),
     "spec.ingress[0].ipv6Cidrs[0]: \"2001:db8::g/32\" is not a valid IPv6 CIDR"},
    {TCP_RULE("'ipv6Cidrs':['2001:db8::/129']"),
     "spec.ingress[0].ipv6Cidrs[0]: \"2001:db8::/129\" is not a valid IPv6 CIDR"},
    {TCP_RULE("'cidrs':['10.0.0.1']"), "spec.ingress[0].cidrs[0]: \"10.0.0.1\" is not a valid "
                                       "IPv4 CIDR"},
    {TCP_RULE("'cidrs':['10.0.0/8']"), "spec.ingress[0].cidrs[0]: \"10.0.0/8\" is not a valid "
                                       "IPv4 CIDR"},
    {TCP_RULE("'cidrs':['10.0.0.0/+8']"), "spec.ingress[0].cidrs[0]: \"10.0.0.0/+8\" is not a "
                                          "valid IPv4 CIDR"},
    {TCP_RULE("'cidrs':[8]"), "spec.ingress[0].cidrs[0]: must be a string"},
    {TCP_RULE("'cidrs':'10.0.0.0/8'"), "spec.ingress[0].cidrs: must be a list"},
    {RULE("'protocol':'udp','cidrs':['10.0.0.0/8']"),
     "spec.ingress[0]: udp rules need fromPort and toPort"},
    {RULE("'protocol':'6','fromPort':22,'cidrs':['10.0.0.0/8']"),
     "spec.ingress[0]: tcp rules need fromPort and toPort"},
    {RULE("'protocol':'tcp','fromPort':-1,'toPort':22,'cidrs':['10.0.0.0/8']"),
     "spec.ingress[0].fromPort: -1 is not a tcp port (0-65535)"},
    {RULE("'protocol':'tcp','fromPort':70000,'toPort':70000,'cidrs':['10.0.0.0/8']"),
     "spec.ingress[0].fromPort: 70000 is out of range -1..65535"},
    {RULE("'protocol':'tcp','fromPort':'80','toPort':80,'cidrs':['10.0.0.0/8']"),
     "spec.ingress[0].fromPort: must be an integer"},
    {RULE("'protocol':'tcp','fromPort':80,'toPort':80.5,'cidrs':['10.0.0.0/8']"),
     "spec.ingress[0].toPort: must be an integer"},
    {RULE("'protocol':'tcp','fromPort':1,'toPort':2"),
     "spec.ingress[0]: needs at least one peer in cidrs, ipv6Cidrs, prefixListIds or "
     "securityGroups"},
    {RULE("'protocol':'tcp','fromPort':1,'toPort':2,'cidrs':[]"),
     "spec.ingress[0]: needs at least one peer in cidrs, ipv6Cidrs, prefixListIds or "
     "securityGroups"},
    {RULE("'protocol':'icmp','fromPort':300,'cidrs':['10.0.0.0/8']"),
     "spec.ingress[0].fromPort: ICMP type 300 is out of range (-1 for all, else 0-255)"},
    {RULE("'protocol':'icmp','fromPort':3,'toPort':256,'cidrs':['10.0.0.0/8']"),
     "spec.ingress[0].toPort: ICMP code 256 is out of range (-1 for all, else 0-255)"},
    {RULE("'protocol':'icmp','fromPort':-1,'toPort':3,'cidrs':['10.0.0.0/8']"),
     "spec.ingress[0]: ICMP type -1 (all types) needs code -1, not toPort 3"},
    {RULE("'protocol':'58','toPort':0,'ipv6Cidrs':['::/0']"),
     "spec.ingress[0]: ICMP type -1 (all types) needs code -1, not toPort 0"},
    {TCP_RULE("'securityGroups':[{'groupId':'sg-0def1234','name':'db'}]"),
     "spec.ingress[0].securityGroups[0]: set exactly one of groupId and name"},
    {TCP_RULE("'securityGroups':[{}]"),
     "spec.ingress[0].securityGroups[0]: set exactly one of groupId and name"},
    {TCP_RULE("'securityGroups':['sg-0def1234']"),
     "spec.ingress[0].securityGroups[0]: must be an object"},
    {TCP_RULE("'securityGroups':[{'groupId':'web'}]"),
     "spec.ingress[0].securityGroups[0].groupId: \"web\" is not a security group id (sg-...); "
     "name a SecurityGroupPosture with name"},
    {TCP_RULE("'prefixListIds':['pl_0abc']"),
     "spec.ingress[0].prefixListIds[0]: \"pl_0abc\" is not a prefix list id (pl-...)"},
    {TCP_RULE("'cidrs':['10.0.0.0/8'],'description':'say \\'hi\\''"),
     "spec.ingress[0].description: character '\"' is not allowed by AWS " AWS_CHARS},
    /* ownership, management */
    {"{'groupName':'g','ownership':'Shared'}",
     "spec.ownership: \"Shared\" is not one of Exclusive, Additive"},
    {"{'groupName':'g','ownership':'exclusive'}",
     "spec.ownership: \"exclusive\" is not one of Exclusive, Additive"},
    {"{'groupName':'g','management':{'policy':'Adopt'}}",
     "spec.management.groupId: required when policy is Adopt"},
    {"{'groupName':'g','management':{'policy':'Adopt','groupId':'abc'}}",
     "spec.management.groupId: \"abc\" is not a security group id (sg-...)"},
    {"{'groupName':'g','management':{'policy':'Take'}}",
     "spec.management.policy: \"Take\" is not one of Create, Adopt"},
    {"{'groupName':'g','management':{'deletionPolicy':'Orphan'}}",
     "spec.management.deletionPolicy: \"Orphan\" is not one of Delete, Retain"},
    {"{'groupName':'g','management':[]}", "spec.management: must be an object"},
    /* remediation */
    {"{'groupName':'g','remediation':{'mode':'Auto'}}",
     "spec.remediation.mode: \"Auto\" is not one of Enforce, Detect, Propose"},
    {"{'groupName':'g','remediation':{'gracePeriod':'5x'}}",
     "spec.remediation.gracePeriod: bad duration \"5x\" (units: ms, s, m, h)"},
    {"{'groupName':'g','remediation':{'gracePeriod':30}}",
     "spec.remediation.gracePeriod: must be a string"},
    {"{'groupName':'g','remediation':{'maxChangesPerSync':0}}",
     "spec.remediation.maxChangesPerSync: 0 is out of range 1..1000"},
    {"{'groupName':'g','remediation':{'maxChangesPerSync':'20'}}",
     "spec.remediation.maxChangesPerSync: must be an integer or {subtractive, total}"},
    {"{'groupName':'g','remediation':{'maxChangesPerSync':2.5}}",
     "spec.remediation.maxChangesPerSync: must be an integer or {subtractive, total}"},
    {"{'groupName':'g','remediation':{'maxChangesPerSync':{}}}",
     "spec.remediation.maxChangesPerSync: needs subtractive, total or both"},
    {"{'groupName':'g','remediation':{'maxChangesPerSync':{'subtractive':0}}}",
     "spec.remediation.maxChangesPerSync.subtractive: 0 is out of range 1..1000"},
    {"{'groupName':'g','remediation':{'maxChangesPerSync':{'total':1001}}}",
     "spec.remediation.maxChangesPerSync.total: 1001 is out of range 1..1000"},
    {"{'groupName':'g','remediation':{'maxChangesPerSync':{'total':'5'}}}",
     "spec.remediation.maxChangesPerSync.total: must be an integer"},
    {"{'groupName':'g','remediation':{'maxChangesPerSync':{'subtractive':5,'all':9}}}",
     "spec.remediation.maxChangesPerSync.all: unknown field (want subtractive, total)"},
    {EXC("{}"), "spec.remediation.exceptions[0].rule: required"},
    {EXC("{'rule':{'protocol':'tcp'}}"), "spec.remediation.exceptions[0].rule.direction: required"},
    {EXC("{'rule':{'direction':'inbound'}}"),
     "spec.remediation.exceptions[0].rule.direction: \"inbound\" is not one of ingress, egress"},
    {EXC("{'rule':{'direction':'ingress','cidrs':['1.2.3.4/40']}}"),
     "spec.remediation.exceptions[0].rule.cidrs[0]: \"1.2.3.4/40\" is not a valid IPv4 CIDR"},
    {EXC("{'rule':{'direction':'ingress'}},{'rule':{'direction':'egress','protocol':'udp',"
         "'fromPort':30,'toPort':20}}"),
     "spec.remediation.exceptions[1].rule: fromPort 30 > toPort 20"},
    {EXC("{'rule':{'direction':'ingress','protocol':'ipsec'}}"),
     "spec.remediation.exceptions[0].rule.protocol: \"ipsec\" is not tcp, udp, icmp, icmpv6, "
     "all, -1 or a protocol number 0-255"},
    {EXC("{'rule':{'direction':'ingress'},'expires':'tomorrow'}"),
     "spec.remediation.exceptions[0].expires: not an RFC 3339 timestamp: \"tomorrow\""},
    {EXC("{'rule':{'direction':'ingress'},'actors':['']}"),
     "spec.remediation.exceptions[0].actors[0]: must not be empty"},
};

Test(posture_spec, invalid_specs_name_the_field)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(invalid); i++) {
        char *msg = t_spec_error(invalid[i].spec);
        cr_expect_str_eq(msg, invalid[i].message, "case %zu: %s\n got: %s\nwant: %s", i,
                         invalid[i].spec, msg, invalid[i].message);
        free(msg);
    }
}

Test(posture_spec, not_an_object)
{
    struct np_posture_sg_spec *s = NULL;
    cr_assert_eq(np_posture_sg_spec_parse(&s, NULL), NP_EINVAL);
    cr_assert_null(s);
    cr_assert_str_eq(np_error_message(), "spec: missing or not an object");
    char *msg = t_spec_error("[1]");
    cr_assert_str_eq(msg, "spec: missing or not an object");
    free(msg);
}

Test(posture_spec, limits_on_long_values)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "{'groupName':'g','tags':{");
    for (int i = 0; i < 49; i++)
        np_buf_appendf(&b, "%s'k%d':'v'", i ? "," : "", i);
    np_buf_puts(&b, "}}");
    char *msg = t_spec_error(np_buf_cstr(&b));
    cr_expect_str_eq(msg, "spec.tags: 49 tags, at most 48 (AWS allows 50 per resource and "
                          "netposture's ownership tags take 2)");
    free(msg);

    np_buf_reset(&b);
    np_buf_puts(&b, "{'groupName':'g','ingress':[{'protocol':'all','cidrs':['10.0.0.0/8'],"
                    "'description':'");
    for (int i = 0; i < 256; i++)
        np_buf_putc(&b, 'd');
    np_buf_puts(&b, "'}]}");
    msg = t_spec_error(np_buf_cstr(&b));
    cr_expect_str_eq(msg, "spec.ingress[0].description: 256 characters, at most 255");
    free(msg);

    /* 48 tags and a 255-character description are fine. */
    np_buf_reset(&b);
    np_buf_puts(&b, "{'groupName':'g','tags':{");
    for (int i = 0; i < 48; i++)
        np_buf_appendf(&b, "%s'k%d':'v'", i ? "," : "", i);
    np_buf_puts(&b, "},'ingress':[{'protocol':'all','cidrs':['10.0.0.0/8'],'description':'");
    for (int i = 0; i < 255; i++)
        np_buf_putc(&b, 'd');
    np_buf_puts(&b, "'}]}");
    struct np_posture_sg_spec *s = t_spec(np_buf_cstr(&b));
    cr_expect_eq(s->n_tags, 48);
    cr_expect_eq(strlen(s->ingress[0].description), 255);
    np_posture_sg_spec_destroy(s);
    np_buf_clean_up(&b);
}

Test(posture_spec, valid_edge_cases_are_accepted)
{
    const char *ok[] = {
        RULE("'protocol':'all','fromPort':-1,'toPort':-1,'cidrs':['0.0.0.0/0']"),
        RULE("'protocol':'-1','fromPort':0,'toPort':65535,'ipv6Cidrs':['::/0']"),
        RULE("'protocol':'47','fromPort':5,'toPort':1,'cidrs':['10.0.0.0/8']"),
        RULE("'protocol':'icmp','fromPort':-1,'toPort':-1,'cidrs':['10.0.0.0/8']"),
        RULE("'protocol':'icmpv6','ipv6Cidrs':['::/0']"),
        RULE("'protocol':'tcp','fromPort':0,'toPort':65535,'cidrs':['10.1.2.3/8']"),
        RULE("'protocol':'udp','fromPort':53,'toPort':53,'prefixListIds':['pl-0ABC1234']"),
        RULE("'protocol':'tcp','fromPort':1,'toPort':1,'securityGroups':[{'name':'db'}],"
             "'description':''"),
        "{'groupName':'g','vpcId':'vpc-0abc12345','region':'','tags':{}}",
        EXC("{'rule':{'direction':'ingress','protocol':'tcp','fromPort':22}}"),
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(ok); i++) {
        struct np_posture_sg_spec *s = t_spec(ok[i]);
        np_posture_sg_spec_destroy(s);
    }
}
