import os from "node:os";

/** The machine a benchmark ran on, for the record next to its numbers. */
export function machineInfo(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || "unknown CPU";
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${model}, ${cpus.length} cores, ${memGiB} GiB RAM, ${os.platform()} ${os.release()} ${os.arch()}, Node ${process.version}`;
}
