/**
 * The demo's workload as a scenario: one host, two VMs with one synthetic NIC each on a trunk
 * port (VLAN 100 tagged, everything else untagged), a bulk TCP stream with LSO one way plus
 * fragmented UDP and a VLAN 100 flow, many small UDP flows the other way, and a receive-ring
 * change (-G, growing the ring) halfway. Built through validateScenario so the demo runs
 * exactly what `netvsc run` would run from a file. What the issue asks for but the lab does
 * not have yet is listed in DEMO_SKIPPED and shown.
 */
import type { HostProfileName } from '../../host/index.js';
import { validateScenario, type ScenarioSpec } from '../../lab/index.js';

/** Parts of the intended workload left out, and why (printed by the demo and in its report). */
export const DEMO_SKIPPED: readonly string[] = [];

/** The demo's NIC names: `netvsc ethtool -S nic0` works against `netvsc demo --keep`. */
export const DEMO_NICS = ['nic0', 'nic1'] as const;

/** The VLAN the demo's tagged flow uses (both ports are trunks carrying it). */
export const DEMO_VLAN = 100;

/** Receive sections at start and after the -G halfway: the ring grows, so nothing needs to shrink. */
export const DEMO_RX_SECTIONS = { start: 4096, grown: 8192 } as const;

/**
 * The VF removal and re-add halfway (issue 8 item 1): nic0's VF (present since boot) is removed
 * (planned: the data path goes back to synthetic first) just before the -G, and a new one is
 * added just after; the host shows it after the demo's VF delay and the data path returns to it.
 */
export function demoVfEvents(durationMs: number): readonly Record<string, unknown>[] {
  return [
    { at: Math.round(durationMs * 0.4), nic: DEMO_NICS[0], action: 'vf-remove' },
    { at: Math.round(durationMs * 0.6), nic: DEMO_NICS[0], action: 'vf-add' },
  ];
}

/** The host's VF show delay: Hyper-V's 1 s, shorter for short runs so the re-added VF still carries traffic. */
export function demoVfDelayMs(durationMs: number): number {
  return Math.min(1000, Math.round(durationMs / 20));
}

export function demoScenario(profile: HostProfileName, durationMs: number): ScenarioSpec {
  const nic = (name: string, ipv4: string) => ({ name, queues: 4, ipv4, rxSections: DEMO_RX_SECTIONS.start, vlan: { mode: 'trunk', allowed: [DEMO_VLAN] }, vf: 'boot' });
  return validateScenario(
    {
      name: 'netvsc-demo',
      description: `Two VMs on one emulated Hyper-V host: bulk TCP with LSO, fragmented UDP and a VLAN ${DEMO_VLAN} flow vm1→vm2, 32 small UDP flows vm2→vm1; each NIC has an SR-IOV VF: nic0's is removed and re-added around ethtool -G rx ${DEMO_RX_SECTIONS.grown} on vm2 halfway.`,
      durationMs,
      host: { profile, vfAddDelayMs: demoVfDelayMs(durationMs) },
      vms: [
        { name: 'vm1', vcpus: 4, nics: [nic(DEMO_NICS[0], '10.0.0.1')] },
        { name: 'vm2', vcpus: 4, nics: [nic(DEMO_NICS[1], '10.0.0.2')] },
      ],
      flows: [
        { name: 'bulk-tcp', protocol: 'tcp', from: DEMO_NICS[0], to: DEMO_NICS[1], srcPort: 40000, dstPort: 5201, size: 65535, lso: true, rate: '1gbit' },
        { name: 'small-udp', protocol: 'udp', from: DEMO_NICS[1], to: DEMO_NICS[0], parallel: 32, srcPort: 50000, dstPort: 5353, size: 128, rate: '500pps' },
        { name: 'frag-udp', protocol: 'udp', from: DEMO_NICS[0], to: DEMO_NICS[1], srcPort: 41000, dstPort: 5400, size: 4000, fragment: true, rate: '500pps' },
        { name: `vlan${DEMO_VLAN}-udp`, protocol: 'udp', from: DEMO_NICS[0], to: DEMO_NICS[1], srcPort: 42000, dstPort: 5500, size: 256, vlan: DEMO_VLAN, rate: '1kpps' },
      ],
      events: [{ at: Math.round(durationMs / 2), nic: DEMO_NICS[1], action: 'rings', rx: DEMO_RX_SECTIONS.grown }, ...demoVfEvents(durationMs)],
    },
    'demo',
  );
}
