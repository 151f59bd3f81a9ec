/*
 * Unit tests of kubeconfig and in-cluster loading from fixture files, and of the token
 * source that re-reads a rotating token file at most once a minute.
 */
#include "helpers.h"
#include "kube/kube.h"
#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KC FIXTURES "/kubeconfig/"

static void assert_bytes(const unsigned char *got, size_t got_len, const char *fixture)
{
    size_t len = 0;
    char *want = fixture_read(fixture, &len);
    cr_assert_not_null(got, "%s not loaded", fixture);
    cr_assert_eq(got_len, len, "%s length", fixture);
    cr_assert_eq(memcmp(got, want, len), 0, "%s content", fixture);
    free(want);
}

Test(kubeconfig, inline_data)
{
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_load_kubeconfig(&cfg, KC "inline.yaml");
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->server, "https://127.0.0.1:6443"); /* trailing '/' dropped */
    cr_assert_str_eq(cfg->context, "dev");
    cr_assert_str_eq(cfg->namespace, "shop");
    cr_assert_str_eq(cfg->source, KC "inline.yaml");
    assert_bytes(cfg->ca_data, cfg->ca_len, "kubeconfig/pki/ca.crt");
    assert_bytes(cfg->cert_data, cfg->cert_len, "kubeconfig/pki/client.crt");
    assert_bytes(cfg->key_data, cfg->key_len, "kubeconfig/pki/client.key");
    cr_assert_null(cfg->token);
    cr_assert_null(cfg->token_file);
    cr_assert_null(cfg->tls_server_name);
    cr_assert_not(cfg->insecure_skip_tls_verify);
    np_kube_config_destroy(cfg);
}

Test(kubeconfig, files_relative_to_the_kubeconfig)
{
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_load_kubeconfig(&cfg, KC "files.yaml");
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->server, "https://kube.example:443");
    assert_bytes(cfg->ca_data, cfg->ca_len, "kubeconfig/pki/ca.crt");
    assert_bytes(cfg->cert_data, cfg->cert_len, "kubeconfig/pki/client.crt");
    assert_bytes(cfg->key_data, cfg->key_len, "kubeconfig/pki/client.key");
    cr_assert_null(cfg->namespace);
    np_kube_config_destroy(cfg);
}

Test(kubeconfig, files_relative_when_loaded_from_elsewhere)
{
    /* The same file through an absolute path still finds pki/ next to it. */
    char cwd[4096];
    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    char *abs = np_strdupf("%s/%sfiles.yaml", cwd, KC);
    cr_assert_eq(chdir("/"), 0);
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_load_kubeconfig(&cfg, abs);
    cr_assert_eq(chdir(cwd), 0);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    assert_bytes(cfg->ca_data, cfg->ca_len, "kubeconfig/pki/ca.crt");
    np_kube_config_destroy(cfg);
    free(abs);
}

Test(kubeconfig, token_insecure_and_server_name)
{
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_load_kubeconfig(&cfg, KC "token.yaml");
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->server, "https://10.0.0.1:6443");
    cr_assert_str_eq(cfg->token, "s3cr3t-token");
    cr_assert(cfg->insecure_skip_tls_verify);
    cr_assert_str_eq(cfg->tls_server_name, "kubernetes.default.svc");
    cr_assert_str_eq(cfg->namespace, "netposture-system");
    cr_assert_null(cfg->ca_data);
    cr_assert_null(cfg->cert_data);
    np_kube_config_destroy(cfg);
}

Test(kubeconfig, token_file_resolved)
{
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_load_kubeconfig(&cfg, KC "tokenfile.yaml");
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->token_file, KC "pki/token");
    cr_assert_null(cfg->token);
    np_kube_config_destroy(cfg);
}

Test(kubeconfig, json_is_yaml)
{
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_load_kubeconfig(&cfg, KC "json.yaml");
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->server, "http://127.0.0.1:8080");
    np_kube_config_destroy(cfg);
}

static void expect_failure(const char *file, int want, const char *needle)
{
    struct np_kube_config *cfg = (struct np_kube_config *)1;
    int rc = np_kube_config_load_kubeconfig(&cfg, file);
    cr_assert_eq(rc, want, "%s: got %s: %s", file, np_error_name(rc), np_error_message());
    cr_assert_null(cfg);
    cr_assert(strstr(np_error_message(), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", file,
              np_error_message(), needle);
}

Test(kubeconfig, clear_errors)
{
    expect_failure(KC "no-current-context.yaml", NP_EINVAL, "no current-context");
    expect_failure(KC "missing-context.yaml", NP_ENOTFOUND, "\"ghost\"");
    expect_failure(KC "missing-cluster.yaml", NP_ENOTFOUND, "cluster \"nowhere\"");
    expect_failure(KC "auth-provider.yaml", NP_EINVAL, "an auth-provider");
    expect_failure(KC "missing-file.yaml", NP_ENOTFOUND, "pki/nope.crt");
    expect_failure(KC "cert-without-key.yaml", NP_EINVAL, "client-key");
    expect_failure(KC "bad-yaml.yaml", NP_EPARSE, "line");
    expect_failure(KC "does-not-exist.yaml", NP_ENOTFOUND, "does-not-exist.yaml");
}

Test(kubeconfig, secrets_stay_out_of_messages)
{
    /* A bad tokenFile path is reported; the static token of another file never is. */
    struct np_kube_config *cfg = NULL;
    cr_assert_eq(np_kube_config_load_kubeconfig(&cfg, KC "token.yaml"), 0);
    cr_assert_null(strstr(np_error_message(), "s3cr3t"));
    np_kube_config_destroy(cfg);
}

Test(kubeconfig, kubeconfig_env_first_path)
{
    setenv("KUBECONFIG", KC "token.yaml:" KC "inline.yaml", 1);
    struct np_kube_config *cfg = NULL;
    cr_assert_eq(np_kube_config_load_kubeconfig(&cfg, NULL), 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->context, "tok");
    np_kube_config_destroy(cfg);
    /* An explicit path wins over the variable. */
    cr_assert_eq(np_kube_config_load(&cfg, KC "inline.yaml"), 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->context, "dev");
    np_kube_config_destroy(cfg);
    unsetenv("KUBECONFIG");
}

Test(kubeconfig, home_default)
{
    char dir[] = "/tmp/np-kube-home-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *kube = np_strdupf("%s/.kube", dir);
    char *path = np_strdupf("%s/config", kube);
    cr_assert_eq(mkdir(kube, 0700), 0);
    size_t len = 0;
    char *text = fixture_read("kubeconfig/token.yaml", &len);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fwrite(text, 1, len, f);
    fclose(f);
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    setenv("HOME", dir, 1);
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_load(&cfg, NULL);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->source, path);
    np_kube_config_destroy(cfg);
    unlink(path);
    rmdir(kube);
    rmdir(dir);
    free(text);
    free(path);
    free(kube);
}

Test(in_cluster, from_directory)
{
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_in_cluster_at(&cfg, "10.96.0.1", "443", FIXTURES "/incluster");
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->server, "https://10.96.0.1:443");
    cr_assert_str_eq(cfg->token_file, FIXTURES "/incluster/token");
    cr_assert_null(cfg->token); /* read through the token source, so rotation is seen */
    cr_assert_str_eq(cfg->namespace, "netposture-system");
    cr_assert_str_eq(cfg->source, "in-cluster");
    assert_bytes(cfg->ca_data, cfg->ca_len, "incluster/ca.crt");
    np_kube_config_destroy(cfg);
}

Test(in_cluster, ipv6_host_bracketed)
{
    struct np_kube_config *cfg = NULL;
    cr_assert_eq(np_kube_config_in_cluster_at(&cfg, "fd00::1", "6443", FIXTURES "/incluster"), 0);
    cr_assert_str_eq(cfg->server, "https://[fd00::1]:6443");
    np_kube_config_destroy(cfg);
}

Test(in_cluster, missing_pieces)
{
    struct np_kube_config *cfg = NULL;
    cr_assert_eq(np_kube_config_in_cluster_at(&cfg, NULL, "443", FIXTURES "/incluster"),
                 NP_ENOTFOUND);
    cr_assert(strstr(np_error_message(), "KUBERNETES_SERVICE_HOST") != NULL);
    cr_assert_eq(np_kube_config_in_cluster_at(&cfg, "10.0.0.1", "443", "/nonexistent/sa"),
                 NP_ENOTFOUND);
    cr_assert(strstr(np_error_message(), "service-account token") != NULL, "%s",
              np_error_message());
    cr_assert_null(cfg);
    /* With the service variables set and no KUBECONFIG, np_kube_config_load goes in-cluster. */
    unsetenv("KUBECONFIG");
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    int rc = np_kube_config_load(&cfg, NULL);
    if (access("/var/run/secrets/kubernetes.io/serviceaccount/token", R_OK) != 0) {
        cr_assert_eq(rc, NP_ENOTFOUND);
        cr_assert(strstr(np_error_message(), "in-cluster") != NULL);
    }
    np_kube_config_destroy(cfg);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(token_source, rereads_at_most_once_a_minute)
{
    char dir[] = "/tmp/np-kube-token-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *path = np_strdupf("%s/token", dir);
    write_text(path, "first\n");
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct np_kube_token_source ts;
    cr_assert_eq(np_kube_token_source_init(&ts, NULL, path, &fc.clock), 0);
    char *tok = NULL;
    cr_assert_eq(np_kube_token_source_get(&ts, &tok), 0);
    cr_assert_str_eq(tok, "first"); /* trimmed */
    free(tok);
    write_text(path, "second");
    fake_clock_advance(&fc, 59999);
    cr_assert_eq(np_kube_token_source_get(&ts, &tok), 0);
    cr_assert_str_eq(tok, "first");
    free(tok);
    fake_clock_advance(&fc, 1);
    cr_assert_eq(np_kube_token_source_get(&ts, &tok), 0);
    cr_assert_str_eq(tok, "second");
    free(tok);
    /* After a 401 the file is read again at once. */
    write_text(path, "third");
    np_kube_token_source_invalidate(&ts);
    cr_assert_eq(np_kube_token_source_get(&ts, &tok), 0);
    cr_assert_str_eq(tok, "third");
    free(tok);
    /* A vanished file keeps the last good token. */
    unlink(path);
    fake_clock_advance(&fc, 120000);
    cr_assert_eq(np_kube_token_source_get(&ts, &tok), 0);
    cr_assert_str_eq(tok, "third");
    free(tok);
    np_kube_token_source_clean_up(&ts);
    /* Without any earlier token a missing file is an error. */
    cr_assert_eq(np_kube_token_source_init(&ts, NULL, path, &fc.clock), 0);
    cr_assert_eq(np_kube_token_source_get(&ts, &tok), NP_ENOTFOUND);
    cr_assert_null(tok);
    np_kube_token_source_clean_up(&ts);
    rmdir(dir);
    free(path);
}

Test(token_source, static_token_and_none)
{
    struct np_kube_token_source ts;
    char *tok = NULL;
    cr_assert_eq(np_kube_token_source_init(&ts, "static", NULL, NULL), 0);
    cr_assert_eq(np_kube_token_source_get(&ts, &tok), 0);
    cr_assert_str_eq(tok, "static");
    free(tok);
    np_kube_token_source_clean_up(&ts);
    cr_assert_eq(np_kube_token_source_init(&ts, NULL, NULL, NULL), 0);
    cr_assert_eq(np_kube_token_source_get(&ts, &tok), 0);
    cr_assert_null(tok);
    np_kube_token_source_clean_up(&ts);
}
