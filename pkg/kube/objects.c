/*
 * Reconciler helpers on objects: finalizers added and removed with JSON Patch guarded by
 * `test` ops (the kube-rs pattern, so another owner's list is never clobbered), and Secret
 * data read and base64-decoded with OpenSSL.
 */
#include "kube/private/kube_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_object *finalizers_of(json_object *obj)
{
    return np_json_path(obj, "metadata", "finalizers", NP_JSON_END);
}

/* Index of finalizer in the list, or -1. */
static int finalizer_index(json_object *list, const char *finalizer)
{
    if (!list || !json_object_is_type(list, json_type_array))
        return -1;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(list, i);
        if (json_object_is_type(v, json_type_string) &&
            np_str_eq(json_object_get_string(v), finalizer))
            return (int)i;
    }
    return -1;
}

bool np_kube_object_has_finalizer(json_object *obj, const char *finalizer)
{
    return finalizer_index(finalizers_of(obj), finalizer) >= 0;
}

static json_object *op(const char *name, const char *path, json_object *value, bool with_value)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "op", json_object_new_string(name));
    json_object_object_add(o, "path", json_object_new_string(path));
    if (with_value)
        json_object_object_add(o, "value", value);
    return o;
}

static char *patch_text(json_object *ops)
{
    char *text = np_kube_json_text(ops);
    json_object_put(ops);
    return text;
}

int np_kube_finalizer_add_patch(char **out, json_object *obj, const char *finalizer)
{
    *out = NULL;
    if (!obj || np_str_is_empty(finalizer))
        return np_error_set(NP_EINVAL, "finalizer patch needs an object and a finalizer");
    json_object *list = finalizers_of(obj);
    if (list && !json_object_is_type(list, json_type_array))
        return np_error_set(NP_EINVAL, "metadata.finalizers is not a list");
    if (finalizer_index(list, finalizer) >= 0)
        return np_error_set(NP_EEXIST, "finalizer %s already present", finalizer);
    json_object *ops = json_object_new_array();
    size_t n = list ? json_object_array_length(list) : 0;
    if (n == 0) {
        json_object *tested = NULL; /* absent (what the server sends for an empty list) */
        if (list)
            json_object_deep_copy(list, &tested, NULL); /* an explicit [] */
        json_object *value = json_object_new_array();
        json_object_array_add(value, json_object_new_string(finalizer));
        json_object_array_add(ops, op("test", "/metadata/finalizers", tested, true));
        json_object_array_add(ops, op("add", "/metadata/finalizers", value, true));
    } else {
        json_object *tested = NULL;
        if (json_object_deep_copy(list, &tested, NULL) != 0) {
            json_object_put(ops);
            return np_error_set(NP_ENOMEM, "out of memory");
        }
        json_object_array_add(ops, op("test", "/metadata/finalizers", tested, true));
        json_object_array_add(
            ops, op("add", "/metadata/finalizers/-", json_object_new_string(finalizer), true));
    }
    *out = patch_text(ops);
    return 0;
}

int np_kube_finalizer_remove_patch(char **out, json_object *obj, const char *finalizer)
{
    *out = NULL;
    if (!obj || np_str_is_empty(finalizer))
        return np_error_set(NP_EINVAL, "finalizer patch needs an object and a finalizer");
    int i = finalizer_index(finalizers_of(obj), finalizer);
    if (i < 0)
        return np_error_set(NP_ENOTFOUND, "finalizer %s not present", finalizer);
    char path[64];
    snprintf(path, sizeof(path), "/metadata/finalizers/%d", i);
    json_object *ops = json_object_new_array();
    json_object_array_add(ops, op("test", path, json_object_new_string(finalizer), true));
    json_object_array_add(ops, op("remove", path, NULL, false));
    *out = patch_text(ops);
    return 0;
}

/*
 * A JSON Patch that cannot be applied (a `test` that fails, an index that moved) comes back
 * as 422 with kube-apiserver's generic text "the server rejected our request due to an error
 * in our request" and no field causes (checked against kube-apiserver 1.34; other servers
 * may name the failed test). That means the list changed since obj was read: a conflict for
 * the caller. A 422 naming fields is a real validation error and stays NP_EINVAL.
 */
static int test_failed_to_conflict(int rc)
{
    const char *msg = np_error_message();
    if (rc == NP_EINVAL &&
        (strstr(msg, ": the server rejected our request due to an error in our request (") ||
         strstr(msg, "test failed") || strstr(msg, "testing value")))
        return np_kube_error_wrap(NP_ECONFLICT, "finalizers changed meanwhile");
    return rc;
}

static int finalizer_patch(struct np_kube_client *c, const struct np_kube_resource *r,
                           json_object *obj, const char *patch)
{
    const char *name = np_kube_object_name(obj);
    const char *ns = r->namespaced ? np_kube_object_namespace(obj) : NULL;
    int rc = np_kube_patch(c, NULL, r, ns, name, NULL, NP_KUBE_PATCH_JSON, patch);
    return test_failed_to_conflict(rc);
}

int np_kube_finalizer_add(struct np_kube_client *c, const struct np_kube_resource *r,
                          json_object *obj, const char *finalizer)
{
    char *patch = NULL;
    int rc = np_kube_finalizer_add_patch(&patch, obj, finalizer);
    if (rc == NP_EEXIST) {
        np_error_clear();
        return 0;
    }
    if (rc == 0)
        rc = finalizer_patch(c, r, obj, patch);
    free(patch);
    return rc;
}

int np_kube_finalizer_remove(struct np_kube_client *c, const struct np_kube_resource *r,
                             json_object *obj, const char *finalizer)
{
    char *patch = NULL;
    int rc = np_kube_finalizer_remove_patch(&patch, obj, finalizer);
    if (rc == NP_ENOTFOUND) {
        np_error_clear();
        return 0;
    }
    if (rc == 0)
        rc = finalizer_patch(c, r, obj, patch);
    free(patch);
    return rc;
}

/*
 * Whether manager's own (not a subresource's) managedFields entry of obj names finalizer:
 * fieldsV1 {"f:metadata": {"f:finalizers": {"v:\"<finalizer>\"": {}}}}. The API server
 * records it for the field manager whose write added (or applied) the value.
 */
bool np_kube_object_finalizer_is_managed_by(json_object *obj, const char *finalizer,
                                            const char *manager)
{
    json_object *entries = np_json_path(obj, "metadata", "managedFields", NP_JSON_END);
    if (!entries || !json_object_is_type(entries, json_type_array) || np_str_is_empty(finalizer))
        return false;
    char *value_key = np_strdupf("v:\"%s\"", finalizer);
    bool found = false;
    size_t n = json_object_array_length(entries);
    for (size_t i = 0; !found && i < n; i++) {
        json_object *e = json_object_array_get_idx(entries, i);
        json_object *m = np_json_path(e, "manager", NP_JSON_END);
        json_object *sub = np_json_path(e, "subresource", NP_JSON_END);
        if (!m || !np_str_eq(json_object_get_string(m), manager))
            continue;
        if (sub && !np_str_is_empty(json_object_get_string(sub)))
            continue;
        json_object *list = np_json_path(e, "fieldsV1", "f:metadata", "f:finalizers", NP_JSON_END);
        found = list && json_object_is_type(list, json_type_object) &&
                json_object_object_get_ex(list, value_key, NULL);
    }
    free(value_key);
    return found;
}

int np_kube_finalizer_claim(struct np_kube_client *c, const struct np_kube_resource *r,
                            const char *kind, json_object *obj, const char *finalizer)
{
    const char *name = np_kube_object_name(obj);
    const char *ns = r->namespaced ? np_kube_object_namespace(obj) : NULL;
    if (np_str_is_empty(name) || np_str_is_empty(kind) || np_str_is_empty(finalizer))
        return np_error_set(NP_EINVAL, "claiming a finalizer needs a kind, a name and a finalizer");
    json_object *body = json_object_new_object();
    json_object *meta = json_object_new_object();
    json_object *list = json_object_new_array();
    char *api_version = np_str_is_empty(r->group) ? np_strdup(r->version)
                                                  : np_strdupf("%s/%s", r->group, r->version);
    json_object_object_add(body, "apiVersion", json_object_new_string(api_version));
    json_object_object_add(body, "kind", json_object_new_string(kind));
    json_object_object_add(meta, "name", json_object_new_string(name));
    if (ns)
        json_object_object_add(meta, "namespace", json_object_new_string(ns));
    json_object_array_add(list, json_object_new_string(finalizer));
    json_object_object_add(meta, "finalizers", list);
    json_object_object_add(body, "metadata", meta);
    char *text = np_kube_json_text(body);
    json_object_put(body);
    free(api_version);
    int rc = np_kube_patch(c, NULL, r, ns, name, NULL, NP_KUBE_PATCH_APPLY, text);
    free(text);
    return rc;
}

/* ------------------------------------------------------------ secrets */

int np_kube_secret_data(unsigned char **out, size_t *len, json_object *secret, const char *key)
{
    *out = NULL;
    *len = 0;
    const char *ns = np_kube_object_namespace(secret), *name = np_kube_object_name(secret);
    json_object *v = np_json_path(secret, "data", key, NP_JSON_END);
    if (!v || !json_object_is_type(v, json_type_string))
        return np_error_set(NP_ENOTFOUND, "secret %s/%s has no key \"%s\"", ns ? ns : "",
                            name ? name : "", key);
    int rc = np_kube_base64_decode(out, len, json_object_get_string(v),
                                   (size_t)json_object_get_string_len(v));
    if (rc)
        return np_error_set(NP_EPARSE, "secret %s/%s: key \"%s\" is not valid base64", ns ? ns : "",
                            name ? name : "", key);
    return 0;
}

int np_kube_secret_get_data(struct np_kube_client *c, unsigned char **out, size_t *len,
                            const char *ns, const char *name, const char *key)
{
    json_object *secret = NULL;
    *out = NULL;
    *len = 0;
    int rc = np_kube_get(c, &secret, &np_kube_res_secrets, ns, name);
    if (rc == 0)
        rc = np_kube_secret_data(out, len, secret, key);
    if (secret) {
        /* The parsed Secret holds the encoded material: wipe its data strings. */
        json_object *data = np_json_path(secret, "data", NP_JSON_END);
        if (data && json_object_is_type(data, json_type_object)) {
            json_object_object_foreach(data, k, v)
            {
                (void)k;
                if (json_object_is_type(v, json_type_string))
                    memset((char *)json_object_get_string(v), 0,
                           (size_t)json_object_get_string_len(v));
            }
        }
        json_object_put(secret);
    }
    return rc;
}
