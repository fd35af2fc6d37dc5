/**
 * What the domain tells the operator's metrics (`/metrics`), without knowing how they are kept:
 * the composition root passes an implementation over prom-client; without one nothing is kept.
 */
export interface Telemetry {
  /** A runtime read answered from the cache (`hit`) or resolved anew. */
  runtimeRead(hit: boolean): void;
  /** One group commit of ACCESS events: how many, and how long the transaction took. */
  auditBatch(events: number, seconds: number): void;
}

export const NO_TELEMETRY: Telemetry = {
  runtimeRead: () => undefined,
  auditBatch: () => undefined,
};
