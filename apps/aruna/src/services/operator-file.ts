/**
 * The operator's credential on this machine: `{dataDir}/operator.json` (mode 0600) holds a realm token
 * for the user who operates this node (the realm's first administrator, or the admin whose invite the
 * node joined with) and the node's REST URL. The node mints it at start and renews it; the CLI reads it
 * so `aruna invite`, `aruna node …` and `aruna keys …` work for whoever can read the data directory —
 * who holds the node's key anyway.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurably } from '@aruna/platform'
import { z } from 'zod'

export const OPERATOR_FILE = 'operator.json'

const OperatorSchema = z.object({
  url: z.string(),
  token: z.string().min(1),
  userId: z.string().min(1),
  expiresAt: z.string(),
})

export type OperatorFile = z.infer<typeof OperatorSchema>

export async function writeOperatorFile(dataDir: string, file: OperatorFile): Promise<void> {
  await writeFileDurably(join(dataDir, OPERATOR_FILE), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
}

/** The operator credential of `dataDir`, or `undefined` when there is none (or it cannot be read). */
export async function readOperatorFile(dataDir: string): Promise<OperatorFile | undefined> {
  try {
    const parsed = OperatorSchema.safeParse(JSON.parse(await readFile(join(dataDir, OPERATOR_FILE), 'utf8')))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
