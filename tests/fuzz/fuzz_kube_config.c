/*
 * libFuzzer target: kubeconfig parsing (libyaml through np_kube_yaml_parse, then contexts,
 * clusters, users, base64 material). The path anchors relative file references in a directory
 * that does not exist, so only absolute references can reach the file system (run it with
 * stdin from /dev/null).
 */
#include "kube/private/kube_private.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct np_kube_config *cfg = NULL;
    if (np_kube_config_parse(&cfg, (const char *)data, size,
                             "/nonexistent/netposture-fuzz/kubeconfig") == 0)
        np_kube_config_destroy(cfg);
    return 0;
}
