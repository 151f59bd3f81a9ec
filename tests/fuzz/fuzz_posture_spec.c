/*
 * libFuzzer target: the custom resource spec parsers of pkg/posture. The first byte chooses
 * SecurityGroupPosture, VPCPosture or PostureGuardrail; the rest is the spec as JSON text.
 */
#include "posture/posture.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 20))
        return 0;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return 0;
    json_object *spec = json_tokener_parse_ex(tok, (const char *)data + 1, (int)(size - 1));
    json_tokener_free(tok);
    if (!spec)
        return 0;
    switch (data[0] % 3) {
    case 0: {
        struct np_posture_sg_spec *s = NULL;
        if (np_posture_sg_spec_parse(&s, spec) == 0)
            np_posture_sg_spec_destroy(s);
        break;
    }
    case 1: {
        struct np_posture_vpc_spec *s = NULL;
        if (np_posture_vpc_spec_parse(&s, spec) == 0)
            np_posture_vpc_spec_destroy(s);
        break;
    }
    default: {
        struct np_posture_guardrail *g = NULL;
        if (np_posture_guardrail_parse(&g, "fuzz", spec) == 0)
            np_posture_guardrail_destroy(g);
        break;
    }
    }
    json_object_put(spec);
    return 0;
}
