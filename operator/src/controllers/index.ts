// The Switchboard reconcilers, wired onto a Manager: GatewayConfig -> runtime ConfigMap and the
// data-plane workload; RoutingModel -> artifact ConfigMap.
import type { KubeClient, Logger, Manager } from '../runtime/index.js';

export interface ControllerOptions {
  /** Watch one namespace; omit to watch all namespaces. */
  namespace?: string;
  /** Data-plane container image (a GatewayConfig's spec.workload.image overrides it). */
  dataPlaneImage: string;
  logger?: Logger;
  /** Concurrent reconciles per controller. Default 2. */
  workers?: number;
}

/** Adds the informers and controllers of every Switchboard kind to `manager` (before manager.start()). */
export function setupControllers(manager: Manager, client: KubeClient, options: ControllerOptions): void {
  // First version: the signature only; the reconcilers follow.
  void manager;
  void client;
  void options;
}
