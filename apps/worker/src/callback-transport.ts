import { isPrivateAddress } from "@provisioner/queue";
import { Agent, buildConnector } from "undici";

/** The receiver's connection landed on an address callbacks may not reach: trying again cannot help. */
export class CallbackAddressRefusedError extends Error {
  override name = "CallbackAddressRefusedError";
}

export interface CallbackAgentOptions {
  /** Let deliveries reach loopback, private and link-local addresses. Default false. */
  allowPrivateNetworks?: boolean;
}

/**
 * The connection pool callbacks are sent through. Unless private networks are allowed,
 * every new connection is checked on the address it actually reached, after DNS, so a
 * name that resolves (or is re-pointed) to 127.0.0.1 or 169.254.169.254 gets nothing:
 * the socket is dropped before a byte of the request is written.
 */
export function createCallbackAgent({ allowPrivateNetworks = false }: CallbackAgentOptions = {}): Agent {
  if (allowPrivateNetworks) return new Agent();
  const connect = buildConnector({});
  return new Agent({
    connect(options, callback) {
      connect(options, (error, socket) => {
        if (error) return callback(error, null);
        const address = socket.remoteAddress ?? "";
        if (address === "" || isPrivateAddress(address)) {
          socket.destroy();
          return callback(
            new CallbackAddressRefusedError(
              `${options.hostname} is at a loopback, private or link-local address ${address || "(unknown)"}`,
            ),
            null,
          );
        }
        return callback(null, socket);
      });
    },
  });
}

/** The refusal behind a failed fetch, if that is why it failed. */
export function addressRefusal(error: unknown): CallbackAddressRefusedError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    if (current instanceof CallbackAddressRefusedError) return current;
    current = current.cause;
  }
  return undefined;
}
