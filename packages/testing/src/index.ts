// Test support only; nothing here ships in a process.
export { type PrivateRedis, type PrivateRedisOptions, startPrivateRedis } from "./private-redis.ts";
export { type RedisCluster, startRedisCluster } from "./redis-cluster.ts";
export { readAllValues } from "./redis-values.ts";
export { countSocketWrites, type SocketWrites } from "./socket-writes.ts";
export { startTcpGate, type TcpGate } from "./tcp-gate.ts";
