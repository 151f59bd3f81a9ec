/*
 * Unit tests of the informer store: atomic replace with add/update/delete detection on
 * relist, event application, deep-copy reads, sorted keys, and readers racing a writer.
 */
#include "helpers.h"
#include "kube/kube.h"
#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_object *obj(const char *ns, const char *name, const char *rv)
{
    json_object *o = json_object_new_object();
    json_object *meta = json_object_new_object();
    json_object_object_add(meta, "name", json_object_new_string(name));
    if (ns)
        json_object_object_add(meta, "namespace", json_object_new_string(ns));
    json_object_object_add(meta, "resourceVersion", json_object_new_string(rv));
    json_object_object_add(o, "metadata", meta);
    json_object_object_add(o, "spec", json_object_new_object());
    return o;
}

/* Records handler calls as "add:key@rv", "update:key@oldrv>newrv", "delete:key@rv". */
struct calls {
    char log[32][96];
    int n;
};

static void on_add(void *ctx, const char *key, json_object *o)
{
    struct calls *c = ctx;
    snprintf(c->log[c->n++], sizeof(c->log[0]), "add:%s@%s", key,
             np_kube_object_resource_version(o));
}

static void on_update(void *ctx, const char *key, json_object *old_obj, json_object *new_obj)
{
    struct calls *c = ctx;
    snprintf(c->log[c->n++], sizeof(c->log[0]), "update:%s@%s>%s", key,
             np_kube_object_resource_version(old_obj), np_kube_object_resource_version(new_obj));
}

static void on_delete(void *ctx, const char *key, json_object *o)
{
    struct calls *c = ctx;
    snprintf(c->log[c->n++], sizeof(c->log[0]), "delete:%s@%s", key,
             np_kube_object_resource_version(o));
}

static bool has_call(const struct calls *c, const char *want)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->log[i], want) == 0)
            return true;
    return false;
}

static json_object *items(json_object *a, json_object *b, json_object *c)
{
    json_object *arr = json_object_new_array();
    json_object *all[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (all[i])
            json_object_array_add(arr, all[i]);
    return arr;
}

Test(store, replace_detects_adds_updates_and_deletes)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    struct calls c = {0};
    struct np_kube_handlers h = {on_add, on_update, on_delete, &c};
    cr_assert_not(np_kube_store_has_synced(s));

    json_object *first =
        items(obj("shop", "web", "1"), obj("shop", "db", "2"), obj(NULL, "prod", "3"));
    cr_assert_eq(np_kube_store_replace(s, first, &h), 0);
    json_object_put(first);
    cr_assert(np_kube_store_has_synced(s));
    cr_assert_eq(c.n, 3);
    cr_assert(has_call(&c, "add:shop/web@1"));
    cr_assert(has_call(&c, "add:shop/db@2"));
    cr_assert(has_call(&c, "add:prod@3"));

    /* Relist: web changed, db unchanged, prod gone, cache new. */
    c.n = 0;
    json_object *second =
        items(obj("shop", "web", "10"), obj("shop", "db", "2"), obj("shop", "cache", "11"));
    cr_assert_eq(np_kube_store_replace(s, second, &h), 0);
    json_object_put(second);
    cr_assert_eq(c.n, 3, "calls: %d", c.n);
    cr_assert(has_call(&c, "update:shop/web@1>10"));
    cr_assert(has_call(&c, "add:shop/cache@11"));
    cr_assert(has_call(&c, "delete:prod@3"));
    cr_assert_not(has_call(&c, "update:shop/db@2>2"));

    char **keys = NULL;
    size_t n = 0;
    cr_assert_eq(np_kube_store_keys(s, &keys, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(keys[0], "shop/cache");
    cr_assert_str_eq(keys[1], "shop/db");
    cr_assert_str_eq(keys[2], "shop/web");
    cr_assert_null(keys[3]);
    np_kube_strv_free(keys);
    np_kube_store_destroy(s);
}

Test(store, bad_list_leaves_store_untouched)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    json_object *good = items(obj("a", "x", "1"), NULL, NULL);
    cr_assert_eq(np_kube_store_replace(s, good, NULL), 0);
    json_object_put(good);
    json_object *nameless = json_object_new_object();
    json_object *bad = items(obj("a", "y", "2"), nameless, NULL);
    struct calls c = {0};
    struct np_kube_handlers h = {on_add, on_update, on_delete, &c};
    cr_assert_eq(np_kube_store_replace(s, bad, &h), NP_EINVAL);
    json_object_put(bad);
    cr_assert_eq(c.n, 0);
    cr_assert_eq(np_kube_store_len(s), 1);
    json_object *got = NULL;
    cr_assert_eq(np_kube_store_get(s, &got, "a/x"), 0);
    json_object_put(got);
    np_kube_store_destroy(s);
}

Test(store, apply_events)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    struct calls c = {0};
    struct np_kube_handlers h = {on_add, on_update, on_delete, &c};
    json_object *a1 = obj("ns", "a", "1"), *a2 = obj("ns", "a", "2"), *a3 = obj("ns", "a", "3");
    json_object *ghost = obj("ns", "ghost", "9");
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, a1, &h), 0);
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_MODIFIED, a2, &h), 0);
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_DELETED, a3, &h), 0);
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_DELETED, ghost, &h), 0);
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_BOOKMARK, ghost, &h), 0);
    cr_assert_eq(c.n, 3);
    cr_assert_str_eq(c.log[0], "add:ns/a@1");
    cr_assert_str_eq(c.log[1], "update:ns/a@1>2");
    cr_assert_str_eq(c.log[2], "delete:ns/a@3"); /* the final state from the event */
    cr_assert_eq(np_kube_store_len(s), 0);
    /* ADDED of a known key (a re-watch replaying) is an update. */
    c.n = 0;
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, a1, &h), 0);
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, a2, &h), 0);
    cr_assert_str_eq(c.log[1], "update:ns/a@1>2");
    /* The store never became synced: only a full list does that. */
    cr_assert_not(np_kube_store_has_synced(s));
    json_object *nameless = json_object_new_object();
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, nameless, &h), NP_EINVAL);
    json_object_put(nameless);
    json_object_put(a1);
    json_object_put(a2);
    json_object_put(a3);
    json_object_put(ghost);
    np_kube_store_destroy(s);
}

static void read_spec(void *ctx, const char *key, json_object *o)
{
    (void)key;
    *(bool *)ctx = np_json_path(o, "spec", NP_JSON_END) != NULL;
}

Test(store, reads_are_deep_copies)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    json_object *o = obj("ns", "a", "1");
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, o, NULL), 0);
    json_object *copy = NULL;
    cr_assert_eq(np_kube_store_get(s, &copy, "ns/a"), 0);
    cr_assert_neq(copy, o);
    json_object_object_del(copy, "spec");
    json_object_put(copy);
    bool has_spec = false;
    cr_assert_eq(np_kube_store_with(s, "ns/a", read_spec, &has_spec), 0);
    cr_assert(has_spec, "changing a copy changed the store");
    cr_assert_eq(np_kube_store_get(s, &copy, "ns/missing"), NP_ENOTFOUND);
    cr_assert_null(copy);
    cr_assert_eq(np_kube_store_with(s, "ns/missing", read_spec, &has_spec), NP_ENOTFOUND);
    json_object_put(o);
    np_kube_store_destroy(s);
}

struct race {
    struct np_kube_store *store;
    int reads;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < 2000; i++) {
        json_object *o = NULL;
        char key[32];
        snprintf(key, sizeof(key), "ns/o%d", i % 50);
        if (np_kube_store_get(r->store, &o, key) == 0) {
            cr_assert_not_null(np_kube_object_name(o));
            json_object_put(o);
            r->reads++;
        }
    }
    return NULL;
}

Test(store, readers_race_a_writer, .timeout = 60)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    struct race r1 = {s, 0}, r2 = {s, 0};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, reader, &r1);
    pthread_create(&t2, NULL, reader, &r2);
    for (int round = 0; round < 100; round++) {
        json_object *arr = json_object_new_array();
        char name[16], rv[16];
        for (int i = 0; i < 50; i++) {
            snprintf(name, sizeof(name), "o%d", i);
            snprintf(rv, sizeof(rv), "%d", round);
            json_object_array_add(arr, obj("ns", name, rv));
        }
        cr_assert_eq(np_kube_store_replace(s, arr, NULL), 0);
        json_object_put(arr);
        json_object *ev = obj("ns", "o1", "x");
        np_kube_store_apply(s, NP_KUBE_MODIFIED, ev, NULL);
        json_object_put(ev);
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    cr_assert_eq(np_kube_store_len(s), 50);
    np_kube_store_destroy(s);
}

static void count_obj(void *ctx, const char *key, json_object *o)
{
    (void)key;
    if (np_kube_object_name(o))
        (*(int *)ctx)++;
}

Test(store, staged_relist_page_by_page)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    json_object *first = items(obj("ns", "a", "1"), obj("ns", "b", "1"), NULL);
    cr_assert_eq(np_kube_store_replace(s, first, NULL), 0);
    json_object_put(first);

    struct np_kube_store_stage *st = np_kube_store_stage_new();
    json_object *page1 = items(obj("ns", "b", "2"), NULL, NULL);
    json_object *page2 = items(obj("ns", "c", "3"), obj("ns", "d", "3"), NULL);
    cr_assert_eq(np_kube_store_stage_add(st, page1), 0);
    cr_assert_eq(np_kube_store_stage_add(st, page2), 0);
    json_object_put(page1);
    json_object_put(page2);
    /* Nothing is visible before the commit. */
    cr_assert_eq(np_kube_store_len(s), 2);
    struct calls c = {0};
    struct np_kube_handlers h = {on_add, on_update, on_delete, &c};
    np_kube_store_commit(s, st, &h);
    cr_assert_eq(np_kube_store_len(s), 3);
    cr_assert_eq(c.n, 4);
    cr_assert(has_call(&c, "update:ns/b@1>2"));
    cr_assert(has_call(&c, "add:ns/c@3"));
    cr_assert(has_call(&c, "add:ns/d@3"));
    cr_assert_str_eq(c.log[3], "delete:ns/a@1"); /* deletions come last */
    int counted = 0;
    np_kube_store_each(s, count_obj, &counted);
    cr_assert_eq(counted, 3);

    /* A bad page fails the stage; freeing it leaves the store alone. */
    st = np_kube_store_stage_new();
    json_object *bad = items(json_object_new_object(), NULL, NULL);
    cr_assert_eq(np_kube_store_stage_add(st, bad), NP_EINVAL);
    json_object_put(bad);
    np_kube_store_stage_free(st);
    cr_assert_eq(np_kube_store_len(s), 3);
    np_kube_store_destroy(s);
}

/*
 * Defect 3 of issue 10: a worker writes into the store (the controller puts the answer of its
 * status patch there) while the informer's relist commit walks the freshly swapped map and
 * calls the handlers. The first handler call of the commit runs a "worker" thread to the end
 * before it returns, so the interleaving is the same on every run: the worker deletes the key
 * being notified, changes every other key and adds new ones (which grows the map).
 */
struct interleave {
    struct np_kube_store *store;
    const char *notified; /* the key whose handler call runs the worker */
    int calls;
};

static void *worker_writes(void *arg)
{
    struct interleave *il = arg;
    char name[16];
    json_object *gone = obj("ns", il->notified + 3, "30");
    cr_assert_eq(np_kube_store_apply(il->store, NP_KUBE_DELETED, gone, NULL), 0);
    json_object_put(gone);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "o%d", i);
        if (strcmp(name, il->notified + 3) == 0)
            continue;
        json_object *o = obj("ns", name, "31");
        np_kube_store_apply(il->store, NP_KUBE_MODIFIED, o, NULL);
        json_object_put(o);
    }
    for (int i = 0; i < 64; i++) {
        snprintf(name, sizeof(name), "new%d", i);
        json_object *o = obj("ns", name, "32");
        np_kube_store_apply(il->store, NP_KUBE_ADDED, o, NULL);
        json_object_put(o);
    }
    return NULL;
}

static void interleave_update(void *ctx, const char *key, json_object *old_obj,
                              json_object *new_obj)
{
    struct interleave *il = ctx;
    (void)old_obj;
    cr_assert_str_eq(np_kube_object_resource_version(new_obj), "20");
    if (il->calls++ > 0)
        return;
    static char first[64];
    snprintf(first, sizeof(first), "%s", key);
    il->notified = first;
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, worker_writes, il), 0);
    pthread_join(t, NULL);
}

Test(store, worker_writes_during_a_relist_commit)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    char name[16];
    json_object *arr = json_object_new_array();
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "o%d", i);
        json_object_array_add(arr, obj("ns", name, "10"));
    }
    cr_assert_eq(np_kube_store_replace(s, arr, NULL), 0);
    json_object_put(arr);

    arr = json_object_new_array();
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "o%d", i);
        json_object_array_add(arr, obj("ns", name, "20"));
    }
    struct interleave il = {s, NULL, 0};
    struct np_kube_handlers h = {NULL, interleave_update, NULL, &il};
    cr_assert_eq(np_kube_store_replace(s, arr, &h), 0);
    json_object_put(arr);
    /* Every key changed in the list: each is notified once, with the listed object. */
    cr_assert_eq(il.calls, 20);
    /* The worker's writes are newer than the list and all survive it. */
    cr_assert_eq(np_kube_store_len(s), 19 + 64);
    json_object *got = NULL;
    char key[32];
    snprintf(key, sizeof(key), "%s", il.notified);
    cr_assert_eq(np_kube_store_get(s, &got, key), NP_ENOTFOUND);
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "ns/o%d", i);
        if (strcmp(key, il.notified) == 0)
            continue;
        cr_assert_eq(np_kube_store_get(s, &got, key), 0);
        cr_assert_str_eq(np_kube_object_resource_version(got), "31");
        json_object_put(got);
    }
    np_kube_store_destroy(s);
}

static const char *stored_rv(struct np_kube_store *s, const char *key, char *buf, size_t n)
{
    json_object *got = NULL;
    if (np_kube_store_get(s, &got, key) != 0)
        return "(none)";
    snprintf(buf, n, "%s", np_kube_object_resource_version(got));
    json_object_put(got);
    return buf;
}

/* An older object (a late event) never replaces a worker's newer write, the answer of a patch
 * the watch has not delivered yet: etcd's resourceVersions are numbers. */
Test(store, apply_never_goes_back_past_a_written_object)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    struct calls c = {0};
    struct np_kube_handlers h = {on_add, on_update, on_delete, &c};
    char buf[32];
    json_object *v5 = obj("ns", "a", "5"), *v9 = obj("ns", "a", "9"), *v10 = obj("ns", "a", "10");
    json_object *v8 = obj("ns", "a", "8");
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, v5, &h), 0);
    cr_assert_eq(np_kube_store_apply_written(s, v10, "5"), 0);
    /* "9" < "10" as numbers, though not as strings: a late event is ignored, not notified. */
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_MODIFIED, v9, &h), 0);
    cr_assert_str_eq(stored_rv(s, "ns/a", buf, sizeof(buf)), "10");
    cr_assert_eq(c.n, 1, "a stale event was notified: %s", c.log[c.n - 1]);
    /* A stale deletion does not remove a newer object either. */
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_DELETED, v8, &h), 0);
    cr_assert_str_eq(stored_rv(s, "ns/a", buf, sizeof(buf)), "10");
    /* The write's own event (same version) is stored and notified... */
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_MODIFIED, v10, &h), 0);
    cr_assert_eq(c.n, 2);
    cr_assert_str_eq(c.log[1], "update:ns/a@10>10");
    /* ...and from then on the server's order wins, should its versions ever go back (a
     * restored etcd): the store follows the watch. */
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_MODIFIED, v9, &h), 0);
    cr_assert_str_eq(stored_rv(s, "ns/a", buf, sizeof(buf)), "9");
    json_object_put(v5);
    json_object_put(v8);
    json_object_put(v9);
    json_object_put(v10);
    np_kube_store_destroy(s);
}

/* A worker's write (the answer of its patch) moves the store forward only. */
Test(store, written_objects_only_move_forward)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    char buf[32];
    json_object *v5 = obj("ns", "a", "5"), *v7 = obj("ns", "a", "7"), *v6 = obj("ns", "a", "6");
    json_object *b = obj("ns", "b", "9");
    /* Never re-adds a key the watch deleted (or never delivered). */
    cr_assert_eq(np_kube_store_apply_written(s, v6, "5"), NP_ENOTFOUND);
    cr_assert_eq(np_kube_store_len(s), 0);
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, v5, NULL), 0);
    cr_assert_eq(np_kube_store_apply_written(s, v6, "5"), 0);
    cr_assert_str_eq(stored_rv(s, "ns/a", buf, sizeof(buf)), "6");
    /* The watch delivered a user's edit (7) before our answer (6) was stored: keep 7. */
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_MODIFIED, v7, NULL), 0);
    cr_assert_eq(np_kube_store_apply_written(s, v6, "5"), NP_ECONFLICT);
    cr_assert_str_eq(stored_rv(s, "ns/a", buf, sizeof(buf)), "7");
    cr_assert_eq(np_kube_store_apply_written(s, b, "1"), NP_ENOTFOUND);
    /* Versions that are not numbers are never compared: the write lands only on the very
     * version it was made on. */
    json_object *x1 = obj("ns", "x", "abc"), *x2 = obj("ns", "x", "abd"),
                *x3 = obj("ns", "x", "zz");
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, x1, NULL), 0);
    cr_assert_eq(np_kube_store_apply_written(s, x2, "abc"), 0);
    cr_assert_str_eq(stored_rv(s, "ns/x", buf, sizeof(buf)), "abd");
    cr_assert_eq(np_kube_store_apply_written(s, x3, "abc"), NP_ECONFLICT);
    cr_assert_str_eq(stored_rv(s, "ns/x", buf, sizeof(buf)), "abd");
    /* ...and the watch's order wins over ours. */
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_MODIFIED, x1, NULL), 0);
    cr_assert_str_eq(stored_rv(s, "ns/x", buf, sizeof(buf)), "abc");
    json_object *all[] = {v5, v6, v7, b, x1, x2, x3};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        json_object_put(all[i]);
    np_kube_store_destroy(s);
}

/* A relist read at version 10 does not undo what a worker wrote after it. */
Test(store, relist_keeps_writes_newer_than_the_list)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    char buf[32];
    json_object *first = items(obj("ns", "a", "4"), obj("ns", "old", "3"), obj("ns", "w", "3"));
    cr_assert_eq(np_kube_store_replace(s, first, NULL), 0);
    json_object_put(first);
    /* While the list runs: workers write a (12) and w (13, then w is deleted after the
     * list: the watch from 10 will say so). */
    json_object *a12 = obj("ns", "a", "12"), *w13 = obj("ns", "w", "13");
    cr_assert_eq(np_kube_store_apply_written(s, a12, "4"), 0);
    cr_assert_eq(np_kube_store_apply_written(s, w13, "3"), 0);
    json_object_put(a12);
    json_object_put(w13);

    struct np_kube_store_stage *st = np_kube_store_stage_new();
    json_object *page = items(obj("ns", "a", "8"), obj("ns", "c", "9"), NULL);
    cr_assert_eq(np_kube_store_stage_add(st, page), 0);
    json_object_put(page);
    np_kube_store_stage_set_resource_version(st, "10");
    struct calls c = {0};
    struct np_kube_handlers h = {on_add, on_update, on_delete, &c};
    np_kube_store_commit(s, st, &h);
    cr_assert_str_eq(stored_rv(s, "ns/a", buf, sizeof(buf)), "12");
    cr_assert_str_eq(stored_rv(s, "ns/w", buf, sizeof(buf)), "13");
    cr_assert_str_eq(stored_rv(s, "ns/c", buf, sizeof(buf)), "9");
    cr_assert_str_eq(stored_rv(s, "ns/old", buf, sizeof(buf)), "(none)");
    cr_assert_eq(c.n, 2);
    cr_assert(has_call(&c, "add:ns/c@9"));
    cr_assert(has_call(&c, "delete:ns/old@3"));
    /* The server's objects themselves always follow the list. */
    st = np_kube_store_stage_new();
    page = items(obj("ns", "c", "7"), NULL, NULL);
    cr_assert_eq(np_kube_store_stage_add(st, page), 0);
    json_object_put(page);
    np_kube_store_stage_set_resource_version(st, "7");
    np_kube_store_commit(s, st, NULL);
    cr_assert_str_eq(stored_rv(s, "ns/c", buf, sizeof(buf)), "7");
    np_kube_store_destroy(s);
}

/* Writers on two threads (workers) against relists with handlers; ASan and TSan-like
 * checks come from the sanitizers, the end state from the versions. */
struct writer {
    struct np_kube_store *store;
    int id;
};

static void *written_writer(void *arg)
{
    struct writer *w = arg;
    char name[16], rv[16], base[16];
    for (int i = 1; i <= 300; i++) {
        snprintf(name, sizeof(name), "o%d", (i * 7 + w->id) % 30);
        snprintf(rv, sizeof(rv), "%d", 1000 + i);
        snprintf(base, sizeof(base), "%d", 999 + i);
        json_object *o = obj("ns", name, rv);
        (void)np_kube_store_apply_written(w->store, o, base);
        json_object_put(o);
    }
    return NULL;
}

static void count_call(void *ctx, const char *key, json_object *o)
{
    (void)key;
    (void)o;
    (*(int *)ctx)++;
}

static void count_update(void *ctx, const char *key, json_object *a, json_object *b)
{
    (void)a;
    count_call(ctx, key, b);
}

Test(store, writers_race_relists, .timeout = 60)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    int calls = 0;
    struct np_kube_handlers h = {count_call, count_update, count_call, &calls};
    char name[16], rv[16];
    json_object *arr = json_object_new_array();
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof(name), "o%d", i);
        json_object_array_add(arr, obj("ns", name, "1"));
    }
    cr_assert_eq(np_kube_store_replace(s, arr, &h), 0);
    json_object_put(arr);
    struct writer w1 = {s, 1}, w2 = {s, 2};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, written_writer, &w1);
    pthread_create(&t2, NULL, written_writer, &w2);
    for (int round = 0; round < 50; round++) {
        arr = json_object_new_array();
        for (int i = 0; i < 30; i++) {
            snprintf(name, sizeof(name), "o%d", i);
            snprintf(rv, sizeof(rv), "%d", 2 + round);
            json_object_array_add(arr, obj("ns", name, rv));
        }
        cr_assert_eq(np_kube_store_replace(s, arr, &h), 0);
        json_object_put(arr);
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    cr_assert_eq(np_kube_store_len(s), 30);
    np_kube_store_destroy(s);
}

/* A posture-like object: the same keys as its siblings, its own name, uid and values. */
static json_object *posture_like(int i, size_t pad)
{
    char name[32], uid[64], rv[16], rule[64];
    snprintf(name, sizeof(name), "p%05d", i);
    snprintf(uid, sizeof(uid), "%08x-f0b6-4034-acb1-%012x", (unsigned)i * 2654435761u,
             (unsigned)i * 40503u);
    snprintf(rv, sizeof(rv), "%d", 1000 + i);
    snprintf(rule, sizeof(rule), "tcp %d 10.%d.0.0/16", 1000 + i % 5000, i % 250);
    json_object *o = obj("bench", name, rv);
    json_object *meta = json_object_object_get(o, "metadata");
    json_object_object_add(meta, "uid", json_object_new_string(uid));
    json_object *spec = json_object_object_get(o, "spec");
    json_object_object_add(spec, "groupName", json_object_new_string(name));
    json_object_object_add(spec, "description", json_object_new_string("netposture benchmark"));
    json_object *status = json_object_new_object();
    json_object *conds = json_object_new_array();
    static const char *types[] = {"Ready", "Reconciling", "Stalled", "Synced", "Drifted"};
    for (size_t t = 0; t < 5; t++) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "type", json_object_new_string(types[t]));
        json_object_object_add(c, "status", json_object_new_string(t ? "False" : "True"));
        json_object_object_add(c, "lastTransitionTime",
                               json_object_new_string("2026-12-03T10:21:15Z"));
        json_object_object_add(c, "message", json_object_new_string(rule));
        json_object_array_add(conds, c);
    }
    json_object_object_add(status, "conditions", conds);
    char *big = calloc(pad + 1, 1);
    uint32_t x = 2463534242u + (uint32_t)i;
    for (size_t k = 0; k < pad; k++) { /* xorshift: text deflate cannot shrink much */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        big[k] = (char)('a' + x % 26);
    }
    json_object_object_add(status, "notes", json_object_new_string(big));
    free(big);
    json_object_object_add(o, "status", status);
    return o;
}

static void assert_stored_as(struct np_kube_store *s, json_object *want)
{
    char *key = NULL;
    cr_assert_eq(np_kube_object_key(&key, want), 0);
    json_object *got = NULL;
    cr_assert_eq(np_kube_store_get(s, &got, key), 0, "%s", key);
    cr_assert_str_eq(json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN),
                     json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN), "%s", key);
    json_object_put(got);
    free(key);
}

/* Objects are kept deflated against the first one's text: what comes back is exactly what
 * went in (also objects longer than the dictionary's window and unlike the first), and
 * siblings take a fraction of their text. */
Test(store, keeps_objects_deflated_and_exact)
{
    enum { N = 200 };
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    json_object *items = json_object_new_array();
    size_t text = 0;
    for (int i = 0; i < N; i++) {
        json_object *o = posture_like(i, 0);
        text += strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_array_add(items, o);
    }
    cr_assert_eq(np_kube_store_replace(s, items, NULL), 0);
    size_t bytes = np_kube_store_bytes(s);
    cr_assert_lt(bytes * 3, text, "stored %zu bytes for %zu bytes of text", bytes, text);

    json_object *odd = obj("other", "unlike-the-rest", "77"); /* the watch adds another shape */
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, odd, NULL), 0);
    json_object *big = posture_like(N, 40000); /* longer than the dictionary's window */
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, big, NULL), 0);
    for (int i = 0; i < N; i++)
        assert_stored_as(s, json_object_array_get_idx(items, (size_t)i));
    assert_stored_as(s, odd);
    assert_stored_as(s, big);
    json_object_put(items);
    json_object_put(odd);
    json_object_put(big);
    np_kube_store_destroy(s);
}

/* The first object the watch brings names the dictionary of the store; a relist's stage has
 * its own. Entries of either kind read back the same after relists replace them. */
Test(store, entries_of_old_and_new_dictionaries_read_back)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    json_object *a = posture_like(1, 0), *b = posture_like(2, 0);
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, a, NULL), 0);
    json_object *items = json_object_new_array();
    json_object_array_add(items, json_object_get(b));
    json_object_array_add(items, json_object_get(a));
    cr_assert_eq(np_kube_store_replace(s, items, NULL), 0);
    json_object *c = posture_like(3, 0);
    cr_assert_eq(np_kube_store_apply_written(s, json_object_get(a), NULL) != 0, true);
    cr_assert_eq(np_kube_store_apply(s, NP_KUBE_ADDED, c, NULL), 0);
    assert_stored_as(s, a);
    assert_stored_as(s, b);
    assert_stored_as(s, c);
    json_object_put(a); /* the extra reference taken for apply_written */
    json_object_put(items);
    json_object_put(a);
    json_object_put(b);
    json_object_put(c);
    np_kube_store_destroy(s);
}

/* Bytes a store holds for a relist of these items. */
static size_t stored_bytes(json_object *items)
{
    struct np_kube_store *s = NULL;
    cr_assert_eq(np_kube_store_new(&s), 0);
    cr_assert_eq(np_kube_store_replace(s, items, NULL), 0);
    size_t bytes = np_kube_store_bytes(s);
    np_kube_store_destroy(s);
    json_object_put(items);
    return bytes;
}

/* A relist's dictionary is the longest object of its first page: a small object listed first
 * (another shard's stub, a posture not reconciled yet) does not make its siblings dearer. */
Test(store, a_small_first_object_does_not_name_the_dictionary)
{
    enum { N = 100 };
    json_object *small_first = json_object_new_array(), *small_last = json_object_new_array();
    json_object_array_add(small_first, obj("aaa", "stub", "1"));
    for (int i = 0; i < N; i++) {
        json_object_array_add(small_first, posture_like(i, 0));
        json_object_array_add(small_last, posture_like(i, 0));
    }
    json_object_array_add(small_last, obj("zzz", "stub", "1"));
    size_t a = stored_bytes(small_first), b = stored_bytes(small_last);
    cr_expect_leq(a, b + b / 20, "%zu bytes with the small object first, %zu with it last", a, b);
}
