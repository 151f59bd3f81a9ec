/*
 * Small pieces the rest of pkg/kube builds on: JSON parsing with a sane depth, libyaml to
 * json-c, base64 through OpenSSL, file reading, URL query encoding, a string hash map, and
 * the metadata accessors and keys of Kubernetes objects.
 */
#include "kube/private/kube_private.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------ errors */

int np_kube_error_wrap(int code, const char *fmt, ...)
{
    char prev[1024], prefix[512];
    np_strlcpy(prev, np_error_message(), sizeof(prev));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    return np_error_set(code, "%s: %s", prefix, prev);
}

/* ------------------------------------------------------------ json */

int np_kube_json_parse(json_object **out, const char *data, size_t len)
{
    int rc = 0;
    json_object *obj = NULL;
    struct json_tokener *tok = NULL;

    *out = NULL;
    if (len > NP_KUBE_MAX_BODY) {
        rc = np_error_set(NP_EPARSE, "JSON document too large (%zu bytes)", len);
        goto out;
    }
    tok = json_tokener_new_ex(NP_KUBE_JSON_DEPTH);
    if (!tok) {
        rc = np_error_set(NP_ENOMEM, "out of memory");
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    /* Pass the terminating NUL too so a document that ends the input is complete. */
    obj = json_tokener_parse_ex(tok, data ? data : "", (int)len);
    if (!obj && json_tokener_get_error(tok) == json_tokener_continue)
        obj = json_tokener_parse_ex(tok, "", 1);
    if (!obj) {
        rc =
            np_error_set(NP_EPARSE, "invalid JSON at byte %zu: %s", json_tokener_get_parse_end(tok),
                         json_tokener_error_desc(json_tokener_get_error(tok)));
        goto out;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        char c = data[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != '\0') {
            rc = np_error_set(NP_EPARSE, "trailing data after JSON at byte %zu", i);
            goto out;
        }
    }
    *out = obj;
    obj = NULL;
out:
    json_object_put(obj);
    if (tok)
        json_tokener_free(tok);
    return rc;
}

char *np_kube_json_text(json_object *obj)
{
    return np_strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ------------------------------------------------------------ yaml */

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 200000

struct yaml_walk {
    yaml_document_t *doc;
    size_t budget;
};

static int yaml_node_to_json(struct yaml_walk *w, yaml_node_t *node, int depth, json_object **out)
{
    int rc = 0;
    json_object *obj = NULL;

    *out = NULL;
    if (!node || depth > YAML_MAX_DEPTH || w->budget == 0) {
        rc = np_error_set(NP_EPARSE, "YAML too deep or too large");
        goto out;
    }
    w->budget--;
    switch (node->type) {
    case YAML_SCALAR_NODE:
        obj = json_object_new_string_len((const char *)node->data.scalar.value,
                                         (int)node->data.scalar.length);
        break;
    case YAML_SEQUENCE_NODE:
        obj = json_object_new_array();
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++) {
            json_object *child = NULL;
            rc = yaml_node_to_json(w, yaml_document_get_node(w->doc, *it), depth + 1, &child);
            if (rc)
                goto out;
            json_object_array_add(obj, child);
        }
        break;
    case YAML_MAPPING_NODE:
        obj = json_object_new_object();
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
            json_object *child = NULL;
            if (!k || k->type != YAML_SCALAR_NODE) {
                rc = np_error_set(NP_EPARSE, "YAML mapping key at line %zu is not a scalar",
                                  k ? k->start_mark.line + 1 : 0);
                goto out;
            }
            rc = yaml_node_to_json(w, yaml_document_get_node(w->doc, p->value), depth + 1, &child);
            if (rc)
                goto out;
            json_object_object_add(obj, (const char *)k->data.scalar.value, child);
        }
        break;
    default: rc = np_error_set(NP_EPARSE, "unexpected YAML node"); goto out;
    }
    *out = obj;
    obj = NULL;
out:
    json_object_put(obj);
    return rc;
}

int np_kube_yaml_parse(json_object **out, const char *data, size_t len)
{
    int rc = 0;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool parser_ok = false, doc_ok = false;

    *out = NULL;
    if (!yaml_parser_initialize(&parser)) {
        rc = np_error_set(NP_ENOMEM, "out of memory");
        goto out;
    }
    parser_ok = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = np_error_set(NP_EPARSE, "YAML error at line %zu column %zu: %s",
                          parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                          parser.problem ? parser.problem : "unknown");
        goto out;
    }
    doc_ok = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = np_error_set(NP_EPARSE, "empty YAML document");
        goto out;
    }
    struct yaml_walk w = {&doc, YAML_MAX_NODES};
    rc = yaml_node_to_json(&w, root, 0, out);
out:
    if (doc_ok)
        yaml_document_delete(&doc);
    if (parser_ok)
        yaml_parser_delete(&parser);
    return rc;
}

/* ------------------------------------------------------------ base64 */

int np_kube_base64_decode(unsigned char **out, size_t *out_len, const char *in, size_t in_len)
{
    int rc = 0;
    EVP_ENCODE_CTX *ctx = NULL;
    unsigned char *buf = NULL;
    int n1 = 0, n2 = 0;

    *out = NULL;
    *out_len = 0;
    if (in_len > NP_KUBE_MAX_BODY) {
        rc = np_error_set(NP_EPARSE, "base64 input too large");
        goto out;
    }
    buf = np_xcalloc(1, in_len + 4);
    ctx = EVP_ENCODE_CTX_new();
    if (!ctx) {
        rc = np_error_set(NP_ENOMEM, "out of memory");
        goto out;
    }
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, buf, &n1, (const unsigned char *)in, (int)in_len) < 0 ||
        EVP_DecodeFinal(ctx, buf + n1, &n2) < 0) {
        rc = np_error_set(NP_EPARSE, "invalid base64");
        goto out;
    }
    buf[n1 + n2] = '\0';
    *out_len = (size_t)(n1 + n2);
    *out = buf;
    buf = NULL;
out:
    if (ctx)
        EVP_ENCODE_CTX_free(ctx);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ files */

int np_kube_read_file(char **out, size_t *len, const char *path, size_t max)
{
    int rc = 0;
    FILE *f = NULL;
    struct np_buf b = NP_BUF_INIT;
    char chunk[8192];

    *out = NULL;
    if (len)
        *len = 0;
    f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        rc = np_error_set(e == ENOENT ? NP_ENOTFOUND : NP_EIO, "cannot open %s: %s", path,
                          strerror(e));
        goto out;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n > 0)
            np_buf_append(&b, chunk, n);
        if (b.len > max) {
            rc = np_error_set(NP_EINVAL, "%s is larger than %zu bytes", path, max);
            goto out;
        }
        if (n < sizeof(chunk)) {
            if (ferror(f)) {
                rc = np_error_set(NP_EIO, "cannot read %s", path);
                goto out;
            }
            break;
        }
    }
    if (len)
        *len = b.len;
    np_buf_reserve(&b, 1); /* an empty file still yields "" */
    *out = np_buf_take(&b);
out:
    if (f)
        fclose(f);
    np_buf_clean_up(&b);
    return rc;
}

/* ------------------------------------------------------------ urls */

void np_kube_url_escape(struct np_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            np_buf_putc(b, (char)c);
        } else {
            np_buf_putc(b, '%');
            np_buf_putc(b, hex[c >> 4]);
            np_buf_putc(b, hex[c & 15]);
        }
    }
}

void np_kube_query_add(struct np_buf *q, const char *key, const char *value)
{
    if (q->len > 0)
        np_buf_putc(q, '&');
    np_kube_url_escape(q, key);
    np_buf_putc(q, '=');
    np_kube_url_escape(q, value ? value : "");
}

/* ------------------------------------------------------------ string map */

void np_kube_strmap_init(struct np_kube_strmap *m)
{
    m->buckets = NULL;
    m->nbuckets = 0;
    m->len = 0;
}

void np_kube_strmap_clean_up(struct np_kube_strmap *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct np_kube_strmap_entry *e = m->buckets[i];
        while (e) {
            struct np_kube_strmap_entry *next = e->next;
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    np_kube_strmap_init(m);
}

struct np_kube_strmap_entry *np_kube_strmap_find(struct np_kube_strmap *m, const char *key)
{
    if (m->nbuckets == 0)
        return NULL;
    for (struct np_kube_strmap_entry *e = m->buckets[np_hash_str(key) % m->nbuckets]; e;
         e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void strmap_grow(struct np_kube_strmap *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    struct np_kube_strmap_entry **b = np_xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct np_kube_strmap_entry *e = m->buckets[i];
        while (e) {
            struct np_kube_strmap_entry *next = e->next;
            size_t h = np_hash_str(e->key) % n;
            e->next = b[h];
            b[h] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

struct np_kube_strmap_entry *np_kube_strmap_upsert(struct np_kube_strmap *m, const char *key,
                                                   bool *created)
{
    struct np_kube_strmap_entry *e = np_kube_strmap_find(m, key);
    if (created)
        *created = e == NULL;
    if (e)
        return e;
    if (m->len + 1 > m->nbuckets)
        strmap_grow(m);
    e = np_xcalloc(1, sizeof(*e));
    e->key = np_strdup(key);
    size_t h = np_hash_str(key) % m->nbuckets;
    e->next = m->buckets[h];
    m->buckets[h] = e;
    m->len++;
    return e;
}

bool np_kube_strmap_remove(struct np_kube_strmap *m, const char *key)
{
    if (m->nbuckets == 0)
        return false;
    struct np_kube_strmap_entry **pp = &m->buckets[np_hash_str(key) % m->nbuckets];
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key) == 0) {
            struct np_kube_strmap_entry *e = *pp;
            *pp = e->next;
            free(e->key);
            free(e);
            m->len--;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------ objects */

static const char *meta_str(json_object *obj, const char *key)
{
    return np_json_path_str(obj, "metadata", key, NP_JSON_END);
}

const char *np_kube_object_name(json_object *obj)
{
    return meta_str(obj, "name");
}

const char *np_kube_object_namespace(json_object *obj)
{
    return meta_str(obj, "namespace");
}

const char *np_kube_object_uid(json_object *obj)
{
    return meta_str(obj, "uid");
}

const char *np_kube_object_resource_version(json_object *obj)
{
    return meta_str(obj, "resourceVersion");
}

int np_kube_object_key(char **out, json_object *obj)
{
    const char *name = np_kube_object_name(obj);
    const char *ns = np_kube_object_namespace(obj);
    *out = NULL;
    if (np_str_is_empty(name))
        return np_error_set(NP_EINVAL, "object has no metadata.name");
    *out = np_str_is_empty(ns) ? np_strdup(name) : np_strdupf("%s/%s", ns, name);
    return 0;
}

int np_kube_key_split(const char *key, char **ns, char **name)
{
    *ns = NULL;
    *name = NULL;
    if (np_str_is_empty(key))
        return np_error_set(NP_EINVAL, "empty key");
    const char *slash = strchr(key, '/');
    if (!slash) {
        *name = np_strdup(key);
        return 0;
    }
    if (slash == key || slash[1] == '\0' || strchr(slash + 1, '/'))
        return np_error_set(NP_EINVAL, "bad key \"%.256s\" (want namespace/name or name)", key);
    *ns = np_strndup(key, (size_t)(slash - key));
    *name = np_strdup(slash + 1);
    return 0;
}

void np_kube_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}
