import type { Command } from 'commander';

/** Placeholder until the demo lands (issue 8): says what exists. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('run the end-to-end demo (emulated host, two VMs, mixed workload, report)')
    .action(() => {
      console.log('netvsc demo: the full demo is not built yet. What exists now:');
      console.log('  - wire constants for every VMBus/NVSP/RNDIS/NDIS identifier (src/wire/constants.ts)');
      console.log('Run `npm test` for the test suite and `npm run bench` for benchmarks.');
    });
}
