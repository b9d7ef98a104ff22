/**
 * EtherType and IP protocol numbers the packet views need, spelled as Linux spells them
 * (include/uapi/linux/if_ether.h, in.h, in6.h) so one grep finds the kernel and our code.
 */
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_IPV6 = 0x86dd;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

/** Ethernet header without and with one 802.1Q tag. */
export const ETH_HLEN = 14;
export const VLAN_ETH_HLEN = 18;
