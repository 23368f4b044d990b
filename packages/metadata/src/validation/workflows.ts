/**
 * Workflows and scripts: data entities typed File and SoftwareSourceCode (workflows also
 * ComputationalWorkflow) with a name and a `programmingLanguage` whose entity has a name, url and version.
 */
import { type DataEntityContext, isDataEntity } from './data-entities.js'
import { hasText, hasType, referenceTarget, valuesOf } from './graph.js'
import type { ProblemList } from './rules.js'

export function checkWorkflows(
  context: Pick<DataEntityContext, 'byId' | 'rootId' | 'descriptorId'>,
  problems: ProblemList,
  /** A workflow whose language a profile requires (and reports itself): no recommendation for it here. */
  languageRequired?: string,
): void {
  for (const entity of context.byId.values()) {
    const workflow = hasType(entity, 'ComputationalWorkflow')
    const code = hasType(entity, 'SoftwareSourceCode')
    if (!workflow && !(code && hasType(entity, 'File'))) continue
    const entityId = entity['@id']
    // Only data entities (a File or Dataset with a path or URL); `#` workflows are contextual.
    const asData =
      isDataEntity(entity, context) || (workflow && !entityId.startsWith('#') && entityId !== context.rootId)
    if (!asData) continue
    const kind = workflow ? 'workflow' : 'script'
    if (workflow && (!hasType(entity, 'File') || !code)) {
      problems.add(
        'workflow.type',
        `The workflow ${entityId} must be typed ["File", "SoftwareSourceCode", "ComputationalWorkflow"]`,
        { entityId, property: '@type' },
      )
    }
    if (!hasText(entity, 'name')) {
      problems.add('workflow.name', `The ${kind} ${entityId} must have a "name" people can read`, {
        entityId,
        property: 'name',
      })
    }
    const languages = valuesOf(entity, 'programmingLanguage')
    if (languages.length === 0 && entityId !== languageRequired) {
      problems.add(
        'workflow.programmingLanguage',
        `The ${kind} ${entityId} should name its language or runtime with "programmingLanguage", e.g. {"@id": "https://w3id.org/workflowhub/workflow-ro-crate#galaxy"}`,
        { entityId, property: 'programmingLanguage' },
      )
    }
    for (const value of languages) {
      const target = referenceTarget(value)
      const language = target === undefined ? undefined : context.byId.get(target)
      if (language === undefined) continue
      const has = (property: string): boolean =>
        hasText(language, property) ||
        valuesOf(language, property).some(
          (item) => typeof item === 'number' || referenceTarget(item) !== undefined,
        )
      const missing = ['name', 'url'].filter((property) => !has(property))
      if (missing.length > 0) {
        problems.add(
          'programming-language.properties',
          `The language ${language['@id']} of ${entityId} must have ${missing.map((property) => `"${property}"`).join(' and ')}`,
          { entityId: language['@id'], property: missing[0]! },
        )
      }
      if (!has('version')) {
        problems.add(
          'programming-language.version',
          `The language ${language['@id']} of ${entityId} should have the "version" the ${kind} was developed or tested with`,
          { entityId: language['@id'], property: 'version' },
        )
      }
    }
  }
}
