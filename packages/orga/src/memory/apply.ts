/** Applies one operation to the state: the single entry point replays and local commits share. */

import * as directory from './apply-directory.js'
import type { ChangeTarget } from './apply-realm.js'
import * as realm from './apply-realm.js'
import type { OrgaOp } from './ops.js'
import type { OrgaState } from './state.js'

export type { ChangeTarget }

/**
 * Applies `op`, made at time `at`, to `state`. Throws an `OrgaError` (and changes nothing) when the
 * state refuses it; returns the entities it changed, none for a no-op.
 */
export function applyOp(state: OrgaState, op: OrgaOp, at: number): ChangeTarget[] {
  switch (op.type) {
    case 'rename-realm':
      return realm.renameRealm(state, op)
    case 'set-replication':
      return realm.setReplication(state, op)
    case 'set-quota':
      return realm.setQuota(state, op)
    case 'add-node':
      return realm.addNode(state, op, at)
    case 'set-node-addresses':
      return realm.setNodeAddresses(state, op)
    case 'remove-node':
      return realm.removeNode(state, op)
    case 'create-invite':
      return realm.createInvite(state, op, at)
    case 'cancel-invite':
      return realm.cancelInvite(state, op)
    case 'redeem-invite':
      return realm.redeemInvite(state, op, at)
    case 'revoke-token':
      return realm.revokeToken(state, op)
    case 'add-access-key':
      return realm.addAccessKey(state, op)
    case 'revoke-access-key':
      return realm.revokeAccessKey(state, op)
    case 'create-group':
      return directory.createGroup(state, op, at)
    case 'rename-group':
      return directory.renameGroup(state, op)
    case 'delete-group':
      return directory.deleteGroup(state, op)
    case 'add-member':
      return directory.addMember(state, op)
    case 'remove-member':
      return directory.removeMember(state, op)
    case 'register-user':
      return directory.registerUser(state, op, at)
    case 'update-user':
      return directory.updateUser(state, op)
    case 'add-identity':
      return directory.addIdentity(state, op)
    case 'create-role':
      return directory.createRole(state, op, at)
    case 'update-role':
      return directory.updateRole(state, op)
    case 'delete-role':
      return directory.deleteRole(state, op)
    case 'assign-role':
      return directory.assignRole(state, op)
    case 'revoke-role':
      return directory.revokeRole(state, op)
  }
}
