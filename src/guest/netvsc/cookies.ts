/**
 * Requestor cookies (protocol.md §2.11): the number the requestor maps a trans_id back to. One
 * per-channel requestor serves three kinds of request, told apart by range, so a completion is
 * routed without any lookup table:
 *  - data sends: the TX descriptor slot (0 … 2^20), see tx.ts;
 *  - NVSP init-type requests (INIT, RECV/SEND_BUF, SUBCHANNEL): NVSP_COOKIE_BASE + sequence;
 *  - RNDIS control packets (GPA-direct, channel_type 1): RNDIS_COOKIE_BASE + control page index.
 */
export const NVSP_COOKIE_BASE = 1 << 24;
export const RNDIS_COOKIE_BASE = 1 << 23;
export const DATA_COOKIE_LIMIT = 1 << 20;

/** NVSP 107 section index meaning "no section" (NETVSC_INVALID_INDEX as u32, §3.4). */
export const NO_SECTION = 0xffffffff;
