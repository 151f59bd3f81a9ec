/*
 * Shared by the cli unit tests: a parsed SecurityGroupPosture spec from JSON text.
 */
#include "spec_helpers.h"

#include <criterion/criterion.h>

struct np_posture_sg_spec *test_spec_of(const char *json)
{
    json_object *j = json_tokener_parse(json);
    cr_assert_not_null(j, "not JSON: %s", json);
    struct np_posture_sg_spec *spec = NULL;
    cr_assert_eq(np_posture_sg_spec_parse(&spec, j), 0, "%s", np_error_message());
    json_object_put(j);
    return spec;
}
