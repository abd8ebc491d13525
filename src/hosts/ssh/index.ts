/** SSH to the VMs: key authentication, host keys recorded on first contact in an OpenSSH known_hosts file and verified ever after, connection retries, and remote commands killed on timeout or cancellation. */
export type { SshTarget, SshOptions, CommandResult, ExecOptions, SshSession, SshErrorKind } from './options';
export { SshError, sshOptionsFrom, commandTimeoutMs } from './options';
export { knownHostName, forgetHostKey } from './known-hosts';
export { connectSsh, withSsh } from './connect';
