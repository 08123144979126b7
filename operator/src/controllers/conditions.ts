// Status conditions in the shape of metav1.Condition. A reconcile computes the conditions it
// observes now; merging keeps lastTransitionTime from before unless the status flipped, so an
// unchanged observation produces an identical status (and therefore no write).
import type { GatewayConfigStatus } from '@switchboard/crds';

export type Condition = NonNullable<GatewayConfigStatus['conditions']>[number];

/** A condition as a reconcile observes it (the transition time is filled in by merging). */
export type ObservedCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** metav1.Time: RFC 3339 with second precision. */
export function kubeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The API caps condition messages at 4096 characters. */
function clip(message: string | undefined): string | undefined {
  return message !== undefined && message.length > 4096 ? `${message.slice(0, 4093)}...` : message;
}

export function mergeConditions(
  previous: readonly Condition[] | undefined,
  observed: readonly ObservedCondition[],
  generation: number | undefined,
  nowMs: number,
): Condition[] {
  return observed.map((c) => {
    const before = previous?.find((p) => p.type === c.type);
    const lastTransitionTime = before && before.status === c.status ? before.lastTransitionTime : kubeTime(nowMs);
    const message = clip(c.message);
    return {
      type: c.type,
      status: c.status,
      reason: c.reason,
      ...(message === undefined ? {} : { message }),
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      lastTransitionTime,
    };
  });
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
