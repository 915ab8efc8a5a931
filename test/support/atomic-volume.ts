import { mkdir, mkdtemp, readdir, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Projects files into a directory exactly as the kubelet fills a ConfigMap or Secret volume
 * (k8s.io/kubernetes pkg/volume/util/atomic_writer.go, steps 5-12 of AtomicWriter.Write): the data
 * goes into a new `..<timestamp>.<random>/` directory, a `..data_tmp` symlink to it is renamed over
 * `..data`, each top-level key gets a `<key> -> ..data/<key>` symlink, keys no longer in the payload
 * lose theirs, and the previous timestamped directory is removed. Call it again to update the volume.
 */
export async function writeAtomicVolume(target: string, payload: Record<string, string>): Promise<void> {
  await mkdir(target, { recursive: true });
  const dataDir = path.join(target, "..data");
  const oldTsDir = await readlink(dataDir).catch(() => undefined);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-T:]/g, "_");
  const tsDir = await mkdtemp(path.join(target, `..${stamp}.`));
  for (const [key, content] of Object.entries(payload)) {
    await mkdir(path.dirname(path.join(tsDir, key)), { recursive: true });
    await writeFile(path.join(tsDir, key), content);
  }
  const tmpLink = path.join(target, "..data_tmp");
  await symlink(path.basename(tsDir), tmpLink);
  await rename(tmpLink, dataDir);
  const visible = new Set(Object.keys(payload).map((key) => key.split("/")[0]!));
  const present = (await readdir(target)).filter((name) => !name.startsWith(".."));
  for (const name of visible) {
    if (!present.includes(name)) await symlink(path.join("..data", name), path.join(target, name));
  }
  for (const name of present) if (!visible.has(name)) await rm(path.join(target, name));
  if (oldTsDir) await rm(path.join(target, oldTsDir), { recursive: true, force: true });
}
