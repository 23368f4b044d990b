/**
 * What a node knows of its realm membership, in `{dataDir}/realm.json`: which realm, how this node got
 * into it (created it, or joined with an invite), its delegation, where its peers were last seen, and
 * who operates it. Written durably (temp file, fsync, rename, directory fsync) and read with a schema:
 * a hand-edited or truncated file is a clear error, never a crash.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurably } from '@aruna/platform'
import { z } from 'zod'

export const REALM_FILE = 'realm.json'

const RealmFileSchema = z
  .object({
    version: z.literal(1),
    realmId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
    realmName: z.string().min(1).max(200),
    /** The realm document's automerge URL: the root of the organisation documents. */
    realmUrl: z.string().startsWith('automerge:'),
    /**
     * The metadata catalog's automerge URL: the root of the realm's RO-Crate documents. Created with the
     * realm, handed to joining nodes. Absent in realms made before metadata ran on the node: a management
     * node then creates it at start.
     */
    metadataUrl: z.string().startsWith('automerge:').optional(),
    /** `management`: holds the realm key and admits nodes; `server`: holds a delegation only. */
    kind: z.enum(['management', 'server']),
    /** The realm's signature over this node's key (a compact JWS). */
    delegation: z.string().min(1).max(4096),
    /** The user this node's operator acts as on the command line (`operator.json`). */
    operator: z.string().min(1).max(64),
    /** Whether this node runs the built-in development login (only for a realm created by `start`). */
    devLogin: z.boolean(),
    /** Multiaddrs (with /p2p/) of realm nodes to dial at start, refreshed from the node list. */
    bootstrap: z.array(z.string().startsWith('/')).max(256),
    /** The addresses the node listened on last time, reused when the configuration names none. */
    listen: z.array(z.string().startsWith('/')).max(32),
    createdAt: z.string(),
  })
  .strict()

export type RealmFile = z.infer<typeof RealmFileSchema>

export class RealmFileError extends Error {
  override readonly name = 'RealmFileError'
}

/** The realm file of `dataDir`, or `undefined` when the node has not created or joined a realm. */
export async function readRealmFile(dataDir: string): Promise<RealmFile | undefined> {
  const path = join(dataDir, REALM_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new RealmFileError(`${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new RealmFileError(
      `${path} is not valid JSON; restore it from a backup or remove the data directory`,
    )
  }
  const result = RealmFileSchema.safeParse(parsed)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new RealmFileError(
      `${path} is damaged: ${issue ? `${issue.path.join('.') || '(root)'} ${issue.message}` : 'invalid'}`,
    )
  }
  return result.data
}

export async function writeRealmFile(dataDir: string, file: RealmFile): Promise<void> {
  const checked = RealmFileSchema.parse(file)
  await writeFileDurably(join(dataDir, REALM_FILE), `${JSON.stringify(checked, null, 2)}\n`)
}
