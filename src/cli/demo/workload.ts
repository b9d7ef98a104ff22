/**
 * The demo's workload as a scenario: one host, two VMs with one synthetic NIC each, a bulk TCP
 * stream one way, many small UDP flows the other, and a receive-ring change (-G) halfway. Built
 * through validateScenario so the demo runs exactly what `netvsc run` would run from a file.
 * What the issue asks for but the system does not have yet is listed in DEMO_SKIPPED and shown.
 */
import type { HostProfileName } from '../../host/index.js';
import { validateScenario, type ScenarioSpec } from '../../lab/index.js';

/** Parts of the intended workload left out, and why (printed by the demo and in its report). */
export const DEMO_SKIPPED: readonly string[] = [
  'SR-IOV VF and its removal/re-add: the lab does not wire VFs to its VMs yet (issue 6)',
  'LSO on the bulk stream: the lab traffic apps send no LSO super-frames yet',
  'fragmented UDP: the lab traffic apps do not fragment yet',
  'VLAN: the virtual switch has no VLAN port modes yet',
];

/** The demo's NIC names: `netvsc ethtool -S nic0` works against `netvsc demo --keep`. */
export const DEMO_NICS = ['nic0', 'nic1'] as const;

export function demoScenario(profile: HostProfileName, durationMs: number): ScenarioSpec {
  return validateScenario(
    {
      name: 'netvsc-demo',
      description: 'Two VMs on one emulated Hyper-V host: a bulk TCP stream vm1→vm2, 32 small UDP flows vm2→vm1, and ethtool -G rx 512 on vm2 halfway.',
      durationMs,
      host: { profile },
      vms: [
        { name: 'vm1', vcpus: 4, nics: [{ name: DEMO_NICS[0], queues: 4, ipv4: '10.0.0.1' }] },
        { name: 'vm2', vcpus: 4, nics: [{ name: DEMO_NICS[1], queues: 4, ipv4: '10.0.0.2' }] },
      ],
      flows: [
        { name: 'bulk-tcp', protocol: 'tcp', from: DEMO_NICS[0], to: DEMO_NICS[1], srcPort: 40000, dstPort: 5201, size: 1514, rate: '1gbit' },
        { name: 'small-udp', protocol: 'udp', from: DEMO_NICS[1], to: DEMO_NICS[0], parallel: 32, srcPort: 50000, dstPort: 5353, size: 128, rate: '500pps' },
      ],
      events: [{ at: Math.round(durationMs / 2), nic: DEMO_NICS[1], action: 'rings', rx: 512 }],
    },
    'demo',
  );
}
