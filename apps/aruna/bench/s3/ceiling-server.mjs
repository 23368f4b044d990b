// The ceiling of the S3 bench: the most any Node HTTP server can do on this disk for the same work. A
// PUT streams its body to a new file, fdatasyncs it and renames it into place (as a durable object
// store must); a GET streams the file back. No parsing, no auth, no index. Prints its port.
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, open, rename, stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

const dir = process.argv[2]
await mkdir(join(dir, 'objects'), { recursive: true })
let tmp = 0
const fileOf = (url) => join(dir, 'objects', Buffer.from(url).toString('base64url'))

const server = createServer(async (req, res) => {
  try {
    const path = fileOf(req.url ?? '/')
    if (req.method === 'PUT') {
      const partial = join(dir, `tmp-${process.pid}-${tmp++}`)
      await pipeline(req, createWriteStream(partial))
      const handle = await open(partial, 'r+')
      await handle.datasync()
      await handle.close()
      await rename(partial, path)
      res.writeHead(200, { etag: '"ceiling"' }).end()
    } else if (req.method === 'GET') {
      const { size } = await stat(path)
      res.writeHead(200, { 'content-length': size })
      await pipeline(createReadStream(path), res)
    } else res.writeHead(405).end()
  } catch (err) {
    if (!res.headersSent) res.writeHead(err?.code === 'ENOENT' ? 404 : 500)
    res.end()
  }
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })))
