import { paths } from '../host/paths.js';

// A golden image is a machine that ran `joinagent prepare` and was then copied. If the
// image maker did not empty /etc/machine-id, every copy boots with the builder's id, and
// the kubelet (Node status.nodeInfo.machineID), the CNI (flannel and Calico derive MAC
// addresses and leases from it), DHCP clients and journald all see one machine many times
// (kubernetes/kubeadm#31). The id alone cannot tell a copy from the builder, so prepare
// (and every run before the join) records what else identifies the machine: DMI's
// product_uuid, which hypervisors give each VM (a copied VM gets a new one), and the host
// name (set per machine by cloud-init or the operator). A later run that finds the same
// machine-id with another product_uuid, or without a product_uuid on either side another
// host name, is on a copy.

export interface MachineIdentity {
  machineId: string;
  /** DMI product_uuid, lower-case; undefined without DMI (containers) or without root. */
  productUuid?: string;
  hostname: string;
}

export interface IdentityRecord extends MachineIdentity {
  recordedAt: string;
  /** The command that recorded it: `prepare` on an image builder, `run` before a join. */
  by: 'prepare' | 'run';
}

export type CloneVerdict =
  /** Nothing recorded, or a machine-id other than the recorded one (the copy got its own,
   *  or the id was regenerated): this machine's identity is recorded now. */
  | { kind: 'record'; reason: string }
  /** The machine that recorded it (possibly renamed, when DMI says it is the same). */
  | { kind: 'same'; current: boolean }
  | { kind: 'clone'; error: string; hint: string };

// Pure: what the recorded identity says about this machine.
export function cloneVerdict(recorded: IdentityRecord | undefined, now: MachineIdentity): CloneVerdict {
  if (!recorded) return { kind: 'record', reason: 'no identity recorded yet' };
  if (recorded.machineId !== now.machineId) return { kind: 'record', reason: `machine-id changed from ${recorded.machineId} (regenerated, or a copy that got its own)` };
  const current = recorded.hostname === now.hostname && recorded.productUuid === now.productUuid;
  if (recorded.productUuid && now.productUuid) {
    if (recorded.productUuid === now.productUuid) return { kind: 'same', current };
    return clone(recorded, now, `product_uuid ${now.productUuid}, not ${recorded.productUuid}`);
  }
  if (recorded.hostname === now.hostname) return { kind: 'same', current };
  // Without DMI only the host name tells, and only an image's record (`prepare`) is what
  // copies are made from: a machine whose own `run` recorded it and which was renamed
  // since (the preflight asks for a valid name; a reset node re-joins under a new one)
  // is the same machine.
  if (recorded.by === 'run' && !recorded.productUuid && !now.productUuid) return { kind: 'same', current: false };
  return clone(recorded, now, `host name "${now.hostname}", not "${recorded.hostname}", and no DMI product_uuid to tell otherwise`);
}

function clone(r: IdentityRecord, now: MachineIdentity, differs: string): CloneVerdict {
  return {
    kind: 'clone',
    error: `/etc/machine-id ${now.machineId} is the one \`joinagent ${r.by}\` recorded at ${r.recordedAt} on "${r.hostname}", but this machine has ${differs}: it is a copy of that image sharing its machine-id, which the kubelet, the CNI and DHCP would all report as one machine`,
    // systemd-machine-id-setup is not the fix here: in a container it takes the manager's
    // UUID, which nspawn derives from this very id, and a KVM guest's comes from DMI
    hint: `give this machine its own id: \`systemd-id128 new > /etc/machine-id\`, reboot, and run joinagent again (in the image, after prepare: \`truncate -s 0 /etc/machine-id && rm -f /var/lib/dbus/machine-id\`: systemd fills an empty machine-id from D-Bus's copy first); if this is the machine that ran ${r.by}, renamed, remove ${paths.identityRecord}`,
  };
}
