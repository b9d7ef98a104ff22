/** Resolves on the first SIGINT or SIGTERM: how a kept demo or a foreground `netvsc up` is stopped. */
export function untilStopped(): Promise<void> {
  return new Promise((r) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      r();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
