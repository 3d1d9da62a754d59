// Moved to @provisioner/json, which the sandbox can import without depending on this package.
// Kept for `enqueue.ts`'s import while another branch rewrites that file; point it at
// @provisioner/json and delete this file when the branches meet.
export { canonicalJson, sha256 } from "@provisioner/json";
