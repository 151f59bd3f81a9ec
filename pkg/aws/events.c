/*
 * CloudTrail events as the SQS consumer receives them: an EventBridge envelope around a
 * CloudTrail record of an EC2 API call (or the bare record), parsed with json-c into who did
 * what, when, and which EC2 resources it touched. Pure: no I/O, no clock, no globals.
 */
#include "aws/aws.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BODY (1024 * 1024)
#define JSON_DEPTH 64
#define MAX_WALK_DEPTH 16
#define MAX_ID_LEN 64

#define CLOUDTRAIL_DETAIL_TYPE "AWS API Call via CloudTrail"
#define EC2_SOURCE "aws.ec2"
#define EC2_EVENT_SOURCE "ec2.amazonaws.com"

void np_aws_event_clean_up(struct np_aws_event *ev)
{
    if (!ev)
        return;
    free(ev->event_id);
    free(ev->event_name);
    free(ev->region);
    free(ev->account);
    free(ev->actor);
    free(ev->actor_type);
    free(ev->error_code);
    for (size_t i = 0; i < ev->n_resource_ids; i++)
        free(ev->resource_ids[i]);
    free(ev->resource_ids);
    memset(ev, 0, sizeof(*ev));
}

/* ---------------------------------------------------------------- JSON access */

/*
 * Reads the string member key of obj (described as `where` in messages) into *out (borrowed).
 * Absent or null: *out = NULL, and NP_EPARSE when required. Any other type: NP_EPARSE.
 */
static int get_str(json_object *obj, const char *where, const char *key, bool required,
                   const char **out)
{
    json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !v) {
        if (required)
            return np_error_set(NP_EPARSE, "event: %s has no %s", where, key);
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return np_error_set(NP_EPARSE, "event: %s.%s is not a string", where, key);
    *out = json_object_get_string(v);
    return 0;
}

/* The object member key (NULL when absent or null); NP_EPARSE for any other type. */
static int get_obj(json_object *obj, const char *where, const char *key, json_object **out)
{
    json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_object))
        return np_error_set(NP_EPARSE, "event: %s.%s is not an object", where, key);
    *out = v;
    return 0;
}

static bool has(json_object *obj, const char *key)
{
    return json_object_object_get_ex(obj, key, NULL);
}

static int parse_json(const char *body, size_t len, json_object **out)
{
    json_tokener *tok = NULL;
    json_object *obj = NULL;
    int rc = 0;
    *out = NULL;
    if (!body || len == 0)
        return np_error_set(NP_EPARSE, "event: empty message body");
    if (len > MAX_BODY)
        return np_error_set(NP_EPARSE, "event: message body too large (%zu bytes)", len);
    tok = json_tokener_new_ex(JSON_DEPTH);
    if (!tok)
        return np_error_set(NP_ENOMEM, "event: out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    obj = json_tokener_parse_ex(tok, body, (int)len);
    size_t end = json_tokener_get_parse_end(tok);
    if (!obj && json_tokener_get_error(tok) == json_tokener_continue) {
        /* a document that ends the input is complete once the end is seen */
        obj = json_tokener_parse_ex(tok, "", 1);
        end = len;
    }
    if (!obj) {
        rc = np_error_set(NP_EPARSE, "event: malformed JSON (%s)",
                          json_tokener_error_desc(json_tokener_get_error(tok)));
        goto out;
    }
    for (size_t i = end; i < len; i++) {
        char c = body[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            rc = np_error_set(NP_EPARSE, "event: trailing data after the JSON at byte %zu", i);
            goto out;
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        rc = np_error_set(NP_EPARSE, "event: the message body is not a JSON object");
        goto out;
    }
    *out = obj;
    obj = NULL;
out:
    json_object_put(obj);
    json_tokener_free(tok);
    return rc;
}

/* ---------------------------------------------------------------- resource ids */

/* Keys whose values name the resource a call changes, and the id prefix they must carry. */
static const struct {
    const char *key;
    const char *prefix; /* NULL: any EC2 id */
} id_keys[] = {
    {"groupId", "sg-"},       {"vpcId", "vpc-"},        {"subnetId", "subnet-"},
    {"routeTableId", "rtb-"}, {"networkAclId", "acl-"}, {"flowLogId", "fl-"},
    {"flowLogIds", "fl-"},    {"flowLogIdSet", "fl-"},  {"resourceId", NULL},
    {"resourceIds", NULL},
};

/*
 * Subtrees that name OTHER resources: the peers of a rule (a group allowed in is not the group
 * being changed), the groups of an instance or interface, tags.
 */
static const char *const skip_keys[] = {
    "ipPermissions",
    "ipPermissionsEgress",
    "groups",
    "userIdGroupPairs",
    "referencedGroupInfo",
    "referencedGroupId",
    "groupSet",
    "unknownIpPermissionSet",
    "prefixListIds",
    "tagSet",
    "tagSpecificationSet",
    "tagSpecifications",
    "networkInterfaceSet",
};

struct ids {
    char **v;
    size_t n;
    bool truncated;
};

/* "sg-0a1b2c", "vpc-1", "i-0abc": lowercase letters, a dash, then letters and digits. */
static bool id_shaped(const char *s, const char *prefix)
{
    size_t len = strlen(s);
    if (len < 3 || len > MAX_ID_LEN || (prefix && !np_str_has_prefix(s, prefix)))
        return false;
    const char *p = s;
    while (*p >= 'a' && *p <= 'z')
        p++;
    if (p == s || *p != '-' || !p[1])
        return false;
    for (p++; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static void add_id(struct ids *ids, const char *id, const char *prefix)
{
    if (!id_shaped(id, prefix))
        return;
    for (size_t i = 0; i < ids->n; i++)
        if (strcmp(ids->v[i], id) == 0)
            return;
    if (ids->n >= NP_AWS_EVENT_MAX_RESOURCES) {
        ids->truncated = true;
        return;
    }
    ids->v = np_xrealloc(ids->v, (ids->n + 1) * sizeof(*ids->v));
    ids->v[ids->n++] = np_strdup(id);
}

static bool key_in(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(key, list[i]) == 0)
            return true;
    return false;
}

static void walk(json_object *v, struct ids *ids, int depth);

/* The value of an id key: a string, a list of them, {"content": ...} (the wrapped form newer
 * EC2 actions log), or an object with items to walk. */
static void collect(json_object *v, const char *prefix, struct ids *ids, int depth)
{
    if (!v || depth > MAX_WALK_DEPTH)
        return;
    switch (json_object_get_type(v)) {
    case json_type_string: add_id(ids, json_object_get_string(v), prefix); break;
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++)
            collect(json_object_array_get_idx(v, i), prefix, ids, depth + 1);
        break;
    case json_type_object: {
        json_object *content = NULL;
        if (json_object_object_get_ex(v, "content", &content))
            collect(content, prefix, ids, depth + 1);
        else
            walk(v, ids, depth + 1);
        break;
    }
    default: break;
    }
}

static void walk(json_object *v, struct ids *ids, int depth)
{
    if (!v || depth > MAX_WALK_DEPTH)
        return;
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++)
            walk(json_object_array_get_idx(v, i), ids, depth + 1);
        return;
    }
    if (!json_object_is_type(v, json_type_object))
        return;
    json_object_object_foreach(v, key, val)
    {
        if (key_in(key, skip_keys, NP_ARRAY_LEN(skip_keys)))
            continue;
        bool is_id = false;
        for (size_t i = 0; i < NP_ARRAY_LEN(id_keys) && !is_id; i++) {
            if (strcasecmp(key, id_keys[i].key) == 0) {
                collect(val, id_keys[i].prefix, ids, depth + 1);
                is_id = true;
            }
        }
        if (!is_id)
            walk(val, ids, depth + 1);
    }
}

/* ---------------------------------------------------------------- the record */

/* What the EventBridge envelope says, as fallbacks for the record. Borrowed. */
struct envelope {
    const char *id;
    const char *time;
    const char *region;
    const char *account;
};

static int parse_record(json_object *rec, const char *where, const struct envelope *env,
                        struct np_aws_event *out)
{
    const char *source = NULL, *name = NULL, *time_s = NULL, *region = NULL, *id = NULL;
    const char *type = NULL, *recipient = NULL, *error_code = NULL;
    const char *arn = NULL, *actor_type = NULL, *actor_account = NULL;
    json_object *who = NULL, *params = NULL, *response = NULL;
    struct ids ids = {NULL, 0, false};
    int rc = get_str(rec, where, "eventSource", true, &source);
    if (rc == 0 && strcmp(source, EC2_EVENT_SOURCE) != 0)
        return np_error_set(NP_ENOTSUP, "event: eventSource %.64s is not %s", source,
                            EC2_EVENT_SOURCE);
    if (rc == 0)
        rc = get_str(rec, where, "eventName", true, &name);
    if (rc == 0 && !*name)
        rc = np_error_set(NP_EPARSE, "event: %s.eventName is empty", where);
    if (rc == 0)
        rc = get_str(rec, where, "eventType", false, &type);
    if (rc == 0 && type && strcmp(type, "AwsApiCall") != 0)
        return np_error_set(NP_ENOTSUP, "event: eventType %.64s is not an API call", type);
    if (rc == 0)
        rc = get_str(rec, where, "eventTime", false, &time_s);
    if (rc == 0)
        rc = get_str(rec, where, "awsRegion", false, &region);
    if (rc == 0)
        rc = get_str(rec, where, "eventID", false, &id);
    if (rc == 0)
        rc = get_str(rec, where, "recipientAccountId", false, &recipient);
    if (rc == 0)
        rc = get_str(rec, where, "errorCode", false, &error_code);
    if (rc == 0)
        rc = get_obj(rec, where, "userIdentity", &who);
    if (rc == 0 && who)
        rc = get_str(who, "userIdentity", "arn", false, &arn);
    if (rc == 0 && who)
        rc = get_str(who, "userIdentity", "type", false, &actor_type);
    if (rc == 0 && who)
        rc = get_str(who, "userIdentity", "accountId", false, &actor_account);
    /* the changed resources: requestParameters first, then responseElements */
    if (rc == 0)
        rc = get_obj(rec, where, "requestParameters", &params);
    if (rc == 0)
        rc = get_obj(rec, where, "responseElements", &response);
    if (rc)
        return rc;

    if (!time_s)
        time_s = env->time;
    if (!region)
        region = env->region;
    if (!id)
        id = env->id;
    if (np_str_is_empty(time_s))
        return np_error_set(NP_EPARSE, "event: %s has no eventTime", where);
    if (np_str_is_empty(region))
        return np_error_set(NP_EPARSE, "event: %s has no awsRegion", where);
    if (np_str_is_empty(id))
        return np_error_set(NP_EPARSE, "event: %s has no eventID", where);
    int64_t time_ms = 0;
    if (np_time_parse_rfc3339(time_s, &time_ms) != 0)
        return np_error_set(NP_EPARSE, "event: eventTime \"%.40s\" is not an RFC 3339 time",
                            time_s);

    walk(params, &ids, 0);
    walk(response, &ids, 0);

    const char *account = env->account;
    if (np_str_is_empty(account))
        account = recipient;
    if (np_str_is_empty(account))
        account = actor_account;
    out->event_id = np_strdup(id);
    out->event_name = np_strdup(name);
    out->event_ms = time_ms;
    out->region = np_strdup(region);
    out->account = np_str_is_empty(account) ? NULL : np_strdup(account);
    out->actor = np_str_is_empty(arn) ? NULL : np_strdup(arn);
    out->actor_type = np_str_is_empty(actor_type) ? NULL : np_strdup(actor_type);
    out->error_code = np_str_is_empty(error_code) ? NULL : np_strdup(error_code);
    out->resource_ids = ids.v;
    out->n_resource_ids = ids.n;
    out->resources_truncated = ids.truncated;
    return 0;
}

/* ---------------------------------------------------------------- the message */

int np_aws_event_parse(const char *body, size_t len, struct np_aws_event *out)
{
    json_object *root = NULL, *detail = NULL;
    struct envelope env = {NULL, NULL, NULL, NULL};
    memset(out, 0, sizeof(*out));
    int rc = parse_json(body, len, &root);
    if (rc)
        return rc;

    if (np_str_eq(np_json_path_str(root, "Type", NP_JSON_END), "Notification") &&
        has(root, "TopicArn")) {
        rc = np_error_set(NP_ENOTSUP, "event: an SNS notification, not a CloudTrail event (turn "
                                      "on raw message delivery for the SQS subscription)");
    } else if (json_object_is_type(np_json_path(root, "Records", NP_JSON_END), json_type_array)) {
        rc = np_error_set(NP_ENOTSUP, "event: an event notification with Records (S3 or "
                                      "similar), not a CloudTrail API call");
    } else if (has(root, "detail-type") || has(root, "detail")) {
        const char *detail_type = NULL, *source = NULL;
        rc = get_str(root, "the EventBridge envelope", "detail-type", true, &detail_type);
        if (rc == 0)
            rc = get_str(root, "the EventBridge envelope", "source", true, &source);
        if (rc == 0 && strcmp(detail_type, CLOUDTRAIL_DETAIL_TYPE) != 0)
            rc = np_error_set(NP_ENOTSUP, "event: detail-type \"%.64s\" from %.64s is not \"%s\"",
                              detail_type, source, CLOUDTRAIL_DETAIL_TYPE);
        else if (rc == 0 && strcmp(source, EC2_SOURCE) != 0)
            rc = np_error_set(NP_ENOTSUP, "event: source %.64s is not %s", source, EC2_SOURCE);
        if (rc == 0)
            rc = get_obj(root, "the EventBridge envelope", "detail", &detail);
        if (rc == 0 && !detail)
            rc = np_error_set(NP_EPARSE, "event: the EventBridge envelope has no detail");
        if (rc == 0)
            rc = get_str(root, "the EventBridge envelope", "id", false, &env.id);
        if (rc == 0)
            rc = get_str(root, "the EventBridge envelope", "time", false, &env.time);
        if (rc == 0)
            rc = get_str(root, "the EventBridge envelope", "region", false, &env.region);
        if (rc == 0)
            rc = get_str(root, "the EventBridge envelope", "account", false, &env.account);
        if (rc == 0)
            rc = parse_record(detail, "detail", &env, out);
    } else if (has(root, "eventSource") || has(root, "eventName")) {
        rc = parse_record(root, "the CloudTrail record", &env, out);
    } else {
        rc = np_error_set(NP_EPARSE, "event: neither an EventBridge envelope nor a CloudTrail "
                                     "record (no detail-type, detail or eventSource)");
    }
    if (rc)
        np_aws_event_clean_up(out);
    json_object_put(root);
    return rc;
}

/* ---------------------------------------------------------------- verification */

/* The string member at the path, NULL when absent, null or not a string. */
static const char *str_at(json_object *o, const char *a, const char *b)
{
    json_object *v = b ? np_json_path(o, a, b, NP_JSON_END) : np_json_path(o, a, NP_JSON_END);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A claim of the message and what the record says must be equal (both absent counts). */
static int same(const char *what, const char *claimed, const char *recorded)
{
    if (np_str_eq(claimed, recorded))
        return 0;
    return np_error_set(NP_EDENIED,
                        "event: the message claims %s \"%.128s\" but CloudTrail recorded "
                        "\"%.128s\"",
                        what, claimed ? claimed : "(none)", recorded ? recorded : "(none)");
}

int np_aws_event_verify(const char *body, size_t len, const char *record, size_t rec_len)
{
    json_object *root = NULL, *rec = NULL;
    int rc = parse_json(body, len, &root);
    if (rc == 0)
        rc = parse_json(record, rec_len, &rec);
    if (rc)
        goto out;
    json_object *claim = root;
    const char *env_account = NULL;
    json_object *detail = NULL;
    if (json_object_object_get_ex(root, "detail", &detail) &&
        json_object_is_type(detail, json_type_object)) {
        claim = detail;
        env_account = str_at(root, "account", NULL);
    }
    rc = same("eventID", str_at(claim, "eventID", NULL), str_at(rec, "eventID", NULL));
    if (rc == 0)
        rc = same("eventName", str_at(claim, "eventName", NULL), str_at(rec, "eventName", NULL));
    if (rc == 0)
        rc = same("eventSource", str_at(claim, "eventSource", NULL),
                  str_at(rec, "eventSource", NULL));
    if (rc == 0)
        rc = same("awsRegion", str_at(claim, "awsRegion", NULL), str_at(rec, "awsRegion", NULL));
    if (rc == 0)
        rc = same("userIdentity.arn", str_at(claim, "userIdentity", "arn"),
                  str_at(rec, "userIdentity", "arn"));
    if (rc == 0)
        rc = same("errorCode", str_at(claim, "errorCode", NULL), str_at(rec, "errorCode", NULL));
    const char *recipient = str_at(rec, "recipientAccountId", NULL);
    const char *claimed_recipient = str_at(claim, "recipientAccountId", NULL);
    if (rc == 0 && claimed_recipient)
        rc = same("recipientAccountId", claimed_recipient, recipient);
    if (rc == 0 && env_account)
        rc = same("account", env_account, recipient);
    if (rc == 0) {
        json_object *a = np_json_path(claim, "requestParameters", NP_JSON_END);
        json_object *b = np_json_path(rec, "requestParameters", NP_JSON_END);
        if (!json_object_equal(a, b))
            rc = np_error_set(NP_EDENIED, "event: the message's requestParameters differ from "
                                          "what CloudTrail recorded");
    }
out:
    json_object_put(root);
    json_object_put(rec);
    return rc;
}
