/**
 * The documents one replica holds: the realm document (the root), and the group and user documents it
 * lists, found through the Repo (from storage, or from peers) as the realm document names them. A
 * listed document that is not loaded yet is simply absent from the view until it arrives.
 */

import {
  type AutomergeUrl,
  type DocHandle,
  type DocHandleEncodedChangePayload,
  isValidAutomergeUrl,
  type Repo,
} from '@automerge/automerge-repo'
import {
  DecodeCache,
  type DecodedGroup,
  type DecodedRealm,
  type DecodedUser,
  decodeGroup,
  decodeRealm,
  decodeUser,
} from './decode.js'
import type { GroupDoc, RealmDoc, UserDoc } from './schema.js'
import { assembleView, type OrgaView, ViewCache } from './view.js'

type ListedHandle = DocHandle<GroupDoc> | DocHandle<UserDoc>

interface Entry {
  /** Set once the document is ready. */
  handle: ListedHandle | undefined
  /** The document's latest state, kept from its change events (`handle.doc()` is not free). */
  doc: object | undefined
  listener: ((payload: DocHandleEncodedChangePayload<unknown>) => void) | undefined
}

/** How far this replica is: documents listed but not loaded, and the heads of each one it holds. */
export interface SyncStatus {
  readonly pending: number
  /** Document URL → its heads, for the realm document and every listed document that is loaded. */
  readonly heads: Readonly<Record<string, string>>
}

export class OrgaDocuments {
  readonly realmHandle: DocHandle<RealmDoc>
  readonly realmId: string
  readonly #repo: Repo
  readonly #onUpdate: () => void
  readonly #entries = new Map<string, Entry>()
  readonly #validUrls = new Map<string, boolean>()
  readonly #decoded = new WeakMap<object, DecodedRealm | DecodedGroup | DecodedUser | null>()
  readonly #decodeCache = new DecodeCache()
  readonly #viewCache = new ViewCache()
  #realmDoc: object
  #realm: DecodedRealm
  #closed = false

  /**
   * @param onUpdate called when a document changes or arrives; synchronously inside the change, so a
   *   caller that made the change knows it is its own.
   */
  constructor(repo: Repo, realmHandle: DocHandle<RealmDoc>, realm: DecodedRealm, onUpdate: () => void) {
    this.#repo = repo
    this.realmHandle = realmHandle
    this.realmId = realm.realmId
    this.#onUpdate = onUpdate
    this.#realm = realm
    this.#realmDoc = realmHandle.doc()
    realmHandle.on('heads-changed', this.#realmChanged)
  }

  /** Builds the view from the documents held now, and starts loading newly listed ones. */
  view(): OrgaView {
    this.#realm =
      this.#decode(this.#realmDoc, (doc) => decodeRealm(doc, this.realmId, this.#decodeCache)) ?? this.#realm
    const groups = new Map<string, DecodedGroup>()
    for (const [groupId, url] of this.#realm.groupUrls) {
      const group = this.#decode(this.#ready(url), (doc) =>
        decodeGroup(doc, groupId, this.realmId, this.#decodeCache),
      )
      if (group !== undefined) groups.set(groupId, group)
    }
    const users = new Map<string, DecodedUser>()
    for (const [userId, url] of this.#realm.userUrls) {
      const user = this.#decode(this.#ready(url), (doc) => decodeUser(doc, userId))
      if (user !== undefined) users.set(userId, user)
    }
    return assembleView(this.#realm, groups, users, this.#viewCache)
  }

  /** The listed group's document, when it is loaded. */
  group(groupId: string): DocHandle<GroupDoc> | undefined {
    return this.#handle(this.#realm.groupUrls.get(groupId)) as DocHandle<GroupDoc> | undefined
  }

  /** The listed user's document, when it is loaded. */
  user(userId: string): DocHandle<UserDoc> | undefined {
    return this.#handle(this.#realm.userUrls.get(userId)) as DocHandle<UserDoc> | undefined
  }

  /** Takes in a document this replica has just created (ready at once), before the realm lists it. */
  adopt(handle: ListedHandle): void {
    const entry: Entry = { handle: undefined, doc: undefined, listener: undefined }
    this.#entries.set(handle.url, entry)
    this.#attach(entry, handle)
  }

  status(): SyncStatus {
    let pending = 0
    const heads: Record<string, string> = { [this.realmHandle.url]: this.realmHandle.heads().join(',') }
    for (const url of this.#listed()) {
      const handle = this.#entries.get(url)?.handle
      if (handle === undefined) pending++
      else heads[url] = handle.heads().join(',')
    }
    return { pending, heads }
  }

  /** Document ids of the realm document and the listed, loaded ones. */
  documentIds(): string[] {
    const ids: string[] = [this.realmHandle.documentId]
    for (const url of this.#listed()) {
      const handle = this.#entries.get(url)?.handle
      if (handle !== undefined) ids.push(handle.documentId)
    }
    return ids
  }

  close(): void {
    this.#closed = true
    this.realmHandle.off('heads-changed', this.#realmChanged)
    for (const { handle, listener } of this.#entries.values()) {
      if (handle !== undefined && listener !== undefined) handle.off('heads-changed', listener)
    }
  }

  readonly #realmChanged = (payload: DocHandleEncodedChangePayload<RealmDoc>): void => {
    this.#realmDoc = payload.doc
    if (!this.#closed) this.#onUpdate()
  }

  #attach(entry: Entry, handle: ListedHandle): void {
    entry.handle = handle
    entry.doc = handle.doc() as object
    entry.listener = (payload) => {
      entry.doc = payload.doc as object
      if (!this.#closed) this.#onUpdate()
    }
    handle.on('heads-changed', entry.listener)
  }

  #handle(url: string | undefined): ListedHandle | undefined {
    return url === undefined ? undefined : this.#entries.get(url)?.handle
  }

  #valid(url: string): boolean {
    let valid = this.#validUrls.get(url)
    if (valid === undefined) {
      valid = isValidAutomergeUrl(url)
      this.#validUrls.set(url, valid)
    }
    return valid
  }

  #listed(): string[] {
    return [...this.#realm.groupUrls.values(), ...this.#realm.userUrls.values()].filter((url) =>
      this.#valid(url),
    )
  }

  #decode<T extends DecodedRealm | DecodedGroup | DecodedUser>(
    doc: object | undefined,
    decode: (doc: unknown) => T | undefined,
  ): T | undefined {
    if (doc === undefined) return undefined
    if (!this.#decoded.has(doc)) this.#decoded.set(doc, decode(doc) ?? null)
    return (this.#decoded.get(doc) as T | null) ?? undefined
  }

  /** The listed document's content when it is loaded; starts loading it the first time it is seen. */
  #ready(url: string): object | undefined {
    if (!this.#valid(url)) return undefined
    const entry = this.#entries.get(url)
    if (entry !== undefined) return entry.doc
    this.#load(url)
    return undefined
  }

  #load(url: string): void {
    const entry: Entry = { handle: undefined, doc: undefined, listener: undefined }
    this.#entries.set(url, entry)
    const attach = (handle: ListedHandle): void => {
      if (this.#closed || entry.handle !== undefined) return
      this.#attach(entry, handle)
      this.#onUpdate()
    }
    this.#repo
      .find<GroupDoc | UserDoc>(url as AutomergeUrl, { allowableStates: ['ready', 'unavailable'] })
      .then(
        (found) => {
          const handle = found as ListedHandle
          if (handle.isReady()) return attach(handle)
          // Nobody had it yet: it becomes ready when a peer sends it. The handle reports the new heads
          // just before it switches to ready, hence the check one microtask later.
          const wait = () =>
            queueMicrotask(() => {
              if (!handle.isReady()) return
              handle.off('heads-changed', wait)
              attach(handle)
            })
          handle.on('heads-changed', wait)
        },
        () => {
          // Deleted or refused by the Repo: it stays out of the view.
        },
      )
  }
}
