/** The Bash tool's state files: validated, then adopted as a deployment's state. */
export type { StateFormat } from './read';
export { readYamlMap, detectStateFormat } from './read';
export { StateFileError, stateFileIssues, readStateFile } from './validate';
export type { LegacyImport } from './adopt';
export { importLegacyState } from './adopt';
