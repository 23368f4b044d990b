// s3rver, the most used Node S3 server, as a baseline of the S3 bench: a bucket `bench`, its default
// credentials (S3RVER / S3RVER). Prints its port.
import S3rver from 's3rver'

const directory = process.argv[2]
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: 'bench' }],
})
const { port } = await server.run()
console.log(JSON.stringify({ port }))
