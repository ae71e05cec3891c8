# Runs Ansible's tasks inside a booted nspawn node: `local` wrapped in nsenter, files put
# through the node's root directory. What ssh to the node would do, minus ssh's own cost
# (so the comparison favours Ansible). Vars: ansible_nsenter_pid, ansible_nsenter_root.
from __future__ import annotations

DOCUMENTATION = """
    name: nsenter
    short_description: execute inside a node's namespaces (joinagent bench)
    description: local connection wrapped in nsenter -t PID -a
    options:
      nsenter_pid:
        vars: [{name: ansible_nsenter_pid}]
      nsenter_root:
        vars: [{name: ansible_nsenter_root}]
"""

import os
import shlex
import shutil

from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    transport = 'nsenter'

    def exec_command(self, cmd, in_data=None, sudoable=True):
        pid = str(self.get_option('nsenter_pid'))
        wrapped = 'nsenter -t %s -a -- /bin/sh -c %s' % (pid, shlex.quote(cmd))
        return super().exec_command(wrapped, in_data=in_data, sudoable=sudoable)

    def _host(self, path):
        return os.path.join(self.get_option('nsenter_root'), path.lstrip('/'))

    def put_file(self, in_path, out_path):
        shutil.copyfile(in_path, self._host(out_path))

    def fetch_file(self, in_path, out_path):
        shutil.copyfile(self._host(in_path), out_path)
