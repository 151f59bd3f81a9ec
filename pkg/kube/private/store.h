/*
 * The informer store's writer side, private to pkg/kube (the informer's thread is the only
 * writer) and its tests: construction, list replacement, watch events and the page-by-page
 * relist staging. Readers use kube.h (np_kube_informer_store, np_kube_store_get/with/each and
 * the one reader write, np_kube_store_apply_written).
 */
#ifndef NP_KUBE_PRIVATE_STORE_H
#define NP_KUBE_PRIVATE_STORE_H

#include "kube/kube.h"

#include <json-c/json.h>

int np_kube_store_new(struct np_kube_store **out);
void np_kube_store_destroy(struct np_kube_store *store);

/*
 * Writer side (the informer's thread). replace swaps in the objects of items (a json array,
 * borrowed; stored as text) atomically, marks the store synced, then calls h: on_add for new
 * keys, on_update for keys whose resourceVersion changed, then on_delete for keys missing from
 * items (with freshly parsed objects). apply stores one ADDED/MODIFIED/DELETED event's object
 * (borrowed; handed to the handler as is) and calls the matching handler (a DELETED of an
 * unknown key calls nothing). h may be NULL. Errors: NP_EINVAL (an item without a name; the
 * store is left unchanged).
 *
 * A worker's write (apply_written) is never undone by an older object: resourceVersions are
 * opaque to the API, but etcd's are decimal revisions, so when both are decimal they compare
 * as numbers, and until the server confirms the write (an event or list with that version or
 * a newer one) an older event is ignored (apply: not stored, no handler) and replace keeps
 * the written object (also when missing from a list older than it, see
 * stage_set_resource_version). Between the server's own objects the watch's and the list's
 * order wins (so a restored etcd, whose versions go back, is followed); versions that are not
 * both decimal are never compared.
 */
int np_kube_store_replace(struct np_kube_store *store, json_object *items,
                          const struct np_kube_handlers *h);
int np_kube_store_apply(struct np_kube_store *store, enum np_kube_event_type type, json_object *obj,
                        const struct np_kube_handlers *h);

/*
 * The same built up piece by piece (a relist page by page): stage_new starts an empty staged
 * map, stage_add stores the objects of a json array (borrowed) into it, and commit swaps it in
 * and calls h as replace does (with freshly parsed objects), consuming the stage; a stage
 * not committed is released with stage_free. stage_set_resource_version records the list's
 * resourceVersion (copied): a worker's write absent from the list but newer than it is kept,
 * the watch from that version will say what became of it. Errors: NP_EINVAL (an item without
 * a name).
 */
struct np_kube_store_stage;
struct np_kube_store_stage *np_kube_store_stage_new(void);
int np_kube_store_stage_add(struct np_kube_store_stage *stage, json_object *items);
void np_kube_store_stage_set_resource_version(struct np_kube_store_stage *stage, const char *rv);
void np_kube_store_commit(struct np_kube_store *store, struct np_kube_store_stage *stage,
                          const struct np_kube_handlers *h);
void np_kube_store_stage_free(struct np_kube_store_stage *stage);

#endif
