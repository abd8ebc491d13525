/**
 * The configuration schema, in zod: every YAML key with its type, its default and the check of its
 * value, each check with the message a user sees. The config type (`types.ts`) and the defaults
 * (`defaults.ts`) are read from it; `validate.ts` runs it and adds the rules that span several keys.
 * Pure code (no Node built-ins).
 */
import { z } from 'zod';
import { formatCidr, parseCidr } from './cidr';

/** Text as quoted in a message: at most 60 characters, control characters escaped. */
export function quoted(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/** A value as a message names it: `the text "a"`, `a list`, `a timestamp`, `nothing`, `5`. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    return `the text ${quoted(value)}`;
  }
  if (value instanceof Uint8Array) {
    return 'binary data';
  }
  if (value instanceof Date) {
    return 'a timestamp';
  }
  if (value instanceof Map) {
    return 'an ordered map (!!omap)';
  }
  if (value instanceof Set) {
    return 'a set (!!set)';
  }
  if (value === null || value === undefined) {
    return 'nothing';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (typeof value === 'object') {
    return 'a map';
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

/** A plain map; YAML's `!!omap`, `!!set`, `!!binary` and timestamps are objects too, but not maps of keys. */
export function isMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** What a leaf tells `validate.ts` beyond its zod type. */
export interface LeafMeta {
  /** A text key: a number written there is read as the text it was written as (`version: 1.10`). */
  text?: true;
  /** A choice that accepts any letter case and reads it as the listed spelling, with a warning. */
  folded?: true;
}

/** The leaves `validate.ts` treats specially, with what it needs to know of each. */
export const LEAF_META = z.registry<LeafMeta>();

/**
 * Longest wait any duration may ask for: a week. Node timers overflow past 24.8 days and then fire at
 * once, so a larger value would turn into no wait at all.
 */
const MAX_WAIT_SECONDS = 7 * 24 * 3600;
/** Upper bound of retry counts: more attempts than this are a typo, not a plan. */
const MAX_RETRIES = 100;
/** Most hosts a deployment may have: they get `.11` to `.254` of the WireGuard /24. */
export const MAX_HOSTS = 244;

/**
 * A map of the given keys, each missing or null one taking its default; any other key is an unknown
 * key, and anything but a map is refused with `refusal(the keys, what it is)`.
 */
function mapOf<Shape extends z.ZodRawShape>(
  shape: Shape,
  refusal: (keys: string, got: string) => string,
  ignored: (key: string) => boolean = () => false
) {
  return z.preprocess((raw, ctx) => {
    if (raw === undefined || raw === null) {
      return {};
    }
    if (!isMap(raw)) {
      ctx.addIssue({ code: 'custom', message: refusal(Object.keys(shape).join(', '), describe(raw)) });
      return raw;
    }
    // A known key without a value is absent; an unknown one stays, to be reported.
    return Object.fromEntries(
      Object.entries(raw).filter(
        ([key, value]) => !ignored(key) && !(value === null && Object.hasOwn(shape, key))
      )
    );
  }, z.strictObject(shape));
}

function section<Shape extends z.ZodRawShape>(shape: Shape) {
  return mapOf(shape, (keys, got) => `must be a map with the keys ${keys}, got ${got}`);
}

const text = z
  .preprocess(
    // A plain scalar like `1.10` parses as a number; `validate.ts` puts back how it was written when it can.
    (raw) => (typeof raw === 'number' ? String(raw) : raw),
    z.string({ error: (issue) => `must be text, got ${describe(issue.input)}` })
  )
  .register(LEAF_META, { text: true });

const name = text.refine((value) => value.trim() !== '', { error: 'must not be empty', abort: true });

/** Text of a shape, checked when it is not blank. */
function shaped(base: typeof text, pattern: RegExp, hint: string) {
  return base.refine((value) => value.trim() === '' || pattern.test(value), {
    error: (issue) => `must be ${hint}, got ${quoted(String(issue.input))}`,
  });
}

function int(min: number, max: number) {
  const wholeNumber = ({ input }: { input?: unknown }): string => {
    const quotedNumber = typeof input === 'string' && /^\s*-?\d+\s*$/.test(input);
    return `must be a whole number, got ${describe(input)}${quotedNumber ? ' (remove the quotes)' : ''}`;
  };
  const range = ({ input }: { input?: unknown }): string =>
    `must be between ${min} and ${max}, got ${String(input)}`;
  return z
    .number({ error: wholeNumber })
    .refine(Number.isSafeInteger, { error: wholeNumber, abort: true })
    .min(min, { error: range })
    .max(max, { error: range });
}

const seconds = int(1, MAX_WAIT_SECONDS);

const bool = z.boolean({ error: (issue) => `must be true or false, got ${describe(issue.input)}` });

function choice<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.enum(values, {
    error: (issue) =>
      `must be one of ${values.join(', ')}, got ${typeof issue.input === 'string' ? quoted(issue.input) : describe(issue.input)}`,
  });
}

/** A choice in any letter case, read as the listed spelling (`validate.ts` warns about the difference). */
function foldedChoice<const Values extends readonly [string, ...string[]]>(values: Values) {
  const fold = (raw: unknown): unknown =>
    typeof raw === 'string'
      ? (values.find((value) => value.toLowerCase() === raw.trim().toLowerCase()) ?? raw)
      : raw;
  return z.preprocess(fold, choice(values)).register(LEAF_META, { folded: true });
}

/** An IPv4 network, written back in its plain form; `prefix` is a required prefix length, with the reason. */
function cidr(prefix?: { length: number; why: string }) {
  return z
    .string({ error: (issue) => `must be an IPv4 CIDR like 10.0.0.0/16, got ${describe(issue.input)}` })
    .transform((written, ctx) => {
      const parsed = parseCidr(written);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.reason });
        return z.NEVER;
      }
      if (prefix && parsed.cidr.prefix !== prefix.length) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a /${prefix.length} network (${prefix.why}), got ${written}`,
        });
        return z.NEVER;
      }
      return formatCidr(parsed.cidr);
    });
}

const notAZone = ({ input }: { input?: unknown }): string =>
  `must be an availability zone 1, 2 or 3, got ${describe(input)}`;

const zones = z
  .array(
    z
      .number({ error: notAZone })
      .refine((zone) => zone === 1 || zone === 2 || zone === 3, { error: notAZone }),
    {
      error: (issue) => `must be a list of availability zones like [1, 2, 3], got ${describe(issue.input)}`,
    }
  )
  // Not `.min(1)`: length checks also run on text refused as no list, and would add a second issue.
  .refine((list) => list.length > 0, { error: 'must list at least one availability zone (1, 2 or 3)' });

function role(count: z.ZodNumber) {
  return section({ count: count.default(1), zones: zones.default([1]) });
}

/** A free map, passed on as written. */
const freeMap = z.record(z.string(), z.unknown(), {
  error: (issue) => `must be a map, got ${describe(issue.input)}`,
});

/**
 * The whole configuration: the Bash tool's `config/k0rdent-default.yaml` layout plus the `orchestrator`
 * section that only this tool reads. Keys keep their YAML spelling so that an error can name the path a
 * user wrote. Top-level keys starting with `x-` are ignored (room for YAML anchors, as in compose files).
 */
export const CONFIG_SCHEMA = mapOf(
  {
    metadata: section({
      version: text.default('1.0'),
      schema: text.default('k0rdent-config'),
      description: text.optional(),
      owner: text.optional(),
    }),
    azure: section({
      /** Subscription the resources go to; required with `--cloud azure`. */
      subscription_id: shaped(
        text,
        /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
        'a subscription GUID'
      ).default(''),
      /** How to sign in: the Azure CLI login, a service principal from AZURE_* variables, or the SDK's default chain. */
      credential: choice(['cli', 'service_principal', 'default']).default('cli'),
      location: name.default('westus2'),
      vm_image: name.default('Debian:debian-12:12-gen2:latest'),
      vm_priority: foldedChoice(['Regular', 'Spot']).default('Regular'),
      eviction_policy: foldedChoice(['Deallocate', 'Delete']).default('Deallocate'),
    }),
    network: section({
      vnet_prefix: cidr().default('10.0.0.0/16'),
      subnet_prefix: cidr().default('10.0.1.0/24'),
      wireguard_network: cidr({
        length: 24,
        why: 'the address plan gives the laptop .1 and host i .(10+i) of one /24',
      }).default('192.168.100.0/24'),
    }),
    vm_sizing: section({
      controller: section({ size: name.default('Standard_B2s') }),
      worker: section({ size: name.default('Standard_B2s') }),
    }),
    cluster: section({
      controllers: role(int(1, MAX_HOSTS)),
      workers: role(int(0, MAX_HOSTS)),
    }),
    ssh: section({
      username: name.default('k0rdent'),
      key_comment: text.default('k0rdent-azure-key'),
    }),
    software: section({
      k0s: section({ version: name.default('v1.33.2+k0s.0') }),
      k0rdent: section({
        version: name.default('1.1.1'),
        registry: name.default('oci://ghcr.io/k0rdent/kcm/charts/kcm'),
        namespace: name.default('kcm-system'),
      }),
    }),
    timeouts: section({
      ssh_connect: seconds.default(30),
      ssh_command: seconds.default(300),
      k0s_install_wait: seconds.default(30),
      k0rdent_install_wait: seconds.default(1500),
      wireguard_connect_wait: seconds.default(5),
      vm_creation_minutes: int(1, MAX_WAIT_SECONDS / 60).default(10),
      vm_wait_check_interval: seconds.default(30),
      cloud_init_timeout: seconds.default(600),
      cloud_init_check_interval: seconds.default(10),
      // A count, not a duration: no retry at all is a valid choice.
      verification_retries: int(0, MAX_RETRIES).default(3),
      verification_retry_delay: seconds.default(10),
    }),
    kof: section({
      enabled: bool.default(false),
      version: name.default('1.1.0'),
      istio: section({ version: name.default('1.1.0'), namespace: name.default('istio-system') }),
      mothership: section({
        namespace: name.default('kof'),
        storage_class: name.default('default'),
        install_retries: int(1, MAX_RETRIES).default(3),
        retry_delay_seconds: int(0, MAX_WAIT_SECONDS).default(30),
        collectors: section({ global: freeMap.default({}) }),
      }),
      regional: section({
        cluster_name: shaped(
          text,
          /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
          'a Kubernetes name: lowercase letters, digits and "-", at most 63 characters'
        ).default(''),
        domain: text.default('regional.example.com'),
        admin_email: text.default('admin@example.com'),
        location: name.default('southeastasia'),
        template: name.default('azure-standalone-cp-1-0-8'),
        credential: name.default('azure-cluster-credential'),
        cp_instance_size: name.default('Standard_A4_v2'),
        worker_instance_size: name.default('Standard_A4_v2'),
        root_volume_size: shaped(name, /^[1-9][0-9]*$/, 'a whole number of GB, like "32"').default('32'),
        namespace: name.default('kof'),
        cluster_label: shaped(name, /^[^=\s]+=[^=\s]+$/, 'a label in key=value form').default(
          'k0rdent.mirantis.com/istio-role=child'
        ),
      }),
    }),
    /** Settings that only the Temporal orchestrator reads (not part of the Bash tool's schema). */
    orchestrator: section({
      /** Task queue the worker polls and the client starts deployments on. */
      task_queue: shaped(
        name,
        // The Temporal server refuses names over 1000 characters (its default ID length limit).
        /^\P{Cc}{1,1000}$/u,
        'a Temporal task queue name: at most 1000 characters, no control characters'
      ).default('k0rdent-deploy'),
      /** Named activity-timeout preset: `provisioning` waits as long as Azure needs, `quick` suits tests. */
      activity_preset: choice(['provisioning', 'quick']).default('provisioning'),
      /** Heartbeat timeout of long activities, seconds (overrides the preset when set). */
      heartbeat_seconds: seconds.optional(),
      /** Attempts per activity before a phase is marked failed (overrides the preset when set). */
      max_attempts: int(1, MAX_RETRIES).optional(),
      /** Upper bound of VMs created or deleted at once. */
      parallel_vms: int(1, 50).default(5),
      /** Write WireGuard private keys into the state file for legacy scripts that read them. */
      write_private_keys_to_state: bool.default(false),
      /** Where the Azure phases go: the local ARM emulator or Azure itself (`--cloud` overrides). */
      cloud: choice(['emulator', 'azure']).default('azure'),
      /** Brings the laptop's tunnel up; `{config}` is the config file's absolute path, `{interface}` its name. */
      wireguard_up_command: name.default('wg-quick up {config}'),
      /** Takes the tunnel down (same placeholders). */
      wireguard_down_command: name.default('wg-quick down {config}'),
      /** The `wg` command used to read the tunnel's state, e.g. `sudo wg` where reading needs root. */
      wg_command: name.default('wg'),
      /** First pause of a wait that polls (cloud-init, handshakes, nodes, releases), milliseconds; it doubles from there. */
      poll_initial_ms: int(10, 60_000).default(200),
      /** Longest pause of such a wait, milliseconds, unless the wait has an interval of its own in `timeouts`. */
      poll_max_ms: int(10, MAX_WAIT_SECONDS * 1000).default(1000),
      /** How the worker limits its own load. */
      worker: section({
        /** `fixed`: at most the `max_*` slots; `resource`: slots while CPU and memory stay under their targets. */
        tuner: choice(['fixed', 'resource']).default('fixed'),
        /** Workflow tasks run at once. */
        max_workflow_tasks: int(2, 1000).default(10),
        /** Activities (phase checks, applies, rollbacks) run at once; more wait on the server, not here. */
        max_activities: int(1, 2000).default(200),
        /** Local activities (state projections) run at once. */
        max_local_activities: int(1, 2000).default(50),
        /** `resource` tuner: CPU use of the machine it keeps under, percent. */
        target_cpu_percent: int(10, 100).default(80),
        /** `resource` tuner: memory use of the machine it keeps under, percent. */
        target_memory_percent: int(10, 100).default(80),
        /** Threads that generate RSA keys, at the lowest CPU priority. */
        keygen_threads: int(1, 64).default(2),
      }),
    }),
  },
  (keys, got) => `the file must hold a map of sections (${keys}), got ${got}`,
  (key) => key.startsWith('x-')
);
