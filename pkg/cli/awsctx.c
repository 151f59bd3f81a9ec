/*
 * What the AWS commands (plan, import, inject-drift) share: an EC2 client made as the
 * controller makes one for a CloudAccount with credentials source Default (pkg/aws's provider
 * chain: environment, web identity, container, instance metadata; the endpoint from
 * --endpoint-url, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL), and lookups of groups by id or tag
 * (pkg/observe maps what they read for pkg/posture).
 */
#include "cli/private/cli_private.h"

#include <stdlib.h>
#include <string.h>

/* The region: the flag, the posture's, then AWS_REGION and AWS_DEFAULT_REGION. */
static const char *pick_region(const struct np_cli_aws_opts *o, const char *spec_region)
{
    const char *candidates[] = {o->region, spec_region, getenv("AWS_REGION"),
                                getenv("AWS_DEFAULT_REGION")};
    for (size_t i = 0; i < NP_ARRAY_LEN(candidates); i++)
        if (!np_str_is_empty(candidates[i]))
            return candidates[i];
    return NULL;
}

int np_cli_ec2_new(struct np_aws_ec2 **out, const struct np_cli_aws_opts *o,
                   const char *spec_region)
{
    *out = NULL;
    const char *region = pick_region(o, spec_region);
    if (!region)
        return np_error_set(NP_EINVAL, "no region: pass --region or set AWS_REGION");
    if (!np_aws_region_is_valid(region))
        return np_error_set(NP_EINVAL, "\"%s\" is not an AWS region", region);
    struct np_aws_provider *provider = NULL;
    struct np_aws_provider_config pc = {.source = NP_AWS_SOURCE_DEFAULT, .region = region};
    int rc = np_aws_provider_new(&provider, &pc);
    if (rc == 0 && o->endpoint)
        rc = np_aws_endpoint_check(o->endpoint, false);
    if (rc == 0) {
        struct np_aws_ec2_config cfg = {.region = region,
                                        .endpoint = o->endpoint,
                                        .provider = provider,
                                        .user_agent = "netposturectl"};
        rc = np_aws_ec2_new(out, &cfg);
    }
    np_aws_provider_unref(provider);
    return rc;
}

int np_cli_ec2_for(struct np_aws_ec2 **ec2, const struct np_cli_aws_opts *o,
                   const char *spec_region)
{
    const char *want = pick_region(o, spec_region);
    if (*ec2 && want && np_str_eq(np_aws_ec2_region(*ec2), want))
        return 0;
    np_aws_ec2_destroy(*ec2);
    *ec2 = NULL;
    return np_cli_ec2_new(ec2, o, spec_region);
}

int np_cli_describe_group(struct np_aws_ec2 *ec2, const char *group_id, struct np_aws_sg **out)
{
    const char *ids[] = {group_id};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = np_aws_ec2_describe_security_groups(ec2, &sgs, &n, NULL, 0, ids, 1);
    for (size_t i = 0; rc == 0 && !*out && i < n; i++)
        if (np_str_eq(sgs[i].group_id, group_id)) /* the answer is not trusted to hold only it */
            *out = np_aws_sg_dup(&sgs[i]);
    if (rc == NP_ENOTFOUND || (rc == 0 && !*out))
        rc = np_error_set(NP_ENOTFOUND, "security group %s does not exist", group_id);
    np_aws_sgs_free(sgs, n);
    return rc;
}

int np_cli_find_group_by_tag(struct np_aws_ec2 *ec2, const char *key, const char *value,
                             struct np_aws_sg **out)
{
    char *name = np_strdupf("tag:%s", key);
    const char *values[] = {value};
    struct np_aws_filter f = {name, values, 1};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = np_aws_ec2_describe_security_groups(ec2, &sgs, &n, &f, 1, NULL, 0);
    for (size_t i = 0; rc == 0 && !*out && i < n; i++) /* the filter is not taken on trust */
        if (np_str_eq(np_aws_tag_get(sgs[i].tags, sgs[i].n_tags, key), value))
            *out = np_aws_sg_dup(&sgs[i]);
    if (rc == 0 && !*out)
        rc = NP_ENOTFOUND;
    np_aws_sgs_free(sgs, n);
    free(name);
    return rc;
}
