/**
 * lanevisor: parallel lanes (git worktree + branch + task + real terminals) supervised as XState
 * actors, with every lifecycle step on a typed local bus. Everything public is exported here.
 */

export type { LaneConflict } from './actors/git/conflicts.js';
export type { DiffFile } from './actors/git/diff.js';
export type { TaskBackend, TaskBinding, TaskLane } from './actors/task/task-backend.js';
export type {
  CommandEnvelope,
  Envelope,
  EventEnvelope,
  FailureResponseEnvelope,
  ResponseEnvelope,
  ResponseError,
  SuccessResponseEnvelope,
} from './bus/envelopes.js';
export {
  ERROR_CODES,
  type ErrorCode,
  errorMessage,
  isErrorCode,
  isLanevisorError,
  LanevisorError,
  type LanevisorErrorOptions,
  type SerializedError,
} from './bus/errors.js';
export {
  type CommandId,
  type CorrelationId,
  createCorrelationId,
  createEventId,
  createId,
  createLaneId,
  createPtyId,
  createRuntimeId,
  type EventId,
  ID_PREFIXES,
  type Id,
  type IdKind,
  idPattern,
  isCorrelationId,
  isEventId,
  isId,
  isLaneId,
  isPtyId,
  isRuntimeId,
  type LaneId,
  type PtyId,
  type ResponseId,
  type RuntimeId,
  type SubscriptionId,
} from './bus/ids.js';
export { busJsonSchema } from './bus/json-schema.js';
export { DEFAULT_MAX_PAYLOAD_BYTES } from './bus/json-value.js';
export { LIFECYCLE_PAYLOAD_SCHEMAS, type LifecyclePayload, type LifecycleTopic } from './bus/lifecycle.js';
export { createBus, DEFAULT_QUEUE_LIMIT, DEFAULT_REQUEST_TIMEOUT_MS } from './bus/local-bus.js';
export {
  commandEnvelopeSchema,
  envelopeSchema,
  eventEnvelopeSchema,
  MAX_TIMEOUT_MS,
  responseEnvelopeSchema,
} from './bus/schemas.js';
export { parsePattern, RESERVED_TOPIC_PREFIXES } from './bus/topics.js';
export type {
  Bus,
  BusOptions,
  BusStats,
  CommandHandler,
  EventHandler,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
  SubscriptionStats,
} from './bus/types.js';
export { parseOrThrow } from './bus/validation.js';
export { CONFIG_FILE, type LanevisorConfig } from './supervision/config/config-schema.js';
export { loadConfig } from './supervision/config/load-config.js';
export {
  CONTROL_COMMAND_TIMEOUT_MS,
  CONTROL_COMMANDS,
  CONTROL_METHODS,
  type CommandContext,
  type ControlMethod,
} from './supervision/control/commands.js';
export {
  type ControlTransport,
  connectRuntime,
  controlConnectionOver,
  errorFrom as controlErrorFrom,
  type RuntimeConnection,
} from './supervision/control/control-client.js';
export {
  type ControlClientMessage,
  type ControlErrorBody,
  type ControlServerMessage,
  clientMessageSchema,
} from './supervision/control/control-protocol.js';
export {
  type ControlChannel,
  ControlSession,
  errorOf as controlErrorOf,
} from './supervision/control/control-session.js';
export { lastLineOf, plainLine } from './supervision/control/last-line.js';
export type {
  RemoteRuntimeLanes,
  RemoteRuntimes,
  ServeHandle,
  ServeOptions,
} from './supervision/control/serve-hook.js';
export { type LaneView, laneViewSchema, type PtyInfo, ptyInfoSchema } from './supervision/control/views.js';
export { findLane } from './supervision/lane/find-lane.js';
export { LABEL_PATTERN, validateLabel } from './supervision/lane/labels.js';
export type {
  CleanupOptions,
  CleanupReport,
  CommitResult,
  CreateLaneOptions,
  ExecOptions,
  ExecResult,
  Lane,
  LaneDiff,
  LaneState,
  MergeOptions,
  MergeResult,
} from './supervision/lane/types.js';
export {
  type PtyView,
  type PtyViewOptions,
  type PtyViewSink,
  VIEW_MAX_UNACKED_CHARS,
  viewPty,
} from './supervision/pty/pty-view.js';
export type {
  Pty,
  PtyExitResult,
  PtyScreenAt,
  PtyState,
  PtyTerminateResult,
  RestartType,
  SpawnPtyOptions,
} from './supervision/pty/types.js';
export { runtimeProcesses } from './supervision/recovery/process-recovery.js';
export {
  listSalvaged,
  type PruneOptions,
  type PruneReport,
  prune,
  type SalvageRef,
} from './supervision/runtime/housekeeping.js';
export { type LaneListing, listLanes } from './supervision/runtime/lane-listing.js';
export { laneLogPath, readLaneLog } from './supervision/runtime/lane-logs.js';
export { reconcile } from './supervision/runtime/reconcile.js';
export { createRuntime } from './supervision/runtime/runtime.js';
export {
  type AttachOptions,
  attachTerminal,
  attachThroughRuntime,
  type TerminalAttachment,
  type ViewerEvents,
} from './supervision/runtime/terminal-attach.js';
export type { ReconciliationReport, Runtime, RuntimeOptions } from './supervision/runtime/types.js';

import { startServer } from './server/start-server.js';
import { provideServer } from './supervision/control/serve-hook.js';

provideServer(startServer);
