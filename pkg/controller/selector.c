/*
 * Kubernetes label selectors (matchLabels and matchExpressions with In, NotIn, Exists,
 * DoesNotExist) evaluated against an object's labels, for CloudAccount.allowedNamespaces.
 */
#include "controller/private/controller_private.h"

#include <string.h>

static bool value_in(json_object *values, const char *v)
{
    if (!values || !json_object_is_type(values, json_type_array) || !v)
        return false;
    size_t n = json_object_array_length(values);
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(json_object_get_string(json_object_array_get_idx(values, i)), v))
            return true;
    return false;
}

/*
 * The namespace object of ns: from the informer's cache, else read from the API server (a
 * namespace applied together with a posture may not have reached the cache yet). Labels are
 * never guessed: NP_EAGAIN when the namespace cannot be read (the caller requeues).
 */
int np_controller_namespace_get(struct np_controller *ctl, const char *ns, json_object **out)
{
    *out = NULL;
    if (np_kube_store_get(np_kube_informer_store(ctl->ns_inf), out, ns) == 0)
        return 0;
    int rc = np_kube_get(ctl->kube, out, &np_kube_res_namespaces, NULL, ns);
    if (rc == 0)
        return 0;
    return np_error_set(NP_EAGAIN, "the labels of namespace \"%s\" are not known yet: %s", ns,
                        np_error_message());
}

int np_controller_namespace_selected(struct np_controller *ctl, json_object *selector,
                                     const char *ns, bool *selected)
{
    json_object *nsobj = NULL;
    *selected = false;
    int rc = np_controller_namespace_get(ctl, ns, &nsobj);
    if (rc == 0 &&
        np_controller_selector_matches(
            selector, np_json_path(nsobj, "metadata", "labels", NP_JSON_END), selected) != 0) {
        *selected = false; /* an invalid selector selects nothing */
        np_error_clear();
    }
    json_object_put(nsobj);
    return rc;
}

int np_controller_selector_matches(json_object *selector, json_object *labels, bool *matches)
{
    *matches = false;
    if (!selector) {
        *matches = true; /* omitted selector: everything */
        return 0;
    }
    if (!json_object_is_type(selector, json_type_object))
        return np_error_set(NP_EINVAL, "a label selector must be an object");
    json_object *ml = np_json_path(selector, "matchLabels", NP_JSON_END);
    if (ml && json_object_is_type(ml, json_type_object)) {
        json_object_object_foreach(ml, k, v)
        {
            const char *have = np_json_path_str(labels, k, NP_JSON_END);
            if (!np_str_eq(have, json_object_get_string(v)))
                return 0;
        }
    }
    json_object *exprs = np_json_path(selector, "matchExpressions", NP_JSON_END);
    if (exprs && json_object_is_type(exprs, json_type_array)) {
        size_t n = json_object_array_length(exprs);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(exprs, i);
            const char *key = np_json_path_str(e, "key", NP_JSON_END);
            const char *op = np_json_path_str(e, "operator", NP_JSON_END);
            json_object *values = np_json_path(e, "values", NP_JSON_END);
            if (!key || !op)
                return np_error_set(NP_EINVAL, "matchExpressions[%zu] needs key and operator", i);
            const char *have = np_json_path_str(labels, key, NP_JSON_END);
            bool ok;
            if (strcmp(op, "In") == 0)
                ok = value_in(values, have);
            else if (strcmp(op, "NotIn") == 0)
                ok = !value_in(values, have);
            else if (strcmp(op, "Exists") == 0)
                ok = have != NULL;
            else if (strcmp(op, "DoesNotExist") == 0)
                ok = have == NULL;
            else
                return np_error_set(NP_EINVAL, "unknown selector operator \"%.32s\"", op);
            if (!ok)
                return 0;
        }
    }
    *matches = true;
    return 0;
}
