/*
 * Where the API server is and how to authenticate: kubeconfig files (parsed with libyaml:
 * current-context, cluster, user; relative paths against the file's directory; an exec stanza
 * is read by exec.c), the in-cluster service-account config, and the bearer-token source that
 * re-reads a rotating token file at most once a minute.
 */
#include "kube/private/kube_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define MAX_KUBECONFIG (4u * 1024u * 1024u)
#define MAX_PEM (1024u * 1024u)
#define TOKEN_REFRESH_MS 60000

void np_kube_config_destroy(struct np_kube_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->server);
    free(cfg->tls_server_name);
    free(cfg->ca_data);
    free(cfg->cert_data);
    if (cfg->key_data) {
        memset(cfg->key_data, 0, cfg->key_len);
        free(cfg->key_data);
    }
    if (cfg->token) {
        memset(cfg->token, 0, strlen(cfg->token));
        free(cfg->token);
    }
    free(cfg->token_file);
    np_kube_exec_config_destroy(cfg->exec);
    free(cfg->namespace);
    free(cfg->context);
    free(cfg->source);
    free(cfg);
}

/* Trims ASCII whitespace at both ends in place. */
static void trim(char *s)
{
    size_t n = strlen(s), start = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t'))
        n--;
    while (start < n &&
           (s[start] == ' ' || s[start] == '\n' || s[start] == '\r' || s[start] == '\t'))
        start++;
    memmove(s, s + start, n - start);
    s[n - start] = '\0';
}

/* A non-empty string member, or NULL. */
static const char *str_member(json_object *obj, const char *key)
{
    const char *s = np_json_path_str(obj, key, NP_JSON_END);
    return np_str_is_empty(s) ? NULL : s;
}

/* The entry of a kubeconfig list (clusters, users, contexts) named name, with its inner
 * object (member `inner`). */
static json_object *find_named(json_object *root, const char *list, const char *inner,
                               const char *name)
{
    json_object *arr = np_json_path(root, list, NP_JSON_END);
    if (!arr || !json_object_is_type(arr, json_type_array))
        return NULL;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (np_str_eq(np_json_path_str(e, "name", NP_JSON_END), name)) {
            json_object *v = np_json_path(e, inner, NP_JSON_END);
            /* "cluster:" with nothing under it is an empty object for our purposes. */
            return v ? v : e;
        }
    }
    return NULL;
}

char *np_kube_path_resolve(const char *dir, const char *path)
{
    if (path[0] == '/' || np_str_is_empty(dir))
        return np_strdup(path);
    return np_strdupf("%s/%s", dir, path);
}

/*
 * Loads PEM material from the inline base64 `data_key` or, failing that, the file
 * `file_key` (relative to dir). Nothing set leaves *out NULL.
 */
static int load_material(unsigned char **out, size_t *len, json_object *obj, const char *data_key,
                         const char *file_key, const char *dir, const char *what)
{
    int rc = 0;
    char *path = NULL, *content = NULL;
    const char *data = str_member(obj, data_key);
    const char *file = str_member(obj, file_key);

    *out = NULL;
    *len = 0;
    if (data) {
        rc = np_kube_base64_decode(out, len, data, strlen(data));
        if (rc) {
            rc = np_error_set(NP_EPARSE, "%s: %s is not valid base64", what, data_key);
            goto out;
        }
        if (*len == 0) {
            free(*out);
            *out = NULL;
            rc = np_error_set(NP_EINVAL, "%s: %s is empty", what, data_key);
        }
        goto out;
    }
    if (file) {
        path = np_kube_path_resolve(dir, file);
        rc = np_kube_read_file(&content, len, path, MAX_PEM);
        if (rc) {
            rc = np_kube_error_wrap(rc, "%s: %s %s", what, file_key, path);
            goto out;
        }
        *out = (unsigned char *)content;
        content = NULL;
    }
out:
    free(path);
    free(content);
    return rc;
}

bool np_kube_yaml_true(const char *s)
{
    return s &&
           (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0);
}

static int check_server(const char *server, const char *what)
{
    if (!np_str_has_prefix(server, "https://") && !np_str_has_prefix(server, "http://"))
        return np_error_set(NP_EINVAL, "%s: server \"%.200s\" is not an http(s) URL", what, server);
    return 0;
}

/* The entries the current context points at: the context, its cluster and (optional) user. */
struct selection {
    const char *ctx_name, *cluster_name, *user_name;
    json_object *ctx, *cluster, *user;
};

/* The directory relative paths in the file are resolved against. */
static char *config_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? np_strndup(path, (size_t)(slash - path)) : np_strdup(".");
    if (dir[0] == '\0') {
        free(dir);
        dir = np_strdup("/");
    }
    return dir;
}

/* Follows current-context to its context, cluster and user entries. */
static int select_context(struct selection *sel, json_object *root, const char *path)
{
    memset(sel, 0, sizeof(*sel));
    sel->ctx_name = str_member(root, "current-context");
    if (!sel->ctx_name)
        return np_error_set(NP_EINVAL, "kubeconfig %s: no current-context set", path);
    sel->ctx = find_named(root, "contexts", "context", sel->ctx_name);
    if (!sel->ctx)
        return np_error_set(NP_ENOTFOUND,
                            "kubeconfig %s: current-context \"%s\" not found in contexts", path,
                            sel->ctx_name);
    sel->cluster_name = str_member(sel->ctx, "cluster");
    if (!sel->cluster_name)
        return np_error_set(NP_EINVAL, "kubeconfig %s: context \"%s\" names no cluster", path,
                            sel->ctx_name);
    sel->cluster = find_named(root, "clusters", "cluster", sel->cluster_name);
    if (!sel->cluster)
        return np_error_set(NP_ENOTFOUND,
                            "kubeconfig %s: cluster \"%s\" (context \"%s\") not found", path,
                            sel->cluster_name, sel->ctx_name);
    sel->user_name = str_member(sel->ctx, "user");
    if (sel->user_name) {
        sel->user = find_named(root, "users", "user", sel->user_name);
        if (!sel->user)
            return np_error_set(NP_ENOTFOUND,
                                "kubeconfig %s: user \"%s\" (context \"%s\") not found", path,
                                sel->user_name, sel->ctx_name);
    }
    return 0;
}

/* Takes the server URL and TLS settings of the selected cluster. */
static int take_cluster(struct np_kube_config *cfg, const struct selection *sel, const char *path,
                        const char *dir)
{
    json_object *cluster = sel->cluster;
    const char *server = str_member(cluster, "server");
    if (!server)
        return np_error_set(NP_EINVAL, "kubeconfig %s: cluster \"%s\" has no server", path,
                            sel->cluster_name);
    char *what = np_strdupf("kubeconfig %s: cluster \"%s\"", path, sel->cluster_name);
    int rc = check_server(server, what);
    if (rc)
        goto out;
    cfg->server = np_strdup(server);
    for (size_t n = strlen(cfg->server); n > 0 && cfg->server[n - 1] == '/'; n--)
        cfg->server[n - 1] = '\0';
    cfg->tls_server_name = np_strdup(str_member(cluster, "tls-server-name"));
    cfg->insecure_skip_tls_verify =
        np_kube_yaml_true(np_json_path_str(cluster, "insecure-skip-tls-verify", NP_JSON_END));
    rc = load_material(&cfg->ca_data, &cfg->ca_len, cluster, "certificate-authority-data",
                       "certificate-authority", dir, what);
out:
    free(what);
    return rc;
}

/* A user with no credential netposture can use names why when it has one of another kind. */
static int check_unsupported_auth(json_object *user, const char *what)
{
    const char *kind = np_json_path(user, "auth-provider", NP_JSON_END) ? "an auth-provider"
                       : np_json_path(user, "username", NP_JSON_END)    ? "basic auth"
                                                                        : NULL;
    if (!kind)
        return 0;
    return np_error_set(NP_EINVAL,
                        "%s authenticates with %s, which netposture does not support "
                        "(use a token, tokenFile, client certificate or exec plugin)",
                        what, kind);
}

/* Takes the credentials of the selected user: a client certificate pair, a token or a token
 * file, else an exec plugin (ignored when one of the others is set, as client-go does). */
static int take_user(struct np_kube_config *cfg, const struct selection *sel, const char *path,
                     const char *dir)
{
    json_object *user = sel->user;
    char *what = np_strdupf("kubeconfig %s: user \"%s\"", path, sel->user_name);
    int rc = load_material(&cfg->cert_data, &cfg->cert_len, user, "client-certificate-data",
                           "client-certificate", dir, what);
    if (rc)
        goto out;
    rc = load_material(&cfg->key_data, &cfg->key_len, user, "client-key-data", "client-key", dir,
                       what);
    if (rc)
        goto out;
    if ((cfg->cert_data == NULL) != (cfg->key_data == NULL)) {
        rc = np_error_set(NP_EINVAL, "%s: a client certificate needs both %s and %s", what,
                          "client-certificate(-data)", "client-key(-data)");
        goto out;
    }
    cfg->token = np_strdup(str_member(user, "token"));
    const char *token_file = str_member(user, "tokenFile");
    if (token_file && !cfg->token)
        cfg->token_file = np_kube_path_resolve(dir, token_file);
    json_object *exec = np_json_path(user, "exec", NP_JSON_END);
    if (!cfg->cert_data && !cfg->token && !cfg->token_file)
        rc = exec ? np_kube_exec_config_parse(&cfg->exec, exec, sel->cluster, dir, what)
                  : check_unsupported_auth(user, what);
out:
    free(what);
    return rc;
}

int np_kube_config_parse(struct np_kube_config **out, const char *text, size_t len,
                         const char *path)
{
    int rc = 0;
    json_object *root = NULL;
    struct np_kube_config *cfg = NULL;
    char *dir = NULL;
    struct selection sel;

    *out = NULL;
    rc = np_kube_yaml_parse(&root, text, len);
    if (rc) {
        rc = np_kube_error_wrap(rc, "kubeconfig %s", path);
        goto out;
    }
    if (!json_object_is_type(root, json_type_object)) {
        rc = np_error_set(NP_EPARSE, "kubeconfig %s: not a mapping", path);
        goto out;
    }
    dir = config_dir(path);
    rc = select_context(&sel, root, path);
    if (rc)
        goto out;

    cfg = np_xcalloc(1, sizeof(*cfg));
    cfg->source = np_strdup(path);
    cfg->context = np_strdup(sel.ctx_name);
    cfg->namespace = np_strdup(str_member(sel.ctx, "namespace"));
    rc = take_cluster(cfg, &sel, path, dir);
    if (rc == 0 && sel.user)
        rc = take_user(cfg, &sel, path, dir);
    if (rc)
        goto out;
    *out = cfg;
    cfg = NULL;
out:
    np_kube_config_destroy(cfg);
    json_object_put(root);
    free(dir);
    return rc;
}

int np_kube_config_load_kubeconfig(struct np_kube_config **out, const char *path)
{
    int rc = 0;
    char *chosen = NULL, *text = NULL;
    size_t len = 0;

    *out = NULL;
    if (!np_str_is_empty(path)) {
        chosen = np_strdup(path);
    } else {
        const char *env = getenv("KUBECONFIG");
        if (!np_str_is_empty(env)) {
            const char *colon = strchr(env, ':');
            chosen = colon ? np_strndup(env, (size_t)(colon - env)) : np_strdup(env);
        }
        if (np_str_is_empty(chosen)) {
            free(chosen);
            const char *home = getenv("HOME");
            if (np_str_is_empty(home)) {
                chosen = NULL;
                rc = np_error_set(NP_ENOTFOUND,
                                  "no kubeconfig: no path given, KUBECONFIG and HOME are unset");
                goto out;
            }
            chosen = np_strdupf("%s/.kube/config", home);
        }
    }
    rc = np_kube_read_file(&text, &len, chosen, MAX_KUBECONFIG);
    if (rc) {
        rc = np_kube_error_wrap(rc, "kubeconfig");
        goto out;
    }
    rc = np_kube_config_parse(out, text, len, chosen);
out:
    free(chosen);
    free(text);
    return rc;
}

int np_kube_config_in_cluster_at(struct np_kube_config **out, const char *host, const char *port,
                                 const char *dir)
{
    int rc = 0;
    struct np_kube_config *cfg = NULL;
    char *path = NULL, *text = NULL;
    size_t len = 0;

    *out = NULL;
    if (np_str_is_empty(host) || np_str_is_empty(port)) {
        rc = np_error_set(NP_ENOTFOUND, "not in a cluster: KUBERNETES_SERVICE_HOST and "
                                        "KUBERNETES_SERVICE_PORT must be set");
        goto out;
    }
    cfg = np_xcalloc(1, sizeof(*cfg));
    cfg->source = np_strdup("in-cluster");
    /* Bracket IPv6 literals like net.JoinHostPort. */
    cfg->server = strchr(host, ':') ? np_strdupf("https://[%s]:%s", host, port)
                                    : np_strdupf("https://%s:%s", host, port);
    cfg->token_file = np_strdupf("%s/token", dir);
    rc = np_kube_read_file(&text, &len, cfg->token_file, MAX_PEM);
    if (rc) {
        rc = np_kube_error_wrap(rc, "in-cluster config: service-account token");
        goto out;
    }
    memset(text, 0, len);
    free(text);
    text = NULL;
    path = np_strdupf("%s/ca.crt", dir);
    rc = np_kube_read_file(&text, &cfg->ca_len, path, MAX_PEM);
    if (rc) {
        rc = np_kube_error_wrap(rc, "in-cluster config: service-account CA");
        goto out;
    }
    cfg->ca_data = (unsigned char *)text;
    text = NULL;
    free(path);
    path = np_strdupf("%s/namespace", dir);
    if (np_kube_read_file(&text, &len, path, 4096) == 0) {
        trim(text);
        if (text[0])
            cfg->namespace = np_strdup(text);
    }
    np_error_clear();
    *out = cfg;
    cfg = NULL;
out:
    np_kube_config_destroy(cfg);
    free(path);
    free(text);
    return rc;
}

int np_kube_config_load_in_cluster(struct np_kube_config **out)
{
    return np_kube_config_in_cluster_at(out, getenv("KUBERNETES_SERVICE_HOST"),
                                        getenv("KUBERNETES_SERVICE_PORT"), SA_DIR);
}

int np_kube_config_load(struct np_kube_config **out, const char *kubeconfig)
{
    if (np_str_is_empty(kubeconfig) && np_str_is_empty(getenv("KUBECONFIG")) &&
        !np_str_is_empty(getenv("KUBERNETES_SERVICE_HOST")))
        return np_kube_config_load_in_cluster(out);
    return np_kube_config_load_kubeconfig(out, kubeconfig);
}

/* ------------------------------------------------------------ token source */

int np_kube_token_source_init(struct np_kube_token_source *ts, const char *token, const char *file,
                              const struct np_clock *clock)
{
    memset(ts, 0, sizeof(*ts));
    if (pthread_mutex_init(&ts->lock, NULL) != 0)
        return np_error_set(NP_ENOMEM, "cannot create a mutex");
    ts->token = np_strdup(np_str_is_empty(token) ? NULL : token);
    ts->file = np_strdup(np_str_is_empty(file) ? NULL : file);
    ts->read_at_ms = INT64_MIN;
    ts->refresh_ms = TOKEN_REFRESH_MS;
    ts->clock = clock ? clock : np_clock_system();
    return 0;
}

static void free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void np_kube_token_source_clean_up(struct np_kube_token_source *ts)
{
    free_secret(ts->token);
    free(ts->file);
    ts->token = NULL;
    ts->file = NULL;
    pthread_mutex_destroy(&ts->lock);
}

int np_kube_token_source_get(struct np_kube_token_source *ts, char **out)
{
    int rc = 0;
    char *text = NULL;

    *out = NULL;
    pthread_mutex_lock(&ts->lock);
    if (ts->file) {
        int64_t now = ts->clock->mono_ms(ts->clock->ctx);
        if (!ts->token || ts->read_at_ms == INT64_MIN || now - ts->read_at_ms >= ts->refresh_ms) {
            size_t len = 0;
            int rrc = np_kube_read_file(&text, &len, ts->file, MAX_PEM);
            if (rrc == 0) {
                trim(text);
                if (text[0]) {
                    free_secret(ts->token);
                    ts->token = text;
                    text = NULL;
                    ts->read_at_ms = now;
                } else {
                    rrc = np_error_set(NP_EINVAL, "token file %s is empty", ts->file);
                }
            }
            if (rrc && !ts->token) {
                rc = rrc;
                goto out;
            }
            if (rrc) {
                ts->read_at_ms = now; /* keep the old token; try again in a minute */
                np_log_warn("kube: cannot re-read the token file; keeping the previous token",
                            "file", ts->file, "error", np_error_message(), (const char *)NULL);
            }
        }
    }
    *out = np_strdup(ts->token);
out:
    pthread_mutex_unlock(&ts->lock);
    free_secret(text);
    return rc;
}

void np_kube_token_source_invalidate(struct np_kube_token_source *ts)
{
    pthread_mutex_lock(&ts->lock);
    ts->read_at_ms = INT64_MIN;
    pthread_mutex_unlock(&ts->lock);
}
