/**
 * @aruna/platform: the infrastructure every Aruna package stands on and none of them owns — durable
 * file writes (temp file, fsync, rename or no-clobber link, directory fsync), the crash-safe Automerge
 * storage adapter `FsyncStorageAdapter`, and ULIDs. It depends on no other Aruna package, so `auth`
 * and `network` can use it too; a piece lives here once instead of once per package.
 */

export {
  type DurableWriteOptions,
  isFileExistsError,
  openTempDirectory,
  placeFileDurably,
  syncDirectory,
  writeFileDurably,
  writeSyncedFile,
} from './durable-file.js'
export {
  CorruptChunkError,
  FsyncStorageAdapter,
  type FsyncStorageAdapterInit,
} from './fsync-storage-adapter.js'
export { isUlid, type UlidFactory, type UlidFactoryOptions, ulidFactory, ulidTime } from './ulid.js'
