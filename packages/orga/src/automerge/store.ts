/**
 * The real `OrgaStore`: the realm's organisation in Automerge documents, synced by automerge-repo to
 * every node. One realm document (the root; its URL is what a node needs to find everything else) lists
 * the group and user documents by id and URL; see `schema.ts` for the layout and `view.ts` for how
 * concurrent edits resolve.
 *
 * Each operation checks its input and the current view, makes its change to the documents in one
 * synchronous step (so concurrent calls on one replica are serialised), notifies listeners, then waits
 * until the Repo has written the changed documents to its storage adapter before it resolves.
 */

import { type UlidFactory, ulidFactory } from '@aruna/platform'
import { type AutomergeUrl, type DocHandle, isValidAutomergeUrl, type Repo } from '@automerge/automerge-repo'
import { OrgaError } from '../errors.js'
import type { OrgaStore } from '../port.js'
import { checkFactor } from '../replication.js'
import type {
  AccessKeyRecord,
  CreatedInvite,
  Group,
  GroupInit,
  InviteOptions,
  InviteRecord,
  JoiningNode,
  NodeInit,
  NodeRecord,
  OidcSubject,
  OrgaChange,
  OrgaChangeListener,
  QuotaConfig,
  QuotaUpdate,
  RealmInfo,
  Registration,
  ReplicationFactor,
  ReplicationFactors,
  ReplicationKind,
  ReplicationResult,
  ReplicationTarget,
  ReplicationUpdate,
  ReplicationWarning,
  RoleInit,
  RolePatch,
  RoleRecord,
  User,
  UserPatch,
  UserRegistration,
} from '../types.js'
import * as input from '../validation.js'
import * as accessKeys from './access-key-operations.js'
import { type ChangeTarget, diffViews } from './changes.js'
import { is, type OrgaEditContext, stored } from './context.js'
import { type DecodedRealm, decodeRealm } from './decode.js'
import * as directory from './directory-operations.js'
import { OrgaDocuments, type SyncStatus } from './documents.js'
import { emptyStoredQuota } from './quota-document.js'
import * as realm from './realm-operations.js'
import * as roles from './role-operations.js'
import { type GroupDoc, REALM_DOC_KIND, type RealmDoc, SCHEMA_VERSION, type UserDoc } from './schema.js'
import type { OrgaView } from './view.js'

export interface AutomergeOrgaStoreOptions {
  /** The Repo holding the documents: its storage adapter makes them durable, its network syncs them. */
  readonly repo: Repo
  /** The clock. Default: `Date.now`. */
  readonly now?: () => number
  /** Called when a change listener throws. Default: the error is dropped. */
  readonly onListenerError?: (err: unknown, change: OrgaChange) => void
  /** How long `open` waits for the realm document and the documents it lists. Default: 10 s. */
  readonly loadTimeoutMs?: number
  /** Whether `close` also disconnects the Repo's network (for a Repo made only for this store). */
  readonly closeRepo?: boolean
  /** Called last by `close`, after the documents are written (e.g. to close the storage adapter). */
  readonly onClose?: () => Promise<void>
}

/** What a new realm starts from (`aruna init`). */
export interface RealmGenesis {
  /** The realm id (its public key, base32/base64url). */
  readonly realmId: string
  /** Default: the realm id. */
  readonly realmName?: string
  /** Default replication factors. Default: 3 copies of data, metadata on every node. */
  readonly replication?: Partial<ReplicationFactors>
  /** Default: now. */
  readonly createdAt?: number
}

export interface OpenAutomergeOrgaStoreOptions extends AutomergeOrgaStoreOptions {
  /** The realm document's URL (`automerge:…`), from a local file or the invite. */
  readonly realmUrl: string
  /** When given, the realm document must be this realm's. */
  readonly realmId?: string
}

const DEFAULT_LOAD_TIMEOUT_MS = 10_000

export class AutomergeOrgaStore implements OrgaStore {
  readonly #repo: Repo
  readonly #docs: OrgaDocuments
  readonly #now: () => number
  readonly #nextId: UlidFactory
  readonly #onListenerError: (err: unknown, change: OrgaChange) => void
  readonly #closeRepo: boolean
  readonly #onClose: () => Promise<void>
  readonly #listeners = new Set<OrgaChangeListener>()
  #view: OrgaView
  readonly #ctx: OrgaEditContext
  #local = false
  #closed = false

  private constructor(options: AutomergeOrgaStoreOptions, handle: DocHandle<RealmDoc>, realm: DecodedRealm) {
    this.#repo = options.repo
    this.#now = options.now ?? Date.now
    this.#nextId = ulidFactory({ now: this.#now })
    this.#onListenerError = options.onListenerError ?? (() => {})
    this.#closeRepo = options.closeRepo ?? false
    this.#onClose = options.onClose ?? (async () => {})
    this.#docs = new OrgaDocuments(options.repo, handle, realm, () => {
      if (!this.#local) this.#refresh('remote')
    })
    this.#view = this.#docs.view()
    this.#ctx = this.#context()
  }

  /** Creates a new realm: its realm document, written to storage before this resolves. */
  static async create(options: AutomergeOrgaStoreOptions & RealmGenesis): Promise<AutomergeOrgaStore> {
    const realmId = input.requireRealmId(options.realmId)
    const replication = {
      data: checkFactor(options.replication?.data ?? 3, false) as ReplicationFactor,
      metadata: checkFactor(options.replication?.metadata ?? 'all', false) as ReplicationFactor,
    }
    const doc: RealmDoc = {
      kind: is(REALM_DOC_KIND),
      schema: SCHEMA_VERSION,
      realmId: is(realmId),
      name: is(input.requireName(options.realmName ?? realmId, 'realm name')),
      createdAt: options.createdAt ?? (options.now ?? Date.now)(),
      replication: {
        default: { data: stored(replication.data), metadata: stored(replication.metadata) },
        groups: { data: {}, metadata: {} },
        paths: { data: {}, metadata: {} },
      },
      nodes: {},
      invites: {},
      revokedTokens: {},
      groups: {},
      users: {},
      roles: {},
      accessKeys: {},
      revokedAccessKeys: {},
      quota: emptyStoredQuota(),
    }
    const handle = options.repo.create<RealmDoc>(doc)
    await options.repo.flush([handle.documentId])
    return new AutomergeOrgaStore(options, handle, decodeRealm(handle.doc(), realmId) as DecodedRealm)
  }

  /**
   * Opens a realm from its document's URL: from the Repo's storage, or from its peers (a joining node).
   * Waits (up to `loadTimeoutMs`) for the realm document, and for the documents it lists; those not
   * there by then keep loading and join the view when they arrive.
   * @throws `NotFound` when the realm document cannot be found in time; `InvalidInput` for a URL that
   *   is malformed or names a document that is not (this) realm's.
   */
  static async open(options: OpenAutomergeOrgaStoreOptions): Promise<AutomergeOrgaStore> {
    if (!isValidAutomergeUrl(options.realmUrl)) throw new OrgaError('InvalidInput', 'malformed realm URL')
    const expected = options.realmId === undefined ? undefined : input.requireRealmId(options.realmId)
    const timeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS
    const deadline = Date.now() + timeoutMs
    const handle = await options.repo.find<RealmDoc>(options.realmUrl, {
      allowableStates: ['ready', 'unavailable'],
    })
    if (!(await until(() => handle.isReady(), deadline))) {
      throw new OrgaError('NotFound', 'the realm document could not be found')
    }
    const realm = decodeRealm(handle.doc(), expected)
    if (realm === undefined) throw new OrgaError('InvalidInput', 'the document is not the realm document')
    const store = new AutomergeOrgaStore(options, handle, realm)
    await until(() => store.syncStatus().pending === 0, deadline)
    return store
  }

  /** The realm document's URL: the one thing another node needs to find the realm's documents. */
  get realmUrl(): AutomergeUrl {
    return this.#docs.realmHandle.url
  }

  /** Documents listed but not loaded yet, and the heads of every document held (for sync checks). */
  syncStatus(): SyncStatus {
    return this.#docs.status()
  }

  /** Resolves once every listed document is loaded, or with `false` after `timeoutMs`. */
  whenLoaded(timeoutMs = DEFAULT_LOAD_TIMEOUT_MS): Promise<boolean> {
    return until(() => this.syncStatus().pending === 0, Date.now() + timeoutMs)
  }

  /** Writes every document to storage and stops notifying; with `closeRepo`, disconnects the Repo. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#docs.close()
    this.#listeners.clear()
    const ready = Object.values(this.#repo.handles).filter((handle) => handle.isReady())
    const mine = new Set<string>(this.#docs.documentIds())
    const ids = ready.map((handle) => handle.documentId).filter((id) => this.#closeRepo || mine.has(id))
    await this.#repo.flush(ids)
    if (this.#closeRepo) this.#repo.networkSubsystem.disconnect()
    await this.#onClose()
  }

  // Plumbing -----------------------------------------------------------------------------------------

  #refresh(origin: OrgaChange['origin']): void {
    const next = this.#docs.view()
    const changes = diffViews(this.#view, next)
    this.#view = next
    this.#notify(changes, origin)
  }

  #notify(changes: readonly ChangeTarget[], origin: OrgaChange['origin']): void {
    for (const target of changes) {
      const change: OrgaChange = { ...target, origin }
      for (const listener of [...this.#listeners]) {
        try {
          listener(change)
        } catch (err) {
          this.#onListenerError(err, change)
        }
      }
    }
  }

  /** Makes a local change (synchronously), then tells listeners what it changed. */
  #edit(edit: () => void): void {
    this.#local = true
    try {
      edit()
    } finally {
      this.#local = false
      this.#refresh('local')
    }
  }

  /** Waits until the Repo's storage holds the given documents. */
  async #persist(...handles: DocHandle<unknown>[]): Promise<void> {
    await this.#repo.flush(handles.map((handle) => handle.documentId))
  }

  /** The store as the operations see it. */
  #context(): OrgaEditContext {
    const change = <T>(handle: DocHandle<T>, edit: (doc: T) => void): DocHandle<T> => {
      this.#edit(() => handle.change(edit))
      return handle
    }
    const store = this
    const context: OrgaEditContext = {
      get view() {
        return store.#view
      },
      now: () => this.#now(),
      nextId: () => this.#nextId(),
      changeRealm: (edit) => change(this.#docs.realmHandle, edit),
      changeGroup: (groupId, edit) => change(this.#docs.group(groupId)!, edit),
      changeUser: (userId, edit) => change(this.#docs.user(userId)!, edit),
      changeRole: (role, edit) =>
        role.groupId === undefined
          ? context.changeRealm((doc) => edit(doc.roles[role.record.id]!))
          : context.changeGroup(role.groupId, (doc) => edit(doc.roles[role.record.id]!)),
      createDocument: <T extends GroupDoc | UserDoc>(initial: T) => {
        const handle = this.#repo.create<T>(initial)
        this.#docs.adopt(handle as DocHandle<GroupDoc>)
        return handle
      },
      persist: (...handles) => this.#persist(...handles),
    }
    return context
  }

  // Realm --------------------------------------------------------------------------------------------

  getRealm(): Promise<RealmInfo> {
    return realm.getRealm(this.#ctx)
  }

  renameRealm(name: string): Promise<RealmInfo> {
    return realm.renameRealm(this.#ctx, name)
  }

  // Nodes --------------------------------------------------------------------------------------------

  addNode(node: NodeInit): Promise<NodeRecord> {
    return realm.addNode(this.#ctx, node)
  }

  updateNodeAddresses(peerId: string, addresses: readonly string[]): Promise<NodeRecord> {
    return realm.updateNodeAddresses(this.#ctx, peerId, addresses)
  }

  removeNode(peerId: string): Promise<void> {
    return realm.removeNode(this.#ctx, peerId)
  }

  getNode(peerId: string): Promise<NodeRecord> {
    return realm.getNode(this.#ctx, peerId)
  }

  listNodes(): Promise<NodeRecord[]> {
    return realm.listNodes(this.#ctx)
  }

  isMember(peerId: string): Promise<boolean> {
    return realm.isMember(this.#ctx, peerId)
  }

  // Invites ------------------------------------------------------------------------------------------

  createInvite(options: InviteOptions): Promise<CreatedInvite> {
    return realm.createInvite(this.#ctx, options)
  }

  listInvites(): Promise<InviteRecord[]> {
    return realm.listInvites(this.#ctx)
  }

  cancelInvite(inviteId: string): Promise<void> {
    return realm.cancelInvite(this.#ctx, inviteId)
  }

  redeemInvite(secret: string, node: JoiningNode): Promise<NodeRecord> {
    return realm.redeemInvite(this.#ctx, secret, node)
  }

  // Groups -------------------------------------------------------------------------------------------

  createGroup(init: GroupInit): Promise<Group> {
    return directory.createGroup(this.#ctx, init)
  }

  getGroup(groupId: string): Promise<Group> {
    return directory.getGroup(this.#ctx, groupId)
  }

  listGroups(options?: { readonly member?: string }): Promise<Group[]> {
    return directory.listGroups(this.#ctx, options)
  }

  renameGroup(groupId: string, name: string): Promise<Group> {
    return directory.renameGroup(this.#ctx, groupId, name)
  }

  deleteGroup(groupId: string): Promise<void> {
    return directory.deleteGroup(this.#ctx, groupId)
  }

  addMember(groupId: string, userId: string): Promise<Group> {
    return directory.addMember(this.#ctx, groupId, userId)
  }

  removeMember(groupId: string, userId: string): Promise<Group> {
    return directory.removeMember(this.#ctx, groupId, userId)
  }

  // Users --------------------------------------------------------------------------------------------

  registerUser(registration: UserRegistration): Promise<Registration> {
    return directory.registerUser(this.#ctx, registration)
  }

  getUser(userId: string): Promise<User> {
    return directory.getUser(this.#ctx, userId)
  }

  findUserByIdentity(identity: OidcSubject): Promise<User | undefined> {
    return directory.findUserByIdentity(this.#ctx, identity)
  }

  listUsers(): Promise<User[]> {
    return directory.listUsers(this.#ctx)
  }

  updateUser(userId: string, patch: UserPatch): Promise<User> {
    return directory.updateUser(this.#ctx, userId, patch)
  }

  addIdentity(userId: string, identity: OidcSubject): Promise<User> {
    return directory.addIdentity(this.#ctx, userId, identity)
  }

  // Roles --------------------------------------------------------------------------------------------

  createRole(init: RoleInit): Promise<RoleRecord> {
    return roles.createRole(this.#ctx, init)
  }

  getRole(roleId: string): Promise<RoleRecord> {
    return roles.getRole(this.#ctx, roleId)
  }

  listRoles(options?: { readonly group?: string }): Promise<RoleRecord[]> {
    return roles.listRoles(this.#ctx, options)
  }

  updateRole(roleId: string, patch: RolePatch): Promise<RoleRecord> {
    return roles.updateRole(this.#ctx, roleId, patch)
  }

  deleteRole(roleId: string): Promise<void> {
    return roles.deleteRole(this.#ctx, roleId)
  }

  assignRole(roleId: string, userId: string): Promise<RoleRecord> {
    return roles.assignRole(this.#ctx, roleId, userId)
  }

  revokeRole(roleId: string, userId: string): Promise<RoleRecord> {
    return roles.revokeRole(this.#ctx, roleId, userId)
  }

  rolesForUser(userId: string): Promise<RoleRecord[]> {
    return roles.rolesForUser(this.#ctx, userId)
  }

  // Revoked tokens -----------------------------------------------------------------------------------

  revokeToken(jti: string): Promise<void> {
    return realm.revokeToken(this.#ctx, jti)
  }

  isRevoked(jti: string): Promise<boolean> {
    return realm.isRevoked(this.#ctx, jti)
  }

  // Access keys --------------------------------------------------------------------------------------

  addAccessKey(record: AccessKeyRecord): Promise<AccessKeyRecord> {
    return accessKeys.addAccessKey(this.#ctx, record)
  }

  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return accessKeys.getAccessKey(this.#ctx, accessKeyId)
  }

  listAccessKeys(options?: { readonly user?: string }): Promise<AccessKeyRecord[]> {
    return accessKeys.listAccessKeys(this.#ctx, options)
  }

  revokeAccessKey(accessKeyId: string): Promise<void> {
    return accessKeys.revokeAccessKey(this.#ctx, accessKeyId)
  }

  // Config -------------------------------------------------------------------------------------------

  setReplication(target: ReplicationTarget, update: ReplicationUpdate): Promise<ReplicationResult> {
    return realm.setReplication(this.#ctx, target, update)
  }

  replicationFactor(kind: ReplicationKind, path: string): Promise<number> {
    return realm.replicationFactor(this.#ctx, kind, path)
  }

  replicationWarnings(): Promise<ReplicationWarning[]> {
    return realm.replicationWarnings(this.#ctx)
  }

  setQuota(update: QuotaUpdate): Promise<QuotaConfig> {
    return realm.setQuota(this.#ctx, update)
  }

  // Changes ------------------------------------------------------------------------------------------

  onChange(listener: OrgaChangeListener): () => void {
    // A wrapper per subscription, so subscribing one function twice gives two independent subscriptions.
    const entry: OrgaChangeListener = (change) => listener(change)
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }
}

/** Polls `check` until it holds (true) or the deadline passes (false). */
async function until(check: () => boolean, deadline: number): Promise<boolean> {
  for (;;) {
    if (check()) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
