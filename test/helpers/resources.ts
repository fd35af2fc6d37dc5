interface Resource {
  name: string;
  close: () => unknown;
  lingering: boolean;
}

const open = new Set<Resource>();

/**
 * Registers something a test opened. `lingering` resources (temp dirs, databases) are cleaned
 * after the file; the rest (servers, pools, processes) must be closed by the test itself, and
 * the global check fails the file when one is left open.
 */
export function track(name: string, close: () => unknown, opts: { lingering?: boolean } = {}) {
  const resource = { name, close, lingering: opts.lingering ?? false };
  open.add(resource);
  return {
    async close() {
      if (!open.delete(resource)) return;
      await close();
    },
  };
}

/** Closes everything still registered and returns the names of non-lingering ones left open. */
export async function closeAll(): Promise<string[]> {
  const leaked: string[] = [];
  for (const r of [...open].reverse()) {
    open.delete(r);
    if (!r.lingering) leaked.push(r.name);
    await r.close();
  }
  return leaked;
}
