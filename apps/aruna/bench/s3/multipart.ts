// A 64 MiB object as a multipart upload (CreateMultipartUpload, 8 parts of 8 MiB with 4 in flight,
// CompleteMultipartUpload), interleaved over the servers like the other workloads. The ceiling has no
// multipart API: it takes the same 64 MiB as one streamed PUT, which is what it would store anyway.
import { randomBytes } from 'node:crypto'
import { Agent } from 'node:http'
import { quantile } from '../../../../scripts/bench-timing.mjs'
import { exchange, presign, send } from './client.ts'
import { type Server, serverCpuMs } from './processes.ts'
import { MiB } from './workloads.ts'

export const PART_BYTES = 8 * MiB
export const PARTS = 8
export const PARTS_IN_FLIGHT = 4

export interface MultipartResult {
  server: string
  /** `multipart` or, for the ceiling, `one PUT`. */
  how: string
  objects: number
  objPerS: number
  mibPerS: number
  p50: number
  serverCpuMsPerObject: number
}

async function multipartUpload(agent: Agent, server: Server, key: string, data: Buffer): Promise<void> {
  const created = await exchange(agent, 'POST', presign(server, 'POST', key, 0, { uploads: '' }))
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)?.[1]
  if (created.status !== 200 || uploadId === undefined)
    throw new Error(`${server.name} CreateMultipartUpload: ${created.status} ${created.body.slice(0, 300)}`)
  const etags: string[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: PARTS_IN_FLIGHT }, async () => {
      for (;;) {
        const part = next++
        if (part >= PARTS) return
        const url = presign(server, 'PUT', key, 0, { partNumber: String(part + 1), uploadId })
        const answer = await exchange(
          agent,
          'PUT',
          url,
          data.subarray(part * PART_BYTES, (part + 1) * PART_BYTES),
        )
        const etag = answer.headers.etag
        if (answer.status !== 200 || typeof etag !== 'string')
          throw new Error(
            `${server.name} UploadPart ${part + 1}: ${answer.status} ${answer.body.slice(0, 300)}`,
          )
        etags[part] = etag
      }
    }),
  )
  const xml = `<CompleteMultipartUpload>${etags
    .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
    .join('')}</CompleteMultipartUpload>`
  const done = await exchange(agent, 'POST', presign(server, 'POST', key, 0, { uploadId }), Buffer.from(xml))
  // S3 may answer 200 with an error document once it has started answering; both count as failure.
  if (done.status !== 200 || !done.body.includes('CompleteMultipartUploadResult'))
    throw new Error(`${server.name} CompleteMultipartUpload: ${done.status} ${done.body.slice(0, 300)}`)
}

export async function measureMultipart(servers: Server[], objects: number): Promise<MultipartResult[]> {
  const data = randomBytes(PARTS * PART_BYTES)
  const times = new Map<string, number[]>(servers.map((s) => [s.name, []]))
  const cpu = new Map<string, number>(servers.map((s) => [s.name, 0]))
  for (let round = 0; round < objects; round++) {
    for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
      const agent = new Agent({ keepAlive: true, maxSockets: PARTS_IN_FLIGHT })
      // Fresh bytes at every MiB (so at the front of every chunk, whatever its size), so that nothing
      // deduplicates between objects.
      for (let at = 0; at < data.length; at += MiB) randomBytes(8).copy(data, at)
      const key = `multipart/${round}`
      const cpu0 = await serverCpuMs(server)
      const t0 = performance.now()
      if (server.name === 'ceiling') await send(agent, 'PUT', presign(server, 'PUT', key), data)
      else await multipartUpload(agent, server, key, data)
      times.get(server.name)?.push(performance.now() - t0)
      cpu.set(server.name, (cpu.get(server.name) ?? 0) + (await serverCpuMs(server)) - cpu0)
      agent.destroy()
    }
  }
  return servers.map((server) => {
    const ms = (times.get(server.name) ?? []).sort((a, b) => a - b)
    const seconds = ms.reduce((sum, t) => sum + t, 0) / 1000
    return {
      server: server.name,
      how: server.name === 'ceiling' ? 'one PUT' : 'multipart',
      objects,
      objPerS: objects / seconds,
      mibPerS: (objects * PARTS * PART_BYTES) / MiB / seconds,
      p50: quantile(ms, 0.5),
      serverCpuMsPerObject: (cpu.get(server.name) ?? 0) / objects,
    }
  })
}
