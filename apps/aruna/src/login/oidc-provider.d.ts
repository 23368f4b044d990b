// oidc-provider ships no type declarations; this is the little of its API the development issuer uses.
declare module 'oidc-provider' {
  import type { EventEmitter } from 'node:events'
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export interface InteractionPrompt {
    readonly name: string
    readonly details: {
      readonly missingOIDCScope?: readonly string[]
      readonly missingOIDCClaims?: readonly string[]
      readonly missingResourceScopes?: Readonly<Record<string, readonly string[]>>
    }
  }

  export interface InteractionDetails {
    readonly uid: string
    readonly prompt: InteractionPrompt
    readonly params: Readonly<Record<string, unknown>>
    readonly grantId?: string
    readonly session?: { readonly accountId?: string }
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void
    addOIDCClaims(claims: readonly string[]): void
    addResourceScope(indicator: string, scope: string): void
    save(): Promise<string>
  }

  export interface GrantClass {
    new (init: { accountId: string; clientId: string }): GrantInstance
    find(id: string): Promise<GrantInstance | undefined>
  }

  export interface ProviderContext {
    readonly oidc: {
      readonly client?: { readonly clientId: string }
      readonly session?: { readonly accountId?: string; grantIdFor(clientId: string): string | undefined }
      readonly result?: { readonly consent?: { readonly grantId?: string } }
      readonly params?: Readonly<Record<string, unknown>>
      readonly provider: Provider
    }
    type: string
    body: unknown
    status: number
  }

  export default class Provider extends EventEmitter {
    constructor(issuer: string, configuration?: Record<string, unknown>)
    readonly Grant: GrantClass
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>
  }
}
