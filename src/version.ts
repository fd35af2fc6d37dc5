/** Hush's version, reported by `hush --version`, `/api/v1/health` and the OpenAPI document. */
export const VERSION = '0.1.0';
