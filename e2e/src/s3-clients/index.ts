/** The S3 clients of the matrix, in the order the scenario runs them. */

import { awsCli } from './aws-cli.js'
import { sdkDefaultChecksums, sdkWhenRequired } from './aws-sdk.js'
import { boto3 } from './boto3.js'
import { minioJs } from './minio.js'
import { rclone } from './rclone.js'
import { s3cmd } from './s3cmd.js'
import type { ClientSpec } from './types.js'

export const CLIENTS: readonly ClientSpec[] = [
  sdkDefaultChecksums,
  sdkWhenRequired,
  minioJs,
  s3cmd,
  awsCli,
  rclone,
  boto3,
]

export {
  checkFraming,
  describeSdkError,
  isNotFound,
  listVersions,
  type PayloadFraming,
  recordPayloadFraming,
  sdkClient,
} from './aws-sdk.js'
export * from './data.js'
export { MissingToolError, TOOLS, tool } from './tools.js'
export type * from './types.js'
export { isGap } from './types.js'
