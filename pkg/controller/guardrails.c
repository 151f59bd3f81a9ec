/*
 * PostureGuardrails: the guardrails governing a posture (namespaceSelector against the
 * namespace's labels, parsed from the informer's store), and the guardrail reconcile that
 * lists the current violations on the guardrail's status — in the desired rules of every
 * governed posture and in the drift the postures report as guardrail-violating.
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

#define MAX_VIOLATION_ITEMS 100
/* Posture changes requeue the guardrails after this delay, so a burst of posture updates costs
 * one scan per guardrail (the workqueue keeps the earliest time of a key). */
#define GUARDRAIL_BATCH_MS 1000

const struct np_kube_resource np_controller_res_guardrails = {"netposture.dev", "v1alpha1",
                                                              "postureguardrails", false};

/* ---------------------------------------------------------------- governing guardrails */

/* Whether the guardrail object's namespaceSelector selects a namespace with these labels. */
static bool governs(json_object *gobj, json_object *labels)
{
    json_object *sel = np_json_path(gobj, "spec", "namespaceSelector", NP_JSON_END);
    bool yes = false;
    if (np_controller_selector_matches(sel, labels, &yes) != 0) {
        np_error_clear(); /* a malformed selector selects nothing (the CRD rejects it) */
        return false;
    }
    return yes;
}

struct collect {
    json_object *labels; /* of the posture's namespace */
    struct np_controller_guardrail_set *set;
};

static void collect_one(void *vctx, const char *key, json_object *obj)
{
    struct collect *c = vctx;
    if (!governs(obj, c->labels))
        return;
    struct np_posture_guardrail *g = NULL;
    if (np_posture_guardrail_parse(&g, key, np_json_path(obj, "spec", NP_JSON_END)) != 0) {
        /* The guardrail's own status says why; an invalid guardrail governs nothing. */
        np_error_clear();
        return;
    }
    struct np_controller_guardrail_set *s = c->set;
    s->items = np_xrealloc(s->items, (s->n + 1) * sizeof(*s->items));
    s->items[s->n++] = g;
}

int np_controller_guardrails_for(struct np_controller *ctl, const char *ns,
                                 struct np_controller_guardrail_set *out)
{
    memset(out, 0, sizeof(*out));
    if (!ctl->guardrail_inf)
        return 0;
    /* The namespace's labels, read before walking the guardrails (no I/O under the store's
     * lock); a namespace whose labels are unknown is never taken as unlabelled. */
    json_object *nsobj = NULL;
    int rc = np_controller_namespace_get(ctl, ns, &nsobj);
    if (rc)
        return rc;
    struct collect c = {np_json_path(nsobj, "metadata", "labels", NP_JSON_END), out};
    np_kube_store_each(np_kube_informer_store(ctl->guardrail_inf), collect_one, &c);
    json_object_put(nsobj);
    return 0;
}

void np_controller_guardrail_set_clean_up(struct np_controller_guardrail_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        np_posture_guardrail_destroy(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------------- guardrail status */

struct scan {
    struct np_controller *ctl;
    json_object *gobj;
    const struct np_posture_guardrail *g;
    json_object *items;
    int64_t count;
};

static void add_violation(struct scan *s, const char *posture, const char *kind,
                          const char *rule_id, const char *where, const char *detail)
{
    s->count++;
    if (json_object_array_length(s->items) >= MAX_VIOLATION_ITEMS)
        return;
    json_object *it = json_object_new_object();
    json_object_object_add(it, "posture", json_object_new_string(posture));
    json_object_object_add(it, "kind", json_object_new_string(kind));
    json_object_object_add(it, "rule", json_object_new_string(rule_id));
    json_object_object_add(it, "where", json_object_new_string(where));
    if (detail)
        json_object_object_add(it, "detail", json_object_new_string(detail));
    json_object_array_add(s->items, it);
}

/* Observed drift the posture reported as violating this guardrail (status.drift.items
 * marked `guardrail: <this guardrail>/<rule>`), skipping repaired history. */
static void scan_observed(struct scan *s, const char *key, const char *kind, json_object *obj,
                          const char *scope_key, const char *text_key)
{
    json_object *items = np_json_path(obj, "status", "drift", "items", NP_JSON_END);
    size_t n =
        items && json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
    size_t glen = strlen(s->g->name);
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        const char *gr = np_json_path_str(it, "guardrail", NP_JSON_END);
        const char *state = np_json_path_str(it, "state", NP_JSON_END);
        if (!gr || strncmp(gr, s->g->name, glen) != 0 || gr[glen] != '/')
            continue;
        if (np_str_eq(state, "Revoked") || np_str_eq(state, "Repaired"))
            continue;
        char *detail = np_strdupf("%s %s", np_json_path_str(it, scope_key, NP_JSON_END),
                                  np_json_path_str(it, text_key, NP_JSON_END));
        add_violation(s, key, kind, gr + glen + 1, "observed", detail);
        free(detail);
    }
}

/* For the guardrail's status only (no I/O under the store's lock): a namespace the cache has
 * not seen yet is left out here; the posture's own reconcile reads it and decides. */
static bool scan_governs(struct scan *s, const char *ns)
{
    json_object *nsobj = NULL;
    if (np_kube_store_get(np_kube_informer_store(s->ctl->ns_inf), &nsobj, ns) != 0)
        return false;
    bool yes = governs(s->gobj, np_json_path(nsobj, "metadata", "labels", NP_JSON_END));
    json_object_put(nsobj);
    return yes;
}

static void scan_sgp(void *vctx, const char *key, json_object *obj)
{
    struct scan *s = vctx;
    const char *ns = np_kube_object_namespace(obj);
    if (!ns || !scan_governs(s, ns))
        return;
    const char *name = np_json_path_str(obj, "metadata", "name", NP_JSON_END);
    /* Desired rules. */
    struct np_posture_sg_spec *spec = NULL;
    if (np_posture_sg_spec_parse(&spec, np_json_path(obj, "spec", NP_JSON_END)) == 0) {
        struct np_posture_ruleset want = {0};
        if (np_posture_desired(&want, spec) == 0) { /* peer names kept: never CIDRs */
            struct np_posture_violation *v = NULL;
            size_t nv = 0;
            const struct np_posture_guardrail *const one[] = {s->g};
            np_posture_guardrail_check(&v, &nv, one, 1, ns, name, &want);
            for (size_t i = 0; i < nv; i++) {
                char *text = np_posture_rule_text(v[i].atomic);
                char *detail =
                    np_strdupf("%s %s", np_posture_direction_name(v[i].atomic->direction), text);
                add_violation(s, key, "SecurityGroupPosture", v[i].rule->id, "desired", detail);
                free(detail);
                free(text);
            }
            free(v);
        }
        np_posture_ruleset_clean_up(&want);
    }
    np_error_clear();
    np_posture_sg_spec_destroy(spec);
    scan_observed(s, key, "SecurityGroupPosture", obj, "direction", "rule");
}

static void scan_vpcp(void *vctx, const char *key, json_object *obj)
{
    struct scan *s = vctx;
    const char *ns = np_kube_object_namespace(obj);
    if (!ns || !scan_governs(s, ns))
        return;
    const char *name = np_json_path_str(obj, "metadata", "name", NP_JSON_END);
    struct np_posture_vpc_spec *spec = NULL;
    if (np_posture_vpc_spec_parse(&spec, np_json_path(obj, "spec", NP_JSON_END)) == 0) {
        struct np_posture_vpc_violation *v = NULL;
        size_t nv = 0;
        const struct np_posture_guardrail *const one[] = {s->g};
        np_posture_vpc_guardrail_check(&v, &nv, one, 1, ns, name, spec);
        for (size_t i = 0; i < nv; i++)
            add_violation(s, key, "VPCPosture", v[i].rule->id, "desired", v[i].what);
        np_posture_vpc_violations_free(v, nv);
    }
    np_error_clear();
    np_posture_vpc_spec_destroy(spec);
    scan_observed(s, key, "VPCPosture", obj, "piece", "item");
}

int np_controller_reconcile_guardrail(struct np_controller *ctl, const char *key,
                                      struct np_controller_result *res)
{
    (void)res;
    json_object *obj = NULL;
    int rc = np_kube_store_get(np_kube_informer_store(ctl->guardrail_inf), &obj, key);
    if (rc == NP_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    json_object *old_status = np_json_path(obj, "status", NP_JSON_END);
    int64_t generation = np_json_path_int(obj, 0, "metadata", "generation", NP_JSON_END);
    int64_t now = np_controller_now_ms(ctl);
    struct np_posture_guardrail *g = NULL;
    json_object *st = json_object_new_object();
    json_object_object_add(st, "observedGeneration", json_object_new_int64(generation));
    struct np_controller_condition cond;
    char *msg = NULL;
    if (np_posture_guardrail_parse(&g, key, np_json_path(obj, "spec", NP_JSON_END)) != 0) {
        msg = np_strdup(np_error_message());
        cond = (struct np_controller_condition){"Ready", "False", "InvalidSpec", msg};
    } else {
        struct scan s = {ctl, obj, g, json_object_new_array(), 0};
        np_kube_store_each(np_kube_informer_store(ctl->sgp_inf), scan_sgp, &s);
        if (ctl->vpcp_inf)
            np_kube_store_each(np_kube_informer_store(ctl->vpcp_inf), scan_vpcp, &s);
        json_object *viol = json_object_new_object();
        json_object_object_add(viol, "count", json_object_new_int64(s.count));
        json_object_object_add(viol, "items", s.items);
        json_object_object_add(st, "violations", viol);
        msg = np_strdupf("%lld violation(s) in the postures it governs", (long long)s.count);
        cond = (struct np_controller_condition){"Ready", "True", "Evaluated", msg};
    }
    json_object_object_add(st, "conditions",
                           np_controller_status_conditions(old_status, &cond, 1, generation, now));
    rc = 0;
    if (!np_controller_status_equal(old_status, st, NULL)) {
        char *patch = np_controller_status_merge_patch(old_status, st);
        rc = np_kube_status_patch(ctl->kube, NULL, &np_controller_res_guardrails, NULL, key, patch);
        free(patch);
        if (rc == NP_ENOTFOUND)
            rc = 0;
    }
    free(msg);
    np_posture_guardrail_destroy(g);
    json_object_put(st);
    json_object_put(obj);
    return rc;
}

static void enqueue_one(void *ctx, const char *key, json_object *obj)
{
    struct np_controller *ctl = ctx;
    (void)obj;
    np_controller_enqueue_after(ctl, NP_CONTROLLER_WORK_GUARDRAIL, key, GUARDRAIL_BATCH_MS);
}

void np_controller_requeue_guardrails(struct np_controller *ctl)
{
    if (ctl->guardrail_inf)
        np_kube_store_each(np_kube_informer_store(ctl->guardrail_inf), enqueue_one, ctl);
}
