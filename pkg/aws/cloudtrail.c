/*
 * CloudTrail LookupEvents by event id (JSON 1.1 protocol through the shared client core, signed
 * for service "cloudtrail", 2 requests/s per client): the source an SQS sender cannot write,
 * used to verify the actor an event message claims. Also the JSON protocol error decoder.
 */
#include "aws/private/aws_private.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define LOOKUP_TARGET "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
#define MAX_ANSWER (4 * 1024 * 1024)
#define JSON_DEPTH 64
#define MAX_EVENT_ID 128

struct np_aws_cloudtrail {
    struct np_aws_ec2 *core;
    char *url; /* the resolved CloudTrail endpoint */
};

/* Parses len bytes of JSON into an object (*out owned); NP_EPARSE naming `what` otherwise. */
static int parse_object(const char *s, size_t len, const char *what, json_object **out)
{
    *out = NULL;
    if (!s || len == 0 || len > MAX_ANSWER)
        return np_error_set(NP_EPARSE, "CloudTrail: %s is empty or too large", what);
    json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
    if (!tok)
        return np_error_set(NP_ENOMEM, "CloudTrail: out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    if (!o && json_tokener_get_error(tok) == json_tokener_continue)
        o = json_tokener_parse_ex(tok, "", 1);
    bool ok = o && json_tokener_get_error(tok) == json_tokener_success &&
              json_object_is_type(o, json_type_object);
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(o);
        return np_error_set(NP_EPARSE, "CloudTrail: %s is not a JSON object", what);
    }
    *out = o;
    return 0;
}

int np_aws_json_decode_error(const char *body, size_t len, char **code, char **message)
{
    json_object *o = NULL;
    *code = NULL;
    *message = NULL;
    int rc = parse_object(body, len, "the error answer", &o);
    if (rc)
        return rc;
    const char *type = np_json_path_str(o, "__type", NP_JSON_END);
    const char *msg = np_json_path_str(o, "message", NP_JSON_END);
    if (!msg)
        msg = np_json_path_str(o, "Message", NP_JSON_END);
    if (np_str_is_empty(type)) {
        json_object_put(o);
        return np_error_set(NP_EPARSE, "CloudTrail: the error answer has no __type");
    }
    const char *hash = strrchr(type, '#');
    *code = np_strdup(hash ? hash + 1 : type);
    *message = msg ? np_strdup(msg) : NULL;
    json_object_put(o);
    return 0;
}

int np_aws_cloudtrail_decode_lookup(const char *body, size_t len, const char *event_id,
                                    char **record)
{
    json_object *o = NULL;
    *record = NULL;
    int rc = parse_object(body, len, "the LookupEvents answer", &o);
    if (rc)
        return rc;
    json_object *events = np_json_path(o, "Events", NP_JSON_END);
    if (events && !json_object_is_type(events, json_type_array)) {
        json_object_put(o);
        return np_error_set(NP_EPARSE, "CloudTrail: LookupEvents Events is not a list");
    }
    size_t n = events ? json_object_array_length(events) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(events, i);
        if (!np_str_eq(np_json_path_str(e, "EventId", NP_JSON_END), event_id))
            continue;
        const char *ct = np_json_path_str(e, "CloudTrailEvent", NP_JSON_END);
        if (np_str_is_empty(ct)) {
            json_object_put(o);
            return np_error_set(NP_EPARSE, "CloudTrail: event %.64s has no CloudTrailEvent",
                                event_id);
        }
        *record = np_strdup(ct);
        break;
    }
    json_object_put(o);
    return 0;
}

int np_aws_cloudtrail_new(struct np_aws_cloudtrail **out, const struct np_aws_ec2_config *cfg)
{
    struct np_aws_cloudtrail *ct = NULL;
    *out = NULL;
    if (!cfg || np_str_is_empty(cfg->region))
        return np_error_set(NP_EINVAL, "CloudTrail client: a region is required");
    ct = np_xcalloc(1, sizeof(*ct));
    int rc = np_aws_client_new(&ct->core, cfg, 0);
    if (rc == 0)
        rc = np_aws_endpoint_resolve(&ct->url, "cloudtrail", cfg->region, cfg->endpoint);
    if (rc) {
        np_aws_cloudtrail_destroy(ct);
        return rc;
    }
    *out = ct;
    return 0;
}

void np_aws_cloudtrail_destroy(struct np_aws_cloudtrail *ct)
{
    if (!ct)
        return;
    np_aws_ec2_destroy(ct->core);
    free(ct->url);
    free(ct);
}

void np_aws_cloudtrail_set_test_hooks(struct np_aws_cloudtrail *ct,
                                      const struct np_aws_test_hooks *hooks)
{
    np_aws_ec2_set_test_hooks(ct->core, hooks);
}

const char *np_aws_cloudtrail_endpoint(const struct np_aws_cloudtrail *ct)
{
    return ct->url;
}

int np_aws_cloudtrail_lookup_event(struct np_aws_cloudtrail *ct, const char *event_id,
                                   char **record)
{
    struct np_buf body = NP_BUF_INIT, resp = NP_BUF_INIT;
    json_object *req = NULL;
    *record = NULL;
    if (np_str_is_empty(event_id) || strlen(event_id) > MAX_EVENT_ID)
        return np_error_set(NP_EINVAL, "CloudTrail LookupEvents: a valid event id is required");
    req = json_object_new_object();
    json_object *attrs = json_object_new_array();
    json_object *attr = json_object_new_object();
    json_object_object_add(attr, "AttributeKey", json_object_new_string("EventId"));
    json_object_object_add(attr, "AttributeValue", json_object_new_string(event_id));
    json_object_array_add(attrs, attr);
    json_object_object_add(req, "LookupAttributes", attrs);
    json_object_object_add(req, "MaxResults", json_object_new_int(50));
    int rc = np_buf_puts(&body, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
    if (rc == 0) {
        struct np_aws_call call = {
            .service = NP_AWS_SERVICE_CLOUDTRAIL,
            .action = "LookupEvents",
            .form = &body,
            .json_target = LOOKUP_TARGET,
            .url = ct->url,
        };
        rc = np_aws_call_send(ct->core, &call, &resp);
    }
    if (rc == 0)
        rc = np_aws_cloudtrail_decode_lookup(resp.data, resp.len, event_id, record);
    json_object_put(req);
    np_buf_clean_up(&body);
    np_buf_clean_up(&resp);
    return rc;
}
