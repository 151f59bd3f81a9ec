/*
 * netposturectl: the command-line companion for CI and humans (validate, plan, import).
 */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: netposturectl <command>\n");
        return argc < 2 ? 2 : 0;
    }
    fprintf(stderr, "netposturectl: unknown command \"%s\"\n", argv[1]);
    return 2;
}
