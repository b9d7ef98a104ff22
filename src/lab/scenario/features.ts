/**
 * The netdev features a netvsc NIC exposes to `ethtool -k/-K`, by ethtool's long names, and the
 * short aliases ethtool accepts for them (`ethtool -K eth0 lro off` = large-receive-offload).
 * Scenarios and the `netvsc ethtool` command share this table so both spell features alike.
 */
export const FEATURE_NAMES = [
  'rx-checksumming',
  'tx-checksumming',
  'scatter-gather',
  'tcp-segmentation-offload',
  'generic-segmentation-offload',
  'generic-receive-offload',
  'large-receive-offload',
  'rx-vlan-offload',
  'tx-vlan-offload',
  'receive-hashing',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

/** ethtool's short option names (`ethtool -K DEV rx on`) for the same features. */
export const FEATURE_ALIASES: Readonly<Record<string, FeatureName>> = Object.freeze({
  rx: 'rx-checksumming',
  tx: 'tx-checksumming',
  sg: 'scatter-gather',
  tso: 'tcp-segmentation-offload',
  gso: 'generic-segmentation-offload',
  gro: 'generic-receive-offload',
  lro: 'large-receive-offload',
  rxvlan: 'rx-vlan-offload',
  txvlan: 'tx-vlan-offload',
  rxhash: 'receive-hashing',
});

/** A long or short feature name → the long name, or undefined if it is not one of ours. */
export function featureName(s: string): FeatureName | undefined {
  if ((FEATURE_NAMES as readonly string[]).includes(s)) return s as FeatureName;
  return FEATURE_ALIASES[s];
}
