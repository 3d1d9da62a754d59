// The package's whole surface: JSON values written canonically and filled from templates.
// It depends on nothing, so the sandbox (which must not depend on the product) and the CLI
// (which must not load Redis) share these with the queue package. Nothing else is exported.
export { canonicalJson, sha256 } from "./canonical.ts";
export { fillTemplate, placeholdersOf, type TemplateValues, valueAtPath } from "./template.ts";
