/**
 * Storage quotas at the edge: the engine asks before a write stores its bytes (and again before it
 * records the version), and this refuses a write that would take the bucket's group past its quota
 * plus the grace percentage, with S3's 403 `QuotaExceeded` naming the group, its usage and its quota.
 * Crossing the warning threshold is logged (once per group until usage falls below it again) and shows
 * in `/v1/usage` and `/metrics`.
 *
 * Usage comes from `GroupUsage` (this node's count of the realm's key index); the quota configuration
 * from the realm document (orga), read again at most once a second. Two nodes taking writes for one
 * group at the same moment each check against the usage they know, so a group can overshoot by the
 * writes in flight between them until the records cross (milliseconds while the nodes are connected;
 * a partition lets each side overshoot by what it accepts until it heals).
 */
import { DataError, type ObjectIndex } from '@aruna/data'
import { groupQuota, type QuotaConfig } from '@aruna/orga'
import type { Logger } from '../logger.js'
import type { GroupUsage, UsageFigures } from './group-usage.js'

const CONFIG_TTL_MS = 1000

export interface QuotaAdmissionInit {
  readonly usage: GroupUsage
  /** The engine's index (to find a bucket's group when the counts do not know it yet). */
  readonly index: () => ObjectIndex
  /** The realm's quota configuration. */
  quotaConfig(): Promise<QuotaConfig>
  /** A group's name for messages (its id when unknown). */
  groupName(groupId: string): Promise<string>
  readonly logger: Logger
}

/** A group's usage next to its quota (REST, metrics). */
export interface GroupQuotaStatus extends UsageFigures {
  readonly group: string
  readonly quotaBytes?: number
  readonly quotaObjects?: number
  readonly gracePercent: number
  readonly warnPercent: number
  /** At or above the warning threshold of either quota. */
  readonly warning: boolean
}

export class QuotaAdmission {
  readonly #init: QuotaAdmissionInit
  #config: { value: QuotaConfig; at: number } | undefined
  readonly #warned = new Set<string>()

  constructor(init: QuotaAdmissionInit) {
    this.#init = init
  }

  async #quotaConfig(): Promise<QuotaConfig> {
    const cached = this.#config
    if (cached !== undefined && Date.now() - cached.at < CONFIG_TTL_MS) return cached.value
    const value = await this.#init.quotaConfig()
    this.#config = { value, at: Date.now() }
    return value
  }

  async admit(write: {
    readonly bucket: string
    readonly key: string
    readonly size: number
  }): Promise<void> {
    const group =
      this.#init.usage.groupOf(write.bucket) ?? (await this.#init.index().getBucket(write.bucket)).group
    const status = this.#statusOf(group, await this.#quotaConfig())
    const grace = 1 + status.gracePercent / 100
    const bytes = status.bytes + write.size
    const objects = status.objects + 1
    if (status.quotaBytes !== undefined && bytes > status.quotaBytes * grace) {
      const name = await this.#init.groupName(group)
      throw new DataError(
        'QuotaExceeded',
        `group ${name} would store ${bytes} bytes, over its quota of ${status.quotaBytes} bytes${status.gracePercent > 0 ? ` (+${status.gracePercent}% grace)` : ''}; it stores ${status.bytes} bytes in ${status.objects} object versions`,
      )
    }
    if (status.quotaObjects !== undefined && objects > status.quotaObjects * grace) {
      const name = await this.#init.groupName(group)
      throw new DataError(
        'QuotaExceeded',
        `group ${name} would store ${objects} object versions, over its quota of ${status.quotaObjects}${status.gracePercent > 0 ? ` (+${status.gracePercent}% grace)` : ''}`,
      )
    }
    this.#warnIfNear(group, bytes, objects, status)
  }

  #warnIfNear(group: string, bytes: number, objects: number, status: GroupQuotaStatus): void {
    const threshold = status.warnPercent / 100
    const near =
      (status.quotaBytes !== undefined && bytes >= status.quotaBytes * threshold) ||
      (status.quotaObjects !== undefined && objects >= status.quotaObjects * threshold)
    if (!near) {
      this.#warned.delete(group)
      return
    }
    if (this.#warned.has(group)) return
    this.#warned.add(group)
    this.#init.logger.warn(
      { group, bytes, objects, quotaBytes: status.quotaBytes, quotaObjects: status.quotaObjects },
      `group ${group} has reached ${status.warnPercent}% of its storage quota`,
    )
  }

  #statusOf(group: string, config: QuotaConfig): GroupQuotaStatus {
    const quota = groupQuota(config, group)
    const used = this.#init.usage.ofGroup(group)
    const threshold = quota.warnPercent / 100
    return {
      group,
      ...used,
      ...(quota.bytes === undefined ? {} : { quotaBytes: quota.bytes }),
      ...(quota.objects === undefined ? {} : { quotaObjects: quota.objects }),
      gracePercent: quota.gracePercent,
      warnPercent: quota.warnPercent,
      warning:
        (quota.bytes !== undefined && used.bytes >= quota.bytes * threshold) ||
        (quota.objects !== undefined && used.objects >= quota.objects * threshold),
    }
  }

  /** Usage and quota of each of `groups` (every group with buckets when absent). */
  async status(groups?: readonly string[]): Promise<GroupQuotaStatus[]> {
    const config = await this.#quotaConfig()
    const ids = groups ?? [...this.#init.usage.byGroup().keys()]
    return [...ids].sort().map((group) => this.#statusOf(group, config))
  }
}
