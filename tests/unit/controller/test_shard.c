/*
 * Unit tests for sharding (shard.c): the documented hash (FNV-1a-64 of metadata.uid mod N,
 * vectors computed independently of the code), which work a shard takes (its own postures,
 * guardrails on shard 0 only, accounts everywhere), the per-shard queue URL and Lease name,
 * and the netposture_shard_postures count.
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

Test(controller_shard, hash_is_fnv1a64_of_the_uid_mod_n)
{
    /* FNV-1a-64("a") = 0xaf63dc4c8601ec8c; of "" it is the offset basis 0xcbf29ce484222325. */
    cr_expect_eq(np_hash_str("a"), 0xaf63dc4c8601ec8cULL);
    cr_expect_eq(np_controller_shard_of("a", 2), 0);
    cr_expect_eq(np_controller_shard_of("a", 3), 1);
    cr_expect_eq(np_controller_shard_of("a", 16), 12);
    cr_expect_eq(np_controller_shard_of("", 3), 2);
    /* 0xd5683882207f3830 */
    const char *uid = "3f1c9d2e-8b4a-4c61-9e0f-2a7b5c6d8e91";
    cr_expect_eq(np_controller_shard_of(uid, 2), 0);
    cr_expect_eq(np_controller_shard_of(uid, 3), 1);
    cr_expect_eq(np_controller_shard_of("uid-front", 2), 1);
    cr_expect_eq(np_controller_shard_of("uid-web", 2), 0);
    /* One shard, or no uid: shard 0. */
    cr_expect_eq(np_controller_shard_of(uid, 1), 0);
    cr_expect_eq(np_controller_shard_of(NULL, 4), 0);
}

Test(controller_shard, every_uid_lands_in_range_and_shards_share_the_load)
{
    int hits[4] = {0};
    for (int i = 0; i < 4000; i++) {
        char uid[64];
        snprintf(uid, sizeof(uid), "%08x-1111-4222-8333-%012x", i * 2654435761u, i);
        int s = np_controller_shard_of(uid, 4);
        cr_assert(s >= 0 && s < 4, "%s -> %d", uid, s);
        hits[s]++;
    }
    for (int s = 0; s < 4; s++)
        cr_expect(hits[s] > 800 && hits[s] < 1200, "shard %d got %d of 4000", s, hits[s]);
}

static struct np_controller *bare(int count, int index)
{
    struct np_controller *ctl = np_xcalloc(1, sizeof(*ctl));
    ctl->opts.shard_count = count;
    ctl->opts.shard_index = index;
    return ctl;
}

Test(controller_shard, queue_url_names_the_shard_or_refuses_one_queue_for_many)
{
    struct np_controller *one = bare(1, 0), *second = bare(2, 1);
    const char *plain = "https://sqs.eu-west-1.amazonaws.com/123456789012/netposture-events";
    const char *per = "https://sqs.eu-west-1.amazonaws.com/123456789012/netposture-events-{shard}";
    char *u = np_controller_shard_queue_url(one, plain);
    cr_expect_str_eq(u, plain);
    free(u);
    u = np_controller_shard_queue_url(one, per);
    cr_expect_str_eq(u, "https://sqs.eu-west-1.amazonaws.com/123456789012/netposture-events-0");
    free(u);
    u = np_controller_shard_queue_url(second, per);
    cr_expect_str_eq(u, "https://sqs.eu-west-1.amazonaws.com/123456789012/netposture-events-1");
    free(u);
    cr_expect_null(np_controller_shard_queue_url(second, plain),
                   "several shards cannot share one queue (each would delete the others' events)");
    free(one);
    free(second);
}

Test(controller_shard, lease_and_user_agent_name_the_shard)
{
    struct np_controller *one = bare(0, 0), *third = bare(3, 2);
    char *n = np_controller_shard_lease_name(one, "netposture-controller");
    cr_expect_str_eq(n, "netposture-controller");
    free(n);
    n = np_controller_shard_lease_name(third, "netposture-controller");
    cr_expect_str_eq(n, "netposture-controller-2-of-3");
    free(n);
    cr_expect(!np_controller_sharded(one));
    cr_expect(np_controller_sharded(third));
    cr_expect(!np_controller_shard_writes_shared(third));
    free(one);
    free(third);
}

#define SPEC "{\"ingress\":[{\"protocol\":\"tcp\",\"ports\":\"443\",\"cidrs\":[\"10.0.0.0/8\"]}]}"

static size_t queued(struct fx *fx)
{
    return np_kube_workqueue_len(fx->ctl->queue);
}

Test(controller_shard, a_shard_enqueues_only_its_own_postures)
{
    struct fx fx;
    fx_begin(&fx);
    fx.ctl->opts.shard_count = 2;
    fx.ctl->opts.shard_index = 1;
    fx_put_posture(&fx, "web", SPEC);   /* uid-web: shard 0 */
    fx_put_posture(&fx, "front", SPEC); /* uid-front: shard 1 */
    cr_expect(!np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/web"));
    cr_expect_eq(queued(&fx), 0, "another shard's posture was queued");
    cr_expect(np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/front"));
    cr_expect_eq(queued(&fx), 1);
    /* Gone from the cache: taken (its reconcile only forgets it). */
    cr_expect(np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/gone"));
    /* Guardrail status is shard 0's; accounts are verified by every shard. */
    cr_expect(!np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_GUARDRAIL, "deny-ssh"));
    cr_expect(np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_ACCOUNT, "default"));
    fx.ctl->opts.shard_index = 0;
    cr_expect(np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_GUARDRAIL, "deny-ssh"));
    cr_expect(np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/web"));
    cr_expect(!np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/front"));
    fx_stop(&fx);
}

Test(controller_shard, unsharded_takes_everything)
{
    struct fx fx;
    fx_begin(&fx);
    fx_put_posture(&fx, "web", SPEC);
    fx_put_posture(&fx, "front", SPEC);
    cr_expect(np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/web"));
    cr_expect(np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/front"));
    cr_expect(np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_GUARDRAIL, "deny-ssh"));
    cr_expect_eq(queued(&fx), 2);
    fx_stop(&fx);
}

Test(controller_shard, the_gauge_counts_this_shards_postures)
{
    struct np_controller *ctl = bare(2, 1);
    ctl->metrics = np_metrics_new();
    np_controller_shard_describe(ctl);
    json_object *web = json_tokener_parse("{\"metadata\":{\"uid\":\"uid-web\"}}");
    json_object *front = json_tokener_parse("{\"metadata\":{\"uid\":\"uid-front\"}}");
    json_object *mail = json_tokener_parse("{\"metadata\":{\"uid\":\"uid-mail\"}}");
    np_controller_shard_count_posture(ctl, web, 1);
    np_controller_shard_count_posture(ctl, front, 1);
    np_controller_shard_count_posture(ctl, mail, 1);
    cr_expect_eq(np_metrics_value(ctl->metrics, "netposture_shard_postures", "shard=\"1\""), 2);
    np_controller_shard_count_posture(ctl, front, -1);
    np_controller_shard_count_posture(ctl, web, -1);
    cr_expect_eq(np_metrics_value(ctl->metrics, "netposture_shard_postures", "shard=\"1\""), 1);
    json_object_put(web);
    json_object_put(front);
    json_object_put(mail);
    np_metrics_destroy(ctl->metrics);
    free(ctl);
}
