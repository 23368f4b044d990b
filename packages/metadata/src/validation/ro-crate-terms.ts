/**
 * The terms of the RO-Crate JSON-LD contexts that are not plain `http://schema.org/<term>`, written out
 * from the RO-Crate specification (sections "RO-Crate JSON-LD" and "Appendix: RO-Crate JSON-LD context").
 * Together with the schema.org names in `schema-org-terms.ts` they stand for the RO-Crate 1.0–1.2
 * contexts. One set serves every version: a crate that declares 1.1 may use a term the 1.2 context
 * added, which is accepted (the differences are a few dozen added terms; none changes meaning).
 */

const PCDM = 'http://pcdm.org/models#'
const PAV = 'http://purl.org/pav/'
const PROF = 'http://www.w3.org/ns/dx/prof/'
const CODEMETA = 'https://codemeta.github.io/terms/'
const BIOSCHEMAS = 'https://bioschemas.org/'
const GEOSPARQL = 'http://www.opengis.net/ont/geosparql#'

/** Terms mapped to something other than `http://schema.org/<term>`, and the prefixes the context declares. */
export const RO_CRATE_OTHER_TERMS: Readonly<Record<string, string>> = {
  // schema.org terms under another name
  File: 'http://schema.org/MediaObject',
  path: 'http://schema.org/contentUrl',
  Journal: 'http://schema.org/Periodical',
  HTML: 'rdf:HTML',
  'cite-as': 'http://www.iana.org/assignments/relation/cite-as',
  // Portland Common Data Model (repositories and collections)
  hasFile: `${PCDM}hasFile`,
  hasMember: `${PCDM}hasMember`,
  RepositoryCollection: `${PCDM}Collection`,
  RepositoryObject: `${PCDM}Object`,
  RepositoryFile: `${PCDM}File`,
  // Bioschemas (workflows)
  ComputationalWorkflow: `${BIOSCHEMAS}ComputationalWorkflow`,
  FormalParameter: `${BIOSCHEMAS}FormalParameter`,
  input: `${BIOSCHEMAS}properties/input`,
  output: `${BIOSCHEMAS}properties/output`,
  // RO-Crate 1.0 workflow terms
  Workflow: 'http://purl.org/ro/wfdesc#Workflow',
  Script: 'http://purl.org/ro/wf4ever#Script',
  ExampleRun: 'http://purl.org/ro/roterms#ExampleRun',
  WorkflowSketch: 'http://purl.org/ro/roterms#Sketch',
  // provenance
  wasDerivedFrom: 'http://www.w3.org/ns/prov#wasDerivedFrom',
  importedFrom: `${PAV}importedFrom`,
  importedOn: `${PAV}importedOn`,
  importedBy: `${PAV}importedBy`,
  retrievedFrom: `${PAV}retrievedFrom`,
  retrievedOn: `${PAV}retrievedOn`,
  retrievedBy: `${PAV}retrievedBy`,
  // Dublin Core and the Profiles Vocabulary (profiles a crate conforms to)
  conformsTo: 'http://purl.org/dc/terms/conformsTo',
  Standard: 'http://purl.org/dc/terms/Standard',
  Profile: `${PROF}Profile`,
  ResourceDescriptor: `${PROF}ResourceDescriptor`,
  ResourceRole: `${PROF}ResourceRole`,
  hasArtifact: `${PROF}hasArtifact`,
  hasResource: `${PROF}hasResource`,
  hasRole: `${PROF}hasRole`,
  hasToken: `${PROF}hasToken`,
  isProfileOf: `${PROF}isProfileOf`,
  // CodeMeta (software)
  softwareSuggestions: `${CODEMETA}softwareSuggestions`,
  continuousIntegration: `${CODEMETA}continuousIntegration`,
  buildInstructions: `${CODEMETA}buildInstructions`,
  developmentStatus: `${CODEMETA}developmentStatus`,
  embargoEndDate: `${CODEMETA}embargoEndDate`,
  readme: `${CODEMETA}readme`,
  issueTracker: `${CODEMETA}issueTracker`,
  referencePublication: `${CODEMETA}referencePublication`,
  hasSourceCode: `${CODEMETA}hasSourceCode`,
  isSourceCodeOf: `${CODEMETA}isSourceCodeOf`,
  // GeoSPARQL
  Geometry: `${GEOSPARQL}Geometry`,
  asWKT: `${GEOSPARQL}asWKT`,
  localPath: 'https://w3id.org/ro/terms#localPath',
  // schema.org terms that schema.org has superseded but the contexts still list
  interactionCount: 'http://schema.org/interactionCount',
  // prefixes for compact IRIs
  schema: 'http://schema.org/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  rdfa: 'http://www.w3.org/ns/rdfa#',
  dct: 'http://purl.org/dc/terms/',
  pcdm: PCDM,
  bibo: 'http://purl.org/ontology/bibo/',
  cc: 'http://creativecommons.org/ns#',
  foaf: 'http://xmlns.com/foaf/0.1/',
  prof: PROF,
  profrole: `${PROF}role/`,
  frapo: 'http://purl.org/cerif/frapo/',
  rel: 'https://www.w3.org/ns/iana/link-relations/relation#',
  relation: 'http://www.iana.org/assignments/relation/',
  pav: PAV,
  prov: 'http://www.w3.org/ns/prov#',
  wfdesc: 'http://purl.org/ro/wfdesc#',
  wfprov: 'http://purl.org/ro/wfprov#',
  roterms: 'http://purl.org/ro/roterms#',
  wf4ever: 'http://purl.org/ro/wf4ever#',
  vann: 'http://purl.org/vocab/vann/',
  geosparql: GEOSPARQL,
}

const RO_TEST = 'https://w3id.org/ro/terms/test#'

/**
 * `https://w3id.org/ro/terms/test` (Workflow Testing RO-Crate): the terms as the profile's crates spell
 * them out inline.
 */
export const TEST_TERMS: Readonly<Record<string, string>> = Object.fromEntries(
  [
    'GithubService',
    'JenkinsService',
    'PlanemoEngine',
    'TestDefinition',
    'TestInstance',
    'TestService',
    'TestSuite',
    'TravisService',
    'definition',
    'engineVersion',
    'instance',
    'resource',
    'runsOn',
  ].map((term) => [term, `${RO_TEST}${term}`]),
)

const WORKFLOW_RUN = 'https://w3id.org/ro/terms/workflow-run#'

/**
 * `https://w3id.org/ro/terms/workflow-run/context` (Workflow Run RO-Crate profiles): the terms their
 * documentation lists (containers, parameter connections, environment, resource usage).
 */
export const WORKFLOW_RUN_TERMS: Readonly<Record<string, string>> = Object.fromEntries(
  [
    'ContainerImage',
    'DockerImage',
    'SIFImage',
    'ParameterConnection',
    'connection',
    'containerImage',
    'environment',
    'registry',
    'resourceUsage',
    'sha1',
    'sourceParameter',
    'tag',
    'targetParameter',
  ].map((term) => [term, `${WORKFLOW_RUN}${term}`]),
)
