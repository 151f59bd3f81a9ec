/*
 * netposturectl (also installed as the kubectl plugin kubectl-netposture): the command-line
 * companion for CI and humans. Only wiring: the commands live in pkg/cli.
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return np_cli_main(argc, argv);
}
