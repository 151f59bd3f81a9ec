/*
 * libFuzzer target: a watch stream as the informer sees it. The bytes go through the
 * incremental watch decoder in chunks (the first byte sets the chunk size), each event into a
 * store (np_kube_store_apply), each stored object's spec through the SecurityGroupPosture,
 * VPCPosture and PostureGuardrail parsers, and at the end every object seen is committed again
 * as a relist (stage, commit) and parsed back out of the store.
 */
#include "kube/private/kube_private.h"
#include "posture/posture.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    struct np_kube_store *store;
    json_object *seen; /* array of every object applied, for the relist */
};

static void parse_specs(json_object *obj)
{
    json_object *spec = np_json_path(obj, "spec", NP_JSON_END);
    struct np_posture_sg_spec *sg = NULL;
    struct np_posture_vpc_spec *vpc = NULL;
    struct np_posture_guardrail *g = NULL;
    if (np_posture_sg_spec_parse(&sg, spec) == 0)
        np_posture_sg_spec_destroy(sg);
    if (np_posture_vpc_spec_parse(&vpc, spec) == 0)
        np_posture_vpc_spec_destroy(vpc);
    if (np_posture_guardrail_parse(&g, "fuzz", spec) == 0)
        np_posture_guardrail_destroy(g);
}

static void on_add(void *ctx, const char *key, json_object *obj)
{
    (void)ctx, (void)key;
    parse_specs(obj);
}

static void on_update(void *ctx, const char *key, json_object *old_obj, json_object *new_obj)
{
    (void)ctx, (void)key, (void)old_obj;
    parse_specs(new_obj);
}

static void on_delete(void *ctx, const char *key, json_object *obj)
{
    (void)ctx, (void)key, (void)obj;
}

static const struct np_kube_handlers handlers = {on_add, on_update, on_delete, NULL};

static int on_event(void *ctx, enum np_kube_event_type type, json_object *obj)
{
    struct run *r = ctx;
    if (type == NP_KUBE_BOOKMARK)
        return 0;
    if (np_kube_store_apply(r->store, type, obj, &handlers) == 0 && type != NP_KUBE_DELETED)
        json_object_array_add(r->seen, json_object_get(obj));
    return 0;
}

static void each(void *ctx, const char *key, json_object *obj)
{
    (void)ctx, (void)key;
    parse_specs(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run r = {NULL, NULL};
    struct np_kube_watch_decoder d;
    struct np_kube_store_stage *stage = NULL;
    if (size < 1 || np_kube_store_new(&r.store) != 0)
        return 0;
    r.seen = json_object_new_array();
    size_t chunk = (size_t)(data[0] % 64) + 1;
    if (np_kube_watch_decoder_init(&d, on_event, &r, "1") == 0) {
        int rc = 0;
        for (size_t off = 1; off < size && rc == 0; off += chunk) {
            size_t n = size - off < chunk ? size - off : chunk;
            rc = np_kube_watch_decoder_feed(&d, (const char *)data + off, n);
        }
        if (rc == 0)
            np_kube_watch_decoder_finish(&d);
        np_kube_watch_decoder_clean_up(&d);
    }
    np_kube_store_each(r.store, each, NULL);
    stage = np_kube_store_stage_new();
    if (np_kube_store_stage_add(stage, r.seen) == 0) {
        np_kube_store_commit(r.store, stage, &handlers);
        stage = NULL;
    }
    np_kube_store_stage_free(stage);
    json_object_put(r.seen);
    np_kube_store_destroy(r.store);
    return 0;
}
