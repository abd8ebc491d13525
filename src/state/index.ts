/** The state-file layer: projection, atomic writes, events, archive and legacy import. */
export { readTextIfExists, writeFileAtomic } from './atomic';
export type { AtomicWriteOptions } from './atomic';
export { archiveDeployment, ARCHIVED_STATE_FILES, recordDeploymentHistory } from './archive';
export type { ArchiveMode, HistoryEntry } from './archive';
export { detectStateFormat, importLegacyState, readYamlMap } from './legacy';
export type { LegacyImport, StateFormat } from './legacy';
export * from './paths';
export { projectState, removeClusterEventsFile } from './projection';
export type { ProjectionOptions, ProjectionResult } from './projection';
export {
  legacyStatus,
  mergeEvents,
  renderClusterEventsFile,
  renderDeploymentState,
  renderEventsFile,
} from './render';
export type { RenderOptions } from './render';
export { archiveStamp, isIsoSeconds, isoSeconds, localTimestamp } from './time';
