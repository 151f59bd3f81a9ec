/*
 * XML decoder tests over recorded moto responses and crafted AWS-shaped documents
 * (tests/fixtures/aws/): security groups expanded to atomic permissions, VPCs, CreateSecurityGroup,
 * STS identity, both error roots, pagination, and refusal of malformed or hostile input.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define FX "tests/fixtures/aws/"

static const struct np_aws_sg *find_sg(const struct np_aws_sg *sgs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(sgs[i].group_id, id))
            return &sgs[i];
    cr_assert_fail("group %s not decoded", id);
    return NULL;
}

static void expect_perm(const struct np_aws_perm *p, const char *proto, bool has_ports, int from,
                        int to, enum np_aws_peer_kind kind, const char *peer, const char *user,
                        const char *desc)
{
    cr_expect_str_eq(p->protocol, proto);
    cr_expect_eq(p->has_ports, has_ports, "%s %s: has_ports", proto, peer);
    if (has_ports) {
        cr_expect_eq(p->from_port, from, "%s %s: from", proto, peer);
        cr_expect_eq(p->to_port, to, "%s %s: to", proto, peer);
    }
    cr_expect_eq(p->peer_kind, kind, "%s %s: kind", proto, peer);
    cr_expect_str_eq(p->peer, peer);
    cr_expect(np_str_eq(p->user_id, user), "%s: user_id %s", peer, p->user_id);
    cr_expect(np_str_eq(p->description, desc), "%s: description %s want %s", peer,
              p->description ? p->description : "(null)", desc ? desc : "(null)");
}

static int decode_sg_file(const char *path, struct np_aws_sg **sgs, size_t *n, char **token)
{
    size_t len = 0;
    char *xml = fixture_read(path, &len);
    int rc = np_aws_xml_decode_sg_page(xml, len, sgs, n, token);
    free(xml);
    return rc;
}

Test(xml_sg, recorded_moto_groups_expand_to_atomic_perms)
{
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    char *token = NULL;
    cr_assert_eq(decode_sg_file(FX "describe-security-groups.xml", &sgs, &n, &token), 0, "%s",
                 np_error_message());
    cr_assert_eq(n, 3);
    cr_expect_null(token);

    const struct np_aws_sg *web = find_sg(sgs, n, "sg-e5c230b73102e5a27");
    cr_expect_str_eq(web->group_name, "shop-web");
    cr_expect_str_eq(web->description, "web tier");
    cr_expect_str_eq(web->vpc_id, "vpc-c454068d884c361e2");
    cr_expect_str_eq(web->owner_id, "123456789012");
    cr_assert_eq(web->n_tags, 2);
    cr_expect_str_eq(web->tags[0].key, "team");
    cr_expect_str_eq(web->tags[0].value, "shop");
    cr_expect_str_eq(web->tags[1].key, "netposture.dev/owner");
    cr_expect_str_eq(web->tags[1].value, "shop/web");
    /* tcp/443 x (2 IPv4 + 1 IPv6), icmp 3/4, -1 prefix list: 5 atomic perms */
    cr_assert_eq(web->n_ingress, 5);
    expect_perm(&web->ingress[0], "tcp", true, 443, 443, NP_AWS_PEER_CIDR4, "10.0.0.0/8", NULL,
                "https from the VPC");
    expect_perm(&web->ingress[1], "tcp", true, 443, 443, NP_AWS_PEER_CIDR4, "192.168.0.0/16", NULL,
                NULL);
    expect_perm(&web->ingress[2], "tcp", true, 443, 443, NP_AWS_PEER_CIDR6, "2001:db8::/32", NULL,
                "v6 clients");
    expect_perm(&web->ingress[3], "icmp", true, 3, 4, NP_AWS_PEER_CIDR4, "0.0.0.0/0", NULL,
                "path mtu");
    expect_perm(&web->ingress[4], "-1", false, 0, 0, NP_AWS_PEER_PREFIX_LIST, "pl-63a5400a", NULL,
                NULL);
    cr_assert_eq(web->n_egress, 1);
    expect_perm(&web->egress[0], "-1", false, 0, 0, NP_AWS_PEER_CIDR4, "0.0.0.0/0", NULL, NULL);

    const struct np_aws_sg *db = find_sg(sgs, n, "sg-2198c3f71b2a36740");
    cr_expect_eq(db->n_tags, 0);
    cr_assert_eq(db->n_ingress, 1);
    expect_perm(&db->ingress[0], "tcp", true, 5432, 5432, NP_AWS_PEER_GROUP, "sg-e5c230b73102e5a27",
                "123456789012", "postgres from web");
    cr_assert_eq(db->n_egress, 2);
    expect_perm(&db->egress[1], "udp", true, 53, 53, NP_AWS_PEER_CIDR4, "10.1.0.2/32", NULL, "dns");

    const struct np_aws_sg *def = find_sg(sgs, n, "sg-dffd6722197971ffa");
    cr_expect_str_eq(def->group_name, "default");
    cr_expect_eq(def->n_ingress, 0);
    np_aws_sgs_free(sgs, n);
}

Test(xml_sg, aws_shape_with_peering_entities_and_numeric_protocol)
{
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    char *token = NULL;
    cr_assert_eq(decode_sg_file(FX "crafted/describe-security-groups-aws.xml", &sgs, &n, &token), 0,
                 "%s", np_error_message());
    cr_assert_eq(n, 1);
    cr_expect_null(token, "an empty <nextToken/> means no more pages");
    const struct np_aws_sg *sg = &sgs[0];
    cr_expect_str_eq(sg->description, "Web & API servers");
    cr_assert_eq(sg->n_ingress, 5);
    expect_perm(&sg->ingress[0], "-1", false, 0, 0, NP_AWS_PEER_GROUP, "sg-0aaaaaaaaaaaaaaaa",
                "123456789012", NULL);
    expect_perm(&sg->ingress[1], "-1", false, 0, 0, NP_AWS_PEER_GROUP, "sg-0ccccccccccccccccc",
                "210987654321", "peer account");
    expect_perm(&sg->ingress[2], "icmpv6", true, -1, -1, NP_AWS_PEER_CIDR6, "::/0", NULL, NULL);
    expect_perm(&sg->ingress[3], "50", false, 0, 0, NP_AWS_PEER_CIDR4, "203.0.113.0/24", NULL,
                "ESP from the office <vpn>");
    expect_perm(&sg->ingress[4], "50", false, 0, 0, NP_AWS_PEER_PREFIX_LIST, "pl-6da54004", NULL,
                "S3");
    cr_expect_eq(sg->n_egress, 0);
    cr_assert_eq(sg->n_tags, 1);
    cr_expect_str_eq(sg->tags[0].key, "Name");
    cr_expect_str_eq(sg->tags[0].value, "");
    np_aws_sgs_free(sgs, n);
}

Test(xml_sg, namespace_prefixes_are_ignored)
{
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    cr_assert_eq(decode_sg_file(FX "crafted/describe-security-groups-prefixed.xml", &sgs, &n, NULL),
                 0, "%s", np_error_message());
    cr_assert_eq(n, 1);
    cr_expect_str_eq(sgs[0].group_id, "sg-0123");
    cr_assert_eq(sgs[0].n_ingress, 1);
    expect_perm(&sgs[0].ingress[0], "tcp", true, 22, 22, NP_AWS_PEER_CIDR4, "10.0.0.0/8", NULL,
                NULL);
    np_aws_sgs_free(sgs, n);
}

Test(xml_sg, crafted_first_page_carries_next_token)
{
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    char *token = NULL;
    cr_assert_eq(decode_sg_file(FX "crafted/describe-security-groups-page1.xml", &sgs, &n, &token),
                 0);
    cr_expect_eq(n, 2);
    cr_expect_str_eq(token, "np-page-2 token/+=");
    free(token);
    np_aws_sgs_free(sgs, n);
}

Test(xml_sg, malformed_and_hostile_documents_are_refused)
{
    struct np_aws_sg *sgs = (struct np_aws_sg *)0x1;
    size_t n = 77;
    cr_expect_eq(
        decode_sg_file(FX "crafted/describe-security-groups-truncated.xml", &sgs, &n, NULL),
        NP_EPARSE);
    cr_expect_eq(sgs, (struct np_aws_sg *)0x1, "outputs untouched on error");
    cr_expect_eq(n, 77);
    /* a success document of another action */
    cr_expect_eq(decode_sg_file(FX "describe-vpcs.xml", &sgs, &n, NULL), NP_EPARSE);
    cr_expect(strstr(np_error_message(), "DescribeVpcsResponse") != NULL, "%s", np_error_message());
    /* an error document is not a page */
    cr_expect_eq(decode_sg_file(FX "error-auth-failure.xml", &sgs, &n, NULL), NP_EPARSE);
    cr_expect_eq(np_aws_xml_decode_sg_page("", 0, &sgs, &n, NULL), NP_EPARSE);
    const char *bad_port = "<DescribeSecurityGroupsResponse><securityGroupInfo><item><groupId>sg-1"
                           "</groupId><ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>"
                           "eighty</fromPort><toPort>80</toPort><ipRanges><item><cidrIp>1.2.3.4/32"
                           "</cidrIp></item></ipRanges></item></ipPermissions></item>"
                           "</securityGroupInfo></DescribeSecurityGroupsResponse>";
    cr_expect_eq(np_aws_xml_decode_sg_page(bad_port, strlen(bad_port), &sgs, &n, NULL), NP_EPARSE);
    const char *no_peer = "<DescribeSecurityGroupsResponse><securityGroupInfo><item><groupId>sg-1"
                          "</groupId><ipPermissions><item><ipProtocol>tcp</ipProtocol><ipRanges>"
                          "<item><description>x</description></item></ipRanges></item>"
                          "</ipPermissions></item></securityGroupInfo>"
                          "</DescribeSecurityGroupsResponse>";
    cr_expect_eq(np_aws_xml_decode_sg_page(no_peer, strlen(no_peer), &sgs, &n, NULL), NP_EPARSE);
    const char *no_id = "<DescribeSecurityGroupsResponse><securityGroupInfo><item><groupName>x"
                        "</groupName></item></securityGroupInfo></DescribeSecurityGroupsResponse>";
    cr_expect_eq(np_aws_xml_decode_sg_page(no_id, strlen(no_id), &sgs, &n, NULL), NP_EPARSE);
}

Test(xml_sg, element_names_are_matched_by_position_not_by_text)
{
    /* a description that looks like XML, and a groupId that only appears inside a rule */
    const char *doc =
        "<DescribeSecurityGroupsResponse><securityGroupInfo><item><groupId>sg-real</groupId>"
        "<groupDescription>&lt;groupId&gt;sg-fake&lt;/groupId&gt;</groupDescription>"
        "<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>1</fromPort><toPort>2</toPort>"
        "<groups><item><groupId>sg-peer</groupId><groupName>peer</groupName></item></groups>"
        "</item></ipPermissions></item></securityGroupInfo></DescribeSecurityGroupsResponse>";
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_xml_decode_sg_page(doc, strlen(doc), &sgs, &n, NULL), 0);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(sgs[0].group_id, "sg-real");
    cr_expect_str_eq(sgs[0].description, "<groupId>sg-fake</groupId>");
    cr_assert_eq(sgs[0].n_ingress, 1);
    cr_expect_str_eq(sgs[0].ingress[0].peer, "sg-peer");
    cr_expect_null(sgs[0].group_name);
    np_aws_sgs_free(sgs, n);
}

Test(xml_vpc, recorded_vpcs_with_tags_and_default_flag)
{
    size_t len = 0;
    char *xml = fixture_read(FX "describe-vpcs.xml", &len);
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    char *token = NULL;
    cr_assert_eq(np_aws_xml_decode_vpc_page(xml, len, &vpcs, &n, &token), 0, "%s",
                 np_error_message());
    cr_assert_eq(n, 2);
    cr_expect_null(token);
    cr_expect_str_eq(vpcs[0].vpc_id, "vpc-4470f9fe486ebccd5");
    cr_expect_str_eq(vpcs[0].cidr_block, "172.31.0.0/16");
    cr_expect(vpcs[0].is_default);
    cr_expect_str_eq(vpcs[0].state, "available");
    cr_expect_eq(vpcs[0].n_tags, 0);
    cr_expect_str_eq(vpcs[1].vpc_id, "vpc-c454068d884c361e2");
    cr_expect_str_eq(vpcs[1].cidr_block, "10.1.0.0/16", "not the association's cidrBlock");
    cr_expect_not(vpcs[1].is_default);
    cr_expect_str_eq(vpcs[1].owner_id, "123456789012");
    cr_assert_eq(vpcs[1].n_tags, 2);
    cr_expect_str_eq(vpcs[1].tags[0].key, "Name");
    cr_expect_str_eq(vpcs[1].tags[0].value, "shop");
    cr_expect_str_eq(vpcs[1].tags[1].key, "env");
    np_aws_vpcs_free(vpcs, n);
    free(xml);

    const char *bad = "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1</vpcId><isDefault>yes"
                      "</isDefault></item></vpcSet></DescribeVpcsResponse>";
    cr_expect_eq(np_aws_xml_decode_vpc_page(bad, strlen(bad), &vpcs, &n, NULL), NP_EPARSE);
}

Test(xml_misc, create_security_group_group_id)
{
    size_t len = 0;
    char *xml = fixture_read(FX "create-security-group.xml", &len);
    char *id = NULL;
    cr_assert_eq(np_aws_xml_decode_create_sg(xml, len, &id), 0);
    cr_expect_str_eq(id, "sg-d397edf6973abdfda");
    free(id);
    free(xml);
    const char *empty = "<CreateSecurityGroupResponse><requestId>r</requestId>"
                        "</CreateSecurityGroupResponse>";
    cr_expect_eq(np_aws_xml_decode_create_sg(empty, strlen(empty), &id), NP_EPARSE);
}

Test(xml_misc, sts_caller_identity)
{
    size_t len = 0;
    char *xml = fixture_read(FX "sts-get-caller-identity.xml", &len);
    char *account = NULL, *arn = NULL, *user = NULL;
    cr_assert_eq(np_aws_xml_decode_caller_identity(xml, len, &account, &arn, &user), 0);
    cr_expect_str_eq(account, "123456789012");
    cr_expect_str_eq(arn, "arn:aws:sts::123456789012:user/moto");
    cr_expect_str_eq(user, "AKIAIOSFODNN7EXAMPLE");
    free(account);
    free(arn);
    free(user);
    free(xml);
}

struct error_case {
    const char *file;
    const char *code;
    const char *message_part;
    const char *request_id;
};

Test(xml_error, both_roots_and_sts_layout)
{
    static const struct error_case cases[] = {
        {FX "error-invalid-permission-duplicate.xml", "InvalidPermission.Duplicate",
         "already exists", "request-id"},
        {FX "error-invalid-group-notfound.xml", "InvalidGroup.NotFound", "does not exist",
         "request-id"},
        {FX "error-auth-failure.xml", "AuthFailure", "not able to validate", NULL},
        {FX "error-sts-signature-does-not-match.xml", "SignatureDoesNotMatch", "does not match",
         NULL},
        {FX "crafted/error-sts-invalid-client-token-id.xml", "InvalidClientTokenId",
         "security token", "4a1c2d3e-0000-4000-8000-000000000003"},
        {FX "crafted/error-request-limit-exceeded.xml", "RequestLimitExceeded", "limit",
         "d3b2c1a0-0000-4000-8000-000000000002"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        size_t len = 0;
        char *xml = fixture_read(cases[i].file, &len);
        char *code = NULL, *msg = NULL, *rid = NULL;
        cr_assert_eq(np_aws_xml_decode_error(xml, len, &code, &msg, &rid), 0, "%s: %s",
                     cases[i].file, np_error_message());
        cr_expect_str_eq(code, cases[i].code, "%s", cases[i].file);
        cr_expect(msg && strstr(msg, cases[i].message_part), "%s: %s", cases[i].file, msg);
        cr_expect(np_str_eq(rid, cases[i].request_id), "%s: request id %s", cases[i].file, rid);
        free(code);
        free(msg);
        free(rid);
        free(xml);
    }
}

Test(xml_error, html_and_dtd_are_not_error_documents)
{
    size_t len = 0;
    char *code = NULL;
    char *html = fixture_read(FX "error-unknown-action-500.html", &len);
    cr_expect_eq(np_aws_xml_decode_error(html, len, &code, NULL, NULL), NP_EPARSE);
    cr_expect_null(code);
    free(html);
    char *lol = fixture_read(FX "crafted/error-doctype.xml", &len);
    cr_expect_eq(np_aws_xml_decode_error(lol, len, &code, NULL, NULL), NP_EPARSE);
    cr_expect(strstr(np_error_message(), "document type") != NULL, "%s", np_error_message());
    cr_expect_null(code);
    free(lol);
}

Test(xml_misc, return_and_unknown_permissions)
{
    size_t len = 0;
    bool ret = false, has = false;
    size_t unknown = 99;
    char *xml = fixture_read(FX "revoke-security-group-ingress.xml", &len);
    cr_assert_eq(np_aws_xml_decode_return(xml, len, "RevokeSecurityGroupIngressResponse", &ret,
                                          &has, &unknown),
                 0);
    cr_expect(ret && has);
    cr_expect_eq(unknown, 0);
    free(xml);
    xml = fixture_read(FX "crafted/revoke-unknown-permissions.xml", &len);
    cr_assert_eq(np_aws_xml_decode_return(xml, len, "RevokeSecurityGroupIngressResponse", &ret,
                                          &has, &unknown),
                 0);
    cr_expect_eq(unknown, 1);
    cr_expect_eq(np_aws_xml_decode_return(xml, len, "AuthorizeSecurityGroupIngressResponse", &ret,
                                          &has, &unknown),
                 NP_EPARSE);
    free(xml);
    xml = fixture_read(FX "create-tags.xml", &len);
    cr_assert_eq(np_aws_xml_decode_return(xml, len, "CreateTagsResponse", &ret, &has, &unknown), 0);
    cr_expect_not(has);
    free(xml);
}

/* ---------------------------------------------------------------- pager */

Test(pager, follows_next_token_across_two_pages)
{
    struct fixture_pages p = {.files = {FX "crafted/describe-security-groups-page1.xml",
                                        FX "crafted/describe-security-groups-page2.xml"},
                              .n = 2};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_sg_paginate(&sgs, &n, NULL, fixture_pages_fetch, &p), 0, "%s",
                 np_error_message());
    cr_assert_eq(p.n_fetch, 2);
    cr_expect_null(p.tokens[0]);
    cr_expect_str_eq(p.tokens[1], "np-page-2 token/+=");
    cr_assert_eq(n, 3);
    cr_expect_str_eq(sgs[0].group_id, "sg-dffd6722197971ffa");
    cr_expect_str_eq(sgs[1].group_id, "sg-e5c230b73102e5a27");
    cr_expect_str_eq(sgs[2].group_id, "sg-2198c3f71b2a36740");
    cr_expect_eq(sgs[1].n_ingress, 5, "items survive the concatenation");
    cr_expect_str_eq(sgs[2].ingress[0].description, "postgres from web");
    np_aws_sgs_free(sgs, n);
    fixture_pages_clean_up(&p);
}

Test(pager, repeated_token_and_page_errors_fail_without_leaks)
{
    struct fixture_pages loop = {.files = {FX "crafted/describe-security-groups-page1.xml",
                                           FX "crafted/describe-security-groups-page1.xml"},
                                 .n = 2};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    cr_expect_eq(np_aws_sg_paginate(&sgs, &n, NULL, fixture_pages_fetch, &loop), NP_EPARSE);
    cr_expect_null(sgs);
    fixture_pages_clean_up(&loop);

    struct fixture_pages broken = {.files = {FX "crafted/describe-security-groups-page1.xml",
                                             FX "crafted/describe-security-groups-truncated.xml"},
                                   .n = 2};
    cr_expect_eq(np_aws_sg_paginate(&sgs, &n, NULL, fixture_pages_fetch, &broken), NP_EPARSE);
    fixture_pages_clean_up(&broken);

    struct fixture_pages short_ = {.files = {FX "crafted/describe-security-groups-page1.xml"},
                                   .n = 1};
    cr_expect_eq(np_aws_sg_paginate(&sgs, &n, NULL, fixture_pages_fetch, &short_), NP_EIO);
    cr_expect_null(sgs);
    fixture_pages_clean_up(&short_);
}

Test(pager, vpcs_across_two_pages)
{
    struct fixture_pages p = {
        .files = {FX "crafted/describe-vpcs-page1.xml", FX "describe-vpcs.xml"}, .n = 2};
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_vpc_paginate(&vpcs, &n, NULL, fixture_pages_fetch, &p), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(p.tokens[1], "vpc-page-2");
    cr_assert_eq(n, 3);
    cr_expect_str_eq(vpcs[0].vpc_id, "vpc-0page1page1page1");
    cr_expect_str_eq(vpcs[2].vpc_id, "vpc-c454068d884c361e2");
    np_aws_vpcs_free(vpcs, n);
    fixture_pages_clean_up(&p);
}
