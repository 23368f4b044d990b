/**
 * The node's REST API, assembled: every route module over the parts the node composed (organisation,
 * auth, storage, metadata, search), one rate limiter for all of them, the shared metrics and CORS. The
 * node (`node.ts`) builds the parts; this module only decides which routes see which part.
 */

import type {
  Authorizer,
  EncryptedAccessKeyStore,
  OidcVerifier,
  RealmTokenSigner,
  TokenVerifier,
} from '@aruna/auth'
import type { MetadataService } from '@aruna/metadata'
import type { AutomergeOrgaStore, OrgaService } from '@aruna/orga'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { QuotaAdmission } from '../federation/quota-admission.js'
import type { SearchNode } from '../federation/search-node.js'
import type { Logger } from '../logger.js'
import type { RealmFile } from '../realm/realm-file.js'
import type { BucketCatalog, StorageUpkeep } from '../services/s3.js'
import { createAdminRoutes } from './admin-routes.js'
import { createAuthRoutes } from './auth-routes.js'
import { createBucketRoutes } from './bucket-routes.js'
import { createMetadataRoutes } from './metadata-routes.js'
import type { RestMetrics } from './metrics.js'
import { RateLimiter, type RateLimitOptions } from './rate-limit.js'
import { createRealmRoutes } from './realm-routes.js'
import { createRestApp, type NodeStatus } from './rest.js'
import { createSearchRoutes } from './search-routes.js'
import { createStorageRoutes } from './storage-routes.js'
import { createUsageRoutes } from './usage-routes.js'
import { createUserRoutes } from './user-routes.js'
import { createValidateRoutes } from './validate-routes.js'

/** Realm tokens minted at login live this long. */
export const LOGIN_TOKEN_TTL_SECONDS = 12 * 3600

export interface NodeApiParts {
  readonly realm: RealmFile
  readonly nodeId: string
  readonly logger: Logger
  status(): NodeStatus
  readonly oidc: OidcVerifier
  /** The OpenID providers `aruna login` is offered. */
  readonly loginIssuers: readonly { issuer: string; clientId: string; development: boolean }[]
  readonly signer: RealmTokenSigner
  readonly tokens: TokenVerifier
  readonly authorizer: Authorizer
  readonly orga: OrgaService
  readonly store: AutomergeOrgaStore
  readonly accessKeys: EncryptedAccessKeyStore
  multiaddrs(): readonly string[]
  liveNodes(): readonly string[]
  readonly storage: StorageUpkeep
  buckets(): BucketCatalog | undefined
  search(): SearchNode | undefined
  metadata(): MetadataService | undefined
  readonly metrics: RestMetrics
  readonly rateLimit: RateLimitOptions | undefined
  readonly corsOrigins: readonly string[]
  /** Aborted when the node stops: open event streams end. */
  readonly signal: AbortSignal
  /** Storage usage and quotas per group (absent while the storage is not running). */
  readonly quotas: () => QuotaAdmission | undefined
}

export function createNodeApi(parts: NodeApiParts): OpenAPIHono {
  const { realm, tokens, authorizer, orga, store } = parts
  const realmId = realm.realmId
  const rateLimiter = new RateLimiter(parts.rateLimit)
  return createRestApp({
    logger: parts.logger,
    status: parts.status,
    routes: [
      createAuthRoutes({
        oidc: parts.oidc,
        registerLogin: async (login) => (await orga.registerLogin(login)).user,
        tokens: parts.signer,
        tokenTtlSeconds: LOGIN_TOKEN_TTL_SECONDS,
        loginConfig: () => ({ issuers: [...parts.loginIssuers] }),
      }) as never,
      createRealmRoutes({
        realmId,
        realmName: realm.realmName,
        nodeId: parts.nodeId,
        tokens,
        authorizer,
        orga,
        store,
        accessKeys: parts.accessKeys,
        multiaddrs: parts.multiaddrs,
        liveNodes: parts.liveNodes,
        rateLimiter,
      }) as never,
      createAdminRoutes({ realmId, tokens, authorizer, orga, store, rateLimiter }) as never,
      createUserRoutes({ realmId, tokens, authorizer, store, rateLimiter }) as never,
      createStorageRoutes({ realmId, tokens, authorizer, storage: parts.storage, rateLimiter }) as never,
      createBucketRoutes({ realmId, tokens, authorizer, buckets: parts.buckets, rateLimiter }) as never,
      createUsageRoutes({
        realmId,
        tokens,
        authorizer,
        quotas: parts.quotas,
        groups: async () => (await store.listGroups()).map((group) => group.id),
        rateLimiter,
      }) as never,
      createValidateRoutes({ tokens, rateLimiter }) as never,
      createSearchRoutes({ tokens, search: parts.search, rateLimiter }) as never,
      createMetadataRoutes({ tokens, metadata: parts.metadata, rateLimiter, signal: parts.signal }) as never,
    ],
    gcTotals: () => parts.storage.gcTotals(),
    rateLimiter,
    metrics: parts.metrics,
    corsOrigins: parts.corsOrigins,
  })
}
