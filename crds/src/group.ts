// The API group and version both custom resources are served under, and shapes they share.
import { z } from 'zod';

export const GROUP = 'switchboard.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A Kubernetes object name (DNS subdomain): lowercase letters, digits, '-' and '.'. */
export const ObjectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'a DNS subdomain name (lowercase letters, digits, "-" and ".")');

/** A reference to an object in the same namespace. */
export const LocalObjectReference = z
  .strictObject({ name: ObjectName.describe('Name of the object, in the same namespace as this resource.') })
  .describe('Reference to an object in the same namespace.');

export const Condition = z
  .strictObject({
    type: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Z][A-Za-z0-9]*$/, 'a CamelCase condition type')
      .describe('Condition type: Ready, ConfigApplied or Degraded.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Whether the condition holds: True, False or Unknown.'),
    reason: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/, 'a CamelCase reason')
      .describe('Machine-readable CamelCase reason for the last transition, e.g. SecretNotFound.'),
    message: z.string().max(4096).optional().describe('Human-readable details; names the missing or invalid object when there is one.'),
    observedGeneration: z.number().int().min(0).optional().describe('metadata.generation of the spec this condition was computed from.'),
    lastTransitionTime: z.string().meta({ format: 'date-time' }).describe('When the status last changed (RFC 3339).'),
  })
  .describe('An observation of one aspect of the resource, in the shape of metav1.Condition.');

export const Conditions = z
  .array(Condition)
  .max(16)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .describe('Current conditions, one per type.');
