/**
 * Classic libpcap file format (not pcapng): a 24-byte file header, then per frame a 16-byte
 * record header and the captured bytes. We write little-endian with microsecond timestamps,
 * which tcpdump, tshark and every pcap library read.
 */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
