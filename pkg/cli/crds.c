/*
 * The netposture CRDs compiled into netposturectl (build/gen/crds.c, from crds/): each one's
 * kind, scope and OpenAPI schema, loaded once for offline validation.
 */
#include "cli/private/cli_private.h"

#include <stdlib.h>
#include <string.h>

static int crd_from_doc(struct np_cli_crd *out, json_object *crd)
{
    json_object *versions = np_json_path(crd, "spec", "versions", NP_JSON_END);
    json_object *schema = np_json_path(json_object_array_get_idx(versions, 0), "schema",
                                       "openAPIV3Schema", NP_JSON_END);
    const char *kind = np_json_path_str(crd, "spec", "names", "kind", NP_JSON_END);
    if (!schema || !kind)
        return np_error_set(NP_EPARSE, "an embedded CRD has no kind or schema");
    out->kind = np_strdup(kind);
    out->namespaced = np_str_eq(np_json_path_str(crd, "spec", "scope", NP_JSON_END), "Namespaced");
    out->schema = json_object_get(schema);
    return 0;
}

int np_cli_crds_load(struct np_cli_crds *out)
{
    memset(out, 0, sizeof(*out));
    out->items = np_xcalloc(np_cli_embedded_crds_n, sizeof(*out->items));
    for (size_t i = 0; i < np_cli_embedded_crds_n; i++) {
        const struct np_cli_embedded *e = &np_cli_embedded_crds[i];
        struct np_cli_docs docs;
        int line = 0, col = 0;
        int rc = np_cli_yaml_load(&docs, (const char *)e->data, e->len, &line, &col);
        if (rc == 0 && docs.n == 1)
            rc = crd_from_doc(&out->items[out->n], docs.items[0].root);
        else if (rc == 0)
            rc = np_error_set(NP_EPARSE, "%s: one CRD per file expected", e->name);
        np_cli_docs_clean_up(&docs);
        if (rc) {
            np_cli_crds_clean_up(out);
            return rc;
        }
        out->n++;
    }
    return 0;
}

void np_cli_crds_clean_up(struct np_cli_crds *crds)
{
    for (size_t i = 0; i < crds->n; i++) {
        free(crds->items[i].kind);
        json_object_put(crds->items[i].schema);
    }
    free(crds->items);
    memset(crds, 0, sizeof(*crds));
}

const struct np_cli_crd *np_cli_crds_find(const struct np_cli_crds *crds, const char *kind)
{
    for (size_t i = 0; kind && i < crds->n; i++)
        if (strcmp(crds->items[i].kind, kind) == 0)
            return &crds->items[i];
    return NULL;
}
