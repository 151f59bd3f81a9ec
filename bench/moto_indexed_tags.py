#!/usr/bin/env python3
"""moto_server with one change, for the benchmark only (bench/run.sh's scale phase): a resource's
tags are looked up by its id instead of by scanning every tag of the region.

moto's TaggedEC2Resource.get_tags() calls describe_tags(filters={"resource-id": [id]}), which
walks every (resource, tag) of the account and region with a regular expression per entry. It
runs for every group a Describe renders or filters, so one DescribeSecurityGroups costs
O(groups x all tags): at 1,000 groups in a region a tag-filtered Describe takes tens of seconds,
and a cold start of N postures grows as N^3. The answers are the same (same dicts, same order:
the region's tag map keeps insertion order per resource); only the lookup is indexed. Usage is
moto.server's: moto_indexed_tags.py -H 127.0.0.1 -p PORT.
"""
import sys

from moto.ec2.models import core
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix


def get_tags(self):
    rid = getattr(self, "id", None)
    if not rid:
        return []
    rtype = EC2_PREFIX_TO_RESOURCE.get(get_prefix(rid), "")
    return [{"resource_id": rid, "key": k, "value": v, "resource_type": rtype}
            for k, v in self.ec2_backend.tags.get(rid, {}).items()]


core.TaggedEC2Resource.get_tags = get_tags

if __name__ == "__main__":
    from moto.server import main
    sys.exit(main(sys.argv[1:]))
