/*
 * libFuzzer target: the CloudTrail / EventBridge event parser (np_aws_event_parse) over an SQS
 * message body. It may refuse the body; it must not crash or leak.
 */
#include "aws/aws.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct np_aws_event ev;
    if (np_aws_event_parse((const char *)data, size, &ev) == 0)
        np_aws_event_clean_up(&ev);
    return 0;
}
