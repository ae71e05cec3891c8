// /etc/machine-id must be this machine's own: kubelet reports it as the Node's
// systemUUID/machineID, CNIs (flannel, Calico) and DHCP derive identities from it, and
// two nodes sharing one (a VM template cloned without `systemd-machine-id-setup`) get
// each other's leases and MAC addresses. An image is built with it empty (systemd fills
// it at first boot) or "uninitialized"; joining with either, or with no file, is refused.
export interface MachineIdVerdict {
  error?: string;
  hint?: string;
}

const REGENERATE = 'give this machine its own: `rm -f /etc/machine-id && systemd-machine-id-setup`, then reboot (a cloned VM: do it in the template\'s first-boot, e.g. cloud-init, and empty it in the template)';

// Pure: undefined = no /etc/machine-id.
export function machineIdVerdict(id: string | undefined): MachineIdVerdict {
  if (id === undefined) return { error: '/etc/machine-id does not exist: the kubelet and the CNI need a machine identity', hint: REGENERATE };
  if (id === '' || id === 'uninitialized') return { error: `/etc/machine-id is ${id === '' ? 'empty' : '"uninitialized"'} (as an image leaves it before its first boot completes): this node would share its identity with every machine made from the image`, hint: REGENERATE };
  if (!/^[0-9a-f]{32}$/.test(id)) return { error: `/etc/machine-id holds "${id.slice(0, 40)}", not 32 lower-case hex digits`, hint: REGENERATE };
  return {};
}
