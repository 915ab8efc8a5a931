/**
 * A real Kubernetes test control plane (etcd + kube-apiserver on loopback),
 * in the manner of controller-runtime's envtest. See
 * docs/development.md "Test control plane".
 *
 * The binaries are built from Go modules by test/controlplane/build.sh (cached
 * under ~/.cache/switchboard/controlplane/...). Certificates are made with the
 * openssl CLI in a fresh temp dir per control plane; etcd keeps its data there
 * across API server restarts, and a restarted API server keeps its port and
 * certificates, so existing clients reconnect.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, openSync, closeSync, readFileSync } from "node:fs";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { runBuildScript } from "./build-script.js";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BUILD_SCRIPT = join(REPO_ROOT, "test", "controlplane", "build.sh");

/** The operator's identity, as the in-cluster ServiceAccount would present it. */
export const OPERATOR_NAMESPACE = "switchboard-system";
export const OPERATOR_SERVICE_ACCOUNT = "switchboard-operator";
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;
export const OPERATOR_GROUPS = [
  "system:serviceaccounts",
  `system:serviceaccounts:${OPERATOR_NAMESPACE}`,
  "system:authenticated",
] as const;

export interface ControlPlaneOptions {
  /**
   * Directory holding kube-apiserver, etcd and kubectl. Default: the env var
   * SWITCHBOARD_CONTROLPLANE_BIN_DIR, else whatever build.sh prints (it
   * builds them on first use, which takes a while).
   */
  binDir?: string;
  /** Parent of the per-control-plane temp dir. Default: os.tmpdir(). */
  tmpRoot?: string;
  /** Keep the temp dir (certs, data, logs) after stop(). Default: env SWITCHBOARD_KEEP_CONTROLPLANE=1. */
  keepTempDir?: boolean;
  /** How long to wait for etcd and for /readyz, per start. Default 90 s. */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags ("--name=value"), appended after the defaults. */
  extraApiServerArgs?: string[];
  /** Where build progress goes while building. Default: process.stderr. */
  buildLog?: NodeJS.WritableStream;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Kubeconfig for a client-cert user in group system:masters. */
  adminKubeconfigPath: string;
  /**
   * Kubeconfig for user system:serviceaccount:switchboard-system:switchboard-operator
   * (groups system:serviceaccounts, system:serviceaccounts:switchboard-system,
   * system:authenticated): it can do only what RBAC grants it.
   */
  operatorKubeconfigPath: string;
  /** Where kube-apiserver, etcd and kubectl live. */
  binDir: string;
  /** Temp dir with certs/, etcd-data/, logs/ and the kubeconfigs. */
  dir: string;
  /** PEM file of the CA that signed the serving and client certs. */
  caCertPath: string;
  /** http://127.0.0.1:<port> of etcd. */
  etcdUrl: string;
  /** Stop then start the API server on the same port with the same certs. */
  restartApiServer(): Promise<void>;
  stopApiServer(): Promise<void>;
  /** Start it again (no-op if running) and wait for /readyz. */
  startApiServer(): Promise<void>;
  /** Kubeconfig for another client-cert identity; returns its path. */
  writeUserKubeconfig(name: string, user: string, groups?: readonly string[]): Promise<string>;
  /** Run the cached kubectl (admin kubeconfig unless given). Rejects on non-zero exit. */
  kubectl(
    args: readonly string[],
    opts?: { kubeconfig?: string; input?: string },
  ): Promise<{ stdout: string; stderr: string }>;
  /** Stop both processes and remove the temp dir (unless kept). Idempotent. */
  stop(): Promise<void>;
}

/** Runs build.sh (a no-op when cached) and returns the bin dir it prints. */
export async function ensureControlPlaneBinaries(
  log: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  const fromEnv = process.env.SWITCHBOARD_CONTROLPLANE_BIN_DIR;
  if (fromEnv) return fromEnv;
  return runBuildScript(BUILD_SCRIPT, log);
}

/** Builds or finds the binaries, starts etcd and kube-apiserver, writes kubeconfigs. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = opts.binDir ?? (await ensureControlPlaneBinaries(opts.buildLog));
  for (const bin of ["kube-apiserver", "etcd", "kubectl"]) {
    if (!existsSync(join(binDir, bin))) throw new Error(`${bin} not found in ${binDir}`);
  }
  const dir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), "switchboard-cp-"));
  const cp = new LocalControlPlane(binDir, dir, opts);
  try {
    await cp.init();
  } catch (err) {
    await cp.stop({ keepOnError: true });
    throw err;
  }
  return cp;
}

/** Kubeconfig paths the test global setup exposes through the environment. */
export function testKubeconfigsFromEnv(): { admin: string; operator: string | undefined } | undefined {
  const admin = process.env.SWITCHBOARD_TEST_KUBECONFIG;
  if (!admin) return undefined;
  return { admin, operator: process.env.SWITCHBOARD_TEST_OPERATOR_KUBECONFIG || undefined };
}

// ---------------------------------------------------------------------------

/** Every live child of every control plane in this process, killed on exit. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of liveChildren) c.kill("SIGKILL");
    });
  }
}

/** util-linux setpriv makes the kernel SIGKILL a child if we die without cleanup. */
let pdeathsigSupport: boolean | undefined;
function withParentDeathSignal(cmd: string, args: string[]): [string, string[]] {
  if (pdeathsigSupport === undefined) {
    pdeathsigSupport = process.platform === "linux" && existsSync("/usr/bin/setpriv");
  }
  return pdeathsigSupport ? ["/usr/bin/setpriv", ["--pdeathsig", "KILL", "--", cmd, ...args]] : [cmd, args];
}

interface Managed {
  name: string;
  child: ChildProcess;
  logPath: string;
  exited: Promise<number | null>;
}

function logTail(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, "utf8").trimEnd().split("\n");
    return text.slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const addr = srv.address();
  srv.close();
  await once(srv, "close");
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return addr.port;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync("openssl", args, { cwd });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(" ")} failed: ${e.stderr ?? e.message}`);
  }
}

const EC_KEY = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class LocalControlPlane implements ControlPlane {
  server = "";
  adminKubeconfigPath: string;
  operatorKubeconfigPath: string;
  caCertPath: string;
  etcdUrl = "";
  private readonly certs: string;
  private readonly logs: string;
  private readonly timeoutMs: number;
  private apiPort = 0;
  private etcd: Managed | undefined;
  private apiServer: Managed | undefined;
  private apiServerStarts = 0;
  private stopped = false;

  constructor(
    readonly binDir: string,
    readonly dir: string,
    private readonly opts: ControlPlaneOptions,
  ) {
    this.certs = join(dir, "certs");
    this.logs = join(dir, "logs");
    this.caCertPath = join(this.certs, "ca.crt");
    this.adminKubeconfigPath = join(dir, "admin.kubeconfig");
    this.operatorKubeconfigPath = join(dir, "operator.kubeconfig");
    this.timeoutMs = opts.startTimeoutMs ?? 90_000;
  }

  async init(): Promise<void> {
    await mkdir(this.certs, { recursive: true });
    await mkdir(this.logs, { recursive: true });
    await this.makeCerts();
    await this.startEtcd();
    this.apiPort = await freePort();
    this.server = `https://127.0.0.1:${this.apiPort}`;
    await this.writeUserKubeconfigFile(this.adminKubeconfigPath, "admin", "switchboard-test-admin", [
      "system:masters",
    ]);
    await this.writeUserKubeconfigFile(
      this.operatorKubeconfigPath,
      "operator",
      OPERATOR_USER,
      OPERATOR_GROUPS,
    );
    await this.startApiServer();
  }

  // -- certificates ---------------------------------------------------------

  private async makeCerts(): Promise<void> {
    const c = this.certs;
    await openssl(
      words(`req -x509 ${EC_KEY} -keyout ca.key -out ca.crt -days 3650 -subj /CN=switchboard-test-ca`).concat(
        words("-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"),
      ),
      c,
    );
    await this.issueCert("serving", "/CN=kube-apiserver", [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      // 10.0.0.1 is the `kubernetes` Service IP in --service-cluster-ip-range.
      "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default," +
        "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local",
    ]);
    // Service-account token signing key pair.
    await openssl(words("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key"), c);
    await openssl(words("pkey -in sa.key -pubout -out sa.pub"), c);
  }

  /** Issues a leaf cert signed by the CA into certs/<name>.{key,crt}. */
  private async issueCert(name: string, subject: string, extensions: string[]): Promise<void> {
    const c = this.certs;
    await openssl([...words(`req -new ${EC_KEY} -keyout ${name}.key -out ${name}.csr -subj`), subject], c);
    await writeFile(join(c, `${name}.ext`), extensions.join("\n") + "\n");
    await openssl(
      words(
        `x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 ` +
          `-extfile ${name}.ext -out ${name}.crt`,
      ),
      c,
    );
  }

  private async issueClientCert(name: string, user: string, groups: readonly string[]): Promise<void> {
    const esc = (s: string) => s.replace(/[/\\+,=]/g, (ch) => `\\${ch}`);
    const subject = `/CN=${esc(user)}` + groups.map((g) => `/O=${esc(g)}`).join("");
    await this.issueCert(name, subject, [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=clientAuth",
    ]);
  }

  private async writeUserKubeconfigFile(
    path: string,
    name: string,
    user: string,
    groups: readonly string[],
  ): Promise<void> {
    const certName = `client-${name}`;
    await this.issueClientCert(certName, user, groups);
    const b64 = async (f: string) => (await readFile(join(this.certs, f))).toString("base64");
    // JSON is YAML: kubectl and @kubernetes/client-node both read it.
    const kubeconfig = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "switchboard-test",
          cluster: { server: this.server, "certificate-authority-data": await b64("ca.crt") },
        },
      ],
      users: [
        {
          name,
          user: {
            "client-certificate-data": await b64(`${certName}.crt`),
            "client-key-data": await b64(`${certName}.key`),
          },
        },
      ],
      contexts: [{ name, context: { cluster: "switchboard-test", user: name, namespace: "default" } }],
      "current-context": name,
      preferences: {},
    };
    await writeFile(path, JSON.stringify(kubeconfig, null, 2) + "\n", { mode: 0o600 });
  }

  async writeUserKubeconfig(name: string, user: string, groups: readonly string[] = []): Promise<string> {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`bad kubeconfig name ${JSON.stringify(name)}`);
    const path = join(this.dir, `${name}.kubeconfig`);
    await this.writeUserKubeconfigFile(path, name, user, groups);
    return path;
  }

  // -- processes ------------------------------------------------------------

  private launch(name: string, bin: string, args: string[]): Managed {
    const logPath = join(this.logs, `${name}.log`);
    // Log to a file, not a pipe: nothing to drain, and an orphan never holds our stdio.
    const fd = openSync(logPath, "a");
    const [cmd, argv] = withParentDeathSignal(join(this.binDir, bin), args);
    let child: ChildProcess;
    try {
      child = spawn(cmd, argv, { stdio: ["ignore", fd, fd], cwd: this.dir });
    } finally {
      closeSync(fd);
    }
    track(child);
    const exited = new Promise<number | null>((res) => {
      child.once("exit", (code, signal) => res(code ?? (signal ? -1 : null)));
      child.once("error", () => res(-1));
    });
    return { name, child, logPath, exited };
  }

  private failure(m: Managed, what: string): Error {
    return new Error(`${what}\n--- last lines of ${m.logPath} ---\n${logTail(m.logPath)}`);
  }

  private async startEtcd(): Promise<void> {
    const clientPort = await freePort();
    const peerPort = await freePort();
    this.etcdUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    this.etcd = this.launch("etcd", "etcd", [
      "--name=default",
      `--data-dir=${join(this.dir, "etcd-data")}`,
      `--listen-client-urls=${this.etcdUrl}`,
      `--advertise-client-urls=${this.etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      "--initial-cluster-state=new",
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ]);
    await this.waitFor(this.etcd, "etcd", async () => {
      const { status, body } = await httpGet(`${this.etcdUrl}/health`);
      return status === 200 && body.includes('"health":"true"');
    });
  }

  async startApiServer(): Promise<void> {
    if (this.stopped) throw new Error("control plane was stopped");
    if (this.apiServer) return;
    const c = (f: string) => join(this.certs, f);
    this.apiServerStarts++;
    this.apiServer = this.launch(`kube-apiserver-${this.apiServerStarts}`, "kube-apiserver", [
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${this.apiPort}`,
      `--cert-dir=${this.certs}`,
      `--tls-cert-file=${c("serving.crt")}`,
      `--tls-private-key-file=${c("serving.key")}`,
      `--client-ca-file=${c("ca.crt")}`,
      `--etcd-servers=${this.etcdUrl}`,
      "--authorization-mode=RBAC",
      "--disable-admission-plugins=ServiceAccount",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${c("sa.pub")}`,
      `--service-account-signing-key-file=${c("sa.key")}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      "--allow-privileged=true",
      "--profiling=false",
      ...(this.opts.extraApiServerArgs ?? []),
    ]);
    const m = this.apiServer;
    try {
      await this.waitFor(m, "kube-apiserver", async () => (await this.get("/readyz")).status === 200);
    } catch (err) {
      await this.stopApiServer();
      throw err;
    }
  }

  async stopApiServer(): Promise<void> {
    const m = this.apiServer;
    this.apiServer = undefined;
    if (m) await terminate(m, 30_000);
  }

  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  /** Polls `ready` until it returns true, the process exits, or the timeout passes. */
  private async waitFor(m: Managed, what: string, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let exitCode: number | null | undefined;
    void m.exited.then((c) => (exitCode = c));
    let lastErr = "";
    while (Date.now() < deadline) {
      if (exitCode !== undefined)
        throw this.failure(m, `${what} exited (code ${exitCode}) before it was ready`);
      try {
        if (await ready()) return;
      } catch (err) {
        lastErr = (err as Error).message;
      }
      await sleep(200);
    }
    throw this.failure(
      m,
      `${what} was not ready within ${this.timeoutMs} ms${lastErr ? ` (last error: ${lastErr})` : ""}`,
    );
  }

  /** GET on the API server as admin (client cert), for readiness checks. */
  private get(path: string): Promise<{ status: number; body: string }> {
    const cert = readFileSync(join(this.certs, "client-admin.crt"));
    const key = readFileSync(join(this.certs, "client-admin.key"));
    const ca = readFileSync(this.caCertPath);
    return new Promise((res, rej) => {
      const req = httpsRequest(
        `${this.server}${path}`,
        { cert, key, ca, timeout: 5_000, agent: false },
        (resp) => {
          let body = "";
          resp.setEncoding("utf8").on("data", (d: string) => (body += d));
          resp.on("end", () => res({ status: resp.statusCode ?? 0, body }));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", rej);
      req.end();
    });
  }

  async kubectl(
    args: readonly string[],
    opts: { kubeconfig?: string; input?: string } = {},
  ): Promise<{ stdout: string; stderr: string }> {
    const child = spawn(join(this.binDir, "kubectl"), [...args], {
      env: { ...process.env, KUBECONFIG: opts.kubeconfig ?? this.adminKubeconfigPath },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin.end(opts.input ?? "");
    const [code] = (await once(child, "close")) as [number | null];
    if (code !== 0) throw new Error(`kubectl ${args.join(" ")} exited with ${code}: ${stderr.trim()}`);
    return { stdout, stderr };
  }

  async stop(o: { keepOnError?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.stopApiServer();
    const etcd = this.etcd;
    this.etcd = undefined;
    if (etcd) await terminate(etcd, 15_000);
    const keep =
      o.keepOnError || (this.opts.keepTempDir ?? process.env.SWITCHBOARD_KEEP_CONTROLPLANE === "1");
    if (!keep) await rm(this.dir, { recursive: true, force: true });
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
async function terminate(m: Managed, graceMs: number): Promise<void> {
  if (m.child.exitCode !== null || m.child.signalCode !== null) return;
  m.child.kill("SIGTERM");
  const timer = setTimeout(() => m.child.kill("SIGKILL"), graceMs);
  try {
    await m.exited;
  } finally {
    clearTimeout(timer);
  }
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = httpRequest(url, { timeout: 5_000, agent: false }, (resp) => {
      let body = "";
      resp.setEncoding("utf8").on("data", (d: string) => (body += d));
      resp.on("end", () => res({ status: resp.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", rej);
    req.end();
  });
}
