// Generic controller machinery (no Switchboard types): clients, informers, a work queue,
// controllers, leader election and the process manager that ties them together.
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { FakeClock, realClock, settle, sleep, timeoutSignal, type Clock, type TimerHandle } from './clock.js';
export {
  Controller,
  controllerOwnerKeys,
  type ControllerOptions,
  type OwnerSelector,
  type Reconcile,
  type ReconcileContext,
  type ReconcileResult,
} from './controller.js';
export {
  Informer,
  resourceListWatcher,
  type InformerHandlers,
  type InformerHealth,
  type InformerOptions,
  type ListResult,
  type ListWatcher,
  type ResourceListWatcherOptions,
  type WatchEvent,
} from './informer.js';
export {
  collectionPath,
  isConflict,
  isGone,
  isNotFound,
  KubeApiError,
  KubeClient,
  objectKey,
  objectPath,
  splitKey,
  WatchInactiveError,
  type KubeObject,
  type KubeStatus,
  type ObjectMeta,
  type OwnerReference,
  type RawWatchEvent,
  type RequestOptions,
  type ResourceRef,
  type WatchHandlers,
  type WatchOptions,
} from './kube.js';
export {
  defaultIdentity,
  kubeLeaseClient,
  LeaderElector,
  microTime,
  type LeaderCallbacks,
  type LeaderElectorOptions,
  type LeaseClient,
  type LeaseRecord,
  type LeaseSpec,
} from './leader.js';
export { defaultLogger, errorMessage, silentLogger, type Logger } from './logger.js';
export { Manager, type ManagerExit, type ManagerOptions, type Readiness } from './manager.js';
export { METRIC_PREFIX } from './metrics.js';
export { TokenBucket, WorkQueue, type WorkQueueOptions } from './queue.js';
