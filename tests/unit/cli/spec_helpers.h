/*
 * Shared by the cli unit tests (spec_helpers.c).
 */
#ifndef NP_TEST_CLI_SPEC_HELPERS_H
#define NP_TEST_CLI_SPEC_HELPERS_H

#include "posture/posture.h"

/* Parses a SecurityGroupPosture spec (JSON text); fails the test when it does not parse.
 * The caller owns the result (np_posture_sg_spec_destroy). */
struct np_posture_sg_spec *test_spec_of(const char *json);

#endif
