import { BlockList, isIP } from "node:net";

/**
 * Addresses a callback may not reach unless private networks are allowed: whoever can
 * submit a job would otherwise make the worker POST to the cloud's metadata service or
 * to services behind the firewall (server-side request forgery).
 */
const privateNetworks = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network", and the unspecified 0.0.0.0
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT: some clouds' metadata services live here
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local: 169.254.169.254 is the usual metadata service
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
] as const) {
  privateNetworks.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local, deprecated but still routed inside some networks
  ["fc00::", 7], // unique-local
] as const) {
  privateNetworks.addSubnet(network, prefix, "ipv6");
}

/**
 * Whether an IP address (v4, or v6 with or without brackets) is loopback, private,
 * link-local, unique-local or unspecified. IPv4-mapped IPv6 (`::ffff:127.0.0.1`,
 * `::ffff:7f00:1`) is judged by the IPv4 address it carries. Not an address: false.
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 0) return false;
  return privateNetworks.check(bare, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Why a callback URL is refused before anything is sent, or `undefined` when it may be
 * tried: `http` and `https` only, and a host written as an address must not be private.
 * A host name passes here; the address it resolves to is checked when the worker
 * connects, so DNS cannot be used to get around the rule.
 */
export function callbackUrlProblem(url: string, { allowPrivateNetworks = false } = {}): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must be an http or https URL";
  // WHATWG URL has already normalised 2130706433, 0x7f.1 and [::ffff:127.0.0.1] into plain addresses.
  if (!allowPrivateNetworks && isPrivateAddress(parsed.hostname)) {
    return `must not point at a loopback, private or link-local address (${parsed.hostname})`;
  }
  return undefined;
}
