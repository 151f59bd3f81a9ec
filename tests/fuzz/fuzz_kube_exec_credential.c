/*
 * libFuzzer target: the ExecCredential an exec credential plugin prints, through
 * np_kube_exec_cred_parse (json-c, kind/apiVersion checks, RFC 3339 expiry, OpenSSL's PEM reader
 * for a certificate/key pair). The first byte chooses the apiVersion asked for (odd: v1beta1).
 * It may refuse the output; it must not crash or leak.
 */
#include "kube/private/kube_private.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct np_kube_exec_cred cred = {0};
    const char *version = (data[0] & 1) ? NP_KUBE_EXEC_V1BETA1 : NP_KUBE_EXEC_V1;
    if (np_kube_exec_cred_parse(&cred, (const char *)data + 1, size - 1, version) == 0)
        np_kube_exec_cred_clean_up(&cred);
    return 0;
}
