/*
 * Unit tests of exec credential plugins: the kubeconfig's exec stanza, the ExecCredential a
 * plugin prints, and real runs of small shell-script plugins written into a scratch directory
 * (arguments, environment, KUBERNETES_EXEC_INFO, failures, bounds, timeout, cancel, caching by
 * expiry on a fake clock, one run for many threads).
 */
#include "helpers.h"
#include "kube/kube.h"
#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define V1 NP_KUBE_EXEC_V1
#define V1BETA1 NP_KUBE_EXEC_V1BETA1

/* A kubeconfig (anchored in dir) whose one user runs the exec stanza given as YAML lines. */
static int try_load(struct np_kube_config **cfg, const char *dir, const char *server,
                    const char *exec_yaml)
{
    char *text = np_strdupf("apiVersion: v1\n"
                            "kind: Config\n"
                            "current-context: c\n"
                            "clusters:\n"
                            "- name: k\n"
                            "  cluster:\n"
                            "    server: %s\n"
                            "    tls-server-name: api.example\n"
                            "    certificate-authority-data: Y2E=\n"
                            "    extensions:\n"
                            "    - {name: other, extension: {x: y}}\n"
                            "    - name: client.authentication.k8s.io/exec\n"
                            "      extension: {audience: prod}\n"
                            "contexts:\n"
                            "- {name: c, context: {cluster: k, user: u}}\n"
                            "users:\n"
                            "- name: u\n"
                            "  user:\n"
                            "    exec:\n%s",
                            server, exec_yaml);
    char *path = np_strdupf("%s/kubeconfig", dir);
    int rc = np_kube_config_parse(cfg, text, strlen(text), path);
    free(path);
    free(text);
    return rc;
}

static struct np_kube_config *load(const char *dir, const char *exec_yaml)
{
    struct np_kube_config *cfg = NULL;
    int rc = try_load(&cfg, dir, "https://kube.example:6443", exec_yaml);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_not_null(cfg->exec);
    return cfg;
}

/* The exec stanza of a v1 plugin at command, plus extra YAML lines. */
static char *stanza(const char *command, const char *extra)
{
    return np_strdupf("      apiVersion: %s\n"
                      "      interactiveMode: Never\n"
                      "      command: %s\n%s",
                      V1, command, extra ? extra : "");
}

TestSuite(exec_config, .fini = kube_leak_check);
TestSuite(exec_cred, .fini = kube_leak_check);
TestSuite(exec_plugin, .fini = kube_leak_check);

/* ------------------------------------------------------------ kubeconfig stanza */

Test(exec_config, every_field_is_read)
{
    char *dir = scratch_new();
    struct np_kube_config *cfg =
        load(dir, "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                  "      command: bin/get-token\n"
                  "      args: [eks, get-token, --cluster-name, prod]\n"
                  "      env:\n"
                  "      - {name: AWS_PROFILE, value: prod}\n"
                  "      - {name: EMPTY}\n"
                  "      installHint: install the aws CLI\n"
                  "      provideClusterInfo: true\n"
                  "      unknownField: ignored\n");
    struct np_kube_exec_config *ec = cfg->exec;
    char *want = np_strdupf("%s/bin/get-token", dir);
    cr_assert_str_eq(ec->command, want); /* a path: relative to the kubeconfig */
    cr_assert_str_eq(ec->args[0], "eks");
    cr_assert_str_eq(ec->args[3], "prod");
    cr_assert_null(ec->args[4]);
    cr_assert_eq(ec->nenv, 2);
    cr_assert_str_eq(ec->env[0].name, "AWS_PROFILE");
    cr_assert_str_eq(ec->env[0].value, "prod");
    cr_assert_str_eq(ec->env[1].value, "");
    cr_assert_str_eq(ec->api_version, V1BETA1);
    cr_assert_str_eq(ec->install_hint, "install the aws CLI");
    cr_assert(ec->provide_cluster_info);
    cr_assert_str_eq(ec->cluster_config, "{\"audience\":\"prod\"}");
    cr_assert_null(cfg->token);
    cr_assert_null(cfg->cert_data);
    np_kube_config_destroy(cfg);
    free(want);
    scratch_remove(dir);
}

Test(exec_config, a_bare_command_is_looked_up_in_path)
{
    char *dir = scratch_new();
    char *s = stanza("aws", NULL);
    struct np_kube_config *cfg = load(dir, s);
    cr_assert_str_eq(cfg->exec->command, "aws");
    cr_assert_not_null(cfg->exec->args);
    cr_assert_null(cfg->exec->args[0]);
    cr_assert_eq(cfg->exec->nenv, 0);
    cr_assert_not(cfg->exec->provide_cluster_info);
    cr_assert_null(cfg->exec->cluster_config); /* only sent with provideClusterInfo */
    np_kube_config_destroy(cfg);
    free(s);
    scratch_remove(dir);
}

static void expect_refused(const char *exec_yaml, const char *needle)
{
    char *dir = scratch_new();
    struct np_kube_config *cfg = (struct np_kube_config *)1;
    int rc = try_load(&cfg, dir, "https://kube.example", exec_yaml);
    cr_assert_eq(rc, NP_EINVAL, "%s: got %s: %s", needle, np_error_name(rc), np_error_message());
    cr_assert_null(cfg);
    cr_assert(strstr(np_error_message(), needle) != NULL, "message \"%s\" lacks \"%s\"",
              np_error_message(), needle);
    cr_assert(strstr(np_error_message(), "user \"u\"") != NULL, "%s", np_error_message());
    scratch_remove(dir);
}

Test(exec_config, clear_refusals)
{
    expect_refused("      apiVersion: client.authentication.k8s.io/v1\n"
                   "      interactiveMode: Never\n",
                   "exec.command must be set");
    expect_refused("      command: aws\n", "exec.apiVersion must be set");
    expect_refused("      apiVersion: client.authentication.k8s.io/v1alpha1\n"
                   "      command: aws\n",
                   "\"client.authentication.k8s.io/v1alpha1\" is not supported: use "
                   "client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1");
    expect_refused("      apiVersion: client.authentication.k8s.io/v1\n"
                   "      command: aws\n",
                   "exec.interactiveMode must be set for client.authentication.k8s.io/v1");
    expect_refused("      apiVersion: client.authentication.k8s.io/v1\n"
                   "      interactiveMode: Always\n"
                   "      command: aws\n",
                   "Always needs a terminal, and netposture never has one");
    expect_refused("      apiVersion: client.authentication.k8s.io/v1beta1\n"
                   "      interactiveMode: Sometimes\n"
                   "      command: aws\n",
                   "\"Sometimes\" is not Never, IfAvailable or Always");
    expect_refused("      apiVersion: client.authentication.k8s.io/v1beta1\n"
                   "      command: aws\n"
                   "      env: [{value: x}]\n",
                   "exec.env[0] needs a name");
    expect_refused("      apiVersion: client.authentication.k8s.io/v1beta1\n"
                   "      command: aws\n"
                   "      args: {a: b}\n",
                   "exec.args is not a list");
    expect_refused("      apiVersion: client.authentication.k8s.io/v1beta1\n"
                   "      command: aws\n"
                   "      args: [[nested]]\n",
                   "exec.args[0] is not a string");
}

Test(exec_config, v1beta1_and_if_available_are_non_interactive)
{
    char *dir = scratch_new();
    struct np_kube_config *cfg =
        load(dir, "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                  "      command: aws\n");
    np_kube_config_destroy(cfg);
    cfg = load(dir, "      apiVersion: client.authentication.k8s.io/v1\n"
                    "      interactiveMode: IfAvailable\n"
                    "      command: aws\n");
    char *info = np_kube_exec_info(cfg->exec, cfg);
    cr_assert(strstr(info, "\"interactive\":false") != NULL, "%s", info);
    free(info);
    np_kube_config_destroy(cfg);
    scratch_remove(dir);
}

Test(exec_config, a_static_credential_wins_like_kubectl)
{
    const char *text = "apiVersion: v1\n"
                       "current-context: c\n"
                       "clusters: [{name: k, cluster: {server: \"https://k\"}}]\n"
                       "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                       "users:\n"
                       "- name: u\n"
                       "  user:\n"
                       "    token: static\n"
                       "    exec: {command: aws, apiVersion: nonsense}\n";
    struct np_kube_config *cfg = NULL;
    cr_assert_eq(np_kube_config_parse(&cfg, text, strlen(text), "/x/kubeconfig"), 0, "%s",
                 np_error_message());
    cr_assert_str_eq(cfg->token, "static");
    cr_assert_null(cfg->exec);
    np_kube_config_destroy(cfg);
}

Test(exec_config, the_eks_fixture_loads)
{
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_load_kubeconfig(&cfg, FIXTURES "/kubeconfig/exec.yaml");
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cfg->exec->command, "aws");
    cr_assert_str_eq(cfg->exec->args[1], "get-token");
    cr_assert_str_eq(cfg->exec->api_version, V1BETA1);
    cr_assert_str_eq(cfg->exec->env[0].value, "prod");
    cr_assert_str_eq(cfg->exec->install_hint, "Install the AWS CLI: https://aws.amazon.com/cli/");
    cr_assert_str_eq(cfg->exec->cluster_config, "{\"region\":\"eu-west-1\"}");
    char *info = np_kube_exec_info(cfg->exec, cfg);
    cr_assert_str_eq(info, "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":"
                           "\"ExecCredential\",\"spec\":{\"interactive\":false,\"cluster\":{"
                           "\"server\":\"https://ABC.gr7.eu-west-1.eks.amazonaws.com\",\"config\":"
                           "{\"region\":\"eu-west-1\"}}}}");
    free(info);
    np_kube_config_destroy(cfg);
}

/* ------------------------------------------------------------ ExecCredential */

static int parse(struct np_kube_exec_cred *cred, const char *text, const char *version)
{
    memset(cred, 0, sizeof(*cred));
    return np_kube_exec_cred_parse(cred, text, strlen(text), version);
}

Test(exec_cred, token_v1_and_v1beta1)
{
    struct np_kube_exec_cred cred;
    int rc = parse(&cred,
                   "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
                   "\"ExecCredential\",\"spec\":{\"interactive\":false},\"status\":{\"token\":"
                   "\"k8s-aws-v1.abc\",\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}\n",
                   V1);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cred.token, "k8s-aws-v1.abc");
    cr_assert_null(cred.cert);
    int64_t want = 0;
    cr_assert_eq(np_time_parse_rfc3339("2030-01-02T03:04:05Z", &want), 0);
    cr_assert_eq(cred.expires_ms, want);
    np_kube_exec_cred_clean_up(&cred);

    rc = parse(&cred,
               "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":"
               "\"ExecCredential\",\"status\":{\"token\":\"t2\"}}",
               V1BETA1);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(cred.token, "t2");
    cr_assert_eq(cred.expires_ms, INT64_MAX); /* no expiry: kept until a 401 */
    np_kube_exec_cred_clean_up(&cred);
}

/* A credential refused with NP_EPARSE, a message holding needle and never the token. */
static void expect_bad(const char *text, const char *version, const char *needle)
{
    struct np_kube_exec_cred cred;
    int rc = parse(&cred, text, version);
    cr_assert_eq(rc, NP_EPARSE, "%s: got %s", needle, np_error_name(rc));
    cr_assert(strstr(np_error_message(), needle) != NULL, "message \"%s\" lacks \"%s\"",
              np_error_message(), needle);
    cr_assert_null(strstr(np_error_message(), "s3cr3t"), "%s", np_error_message());
    cr_assert_null(cred.token);
}

#define ENV(v, k) "{\"apiVersion\":\"" v "\",\"kind\":\"" k "\","

Test(exec_cred, clear_refusals)
{
    expect_bad(ENV(V1BETA1, "ExecCredential") "\"status\":{\"token\":\"s3cr3t\"}}", V1,
               "is configured for client.authentication.k8s.io/v1 but printed apiVersion "
               "\"client.authentication.k8s.io/v1beta1\"");
    expect_bad(ENV(V1, "Secret") "\"status\":{\"token\":\"s3cr3t\"}}", V1,
               "printed kind \"Secret\", not ExecCredential");
    expect_bad(ENV(V1, "ExecCredential") "\"spec\":{}}", V1, "printed no status");
    expect_bad(ENV(V1, "ExecCredential") "\"status\":\"s3cr3t\"}", V1, "printed no status");
    expect_bad(ENV(V1, "ExecCredential") "\"status\":{\"token\":\"s3cr3t\","
                                         "\"expirationTimestamp\":\"tomorrow\"}}",
               V1, "status.expirationTimestamp \"tomorrow\" is not RFC 3339");
    expect_bad(ENV(V1, "ExecCredential") "\"status\":{\"token\":\"\"}}", V1,
               "printed neither status.token nor status.clientCertificateData");
    expect_bad(ENV(V1, "ExecCredential") "\"status\":{\"token\":42}}", V1,
               "status.token is not a string");
    expect_bad(ENV(V1, "ExecCredential") "\"status\":{\"clientKeyData\":\"s3cr3t\"}}", V1,
               "only one of status.clientCertificateData and status.clientKeyData");
    expect_bad("token: s3cr3t\n", V1, "printed no JSON ExecCredential");
    expect_bad("[\"s3cr3t\"]", V1, "printed JSON that is not an object");
    expect_bad("", V1, "printed no JSON ExecCredential");
}

/* An ExecCredential text carrying the PEM files (JSON-escaped). */
static char *cert_credential(const char *cert_fixture, const char *key_fixture)
{
    char *pem[2] = {fixture_read(cert_fixture, NULL), fixture_read(key_fixture, NULL)};
    json_object *root = json_object_new_object(), *status = json_object_new_object();
    np_json_put_str(root, "apiVersion", V1);
    np_json_put_str(root, "kind", "ExecCredential");
    np_json_put_str(status, "clientCertificateData", pem[0]);
    np_json_put_str(status, "clientKeyData", pem[1]);
    json_object_object_add(root, "status", status);
    char *text = np_strdup(json_object_to_json_string(root));
    json_object_put(root);
    free(pem[0]);
    free(pem[1]);
    return text;
}

Test(exec_cred, client_certificate_pair)
{
    struct np_kube_exec_cred cred;
    char *text = cert_credential("exec/client.crt", "exec/client.key");
    int rc = parse(&cred, text, V1);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    size_t len = 0;
    char *want = fixture_read("exec/client.crt", &len);
    cr_assert_eq(cred.cert_len, len);
    cr_assert_eq(memcmp(cred.cert, want, len), 0);
    cr_assert_not_null(cred.key);
    cr_assert_null(cred.token);
    np_kube_exec_cred_clean_up(&cred);
    free(want);
    free(text);

    text = cert_credential("exec/client.crt", "exec/other.key");
    cr_assert_eq(parse(&cred, text, V1), NP_EPARSE);
    cr_assert(strstr(np_error_message(), "do not belong together") != NULL, "%s",
              np_error_message());
    free(text);
    text = cert_credential("kubeconfig/pki/client.crt", "exec/client.key");
    cr_assert_eq(parse(&cred, text, V1), NP_EPARSE);
    cr_assert(strstr(np_error_message(), "not a PEM certificate") != NULL, "%s",
              np_error_message());
    cr_assert_null(strstr(np_error_message(), "PRIVATE"));
    free(text);
}

/* ------------------------------------------------------------ plugin runs */

/* A credential source for cfg on the fake clock; the config is no longer needed after. */
static void source_init(struct np_kube_exec *x, struct np_kube_config *cfg, struct fake_clock *fc)
{
    cr_assert_eq(np_kube_exec_init(x, cfg, fc ? &fc->clock : NULL), 0);
    np_kube_config_destroy(cfg);
}

/* Gets a credential and returns its token (owned); *rc gets the result. */
static char *get_token(struct np_kube_exec *x, int *rc, uint64_t *gen)
{
    struct np_kube_exec_cred cred;
    uint64_t g = 0;
    *rc = np_kube_exec_get(x, &cred, gen ? gen : &g, NULL);
    char *t = np_strdup(cred.token);
    np_kube_exec_cred_clean_up(&cred);
    return t;
}

/* A plugin that counts its runs in dir/count and prints token tok-<run> (expiring at expiry
 * when given), after the shell lines in `before`. */
static char *counting_plugin(const char *dir, const char *expiry, const char *before)
{
    char *exp = expiry ? np_strdupf(",\"expirationTimestamp\":\"%s\"", expiry) : np_strdup("");
    char *body = np_strdupf("%s"
                            "n=$(( $(cat %s/count 2>/dev/null || echo 0) + 1 ))\n"
                            "echo $n > %s/count\n"
                            "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
                            "\"status\":{\"token\":\"tok-%%s\"%s}}\\n' $n\n",
                            before ? before : "", dir, dir, V1, exp);
    char *path = scratch_script(dir, "plugin", body);
    free(body);
    free(exp);
    return path;
}

Test(exec_plugin, args_env_and_exec_info_reach_the_plugin, .timeout = 60)
{
    char *dir = scratch_new();
    char *body =
        np_strdupf("printf '%%s\\n' \"$@\" > %s/args\n"
                   "printf '%%s' \"$KUBERNETES_EXEC_INFO\" > %s/info\n"
                   "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
                   "\"status\":{\"token\":\"tok-%%s-%%s\"}}' \"$GREETING\" \"$HOME_SET\"\n",
                   dir, dir, V1);
    char *plugin = scratch_script(dir, "plugin", body);
    setenv("GREETING", "from-the-process", 1);
    setenv("HOME_SET", "kept", 1);
    setenv("KUBERNETES_EXEC_INFO", "stale", 1);
    char *s = stanza(plugin, "      args: [eks, get-token, \"--cluster-name=a b\"]\n"
                             "      env: [{name: GREETING, value: first}, {name: GREETING, "
                             "value: hello}]\n"
                             "      provideClusterInfo: true\n");
    struct np_kube_exec x;
    source_init(&x, load(dir, s), NULL);
    int rc = 0;
    char *token = get_token(&x, &rc, NULL);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(token, "tok-hello-kept"); /* exec.env over the process's, last one wins */
    char *args = scratch_read(dir, "args");
    cr_assert_str_eq(args, "eks\nget-token\n--cluster-name=a b\n");
    char *info = scratch_read(dir, "info");
    json_object *j = NULL;
    cr_assert_eq(np_kube_json_parse(&j, info, strlen(info)), 0, "%s", info);
    cr_assert_str_eq(np_json_path_str(j, "apiVersion", NP_JSON_END), V1);
    cr_assert_str_eq(np_json_path_str(j, "kind", NP_JSON_END), "ExecCredential");
    cr_assert_not(json_object_get_boolean(np_json_path(j, "spec", "interactive", NP_JSON_END)));
    json_object *cl = np_json_path(j, "spec", "cluster", NP_JSON_END);
    cr_assert_str_eq(np_json_path_str(cl, "server", NP_JSON_END), "https://kube.example:6443");
    cr_assert_str_eq(np_json_path_str(cl, "tls-server-name", NP_JSON_END), "api.example");
    cr_assert_str_eq(np_json_path_str(cl, "certificate-authority-data", NP_JSON_END), "Y2E=");
    cr_assert_str_eq(np_json_path_str(cl, "config", "audience", NP_JSON_END), "prod");
    json_object_put(j);
    free(info);
    free(args);
    free(token);
    np_kube_exec_clean_up(&x);
    free(s);
    free(plugin);
    free(body);
    scratch_remove(dir);
}

Test(exec_plugin, no_cluster_without_provide_cluster_info, .timeout = 60)
{
    char *dir = scratch_new();
    char *s = stanza("aws", NULL);
    struct np_kube_config *cfg = load(dir, s);
    char *info = np_kube_exec_info(cfg->exec, cfg);
    cr_assert_str_eq(info, "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
                           "\"ExecCredential\",\"spec\":{\"interactive\":false}}");
    free(info);
    np_kube_config_destroy(cfg);
    free(s);
    scratch_remove(dir);
}

/* Runs the plugin whose body is given once and expects code with needle in the message. */
static void expect_run_failure(const char *body, const char *extra, int code, const char *needle)
{
    char *dir = scratch_new();
    char *plugin = body ? scratch_script(dir, "plugin", body) : np_strdup("np-no-such-plugin-x1");
    char *s = stanza(plugin, extra);
    struct np_kube_exec x;
    source_init(&x, load(dir, s), NULL);
    int rc = 0;
    char *token = get_token(&x, &rc, NULL);
    cr_assert_eq(rc, code, "%s: got %s: %s", needle, np_error_name(rc), np_error_message());
    cr_assert_null(token);
    cr_assert(strstr(np_error_message(), needle) != NULL, "message \"%s\" lacks \"%s\"",
              np_error_message(), needle);
    cr_assert(strstr(np_error_message(), "exec plugin \"") != NULL, "%s", np_error_message());
    np_kube_exec_clean_up(&x);
    free(s);
    free(plugin);
    scratch_remove(dir);
}

Test(exec_plugin, failures_are_explained, .timeout = 60)
{
    expect_run_failure("echo 'An error occurred (ExpiredToken): renew' >&2\n"
                       "echo 'second line s3cr3t' >&2\nexit 1\n",
                       NULL, NP_EAUTH, "exited with status 1: An error occurred (ExpiredToken)");
    cr_assert_null(strstr(np_error_message(), "s3cr3t"), "only the first line of stderr");
    expect_run_failure(NULL, "      installHint: |\n        brew install aws\n        or apt\n",
                       NP_EAUTH, "executable not found in PATH; brew install aws or apt");
    cr_assert(np_str_has_prefix(strstr(np_error_message(), "or apt"), "or apt") &&
                  strlen(strstr(np_error_message(), "or apt")) == 6,
              "%s", np_error_message());
    expect_run_failure("exec np-no-such-command-x2\n", "      installHint: install the aws CLI\n",
                       NP_EAUTH, "exited with status 127 (command not found): ");
    cr_assert(strstr(np_error_message(), "; install the aws CLI") != NULL, "%s",
              np_error_message());
    expect_run_failure("echo 'not json at all'\n", NULL, NP_EAUTH,
                       "printed no JSON ExecCredential");
    expect_run_failure("kill -9 $$\n", NULL, NP_EAUTH, "killed by signal 9");
}

Test(exec_plugin, stderr_is_cut_to_one_short_line, .timeout = 60)
{
    char *line = np_xcalloc(1, 501);
    memset(line, 'e', 500);
    char *body = np_strdupf("printf '\\n%s\\nsecond\\n' >&2\nexit 3\n", line);
    expect_run_failure(body, NULL, NP_EAUTH, "exited with status 3: eeee");
    const char *e = strstr(np_error_message(), "eeee");
    cr_assert_eq(strlen(e), 200, "%s", np_error_message());
    free(body);
    free(line);
}

Test(exec_plugin, huge_output_is_bounded, .timeout = 60)
{
    int64_t start = np_time_mono_ms();
    expect_run_failure("exec yes '{\"kind\":\"ExecCredential\"}'\n", NULL, NP_EAUTH,
                       "printed more than 1048576 bytes");
    cr_assert_lt(np_time_mono_ms() - start, 20000);
}

Test(exec_plugin, a_hung_plugin_is_killed_at_the_timeout, .timeout = 60)
{
    char *dir = scratch_new();
    char *plugin = scratch_script(dir, "plugin", "sleep 30 &\nsleep 30\n");
    char *s = stanza(plugin, NULL);
    struct np_kube_exec x;
    source_init(&x, load(dir, s), NULL);
    x.timeout_ms = 300;
    int64_t start = np_time_mono_ms();
    int rc = 0;
    char *token = get_token(&x, &rc, NULL);
    cr_assert_eq(rc, NP_ETIMEOUT, "%s", np_error_message());
    cr_assert_null(token);
    cr_assert(strstr(np_error_message(), "did not finish within 300 ms") != NULL, "%s",
              np_error_message());
    /* The whole process group is killed: nothing holds the pipes, so no wait for sleep. */
    cr_assert_lt(np_time_mono_ms() - start, 5000);
    np_kube_exec_clean_up(&x);
    free(s);
    free(plugin);
    scratch_remove(dir);
}

struct cancel_later {
    struct np_kube_cancel *cancel;
};

static void *fire_soon(void *arg)
{
    struct cancel_later *c = arg;
    np_sleep_ms(200);
    np_kube_cancel_fire(c->cancel);
    return NULL;
}

Test(exec_plugin, cancel_kills_the_plugin, .timeout = 60)
{
    char *dir = scratch_new();
    char *plugin = scratch_script(dir, "plugin", "sleep 30\n");
    char *s = stanza(plugin, NULL);
    struct np_kube_exec x;
    source_init(&x, load(dir, s), NULL);
    struct cancel_later cl = {NULL};
    cr_assert_eq(np_kube_cancel_new(&cl.cancel), 0);
    pthread_t t;
    pthread_create(&t, NULL, fire_soon, &cl);
    struct np_kube_exec_cred cred;
    uint64_t gen = 0;
    int rc = np_kube_exec_get(&x, &cred, &gen, cl.cancel);
    pthread_join(t, NULL);
    cr_assert_eq(rc, NP_ECANCELED, "%s", np_error_message());
    np_kube_cancel_destroy(cl.cancel);
    np_kube_exec_clean_up(&x);
    free(s);
    free(plugin);
    scratch_remove(dir);
}

Test(exec_plugin, cached_until_it_expires, .timeout = 60)
{
    char *dir = scratch_new();
    int64_t expiry = 0;
    cr_assert_eq(np_time_parse_rfc3339("2030-01-01T00:00:00Z", &expiry), 0);
    struct fake_clock fc;
    fake_clock_init(&fc, expiry - 3600 * 1000);
    char *plugin = counting_plugin(dir, "2030-01-01T00:00:00Z", NULL);
    char *s = stanza(plugin, NULL);
    struct np_kube_exec x;
    source_init(&x, load(dir, s), &fc);
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        char *t = get_token(&x, &rc, NULL);
        cr_assert_eq(rc, 0, "%s", np_error_message());
        cr_assert_str_eq(t, "tok-1");
        free(t);
    }
    cr_assert_eq(np_kube_exec_runs(&x), 1);
    fake_clock_advance(&fc, 3600 * 1000 - NP_KUBE_EXEC_EXPIRY_MARGIN_MS - 1);
    char *t = get_token(&x, &rc, NULL);
    cr_assert_str_eq(t, "tok-1"); /* still outside the margin */
    free(t);
    fake_clock_advance(&fc, 2);
    t = get_token(&x, &rc, NULL); /* within the margin: run again */
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(t, "tok-2");
    free(t);
    cr_assert_eq(np_kube_exec_runs(&x), 2);
    np_kube_exec_clean_up(&x);
    free(s);
    free(plugin);
    scratch_remove(dir);
}

Test(exec_plugin, without_expiry_cached_until_a_401, .timeout = 60)
{
    char *dir = scratch_new();
    char *plugin = counting_plugin(dir, NULL, NULL);
    char *s = stanza(plugin, NULL);
    struct np_kube_exec x;
    source_init(&x, load(dir, s), NULL);
    int rc = 0;
    uint64_t g1 = 0, g2 = 0;
    char *t = get_token(&x, &rc, &g1);
    free(t);
    t = get_token(&x, &rc, &g2);
    cr_assert_str_eq(t, "tok-1");
    cr_assert_eq(g1, g2);
    free(t);
    np_kube_exec_invalidate(&x, g1);
    t = get_token(&x, &rc, &g2);
    cr_assert_str_eq(t, "tok-2");
    cr_assert_neq(g1, g2);
    free(t);
    np_kube_exec_invalidate(&x, g1); /* a stale 401: the newer credential stays */
    t = get_token(&x, &rc, NULL);
    cr_assert_str_eq(t, "tok-2");
    free(t);
    cr_assert_eq(np_kube_exec_runs(&x), 2);
    np_kube_exec_clean_up(&x);
    free(s);
    free(plugin);
    scratch_remove(dir);
}

static void *get_in_thread(void *arg)
{
    int rc = 0;
    return get_token(arg, &rc, NULL);
}

Test(exec_plugin, one_run_for_many_threads, .timeout = 60)
{
    char *dir = scratch_new();
    char *plugin = counting_plugin(dir, NULL, "sleep 0.3\n");
    char *s = stanza(plugin, NULL);
    struct np_kube_exec x;
    source_init(&x, load(dir, s), NULL);
    pthread_t t[8];
    for (size_t i = 0; i < NP_ARRAY_LEN(t); i++)
        pthread_create(&t[i], NULL, get_in_thread, &x);
    for (size_t i = 0; i < NP_ARRAY_LEN(t); i++) {
        void *token = NULL;
        pthread_join(t[i], &token);
        cr_assert_str_eq(token, "tok-1");
        free(token);
    }
    cr_assert_eq(np_kube_exec_runs(&x), 1);
    np_kube_exec_clean_up(&x);
    free(s);
    free(plugin);
    scratch_remove(dir);
}

Test(exec_plugin, client_certificate_from_the_plugin, .timeout = 60)
{
    char *dir = scratch_new();
    char *text = cert_credential("exec/client.crt", "exec/client.key");
    char *out = np_strdupf("%s/cred.json", dir);
    FILE *f = fopen(out, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    char *body = np_strdupf("cat %s\n", out);
    char *plugin = scratch_script(dir, "plugin", body);
    char *s = stanza(plugin, NULL);
    struct np_kube_exec x;
    source_init(&x, load(dir, s), NULL);
    struct np_kube_exec_cred cred;
    uint64_t gen = 0;
    int rc = np_kube_exec_get(&x, &cred, &gen, NULL);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_not_null(cred.cert);
    cr_assert_not_null(cred.key);
    cr_assert_null(cred.token);
    cr_assert(strstr((const char *)cred.key, "PRIVATE KEY") != NULL);
    np_kube_exec_cred_clean_up(&cred);
    np_kube_exec_clean_up(&x);
    free(s);
    free(plugin);
    free(body);
    free(out);
    free(text);
    scratch_remove(dir);
}
