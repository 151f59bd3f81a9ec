/*
 * Unit tests of the reconciler helpers that need no server: finalizer JSON Patch bodies
 * (golden text), the Event body, and Secret data decoding.
 */
#include "helpers.h"
#include "kube/kube.h"
#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static json_object *parse(const char *text)
{
    json_object *o = NULL;
    cr_assert_eq(np_kube_json_parse(&o, text, strlen(text)), 0, "%s", np_error_message());
    return o;
}

static void expect_patch(int (*fn)(char **, json_object *, const char *), const char *object,
                         const char *want)
{
    json_object *o = parse(object);
    char *patch = NULL;
    int rc = fn(&patch, o, NP_KUBE_FINALIZER);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(patch, want);
    free(patch);
    json_object_put(o);
}

Test(finalizer, add_to_empty_list)
{
    expect_patch(np_kube_finalizer_add_patch, "{\"metadata\":{\"name\":\"web\"}}",
                 "[{\"op\":\"test\",\"path\":\"/metadata/finalizers\",\"value\":null},"
                 "{\"op\":\"add\",\"path\":\"/metadata/finalizers\","
                 "\"value\":[\"netposture.dev/finalizer\"]}]");
    /* An explicit empty list is tested as such, then replaced. */
    expect_patch(np_kube_finalizer_add_patch, "{\"metadata\":{\"name\":\"web\",\"finalizers\":[]}}",
                 "[{\"op\":\"test\",\"path\":\"/metadata/finalizers\",\"value\":[]},"
                 "{\"op\":\"add\",\"path\":\"/metadata/finalizers\","
                 "\"value\":[\"netposture.dev/finalizer\"]}]");
}

Test(finalizer, add_to_non_empty_list)
{
    expect_patch(np_kube_finalizer_add_patch,
                 "{\"metadata\":{\"name\":\"web\",\"finalizers\":[\"a.io/x\",\"b.io/y\"]}}",
                 "[{\"op\":\"test\",\"path\":\"/metadata/finalizers\","
                 "\"value\":[\"a.io/x\",\"b.io/y\"]},"
                 "{\"op\":\"add\",\"path\":\"/metadata/finalizers/-\","
                 "\"value\":\"netposture.dev/finalizer\"}]");
}

Test(finalizer, remove_tests_the_index)
{
    expect_patch(np_kube_finalizer_remove_patch,
                 "{\"metadata\":{\"finalizers\":[\"a.io/x\",\"netposture.dev/finalizer\","
                 "\"b.io/y\"]}}",
                 "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/1\","
                 "\"value\":\"netposture.dev/finalizer\"},"
                 "{\"op\":\"remove\",\"path\":\"/metadata/finalizers/1\"}]");
    expect_patch(np_kube_finalizer_remove_patch,
                 "{\"metadata\":{\"finalizers\":[\"netposture.dev/finalizer\"]}}",
                 "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/0\","
                 "\"value\":\"netposture.dev/finalizer\"},"
                 "{\"op\":\"remove\",\"path\":\"/metadata/finalizers/0\"}]");
}

Test(finalizer, nothing_to_do_and_bad_input)
{
    char *patch = NULL;
    json_object *with = parse("{\"metadata\":{\"finalizers\":[\"netposture.dev/finalizer\"]}}");
    json_object *without = parse("{\"metadata\":{\"finalizers\":[\"other\"]}}");
    json_object *bad = parse("{\"metadata\":{\"finalizers\":\"oops\"}}");
    cr_assert(np_kube_object_has_finalizer(with, NP_KUBE_FINALIZER));
    cr_assert_not(np_kube_object_has_finalizer(without, NP_KUBE_FINALIZER));
    cr_assert_eq(np_kube_finalizer_add_patch(&patch, with, NP_KUBE_FINALIZER), NP_EEXIST);
    cr_assert_eq(np_kube_finalizer_remove_patch(&patch, without, NP_KUBE_FINALIZER), NP_ENOTFOUND);
    cr_assert_eq(np_kube_finalizer_add_patch(&patch, bad, NP_KUBE_FINALIZER), NP_EINVAL);
    cr_assert_eq(np_kube_finalizer_add_patch(&patch, with, ""), NP_EINVAL);
    cr_assert_null(patch);
    json_object_put(with);
    json_object_put(without);
    json_object_put(bad);
}

/* managedFields as kube-apiserver 1.34 records them (the shapes of a live GET). */
Test(finalizer, managed_by_names_the_manager_that_added_it)
{
    json_object *ours =
        parse("{\"metadata\":{\"finalizers\":[\"netposture.dev/finalizer\"],\"managedFields\":["
              "{\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\","
              "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\".\":{}}}},"
              "{\"manager\":\"netposture\",\"operation\":\"Update\",\"fieldsType\":\"FieldsV1\","
              "\"fieldsV1\":{\"f:metadata\":{\"f:finalizers\":{\".\":{},"
              "\"v:\\\"netposture.dev/finalizer\\\"\":{}}}}},"
              "{\"manager\":\"netposture\",\"operation\":\"Update\",\"subresource\":\"status\","
              "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{}}}]}}");
    /* A user put it there with kubectl; our only entry is the status subresource's. */
    json_object *theirs =
        parse("{\"metadata\":{\"finalizers\":[\"netposture.dev/finalizer\"],\"managedFields\":["
              "{\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\","
              "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:finalizers\":{"
              "\".\":{},\"v:\\\"netposture.dev/finalizer\\\"\":{}}}}},"
              "{\"manager\":\"netposture\",\"operation\":\"Update\",\"subresource\":\"status\","
              "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:finalizers\":{"
              "\"v:\\\"netposture.dev/finalizer\\\"\":{}}}}}]}}");
    json_object *none = parse("{\"metadata\":{\"finalizers\":[\"netposture.dev/finalizer\"]}}");
    json_object *other =
        parse("{\"metadata\":{\"managedFields\":[{\"manager\":\"netposture\",\"fieldsV1\":{"
              "\"f:metadata\":{\"f:finalizers\":{\"v:\\\"other.io/x\\\"\":{}}}}}]}}");
    cr_assert(np_kube_object_finalizer_is_managed_by(ours, NP_KUBE_FINALIZER, "netposture"));
    cr_assert_not(np_kube_object_finalizer_is_managed_by(theirs, NP_KUBE_FINALIZER, "netposture"));
    cr_assert(np_kube_object_finalizer_is_managed_by(theirs, NP_KUBE_FINALIZER,
                                                     "kubectl-client-side-apply"));
    cr_assert_not(np_kube_object_finalizer_is_managed_by(none, NP_KUBE_FINALIZER, "netposture"));
    cr_assert_not(np_kube_object_finalizer_is_managed_by(other, NP_KUBE_FINALIZER, "netposture"));
    cr_assert_not(np_kube_object_finalizer_is_managed_by(ours, "", "netposture"));
    json_object_put(ours);
    json_object_put(theirs);
    json_object_put(none);
    json_object_put(other);
}

Test(events, body_fields)
{
    struct np_kube_object_ref ref;
    json_object *sgp = parse("{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":"
                             "\"SecurityGroupPosture\",\"metadata\":{\"name\":\"web\","
                             "\"namespace\":\"shop\",\"uid\":\"u-1\",\"resourceVersion\":\"42\"}}");
    np_kube_object_ref_from(&ref, sgp);
    cr_assert_str_eq(ref.kind, "SecurityGroupPosture");
    cr_assert_str_eq(ref.uid, "u-1");
    /* 2026-01-02T03:04:05.678Z */
    json_object *ev = np_kube_event_new_body(
        &ref, "shop", "web.abc", "Warning", "DriftRepaired", "Revoke", "revoked tcp 22 0.0.0.0/0",
        NP_KUBE_REPORTING_CONTROLLER, "pod-1", 1767323045678LL);
    char *text = np_kube_json_text(ev);
    cr_assert_str_eq(
        text, "{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\",\"metadata\":{\"name\":"
              "\"web.abc\",\"namespace\":\"shop\"},\"eventTime\":\"2026-01-02T03:04:05.678000Z\","
              "\"reportingController\":\"netposture.dev/controller\",\"reportingInstance\":"
              "\"pod-1\",\"action\":\"Revoke\",\"reason\":\"DriftRepaired\",\"type\":\"Warning\","
              "\"note\":\"revoked tcp 22 0.0.0.0/0\",\"regarding\":{\"apiVersion\":"
              "\"netposture.dev/v1alpha1\",\"kind\":\"SecurityGroupPosture\",\"namespace\":"
              "\"shop\",\"name\":\"web\",\"uid\":\"u-1\",\"resourceVersion\":\"42\"}}");
    free(text);
    json_object_put(ev);
    json_object_put(sgp);
}

Test(secrets, data_decoding)
{
    json_object *secret =
        parse("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"aws\",\"namespace\":\"ops\"},"
              "\"data\":{\"accessKeyId\":\"QUtJQUVYQU1QTEU=\",\"bad\":\"***\"}}");
    unsigned char *out = NULL;
    size_t len = 0;
    cr_assert_eq(np_kube_secret_data(&out, &len, secret, "accessKeyId"), 0);
    cr_assert_eq(len, 11);
    cr_assert_str_eq((char *)out, "AKIAEXAMPLE");
    free(out);
    cr_assert_eq(np_kube_secret_data(&out, &len, secret, "sessionToken"), NP_ENOTFOUND);
    cr_assert(strstr(np_error_message(), "ops/aws has no key \"sessionToken\"") != NULL);
    cr_assert_eq(np_kube_secret_data(&out, &len, secret, "bad"), NP_EPARSE);
    cr_assert_null(out);
    /* The value itself never appears in messages. */
    cr_assert_null(strstr(np_error_message(), "***"));
    json_object_put(secret);
}
