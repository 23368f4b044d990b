import {
  type Access,
  AuthError,
  type Authorizer,
  defineRole,
  MemoryRoleSource,
  PathAuthorizer,
  type Permission,
  type Principal,
} from '@aruna/auth'
import { Repo } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AutomergeMetadataStore,
  type ChangeEvent,
  type ChangeListener,
  findEntity,
  type ListOptions,
  MemoryMetadataStore,
  MetadataError,
  MetadataService,
  type MetadataStore,
  type ObjectLink,
  type Page,
  type ResourceRef,
  type ResourceSummary,
} from '../src/index.js'
import { expectMetadataError } from '../src/testing/index.js'
import { sampleCrate } from '../src/testing/sample-crate.js'

const REALM = 'realm'
const wendy: Principal = { userId: 'wendy' } // WRITE on g1's metadata
const rita: Principal = { userId: 'rita' } // READ on g1's metadata
const sam: Principal = { userId: 'sam' } // WRITE on g2's metadata only
const nobody: Principal = { userId: 'nobody' } // no roles at all

const meta = (group: string, resource = '**') => `/${REALM}/g/${group}/meta/${resource}`

const LINK: ObjectLink = {
  bucket: 'ice',
  key: 'grid.nc',
  versionId: 'v1',
  cid: 'bafkreigh2akiscaildc',
  size: 42,
  checksum: 'sha256:00',
}

/** Adds a role to `user`: a group role when `group` is given, else a realm role. */
function grant(
  roles: MemoryRoleSource,
  user: Principal,
  rules: [Permission, string][],
  group?: string,
): void {
  const scope = group === undefined ? { realm: REALM } : { realm: REALM, group }
  const name = `${user.userId}-${roles.rolesFor(user.userId).length}`
  roles.add(
    user.userId,
    defineRole({ name, scope, rules: rules.map(([permission, pattern]) => ({ permission, pattern })) }),
  )
}

function setup(store: MetadataStore = new MemoryMetadataStore()) {
  const roles = new MemoryRoleSource()
  grant(roles, wendy, [['WRITE', meta('g1')]], 'g1')
  grant(roles, rita, [['READ', meta('g1')]], 'g1')
  grant(roles, sam, [['WRITE', meta('g2')]], 'g2')
  const service = new MetadataService({ store, authorizer: new PathAuthorizer({ roles }), realmId: REALM })
  return { store, roles, service }
}

/** `r1` in `g1`, with a data entity `data.nc`. */
async function fixture(store: MetadataStore): Promise<void> {
  await store.createResource({ group: 'g1', resourceId: 'r1', name: 'Sea ice', description: 'Thickness' })
  await store.addEntity('r1', { '@id': 'data.nc', '@type': 'File' })
}

async function listAll(
  service: MetadataService,
  caller: Principal,
  group: string,
  options: ListOptions = {},
): Promise<Page<ResourceSummary>[]> {
  const pages: Page<ResourceSummary>[] = []
  let cursor: string | undefined
  do {
    const page = await service.listResources(caller, group, {
      ...options,
      ...(cursor === undefined ? {} : { cursor }),
    })
    pages.push(page)
    cursor = page.nextCursor
    expect(pages.length).toBeLessThan(100)
  } while (cursor !== undefined)
  return pages
}

/** Waits until `ready()` holds, failing after a second. */
async function until(ready: () => boolean): Promise<void> {
  for (let tries = 0; !ready(); tries += 1) {
    if (tries > 100) expect.fail('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

type Service = MetadataService
interface Operation {
  name: string
  access: Access
  run: (service: Service, caller: Principal, resourceId: string) => Promise<unknown>
  /** Checks the outcome of an allowed call. */
  verify: (store: MetadataStore, result: unknown) => Promise<void>
}

const readOperations: Operation[] = [
  {
    name: 'get',
    access: 'READ',
    run: (service, caller, id) => service.get(caller, id),
    verify: async (_, crate) => expect(JSON.stringify(crate)).toContain('Sea ice'),
  },
  {
    name: 'resolve',
    access: 'READ',
    run: (service, caller, id) => service.resolve(caller, id),
    verify: async (_, ref) => expect(ref).toEqual({ resourceId: 'r1', group: 'g1' }),
  },
  {
    name: 'exportCrate',
    access: 'READ',
    run: (service, caller, id) => service.exportCrate(caller, id),
    verify: async (store, text) => expect(JSON.parse(text as string)).toEqual(await store.get('r1')),
  },
  {
    name: 'history',
    access: 'READ',
    run: (service, caller, id) => service.history(caller, id),
    verify: async (_, history) => expect(history).toHaveLength(2),
  },
]

const root = async (store: MetadataStore) => findEntity(await store.get('r1'), './')
const writeOperations: Operation[] = [
  {
    name: 'setProperty',
    access: 'WRITE',
    run: (service, caller, id) => service.setProperty(caller, id, './', 'keywords', 'ice'),
    verify: async (store) => expect((await root(store))?.keywords).toBe('ice'),
  },
  {
    name: 'removeProperty',
    access: 'WRITE',
    run: (service, caller, id) => service.removeProperty(caller, id, './', 'description'),
    verify: async (store) => expect((await root(store))?.description).toBeUndefined(),
  },
  {
    name: 'addEntity',
    access: 'WRITE',
    run: (service, caller, id) => service.addEntity(caller, id, { '@id': '#bob', '@type': 'Person' }),
    verify: async (store) => expect(findEntity(await store.get('r1'), '#bob')).toBeDefined(),
  },
  {
    name: 'removeEntity',
    access: 'WRITE',
    run: (service, caller, id) => service.removeEntity(caller, id, 'data.nc'),
    verify: async (store) => expect(findEntity(await store.get('r1'), 'data.nc')).toBeUndefined(),
  },
  {
    name: 'linkObject',
    access: 'WRITE',
    run: (service, caller, id) => service.linkObject(caller, id, 'data.nc', LINK),
    verify: async (store) => expect(findEntity(await store.get('r1'), 'data.nc')?.contentSize).toBe('42'),
  },
  {
    name: 'deleteResource',
    access: 'WRITE',
    run: (service, caller, id) => service.deleteResource(caller, id),
    verify: async (store) => {
      await expectMetadataError(() => store.resolve('r1'), 'NotFound')
    },
  },
]

describe('MetadataService: reads and edits of one resource', () => {
  for (const operation of [...readOperations, ...writeOperations]) {
    describe(`${operation.name} (${operation.access})`, () => {
      it('lets a caller with the access through to the store', async () => {
        const { store, service } = setup()
        await fixture(store)
        const caller = operation.access === 'READ' ? rita : wendy
        await operation.verify(store, await operation.run(service, caller, 'r1'))
      })

      it('answers NotFound to a caller who may not READ the resource, exactly as for a missing one', async () => {
        const { store, service } = setup()
        await fixture(store)
        const before = await store.get('r1')
        for (const caller of [sam, nobody]) {
          const refused = await expectMetadataError(() => operation.run(service, caller, 'r1'), 'NotFound')
          const missing = await expectMetadataError(() => operation.run(service, caller, 'r9'), 'NotFound')
          expect(refused.message).toBe(missing.message.replace('r9', 'r1'))
        }
        expect(await store.get('r1')).toEqual(before)
      })

      it('answers NotFound to an allowed caller for a resource that does not exist', async () => {
        const { store, service } = setup()
        await fixture(store)
        await expectMetadataError(() => operation.run(service, wendy, 'r9'), 'NotFound')
      })

      it('refuses an id that is not a path segment with InvalidInput', async () => {
        const { store, service } = setup()
        await fixture(store)
        for (const id of ['', '..', 'r1/../r2', '-r1', 42, null]) {
          await expectMetadataError(() => operation.run(service, wendy, id as string), 'InvalidInput')
        }
      })
    })
  }

  for (const operation of writeOperations) {
    it(`${operation.name}: tells a reader AccessDenied (it may see the resource) and changes nothing`, async () => {
      const { store, service } = setup()
      await fixture(store)
      const before = await store.get('r1')
      await expectMetadataError(() => operation.run(service, rita, 'r1'), 'AccessDenied')
      expect(await store.get('r1')).toEqual(before)
      expect(await store.history('r1')).toHaveLength(2)
    })
  }

  it('lets WRITE imply READ', async () => {
    const { store, service } = setup()
    await fixture(store)
    for (const operation of readOperations)
      await operation.verify(store, await operation.run(service, wendy, 'r1'))
  })

  it('passes the store errors through once the caller is allowed', async () => {
    const { store, service } = setup()
    await fixture(store)
    await expectMetadataError(() => service.setProperty(wendy, 'r1', '#nobody', 'name', 'x'), 'NotFound')
    await expectMetadataError(() => service.setProperty(wendy, 'r1', './', '@id', 'x'), 'InvalidInput')
    await expectMetadataError(() => service.addEntity(wendy, 'r1', { '@id': 'data.nc' }), 'AlreadyExists')
  })
})

describe('MetadataService: creating resources', () => {
  it('creates with and without a resource id for a caller with WRITE on the group', async () => {
    const { store, service } = setup()
    expect(await service.createResource(wendy, { group: 'g1', resourceId: 'r1', name: 'One' })).toEqual({
      resourceId: 'r1',
      group: 'g1',
    })
    const generated = await service.createResource(wendy, { group: 'g1', name: 'Two' })
    expect(generated.resourceId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect((await store.listResources('g1')).items.map((item) => item.name).sort()).toEqual(['One', 'Two'])
    const imported = await service.importCrate(wendy, 'g1', sampleCrate())
    expect(await store.get(imported.resourceId)).toEqual(sampleCrate())
    expect(await service.importCrate(wendy, 'g1', sampleCrate(), { resourceId: 'r2' })).toEqual({
      resourceId: 'r2',
      group: 'g1',
    })
  })

  it('refuses readers, callers of other groups and nobody with AccessDenied, creating nothing', async () => {
    const { store, service } = setup()
    for (const caller of [rita, sam, nobody]) {
      await expectMetadataError(
        () => service.createResource(caller, { group: 'g1', name: 'x' }),
        'AccessDenied',
      )
      await expectMetadataError(
        () => service.createResource(caller, { group: 'g1', resourceId: 'r1', name: 'x' }),
        'AccessDenied',
      )
      await expectMetadataError(() => service.importCrate(caller, 'g1', sampleCrate()), 'AccessDenied')
      await expectMetadataError(
        () => service.importCrate(caller, 'g1', sampleCrate(), { resourceId: 'r1' }),
        'AccessDenied',
      )
    }
    expect((await store.listResources('g1')).items).toEqual([])
    await service.createResource(sam, { group: 'g2', name: 'Theirs' })
    expect((await store.listResources('g2')).items).toHaveLength(1)
  })

  it('checks a generated id on its own path: a grant for one named resource does not allow any other', async () => {
    const { store, roles, service } = setup()
    const olga: Principal = { userId: 'olga' }
    grant(roles, olga, [['WRITE', meta('g1', 'only-this')]], 'g1')
    await expectMetadataError(() => service.createResource(olga, { group: 'g1', name: 'x' }), 'AccessDenied')
    await expectMetadataError(() => service.importCrate(olga, 'g1', sampleCrate()), 'AccessDenied')
    await expectMetadataError(
      () => service.createResource(olga, { group: 'g1', resourceId: 'other', name: 'x' }),
      'AccessDenied',
    )
    await service.createResource(olga, { group: 'g1', resourceId: 'only-this', name: 'x' })
    expect((await store.listResources('g1')).items.map((item) => item.resourceId)).toEqual(['only-this'])
  })

  it('checks WRITE before the store says a resource id is taken', async () => {
    const { store, service } = setup()
    await fixture(store)
    await expectMetadataError(
      () => service.createResource(rita, { group: 'g1', resourceId: 'r1', name: 'x' }),
      'AccessDenied',
    )
    await expectMetadataError(
      () => service.createResource(wendy, { group: 'g1', resourceId: 'r1', name: 'x' }),
      'AlreadyExists',
    )
    await expectMetadataError(
      () => service.importCrate(wendy, 'g1', '{', { resourceId: 'r2' }),
      'InvalidCrate',
    )
  })

  it('refuses malformed groups, ids and details with InvalidInput before any check', async () => {
    const { service } = setup()
    for (const group of ['', 'g1/meta/x', '..', '*', 7]) {
      await expectMetadataError(
        () => service.createResource(wendy, { group: group as string, name: 'x' }),
        'InvalidInput',
      )
      await expectMetadataError(
        () => service.importCrate(wendy, group as string, sampleCrate()),
        'InvalidInput',
      )
    }
    for (const resourceId of ['', 'a/b', '.hidden', 3]) {
      await expectMetadataError(
        () => service.createResource(wendy, { group: 'g1', resourceId: resourceId as string, name: 'x' }),
        'InvalidInput',
      )
      await expectMetadataError(
        () => service.importCrate(wendy, 'g1', sampleCrate(), { resourceId: resourceId as string }),
        'InvalidInput',
      )
    }
    await expectMetadataError(() => service.createResource(wendy, null as never), 'InvalidInput')
    await expectMetadataError(
      () => service.createResource(wendy, { group: 'g1', name: 7 as never }),
      'InvalidInput',
    )
    await expectMetadataError(
      () => service.importCrate(wendy, 'g1', sampleCrate(), null as never),
      'InvalidInput',
    )
    await expectMetadataError(
      () => service.createResource(wendy, { group: 'g1', name: 'x', author: 5 as never }),
      'InvalidInput',
    )
  })
})

describe('MetadataService: rules', () => {
  it('lets a deny rule override a broader allow', async () => {
    const { store, roles, service } = setup()
    await fixture(store)
    await store.createResource({ group: 'g1', resourceId: 'secret', name: 'Secret' })
    const dana: Principal = { userId: 'dana' }
    grant(roles, dana, [['WRITE', meta('g1')]], 'g1')
    grant(roles, dana, [['DENY', meta('g1', 'secret')]], 'g1')
    expect((await service.get(dana, 'r1'))['@graph']).toBeDefined()
    await service.setProperty(dana, 'r1', './', 'keywords', 'ok')
    await expectMetadataError(() => service.get(dana, 'secret'), 'NotFound')
    await expectMetadataError(() => service.setProperty(dana, 'secret', './', 'keywords', 'x'), 'NotFound')
    await expectMetadataError(() => service.deleteResource(dana, 'secret'), 'NotFound')
    // The denied path is refused before the store could say that the id is taken.
    await expectMetadataError(
      () => service.createResource(dana, { group: 'g1', resourceId: 'secret', name: 'x' }),
      'AccessDenied',
    )
    expect((await service.listResources(dana, 'g1')).items.map((item) => item.resourceId)).toEqual(['r1'])
  })

  it('matches one segment with * and any number with **', async () => {
    const { store, roles, service } = setup()
    await fixture(store)
    await store.createResource({ group: 'g2', resourceId: 'r2', name: 'Two' })
    const star: Principal = { userId: 'star' }
    const shallow: Principal = { userId: 'shallow' }
    const deep: Principal = { userId: 'deep' }
    const glob: Principal = { userId: 'glob' }
    grant(roles, star, [['READ', `/${REALM}/g/*/meta/*`]])
    grant(roles, shallow, [['READ', `/${REALM}/g/g1/*`]], 'g1')
    grant(roles, deep, [['READ', `/${REALM}/g/g1/**`]], 'g1')
    grant(roles, glob, [['READ', meta('g1', 'r*')]], 'g1')
    for (const caller of [star, deep, glob])
      expect(await service.resolve(caller, 'r1')).toEqual({ resourceId: 'r1', group: 'g1' })
    expect(await service.resolve(star, 'r2')).toEqual({ resourceId: 'r2', group: 'g2' })
    for (const caller of [deep, glob])
      await expectMetadataError(() => service.resolve(caller, 'r2'), 'NotFound')
    // `/g1/*` names the areas of g1 (`meta`, `data`), not the resources below them.
    await expectMetadataError(() => service.resolve(shallow, 'r1'), 'NotFound')
    // A READ rule never allows a write, whatever its pattern.
    await expectMetadataError(() => service.setProperty(star, 'r1', './', 'name', 'x'), 'AccessDenied')
  })

  it('narrows the roles by the token restrictions of the principal', async () => {
    const { store, service } = setup()
    await fixture(store)
    const restricted: Principal = {
      userId: 'wendy',
      restrictions: [{ pattern: meta('g1'), permission: 'READ' }],
    }
    expect(await service.resolve(restricted, 'r1')).toEqual({ resourceId: 'r1', group: 'g1' })
    await expectMetadataError(() => service.setProperty(restricted, 'r1', './', 'name', 'x'), 'AccessDenied')
    await expectMetadataError(() => service.get({ userId: 'wendy', restrictions: [] }, 'r1'), 'NotFound')
  })

  it('applies a role change to the next call', async () => {
    const { store, roles, service } = setup()
    await fixture(store)
    await service.get(rita, 'r1')
    roles.set(rita.userId, [])
    await expectMetadataError(() => service.get(rita, 'r1'), 'NotFound')
  })
})

describe('MetadataService: listing', () => {
  /** `r01`..`r{count}` in g1; those with a visible id end in `-v`, the others in `-h`. */
  async function listed(visible: (index: number) => boolean, count: number) {
    const context = setup()
    const ids: string[] = []
    for (let index = 1; index <= count; index += 1) {
      const id = `r${String(index).padStart(2, '0')}-${visible(index) ? 'v' : 'h'}`
      ids.push(id)
      await context.store.createResource({ group: 'g1', resourceId: id, name: `Resource ${index}` })
    }
    const viewer: Principal = { userId: 'viewer' }
    grant(context.roles, viewer, [['READ', meta('g1', '*-v')]], 'g1')
    return { ...context, ids, viewer, visibleIds: ids.filter((id) => id.endsWith('-v')) }
  }

  const decode = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8')

  it('returns only readable resources, in order, across store pages, with no empty page and no hidden id in a cursor', async () => {
    // Visible: 1, 4, 5, 11, 12 — with runs of hidden resources longer than a page in between.
    const { service, viewer, visibleIds } = await listed((index) => [1, 4, 5, 11, 12].includes(index), 14)
    for (const limit of [1, 2, 3, 5, 100]) {
      const pages = await listAll(service, viewer, 'g1', { limit })
      expect(pages.flatMap((page) => page.items.map((item) => item.resourceId))).toEqual(visibleIds)
      for (const page of pages) {
        expect(page.items.length).toBeGreaterThan(0)
        expect(page.items.length).toBeLessThanOrEqual(limit)
        expect(page.items.every((item) => item.group === 'g1' && item.name.startsWith('Resource'))).toBe(true)
        if (page.nextCursor !== undefined) {
          expect(decode(page.nextCursor)).not.toContain('-h')
          expect(decode(page.nextCursor)).toContain(page.items.at(-1)?.resourceId)
        }
      }
      // The last page ends the listing, though hidden resources follow the last visible one.
      expect(pages.at(-1)?.nextCursor).toBeUndefined()
    }
  })

  it('lists everything, paged as the store pages, for a caller who may read the whole group', async () => {
    const { service, ids } = await listed(() => false, 5)
    const pages = await listAll(service, rita, 'g1', { limit: 2 })
    expect(pages.map((page) => page.items.map((item) => item.resourceId))).toEqual([
      ids.slice(0, 2),
      ids.slice(2, 4),
      ids.slice(4),
    ])
    expect((await service.listResources(wendy, 'g1')).items).toHaveLength(5)
  })

  it('gives a caller who may read nothing one empty page without a cursor', async () => {
    const { service } = await listed(() => false, 5)
    for (const caller of [sam, nobody]) {
      expect(await service.listResources(caller, 'g1', { limit: 2 })).toEqual({ items: [] })
    }
    expect(await service.listResources(rita, 'unknown-group')).toEqual({ items: [] })
  })

  it('keeps a deny rule out of the listing', async () => {
    const { store, roles, service } = setup()
    await fixture(store)
    await store.createResource({ group: 'g1', resourceId: 'r2', name: 'Two' })
    grant(roles, rita, [['DENY', meta('g1', 'r1')]], 'g1')
    expect((await service.listResources(rita, 'g1')).items.map((item) => item.resourceId)).toEqual(['r2'])
  })

  it('reads a stretch again when the listing changes between a page and its cut', async () => {
    let insert = true
    const store = new (class extends MemoryMetadataStore {
      override async listResources(group: string, options?: ListOptions): Promise<Page<ResourceSummary>> {
        const page = await super.listResources(group, options)
        if (insert && options?.limit === 3) {
          insert = false
          await this.createResource({ group: 'g1', resourceId: 'r00-v', name: 'Late' })
        }
        return page
      }
    })()
    const { roles, service } = setup(store)
    for (const id of ['r01-v', 'r02-h', 'r03-h', 'r04-v'])
      await store.createResource({ group: 'g1', resourceId: id, name: id })
    const viewer: Principal = { userId: 'viewer' }
    grant(roles, viewer, [['READ', meta('g1', '*-v')]], 'g1')
    const first = await service.listResources(viewer, 'g1', { limit: 3 })
    expect(first.items.map((item) => item.resourceId)).toEqual(['r00-v', 'r01-v'])
    const second = await service.listResources(viewer, 'g1', { limit: 3, cursor: first.nextCursor as string })
    expect(second).toEqual({ items: [{ resourceId: 'r04-v', group: 'g1', name: 'r04-v' }] })
  })

  it('refuses a malformed group, limit, cursor or options', async () => {
    const { service } = await listed(() => true, 3)
    for (const group of ['', 'g1/meta', '..', 5]) {
      await expectMetadataError(() => service.listResources(rita, group as string), 'InvalidInput')
    }
    for (const limit of [0, 1001, 1.5, '2']) {
      await expectMetadataError(
        () => service.listResources(rita, 'g1', { limit: limit as number }),
        'InvalidInput',
      )
    }
    await expectMetadataError(() => service.listResources(rita, 'g1', null as never), 'InvalidInput')
    await expectMetadataError(
      () => service.listResources(rita, 'g1', { cursor: 'nonsense' }),
      'InvalidCursor',
    )
    const page = await service.listResources(rita, 'g1', { limit: 1 })
    await expectMetadataError(
      () => service.listResources(rita, 'g2', { cursor: page.nextCursor as string }),
      'InvalidCursor',
    )
  })
})

describe('MetadataService: change events', () => {
  it('delivers only events of resources the caller may read, in order', async () => {
    const { store, service } = setup()
    const seen: ChangeEvent[] = []
    const stop = service.onChange(rita, (event) => seen.push(event))
    await store.createResource({ group: 'g2', resourceId: 'other', name: 'x' })
    await store.createResource({ group: 'g1', resourceId: 'r1', name: 'x' })
    await store.setProperty('other', './', 'name', 'y')
    await store.setProperty('r1', './', 'name', 'y')
    await store.deleteResource('r1')
    await until(() => seen.length === 3)
    expect(seen).toEqual([
      { type: 'created', resourceId: 'r1', group: 'g1', origin: 'local' },
      { type: 'updated', resourceId: 'r1', group: 'g1', origin: 'local' },
      { type: 'deleted', resourceId: 'r1', group: 'g1', origin: 'local' },
    ])
    stop()
    await store.createResource({ group: 'g1', resourceId: 'r2', name: 'x' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(seen).toHaveLength(3)
  })

  it('keeps delivering after a listener throws, and drops events still being checked at unsubscribe', async () => {
    const { store, service } = setup()
    const seen: string[] = []
    service.onChange(wendy, (event) => {
      seen.push(event.resourceId)
      throw new Error('listener bug')
    })
    const late: string[] = []
    const stop = service.onChange(wendy, (event) => late.push(event.resourceId))
    await store.createResource({ group: 'g1', resourceId: 'a', name: 'x' })
    stop()
    await store.createResource({ group: 'g1', resourceId: 'b', name: 'x' })
    await until(() => seen.length === 2)
    expect(seen).toEqual(['a', 'b'])
    expect(late).toEqual([])
  })

  it('drops events it cannot decide: ids that are not path segments, an authorizer that fails', async () => {
    let emit: ChangeListener = () => undefined
    const store = {
      onChange(listener: ChangeListener) {
        emit = listener
        return () => undefined
      },
    } as unknown as MetadataStore
    let failing = false
    const inner = new PathAuthorizer({ roles: setup().roles })
    const authorizer: Authorizer = {
      authorize: async (principal, access, path) => {
        if (failing) throw new Error('role source down')
        return inner.authorize(principal, access, path)
      },
      check: (principal, access, path) => inner.check(principal, access, path),
    }
    const service = new MetadataService({ store, authorizer, realmId: REALM })
    const seen: string[] = []
    service.onChange(wendy, (event) => seen.push(event.resourceId))
    emit({ type: 'created', resourceId: 'x', group: 'g1/meta/r1', origin: 'remote' })
    emit({ type: 'created', resourceId: '../r1', group: 'g1', origin: 'remote' })
    failing = true
    emit({ type: 'created', resourceId: 'r1', group: 'g1', origin: 'remote' })
    await new Promise((resolve) => setTimeout(resolve, 10))
    failing = false
    emit({ type: 'updated', resourceId: 'r2', group: 'g1', origin: 'remote' })
    await until(() => seen.length > 0)
    expect(seen).toEqual(['r2'])
  })

  it('refuses a listener that is not a function and a caller that is not a principal', () => {
    const { service } = setup()
    expect(() => service.onChange(wendy, 'no' as never)).toThrow(MetadataError)
    expect(() => service.onChange(null as never, () => undefined)).toThrow(
      expect.objectContaining({ code: 'InvalidInput' }),
    )
  })
})

describe('MetadataService: bad input and failing collaborators', () => {
  it('refuses a caller that is not a principal in every operation', async () => {
    const { store, service } = setup()
    await fixture(store)
    for (const caller of [null, undefined, {}, { userId: 7 }, 'wendy']) {
      const bad = caller as unknown as Principal
      for (const operation of [...readOperations, ...writeOperations]) {
        await expectMetadataError(() => operation.run(service, bad, 'r1'), 'InvalidInput')
      }
      await expectMetadataError(() => service.createResource(bad, { group: 'g1', name: 'x' }), 'InvalidInput')
      await expectMetadataError(() => service.importCrate(bad, 'g1', sampleCrate()), 'InvalidInput')
      await expectMetadataError(() => service.listResources(bad, 'g1'), 'InvalidInput')
    }
    expect(await store.history('r1')).toHaveLength(2)
  })

  it('refuses malformed change options', async () => {
    const { store, service } = setup()
    await fixture(store)
    await expectMetadataError(
      () => service.setProperty(wendy, 'r1', './', 'name', 'x', 'msg' as never),
      'InvalidInput',
    )
    await expectMetadataError(
      () => service.setProperty(wendy, 'r1', './', 'name', 'x', { author: 1 as never }),
      'InvalidInput',
    )
    await expectMetadataError(
      () => service.setProperty(wendy, 'r1', './', 'name', 'x', { message: 1 as never }),
      'InvalidInput',
    )
  })

  it('refuses a realm id that cannot be a path segment', () => {
    const store = new MemoryMetadataStore()
    const authorizer = new PathAuthorizer({ roles: new MemoryRoleSource() })
    for (const realmId of ['', '.', '..', 'a/b', 'a b', 7]) {
      expect(() => new MetadataService({ store, authorizer, realmId: realmId as string })).toThrow(
        expect.objectContaining({ name: 'MetadataError', code: 'InvalidInput' }),
      )
    }
    expect(new MetadataService({ store, authorizer, realmId: 'Ab-_9.x~' }).realmId).toBe('Ab-_9.x~')
  })

  it("turns the authorizer's InvalidPath into InvalidInput and passes its other failures through", async () => {
    const store = new MemoryMetadataStore()
    await fixture(store)
    let failure: Error = new AuthError('InvalidPath', 'bad path')
    const authorizer: Authorizer = {
      authorize: async () => {
        throw failure
      },
      check: async () => {
        throw failure
      },
    }
    const service = new MetadataService({ store, authorizer, realmId: REALM })
    await expectMetadataError(() => service.get(wendy, 'r1'), 'InvalidInput')
    await expectMetadataError(() => service.createResource(wendy, { group: 'g1', name: 'x' }), 'InvalidInput')
    await expectMetadataError(() => service.listResources(wendy, 'g1'), 'InvalidInput')
    failure = new Error('role source down')
    await expect(service.setProperty(wendy, 'r1', './', 'name', 'x')).rejects.toBe(failure)
    expect(await store.history('r1')).toHaveLength(2)
  })

  it('fails closed on a store that reports a group that is not a path segment, and passes other store errors', async () => {
    let group = 'g1/meta/r1/..'
    const store = new (class extends MemoryMetadataStore {
      override async resolve(resourceId: string): Promise<ResourceRef> {
        if (group === 'unavailable') throw new MetadataError('Unavailable', 'not here yet')
        return { resourceId, group }
      }
      override async listResources(): Promise<Page<ResourceSummary>> {
        return {
          items: [
            { resourceId: 'r1', group: 'g2', name: 'x' },
            { resourceId: 'a/b', group: 'g1', name: 'y' },
          ],
        }
      }
    })()
    await fixture(store)
    const { service } = setup(store)
    await expectMetadataError(() => service.get(wendy, 'r1'), 'NotFound')
    await expectMetadataError(() => service.setProperty(wendy, 'r1', './', 'name', 'x'), 'NotFound')
    group = 'unavailable'
    await expectMetadataError(() => service.get(wendy, 'r1'), 'Unavailable')
    expect(await service.listResources(wendy, 'g1')).toEqual({ items: [] })
  })
})

describe('MetadataService over AutomergeMetadataStore', () => {
  const stores: AutomergeMetadataStore[] = []
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close()
  })

  it('checks every call against the real store and records the caller as author', async () => {
    const store = await AutomergeMetadataStore.create({ repo: new Repo() })
    stores.push(store)
    const { service } = setup(store)
    const seen: string[] = []
    service.onChange(rita, (event) => seen.push(`${event.type} ${event.resourceId}`))

    const { resourceId } = await service.importCrate(wendy, 'g1', sampleCrate(), { message: 'upload' })
    await service.setProperty(wendy, resourceId, './', 'keywords', 'ice', { author: 'on-behalf' })
    await service.addEntity(wendy, resourceId, { '@id': '#carol', '@type': 'Person', name: 'Carol' })
    await service.createResource(sam, { group: 'g2', resourceId: 'theirs', name: 'Theirs' })
    expect(
      (await service.history(rita, resourceId)).map(({ author, message }) => ({ author, message })),
    ).toEqual([
      { author: 'wendy', message: 'upload' },
      { author: 'on-behalf', message: 'set keywords of ./' },
      { author: 'wendy', message: 'add entity #carol' },
    ])
    expect(findEntity(await service.get(rita, resourceId), './')?.keywords).toBe('ice')
    await expectMetadataError(() => service.get(sam, resourceId), 'NotFound')
    await expectMetadataError(() => service.get(rita, 'theirs'), 'NotFound')
    await expectMetadataError(() => service.removeEntity(rita, resourceId, '#alice'), 'AccessDenied')
    expect((await service.listResources(rita, 'g1')).items.map((item) => item.resourceId)).toEqual([
      resourceId,
    ])
    expect((await service.listResources(rita, 'g2')).items).toEqual([])
    await service.deleteResource(wendy, resourceId)
    await until(() => seen.length === 4)
    expect(seen).toEqual([
      `created ${resourceId}`,
      `updated ${resourceId}`,
      `updated ${resourceId}`,
      `deleted ${resourceId}`,
    ])
  })
})
