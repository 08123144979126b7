// KEDA external scaler: the gRPC server (server.ts), the per-gateway load from the data-plane pods'
// metrics (load.ts) and how those pods are found (targets.ts).
export { LoadTracker, parseMetrics, defaultFetcher, type GatewayLoad, type MetricsFetcher, type PodSample, type ScrapeTarget, type TargetLister } from './load.js';
export { startExternalScaler, scalerClientConstructor, parseRef, PROTO_PATH, METRICS, type ExternalScaler, type ExternalScalerOptions, type Metric } from './server.js';
export { kubeTargets } from './targets.js';
