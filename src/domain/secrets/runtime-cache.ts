/**
 * A bounded map of runtime reads, least recently used first out. An entry carries the
 * `changeSeq` of the organization it was built at and counts only while the caller presents the
 * same one: any audited change of the organization makes every older entry a miss, in this
 * process and in every other `hush serve` on the same database.
 */
export class RuntimeCache<V extends { changeSeq: number }> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The entry under `key` if it was built at `changeSeq`; a stale one is dropped. */
  get(key: string, changeSeq: number): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    if (hit.value.changeSeq !== changeSeq) {
      this.bytes -= hit.bytes;
      return undefined;
    }
    this.entries.set(key, hit);
    return hit.value;
  }

  /** Keeps `value` (about `bytes` large), evicting the least recently used beyond the limit. */
  set(key: string, value: V, bytes: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
  }

  /** Bytes held, as estimated by the callers of {@link set}. */
  get size(): number {
    return this.bytes;
  }
}
