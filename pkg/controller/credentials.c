/*
 * A CloudAccount's credentials and endpoints, from its spec to a pkg/aws credential provider:
 * the source (Default, Environment, Secret, WebIdentity, PodIdentity, InstanceMetadata), the
 * WebIdentity role and token file (read only inside the allowed token directories),
 * assumeRoleArn with externalId, sessionName and durationSeconds, and spec.aws.endpoints. Every
 * credential field of the CRD is read here and used; the CRD refuses those given without the
 * source they belong to. Also the condition reason of each credential failure.
 */
#include "controller/private/controller_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where EKS projects the IRSA token: always an allowed token directory. */
#define EKS_TOKEN_DIR "/var/run/secrets/eks.amazonaws.com/serviceaccount"

static char *spec_str(json_object *acct, const char *a, const char *b)
{
    const char *v = b ? np_json_path_str(acct, "spec", "aws", a, b, NP_JSON_END)
                      : np_json_path_str(acct, "spec", "aws", a, NP_JSON_END);
    return np_str_is_empty(v) ? NULL : np_strdup(v);
}

void np_controller_endpoints_read(struct np_controller_endpoints *e, json_object *acct)
{
    e->ec2 = spec_str(acct, "endpoint", NULL);
    if (!e->ec2)
        e->ec2 = spec_str(acct, "endpoints", "ec2");
    e->sts = spec_str(acct, "endpoints", "sts");
    e->sqs = spec_str(acct, "endpoints", "sqs");
    e->cloudtrail = spec_str(acct, "endpoints", "cloudtrail");
}

void np_controller_endpoints_clean_up(struct np_controller_endpoints *e)
{
    free(e->ec2);
    free(e->sts);
    free(e->sqs);
    free(e->cloudtrail);
    memset(e, 0, sizeof(*e));
}

/* ---------------------------------------------------------------- Secret */

static void wipe_free(unsigned char *buf, size_t len)
{
    if (buf)
        memset(buf, 0, len);
    free(buf);
}

/* Credentials from the Secret spec.aws.credentials.secretRef names (in the controller's own
 * namespace: no other namespace's Secrets are readable, by RBAC as by this check);
 * the decoded copies are wiped before they are freed. */
int np_controller_credentials_read_secret(struct np_controller *ctl, json_object *acct,
                                          struct np_aws_credentials *creds)
{
    const char *ns =
        np_json_path_str(acct, "spec", "aws", "credentials", "secretRef", "namespace", NP_JSON_END);
    const char *name =
        np_json_path_str(acct, "spec", "aws", "credentials", "secretRef", "name", NP_JSON_END);
    if (!ns || !name)
        return np_error_set(NP_EINVAL, "credentials.secretRef needs namespace and name");
    const char *own = np_controller_own_namespace(ctl);
    if (strcmp(ns, own) != 0)
        return np_error_set(NP_EDENIED,
                            "credential Secrets must live in the controller's namespace %s "
                            "(got %s/%s)",
                            own, ns, name);
    json_object *secret = NULL;
    unsigned char *ak = NULL, *sk = NULL, *tok = NULL;
    size_t akl = 0, skl = 0, tokl = 0;
    int rc = np_kube_get(ctl->kube, &secret, &np_kube_res_secrets, ns, name);
    if (rc == 0)
        rc = np_kube_secret_data(&ak, &akl, secret, "accessKeyId");
    if (rc == 0)
        rc = np_kube_secret_data(&sk, &skl, secret, "secretAccessKey");
    if (rc == 0 && np_kube_secret_data(&tok, &tokl, secret, "sessionToken") != 0)
        tok = NULL;
    if (rc == 0)
        rc = np_aws_credentials_set(creds, (const char *)ak, (const char *)sk, (const char *)tok);
    else
        rc = np_error_set(rc, "Secret %s/%s: %s", ns, name, np_error_message());
    wipe_free(ak, akl);
    wipe_free(sk, skl);
    wipe_free(tok, tokl);
    json_object_put(secret);
    return rc;
}

/* ---------------------------------------------------------------- the provider */

/* The Secret source's keys: fresh ones already read, else read now. */
static int secret_keys_of(struct np_controller *ctl, json_object *acct,
                          struct np_aws_credentials *fresh, struct np_aws_credentials *keys)
{
    if (fresh && fresh->access_key_id) {
        *keys = *fresh;
        memset(fresh, 0, sizeof(*fresh));
        return 0;
    }
    return np_controller_credentials_read_secret(ctl, acct, keys);
}

/* The allowed WebIdentity token directories: EKS's, then the controller's flags. */
static const char **token_dirs(struct np_controller *ctl, size_t *n)
{
    const char **dirs = np_xcalloc(ctl->opts.n_web_identity_token_dirs + 1, sizeof(char *));
    *n = 0;
    dirs[(*n)++] = EKS_TOKEN_DIR;
    for (size_t i = 0; i < ctl->opts.n_web_identity_token_dirs; i++)
        dirs[(*n)++] = ctl->opts.web_identity_token_dirs[i];
    return dirs;
}

int np_controller_credentials_build(struct np_controller *ctl, json_object *acct,
                                    const struct np_controller_endpoints *eps,
                                    struct np_aws_credentials *fresh, struct np_aws_provider **out,
                                    struct np_aws_credentials *secret_keys)
{
    const char *source =
        np_json_path_str(acct, "spec", "aws", "credentials", "source", NP_JSON_END);
    json_object *duration = np_json_path(acct, "spec", "aws", "durationSeconds", NP_JSON_END);
    char *session = np_strdupf("netposture-%s", np_kube_object_name(acct));
    struct np_aws_provider_config pc = {
        .role_arn = np_json_path_str(acct, "spec", "aws", "credentials", "roleArn", NP_JSON_END),
        .token_file =
            np_json_path_str(acct, "spec", "aws", "credentials", "tokenFile", NP_JSON_END),
        .session_name = session,
        .assume_role_arn = np_json_path_str(acct, "spec", "aws", "assumeRoleArn", NP_JSON_END),
        .external_id = np_json_path_str(acct, "spec", "aws", "externalId", NP_JSON_END),
        .assume_session_name = np_json_path_str(acct, "spec", "aws", "sessionName", NP_JSON_END),
        .duration_seconds = duration ? json_object_get_int(duration) : 0,
        .region = np_json_path_str(acct, "spec", "aws", "region", NP_JSON_END),
        .sts_endpoint = eps->sts,
        .observer = np_controller_aws_observer,
        .observer_ctx = ctl,
    };
    size_t n_dirs = 0;
    const char **dirs = token_dirs(ctl, &n_dirs);
    pc.token_dirs = dirs;
    pc.n_token_dirs = n_dirs;
    int rc = 0;
    *out = NULL;
    if (!np_aws_cred_source_parse(source, &pc.source))
        rc = np_error_set(NP_EINVAL,
                          "credentials.source \"%.40s\" is not one of Default, "
                          "Environment, Secret, WebIdentity, PodIdentity, "
                          "InstanceMetadata",
                          source);
    if (rc == 0 && pc.source == NP_AWS_SOURCE_STATIC) {
        rc = secret_keys_of(ctl, acct, fresh, secret_keys);
        pc.credentials = secret_keys;
    }
    if (rc == 0)
        rc = np_aws_provider_new(out, &pc);
    free(dirs);
    free(session);
    return rc;
}

enum np_controller_reason np_controller_credentials_reason(enum np_aws_cred_failure f)
{
    switch (f) {
    case NP_AWS_CRED_NOT_FOUND: return NP_CONTROLLER_REASON_CREDENTIALS_NOT_FOUND;
    case NP_AWS_CRED_TOKEN_UNREADABLE: return NP_CONTROLLER_REASON_WEB_IDENTITY_TOKEN_UNREADABLE;
    case NP_AWS_CRED_DENIED: return NP_CONTROLLER_REASON_ASSUME_ROLE_DENIED;
    case NP_AWS_CRED_METADATA_UNAVAILABLE: return NP_CONTROLLER_REASON_METADATA_UNAVAILABLE;
    case NP_AWS_CRED_EXPIRED: return NP_CONTROLLER_REASON_CREDENTIALS_EXPIRED;
    case NP_AWS_CRED_INVALID: return NP_CONTROLLER_REASON_CREDENTIALS_INVALID;
    case NP_AWS_CRED_UNAVAILABLE: return NP_CONTROLLER_REASON_CREDENTIALS_UNAVAILABLE;
    case NP_AWS_CRED_OK: break;
    }
    return NP_CONTROLLER_REASON_NONE;
}

void np_controller_credentials_source(char *out, size_t size, struct np_aws_provider *p)
{
    struct np_aws_provider_state st;
    np_aws_provider_state(p, &st);
    snprintf(out, size, "%s%s", np_aws_cred_source_name(st.source),
             st.assumed ? "+AssumeRole" : "");
}
