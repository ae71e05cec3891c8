// The two systeminformation modules joinagent uses, imported directly: the package index
// requires all 20 of them (graphics, wifi, docker ...), ~300 KB of a binary capped at 110 MB.
declare module 'systeminformation/lib/cpu.js' {
  import type { Systeminformation } from 'systeminformation';
  export function cpu(): Promise<Systeminformation.CpuData>;
}
declare module 'systeminformation/lib/memory.js' {
  import type { Systeminformation } from 'systeminformation';
  export function mem(): Promise<Systeminformation.MemData>;
}
