import { describe, expect, it } from '@jest/globals';
import { describeRequest, leaseNamespaceOf, parseFlags, UsageError, type OperatorFlags } from './main.js';

const parse = (args: string[], env: NodeJS.ProcessEnv = {}): OperatorFlags => {
  const flags = parseFlags(['--data-plane-image', 'img:1', ...args], env);
  if (flags === 'help') throw new Error('unexpected help');
  return flags;
};

describe('parseFlags', () => {
  it('fills the documented defaults', () => {
    expect(parse([])).toEqual({
      kubeconfig: undefined,
      namespace: undefined,
      dataPlaneImage: 'img:1',
      metricsPort: 8081,
      metricsBindAddress: '0.0.0.0',
      leaderElect: true,
      leaseNamespace: undefined,
      leaseName: 'switchboard-operator',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      identity: undefined,
      workers: 2,
      logLevel: 'info',
    });
  });

  it('accepts --flag value and --flag=value', () => {
    const flags = parse(['--kubeconfig=/k', '--namespace', 'team-a', '--metrics-port=0', '--lease-name', 'op.lock', '--identity', 'pod-1', '--workers', '4']);
    expect(flags).toMatchObject({ kubeconfig: '/k', namespace: 'team-a', metricsPort: 0, leaseName: 'op.lock', identity: 'pod-1', workers: 4 });
  });

  it('KEDA: --keda-scaler-address renders ScaledObjects, --external-scaler-port serves the scaler', () => {
    expect(parse(['--keda-scaler-address', 'switchboard-operator.switchboard.svc:9443', '--external-scaler-port=9443'])).toMatchObject({
      kedaScalerAddress: 'switchboard-operator.switchboard.svc:9443',
      externalScalerPort: 9443,
    });
    expect(() => parse(['--external-scaler-port', '0'])).toThrow(UsageError);
  });

  it('reads lease timings as durations', () => {
    const flags = parse(['--leader-elect-lease-duration', '1m', '--leader-elect-renew-deadline=30s', '--leader-elect-retry-period', '500ms']);
    expect(flags).toMatchObject({ leaseDurationMs: 60_000, renewDeadlineMs: 30_000, retryPeriodMs: 500 });
  });

  it.each([
    [['--leader-elect'], true],
    [['--leader-elect=true'], true],
    [['--leader-elect=false'], false],
    [['--no-leader-elect'], false],
  ])('%j sets leader election to %s', (args, expected) => {
    expect(parse(args).leaderElect).toBe(expected);
  });

  it('takes the identity and log level from the pod environment when not given', () => {
    expect(parse([], { POD_NAME: 'operator-7d9f', LOG_LEVEL: 'debug' })).toMatchObject({ identity: 'operator-7d9f', logLevel: 'debug' });
  });

  it.each([
    [['--metrics-port', '-1'], '--metrics-port must be an integer from 0 to 65535, got "-1"'],
    [['--metrics-port', '1.5'], '--metrics-port must be an integer from 0 to 65535, got "1.5"'],
    [['--workers', '0'], '--workers must be an integer from 1 to 64, got "0"'],
    [['--leader-elect', 'false'], 'unexpected argument "false"'],
    [['--no-leader-elect=true'], '--no-leader-elect takes no value'],
    [['--no-namespace'], 'unknown flag --no-namespace'],
    [['--lease-name', 'Upper'], '--lease-name must be a Lease name'],
    [['--log-level', 'loud'], '--log-level must be one of'],
    [['--namespace='], '--namespace must not be empty'],
    [['--leader-elect-renew-deadline', '10'], '--leader-elect-renew-deadline must be a duration such as 500ms, 10s or 1m, got "10"'],
    [['--leader-elect-renew-deadline', '20s'], '--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline'],
    [['--leader-elect-retry-period', '9s'], '--leader-elect-renew-deadline must be greater than 1.2 × --leader-elect-retry-period'],
  ])('%j is rejected: %s', (args, message) => {
    expect(() => parse(args)).toThrow(UsageError);
    expect(() => parse(args)).toThrow(message);
  });

  it('returns help for -h and --help, even with other flags missing', () => {
    expect(parseFlags(['-h'])).toBe('help');
    expect(parseFlags(['--help'])).toBe('help');
  });
});

describe('leaseNamespaceOf', () => {
  const noFile = (): string => {
    throw new Error('ENOENT');
  };
  it('prefers --lease-namespace, then --namespace, then the pod namespace, then default', () => {
    expect(leaseNamespaceOf(parse(['--lease-namespace', 'ops', '--namespace', 'team']), {}, noFile)).toBe('ops');
    expect(leaseNamespaceOf(parse(['--namespace', 'team']), { POD_NAMESPACE: 'sys' }, noFile)).toBe('team');
    expect(leaseNamespaceOf(parse([]), { POD_NAMESPACE: 'sys' }, noFile)).toBe('sys');
    expect(leaseNamespaceOf(parse([]), {}, () => 'from-sa\n')).toBe('from-sa');
    expect(leaseNamespaceOf(parse([]), {}, noFile)).toBe('default');
  });
});

describe('describeRequest', () => {
  it.each([
    ['GET', '/api/v1/namespaces/a/configmaps', {}, 'list', 'configmaps'],
    ['GET', '/api/v1/configmaps', { watch: true }, 'watch', 'configmaps'],
    ['GET', '/apis/coordination.k8s.io/v1/namespaces/a/leases/op', {}, 'get', 'leases'],
    ['PUT', '/apis/switchboard.dev/v1alpha1/namespaces/a/gatewayconfigs/gw/status', {}, 'update', 'gatewayconfigs/status'],
    ['PATCH', '/api/v1/namespaces/a/configmaps/gw-runtime', { contentType: 'application/apply-patch+yaml' }, 'apply', 'configmaps'],
    ['PATCH', '/api/v1/namespaces/a/configmaps/gw-runtime', { contentType: 'application/merge-patch+json' }, 'patch', 'configmaps'],
    ['POST', '/api/v1/namespaces', {}, 'create', 'namespaces'],
    ['GET', '/api/v1/namespaces/a', {}, 'get', 'namespaces'],
    ['DELETE', '/apis/apps/v1/namespaces/a/deployments/gw', {}, 'delete', 'deployments'],
  ] as const)('%s %s -> %s %s', (method, path, options, verb, resource) => {
    expect(describeRequest(method, path, options)).toEqual({ verb, resource });
  });
});
