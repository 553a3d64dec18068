/**
 * From a checked `.x` specification to TypeScript text. Pure and
 * deterministic: no disk, no clock.
 */
export { type GenerateOptions, generateModule } from "./generate.js";
export { camelCase, pascalCase, procedureMethodNames } from "./names.js";
