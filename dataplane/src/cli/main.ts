// The `switchboard` command line.
import { parseArgs } from 'node:util';
import type { GatewayOptions } from '../gateway.js';

const usage = `usage: switchboard <command> [options]

commands:
  gateway --config FILE [--port N] [--admin-port N] [--host H]
  gateway --configmap NAME [--namespace NS] [--kubeconfig PATH] [--port N] ...
      serve the OpenAI/Anthropic-compatible API on --port (default 8080) and
      /healthz, /readyz, /metrics on --admin-port (default 9090); the config
      comes from a file, or from a ConfigMap watched through the Kubernetes API
      (--namespace defaults to $POD_NAMESPACE, --kubeconfig to $KUBECONFIG or
      the in-cluster service account; with $POD_NAME and $POD_NAMESPACE set the
      applied config hash is written to the pod's annotations)
  mock [--port N] [--ttft-ms N] [--tokens-per-second N] [--fail-rate X] ...
      run the mock LLM provider (see: switchboard mock --help)
  router train|eval|explain [options]
      train, evaluate and explain a learned router (see: switchboard router --help)
`;

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${flag}: got "${value}"; expected a port number 0-65535`);
  return n;
}

class UsageError extends Error {}

function configSource(values: { config?: string; configmap?: string; namespace?: string; kubeconfig?: string }): Pick<GatewayOptions, 'configPath' | 'configMap'> {
  if (values.config !== undefined && values.configmap !== undefined) throw new UsageError('--config and --configmap: pass one of them, not both');
  if (values.configmap === undefined) {
    if (values.namespace !== undefined || values.kubeconfig !== undefined) throw new UsageError('--namespace and --kubeconfig: only with --configmap');
    if (!values.config) throw new UsageError('--config: required (path to a YAML or JSON runtime config), or --configmap NAME');
    return { configPath: values.config };
  }
  if (!values.configmap) throw new UsageError('--configmap: got ""; expected a ConfigMap name');
  const namespace = values.namespace ?? process.env.POD_NAMESPACE;
  if (!namespace) throw new UsageError('--namespace: required with --configmap when POD_NAMESPACE is not set');
  const podName = process.env.POD_NAME;
  const podNamespace = process.env.POD_NAMESPACE ?? namespace;
  return {
    configMap: {
      name: values.configmap,
      namespace,
      ...(values.kubeconfig === undefined ? {} : { kubeconfigPath: values.kubeconfig }),
      ...(podName ? { pod: { name: podName, namespace: podNamespace } } : {}),
    },
  };
}

async function gatewayCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      configmap: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      port: { type: 'string', short: 'p' },
      'admin-port': { type: 'string' },
      host: { type: 'string' },
    },
    strict: true,
  });
  const { startGateway } = await import('../gateway.js');
  const gateway = await startGateway({
    ...configSource(values),
    port: port(values.port, 'port', 8080),
    adminPort: port(values['admin-port'], 'admin-port', 9090),
    host: values.host ?? '127.0.0.1',
    compactHeap: true,
  });
  // After start-up, whose long-lived objects V8 may still allocate old: only request-time
  // allocation is left to the young generation.
  const { turnOffPretenuring } = await import('../lifecycle/pretenuring.js');
  turnOffPretenuring();
  await new Promise<void>((resolve) => {
    // The first signal starts the graceful shutdown; a second one skips to the drain deadline.
    const stop = (): void => {
      void gateway.shutdown().then(() => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}

/** Each command loads only its own modules: the gateway's memory holds no mock or training code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'gateway':
        return await gatewayCommand(rest);
      case 'mock':
        return await (await import('../mock/command.js')).mockCommand(rest);
      case 'router':
        return await (await import('./router.js')).routerCommand(rest);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(usage);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`switchboard: unknown command "${command}"\n${usage}`);
        return 2;
    }
  } catch (error) {
    const message = (error as Error).message;
    const isUsage = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`switchboard ${command}: ${message}\n`);
    return isUsage ? 2 : 1;
  }
}
