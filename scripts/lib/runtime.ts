/**
 * The Temporal Core runtime for `npm start`, installed once, before anything native runs, without
 * the SDK's default SIGINT/SIGTERM handlers: the runner stops its worker itself, in order.
 * Imported lazily, so the services can start while the heavy SDK loads.
 */
let installed: Promise<void> | undefined;

export function installRuntime(logLevel: string): Promise<void> {
  installed ??= import('@temporalio/worker').then(({ DefaultLogger, Runtime }) => {
    Runtime.install({
      logger: new DefaultLogger(logLevel === 'debug' ? 'DEBUG' : 'WARN'),
      shutdownSignals: [],
    });
  });
  return installed;
}
