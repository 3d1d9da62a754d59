import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { callbackUrlProblem, isPrivateAddress } from "./callback-address.ts";

/** The IPv4 rule written out independently, as ranges of 32-bit numbers. */
const privateV4Ranges: [number, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
].map(([network, bits]) => {
  const start = toNumber(network as string);
  return [start, start + 2 ** (32 - (bits as number)) - 1];
});
function toNumber(dotted: string): number {
  return dotted.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}
const isPrivateV4 = (n: number) => privateV4Ranges.some(([low, high]) => n >= low && n <= high);
const dotted = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");
const hexMapped = (n: number) => `::ffff:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;

// Half the draws inside a private range, so both answers are exercised.
const ipv4 = fc.oneof(
  fc.nat({ max: 2 ** 32 - 1 }),
  fc.constantFrom(...privateV4Ranges).chain(([low, high]) => fc.integer({ min: low, max: high })),
);

describe("isPrivateAddress", () => {
  it("judges every IPv4 address, and its mapped IPv6 forms, by the same ranges", () => {
    fc.assert(
      fc.property(ipv4, (n) => {
        const expected = isPrivateV4(n);
        expect(isPrivateAddress(dotted(n))).toBe(expected);
        expect(isPrivateAddress(`::ffff:${dotted(n)}`)).toBe(expected);
        expect(isPrivateAddress(hexMapped(n))).toBe(expected);
        expect(isPrivateAddress(`[${hexMapped(n)}]`)).toBe(expected);
      }),
    );
  });

  it.each([
    ["::", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["fe80::1", true],
    ["febf:ffff::1", true],
    ["fc00::1", true],
    ["fd12:3456::1", true],
    ["169.254.169.254", true],
    ["2001:4860:4860::8888", false],
    ["2606:4700::1111", false],
    ["fe7f::1", false],
    ["8.8.8.8", false],
    ["172.32.0.1", false],
    ["100.128.0.1", false],
    ["example.com", false],
    ["localhost", false],
  ])("%s → %s", (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it("calls every unique-local and link-local IPv6 address private, and global unicast not", () => {
    const groups = (first: fc.Arbitrary<number>) =>
      fc
        .tuple(first, fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }))
        .map(([head, rest]) => [head, ...rest].map((g) => g.toString(16)).join(":"));
    fc.assert(fc.property(groups(fc.integer({ min: 0xfc00, max: 0xfdff })), (a) => isPrivateAddress(a) === true));
    fc.assert(fc.property(groups(fc.integer({ min: 0xfe80, max: 0xfebf })), (a) => isPrivateAddress(a) === true));
    fc.assert(fc.property(groups(fc.integer({ min: 0x2000, max: 0x3fff })), (a) => isPrivateAddress(a) === false));
  });
});

describe("callbackUrlProblem", () => {
  it("refuses every way of writing a private IPv4 address in a URL, and no public one", () => {
    fc.assert(
      fc.property(ipv4, (n) => {
        const forms = [
          `http://${dotted(n)}/hook`,
          `https://${n}/hook`, // a bare integer, which WHATWG URL reads as an address
          `http://0x${n.toString(16)}:8080/hook`,
          `http://[::ffff:${dotted(n)}]/hook`,
          `http://[${hexMapped(n)}]/hook`,
        ];
        for (const url of forms) expect(callbackUrlProblem(url) !== undefined, url).toBe(isPrivateV4(n));
      }),
    );
  });

  it.each([
    "http://169.254.169.254/latest/meta-data/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://0/",
    "http://[::]/",
    "http://[::1]:3000/",
    "https://[fd00::5]/hook",
    "http://[fe80::1%25eth0]/",
  ])("refuses %s", (url) => {
    expect(callbackUrlProblem(url)).toMatch(/loopback, private or link-local|not a URL/);
  });

  it.each([
    "https://example.com/hook",
    "http://localhost:3000/hook", // a name: judged on the address the worker connects to
    "https://8.8.8.8/hook",
    "https://[2001:db8::1]/hook",
  ])("lets %s through", (url) => {
    expect(callbackUrlProblem(url)).toBeUndefined();
  });

  it.each(["ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:6379/_", "javascript:alert(1)"])(
    "refuses the scheme of %s",
    (url) => {
      expect(callbackUrlProblem(url)).toBe("must be an http or https URL");
    },
  );

  it("lets private addresses through when private networks are allowed", () => {
    expect(callbackUrlProblem("http://127.0.0.1:9000/hook", { allowPrivateNetworks: true })).toBeUndefined();
    expect(callbackUrlProblem("ftp://127.0.0.1/", { allowPrivateNetworks: true })).toBeDefined();
  });
});
