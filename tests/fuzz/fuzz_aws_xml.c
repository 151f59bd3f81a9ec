/*
 * libFuzzer target: every EC2, STS and SQS XML decoder of pkg/aws. The first byte chooses the
 * decoder, the rest is the response body. A decoder may refuse the input; it must not crash,
 * leak or leave an output half-owned.
 */
#include "aws/private/aws_private.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void list(const struct np_aws_xml_list *kind, const char *xml, size_t len)
{
    void *items = NULL;
    size_t n = 0;
    char *token = NULL;
    if (np_aws_xml_decode_list(kind, xml, len, &items, &n, &token) == 0) {
        kind->free_items(items, n);
        free(token);
    }
}

static void sg_page(const char *xml, size_t len)
{
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    char *token = NULL;
    if (np_aws_xml_decode_sg_page(xml, len, &sgs, &n, &token) == 0) {
        np_aws_sgs_free(sgs, n);
        free(token);
    }
}

static void three(int rc, char *a, char *b, char *c)
{
    (void)rc;
    free(a);
    free(b);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *xml = (const char *)data + 1;
    size_t len = size - 1;
    char *a = NULL, *b = NULL, *c = NULL;
    bool r = false, has = false;
    size_t n = 0;
    switch (data[0] % 15) {
    case 0: sg_page(xml, len); break;
    case 1: list(&np_aws_xml_vpcs, xml, len); break;
    case 2: list(&np_aws_xml_subnets, xml, len); break;
    case 3: list(&np_aws_xml_route_tables, xml, len); break;
    case 4: list(&np_aws_xml_nacls, xml, len); break;
    case 5: list(&np_aws_xml_flow_logs, xml, len); break;
    case 6: three(np_aws_xml_decode_error(xml, len, &a, &b, &c), a, b, c); break;
    case 7: three(np_aws_xml_decode_caller_identity(xml, len, &a, &b, &c), a, b, c); break;
    case 8: three(np_aws_xml_decode_create_sg(xml, len, &a), a, NULL, NULL); break;
    case 9:
        three(np_aws_xml_decode_value(xml, len, "CreateRouteTableResponse", "routeTable",
                                      "routeTableId", &a),
              a, NULL, NULL);
        break;
    case 10:
        three(np_aws_xml_decode_value(xml, len, "DescribeVpcAttributeResponse", "enableDnsSupport",
                                      "value", &a),
              a, NULL, NULL);
        break;
    case 11:
        np_aws_xml_decode_return(xml, len, "RevokeSecurityGroupIngressResponse", &r, &has, &n);
        break;
    case 12:
        three(
            np_aws_xml_decode_flow_logs_result(xml, len, "CreateFlowLogsResponse", &a, &n, &b, &c),
            a, b, c);
        break;
    case 13: {
        struct np_aws_sqs_message *msgs = NULL;
        if (np_aws_xml_decode_sqs_messages(xml, len, &msgs, &n) == 0)
            np_aws_sqs_messages_free(msgs, n);
        break;
    }
    default: three(np_aws_xml_decode_sqs_attribute(xml, len, "QueueArn", &a), a, NULL, NULL); break;
    }
    return 0;
}
