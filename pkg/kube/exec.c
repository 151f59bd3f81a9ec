/*
 * Exec credential plugins (client-go's plugin/pkg/client/auth/exec): the kubeconfig's exec
 * stanza, the KUBERNETES_EXEC_INFO a plugin is given, the ExecCredential it prints, and the
 * credential source a client uses: one plugin run at a time, its credential cached until
 * expirationTimestamp (less a margin) or a 401. Tokens and keys are never logged.
 */
#include "kube/private/kube_private.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define EXEC_EXTENSION "client.authentication.k8s.io/exec"
#define EXEC_INFO_ENV "KUBERNETES_EXEC_INFO"

extern char **environ;

/* ------------------------------------------------------------ kubeconfig stanza */

static void free_wiped_str(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void np_kube_exec_config_destroy(struct np_kube_exec_config *ec)
{
    if (!ec)
        return;
    free(ec->command);
    for (size_t i = 0; ec->args && ec->args[i]; i++)
        free(ec->args[i]);
    free(ec->args);
    for (size_t i = 0; i < ec->nenv; i++) {
        free(ec->env[i].name);
        free_wiped_str(ec->env[i].value);
    }
    free(ec->env);
    free(ec->api_version);
    free(ec->install_hint);
    free(ec->cluster_config);
    free(ec);
}

struct np_kube_exec_config *np_kube_exec_config_dup(const struct np_kube_exec_config *ec)
{
    struct np_kube_exec_config *d = np_xcalloc(1, sizeof(*d));
    size_t n = 0;
    while (ec->args && ec->args[n])
        n++;
    d->command = np_strdup(ec->command);
    d->args = np_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        d->args[i] = np_strdup(ec->args[i]);
    d->env = np_xcalloc(ec->nenv + 1, sizeof(*d->env));
    d->nenv = ec->nenv;
    for (size_t i = 0; i < ec->nenv; i++) {
        d->env[i].name = np_strdup(ec->env[i].name);
        d->env[i].value = np_strdup(ec->env[i].value);
    }
    d->api_version = np_strdup(ec->api_version);
    d->install_hint = np_strdup(ec->install_hint);
    d->provide_cluster_info = ec->provide_cluster_info;
    d->cluster_config = np_strdup(ec->cluster_config);
    return d;
}

/* A list member: absent or an empty scalar is no list (*arr NULL); anything else must be a
 * sequence. */
static int member_list(json_object **arr, json_object *obj, const char *key, const char *what)
{
    *arr = np_json_path(obj, key, NP_JSON_END);
    if (!*arr || json_object_is_type(*arr, json_type_array))
        return 0;
    if (json_object_is_type(*arr, json_type_string) && json_object_get_string_len(*arr) == 0) {
        *arr = NULL;
        return 0;
    }
    *arr = NULL;
    return np_error_set(NP_EINVAL, "%s: exec.%s is not a list", what, key);
}

/* exec.args: a list of strings. */
static int parse_args(struct np_kube_exec_config *ec, json_object *exec, const char *what)
{
    json_object *arr = NULL;
    int rc = member_list(&arr, exec, "args", what);
    size_t n = arr ? json_object_array_length(arr) : 0;
    ec->args = np_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_object *a = json_object_array_get_idx(arr, i);
        if (!a || !json_object_is_type(a, json_type_string))
            return np_error_set(NP_EINVAL, "%s: exec.args[%zu] is not a string", what, i);
        ec->args[i] = np_strdup(json_object_get_string(a));
    }
    return rc;
}

/* exec.env: a list of {name, value}; a name is required, a missing value is "". */
static int parse_env(struct np_kube_exec_config *ec, json_object *exec, const char *what)
{
    json_object *arr = NULL;
    int rc = member_list(&arr, exec, "env", what);
    size_t n = arr ? json_object_array_length(arr) : 0;
    ec->env = np_xcalloc(n + 1, sizeof(*ec->env));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        const char *name = np_json_path_str(e, "name", NP_JSON_END);
        const char *value = np_json_path_str(e, "value", NP_JSON_END);
        if (np_str_is_empty(name) || strchr(name, '='))
            return np_error_set(NP_EINVAL, "%s: exec.env[%zu] needs a name (without '=')", what, i);
        ec->env[i].name = np_strdup(name);
        ec->env[i].value = np_strdup(value ? value : "");
        ec->nenv = i + 1;
    }
    return rc;
}

/* apiVersion and interactiveMode: v1 or v1beta1; never a terminal, so Always is refused and a
 * v1 stanza must say Never or IfAvailable (v1beta1 defaults to IfAvailable, as in client-go). */
static int check_versions(json_object *exec, const char *what)
{
    const char *v = np_json_path_str(exec, "apiVersion", NP_JSON_END);
    const char *mode = np_json_path_str(exec, "interactiveMode", NP_JSON_END);
    if (np_str_is_empty(v))
        return np_error_set(NP_EINVAL, "%s: exec.apiVersion must be set (%s or %s)", what,
                            NP_KUBE_EXEC_V1, NP_KUBE_EXEC_V1BETA1);
    if (!np_str_eq(v, NP_KUBE_EXEC_V1) && !np_str_eq(v, NP_KUBE_EXEC_V1BETA1))
        return np_error_set(NP_EINVAL,
                            "%s: exec.apiVersion \"%.100s\" is not supported: use %s or %s", what,
                            v, NP_KUBE_EXEC_V1, NP_KUBE_EXEC_V1BETA1);
    if (np_str_is_empty(mode))
        return np_str_eq(v, NP_KUBE_EXEC_V1BETA1)
                   ? 0
                   : np_error_set(NP_EINVAL,
                                  "%s: exec.interactiveMode must be set for %s (Never or "
                                  "IfAvailable)",
                                  what, v);
    if (np_str_eq(mode, "Never") || np_str_eq(mode, "IfAvailable"))
        return 0;
    if (np_str_eq(mode, "Always"))
        return np_error_set(NP_EINVAL,
                            "%s: exec.interactiveMode Always needs a terminal, and netposture "
                            "never has one: use IfAvailable or Never",
                            what);
    return np_error_set(NP_EINVAL,
                        "%s: exec.interactiveMode \"%.100s\" is not Never, IfAvailable "
                        "or Always",
                        what, mode);
}

/* The cluster's extension for exec plugins (spec.cluster.config) as JSON text, or NULL. */
static char *exec_extension(json_object *cluster)
{
    json_object *arr = np_json_path(cluster, "extensions", NP_JSON_END);
    size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        json_object *ext = np_json_path(e, "extension", NP_JSON_END);
        if (np_str_eq(np_json_path_str(e, "name", NP_JSON_END), EXEC_EXTENSION) && ext)
            return np_kube_json_text(ext);
    }
    return NULL;
}

int np_kube_exec_config_parse(struct np_kube_exec_config **out, json_object *exec,
                              json_object *cluster, const char *dir, const char *what)
{
    int rc = 0;
    struct np_kube_exec_config *ec = NULL;
    const char *command = np_json_path_str(exec, "command", NP_JSON_END);

    *out = NULL;
    if (!json_object_is_type(exec, json_type_object)) {
        rc = np_error_set(NP_EINVAL, "%s: exec is not a mapping", what);
        goto out;
    }
    if (np_str_is_empty(command)) {
        rc = np_error_set(NP_EINVAL, "%s: exec.command must be set", what);
        goto out;
    }
    rc = check_versions(exec, what);
    if (rc)
        goto out;
    ec = np_xcalloc(1, sizeof(*ec));
    /* A command with a '/' is a path, relative to the kubeconfig; else it is looked up in PATH. */
    ec->command = strchr(command, '/') ? np_kube_path_resolve(dir, command) : np_strdup(command);
    ec->api_version = np_strdup(np_json_path_str(exec, "apiVersion", NP_JSON_END));
    const char *hint = np_json_path_str(exec, "installHint", NP_JSON_END);
    ec->install_hint = np_str_is_empty(hint) ? NULL : np_strdup(hint);
    ec->provide_cluster_info =
        np_kube_yaml_true(np_json_path_str(exec, "provideClusterInfo", NP_JSON_END));
    if (ec->provide_cluster_info)
        ec->cluster_config = exec_extension(cluster);
    rc = parse_args(ec, exec, what);
    if (rc == 0)
        rc = parse_env(ec, exec, what);
    if (rc)
        goto out;
    *out = ec;
    ec = NULL;
out:
    np_kube_exec_config_destroy(ec);
    return rc;
}

/* ------------------------------------------------------------ ExecCredential */

void np_kube_exec_cred_clean_up(struct np_kube_exec_cred *cred)
{
    free_wiped_str(cred->token);
    if (cred->cert) {
        memset(cred->cert, 0, cred->cert_len);
        free(cred->cert);
    }
    if (cred->key) {
        memset(cred->key, 0, cred->key_len);
        free(cred->key);
    }
    memset(cred, 0, sizeof(*cred));
}

static unsigned char *dup_pem(const unsigned char *p, size_t n)
{
    if (!p)
        return NULL;
    unsigned char *d = np_xcalloc(1, n + 1);
    memcpy(d, p, n);
    return d;
}

void np_kube_exec_cred_copy(struct np_kube_exec_cred *dst, const struct np_kube_exec_cred *src)
{
    dst->token = np_strdup(src->token);
    dst->cert = dup_pem(src->cert, src->cert_len);
    dst->cert_len = src->cert_len;
    dst->key = dup_pem(src->key, src->key_len);
    dst->key_len = src->key_len;
    dst->expires_ms = src->expires_ms;
}

/* An optional string member of status: absent, null or "" is NULL; another type is an error. */
static int status_str(const char **out, json_object *status, const char *key)
{
    json_object *v = np_json_path(status, key, NP_JSON_END);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return np_error_set(NP_EPARSE, "status.%s is not a string", key);
    *out = json_object_get_string_len(v) > 0 ? json_object_get_string(v) : NULL;
    return 0;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1; /* an encrypted key fails instead of prompting */
}

/* Whether OpenSSL reads the PEM certificate and key and finds that they belong together. */
static int check_pair(const char *cert, const char *key)
{
    int rc = 0;
    BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, no_password, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_password, NULL) : NULL;
    if (!x)
        rc = np_error_set(NP_EPARSE, "status.clientCertificateData is not a PEM certificate");
    else if (!k)
        rc = np_error_set(NP_EPARSE, "status.clientKeyData is not an unencrypted PEM private key");
    else if (X509_check_private_key(x, k) != 1)
        rc = np_error_set(NP_EPARSE, "status.clientCertificateData and status.clientKeyData do "
                                     "not belong together");
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return rc;
}

/* kind and apiVersion of a decoded ExecCredential, and its status object. */
static int check_envelope(json_object **status, json_object *root, const char *api_version)
{
    const char *kind = np_json_path_str(root, "kind", NP_JSON_END);
    const char *v = np_json_path_str(root, "apiVersion", NP_JSON_END);
    *status = np_json_path(root, "status", NP_JSON_END);
    if (!json_object_is_type(root, json_type_object))
        return np_error_set(NP_EPARSE, "printed JSON that is not an object");
    if (!np_str_eq(kind, "ExecCredential"))
        return np_error_set(NP_EPARSE, "printed kind \"%.64s\", not ExecCredential",
                            kind ? kind : "");
    if (!np_str_eq(v, api_version))
        return np_error_set(NP_EPARSE, "is configured for %s but printed apiVersion \"%.64s\"",
                            api_version, v ? v : "");
    if (!*status || !json_object_is_type(*status, json_type_object))
        return np_error_set(NP_EPARSE, "printed no status");
    return 0;
}

/* The members of status into cred: a token and/or a certificate pair, and the expiry. */
static int read_status(struct np_kube_exec_cred *cred, json_object *status)
{
    const char *token = NULL, *cert = NULL, *key = NULL, *exp = NULL;
    int rc = status_str(&token, status, "token");
    if (rc == 0)
        rc = status_str(&cert, status, "clientCertificateData");
    if (rc == 0)
        rc = status_str(&key, status, "clientKeyData");
    if (rc == 0)
        rc = status_str(&exp, status, "expirationTimestamp");
    if (rc)
        return rc;
    if (!token && !cert && !key)
        return np_error_set(NP_EPARSE, "printed neither status.token nor "
                                       "status.clientCertificateData and clientKeyData");
    if (!cert != !key)
        return np_error_set(NP_EPARSE, "printed only one of status.clientCertificateData and "
                                       "status.clientKeyData");
    if (cert && (rc = check_pair(cert, key)) != 0)
        return rc;
    if (exp && np_time_parse_rfc3339(exp, &cred->expires_ms) != 0)
        return np_error_set(NP_EPARSE, "status.expirationTimestamp \"%.64s\" is not RFC 3339", exp);
    cred->token = np_strdup(token);
    cred->cert = (unsigned char *)np_strdup(cert);
    cred->cert_len = cert ? strlen(cert) : 0;
    cred->key = (unsigned char *)np_strdup(key);
    cred->key_len = key ? strlen(key) : 0;
    return 0;
}

int np_kube_exec_cred_parse(struct np_kube_exec_cred *cred, const char *text, size_t len,
                            const char *api_version)
{
    json_object *root = NULL, *status = NULL;

    np_kube_exec_cred_clean_up(cred);
    cred->expires_ms = INT64_MAX;
    int rc = np_kube_json_parse(&root, text, len);
    if (rc) {
        /* The tokener's message names a byte offset, never the content. */
        rc = np_kube_error_wrap(NP_EPARSE, "printed no JSON ExecCredential");
        goto out;
    }
    rc = check_envelope(&status, root, api_version);
    if (rc == 0)
        rc = read_status(cred, status);
out:
    if (rc)
        np_kube_exec_cred_clean_up(cred);
    json_object_put(root);
    return rc;
}

/* ------------------------------------------------------------ KUBERNETES_EXEC_INFO */

/* spec.cluster: what the plugin may need to know about the cluster it authenticates to. */
static json_object *cluster_info(const struct np_kube_exec_config *ec,
                                 const struct np_kube_config *cfg)
{
    json_object *c = json_object_new_object();
    np_json_put_str(c, "server", cfg->server ? cfg->server : "");
    np_json_put_str(c, "tls-server-name", cfg->tls_server_name);
    if (cfg->insecure_skip_tls_verify)
        json_object_object_add(c, "insecure-skip-tls-verify", json_object_new_boolean(1));
    if (cfg->ca_data && cfg->ca_len > 0 && cfg->ca_len < NP_KUBE_MAX_BODY / 2) {
        char *b64 = np_xcalloc(1, 4 * ((cfg->ca_len + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)b64, cfg->ca_data, (int)cfg->ca_len);
        np_json_put_str(c, "certificate-authority-data", b64);
        free(b64);
    }
    json_object *conf = NULL;
    if (ec->cluster_config &&
        np_kube_json_parse(&conf, ec->cluster_config, strlen(ec->cluster_config)) == 0)
        json_object_object_add(c, "config", conf);
    return c;
}

char *np_kube_exec_info(const struct np_kube_exec_config *ec, const struct np_kube_config *cfg)
{
    json_object *root = json_object_new_object();
    json_object *spec = json_object_new_object();
    np_json_put_str(root, "apiVersion", ec->api_version);
    np_json_put_str(root, "kind", "ExecCredential");
    json_object_object_add(spec, "interactive", json_object_new_boolean(0));
    if (ec->provide_cluster_info)
        json_object_object_add(spec, "cluster", cluster_info(ec, cfg));
    json_object_object_add(root, "spec", spec);
    char *text = np_kube_json_text(root);
    json_object_put(root);
    return text;
}

/* ------------------------------------------------------------ credential source */

int np_kube_exec_init(struct np_kube_exec *x, const struct np_kube_config *cfg,
                      const struct np_clock *clock)
{
    memset(x, 0, sizeof(*x));
    if (pthread_mutex_init(&x->lock, NULL) != 0)
        return np_error_set(NP_ENOMEM, "cannot create a mutex");
    x->config = np_kube_exec_config_dup(cfg->exec);
    x->info = np_kube_exec_info(cfg->exec, cfg);
    x->what = np_strdupf("exec plugin \"%s\"", cfg->exec->command);
    x->clock = clock ? clock : np_clock_system();
    x->timeout_ms = NP_KUBE_EXEC_TIMEOUT_MS;
    x->max_stdout = NP_KUBE_EXEC_MAX_STDOUT;
    x->margin_ms = NP_KUBE_EXEC_EXPIRY_MARGIN_MS;
    return 0;
}

void np_kube_exec_clean_up(struct np_kube_exec *x)
{
    np_kube_exec_cred_clean_up(&x->cred);
    np_kube_exec_config_destroy(x->config);
    free(x->info);
    free(x->what);
    pthread_mutex_destroy(&x->lock);
    memset(x, 0, sizeof(*x));
}

/* Whether entry ("NAME=value") of the process environment is replaced for the plugin. */
static bool env_replaced(const char *entry, const struct np_kube_exec_config *ec)
{
    const char *eq = strchr(entry, '=');
    size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
    if (n == strlen(EXEC_INFO_ENV) && strncmp(entry, EXEC_INFO_ENV, n) == 0)
        return true;
    for (size_t i = 0; i < ec->nenv; i++)
        if (strlen(ec->env[i].name) == n && strncmp(entry, ec->env[i].name, n) == 0)
            return true;
    return false;
}

/* The plugin's environment (owned, NULL-terminated): the process's own, then exec.env (the
 * last of a repeated name wins), then KUBERNETES_EXEC_INFO. */
static char **build_env(const struct np_kube_exec_config *ec, const char *info)
{
    size_t n = 0, k = 0;
    while (environ && environ[n])
        n++;
    char **env = np_xcalloc(n + ec->nenv + 2, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        if (!env_replaced(environ[i], ec))
            env[k++] = np_strdup(environ[i]);
    for (size_t i = 0; i < ec->nenv; i++) {
        bool later = false;
        for (size_t j = i + 1; j < ec->nenv; j++)
            later = later || np_str_eq(ec->env[i].name, ec->env[j].name);
        if (!later)
            env[k++] = np_strdupf("%s=%s", ec->env[i].name, ec->env[i].value);
    }
    env[k] = np_strdupf("%s=%s", EXEC_INFO_ENV, info);
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free_wiped_str(env[i]);
    free(env);
}

/* The installHint on one line without trailing blanks, or "". */
static char *hint_line(const struct np_kube_exec_config *ec)
{
    char *h = np_strdup(ec->install_hint ? ec->install_hint : "");
    for (char *p = h; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    for (size_t n = strlen(h); n > 0 && h[n - 1] == ' '; n--)
        h[n - 1] = '\0';
    return h;
}

/* Turns how the run went into NP_EAUTH (or NP_ETIMEOUT / NP_ECANCELED) with a message: the
 * first line of stderr, and the install hint when a command was not found. */
static int run_error(struct np_kube_exec *x, int rc, const struct np_kube_exec_result *res)
{
    const char *err = res->err_line, *colon = res->err_line[0] ? ": " : "";
    if (rc == NP_ENOTFOUND || (rc == 0 && res->exit_code == 127)) {
        char *hint = hint_line(x->config);
        rc = np_error_set(NP_EAUTH, "%s: %s%s%s%s%s", x->what,
                          rc != NP_ENOTFOUND ? "exited with status 127 (command not found)"
                          : strchr(x->config->command, '/') ? "executable not found"
                                                            : "executable not found in PATH",
                          colon, err, hint[0] ? "; " : "", hint);
        free(hint);
        return rc;
    }
    if (rc == 0 && res->signal)
        return np_error_set(NP_EAUTH, "%s: killed by signal %d%s%s", x->what, res->signal, colon,
                            err);
    if (rc == 0)
        return np_error_set(NP_EAUTH, "%s: exited with status %d%s%s", x->what, res->exit_code,
                            colon, err);
    return np_kube_error_wrap(rc == NP_ETIMEOUT || rc == NP_ECANCELED ? rc : NP_EAUTH, "%s",
                              x->what);
}

/* Logs a new credential: its kind and expiry, never its content. */
static void log_credential(const struct np_kube_exec *x)
{
    char exp[40] = "none";
    if (x->cred.expires_ms != INT64_MAX)
        np_time_format_rfc3339(exp, sizeof(exp), x->cred.expires_ms);
    const char *kind = x->cred.token && x->cred.cert ? "token and client certificate"
                       : x->cred.token               ? "token"
                                                     : "client certificate";
    np_log_info("kube: exec plugin gave a credential", "command", x->config->command, "kind", kind,
                "expires", exp);
}

/* Runs the plugin and takes its credential (lock held). */
static int refresh_locked(struct np_kube_exec *x, struct np_kube_cancel *cancel)
{
    struct np_kube_exec_result res;
    struct np_kube_exec_cred cred = {0};
    size_t n = 0;
    while (x->config->args[n])
        n++;
    char **argv = np_xcalloc(n + 2, sizeof(char *));
    argv[0] = x->config->command;
    memcpy(argv + 1, x->config->args, n * sizeof(char *));
    char **envp = build_env(x->config, x->info);
    struct np_kube_exec_spec spec = {argv, envp, x->max_stdout, x->timeout_ms, cancel};

    x->runs++;
    int rc = np_kube_exec_run(&res, &spec);
    if (rc || res.exit_code != 0)
        rc = run_error(x, rc, &res);
    else if ((rc = np_kube_exec_cred_parse(&cred, res.out.data, res.out.len,
                                           x->config->api_version)) != 0)
        rc = np_kube_error_wrap(NP_EAUTH, "%s", x->what);
    if (rc == 0) {
        np_kube_exec_cred_clean_up(&x->cred);
        x->cred = cred;
        x->have = true;
        x->gen++;
        log_credential(x);
    }
    np_kube_exec_result_clean_up(&res);
    free_env(envp);
    free(argv);
    return rc;
}

/* Whether the cached credential may still be used: present and not expiring within the
 * margin. */
static bool fresh_locked(const struct np_kube_exec *x)
{
    if (!x->have)
        return false;
    if (x->cred.expires_ms == INT64_MAX)
        return true;
    return x->clock->now_ms(x->clock->ctx) + x->margin_ms < x->cred.expires_ms;
}

int np_kube_exec_get(struct np_kube_exec *x, struct np_kube_exec_cred *cred, uint64_t *gen,
                     struct np_kube_cancel *cancel)
{
    int rc = 0;

    memset(cred, 0, sizeof(*cred));
    *gen = 0;
    pthread_mutex_lock(&x->lock);
    if (!fresh_locked(x)) {
        /* A credential just taken is used even when it expires within the margin. */
        rc = refresh_locked(x, cancel);
        if (rc)
            goto out;
    }
    np_kube_exec_cred_copy(cred, &x->cred);
    *gen = x->gen;
out:
    pthread_mutex_unlock(&x->lock);
    return rc;
}

void np_kube_exec_invalidate(struct np_kube_exec *x, uint64_t gen)
{
    pthread_mutex_lock(&x->lock);
    if (x->have && x->gen == gen) {
        np_kube_exec_cred_clean_up(&x->cred);
        x->have = false;
        np_log_info("kube: the API server refused the exec plugin's credential (401); the "
                    "plugin runs again",
                    "command", x->config->command);
    }
    pthread_mutex_unlock(&x->lock);
}

uint64_t np_kube_exec_runs(struct np_kube_exec *x)
{
    pthread_mutex_lock(&x->lock);
    uint64_t n = x->runs;
    pthread_mutex_unlock(&x->lock);
    return n;
}
