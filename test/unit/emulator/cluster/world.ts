/** A small host world for cluster tests: machines, reachability, locks and counts, on a clock the test moves. */
import { generateKeyPairSync } from 'node:crypto';
import type {
  ClusterPart,
  HostTimings,
  MachineView,
  ToolCallCounts,
  WorldResponse,
  WorldServices,
} from '../../../../emulator/src/hosts/types';
import { DEFAULT_HOST_TIMINGS } from '../../../../emulator/src/hosts/types';
import { publicKeyOf } from '../../../../emulator/src/tools/ssh-key';

/** An RSA key pair: the PEM private key and its `ssh-rsa` public line. */
export async function sshKeyPair(): Promise<{ privatePem: string; publicKey: string }> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
  const publicKey = await publicKeyOf(privatePem);
  if (!publicKey) throw new Error('could not derive the test public key');
  return { privatePem, publicKey };
}

/** A host of a test deployment. */
export interface TestHost {
  name: string;
  address: string;
  role: string;
}

/** The world services of a test: every answer is a plain field the test can change. */
export class TestServices implements WorldServices {
  /** The clock; `undefined` follows the real one. */
  clock: number | undefined = 1_750_000_000_000;
  times: HostTimings = { ...DEFAULT_HOST_TIMINGS };
  machineList: MachineView[] = [];
  /** Addresses the laptop cannot reach (a tunnel down). */
  cutOff = new Set<string>();
  locks = new Map<string, string>();
  applied: Record<string, number> = {};
  tools: Record<string, ToolCallCounts> = {};
  changes = 0;

  now(): number {
    return this.clock ?? Date.now();
  }
  timings(): HostTimings {
    return { ...this.times };
  }
  machines(deploymentId: string): MachineView[] {
    return this.machineList.filter((m) => m.deploymentId === deploymentId);
  }
  reachable(deploymentId: string, address: string): boolean {
    return (
      !this.cutOff.has(address) &&
      this.machineList.some(
        (m) => m.deploymentId === deploymentId && m.wireguardAddress === address && m.booted
      )
    );
  }
  lockOf(deploymentId: string, machine: string): string | undefined {
    return this.locks.get(`${deploymentId}/${machine}`);
  }
  setLock(deploymentId: string, machine: string, holder: string | undefined): void {
    if (holder === undefined) this.locks.delete(`${deploymentId}/${machine}`);
    else this.locks.set(`${deploymentId}/${machine}`, holder);
  }
  countTool(command: string, what: keyof ToolCallCounts): void {
    const c = (this.tools[command] ??= { started: 0, completed: 0, failed: 0 });
    c[what] += 1;
  }
  countApplied(key: string): void {
    this.applied[key] = (this.applied[key] ?? 0) + 1;
  }
  changed(): void {
    this.changes += 1;
  }

  /** Adds a deployment's booted machines, each accepting `publicKey` for `k0rdent`. */
  addDeployment(deploymentId: string, hosts: TestHost[], publicKey: string): void {
    for (const h of hosts)
      this.machineList.push({
        name: h.name,
        deploymentId,
        wireguardAddress: h.address,
        adminUsername: 'k0rdent',
        authorizedKeys: [`${publicKey} k0rdent-azure-key`],
        booted: true,
      });
  }

  /** Moves the clock on. */
  advance(ms: number): void {
    this.clock = this.now() + ms;
  }
}

/** The usual two-host deployment: a controller+worker and a worker. */
export const HOSTS: TestHost[] = [
  { name: 'k0s-controller-1', address: '192.168.100.11', role: 'controller+worker' },
  { name: 'k0s-worker-1', address: '192.168.100.12', role: 'worker' },
];

/** Calls a cluster route with a JSON body (`GET` routes take the query instead). */
export function call(
  part: ClusterPart,
  method: string,
  route: string,
  body?: unknown,
  query = ''
): Promise<WorldResponse> {
  return part.handle(method, route, new URLSearchParams(query), body);
}

/** The `{ error: { code, message } }` of an answer. */
export function errorOf(res: WorldResponse): { code: string; message: string } {
  return (res.body as { error: { code: string; message: string } }).error;
}
