#!/usr/bin/env python3
"""One S3 operation with boto3, for the e2e client matrix.

Reads a JSON request on stdin: {"endpoint", "accessKeyId", "secretAccessKey", "region", "partSize",
"op", "args"}; prints the result as JSON on stdout. A failure prints {"error": {...}} (the S3 error code,
message, HTTP status and request id) and exits 1. Path-style addressing, no retries, bounded timeouts.
"""
import json
import os
import sys

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError


def client(req):
    return boto3.client(
        "s3",
        endpoint_url=req["endpoint"],
        aws_access_key_id=req["accessKeyId"],
        aws_secret_access_key=req["secretAccessKey"],
        region_name=req["region"],
        config=Config(
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": 1},
            connect_timeout=10,
            read_timeout=120,
        ),
    )


def transfer_config(req):
    part = req["partSize"]
    # Multipart above one part; 16 MiB parts; two threads on a 2-core machine.
    return TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=2)


def op_create_bucket(s3, req, a):
    s3.create_bucket(Bucket=a["bucket"])
    return {}


def op_list_buckets(s3, req, a):
    return {"buckets": [b["Name"] for b in s3.list_buckets().get("Buckets", [])]}


def op_put_object(s3, req, a):
    with open(a["file"], "rb") as body:
        out = s3.put_object(Bucket=a["bucket"], Key=a["key"], Body=body)
    return {"etag": out.get("ETag")}


def op_upload_file(s3, req, a):
    s3.upload_file(a["file"], a["bucket"], a["key"], Config=transfer_config(req))
    return {}


def op_put_tree(s3, req, a):
    for rel in a["paths"]:
        with open(os.path.join(a["dir"], rel), "rb") as body:
            s3.put_object(Bucket=a["bucket"], Key=a["prefix"] + rel, Body=body)
    return {}


def op_download_file(s3, req, a):
    s3.download_file(a["bucket"], a["key"], a["dest"], Config=transfer_config(req))
    return {}


def op_get_range(s3, req, a):
    rng = "bytes=%d-%s" % (a["start"], "" if a.get("end") is None else str(a["end"]))
    out = s3.get_object(Bucket=a["bucket"], Key=a["key"], Range=rng)
    with open(a["dest"], "wb") as f:
        for chunk in out["Body"].iter_chunks(1 << 20):
            f.write(chunk)
    return {"contentRange": out.get("ContentRange"), "status": out["ResponseMetadata"]["HTTPStatusCode"]}


def op_list(s3, req, a):
    keys, prefixes, pages = [], [], 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(
        Bucket=a["bucket"], Prefix=a["prefix"], Delimiter="/", PaginationConfig={"PageSize": a["pageSize"]}
    ):
        pages += 1
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return {"keys": keys, "prefixes": prefixes, "pages": pages}


def op_copy(s3, req, a):
    s3.copy_object(Bucket=a["bucket"], Key=a["dest"], CopySource={"Bucket": a["bucket"], "Key": a["source"]})
    return {}


def op_head(s3, req, a):
    try:
        out = s3.head_object(Bucket=a["bucket"], Key=a["key"])
    except ClientError as e:
        if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return {"found": False}
        raise
    return {"found": True, "size": out["ContentLength"], "etag": out["ETag"]}


def op_delete(s3, req, a):
    s3.delete_object(Bucket=a["bucket"], Key=a["key"])
    return {}


def op_delete_all(s3, req, a):
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=a["bucket"]):
        objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if not objects:
            continue
        out = s3.delete_objects(Bucket=a["bucket"], Delete={"Objects": objects})
        if out.get("Errors"):
            raise RuntimeError("DeleteObjects reported errors: %r" % out["Errors"])
        deleted += len(out.get("Deleted", []))
    return {"deleted": deleted}


def op_delete_bucket(s3, req, a):
    s3.delete_bucket(Bucket=a["bucket"])
    return {}


def op_enable_versioning(s3, req, a):
    s3.put_bucket_versioning(Bucket=a["bucket"], VersioningConfiguration={"Status": "Enabled"})
    return {"status": s3.get_bucket_versioning(Bucket=a["bucket"]).get("Status", "")}


def op_list_versions(s3, req, a):
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=a["bucket"], Prefix=a["prefix"]):
        for v in page.get("Versions", []):
            found.append(
                {
                    "key": v["Key"],
                    "versionId": v["VersionId"],
                    "lastModified": v["LastModified"].isoformat(),
                    "isLatest": v["IsLatest"],
                    "deleteMarker": False,
                    "size": v["Size"],
                }
            )
        for m in page.get("DeleteMarkers", []):
            found.append(
                {
                    "key": m["Key"],
                    "versionId": m["VersionId"],
                    "lastModified": m["LastModified"].isoformat(),
                    "isLatest": m["IsLatest"],
                    "deleteMarker": True,
                    "size": 0,
                }
            )
    return {"entries": found}


def op_get_version(s3, req, a):
    out = s3.get_object(Bucket=a["bucket"], Key=a["key"], VersionId=a["versionId"])
    with open(a["dest"], "wb") as f:
        for chunk in out["Body"].iter_chunks(1 << 20):
            f.write(chunk)
    return {"versionId": out.get("VersionId")}


def op_delete_version(s3, req, a):
    out = s3.delete_object(Bucket=a["bucket"], Key=a["key"], VersionId=a["versionId"])
    return {"versionId": out.get("VersionId"), "deleteMarker": out.get("DeleteMarker", False)}


def op_delete_versions(s3, req, a):
    objects = [{"Key": v["key"], "VersionId": v["versionId"]} for v in a["versions"]]
    out = s3.delete_objects(Bucket=a["bucket"], Delete={"Objects": objects})
    if out.get("Errors"):
        raise RuntimeError("DeleteObjects reported errors: %r" % out["Errors"])
    return {"deleted": [{"key": d["Key"], "versionId": d.get("VersionId")} for d in out.get("Deleted", [])]}


def main():
    req = json.load(sys.stdin)
    op = globals().get("op_" + req["op"])
    if op is None:
        print(json.dumps({"error": {"code": "UnknownOp", "message": req["op"]}}))
        return 2
    try:
        result = op(client(req), req, req.get("args", {}))
    except ClientError as e:
        meta = e.response.get("ResponseMetadata", {})
        err = e.response.get("Error", {})
        print(
            json.dumps(
                {
                    "error": {
                        "code": err.get("Code"),
                        "message": err.get("Message") or str(e),
                        "status": meta.get("HTTPStatusCode"),
                        "requestId": meta.get("RequestId"),
                        "operation": e.operation_name,
                    }
                }
            )
        )
        return 1
    except Exception as e:  # noqa: BLE001 - every failure is reported as JSON
        print(json.dumps({"error": {"code": type(e).__name__, "message": str(e)}}))
        return 1
    result["versions"] = {"boto3": boto3.__version__, "botocore": botocore.__version__}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
