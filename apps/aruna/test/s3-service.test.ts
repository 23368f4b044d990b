import { mkdtemp, rm, stat } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { chunksOnDisk } from '@aruna/data'
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfigText } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { ArunaNode } from '../src/node.js'
import { runCli } from '../src/program.js'

const logger = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
})

function clientFor(node: ArunaNode, secret?: string): S3Client {
  const dev = node.devCredentials
  if (!dev || !node.s3Url) throw new Error('the node has no development credentials')
  return new S3Client({
    endpoint: node.s3Url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: dev.accessKeyId, secretAccessKey: secret ?? dev.secretAccessKey },
  })
}

describe('the node S3 service', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-s3svc-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const config = (extra: object = {}) =>
    parseConfigText(
      JSON.stringify({ dataDir: dir, rest: { port: 0 }, s3: { port: 0 }, dev: { oidcPort: 0 }, ...extra }),
    )
  const fresh = { initIfMissing: { devLogin: true } }

  it('serves S3 with the printed development key, and keeps realm, key and objects across a restart', async () => {
    const first = new ArunaNode(config(), logger, fresh)
    await first.start()
    const realmId = first.status().realmId
    expect(realmId).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const dev = first.devCredentials
    await clientFor(first).send(new CreateBucketCommand({ Bucket: 'lab' }))
    await clientFor(first).send(
      new PutObjectCommand({ Bucket: 'lab', Key: 'run 1/é.txt', Body: 'measurements' }),
    )
    await first.stop()
    expect((await stat(join(dir, 'realm.key'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'node.key'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'operator.json'))).mode & 0o777).toBe(0o600)
    const nodeId = first.nodeId

    const second = new ArunaNode(config(), logger, fresh)
    await second.start()
    expect(second.status().realmId).toBe(realmId)
    expect(second.nodeId).toBe(nodeId)
    expect(second.devCredentials).toEqual(dev)
    const got = await clientFor(second).send(new GetObjectCommand({ Bucket: 'lab', Key: 'run 1/é.txt' }))
    expect(await got.Body?.transformToString()).toBe('measurements')
    const buckets = await clientFor(second).send(new ListBucketsCommand({}))
    expect(buckets.Buckets?.map((b) => b.Name)).toEqual(['lab'])
    await expect(clientFor(second, 'z'.repeat(40)).send(new ListBucketsCommand({}))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    })
    await second.stop()
  })

  it('keeps a small object in the small-chunk database, or in a file with data.smallChunkBytes 0', async () => {
    const node = new ArunaNode(config(), logger, fresh)
    await node.start()
    const s3 = clientFor(node)
    await s3.send(new CreateBucketCommand({ Bucket: 'small' }))
    await s3.send(new PutObjectCommand({ Bucket: 'small', Key: 'a', Body: 'in the database' }))
    s3.destroy()
    await node.stop()
    const chunksDir = join(dir, 'chunks')
    const [inDatabase] = [...(await chunksOnDisk(chunksDir, { index: join(dir, 'index') })).keys()]
    expect(inDatabase).toBeDefined()
    await expect(
      stat(join(chunksDir, 'chunks', (inDatabase as string).slice(-3, -1), inDatabase as string)),
    ).rejects.toMatchObject({ code: 'ENOENT' })

    const files = new ArunaNode(config({ data: { smallChunkBytes: 0 } }), logger, fresh)
    await files.start()
    const again = clientFor(files)
    await again.send(new PutObjectCommand({ Bucket: 'small', Key: 'b', Body: 'in a file' }))
    // The object stored before the change is still read from the database.
    const got = await again.send(new GetObjectCommand({ Bucket: 'small', Key: 'a' }))
    expect(await got.Body?.transformToString()).toBe('in the database')
    again.destroy()
    await files.stop()
    const inFile = [...(await chunksOnDisk(chunksDir, { index: join(dir, 'index') })).keys()].find(
      (cid) => cid !== inDatabase,
    ) as string
    expect((await stat(join(chunksDir, 'chunks', inFile.slice(-3, -1), inFile))).size).toBe(
      'in a file'.length,
    )
  })

  it('frees the chunks of deleted objects with aruna gc, and counts them in /metrics', async () => {
    const node = new ArunaNode(config(), logger, fresh)
    await node.start()
    try {
      const s3 = clientFor(node)
      await s3.send(new CreateBucketCommand({ Bucket: 'scratch' }))
      const body = 'x'.repeat(100_000)
      await s3.send(new PutObjectCommand({ Bucket: 'scratch', Key: 'a', Body: body }))
      // A new bucket is unversioned: the delete removes the only version, its chunk is garbage.
      await s3.send(new DeleteObjectCommand({ Bucket: 'scratch', Key: 'a' }))
      s3.destroy()
      const out = new PassThrough()
      let text = ''
      out.on('data', (d) => {
        text += d.toString()
      })
      const io = {
        stdout: out,
        stderr: new PassThrough(),
        env: {},
        stopSignal: new Promise<string>(() => {}),
      }
      expect(await runCli(['gc', '--data-dir', dir, '--json'], io)).toBe(0)
      const result = JSON.parse(text) as { chunksFreed: number; bytesFreed: number }
      expect(result.chunksFreed).toBeGreaterThanOrEqual(1)
      expect(result.bytesFreed).toBeGreaterThanOrEqual(100_000)
      const metrics = await (await fetch(`${node.restUrl}/metrics`)).text()
      expect(metrics).toMatch(/^aruna_gc_runs_total 1$/m)
      expect(Number(/^aruna_gc_bytes_freed_total (\d+)$/m.exec(metrics)?.[1])).toBe(result.bytesFreed)
      // Without the right, a caller is refused.
      const other = await node.federation?.store.registerUser({
        issuer: 'https://idp.example',
        subject: 'x',
        displayName: 'X',
      })
      const token = await node.mintToken(other?.user.id ?? '')
      const refused = await fetch(`${node.restUrl}/v1/gc`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
      expect(refused.status).toBe(403)
    } finally {
      await node.stop()
    }
  })

  it('writes an access log line per S3 request, with the request id of the answer and no secret', async () => {
    let text = ''
    const captured = createLogger({
      level: 'info',
      format: 'json',
      destination: new Writable({
        write: (chunk, _e, cb) => {
          text += chunk.toString()
          cb()
        },
      }),
    })
    const node = new ArunaNode(config(), captured, fresh)
    await node.start()
    try {
      const s3 = clientFor(node)
      await s3.send(new CreateBucketCommand({ Bucket: 'logged' }))
      await s3.send(new PutObjectCommand({ Bucket: 'logged', Key: 'dir/a.txt', Body: 'hello' }))
      const missing = await s3
        .send(new GetObjectCommand({ Bucket: 'logged', Key: 'nothing' }))
        .catch((err: { $metadata: { requestId?: string } }) => err)
      s3.destroy()
      const lines = text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === 'S3 request')
      expect(lines.map((line) => line.operation)).toEqual(['CreateBucket', 'PutObject', 'GetObject'])
      expect(lines[1]).toMatchObject({
        method: 'PUT',
        bucket: 'logged',
        key: 'dir/a.txt',
        status: 200,
        bytesIn: expect.any(Number),
        bytesOut: 0,
        durationMs: expect.any(Number),
        requestId: expect.stringMatching(/^[0-9A-F]{16}$/),
      })
      expect(lines[2]).toMatchObject({
        status: 404,
        error: 'NoSuchKey',
        requestId: (missing as { $metadata: { requestId?: string } }).$metadata.requestId,
      })
      // (The node prints the development key at start on purpose; the S3 lines carry no secret.)
      const logged = JSON.stringify(lines)
      expect(logged).not.toContain(node.devCredentials!.secretAccessKey)
      expect(logged).not.toContain(node.devCredentials!.accessKeyId)
      expect(logged).not.toContain('Signature')
    } finally {
      await node.stop()
    }
  })

  it('closes the connection after refusing an upload whose large body it did not read, the answer whole', async () => {
    const node = new ArunaNode(config(), logger, fresh)
    await node.start()
    try {
      const url = new URL(node.s3Url!)
      const answer = await new Promise<{ head: string; body: string; error?: string }>((resolve) => {
        const socket = connect(Number(url.port), url.hostname)
        let received = Buffer.alloc(0)
        let error: string | undefined
        socket.on('data', (data) => {
          received = Buffer.concat([received, data])
        })
        socket.on('error', (err: NodeJS.ErrnoException) => {
          error = err.code
        })
        socket.on('close', () => {
          const text = received.toString('latin1')
          const end = text.indexOf('\r\n\r\n')
          resolve({ head: text.slice(0, end), body: text.slice(end + 4), ...(error ? { error } : {}) })
        })
        socket.write(
          'PUT /nowhere/big HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n' +
            'authorization: AWS4-HMAC-SHA256 Credential=AKIDNOBODY/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\n' +
            `x-amz-date: 20250101T000000Z\r\ncontent-length: ${64 * 1024 * 1024}\r\n\r\n`,
        )
        socket.write(Buffer.alloc(1024 * 1024, 1))
      })
      expect(answer.head).toMatch(/^HTTP\/1\.1 (400|403) /)
      expect(answer.head.toLowerCase()).toContain('connection: close')
      const length = Number(/content-length: (\d+)/i.exec(answer.head)?.[1])
      expect(Buffer.byteLength(answer.body, 'latin1')).toBe(length)
      expect(answer.body).toContain('<Error><Code>')
    } finally {
      await node.stop()
    }
  })

  it('lists only what the caller may read: a DENY on private/ hides those keys in every listing', async () => {
    const node = new ArunaNode(config(), logger, fresh)
    await node.start()
    try {
      const admin = clientFor(node)
      await admin.send(new CreateBucketCommand({ Bucket: 'shared' }))
      for (const key of ['a.txt', 'private/secret.txt', 'private/deep/x', 'public/b.txt']) {
        await admin.send(new PutObjectCommand({ Bucket: 'shared', Key: key, Body: key }))
      }
      admin.destroy()
      const store = node.federation?.store
      const realm = node.realm?.realmId ?? ''
      if (!store) throw new Error('not running')
      const group = (await store.listGroups()).find((g) => g.name === 'default')?.id ?? ''
      const { user } = await store.registerUser({
        issuer: 'https://idp.example',
        subject: 'r',
        displayName: 'R',
      })
      const role = await store.createRole({
        name: 'shared-readers',
        rules: [
          { pattern: `/${realm}/g/${group}/data/shared/**`, permission: 'READ' },
          { pattern: `/${realm}/g/${group}/data/shared/private/**`, permission: 'DENY' },
        ],
      })
      await store.assignRole(role.id, user.id)
      const token = await node.mintToken(user.id)
      const made = await fetch(`${node.restUrl}/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      })
      const key = (await made.json()) as { accessKeyId: string; secretAccessKey: string }
      const reader = new S3Client({
        endpoint: node.s3Url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: key,
      })
      const flat = await reader.send(new ListObjectsV2Command({ Bucket: 'shared', MaxKeys: 1000 }))
      expect(flat.Contents?.map((o) => o.Key)).toEqual(['a.txt', 'public/b.txt'])
      const byDir = await reader.send(new ListObjectsV2Command({ Bucket: 'shared', Delimiter: '/' }))
      expect(byDir.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['public/'])
      const paged = await reader.send(new ListObjectsV2Command({ Bucket: 'shared', MaxKeys: 1 }))
      expect(JSON.stringify(paged)).not.toContain('private')
      reader.destroy()
    } finally {
      await node.stop()
    }
  })

  it('has no development user when the development login is off', async () => {
    const node = new ArunaNode(config({ dev: { login: false, oidcPort: 0 } }), logger, fresh)
    await node.start()
    expect(node.devCredentials).toBeUndefined()
    const anonymous = await fetch(`${node.s3Url}/`)
    expect(anonymous.status).toBe(403)
    await node.stop()
  })

  it('releases the S3 port and the index when the REST port cannot be bound', async () => {
    const blocker = new ArunaNode(config(), logger, fresh)
    await blocker.start()
    const restPort = Number(new URL(blocker.restUrl as string).port)
    const other = await mkdtemp(join(tmpdir(), 'aruna-s3svc-other-'))
    const failing = new ArunaNode(
      parseConfigText(
        JSON.stringify({ dataDir: other, rest: { port: restPort }, s3: { port: 0 }, dev: { oidcPort: 0 } }),
      ),
      logger,
      fresh,
    )
    await expect(failing.start()).rejects.toThrow('already in use')
    // The index was closed: a new node opens the same directory at once.
    const again = new ArunaNode(
      parseConfigText(
        JSON.stringify({ dataDir: other, rest: { port: 0 }, s3: { port: 0 }, dev: { oidcPort: 0 } }),
      ),
      logger,
      fresh,
    )
    await again.start()
    await again.stop()
    await blocker.stop()
    await rm(other, { recursive: true, force: true })
  })
})
