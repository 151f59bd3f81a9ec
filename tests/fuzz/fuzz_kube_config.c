/*
 * libFuzzer target: kubeconfig parsing (libyaml through np_kube_yaml_parse, then contexts,
 * clusters, users, base64 material). Hermetic: linked with -Wl,--wrap=fopen, so while an input
 * is parsed every file reference (certificate-authority, client-key, ...) is "not found"
 * instead of reading whatever path the fuzzer made up (/dev/kmsg would block).
 */
#include "kube/private/kube_private.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);

static bool parsing;

FILE *__wrap_fopen(const char *path, const char *mode)
{
    if (parsing) {
        errno = ENOENT;
        return NULL;
    }
    return __real_fopen(path, mode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct np_kube_config *cfg = NULL;
    parsing = true;
    int rc = np_kube_config_parse(&cfg, (const char *)data, size, "/fuzz/kubeconfig");
    parsing = false;
    if (rc == 0)
        np_kube_config_destroy(cfg);
    return 0;
}
