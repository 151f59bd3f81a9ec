/*
 * YAML documents for netposturectl: a multi-document stream loaded with libyaml into typed
 * JSON (plain scalars resolved as kubectl's YAML 1.1 decoder does: null, booleans, integers,
 * floats; quoted or !!str scalars stay strings), with the line and column of every mapping key
 * and sequence item under its field path, so messages can point at the offending field.
 */
#include "cli/private/cli_private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_NODES 200000

struct walk {
    yaml_document_t *ydoc;
    struct np_cli_doc *doc;
    size_t budget;
};

static void mark_add(struct np_cli_doc *doc, const char *path, yaml_mark_t m)
{
    doc->marks = np_xrealloc(doc->marks, (doc->n_marks + 1) * sizeof(*doc->marks));
    doc->marks[doc->n_marks++] =
        (struct np_cli_mark){np_strdup(path), (int)m.line + 1, (int)m.column + 1};
}

static bool one_of(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

static json_object *resolve_number(const char *s)
{
    char *end = NULL;
    errno = 0;
    long long i = strtoll(s, &end, 0);
    if (*s && end && *end == '\0' && errno == 0)
        return json_object_new_int64(i);
    if (one_of(s, (const char *const[]){".inf", ".Inf", ".INF", "+.inf", "-.inf", ".nan", NULL}))
        return json_object_new_string(s); /* not representable in JSON */
    errno = 0;
    double d = strtod(s, &end);
    bool numeric = strspn(s, "+-0123456789.eE") == strlen(s) && strpbrk(s, "0123456789");
    if (*s && end && *end == '\0' && errno == 0 && numeric && isfinite(d))
        return json_object_new_double(d);
    return NULL;
}

/* A plain scalar as kubectl's decoder (YAML 1.1) types it. */
static json_object *resolve_plain(const char *s)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", "y",  "Y",  "yes",
                                        "Yes",  "YES",  "on",   "On", "ON", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", "n",   "N",   "no",
                                         "No",    "NO",    "off",   "Off", "OFF", NULL};
    if (one_of(s, nulls))
        return NULL;
    if (one_of(s, trues))
        return json_object_new_boolean(1);
    if (one_of(s, falses))
        return json_object_new_boolean(0);
    json_object *n = resolve_number(s);
    return n ? n : json_object_new_string(s);
}

/* Quoted scalars stay strings; plain ones are resolved (an explicit !!str tag cannot be told
 * from the default one after libyaml's loader, so it is resolved too). */
static json_object *scalar_to_json(yaml_node_t *node)
{
    const char *s = (const char *)node->data.scalar.value;
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_object_new_string_len(s, (int)node->data.scalar.length);
    return resolve_plain(s);
}

static int node_to_json(struct walk *w, yaml_node_t *node, const char *path, int depth,
                        json_object **out);

static int sequence_to_json(struct walk *w, yaml_node_t *node, const char *path, int depth,
                            json_object *arr)
{
    size_t i = 0;
    for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top;
         it++, i++) {
        yaml_node_t *item = yaml_document_get_node(w->ydoc, *it);
        char *sub = np_strdupf("%s[%zu]", path, i);
        json_object *child = NULL;
        if (item)
            mark_add(w->doc, sub, item->start_mark);
        int rc = node_to_json(w, item, sub, depth + 1, &child);
        free(sub);
        if (rc)
            return rc;
        json_object_array_add(arr, child);
    }
    return 0;
}

static int mapping_to_json(struct walk *w, yaml_node_t *node, const char *path, int depth,
                           json_object *obj)
{
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(w->ydoc, p->key);
        if (!k || k->type != YAML_SCALAR_NODE)
            return np_error_set(NP_EPARSE, "%zu:%zu: a mapping key is not a scalar",
                                k ? k->start_mark.line + 1 : 0, k ? k->start_mark.column + 1 : 0);
        const char *key = (const char *)k->data.scalar.value;
        char *sub = *path ? np_strdupf("%s.%s", path, key) : np_strdup(key);
        mark_add(w->doc, sub, k->start_mark);
        json_object *child = NULL;
        int rc = node_to_json(w, yaml_document_get_node(w->ydoc, p->value), sub, depth + 1, &child);
        free(sub);
        if (rc)
            return rc;
        json_object_object_add(obj, key, child);
    }
    return 0;
}

static int node_to_json(struct walk *w, yaml_node_t *node, const char *path, int depth,
                        json_object **out)
{
    *out = NULL;
    if (!node || depth > MAX_DEPTH || w->budget == 0)
        return np_error_set(NP_EPARSE, "YAML too deep or too large");
    w->budget--;
    int rc = 0;
    switch (node->type) {
    case YAML_SCALAR_NODE: *out = scalar_to_json(node); break;
    case YAML_SEQUENCE_NODE:
        *out = json_object_new_array();
        rc = sequence_to_json(w, node, path, depth, *out);
        break;
    case YAML_MAPPING_NODE:
        *out = json_object_new_object();
        rc = mapping_to_json(w, node, path, depth, *out);
        break;
    default: rc = np_error_set(NP_EPARSE, "unexpected YAML node");
    }
    if (rc) {
        json_object_put(*out);
        *out = NULL;
    }
    return rc;
}

static void doc_clean_up(struct np_cli_doc *d)
{
    json_object_put(d->root);
    for (size_t i = 0; i < d->n_marks; i++)
        free(d->marks[i].path);
    free(d->marks);
    memset(d, 0, sizeof(*d));
}

static int parser_error(const yaml_parser_t *parser, int *line, int *column)
{
    *line = (int)parser->problem_mark.line + 1;
    *column = (int)parser->problem_mark.column + 1;
    if (parser->context)
        return np_error_set(NP_EPARSE, "%s %s", parser->problem ? parser->problem : "bad YAML",
                            parser->context);
    return np_error_set(NP_EPARSE, "%s", parser->problem ? parser->problem : "bad YAML");
}

/* Loads the next document into *doc; *done when the stream has no more. */
static int load_one(yaml_parser_t *parser, struct np_cli_doc *doc, bool *done, int *line,
                    int *column)
{
    yaml_document_t ydoc;
    memset(doc, 0, sizeof(*doc));
    if (!yaml_parser_load(parser, &ydoc))
        return parser_error(parser, line, column);
    yaml_node_t *root = yaml_document_get_root_node(&ydoc);
    int rc = 0;
    *done = root == NULL; /* libyaml: no root node means the stream has ended */
    if (root) {
        mark_add(doc, "", root->start_mark);
        struct walk w = {&ydoc, doc, MAX_NODES};
        rc = node_to_json(&w, root, "", 0, &doc->root);
        if (rc) {
            *line = (int)root->start_mark.line + 1;
            *column = (int)root->start_mark.column + 1;
            doc_clean_up(doc);
        }
    }
    yaml_document_delete(&ydoc);
    return rc;
}

int np_cli_yaml_load(struct np_cli_docs *out, const char *data, size_t len, int *line, int *column)
{
    yaml_parser_t parser;
    memset(out, 0, sizeof(*out));
    *line = *column = 0;
    if (!yaml_parser_initialize(&parser))
        return np_error_set(NP_ENOMEM, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    int rc = 0;
    for (;;) {
        struct np_cli_doc doc;
        bool done = false;
        rc = load_one(&parser, &doc, &done, line, column);
        if (rc || done)
            break;
        out->items = np_xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
        out->items[out->n++] = doc;
    }
    yaml_parser_delete(&parser);
    return rc;
}

void np_cli_docs_clean_up(struct np_cli_docs *docs)
{
    for (size_t i = 0; i < docs->n; i++)
        doc_clean_up(&docs->items[i]);
    free(docs->items);
    memset(docs, 0, sizeof(*docs));
}

/* Whether prefix is path or a field path above it ("spec" of "spec.x", "spec.x" of
 * "spec.x[0]"). */
static bool path_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 0)
        return true;
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '.' || path[n] == '[');
}

const struct np_cli_mark *np_cli_doc_mark(const struct np_cli_doc *doc, const char *path)
{
    const struct np_cli_mark *best = NULL;
    for (size_t i = 0; i < doc->n_marks; i++) {
        const struct np_cli_mark *m = &doc->marks[i];
        if (path_under(path, m->path) && (!best || strlen(m->path) > strlen(best->path)))
            best = m;
    }
    return best;
}
