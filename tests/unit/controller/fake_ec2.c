/*
 * The in-memory EC2 stand-in of the controller's unit tests (see fake_ec2.h): a form decoder
 * for Query API bodies, the security-group actions the controller sends, and XML answers in
 * the shapes moto and AWS return.
 */
#include "fake_ec2.h"

#include "aws/private/aws_private.h"
#include "core/core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15\""

struct rule {
    bool egress;
    char *protocol;
    bool has_ports;
    int from, to;
    enum np_aws_peer_kind kind;
    char *peer;
    char *user_id;
    char *description;
};

struct tag {
    char *key, *value;
};

struct group {
    char *id, *name, *description, *vpc;
    struct tag *tags;
    size_t n_tags;
    struct rule *rules;
    size_t n_rules;
    bool in_use;
};

/* What the nth call of fail_action gets (fake_ec2_fail_nth, _ignore_nth, _lose_answer_nth). */
enum fail_mode {
    FAIL_REFUSED = 0, /* 403, nothing changed */
    FAIL_IGNORED,     /* success, nothing changed */
    FAIL_ANSWER_LOST, /* done, but the attempt times out before the answer arrives */
};

struct fake_ec2 {
    pthread_mutex_t lock;
    struct np_aws_test_hooks hooks;
    struct group *groups;
    size_t n_groups;
    int next_id;
    char **calls;
    size_t n_calls;
    char fail_action[128];
    int fail_nth; /* 0: none */
    int fail_seen;
    enum fail_mode fail_mode;
    bool hold_polls;         /* a poller's DescribeSecurityGroups waits (fake_ec2_hold_polls) */
    char unavailable[128];   /* this action answers 503 (fake_ec2_unavailable); "": none */
    pthread_cond_t released; /* signalled when hold_polls is cleared */
};

/* ---------------------------------------------------------------- form bodies */

struct form {
    char **keys, **vals;
    size_t n;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *form_decode(const char *s, size_t n)
{
    char *out = np_xcalloc(n + 1, 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static void form_parse(struct form *f, const char *body, size_t len)
{
    memset(f, 0, sizeof(*f));
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *seg_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(seg_end - p));
        f->keys = np_xrealloc(f->keys, (f->n + 1) * sizeof(*f->keys));
        f->vals = np_xrealloc(f->vals, (f->n + 1) * sizeof(*f->vals));
        f->keys[f->n] = form_decode(p, (size_t)((eq ? eq : seg_end) - p));
        f->vals[f->n] = eq ? form_decode(eq + 1, (size_t)(seg_end - eq - 1)) : np_strdup("");
        f->n++;
        p = seg_end + 1;
    }
}

static void form_clean_up(struct form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->keys[i]);
        free(f->vals[i]);
    }
    free(f->keys);
    free(f->vals);
}

static const char *form_get(const struct form *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->keys[i], key) == 0)
            return f->vals[i];
    return NULL;
}

static const char *form_getf(const struct form *f, char *key, size_t size, const char *fmt,
                             size_t a, size_t b)
{
    snprintf(key, size, fmt, a, b);
    return form_get(f, key);
}

/* ---------------------------------------------------------------- XML */

static void put_text(struct np_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': np_buf_puts(b, "&amp;"); break;
        case '<': np_buf_puts(b, "&lt;"); break;
        case '>': np_buf_puts(b, "&gt;"); break;
        case '"': np_buf_puts(b, "&quot;"); break;
        case '\'': np_buf_puts(b, "&apos;"); break;
        default: np_buf_putc(b, *s);
        }
    }
}

static void put_elem(struct np_buf *b, const char *name, const char *value)
{
    np_buf_appendf(b, "<%s>", name);
    put_text(b, value);
    np_buf_appendf(b, "</%s>", name);
}

static void reply(struct np_aws_http_response *resp, long status, struct np_buf *b)
{
    resp->transport = NP_AWS_TRANSPORT_OK;
    resp->status = status;
    np_buf_append(&resp->body, b->data ? b->data : "", b->len);
    np_buf_clean_up(b);
}

static void reply_error(struct np_aws_http_response *resp, long status, const char *code,
                        const char *message)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>");
    put_elem(&b, "Code", code);
    put_elem(&b, "Message", message);
    np_buf_puts(&b, "</Error></Errors><RequestID>fake-request</RequestID></Response>");
    reply(resp, status, &b);
}

static void reply_return(struct np_aws_http_response *resp, const char *action)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_appendf(&b,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse " NS
                   "><requestId>fake-request</requestId><return>true</return></%sResponse>",
                   action, action);
    reply(resp, 200, &b);
}

/* ---------------------------------------------------------------- groups and rules */

static struct group *find_group(struct fake_ec2 *f, const char *id)
{
    for (size_t i = 0; id && i < f->n_groups; i++)
        if (strcmp(f->groups[i].id, id) == 0)
            return &f->groups[i];
    return NULL;
}

static const char *group_tag(const struct group *g, const char *key)
{
    for (size_t i = 0; i < g->n_tags; i++)
        if (strcmp(g->tags[i].key, key) == 0)
            return g->tags[i].value;
    return NULL;
}

static void group_set_tag(struct group *g, const char *key, const char *value)
{
    for (size_t i = 0; i < g->n_tags; i++) {
        if (strcmp(g->tags[i].key, key) != 0)
            continue;
        if (value) {
            free(g->tags[i].value);
            g->tags[i].value = np_strdup(value);
        } else {
            free(g->tags[i].key);
            free(g->tags[i].value);
            g->tags[i] = g->tags[--g->n_tags];
        }
        return;
    }
    if (!value)
        return;
    g->tags = np_xrealloc(g->tags, (g->n_tags + 1) * sizeof(*g->tags));
    g->tags[g->n_tags++] = (struct tag){np_strdup(key), np_strdup(value)};
}

static void rule_clean_up(struct rule *r)
{
    free(r->protocol);
    free(r->peer);
    free(r->user_id);
    free(r->description);
}

static void group_clean_up(struct group *g)
{
    free(g->id);
    free(g->name);
    free(g->description);
    free(g->vpc);
    for (size_t i = 0; i < g->n_tags; i++) {
        free(g->tags[i].key);
        free(g->tags[i].value);
    }
    free(g->tags);
    for (size_t i = 0; i < g->n_rules; i++)
        rule_clean_up(&g->rules[i]);
    free(g->rules);
}

/* Protocol names as EC2 reports them. */
static const char *canon_protocol(const char *p)
{
    if (!p)
        return "";
    if (strcmp(p, "all") == 0 || strcmp(p, "-1") == 0)
        return "-1";
    if (strcmp(p, "6") == 0)
        return "tcp";
    if (strcmp(p, "17") == 0)
        return "udp";
    if (strcmp(p, "1") == 0)
        return "icmp";
    if (strcmp(p, "58") == 0)
        return "icmpv6";
    return p;
}

static bool same_rule(const struct rule *a, const struct rule *b)
{
    return a->egress == b->egress && strcmp(a->protocol, b->protocol) == 0 &&
           a->has_ports == b->has_ports &&
           (!a->has_ports || (a->from == b->from && a->to == b->to)) && a->kind == b->kind &&
           strcmp(a->peer, b->peer) == 0;
}

static struct rule *find_rule(struct group *g, const struct rule *want)
{
    for (size_t i = 0; g && i < g->n_rules; i++)
        if (same_rule(&g->rules[i], want))
            return &g->rules[i];
    return NULL;
}

static void group_add_rule(struct group *g, const struct rule *r)
{
    g->rules = np_xrealloc(g->rules, (g->n_rules + 1) * sizeof(*g->rules));
    struct rule *n = &g->rules[g->n_rules++];
    *n = *r;
    n->protocol = np_strdup(r->protocol);
    n->peer = np_strdup(r->peer);
    n->user_id = r->user_id ? np_strdup(r->user_id) : NULL;
    n->description = r->description ? np_strdup(r->description) : NULL;
}

static void group_remove_rule(struct group *g, struct rule *r)
{
    rule_clean_up(r);
    size_t i = (size_t)(r - g->rules);
    memmove(&g->rules[i], &g->rules[i + 1], (g->n_rules - i - 1) * sizeof(*r));
    g->n_rules--;
}

static struct group *new_group(struct fake_ec2 *f, const char *name, const char *description,
                               const char *vpc)
{
    f->groups = np_xrealloc(f->groups, (f->n_groups + 1) * sizeof(*f->groups));
    struct group *g = &f->groups[f->n_groups++];
    memset(g, 0, sizeof(*g));
    g->id = np_strdupf("sg-0fa4e%012d", ++f->next_id);
    g->name = np_strdup(name);
    g->description = np_strdup(description);
    g->vpc = np_strdup(vpc ? vpc : FAKE_EC2_DEFAULT_VPC);
    return g;
}

/* A rule built from the test's arguments (strings borrowed). */
static struct rule test_rule(bool egress, const char *protocol, int from, int to, const char *cidr)
{
    const char *p = canon_protocol(protocol);
    bool ports = strcmp(p, "-1") != 0;
    return (struct rule){egress,           (char *)p,      ports,
                         ports ? from : 0, ports ? to : 0, NP_AWS_PEER_CIDR4,
                         (char *)cidr,     NULL,           NULL};
}

/* ---------------------------------------------------------------- Describe */

static void put_perm(struct np_buf *b, const struct rule *r)
{
    np_buf_puts(b, "<item>");
    put_elem(b, "ipProtocol", r->protocol);
    if (r->has_ports)
        np_buf_appendf(b, "<fromPort>%d</fromPort><toPort>%d</toPort>", r->from, r->to);
    np_buf_puts(b, r->kind == NP_AWS_PEER_GROUP ? "<groups><item>" : "<groups/>");
    if (r->kind == NP_AWS_PEER_GROUP) {
        if (r->description)
            put_elem(b, "description", r->description);
        put_elem(b, "userId", r->user_id ? r->user_id : FAKE_EC2_OWNER);
        put_elem(b, "groupId", r->peer);
        np_buf_puts(b, "</item></groups>");
    }
    static const char *const lists[][2] = {
        [NP_AWS_PEER_CIDR4] = {"ipRanges", "cidrIp"},
        [NP_AWS_PEER_CIDR6] = {"ipv6Ranges", "cidrIpv6"},
        [NP_AWS_PEER_PREFIX_LIST] = {"prefixListIds", "prefixListId"},
    };
    for (int k = NP_AWS_PEER_CIDR4; k <= NP_AWS_PEER_PREFIX_LIST; k++) {
        if (r->kind != (enum np_aws_peer_kind)k) {
            np_buf_appendf(b, "<%s/>", lists[k][0]);
            continue;
        }
        np_buf_appendf(b, "<%s><item>", lists[k][0]);
        if (r->description)
            put_elem(b, "description", r->description);
        put_elem(b, lists[k][1], r->peer);
        np_buf_appendf(b, "</item></%s>", lists[k][0]);
    }
    np_buf_puts(b, "</item>");
}

static void put_group(struct np_buf *b, const struct group *g)
{
    np_buf_puts(b, "<item>");
    put_elem(b, "ownerId", FAKE_EC2_OWNER);
    put_elem(b, "groupId", g->id);
    put_elem(b, "groupName", g->name);
    put_elem(b, "groupDescription", g->description);
    put_elem(b, "vpcId", g->vpc);
    for (int eg = 0; eg < 2; eg++) {
        const char *list = eg ? "ipPermissionsEgress" : "ipPermissions";
        np_buf_appendf(b, "<%s>", list);
        for (size_t i = 0; i < g->n_rules; i++)
            if (g->rules[i].egress == (eg == 1))
                put_perm(b, &g->rules[i]);
        np_buf_appendf(b, "</%s>", list);
    }
    np_buf_puts(b, "<tagSet>");
    for (size_t i = 0; i < g->n_tags; i++) {
        np_buf_puts(b, "<item>");
        put_elem(b, "key", g->tags[i].key);
        put_elem(b, "value", g->tags[i].value);
        np_buf_puts(b, "</item>");
    }
    np_buf_puts(b, "</tagSet></item>");
}

/* Whether group g passes filter number i of the request (values ORed). */
static bool filter_passes(const struct form *req, size_t i, const struct group *g)
{
    char key[96];
    const char *name = form_getf(req, key, sizeof(key), "Filter.%zu.Name", i, 0);
    bool any = false;
    for (size_t j = 1;; j++) {
        const char *v = form_getf(req, key, sizeof(key), "Filter.%zu.Value.%zu", i, j);
        if (!v)
            break;
        if (strcmp(name, "tag-key") == 0)
            any |= group_tag(g, v) != NULL;
        else if (strncmp(name, "tag:", 4) == 0)
            any |= np_str_eq(group_tag(g, name + 4), v);
        else if (strcmp(name, "group-name") == 0)
            any |= strcmp(g->name, v) == 0;
        else if (strcmp(name, "vpc-id") == 0)
            any |= strcmp(g->vpc, v) == 0;
        else if (strcmp(name, "group-id") == 0)
            any |= strcmp(g->id, v) == 0;
    }
    return any;
}

static void describe_groups(struct fake_ec2 *f, const struct form *req,
                            struct np_aws_http_response *resp)
{
    char key[96];
    size_t n_ids = 0;
    while (form_getf(req, key, sizeof(key), "GroupId.%zu", n_ids + 1, 0))
        n_ids++;
    for (size_t k = 1; k <= n_ids; k++) {
        const char *id = form_getf(req, key, sizeof(key), "GroupId.%zu", k, 0);
        if (!find_group(f, id)) {
            char *msg = np_strdupf("The security group '%s' does not exist", id);
            reply_error(resp, 400, "InvalidGroup.NotFound", msg);
            free(msg);
            return;
        }
    }
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeSecurityGroupsResponse " NS
                "><requestId>fake-request</requestId><securityGroupInfo>");
    for (size_t gi = 0; gi < f->n_groups; gi++) {
        const struct group *g = &f->groups[gi];
        bool pass = n_ids == 0;
        for (size_t k = 1; k <= n_ids && !pass; k++)
            pass = strcmp(form_getf(req, key, sizeof(key), "GroupId.%zu", k, 0), g->id) == 0;
        for (size_t i = 1; pass && form_getf(req, key, sizeof(key), "Filter.%zu.Name", i, 0); i++)
            pass = filter_passes(req, i, g);
        if (pass)
            put_group(&b, g);
    }
    np_buf_puts(&b, "</securityGroupInfo></DescribeSecurityGroupsResponse>");
    reply(resp, 200, &b);
}

static void describe_vpcs(const struct form *req, struct np_aws_http_response *resp)
{
    (void)req; /* the one VPC is the default one: it passes isDefault=true */
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeVpcsResponse " NS
                    "><requestId>fake-request</requestId><vpcSet><item><ownerId>" FAKE_EC2_OWNER
                    "</ownerId><isDefault>true</isDefault><tagSet/><vpcId>" FAKE_EC2_DEFAULT_VPC
                    "</vpcId><state>available</state><cidrBlock>172.31.0.0/16</cidrBlock>"
                    "</item></vpcSet></DescribeVpcsResponse>");
    reply(resp, 200, &b);
}

/* ---------------------------------------------------------------- mutations */

static void create_group(struct fake_ec2 *f, const struct form *req,
                         struct np_aws_http_response *resp)
{
    const char *name = form_get(req, "GroupName");
    const char *desc = form_get(req, "GroupDescription");
    const char *vpc = form_get(req, "VpcId");
    if (!name || !desc) {
        reply_error(resp, 400, "MissingParameter", "GroupName and GroupDescription are required");
        return;
    }
    for (size_t i = 0; i < f->n_groups; i++) {
        if (strcmp(f->groups[i].name, name) == 0 &&
            strcmp(f->groups[i].vpc, vpc ? vpc : FAKE_EC2_DEFAULT_VPC) == 0) {
            char *msg = np_strdupf("The security group '%s' already exists for VPC '%s'", name,
                                   f->groups[i].vpc);
            reply_error(resp, 400, "InvalidGroup.Duplicate", msg);
            free(msg);
            return;
        }
    }
    struct group *g = new_group(f, name, desc, vpc);
    char key[96];
    for (size_t i = 1;; i++) {
        const char *k = form_getf(req, key, sizeof(key), "TagSpecification.1.Tag.%zu.Key", i, 0);
        if (!k)
            break;
        const char *v = form_getf(req, key, sizeof(key), "TagSpecification.1.Tag.%zu.Value", i, 0);
        group_set_tag(g, k, v ? v : "");
    }
    /* As EC2 does: a new group allows all egress. */
    struct rule all = test_rule(true, "-1", 0, 0, "0.0.0.0/0");
    group_add_rule(g, &all);
    struct np_buf b = NP_BUF_INIT;
    np_buf_appendf(&b,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateSecurityGroupResponse " NS
                   "><requestId>fake-request</requestId><return>true</return><groupId>%s</groupId>"
                   "</CreateSecurityGroupResponse>",
                   g->id);
    reply(resp, 200, &b);
}

static struct group *group_of_request(struct fake_ec2 *f, const char *id,
                                      struct np_aws_http_response *resp)
{
    struct group *g = find_group(f, id);
    if (!g) {
        char *msg = np_strdupf("The security group '%s' does not exist", id ? id : "");
        reply_error(resp, 400, "InvalidGroup.NotFound", msg);
        free(msg);
    }
    return g;
}

/* The IpPermissions.N of a request as atomic rules (strings borrowed from req). */
static size_t request_rules(const struct form *req, bool egress, struct rule *out, size_t max)
{
    static const struct {
        const char *list, *field;
        enum np_aws_peer_kind kind;
    } peers[] = {
        {"IpRanges", "CidrIp", NP_AWS_PEER_CIDR4},
        {"Ipv6Ranges", "CidrIpv6", NP_AWS_PEER_CIDR6},
        {"PrefixListIds", "PrefixListId", NP_AWS_PEER_PREFIX_LIST},
        {"Groups", "GroupId", NP_AWS_PEER_GROUP},
    };
    char key[128];
    size_t n = 0;
    for (size_t i = 1; n < max; i++) {
        const char *proto = form_getf(req, key, sizeof(key), "IpPermissions.%zu.IpProtocol", i, 0);
        if (!proto)
            break;
        const char *from = form_getf(req, key, sizeof(key), "IpPermissions.%zu.FromPort", i, 0);
        const char *to = form_getf(req, key, sizeof(key), "IpPermissions.%zu.ToPort", i, 0);
        for (size_t k = 0; k < NP_ARRAY_LEN(peers) && n < max; k++) {
            for (size_t j = 1; n < max; j++) {
                char pk[128];
                snprintf(pk, sizeof(pk), "IpPermissions.%zu.%s.%zu.%s", i, peers[k].list, j,
                         peers[k].field);
                const char *peer = form_get(req, pk);
                if (!peer)
                    break;
                snprintf(pk, sizeof(pk), "IpPermissions.%zu.%s.%zu.Description", i, peers[k].list,
                         j);
                const char *desc = form_get(req, pk);
                snprintf(pk, sizeof(pk), "IpPermissions.%zu.Groups.%zu.UserId", i, j);
                const char *p = canon_protocol(proto);
                bool ports = strcmp(p, "-1") != 0 && from && to;
                int64_t a = 0, b = 0;
                if (ports) {
                    np_parse_int64(from, -1, 65535, &a);
                    np_parse_int64(to, -1, 65535, &b);
                }
                out[n++] = (struct rule){
                    egress,
                    (char *)p,
                    ports,
                    (int)a,
                    (int)b,
                    peers[k].kind,
                    (char *)peer,
                    peers[k].kind == NP_AWS_PEER_GROUP ? (char *)form_get(req, pk) : NULL,
                    (char *)desc};
            }
        }
    }
    return n;
}

#define MAX_REQ_RULES 256

static void change_rules(struct fake_ec2 *f, const char *action, const struct form *req,
                         struct np_aws_http_response *resp)
{
    bool egress = strstr(action, "Egress") != NULL;
    struct group *g = group_of_request(f, form_get(req, "GroupId"), resp);
    if (!g)
        return;
    struct rule rules[MAX_REQ_RULES];
    size_t n = request_rules(req, egress, rules, MAX_REQ_RULES);
    if (n == 0) {
        reply_error(resp, 400, "MissingParameter", "no IpPermissions");
        return;
    }
    bool authorize = strncmp(action, "Authorize", 9) == 0;
    bool revoke = strncmp(action, "Revoke", 6) == 0;
    /* All or nothing, as EC2: check every rule first. */
    for (size_t i = 0; i < n; i++) {
        bool exists = find_rule(g, &rules[i]) != NULL;
        if (authorize && exists) {
            reply_error(resp, 400, "InvalidPermission.Duplicate",
                        "the specified rule already exists");
            return;
        }
        if (!authorize && !exists) {
            reply_error(resp, 400, "InvalidPermission.NotFound",
                        "The specified rule does not exist in this security group.");
            return;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct rule *have = find_rule(g, &rules[i]);
        if (authorize) {
            group_add_rule(g, &rules[i]);
        } else if (revoke) {
            group_remove_rule(g, have);
        } else {
            free(have->description);
            have->description = rules[i].description ? np_strdup(rules[i].description) : NULL;
        }
    }
    reply_return(resp, action);
}

static void change_tags(struct fake_ec2 *f, bool create, const struct form *req,
                        struct np_aws_http_response *resp)
{
    struct group *g = group_of_request(f, form_get(req, "ResourceId.1"), resp);
    if (!g)
        return;
    char key[96];
    for (size_t i = 1;; i++) {
        const char *k = form_getf(req, key, sizeof(key), "Tag.%zu.Key", i, 0);
        if (!k)
            break;
        const char *v = form_getf(req, key, sizeof(key), "Tag.%zu.Value", i, 0);
        if (create)
            group_set_tag(g, k, v ? v : "");
        else if (!v || np_str_eq(group_tag(g, k), v))
            group_set_tag(g, k, NULL);
    }
    reply_return(resp, create ? "CreateTags" : "DeleteTags");
}

static void delete_group(struct fake_ec2 *f, const struct form *req,
                         struct np_aws_http_response *resp)
{
    struct group *g = group_of_request(f, form_get(req, "GroupId"), resp);
    if (!g)
        return;
    if (g->in_use) {
        char *msg = np_strdupf("resource %s has a dependent object", g->id);
        reply_error(resp, 400, "DependencyViolation", msg);
        free(msg);
        return;
    }
    group_clean_up(g);
    size_t i = (size_t)(g - f->groups);
    memmove(&f->groups[i], &f->groups[i + 1], (f->n_groups - i - 1) * sizeof(*g));
    f->n_groups--;
    reply_return(resp, "DeleteSecurityGroup");
}

/* ---------------------------------------------------------------- the transport */

static void transport(void *ctx, const struct np_aws_http_request *hreq,
                      struct np_aws_http_response *resp)
{
    struct fake_ec2 *f = ctx;
    struct form req;
    form_parse(&req, hreq->body ? hreq->body : "", hreq->body ? hreq->body_len : 0);
    const char *action = form_get(&req, "Action");
    if (!action)
        action = "";
    pthread_mutex_lock(&f->lock);
    if (strcmp(action, "DescribeSecurityGroups") == 0 &&
        np_str_eq(form_get(&req, "Filter.1.Name"), "tag-key")) {
        /* a poll: wait while held (10 s at most, so a broken test cannot hang) */
        struct timespec ts = np_time_mono_after(10000);
        while (f->hold_polls && pthread_cond_timedwait(&f->released, &f->lock, &ts) == 0)
            ;
    }
    f->calls = np_xrealloc(f->calls, (f->n_calls + 1) * sizeof(*f->calls));
    f->calls[f->n_calls++] = np_strdup(action);
    bool fail =
        f->fail_nth > 0 && strcmp(action, f->fail_action) == 0 && ++f->fail_seen == f->fail_nth;
    enum fail_mode mode = f->fail_mode;
    if (fail)
        f->fail_nth = 0;
    if (f->unavailable[0] && strcmp(action, f->unavailable) == 0) {
        reply_error(resp, 503, "Unavailable", "The service is unavailable (injected by the test)");
    } else if (fail && mode == FAIL_IGNORED) {
        reply_return(resp, action);
    } else if (fail && mode == FAIL_REFUSED) {
        reply_error(resp, 403, "UnauthorizedOperation",
                    "You are not authorized to perform this operation (injected by the test)");
    } else if (strcmp(action, "DescribeSecurityGroups") == 0) {
        describe_groups(f, &req, resp);
    } else if (strcmp(action, "DescribeVpcs") == 0) {
        describe_vpcs(&req, resp);
    } else if (strcmp(action, "CreateSecurityGroup") == 0) {
        create_group(f, &req, resp);
    } else if (strcmp(action, "DeleteSecurityGroup") == 0) {
        delete_group(f, &req, resp);
    } else if (strncmp(action, "AuthorizeSecurityGroup", 22) == 0 ||
               strncmp(action, "RevokeSecurityGroup", 19) == 0 ||
               strncmp(action, "UpdateSecurityGroupRuleDescriptions", 35) == 0) {
        change_rules(f, action, &req, resp);
    } else if (strcmp(action, "CreateTags") == 0 || strcmp(action, "DeleteTags") == 0) {
        change_tags(f, strcmp(action, "CreateTags") == 0, &req, resp);
    } else {
        reply_error(resp, 400, "InvalidAction", "the fake EC2 does not implement this action");
    }
    if (fail && mode == FAIL_ANSWER_LOST) { /* done above; the client never hears of it */
        np_buf_reset(&resp->body);
        resp->status = 0;
        resp->transport = NP_AWS_TRANSPORT_TIMEOUT;
        np_strlcpy(resp->error, "timed out (the answer was lost: injected by the test)",
                   sizeof(resp->error));
    }
    pthread_mutex_unlock(&f->lock);
    form_clean_up(&req);
}

static void no_sleep(void *ctx, int64_t ms)
{
    (void)ctx;
    (void)ms; /* retries and client-side rate limits never wait in unit tests */
}

/* ---------------------------------------------------------------- the test's side */

struct fake_ec2 *fake_ec2_new(void)
{
    struct fake_ec2 *f = np_xcalloc(1, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->released, &ca);
    pthread_condattr_destroy(&ca);
    f->hooks.transport = transport;
    f->hooks.sleep_ms = no_sleep;
    f->hooks.ctx = f;
    return f;
}

void fake_ec2_destroy(struct fake_ec2 *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_groups; i++)
        group_clean_up(&f->groups[i]);
    free(f->groups);
    for (size_t i = 0; i < f->n_calls; i++)
        free(f->calls[i]);
    free(f->calls);
    pthread_cond_destroy(&f->released);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

const struct np_aws_test_hooks *fake_ec2_hooks(struct fake_ec2 *f)
{
    return &f->hooks;
}

const char *fake_ec2_add_group(struct fake_ec2 *f, const char *name, const char *description,
                               const char *vpc)
{
    pthread_mutex_lock(&f->lock);
    const char *id = new_group(f, name, description, vpc)->id;
    pthread_mutex_unlock(&f->lock);
    return id;
}

bool fake_ec2_set_tag(struct fake_ec2 *f, const char *group_id, const char *key, const char *value)
{
    pthread_mutex_lock(&f->lock);
    struct group *g = find_group(f, group_id);
    if (g)
        group_set_tag(g, key, value);
    pthread_mutex_unlock(&f->lock);
    return g != NULL;
}

bool fake_ec2_add_rule(struct fake_ec2 *f, const char *group_id, bool egress, const char *protocol,
                       int from, int to, const char *cidr, const char *description)
{
    struct rule r = test_rule(egress, protocol, from, to, cidr);
    r.description = (char *)description;
    pthread_mutex_lock(&f->lock);
    struct group *g = find_group(f, group_id);
    bool ok = g && !find_rule(g, &r);
    if (ok)
        group_add_rule(g, &r);
    pthread_mutex_unlock(&f->lock);
    return ok;
}

bool fake_ec2_remove_rule(struct fake_ec2 *f, const char *group_id, bool egress,
                          const char *protocol, int from, int to, const char *cidr)
{
    struct rule r = test_rule(egress, protocol, from, to, cidr);
    pthread_mutex_lock(&f->lock);
    struct group *g = find_group(f, group_id);
    struct rule *have = find_rule(g, &r);
    if (have)
        group_remove_rule(g, have);
    pthread_mutex_unlock(&f->lock);
    return have != NULL;
}

bool fake_ec2_set_rule_description(struct fake_ec2 *f, const char *group_id, bool egress,
                                   const char *protocol, int from, int to, const char *cidr,
                                   const char *description)
{
    struct rule r = test_rule(egress, protocol, from, to, cidr);
    pthread_mutex_lock(&f->lock);
    struct rule *have = find_rule(find_group(f, group_id), &r);
    if (have) {
        free(have->description);
        have->description = description ? np_strdup(description) : NULL;
    }
    pthread_mutex_unlock(&f->lock);
    return have != NULL;
}

bool fake_ec2_set_in_use(struct fake_ec2 *f, const char *group_id, bool in_use)
{
    pthread_mutex_lock(&f->lock);
    struct group *g = find_group(f, group_id);
    if (g)
        g->in_use = in_use;
    pthread_mutex_unlock(&f->lock);
    return g != NULL;
}

size_t fake_ec2_group_count(struct fake_ec2 *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->n_groups;
    pthread_mutex_unlock(&f->lock);
    return n;
}

char *fake_ec2_group_by_name(struct fake_ec2 *f, const char *name)
{
    char *id = NULL;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n_groups && !id; i++)
        if (strcmp(f->groups[i].name, name) == 0)
            id = np_strdup(f->groups[i].id);
    pthread_mutex_unlock(&f->lock);
    return id;
}

bool fake_ec2_group_exists(struct fake_ec2 *f, const char *group_id)
{
    pthread_mutex_lock(&f->lock);
    bool found = find_group(f, group_id) != NULL;
    pthread_mutex_unlock(&f->lock);
    return found;
}

char *fake_ec2_tag(struct fake_ec2 *f, const char *group_id, const char *key)
{
    pthread_mutex_lock(&f->lock);
    struct group *g = find_group(f, group_id);
    char *v = g ? np_strdup(group_tag(g, key)) : NULL;
    pthread_mutex_unlock(&f->lock);
    return v;
}

size_t fake_ec2_tag_count(struct fake_ec2 *f, const char *group_id)
{
    pthread_mutex_lock(&f->lock);
    struct group *g = find_group(f, group_id);
    size_t n = g ? g->n_tags : 0;
    pthread_mutex_unlock(&f->lock);
    return n;
}

bool fake_ec2_has_rule(struct fake_ec2 *f, const char *group_id, bool egress, const char *protocol,
                       int from, int to, const char *cidr)
{
    struct rule r = test_rule(egress, protocol, from, to, cidr);
    pthread_mutex_lock(&f->lock);
    bool found = find_rule(find_group(f, group_id), &r) != NULL;
    pthread_mutex_unlock(&f->lock);
    return found;
}

bool fake_ec2_has_group_rule(struct fake_ec2 *f, const char *group_id, bool egress,
                             const char *protocol, int from, int to, const char *peer_group_id)
{
    struct rule r = test_rule(egress, protocol, from, to, peer_group_id);
    r.kind = NP_AWS_PEER_GROUP;
    pthread_mutex_lock(&f->lock);
    bool found = find_rule(find_group(f, group_id), &r) != NULL;
    pthread_mutex_unlock(&f->lock);
    return found;
}

char *fake_ec2_rule_description(struct fake_ec2 *f, const char *group_id, bool egress,
                                const char *protocol, int from, int to, const char *cidr)
{
    struct rule r = test_rule(egress, protocol, from, to, cidr);
    pthread_mutex_lock(&f->lock);
    struct rule *have = find_rule(find_group(f, group_id), &r);
    char *d = have ? np_strdup(have->description ? have->description : "") : NULL;
    pthread_mutex_unlock(&f->lock);
    return d;
}

size_t fake_ec2_rule_count(struct fake_ec2 *f, const char *group_id, bool egress)
{
    size_t n = 0;
    pthread_mutex_lock(&f->lock);
    struct group *g = find_group(f, group_id);
    for (size_t i = 0; g && i < g->n_rules; i++)
        n += g->rules[i].egress == egress;
    pthread_mutex_unlock(&f->lock);
    return n;
}

int fake_ec2_calls(struct fake_ec2 *f, const char *action)
{
    int n = 0;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n_calls; i++)
        n += strcmp(f->calls[i], action) == 0;
    pthread_mutex_unlock(&f->lock);
    return n;
}

int fake_ec2_mutations(struct fake_ec2 *f)
{
    int n = 0;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n_calls; i++)
        n += strncmp(f->calls[i], "Describe", 8) != 0 &&
             strcmp(f->calls[i], "GetCallerIdentity") != 0;
    pthread_mutex_unlock(&f->lock);
    return n;
}

char *fake_ec2_call_log(struct fake_ec2 *f)
{
    struct np_buf b = NP_BUF_INIT;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n_calls; i++)
        np_buf_appendf(&b, "%s\n", f->calls[i]);
    pthread_mutex_unlock(&f->lock);
    return np_buf_take(&b);
}

void fake_ec2_reset_calls(struct fake_ec2 *f)
{
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n_calls; i++)
        free(f->calls[i]);
    f->n_calls = 0;
    pthread_mutex_unlock(&f->lock);
}

static void fail_nth(struct fake_ec2 *f, const char *action, int nth, enum fail_mode mode)
{
    pthread_mutex_lock(&f->lock);
    np_strlcpy(f->fail_action, action, sizeof(f->fail_action));
    f->fail_nth = nth;
    f->fail_seen = 0;
    f->fail_mode = mode;
    pthread_mutex_unlock(&f->lock);
}

void fake_ec2_fail_nth(struct fake_ec2 *f, const char *action, int nth)
{
    fail_nth(f, action, nth, FAIL_REFUSED);
}

void fake_ec2_ignore_nth(struct fake_ec2 *f, const char *action, int nth)
{
    fail_nth(f, action, nth, FAIL_IGNORED);
}

void fake_ec2_lose_answer_nth(struct fake_ec2 *f, const char *action, int nth)
{
    fail_nth(f, action, nth, FAIL_ANSWER_LOST);
}

void fake_ec2_hold_polls(struct fake_ec2 *f, bool hold)
{
    pthread_mutex_lock(&f->lock);
    f->hold_polls = hold;
    if (!hold)
        pthread_cond_broadcast(&f->released);
    pthread_mutex_unlock(&f->lock);
}

void fake_ec2_unavailable(struct fake_ec2 *f, const char *action)
{
    pthread_mutex_lock(&f->lock);
    np_strlcpy(f->unavailable, action ? action : "", sizeof(f->unavailable));
    pthread_mutex_unlock(&f->lock);
}
