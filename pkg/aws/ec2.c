/*
 * Typed EC2 and STS operations on top of np_aws_query_call: each builds its Query API form,
 * calls, and decodes the response (Describe calls through the pager, MaxResults=1000). The
 * paginated Describe of a list kind and the <return> check are shared with vpc.c.
 */
#include "aws/private/aws_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE "1000"

static int check_id(const char *what, const char *id)
{
    if (np_str_is_empty(id))
        return np_error_set(NP_EINVAL, "%s is required", what);
    return 0;
}

/* ---------------------------------------------------------------- DescribeSecurityGroups */

struct dsg_fetch {
    struct np_aws_ec2 *c;
    const struct np_aws_filter *filters;
    size_t n_filters;
    const char *const *ids;
    size_t n_ids;
};

static int dsg_fetch_page(void *ctx, const char *next_token, struct np_buf *body)
{
    struct dsg_fetch *f = ctx;
    struct np_buf form = NP_BUF_INIT;
    int rc = np_aws_form_begin(&form, "DescribeSecurityGroups", NP_AWS_EC2_VERSION);
    if (rc == 0)
        rc = np_aws_form_add_filters(&form, f->filters, f->n_filters);
    for (size_t i = 0; i < f->n_ids && rc == 0; i++) {
        if (np_str_is_empty(f->ids[i]))
            rc = np_error_set(NP_EINVAL, "DescribeSecurityGroups: empty group id");
        else
            rc = np_aws_form_addf(&form, f->ids[i], "GroupId.%zu", i + 1);
    }
    /* AWS refuses MaxResults together with ids; the ids bound the answer anyway. */
    if (rc == 0 && f->n_ids == 0)
        rc = np_aws_form_add(&form, "MaxResults", PAGE_SIZE);
    if (rc == 0 && next_token)
        rc = np_aws_form_add(&form, "NextToken", next_token);
    if (rc == 0)
        rc = np_aws_query_call(f->c, NP_AWS_SERVICE_EC2, "DescribeSecurityGroups", &form, body);
    np_buf_clean_up(&form);
    return rc;
}

int np_aws_ec2_describe_security_groups(struct np_aws_ec2 *c, struct np_aws_sg **out, size_t *n_out,
                                        const struct np_aws_filter *filters, size_t n_filters,
                                        const char *const *group_ids, size_t n_group_ids)
{
    struct dsg_fetch f = {c, filters, n_filters, group_ids, n_group_ids};
    *out = NULL;
    *n_out = 0;
    return np_aws_sg_paginate(out, n_out, NULL, dsg_fetch_page, &f);
}

/* ---------------------------------------------------------------- Describe lists */

struct dlist_fetch {
    struct np_aws_ec2 *c;
    const char *action;
    int page_size;
    const struct np_aws_filter *filters;
    size_t n_filters;
};

static int dlist_fetch_page(void *ctx, const char *next_token, struct np_buf *body)
{
    struct dlist_fetch *f = ctx;
    struct np_buf form = NP_BUF_INIT;
    char size[16];
    snprintf(size, sizeof(size), "%d", f->page_size);
    int rc = np_aws_form_begin(&form, f->action, NP_AWS_EC2_VERSION);
    if (rc == 0)
        rc = np_aws_form_add_filters(&form, f->filters, f->n_filters);
    if (rc == 0)
        rc = np_aws_form_add(&form, "MaxResults", size);
    if (rc == 0 && next_token)
        rc = np_aws_form_add(&form, "NextToken", next_token);
    if (rc == 0)
        rc = np_aws_query_call(f->c, NP_AWS_SERVICE_EC2, f->action, &form, body);
    np_buf_clean_up(&form);
    return rc;
}

int np_aws_ec2_describe_list(struct np_aws_ec2 *c, const char *action, int page_size,
                             const struct np_aws_xml_list *kind,
                             const struct np_aws_filter *filters, size_t n_filters, void **out,
                             size_t *n_out)
{
    struct dlist_fetch f = {c, action, page_size, filters, n_filters};
    *out = NULL;
    *n_out = 0;
    return np_aws_list_paginate(out, n_out, kind, NULL, dlist_fetch_page, &f);
}

int np_aws_ec2_describe_vpcs(struct np_aws_ec2 *c, struct np_aws_vpc **out, size_t *n_out,
                             const struct np_aws_filter *filters, size_t n_filters)
{
    void *items = NULL;
    int rc = np_aws_ec2_describe_list(c, "DescribeVpcs", 1000, &np_aws_xml_vpcs, filters, n_filters,
                                      &items, n_out);
    *out = items;
    return rc;
}

/* ---------------------------------------------------------------- groups */

int np_aws_ec2_create_security_group(struct np_aws_ec2 *c, char **group_id, const char *name,
                                     const char *description, const char *vpc_id,
                                     const struct np_aws_tag *tags, size_t n_tags)
{
    struct np_buf form = NP_BUF_INIT;
    struct np_buf body = NP_BUF_INIT;
    int rc = 0;
    *group_id = NULL;
    if (np_str_is_empty(name) || np_str_is_empty(description)) {
        rc = np_error_set(NP_EINVAL, "CreateSecurityGroup: a name and a description are "
                                     "required");
        goto out;
    }
    rc = np_aws_form_begin(&form, "CreateSecurityGroup", NP_AWS_EC2_VERSION);
    if (rc == 0)
        rc = np_aws_form_add(&form, "GroupName", name);
    if (rc == 0)
        rc = np_aws_form_add(&form, "GroupDescription", description);
    if (rc == 0 && !np_str_is_empty(vpc_id))
        rc = np_aws_form_add(&form, "VpcId", vpc_id);
    if (rc == 0)
        rc = np_aws_form_add_tag_spec(&form, "security-group", tags, n_tags);
    if (rc) {
        rc = np_error_set(rc, "CreateSecurityGroup: %s", np_error_message());
        goto out;
    }
    rc = np_aws_query_call(c, NP_AWS_SERVICE_EC2, "CreateSecurityGroup", &form, &body);
    if (rc == 0)
        rc = np_aws_xml_decode_create_sg(body.data, body.len, group_id);
out:
    np_buf_clean_up(&form);
    np_buf_clean_up(&body);
    return rc;
}

int np_aws_ec2_check_return(const char *action, const struct np_buf *body, bool revoke)
{
    char root[96];
    bool ret = true, has_return = false;
    size_t n_unknown = 0;
    snprintf(root, sizeof(root), "%sResponse", action);
    int rc = np_aws_xml_decode_return(body->data, body->len, root, &ret, &has_return, &n_unknown);
    if (rc)
        return rc;
    if (revoke && n_unknown > 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%zu permission%s not found (unknownIpPermissionSet)", n_unknown,
                 n_unknown == 1 ? " was" : "s were");
        return np_aws_error_record(action, "InvalidPermission.NotFound", msg, NP_ENOTFOUND);
    }
    if (has_return && !ret)
        return np_aws_error_record(action, "ReturnFalse", "AWS answered return=false", NP_EIO);
    return 0;
}

static int check_return_cb(void *ctx, const char *action, const struct np_buf *body)
{
    return np_aws_ec2_check_return(action, body, *(const bool *)ctx);
}

int np_aws_ec2_checked_call(struct np_aws_ec2 *c, const char *action, const struct np_buf *form,
                            int (*check)(void *ctx, const char *action, const struct np_buf *body),
                            void *check_ctx)
{
    struct np_buf body = NP_BUF_INIT;
    struct np_aws_call call = {.service = NP_AWS_SERVICE_EC2,
                               .action = action,
                               .form = form,
                               .check = check,
                               .check_ctx = check_ctx};
    int rc = np_aws_call_send(c, &call, &body);
    np_buf_clean_up(&body);
    return rc;
}

int np_aws_ec2_return_call(struct np_aws_ec2 *c, const char *action, const struct np_buf *form,
                           bool revoke)
{
    return np_aws_ec2_checked_call(c, action, form, check_return_cb, &revoke);
}

int np_aws_ec2_delete_security_group(struct np_aws_ec2 *c, const char *group_id)
{
    struct np_buf form = NP_BUF_INIT;
    int rc = check_id("DeleteSecurityGroup: a group id", group_id);
    if (rc == 0)
        rc = np_aws_form_begin(&form, "DeleteSecurityGroup", NP_AWS_EC2_VERSION);
    if (rc == 0)
        rc = np_aws_form_add(&form, "GroupId", group_id);
    if (rc == 0)
        rc = np_aws_ec2_return_call(c, "DeleteSecurityGroup", &form, false);
    np_buf_clean_up(&form);
    return rc;
}

/* ---------------------------------------------------------------- rules */

static int perms_call(struct np_aws_ec2 *c, const char *action, const char *group_id,
                      const struct np_aws_perm *perms, size_t n, bool revoke)
{
    struct np_buf form = NP_BUF_INIT;
    int rc = 0;
    if (n == 0)
        goto out;
    if (!perms) {
        rc = np_error_set(NP_EINVAL, "%s: no permissions given", action);
        goto out;
    }
    rc = check_id("a group id", group_id);
    if (rc == 0)
        rc = np_aws_form_begin(&form, action, NP_AWS_EC2_VERSION);
    if (rc == 0)
        rc = np_aws_form_add(&form, "GroupId", group_id);
    if (rc == 0)
        rc = np_aws_form_add_perms(&form, perms, n, true, NULL);
    if (rc == 0)
        rc = np_aws_ec2_return_call(c, action, &form, revoke);
out:
    np_buf_clean_up(&form);
    return rc;
}

int np_aws_ec2_authorize_ingress(struct np_aws_ec2 *c, const char *group_id,
                                 const struct np_aws_perm *perms, size_t n)
{
    return perms_call(c, "AuthorizeSecurityGroupIngress", group_id, perms, n, false);
}

int np_aws_ec2_authorize_egress(struct np_aws_ec2 *c, const char *group_id,
                                const struct np_aws_perm *perms, size_t n)
{
    return perms_call(c, "AuthorizeSecurityGroupEgress", group_id, perms, n, false);
}

int np_aws_ec2_revoke_ingress(struct np_aws_ec2 *c, const char *group_id,
                              const struct np_aws_perm *perms, size_t n)
{
    return perms_call(c, "RevokeSecurityGroupIngress", group_id, perms, n, true);
}

int np_aws_ec2_revoke_egress(struct np_aws_ec2 *c, const char *group_id,
                             const struct np_aws_perm *perms, size_t n)
{
    return perms_call(c, "RevokeSecurityGroupEgress", group_id, perms, n, true);
}

int np_aws_ec2_update_rule_descriptions_ingress(struct np_aws_ec2 *c, const char *group_id,
                                                const struct np_aws_perm *perms, size_t n)
{
    return perms_call(c, "UpdateSecurityGroupRuleDescriptionsIngress", group_id, perms, n, false);
}

int np_aws_ec2_update_rule_descriptions_egress(struct np_aws_ec2 *c, const char *group_id,
                                               const struct np_aws_perm *perms, size_t n)
{
    return perms_call(c, "UpdateSecurityGroupRuleDescriptionsEgress", group_id, perms, n, false);
}

/* ---------------------------------------------------------------- tags */

int np_aws_ec2_create_tags(struct np_aws_ec2 *c, const char *resource_id,
                           const struct np_aws_tag *tags, size_t n)
{
    struct np_buf form = NP_BUF_INIT;
    int rc = 0;
    if (n == 0)
        goto out;
    rc = check_id("CreateTags: a resource id", resource_id);
    if (rc == 0)
        rc = np_aws_form_begin(&form, "CreateTags", NP_AWS_EC2_VERSION);
    if (rc == 0)
        rc = np_aws_form_add(&form, "ResourceId.1", resource_id);
    if (rc == 0) {
        rc = np_aws_form_add_tags(&form, "", tags, n);
        if (rc)
            rc = np_error_set(rc, "CreateTags: %s", np_error_message());
    }
    if (rc == 0)
        rc = np_aws_ec2_return_call(c, "CreateTags", &form, false);
out:
    np_buf_clean_up(&form);
    return rc;
}

int np_aws_ec2_delete_tags(struct np_aws_ec2 *c, const char *resource_id, const char *const *keys,
                           size_t n)
{
    struct np_buf form = NP_BUF_INIT;
    int rc = 0;
    if (n == 0)
        goto out; /* DeleteTags without keys would delete every tag */
    rc = check_id("DeleteTags: a resource id", resource_id);
    if (rc == 0)
        rc = np_aws_form_begin(&form, "DeleteTags", NP_AWS_EC2_VERSION);
    if (rc == 0)
        rc = np_aws_form_add(&form, "ResourceId.1", resource_id);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (np_str_is_empty(keys[i])) {
            rc = np_error_set(NP_EINVAL, "DeleteTags: key %zu is empty", i + 1);
            break;
        }
        rc = np_aws_form_addf(&form, keys[i], "Tag.%zu.Key", i + 1);
    }
    if (rc == 0)
        rc = np_aws_ec2_return_call(c, "DeleteTags", &form, false);
out:
    np_buf_clean_up(&form);
    return rc;
}

/* ---------------------------------------------------------------- STS */

int np_aws_sts_get_caller_identity(struct np_aws_ec2 *c, char **account_id, char **arn)
{
    struct np_buf form = NP_BUF_INIT;
    struct np_buf body = NP_BUF_INIT;
    char *acct = NULL, *a = NULL;
    if (account_id)
        *account_id = NULL;
    if (arn)
        *arn = NULL;
    int rc = np_aws_form_begin(&form, "GetCallerIdentity", NP_AWS_STS_VERSION);
    if (rc == 0)
        rc = np_aws_query_call(c, NP_AWS_SERVICE_STS, "GetCallerIdentity", &form, &body);
    if (rc == 0)
        rc = np_aws_xml_decode_caller_identity(body.data, body.len, &acct, &a, NULL);
    if (rc == 0) {
        if (account_id) {
            *account_id = acct;
            acct = NULL;
        }
        if (arn) {
            *arn = a;
            a = NULL;
        }
    }
    free(acct);
    free(a);
    np_buf_clean_up(&form);
    np_buf_clean_up(&body);
    return rc;
}
