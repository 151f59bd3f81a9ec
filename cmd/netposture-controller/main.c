/*
 * netposture-controller: wires the kube and aws clients to the reconciler.
 */
#include "core/core.h"

#include <stdio.h>

int main(void)
{
    np_log_info("netposture-controller starting");
    return 0;
}
