/*
 * The IAM policy users attach (manifests/aws/iam-policy.json) against the actions the clients
 * can call (pkg/aws/actions.c, enforced by np_aws_call_send): every action is granted, nothing
 * else is, and no mutating EC2 action reaches a resource netposture does not own unless a
 * condition on the netposture.dev/owner tag (on the resource, or set by the request) holds.
 */
#include "aws/aws.h"
#include "aws/private/aws_private.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define POLICY "manifests/aws/iam-policy.json"
#define OWNER "netposture.dev/owner"

/* Granted besides the table: AWS checks these on CreateFlowLogs (delivery to S3/Logs). */
static const char *const checked_on_behalf[] = {"logs:CreateLogDelivery", "logs:DeleteLogDelivery",
                                                "iam:PassRole"};

static json_object *statements(void)
{
    json_object *doc = json_object_from_file(POLICY);
    cr_assert_not_null(doc, "cannot read %s", POLICY);
    json_object *st = NULL;
    cr_assert(json_object_object_get_ex(doc, "Statement", &st));
    json_object_get(st);
    json_object_put(doc);
    return st;
}

/* s's field as an array of strings (a lone string counts as one). */
static size_t strings(json_object *s, const char *field, const char **out, size_t cap)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(s, field, &v))
        return 0;
    if (json_object_is_type(v, json_type_string)) {
        out[0] = json_object_get_string(v);
        return 1;
    }
    size_t n = json_object_array_length(v);
    cr_assert_leq(n, cap);
    for (size_t i = 0; i < n; i++)
        out[i] = json_object_get_string(json_object_array_get_idx(v, i));
    return n;
}

static bool grants(json_object *st, const char *action)
{
    for (size_t i = 0; i < json_object_array_length(st); i++) {
        const char *acts[64];
        size_t n = strings(json_object_array_get_idx(st, i), "Action", acts, 64);
        for (size_t j = 0; j < n; j++)
            if (strcmp(acts[j], action) == 0)
                return true;
    }
    return false;
}

static bool in_table(const char *qualified)
{
    char svc[32];
    const char *colon = strchr(qualified, ':');
    if (!colon || (size_t)(colon - qualified) >= sizeof(svc))
        return false;
    snprintf(svc, sizeof(svc), "%.*s", (int)(colon - qualified), qualified);
    return np_aws_action_known(svc, colon + 1);
}

Test(iam, the_policy_grants_exactly_the_actions_the_clients_call)
{
    json_object *st = statements();
    for (size_t i = 0; i < np_aws_n_actions; i++) {
        char q[96];
        snprintf(q, sizeof(q), "%s:%s", np_aws_actions[i].service, np_aws_actions[i].action);
        if (np_aws_actions[i].needs_iam)
            cr_expect(grants(st, q), "%s is called but not granted", q);
        else
            cr_expect_not(grants(st, q), "%s needs no permission but is granted", q);
    }
    for (size_t i = 0; i < json_object_array_length(st); i++) {
        json_object *s = json_object_array_get_idx(st, i);
        const char *acts[64];
        size_t n = strings(s, "Action", acts, 64);
        for (size_t j = 0; j < n; j++) {
            bool extra = false;
            for (size_t k = 0; k < sizeof(checked_on_behalf) / sizeof(*checked_on_behalf); k++)
                extra = extra || strcmp(acts[j], checked_on_behalf[k]) == 0;
            cr_expect(extra || in_table(acts[j]), "%s is granted but never called", acts[j]);
            cr_expect_null(strchr(acts[j], '*'), "wildcard action %s", acts[j]);
        }
    }
    json_object_put(st);
}

/* A condition of s that ties it to our tag: on the resource, set by the request, or tags
 * written by a create call itself. */
static bool owner_condition(json_object *s)
{
    const char *text = json_object_to_json_string_ext(s, JSON_C_TO_STRING_NOSLASHESCAPE);
    return strstr(text, "ec2:ResourceTag/" OWNER) || strstr(text, "aws:RequestTag/" OWNER) ||
           strstr(text, "ec2:CreateAction");
}

static bool is_mutating_ec2(const char *action)
{
    return strncmp(action, "ec2:", 4) == 0 && strncmp(action + 4, "Describe", 8) != 0;
}

Test(iam, mutations_need_the_owner_tag_except_on_route_targets)
{
    /* What routes and associations merely point at (gateways, peers, a subnet to associate)
     * may be anything; the route table or network ACL changed must still be ours. */
    static const char *const never_unconditioned[] = {":security-group/", ":vpc/", ":route-table/",
                                                      ":network-acl/", ":vpc-flow-log/"};
    json_object *st = statements();
    bool targets_seen = false, adopt_seen = false;
    for (size_t i = 0; i < json_object_array_length(st); i++) {
        json_object *s = json_object_array_get_idx(st, i);
        const char *sid = json_object_get_string(json_object_object_get(s, "Sid"));
        const char *acts[64], *res[64];
        size_t na = strings(s, "Action", acts, 64), nr = strings(s, "Resource", res, 64);
        bool mutating = false;
        for (size_t j = 0; j < na; j++)
            mutating = mutating || is_mutating_ec2(acts[j]);
        if (!mutating || owner_condition(s))
            continue;
        cr_expect_str_eq(sid, "RouteAndAssociationTargets",
                         "statement %s lets %s act on any "
                         "resource without the owner tag",
                         sid, acts[0]);
        targets_seen = true;
        for (size_t j = 0; j < nr; j++) {
            cr_expect_neq(strcmp(res[j], "*"), 0, "%s: Resource *", sid);
            for (size_t k = 0; k < 5; k++)
                cr_expect_null(strstr(res[j], never_unconditioned[k]), "%s grants %s", sid, res[j]);
        }
    }
    for (size_t i = 0; i < json_object_array_length(st); i++) {
        json_object *s = json_object_array_get_idx(st, i);
        const char *sid = json_object_get_string(json_object_object_get(s, "Sid"));
        if (strcmp(sid, "AdoptUntaggedResources") != 0)
            continue;
        const char *acts[8];
        cr_expect_eq(strings(s, "Action", acts, 8), 1);
        cr_expect_str_eq(acts[0], "ec2:CreateTags", "adoption only writes our tags");
        cr_expect(owner_condition(s) &&
                      !strstr(json_object_to_json_string_ext(s, JSON_C_TO_STRING_NOSLASHESCAPE),
                              "ec2:CreateAction"),
                  "adoption writes tags only when the request sets the owner tag");
        adopt_seen = true;
    }
    cr_expect(targets_seen && adopt_seen);
    json_object_put(st);
}
